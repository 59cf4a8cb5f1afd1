// Copyright 2026 the @lionpride/core authors. MIT license.
import assert from "node:assert/strict";
import {
  alcall,
  type AlcallProgress,
  CancelledError,
  CancelScope,
  currentTime,
  ExceptionGroup,
  failAfter,
  moveOnAfter,
  TimeoutError,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";

/**
 * Waits `ms` (virtual) milliseconds through the global timer and honours only
 * `signal`, rejecting with its reason, as `fetch` does.
 */
function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(id);
      reject(signal!.reason);
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waits until `signal` aborts, then rejects with its reason. */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Follows a promise so a test can look at its state without awaiting it. */
function track<T>(promise: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error) => Object.assign(state, { done: true, error }),
  );
  return state;
}

/**
 * Marks `promise` as handled, so a test whose code under test rejects too
 * early fails on its assertion instead of crashing the file; awaiting the
 * returned promise still throws.
 */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

const last = (log: AlcallProgress[]): AlcallProgress => log[log.length - 1];

// ---------------------------------------------------------------------------
// Input, output and order

Deno.test("alcall returns results in input order whatever the completion order", async () => {
  await withFakeTime(async (clock) => {
    const finished: number[] = [];
    const p = quiet(alcall([30, 10, 20], async (ms) => {
      await delay(ms);
      finished.push(ms);
      return ms * 2;
    }));
    await clock.tickAsync(30);
    assert.deepEqual(await p, [60, 20, 40]);
    assert.deepEqual(finished, [10, 20, 30]);
  });
});

Deno.test("alcall takes a string, a number, null and an object as one item each", async () => {
  const obj = { a: 1 };
  for (const input of ["abc", 42, null, obj]) {
    const seen: unknown[] = [];
    const out = await alcall(input as unknown, (x) => {
      seen.push(x);
      return "ok";
    });
    assert.deepEqual(out, ["ok"]);
    assert.deepEqual(seen, [input]);
    assert.equal(seen[0], input);
  }
});

Deno.test("alcall iterates a Set, a generator and a Map like an array", async () => {
  function* gen() {
    yield 1;
    yield 2;
  }
  assert.deepEqual(await alcall(new Set([1, 2, 2]), (x) => x * 10), [10, 20]);
  assert.deepEqual(await alcall(gen(), (x) => x + 1), [2, 3]);
  assert.deepEqual(await alcall(new Map([["k", 1]]), ([k, v]) => `${k}=${v}`), ["k=1"]);
});

Deno.test("alcall accepts a sync function, and a sync throw is that item's failure", async () => {
  assert.deepEqual(await alcall([1, 2], (x) => x + 1), [2, 3]);
  const boom = new Error("sync boom");
  const out = await alcall([1, 2], (x) => {
    if (x === 2) throw boom;
    return x;
  }, { returnExceptions: true });
  assert.deepEqual(out, [1, boom]);
  assert.equal(out[1], boom);
});

Deno.test("alcall calls fn as a plain function, without exposing its internals as `this`", async () => {
  const thisValues: unknown[] = [];
  await alcall([1], function (this: unknown) {
    thisValues.push(this);
  });
  await alcall([1], function (this: unknown) {
    thisValues.push(this);
  }, { retryAttempts: 1 });
  assert.deepEqual(thisValues, [undefined, undefined]);
});

Deno.test("alcall on an empty input resolves [] without calling fn", async () => {
  let calls = 0;
  assert.deepEqual(await alcall([], () => calls++), []);
  assert.deepEqual(await alcall([], () => calls++, { retryAttempts: 2, attemptTimeout: 5 }), []);
  assert.equal(calls, 0);
});

Deno.test("alcall works on a snapshot of the input array", async () => {
  const input = [1, 2, 3];
  const seen: number[] = [];
  const out = await alcall(input, async (x) => {
    input.push(x * 100); // must not add items to the running call
    await Promise.resolve();
    seen.push(x);
    return x;
  });
  assert.deepEqual(out, [1, 2, 3]);
  assert.deepEqual(seen, [1, 2, 3]);
});

Deno.test("alcall input options flatten, drop nulls and deduplicate before calling", async () => {
  const calls: Array<[unknown, number]> = [];
  const out = await alcall(
    [1, [null, 2, [1, { a: 1 }]], { a: 1 }, undefined],
    (x, ctx) => {
      calls.push([x, ctx.index]);
      return x;
    },
    { inputFlatten: true, inputDropna: true, inputUnique: true },
  );
  assert.deepEqual(out, [1, 2, { a: 1 }]);
  assert.deepEqual(calls, [[1, 0], [2, 1], [{ a: 1 }, 2]]);
  // Each flag alone.
  assert.deepEqual(await alcall([[1], [2, [3]]], (x) => x, { inputFlatten: true }), [1, 2, 3]);
  assert.deepEqual(await alcall([1, null, undefined], (x) => x, { inputDropna: true }), [1]);
  assert.deepEqual(await alcall([1, 1, 2], (x) => x, { inputUnique: true }), [1, 2]);
  assert.deepEqual(await alcall(null, (x) => x, { inputDropna: true }), []);
});

