// Copyright 2026 the @lionpride/core authors. MIT license.
// DistributedLimiter within one process, on a real Deno KV and a real Redis.

import assert from "node:assert/strict";
import { CancelScope, currentTime, failAfter, moveOnAfter, sleep, TimeoutError } from "../mod.ts";
import type { GcraRequest, LeaseOutcome, LeaseRound } from "../distributed/_store.ts";
import { StoreBackend } from "../distributed/_store.ts";
import {
  DistributedLimiter,
  type DistributedPermit,
  type DistributedStore,
  kvStore,
  LeaseLostError,
  redisStore,
} from "../distributed/mod.ts";
import {
  engines,
  FaultyKv,
  redisAvailable,
  testOnEngines,
  withKvFile,
  withMemoryKv,
  withRedis,
} from "./_distributed.ts";

const test = testOnEngines;

/** Registers `fn` once per Redis engine (their global ticket queue has no KV counterpart). */
function testOnRedis(name: string, fn: (store: DistributedStore) => Promise<void>): void {
  for (const engine of engines.filter((e) => e.name.startsWith("Redis"))) {
    Deno.test({
      name: `${engine.name}: ${name}`,
      ignore: engine.ignore,
      fn: () => engine.with(fn),
    });
  }
}

test("never more than limit leases are held, and waiters are served in arrival order", async (store) => {
  const limiter = new DistributedLimiter(store, "fifo", { limit: 2, pollInterval: 10 });
  let running = 0, peak = 0;
  const order: number[] = [];
  await Promise.all(Array.from({ length: 8 }, (_, i) =>
    limiter.use(async () => {
      order.push(i);
      peak = Math.max(peak, ++running);
      await sleep(5);
      running--;
    })));
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(await limiter.statistics(), { limit: 2, held: 0, waiting: 0 });
});

test("tryAcquire takes a free slot but never one a waiter is queued for", async (store) => {
  const limiter = new DistributedLimiter(store, "try", { limit: 1, pollInterval: 10 });
  const first = await limiter.tryAcquire();
  assert.ok(first);
  assert.equal(await limiter.tryAcquire(), undefined);
  const waiting = limiter.acquire();
  await first.release();
  assert.equal(await limiter.tryAcquire(), undefined);
  const second = await waiting;
  await second.release();
});

test("release is idempotent, never rejects, and the signal does not abort on release", async (store) => {
  const limiter = new DistributedLimiter(store, "rel", { limit: 1 });
  const permit = await limiter.acquire();
  await Promise.all([permit.release(), permit.release()]);
  await permit.release();
  assert.equal(permit.signal.aborted, false);
  assert.equal((await limiter.statistics()).held, 0);
});

test("setLimit applies to every limiter of the name and statistics reads it back", async (store) => {
  const a = new DistributedLimiter(store, "lim", { limit: 1 });
  const b = new DistributedLimiter(store, "lim", { limit: 9 });
  assert.equal((await b.statistics()).limit, 9);
  await a.setLimit(3);
  assert.equal((await b.statistics()).limit, 3);
  const permits = [await a.acquire(), await b.acquire(), await b.acquire()];
  assert.equal(await b.tryAcquire(), undefined);
  assert.deepEqual(await a.statistics(), { limit: 3, held: 3, waiting: 0 });
  await Promise.all(permits.map((p) => p.release()));
});

test("a cancelled wait leaves the queue and takes no lease", async (store) => {
  const limiter = new DistributedLimiter(store, "cancel", { limit: 1, pollInterval: 10 });
  const held = await limiter.acquire();
  const controller = new AbortController();
  const waiting = limiter.acquire({ signal: controller.signal });
  await sleep(30);
  controller.abort(new Error("changed my mind"));
  await assert.rejects(waiting, /changed my mind/);
  await held.release();
  const next = await limiter.acquire();
  assert.equal((await limiter.statistics()).held, 1);
  await next.release();
});

test("a waiter past its deadline rejects with TimeoutError", async (store) => {
  const limiter = new DistributedLimiter(store, "deadline", { limit: 1, pollInterval: 10 });
  const held = await limiter.acquire();
  await assert.rejects(failAfter(60, () => limiter.acquire()), TimeoutError);
  await held.release();
});

