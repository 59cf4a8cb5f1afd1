// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `RateLimiter` against its peers (bottleneck, limiter, p-throttle) and a
 * hand-written GCRA counter (the floor: one number, no queue, no
 * validation), in three groups:
 *
 * - uncontended tryAcquire: 100,000 synchronous checks with room to spare
 *   (limiter's `tryRemoveTokens` is the one peer with a synchronous check);
 * - uncontended acquire: 10,000 awaited acquires with room to spare
 *   (bottleneck's `schedule`, limiter's `removeTokens`, a p-throttled call);
 * - contended acquire: 1,000 waiters queued at once behind a spent limit of
 *   100 per millisecond (burst 100: a timer fires at best once a
 *   millisecond, so a smaller burst would cap the rate, as it would for any
 *   GCRA), so they drain in ~10 ms of real time. Interleaved mode times CPU, not wall time, so it
 *   measures the bookkeeping and the timers, not the wait. (Fake time was
 *   tried first: its own cost, ~6 µs a timer, hid every difference, and
 *   bottleneck never finished under it.)
 *
 * Run: `deno bench --allow-all bench/rate_limiter_bench.ts`, or interleaved in
 * CPU time: `deno run --allow-all bench/rate_limiter_bench.ts [rounds]`.
 *
 * @module
 */

import Bottleneck from "bottleneck";
import { RateLimiter as TokenBucketLimiter } from "limiter";
import pThrottle from "p-throttle";
import { RateLimiter } from "../mod.ts";
import { bench, runInterleaved } from "./_interleaved.ts";

const TRIES = 100_000;
const ACQUIRES = 10_000;
/**
 * Bottleneck's `schedule` goes through timers, which the runtime clamps to
 * 4 ms once nested: 10,000 calls in a row took minutes, so it runs fewer.
 */
const SLOW_ACQUIRES = 100;
const WAITERS = 1_000;
/** Grants per millisecond in the contended group: 1,000 waiters drain in ~10 ms. */
const RATE = 100;

/**
 * The floor: GCRA as one theoretical arrival time, with a FIFO for waiters,
 * on the monotonic clock (as any limiter must be: `Date.now()` can jump).
 */
export class HandGcra {
  #tat = -Infinity;
  readonly #interval: number;
  readonly #tolerance: number;
  readonly #queue: Array<() => void> = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(limit: number, period: number, burst = limit) {
    this.#interval = period / limit;
    this.#tolerance = burst * this.#interval;
  }

  tryAcquire(): boolean {
    if (this.#head < this.#queue.length) return false;
    const now = performance.now();
    const tat = Math.max(this.#tat, now) + this.#interval;
    if (tat - now > this.#tolerance) return false;
    this.#tat = tat;
    return true;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#queue.push(resolve);
      if (this.#timer === undefined) this.#arm();
    });
  }

  #arm(): void {
    const wait = Math.max(this.#tat, performance.now()) + this.#interval - this.#tolerance -
      performance.now();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      while (this.#head < this.#queue.length) {
        const now = performance.now();
        const tat = Math.max(this.#tat, now) + this.#interval;
        if (tat - now > this.#tolerance) return this.#arm();
        this.#tat = tat;
        this.#queue[this.#head++]();
      }
      this.#queue.length = this.#head = 0;
    }, Math.max(0, wait));
  }
}

// ---------------------------------------------------------------- uncontended tryAcquire

const roomy = { limit: 1e12, period: 1_000 };

bench({
  group: "uncontended tryAcquire",
  name: "RateLimiter",
  baseline: true,
  ops: TRIES,
  fn: () => {
    const limiter = new RateLimiter(roomy);
    for (let i = 0; i < TRIES; i++) if (!limiter.tryAcquire()) throw new Error("denied");
    return Promise.resolve();
  },
});

bench({
  group: "uncontended tryAcquire",
  name: "limiter (tryRemoveTokens)",
  ops: TRIES,
  fn: () => {
    const limiter = new TokenBucketLimiter({ tokensPerInterval: 1e12, interval: "second" });
    for (let i = 0; i < TRIES; i++) if (!limiter.tryRemoveTokens(1)) throw new Error("denied");
    return Promise.resolve();
  },
});

bench({
  group: "uncontended tryAcquire",
  name: "hand-written GCRA",
  ops: TRIES,
  fn: () => {
    const limiter = new HandGcra(roomy.limit, roomy.period);
    for (let i = 0; i < TRIES; i++) if (!limiter.tryAcquire()) throw new Error("denied");
    return Promise.resolve();
  },
});

// ---------------------------------------------------------------- uncontended acquire

bench({
  group: "uncontended acquire",
  name: "RateLimiter",
  baseline: true,
  ops: ACQUIRES,
  fn: async () => {
    const limiter = new RateLimiter(roomy);
    for (let i = 0; i < ACQUIRES; i++) await limiter.acquire();
  },
});

bench({
  group: "uncontended acquire",
  name: "limiter (removeTokens)",
  ops: ACQUIRES,
  fn: async () => {
    const limiter = new TokenBucketLimiter({ tokensPerInterval: 1e12, interval: "second" });
    for (let i = 0; i < ACQUIRES; i++) await limiter.removeTokens(1);
  },
});

bench({
  group: "uncontended acquire",
  name: "bottleneck (schedule)",
  ops: SLOW_ACQUIRES,
  n: 5,
  warmup: 1,
  fn: async () => {
    const limiter = new Bottleneck();
    const job = () => Promise.resolve();
    for (let i = 0; i < SLOW_ACQUIRES; i++) await limiter.schedule(job);
  },
});

bench({
  group: "uncontended acquire",
  name: "p-throttle",
  ops: ACQUIRES,
  fn: async () => {
    const call = pThrottle({ limit: 1e9, interval: 1_000 })(() => {});
    for (let i = 0; i < ACQUIRES; i++) await call();
  },
});

bench({
  group: "uncontended acquire",
  name: "hand-written GCRA",
  ops: ACQUIRES,
  fn: async () => {
    const limiter = new HandGcra(roomy.limit, roomy.period);
    for (let i = 0; i < ACQUIRES; i++) await limiter.acquire();
  },
});

// ---------------------------------------------------------------- contended acquire

/** Queues WAITERS acquires at once and waits until all have passed. */
async function contended(start: () => Promise<unknown>[]): Promise<void> {
  let granted = 0;
  await Promise.all(start().map((p) => p.then(() => granted++)));
  if (granted !== WAITERS) throw new Error(`granted ${granted} of ${WAITERS}`);
}

bench({
  group: "contended acquire (1,000 waiters)",
  name: "RateLimiter",
  baseline: true,
  ops: WAITERS,
  fn: () =>
    contended(() => {
      const limiter = new RateLimiter({ limit: RATE, period: 1 });
      limiter.tryAcquire(RATE);
      return Array.from({ length: WAITERS }, () => limiter.acquire());
    }),
});

bench({
  group: "contended acquire (1,000 waiters)",
  name: "limiter (removeTokens)",
  ops: WAITERS,
  fn: () =>
    contended(() => {
      const limiter = new TokenBucketLimiter({ tokensPerInterval: RATE, interval: 1 });
      limiter.tryRemoveTokens(RATE);
      return Array.from({ length: WAITERS }, () => limiter.removeTokens(1));
    }),
});

bench({
  group: "contended acquire (1,000 waiters)",
  name: "bottleneck (minTime)",
  ops: WAITERS,
  n: 5,
  warmup: 1,
  fn: () =>
    contended(() => {
      const limiter = new Bottleneck({ minTime: 1 / RATE });
      const job = () => Promise.resolve();
      return Array.from({ length: WAITERS }, () => limiter.schedule(job));
    }),
});

bench({
  group: "contended acquire (1,000 waiters)",
  name: "p-throttle",
  ops: WAITERS,
  fn: () =>
    contended(() => {
      const call = pThrottle({ limit: RATE, interval: 1 })(() => {});
      return Array.from({ length: WAITERS }, () => call() as unknown as Promise<void>);
    }),
});

bench({
  group: "contended acquire (1,000 waiters)",
  name: "hand-written GCRA",
  ops: WAITERS,
  fn: () =>
    contended(() => {
      const limiter = new HandGcra(RATE, 1);
      for (let i = 0; i < RATE; i++) limiter.tryAcquire();
      return Array.from({ length: WAITERS }, () => limiter.acquire());
    }),
});

if (import.meta.main) await runInterleaved(Number(Deno.args[0] ?? 10));