Deno.test("alcall output options flatten, drop nulls and deduplicate the results", async () => {
  const f = (x: number) => (x === 0 ? null : [x, [x % 2]]);
  assert.deepEqual(await alcall([0, 1, 2], f), [null, [1, [1]], [2, [0]]]);
  assert.deepEqual(await alcall([0, 1, 2], f, { outputFlatten: true }), [null, 1, 1, 2, 0]);
  assert.deepEqual(
    await alcall([0, 1, 2], f, { outputFlatten: true, outputDropna: true, outputUnique: true }),
    [1, 2, 0],
  );
  assert.deepEqual(await alcall([0, 1], (x) => (x ? x : undefined), { outputDropna: true }), [1]);
  assert.deepEqual(await alcall([1, 2], () => ({ k: 1 }), { outputUnique: true }), [{ k: 1 }]);
});

// ---------------------------------------------------------------------------
// Retries

Deno.test("alcall retryAttempts counts retries after the first attempt", async () => {
  const attempts: number[] = [];
  const errors = [1, 2, 3, 4].map((n) => new Error(`attempt ${n}`));
  const out = await alcall(["x"], (_x, ctx) => {
    attempts.push(ctx.attempt);
    throw errors[ctx.attempt - 1];
  }, { retryAttempts: 3, returnExceptions: true });
  assert.deepEqual(attempts, [1, 2, 3, 4]);
  assert.equal(out[0], errors[3]); // the last attempt's error
});

Deno.test("alcall succeeds on the first attempt that succeeds and stops retrying", async () => {
  let calls = 0;
  const out = await alcall(["x"], (x, ctx) => {
    calls++;
    if (ctx.attempt < 3) throw new Error("flaky");
    return x.toUpperCase();
  }, { retryAttempts: 5 });
  assert.deepEqual(out, ["X"]);
  assert.equal(calls, 3);
});

Deno.test("alcall waits retryInitialDelay * retryBackoff^(k-1) before retry k (exact virtual times)", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const p = track(alcall(["x"], () => {
      times.push(currentTime());
      throw new Error("always");
    }, { retryAttempts: 3, retryInitialDelay: 100, retryBackoff: 2, returnExceptions: true }));
    await clock.tickAsync(699);
    assert.deepEqual(times, [0, 100, 300]);
    assert.equal(p.done, false);
    await clock.tickAsync(1);
    assert.deepEqual(times, [0, 100, 300, 700]);
    await clock.tickAsync(0);
    assert.equal(p.done, true);
    assert.ok((p.value as unknown[])[0] instanceof Error);
  });
});

Deno.test("alcall retryBackoff defaults to 1: every retry waits retryInitialDelay", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const p = quiet(alcall(["x"], () => {
      times.push(currentTime());
      throw new Error("always");
    }, { retryAttempts: 3, retryInitialDelay: 25, returnExceptions: true }));
    await clock.tickAsync(100);
    await p;
    assert.deepEqual(times, [0, 25, 50, 75]);
  });
});

Deno.test("alcall retryDefault stands in after exactly retryAttempts + 1 failed calls", async () => {
  let calls = 0;
  const log: AlcallProgress[] = [];
  const out = await alcall([1, 2], (x) => {
    if (x === 2) {
      calls++;
      throw new Error("always");
    }
    return x;
  }, { retryAttempts: 2, retryDefault: -1, onProgress: (p) => log.push(p) });
  assert.deepEqual(out, [1, -1]);
  assert.equal(calls, 3);
  assert.deepEqual(last(log), {
    total: 2,
    started: 2,
    succeeded: 1,
    failed: 1,
    retries: 2,
    running: 0,
  });
});

Deno.test("alcall retryDefault null is a default; undefined means no default", async () => {
  const boom = new Error("boom");
  const fail = () => {
    throw boom;
  };
  assert.deepEqual(await alcall([1], fail, { retryDefault: null }), [null]);
  const out = await alcall([1], fail, { retryDefault: undefined, returnExceptions: true });
  assert.equal(out[0], boom);
});

