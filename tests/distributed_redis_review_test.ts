// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of the Redis lease script (LEASE_ROUND) against API.md §11, driven
// directly on a real redis-server: a reference model of the global queue and
// the leases, several processes, and the server's own clock (real sleeps past
// a short ttl, since Redis TIME cannot be faked).

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Redis } from "ioredis";
import { LEASE_ROUND } from "../distributed/_redis_scripts.ts";
import { DistributedLimiter, redisStore } from "../distributed/mod.ts";
import { CircuitBreaker, CircuitOpenError, failAfter, sleep as sleepFor } from "../mod.ts";
import { redisAvailable, withRedis } from "./_distributed.ts";

const PARTS = ["leases", "queue", "ticket-expiry", "tickets"] as const;

function keysOf(name: string): string[] {
  return [...PARTS, "limit"].map((part) => `t:{${name}}:${part}`);
}

interface Round {
  ttl: number;
  limit: number;
  tryOnly?: boolean;
  release?: string[];
  renew?: string[];
  want?: string[];
}

interface Reply {
  granted: string[];
  lost: string[];
  limit: number;
  held: number;
}

async function leaseRound(client: Redis, name: string, round: Round): Promise<Reply> {
  const { release = [], renew = [], want = [] } = round;
  const [granted, lost, limit, held] = await client.call(
    "EVAL",
    LEASE_ROUND,
    "5",
    ...keysOf(name),
    String(round.ttl),
    String(round.limit),
    round.tryOnly ? "1" : "0",
    String(release.length),
    String(renew.length),
    String(want.length),
    ...release,
    ...renew,
    ...want,
  ) as [string[], string[], number, number];
  return { granted, lost, limit, held };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Which of the name's keys (limit aside) still exist. */
async function liveKeys(client: Redis, name: string): Promise<string[]> {
  const keys = keysOf(name).slice(0, PARTS.length);
  const live = [];
  for (const key of keys) if (await client.exists(key)) live.push(key);
  return live;
}

Deno.test({
  name:
    "Redis LEASE_ROUND: a name nobody uses any more leaves no key once its leases and tickets have expired",
  ignore: !redisAvailable,
  fn: () =>
    withRedis(async (client) => {
      const ttl = 100;
      // A holder and a waiter, then both processes die: nobody runs a round again.
      assert.deepEqual((await leaseRound(client, "gone", { ttl, limit: 1, want: ["a"] })).granted, [
        "a",
      ]);
      assert.deepEqual(
        (await leaseRound(client, "gone", { ttl, limit: 1, want: ["b"] })).granted,
        [],
      );
      await sleep(ttl + 40);
      assert.deepEqual(await liveKeys(client, "gone"), []);
    }),
});

/** The contract's queue and leases, on a clock where nothing expires between sleeps. */
class Model {
  leases = new Set<string>();
  /** id -> ticket. */
  queue = new Map<string, number>();
  counter = 0;
  limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** A sleep past ttl since every write: every lease and ticket has expired. */
  expireAll(): void {
    this.leases.clear();
    this.queue.clear();
  }

  round({ tryOnly = false, release = [], renew = [], want = [] }: Round): Reply {
    for (const id of release) {
      this.leases.delete(id);
      this.queue.delete(id);
    }
    const lost = renew.filter((id) => !this.leases.has(id));
    let held = this.leases.size;
    const granted: string[] = [];
    const mine = new Set<string>();
    for (const id of want) {
      if (this.leases.has(id)) granted.push(id);
      else if (tryOnly) {
        if (held < this.limit && this.queue.size === 0) {
          this.leases.add(id);
          held++;
          granted.push(id);
        }
      } else {
        if (!this.queue.has(id)) this.queue.set(id, ++this.counter);
        mine.add(id);
      }
    }
    if (mine.size > 0 && held < this.limit) {
      const first = [...this.queue].sort((a, b) => a[1] - b[1]).slice(0, this.limit - held);
      for (const [id] of first) {
        if (!mine.has(id)) continue;
        this.queue.delete(id);
        this.leases.add(id);
        held++;
        granted.push(id);
      }
    }
    return { granted, lost, limit: this.limit, held };
  }
}

type Step =
  | { kind: "arrive"; p: number }
  | { kind: "poll"; p: number; replyLost: boolean }
  | { kind: "try"; p: number }
  | { kind: "release"; p: number; pick: number }
  | { kind: "cancel"; p: number; pick: number }
  | { kind: "setLimit"; limit: number }
  | { kind: "sleep" };

const PROCESSES = 3;
const process = fc.nat(PROCESSES - 1);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("arrive" as const), p: process }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("poll" as const),
      p: process,
      replyLost: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("try" as const), p: process }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("release" as const), p: process, pick: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("cancel" as const), p: process, pick: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("setLimit" as const),
      limit: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "sleep" as const }) },
);

