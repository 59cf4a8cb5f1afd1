// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * A small tour: deadlines, a task group fanning out under a FIFO-fair limiter,
 * and alcall with retries against a flaky function.
 *
 * Run: `deno task demo` (or `deno run examples/demo.ts`).
 */

import {
  alcall,
  CapacityLimiter,
  currentTime,
  effectiveDeadline,
  ExceptionGroup,
  failAfter,
  moveOnAfter,
  sleep,
  taskGroup,
  TimeoutError,
} from "../mod.ts";

const t0 = currentTime();
const at = (): string => `${String(Math.round(currentTime() - t0)).padStart(4)} ms`;

// 1. A deadline: the body honours it without passing a signal by hand.
try {
  await failAfter(100, async () => {
    console.log(
      `${at()}  inside failAfter(100): ${Math.round(effectiveDeadline() - currentTime())} ms left`,
    );
    await sleep(1_000);
  });
} catch (err) {
  console.log(`${at()}  failAfter -> ${err instanceof TimeoutError ? "TimeoutError" : err}`);
}

// 2. moveOnAfter gives up quietly.
const late = await moveOnAfter(50, async () => {
  await sleep(500);
  return "never";
});
console.log(`${at()}  moveOnAfter(50) -> ${late}`);

// 3. A task group under a limiter of 3 "connections": FIFO, never more than 3.
const limiter = new CapacityLimiter(3);
let peak = 0;
await taskGroup((tg) => {
  for (let i = 0; i < 9; i++) {
    tg.startSoon(async () => {
      using _conn = await limiter.acquire();
      peak = Math.max(peak, limiter.borrowedTokens);
      await sleep(20);
    });
  }
});
console.log(`${at()}  9 tasks through CapacityLimiter(3): peak ${peak} at once`);

// 4. The first failure in a group cancels its siblings; errors come back together.
try {
  await taskGroup((tg) => {
    tg.startSoon(async () => {
      await sleep(10);
      throw new Error("upstream 503");
    });
    tg.startSoon(async () => {
      try {
        await sleep(10_000);
      } finally {
        console.log(`${at()}  sibling cancelled, its finally ran`);
      }
    });
  });
} catch (err) {
  if (err instanceof ExceptionGroup) {
    console.log(`${at()}  taskGroup -> ${String(err)}: ${err.exceptions.map(String).join("; ")}`);
  }
}

// 5. alcall: 20 flaky calls, 5 at a time, 2 retries, failures kept in place.
let calls = 0;
const results = await alcall(
  Array.from({ length: 20 }, (_, i) => i),
  async (n, ctx) => {
    calls++;
    await sleep(5, { signal: ctx.signal });
    if ((n + ctx.attempt) % 4 === 0) throw new Error(`item ${n} failed on attempt ${ctx.attempt}`);
    return n * n;
  },
  { maxConcurrent: 5, retryAttempts: 2, retryInitialDelay: 5, returnExceptions: true },
);
const ok = results.filter((r) => !(r instanceof Error)).length;
console.log(`${at()}  alcall: ${ok}/20 succeeded with ${calls - 20} retries`);
