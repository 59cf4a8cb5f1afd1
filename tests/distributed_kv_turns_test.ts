// Copyright 2026 the @lionpride/core authors. MIT license.
// Turns between processes on Deno KV, which keeps no global queue: a process
// that frees a slot re-grants it to its own waiters in the same commit, so
// without turns a busy process kept every slot while another waited for ever.
// Two limiters on one KV stand in for two processes (each has its own poller).
import assert from "node:assert/strict";
import { failAfter } from "../mod.ts";
import { DistributedLimiter, type DistributedPermit, kvStore } from "../distributed/mod.ts";
import fc from "fast-check";
import { advanceByTimers, type FakeClock, withFakeTime } from "./_fake_time.ts";
import { kvLimiterProperty } from "./_kv_property.ts";
import { withMemoryKv } from "./_distributed.ts";

const YIELD_POLLS = 4;

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

// The rest runs on a virtual clock: pools stand in for processes, each on a
// KV wrapper that counts its calls (in flight, and commits that wrote).

const realSetTimeout = globalThis.setTimeout;
const TTL = 2_000, HEARTBEAT = 400, POLL = 20;
const FAKE = { leaseTtl: TTL, heartbeat: HEARTBEAT, pollInterval: POLL };

/** A Deno.Kv that counts its calls in flight and its commits, and can stop answering. */
class CountingKv {
  inFlight = 0;
  commits = 0;
  reads = 0;
  /** Every call hangs (a process that died, or lost the store for good). */
  dead = false;
  readonly #hung: (() => void)[] = [];
  constructor(readonly kv: Deno.Kv) {}
  get asKv(): Deno.Kv {
    return this as unknown as Deno.Kv;
  }
  #count<T>(p: () => Promise<T>): Promise<T> {
    if (this.dead) {
      return new Promise<T>((_, reject) =>
        this.#hung.push(() => reject(new TypeError("kv unreachable (test fault)")))
      );
    }
    this.inFlight++;
    return p().finally(() => this.inFlight--);
  }
  /** Fails the calls a dead process left hanging (so the test ends clean). */
  revive(): void {
    this.dead = false;
    for (const fail of this.#hung.splice(0)) fail();
  }
  getMany(keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<unknown>[]> {
    this.reads++;
    return this.#count(() => this.kv.getMany(keys));
  }
  atomic(): Deno.AtomicOperation {
    const op = this.kv.atomic();
    const commit = op.commit.bind(op);
    op.commit = () =>
      this.#count(async () => {
        const result = await commit();
        if (result.ok) this.commits++;
        return result;
      });
    return op;
  }
}

/** Lets the real store answer everything asked (the fake clock stands still meanwhile). */
async function settle(kvs: CountingKv[]): Promise<void> {
  for (let quiet = 0; quiet < 2;) {
    await new Promise((r) => realSetTimeout(r, 0));
    quiet = kvs.every((kv) => kv.inFlight === 0) ? quiet + 1 : 0;
  }
}

/** Advances the fake clock by `ms`, timer by timer, letting the store answer after each. */
function advance(
  clock: FakeClock,
  ms: number,
  kvs: CountingKv[],
  afterEach?: () => Promise<void> | void,
): Promise<void> {
  return advanceByTimers(clock, ms, () => settle(kvs), afterEach);
}

/** Unexpired leases of `name`, read straight from the store. */
async function storedHeld(kv: Deno.Kv, name: string): Promise<number> {
  const entry = await kv.get<Record<string, number>>(["lionpride", name, "leases"]);
  const now = Date.now();
  return Object.values(entry.value ?? {}).filter((until) => until > now).length;
}

/** Adds an entry to the `waiting` value, as a process the test does not run would. */
async function addWaiting(kv: Deno.Kv, name: string, entry: [number, number, number]) {
  const key = ["lionpride", name, "waiting"];
  for (;;) {
    const current = await kv.get<Record<string, number[]>>(key);
    const waiting = { ...current.value, [crypto.randomUUID()]: entry };
    if ((await kv.atomic().check(current).set(key, waiting).commit()).ok) return;
  }
}

Deno.test("Deno KV: a poll that changes nothing writes nothing, turns or not", async () => {
  await withMemoryKv(async (kv) => {
    await withFakeTime(async (clock) => {
      const a = new CountingKv(kv), b = new CountingKv(kv);
      const kvs = [a, b];
      const holder = new DistributedLimiter(kvStore(a.asKv), "quiet", { ...FAKE, limit: 2 });
      const waiter = new DistributedLimiter(kvStore(b.asKv), "quiet", { ...FAKE, limit: 2 });
      const held = [holder.acquire(), holder.acquire()];
      await settle(kvs);
      const permits = await Promise.all(held);
      // Both processes wait: the holder's own waiter too (it keeps an entry as well).
      const waits = [waiter.acquire(), waiter.acquire(), holder.acquire()].map((w) =>
        w.then((permit) => permit.release())
      );
      await advance(clock, 2 * POLL, kvs); // the arrivals' entries are written
      a.commits =
        b.commits =
        a.reads =
        b.reads =
          0;
      await advance(clock, 1_000, kvs); // ~50 polls per process, 2.5 heartbeats
      // The holder commits its renewals (2 leases per heartbeat, one round),
      // each process refreshes its entry at half its life (TTL / 2), nothing else.
      assert.ok(b.reads >= 40, `waiter: ${b.reads} polls`);
      assert.ok(a.commits <= 3 + 1, `holder: ${a.commits} commits in ${a.reads} reads`);
      assert.ok(b.commits <= 1, `waiter: ${b.commits} commits in ${b.reads} reads`);
      for (const p of permits) await p.release();
      await advance(clock, 3 * POLL * YIELD_POLLS, kvs);
      await advance(clock, 3 * POLL * YIELD_POLLS, kvs);
      await Promise.all(waits);
      await advance(clock, 2 * POLL, kvs);
      assert.deepEqual(await kv.get(["lionpride", "quiet", "waiting"]).then((e) => e.value), null);
      assert.equal(clock.countTimers(), 0, "timers left behind");
    });
  });
});

