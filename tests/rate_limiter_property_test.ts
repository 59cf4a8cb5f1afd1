// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Property test of `RateLimiter` on fake time: random interleavings of
 * weighted acquires, tryAcquires, cancellations anywhere in the queue (by
 * signal or by the caller's scope) and clock ticks, run step by step against
 * a reference model written another way (a token bucket refilled millisecond
 * by millisecond, with a FIFO queue). After every step the grants must match
 * the model's (who, in what order, at what time), a cancelled waiter must
 * reject and take no cost, and no window may see more than
 * `burst + t / interval` cost pass.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { CancelScope, currentTime, RateLimiter } from "../mod.ts";
import { type FakeClock, withFakeTime } from "./_fake_time.ts";
import { flush } from "./_helpers.ts";

type Op =
  | { type: "acquire"; cost: number; kind: "signal" | "scope" }
  | { type: "tryAcquire"; cost: number }
  | { type: "cancel"; pick: number }
  | { type: "tick"; ms: number };

const costArbitrary = fc.constantFrom(0.5, 1, 1, 1.5, 2, 3);
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant("acquire" as const),
      cost: costArbitrary,
      kind: fc.constantFrom("signal" as const, "scope" as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant("tryAcquire" as const), cost: costArbitrary }),
  },
  { weight: 3, arbitrary: fc.record({ type: fc.constant("cancel" as const), pick: fc.nat(6) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant("tick" as const),
      ms: fc.integer({ min: 0, max: 25 }),
    }),
  },
);

/**
 * A token bucket with a FIFO queue, refilled one millisecond at a time. Tokens
 * are counted in units of 1 / (2 * interval) so that every sum is an exact
 * integer (costs are multiples of 0.5).
 */
class Model {
  units: number;
  now = 0;
  capacity: number;
  readonly queue: Array<{ id: number; cost: number }> = [];
  readonly grants: Array<{ id: number; cost: number; at: number }> = [];

  constructor(burst: number, readonly interval: number) {
    this.capacity = this.units = burst * 2 * interval;
  }

  grantDue(): void {
    while (this.queue.length > 0 && this.queue[0].cost * 2 * this.interval <= this.units) {
      const { id, cost } = this.queue.shift()!;
      this.units -= cost * 2 * this.interval;
      this.grants.push({ id, cost, at: this.now });
    }
  }

  tick(ms: number): void {
    for (let i = 0; i < ms; i++) {
      this.now++;
      this.units = Math.min(this.capacity, this.units + 2);
      this.grantDue();
    }
  }

  /** How long a new call of `cost` would wait behind the queue, by simulation. */
  retryAfter(cost: number): number {
    const copy = new Model(0, this.interval);
    copy.units = this.units;
    copy.capacity = this.capacity;
    copy.queue.push(...this.queue, { id: -1, cost });
    copy.grantDue();
    let ms = 0;
    while (copy.queue.length > 0) {
      copy.tick(1);
      ms++;
    }
    return ms;
  }

  tryAcquire(id: number, cost: number): boolean {
    if (this.queue.length > 0 || cost * 2 * this.interval > this.units) return false;
    this.units -= cost * 2 * this.interval;
    this.grants.push({ id, cost, at: this.now });
    return true;
  }
}

interface Actor {
  id: number;
  state: "waiting" | "granted" | "rejected";
  cancel: () => void;
}

async function runScenario(
  clock: FakeClock,
  burst: number,
  interval: number,
  ops: Op[],
): Promise<void> {
  const limiter = new RateLimiter({ limit: 10, period: 10 * interval, burst });
  const model = new Model(burst, interval);
  model.now = currentTime();
  const actors: Actor[] = [];
  const granted: Array<{ id: number; cost: number; at: number }> = [];
  let nextId = 0;
  for (const op of ops) {
    if (op.type === "acquire") {
      if (op.cost > burst) continue;
      const actor: Actor = { id: nextId++, state: "waiting", cancel: () => {} };
      // Both kinds record the grant one promise hop after it, so the order
      // they record is the order of the grants.
      const onGrant = (): void => {
        actor.state = "granted";
        granted.push({ id: actor.id, cost: op.cost, at: currentTime() });
      };
      const onReject = (): void => {
        actor.state = "rejected";
      };
      if (op.kind === "signal") {
        const controller = new AbortController();
        actor.cancel = () => controller.abort();
        limiter.acquire({ cost: op.cost, signal: controller.signal }).then(onGrant, onReject);
      } else {
        const scope = new CancelScope();
        actor.cancel = () => scope.cancel();
        scope.run(async () => {
          await limiter.acquire({ cost: op.cost });
          onGrant();
        }).then(() => {
          if (actor.state === "waiting") onReject();
        });
      }
      actors.push(actor);
      model.queue.push({ id: actor.id, cost: op.cost });
    } else if (op.type === "tryAcquire") {
      if (op.cost > burst) continue;
      const id = nextId++;
      const ok = limiter.tryAcquire(op.cost);
      assert.equal(ok, model.tryAcquire(id, op.cost), `tryAcquire(${op.cost}) at ${model.now}`);
      if (ok) granted.push({ id, cost: op.cost, at: currentTime() });
    } else if (op.type === "cancel") {
      const waiting = model.queue;
      if (waiting.length === 0) continue;
      const victim = waiting[op.pick % waiting.length];
      waiting.splice(op.pick % waiting.length, 1);
      actors.find((a) => a.id === victim.id)!.cancel();
    } else {
      await clock.tickAsync(op.ms);
      model.tick(op.ms);
    }
    await flush();
    model.grantDue();
    await flush();
    assert.deepEqual(granted, model.grants);
    const modelWaiting = new Set(model.queue.map((w) => w.id));
    for (const actor of actors) {
      if (modelWaiting.has(actor.id)) assert.equal(actor.state, "waiting", `actor ${actor.id}`);
    }
    assert.equal(limiter.waiting, model.queue.length);
    assert.equal(limiter.retryAfter(1), model.retryAfter(1), "retryAfter(1)");
  }
  // Drain: everyone still waiting is granted in order, and every cancelled
  // actor rejected.
  await clock.tickAsync(100 * interval * burst);
  model.tick(100 * interval * burst);
  await flush();
  assert.deepEqual(granted, model.grants);
  const grantedIds = new Set(granted.map((g) => g.id));
  for (const actor of actors) {
    assert.equal(actor.state, grantedIds.has(actor.id) ? "granted" : "rejected");
  }
  assertRateBound(granted, burst, interval);
}

/** Over any window [a, b], at most burst + (b - a) / interval cost passed. */
function assertRateBound(
  grants: Array<{ cost: number; at: number }>,
  burst: number,
  interval: number,
): void {
  for (let i = 0; i < grants.length; i++) {
    let sum = 0;
    for (let j = i; j < grants.length; j++) {
      sum += grants[j].cost;
      const window = grants[j].at - grants[i].at;
      assert.ok(sum <= burst + window / interval + 1e-9, `window ${window} ms passed ${sum}`);
    }
  }
}

Deno.test("weighted FIFO waiters, cancelled anywhere in the queue, match a token-bucket model (1,000 runs)", async () => {
  await withFakeTime(async (clock) => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(3, 4, 5),
        fc.constantFrom(2, 4, 10),
        fc.array(opArbitrary, { minLength: 1, maxLength: 40 }),
        async (burst, interval, ops) => {
          await runScenario(clock, burst, interval, ops);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
