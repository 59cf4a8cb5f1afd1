// Copyright 2026 the @lionpride/core authors. MIT license.
import assert from "node:assert/strict";
import {
  CancelledError,
  CancelScope,
  currentTime,
  failAfter,
  RateLimiter,
  RateLimitError,
  TimeoutError,
} from "../mod.ts";
import { pendingDeadlines } from "../concurrency/clock.ts";
import { withFakeTime } from "./_fake_time.ts";
import { flush, track } from "./_helpers.ts";

Deno.test("a burst of `limit` passes at once, then one per emission interval", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 4, period: 1_000 });
    for (let i = 0; i < 4; i++) assert.equal(limiter.tryAcquire(), true);
    assert.equal(limiter.tryAcquire(), false);
    const fifth = track(limiter.acquire());
    await clock.tickAsync(249);
    assert.equal(fifth.settled, false);
    await clock.tickAsync(1);
    assert.equal(fifth.settled, true);
    assert.equal(currentTime(), 250);
  });
});

Deno.test("burst can be set apart from limit", () => {
  const limiter = new RateLimiter({ limit: 10, period: 1_000, burst: 2 });
  assert.equal(limiter.tryAcquire(), true);
  assert.equal(limiter.tryAcquire(), true);
  assert.equal(limiter.tryAcquire(), false);
  assert.equal(limiter.burst, 2);
});

Deno.test("waiters are granted strictly in arrival order, each with its own cost", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 10, period: 1_000 }); // 100 ms per unit
    assert.equal(limiter.tryAcquire(10), true);
    const order: string[] = [];
    const times: number[] = [];
    const done = [
      limiter.acquire({ cost: 3 }).then(() => (order.push("a"), times.push(currentTime()))),
      limiter.acquire({ cost: 1 }).then(() => (order.push("b"), times.push(currentTime()))),
      limiter.acquire({ cost: 2 }).then(() => (order.push("c"), times.push(currentTime()))),
    ];
    assert.equal(limiter.waiting, 3);
    await clock.tickAsync(1_000);
    await Promise.all(done);
    assert.deepEqual(order, ["a", "b", "c"]);
    assert.deepEqual(times, [300, 400, 600]);
  });
});

Deno.test("tryAcquire fails while anyone waits, even when its cost would fit", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 10, period: 1_000 });
    assert.equal(limiter.tryAcquire(9), true);
    const big = limiter.acquire({ cost: 5 }); // needs 400 ms
    await clock.tickAsync(100); // one unit is free now, but the big waiter is first
    assert.equal(limiter.tryAcquire(1), false);
    assert.equal(limiter.statistics().available, 0);
    await clock.tickAsync(300);
    await big;
    assert.equal(limiter.waiting, 0);
  });
});

Deno.test("fractional costs add up exactly", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 1, period: 1_000 });
    assert.equal(limiter.tryAcquire(0.5), true);
    assert.equal(limiter.tryAcquire(0.5), true);
    assert.equal(limiter.tryAcquire(0.25), false);
    assert.equal(limiter.retryAfter(0.25), 250);
    await clock.tickAsync(250);
    assert.equal(limiter.tryAcquire(0.25), true);
  });
});

Deno.test("retryAfter counts the calls already waiting", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 10, period: 1_000 });
    assert.equal(limiter.retryAfter(), 0);
    limiter.tryAcquire(10);
    assert.equal(limiter.retryAfter(), 100);
    const waiting = limiter.acquire({ cost: 2 });
    assert.equal(limiter.retryAfter(), 300);
    assert.equal(limiter.retryAfter(3), 500);
    await clock.tickAsync(200);
    await waiting;
  });
});

Deno.test("a cancelled waiter gives its place back: the waiter behind it moves up", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 10, period: 1_000 });
    limiter.tryAcquire(10);
    const controller = new AbortController();
    const first = track(limiter.acquire({ cost: 5, signal: controller.signal }));
    const second = track(limiter.acquire({ cost: 1 }));
    await clock.tickAsync(50);
    controller.abort(new Error("no longer needed"));
    await flush();
    assert.equal(first.rejected, true);
    assert.equal((first.error as Error).message, "no longer needed");
    await clock.tickAsync(49);
    assert.equal(second.settled, false);
    await clock.tickAsync(1);
    assert.equal(second.settled, true, "granted at 100 ms, not 600 ms");
  });
});

