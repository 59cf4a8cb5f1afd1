// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §7: CircuitBreaker and CircuitOpenError (on a virtual clock).
import assert from "node:assert/strict";
import {
  CancelledError,
  CancelScope,
  CircuitBreaker,
  CircuitOpenError,
  type CircuitState,
  TimeoutError,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";
import { deferred, withConsoleErrors } from "./_helpers.ts";

const boom = (): Promise<never> => Promise.reject(new Error("boom"));
const ok = (): Promise<string> => Promise.resolve("ok");

/** Fails the breaker `n` times. */
async function fail(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await assert.rejects(breaker.call(boom), /boom/);
}

Deno.test("a new breaker is closed and passes calls and arguments through", async () => {
  const breaker = new CircuitBreaker();
  assert.equal(breaker.state, "closed");
  assert.equal(await breaker.call((a: number, b: string) => `${a}${b}`, 1, "x"), "1x");
  assert.equal(breaker.failures, 0);
});

Deno.test("failureThreshold consecutive failures open the breaker", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3 });
  await fail(breaker, 2);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failures, 2);
  await fail(breaker, 1);
  assert.equal(breaker.state, "open");
  assert.equal(breaker.failures, 3);
});

Deno.test("the default threshold is five failures", async () => {
  const breaker = new CircuitBreaker();
  await fail(breaker, 4);
  assert.equal(breaker.state, "closed");
  await fail(breaker, 1);
  assert.equal(breaker.state, "open");
});

Deno.test("a success resets the count, so only consecutive failures open the breaker", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3 });
  await fail(breaker, 2);
  assert.equal(await breaker.call(ok), "ok");
  assert.equal(breaker.failures, 0);
  await fail(breaker, 2);
  assert.equal(breaker.state, "closed");
});

Deno.test("a synchronous throw counts as a failure and is rethrown", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  await assert.rejects(
    breaker.call(() => {
      throw new RangeError("sync");
    }),
    RangeError,
  );
  assert.equal(breaker.state, "open");
});

Deno.test("an open breaker rejects at once with CircuitOpenError without calling fn", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
    await fail(breaker, 1);
    await clock.tickAsync(10_000);
    let called = false;
    await assert.rejects(
      breaker.call(() => {
        called = true;
      }),
      (e: unknown) =>
        e instanceof CircuitOpenError && e.name === "CircuitOpenError" &&
        e.retryAfter === 50_000,
    );
    assert.equal(called, false);
  });
});

Deno.test("after resetTimeout the breaker is half-open and a successful probe closes it", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 60_000 });
    await fail(breaker, 2);
    await clock.tickAsync(59_999);
    assert.equal(breaker.state, "open");
    await clock.tickAsync(1);
    assert.equal(breaker.state, "half-open");
    assert.equal(await breaker.call(ok), "ok");
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.failures, 0);
  });
});

Deno.test("a failed probe re-opens the breaker for another resetTimeout", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    await fail(breaker, 1); // the probe
    assert.equal(breaker.state, "open");
    await assert.rejects(
      breaker.call(ok),
      (e: unknown) => e instanceof CircuitOpenError && e.retryAfter === 1_000,
    );
    await clock.tickAsync(1_000);
    assert.equal(await breaker.call(ok), "ok");
    assert.equal(breaker.state, "closed");
  });
});

Deno.test("a half-open breaker lets at most halfOpenMaxCalls probes through at once", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      resetTimeout: 1_000,
      halfOpenMaxCalls: 2,
    });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    const gate = deferred<string>();
    let calls = 0;
    const probe = () => {
      calls++;
      return gate.promise;
    };
    const p1 = breaker.call(probe), p2 = breaker.call(probe);
    await assert.rejects(
      breaker.call(probe),
      (e: unknown) => e instanceof CircuitOpenError && e.retryAfter === 1_000,
    );
    assert.equal(calls, 2);
    assert.equal(breaker.statistics().probes, 2);
    gate.resolve("up");
    assert.deepEqual(await Promise.all([p1, p2]), ["up", "up"]);
    assert.equal(breaker.state, "closed");
  });
});

