// Copyright 2026 the @lionpride/core authors. MIT license.
// DistributedLimiter on Deno KV under store faults, on a virtual clock: two
// limiters sharing a name stand in for two processes; one reaches the store
// through a connection that can go down or lose a commit's reply. Random
// acquires (some with a deadline), cancels, releases and tryAcquires run at
// random points, some while a round is in flight.

import assert from "node:assert/strict";
import fc from "fast-check";
import { CancelScope, currentTime } from "../mod.ts";
import { DistributedLimiter, type DistributedPermit, kvStore } from "../distributed/mod.ts";
import { advanceByTimers, type FakeClock, withFakeTime } from "./_fake_time.ts";
import { kvLimiterProperty } from "./_kv_property.ts";
import { withMemoryKv } from "./_distributed.ts";

const realSetTimeout = globalThis.setTimeout;

/** A Deno.Kv that counts its calls in flight and can fail them. */
class ChaosKv {
  inFlight = 0;
  /** Calls waiting at the gate. */
  stalled = 0;
  /** Every call throws (nothing reaches the store). */
  down = false;
  /** The next commit lands, but its caller gets an error (an unknown outcome). */
  loseNextReply = false;
  /** While set, every call waits for it before it reaches the store (a stalled connection). */
  gate: Promise<void> | undefined = undefined;
  constructor(readonly kv: Deno.Kv) {}
  get asKv(): Deno.Kv {
    return this as unknown as Deno.Kv;
  }
  #count<T>(p: () => Promise<T>): Promise<T> {
    if (this.down) return Promise.reject(new TypeError("kv unreachable (test fault)"));
    this.inFlight++;
    const gate = this.gate;
    if (gate === undefined) return p().finally(() => this.inFlight--);
    this.stalled++;
    return gate.then(() => {
      this.stalled--;
      return p();
    }).finally(() => this.inFlight--);
  }
  getMany(keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<unknown>[]> {
    return this.#count(() => this.kv.getMany(keys));
  }
  get(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<unknown>> {
    return this.#count(() => this.kv.get(key));
  }
  set(key: Deno.KvKey, value: unknown): Promise<Deno.KvCommitResult> {
    return this.#count(() => this.kv.set(key, value));
  }
  atomic(): Deno.AtomicOperation {
    const op = this.kv.atomic();
    const commit = op.commit.bind(op);
    op.commit = () =>
      this.#count(async () => {
        const result = await commit();
        if (this.loseNextReply && result.ok) {
          this.loseNextReply = false;
          throw new TypeError("connection reset after commit (test fault)");
        }
        return result;
      });
    return op;
  }
}

/**
 * Lets the real store answer everything asked (the fake clock stands still
 * meanwhile); calls held at a gate do not count.
 */
async function settle(...kvs: ChaosKv[]): Promise<void> {
  for (let quiet = 0; quiet < 2;) {
    await new Promise((r) => realSetTimeout(r, 0));
    quiet = kvs.every((kv) => kv.inFlight === kv.stalled) ? quiet + 1 : 0;
  }
}

/**
 * Advances the fake clock by `ms`, timer by timer, letting the store answer
 * after each. A call still on its way when the clock moves reaches the store
 * late: that is how a slow store call is played.
 */
function advance(
  clock: FakeClock,
  ms: number,
  kvs: ChaosKv[],
  afterEach?: () => void,
): Promise<void> {
  return advanceByTimers(clock, ms, () => settle(...kvs), afterEach);
}

/** Unexpired leases of `name` in the store, read straight from the value. */
async function storedLeases(kv: Deno.Kv, name: string): Promise<string[]> {
  const entry = await kv.get<Record<string, number>>(["lionpride", name, "leases"]);
  const now = Date.now();
  return Object.entries(entry.value ?? {}).filter(([, until]) => until > now).map(([id]) => id);
}

type ChaosOp =
  | { kind: "acquire"; who: 0 | 1; within: number | undefined }
  | { kind: "tryAcquire"; who: 0 | 1 }
  | { kind: "release"; pick: number }
  | { kind: "cancel"; pick: number }
  | { kind: "tick"; ms: number }
  | { kind: "settle" }
  | { kind: "down"; down: boolean }
  | { kind: "loseReply" };