Deno.test("alcall retryOn decides which errors are retried", async () => {
  class Transient extends Error {}
  const seen: unknown[] = [];
  let calls = 0;
  const fatal = new Error("fatal");
  const out = await alcall(["x"], (_x, ctx) => {
    calls++;
    if (ctx.attempt === 1) throw new Transient("again");
    throw fatal;
  }, {
    retryAttempts: 5,
    retryOn: (err) => {
      seen.push(err);
      return err instanceof Transient;
    },
    returnExceptions: true,
  });
  assert.equal(calls, 2); // the fatal error was not retried
  assert.equal(out[0], fatal);
  assert.equal(seen.length, 2);
  assert.ok(seen[0] instanceof Transient);
});

Deno.test("alcall retryDefault stands in for an error retryOn refuses to retry", async () => {
  let calls = 0;
  const out = await alcall(["x"], () => {
    calls++;
    throw new Error("not found");
  }, { retryAttempts: 3, retryOn: () => false, retryDefault: "fallback" });
  assert.deepEqual(out, ["fallback"]);
  assert.equal(calls, 1);
});

Deno.test("alcall never retries an AbortError from fn nor replaces it by retryDefault", async () => {
  let calls = 0;
  const abort = new DOMException("fetch aborted", "AbortError");
  const out = await alcall(["x"], () => {
    calls++;
    throw abort;
  }, { retryAttempts: 3, retryDefault: "fallback", returnExceptions: true });
  assert.equal(calls, 1);
  assert.equal(out[0], abort);
});

Deno.test("alcall: an AbortError while the call is not cancelled is that item's final failure", async () => {
  const abort = new DOMException("aborted by someone else", "AbortError");
  let otherCalls = 0;
  await assert.rejects(
    alcall([1, 2], async (x) => {
      await null;
      if (x === 1) throw abort;
      otherCalls++;
      return x;
    }, { maxConcurrent: 1 }),
    (err: unknown) => {
      assert.ok(err instanceof ExceptionGroup);
      assert.deepEqual(err.exceptions, [abort]);
      return true;
    },
  );
  assert.equal(otherCalls, 0);
  // A CancelledError raised by fn on its own counts the same way.
  const own = new CancelledError("from an unrelated scope");
  const out = await alcall([1], () => {
    throw own;
  }, { returnExceptions: true, retryAttempts: 2 });
  assert.equal(out[0], own);
});

// ---------------------------------------------------------------------------
// Timeouts

Deno.test("alcall attemptTimeout cancels a slow attempt with TimeoutError and retries it", async () => {
  await withFakeTime(async (clock) => {
    const starts: number[] = [];
    const aborted: Array<[number, unknown]> = [];
    const p = quiet(alcall(["x"], async (x, ctx) => {
      starts.push(currentTime());
      ctx.signal.addEventListener("abort", () => aborted.push([currentTime(), ctx.signal.reason]));
      if (ctx.attempt < 3) await hang(ctx.signal);
      await delay(10, ctx.signal);
      return `${x}${ctx.attempt}`;
    }, { attemptTimeout: 50, retryAttempts: 2, retryInitialDelay: 5 }));
    await clock.tickAsync(200);
    assert.deepEqual(await p, ["x3"]);
    assert.deepEqual(starts, [0, 55, 110]);
    assert.deepEqual(aborted.map(([t]) => t), [50, 105]);
    assert.ok(aborted.every(([, reason]) => reason instanceof CancelledError));
  });
});

Deno.test("alcall attemptTimeout gives TimeoutError once every attempt timed out", async () => {
  await withFakeTime(async (clock) => {
    let calls = 0;
    const p = quiet(alcall([1, 2], async (x, ctx) => {
      if (x === 2) {
        calls++;
        await hang(ctx.signal);
      }
      return x;
    }, { attemptTimeout: 20, retryAttempts: 1, returnExceptions: true }));
    await clock.tickAsync(40);
    const out = await p;
    assert.equal(out[0], 1);
    assert.ok(out[1] instanceof TimeoutError);
    assert.equal(calls, 2);
  });
});

Deno.test("alcall retryTimeout bounds the whole item, attempts and backoff sleeps", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const p = track(alcall(["x"], () => {
      times.push(currentTime());
      throw new Error("always");
    }, { retryAttempts: 10, retryInitialDelay: 40, retryTimeout: 100, returnExceptions: true }));
    await clock.tickAsync(99);
    assert.equal(p.done, false);
    await clock.tickAsync(1);
    await clock.tickAsync(0);
    assert.deepEqual(times, [0, 40, 80]);
    assert.equal(p.done, true);
    assert.ok((p.value as unknown[])[0] instanceof TimeoutError);
  });
});

