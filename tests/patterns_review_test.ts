// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of API.md §7 and §8 (patterns and ln): a property test of the worker
// pool behind boundedMap, alcall and asCompleted, and the bugs the review found.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  alcall,
  asCompleted,
  boundedMap,
  CircuitBreaker,
  CircuitOpenError,
  currentTime,
  ExceptionGroup,
  failAfter,
  retry,
  sleep,
  TimeoutError,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";

// ---------------------------------------------------------------------------
// The worker pool under random inputs, timings, failures and early exits.

// The pool checks `halted` after each pull, so an item an async input gives
// in the turn the pool halted (a failure, a cancellation) is not started.

interface PoolCase {
  /** Per item: its duration (-1: synchronous, 0: one microtask) and whether it fails. */
  items: Array<{ duration: number; fails: boolean }>;
  limit: number;
  input: "array" | "sync" | "async";
  /** ms an async input takes per `next()` (-1: answers at once). */
  pullDelay: number;
  /** The input throws instead of giving this item. */
  throwAt: number | undefined;
  returnExceptions: boolean;
  api: "boundedMap" | "alcall" | "asCompleted";
  /** asCompleted only: leave the loop after this many results. */
  breakAfter: number | undefined;
  /** alcall only: a start gate, and an attempt timeout that never fires (the timed path). */
  alcallOptions: { throttlePeriod: number; delayBeforeStart: number; attemptTimeout?: number };
}

const poolCase: fc.Arbitrary<PoolCase> = fc.record({
  items: fc.array(
    fc.record({ duration: fc.constantFrom(-1, 0, 1, 5, 13), fails: fc.boolean() }),
    { maxLength: 10 },
  ),
  limit: fc.constantFrom(1, 2, 3, Infinity),
  input: fc.constantFrom("array" as const, "sync" as const, "async" as const),
  pullDelay: fc.constantFrom(-1, 0, 2),
  throwAt: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
  returnExceptions: fc.boolean(),
  api: fc.constantFrom("boundedMap" as const, "alcall" as const, "asCompleted" as const),
  breakAfter: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
  alcallOptions: fc.record({
    throttlePeriod: fc.constantFrom(0, 0, 3),
    delayBeforeStart: fc.constantFrom(0, 0, 4),
    attemptTimeout: fc.option(fc.constant(100), { nil: undefined }),
  }),
});

