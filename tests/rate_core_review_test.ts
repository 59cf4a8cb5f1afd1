// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of the in-process rate features (API.md §9, §10): the cases the
// other test files leave out, each seen to fail on the code it guards.
import assert from "node:assert/strict";
import process from "node:process";
import FakeTimers from "@sinonjs/fake-timers";
import fc from "fast-check";
import {
  AdaptiveLimiter,
  alcall,
  alcallStream,
  CancelledError,
  checkResponse,
  currentTime,
  ExceptionGroup,
  failAt,
  HttpError,
  parseRetryAfter,
  RateLimiter,
  RateLimitError,
  retry,
  sleep,
} from "../mod.ts";
import { flush, track } from "./_helpers.ts";
import { type FakeClock, withFakeTime } from "./_fake_time.ts";

/**
 * A fake clock reading `now` like `@std/testing`'s `FakeTime`, which starts
 * at the real epoch time (~1.8e12 ms), or like `performance.now()` in a
 * process that has run for weeks.
 */
async function withClockAt(
  now: number,
  fn: (clock: FakeClock) => Promise<void> | void,
): Promise<void> {
  const clock = FakeTimers.install({
    now,
    toFake: ["Date", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
  });
  try {
    await fn(clock);
  } finally {
    clock.uninstall();
  }
}

/** An epoch reading (2026-12-05), where one float ulp is 2^-12 ms. */
const EPOCH_NOW = Date.UTC(2026, 11, 5, 9, 0, 0);
/** `performance.now()` after 35 days of uptime. */
const UPTIME_NOW = 35 * 86_400_000 + 0.3;
/** Rates whose emission interval is not exact in binary. */
const INEXACT_RATES: Array<[limit: number, period: number]> = [
  [7, 1_000],
  [6, 1_000],
  [49, 1_000],
  [10, 3],
  [1_000, 60_000],
];

Deno.test("a full burst passes at once on a clock far from zero, though period / limit is not exact in binary", async () => {
  for (const now of [EPOCH_NOW, UPTIME_NOW]) {
    for (const [limit, period] of INEXACT_RATES) {
      await withClockAt(now, (clock) => {
        const limiter = new RateLimiter({ limit, period });
        for (const round of ["first", "after a full period"]) {
          let passed = 0;
          while (limiter.tryAcquire()) passed++;
          assert.equal(passed, limit, `${limit} per ${period} ms at ${now}, ${round} burst`);
          clock.tick(period);
        }
      });
    }
  }
});

Deno.test("a burst of acquires on a clock far from zero all pass without a timer", async () => {
  await withClockAt(EPOCH_NOW, async (clock) => {
    const limiter = new RateLimiter({ limit: 7, period: 1_000 });
    let granted = 0;
    const all = Array.from({ length: 7 }, () => limiter.acquire().then(() => granted++));
    await Promise.resolve();
    assert.equal(limiter.waiting, 0, "none of the burst queued");
    assert.equal(clock.countTimers(), 0);
    await Promise.all(all);
    assert.equal(granted, 7);
  });
});

/**
 * GCRA in exact integers, the reference for the property below: time in
 * units of 1 / (4 * limit) ms, so that a cost in quarters `q` occupies
 * exactly `q * period` units.
 */
class ExactGcra {
  #tat = 0;
  #now = 0;
  constructor(readonly limit: number, readonly period: number, readonly burstQuarters: number) {}

  tick(ms: number): void {
    this.#now += ms * 4 * this.limit;
  }

  /** The wait for `quarters` in ms (0: it fits now). */
  wait(quarters: number): number {
    const base = Math.max(this.#tat, this.#now);
    const over = base + (quarters - this.burstQuarters) * this.period - this.#now;
    return Math.max(0, over) / (4 * this.limit);
  }

  tryAcquire(quarters: number): boolean {
    if (this.wait(quarters) > 0) return false;
    this.#tat = Math.max(this.#tat, this.#now) + quarters * this.period;
    return true;
  }
}

type RateOp = { tryCost: number } | { tick: number };

Deno.test("property: decisions and retryAfter match exact GCRA for inexact rates, fractional costs and clocks far from zero (300 runs)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...INEXACT_RATES),
      fc.integer({ min: 0, max: 8 }), // quarters of burst above `limit`
      fc.constantFrom(0, EPOCH_NOW, UPTIME_NOW),
      fc.array(
        fc.oneof(
          { weight: 3, arbitrary: fc.record({ tryCost: fc.integer({ min: 1, max: 8 }) }) },
          { weight: 1, arbitrary: fc.record({ tick: fc.integer({ min: 0, max: 400 }) }) },
        ),
        { maxLength: 80 },
      ),
      async ([limit, period], extra, origin, ops: RateOp[]) => {
        await withClockAt(origin, (clock) => {
          const burstQuarters = 4 * limit + extra;
          const limiter = new RateLimiter({ limit, period, burst: burstQuarters / 4 });
          const model = new ExactGcra(limit, period, burstQuarters);
          for (const [i, op] of ops.entries()) {
            if ("tick" in op) {
              clock.tick(op.tick);
              model.tick(op.tick);
              continue;
            }
            const cost = op.tryCost / 4;
            const expectedWait = model.wait(op.tryCost);
            const wait = limiter.retryAfter(cost);
            assert.ok(
              Math.abs(wait - expectedWait) < 1e-6,
              `op ${i}: retryAfter(${cost}) ${wait}, exactly ${expectedWait}`,
            );
            assert.equal(limiter.tryAcquire(cost), model.tryAcquire(op.tryCost), `op ${i}`);
          }
        });
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("a slot due exactly at the ambient deadline is refused at once, reserving nothing, also behind waiters and at a fractional time", async () => {
  await withClockAt(EPOCH_NOW, async (clock) => {
    const limiter = new RateLimiter({ limit: 7, period: 1_000, burst: 1 });
    const interval = 1_000 / 7;
    assert.ok(limiter.tryAcquire());
    const start = currentTime();
    // The head's slot lies one interval ahead, the next waiter's two.
    const head = track(limiter.acquire());
    const refused = await failAt(start + 2 * interval, () => limiter.acquire()).catch((e) => e);
    assert.ok(refused instanceof RateLimitError, String(refused));
    assert.ok(Math.abs(refused.retryAfter - 2 * interval) < 1e-6, String(refused.retryAfter));
    assert.equal(limiter.waiting, 1, "only the head waits");
    assert.equal(currentTime(), start, "it did not sleep");
    // A deadline 1 ms past the same slot waits for it and passes.
    const passes = track(failAt(start + 2 * interval + 1, () => limiter.acquire()));
    await clock.tickAsync(Math.ceil(2 * interval)); // timers fire on whole ms
    assert.equal(head.settled && !head.rejected, true);
    assert.equal(passes.settled && !passes.rejected, true, String(passes.error));
  });
});

/** Headers an API like GitHub's sends on every response, refused or not. */
function quotaHeaders(remaining: number): Record<string, string> {
  return {
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": String(remaining),
    "x-ratelimit-reset": String(Math.floor(Date.now() / 1_000) + 3_600),
  };
}

Deno.test("HttpError: a quota's reset time on a response not refused for the quota is no wait", () => {
  for (const status of [400, 404, 500, 502, 503]) {
    const err = new HttpError(new Response(null, { status, headers: quotaHeaders(4_321) }));
    assert.equal(err.retryAfter, undefined, `status ${status}`);
    const draft = new HttpError(
      new Response(null, {
        status,
        headers: { "ratelimit-remaining": "7", "ratelimit-reset": "30" },
      }),
    );
    assert.equal(draft.retryAfter, undefined, `status ${status}, RateLimit draft headers`);
  }
});

Deno.test("HttpError: the reset time is the wait on a 429, or once the quota is spent", () => {
  const refused = new HttpError(new Response(null, { status: 429, headers: quotaHeaders(4_321) }));
  assert.ok(refused.retryAfter! > 3_590_000, String(refused.retryAfter));
  const spent = new HttpError(new Response(null, { status: 403, headers: quotaHeaders(0) }));
  assert.ok(spent.retryAfter! > 3_590_000, String(spent.retryAfter));
  const draft = new HttpError(
    new Response(null, {
      status: 503,
      headers: { "ratelimit-remaining": "0", "ratelimit-reset": "30" },
    }),
  );
  assert.equal(draft.retryAfter, 30_000);
  const bare = new HttpError(
    new Response(null, { status: 429, headers: { "ratelimit-reset": "4" } }),
  );
  assert.equal(bare.retryAfter, 4_000);
});

Deno.test("HttpError: retry-after and retry-after-ms are a wait on any status", () => {
  const headers = { ...quotaHeaders(4_321), "retry-after": "2" };
  assert.equal(new HttpError(new Response(null, { status: 500, headers })).retryAfter, 2_000);
  const ms = { "retry-after-ms": "250", "x-ratelimit-reset": "99" };
  assert.equal(new HttpError(new Response(null, { status: 502, headers: ms })).retryAfter, 250);
});

Deno.test("retry retries a transient 502 from an API that sends its quota's reset time on every response", async () => {
  let calls = 0;
  const value = await retry(() => {
    if (++calls === 1) {
      checkResponse(new Response(null, { status: 502, headers: quotaHeaders(4_321) }));
    }
    return "ok";
  }, { attempts: 2, baseDelay: 1 });
  assert.equal(value, "ok");
  assert.equal(calls, 2);
});

Deno.test("AdaptiveLimiter: a 404 from an API that sends its quota's reset time on every response is no overload", async () => {
  const limiter = new AdaptiveLimiter({ initial: 20 });
  const notFound = () =>
    checkResponse(new Response(null, { status: 404, headers: quotaHeaders(4_321) }));
  await assert.rejects(limiter.use(notFound), HttpError);
  assert.equal(limiter.limit, 20);
  assert.equal(limiter.statistics().drops, 0);
});

type AdaptiveOp =
  | { start: true; abortWhileWaiting: boolean }
  | { settle: number; outcome: "success" | "429" | "own error" | "cancelled" | "aborted" };

const outcomes = ["success", "429", "own error", "cancelled", "aborted"] as const;
const errorOf = {
  "429": () => new HttpError(new Response(null, { status: 429 })),
  "own error": () => new TypeError("the caller's own bug"),
  "cancelled": () => new CancelledError("the caller's scope"),
  "aborted": () => new DOMException("fetch aborted", "AbortError"),
};

/**
 * Random calls through an AdaptiveLimiter, each ended by the test. With AIMD
 * the estimate is checked against API.md's rule after every step; with the
 * gradient, that only successes and overloads move it. Either way the limit
 * must stay an integer in [min, max].
 */
async function adaptiveScenario(algorithm: "aimd" | "gradient", clock: FakeClock): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 12 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(
        fc.oneof(
          fc.record({ start: fc.constant(true as const), abortWhileWaiting: fc.boolean() }),
          fc.record({ settle: fc.nat(20), outcome: fc.constantFrom(...outcomes) }),
        ),
        { maxLength: 60 },
      ),
      async (min, span, at, ops: AdaptiveOp[]) => {
        const max = min + span;
        const initial = min + at * span;
        const limiter = new AdaptiveLimiter({ initial, min, max, algorithm });
        /** Each running call: how to end it, and the number of decreases when it started. */
        const running: Array<{ end: (err?: Error) => void; epoch: number }> = [];
        let estimate = initial, epoch = 0, pending: Promise<unknown>[] = [];
        for (const op of ops) {
          if ("start" in op) {
            const controller = new AbortController();
            const call = {
              end: (_err?: Error) => {},
              epoch: -1,
            };
            pending.push(
              limiter.use(() => {
                call.epoch = epoch;
                running.push(call);
                return new Promise<void>((resolve, reject) => {
                  call.end = (err) => (err === undefined ? resolve() : reject(err));
                });
              }, { signal: controller.signal }).catch(() => {}),
            );
            await flush();
            if (op.abortWhileWaiting && call.epoch === -1) controller.abort();
          } else if (running.length > 0) {
            const [call] = running.splice(op.settle % running.length, 1);
            const inUse = limiter.borrowedTokens, limit = limiter.limit;
            clock.tick(op.settle); // a round trip for the gradient
            if (algorithm === "gradient") {
              if (op.outcome === "429" && call.epoch === epoch) epoch++;
              call.end(op.outcome === "success" ? undefined : errorOf[op.outcome]());
              await flush();
              if (op.outcome === "success" || op.outcome === "429") {
                estimate = limiter.statistics().estimate;
              }
            } else if (op.outcome === "success") {
              if (inUse >= limit / 2) estimate = Math.min(max, estimate + 1 / limit);
              call.end();
            } else {
              if (op.outcome === "429" && call.epoch === epoch) {
                estimate = Math.max(min, estimate * 0.9);
                epoch++;
              }
              call.end(errorOf[op.outcome]());
            }
          }
          await flush();
          const s = limiter.statistics();
          assert.ok(
            Math.abs(s.estimate - estimate) < 1e-9,
            `estimate ${s.estimate}, model ${estimate}`,
          );
          assert.ok(
            Number.isInteger(s.limit) && s.limit >= min && s.limit <= max,
            `limit ${s.limit}`,
          );
          assert.equal(s.limit, Math.max(min, Math.floor(s.estimate)));
          assert.equal(s.totalTokens, s.limit);
          assert.equal(s.drops, epoch, "a drop is a 429 of a call started since the last decrease");
        }
        for (const call of running.splice(0)) call.end(new TypeError("finish"));
        await flush();
        // Waiters left behind a full limit get permits as the calls end; end those too.
        while (running.length > 0 || limiter.borrowedTokens > 0) {
          for (const call of running.splice(0)) call.end(new TypeError("finish"));
          await flush();
        }
        await Promise.all(pending);
        pending = [];
        assert.equal(limiter.borrowedTokens, 0);
      },
    ),
    { numRuns: 300 },
  );
}

Deno.test("property: AIMD moves its limit only as API.md says, and stays an integer in [min, max] (300 runs)", async () => {
  await withFakeTime((clock) => adaptiveScenario("aimd", clock));
});

Deno.test("property: the gradient moves its limit only on successes and overloads, and keeps it an integer in [min, max] (300 runs)", async () => {
  await withFakeTime((clock) => adaptiveScenario("gradient", clock));
});

Deno.test("AdaptiveLimiter: the platform's timeout (AbortSignal.timeout's DOMException) is an overload like TimeoutError", async () => {
  const limiter = new AdaptiveLimiter({ initial: 20 });
  const signal = AbortSignal.timeout(0);
  await new Promise((resolve) => signal.addEventListener("abort", resolve));
  const timedOut = signal.reason;
  assert.equal(timedOut.name, "TimeoutError");
  await assert.rejects(limiter.use(() => Promise.reject(timedOut)));
  assert.equal(limiter.limit, 18);
  // A cancellation of the same kind of object is still none.
  await assert.rejects(limiter.use(() => Promise.reject(new DOMException("", "AbortError"))));
  assert.equal(limiter.statistics().drops, 1);
});

// alcall waits for its rateLimiter holding its limiter's permit; an
// AdaptiveLimiter measures the call alone.

Deno.test({
  name: "alcall: its own RateLimiter's refusal is no overload for its AdaptiveLimiter",
  fn: async () => {
    await withFakeTime(async (clock) => {
      const limiter = new AdaptiveLimiter({ initial: 10 });
      const rateLimiter = new RateLimiter({ limit: 1, period: 1_000 });
      rateLimiter.tryAcquire();
      const result = alcall([1], (x) => x, { limiter, rateLimiter, retryTimeout: 50 })
        .catch((e) => e);
      await clock.tickAsync(100);
      const err = await result;
      assert.ok(err instanceof ExceptionGroup && err.exceptions[0] instanceof RateLimitError);
      assert.equal(limiter.statistics().drops, 0, "the downstream was never called");
      assert.equal(limiter.limit, 10);
    });
  },
});

Deno.test({
  name: "alcall: the wait for its RateLimiter is not part of its AdaptiveLimiter's round trip",
  fn: async () => {
    await withFakeTime(async (clock) => {
      const limiter = new AdaptiveLimiter({ algorithm: "gradient" });
      const rateLimiter = new RateLimiter({ limit: 1, period: 1_000 });
      rateLimiter.tryAcquire();
      const result = alcall([1], async (x) => {
        await sleep(5);
        return x;
      }, { limiter, rateLimiter });
      await clock.tickAsync(1_005);
      await result;
      assert.equal(limiter.statistics().rtt, 5, "the call took 5 ms; it waited 1,000 ms before");
    });
  },
});

/** A stream of 0, 1, 2, … that notes whether it was cancelled. */
function endlessStream(): { stream: ReadableStream<number>; cancelled: () => boolean } {
  let cancelled = false, n = 0;
  const stream = new ReadableStream<number>({
    pull: (controller) => controller.enqueue(n++),
    cancel: () => {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

Deno.test("alcallStream: return() or dispose before the first next() closes the input it took an iterator from", async () => {
  for (const close of ["return", "dispose"] as const) {
    const { stream, cancelled } = endlessStream();
    const it = alcallStream(stream, (x) => x, { maxConcurrent: 2 });
    assert.equal(stream.locked, true, "the stream's iterator is taken when the call is made");
    if (close === "return") assert.deepEqual(await it.return!(), { done: true, value: undefined });
    else await it[Symbol.asyncDispose]();
    assert.equal(cancelled(), true, `${close}: the stream was cancelled`);
    assert.equal(stream.locked, false, `${close}: the stream was released`);
    assert.deepEqual(await it.next(), { done: true, value: undefined });
  }
  let syncClosed = 0;
  const iterable: Iterable<number> = {
    [Symbol.iterator]: () => ({
      next: () => ({ done: false, value: 1 }),
      return: () => {
        syncClosed++;
        return { done: true, value: undefined };
      },
    }),
  };
  const it = alcallStream(iterable, (x) => x);
  await it.return!();
  await it.return!();
  assert.equal(syncClosed, 1, "a sync input is closed too, once");
});

Deno.test("alcallStream: break after the first result cancels a ReadableStream input", async () => {
  const { stream, cancelled } = endlessStream();
  for await (const v of alcallStream(stream, (x) => x, { maxConcurrent: 2 })) {
    assert.equal(v, 0);
    break;
  }
  assert.equal(cancelled(), true);
  assert.equal(stream.locked, false);
});

Deno.test("property: alcallStream never has more than maxConcurrent + buffer items started but unconsumed, and yields every result once (200 runs)", async () => {
  await withFakeTime(async (clock) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }), // each item's duration
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 10 }), // consumer pauses
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (durations, pauses, maxConcurrent, buffer, ordered) => {
          let pulled = 0, started = 0, consumed = 0, worstStarted = 0, worstPulled = 0;
          async function* input() {
            for (let i = 0; i < durations.length; i++) {
              pulled++;
              worstPulled = Math.max(worstPulled, pulled - consumed);
              yield i;
            }
          }
          const seen: number[] = [];
          const consume = (async () => {
            for await (
              const i of alcallStream(input(), async (i) => {
                started++;
                worstStarted = Math.max(worstStarted, started - consumed);
                await sleep(durations[i]);
                return i;
              }, { maxConcurrent, buffer, ordered })
            ) {
              seen.push(i);
              consumed++;
              await sleep(pauses[consumed % pauses.length]);
            }
          })();
          await clock.runAllAsync();
          await consume;
          const all = durations.map((_, i) => i);
          assert.deepEqual(ordered ? seen : [...seen].sort((a, b) => a - b), all);
          assert.ok(worstStarted <= maxConcurrent + buffer, `${worstStarted} started, unconsumed`);
          // A worker pulls its next item before the buffer lets it start it.
          assert.ok(worstPulled <= 2 * maxConcurrent + buffer, `${worstPulled} pulled, unconsumed`);
        },
      ),
      { numRuns: 200 },
    );
  });
});

