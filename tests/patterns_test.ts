// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §7 (first half): retry, gather, race, boundedMap, asCompleted.
import assert from "node:assert/strict";
import {
  asCompleted,
  boundedMap,
  CancelledError,
  CancelScope,
  currentScope,
  currentTime,
  ExceptionGroup,
  failAfter,
  gather,
  moveOnAfter,
  race,
  retry,
  sleep,
  TimeoutError,
} from "../mod.ts";
import { type FakeClock, withFakeTime } from "./_fake_time.ts";

/** Lets a test pass a value of the wrong type on purpose. */
// deno-lint-ignore no-explicit-any
const untyped = (value: unknown): any => value;

/** Observes a promise without letting its rejection go unhandled. */
function observe<T>(promise: Promise<T>): {
  settled: () => boolean;
  done: Promise<{ ok: boolean; value: unknown }>;
} {
  let settled = false;
  const done = promise.then(
    (value) => ({ ok: true, value }),
    (value) => ({ ok: false, value }),
  ).finally(() => (settled = true));
  return { settled: () => settled, done };
}

/** Replaces `Math.random` with a sequence of values for the length of `fn`. */
async function withRandom(values: number[], fn: () => Promise<void>): Promise<void> {
  const original = Math.random;
  let i = 0;
  Math.random = () => {
    assert.ok(i < values.length, "Math.random was called more often than expected");
    return values[i++];
  };
  try {
    await fn();
    assert.equal(i, values.length, "Math.random was called less often than expected");
  } finally {
    Math.random = original;
  }
}

/** An operation that fails every time, recording the virtual time of each attempt. */
function failing(times: number[]): (ctx: { attempt: number }) => never {
  return ({ attempt }) => {
    times.push(currentTime());
    throw new Error(`failure ${attempt}`);
  };
}

/** Runs `promise` to completion on the fake clock, advancing it `ms` at most. */
async function settleWithin<T>(
  clock: FakeClock,
  ms: number,
  promise: Promise<T>,
): Promise<{ ok: boolean; value: unknown; at: number }> {
  const seen = observe(promise);
  let at = NaN;
  seen.done.then(() => (at = currentTime()));
  await clock.tickAsync(ms);
  assert.ok(seen.settled(), `the promise did not settle within ${ms} virtual ms`);
  return { ...(await seen.done), at };
}

// ---------------------------------------------------------------------------
// retry

Deno.test("retry resolves with the first success and numbers the attempts from 1", async () => {
  await withFakeTime(async (clock) => {
    const attempts: number[] = [];
    const result = await settleWithin(
      clock,
      1_000,
      retry(({ attempt }) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Error("flaky");
        return "ok";
      }, { jitter: 0 }),
    );
    assert.deepEqual(result, { ok: true, value: "ok", at: 300 });
    assert.deepEqual(attempts, [1, 2, 3]);
  });
});

Deno.test("retry calls a successful operation once and never sleeps", async () => {
  let calls = 0;
  const value = await retry(async () => {
    calls++;
    return await Promise.resolve(7);
  });
  assert.equal(value, 7);
  assert.equal(calls, 1);
});

Deno.test("retry waits baseDelay * 2 ** (k - 1) before retry k and rethrows the last error", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const result = await settleWithin(
      clock,
      10_000,
      retry(failing(times), { attempts: 4, baseDelay: 100, jitter: 0 }),
    );
    assert.deepEqual(times, [0, 100, 300, 700]);
    assert.equal(result.ok, false);
    assert.equal((result.value as Error).message, "failure 4");
    assert.equal(result.at, 700);
  });
});

Deno.test("retry caps every delay at maxDelay", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    await settleWithin(
      clock,
      10_000,
      retry(failing(times), { attempts: 5, baseDelay: 100, maxDelay: 250, jitter: 0 }),
    );
    assert.deepEqual(times, [0, 100, 300, 550, 800]);
  });
});

Deno.test("retry with maxDelay 0 retries after a single macrotask turn", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    await settleWithin(clock, 2, retry(failing(times), { attempts: 3, maxDelay: 0 }));
    // @sinonjs/fake-timers runs a 0 ms timer set during a tick 1 ms later.
    assert.deepEqual(times, [0, 0, 1]);
  });
});

Deno.test("retry defaults to 3 attempts, 100 ms base delay and 10% jitter", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    await withRandom([0.5, 0.5], async () => {
      const result = await settleWithin(clock, 10_000, retry(failing(times)));
      assert.equal((result.value as Error).message, "failure 3");
    });
    // 100 * (1 + 0.5 * 0.1) = 105, then 200 * 1.05 = 210.
    assert.deepEqual(times, [0, 105, 315]);
  });
});

Deno.test("retry applies the jitter as delay * (1 + Math.random() * jitter)", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    await withRandom([0, 0.5, 0.75], async () => {
      await settleWithin(
        clock,
        10_000,
        retry(failing(times), { attempts: 4, baseDelay: 100, jitter: 0.5 }),
      );
    });
    // 100 * 1, 200 * 1.25, 400 * 1.375.
    assert.deepEqual(times, [0, 100, 350, 900]);
  });
});

Deno.test("retry keeps every jittered delay within [delay, delay * (1 + jitter)]", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const jitter = 0.3, baseDelay = 10, maxDelay = 200;
    await settleWithin(
      clock,
      100_000,
      retry(failing(times), { attempts: 40, baseDelay, maxDelay, jitter }),
    );
    assert.equal(times.length, 40);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    const distinct = new Set<number>();
    gaps.forEach((gap, i) => {
      const delay = Math.min(maxDelay, baseDelay * 2 ** i);
      // Timers fire on whole milliseconds, hence the ceiling.
      assert.ok(gap >= delay && gap <= Math.ceil(delay * (1 + jitter)), `gap ${i}: ${gap}`);
      if (delay === maxDelay) distinct.add(gap);
    });
    assert.ok(distinct.size > 1, "the jitter never varied the delay");
  });
});