Deno.test({
  name:
    "Redis LEASE_ROUND property: 3 processes' rounds (lost replies, tryOnly, releases, cancels, setLimit, expiry by the server's clock) match the reference queue and leases",
  ignore: !redisAvailable,
  fn: () =>
    withRedis(async (client) => {
      // Long enough that no lease or ticket expires between two sleeps on a
      // busy machine; a sleep outlasts every one of them.
      const ttl = 200;
      let run = 0;
      const started = performance.now();
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 3 }),
          fc.array(step, { minLength: 5, maxLength: 40 }),
          async (initialLimit, steps) => {
            const name = `model-${run++}`;
            const model = new Model(initialLimit);
            const defaultLimit = initialLimit;
            let ids = 0;
            const procs = Array.from({ length: PROCESSES }, () => ({
              waiting: [] as string[],
              held: [] as string[],
            }));
            let slept = 0;
            for (const s of steps) {
              if (s.kind === "sleep") {
                // One real sleep a run at most bounds the test's time.
                if (slept++ >= 1) continue;
                await sleep(ttl + 40);
                model.expireAll();
                continue;
              }
              if (s.kind === "setLimit") {
                await client.set(keysOf(name)[4], String(s.limit));
                model.limit = s.limit;
                continue;
              }
              const proc = procs[s.p];
              if (s.kind === "arrive") {
                proc.waiting.push(`p${s.p}-${ids++}`);
                continue;
              }
              let round: Round;
              if (s.kind === "poll") {
                round = {
                  ttl,
                  limit: defaultLimit,
                  renew: [...proc.held],
                  want: [...proc.waiting],
                };
              } else if (s.kind === "try") {
                round = { ttl, limit: defaultLimit, tryOnly: true, want: [`p${s.p}-${ids++}`] };
              } else {
                const list = s.kind === "release" ? proc.held : proc.waiting;
                if (list.length === 0) continue;
                const [id] = list.splice(s.pick % list.length, 1);
                round = { ttl, limit: defaultLimit, release: [id] };
              }
              const expected = model.round(round);
              const actual = await leaseRound(client, name, round);
              assert.deepEqual(
                { ...actual, granted: [...actual.granted].sort(), lost: [...actual.lost].sort() },
                {
                  ...expected,
                  granted: [...expected.granted].sort(),
                  lost: [...expected.lost].sort(),
                },
              );
              if (s.kind === "poll" && s.replyLost) continue;
              proc.held = proc.held.filter((id) => !actual.lost.includes(id));
              for (const id of actual.granted) {
                if (s.kind === "try") proc.held.push(id);
                else if (proc.waiting.includes(id)) {
                  proc.waiting = proc.waiting.filter((w) => w !== id);
                  proc.held.push(id);
                }
              }
            }
          },
        ),
        { numRuns: 60 },
      );
      // Every process gone: every name's keys expire on their own.
      await sleep(ttl + 40);
      const left = (await client.keys("t:*")).filter((key) => !key.endsWith(":limit"));
      assert.deepEqual(left, []);
      assert.ok(performance.now() - started < 30_000);
    }),
});

Deno.test({
  name:
    "Redis: a stored limit that is not a positive integer fails every round and statistics() with an error naming it, granting nothing",
  ignore: !redisAvailable,
  fn: () =>
    withRedis(async (client) => {
      const store = redisStore(client, { prefix: "t:" });
      for (const garbage of ["abc", "2.5", "inf", "nan", "0", "-1", "1e400", "9007199254740993"]) {
        const name = `garbage-${garbage.replace(/[^a-z0-9]/g, "_")}`;
        await client.set(keysOf(name)[4], garbage);
        const limiter = new DistributedLimiter(store, name, { limit: 2, leaseTtl: 100 });
        for (let i = 0; i < 4; i++) {
          await assert.rejects(limiter.tryAcquire(), /not a positive integer/, garbage);
        }
        await assert.rejects(limiter.statistics(), /not a positive integer/, garbage);
        assert.equal(await client.exists(keysOf(name)[0]), 0, garbage);
      }
      // A waiter's rounds fail too, and its wait ends with their error.
      const limiter = new DistributedLimiter(store, "garbage-2_5", { limit: 2, leaseTtl: 100 });
      await assert.rejects(failAfter(50, () => limiter.acquire()), /not a positive integer/);
      assert.equal(await client.exists(keysOf("garbage-2_5")[0]), 0);
      // The failed rounds' ids are dropped from the store until they have
      // surely expired: a sound limit lets those rounds end.
      for (const key of await client.keys("t:*:limit")) await client.set(key, "2");
      await sleepFor(600);
    }),
});

