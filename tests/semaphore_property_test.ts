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

type PlainOp =
  | { type: "acquire" }
  | { type: "releasePermit"; pick: number }
  | { type: "release"; times: 1 | 2 };

const plainOpArbitrary: fc.Arbitrary<PlainOp> = fc.oneof(
  fc.record({ type: fc.constant("acquire" as const) }),
  fc.record({ type: fc.constant("releasePermit" as const), pick: fc.nat(9) }),
  fc.record({
    type: fc.constant("release" as const),
    times: fc.constantFrom(1 as const, 2 as const),
  }),
);

/**
 * Runs `ops` with every acquire passing a signal (never aborted) or none, and
 * returns what each release did and the state after each step: whether a
 * signal could cancel a waiter must not change what `maxValue` allows.
 */
async function releaseOutcomes(
  initial: number,
  maxValue: number,
  ops: PlainOp[],
  withSignal: boolean,
): Promise<string[]> {
  const sem = new Semaphore(initial, { maxValue });
  const permits: Permit[] = [];
  const outcomes: string[] = [];
  const attempt = (release: () => void): void => {
    try {
      release();
      outcomes.push("ok");
    } catch (err) {
      assert.ok(err instanceof RangeError, String(err));
      outcomes.push("refused");
    }
  };
  for (const op of ops) {
    if (op.type === "acquire") {
      const signal = withSignal ? new AbortController().signal : undefined;
      sem.acquire({ signal }).then((permit) => permits.push(permit));
    } else if (op.type === "releasePermit") {
      const [permit] = permits.splice(op.pick % Math.max(1, permits.length), 1);
      if (permit !== undefined) attempt(() => permit.release());
    } else {
      for (let i = 0; i < op.times; i++) attempt(() => sem.release()); // same tick as a hand-off
    }
    await flush();
    outcomes.push(`value ${sem.value}, waiting ${sem.waiting}, held ${permits.length}`);
  }
  return outcomes;
}

Deno.test("a bounded Semaphore refuses the same releases whether its waiters passed a signal or not", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 2 }),
      fc.array(plainOpArbitrary, { maxLength: 30 }),
      async (initial, extra, ops) => {
        const plain = await releaseOutcomes(initial, initial + extra, ops, false);
        const cancellable = await releaseOutcomes(initial, initial + extra, ops, true);
        assert.deepEqual(plain, cancellable);
      },
    ),
    { numRuns: 300 },
  );
});
