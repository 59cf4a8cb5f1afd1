// Copyright 2026 the @lionpride/core authors. MIT license.
// DistributedRateLimiter's rate bound, exactly, on a virtual clock: random
// acquires and tryAcquires with fractional costs on a real (in-memory) Deno
// KV, which reads the fake Date.now(). No acquire may pass before its slot,
// and no window of the admissions may see more than burst + t / interval cost
// pass, give or take the 1 ms a timer rounds a slot up to (the process tests
// can only check that with a slack for loaded machines).

import assert from "node:assert/strict";
import fc from "fast-check";
import { DistributedRateLimiter, kvStore } from "../distributed/mod.ts";
import type { FakeClock } from "./_fake_time.ts";
import { kvPropertyOnFakeClock } from "./_kv_property.ts";

const realSetTimeout = globalThis.setTimeout;

/** A Deno.Kv that counts its calls in flight, so the test can wait for the real store. */
class CountingKv {
  inFlight = 0;
  constructor(readonly kv: Deno.Kv) {}
  get asKv(): Deno.Kv {
    return this as unknown as Deno.Kv;
  }
  #count<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    return p.finally(() => this.inFlight--);
  }
  getMany(keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<unknown>[]> {
    return this.#count(this.kv.getMany(keys));
  }
  get(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<unknown>> {
    return this.#count(this.kv.get(key));
  }
  atomic(): Deno.AtomicOperation {
    const op = this.kv.atomic();
    const commit = op.commit.bind(op);
    op.commit = () => this.#count(commit());
    return op;
  }
}

/** Lets the real store answer everything asked (the fake clock stands still meanwhile). */
async function settle(kv: CountingKv): Promise<void> {
  for (let quiet = 0; quiet < 3;) {
    await new Promise((r) => realSetTimeout(r, 0));
    quiet = kv.inFlight === 0 ? quiet + 1 : 0;
  }
}

interface Op {
  kind: "acquire" | "try";
  /** Fraction of burst. */
  share: number;
  /** Ms after the previous op. */
  gap: number;
}

/** The worst excess of cost passed over `burst + (t + slack) / interval`, over every window. */
function worstCostExcess(
  passed: Array<{ at: number; cost: number }>,
  burst: number,
  interval: number,
  slack: number,
): number {
  const p = [...passed].sort((x, y) => x.at - y.at);
  let worst = -Infinity;
  for (let i = 0; i < p.length; i++) {
    let sum = 0;
    for (let j = i; j < p.length; j++) {
      sum += p[j].cost;
      worst = Math.max(worst, sum - (burst + (p[j].at - p[i].at + slack) / interval));
    }
  }
  return worst;
}

async function scenario(
  kv: CountingKv,
  clock: FakeClock,
  name: string,
  rate: { limit: number; period: number; burst: number },
  ops: Op[],
): Promise<void> {
  const limiter = new DistributedRateLimiter(kvStore(kv.asKv), name, rate);
  const interval = rate.period / rate.limit, tolerance = rate.burst * interval;
  const passed: Array<{ at: number; cost: number }> = [];
  const waiting: Promise<void>[] = [];
  // The schedule as the decisions made it (they are made one at a time here):
  // each acquire must pass at or after its slot.
  let arrival = -Infinity;
  const early: string[] = [];
  for (const op of ops) {
    for (let left = op.gap; left > 0; left--) {
      await clock.tickAsync(1);
      await settle(kv);
    }
    const cost = Math.max(op.share * rate.burst, 1e-3);
    const now = Date.now(), after = Math.max(arrival - now, 0) + cost * interval;
    if (op.kind === "acquire") {
      const slot = now + after - tolerance;
      arrival = now + after;
      waiting.push(
        limiter.acquire({ cost }).then(() => {
          if (Date.now() < slot - 1e-6) early.push(`cost ${cost} due at ${slot}, at ${Date.now()}`);
          passed.push({ at: Date.now(), cost });
        }),
      );
      await settle(kv);
    } else {
      const promise = limiter.tryAcquire(cost);
      await settle(kv);
      if ((await promise).ok) {
        passed.push({ at: now, cost });
        arrival = now + after;
      }
    }
  }
  let done = false;
  const all = Promise.all(waiting).then(() => done = true);
  while (!done) {
    await clock.tickAsync(1);
    await settle(kv);
  }
  await all;
  assert.deepEqual(early, [], `${JSON.stringify(rate)}: passed before their slots`);
  // A pass lies within 1 ms after its slot (timers fire on whole ms), so a
  // window of passes [a, b] holds slots from (a - 1, b]; and KV lets a
  // decision pass up to 1e-3 ms early for float rounding.
  const excess = worstCostExcess(passed, rate.burst, interval, 1);
  assert.ok(
    excess <= 1e-3 / interval + 1e-9,
    `${JSON.stringify(rate)}: a window passed ${excess} over burst + (t + 1) / interval`,
  );
}

Deno.test("Deno KV: no window passes more than burst + t / interval, fractional costs, one clock", async () => {
  await kvPropertyOnFakeClock(
    25,
    "r",
    fc.tuple(
      fc.record({
        limit: fc.integer({ min: 1, max: 7 }),
        period: fc.integer({ min: 5, max: 40 }),
        burst: fc.oneof(fc.constant(1), fc.double({ min: 1, max: 4, noNaN: true })),
      }),
      fc.array(
        fc.record({
          kind: fc.constantFrom("acquire" as const, "try" as const),
          share: fc.double({ min: 0, max: 1, noNaN: true }),
          gap: fc.nat(6),
        }),
        { minLength: 1, maxLength: 14 },
      ),
    ),
    (clock, kv, name, [rate, ops]) => scenario(new CountingKv(kv), clock, name, rate, ops),
  );
});