const chaosOp: fc.Arbitrary<ChaosOp> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("acquire" as const),
      who: fc.constantFrom(0 as const, 1 as const),
      // A deadline, in a scope: a failing store ends the wait with its error.
      within: fc.option(fc.integer({ min: 1, max: 3_000 }), { nil: undefined }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.constantFrom(0 as const, 1 as const).map((who) => ({
      kind: "tryAcquire" as const,
      who,
    })),
    weight: 1,
  },
  { arbitrary: fc.nat(7).map((pick) => ({ kind: "release" as const, pick })), weight: 3 },
  { arbitrary: fc.nat(7).map((pick) => ({ kind: "cancel" as const, pick })), weight: 2 },
  {
    arbitrary: fc.integer({ min: 1, max: 2_500 }).map((ms) => ({ kind: "tick" as const, ms })),
    weight: 3,
  },
  { arbitrary: fc.constant({ kind: "settle" as const }), weight: 4 },
  { arbitrary: fc.boolean().map((down) => ({ kind: "down" as const, down })), weight: 3 },
  { arbitrary: fc.constant({ kind: "loseReply" as const }), weight: 1 },
);

interface Holder {
  permit: DistributedPermit;
  who: 0 | 1;
}

interface Waiting {
  index: number;
  who: 0 | 1;
  controller: AbortController;
  done: boolean;
}

const TTL = 2_000, HEARTBEAT = 400, POLL = 20;

async function chaos(
  clock: FakeClock,
  kv: Deno.Kv,
  name: string,
  limit: number,
  ops: ChaosOp[],
): Promise<void> {
  const faulty = new ChaosKv(kv), clean = new ChaosKv(kv);
  const options = { limit, leaseTtl: TTL, heartbeat: HEARTBEAT, pollInterval: POLL };
  const limiters = [
    new DistributedLimiter(kvStore(faulty.asKv), name, options),
    new DistributedLimiter(kvStore(clean.asKv), name, options),
  ];
  const held: Holder[] = [];
  const waiting: Waiting[] = [];
  const releases: Promise<void>[] = [];
  const grants: number[][] = [[], []];
  const problems: string[] = [];
  let next = 0;
  const live = () => held.filter((h) => !h.permit.signal.aborted).length;
  const checkSafe = (what: string) => {
    if (live() > limit) problems.push(`${what}: ${live()} live holders, limit ${limit}`);
  };
  const advanceChecked = (ms: number) =>
    advance(clock, ms, [faulty, clean], () => checkSafe(`at ${Date.now()}`));
  for (const op of ops) {
    switch (op.kind) {
      case "acquire": {
        const w: Waiting = {
          index: next++,
          who: op.who,
          controller: new AbortController(),
          done: false,
        };
        waiting.push(w);
        const ask = () => limiters[op.who].acquire({ signal: w.controller.signal });
        const within = op.within;
        let asked: Promise<DistributedPermit> | undefined;
        if (within === undefined) asked = ask();
        else {
          // The same promise as a plain acquire's (grants are ordered by when they resolve).
          const scope = new CancelScope({ deadline: currentTime() + within });
          scope.run(() => (asked = ask()).catch(() => {})).catch(() => {});
        }
        asked!.then(
          (permit) => {
            w.done = true;
            held.push({ permit, who: w.who });
            grants[w.who].push(w.index);
            checkSafe(`grant of waiter ${w.index}`);
          },
          (err) => {
            w.done = true;
            const deadline = within !== undefined &&
              (err?.name === "CancelledError" || /test fault/.test(String(err)));
            if (err !== w.controller.signal.reason && !deadline) {
              problems.push(`waiter ${w.index}: ${err}`);
            }
          },
        );
        break;
      }
      case "tryAcquire": {
        const outcome = limiters[op.who].tryAcquire().then(
          (permit) => ({ permit, error: undefined }),
          (error: unknown) => ({ permit: undefined, error }),
        );
        await settle(faulty, clean);
        const { permit, error } = await outcome;
        if (permit !== undefined) {
          held.push({ permit, who: op.who });
          checkSafe("tryAcquire");
        } else if (error !== undefined && (op.who === 1 || !/test fault/.test(String(error)))) {
          problems.push(`tryAcquire: ${error}`);
        }
        break;
      }
      case "release":
        if (held.length > 0) {
          releases.push(held.splice(op.pick % held.length, 1)[0].permit.release());
        }
        break;
      case "cancel": {
        const open = waiting.filter((w) => !w.done && !w.controller.signal.aborted);
        if (open.length > 0) open[op.pick % open.length].controller.abort(new Error("cancelled"));
        break;
      }
      case "tick":
        await advanceChecked(op.ms);
        break;
      case "settle":
        await settle(faulty, clean);
        break;
      case "down":
        faulty.down = op.down;
        break;
      case "loseReply":
        faulty.loseNextReply = true;
        break;
    }
  }
  // Wind down: the store comes back, every waiter leaves, every holder releases.
  faulty.down = false;
  faulty.loseNextReply = false;
  for (const w of waiting) if (!w.done) w.controller.abort(new Error("cancelled"));
  await settle(faulty, clean);
  for (const h of held.splice(0)) releases.push(h.permit.release());
  await advanceChecked(1_100); // a backoff (<= 1 s) and the round after it, well within TTL
  assert.deepEqual(problems, []);
  for (const [who, order] of grants.entries()) {
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `limiter ${who} granted out of order`,
    );
  }
  assert.ok(waiting.every((w) => w.done), "a waiter never settled");
  let released = false;
  Promise.all(releases).then(() => released = true);
  await settle(faulty, clean);
  assert.ok(released, "a release() never resolved");
  assert.deepEqual(await storedLeases(kv, name), [], "leases left in the store with no holder");
  assert.equal(clock.countTimers(), 0, "timers left behind");
}