Deno.test("retry never retries a cancellation, whatever retryOn says", async () => {
  for (const error of [new CancelledError("stop"), new DOMException("gone", "AbortError")]) {
    let calls = 0;
    let asked = 0;
    await assert.rejects(
      retry(() => {
        calls++;
        throw error;
      }, { retryOn: () => (asked++, true) }),
      (err) => err === error,
    );
    assert.equal(calls, 1);
    assert.equal(asked, 0);
  }
});

Deno.test("retry stops at once when retryOn refuses the error, and shows retryOn each error", async () => {
  await withFakeTime(async (clock) => {
    const seen: string[] = [];
    const times: number[] = [];
    const result = await settleWithin(
      clock,
      10_000,
      retry(({ attempt }) => {
        times.push(currentTime());
        throw attempt < 3 ? new TypeError(`transient ${attempt}`) : new Error("fatal");
      }, {
        attempts: 10,
        jitter: 0,
        retryOn: (err) => {
          seen.push((err as Error).message);
          return err instanceof TypeError;
        },
      }),
    );
    assert.deepEqual(seen, ["transient 1", "transient 2", "fatal"]);
    assert.equal((result.value as Error).message, "fatal");
    assert.deepEqual(times, [0, 100, 300]);
  });
});

Deno.test("retry inside failAfter gives up with the last error when the next attempt would miss the deadline", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const result = await settleWithin(
      clock,
      1_000,
      failAfter(250, () => retry(failing(times), { attempts: 10, baseDelay: 100, jitter: 0 })),
    );
    // Attempt 2 fails at 100; retry 2 would start at 300 >= 250: give up then.
    assert.deepEqual(times, [0, 100]);
    assert.equal(result.at, 100);
    assert.ok(!(result.value instanceof TimeoutError));
    assert.equal((result.value as Error).message, "failure 2");
  });
});

Deno.test("retry gives up when the next attempt would start exactly at the deadline", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const result = await settleWithin(
      clock,
      1_000,
      failAfter(300, () => retry(failing(times), { attempts: 10, baseDelay: 100, jitter: 0 })),
    );
    assert.deepEqual(times, [0, 100]);
    assert.equal((result.value as Error).message, "failure 2");
  });
});

Deno.test("retry keeps retrying while the next attempt starts before the deadline", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const result = await settleWithin(
      clock,
      1_000,
      failAfter(301, () => retry(failing(times), { attempts: 10, baseDelay: 100, jitter: 0 })),
    );
    assert.deepEqual(times, [0, 100, 300]);
    assert.equal((result.value as Error).message, "failure 3");
    assert.equal(result.at, 300);
  });
});

Deno.test("retry inside moveOnAfter rejects with the last error instead of sleeping past the deadline", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const result = await settleWithin(
      clock,
      1_000,
      moveOnAfter(150, () => retry(failing(times), { attempts: 10, baseDelay: 100, jitter: 0 })),
    );
    assert.deepEqual(times, [0, 100]);
    assert.equal(result.ok, false);
    assert.equal((result.value as Error).message, "failure 2");
  });
});

Deno.test("retry with its own signal still gives up before the ambient deadline", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const { signal } = new AbortController();
    const result = await settleWithin(
      clock,
      1_000,
      failAfter(
        250,
        () => retry(failing(times), { attempts: 10, baseDelay: 100, jitter: 0, signal }),
      ),
    );
    assert.deepEqual(times, [0, 100]);
    assert.equal((result.value as Error).message, "failure 2");
  });
});

Deno.test("retry with attempts Infinity retries until the deadline leaves no room", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    const result = await settleWithin(
      clock,
      10_000,
      failAfter(
        5_000,
        () =>
          retry(failing(times), { attempts: Infinity, baseDelay: 100, maxDelay: 1_000, jitter: 0 }),
      ),
    );
    assert.deepEqual(times, [0, 100, 300, 700, 1_500, 2_500, 3_500, 4_500]);
    assert.equal((result.value as Error).message, "failure 8");
  });
});

Deno.test("retry is cancelled by the ambient scope during its backoff and does not try again", async () => {
  await withFakeTime(async (clock) => {
    const times: number[] = [];
    let outcome: unknown = "none";
    const scope = new CancelScope();
    const run = observe(scope.run(async () => {
      try {
        await retry(failing(times), { attempts: 5, jitter: 0 });
      } catch (err) {
        outcome = err;
        throw err;
      }
    }));
    await clock.tickAsync(50);
    scope.cancel();
    await clock.tickAsync(1_000);
    assert.deepEqual(await run.done, { ok: true, value: undefined });
    assert.ok(outcome instanceof CancelledError);
    assert.deepEqual(times, [0]);
  });
});

Deno.test("retry inside failAfter reports the timeout when the deadline passes during an attempt", async () => {
  await withFakeTime(async (clock) => {
    let calls = 0;
    const result = await settleWithin(
      clock,
      1_000,
      failAfter(500, () =>
        retry(async () => {
          calls++;
          await sleep(10_000);
        })),
    );
    assert.ok(result.value instanceof TimeoutError);
    assert.equal(result.at, 500);
    assert.equal(calls, 1);
  });
});