Deno.test("a stale probe's late success never closes a breaker another probe re-opened", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      resetTimeout: 1_000,
      halfOpenMaxCalls: 2,
    });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    const slow = deferred<string>();
    const stale = breaker.call(() => slow.promise);
    await fail(breaker, 1); // the other probe fails: open again
    assert.equal(breaker.state, "open");
    slow.resolve("late");
    assert.equal(await stale, "late"); // the caller still gets its value...
    assert.equal(breaker.state, "open"); // ...but the breaker stays open
    assert.equal(breaker.statistics().retryAfter, 1_000);
  });
});

Deno.test("a slow success from before the breaker opened does not close it", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    const slow = deferred<string>();
    const early = breaker.call(() => slow.promise);
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    assert.equal(breaker.state, "half-open");
    slow.resolve("late");
    await early;
    assert.equal(breaker.state, "half-open");
  });
});

Deno.test("a cancelled probe does not count and frees its slot for the next call", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    await assert.rejects(breaker.call(() => Promise.reject(new CancelledError())), CancelledError);
    await assert.rejects(
      breaker.call(() => Promise.reject(new DOMException("aborted", "AbortError"))),
      (e: unknown) => (e as Error).name === "AbortError",
    );
    assert.equal(breaker.state, "half-open");
    assert.equal(breaker.failures, 1);
    assert.equal(await breaker.call(ok), "ok"); // the slot was freed
    assert.equal(breaker.state, "closed");
  });
});

Deno.test("cancellations never count as failures while closed", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  await assert.rejects(breaker.call(() => Promise.reject(new CancelledError())), CancelledError);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failures, 0);
});

Deno.test("a timeout is a failure, not a cancellation", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  await assert.rejects(breaker.call(() => Promise.reject(new TimeoutError())), TimeoutError);
  assert.equal(breaker.state, "open");
});

Deno.test("errors isFailure rejects do not count and free the probe slot", async () => {
  await withFakeTime(async (clock) => {
    class NotFound extends Error {}
    const breaker = new CircuitBreaker({
      failureThreshold: 2,
      resetTimeout: 1_000,
      isFailure: (e) => !(e instanceof NotFound),
    });
    await assert.rejects(breaker.call(() => Promise.reject(new NotFound())), NotFound);
    await fail(breaker, 1);
    await assert.rejects(breaker.call(() => Promise.reject(new NotFound())), NotFound);
    assert.equal(breaker.failures, 1);
    await fail(breaker, 1);
    assert.equal(breaker.state, "open");
    await clock.tickAsync(1_000);
    await assert.rejects(breaker.call(() => Promise.reject(new NotFound())), NotFound);
    assert.equal(breaker.state, "half-open");
    assert.equal(breaker.statistics().probes, 0);
    assert.equal(await breaker.call(ok), "ok");
    assert.equal(breaker.state, "closed");
  });
});

Deno.test("an isFailure that throws counts the error as a failure and rejects with both errors", async () => {
  const breaker = new CircuitBreaker({
    failureThreshold: 1,
    isFailure: () => {
      throw new Error("filter bug");
    },
  });
  const err = await breaker.call(boom).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof AggregateError, `expected an AggregateError, got ${err}`);
  assert.deepEqual(err.errors.map((e: Error) => e.message), ["boom", "filter bug"]);
  assert.equal((err.cause as Error).message, "boom");
  assert.equal(breaker.state, "open");
});

Deno.test("onStateChange sees every transition in order", async () => {
  await withFakeTime(async (clock) => {
    const seen: string[] = [];
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      resetTimeout: 500,
      onStateChange: (from: CircuitState, to: CircuitState) => seen.push(`${from}->${to}`),
    });
    await fail(breaker, 1);
    await clock.tickAsync(500);
    await fail(breaker, 1);
    await clock.tickAsync(500);
    await breaker.call(ok);
    await fail(breaker, 1);
    breaker.reset();
    breaker.reset(); // no change, no callback
    assert.deepEqual(seen, [
      "closed->open",
      "open->half-open",
      "half-open->open",
      "open->half-open",
      "half-open->closed",
      "closed->open",
      "open->closed",
    ]);
  });
});

