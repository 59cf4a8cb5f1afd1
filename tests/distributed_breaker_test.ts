// Copyright 2026 the @lionpride/core authors. MIT license.
// CircuitBreaker's `shared` option: two breakers on one store stand for two
// processes (each has its own SharedBreaker and counts on its own).

import assert from "node:assert/strict";
import { CircuitBreaker, CircuitOpenError, currentTime, failAfter, sleep } from "../mod.ts";
import { pendingDeadlines } from "../concurrency/clock.ts";
import {
  DistributedLimiter,
  type DistributedStore,
  kvStore,
  redisStore,
} from "../distributed/mod.ts";
import type { StoreBackend } from "../distributed/_store.ts";
import { FaultyKv, testOnEngines, withKvFile } from "./_distributed.ts";

const fail = () => Promise.reject(new Error("upstream down"));
const ok = () => "fine";

/**
 * The syncInterval of the tests on healthy stores. It also bounds how long a
 * call waits for the store, so it leaves room for round trips slowed by a
 * loaded machine.
 */
const SYNC = 50;

function pair(store: DistributedStore, resetTimeout = 300) {
  const options = {
    failureThreshold: 2,
    resetTimeout,
    shared: { store, name: "upstream", syncInterval: SYNC },
  };
  return [new CircuitBreaker(options), new CircuitBreaker(options)];
}

const test = testOnEngines;

test("when one process opens the breaker, the other fails fast within syncInterval", async (store) => {
  // A long resetTimeout, and a lower bound on retryAfter measured rather
  // than assumed, so a process stalled for hundreds of ms on a loaded machine
  // neither half-opens the breaker nor falls below a fixed margin.
  const resetTimeout = 5_000;
  const [a, b] = pair(store, resetTimeout);
  assert.equal(await b.call(ok), "fine");
  await assert.rejects(a.call(fail), /upstream down/);
  const openedAfter = currentTime();
  await assert.rejects(a.call(fail), /upstream down/);
  assert.equal(a.state, "open");
  await sleep(SYNC + 10);
  let called = false;
  const err = await b.call(() => (called = true)).catch((e) => e);
  const elapsed = currentTime() - openedAfter;
  assert.ok(err instanceof CircuitOpenError, String(err));
  assert.equal(called, false);
  const atLeast = resetTimeout - Math.ceil(elapsed) - 2; // Date.now() is whole ms
  assert.ok(
    err.retryAfter >= atLeast && err.retryAfter <= resetTimeout,
    `retryAfter ${err.retryAfter}, expected in [${atLeast}, ${resetTimeout}]`,
  );
});

// The tests below need a few steps to happen within resetTimeout; 400 ms
// leaves room for a process stalled by a loaded machine (a probe that has not
// settled within resetTimeout loses its slot, so a 100 ms one was flaky).
const STALL_ROOM = 400;

test("half-open probes are limited across processes, and a probe's success closes it for all", async (store) => {
  const [a, b] = pair(store, STALL_ROOM);
  for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
  await sleep(STALL_ROOM + 30);
  let release!: () => void;
  const probe = a.call(() => new Promise<string>((r) => (release = () => r("recovered"))));
  await sleep(30);
  await assert.rejects(b.call(ok), CircuitOpenError);
  release();
  assert.equal(await probe, "recovered");
  assert.equal(a.state, "closed");
  await sleep(30);
  assert.equal(await b.call(ok), "fine");
  assert.equal(b.state, "closed");
});

test("a failed probe re-opens the breaker for every process", async (store) => {
  const [a, b] = pair(store, STALL_ROOM);
  for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
  await sleep(STALL_ROOM + 30);
  const probedAt = currentTime();
  await assert.rejects(a.call(fail), /upstream down/);
  await sleep(30);
  const err = await b.call(ok).catch((e) => e);
  const atLeast = STALL_ROOM - Math.ceil(currentTime() - probedAt) - 2; // Date.now() is whole ms
  assert.ok(err instanceof CircuitOpenError, String(err));
  assert.ok(err.retryAfter >= atLeast && err.retryAfter <= STALL_ROOM, `${err.retryAfter}`);
});