Deno.test("retry reports the cancellation, not the last error, when an attempt turns it into its own error", async () => {
  await withFakeTime(async (clock) => {
    let calls = 0;
    const result = await settleWithin(
      clock,
      1_000,
      failAfter(500, () =>
        retry(async () => {
          calls++;
          try {
            await sleep(10_000);
          } catch {
            throw new Error("request failed"); // e.g. a client that wraps the abort
          }
        }, { attempts: 5, jitter: 0 })),
    );
    assert.ok(result.value instanceof TimeoutError, String(result.value));
    assert.equal(result.at, 500);
    assert.equal(calls, 1);
  });
});

Deno.test("retry in an already cancelled scope rejects without calling fn", async () => {
  for (const signal of [undefined, new AbortController().signal]) {
    let calls = 0;
    let outcome: unknown;
    const scope = new CancelScope();
    await scope.run(async (s) => {
      s.cancel();
      outcome = await retry(() => calls++, { signal }).catch((err) => err);
    });
    assert.ok(outcome instanceof CancelledError, String(outcome));
    assert.equal(calls, 0);
  }
});

Deno.test("retry hands each attempt the ambient scope's signal", async () => {
  const scope = new CancelScope();
  const signals: AbortSignal[] = [];
  await scope.run(() =>
    retry(({ signal, attempt }) => {
      signals.push(signal);
      if (attempt === 1) throw new Error("again");
    }, { baseDelay: 1, jitter: 0 })
  );
  assert.equal(signals.length, 2);
  assert.equal(signals[0], scope.signal);
  assert.equal(signals[1], scope.signal);
});

Deno.test("retry gives attempts a signal that never aborts when nothing can cancel them", async () => {
  const signal = await retry(({ signal }) => signal);
  assert.ok(signal instanceof AbortSignal);
  assert.equal(signal.aborted, false);
});

Deno.test("retry rejects with options.signal's reason when it aborts during the backoff", async () => {
  await withFakeTime(async (clock) => {
    const controller = new AbortController();
    const times: number[] = [];
    const reason = new Error("user gave up");
    const seen = observe(
      retry(failing(times), { attempts: 5, jitter: 0, signal: controller.signal }),
    );
    await clock.tickAsync(50);
    controller.abort(reason);
    await clock.tickAsync(0);
    assert.deepEqual(await seen.done, { ok: false, value: reason });
    assert.deepEqual(times, [0]);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("retry aborts ctx.signal when options.signal aborts and does not wait for an attempt that ignores it", async () => {
  await withFakeTime(async (clock) => {
    const controller = new AbortController();
    let ctxSignal: AbortSignal | undefined;
    const seen = observe(retry(async ({ signal }) => {
      ctxSignal = signal;
      await new Promise((resolve) => setTimeout(resolve, 10_000)); // ignores the signal
      return "late";
    }, { signal: controller.signal }));
    await clock.tickAsync(10);
    controller.abort();
    assert.equal(ctxSignal?.aborted, true);
    assert.ok(ctxSignal?.reason instanceof CancelledError);
    await clock.tickAsync(0);
    assert.ok(seen.settled());
    const result = await seen.done;
    assert.equal(result.ok, false);
    assert.equal((result.value as Error).name, "AbortError");
    await clock.tickAsync(10_000); // the abandoned attempt's late value is absorbed
  });
});

Deno.test("retry with an already aborted signal rejects without calling fn", async () => {
  let calls = 0;
  const controller = new AbortController();
  controller.abort("nope");
  await assert.rejects(
    retry(() => calls++, { signal: controller.signal }),
    (err) => err === "nope",
  );
  assert.equal(calls, 0);
});

Deno.test("retry with a signal that never aborts resolves and removes its listener", async () => {
  const controller = new AbortController();
  let added = 0, removed = 0;
  const signal = controller.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => (added++, add(...args));
  signal.removeEventListener = (...args: Parameters<typeof remove>) => (removed++, remove(...args));
  const value = await retry(({ attempt }) => {
    if (attempt === 1) throw new Error("once");
    return "second";
  }, { signal, baseDelay: 1 });
  assert.equal(value, "second");
  assert.equal(added, 1);
  assert.equal(removed, 1);
});

Deno.test("retry rejects out-of-range options with a RangeError naming the option and value", async () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ attempts: 0 }, /'attempts'.*received 0$/],
    [{ attempts: -1 }, /'attempts'.*received -1$/],
    [{ attempts: 1.5 }, /'attempts'.*received 1\.5$/],
    [{ attempts: NaN }, /'attempts'.*received NaN$/],
    [{ baseDelay: 0 }, /'baseDelay'.*received 0$/],
    [{ baseDelay: -10 }, /'baseDelay'.*received -10$/],
    [{ baseDelay: Infinity }, /'baseDelay'.*received Infinity$/],
    [{ maxDelay: -1 }, /'maxDelay'.*received -1$/],
    [{ maxDelay: NaN }, /'maxDelay'.*received NaN$/],
    [{ jitter: -0.1 }, /'jitter'.*received -0\.1$/],
    [{ jitter: NaN }, /'jitter'.*received NaN$/],
  ];
  for (const [options, message] of cases) {
    let calls = 0;
    await assert.rejects(retry(() => calls++, options), (err) => {
      assert.ok(err instanceof RangeError, `${JSON.stringify(options)} gave ${err}`);
      assert.match(err.message, /^Cannot retry: /);
      assert.match(err.message, message);
      return true;
    });
    assert.equal(calls, 0);
  }
});

