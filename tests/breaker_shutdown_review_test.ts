// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of API.md §7 (CircuitBreaker, GracefulShutdown) and §1-§3 deadlines
// (failAfter, moveOnAfter, failAt, moveOnAt): where the earlier tests did not
// look. Re-entrant onStateChange callbacks and bodies, transition chains under
// random re-entrance, odd retryAfter hints, signal listeners, nested
// deadlines against a model, and deadlines under a fake performance.now
// without a fake Date (the one bug found: they were judged on the real clock).
import assert from "node:assert/strict";
import fc from "fast-check";
import FakeTimers from "@sinonjs/fake-timers";
import {
  CancelledError,
  CircuitBreaker,
  CircuitOpenError,
  type CircuitState,
  currentTime,
  failAfter,
  failAt,
  GracefulShutdown,
  moveOnAfter,
  moveOnAt,
  sleep,
  TimeoutError,
} from "../mod.ts";
import { pendingDeadlines } from "../concurrency/clock.ts";
import { withFakeTime } from "./_fake_time.ts";
import { deferred, track } from "./_helpers.ts";

const boom = (): never => {
  throw new Error("boom");
};

// ---------------------------------------------------------------------------
// CircuitBreaker: re-entrance from onStateChange and from the guarded call.

Deno.test("an onStateChange that fails a call synchronously on half-open re-opens the breaker and refuses the call that woke it", async () => {
  await withFakeTime(async (clock) => {
    const seen: string[] = [];
    const inner: Promise<unknown>[] = [];
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      resetTimeout: 1_000,
      onStateChange: (from, to) => {
        seen.push(`${from}->${to}`);
        // A probe of its own, failing at once, takes the slot and re-opens.
        if (to === "half-open") inner.push(breaker.call(boom).catch((e) => e));
      },
    });
    await assert.rejects(breaker.call(boom), /boom/);
    await clock.tickAsync(1_000);
    let called = false;
    await assert.rejects(
      breaker.call(() => (called = true)),
      (e: unknown) => e instanceof CircuitOpenError && e.retryAfter === 1_000,
    );
    assert.equal(called, false, "the open breaker did not call fn");
    assert.equal(breaker.state, "open");
    assert.equal(breaker.statistics().probes, 0);
    assert.equal(((await inner[0]) as Error).message, "boom");
    assert.deepEqual(seen, ["closed->open", "open->half-open", "half-open->open"]);
  });
});

Deno.test("an onStateChange that resets the breaker as it opens leaves it closed with no failures", async () => {
  const seen: string[] = [];
  const breaker = new CircuitBreaker({
    failureThreshold: 2,
    onStateChange: (from, to) => {
      seen.push(`${from}->${to}`);
      if (to === "open") breaker.reset();
    },
  });
  await assert.rejects(breaker.call(boom), /boom/);
  await assert.rejects(breaker.call(boom), /boom/);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failures, 0);
  assert.deepEqual(seen, ["closed->open", "open->closed"]);
  // It counts from zero again: one failure does not open it.
  await assert.rejects(breaker.call(boom), /boom/);
  assert.equal(breaker.state, "closed");
});

Deno.test("a guarded call that resets the breaker before it fails is not counted", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  await assert.rejects(
    breaker.call(() => {
      breaker.reset();
      throw new Error("after reset");
    }),
    /after reset/,
  );
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failures, 0);
});

Deno.test("an isFailure that throws on a stale outcome rejects with both errors but changes nothing", async () => {
  await withFakeTime(async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      isFailure: (e) => {
        if ((e as Error).message === "late") throw new Error("filter bug");
        return true;
      },
    });
    const slow = deferred<never>();
    const stale = breaker.call(() => slow.promise);
    await assert.rejects(breaker.call(boom), /boom/);
    assert.equal(breaker.state, "open");
    breaker.reset();
    slow.reject(new Error("late"));
    const err = await stale.then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AggregateError, `expected an AggregateError, got ${err}`);
    assert.deepEqual(err.errors.map((e: Error) => e.message), ["late", "filter bug"]);
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.failures, 0);
  });
});