Deno.test({
  name:
    "Redis LEASE_ROUND: tryOnly never jumps a ticket, a dead process's ticket expires, a lost grant is renewed once, a lowered limit grants nothing until held drops below it",
  ignore: !redisAvailable,
  fn: () =>
    withRedis(async (client) => {
      const ttl = 150;
      const round = (name: string, r: Omit<Round, "ttl" | "limit">, limit = 1) =>
        leaseRound(client, name, { ttl, limit, ...r });
      // A slot freed while another process's waiter is queued is its, not tryOnly's.
      assert.deepEqual((await round("jump", { want: ["a"] })).granted, ["a"]);
      assert.deepEqual((await round("jump", { want: ["b"] })).granted, []);
      await round("jump", { release: ["a"] });
      assert.deepEqual((await round("jump", { tryOnly: true, want: ["c"] })).granted, []);
      assert.deepEqual((await round("jump", { want: ["d"] })).granted, [], "d came after b");
      assert.deepEqual((await round("jump", { want: ["b"] })).granted, ["b"]);

      // A ticket nobody polls any more holds the slot back for ttl, not for ever.
      assert.deepEqual((await round("dead", { want: ["x"] })).granted, ["x"]);
      assert.deepEqual((await round("dead", { want: ["ghost"] })).granted, []);
      assert.deepEqual((await round("dead", { release: ["x"], want: ["live"] })).granted, []);
      // live keeps polling (so the queue lives on) past the ghost's ticket.
      for (let waited = 0; waited < ttl + 30; waited += 40) {
        await sleep(40);
        const { granted } = await round("dead", { want: ["live"] });
        if (granted.length > 0) {
          assert.ok(waited + 40 > ttl - 10, `granted before the ghost's ticket expired`);
          break;
        }
      }
      assert.equal(Number(await client.zcard(keysOf("dead")[0])), 1, "live holds the slot");

      // A grant whose reply was lost: the next round reports it granted,
      // renewed from now, and counts it once.
      const first = await round("lost", { want: ["g"] }, 2);
      assert.deepEqual(first.granted, ["g"]);
      const expiry = Number(await client.zscore(keysOf("lost")[0], "g"));
      await sleep(20);
      const again = await round("lost", { want: ["g"] }, 2);
      assert.deepEqual(again, { granted: ["g"], lost: [], limit: 2, held: 1 });
      assert.ok(Number(await client.zscore(keysOf("lost")[0], "g")) >= expiry + 15);

      // A limit lowered under held leases.
      for (const id of ["h1", "h2", "h3"]) await round("lower", { want: [id] }, 3);
      await client.set(keysOf("lower")[4], "1");
      assert.deepEqual(await round("lower", { want: ["w"] }, 3), {
        granted: [],
        lost: [],
        limit: 1,
        held: 3,
      });
      assert.deepEqual((await round("lower", { release: ["h1"], want: ["w"] }, 3)).granted, []);
      assert.deepEqual((await round("lower", { release: ["h2"], want: ["w"] }, 3)).granted, []);
      assert.deepEqual((await round("lower", { release: ["h3"], want: ["w"] }, 3)).granted, ["w"]);
    }),
});

Deno.test({
  name:
    "Redis shared breaker: a failed probe whose new openUntil could not be stored keeps its probe lease, so no other process probes the upstream that just failed",
  ignore: !redisAvailable,
  fn: () =>
    withRedis(async (client) => {
      let failWrites = false;
      // a's client: the breaker's write (open-until, tripped, ms) fails on demand.
      const flaky = {
        call(command: string, ...args: string[]): Promise<unknown> {
          if (failWrites && args.length === 5 && args[2].endsWith(":open-until")) {
            return Promise.reject(new Error("write lost"));
          }
          return client.call(command, ...args);
        },
      };
      const resetTimeout = 1_000;
      const options = (store: ReturnType<typeof redisStore>) => ({
        failureThreshold: 2,
        resetTimeout,
        // b's view of the store is as of its first call.
        shared: { store, name: "upstream", syncInterval: 60_000 },
      });
      const a = new CircuitBreaker(options(redisStore(flaky)));
      const b = new CircuitBreaker(options(redisStore(client)));
      const fail = () => Promise.reject(new Error("upstream down"));
      for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
      await assert.rejects(b.call(() => "fine"), CircuitOpenError); // b adopts a's open state
      await sleep(resetTimeout + 30); // both half-open
      failWrites = true;
      await assert.rejects(a.call(fail), /upstream down/);
      let called = false;
      const err = await b.call(() => (called = true)).catch((e) => e);
      assert.equal(called, false, "b probed an upstream whose probe had just failed");
      assert.ok(err instanceof CircuitOpenError, String(err));
    }),
});