Deno.test("a wait is cancelled by the ambient scope and takes no cost", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 1, period: 1_000 });
    limiter.tryAcquire();
    const scope = new CancelScope();
    const waiting = track(scope.run(() => limiter.acquire()));
    await flush();
    assert.equal(limiter.waiting, 1);
    scope.cancel();
    await flush();
    assert.equal(waiting.settled, true);
    assert.equal(scope.cancelledCaught, true);
    assert.equal(limiter.waiting, 0);
    await clock.tickAsync(1_000);
    assert.equal(limiter.tryAcquire(), true, "the cancelled wait took nothing");
  });
});

Deno.test("acquire in a cancelled scope or with an aborted signal rejects at once", async () => {
  const limiter = new RateLimiter({ limit: 1, period: 1_000 });
  const signal = AbortSignal.abort(new Error("aborted"));
  await assert.rejects(limiter.acquire({ signal }), /aborted/);
  const scope = new CancelScope();
  scope.cancel();
  await scope.run(async () => {
    await assert.rejects(limiter.acquire(), CancelledError);
  });
  assert.equal(limiter.tryAcquire(), true, "nothing was taken");
});

Deno.test("a grant at or after the ambient deadline rejects at once with RateLimitError", async () => {
  await withFakeTime(async () => {
    const limiter = new RateLimiter({ limit: 1, period: 1_000 });
    limiter.tryAcquire();
    const err = await failAfter(500, () => limiter.acquire()).catch((e) => e);
    assert.ok(err instanceof RateLimitError, String(err));
    assert.equal(err.retryAfter, 1_000);
    assert.equal(currentTime(), 0, "it did not sleep into the timeout");
    assert.equal(limiter.waiting, 0, "nothing reserved");
    assert.equal(limiter.retryAfter(), 1_000);
  });
});

Deno.test("the deadline rejection says both waits in whole ms from now", async () => {
  await withFakeTime(async () => {
    const limiter = new RateLimiter({ limit: 3, period: 1_000 });
    for (let i = 0; i < 3; i++) assert.ok(limiter.tryAcquire());
    const err = await failAfter(100, () => limiter.acquire()).catch((e) => e);
    assert.ok(err instanceof RateLimitError, String(err));
    assert.equal(
      err.message,
      "RateLimiter: cost 1 would be granted in 334 ms, after the deadline in 100 ms",
    );
  });
});

Deno.test("a burst below 1, which no default-cost call could ever pass, is a RangeError", () => {
  assert.throws(() => new RateLimiter({ limit: 1, period: 1, burst: 0.5 }), {
    name: "RangeError",
    message: /'burst' must be a finite number >= 1, received 0.5/,
  });
  assert.throws(() => new RateLimiter({ limit: 0.5, period: 1_000 }), {
    name: "RangeError",
    message: /'burst' \(default: 'limit'\) must be >= 1, received 0.5/,
  });
  const limiter = new RateLimiter({ limit: 1, period: 2_000, burst: 1.5 });
  assert.ok(limiter.tryAcquire(0.75) && limiter.tryAcquire(0.75), "fractional costs still pass");
  assert.throws(() => (limiter.burst = 0.5), RangeError);
  assert.equal(limiter.burst, 1.5);
});

Deno.test("a grant before the ambient deadline waits for it", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 1, period: 1_000 });
    limiter.tryAcquire();
    const result = track(failAfter(1_500, () => limiter.acquire()));
    await clock.tickAsync(1_000);
    assert.equal(result.settled, true);
    assert.equal(result.rejected, false);
  });
});

Deno.test("a deadline reached while waiting cancels the wait with TimeoutError", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 1, period: 1_000 });
    limiter.tryAcquire();
    const result = track(failAfter(1_500, () => limiter.acquire()));
    limiter.period = 10_000; // the grant moves past the deadline
    await clock.tickAsync(1_500);
    assert.ok(result.error instanceof TimeoutError);
    assert.equal(limiter.waiting, 0);
  });
});

Deno.test("raising limit re-times the waiters at once", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 1, period: 1_000 });
    limiter.tryAcquire();
    const waiting = track(limiter.acquire());
    await clock.tickAsync(100);
    limiter.limit = 10; // the debt of 900 ms shrinks to 90 ms
    await clock.tickAsync(89);
    assert.equal(waiting.settled, false);
    await clock.tickAsync(1);
    assert.equal(waiting.settled, true);
  });
});

Deno.test("lowering the rate delays the waiters at once", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 2, period: 1_000 });
    limiter.tryAcquire(2);
    const waiting = track(limiter.acquire());
    limiter.period = 2_000;
    await clock.tickAsync(999);
    assert.equal(waiting.settled, false);
    await clock.tickAsync(1);
    assert.equal(waiting.settled, true);
  });
});

