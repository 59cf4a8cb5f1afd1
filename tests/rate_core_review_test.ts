// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of the in-process rate features (API.md §9, §10): the cases the
// other test files leave out, each seen to fail on the code it guards.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import fc from "fast-check";
import { RateLimiter } from "../mod.ts";
import type { FakeClock } from "./_fake_time.ts";

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