test(
  "a lease found gone at renewal aborts the signal and use rejects with LeaseLostError",
  async (store, wipe) => {
    const limiter = new DistributedLimiter(store, "lost", {
      limit: 1,
      leaseTtl: 300,
      heartbeat: 50,
    });
    const outcome = limiter.use(async (signal) => {
      await wipe();
      await sleep(5_000, { signal });
    });
    await assert.rejects(outcome, LeaseLostError);
  },
);

test("a permit whose lease was lost releases as a no-op", async (store, wipe) => {
  const limiter = new DistributedLimiter(store, "lost2", {
    limit: 1,
    leaseTtl: 300,
    heartbeat: 50,
  });
  const permit = await limiter.acquire();
  await wipe();
  await new Promise((resolve) => permit.signal.addEventListener("abort", resolve));
  assert.ok(permit.signal.reason instanceof LeaseLostError);
  await permit.release();
});

Deno.test("Deno KV: a holder that cannot reach the store learns it before its lease expires", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    const limiter = new DistributedLimiter(kvStore(faulty.asKv), "unreachable", {
      limit: 1,
      leaseTtl: 400,
      heartbeat: 100,
    });
    const other = new DistributedLimiter(kvStore(kv), "unreachable", { limit: 1, pollInterval: 5 });
    const permit = await limiter.acquire();
    faulty.down = true;
    let abortedAt = Infinity;
    permit.signal.addEventListener("abort", () => (abortedAt = performance.now()));
    const next = await other.acquire();
    const grantedAt = performance.now();
    assert.ok(permit.signal.reason instanceof LeaseLostError);
    assert.ok(abortedAt < grantedAt, `aborted at ${abortedAt}, granted elsewhere at ${grantedAt}`);
    await next.release();
    faulty.down = false;
    await permit.release();
  });
});

Deno.test("Deno KV: a grant whose commit reply was lost is settled by its lease id, not granted twice", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    const limiter = new DistributedLimiter(kvStore(faulty.asKv), "unknown", { limit: 2 });
    faulty.loseCommitReplies = true;
    const permit = await limiter.acquire();
    assert.equal(faulty.loseCommitReplies, false, "the fault fired");
    assert.equal((await limiter.statistics()).held, 1);
    await permit.release();
    assert.equal((await limiter.statistics()).held, 0);
  });
});

Deno.test("Deno KV: a tryAcquire whose commit reply was lost rejects and leaves no lease behind", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    const limiter = new DistributedLimiter(kvStore(faulty.asKv), "unknown-try", { limit: 2 });
    faulty.loseCommitReplies = true;
    await assert.rejects(limiter.tryAcquire(), /connection reset/);
    const permit = await limiter.acquire(); // its round also drops the orphan
    assert.equal((await limiter.statistics()).held, 1);
    await permit.release();
  });
});

Deno.test("Deno KV: a failing store is retried until the deadline, which rejects with its error", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    faulty.down = true;
    const limiter = new DistributedLimiter(kvStore(faulty.asKv), "down", { limit: 1 });
    const started = performance.now();
    await assert.rejects(failAfter(300, () => limiter.acquire()), /kv unreachable/);
    assert.ok(performance.now() - started < 400);
    assert.ok(faulty.calls >= 3, `${faulty.calls} calls`);
    await assert.rejects(limiter.tryAcquire(), /kv unreachable/);
    faulty.down = false;
    const permit = await limiter.acquire();
    await permit.release();
  });
});

Deno.test("Deno KV: without a deadline a failing store is retried until it is back", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    faulty.down = true;
    const limiter = new DistributedLimiter(kvStore(faulty.asKv), "back", { limit: 1 });
    const waiting = limiter.acquire();
    await sleep(1_500);
    faulty.down = false;
    const permit = await waiting;
    assert.ok(faulty.calls >= 4 && faulty.calls < 20, `${faulty.calls} calls in 1.5 s`);
    await permit.release();
  });
});