const RETRY_NOW = Date.UTC(2026, 11, 5, 12, 0, 0);

Deno.test("parseRetryAfter: text that only looks like a date to Date.parse falls through to the next header", () => {
  for (const garbage of ["later 2026", "abc 12", "1 Jan", "soon, 5", "Dec 5 2026 12:00:30 PST"]) {
    const headers = { "retry-after": garbage, "ratelimit-reset": "4" };
    assert.equal(parseRetryAfter(headers, RETRY_NOW), 4_000, garbage);
  }
});

Deno.test("parseRetryAfter: the three HTTP date formats are read, any case", () => {
  for (
    const date of [
      "Sat, 05 Dec 2026 12:00:30 GMT", // IMF-fixdate
      "Saturday, 05-Dec-26 12:00:30 GMT", // obsolete RFC 850
      "Sat Dec  5 12:00:30 2026", // obsolete asctime
      "sat, 05 dec 2026 12:00:30 gmt",
      "Sat, 5 Dec 2026 12:00:30 GMT", // a day of one digit, as some servers send
    ]
  ) assert.equal(parseRetryAfter({ "retry-after": date }, RETRY_NOW), 30_000, date);
});

Deno.test("parseRetryAfter: an asctime date is GMT, whatever the machine's time zone", () => {
  // Deno, Node and Bun all apply a TZ set at run time: no child process needed.
  const saved = process.env.TZ;
  process.env.TZ = "America/New_York";
  try {
    assert.equal(new Date(2026, 11, 5).getTimezoneOffset(), 300, "the time zone took effect");
    assert.equal(parseRetryAfter({ "retry-after": "Sat Dec  5 12:00:30 2026" }, RETRY_NOW), 30_000);
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});