Deno.test("Deno KV: no over-admission, no lost FIFO order, no orphan lease and no timer left under random faults", async () => {
  await kvLimiterProperty(80, "c", chaosOp, { minLength: 10, maxLength: 40 }, chaos);
});

Deno.test("Deno KV: a lease a stalled round grants to a waiter that left meanwhile is released, not left to expire", async () => {
  await withMemoryKv(async (kv) => {
    await withFakeTime(async (clock) => {
      const faulty = new ChaosKv(kv), clean = new ChaosKv(kv);
      const options = { limit: 1, leaseTtl: 1_000, heartbeat: 250, pollInterval: 20 };
      const a = new DistributedLimiter(kvStore(faulty.asKv), "stalled", options);
      const b = new DistributedLimiter(kvStore(clean.asKv), "stalled", options);
      let open!: () => void;
      faulty.gate = new Promise((resolve) => open = resolve);
      const controller = new AbortController();
      const waiting = a.acquire({ signal: controller.signal }).catch((err: unknown) => err);
      controller.abort(new Error("left")); // while its round is stalled on the way to the store
      assert.equal(await waiting, controller.signal.reason);
      await clock.tickAsync(1_100);
      // The round reaches the store now: it grants the lease until 2 100, and its reply is lost.
      faulty.gate = undefined;
      faulty.loseNextReply = true;
      open();
      await settle(faulty, clean);
      assert.equal(faulty.loseNextReply, false, "the fault fired");
      await advance(clock, 200, [faulty, clean]); // a backoff and the round after it
      assert.equal((await b.statistics()).held, 0, "the lease nobody holds was left to expire");
      const permit = await b.tryAcquire();
      assert.ok(permit !== undefined);
      await permit.release();
      await advance(clock, 50, [faulty, clean]);
      assert.equal(clock.countTimers(), 0, "timers left behind");
    });
  });
});