Deno.test("a scope cancelling use's wait rejects with the scope's cancellation", async () => {
  await withKvFile(async (kv) => {
    const limiter = new DistributedLimiter(kvStore(kv), "scope", { limit: 1 });
    const held = await limiter.acquire();
    const scope = new CancelScope();
    const run = scope.run(() => limiter.use(() => "never"));
    await sleep(20);
    scope.cancel();
    assert.equal(await run, undefined);
    await held.release();
  });
});

Deno.test("bad arguments throw errors that name the parameter and the value", async () => {
  await withMemoryKv(async (kv) => {
    const store = kvStore(kv);
    const make = (name: unknown, options: unknown) => () =>
      new DistributedLimiter(store, name as string, options as { limit: number });
    assert.throws(make("a", { limit: 0 }), { name: "RangeError", message: /'limit'.*received 0/ });
    assert.throws(make("a", { limit: 1.5 }), /'limit'.*received 1\.5/);
    assert.throws(make("a", { limit: "5" }), { name: "TypeError", message: /'limit'/ });
    assert.throws(make("a", { limit: 1, leaseTtl: 1_000, heartbeat: 600 }), {
      name: "RangeError",
      message: /'heartbeat'.*leaseTtl \/ 2 \(500\).*received 600/,
    });
    assert.throws(make("a", { limit: 1, heartbeat: 0 }), /'heartbeat'/);
    assert.throws(make("a", { limit: 1, leaseTtl: Infinity }), /'leaseTtl'/);
    assert.throws(make("a b/c", { limit: 1 }), { name: "RangeError", message: /'name'.*"a b\/c"/ });
    assert.throws(make("", { limit: 1 }), /'name'/);
    assert.throws(make(7, { limit: 1 }), { name: "TypeError", message: /'name'/ });
    assert.throws(() => new DistributedLimiter({} as never, "a", { limit: 1 }), {
      name: "TypeError",
      message: /'store' must come from kvStore\(\) or redisStore\(\)/,
    });
    assert.throws(() => redisStore({ get: () => {} } as never), {
      name: "TypeError",
      message: /'client' must have call\(command, \.\.\.args\) \(ioredis\) or sendCommand\(args\)/,
    });
    assert.throws(() => kvStore({} as never), {
      name: "TypeError",
      message: /'kv' must be a Deno\.Kv/,
    });
    const limiter = new DistributedLimiter(store, "a", { limit: 1 });
    await assert.rejects(limiter.setLimit(0), RangeError);
    await assert.rejects(limiter.acquire({ signal: "no" } as never), /'signal'/);
    await assert.rejects(limiter.use("run" as never), {
      name: "TypeError",
      message: /Cannot use DistributedLimiter: 'fn' must be a function, received string "run"/,
    });
  });
});

Deno.test("a pollInterval whose jittered gap could outlast a waiter's queue ticket is rejected", async () => {
  await withKvFile((kv) => {
    const store = kvStore(kv);
    const make = (options: { leaseTtl?: number; pollInterval?: number }) => () =>
      new DistributedLimiter(store, "poll", { limit: 1, ...options });
    // Polls come up to 1.5 x pollInterval apart; a ticket lives leaseTtl.
    assert.throws(make({ leaseTtl: 300, pollInterval: 101 }), {
      name: "RangeError",
      message:
        /^Cannot create DistributedLimiter: 'pollInterval' must be .*<= leaseTtl \/ 3 \(100 with leaseTtl 300\).*received 101$/,
    });
    assert.throws(make({ pollInterval: 20_000 }), /'pollInterval'.*leaseTtl 30000.*received 20000/);
    assert.throws(make({ pollInterval: 0 }), /'pollInterval'.*received 0/);
    make({ leaseTtl: 300, pollInterval: 100 })();
    // The default (50 ms on KV) shrinks to fit a short lease rather than throw.
    make({ leaseTtl: 90 })();
    return Promise.resolve();
  });
});

