// Copyright 2026 the @lionpride/core authors. MIT license.
// DistributedRateLimiter's deadline check on a store that takes its time to
// answer, on a virtual clock (Deno KV reads the fake Date.now()).

import assert from "node:assert/strict";
import { CancelScope, failAfter, RateLimitError, TimeoutError } from "../mod.ts";
import { DistributedRateLimiter, kvStore } from "../distributed/mod.ts";
import { FaultyKv, withMemoryKv } from "./_distributed.ts";
import { type FakeClock, withFakeTime } from "./_fake_time.ts";

/** The real setTimeout, for letting the real store answer while the clock is fake. */
const realSetTimeout = globalThis.setTimeout;

/**
 * A Deno.Kv whose next read or commit takes `slowRead` / `slowCommit` ms of
 * the fake clock; `answered` resolves once it has (the real store answers on
 * its own time, which the test must wait for before it moves the clock on).
 */
class SlowKv {
  slowRead = 0;
  slowCommit = 0;
  #answered = Promise.withResolvers<void>();
  get answered(): Promise<void> {
    return this.#answered.promise;
  }
  constructor(readonly kv: Deno.Kv, readonly clock: FakeClock) {}
  get asKv(): Deno.Kv {
    return this as unknown as Deno.Kv;
  }
  getMany(keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<unknown>[]> {
    return this.kv.getMany(keys);
  }
  async get(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<unknown>> {
    const entry = await this.kv.get(key);
    if (this.slowRead > 0) {
      this.clock.tick(this.slowRead);
      this.slowRead = 0;
      this.#answered.resolve();
    }
    return entry;
  }
  atomic(): Deno.AtomicOperation {
    const op = this.kv.atomic();
    const commit = op.commit.bind(op);
    op.commit = async () => {
      const result = await commit();
      if (this.slowCommit > 0) {
        this.clock.tick(this.slowCommit);
        this.slowCommit = 0;
        this.#answered.resolve();
      }
      return result;
    };
    return op;
  }
}

/** 10 per second (a unit every 100 ms) over the slow KV, with `burst`. */
function tenPerSecond(slow: SlowKv, name: string, burst: number): DistributedRateLimiter {
  return new DistributedRateLimiter(kvStore(slow.asKv), name, { limit: 10, period: 1_000, burst });
}

async function withSlowKv(fn: (slow: SlowKv, clock: FakeClock) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await withFakeTime((clock) => fn(new SlowKv(kv, clock), clock));
  } finally {
    kv.close();
  }
}

Deno.test("Deno KV: a slot past the deadline is refused though the store's read took time", async () => {
  await withSlowKv(async (slow, clock) => {
    // 100 ms per unit, burst 2, both units taken at 0: a cost of 2 is due at 200.
    const limiter = tenPerSecond(slow, "slow-read", 2);
    assert.equal((await limiter.tryAcquire(2)).ok, true);
    slow.slowRead = 80; // the decision reads the clock at 80, not at 0
    const outcome = failAfter(150, () => limiter.acquire({ cost: 2 })).catch((e) => e);
    await slow.answered;
    await clock.tickAsync(300);
    const err = await outcome;
    assert.ok(err instanceof RateLimitError, `due at 200, deadline at 150: ${err}`);
    // Nothing reserved: at 300, the one unit due at 300 fits now.
    assert.deepEqual(await limiter.tryAcquire(), { ok: true, retryAfter: 0 });
  });
});

Deno.test("Deno KV: a slot before the deadline is not slept past it because the commit took time", async () => {
  await withSlowKv(async (slow, clock) => {
    const limiter = tenPerSecond(slow, "slow-commit", 2);
    assert.equal((await limiter.tryAcquire(2)).ok, true);
    slow.slowCommit = 80; // decided at 0 (due at 100), answered at 80
    let admittedAt = NaN;
    const outcome = failAfter(150, async () => {
      await limiter.acquire();
      admittedAt = Date.now();
    }).catch((e) => e);
    await slow.answered;
    await clock.tickAsync(300);
    const err = await outcome;
    assert.ok(!(err instanceof TimeoutError), `due at 100, deadline at 150: ${err}`);
    assert.equal(admittedAt, 100);
  });
});

Deno.test("Deno KV: an acquire whose deadline was moved later is judged on the new one after store errors", async () => {
  await withMemoryKv(async (kv) => {
    await withFakeTime(async (clock) => {
      const faulty = new FaultyKv(kv);
      const limiter = new DistributedRateLimiter(kvStore(faulty.asKv), "moved", {
        limit: 10,
        period: 1_000,
        burst: 3,
      });
      assert.equal((await limiter.tryAcquire(3)).ok, true); // the next unit is due at 100
      faulty.down = true;
      const scope = new CancelScope({ deadline: 50 });
      let admittedAt = NaN;
      const outcome = scope.run(async () => {
        await limiter.acquire();
        admittedAt = Date.now();
      }).catch((e) => e);
      await clock.tickAsync(10);
      scope.deadline = 1_000;
      await clock.tickAsync(50);
      faulty.down = false; // the retry after ~75 ms finds the store back
      while (Number.isNaN(admittedAt) && Date.now() < 500) {
        await clock.tickAsync(5);
        await new Promise((r) => realSetTimeout(r, 1));
      }
      assert.equal(await outcome, undefined);
      assert.equal(admittedAt, 100);
    });
  });
});

Deno.test("Deno KV: a slot due exactly at the deadline is refused at once and reserves nothing", async () => {
  await withSlowKv(async (slow, clock) => {
    const limiter = tenPerSecond(slow, "at-deadline", 1);
    assert.equal((await limiter.tryAcquire()).ok, true); // the next unit is due at 100
    const outcome = failAfter(100, () => limiter.acquire()).catch((e) => e);
    slow.slowRead = 1; // read at 1: due 99 ms later, as the deadline is
    await slow.answered;
    await clock.tickAsync(100);
    const err = await outcome;
    assert.ok(err instanceof RateLimitError, `due at 100, deadline at 100: ${err}`);
    assert.equal(err.retryAfter, 99);
    assert.deepEqual(await limiter.tryAcquire(), { ok: true, retryAfter: 0 });
  });
});