Deno.test("an onStateChange that throws is logged and the breaker still changes state", async () => {
  await withConsoleErrors(async (logged) => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      onStateChange: () => {
        throw new Error("logger down");
      },
    });
    await assert.rejects(breaker.call(boom), /boom/);
    assert.equal(breaker.state, "open");
    assert.equal(logged.length, 1);
    assert.equal((logged[0][1] as Error).message, "logger down");
  });
});

Deno.test("reset() closes the breaker, clears failures and ignores calls in flight", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  const slow = deferred<never>();
  const inFlight = breaker.call(() => slow.promise);
  await fail(breaker, 2);
  assert.equal(breaker.state, "open");
  breaker.reset();
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failures, 0);
  slow.reject(new Error("late"));
  await assert.rejects(inFlight, /late/);
  assert.equal(breaker.failures, 0);
});

Deno.test("call inside a cancelled scope rejects at once without calling fn", async () => {
  const breaker = new CircuitBreaker();
  let called = false;
  const scope = new CancelScope();
  await scope.run(async () => {
    scope.cancel();
    await assert.rejects(
      breaker.call(() => {
        called = true;
      }),
      CancelledError,
    );
  });
  assert.equal(called, false);
  assert.equal(breaker.failures, 0);
});

Deno.test("resetTimeout 0 lets a probe through at once, Infinity keeps the breaker open", async () => {
  await withFakeTime(async (clock) => {
    const eager = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 0 });
    await fail(eager, 1);
    assert.equal(eager.state, "half-open");
    const manual = new CircuitBreaker({ failureThreshold: 1, resetTimeout: Infinity });
    await fail(manual, 1);
    await clock.tickAsync(10 * 365 * 24 * 3_600_000);
    assert.equal(manual.state, "open");
    await assert.rejects(
      manual.call(ok),
      (e: unknown) => e instanceof CircuitOpenError && e.retryAfter === Infinity,
    );
  });
});

Deno.test("statistics() reports state, failures, probes and retryAfter", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 2_000 });
    assert.deepEqual(breaker.statistics(), {
      state: "closed",
      failures: 0,
      probes: 0,
      retryAfter: 0,
    });
    await fail(breaker, 1);
    await clock.tickAsync(500);
    assert.deepEqual(breaker.statistics(), {
      state: "open",
      failures: 1,
      probes: 0,
      retryAfter: 1_500,
    });
  });
});

Deno.test("CircuitOpenError carries retryAfter and defaults it to 0", () => {
  const err = new CircuitOpenError("open", { retryAfter: 250, cause: "x" });
  assert.ok(err instanceof Error);
  assert.equal(err.retryAfter, 250);
  assert.equal(err.cause, "x");
  assert.equal(new CircuitOpenError().retryAfter, 0);
});

Deno.test("bad options throw, naming the parameter and the value", () => {
  const cases: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ failureThreshold: 0 }, RangeError, /'failureThreshold'.*0/],
    [{ failureThreshold: 1.5 }, RangeError, /'failureThreshold'.*1\.5/],
    [{ failureThreshold: "5" }, TypeError, /'failureThreshold'.*string/],
    [{ halfOpenMaxCalls: 0 }, RangeError, /'halfOpenMaxCalls'.*0/],
    [{ halfOpenMaxCalls: NaN }, RangeError, /'halfOpenMaxCalls'.*NaN/],
    [{ resetTimeout: -1 }, RangeError, /'resetTimeout'.*-1/],
    [{ resetTimeout: NaN }, RangeError, /'resetTimeout'.*NaN/],
    [{ resetTimeout: "60s" }, TypeError, /'resetTimeout'.*string/],
    [{ isFailure: true }, TypeError, /'isFailure'.*boolean/],
    [{ onStateChange: "log" }, TypeError, /'onStateChange'.*string/],
  ];
  for (const [options, Err, message] of cases) {
    assert.throws(
      () => new CircuitBreaker(options),
      (e: unknown) => e instanceof Err && message.test((e as Error).message),
      JSON.stringify(options),
    );
  }
  assert.throws(() => new CircuitBreaker(null as unknown as undefined), TypeError);
});

Deno.test("call rejects when fn is not a function", async () => {
  const breaker = new CircuitBreaker();
  await assert.rejects(
    breaker.call(42 as unknown as () => void),
    (e: unknown) => e instanceof TypeError && /'fn'.*42/.test(e.message),
  );
});

