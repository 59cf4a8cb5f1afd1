// Copyright 2026 the @lionpride/core authors. MIT license.
// Faults on a real redis-server: a holder cut off from Redis, and Redis
// stopped mid-run and restarted.

import assert from "node:assert/strict";
import { failAfter, isCancelled, sleep, TimeoutError } from "../mod.ts";
import { DistributedLimiter, LeaseLostError, redisStore } from "../distributed/mod.ts";
import { closeClient, readyClient, redisAvailable, TcpProxy, withRedis } from "./_distributed.ts";
import { peakOverlap, type WorkerEvent } from "./_distributed_children.ts";

Deno.test({
  name:
    "Redis: a holder cut off from Redis learns of the loss before the slot is granted elsewhere",
  ignore: !redisAvailable,
  fn: () =>
    withRedis(async (client, server) => {
      const proxy = await TcpProxy.open(server.port);
      const cutOff = await readyClient(proxy.port);
      try {
        const options = { limit: 1, leaseTtl: 600, heartbeat: 150, pollInterval: 5 };
        const holder = new DistributedLimiter(redisStore(cutOff), "cut", options);
        const other = new DistributedLimiter(redisStore(client), "cut", options);
        const permit = await holder.acquire();
        let abortedAt = Infinity;
        permit.signal.addEventListener("abort", () => (abortedAt = performance.now()));
        await proxy.cut();
        const cutAt = performance.now();
        const next = await other.acquire();
        const grantedAt = performance.now();
        assert.ok(permit.signal.reason instanceof LeaseLostError);
        assert.ok(permit.signal.reason.cause instanceof Error, "the cause is the store's error");
        assert.ok(
          abortedAt < grantedAt,
          `aborted ${abortedAt - cutAt} ms after the cut, granted at ${grantedAt - cutAt}`,
        );
        assert.ok(
          grantedAt - cutAt >= 450,
          `granted elsewhere ${grantedAt - cutAt} ms after the cut`,
        );
        await next.release();
        await permit.release();
      } finally {
        await closeClient(cutOff);
        await proxy.close();
      }
    }),
});

Deno.test({
  name:
    "Redis stopped mid-run: acquire fails with the store error by its deadline, nothing over-admits, work resumes after the restart",
  ignore: !redisAvailable,
  fn: () =>
    withRedis(async (client, server) => {
      const limiter = new DistributedLimiter(redisStore(client), "restart", {
        limit: 3,
        leaseTtl: 600,
        heartbeat: 150,
        pollInterval: 10,
      });
      const events: WorkerEvent[] = [];
      const now = () => performance.now();
      let running = true;
      const holders = Array.from({ length: 8 }, async () => {
        while (running) {
          try {
            await failAfter(300, () =>
              limiter.use(async (signal) => {
                events.push({ worker: 0, grant: now() });
                try {
                  await sleep(5 + Math.random() * 15, { signal });
                } finally {
                  events.push({ worker: 0, release: now() });
                }
              }));
          } catch {
            await sleep(20);
          }
        }
      });
      await sleep(300);
      // A long holder (as if in another process: its own limiter) spans the
      // outage: it must stop before Redis comes back empty.
      const longLimiter = new DistributedLimiter(redisStore(client), "restart", {
        limit: 3,
        leaseTtl: 600,
        heartbeat: 150,
      });
      const long = longLimiter.use(async (signal) => {
        events.push({ worker: 1, grant: now() });
        try {
          await sleep(5_000, { signal });
        } finally {
          events.push({ worker: 1, release: now() });
        }
      });
      const longOutcome = long.then(() => "finished", (e) => e);
      await sleep(200);
      await server.stop();
      const stoppedAt = now();
      const started = now();
      const err = await failAfter(300, () => limiter.acquire()).catch((e) => e);
      const took = now() - started;
      assert.ok(
        err instanceof Error && !(err instanceof TimeoutError) && !isCancelled(err),
        String(err),
      );
      assert.ok(took < 450, `rejected after ${took} ms with a 300 ms deadline`);
      await sleep(Math.max(0, 800 - (now() - stoppedAt))); // past every lease's expiry
      await server.start();
      const restartedAt = now();
      await sleep(700);
      running = false;
      await Promise.all(holders);
      assert.ok(await longOutcome instanceof LeaseLostError);
      const after = events.filter((e) => "grant" in e && e.grant > restartedAt).length;
      assert.ok(after > 0, "work resumed after the restart");
      assert.ok(peakOverlap(events) <= 3, `peak ${peakOverlap(events)}`);
    }),
});