Deno.test("Deno KV: a process that dies while it waits holds a free slot back for at most leaseTtl", async () => {
  await withMemoryKv(async (kv) => {
    await withFakeTime(async (clock) => {
      const a = new CountingKv(kv), b = new CountingKv(kv);
      const kvs = [a, b];
      const dying = new DistributedLimiter(kvStore(a.asKv), "dead", { ...FAKE, limit: 1 });
      const live = new DistributedLimiter(kvStore(b.asKv), "dead", { ...FAKE, limit: 1 });
      const holding = live.acquire();
      await settle(kvs);
      const held = await holding;
      const controller = new AbortController();
      const orphan = dying.acquire({ signal: controller.signal }).catch((err: unknown) => err);
      await advance(clock, 2 * POLL, kvs); // its entry is in the store
      a.dead = true;
      const diedAt = Date.now();
      await advance(clock, 10 * POLL, kvs); // the live waiter comes well after the dead one
      await held.release();
      let grantedAt = NaN;
      const next = live.acquire().then((permit) => {
        grantedAt = Date.now();
        return permit;
      });
      await advance(clock, TTL / 2 - 12 * POLL, kvs);
      assert.ok(Number.isNaN(grantedAt), "the dead process's entry held no slot back");
      await advance(clock, TTL / 2 + 12 * POLL, kvs);
      assert.ok(grantedAt <= diedAt + TTL + 2 * POLL, `granted ${grantedAt - diedAt} ms after`);
      await (await next).release();
      a.revive();
      controller.abort(new Error("gone"));
      assert.equal(await orphan, controller.signal.reason);
      await advance(clock, 1_100, kvs); // a backoff, and the round that gives its id back
      assert.equal(await storedHeld(kv, "dead"), 0);
      assert.equal(clock.countTimers(), 0, "timers left behind");
    });
  });
});

type TurnOp =
  | { kind: "acquire"; who: number }
  | { kind: "tryAcquire"; who: number }
  | { kind: "release"; pick: number }
  | { kind: "cancel"; pick: number }
  | { kind: "tick"; ms: number }
  | { kind: "ghost"; ago: number; waiters: number };

const PROCESSES = 3;
const who = fc.nat(PROCESSES - 1);
const turnOp: fc.Arbitrary<TurnOp> = fc.oneof(
  { arbitrary: who.map((who) => ({ kind: "acquire" as const, who })), weight: 5 },
  { arbitrary: who.map((who) => ({ kind: "tryAcquire" as const, who })), weight: 1 },
  { arbitrary: fc.nat(7).map((pick) => ({ kind: "release" as const, pick })), weight: 3 },
  { arbitrary: fc.nat(7).map((pick) => ({ kind: "cancel" as const, pick })), weight: 2 },
  {
    arbitrary: fc.integer({ min: 1, max: 300 }).map((ms) => ({ kind: "tick" as const, ms })),
    weight: 4,
  },
  {
    // An entry no live pool keeps: a process that died while it waited, or
    // whose clock is off by up to an hour either way (it looks older or younger).
    arbitrary: fc.record({
      kind: fc.constant("ghost" as const),
      ago: fc.integer({ min: -3_600_000, max: 3_600_000 }),
      waiters: fc.integer({ min: 1, max: 4 }),
    }),
    weight: 1,
  },
);

/** Grants come within this once slots are free (polls are up to 1.5 intervals apart). */
const STUCK = 8 * POLL;