Deno.test("alcall retryTimeout aborts ctx.signal of the attempt running at the deadline", async () => {
  await withFakeTime(async (clock) => {
    let abortedAt = -1;
    const p = quiet(alcall(["x"], async (_x, ctx) => {
      ctx.signal.addEventListener("abort", () => (abortedAt = currentTime()));
      await hang(ctx.signal);
    }, { retryTimeout: 30, returnExceptions: true }));
    await clock.tickAsync(30);
    const out = await p;
    assert.equal(abortedAt, 30);
    assert.ok(out[0] instanceof TimeoutError);
  });
});

Deno.test("alcall retryDefault stands in for an item whose retryTimeout ran out", async () => {
  await withFakeTime(async (clock) => {
    const p = quiet(
      alcall([1], (_x, ctx) => hang(ctx.signal), { retryTimeout: 10, retryDefault: 0 }),
    );
    await clock.tickAsync(10);
    assert.deepEqual(await p, [0]);
  });
});

Deno.test("alcall attempt and item timeouts are capped by the ambient deadline (failAfter)", async () => {
  await withFakeTime(async (clock) => {
    let abortedAt = -1;
    const p = track(failAfter(100, () =>
      alcall(["x"], async (_x, ctx) => {
        ctx.signal.addEventListener("abort", () => (abortedAt = currentTime()));
        await hang(ctx.signal);
      }, {
        attemptTimeout: 1_000,
        retryTimeout: 5_000,
        retryAttempts: 3,
        returnExceptions: true,
      })));
    await clock.tickAsync(100);
    await clock.tickAsync(0);
    assert.equal(abortedAt, 100);
    assert.equal(p.done, true);
    assert.ok(p.error instanceof TimeoutError);
  });
});

Deno.test("alcall inside moveOnAfter stops at the ambient deadline without retrying", async () => {
  await withFakeTime(async (clock) => {
    let calls = 0;
    const p = track(moveOnAfter(50, () =>
      alcall([1, 2], async (_x, ctx): Promise<string> => {
        calls++;
        return await hang(ctx.signal);
      }, { attemptTimeout: 500, retryAttempts: 3, retryDefault: "no", returnExceptions: true })));
    await clock.tickAsync(50);
    await clock.tickAsync(0);
    assert.equal(p.done, true);
    assert.equal(p.value, undefined);
    assert.equal(calls, 2); // the cancellation was not retried
  });
});

Deno.test("alcall accepts Infinity as 'no timeout' for attemptTimeout and retryTimeout", async () => {
  const signals = new Set<AbortSignal>();
  const out = await alcall([1, 2, 3], (x, ctx) => {
    signals.add(ctx.signal);
    return x;
  }, { attemptTimeout: Infinity, retryTimeout: Infinity });
  assert.deepEqual(out, [1, 2, 3]);
  assert.equal(signals.size, 1); // still the fast path
});

// ---------------------------------------------------------------------------
// Failures without and with returnExceptions

Deno.test("alcall: the first final failure aborts running items' signals and rejects with an ExceptionGroup", async () => {
  await withFakeTime(async (clock) => {
    const boom = new Error("boom");
    const aborted: number[] = [];
    const p = track(alcall([0, 1, 2], async (x, ctx) => {
      if (x === 0) {
        await delay(10);
        throw boom;
      }
      ctx.signal.addEventListener("abort", () => aborted.push(x));
      await delay(1_000, ctx.signal);
      return x;
    }));
    await clock.tickAsync(10);
    assert.equal(p.done, true);
    assert.ok(p.error instanceof ExceptionGroup);
    assert.deepEqual(p.error.exceptions, [boom]);
    assert.deepEqual(aborted, [1, 2]);
  });
});

Deno.test("alcall starts no queued item after a final failure", async () => {
  await withFakeTime(async (clock) => {
    const started: number[] = [];
    let abortedAt = -1;
    const p = track(alcall([0, 1, 2, 3], async (x, ctx) => {
      started.push(x);
      ctx.signal.addEventListener("abort", () => (abortedAt = currentTime()));
      await delay(x === 0 ? 20 : 10, ctx.signal);
      if (x === 1) throw new Error("boom");
      return x;
    }, { maxConcurrent: 2 }));
    await clock.tickAsync(100);
    assert.ok(p.error instanceof ExceptionGroup);
    assert.deepEqual(started, [0, 1]);
    assert.equal(abortedAt, 10);
  });
});

Deno.test("alcall's ExceptionGroup holds every final failure, in the order they occurred", async () => {
  await withFakeTime(async (clock) => {
    const errors = [new Error("e0"), new Error("e1"), new Error("cleanup")];
    const p = track(alcall([0, 1, 2, 3], async (x, ctx) => {
      if (x === 2) {
        // Fails while unwinding after the others failed: a real error, kept.
        try {
          await hang(ctx.signal);
        } catch {
          throw errors[2];
        }
      }
      if (x === 3) return await hang(ctx.signal); // a plain cancellation: not a failure
      await delay(5);
      throw errors[x];
    }));
    await clock.tickAsync(5);
    assert.ok(p.error instanceof ExceptionGroup);
    // e0 cancels the call; item 2 fails while unwinding, before item 1's timer fires.
    assert.deepEqual(p.error.exceptions, [errors[0], errors[2], errors[1]]);
  });
});

