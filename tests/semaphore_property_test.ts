// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Property test of a bounded `Semaphore`: random interleavings of acquire
 * (plain or cancellable), permit release, bare release and aborts, some of
 * them in the same tick as a hand-off, checked against the accounting of a
 * bounded semaphore: the value never passes `maxValue`, no unit is lost or
 * made up, and no waiter waits while a unit is free.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Permit, Semaphore } from "../mod.ts";
import { flush } from "./_helpers.ts";

type Op =
  | { type: "acquire"; cancellable: boolean }
  | { type: "releasePermit"; pick: number }
  | { type: "release" }
  | { type: "abort"; pick: number }
  | { type: "releaseAbortRelease"; pick: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant("acquire" as const), cancellable: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constant("releasePermit" as const), pick: fc.nat(9) }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("release" as const) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("abort" as const), pick: fc.nat(4) }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant("releaseAbortRelease" as const), pick: fc.nat(4) }),
  },
);

interface Waiting {
  controller: AbortController | undefined;
  outcome: "waiting" | "held" | "rejected";
  permit: Permit | undefined;
}

/** Runs `ops` on a semaphore and checks the invariants after every step. */
async function run(initial: number, maxValue: number, ops: Op[]): Promise<void> {
  const sem = new Semaphore(initial, { maxValue });
  const calls: Waiting[] = [];
  // Units in the system: free, or held by a permit not yet released.
  let units = initial;
  const tryRelease = (release: () => void): void => {
    try {
      release();
      units++;
    } catch (err) {
      assert.ok(err instanceof RangeError, String(err));
    }
  };
  const abort = (pick: number): void => {
    const cancellable = calls.filter((c) => c.outcome === "waiting" && c.controller);
    cancellable[pick % Math.max(1, cancellable.length)]?.controller?.abort();
  };
  for (const op of ops) {
    switch (op.type) {
      case "acquire": {
        const controller = op.cancellable ? new AbortController() : undefined;
        const call: Waiting = { controller, outcome: "waiting", permit: undefined };
        calls.push(call);
        sem.acquire({ signal: controller?.signal }).then(
          (permit) => {
            call.outcome = "held";
            call.permit = permit;
          },
          () => (call.outcome = "rejected"),
        );
        break;
      }
      case "releasePermit": {
        const holders = calls.filter((c) => c.outcome === "held" && c.permit);
        const holder = holders[op.pick % Math.max(1, holders.length)];
        if (holder === undefined) break;
        const permit = holder.permit!;
        holder.permit = undefined;
        units--; // the holder gives its unit up; the release puts it back, or is refused
        tryRelease(() => permit.release());
        break;
      }
      case "release":
        tryRelease(() => sem.release());
        break;
      case "abort":
        abort(op.pick);
        break;
      case "releaseAbortRelease":
        // The interleaving: a hand-off, an abort before the waiter
        // resumes, and another release in the same tick.
        tryRelease(() => sem.release());
        abort(op.pick);
        tryRelease(() => sem.release());
        break;
    }
    await flush();
    const held = calls.filter((c) => c.outcome === "held" && c.permit).length;
    const waiting = calls.filter((c) => c.outcome === "waiting").length;
    assert.ok(sem.value <= maxValue, `value ${sem.value} > maxValue ${maxValue}`);
    assert.equal(sem.value + held, units, "a unit was lost or made up");
    assert.equal(sem.statistics().tasksWaiting, waiting);
    assert.ok(waiting === 0 || sem.value === 0, "a waiter waits while a unit is free");
  }
}

Deno.test("a bounded Semaphore never passes maxValue and conserves its units under random aborts", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 2 }),
      fc.array(opArbitrary, { maxLength: 40 }),
      (initial, extra, ops) => run(initial, initial + extra, ops),
    ),
    { numRuns: 400 },
  );
});
