// Copyright 2026 the @lionpride/core authors. MIT license.
// DistributedRateLimiter within one process, on a real Deno KV and a real Redis.

import assert from "node:assert/strict";
import { failAfter, RateLimitError } from "../mod.ts";
import {
  DistributedRateLimiter,
  type DistributedStore,
  kvStore,
  redisStore,
} from "../distributed/mod.ts";
import FakeTimers from "@sinonjs/fake-timers";
import {
  FaultyKv,
  redisAvailable,
  testOnEngines,
  withKvFile,
  withMemoryKv,
  withRedis,
} from "./_distributed.ts";

const test = testOnEngines;

test("a burst passes at once, then tryAcquire says how long to wait", async (store) => {
  const limiter = new DistributedRateLimiter(store, "burst", {
    limit: 10,
    period: 1_000,
    burst: 3,
  });
  // The waits shrink by the time the calls themselves take (seconds on a stalled machine):
  // bound them below by what was measured, not by a fixed slack.
  const started = performance.now();
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await limiter.tryAcquire(), { ok: true, retryAfter: 0 });
  }
  const refused = await limiter.tryAcquire();
  assert.equal(refused.ok, false);
  const spent = () => performance.now() - started + 2; // + store clocks in whole ms
  assert.ok(
    refused.retryAfter >= 100 - spent() && refused.retryAfter <= 100,
    `${refused.retryAfter}`,
  );
  const heavy = await limiter.tryAcquire(3);
  assert.ok(heavy.retryAfter >= 300 - spent() && heavy.retryAfter <= 300, `${heavy.retryAfter}`);
});

test("acquire reserves a slot and sleeps until it is due", async (store) => {
  const limiter = new DistributedRateLimiter(store, "sleep", {
    limit: 20,
    period: 1_000,
    burst: 1,
  });
  const started = performance.now();
  await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
  const took = performance.now() - started;
  assert.ok(took >= 95 && took < 400, `3 acquires at 50 ms intervals took ${took} ms`);
});

test("acquire past the deadline rejects at once with RateLimitError and reserves nothing", async (store) => {
  const limiter = new DistributedRateLimiter(store, "deadline", { limit: 1, period: 10_000 });
  await limiter.acquire();
  const started = performance.now();
  const err = await failAfter(1_000, () => limiter.acquire()).catch((e) => e);
  assert.ok(err instanceof RateLimitError, String(err));
  assert.ok(err.retryAfter > 9_000, `${err.retryAfter}`);
  assert.ok(performance.now() - started < 500);
  const next = await limiter.tryAcquire();
  assert.ok(next.retryAfter > 9_000 && next.retryAfter <= 10_000, `${next.retryAfter}`);
});

test("a cancelled acquire keeps its reservation", async (store) => {
  // One slot a second: a kept reservation puts the next grant ~2 s out, a returned
  // one ~1 s out, a margin no scheduling delay of a loaded machine closes.
  const limiter = new DistributedRateLimiter(store, "keep", {
    limit: 1,
    period: 1_000,
    burst: 1,
  });
  await limiter.acquire();
  const controller = new AbortController();
  const waiting = limiter.acquire({ signal: controller.signal });
  await new Promise((r) => setTimeout(r, 20));
  controller.abort(new Error("gone"));
  await assert.rejects(waiting, /gone/);
  const next = await limiter.tryAcquire();
  assert.ok(next.retryAfter > 1_500, `the cancelled slot is still reserved: ${next.retryAfter}`);
});

Deno.test("DistributedRateLimiter: a failing store rejects acquire with its error by the deadline", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    faulty.down = true;
    const limiter = new DistributedRateLimiter(kvStore(faulty.asKv), "down", {
      limit: 5,
      period: 1_000,
    });
    await assert.rejects(failAfter(200, () => limiter.acquire()), /kv unreachable/);
    assert.ok(faulty.calls >= 2);
    await assert.rejects(limiter.tryAcquire(), /kv unreachable/);
  });
});

Deno.test("DistributedRateLimiter: bad arguments name the parameter and the value", async () => {
  await withMemoryKv(async (kv) => {
    const store = kvStore(kv);
    const make = (options: unknown, name = "r") => () =>
      new DistributedRateLimiter(store, name, options as { limit: number; period: number });
    assert.throws(make({ limit: 0, period: 1 }), {
      name: "RangeError",
      message: /'limit'.*received 0/,
    });
    assert.throws(make({ limit: 1, period: -5 }), /'period'.*received -5/);
    assert.throws(make({ limit: 1, period: 1, burst: Infinity }), /'burst'/);
    assert.throws(make({ limit: 1, period: 1, burst: 0.5 }), {
      name: "RangeError",
      message: /'burst'.*must be >= 1, received 0\.5/,
    });
    assert.throws(make({ limit: 0.5, period: 1_000 }), /'burst' \(default: 'limit'\)/);
    new DistributedRateLimiter(store, "r", { limit: 0.5, period: 1_000, burst: 1 }); // fine
    assert.throws(make({ limit: 1, period: 1 }, "x y"), /'name'/);
    const limiter = new DistributedRateLimiter(store, "r", { limit: 5, period: 1_000, burst: 2 });
    await assert.rejects(limiter.tryAcquire(3), {
      name: "RangeError",
      message: /'cost'.*burst \(2\).*received 3/,
    });
    await assert.rejects(limiter.acquire({ cost: 0 }), /'cost'/);
    await assert.rejects(limiter.tryAcquire("1" as never), TypeError);
  });
});