Deno.test("Deno KV: a limit above what one KV value can hold is rejected up front", async () => {
  await withKvFile(async (kv) => {
    const store = kvStore(kv);
    assert.throws(() => new DistributedLimiter(store, "huge", { limit: 1_001 }), {
      name: "RangeError",
      message:
        /^Cannot create DistributedLimiter: 'limit' must be a positive integer <= 1000 on Deno KV .*received 1001$/,
    });
    const limiter = new DistributedLimiter(store, "huge", { limit: 2 });
    await assert.rejects(limiter.setLimit(5_000), {
      name: "RangeError",
      message: /^Cannot set DistributedLimiter limit: 'limit' must be .*<= 1000 .*received 5000$/,
    });
    assert.equal((await limiter.statistics()).limit, 2, "nothing was stored");
  });
});

Deno.test("Deno KV: the largest limit it accepts fits in the store, every lease held at once", async () => {
  await withKvFile(async (kv) => {
    const limiter = new DistributedLimiter(kvStore(kv), "full", { limit: 1_000 });
    // One poller round asks for all of them: the value holds 1,000 leases at once.
    const permits = await Promise.all(Array.from({ length: 1_000 }, () => limiter.acquire()));
    assert.equal((await limiter.statistics()).held, 1_000);
    await Promise.all(permits.map((p) => p.release()));
    assert.equal((await limiter.statistics()).held, 0);
  });
});

testOnRedis("a limit far above the KV bound is accepted", async (store) => {
  const limiter = new DistributedLimiter(store, "large", { limit: 100_000 });
  await limiter.setLimit(1_000_000);
  assert.equal((await limiter.statistics()).limit, 1_000_000);
});

/**
 * Separate limiters stand for separate processes, each with its own poller:
 * one holds the only slot, then a process polling every `slowPoll` ms queues
 * a waiter, and 30 ms later one polling every 5 ms does. Only the global
 * ticket order can make the slow one win.
 */
async function slowFirstFastSecond(store: DistributedStore, slowPoll: number, leaseTtl?: number) {
  const make = (pollInterval: number) =>
    new DistributedLimiter(store, `order-${slowPoll}`, { limit: 1, leaseTtl, pollInterval });
  const held = await make(5).acquire();
  const order: string[] = [];
  const first = make(slowPoll).acquire().then((p) => (order.push("first"), p));
  await sleep(30);
  const second = make(5).acquire().then((p) => (order.push("second"), p));
  return { held, order, first, second, other: make(5) };
}

testOnRedis("waiters in different processes are served in arrival order", async (store) => {
  const { held, order, first, second, other } = await slowFirstFastSecond(store, 300);
  await sleep(30);
  await held.release();
  // The freed slot belongs to the oldest ticket: nobody else may take it.
  assert.equal(await other.tryAcquire(), undefined);
  const p1 = await first;
  assert.deepEqual(order, ["first"]);
  await p1.release();
  await (await second).release();
  assert.deepEqual(order, ["first", "second"]);
});

testOnRedis(
  "a waiter polling at the slowest allowed interval keeps its place for many ticket lifetimes",
  async (store) => {
    // Tickets live 300 ms from the last poll; the slow process polls every
    // 100 ms (jittered up to 150), the largest pollInterval allowed. Past
    // that (400 ms here) the slow waiter's ticket expired between polls and
    // the later waiter took the slot first.
    const { held, order, first, second } = await slowFirstFastSecond(store, 100, 300);
    await sleep(1_000);
    await held.release();
    const winner = await Promise.race([first, second]);
    await winner.release();
    await (await (order[0] === "first" ? second : first)).release();
    assert.deepEqual(order, ["first", "second"]);
  },
);

/**
 * A store whose next lease-round reply is lost after the round has run (an
 * unknown outcome), and which is then unreachable until `up()`; `other` is
 * the same store seen by a healthy process.
 */
interface LossyStore {
  holder: DistributedStore;
  other: DistributedStore;
  /** Loses the next reply; resolves when it was lost. */
  loseNextReply(): Promise<void>;
  up(): void;
}