Deno.test("a probe that fails synchronously re-opens the breaker; the other probes' outcomes are ignored", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      resetTimeout: 1_000,
      halfOpenMaxCalls: 3,
    });
    await assert.rejects(breaker.call(boom), /boom/);
    await clock.tickAsync(1_000);
    const first = deferred<string>();
    const pending = breaker.call(() => first.promise);
    assert.equal(breaker.statistics().probes, 1);
    const sync = breaker.call(boom);
    // Booked before call() returned: the breaker is open again at once.
    assert.equal(breaker.state, "open");
    assert.equal(breaker.statistics().probes, 0);
    await assert.rejects(sync, /boom/);
    first.resolve("up");
    assert.equal(await pending, "up");
    assert.equal(breaker.state, "open");
    assert.equal(breaker.failures, 2);
  });
});

Deno.test("a non-Error thrown by fn counts as a failure and is rethrown as it is", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  await assert.rejects(
    breaker.call(() => {
      throw "a string";
    }),
    (e: unknown) => e === "a string",
  );
  assert.equal(breaker.state, "open");
});

Deno.test("retryAfter hints that are not a number >= 0 are ignored: the breaker opens for resetTimeout", async () => {
  await withFakeTime(async () => {
    for (const hint of [-5, NaN, "9000", null, -Infinity]) {
      const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
      await assert.rejects(
        breaker.call(() => Promise.reject(Object.assign(new Error("x"), { retryAfter: hint }))),
        /x/,
      );
      const stats = breaker.statistics();
      assert.equal(stats.state, "open", `hint ${String(hint)}`);
      assert.equal(stats.retryAfter, 1_000, `hint ${String(hint)}`);
    }
  });
});

// ---------------------------------------------------------------------------
// CircuitBreaker: the chain of onStateChange events under random calls, clock
// steps, resets and re-entrant callbacks. No model: what must hold whatever
// the breaker decides. Every event continues from the last one (`from` is the
// previous `to`, never `from === to`) along an edge the state machine has;
// `state` read at any moment, in a callback too, is the last event's `to`
// (the callback runs once the state has changed, and a lazy open -> half-open
// seen by a read is reported before the read returns); probes only while
// half-open and never more than halfOpenMaxCalls; a closed breaker holds
// fewer than failureThreshold failures; a refused call never calls fn and
// carries a retryAfter of at least 1 ms.

type CallKind = "ok" | "fail" | "cancel" | "neutral";
type ReentrantAction = "none" | "reset" | "syncFail" | "syncOk" | "read" | "asyncFail";
type ChainOp =
  | { op: "call"; kind: CallKind; duration: number }
  | { op: "tick"; ms: number }
  | { op: "reset" }
  | { op: "read" };

interface ChainCase {
  failureThreshold: number;
  resetTimeout: number;
  halfOpenMaxCalls: number;
  reentrant: ReentrantAction[];
  ops: ChainOp[];
}

const chainCase: fc.Arbitrary<ChainCase> = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 3 }),
  resetTimeout: fc.constantFrom(0, 20, 100),
  halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
  reentrant: fc.array(
    fc.constantFrom<ReentrantAction>(
      "none",
      "none",
      "reset",
      "syncFail",
      "syncOk",
      "read",
      "asyncFail",
    ),
    { maxLength: 30 },
  ),
  ops: fc.array(
    // Weights 5 : 3 : 1 : 1 for calls, clock steps, resets and reads.
    fc.tuple(
      fc.integer({ min: 0, max: 9 }),
      fc.constantFrom<CallKind>("ok", "fail", "fail", "cancel", "neutral"),
      fc.constantFrom(-1, 5, 30, 150, Infinity), // -1: synchronous; Infinity: hangs
      fc.constantFrom(1, 10, 20, 60, 300),
    ).map(([pick, kind, duration, ms]): ChainOp =>
      pick < 5
        ? { op: "call", kind, duration }
        : pick < 8
        ? { op: "tick", ms }
        : pick < 9
        ? { op: "reset" }
        : { op: "read" }
    ),
    { maxLength: 40 },
  ),
});