Deno.test("Deno KV: a lost lease a renewal with an unknown outcome extended is released once the store is back, not left to expire", async () => {
  const kv = await Deno.openKv(":memory:");
  const random = Math.random;
  Math.random = () => 0.5; // backoff delays of 37.5, 75, 150, 300 ms
  try {
    await withFakeTime(async (clock) => {
      const faulty = new ChaosKv(kv), clean = new ChaosKv(kv);
      const kvs = [faulty, clean];
      const options = { limit: 1, leaseTtl: 1_000, heartbeat: 250 };
      const a = new DistributedLimiter(kvStore(faulty.asKv), "unknown-renewal", options);
      const b = new DistributedLimiter(kvStore(clean.asKv), "unknown-renewal", options);
      const granted = a.acquire();
      await settle(...kvs);
      const permit = await granted;
      let open!: () => void;
      faulty.gate = new Promise((resolve) => open = resolve);
      await advance(clock, 600, kvs); // the renewal due at 250 stalls on its way
      // It reaches the store at 600 (the lease now lives until 1 600), and its reply is lost.
      faulty.gate = undefined;
      faulty.loseNextReply = true;
      open();
      await settle(...kvs);
      assert.equal(faulty.loseNextReply, false, "the fault fired");
      faulty.down = true; // the retries fail; the holder learns of the loss at 875
      await advance(clock, 550, kvs);
      assert.ok(permit.signal.aborted, "the holder was told");
      faulty.down = false; // the next retry, at 1 162.5, reaches the store
      await advance(clock, 250, kvs);
      assert.equal((await b.statistics()).held, 0, "the lease nobody holds was left to expire");
      await permit.release();
      await advance(clock, 50, kvs);
      assert.equal(clock.countTimers(), 0, "timers left behind");
    });
  } finally {
    Math.random = random;
    kv.close();
  }
});