const lossyEngines: Array<{
  name: string;
  ignore: boolean;
  with(fn: (s: LossyStore) => Promise<void>): Promise<void>;
}> = [
  {
    name: "Deno KV",
    ignore: false,
    with: (fn) =>
      withKvFile(async (kv) => {
        let lost = () => {};
        const faulty = new FaultyKv(kv);
        const atomic = faulty.atomic.bind(faulty);
        faulty.atomic = () => {
          const op = atomic();
          const commit = op.commit.bind(op);
          op.commit = () =>
            commit().catch((err) => {
              faulty.down = true;
              lost();
              throw err;
            });
          return op;
        };
        await fn({
          holder: kvStore(faulty.asKv),
          other: kvStore(kv),
          loseNextReply: () => {
            faulty.loseCommitReplies = true;
            return new Promise((resolve) => (lost = resolve));
          },
          up: () => (faulty.down = false),
        });
      }),
  },
  {
    name: "Redis",
    ignore: !redisAvailable,
    with: (fn) =>
      withRedis(async (client) => {
        let down = false, lose: (() => void) | undefined;
        const lossy = {
          call(command: string, ...args: string[]): Promise<unknown> {
            if (down) return Promise.reject(new Error("redis unreachable (test fault)"));
            return client.call(command, ...args).then((reply) => {
              if (lose === undefined || !command.startsWith("EVAL")) return reply;
              down = true;
              lose();
              lose = undefined;
              throw new Error("connection reset after the script ran (test fault)");
            });
          },
        };
        await fn({
          holder: redisStore(lossy),
          other: redisStore(client),
          loseNextReply: () => new Promise((resolve) => (lose = resolve)),
          up: () => (down = false),
        });
      }),
  },
];

for (const engine of lossyEngines) {
  Deno.test({
    name:
      `${engine.name}: a grant settled by lease id after a long outage still aborts before it can expire elsewhere`,
    ignore: engine.ignore,
    fn: () =>
      engine.with(async ({ holder, other, loseNextReply, up }) => {
        const ttl = 2_000;
        const options = { limit: 1, leaseTtl: ttl, heartbeat: 400, pollInterval: 5 };
        const holding = new DistributedLimiter(holder, "settled", options);
        const waiting = new DistributedLimiter(other, "settled", options);
        // The grant lands in the store (lease until ttl from now), its reply is
        // lost, and the store stays away for most of the lease: the next round
        // finds the lease granted, with far less than ttl left of it.
        const lost = loseNextReply();
        const acquired = holding.acquire();
        await lost;
        const lostAt = performance.now();
        await sleep(ttl - 200);
        up();
        await holding.setLimit(1); // polls the store now, not after the backoff
        const permit = await acquired;
        let released = false;
        const next = waiting.acquire().then((p) => ({
          p,
          holderKnew: permit.signal.aborted || released,
        }));
        // Past the first lease's expiry, and past the holder's first renewal.
        await sleep(Math.max(0, lostAt + ttl + 400 - performance.now()));
        released = true;
        await permit.release();
        const { p, holderKnew } = await next;
        await p.release();
        assert.ok(holderKnew, "the slot went elsewhere while the holder still thought it held it");
      }),
  });
}

Deno.test("Deno KV: waiters arriving while the store fails do not cut its backoff short", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    faulty.down = true;
    const limiter = new DistributedLimiter(kvStore(faulty.asKv), "storm", { limit: 1 });
    const controller = new AbortController();
    const waiters: Promise<unknown>[] = [];
    // 100 arrivals in 500 ms: the backoff (25 ms doubling, jittered down to
    // half) allows about 6 attempts in that time, not one per arrival.
    for (let i = 0; i < 100; i++) {
      waiters.push(limiter.acquire({ signal: controller.signal }).catch((e) => e));
      await sleep(5);
    }
    const calls = faulty.calls;
    controller.abort(new Error("done"));
    await Promise.all(waiters);
    assert.ok(calls <= 12, `${calls} store calls in 500 ms`);
    faulty.down = false;
    const permit = await limiter.acquire(); // drains what the aborted waiters left behind
    await permit.release();
  });
});

