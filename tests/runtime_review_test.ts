// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of API.md §12 (and the timer rules of §1) where runtimes differ:
// these run on Deno, Node 22/24 and Bun alike (.ci/xrt).
import assert from "node:assert/strict";
import { DistributedLimiter, redisStore } from "../distributed/mod.ts";
import { MAX_TIMER_DELAY } from "../concurrency/clock.ts";
import { redisAvailable, withRedis } from "./_distributed.ts";

const DAY = 86_400_000;

/**
 * Runs `fn` while the global `setTimeout` notes every delay it is given.
 * Deno, Node and Bun all run a timer whose delay exceeds 2^31 - 1 after
 * 1 ms, so the module must never ask for one (API.md §1: longer waits are
 * split).
 */
async function recordingDelays(fn: () => Promise<void>): Promise<number[]> {
  const real = globalThis.setTimeout;
  const delays: number[] = [];
  globalThis.setTimeout = ((cb: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    return real(cb, ms);
  }) as typeof setTimeout;
  try {
    await fn();
  } finally {
    globalThis.setTimeout = real;
  }
  return delays;
}

for (const days of [30, 90]) {
  Deno.test({
    name: `a lease with a ${days}-day leaseTtl is neither lost at once nor polled in a 1 ms loop`,
    ignore: !redisAvailable,
    fn: () =>
      withRedis(async (client) => {
        const limiter = new DistributedLimiter(redisStore(client), "long-ttl", {
          limit: 1,
          leaseTtl: days * DAY,
        });
        let aborted = "";
        const delays = await recordingDelays(async () => {
          const permit = await limiter.acquire();
          try {
            await new Promise((resolve) => setTimeout(resolve, 30));
            if (permit.signal.aborted) aborted = String(permit.signal.reason);
          } finally {
            await permit.release();
          }
        });
        assert.equal(aborted, "", "the lease was not lost");
        const tooLong = delays.filter((ms) => ms > MAX_TIMER_DELAY);
        assert.deepEqual(tooLong, [], "no timer asked for more than 2^31 - 1 ms");
      }),
  });
}
