// Copyright 2026 the @lionpride/core authors. MIT license.
import assert from "node:assert/strict";
import {
  AdaptiveLimiter,
  CancelledError,
  CapacityLimiter,
  HttpError,
  RateLimitError,
  sleep,
  TimeoutError,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";
import { flush, withConsoleErrors } from "./_helpers.ts";

/** Runs `n` calls at once through the limiter, each settling by `outcome`. */
function startCalls(
  limiter: AdaptiveLimiter,
  n: number,
): { finish: (i: number, err?: unknown) => void; done: Promise<unknown[]> } {
  const settle: Array<(err?: unknown) => void> = [];
  const done = Promise.allSettled(
    Array.from({ length: n }, () =>
      limiter.use(() =>
        new Promise<void>((resolve, reject) => {
          settle.push((err) => (err === undefined ? resolve() : reject(err)));
        })
      )),
  );
  return { finish: (i, err) => settle[i](err), done };
}

const overload = (): RateLimitError => new RateLimitError("429", { retryAfter: 10 });

Deno.test("an AdaptiveLimiter is a CapacityLimiter whose limit starts at initial", () => {
  const limiter = new AdaptiveLimiter({ initial: 7 });
  assert.ok(limiter instanceof CapacityLimiter);
  assert.equal(limiter.limit, 7);
  assert.equal(limiter.totalTokens, 7);
  assert.equal(new AdaptiveLimiter().limit, 10);
  assert.equal(new AdaptiveLimiter({ max: 4 }).limit, 4, "the default initial fits max");
});

Deno.test("AIMD: an overload multiplies the limit by 0.9", async () => {
  const limiter = new AdaptiveLimiter({ initial: 50 });
  await assert.rejects(limiter.use(() => Promise.reject(overload())), RateLimitError);
  assert.equal(limiter.statistics().estimate, 45);
  assert.equal(limiter.limit, 45);
});

Deno.test("AIMD: drops of calls started before the last decrease are ignored", async () => {
  const limiter = new AdaptiveLimiter({ initial: 100 });
  const calls = startCalls(limiter, 10);
  await flush();
  for (let i = 0; i < 10; i++) calls.finish(i, overload());
  await calls.done;
  assert.equal(limiter.limit, 90, "one decrease for one round trip of drops");
  assert.equal(limiter.statistics().drops, 1);
  assert.equal(limiter.statistics().ignoredDrops, 9);
  await assert.rejects(limiter.use(() => Promise.reject(overload())));
  assert.equal(limiter.limit, 81, "a call started after the decrease counts again");
});

Deno.test("AIMD: a success while at least half the limit is in use adds 1/limit", async () => {
  const limiter = new AdaptiveLimiter({ initial: 4 });
  const calls = startCalls(limiter, 2);
  await flush();
  calls.finish(0); // 2 of 4 in use: grows by 1/4
  await flush();
  assert.equal(limiter.statistics().estimate, 4.25);
  calls.finish(1); // 1 of 4 in use: no growth
  await calls.done;
  assert.equal(limiter.statistics().estimate, 4.25);
});

Deno.test("AIMD: the growth is 1/limit, the integer number of permits, not 1/estimate", async () => {
  const limiter = new AdaptiveLimiter({ initial: 4.5 });
  assert.equal(limiter.limit, 4);
  const calls = startCalls(limiter, 2);
  await flush();
  calls.finish(0); // 2 of 4 in use: grows by 1/4, not 1/4.5
  await flush();
  assert.equal(limiter.statistics().estimate, 4.75);
  calls.finish(1);
  await calls.done;
});

Deno.test("AIMD: a full round trip of successes grows the limit by about one", async () => {
  const limiter = new AdaptiveLimiter({ initial: 10 });
  const calls = startCalls(limiter, 10);
  await flush();
  for (let i = 0; i < 10; i++) calls.finish(i);
  await calls.done;
  assert.equal(limiter.limit, 10, "5 of the 10 ran with half the limit in use");
  const second = startCalls(limiter, 20);
  await flush();
  for (let i = 0; i < 10; i++) second.finish(i);
  await flush();
  assert.equal(limiter.limit, 11);
  for (let i = 10; i < 20; i++) second.finish(i);
  await second.done;
});

Deno.test("the limit stays within [min, max]", async () => {
  const limiter = new AdaptiveLimiter({ initial: 2, min: 2, max: 3 });
  for (let i = 0; i < 5; i++) await limiter.use(() => Promise.reject(overload())).catch(() => {});
  assert.equal(limiter.limit, 2);
  assert.equal(limiter.statistics().estimate, 2);
  const calls = startCalls(limiter, 30);
  await flush();
  for (let i = 0; i < 30; i++) {
    calls.finish(i);
    await flush();
  }
  await calls.done;
  assert.equal(limiter.limit, 3);
});

Deno.test("default overloads: TimeoutError, RateLimitError, 429, 503 and any retryAfter", async () => {
  const cases: Array<[unknown, boolean]> = [
    [new TimeoutError("slow"), true],
    [overload(), true],
    [new HttpError(new Response(null, { status: 429 })), true],
    [new HttpError(new Response(null, { status: 503 })), true],
    [Object.assign(new Error("custom"), { retryAfter: 5 }), true],
    [new HttpError(new Response(null, { status: 500 })), false],
    [new HttpError(new Response(null, { status: 404 })), false],
    [new Error("bug"), false],
    [new CancelledError("cancelled"), false],
  ];
  for (const [err, isOverload] of cases) {
    const limiter = new AdaptiveLimiter({ initial: 100 });
    await limiter.use(() => Promise.reject(err)).catch(() => {});
    assert.equal(limiter.limit, isOverload ? 90 : 100, String(err));
  }
});

Deno.test("isOverload replaces the default test", async () => {
  const limiter = new AdaptiveLimiter({ initial: 100, isOverload: (e) => e === "busy" });
  await limiter.use(() => Promise.reject(overload())).catch(() => {});
  assert.equal(limiter.limit, 100);
  await limiter.use(() => Promise.reject("busy")).catch(() => {});
  assert.equal(limiter.limit, 90);
});

Deno.test("onLimitChange fires only when the integer limit changes", async () => {
  const changes: Array<[number, number]> = [];
  const limiter = new AdaptiveLimiter({
    initial: 10.5,
    onLimitChange: (limit, previous) => changes.push([limit, previous]),
  });
  await limiter.use(() => Promise.reject(overload())).catch(() => {}); // 10.5 → 9.45
  assert.deepEqual(changes, [[9, 10]]);
  limiter.onLimitChange = undefined;
  await limiter.use(() => Promise.reject(overload())).catch(() => {});
  assert.equal(changes.length, 1);
  limiter.onLimitChange = (limit, previous) => changes.push([limit, previous]);
  await limiter.use(() => Promise.reject(overload())).catch(() => {});
  assert.deepEqual(changes[1], [7, 8]);
});

Deno.test("an onLimitChange that throws is logged, and the limit and the call are unaffected", async () => {
  await withConsoleErrors(async (logged) => {
    const limiter = new AdaptiveLimiter({
      initial: 10,
      onLimitChange: () => {
        throw new Error("metrics down");
      },
    });
    const err = overload();
    await assert.rejects(limiter.use(() => Promise.reject(err)), (e) => e === err);
    assert.equal(limiter.statistics().limit, 9);
    await flush();
    assert.equal(logged.length, 1);
    assert.equal((logged[0][1] as Error).message, "metrics down");
  });
});

Deno.test("onLimitChange stays quiet while only the fractional estimate moves", async () => {
  const changes: number[] = [];
  const limiter = new AdaptiveLimiter({
    initial: 10,
    onLimitChange: (limit) => changes.push(limit),
  });
  const calls = startCalls(limiter, 10);
  await flush();
  calls.finish(0);
  await flush();
  assert.equal(limiter.statistics().estimate, 10.1);
  assert.deepEqual(changes, []);
  for (let i = 1; i < 10; i++) calls.finish(i);
  await calls.done;
});

Deno.test("shrinking never preempts a running call", async () => {
  const limiter = new AdaptiveLimiter({ initial: 10 });
  const calls = startCalls(limiter, 10);
  await flush();
  assert.equal(limiter.borrowedTokens, 10);
  calls.finish(0, overload());
  await flush();
  assert.equal(limiter.limit, 9);
  assert.equal(limiter.borrowedTokens, 9, "the other nine still run");
  for (let i = 1; i < 10; i++) calls.finish(i);
  const results = await calls.done;
  assert.equal(results.filter((r) => (r as { status: string }).status === "fulfilled").length, 9);
});

Deno.test("setting totalTokens by hand throws and changes nothing", () => {
  const limiter = new AdaptiveLimiter({ initial: 5 });
  assert.throws(() => (limiter.totalTokens = 50), /sets it itself, received 50/);
  assert.equal(limiter.limit, 5);
});

Deno.test("gradient: latency rising above its long-run level shrinks the limit", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new AdaptiveLimiter({ initial: 20, algorithm: "gradient" });
    const run = async (latency: number, rounds: number) => {
      for (let r = 0; r < rounds; r++) {
        const calls = Array.from(
          { length: limiter.limit },
          () => limiter.use(() => sleep(latency)),
        );
        await clock.tickAsync(latency);
        await Promise.all(calls);
      }
    };
    await run(10, 5);
    const grown = limiter.limit;
    assert.ok(grown > 20, `grows while latency is flat: ${grown}`);
    await run(60, 5);
    assert.ok(limiter.limit < grown, `shrinks when latency rises: ${limiter.limit} < ${grown}`);
    assert.ok(limiter.statistics().rtt > 10);
  });
});

