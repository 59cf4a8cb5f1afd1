// Copyright 2026 the @lionpride/core authors. MIT license.
// API.md §2 (timeouts that say where they fired) and §10 (Retry-After,
// maxRetryAfter, default retryability, limiter and rateLimiter) in the attempt
// loop shared by retry and alcall.
import assert from "node:assert/strict";
import {
  alcall,
  CapacityLimiter,
  currentTime,
  failAfter,
  RateLimitError,
  retry,
  sleep,
  TimeoutError,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";

/** Waits until `signal` aborts, then rejects with its reason. */
/** Runs `fn` with `Math.random` returning `value`, to pin the spread of Retry-After waits. */
async function withRandom<T>(value: number, fn: () => Promise<T>): Promise<T> {
  const random = Math.random;
  Math.random = () => value;
  try {
    return await fn();
  } finally {
    Math.random = random;
  }
}

function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** An error with an HTTP-like status and an optional Retry-After hint. */
function httpError(status: number, retryAfter?: number): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status, retryAfter });
}

Deno.test("alcall's attemptTimeout fails with a TimeoutError naming the item, the attempt, the budget and the source", async () => {
  await withFakeTime(async (clock) => {
    const p = alcall([0, 1], (x, ctx) => x === 1 ? hang(ctx.signal) : x, {
      attemptTimeout: 50,
      retryAttempts: 1,
      returnExceptions: true,
    });
    await clock.tickAsync(100);
    const err = (await p)[1];
    assert.ok(err instanceof TimeoutError);
    assert.equal(err.message, "item 1: attempt 2 timed out after 50 ms (attemptTimeout)");
    assert.equal(err.timeout, 50);
    assert.equal(err.source, "attemptTimeout");
  });
});

Deno.test("alcall's retryTimeout during a backoff sleep names the attempt that last failed", async () => {
  await withFakeTime(async (clock) => {
    const p = alcall(["x"], () => {
      throw new Error("always");
    }, { retryAttempts: 10, retryInitialDelay: 40, retryTimeout: 100, returnExceptions: true });
    await clock.tickAsync(100);
    const err = (await p)[0];
    assert.ok(err instanceof TimeoutError);
    assert.equal(err.message, "item 0: attempt 3 timed out after 100 ms (retryTimeout)");
    assert.equal(err.source, "retryTimeout");
    assert.equal(err.timeout, 100);
  });
});

Deno.test("a user's own failAfter inside an item keeps its TimeoutError, not alcall's label", async () => {
  await withFakeTime(async (clock) => {
    const p = alcall([0], () => failAfter(10, () => sleep(1_000)), {
      attemptTimeout: 500,
      returnExceptions: true,
    });
    await clock.tickAsync(10);
    const err = (await p)[0];
    assert.ok(err instanceof TimeoutError);
    assert.notEqual(err.source, "attemptTimeout");
    assert.doesNotMatch(err.message, /item 0/);
  });
});

Deno.test("retry waits max(backoff, retryAfter) before the next attempt", async () => {
  await withRandom(0, () =>
    withFakeTime(async (clock) => {
      const starts: number[] = [];
      const p = retry(({ attempt }) => {
        starts.push(currentTime());
        if (attempt === 1) throw httpError(503, 700);
        if (attempt === 2) throw httpError(503, 10); // shorter than the backoff (200)
        return "ok";
      }, { baseDelay: 100, jitter: 0 });
      await clock.tickAsync(1_000);
      assert.equal(await p, "ok");
      assert.deepEqual(starts, [0, 700, 900]);
    }));
});

Deno.test("alcall waits max(backoff, retryAfter) before the next attempt, its backoff jitter-free", async () => {
  await withRandom(0, () =>
    withFakeTime(async (clock) => {
      const starts: number[] = [];
      const p = alcall([0], (_x, ctx) => {
        starts.push(currentTime());
        if (ctx.attempt === 1) throw new RateLimitError("slow down", { retryAfter: 250 });
        return "ok";
      }, { retryAttempts: 2, retryInitialDelay: 50 });
      await clock.tickAsync(300);
      assert.deepEqual(await p, ["ok"]);
      assert.deepEqual(starts, [0, 250]);
    }));
});

Deno.test("a retryAfter longer than maxRetryAfter (Infinity too) gives up at once, whatever retryOn says", async () => {
  for (const hint of [60_001, Infinity]) {
    let calls = 0;
    const err = httpError(429, hint);
    const out = await retry(() => {
      calls++;
      throw err;
    }, { retryOn: () => true }).catch((e) => e);
    assert.equal(out, err);
    assert.equal(calls, 1);
  }
  let calls = 0;
  const out = await alcall([0], () => {
    calls++;
    throw httpError(429, 2_000);
  }, { retryAttempts: 3, maxRetryAfter: 1_000, returnExceptions: true });
  assert.equal((out[0] as unknown as { status: number }).status, 429);
  assert.equal(calls, 1);
});

Deno.test("a retryAfter ending after the effective deadline gives up at once with that error", async () => {
  await withFakeTime(async (clock) => {
    let calls = 0;
    const err = httpError(503, 500);
    const p = failAfter(300, () =>
      retry(() => {
        calls++;
        throw err;
      }, { jitter: 0 })).catch((e) => e);
    await clock.tickAsync(0);
    assert.equal(await p, err);
    assert.equal(calls, 1);
    const q = alcall([0], () => {
      calls++;
      throw err;
    }, { retryAttempts: 3, retryTimeout: 400, returnExceptions: true });
    await clock.tickAsync(0);
    assert.equal((await q)[0], err);
    assert.equal(calls, 2);
  });
});