/** Waits `ms` on the (fake) clock, or rejects with an AbortError when `signal` aborts. */
function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(new DOMException("The operation was aborted", "AbortError"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}

async function checkPool(c: PoolCase): Promise<void> {
  // asCompleted takes an array of functions.
  const input = c.api === "asCompleted" ? "array" : c.input;
  const n = c.items.length;
  const inputError = new Error("input failed");
  let pulled = 0, finished = 0, running = 0, maxRunning = 0, maxAhead = 0;
  let closed = false, exhausted = false, inputThrew = false, settled = false;
  const violations: string[] = [];

  const pull = (i: number): IteratorResult<number> => {
    if (c.throwAt === i && i < n) {
      inputThrew = true;
      throw inputError;
    }
    if (i >= n) {
      exhausted = true;
      return { done: true, value: undefined };
    }
    pulled++;
    maxAhead = Math.max(maxAhead, pulled - finished);
    return { done: false, value: i };
  };
  let cursor = 0;
  const syncInput: IterableIterator<number> = {
    [Symbol.iterator]() {
      return this;
    },
    next: () => pull(cursor++),
    return: () => {
      closed = true;
      return { done: true, value: undefined };
    },
  };
  const asyncInput: AsyncIterableIterator<number> = {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: async () => {
      const i = cursor++;
      if (c.pullDelay >= 0) await wait(c.pullDelay);
      return pull(i);
    },
    return: () => {
      closed = true;
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  const items = input === "array"
    ? Array.from({ length: n }, (_, i) => i)
    : input === "sync"
    ? syncInput
    : asyncInput;

  const work = async (i: number, signal: AbortSignal): Promise<string> => {
    if (settled) violations.push(`item ${i} started after the call settled`);
    if (signal.aborted) {
      violations.push(`item ${i} started after the call was cancelled`);
    }
    if (input === "array") {
      pulled++;
      maxAhead = Math.max(maxAhead, pulled - finished);
    }
    maxRunning = Math.max(maxRunning, ++running);
    try {
      const { duration, fails } = c.items[i];
      if (duration > 0) await wait(duration, signal);
      else if (duration === 0) await Promise.resolve();
      if (fails) throw new Error(`item ${i} failed`);
      return `v${i}`;
    } finally {
      running--;
      finished++;
    }
  };

  await withFakeTime(async (clock) => {
    let promise: Promise<unknown>;
    const { limit, returnExceptions } = c;
    if (c.api === "boundedMap") {
      promise = boundedMap(items, (i, _index, signal) => work(i, signal), {
        limit,
        returnExceptions,
      });
    } else if (c.api === "alcall") {
      promise = alcall(items, (i, ctx) => work(i, ctx.signal), {
        maxConcurrent: limit,
        returnExceptions,
        ...c.alcallOptions,
      });
    } else {
      const fns = Array.from({ length: n }, (_, i) => (signal: AbortSignal) => work(i, signal));
      promise = (async () => {
        let yielded = 0;
        for await (const _ of asCompleted(fns, { limit, returnExceptions })) {
          if (++yielded === c.breakAfter) break;
        }
      })();
    }
    let result: unknown, error: unknown;
    promise.then((v) => (result = v), (e) => (error = e)).finally(() => (settled = true));
    await clock.tickAsync(10_000);
    assert.ok(settled, "the call settled");
    await clock.tickAsync(1_000); // anything still running would show now

    assert.deepEqual(violations, []);
    assert.equal(running, 0, "nothing left running once the call settled");
    if (limit !== Infinity) {
      assert.ok(maxRunning <= limit, `${maxRunning} ran at once, limit ${limit}`);
      assert.ok(maxAhead <= limit, `${maxAhead} pulled ahead of those finished, limit ${limit}`);
    }
    if (input !== "array") {
      if (error === inputError) assert.ok(!closed, "an input that threw is not closed");
      else if (error === undefined) assert.ok(!closed, "an input read to its end is not closed");
      else if (!exhausted && !inputThrew) assert.ok(closed, "an input left early is closed");
    }
    if (c.api === "asCompleted") {
      if (error !== undefined) {
        assert.ok(error instanceof ExceptionGroup, `unexpected ${error}`);
        assert.ok(!returnExceptions && c.items.some((x) => x.fails));
      }
      return;
    }
    if (inputThrew) {
      // The input's error, unwrapped, unless an item's failure stopped the call first.
      if (error !== inputError) assert.ok(error instanceof ExceptionGroup, `unexpected ${error}`);
      return;
    }
    if (returnExceptions || !c.items.some((x) => x.fails)) {
      assert.equal(error, undefined, `unexpected ${error}`);
      const values = result as unknown[];
      assert.equal(values.length, n);
      values.forEach((v, i) => {
        if (c.items[i].fails) assert.equal((v as Error).message, `item ${i} failed`);
        else assert.equal(v, `v${i}`);
      });
    } else {
      assert.ok(error instanceof ExceptionGroup, `unexpected ${error}`);
      for (const e of error.exceptions) assert.match((e as Error).message, /^item \d+ failed$/);
    }
  });
}

Deno.test("boundedMap, alcall and asCompleted: never more than limit running or pulled ahead, results in order, inputs closed only when left early, nothing running after", async () => {
  await fc.assert(fc.asyncProperty(poolCase, checkPool), { numRuns: 3_000 });
});

/** An async input of 0 … n - 1 whose `next()` answers at once (no generator queue). */
function counting(n: number): AsyncIterableIterator<number> {
  let i = 0;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => {
      const k = i++;
      return Promise.resolve(k < n ? { done: false, value: k } : { done: true, value: undefined });
    },
    return: () => Promise.resolve({ done: true, value: undefined }),
  };
}

Deno.test({
  name: "boundedMap starts no item pulled from an async input after a failure stopped the map",
  fn: async () => {
    for (const limit of [2, Infinity]) {
      const started: Array<{ item: number; aborted: boolean }> = [];
      const err = await boundedMap(counting(5), (item, _index, signal) => {
        started.push({ item, aborted: signal.aborted });
        if (item === 0) throw new Error("item 0 failed");
        return item;
      }, { limit }).catch((e: unknown) => e);
      assert.ok(err instanceof ExceptionGroup);
      assert.deepEqual(started, [{ item: 0, aborted: false }], `limit ${limit}`);
    }
  },
});

// ---------------------------------------------------------------------------
// alcall: an input that throws is not closed (API.md §9, as for-of), with
// inputFlatten too: the flattening closed it.

Deno.test("alcall with inputFlatten rejects with the error of an input that throws, and does not close it", async () => {
  for (const inputFlatten of [false, true]) {
    let closed = false;
    const input: Iterable<number> = {
      [Symbol.iterator]() {
        let i = 0;
        return {
          next() {
            if (i === 2) throw new Error("input failed");
            return { done: false, value: i++ };
          },
          return() {
            closed = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
    await assert.rejects(alcall(input, (x) => x, { inputFlatten }), /^Error: input failed$/);
    assert.equal(closed, false, `inputFlatten: ${inputFlatten}`);
  }
});

// ---------------------------------------------------------------------------
// alcall: an onProgress that throws when an item starts fails the call; that
// item must not run then (it ran, with its signal already aborted).

Deno.test("alcall: an onProgress that throws as an item starts fails the call before that item runs", async () => {
  const called: number[] = [];
  const aborted: boolean[] = [];
  const progressError = new Error("progress bar broke");
  const err = await alcall([0, 1, 2], async (x, ctx) => {
    called.push(x);
    aborted.push(ctx.signal.aborted);
    await sleep(1, { signal: ctx.signal });
  }, {
    maxConcurrent: 1,
    onProgress: (p) => {
      if (p.started === 2 && p.running === 1) throw progressError;
    },
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ExceptionGroup);
  assert.deepEqual(err.exceptions, [progressError]);
  assert.deepEqual(called, [0]);
  assert.deepEqual(aborted, [false]);
});

// ---------------------------------------------------------------------------
// The attempt loop: one timer expires every deadline due by the time it
// fires, so a backoff sleep that ends in the same millisecond as a deadline
// (or a timer that fires late, which on a busy machine is the common case)
// resolves in the same turn as the deadline cancels the scope. The loop
// checks for a cancellation after its sleep, else it started the next attempt
// in a scope already cancelled: `fn` ran past the deadline with its signal
// aborted, and under alcall's retryTimeout the item failed with that late
// attempt's error instead of a TimeoutError naming the attempt that failed.

Deno.test({
  name:
    "retry starts no attempt after a deadline that passed during its backoff sleep (in the sleep's last millisecond)",
  fn: async () => {
    await withFakeTime(async (clock) => {
      const calls: Array<{ at: number; aborted: boolean }> = [];
      const result = failAfter(100, () =>
        retry(({ signal }) => {
          calls.push({ at: currentTime(), aborted: signal.aborted });
          throw new Error(`attempt ${calls.length} failed`);
        }, { attempts: 3, baseDelay: 99.5, jitter: 0 })).catch((e: unknown) => e);
      await clock.tickAsync(200);
      const err = await result;
      assert.ok(err instanceof TimeoutError && err.source === "failAfter", `${err}`);
      assert.deepEqual(calls, [{ at: 0, aborted: false }]);
    });
  },
});

Deno.test({
  name:
    "alcall's retryTimeout ending in the last millisecond of a backoff sleep is a TimeoutError naming the attempt that failed",
  fn: async () => {
    await withFakeTime(async (clock) => {
      const calls: Array<{ at: number; aborted: boolean }> = [];
      const result = alcall([7], (_x, ctx) => {
        calls.push({ at: currentTime(), aborted: ctx.signal.aborted });
        throw new Error(`attempt ${ctx.attempt} failed`);
      }, { retryAttempts: 3, retryInitialDelay: 99.5, retryTimeout: 100 }).catch((e: unknown) => e);
      await clock.tickAsync(200);
      const err = await result;
      assert.ok(err instanceof ExceptionGroup);
      const [timeout] = err.exceptions;
      assert.ok(timeout instanceof TimeoutError, `${timeout}`);
      assert.equal(timeout.source, "retryTimeout");
      assert.equal(timeout.message, "item 0: attempt 1 timed out after 100 ms (retryTimeout)");
      assert.deepEqual(calls, [{ at: 0, aborted: false }]);
    });
  },
});

// ---------------------------------------------------------------------------
// retry against API.md §7 and §10, step by step: which attempt is the last,
// when each one starts, and which error comes out.

/** What attempt k does: succeed, or throw an error with these properties. */
type Step =
  | { ok: true }
  | { ok: false; status?: number; retryAfter?: number; cancel?: boolean; refused?: boolean };

interface RetryCase {
  steps: Step[];
  attempts: number;
  baseDelay: number;
  maxDelay: number;
  jitter: number;
  maxRetryAfter: number;
  withRetryOn: boolean;
  /**
   * A failAfter budget around the call. With one, jitter is 0 and
   * `Math.random` returns 0, so every sleep ends on a whole millisecond (one
   * ending inside the deadline's millisecond has its own tests above).
   */
  deadline: number | undefined;
  randoms: number[];
}

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ ok: true as const }),
  fc.record({
    ok: fc.constant(false as const),
    status: fc.option(fc.constantFrom(404, 429, 500, 503), { nil: undefined }),
    retryAfter: fc.option(fc.constantFrom(0, 7, 40, 100, 101, 250, 1_000, Infinity), {
      nil: undefined,
    }),
    cancel: fc.constantFrom(false, false, false, true),
    refused: fc.boolean(),
  }, { requiredKeys: ["ok"] }),
);

const retryCase: fc.Arbitrary<RetryCase> = fc.record({
  steps: fc.array(step, { minLength: 1, maxLength: 6 }),
  attempts: fc.constantFrom(1, 2, 3, 5, 8),
  baseDelay: fc.constantFrom(1, 10, 30),
  maxDelay: fc.constantFrom(5, 25, 2_000),
  jitter: fc.constantFrom(0, 0.5),
  maxRetryAfter: fc.constantFrom(0, 100, 60_000),
  withRetryOn: fc.boolean(),
  deadline: fc.option(fc.constantFrom(12, 30, 50, 70, 90, 120, 400), { nil: undefined, freq: 2 }),
  randoms: fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 6 }),
});

const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** The `i`th value of `Math.random`: 0 with a deadline (see `deadline`). */
const randomOf = (c: RetryCase, i: number): number =>
  c.deadline === undefined ? c.randoms[i % c.randoms.length] : 0;

/** The attempts' start times and the outcome API.md implies. */
function retryModel(c: RetryCase): { starts: number[]; outcome: number | "timeout" } {
  // With a deadline, times stay whole: no jitter (see `deadline`).
  const jitterOf = (j: number) => c.deadline === undefined ? j : 0;
  const starts: number[] = [];
  let t = 0, r = 0;
  for (let k = 1;; k++) {
    starts.push(t);
    const s = c.steps[(k - 1) % c.steps.length];
    if (s.ok) return { starts, outcome: k };
    if (k >= c.attempts || s.cancel) return { starts, outcome: -k };
    const hint = s.retryAfter;
    if (hint !== undefined && hint > c.maxRetryAfter) return { starts, outcome: -k };
    const retryable = c.withRetryOn
      ? !s.refused
      : s.status === undefined || RETRYABLE.has(s.status);
    if (!retryable) return { starts, outcome: -k };
    let delay = Math.min(c.maxDelay, c.baseDelay * 2 ** (k - 1));
    let jitter = jitterOf(c.jitter);
    if (hint !== undefined && hint > delay) {
      delay = hint;
      jitter = Math.max(jitter, 0.1);
    }
    if (jitter !== 0) delay *= 1 + randomOf(c, r++) * jitter;
    if (c.deadline !== undefined) {
      if (hint !== undefined && t + hint >= c.deadline) return { starts, outcome: -k };
      if (t + delay >= c.deadline) return { starts, outcome: -k };
    }
    // A timer fires on a whole millisecond of the fake clock.
    t = Math.ceil(t + delay);
  }
}

async function checkRetry(c: RetryCase): Promise<void> {
  const model = retryModel(c);
  const original = Math.random;
  let r = 0;
  Math.random = () => randomOf(c, r++);
  try {
    await withFakeTime(async (clock) => {
      const starts: number[] = [];
      const errors: unknown[] = [];
      const run = () =>
        retry(({ attempt }) => {
          starts.push(currentTime());
          const s = c.steps[(attempt - 1) % c.steps.length];
          if (s.ok) return attempt;
          const err = s.cancel
            ? new DOMException("aborted", "AbortError")
            : Object.assign(new Error(`attempt ${attempt}`), {
              status: s.status,
              retryAfter: s.retryAfter,
              refused: s.refused,
            });
          errors.push(err);
          throw err;
        }, {
          attempts: c.attempts,
          baseDelay: c.baseDelay,
          maxDelay: c.maxDelay,
          jitter: c.deadline === undefined ? c.jitter : 0,
          maxRetryAfter: c.maxRetryAfter,
          retryOn: c.withRetryOn ? (e) => !(e as { refused: boolean }).refused : undefined,
        });
      const promise = c.deadline === undefined ? run() : failAfter(c.deadline, run);
      let outcome: unknown, failed = false, settled = false;
      promise.then((v) => (outcome = v), (e) => {
        failed = true;
        outcome = e;
      }).finally(() => (settled = true));
      await clock.tickAsync(100_000);
      assert.ok(settled, "retry settled");
      assert.deepEqual(starts, model.starts);
      if (model.outcome === "timeout") {
        assert.ok(outcome instanceof TimeoutError, `${outcome}`);
      } else if (model.outcome > 0) {
        assert.ok(!failed, `${outcome}`);
        assert.equal(outcome, model.outcome);
      } else {
        assert.ok(failed);
        assert.equal(outcome, errors[-model.outcome - 1], "the last error, itself");
      }
    });
  } finally {
    Math.random = original;
  }
}

Deno.test("retry follows API.md step by step: attempts, backoff, jitter, Retry-After, maxRetryAfter, retryOn, deadline", async () => {
  await fc.assert(fc.asyncProperty(retryCase, checkRetry), { numRuns: 2_000 });
});

// ---------------------------------------------------------------------------
// CircuitBreaker against a small model of API.md §7 and §10 and its JSDoc:
// random calls (successes, failures with and without a retryAfter,
// cancellations, errors isFailure excludes; quick, slow or hung), clock
// steps and resets, checked after every step.

type CallKind = "ok" | "fail" | "failHint" | "cancel" | "neutral";
type BreakerOp =
  | { op: "call"; kind: CallKind; duration: number }
  | { op: "tick"; ms: number }
  | { op: "reset" };

interface BreakerCase {
  failureThreshold: number;
  resetTimeout: number;
  halfOpenMaxCalls: number;
  hint: number;
  ops: BreakerOp[];
}

const breakerCase: fc.Arbitrary<BreakerCase> = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 3 }),
  resetTimeout: fc.constantFrom(0, 20, 100),
  halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
  hint: fc.constantFrom(0, 50, 250),
  ops: fc.array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          op: fc.constant("call" as const),
          kind: fc.constantFrom<CallKind>("ok", "fail", "fail", "failHint", "cancel", "neutral"),
          // -1: settles at once (synchronously); Infinity: hangs until the end.
          duration: fc.constantFrom(-1, 5, 30, 150, Infinity),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          op: fc.constant("tick" as const),
          ms: fc.constantFrom(1, 10, 20, 60, 300),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ op: "reset" as const }) },
    ),
    { maxLength: 40 },
  ),
});