/** A client that passes every command to `client` and notes its name in `sent`. */
function countingCommands(client: { call(command: string, ...args: string[]): Promise<unknown> }): {
  sent: string[];
  counting: { call(command: string, ...args: string[]): Promise<unknown> };
} {
  const sent: string[] = [];
  const counting = {
    call: (command: string, ...args: string[]) => {
      sent.push(command);
      return client.call(command, ...args);
    },
  };
  return { sent, counting };
}

Deno.test({
  name: "Redis: decisions asked for in one turn share one script call and decide as if in turn",
  ignore: !redisAvailable,
  fn: () =>
    withRedis(async (client) => {
      const { sent, counting } = countingCommands(client);
      const store = redisStore(counting);
      const options = { limit: 10, period: 1_000, burst: 3 };
      const limiter = new DistributedRateLimiter(store, "turn", options);
      // Loads the script of unequal decisions (EVALSHA, then EVAL).
      const warm = new DistributedRateLimiter(store, "turn-warm", options);
      await Promise.all([warm.tryAcquire(1), warm.tryAcquire(2)]);
      // The retry-afters below shrink by the server time since this first
      // decision, so the bound counts from before it is sent.
      const started = performance.now();
      await limiter.tryAcquire();
      sent.length = 0;
      const decisions = await Promise.all([1, 1, 2, 1, 1].map((cost) => limiter.tryAcquire(cost)));
      const spent = performance.now() - started + 2;
      assert.deepEqual(sent, ["EVALSHA"]);
      // Burst 3 with one unit taken: two more fit, the cost of 2 then does
      // not (it never reserves), the next unit does not either.
      assert.deepEqual(decisions.map((d) => d.ok), [true, true, false, false, false]);
      const [, , two, one] = decisions.map((d) => d.retryAfter);
      assert.ok(two >= 200 - spent && two <= 200, `${two}`);
      assert.ok(one >= 100 - spent && one <= 100, `${one}`);
      // A waiting acquire and a refused tryAcquire in one call: the acquire
      // reserves the next slot, so the tryAcquire waits for the one after it.
      sent.length = 0;
      const [, after] = await Promise.all([limiter.acquire(), limiter.tryAcquire()]);
      assert.deepEqual(sent, ["EVALSHA"]);
      assert.equal(after.ok, false);
      assert.ok(after.retryAfter > 100, `${after.retryAfter}`);
    }),
});

Deno.test({
  name: "Redis: equal decisions in one turn are decided as one by one, in one script call",
  ignore: !redisAvailable,
  fn: () =>
    withRedis(async (client) => {
      const { sent, counting } = countingCommands(client);
      const store = redisStore(counting);
      const options = { limit: 10, period: 1_000, burst: 3 };
      const together = new DistributedRateLimiter(store, "same-together", options);
      const alone = new DistributedRateLimiter(store, "same-alone", options);
      // Loads both scripts into the server's cache (EVALSHA, then EVAL).
      const warm = new DistributedRateLimiter(store, "same-warm", options);
      await Promise.all([warm.tryAcquire(), warm.tryAcquire()]);
      const started = performance.now();
      await together.tryAcquire();
      await alone.tryAcquire();
      sent.length = 0;
      const batch = await Promise.all([1, 2, 3, 4].map(() => together.tryAcquire()));
      assert.deepEqual(sent, ["EVALSHA"], "four equal decisions, one call");
      const oneByOne = [];
      for (let i = 0; i < 4; i++) oneByOne.push(await alone.tryAcquire());
      const spent = performance.now() - started + 2;
      assert.deepEqual(batch.map((d) => d.ok), [true, true, false, false]);
      assert.deepEqual(oneByOne.map((d) => d.ok), batch.map((d) => d.ok));
      // Each refusal waits for the one unit that frees next: 100 ms less the
      // time since the first unit was taken.
      for (const d of [batch[2], batch[3], oneByOne[2], oneByOne[3]]) {
        assert.ok(d.retryAfter > 100 - spent && d.retryAfter <= 100, `${d.retryAfter}`);
      }
      // Nothing was reserved by the refusals: after the wait, one fits again.
      await new Promise((r) => setTimeout(r, batch[3].retryAfter + 5));
      assert.equal((await together.tryAcquire()).ok, true);
      assert.equal((await together.tryAcquire()).ok, false);
    }),
});