const EDGES = new Set([
  "closed->open",
  "open->half-open",
  "open->closed",
  "half-open->open",
  "half-open->closed",
]);

async function checkChain(c: ChainCase): Promise<void> {
  await withFakeTime(async (clock) => {
    const events: string[] = [];
    let lastTo: CircuitState = "closed";
    const actions = [...c.reentrant];
    const hung: Array<() => void> = [];
    const outcomes: Promise<unknown>[] = [];
    const inCallback: unknown[] = [];

    const errorOf = (kind: string): unknown =>
      kind === "cancel"
        ? new CancelledError()
        : Object.assign(new Error(kind), { name: kind === "neutral" ? "Neutral" : "Error" });

    const checkNow = (where: string) => {
      if (inCallback.length > 0) throw inCallback[0];
      const state = breaker.state; // may report a lazy transition first
      assert.equal(state, lastTo, `${where}: state read vs the last event (${events.join(", ")})`);
      const stats = breaker.statistics();
      assert.equal(stats.state, state, `${where}: statistics().state`);
      assert.ok(stats.probes <= c.halfOpenMaxCalls, `${where}: probes ${stats.probes}`);
      if (state !== "half-open") assert.equal(stats.probes, 0, `${where}: probes while ${state}`);
      if (state === "closed") {
        assert.ok(
          stats.failures < c.failureThreshold,
          `${where}: ${stats.failures} failures, closed`,
        );
      }
    };

    /** Calls through the breaker; checks what a refusal says. */
    const call = (kind: string, duration: number, where: string): void => {
      let called = false;
      const fn = () => {
        called = true;
        if (duration < 0) {
          if (kind === "ok") return "ok";
          throw errorOf(kind);
        }
        return new Promise<string>((resolve, reject) => {
          const done = () => kind === "ok" ? resolve("ok") : reject(errorOf(kind));
          if (duration === Infinity) hung.push(done);
          else setTimeout(done, duration);
        });
      };
      const p = breaker.call(fn);
      const calledNow = called;
      outcomes.push(p.then(
        (v) => assert.equal(v, "ok", where),
        (e) => {
          if (e instanceof CircuitOpenError) {
            assert.equal(calledNow, false, `${where}: refused after calling fn`);
            assert.ok(e.retryAfter >= 1, `${where}: refused with retryAfter ${e.retryAfter}`);
          } else {
            assert.ok(calledNow, `${where}: ${e} without calling fn`);
          }
        },
      ));
    };

    const breaker = new CircuitBreaker({
      failureThreshold: c.failureThreshold,
      resetTimeout: c.resetTimeout,
      halfOpenMaxCalls: c.halfOpenMaxCalls,
      isFailure: (e) => (e as Error).name !== "Neutral",
      onStateChange: (from, to) => {
        // The breaker logs and swallows what a callback throws: keep it.
        try {
          onChange(from, to);
        } catch (err) {
          inCallback.push(err);
        }
      },
    });
    function onChange(from: CircuitState, to: CircuitState): void {
      const event = `${from}->${to}`;
      assert.equal(from, lastTo, `event ${event} after ${events.join(", ")}`);
      assert.ok(EDGES.has(event), `no such edge: ${event}`);
      events.push(event);
      lastTo = to;
      const where = `in the callback of ${event} (#${events.length})`;
      const action = actions.shift() ?? "none";
      if (action === "reset") breaker.reset();
      else if (action === "syncFail") call("fail", -1, where);
      else if (action === "syncOk") call("ok", -1, where);
      else if (action === "asyncFail") call("fail", 5, where);
      if (action !== "none") checkNow(`${where}, after ${action}`);
    }

    for (const [n, o] of c.ops.entries()) {
      const where = `op ${n} ${JSON.stringify(o)}`;
      if (o.op === "tick") await clock.tickAsync(o.ms);
      else if (o.op === "reset") breaker.reset();
      else if (o.op === "read") void breaker.state;
      else {
        call(o.kind, o.duration, where);
        await clock.tickAsync(0);
      }
      checkNow(`after ${where}`);
    }
    // Settle everything; calls made by callbacks on the way settle too (each
    // re-entrant action is used once, so this ends).
    for (let before = -1; before !== outcomes.length;) {
      before = outcomes.length;
      for (const done of hung.splice(0)) done();
      await clock.tickAsync(1_000);
      checkNow("at the end");
    }
    await Promise.all(outcomes);
  });
}