Deno.test("alcall does not retry an error raised after the call was cancelled, and reports it", async () => {
  await withFakeTime(async (clock) => {
    const calls = [0, 0];
    const late = new Error("failed while being cancelled");
    const p = track(alcall([0, 1], async (x, ctx) => {
      calls[x]++;
      if (x === 0) {
        await delay(10);
        throw new TypeError("fatal");
      }
      await hang(ctx.signal).catch(() => {
        throw late;
      });
    }, { retryAttempts: 3, retryOn: (e) => !(e instanceof TypeError) }));
    await clock.tickAsync(100);
    assert.deepEqual(calls, [1, 1]);
    assert.ok(p.error instanceof ExceptionGroup);
    assert.equal(p.error.exceptions.length, 2);
    assert.equal(p.error.exceptions[1], late);
  });
});

Deno.test("alcall with returnExceptions puts each error at its index and never rejects for them", async () => {
  await withFakeTime(async (clock) => {
    const errors = new Map<number, Error>();
    const p = quiet(alcall([0, 1, 2, 3, 4], async (x) => {
      await delay(10 - x);
      if (x % 2 === 1) {
        const err = new Error(`item ${x}`);
        errors.set(x, err);
        throw err;
      }
      return x * 10;
    }, { returnExceptions: true, maxConcurrent: 2 }));
    await clock.tickAsync(100);
    const out = await p;
    assert.deepEqual(out, [0, errors.get(1), 20, errors.get(3), 40]);
    assert.equal(out[1], errors.get(1));
  });
});

// ---------------------------------------------------------------------------
// Concurrency, throttling, delay, signal, outer cancellation

Deno.test("alcall never runs more than maxConcurrent items at once, and reaches it", async () => {
  await withFakeTime(async (clock) => {
    let running = 0, maxRunning = 0;
    const p = quiet(alcall(Array.from({ length: 20 }, (_, i) => i), async (x) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await delay((x * 7) % 5 + 1);
      running--;
      return x;
    }, { maxConcurrent: 3, retryAttempts: 1 }));
    await clock.tickAsync(1_000);
    assert.equal((await p).length, 20);
    assert.equal(maxRunning, 3);
  });
});

Deno.test("alcall throttlePeriod spaces item starts exactly", async () => {
  await withFakeTime(async (clock) => {
    const starts: number[] = [];
    const p = quiet(alcall([0, 1, 2, 3], async (x) => {
      starts.push(currentTime());
      await delay(250);
      return x;
    }, { throttlePeriod: 100 }));
    await clock.tickAsync(1_000);
    assert.deepEqual(await p, [0, 1, 2, 3]);
    assert.deepEqual(starts, [0, 100, 200, 300]);
  });
});

Deno.test("alcall throttlePeriod with maxConcurrent starts at the later of a free slot and the next period", async () => {
  await withFakeTime(async (clock) => {
    const starts: number[] = [];
    const p = quiet(alcall([150, 10, 10, 10], async (ms) => {
      starts.push(currentTime());
      await delay(ms);
    }, { throttlePeriod: 100, maxConcurrent: 1 }));
    await clock.tickAsync(1_000);
    await p;
    assert.deepEqual(starts, [0, 150, 250, 350]);
  });
});

Deno.test("alcall with throttlePeriod settles when the last item ends, not a period later", async () => {
  await withFakeTime(async (clock) => {
    const p = track(alcall([0, 1, 2], () => delay(1), { throttlePeriod: 100, maxConcurrent: 3 }));
    await clock.tickAsync(201);
    assert.equal(p.done, true);
  });
});

Deno.test("alcall delayBeforeStart postpones the first start, then throttling counts from it", async () => {
  await withFakeTime(async (clock) => {
    const starts: number[] = [];
    const p = quiet(alcall([0, 1, 2], (x) => {
      starts.push(currentTime());
      return x;
    }, { delayBeforeStart: 50, throttlePeriod: 20 }));
    await clock.tickAsync(49);
    assert.deepEqual(starts, []);
    await clock.tickAsync(100);
    assert.deepEqual(await p, [0, 1, 2]);
    assert.deepEqual(starts, [50, 70, 90]);
  });
});