/** A store whose lease rounds each take `delay` ms more, so a test can act while one is in flight. */
class SlowRounds extends StoreBackend {
  readonly engine: "deno-kv" | "redis";
  readonly #inner: StoreBackend;
  constructor(store: DistributedStore, readonly delay: number) {
    super();
    this.#inner = store as StoreBackend;
    this.engine = this.#inner.engine;
  }
  async leaseRound(name: string, round: LeaseRound): Promise<LeaseOutcome> {
    await sleep(this.delay);
    return this.#inner.leaseRound(name, round);
  }
  leaseStats(name: string, defaultLimit: number) {
    return this.#inner.leaseStats(name, defaultLimit);
  }
  setLimit(name: string, limit: number) {
    return this.#inner.setLimit(name, limit);
  }
  gcra(name: string, request: GcraRequest) {
    return this.#inner.gcra(name, request);
  }
  breakerRead(name: string) {
    return this.#inner.breakerRead(name);
  }
  breakerWrite(name: string, ms: number) {
    return this.#inner.breakerWrite(name, ms);
  }
}

test("a waiter arriving while a round is in flight is asked for in the next round, not a poll later", async (inner) => {
  // Polls 1-3 s apart: only the arrival itself can make the second waiter
  // be asked for soon.
  const store = new SlowRounds(inner, 50);
  const limiter = new DistributedLimiter(store, "arrive", { limit: 2, pollInterval: 2_000 });
  const first = limiter.acquire();
  await sleep(20); // the round asking for the first is in flight
  const started = performance.now();
  const second = await limiter.acquire();
  const took = performance.now() - started;
  await Promise.all([(await first).release(), second.release()]);
  assert.ok(took < 500, `the second of two free slots took ${Math.round(took)} ms`);
});

test("a slot released while a round is in flight goes to a local waiter in the next round", async (inner) => {
  const store = new SlowRounds(inner, 50);
  const limiter = new DistributedLimiter(store, "handover", { limit: 1, pollInterval: 2_000 });
  const held = await limiter.acquire();
  const waiting = limiter.acquire();
  await sleep(20); // the round asking for the waiter is in flight
  const started = performance.now();
  await held.release();
  const next = await waiting;
  const took = performance.now() - started;
  await next.release();
  assert.ok(took < 500, `a local waiter got the released slot ${Math.round(took)} ms later`);
});

Deno.test("Deno KV: a wait whose deadline was moved later is not ended at the old one while the store fails", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    faulty.down = true;
    const limiter = new DistributedLimiter(kvStore(faulty.asKv), "extended", { limit: 1 });
    const scope = new CancelScope({ deadline: currentTime() + 300 });
    const waiting = scope.run(() => limiter.acquire()).catch((err: unknown) => err);
    await sleep(50);
    scope.deadline = currentTime() + 5_000;
    await sleep(550); // well past the first deadline
    faulty.down = false;
    const permit = await waiting;
    assert.ok(!(permit instanceof Error), `the wait ended with ${permit}`);
    await (permit as DistributedPermit).release();
  });
});

test("use keeps its lease until fn settles, even when a deadline ends the call before fn does", async (store) => {
  const limiter = new DistributedLimiter(store, "overrun", { limit: 1, pollInterval: 5 });
  let running = 0, peak = 0;
  // Work that ignores its signal: a deadline cannot stop it, only stop waiting for it.
  const stubborn = async () => {
    peak = Math.max(peak, ++running);
    await new Promise((resolve) => setTimeout(resolve, 200));
    running--;
  };
  const first = moveOnAfter(30, () => limiter.use(stubborn));
  assert.equal(await first, undefined, "the deadline ended the call");
  await limiter.use(stubborn);
  assert.equal(peak, 1, "a second fn ran beside one still running under the limit of 1");
});

Deno.test("Deno KV: a wait whose deadline was moved earlier ends at the new one with the store's error while the store fails", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    faulty.down = true;
    const limiter = new DistributedLimiter(kvStore(faulty.asKv), "brought-forward", { limit: 1 });
    const scope = new CancelScope({ deadline: currentTime() + 5_000 });
    const started = currentTime();
    const waiting = scope.run(() => limiter.acquire()).catch((err: unknown) => err);
    await sleep(300); // past the first retries: the next comes some 150-300 ms later
    scope.deadline = currentTime() + 50;
    const outcome = await waiting;
    assert.ok(currentTime() - started < 1_000, "the wait ended at the new deadline");
    assert.match(String(outcome), /kv unreachable/, "the wait ended without the store's error");
    faulty.down = false;
    await (await limiter.acquire()).release();
  });
});