Deno.test("CircuitBreaker's onStateChange events form one chain along its edges, matching state, under re-entrant callbacks", async () => {
  await fc.assert(fc.asyncProperty(chainCase, checkChain), { numRuns: 500 });
});

// ---------------------------------------------------------------------------
// GracefulShutdown on stand-in platforms: what is listened for and removed.

/** Runs `fn` with `globalThis.Deno` and `globalThis.process` replaced, then puts them back. */
function onPlatform<T>(deno: unknown, process: unknown, fn: () => T): T {
  const keys = ["Deno", "process"] as const;
  const saved = keys.map((key) => Object.getOwnPropertyDescriptor(globalThis, key));
  const set = (key: string, value: unknown) =>
    Object.defineProperty(globalThis, key, { value, configurable: true, writable: true });
  try {
    set("Deno", deno);
    set("process", process);
    return fn();
  } finally {
    keys.forEach((key, i) => {
      const descriptor = saved[i];
      if (descriptor === undefined) delete (globalThis as Record<string, unknown>)[key];
      else Object.defineProperty(globalThis, key, descriptor);
    });
  }
}

/** A signal API that keeps its handlers by name, logs adds and removes, and can refuse removes. */
function signalApi(refuseRemove: string[] = []) {
  const handlers = new Map<string, Array<() => void>>();
  const log: string[] = [];
  const add = (name: string, handler: () => void) => {
    log.push(`add ${name}`);
    handlers.set(name, [...handlers.get(name) ?? [], handler]);
  };
  const remove = (name: string, handler: () => void) => {
    if (refuseRemove.includes(name)) throw new Error(`cannot remove ${name}`);
    const list = handlers.get(name) ?? [];
    assert.ok(list.includes(handler), `removes a handler it added for ${name}`);
    log.push(`remove ${name}`);
    handlers.set(name, list.filter((h) => h !== handler));
  };
  /** What the OS would do: call every handler of `name`, as listed when it arrived. */
  const raise = (name: string) => [...handlers.get(name) ?? []].forEach((h) => h());
  const listening = () => [...handlers.values()].reduce((n, list) => n + list.length, 0);
  return { add, remove, raise, log, listening };
}

Deno.test("a shutdown requested again from its own abort listener keeps the first request and removes each listener once", () => {
  const api = signalApi();
  const deno = { addSignalListener: api.add, removeSignalListener: api.remove };
  const shutdown = onPlatform(deno, undefined, () => new GracefulShutdown());
  const seen: string[] = [];
  shutdown.signal.addEventListener("abort", () => {
    seen.push(String(shutdown.requestedBy));
    // Already not listening: a second signal during the clean-up gets the default action.
    seen.push(`listening ${api.listening()}`);
    shutdown.request("from the listener");
    api.raise("SIGINT"); // a second signal while the first is handled
  });
  api.raise("SIGTERM");
  assert.deepEqual(seen, ["SIGTERM", "listening 0"]);
  assert.equal(shutdown.requestedBy, "SIGTERM");
  assert.match((shutdown.signal.reason as Error).message, /SIGTERM/);
  assert.deepEqual(api.log, ["add SIGINT", "add SIGTERM", "remove SIGINT", "remove SIGTERM"]);
  assert.equal(api.listening(), 0);
});