// --------------------------------------------- hung probes and retryAfter (§7, §10)

Deno.test("a probe that has not settled within resetTimeout gives its slot up, so the next call probes", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    const hung = deferred<string>();
    const first = breaker.call(() => hung.promise);
    await clock.tickAsync(999); // the probe holds its slot while younger than resetTimeout
    await assert.rejects(breaker.call(ok), CircuitOpenError);
    await clock.tickAsync(1);
    assert.equal(await breaker.call(ok), "ok"); // takes the slot over, and closes the breaker
    assert.equal(breaker.state, "closed");
    hung.reject(new Error("late"));
    await assert.rejects(first, /late/);
    assert.equal(breaker.state, "closed");
  });
});

Deno.test("a hung probe's late failure is ignored once a newer probe took its slot over", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    const hung = deferred<never>();
    const late = breaker.call(() => hung.promise);
    await clock.tickAsync(1_000);
    const newer = deferred<string>();
    const next = breaker.call(() => newer.promise); // takes the hung probe's slot over
    hung.reject(new Error("late"));
    await assert.rejects(late, /late/);
    assert.equal(breaker.state, "half-open");
    assert.equal(breaker.failures, 1);
    newer.resolve("ok");
    assert.equal(await next, "ok");
    assert.equal(breaker.state, "closed");
  });
});

Deno.test("a probe that settles after resetTimeout is ignored even when nobody took its slot", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    const slowFailure = deferred<never>();
    const failing = breaker.call(() => slowFailure.promise);
    await clock.tickAsync(5_000);
    slowFailure.reject(new Error("late"));
    await assert.rejects(failing, /late/);
    assert.equal(breaker.state, "half-open"); // the late failure did not re-open it
    assert.equal(breaker.failures, 1);
    const slowSuccess = deferred<string>();
    const succeeding = breaker.call(() => slowSuccess.promise);
    await clock.tickAsync(1_001);
    slowSuccess.resolve("late");
    assert.equal(await succeeding, "late"); // the caller still gets its value...
    assert.equal(breaker.state, "half-open"); // ...but the late success does not close it
    assert.equal(await breaker.call(ok), "ok"); // a probe within resetTimeout does
    assert.equal(breaker.state, "closed");
  });
});

Deno.test("a hung probe's late success is ignored once a newer probe took its slot over", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    const slow = deferred<string>();
    const first = breaker.call(() => slow.promise);
    await clock.tickAsync(1_000);
    const newer = deferred<string>();
    const second = breaker.call(() => newer.promise); // takes the slot over
    slow.resolve("late");
    assert.equal(await first, "late");
    assert.equal(breaker.state, "half-open");
    newer.resolve("ok");
    assert.equal(await second, "ok");
    assert.equal(breaker.state, "closed");
  });
});

Deno.test("resetTimeout 0 on the real clock: a synchronous probe counts, a 5 ms one is late", async () => {
  const instant = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 0 });
  await fail(instant, 1);
  assert.equal(await instant.call(() => 1), 1);
  assert.equal(instant.state, "closed");

  const slow = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 0 });
  await fail(slow, 1);
  const answer = () => new Promise<string>((resolve) => setTimeout(() => resolve("ok"), 5));
  assert.equal(await slow.call(answer), "ok");
  assert.equal(slow.state, "half-open"); // settled ~5 ms after its start: later than resetTimeout
});

Deno.test("while probes fill every slot, a call retryAfter ms after a refusal is let through", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    const hung = deferred<string>();
    const probe = breaker.call(() => hung.promise);
    await clock.tickAsync(400);
    const err = await breaker.call(ok).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof CircuitOpenError);
    assert.equal(err.retryAfter, 600);
    await clock.tickAsync(599);
    const justBefore = await breaker.call(ok).then(() => undefined, (e: unknown) => e);
    assert.ok(justBefore instanceof CircuitOpenError);
    assert.equal(justBefore.retryAfter, 1);
    await clock.tickAsync(1);
    assert.equal(await breaker.call(ok), "ok");
    hung.resolve("late");
    await probe;
  });
});