Deno.test("DistributedRateLimiter: a Redis client that throws instead of rejecting rejects the decision", async () => {
  let calls = 0;
  const throwing = {
    call(): Promise<unknown> {
      calls++;
      throw new Error("client closed (test fault)");
    },
  };
  const limiter = new DistributedRateLimiter(redisStore(throwing), "throws", {
    limit: 5,
    period: 1_000,
  });
  // The first call waits for the script's digest; later ones call the client at once.
  await assert.rejects(limiter.tryAcquire(), /client closed/);
  await assert.rejects(limiter.tryAcquire(), /client closed/);
  assert.equal(calls, 2);
});

/**
 * Bursts of 6, 7 and 49 (1000 / 7 ms and 1000 / 6 ms round in binary, yet
 * seven or six of those steps make one burst), asked for one by one, in one
 * turn, and in one turn with an acquire among them (on Redis the general
 * script, not the equal-decisions one). Returns the bursts that fell short.
 */
async function shortBursts(store: DistributedStore): Promise<string[]> {
  // Decisions in one instant (one script call on Redis, one ms on KV) sum the
  // rounded steps; time passing only makes room, never less.
  const failed: string[] = [];
  for (const limit of [6, 7, 49]) {
    for (let rep = 0; rep < 5; rep++) {
      const options = { limit, period: 1_000 };
      const each = new DistributedRateLimiter(store, `each-${limit}-${rep}`, options);
      let passed = 0;
      for (let i = 0; i < limit; i++) if ((await each.tryAcquire()).ok) passed++;
      const together = new DistributedRateLimiter(store, `together-${limit}-${rep}`, options);
      const decisions = await Promise.all(
        Array.from({ length: limit }, () => together.tryAcquire()),
      );
      const mixed = new DistributedRateLimiter(store, `mixed-${limit}-${rep}`, options);
      const withAcquire = await Promise.all(
        Array.from(
          { length: limit },
          (_, i) => i === 0 ? mixed.acquire().then(() => ({ ok: true })) : mixed.tryAcquire(),
        ),
      );
      const counts = [passed, ...[decisions, withAcquire].map((d) => d.filter((x) => x.ok).length)];
      if (counts.some((n) => n !== limit)) failed.push(`burst ${limit}: ${counts.join("/")}`);
    }
  }
  return failed;
}

test("a full burst passes at once, though its interval is not exact in binary", async (store) => {
  assert.deepEqual(await shortBursts(store), [], "one by one / in one turn / with an acquire");
});

Deno.test("Deno KV in memory: a full burst passes at once, though its interval is not exact in binary", async () => {
  // Many decisions land in one ms here (a KV file's commits take longer).
  const kv = await Deno.openKv(":memory:");
  try {
    assert.deepEqual(
      await shortBursts(kvStore(kv)),
      [],
      "one by one / in one turn / with an acquire",
    );
  } finally {
    kv.close();
  }
});

Deno.test("Deno KV in memory: a burst at a very fast rate passes whole, and time refills exactly what it should", async () => {
  // Decisions within one ms of Date.now() add up steps far finer than a ms:
  // at today's wall-clock time an absolute ms value rounds to 2^-13 ms,
  // coarser than the allowance of a 10 µs step. Date is frozen so that the
  // counts are exact: a whole burst, then exactly what one ms refills.
  const kv = await Deno.openKv(":memory:");
  const clock = FakeTimers.install({ now: Date.now(), toFake: ["Date"] });
  try {
    const store = kvStore(kv);
    const failed: string[] = [];
    for (const [perSecond, burst] of [[100_000, 1_000], [7_000_000, 5_000], [3_000, 3_000]]) {
      const limiter = new DistributedRateLimiter(store, `fast-${perSecond}`, {
        limit: perSecond,
        period: 1_000,
        burst,
      });
      let passed = 0;
      for (let i = 0; i <= burst; i++) if ((await limiter.tryAcquire()).ok) passed++;
      clock.tick(1);
      const refill = Math.min(perSecond / 1_000, burst);
      let refilled = 0;
      for (let i = 0; i <= refill; i++) if ((await limiter.tryAcquire()).ok) refilled++;
      if (passed !== burst || refilled !== refill) {
        failed.push(`${perSecond}/s burst ${burst}: ${passed} passed, then ${refilled} in 1 ms`);
      }
    }
    assert.deepEqual(failed, []);
  } finally {
    clock.uninstall();
    kv.close();
  }
});