/** One call the model let through: its state's generation and, if a probe, its slot. */
interface ModelCall {
  generation: number;
  probe: { start: number } | undefined;
}

class BreakerModel {
  state: "closed" | "open" | "half-open" = "closed";
  failures = 0;
  openUntil = 0;
  probes: Array<{ start: number }> = [];
  generation = 0;

  constructor(readonly c: BreakerCase) {}

  #to(state: "closed" | "open" | "half-open"): void {
    this.generation++;
    this.probes = [];
    this.state = state;
  }

  refresh(now: number): void {
    if (this.state === "open" && now >= this.openUntil) this.#to("half-open");
  }

  /** A call at `now`: let through, or refused with this retryAfter. */
  call(now: number): ModelCall | { refused: number } {
    this.refresh(now);
    const reset = this.c.resetTimeout;
    if (this.state === "open") return { refused: Math.max(0, Math.ceil(this.openUntil - now)) };
    let probe: { start: number } | undefined;
    if (this.state === "half-open") {
      if (this.probes.length >= this.c.halfOpenMaxCalls) {
        // The oldest probe's slot is free for the taking once it is resetTimeout old.
        if (now - this.probes[0].start < reset) {
          return { refused: Math.ceil(this.probes[0].start + reset - now) };
        }
        this.probes.shift();
      }
      probe = { start: now };
      this.probes.push(probe);
    }
    return { generation: this.generation, probe };
  }

  /** Whether an outcome counts: same state, and a probe still holding its slot, in time. */
  #counts(call: ModelCall, now: number): boolean {
    if (call.generation !== this.generation) return false;
    if (call.probe === undefined) return true;
    const i = this.probes.indexOf(call.probe);
    if (i < 0) return false;
    this.probes.splice(i, 1);
    return Math.floor(now - call.probe.start) <= this.c.resetTimeout;
  }

  settle(call: ModelCall, kind: CallKind, now: number): void {
    const counts = this.#counts(call, now);
    if (!counts || kind === "cancel" || kind === "neutral") return;
    if (kind === "ok") {
      this.failures = 0;
      if (call.probe !== undefined) this.#to("closed");
      return;
    }
    this.failures++;
    if (call.probe !== undefined || this.failures >= this.c.failureThreshold) {
      const hint = kind === "failHint" ? this.c.hint : 0;
      this.openUntil = now + Math.max(this.c.resetTimeout, hint);
      this.#to("open");
    }
  }

  reset(): void {
    this.failures = 0;
    this.#to("closed");
  }
}

