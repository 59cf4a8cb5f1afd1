// Copyright 2026 the @lionpride/core authors. MIT license.
// DistributedLimiter's lease accounting against a small reference model (a
// count of free slots and a FIFO list of waiters), over random sequences of
// acquire, tryAcquire, release and cancel on a real (in-memory) Deno KV.

import assert from "node:assert/strict";
import fc from "fast-check";
import { DistributedLimiter, type DistributedPermit, kvStore } from "../distributed/mod.ts";

type Op =
  | { kind: "acquire" }
  | { kind: "acquireThenTry" }
  | { kind: "tryAcquire" }
  | { kind: "release"; pick: number }
  | { kind: "cancel"; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: "acquire" as const }),
  fc.constant({ kind: "acquireThenTry" as const }),
  fc.constant({ kind: "tryAcquire" as const }),
  fc.nat(7).map((pick) => ({ kind: "release" as const, pick })),
  fc.nat(7).map((pick) => ({ kind: "cancel" as const, pick })),
);

interface Waiting {
  index: number;
  controller: AbortController;
  outcome: { permit?: DistributedPermit; error?: unknown };
}

/** Polls until `done()` holds (a real store needs a round or two), or fails. */
async function eventually(done: () => boolean, what: () => string): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(done(), what());
}

/** One random sequence against the model. */
async function check(kv: Deno.Kv, name: string, limit: number, ops: Op[]): Promise<void> {
  const limiter = new DistributedLimiter(kvStore(kv), name, { limit, pollInterval: 5 });
  const held: DistributedPermit[] = [];
  let waiting: Waiting[] = [];
  const grantOrder: number[] = [];
  let next = 0;
  const settleModel = () => {
    for (const w of waiting) if (w.outcome.permit !== undefined) held.push(w.outcome.permit);
    waiting = waiting.filter((w) =>
      w.outcome.permit === undefined && w.outcome.error === undefined
    );
  };
  // Model: while slots are free, waiters are granted (in arrival order).
  const expectSettled = () =>
    eventually(() => {
      settleModel();
      return held.length === Math.min(limit, held.length + waiting.length);
    }, () => `limit ${limit}: ${held.length} held, ${waiting.length} waiting`);
  for (const o of ops) {
    if (o.kind === "acquire" || o.kind === "acquireThenTry") {
      const w: Waiting = { index: next++, controller: new AbortController(), outcome: {} };
      limiter.acquire({ signal: w.controller.signal }).then(
        (permit) => {
          w.outcome.permit = permit;
          grantOrder.push(w.index);
        },
        (error) => (w.outcome.error = error),
      );
      waiting.push(w);
      if (o.kind === "acquireThenTry") {
        // The waiter has not been served yet, even if a slot is free.
        assert.equal(await limiter.tryAcquire(), undefined, "tryAcquire jumped a waiter");
      }
    } else if (o.kind === "tryAcquire") {
      settleModel();
      const permit = await limiter.tryAcquire();
      if (permit !== undefined) held.push(permit);
    } else if (o.kind === "release" && held.length > 0) {
      await held.splice(o.pick % held.length, 1)[0].release();
    } else if (o.kind === "cancel" && waiting.length > 0) {
      waiting[o.pick % waiting.length].controller.abort(new Error("cancelled"));
    }
    await expectSettled();
    assert.ok(held.length <= limit, `${held.length} held, limit ${limit}`);
  }
  assert.deepEqual(grantOrder, [...grantOrder].sort((a, b) => a - b), "grants in arrival order");
  for (const w of waiting) w.controller.abort(new Error("end"));
  await eventually(() => (settleModel(), waiting.length === 0), () => "waiters left");
  await Promise.all(held.map((p) => p.release()));
  assert.equal((await limiter.statistics()).held, 0, "no lease left in the store");
}

Deno.test("lease accounting matches a FIFO model over random acquire/tryAcquire/release/cancel", async () => {
  const kv = await Deno.openKv(":memory:");
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(op, { maxLength: 12 }),
        (limit, ops) => check(kv, `p${run++}`, limit, ops),
      ),
      { numRuns: 100 },
    );
  } finally {
    kv.close();
  }
});