Deno.test("raising burst lets a waiter through at once", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 1, period: 1_000 });
    limiter.tryAcquire();
    const waiting = track(limiter.acquire());
    limiter.burst = 2;
    await flush();
    assert.equal(waiting.settled, true);
    assert.equal(clock.now, 0);
  });
});

Deno.test("burst cannot be set below the cost of a waiting call", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 4, period: 1_000 });
    limiter.tryAcquire(4);
    const waiting = limiter.acquire({ cost: 3 });
    assert.throws(() => (limiter.burst = 2), /'burst' must be >= the cost of every waiting call/);
    assert.equal(limiter.burst, 4);
    await clock.tickAsync(750);
    await waiting;
  });
});

Deno.test("no timer runs while nobody waits", async () => {
  await withFakeTime(async (clock) => {
    const before = pendingDeadlines();
    const limiter = new RateLimiter({ limit: 1, period: 1_000 });
    limiter.tryAcquire();
    assert.equal(pendingDeadlines(), before);
    const waiting = limiter.acquire();
    assert.equal(pendingDeadlines(), before + 1);
    await clock.tickAsync(1_000);
    await waiting;
    assert.equal(pendingDeadlines(), before);
    const controller = new AbortController();
    const cancelled = limiter.acquire({ signal: controller.signal });
    controller.abort();
    await assert.rejects(cancelled);
    assert.equal(pendingDeadlines(), before);
  });
});

Deno.test("use runs fn after its cost passed and returns its value", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 1, period: 100 });
    limiter.tryAcquire();
    const result = track(limiter.use(() => currentTime(), { cost: 1 }));
    await clock.tickAsync(100);
    assert.equal(result.value, 100);
    await assert.rejects(limiter.use(null as never), TypeError);
  });
});

Deno.test("statistics report settings, waiters and the cost available now", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new RateLimiter({ limit: 10, period: 1_000, burst: 5 });
    assert.deepEqual(limiter.statistics(), {
      limit: 10,
      period: 1_000,
      burst: 5,
      waiting: 0,
      available: 5,
    });
    limiter.tryAcquire(5);
    await clock.tickAsync(250);
    assert.equal(limiter.statistics().available, 2.5);
  });
});

Deno.test("the limiter prints its live state", () => {
  const limiter = new RateLimiter({ limit: 10, period: 1_000 });
  limiter.tryAcquire(3);
  assert.match(
    Deno.inspect(limiter),
    /^RateLimiter \{ limit: 10\/1000 ms, burst: 10, available: 7(\.\d+)?, waiting: 0 \}$/,
  );
});

Deno.test("bad settings are RangeErrors that name the option and the value", () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ limit: 0, period: 1 }, /'limit' must be a finite number > 0, received 0/],
    [{ limit: -1, period: 1 }, /'limit' .* received -1/],
    [{ limit: NaN, period: 1 }, /'limit' .* received NaN/],
    [{ limit: 1, period: 0 }, /'period' .* received 0/],
    [{ limit: 1, period: NaN }, /'period' .* received NaN/],
    [{ limit: 1, period: Infinity }, /'period' .* received Infinity/],
    [{ limit: 1, period: 1, burst: 0 }, /'burst' .* received 0/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => new RateLimiter(options as never), RangeError);
    assert.throws(() => new RateLimiter(options as never), message);
  }
  assert.throws(() => new RateLimiter({ limit: "1", period: 1 } as never), TypeError);
  assert.throws(() => new RateLimiter(undefined as never), TypeError);
  const limiter = new RateLimiter({ limit: 1, period: 1 });
  assert.throws(() => (limiter.limit = 0), /RateLimiter.limit: 'limit' .* received 0/);
  assert.throws(() => (limiter.period = NaN), RangeError);
  assert.equal(limiter.limit, 1);
});

Deno.test("a cost above burst, zero or negative is a RangeError naming cost", async () => {
  const limiter = new RateLimiter({ limit: 2, period: 1_000 });
  assert.throws(() => limiter.tryAcquire(3), /'cost' must be <= burst \(2\), received 3/);
  assert.throws(() => limiter.tryAcquire(0), /'cost' .* received 0/);
  assert.throws(() => limiter.retryAfter(-1), RangeError);
  await assert.rejects(limiter.acquire({ cost: 2.5 }), RangeError);
  await assert.rejects(limiter.acquire({ cost: NaN }), /'cost' .* received NaN/);
  await assert.rejects(limiter.acquire({ cost: "1" as never }), TypeError);
  await assert.rejects(limiter.acquire({ signal: "x" as never }), TypeError);
  assert.equal(limiter.tryAcquire(2), true, "nothing was taken by the bad calls");
});