Deno.test("alcall: a failure while throttled starts are pending starts nothing more", async () => {
  await withFakeTime(async (clock) => {
    const started: number[] = [];
    const p = track(alcall([0, 1, 2, 3], (x) => {
      started.push(x);
      if (x === 1) throw new Error("boom");
      return x;
    }, { throttlePeriod: 10 }));
    await clock.tickAsync(100);
    assert.ok(p.error instanceof ExceptionGroup);
    assert.deepEqual(started, [0, 1]);
  });
});

Deno.test("alcall: aborting signal cancels every item and rejects with signal.reason", async () => {
  await withFakeTime(async (clock) => {
    const controller = new AbortController();
    const aborted: number[] = [];
    let calls = 0;
    const p = track(alcall([0, 1, 2, 3], async (x, ctx) => {
      calls++;
      ctx.signal.addEventListener("abort", () => aborted.push(x));
      await delay(1_000, ctx.signal);
      return x;
    }, { signal: controller.signal, maxConcurrent: 2, retryAttempts: 2, retryDefault: -1 }));
    await clock.tickAsync(10);
    const reason = new Error("user gave up");
    controller.abort(reason);
    await clock.tickAsync(0);
    assert.equal(p.done, true);
    assert.equal(p.error, reason);
    assert.deepEqual(aborted, [0, 1]);
    assert.equal(calls, 2); // never retried, nothing queued started
  });
});

Deno.test("alcall with an already aborted signal rejects at once without calling fn", async () => {
  const controller = new AbortController();
  const reason = new Error("too late");
  controller.abort(reason);
  let calls = 0;
  await assert.rejects(
    alcall([1], () => calls++, { signal: controller.signal }),
    (e) => e === reason,
  );
  assert.equal(calls, 0);
});

Deno.test("alcall: aborting signal during delayBeforeStart starts nothing", async () => {
  await withFakeTime(async (clock) => {
    const controller = new AbortController();
    let calls = 0;
    const p = track(alcall([1], () => calls++, {
      signal: controller.signal,
      delayBeforeStart: 100,
      returnExceptions: true,
    }));
    await clock.tickAsync(50);
    controller.abort("stop");
    await clock.tickAsync(100);
    assert.equal(p.error, "stop");
    assert.equal(calls, 0);
  });
});

Deno.test("alcall: a signal aborted after alcall settled changes nothing", async () => {
  const controller = new AbortController();
  const out = await alcall([1, 2], (x) => x, { signal: controller.signal });
  controller.abort();
  assert.deepEqual(out, [1, 2]);
});

Deno.test("alcall rejects with an enclosing scope's cancellation", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope();
    let rejection: unknown;
    const aborted: number[] = [];
    const done = quiet(outer.run(async () => {
      try {
        await alcall([0, 1], async (x, ctx): Promise<number> => {
          ctx.signal.addEventListener("abort", () => aborted.push(x));
          return await hang(ctx.signal);
        }, { returnExceptions: true, retryAttempts: 2, retryDefault: 0 });
      } catch (err) {
        rejection = err;
        throw err;
      }
    }));
    await clock.tickAsync(10);
    outer.cancel("shutting down");
    await clock.tickAsync(0);
    assert.equal(await done, undefined);
    assert.ok(rejection instanceof CancelledError);
    assert.equal(rejection, outer.signal.reason);
    assert.deepEqual(aborted, [0, 1]);
  });
});

// ---------------------------------------------------------------------------
// onProgress

Deno.test("alcall onProgress reports exact counts on every change", async () => {
  await withFakeTime(async (clock) => {
    const log: string[] = [];
    const p = quiet(alcall([0, 1], async (x, ctx) => {
      await delay(10);
      if (x === 1 && ctx.attempt === 1) throw new Error("once");
      return x;
    }, {
      maxConcurrent: 1,
      retryAttempts: 1,
      onProgress: (p) =>
        log.push(`${p.total} ${p.started} ${p.succeeded} ${p.failed} ${p.retries} ${p.running}`),
    }));
    await clock.tickAsync(100);
    await p;
    assert.deepEqual(log, [
      "2 1 0 0 0 1", // item 0 starts
      "2 1 1 0 0 0", // item 0 succeeds
      "2 2 1 0 0 1", // item 1 starts
      "2 2 1 0 1 1", // item 1 is retried
      "2 2 2 0 1 0", // item 1 succeeds
    ]);
  });
});

Deno.test("alcall onProgress balances its books at the end with returnExceptions", async () => {
  const log: AlcallProgress[] = [];
  await alcall(Array.from({ length: 10 }, (_, i) => i), (x, ctx) => {
    if (x % 3 === 0 && ctx.attempt < 3) throw new Error("x");
    if (x % 4 === 0) throw new Error("always");
    return x;
  }, { retryAttempts: 2, returnExceptions: true, onProgress: (p) => log.push(p) });
  // Items 0, 4, 8 always fail (3 attempts each); 3, 6, 9 succeed on attempt 3.
  assert.deepEqual(last(log), {
    total: 10,
    started: 10,
    succeeded: 7,
    failed: 3,
    retries: 12,
    running: 0,
  });
  assert.ok(log.every((p) => p.running >= 0 && p.succeeded + p.failed <= p.started));
});

