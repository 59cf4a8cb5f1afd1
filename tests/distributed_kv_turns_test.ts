// Copyright 2026 the @lionpride/core authors. MIT license.
// Turns between processes on Deno KV, which keeps no global queue: a process
// that frees a slot re-grants it to its own waiters in the same commit, so
// without turns a busy process kept every slot while another waited for ever.
// Two limiters on one KV stand in for two processes (each has its own poller).
import assert from "node:assert/strict";
import { failAfter } from "../mod.ts";
import { DistributedLimiter, kvStore } from "../distributed/mod.ts";

const OPTIONS = { limit: 2, leaseTtl: 600, pollInterval: 10 };

/** Keeps every slot of `limiter` busy from `callers` loops until `stop` aborts. */
function keepBusy(limiter: DistributedLimiter, callers: number, stop: AbortSignal) {
  return Promise.all(Array.from({ length: callers }, async () => {
    while (!stop.aborted) {
      await limiter.use(() => new Promise((r) => setTimeout(r, 2)));
    }
  }));
}

Deno.test("Deno KV: a process waiting behind a busy one gets a slot within a few polls", async () => {
  const kv = await Deno.openKv(":memory:");
  const stop = new AbortController();
  try {
    const store = kvStore(kv);
    const busy = new DistributedLimiter(store, "turns", OPTIONS);
    const other = new DistributedLimiter(store, "turns", OPTIONS);
    const running = keepBusy(busy, 4, stop.signal);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((await other.statistics()).held, 2, "the busy process holds both slots");
    const started = performance.now();
    const permit = await failAfter(3_000, () => other.acquire());
    const waited = performance.now() - started;
    await permit.release();
    stop.abort();
    await running;
    // It yields once this waiter is 4 polls older than its own (40 ms), and
    // this one takes the slot at its next poll; a loaded machine adds stalls.
    assert.ok(waited < 1_500, `waited ${waited} ms`);
  } finally {
    stop.abort();
    kv.close();
  }
});

Deno.test("Deno KV: tryAcquire takes no slot while another process waits", async () => {
  const kv = await Deno.openKv(":memory:");
  const stop = new AbortController();
  try {
    const store = kvStore(kv);
    const holder = new DistributedLimiter(store, "try", { ...OPTIONS, limit: 1 });
    const waiter = new DistributedLimiter(store, "try", { ...OPTIONS, limit: 1 });
    const latecomer = new DistributedLimiter(store, "try", { ...OPTIONS, limit: 1 });
    const held = await holder.acquire();
    const waiting = waiter.acquire();
    await new Promise((r) => setTimeout(r, 30)); // the waiter has polled: it is known to wait
    await held.release();
    assert.equal(await latecomer.tryAcquire(), undefined, "the slot is the waiter's");
    const permit = await failAfter(3_000, () => waiting);
    await permit.release();
  } finally {
    stop.abort();
    kv.close();
  }
});