Deno.test("a failed probe stores the new openUntil before it releases its probe lease", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    const [a] = pair(kvStore(faulty.asKv), 50);
    for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
    await sleep(70);
    faulty.writes.length = 0;
    await assert.rejects(a.call(fail), /upstream down/);
    // takeProbe (atomic), then the new openUntil (set), then the release (atomic).
    assert.deepEqual(faulty.writes, ["atomic", "set lionpride/upstream/open-until", "atomic"]);
  });
});

Deno.test("a breaker whose store is unreachable decides on its own", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    faulty.down = true;
    const [a] = pair(kvStore(faulty.asKv), STALL_ROOM);
    for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
    assert.equal(a.state, "open");
    await sleep(STALL_ROOM + 20);
    assert.equal(await a.call(ok), "fine");
    assert.equal(a.state, "closed");
  });
});

Deno.test("a bad shared option names the parameter", () => {
  assert.throws(() => new CircuitBreaker({ shared: { store: {} as never, name: "x" } }), /'store'/);
  assert.throws(
    () =>
      new CircuitBreaker({
        shared: { store: kvStore({ getMany() {}, atomic() {} } as never), name: "a b" },
      }),
    /'name'/,
  );
  assert.throws(
    () =>
      new CircuitBreaker({
        shared: {
          store: kvStore({ getMany() {}, atomic() {} } as never),
          name: "a",
          syncInterval: 0,
        },
      }),
    /'syncInterval'/,
  );
});

test("a process that last read the store before a probe failed elsewhere does not probe again", async (store) => {
  // A long syncInterval: b's view of the store is as of its first call. A
  // resetTimeout of 1 s: b's call must come before the re-opened breaker
  // half-opens again.
  const resetTimeout = 1_000;
  const options = {
    failureThreshold: 2,
    resetTimeout,
    shared: { store, name: "upstream", syncInterval: 60_000 },
  };
  const [a, b] = [new CircuitBreaker(options), new CircuitBreaker(options)];
  for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
  await assert.rejects(b.call(ok), CircuitOpenError); // b adopts a's open state
  await sleep(resetTimeout + 30); // both half-open
  const probedAt = currentTime();
  await assert.rejects(a.call(fail), /upstream down/); // re-opened for all, then the lease is free
  let called = false;
  const err = await b.call(() => (called = true)).catch((e) => e);
  assert.equal(called, false, "b probed an upstream whose probe had just failed");
  assert.ok(err instanceof CircuitOpenError, String(err));
  const atLeast = resetTimeout - Math.ceil(currentTime() - probedAt) - 2; // Date.now() is whole ms
  assert.ok(err.retryAfter >= atLeast && err.retryAfter <= resetTimeout, `${err.retryAfter}`);
  assert.equal(b.state, "open");
});

Deno.test("a breaker whose open state could not be stored is not closed by the store's silence", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    const [a] = pair(kvStore(faulty.asKv), 5_000);
    assert.equal(await a.call(ok), "fine");
    faulty.down = true; // the store is away when the breaker opens
    for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
    assert.equal(a.state, "open");
    faulty.down = false;
    await sleep(SYNC + 10); // the next call reads a store that never heard of it
    let called = false;
    const err = await a.call(() => (called = true)).catch((e) => e);
    assert.equal(called, false, "closed without a probe's success");
    assert.ok(err instanceof CircuitOpenError, String(err));
    assert.equal(a.state, "open");
    // That call stored it: another process now fails fast too.
    const [b] = pair(kvStore(kv), 5_000);
    await assert.rejects(b.call(ok), CircuitOpenError);
  });
});

// A store that never answers (a black-holed network under a client with no
// command timeout) must not hang the breaker: what it waits on is bounded by
// syncInterval, after which it decides on its own as with a store error.
const SILENT_SYNC = 10;

function silentBreaker(options: { failureThreshold: number; resetTimeout: number }) {
  const store = redisStore({ call: () => new Promise<never>(() => {}) });
  return new CircuitBreaker({
    ...options,
    shared: { store, name: "upstream", syncInterval: SILENT_SYNC },
  });
}