Deno.test("gradient: before the first overload every success moves the limit (slow start)", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new AdaptiveLimiter({ initial: 10, algorithm: "gradient" });
    // A backlog keeps the limit in use, as alcall's does.
    const calls = Array.from({ length: 100 }, () => limiter.use(() => sleep(50)));
    await clock.tickAsync(50);
    // Ten flat-latency samples, each + 0.2 * 4: one round trip takes 10 to 18.
    const { estimate } = limiter.statistics();
    assert.ok(Math.abs(estimate - 18) < 1e-9, `estimate ${estimate}`);
    assert.equal(limiter.limit, 18);
    await clock.tickAsync(50 * 10);
    await Promise.all(calls);
  });
});

Deno.test("gradient: the first overload halves the limit, later ones take 10 %", async () => {
  const limiter = new AdaptiveLimiter({ initial: 100, algorithm: "gradient" });
  await limiter.use(() => Promise.reject(overload())).catch(() => {});
  assert.equal(limiter.limit, 50, "leaving the slow start");
  await limiter.use(() => Promise.reject(overload())).catch(() => {});
  assert.equal(limiter.limit, 45, "then as in AIMD");
});

Deno.test("gradient: after the first overload the limit moves at most once per two round trips", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new AdaptiveLimiter({ initial: 40, algorithm: "gradient" });
    await limiter.use(() => Promise.reject(overload())).catch(() => {});
    assert.equal(limiter.limit, 20);
    const round = async () => {
      const calls = Array.from({ length: limiter.limit }, () => limiter.use(() => sleep(50)));
      await clock.tickAsync(50);
      await Promise.all(calls);
    };
    await round(); // the first sample moves it (no update yet): 20 + 0.8
    assert.ok(Math.abs(limiter.statistics().estimate - 20.8) < 1e-9);
    await round(); // 50 ms later: less than two round trips since
    assert.ok(Math.abs(limiter.statistics().estimate - 20.8) < 1e-9);
    await round(); // 100 ms later: moves again
    assert.ok(Math.abs(limiter.statistics().estimate - 21.6) < 1e-9);
  });
});