Deno.test("a listener the platform will not remove does not keep the others from being removed", () => {
  const api = signalApi(["SIGINT"]);
  const deno = { addSignalListener: api.add, removeSignalListener: api.remove };
  const shutdown = onPlatform(
    deno,
    undefined,
    () => new GracefulShutdown({ signals: ["SIGINT", "SIGTERM", "SIGHUP"] }),
  );
  shutdown[Symbol.dispose]();
  assert.deepEqual(api.log.filter((l) => l.startsWith("remove")), [
    "remove SIGTERM",
    "remove SIGHUP",
  ]);
  assert.equal(shutdown.requested, false);
  shutdown.request("operator");
  assert.equal(shutdown.signal.aborted, true);
  assert.equal(api.log.length, 5, "dispose tried each remover once; request tried none again");
});

Deno.test("on a process without off, it removes its listeners with removeListener", () => {
  const api = signalApi();
  const process = { on: api.add, removeListener: api.remove };
  const shutdown = onPlatform(undefined, process, () => new GracefulShutdown());
  api.raise("SIGINT");
  assert.equal(shutdown.requestedBy, "SIGINT");
  assert.deepEqual(api.log, ["add SIGINT", "add SIGTERM", "remove SIGINT", "remove SIGTERM"]);
});

Deno.test("a signal named twice is listened for once; an empty list listens for nothing", () => {
  const api = signalApi();
  const deno = { addSignalListener: api.add, removeSignalListener: api.remove };
  const twice = onPlatform(
    deno,
    undefined,
    () => new GracefulShutdown({ signals: ["SIGTERM", "SIGTERM"] }),
  );
  assert.deepEqual(api.log, ["add SIGTERM"]);
  twice[Symbol.dispose]();
  const none = onPlatform(deno, undefined, () => new GracefulShutdown({ signals: [] }));
  assert.deepEqual(api.log, ["add SIGTERM", "remove SIGTERM"]);
  none.request();
  assert.equal(none.requestedBy, "request()");
});

// ---------------------------------------------------------------------------
// Nested failAfter / moveOnAfter / failAt / moveOnAt against a model, on a
// fake clock: which scope's deadline fires, who catches it, what TimeoutError
// comes out (source, timeout, message), when everything settles, which bodies
// ran, and that no deadline is left in the heap.
//
// Level i's body sleeps `pre` ms, runs level i + 1 (the last level returns
// "leaf"), sleeps `post` ms and returns `L<i>(<what level i + 1 gave>)`.
// Sleeps are multiples of 10 ms and a positive budget of level i ends in
// i + 1, so no deadline ever ties with a sleep's end or another deadline.

type TimeoutKind = "failAfter" | "moveOnAfter" | "failAt" | "moveOnAt";

interface Level {
  kind: TimeoutKind;
  /** ms from the call (absolute deadline = call time + budget for the *At kinds); null: none. */
  budget: number | null;
  pre: number;
  post: number;
}

const levelArb = (i: number): fc.Arbitrary<Level> =>
  fc.record({
    kind: fc.constantFrom<TimeoutKind>("failAfter", "moveOnAfter", "failAt", "moveOnAt"),
    budget: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 12 }).map((k) => k * 10 + i + 1) },
      { weight: 1, arbitrary: fc.constantFrom(0, -3, -Infinity, Infinity, null) },
    ),
    pre: fc.integer({ min: 1, max: 4 }).map((k) => k * 10),
    post: fc.integer({ min: 1, max: 4 }).map((k) => k * 10),
  }).map((l) => (l.budget === null && l.kind.endsWith("At") ? { ...l, budget: Infinity } : l));

const levelsArb: fc.Arbitrary<Level[]> = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc.tuple(...Array.from({ length: n }, (_, i) => levelArb(i)))
);