/** `fn`'s value and how long it took; a hang fails the test instead of wedging it. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = currentTime();
  const value = await failAfter(1_000, fn);
  return [value, currentTime() - started];
}

Deno.test("a closed breaker whose store never answers calls the upstream within about syncInterval", async () => {
  const a = silentBreaker({ failureThreshold: 2, resetTimeout: 60_000 });
  const [value, elapsed] = await timed(() => a.call(ok));
  assert.equal(value, "fine");
  assert.ok(elapsed < 20 * SILENT_SYNC, `took ${elapsed} ms`);
  assert.equal(pendingDeadlines(), 0, "a store-wait timer outlived the call");
});

Deno.test("a breaker whose store never answers, once open here, fails fast", async () => {
  const a = silentBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
  await timed(() => assert.rejects(a.call(fail), /upstream down/)); // its open state goes unstored
  await sleep(SILENT_SYNC + 2); // due to sync again
  let called = false;
  const [err, elapsed] = await timed(() => a.call(() => (called = true)).catch((e) => e));
  assert.ok(err instanceof CircuitOpenError, String(err));
  assert.equal(called, false);
  assert.ok(elapsed < 20 * SILENT_SYNC, `took ${elapsed} ms`);
  assert.equal(pendingDeadlines(), 0, "a store-wait timer outlived the call");
});

Deno.test("a half-open breaker whose store never answers probes on its own", async () => {
  // The probe's wait for the store counts towards its resetTimeout.
  const a = silentBreaker({ failureThreshold: 1, resetTimeout: 4 * SILENT_SYNC });
  await timed(() => assert.rejects(a.call(fail), /upstream down/));
  await sleep(a.statistics().retryAfter + 1); // half-open
  const [value, elapsed] = await timed(() => a.call(ok));
  assert.equal(value, "fine");
  assert.equal(a.state, "closed");
  assert.ok(elapsed < 40 * SILENT_SYNC, `took ${elapsed} ms`);
  assert.equal(pendingDeadlines(), 0, "a store-wait timer outlived the call");
});

/**
 * A Deno.Kv whose calls of the held kinds wait for `answer()` before they
 * run: a store that answers late (a commit lands only when answered).
 */
class LateKv {
  /** Atomic commits still to hold (each held one counts down). */
  holdCommits = 0;
  /** Whether reads wait. */
  holdReads = false;
  /** Writes (`set`, `delete`) still to hold (each held one counts down). */
  holdWrites = 0;
  /** Writes that have landed. */
  landed = 0;
  readonly #waiting: Array<() => void> = [];
  constructor(readonly kv: Deno.Kv) {}
  /** This, typed as the Deno.Kv it stands in for (kvStore uses only these methods). */
  get asKv(): Deno.Kv {
    return this as unknown as Deno.Kv;
  }
  /** Calls waiting for `answer()`. */
  get waiting(): number {
    return this.#waiting.length;
  }
  /** Lets every held call run. */
  answer(): void {
    for (const go of this.#waiting.splice(0)) go();
  }
  #hold(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  async getMany(keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<unknown>[]> {
    if (this.holdReads) await this.#hold();
    return this.kv.getMany(keys);
  }
  async get(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<unknown>> {
    if (this.holdReads) await this.#hold();
    return this.kv.get(key);
  }
  async #write<T>(write: () => Promise<T>): Promise<T> {
    if (this.holdWrites > 0) {
      this.holdWrites--;
      await this.#hold();
    }
    const result = await write();
    this.landed++;
    return result;
  }
  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }) {
    return this.#write(() => this.kv.set(key, value, options));
  }
  delete(key: Deno.KvKey): Promise<void> {
    return this.#write(() => this.kv.delete(key));
  }
  atomic(): Deno.AtomicOperation {
    const op = this.kv.atomic();
    const commit = op.commit.bind(op);
    op.commit = async () => {
      if (this.holdCommits > 0) {
        this.holdCommits--;
        await this.#hold();
      }
      return commit();
    };
    return op;
  }
}

/** Waits (a little) until `check()` holds; tells whether it did. */
async function eventually(check: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return true;
    await sleep(2);
  }
  return false;
}

/** The breaker "upstream" over `store`, opened by one failure. */
function upstreamBreaker(
  store: DistributedStore,
  resetTimeout: number,
  syncInterval: number,
): CircuitBreaker {
  return new CircuitBreaker({
    failureThreshold: 1,
    resetTimeout,
    shared: { store, name: "upstream", syncInterval },
  });
}