Deno.test("Deno KV: a wait cancelled at any point around its grant either gets the permit or leaves no lease behind", async () => {
  await withMemoryKv(async (kv) => {
    let cancelled = 0, served = 0;
    for (let hops = 0; hops < 40; hops++) {
      const controller = new AbortController();
      // Aborts the wait `hops` microtasks after the commit that grants its lease.
      const hooked = {
        getMany: (keys: Deno.KvKey[]) => kv.getMany(keys),
        atomic: () => {
          const op = kv.atomic();
          const commit = op.commit.bind(op);
          op.commit = () =>
            commit().then((result) => {
              let turn = Promise.resolve();
              for (let i = 0; i < hops; i++) turn = turn.then(() => {});
              turn.then(() => controller.abort(new Error("left")));
              return result;
            });
          return op;
        },
      };
      const name = `around-grant-${hops}`;
      const limiter = new DistributedLimiter(kvStore(hooked as unknown as Deno.Kv), name, {
        limit: 1,
      });
      const outcome = await limiter.acquire({ signal: controller.signal }).catch((err) => err);
      if (outcome === controller.signal.reason) cancelled++;
      else {
        served++;
        await (outcome as DistributedPermit).release();
      }
      const other = new DistributedLimiter(kvStore(kv), name, { limit: 1 });
      for (let i = 0; i < 50 && (await other.statistics()).held > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      assert.equal(
        (await other.statistics()).held,
        0,
        `cancelled ${hops} microtasks after the grant`,
      );
    }
    assert.ok(cancelled > 0 && served > 0, `${cancelled} cancelled, ${served} served`);
  });
});

Deno.test("Deno KV: acquire and use reject at once and take no lease when already cancelled", async () => {
  await withMemoryKv(async (kv) => {
    const limiter = new DistributedLimiter(kvStore(kv), "already", { limit: 1 });
    const reason = new Error("gone before it asked");
    const signal = AbortSignal.abort(reason);
    await assert.rejects(limiter.acquire({ signal }), (err) => err === reason);
    let ran = false;
    await assert.rejects(limiter.use(() => (ran = true), { signal }), (err) => err === reason);
    let inside: unknown[] = [];
    await new CancelScope().run((scope) => {
      scope.cancel(); // level-triggered: every later wait in it rejects at once
      const calls = [limiter.acquire(), limiter.use(() => (ran = true))];
      return Promise.all(calls.map((call) => call.catch((err: unknown) => err))).then(
        (errors) => (inside = errors),
      );
    });
    assert.deepEqual(inside.map((err) => (err as Error).name), [
      "CancelledError",
      "CancelledError",
    ]);
    assert.equal(ran, false, "fn ran without a lease");
    assert.equal((await limiter.statistics()).held, 0);
  });
});

Deno.test("Deno KV: a permit's asyncDispose releases it, as often as called", async () => {
  await withMemoryKv(async (kv) => {
    const limiter = new DistributedLimiter(kvStore(kv), "dispose", { limit: 1 });
    const permit = await limiter.acquire();
    await Promise.all([permit[Symbol.asyncDispose](), permit.release()]);
    assert.equal((await limiter.statistics()).held, 0);
    await permit[Symbol.asyncDispose](); // released already: a no-op
    assert.equal((await limiter.statistics()).held, 0);
  });
});

Deno.test("Deno KV: lowering the limit revokes no lease and grants none until fewer than the new limit are held", async () => {
  await withMemoryKv(async (kv) => {
    const a = new DistributedLimiter(kvStore(kv), "lower", { limit: 3, pollInterval: 5 });
    const b = new DistributedLimiter(kvStore(kv), "lower", { limit: 3, pollInterval: 5 });
    const held = [await a.acquire(), await a.acquire(), await b.acquire()];
    await b.setLimit(1);
    assert.deepEqual(await a.statistics(), { limit: 1, held: 3, waiting: 0 });
    const waiting = a.acquire();
    let granted = false;
    waiting.then(() => (granted = true));
    await held[0].release();
    await held[2].release();
    await new Promise((resolve) => setTimeout(resolve, 30)); // several polls
    assert.equal(granted, false, "granted while the new limit was held");
    assert.ok(held.every((p) => !p.signal.aborted), "a held lease was revoked");
    assert.equal(await b.tryAcquire(), undefined);
    await held[1].release();
    const next = await waiting;
    assert.equal((await b.statistics()).held, 1);
    await next.release();
  });
});

Deno.test("kvStore rejects a prefix whose parts Deno KV cannot key by, naming the part", async () => {
  await withMemoryKv(async (kv) => {
    for (const part of [{}, null, undefined, Symbol("s"), [1]]) {
      assert.throws(() => kvStore(kv, { prefix: ["app", part as never] }), {
        name: "TypeError",
        message:
          /^Cannot create kvStore: 'prefix\[1\]' must be a KV key part \(string, number, bigint, boolean or Uint8Array\), received /,
      });
    }
    // What KV accepts is accepted.
    const store = kvStore(kv, { prefix: ["app", 2, 3n, true, new Uint8Array([1])] });
    const permit = await new DistributedLimiter(store, "parts", { limit: 1 }).acquire();
    await permit.release();
  });
});

Deno.test("Deno KV: a stored limit that is not a positive integer fails every round and statistics() with an error naming it, granting nothing", async () => {
  await withMemoryKv(async (kv) => {
    for (const garbage of ["2", 2.5, Infinity, NaN, 0, -1, { limit: 2 }, true]) {
      const name = `garbage-${String(garbage).replace(/[^a-z0-9]/gi, "_")}`;
      await kv.set(["lionpride", name, "limit"], garbage);
      const limiter = new DistributedLimiter(kvStore(kv), name, { limit: 3, leaseTtl: 100 });
      await assert.rejects(limiter.tryAcquire(), /not a positive integer/, String(garbage));
      await assert.rejects(limiter.statistics(), /not a positive integer/, String(garbage));
      const leases = await kv.get(["lionpride", name, "leases"]);
      assert.equal(leases.value, null, `${String(garbage)}: nothing was written`);
    }
    // A failed tryAcquire's id is dropped from the store until it has surely
    // expired (leaseTtl), retried with backoff meanwhile: a sound limit lets
    // those rounds end.
    for await (const { key } of kv.list({ prefix: ["lionpride"] })) {
      if (key[2] === "limit") await kv.set(key, 2);
    }
    await new Promise((r) => setTimeout(r, 600));
  });
});