Deno.test("by default only retryable statuses are retried; retryOn overrides", async () => {
  const callsFor = async (status: number, retryOn?: (e: unknown) => boolean) => {
    let calls = 0;
    await alcall([0], () => {
      calls++;
      throw httpError(status);
    }, { retryAttempts: 2, returnExceptions: true, retryOn });
    return calls;
  };
  assert.equal(await callsFor(400), 1);
  assert.equal(await callsFor(404), 1);
  assert.equal(await callsFor(503), 3);
  assert.equal(await callsFor(429), 3);
  assert.equal(await callsFor(400, () => true), 3);
  let calls = 0;
  await retry(() => {
    calls++;
    throw httpError(401);
  }, { baseDelay: 1 }).catch(() => {});
  assert.equal(calls, 1);
});

Deno.test("alcall's limiter: each attempt holds one permit while it runs, none during backoff sleeps", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new CapacityLimiter(1);
    let oneRanAt = -1;
    const limits: Array<number | undefined> = [];
    const p = alcall([0, 1], async (x, ctx) => {
      if (x === 1) oneRanAt = currentTime();
      await sleep(10);
      if (x === 0 && ctx.attempt === 1) throw new Error("again");
      return x;
    }, {
      limiter,
      retryAttempts: 1,
      retryInitialDelay: 30,
      onProgress: (pr) => limits.push(pr.limit),
    });
    await clock.tickAsync(100);
    assert.deepEqual(await p, [0, 1]);
    // Item 0 failed at 10 and sleeps until 40: item 1 got the only permit at 10.
    assert.equal(oneRanAt, 10);
    assert.equal(limiter.borrowedTokens, 0);
    assert.ok(limits.length > 0 && limits.every((l) => l === 1));
  });
});

Deno.test("alcall: waiting for a limiter's permit counts against retryTimeout, not attemptTimeout", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new CapacityLimiter(1);
    const p = alcall([0, 1], async (x) => {
      await sleep(x === 0 ? 80 : 10);
      return x;
    }, {
      limiter,
      maxConcurrent: 2,
      attemptTimeout: 50,
      retryTimeout: 200,
      returnExceptions: true,
    });
    await clock.tickAsync(200);
    const out = await p;
    assert.ok(out[0] instanceof TimeoutError); // item 0 ran 80 > 50 ms
    assert.equal(out[1], 1); // item 1 waited 50 ms for the permit, then ran 10 ms
  });
});

Deno.test("alcall's rateLimiter is asked before every attempt, and its RateLimitError is a retryable failure", async () => {
  await withRandom(0, () =>
    withFakeTime(async (clock) => {
      const asked: number[] = [];
      let refuse = 1;
      const rateLimiter = {
        acquire(options?: { cost?: number }): Promise<void> {
          assert.equal(options?.cost, 1);
          asked.push(currentTime());
          if (refuse-- > 0) return Promise.reject(new RateLimitError("busy", { retryAfter: 40 }));
          return Promise.resolve();
        },
      };
      let calls = 0;
      const p = alcall([0], (_x, ctx) => {
        calls++;
        if (ctx.attempt === 2) throw new Error("flaky");
        return ctx.attempt;
      }, { rateLimiter, retryAttempts: 3, retryInitialDelay: 5 });
      await clock.tickAsync(100);
      assert.deepEqual(await p, [3]);
      assert.deepEqual(asked, [0, 40, 45]);
      assert.equal(calls, 2);
    }));
});

Deno.test("retry and alcall reject a bad maxRetryAfter, limiter or rateLimiter, naming it and the value", async () => {
  await assert.rejects(
    retry(() => 1, { maxRetryAfter: -1 }),
    (err) =>
      err instanceof RangeError &&
      err.message === "Cannot retry: 'maxRetryAfter' must be a number >= 0, received -1",
  );
  await assert.rejects(
    alcall([1], (x) => x, { maxRetryAfter: -5 }),
    /Cannot call alcall: 'maxRetryAfter' must be a number >= 0, received -5/,
  );
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    alcall([1], (x) => x, { limiter: {} as any }),
    /Cannot call alcall: 'limiter' must be an object with a use\(\) method, received object/,
  );
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    alcall([1], (x) => x, { rateLimiter: 3 as any }),
    (err) => err instanceof TypeError && /'rateLimiter'.*received 3/.test(err.message),
  );
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    alcall([1], (x) => x, { rateLimiter: {} as any }),
    /'rateLimiter' must be an object with an acquire\(\) method, received object/,
  );
});

Deno.test("retries that wait out a Retry-After are spread up to 10 % later, never earlier", async () => {
  for (const random of [0, 0.5, 0.999]) {
    const expected = 250 * (1 + random * 0.1); // timers fire on whole milliseconds
    await withRandom(random, () =>
      withFakeTime(async (clock) => {
        const starts: number[] = [];
        const p = alcall([0], (_x, ctx) => {
          starts.push(currentTime());
          if (ctx.attempt === 1) throw new RateLimitError("slow down", { retryAfter: 250 });
          return "ok";
        }, { retryAttempts: 1 });
        await clock.tickAsync(300);
        assert.deepEqual(await p, ["ok"]);
        assert.ok(Math.abs(starts[1] - expected) <= 1, `retried at ${starts[1]}, not ~${expected}`);
      }));
  }
});