async function turnsRun(clock: FakeClock, kv: Deno.Kv, name: string, limit: number, ops: TurnOp[]) {
  const kvs = Array.from({ length: PROCESSES }, () => new CountingKv(kv));
  const limiters = kvs.map((k) =>
    new DistributedLimiter(kvStore(k.asKv), name, { ...FAKE, limit })
  );
  const held: DistributedPermit[] = [];
  const waiters: { controller: AbortController; done: boolean }[] = [];
  const releases: Promise<void>[] = [];
  const problems: string[] = [];
  let windingDown = false;
  let progressAt = Date.now(), ghostsUntil = -Infinity;
  const granted = (permit: DistributedPermit) => {
    progressAt = Date.now();
    if (windingDown) releases.push(permit.release());
    else held.push(permit);
  };
  const check = async () => {
    const stored = await storedHeld(kv, name);
    if (stored > limit) problems.push(`at ${Date.now()}: ${stored} leases, limit ${limit}`);
    const pending = waiters.filter((w) => !w.done).length;
    if (pending === 0 || stored >= limit || Date.now() < ghostsUntil) progressAt = Date.now();
    else if (Date.now() - progressAt > STUCK) {
      problems.push(`at ${Date.now()}: ${pending} waited with ${limit - stored} slots free`);
      progressAt = Date.now();
    }
  };
  for (const op of ops) {
    switch (op.kind) {
      case "acquire": {
        const w = { controller: new AbortController(), done: false };
        waiters.push(w);
        limiters[op.who].acquire({ signal: w.controller.signal }).then(
          (permit) => {
            w.done = true;
            granted(permit);
          },
          (err: unknown) => {
            w.done = true;
            if (err !== w.controller.signal.reason) problems.push(`waiter: ${err}`);
          },
        );
        break;
      }
      case "tryAcquire": {
        const outcome = limiters[op.who].tryAcquire();
        await settle(kvs);
        const permit = await outcome;
        if (permit !== undefined) granted(permit);
        break;
      }
      case "release":
        if (held.length > 0) releases.push(held.splice(op.pick % held.length, 1)[0].release());
        break;
      case "cancel": {
        const open = waiters.filter((w) => !w.done && !w.controller.signal.aborted);
        if (open.length > 0) open[op.pick % open.length].controller.abort(new Error("cancelled"));
        break;
      }
      case "tick":
        await advance(clock, op.ms, kvs, check);
        break;
      case "ghost":
        ghostsUntil = Date.now() + TTL;
        await addWaiting(kv, name, [Date.now() - op.ago, op.waiters, ghostsUntil]);
        break;
    }
  }
  // Wind down: the holders stop, and every waiter is served (and lets go at once).
  windingDown = true;
  for (const permit of held.splice(0)) releases.push(permit.release());
  await advance(clock, Math.max(0, ghostsUntil - Date.now()) + STUCK * waiters.length, kvs, check);
  assert.deepEqual(problems, []);
  assert.ok(waiters.every((w) => w.done), "a waiter was never served");
  let released = false;
  Promise.all(releases).then(() => released = true);
  await advance(clock, 2 * POLL, kvs);
  assert.ok(released, "a release() never resolved");
  assert.equal(await storedHeld(kv, name), 0, "leases left with no holder");
  // Only a ghost's entry may be left, expired (nobody polled since to drop it).
  const waiting = (await kv.get<Record<string, number[]>>(["lionpride", name, "waiting"])).value;
  const live = Object.values(waiting ?? {}).filter(([, , expiry]) => expiry > Date.now());
  assert.deepEqual(live, [], "a waiting entry outlived its waiters");
  assert.equal(clock.countTimers(), 0, "timers left behind");
}

Deno.test("Deno KV: three processes taking turns never over-admit, leave no slot idle while one waits, and serve every waiter", async () => {
  await kvLimiterProperty(25, "p", turnOp, { minLength: 5, maxLength: 30 }, turnsRun);
});

for (const later of [false, true]) {
  const what = later ? "its oldest waiter" : "every waiter";
  Deno.test(`Deno KV: once ${what} of a process leaves, others no longer yield to it`, async () => {
    const kv = await Deno.openKv(":memory:");
    try {
      await withFakeTime(async (clock) => {
        const kvs = [new CountingKv(kv), new CountingKv(kv), new CountingKv(kv)];
        const [a, b, holder] = kvs.map((k) =>
          new DistributedLimiter(kvStore(k.asKv), "left", { ...FAKE, limit: 1 })
        );
        const holding = holder.acquire();
        await settle(kvs);
        const held = await holding;
        const controller = new AbortController();
        const first = a.acquire({ signal: controller.signal }).catch((err: unknown) => err);
        await advance(clock, 5 * POLL, kvs);
        let grantedAt = NaN;
        const waiting = b.acquire().then((permit) => {
          grantedAt = Date.now();
          return permit;
        });
        await advance(clock, 5 * POLL, kvs); // b waits, behind a (older by more than 4 polls)
        // a's next waiter comes more than 4 polls after b's: a owes b, not b a.
        const next = later ? a.acquire() : undefined;
        await advance(clock, 2 * POLL, kvs);
        controller.abort(new Error("gone"));
        assert.equal(await first, controller.signal.reason);
        await advance(clock, 2 * POLL, kvs); // a's round that gives the id back
        await held.release();
        const releasedAt = Date.now();
        await advance(clock, 4 * POLL, kvs);
        assert.ok(grantedAt - releasedAt <= 4 * POLL, `granted ${grantedAt - releasedAt} ms after`);
        await (await waiting).release();
        if (next !== undefined) {
          await advance(clock, 4 * POLL, kvs);
          await (await next).release();
        }
        await advance(clock, 2 * POLL, kvs);
        assert.equal(clock.countTimers(), 0, "timers left behind");
      });
    } finally {
      kv.close();
    }
  });
}