/** The error a call of this kind throws. */
function errorOf(kind: CallKind, hint: number): Error {
  if (kind === "cancel") return new DOMException("aborted", "AbortError");
  const err = new Error(kind);
  if (kind === "neutral") err.name = "NotAFailure";
  if (kind === "failHint") Object.assign(err, { retryAfter: hint });
  return err;
}

async function checkBreaker(c: BreakerCase): Promise<void> {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({
      failureThreshold: c.failureThreshold,
      resetTimeout: c.resetTimeout,
      halfOpenMaxCalls: c.halfOpenMaxCalls,
      isFailure: (e) => (e as Error).name !== "NotAFailure",
    });
    const model = new BreakerModel(c);
    const hung: Array<() => void> = [];
    const outcomes: Promise<void>[] = [];
    const expect = (what: string) => {
      const now = currentTime();
      model.refresh(now);
      const stats = breaker.statistics();
      assert.deepEqual(
        { state: stats.state, failures: stats.failures, probes: stats.probes },
        { state: model.state, failures: model.failures, probes: model.probes.length },
        `after ${what} at ${now}`,
      );
    };
    for (const [n, o] of c.ops.entries()) {
      if (o.op === "tick") {
        await clock.tickAsync(o.ms);
      } else if (o.op === "reset") {
        breaker.reset();
        model.reset();
      } else {
        const decision = model.call(currentTime());
        let called = false;
        const err = errorOf(o.kind, c.hint);
        const fn = () => {
          called = true;
          const settle = () => {
            // The model books the outcome when fn settles, as the breaker does.
            if (!("refused" in decision)) model.settle(decision, o.kind, currentTime());
            if (o.kind === "ok") return "ok";
            throw err;
          };
          if (o.duration < 0) return settle();
          return new Promise<string>((resolve, reject) => {
            const done = () => {
              try {
                resolve(settle());
              } catch (e) {
                reject(e);
              }
            };
            if (o.duration === Infinity) hung.push(done);
            else setTimeout(done, o.duration);
          });
        };
        const call = breaker.call(fn);
        outcomes.push(call.then(
          (v) => assert.equal(v, "ok", `op ${n}`),
          (e) => {
            if ("refused" in decision) {
              assert.ok(e instanceof CircuitOpenError, `op ${n}: refused, got ${e}`);
              assert.equal(e.retryAfter, decision.refused, `op ${n}: retryAfter`);
            } else {
              assert.equal(e, err, `op ${n}: the call's own error`);
            }
          },
        ));
        assert.equal(called, !("refused" in decision), `op ${n}: fn called iff let through`);
        await clock.tickAsync(0);
      }
      expect(`op ${n} (${JSON.stringify(o)})`);
    }
    for (const done of hung) done();
    await clock.tickAsync(1_000);
    expect("the end");
    await Promise.all(outcomes);
  });
}

Deno.test("CircuitBreaker follows its model: thresholds, open for max(resetTimeout, retryAfter), half-open probes and their slots, neutral errors, stale outcomes, reset", async () => {
  await fc.assert(fc.asyncProperty(breakerCase, checkBreaker), { numRuns: 1_000 });
});