async function withLateKv(fn: (late: LateKv, backend: StoreBackend) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    const late = new LateKv(kv);
    await fn(late, kvStore(late.asKv) as unknown as StoreBackend);
  } finally {
    kv.close();
  }
}

Deno.test("a probe lease the store grants after the breaker stopped waiting is given back", async () => {
  await withLateKv(async (late, store) => {
    // resetTimeout is the probe lease's TTL: a leaked lease would outlive the
    // test; syncInterval is SYNC: its first read must answer in time.
    const a = upstreamBreaker(store, 60_000, SYNC);
    await store.breakerWrite("upstream", 5); // another process opened it, half-open in 5 ms
    await assert.rejects(a.call(ok), CircuitOpenError);
    assert.equal(pendingDeadlines(), 0, "the wait for a read that answered kept its timer");
    await sleep(6);
    late.holdCommits = 1; // the probe lease's grant
    const [value] = await timed(() => a.call(ok)); // probes on its own after syncInterval
    assert.equal(value, "fine");
    assert.equal(late.waiting, 1, "the grant was not held back");
    late.answer(); // the grant lands now
    assert.ok(
      await eventually(async () => (await store.leaseStats("upstream/probe", 1)).held === 0),
      "the late probe lease was kept until its TTL",
    );
  });
});

Deno.test("a shared state the store reads out after the breaker stopped waiting is not adopted", async () => {
  await withLateKv(async (late, store) => {
    const a = upstreamBreaker(store, 60_000, 20);
    late.holdReads = true;
    await store.breakerWrite("upstream", 60_000); // another process opened it...
    const [value] = await timed(() => a.call(ok)); // ...but this one cannot read that in time
    assert.equal(value, "fine");
    late.answer(); // the read comes back, older than this process's own decision
    await sleep(2);
    assert.equal(await a.call(ok), "fine", "a late read was adopted");
    assert.equal(a.state, "closed");
  });
});

Deno.test("a breaker whose open state the store has not acknowledged yet is not closed by a read", async () => {
  await withLateKv(async (late, store) => {
    const a = upstreamBreaker(store, 60_000, 10);
    late.holdWrites = 1;
    await timed(() => assert.rejects(a.call(fail), /upstream down/)); // opens; the store hears later
    await sleep(12); // due to sync; the store still says closed
    let called = false;
    const err = await timed(() => a.call(() => (called = true)).catch((e) => e));
    assert.equal(called, false, "a read older than the write closed the breaker");
    assert.ok(err[0] instanceof CircuitOpenError, String(err[0]));
    late.answer();
    assert.ok(await eventually(() => late.landed > 0));
    assert.equal((await store.breakerRead("upstream")).tripped, true);
  });
});

Deno.test("a breaker's writes reach the store in order, however late the first answers", async () => {
  await withLateKv(async (late, store) => {
    const a = upstreamBreaker(store, 20, 10);
    late.holdWrites = 1;
    await timed(() => assert.rejects(a.call(fail), /upstream down/)); // "open" is held
    await sleep(a.statistics().retryAfter + 1); // half-open
    assert.equal(await timed(() => a.call(ok)).then(([value]) => value), "fine"); // "cleared"
    assert.equal(a.state, "closed");
    late.answer();
    assert.ok(await eventually(() => late.landed === 2), `${late.landed} writes landed`);
    assert.equal(
      (await store.breakerRead("upstream")).tripped,
      false,
      "a late write undid a newer one",
    );
  });
});

test("a DistributedLimiter named like a breaker's probe leases does not share them", async (store) => {
  // The breaker "upstream" keeps its probe leases under an internal name; a
  // limiter may take any valid name, "upstream.probe" included.
  const limiter = new DistributedLimiter(store, "upstream.probe", { limit: 1 });
  const permit = await limiter.acquire();
  try {
    const [a] = pair(store, 20);
    await assert.rejects(a.call(fail), /upstream down/);
    await assert.rejects(a.call(fail), /upstream down/);
    assert.equal(a.state, "open");
    await sleep(a.statistics().retryAfter + 5); // half-open: the next call is the probe
    assert.equal(await a.call(ok), "fine", "the limiter's lease took the probe slot");
    assert.equal(a.state, "closed");
  } finally {
    await permit.release();
  }
});