Deno.test("alcall: an error thrown by onProgress rejects the call with it", async () => {
  const bug = new Error("progress bar crashed");
  let calls = 0;
  await assert.rejects(
    alcall([1, 2, 3], (x) => {
      calls++;
      return x;
    }, {
      maxConcurrent: 1,
      returnExceptions: true,
      onProgress: (p) => {
        if (p.succeeded === 1) throw bug;
      },
    }),
    (err: unknown) => err instanceof ExceptionGroup && err.exceptions[0] === bug,
  );
  assert.equal(calls, 1);
});

// ---------------------------------------------------------------------------
// ctx and the fast path

Deno.test("alcall ctx carries the index, the 1-based attempt and a signal", async () => {
  const seen: string[] = [];
  await alcall(["a", "b"], (x, ctx) => {
    assert.ok(ctx.signal instanceof AbortSignal);
    assert.equal(ctx.signal.aborted, false);
    seen.push(`${x}${ctx.index}.${ctx.attempt}`);
    if (x === "b" && ctx.attempt === 1) throw new Error("again");
  }, { retryAttempts: 1, maxConcurrent: 1 });
  assert.deepEqual(seen, ["a0.1", "b1.1", "b1.2"]);
});

Deno.test("alcall fast path: every item shares one signal, no timer and no AbortController per item", async () => {
  await withFakeTime(async (clock) => {
    const Original = globalThis.AbortController;
    let controllers = 0;
    globalThis.AbortController = class extends Original {
      constructor() {
        super();
        controllers++;
      }
    };
    try {
      const signals = new Set<AbortSignal>();
      let timersWhileRunning = -1;
      const p = quiet(alcall(Array.from({ length: 100 }, (_, i) => i), async (x, ctx) => {
        signals.add(ctx.signal);
        await Promise.resolve();
        if (x === 50) timersWhileRunning = clock.countTimers();
        return x;
      }, { maxConcurrent: 10, returnExceptions: true, retryDefault: 0 }));
      await clock.tickAsync(0);
      assert.equal((await p).length, 100);
      assert.equal(signals.size, 1);
      assert.ok(controllers <= 1, `${controllers} AbortControllers`);
      assert.equal(timersWhileRunning, 0);
    } finally {
      globalThis.AbortController = Original;
    }
  });
});

Deno.test("alcall with attemptTimeout gives each attempt its own signal", async () => {
  const signals: AbortSignal[] = [];
  await alcall([1, 2], (_x, ctx) => {
    signals.push(ctx.signal);
    if (ctx.attempt === 1) throw new Error("again");
  }, { attemptTimeout: 1_000, retryAttempts: 1 });
  assert.equal(new Set(signals).size, 4);
});

// ---------------------------------------------------------------------------
// Validation

const BAD_OPTIONS: Array<[string, unknown, "type" | "range", string]> = [
  ["maxConcurrent", "2", "type", 'string "2"'],
  ["maxConcurrent", 0, "range", "0"],
  ["maxConcurrent", 1.5, "range", "1.5"],
  ["maxConcurrent", NaN, "range", "NaN"],
  ["throttlePeriod", true, "type", "boolean"],
  ["throttlePeriod", -1, "range", "-1"],
  ["throttlePeriod", Infinity, "range", "Infinity"],
  ["delayBeforeStart", "10", "type", 'string "10"'],
  ["delayBeforeStart", -5, "range", "-5"],
  ["retryAttempts", "3", "type", 'string "3"'],
  ["retryAttempts", -1, "range", "-1"],
  ["retryAttempts", 2.5, "range", "2.5"],
  ["retryInitialDelay", null, "type", "null"],
  ["retryInitialDelay", -1, "range", "-1"],
  ["retryBackoff", "2", "type", 'string "2"'],
  ["retryBackoff", -2, "range", "-2"],
  ["retryBackoff", NaN, "range", "NaN"],
  ["retryTimeout", "1", "type", 'string "1"'],
  ["retryTimeout", 0, "range", "0"],
  ["retryTimeout", -1, "range", "-1"],
  ["attemptTimeout", {}, "type", "object"],
  ["attemptTimeout", 0, "range", "0"],
  ["attemptTimeout", NaN, "range", "NaN"],
  ["retryOn", true, "type", "boolean"],
  ["onProgress", "log", "type", 'string "log"'],
  ["signal", {}, "type", "object"],
  ["returnExceptions", 1, "type", "1"],
  ["inputFlatten", "yes", "type", 'string "yes"'],
  ["inputDropna", 1, "type", "1"],
  ["inputUnique", null, "type", "null"],
  ["outputFlatten", "yes", "type", 'string "yes"'],
  ["outputDropna", 0, "type", "0"],
  ["outputUnique", {}, "type", "object"],
];