type Result =
  | { value: string | undefined; at: number }
  | { timeout: number; at: number } // level whose TimeoutError rejects
  | { cancelledBy: number; at: number }; // still travelling up to its scope

/** What level `i`, called at `t` under enclosing deadline `outer` (of level `owner`), does. */
function model(
  levels: Level[],
  i: number,
  t: number,
  outer: number,
  owner: number,
  ran: Set<number>,
): Result {
  const l = levels[i];
  const budget = l.budget ?? Infinity;
  const caughtHere = (at: number): Result =>
    l.kind.startsWith("fail") ? { timeout: i, at } : { value: undefined, at };
  if (budget <= 0) return caughtHere(t); // the deadline has passed: the body is not invoked
  ran.add(i);
  const own = t + budget;
  const [deadline, by] = own < outer ? [own, i] : [outer, owner];
  const cancelled = (at: number): Result => by === i ? caughtHere(at) : { cancelledBy: by, at };
  if (deadline < t + l.pre) return cancelled(deadline);
  if (i === levels.length - 1) return { value: "leaf", at: t + l.pre };
  const r = model(levels, i + 1, t + l.pre, deadline, by, ran);
  if ("cancelledBy" in r) return r.cancelledBy === i ? caughtHere(r.at) : r;
  if ("timeout" in r) return r;
  if (deadline < r.at + l.post) return cancelled(deadline);
  return { value: `L${i}(${r.value})`, at: r.at + l.post };
}

/** Runs level `i` for real. */
function runLevel(
  levels: Level[],
  i: number,
  ran: Set<number>,
  calledAt: number[],
): Promise<unknown> {
  const l = levels[i];
  const body = async () => {
    ran.add(i);
    await sleep(l.pre);
    if (i === levels.length - 1) return "leaf";
    const inner = await runLevel(levels, i + 1, ran, calledAt);
    await sleep(l.post);
    return `L${i}(${inner})`;
  };
  const now = currentTime();
  calledAt[i] = now;
  const budget = l.budget;
  switch (l.kind) {
    case "failAfter":
      return failAfter(budget, body);
    case "moveOnAfter":
      return moveOnAfter(budget, body);
    case "failAt":
      return failAt(now + (budget ?? Infinity), body);
    case "moveOnAt":
      return moveOnAt(now + (budget ?? Infinity), body);
  }
}

async function checkNested(levels: Level[]): Promise<void> {
  await withFakeTime(async (clock) => {
    const expectedRan = new Set<number>();
    const expected = model(levels, 0, 0, Infinity, -1, expectedRan);
    const ran = new Set<number>();
    const calledAt: number[] = [];
    let outcome: { value?: unknown; error?: unknown; at: number } | undefined;
    runLevel(levels, 0, ran, calledAt).then(
      (value) => (outcome = { value, at: currentTime() }),
      (error) => (outcome = { error, at: currentTime() }),
    );
    await clock.tickAsync(2_000);
    const what = JSON.stringify(levels);
    assert.ok(outcome !== undefined, `${what}: settled`);
    assert.ok(!("cancelledBy" in expected), "a scope's own cancellation never leaves it");
    assert.equal(outcome.at, expected.at, `${what}: settled at`);
    assert.deepEqual([...ran].sort(), [...expectedRan].sort(), `${what}: bodies that ran`);
    if ("value" in expected) {
      assert.equal(outcome.error, undefined, `${what}: rejected`);
      assert.equal(outcome.value, expected.value, `${what}: value`);
    } else {
      const err = outcome.error;
      const l = levels[expected.timeout];
      assert.ok(err instanceof TimeoutError, `${what}: expected a TimeoutError, got ${err}`);
      assert.equal(err.source, l.kind, `${what}: source`);
      if (l.kind === "failAfter") {
        assert.equal(err.timeout, l.budget, `${what}: timeout`);
        assert.equal(err.message, `failAfter timed out after ${l.budget} ms`);
      } else {
        const deadline = calledAt[expected.timeout] + (l.budget ?? Infinity);
        assert.ok(Number.isNaN(err.timeout), `${what}: failAt's timeout is NaN`);
        assert.equal(err.message, `failAt timed out: its deadline ${deadline} passed`);
      }
    }
    assert.equal(pendingDeadlines(), 0, `${what}: deadlines left in the heap`);
  });
}