Deno.test("retry rejects arguments of the wrong type with a TypeError", async () => {
  const fn = () => 1;
  const cases: Array<[() => Promise<unknown>, RegExp]> = [
    [() => retry(untyped("nope")), /'fn' must be a function, received string/],
    [() => retry(fn, untyped(null)), /'options' must be an object, received null/],
    [() => retry(fn, untyped(5)), /'options' must be an object, received 5/],
    [() => retry(fn, { attempts: untyped("3") }), /'attempts'.*received string/],
    [() => retry(fn, { baseDelay: untyped(null) }), /'baseDelay'.*received null/],
    [() => retry(fn, { retryOn: untyped(true) }), /'retryOn' must be a function, received true/],
    [() => retry(fn, { signal: untyped({}) }), /'signal' must be an AbortSignal, received object/],
  ];
  for (const [call, message] of cases) {
    const promise = call(); // must not throw synchronously
    await assert.rejects(promise, (err) => {
      assert.ok(err instanceof TypeError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }
});

Deno.test("retry accepts the boundary values of its options", async () => {
  const value = await retry(() => "ok", { attempts: 1, baseDelay: 0.001, maxDelay: 0, jitter: 0 });
  assert.equal(value, "ok");
});

// ---------------------------------------------------------------------------
// gather

Deno.test("gather resolves with the values in input order, not completion order", async () => {
  await withFakeTime(async (clock) => {
    const result = await settleWithin(
      clock,
      30,
      gather([
        async () => (await sleep(30), "a"),
        () => "b",
        async () => (await sleep(10), "c"),
      ]),
    );
    assert.deepEqual(result, { ok: true, value: ["a", "b", "c"], at: 30 });
  });
});

Deno.test("gather of no functions resolves with an empty array", async () => {
  assert.deepEqual(await gather([]), []);
});

Deno.test("gather runs the functions concurrently in the group's scope and hands them its signal", async () => {
  await withFakeTime(async (clock) => {
    const starts: number[] = [];
    const matches: boolean[] = [];
    const result = await settleWithin(
      clock,
      100,
      gather([1, 2, 3].map(() => async (signal: AbortSignal) => {
        starts.push(currentTime());
        matches.push(currentScope()?.signal === signal);
        await sleep(100);
      })),
    );
    assert.equal(result.at, 100);
    assert.deepEqual(starts, [0, 0, 0]);
    assert.deepEqual(matches, [true, true, true]);
  });
});

Deno.test("gather cancels the rest on the first failure and rejects with an ExceptionGroup", async () => {
  await withFakeTime(async (clock) => {
    const boom = new Error("boom");
    const cleaned: number[] = [];
    const signals: AbortSignal[] = [];
    const slow = (i: number) => async (signal: AbortSignal) => {
      signals.push(signal);
      try {
        await sleep(1_000);
      } finally {
        cleaned.push(i);
      }
    };
    const result = await settleWithin(
      clock,
      10,
      gather([slow(0), async () => {
        await sleep(10);
        throw boom;
      }, slow(2)]),
    );
    assert.equal(result.at, 10);
    assert.ok(result.value instanceof ExceptionGroup);
    assert.deepEqual(result.value.exceptions, [boom]);
    assert.match(result.value.message, /^gather: 1 task failed/);
    assert.deepEqual(cleaned.sort(), [0, 2]);
    assert.ok(signals.every((s) => s.aborted));
  });
});

Deno.test("gather collects every failure, including synchronous throws, in the order they occurred", async () => {
  await withFakeTime(async (clock) => {
    const first = new Error("sync"), second = new Error("while cancelled");
    const result = await settleWithin(
      clock,
      0,
      gather([
        async () => {
          try {
            await sleep(100);
          } catch {
            throw second; // a real error raised while being cancelled still counts
          }
        },
        () => {
          throw first;
        },
      ]),
    );
    assert.ok(result.value instanceof ExceptionGroup);
    assert.deepEqual(result.value.exceptions, [first, second]);
  });
});

Deno.test("gather with returnExceptions puts each error at its index and cancels nothing", async () => {
  await withFakeTime(async (clock) => {
    const boom = new Error("boom");
    let finished = false;
    const result = await settleWithin(
      clock,
      50,
      gather([
        () => {
          throw boom;
        },
        async () => {
          await sleep(50);
          finished = true;
          return 2;
        },
        () => Promise.reject(new DOMException("own abort", "AbortError")),
      ], { returnExceptions: true }),
    );
    assert.equal(result.ok, true);
    const values = result.value as unknown[];
    assert.equal(values[0], boom);
    assert.equal(values[1], 2);
    assert.equal((values[2] as Error).name, "AbortError");
    assert.ok(finished);
  });
});

Deno.test("gather propagates the cancellation of an enclosing scope, even with returnExceptions", async () => {
  await withFakeTime(async (clock) => {
    for (const returnExceptions of [false, true]) {
      const result = await settleWithin(
        clock,
        100,
        failAfter(100, () => gather([() => sleep(1_000), () => 1], { returnExceptions })),
      );
      assert.ok(result.value instanceof TimeoutError, String(result.value));
    }
  });
});

Deno.test("gather rejects bad arguments with a TypeError before running anything", async () => {
  let calls = 0;
  const fn = () => calls++;
  await assert.rejects(
    gather(untyped(42)),
    /Cannot gather: 'fns' must be .*iterable.*, received 42/,
  );
  await assert.rejects(
    gather(untyped("ab")),
    /'fns' must be an iterable of functions, received string/,
  );
  await assert.rejects(gather(untyped([fn, 1])), /'fns\[1\]' must be a function, received 1/);
  await assert.rejects(gather([fn], untyped("x")), /'options' must be an object, received string/);
  await assert.rejects(
    gather([fn], untyped({ returnExceptions: 1 })),
    /'returnExceptions' must be a boolean, received 1/,
  );
  assert.equal(calls, 0);
});

// ---------------------------------------------------------------------------
// race

Deno.test("race resolves with the first value and cancels the losers before it settles", async () => {
  await withFakeTime(async (clock) => {
    const cleaned: string[] = [];
    const signals: AbortSignal[] = [];
    const contestant = (name: string, ms: number) => async (signal: AbortSignal) => {
      signals.push(signal);
      try {
        await sleep(ms);
        return name;
      } finally {
        cleaned.push(name);
      }
    };
    const result = await settleWithin(
      clock,
      20,
      race([contestant("slow", 50), contestant("fast", 20), contestant("slower", 90)]),
    );
    assert.deepEqual(result, { ok: true, value: "fast", at: 20 });
    assert.deepEqual(cleaned.sort(), ["fast", "slow", "slower"]);
    // The losers' signals abort; the winner's, settled first, never does.
    assert.deepEqual(signals.map((s) => s.aborted), [true, false, true]);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("race cancels only the losers: the winner's signal never aborts, so a fetch that won keeps its body", async () => {
  const signals: AbortSignal[] = [];
  const winner = await race([
    async (signal) => {
      signals[0] = signal;
      await sleep(1_000, { signal });
      return "slow";
    },
    async (signal) => {
      signals[1] = signal;
      await sleep(1);
      return "fast";
    },
  ]);
  assert.equal(winner, "fast");
  assert.deepEqual(signals.map((s) => s.aborted), [true, false]);
});

Deno.test("race rejects with the error of the first to settle", async () => {
  await withFakeTime(async (clock) => {
    const boom = new Error("boom");
    const result = await settleWithin(
      clock,
      5,
      race([async () => (await sleep(10), 1), async () => {
        await sleep(5);
        throw boom;
      }]),
    );
    assert.deepEqual(result, { ok: false, value: boom, at: 5 });
  });
});

Deno.test("race lets a synchronous value or throw win over pending contestants", async () => {
  assert.equal(await race([() => sleep(1_000).then(() => "late"), () => "now"]), "now");
  const boom = new Error("sync");
  await assert.rejects(
    race([() => sleep(1_000), () => {
      throw boom;
    }]),
    (err) => err === boom,
  );
});

Deno.test("race rejects with a winner's own cancellation error instead of absorbing it", async () => {
  const abort = new DOMException("request aborted", "AbortError");
  await assert.rejects(
    race([() => sleep(1_000), () => Promise.reject(abort)]),
    (err) => err === abort,
  );
});

Deno.test("race does not wait more than one macrotask turn for a loser that ignores its signal", async () => {
  await withFakeTime(async (clock) => {
    let loserSignal: AbortSignal | undefined;
    const result = await settleWithin(
      clock,
      11, // the macrotask turn: a 0 ms timer set during a fake tick runs 1 ms later
      race([
        async (signal) => {
          loserSignal = signal;
          await new Promise((resolve) => setTimeout(resolve, 10_000)); // ignores it
          throw new Error("late failure, absorbed");
        },
        async () => (await sleep(10), "winner"),
      ]),
    );
    assert.deepEqual(result, { ok: true, value: "winner", at: 11 });
    assert.equal(loserSignal?.aborted, true);
    assert.equal(clock.countTimers(), 1); // only the loser's own timer is left
    await clock.tickAsync(10_000); // its late rejection must not go unhandled
  });
});

Deno.test("race runs its contestants in its own scope, under the caller's", async () => {
  const outer = new CancelScope();
  await outer.run(async () => {
    const inner = await race([(signal) => {
      // Its signal is its own (see "race cancels only the losers"), its scope race's.
      assert.notEqual(currentScope()?.signal, signal);
      assert.equal(signal.aborted, false);
      return currentScope();
    }]);
    assert.notEqual(inner, outer);
    assert.ok(inner instanceof CancelScope);
  });
});

Deno.test("race propagates the cancellation of an enclosing scope and cancels every contestant", async () => {
  await withFakeTime(async (clock) => {
    const signals: AbortSignal[] = [];
    const result = await settleWithin(
      clock,
      100,
      failAfter(100, () =>
        race([1_000, 2_000].map((ms) => (signal: AbortSignal) => {
          signals.push(signal);
          return sleep(ms);
        }))),
    );
    assert.ok(result.value instanceof TimeoutError);
    assert.equal(result.at, 100);
    assert.ok(signals.length === 2 && signals.every((s) => s.aborted));
  });
});

Deno.test("race of no functions is a RangeError, and bad arguments a TypeError", async () => {
  await assert.rejects(race([]), RangeError);
  await assert.rejects(race([]), /Cannot race: 'fns' must not be empty, received 0/);
  await assert.rejects(race(untyped(undefined)), TypeError);
  await assert.rejects(
    race(untyped([() => 1, null])),
    /'fns\[1\]' must be a function, received null/,
  );
});

// ---------------------------------------------------------------------------
// boundedMap

Deno.test("boundedMap keeps input order and never runs more than limit at once", async () => {
  await withFakeTime(async (clock) => {
    let running = 0, peak = 0;
    const indexes: number[] = [];
    const durations = [50, 10, 40, 20, 30, 10, 10];
    const result = await settleWithin(
      clock,
      1_000,
      boundedMap(durations, async (ms, index) => {
        indexes.push(index);
        peak = Math.max(peak, ++running);
        await sleep(ms);
        running--;
        return ms * 2;
      }, { limit: 3 }),
    );
    assert.deepEqual(result.value, durations.map((ms) => ms * 2));
    assert.equal(peak, 3);
    assert.deepEqual(indexes.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
    // Workers: 50 then 10 (ends 60); 10, 20, 30 (ends 60); 40, 10 (ends 50).
    assert.equal(result.at, 60);
  });
});

Deno.test("boundedMap hands fn the item, its index and the map's signal", async () => {
  const seen: Array<[string, number, boolean]> = [];
  await boundedMap(["a", "b"], (item, index, signal) => {
    seen.push([item, index, signal === currentScope()?.signal]);
  }, { limit: 1 });
  assert.deepEqual(seen, [["a", 0, true], ["b", 1, true]]);
});

Deno.test("boundedMap pulls items lazily, so a huge input never becomes one promise per item", async () => {
  let pulled = 0;
  let maxAhead = 0;
  let done = 0;
  function* items(): Generator<number> {
    for (let i = 0; i < 100_000; i++) {
      pulled++;
      maxAhead = Math.max(maxAhead, pulled - done);
      yield i;
    }
  }
  const result = await boundedMap(items(), async (n) => {
    await null;
    done++;
    return n;
  }, { limit: 4 });
  assert.equal(result.length, 100_000);
  assert.equal(result[99_999], 99_999);
  assert.ok(maxAhead <= 4, `${maxAhead} items were pulled ahead of their completion`);
});

Deno.test("boundedMap cancels the running calls on a failure, starts no more, and closes the iterator", async () => {
  await withFakeTime(async (clock) => {
    const boom = new Error("boom");
    const started: number[] = [];
    const cleaned: number[] = [];
    let closed = false;
    function* items(): Generator<number> {
      try {
        for (let i = 0;; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const result = await settleWithin(
      clock,
      20,
      boundedMap(items(), async (n, _index, signal) => {
        started.push(n);
        try {
          await sleep(n === 1 ? 20 : 1_000);
          if (n === 1) throw boom;
        } finally {
          if (n !== 1) cleaned.push(signal.aborted ? n : -n);
        }
      }, { limit: 3 }),
    );
    assert.ok(result.value instanceof ExceptionGroup);
    assert.deepEqual(result.value.exceptions, [boom]);
    assert.match(result.value.message, /^boundedMap: 1 task failed/);
    assert.equal(result.at, 20);
    assert.deepEqual(started, [0, 1, 2]);
    assert.deepEqual(cleaned.sort(), [0, 2]);
    assert.ok(closed, "the iterator was not closed");
  });
});

Deno.test("boundedMap starts no further item after a synchronous failure", async () => {
  const started: number[] = [];
  const boom = new Error("boom");
  await assert.rejects(
    boundedMap([0, 1, 2, 3], (n) => {
      started.push(n);
      if (n === 0) throw boom;
    }, { limit: 3 }),
    (err) => err instanceof ExceptionGroup && err.exceptions[0] === boom,
  );
  assert.deepEqual(started, [0]);
});

Deno.test("boundedMap reports the failure, not an error from closing the iterator", async () => {
  const boom = new Error("boom");
  let closed = false;
  function* items(): Generator<number> {
    try {
      yield* [1, 2, 3];
    } finally {
      closed = true;
      // deno-lint-ignore no-unsafe-finally
      throw new Error("close failed");
    }
  }
  await assert.rejects(
    boundedMap(items(), () => {
      throw boom;
    }, { limit: 1 }),
    (err) => err instanceof ExceptionGroup && err.exceptions[0] === boom,
  );
  assert.ok(closed);
});

Deno.test("boundedMap with returnExceptions maps every item and puts errors at their index", async () => {
  const result = await boundedMap([1, 2, 3, 4], (n) => {
    if (n % 2 === 0) throw new Error(`even ${n}`);
    return n;
  }, { limit: 2, returnExceptions: true });
  assert.equal(result[0], 1);
  assert.equal((result[1] as Error).message, "even 2");
  assert.equal(result[2], 3);
  assert.equal((result[3] as Error).message, "even 4");
});

Deno.test("boundedMap with limit Infinity starts every item at once", async () => {
  await withFakeTime(async (clock) => {
    const starts: number[] = [];
    const result = await settleWithin(
      clock,
      10,
      boundedMap(new Set([1, 2, 3, 4, 5]), async (n) => {
        starts.push(currentTime());
        await sleep(10);
        return n;
      }, { limit: Infinity }),
    );
    assert.deepEqual(result.value, [1, 2, 3, 4, 5]);
    assert.deepEqual(starts, [0, 0, 0, 0, 0]);
  });
});

Deno.test("boundedMap fails with the error of an iterator that throws", async () => {
  const broken = new Error("broken iterator");
  let returned = false;
  const items: Iterable<number> = {
    [Symbol.iterator]: () => {
      let i = 0;
      return {
        next: () => {
          if (i === 2) throw broken;
          return { done: false, value: i++ };
        },
        return: () => {
          returned = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  for (const returnExceptions of [false, true]) {
    await assert.rejects(
      boundedMap(items, (n) => n, { limit: 1, returnExceptions }),
      (err) => err === broken,
    );
  }
  assert.equal(returned, false, "a throwing iterator must not be closed");
});

Deno.test("boundedMap of no items resolves with an empty array", async () => {
  assert.deepEqual(await boundedMap([], () => 1, { limit: 2 }), []);
});

Deno.test("boundedMap propagates the cancellation of an enclosing scope", async () => {
  await withFakeTime(async (clock) => {
    let started = 0;
    const result = await settleWithin(
      clock,
      30,
      failAfter(30, () =>
        boundedMap([1, 2, 3, 4, 5, 6], async () => {
          started++;
          await sleep(20);
        }, { limit: 2 })),
    );
    assert.ok(result.value instanceof TimeoutError);
    assert.equal(result.at, 30);
    assert.equal(started, 4);
  });
});

Deno.test("boundedMap rejects bad arguments before calling fn", async () => {
  let calls = 0;
  const fn = () => calls++;
  for (const limit of [0, -1, 1.5, NaN]) {
    await assert.rejects(
      boundedMap([1], fn, { limit }),
      (err) =>
        err instanceof RangeError &&
        err.message ===
          `Cannot boundedMap: 'limit' must be a positive integer or Infinity, received ${limit}`,
    );
  }
  await assert.rejects(boundedMap([1], fn, untyped({ limit: "2" })), TypeError);
  await assert.rejects(
    boundedMap([1], fn, untyped(undefined)),
    /'options' must be an object with a 'limit'/,
  );
  await assert.rejects(boundedMap([1], fn, untyped({})), /'limit'.*received undefined/);
  await assert.rejects(
    boundedMap(untyped(7), fn, { limit: 1 }),
    /'items' must be iterable, received 7/,
  );
  await assert.rejects(boundedMap([1], untyped("f"), { limit: 1 }), /'fn' must be a function/);
  await assert.rejects(
    boundedMap([1], fn, untyped({ limit: 1, returnExceptions: "yes" })),
    /'returnExceptions' must be a boolean/,
  );
  assert.equal(calls, 0);
});

// ---------------------------------------------------------------------------
// asCompleted

Deno.test("asCompleted yields [index, value] pairs in completion order", async () => {
  await withFakeTime(async (clock) => {
    const pairs: Array<[number, string]> = [];
    const times: number[] = [];
    const loop = (async () => {
      for await (
        const pair of asCompleted([30, 10, 20].map((ms) => async () => {
          await sleep(ms);
          return `${ms}ms`;
        }))
      ) {
        pairs.push(pair);
        times.push(currentTime());
      }
    })();
    await settleWithin(clock, 30, loop);
    assert.deepEqual(pairs, [[1, "10ms"], [2, "20ms"], [0, "30ms"]]);
    assert.deepEqual(times, [10, 20, 30]);
  });
});

Deno.test("asCompleted runs at most limit functions at once", async () => {
  await withFakeTime(async (clock) => {
    let running = 0, peak = 0;
    const order: number[] = [];
    const loop = (async () => {
      for await (
        const [index] of asCompleted(
          [40, 10, 10, 10].map((ms) => async () => {
            peak = Math.max(peak, ++running);
            await sleep(ms);
            running--;
          }),
          { limit: 2 },
        )
      ) order.push(index);
    })();
    const result = await settleWithin(clock, 40, loop);
    assert.equal(result.at, 40);
    assert.equal(peak, 2);
    assert.deepEqual(order, [1, 2, 3, 0]);
  });
});

Deno.test("asCompleted starts nothing before the first next()", async () => {
  let calls = 0;
  const iterator = asCompleted([() => calls++]);
  await sleep(1);
  assert.equal(calls, 0);
  assert.deepEqual(await iterator.return!(), { done: true, value: undefined });
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  assert.equal(calls, 0);
});

Deno.test("asCompleted cancels what is still running when the loop breaks, and waits for it", async () => {
  await withFakeTime(async (clock) => {
    const cleaned: number[] = [];
    const signals: AbortSignal[] = [];
    let cleanedAtExit: number[] = [];
    const loop = (async () => {
      for await (
        const [index] of asCompleted(
          [10, 500, 1_000].map((ms, i) => async (signal: AbortSignal) => {
            signals.push(signal);
            try {
              await sleep(ms);
            } finally {
              cleaned.push(i);
            }
          }),
        )
      ) {
        assert.equal(index, 0);
        break;
      }
      cleanedAtExit = [...cleaned];
    })();
    const result = await settleWithin(clock, 10, loop);
    assert.equal(result.ok, true, String(result.value));
    assert.equal(result.at, 10);
    assert.deepEqual(cleanedAtExit.sort(), [0, 1, 2]);
    // What was still running is cancelled; what had ended keeps its signal.
    assert.deepEqual(signals.map((s) => s.aborted), [false, true, true]);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("asCompleted yields the results before a failure, then throws an ExceptionGroup once the rest unwound", async () => {
  await withFakeTime(async (clock) => {
    const boom = new Error("boom");
    const pairs: Array<[number, unknown]> = [];
    const cleaned: number[] = [];
    let thrown: unknown;
    let thrownAt = NaN;
    const loop = (async () => {
      try {
        for await (
          const pair of asCompleted<string>([
            async () => (await sleep(10), "a"),
            async () => {
              await sleep(20);
              throw boom;
            },
            async () => {
              try {
                await sleep(1_000);
                return "never";
              } finally {
                cleaned.push(2);
              }
            },
            async () => {
              await sleep(1_000).catch(() => {}); // swallows its cancellation
              return "after the failure";
            },
          ])
        ) {
          pairs.push(pair);
        }
      } catch (err) {
        thrown = err;
        thrownAt = currentTime();
      }
    })();
    await settleWithin(clock, 20, loop);
    assert.deepEqual(pairs, [[0, "a"]]);
    assert.ok(thrown instanceof ExceptionGroup);
    assert.deepEqual(thrown.exceptions, [boom]);
    assert.match(thrown.message, /^asCompleted: 1 task failed/);
    assert.equal(thrownAt, 20);
    assert.deepEqual(cleaned, [2]);
  });
});

Deno.test("asCompleted yields nothing that completes after the failure, even in the same turn", async () => {
  const boom = new Error("boom");
  const pairs: unknown[] = [];
  await assert.rejects(
    (async () => {
      for await (
        const pair of asCompleted([async () => {
          await null;
          throw boom;
        }, async () => {
          await null;
          return "just after";
        }])
      ) pairs.push(pair);
    })(),
    (err) => err instanceof ExceptionGroup && err.exceptions[0] === boom,
  );
  assert.deepEqual(pairs, []);
});

Deno.test("asCompleted delivers results buffered before a failure even to a slow consumer", async () => {
  const boom = new Error("boom");
  const iterator = asCompleted([() => "first", () => "second", async () => {
    await sleep(1);
    throw boom;
  }]);
  const first = await iterator.next();
  await sleep(5); // the failure happens while the consumer is away
  const second = await iterator.next();
  await assert.rejects(iterator.next(), (err) => err instanceof ExceptionGroup);
  assert.deepEqual([first.value, second.value], [[0, "first"], [1, "second"]]);
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

Deno.test("asCompleted with returnExceptions yields errors as results and cancels nothing", async () => {
  const boom = new Error("boom");
  const pairs: Array<[number, unknown]> = [];
  for await (
    const pair of asCompleted([
      async () => (await sleep(5), "late"),
      () => {
        throw boom;
      },
    ], { returnExceptions: true })
  ) {
    pairs.push(pair);
  }
  assert.deepEqual(pairs, [[1, boom], [0, "late"]]);
});

Deno.test("asCompleted throws a failure that happens while the loop breaks", async () => {
  const cleanupFailure = new Error("cleanup failed");
  await assert.rejects(
    (async () => {
      for await (
        const _ of asCompleted([() => "first", async () => {
          try {
            await sleep(1_000);
          } catch {
            throw cleanupFailure;
          }
        }])
      ) break;
    })(),
    (err) => err instanceof ExceptionGroup && err.exceptions[0] === cleanupFailure,
  );
});

Deno.test("asCompleted answers concurrent next() calls in order", async () => {
  const iterator = asCompleted([
    async () => (await sleep(2), "b"),
    async () => (await sleep(1), "a"),
  ]);
  const [x, y, z] = await Promise.all([iterator.next(), iterator.next(), iterator.next()]);
  assert.deepEqual([x.value, y.value], [[1, "a"], [0, "b"]]);
  assert.equal(z.done, true);
});

Deno.test("asCompleted propagates the cancellation of an enclosing scope to the loop and yields nothing after it", async () => {
  await withFakeTime(async (clock) => {
    for (const returnExceptions of [false, true]) {
      const pairs: unknown[] = [];
      const result = await settleWithin(
        clock,
        50,
        failAfter(50, async () => {
          const fns = [
            () => "now",
            () => sleep(1_000),
            () => sleep(1_000).then(() => "never", () => "after the cancellation"),
          ];
          for await (const pair of asCompleted(fns, { returnExceptions })) pairs.push(pair);
        }),
      );
      assert.ok(result.value instanceof TimeoutError, String(result.value));
      assert.equal(result.at % 50, 0);
      assert.deepEqual(pairs, [[0, "now"]]);
    }
  });
});

Deno.test("asCompleted closes through await using, cancelling the rest", async () => {
  let cancelled = false;
  {
    await using iterator = asCompleted([() => 1, async () => {
      try {
        await sleep(10_000);
      } catch (err) {
        cancelled = err instanceof CancelledError;
        throw err;
      }
    }]);
    assert.deepEqual((await iterator.next()).value, [0, 1]);
  }
  assert.ok(cancelled);
});

Deno.test("asCompleted in an already cancelled scope runs nothing and throws the cancellation", async () => {
  let calls = 0;
  const outcomes: unknown[] = [];
  await new CancelScope().run(async (scope) => {
    scope.cancel();
    const first = asCompleted([() => calls++]);
    outcomes.push(await first.next().catch((err) => err));
    const second = asCompleted([() => calls++]);
    const pending = second.next();
    outcomes.push(await second.return!().catch((err) => err));
    outcomes.push(await pending);
  });
  assert.equal(calls, 0);
  assert.ok(outcomes[0] instanceof CancelledError, String(outcomes[0]));
  assert.ok(outcomes[1] instanceof CancelledError, String(outcomes[1]));
  assert.deepEqual(outcomes[2], { done: true, value: undefined });
});

Deno.test("asCompleted of no functions ends at once", async () => {
  assert.deepEqual(await asCompleted([]).next(), { done: true, value: undefined });
});

Deno.test("asCompleted validates its arguments synchronously", () => {
  assert.throws(
    () => asCompleted(untyped(null)),
    /Cannot call asCompleted: 'fns' must be .*received null/,
  );
  assert.throws(() => asCompleted([untyped(3)]), /'fns\[0\]' must be a function, received 3/);
  assert.throws(() => asCompleted([], { limit: 0 }), RangeError);
  assert.throws(() => asCompleted([], { limit: 2.5 }), /'limit'.*received 2\.5/);
  assert.throws(() => asCompleted([], untyped({ limit: "1" })), TypeError);
  assert.throws(() => asCompleted([], untyped({ returnExceptions: 0 })), TypeError);
});

Deno.test("retry: a retryOn that throws keeps both the last error and its own", async () => {
  const err = await retry(() => {
    throw new Error("attempt failed");
  }, {
    attempts: 3,
    retryOn: () => {
      throw new Error("bug in retryOn");
    },
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof AggregateError);
  assert.deepEqual(err.errors.map((e: Error) => e.message), ["attempt failed", "bug in retryOn"]);
  assert.equal((err.cause as Error).message, "attempt failed");
});