Deno.test("statistics and the printed form show the limit and the estimate", async () => {
  const limiter = new AdaptiveLimiter({ initial: 12.5 });
  await limiter.use(() => 1);
  const s = limiter.statistics();
  assert.equal(s.limit, 12);
  assert.equal(s.totalTokens, 12);
  assert.equal(s.estimate, 12.5);
  assert.equal(s.successes, 1);
  assert.equal(s.algorithm, "aimd");
  assert.equal(
    Deno.inspect(limiter),
    "AdaptiveLimiter { limit: 12 (estimate 12.5), borrowed: 0, waiting: 0 }",
  );
});

Deno.test("bad options are RangeErrors or TypeErrors naming the option", () => {
  assert.throws(
    () => new AdaptiveLimiter({ initial: 0 }),
    /'initial' must be a number in \[1, 1000\], received 0/,
  );
  assert.throws(() => new AdaptiveLimiter({ initial: 2_000 }), RangeError);
  assert.throws(() => new AdaptiveLimiter({ initial: NaN }), RangeError);
  assert.throws(() => new AdaptiveLimiter({ min: 5, max: 4 }), /'min' \(5\) must be <= 'max'/);
  assert.throws(
    () => new AdaptiveLimiter({ min: 0 }),
    /'min' must be a positive integer, received 0/,
  );
  assert.throws(() => new AdaptiveLimiter({ max: 2.5 }), RangeError);
  assert.throws(() => new AdaptiveLimiter({ algorithm: "vegas" as never }), /'algorithm'/);
  assert.throws(() => new AdaptiveLimiter({ isOverload: 1 as never }), TypeError);
  assert.throws(() => new AdaptiveLimiter({ initial: "3" as never }), TypeError);
});

Deno.test("a wait for a permit that is cancelled is neither a sample nor a drop", async () => {
  const limiter = new AdaptiveLimiter({ initial: 1 });
  const calls = startCalls(limiter, 1);
  await flush();
  const controller = new AbortController();
  const waiting = limiter.use(() => "never", { signal: controller.signal });
  controller.abort(new TimeoutError("gave up waiting"));
  await assert.rejects(waiting, TimeoutError);
  calls.finish(0);
  await calls.done;
  const s = limiter.statistics();
  assert.equal(s.drops, 0, "a timeout while waiting says nothing about the downstream");
  assert.equal(s.successes, 1);
});