Deno.test("alcall rejects at once an option of the wrong type or out of range, naming it and the value", async () => {
  for (const [name, value, kind, received] of BAD_OPTIONS) {
    let calls = 0;
    let promise: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      promise = alcall([1], () => calls++, { [name]: value });
    });
    await assert.rejects(promise!, (err: unknown) => {
      assert.ok(
        err instanceof (kind === "type" ? TypeError : RangeError),
        `${name}=${String(value)}: ${err}`,
      );
      assert.match(err.message, new RegExp(`'${name}'`));
      assert.match(err.message, new RegExp(`received ${received}$`));
      return true;
    });
    assert.equal(calls, 0, name);
  }
});

Deno.test("alcall rejects a non-function fn and non-object options with TypeError", async () => {
  await assert.rejects(
    alcall([1], "nope" as never),
    /'fn' must be a function, received string "nope"/,
  );
  await assert.rejects(alcall([1], (x) => x, null as never), /'options' must be an object/);
  await assert.rejects(alcall([1], (x) => x, 5 as never), TypeError);
});

// ---------------------------------------------------------------------------
// Scale

/** A deterministic hash in [0, 1) of two integers (a seeded random stream). */
function chance(seed: number, i: number, attempt: number): number {
  let h = Math.imul(seed ^ Math.imul(i, 0x9e3779b1) ^ Math.imul(attempt, 0x85ebca6b), 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}

Deno.test("alcall accounts for every one of 100,000 items with 20% failures and retries", async () => {
  const n = 100_000, seed = 20260101;
  let running = 0, maxRunning = 0;
  let progressCalls = 0;
  let final: AlcallProgress | undefined;
  const started = performance.now();
  const out = await alcall(Array.from({ length: n }, (_, i) => i), async (i, ctx) => {
    running++;
    if (running > maxRunning) maxRunning = running;
    await null;
    running--;
    if (chance(seed, i, ctx.attempt) < 0.2) throw new Error(`${i}:${ctx.attempt}`);
    return i;
  }, {
    retryAttempts: 2,
    maxConcurrent: 64,
    returnExceptions: true,
    onProgress: (p) => {
      progressCalls++;
      final = p;
    },
  });
  const elapsed = performance.now() - started;
  let succeeded = 0, failed = 0, retries = 0;
  for (let i = 0; i < n; i++) {
    let attempts = 1;
    while (attempts <= 3 && chance(seed, i, attempts) < 0.2) attempts++;
    if (attempts <= 3) {
      succeeded++;
      retries += attempts - 1;
      assert.equal(out[i], i);
    } else {
      failed++;
      retries += 2;
      const err = out[i];
      assert.ok(err instanceof Error && err.message === `${i}:3`, `item ${i}`);
    }
  }
  assert.equal(out.length, n);
  assert.ok(failed > 400 && failed < 1_200, `${failed} failures`); // ~0.8%
  assert.deepEqual(final, { total: n, started: n, succeeded, failed, retries, running: 0 });
  assert.ok(progressCalls >= 2 * n + retries);
  assert.equal(maxRunning, 64);
  assert.ok(elapsed < 2_000, `${elapsed.toFixed(0)} ms`);
});

Deno.test("alcall rejects with the signal's reason even when every item finishes despite the abort", async () => {
  await withFakeTime(async (clock) => {
    const controller = new AbortController();
    const reason = new Error("user aborted");
    // Items that ignore ctx.signal: they all settle after the abort.
    const p = alcall([1, 2, 3], async (x) => {
      await new Promise((r) => setTimeout(r, 50));
      return x * 2;
    }, { signal: controller.signal });
    const outcome = p.then(() => "resolved", (e: unknown) => e);
    await clock.tickAsync(10);
    controller.abort(reason);
    await clock.tickAsync(100);
    assert.equal(await outcome, reason);
  });
});

Deno.test("a retryOn that throws keeps both the item's error and its own", async () => {
  const err = await alcall([1], () => {
    throw new Error("item failed");
  }, {
    retryAttempts: 2,
    retryOn: () => {
      throw new Error("bug in retryOn");
    },
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ExceptionGroup);
  const inner = err.exceptions[0];
  assert.ok(inner instanceof AggregateError);
  assert.deepEqual(inner.errors.map((e: Error) => e.message), ["item failed", "bug in retryOn"]);
});