Deno.test("nested failAfter, moveOnAfter, failAt and moveOnAt: the earliest deadline fires, its own scope catches it, and the TimeoutError names it", async () => {
  await fc.assert(fc.asyncProperty(levelsArb, checkNested), { numRuns: 600 });
});

Deno.test("equal deadlines, outer and inner: the outer scope catches, and the inner body's caller does not go on", async () => {
  // As in Trio: an inner scope does not catch its own cancellation while an
  // enclosing cancellation is visible to it; it passes that one up.
  await withFakeTime(async (clock) => {
    let after: unknown = "not reached";
    const outcome = failAfter(100, async () => {
      after = await moveOnAfter(100, () => sleep(1_000));
      return "outer body done";
    }).catch((e: unknown) => e);
    await clock.tickAsync(100);
    const err = await outcome;
    assert.ok(err instanceof TimeoutError, `expected a TimeoutError, got ${err}`);
    assert.equal(err.message, "failAfter timed out after 100 ms");
    assert.equal(after, "not reached");
  });
});

// ---------------------------------------------------------------------------
// One clock: a fake performance.now without a fake Date (fake-timers with
// toFake ["performance", "setTimeout", "clearTimeout"], Jest's fake timers
// with doNotFake ["Date"]). currentTime() follows it; sleeps and deadlines
// must too, not be judged on the real performance.now.

const realUptime = performance.now.bind(performance);

Deno.test("a fake performance.now without a fake Date times sleeps and deadlines on that clock", async () => {
  const clock = FakeTimers.install({
    now: 0,
    toFake: ["setTimeout", "clearTimeout", "performance"],
  });
  try {
    // The fake reads 0 at install; put it well past the real reading, so a
    // deadline judged on the wrong clock shows whatever the process's age.
    await clock.tickAsync(Math.ceil(realUptime()) + 10_000);
    const start = currentTime();
    const slept = track(sleep(40));
    const timed = track(failAfter(20, () => sleep(1_000)));
    await clock.tickAsync(19);
    assert.equal(slept.settled, false, "sleep(40) ended after 19 fake ms");
    assert.equal(timed.settled, false, "failAfter(20) ended after 19 fake ms");
    await clock.tickAsync(1);
    assert.ok(
      timed.error instanceof TimeoutError,
      `failAfter(20) after 20 fake ms: ${timed.error}`,
    );
    await clock.tickAsync(19);
    assert.equal(slept.settled, false, "sleep(40) ended after 39 fake ms");
    await clock.tickAsync(1);
    assert.equal(slept.settled, true, "sleep(40) still waits after 40 fake ms");
    assert.equal(currentTime() - start, 40);
    assert.equal(pendingDeadlines(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("a real sleep begun just before a fake performance.now and setTimeout were installed still ends on real time", async () => {
  const realSetTimeout = setTimeout, realClearTimeout = clearTimeout;
  let guard: ReturnType<typeof setTimeout> | undefined;
  const slept = sleep(5); // its timer is armed a few microtasks later, under the fake
  const clock = FakeTimers.install({
    now: 0,
    toFake: ["setTimeout", "clearTimeout", "performance"],
  });
  try {
    const outcome = await Promise.race([
      slept.then(() => "ended"),
      new Promise<string>((resolve) => (guard = realSetTimeout(() => resolve("hung"), 2_000))),
    ]);
    assert.equal(outcome, "ended", "the real sleep(5) had not ended after 2 real seconds");
  } finally {
    realClearTimeout(guard);
    clock.uninstall();
  }
});