Deno.test("a retry loop that honours retryAfter gets past a hung probe instead of spinning", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 5_000 });
    await fail(breaker, 1);
    await clock.tickAsync(5_000);
    const hung = deferred<string>();
    const stuck = breaker.call(() => hung.promise); // takes the only probe slot, for good
    let attempts = 0, value: string | undefined;
    while (value === undefined && attempts < 10) {
      attempts++;
      try {
        value = await breaker.call(ok);
      } catch (err) {
        assert.ok(err instanceof CircuitOpenError);
        assert.ok(err.retryAfter > 0, `retryAfter ${err.retryAfter} would spin`);
        await clock.tickAsync(err.retryAfter);
      }
    }
    assert.equal(value, "ok");
    assert.equal(attempts, 2); // refused at 0 (wait 5000), let through at 5000
    hung.resolve("late");
    await stuck;
  });
});

Deno.test("opening on an error with a longer retryAfter keeps the breaker open for that retryAfter", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    const limited = Object.assign(new Error("429"), { retryAfter: 5_000 });
    await assert.rejects(breaker.call(() => Promise.reject(limited)), /429/);
    assert.equal(breaker.state, "open");
    await assert.rejects(
      breaker.call(ok),
      (e: unknown) => e instanceof CircuitOpenError && e.retryAfter === 5_000,
    );
    await clock.tickAsync(4_999);
    assert.equal(breaker.state, "open");
    assert.equal(breaker.statistics().retryAfter, 1);
    await clock.tickAsync(1);
    assert.equal(breaker.state, "half-open");
  });
});

Deno.test("a retryAfter shorter than resetTimeout leaves the breaker open for resetTimeout", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    const hint = Object.assign(new Error("503"), { retryAfter: 10 });
    await assert.rejects(breaker.call(() => Promise.reject(hint)), /503/);
    await clock.tickAsync(999);
    assert.equal(breaker.state, "open");
    await clock.tickAsync(1);
    assert.equal(breaker.state, "half-open");
  });
});

Deno.test("a failed probe with a retryAfter re-opens the breaker for max(resetTimeout, retryAfter)", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await fail(breaker, 1);
    await clock.tickAsync(1_000);
    const limited = Object.assign(new Error("429"), { retryAfter: 3_000 });
    await assert.rejects(breaker.call(() => Promise.reject(limited)), /429/);
    assert.equal(breaker.state, "open");
    assert.equal(breaker.statistics().retryAfter, 3_000);
    await clock.tickAsync(2_999);
    assert.equal(breaker.state, "open");
    await clock.tickAsync(1);
    assert.equal(breaker.state, "half-open");
  });
});

Deno.test("a retryAfter of Infinity keeps the breaker open until reset()", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    const forever = Object.assign(new Error("gone"), { retryAfter: Infinity });
    await assert.rejects(breaker.call(() => Promise.reject(forever)), /gone/);
    await clock.tickAsync(365 * 24 * 3_600_000);
    assert.equal(breaker.state, "open");
    assert.equal(breaker.statistics().retryAfter, Infinity);
    breaker.reset();
    assert.equal(breaker.state, "closed");
  });
});

Deno.test("a cancellation carrying a retryAfter is still not a failure", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  const cancelled = Object.assign(new CancelledError(), { retryAfter: 5_000 });
  await assert.rejects(breaker.call(() => Promise.reject(cancelled)), CancelledError);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failures, 0);
});

Deno.test("a CircuitBreaker prints its state, failures and, while open, its retryAfter", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 2_000 });
    await fail(breaker, 1);
    assert.equal(Deno.inspect(breaker), 'CircuitBreaker { state: "closed", failures: 1 }');
    await fail(breaker, 1);
    await clock.tickAsync(800);
    assert.equal(
      Deno.inspect(breaker),
      'CircuitBreaker { state: "open", failures: 2, retryAfter: 1200 ms }',
    );
    await clock.tickAsync(1_200);
    const probe = deferred<string>();
    const running = breaker.call(() => probe.promise);
    assert.equal(
      Deno.inspect(breaker),
      'CircuitBreaker { state: "half-open", failures: 2, probes: 1 }',
    );
    probe.resolve("up");
    await running;
  });
});
