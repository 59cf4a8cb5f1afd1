// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §3: CancelScope, failAfter/moveOnAfter/failAt/moveOnAt,
// shield, effectiveDeadline, currentScope.
import assert from "node:assert/strict";
import {
  CancelledError,
  CancelScope,
  currentScope,
  currentTime,
  effectiveDeadline,
  ExceptionGroup,
  failAfter,
  failAt,
  isCancelled,
  moveOnAfter,
  moveOnAt,
  shield,
  sleep,
  taskGroup,
  TimeoutError,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";
import { deferred, flushMicrotasks, macrotask, state } from "./_helpers.ts";

// ------------------------------------------------------------- construction

Deno.test("a new CancelScope has no deadline, no shield and is not cancelled", () => {
  const scope = new CancelScope();
  assert.equal(scope.deadline, Infinity);
  assert.equal(scope.shield, false);
  assert.equal(scope.cancelCalled, false);
  assert.equal(scope.cancelledCaught, false);
  assert.equal(scope.signal.aborted, false);
});

Deno.test("CancelScope takes its deadline and shield from its options", () => {
  const scope = new CancelScope({ deadline: 1234, shield: true });
  assert.equal(scope.deadline, 1234);
  assert.equal(scope.shield, true);
});

Deno.test("CancelScope rejects options that are not an object with a TypeError naming 'options'", () => {
  for (const bad of [null, 5, "x"]) {
    assert.throws(
      () => new CancelScope(bad as never),
      (err: unknown) => err instanceof TypeError && /'options'/.test(err.message),
      String(bad),
    );
  }
});

Deno.test("CancelScope rejects a deadline that is not a number with a TypeError naming 'deadline' and the value", () => {
  assert.throws(
    () => new CancelScope({ deadline: "10" as never }),
    (err: unknown) =>
      err instanceof TypeError && /'deadline'/.test(err.message) && /string "10"/.test(err.message),
  );
});

Deno.test("CancelScope rejects a NaN deadline with a RangeError naming 'deadline' and NaN", () => {
  assert.throws(
    () => new CancelScope({ deadline: NaN }),
    (err: unknown) =>
      err instanceof RangeError && /'deadline'/.test(err.message) && /NaN/.test(err.message),
  );
});

Deno.test("CancelScope rejects a shield that is not a boolean with a TypeError naming 'shield'", () => {
  assert.throws(
    () => new CancelScope({ shield: 1 as never }),
    (err: unknown) =>
      err instanceof TypeError && /'shield'/.test(err.message) && /number/.test(err.message),
  );
});

Deno.test("the deadline and shield setters validate their values", () => {
  const scope = new CancelScope();
  assert.throws(() => (scope.deadline = "1" as never), TypeError);
  assert.throws(
    () => (scope.deadline = NaN),
    (err: unknown) => err instanceof RangeError && /'deadline'/.test(err.message),
  );
  assert.throws(() => (scope.shield = "yes" as never), TypeError);
  assert.equal(scope.deadline, Infinity);
  assert.equal(scope.shield, false);
});

Deno.test("run rejects with a TypeError naming 'fn' when fn is not a function", async () => {
  const scope = new CancelScope();
  await assert.rejects(
    scope.run(42 as never),
    (err: unknown) =>
      err instanceof TypeError && /'fn'/.test(err.message) && /number/.test(err.message),
  );
});

// ------------------------------------------------------------------------ run

Deno.test("run resolves with the value of a synchronous body", async () => {
  assert.equal(await new CancelScope().run(() => 42), 42);
});

Deno.test("run resolves with the value of an asynchronous body", async () => {
  const value = await new CancelScope().run(async () => {
    await sleep(1);
    return "done";
  });
  assert.equal(value, "done");
});

Deno.test("run passes the scope to the body and makes it the ambient scope", async () => {
  const scope = new CancelScope();
  let received: CancelScope | undefined, ambient: CancelScope | undefined;
  await scope.run((s) => {
    received = s;
    ambient = currentScope();
  });
  assert.equal(received, scope);
  assert.equal(ambient, scope);
});

Deno.test("run rejects with a synchronous body's error unchanged", async () => {
  const boom = new Error("boom");
  await assert.rejects(
    new CancelScope().run(() => {
      throw boom;
    }),
    (err) => err === boom,
  );
});

Deno.test("run rejects with an asynchronous body's error unchanged", async () => {
  const boom = new TypeError("boom");
  await assert.rejects(
    new CancelScope().run(async () => {
      await sleep(1);
      throw boom;
    }),
    (err) => err === boom,
  );
});

Deno.test("run rejects with a cancellation that does not come from a cancelled scope", async () => {
  const foreign = new DOMException("fetch aborted", "AbortError");
  const scope = new CancelScope();
  await assert.rejects(scope.run(() => Promise.reject(foreign)), (err) => err === foreign);
  assert.equal(scope.cancelledCaught, false);
});

Deno.test("run waits for a thenable that is not a Promise", async () => {
  const thenable = {
    then(resolve: (v: number) => void) {
      setTimeout(() => resolve(7), 1);
    },
  };
  assert.equal(await new CancelScope().run(() => thenable as never), 7);
});

Deno.test("run rejects when the body returns a thenable whose then throws, and leaves the scope", async () => {
  const outer = new CancelScope();
  const boom = new Error("bad thenable");
  const inner = new CancelScope();
  await outer.run(async () => {
    await assert.rejects(
      inner.run(() =>
        ({
          then: () => {
            throw boom;
          },
        }) as never
      ),
      (err) => err === boom,
    );
  });
  // The inner scope has left its parent: cancelling the parent does not reach it.
  outer.cancel();
  assert.equal(inner.signal.aborted, false);
});

Deno.test("a second run of the same scope rejects", async () => {
  const scope = new CancelScope();
  await scope.run(() => 1);
  let invoked = false;
  await assert.rejects(
    scope.run(() => {
      invoked = true;
    }),
    (err: unknown) => err instanceof Error && /once/.test(err.message),
  );
  assert.equal(invoked, false);
});

Deno.test("run rejects while the same scope is already running", async () => {
  const scope = new CancelScope();
  const first = scope.run(() => sleep(5));
  await assert.rejects(scope.run(() => 2), Error);
  await first;
});

// ---------------------------------------------------------------- cancel()

Deno.test("cancel inside the body makes run resolve undefined and sets cancelledCaught", async () => {
  const scope = new CancelScope();
  const value = await scope.run(async (s) => {
    s.cancel();
    await sleep(10_000);
    return "not reached";
  });
  assert.equal(value, undefined);
  assert.equal(scope.cancelCalled, true);
  assert.equal(scope.cancelledCaught, true);
});

Deno.test("cancel aborts the scope's signal at once with a CancelledError", () => {
  const scope = new CancelScope();
  const signal = scope.signal;
  scope.cancel();
  assert.equal(signal.aborted, true);
  assert.ok(signal.reason instanceof CancelledError);
  assert.equal(scope.cancelCalled, true);
});

Deno.test("cancel before the signal was read still hands out an aborted signal", () => {
  const scope = new CancelScope();
  scope.cancel("early");
  assert.equal(scope.signal.aborted, true);
  assert.equal(scope.signal.reason.message, "early");
});

Deno.test("cancel with a string reason makes it the CancelledError's message", () => {
  const scope = new CancelScope();
  scope.cancel("shutting down");
  const reason = scope.signal.reason;
  assert.ok(reason instanceof CancelledError);
  assert.equal(reason.message, "shutting down");
});

Deno.test("cancel with an Error reason makes it the CancelledError's cause", () => {
  const scope = new CancelScope();
  const why = new Error("db down");
  scope.cancel(why);
  const reason = scope.signal.reason;
  assert.ok(reason instanceof CancelledError);
  assert.equal(reason.cause, why);
});

Deno.test("cancel with any other reason makes it the CancelledError's cause", () => {
  for (const why of [{ code: 7 }, 42, null, false]) {
    const scope = new CancelScope();
    scope.cancel(why);
    const reason = scope.signal.reason;
    assert.ok(reason instanceof CancelledError);
    assert.equal(reason.cause, why);
  }
});

Deno.test("cancel with a CancelledError uses it as the reason itself", () => {
  const scope = new CancelScope();
  const reason = new CancelledError("shutdown");
  scope.cancel(reason);
  assert.equal(scope.signal.reason, reason);
});

Deno.test("cancel without a reason aborts with a CancelledError that has a message", () => {
  const scope = new CancelScope();
  scope.cancel();
  assert.ok(scope.signal.reason instanceof CancelledError);
  assert.ok(scope.signal.reason.message.length > 0);
});

Deno.test("cancel is idempotent: the first reason stays", () => {
  const scope = new CancelScope();
  scope.cancel("first");
  const reason = scope.signal.reason;
  scope.cancel("second");
  assert.equal(scope.signal.reason, reason);
  assert.equal(reason.message, "first");
});

Deno.test("a scope cancelled before run does not invoke its body", async () => {
  const scope = new CancelScope();
  scope.cancel();
  let invoked = false;
  const value = await scope.run(() => {
    invoked = true;
    return 1;
  });
  assert.equal(invoked, false);
  assert.equal(value, undefined);
  assert.equal(scope.cancelledCaught, true);
});

Deno.test("a body that ignores its own cancel but settles first still yields undefined", async () => {
  const scope = new CancelScope();
  const value = await scope.run((s) => {
    s.cancel();
    return "ignored";
  });
  assert.equal(value, undefined);
  assert.equal(scope.cancelledCaught, true);
});

Deno.test("the body's own error rejects run even while the scope is cancelled", async () => {
  const scope = new CancelScope();
  const cleanup = new Error("cleanup failed");
  await assert.rejects(
    scope.run(async (s) => {
      try {
        s.cancel();
        await sleep(10_000);
      } finally {
        // deno-lint-ignore no-unsafe-finally
        throw cleanup;
      }
    }),
    (err) => err === cleanup,
  );
  assert.equal(scope.cancelledCaught, false);
});

Deno.test("run absorbs an AbortError caused by its own signal", async () => {
  const scope = new CancelScope();
  const value = await scope.run(async (s) => {
    const p = new Promise((_, reject) =>
      s.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))
    );
    s.cancel();
    await p;
  });
  assert.equal(value, undefined);
  assert.equal(scope.cancelledCaught, true);
});

// ------------------------------------------------------------ nested scopes

Deno.test("cancelling an enclosing scope rejects the inner run with that cancellation", async () => {
  const outer = new CancelScope();
  const inner = new CancelScope();
  let innerError: unknown;
  const value = await outer.run(async () => {
    try {
      await inner.run(async () => {
        outer.cancel("outer");
        await sleep(10_000);
      });
    } catch (err) {
      innerError = err;
      throw err;
    }
  });
  assert.equal(value, undefined);
  assert.equal(innerError, outer.signal.reason);
  assert.equal(inner.cancelledCaught, false);
  assert.equal(outer.cancelledCaught, true);
});

Deno.test("an inner scope's signal aborts with the enclosing scope's reason", async () => {
  const outer = new CancelScope();
  const inner = new CancelScope();
  await outer.run(() =>
    inner.run(() => {
      outer.cancel();
      assert.equal(inner.signal.aborted, true);
      assert.equal(inner.signal.reason, outer.signal.reason);
    })
  );
  assert.equal(inner.cancelCalled, false);
});

Deno.test("when both an inner and an enclosing scope are cancelled, the enclosing one catches", async () => {
  const outer = new CancelScope();
  const inner = new CancelScope();
  let innerError: unknown;
  await outer.run(async () => {
    await inner.run(async () => {
      inner.cancel("inner");
      outer.cancel("outer");
      await sleep(10_000);
    }).catch((err) => {
      innerError = err;
      throw err;
    });
  });
  assert.equal(innerError, outer.signal.reason);
  assert.equal(inner.cancelledCaught, false);
  assert.equal(outer.cancelledCaught, true);
});

Deno.test("a scope run inside a cancelled scope is cancelled at once and does not invoke its body", async () => {
  const outer = new CancelScope();
  let invoked = false;
  let innerError: unknown;
  await outer.run(async () => {
    outer.cancel();
    await new CancelScope().run(() => {
      invoked = true;
    }).catch((err) => {
      innerError = err;
    });
  });
  assert.equal(invoked, false);
  assert.equal(innerError, outer.signal.reason);
});

Deno.test("the scope whose deadline passed catches, not its enclosing scope", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope({ deadline: 1_000 });
    const inner = new CancelScope({ deadline: 100 });
    const p = outer.run(async () => {
      const v = await inner.run(() => sleep(10_000));
      return ["after inner", v];
    });
    await clock.tickAsync(100);
    assert.deepEqual(await p, ["after inner", undefined]);
    assert.equal(inner.cancelledCaught, true);
    assert.equal(outer.cancelCalled, false);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("an enclosing deadline is caught by the enclosing scope, not the inner one", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope({ deadline: 100 });
    const inner = new CancelScope({ deadline: 1_000 });
    const p = outer.run(() => inner.run(() => sleep(10_000)));
    await clock.tickAsync(100);
    assert.equal(await p, undefined);
    assert.equal(outer.cancelledCaught, true);
    assert.equal(inner.cancelledCaught, false);
    assert.equal(inner.cancelCalled, false);
  });
});

// ---------------------------------------------------------------- bounded exit

Deno.test("run settles as soon as a body that honours the cancellation settles", async () => {
  const scope = new CancelScope();
  const run = scope.run(async () => {
    await sleep(10_000);
  });
  scope.cancel();
  assert.equal(await state(run), "fulfilled");
});

Deno.test("a body that honours the signal has run its finally blocks before run settles", async () => {
  const events: string[] = [];
  const scope = new CancelScope();
  const run = scope.run(async (s) => {
    try {
      await new Promise((_, reject) =>
        s.signal.addEventListener("abort", () => reject(s.signal.reason))
      );
    } finally {
      await Promise.resolve();
      events.push("finally");
    }
  }).then(() => events.push("settled"));
  scope.cancel();
  await run;
  assert.deepEqual(events, ["finally", "settled"]);
});

Deno.test("nested finally blocks of a cancelled body run before the outer run settles", async () => {
  const events: string[] = [];
  const outer = new CancelScope();
  const run = outer.run(async () => {
    try {
      await moveOnAfter(null, async () => {
        try {
          await sleep(10_000);
        } finally {
          events.push("inner finally");
        }
      });
    } finally {
      events.push("outer finally");
    }
  }).then(() => events.push("settled"));
  await flushMicrotasks();
  outer.cancel();
  await run;
  assert.deepEqual(events, ["inner finally", "outer finally", "settled"]);
});

Deno.test("run settles one macrotask turn after cancel when the body ignores it", async () => {
  const scope = new CancelScope();
  const never = deferred();
  const run = scope.run(() => never.promise);
  scope.cancel();
  assert.equal(await state(run), "pending", "not within microtasks");
  await macrotask();
  assert.equal(await state(run), "fulfilled");
  assert.equal(await run, undefined);
  assert.equal(scope.cancelledCaught, true);
  never.resolve();
});

Deno.test("run settles one fake macrotask turn after a deadline when the body ignores it", async () => {
  await withFakeTime(async (clock) => {
    const never = deferred();
    const run = moveOnAfter(60_000, () => never.promise);
    await clock.tickAsync(60_000);
    assert.equal(await state(run), "pending");
    // sinon runs a 0 ms timer created during a tick 1 ms later.
    await clock.tickAsync(1);
    assert.equal(await state(run), "fulfilled");
    assert.equal(clock.countTimers(), 0);
    never.resolve();
  });
});

Deno.test("the cancelled run does not wait for a body that never settles, even an enclosing one", async () => {
  const outer = new CancelScope();
  const inner = new CancelScope();
  const never = deferred();
  let innerError: unknown;
  const run = outer.run(async () => {
    await inner.run(() => never.promise).catch((err) => {
      innerError = err;
      throw err;
    });
  });
  outer.cancel();
  await macrotask();
  assert.equal(await state(run), "fulfilled");
  assert.equal(innerError, outer.signal.reason);
  never.resolve();
});

Deno.test("a late rejection of an abandoned body is absorbed", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: PromiseRejectionEvent) => {
    unhandled.push(e.reason);
    e.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    const scope = new CancelScope();
    const late = deferred();
    const run = scope.run(() => late.promise);
    scope.cancel();
    assert.equal(await run, undefined);
    late.reject(new Error("late"));
    await macrotask();
    await macrotask();
    assert.deepEqual(unhandled, []);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
});

Deno.test("a late value of an abandoned body is ignored", async () => {
  const scope = new CancelScope();
  const late = deferred<string>();
  const run = scope.run(() => late.promise);
  scope.cancel();
  assert.equal(await run, undefined);
  late.resolve("late");
  await flushMicrotasks();
  assert.equal(await run, undefined);
});

Deno.test("an abandoned body stays cancelled: its later sleeps reject at once", async () => {
  const scope = new CancelScope();
  const gate = deferred();
  let later: string | undefined;
  const body = deferred();
  const run = scope.run(async () => {
    await gate.promise;
    later = await state(sleep(10_000));
    body.resolve();
  });
  scope.cancel();
  await run;
  gate.resolve();
  await body.promise;
  assert.equal(later, "rejected");
});

Deno.test("no timer is left once a cancelled body settled before the macrotask turn", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope();
    const run = scope.run(() => sleep(10_000));
    scope.cancel();
    await run;
    assert.equal(clock.countTimers(), 0);
  });
});

// --------------------------------------------------------------- deadlines

Deno.test("a deadline cancels the scope when it passes, not before", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope({ deadline: 500 });
    const run = scope.run(() => sleep(10_000));
    await clock.tickAsync(499);
    assert.equal(scope.cancelCalled, false);
    assert.equal(scope.signal.aborted, false);
    await clock.tickAsync(1);
    assert.equal(scope.cancelCalled, true);
    assert.equal(scope.signal.aborted, true);
    assert.ok(scope.signal.reason instanceof CancelledError);
    assert.equal(await run, undefined);
    assert.equal(scope.cancelledCaught, true);
  });
});

Deno.test("a deadline already past when run is called cancels at once without invoking the body", async () => {
  await withFakeTime(async (clock) => {
    await clock.tickAsync(1_000);
    const scope = new CancelScope({ deadline: 1_000 });
    let invoked = false;
    assert.equal(await scope.run(() => (invoked = true)), undefined);
    assert.equal(invoked, false);
    assert.equal(scope.cancelCalled, true);
  });
});

Deno.test("a later deadline set while running re-arms the scope", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope({ deadline: 100 });
    const run = scope.run(() => sleep(10_000));
    await clock.tickAsync(50);
    scope.deadline = 300;
    await clock.tickAsync(100);
    assert.equal(scope.cancelCalled, false, "not at the old deadline");
    await clock.tickAsync(149);
    assert.equal(scope.cancelCalled, false);
    await clock.tickAsync(1);
    assert.equal(scope.cancelCalled, true, "at the new deadline");
    await run;
  });
});

Deno.test("an earlier deadline set while running re-arms the scope", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope({ deadline: 1_000 });
    const run = scope.run(() => sleep(10_000));
    await clock.tickAsync(10);
    scope.deadline = 40;
    await clock.tickAsync(29);
    assert.equal(scope.cancelCalled, false);
    await clock.tickAsync(1);
    assert.equal(scope.cancelCalled, true);
    await run;
  });
});

Deno.test("a deadline set in the past while running cancels at once", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope();
    const run = scope.run(() => sleep(10_000));
    await clock.tickAsync(100);
    scope.deadline = 50;
    assert.equal(scope.cancelCalled, true);
    assert.equal(scope.signal.aborted, true);
    assert.equal(await run, undefined);
    assert.equal(scope.cancelledCaught, true);
  });
});

Deno.test("a deadline set to Infinity while running removes it", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope({ deadline: 100 });
    const run = scope.run(() => sleep(1_000));
    scope.deadline = Infinity;
    await clock.tickAsync(1_000);
    assert.equal(scope.cancelCalled, false);
    await run;
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("a deadline set before run takes effect when the scope runs", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope();
    scope.deadline = 200;
    const run = scope.run(() => sleep(10_000));
    await clock.tickAsync(200);
    assert.equal(scope.cancelCalled, true);
    await run;
  });
});

Deno.test("a deadline set after the scope finished arms nothing", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope();
    await scope.run(() => 1);
    scope.deadline = 10;
    await clock.tickAsync(100);
    assert.equal(scope.cancelCalled, false);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("a deadline set while running, after an enclosing cancellation, arms no timer", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope();
    const inner = new CancelScope();
    const never = deferred();
    const run = outer.run(() => inner.run(() => never.promise));
    outer.cancel();
    inner.deadline = 10_000;
    assert.equal(clock.countTimers(), 2, "only the two exit turns");
    await clock.tickAsync(0);
    assert.equal(await run, undefined);
    assert.equal(clock.countTimers(), 0);
    never.resolve();
  });
});

Deno.test("a scope that finished leaves no timer behind", async () => {
  await withFakeTime(async (clock) => {
    await new CancelScope({ deadline: 60_000 }).run(() => 1);
    const p = new CancelScope({ deadline: 60_000 }).run(() => sleep(10));
    await clock.tickAsync(10);
    await p;
    assert.equal(clock.countTimers(), 0);
  });
});

// ---------------------------------------------------------- effectiveDeadline

Deno.test("effectiveDeadline is Infinity outside any scope and in a scope without deadline", async () => {
  assert.equal(effectiveDeadline(), Infinity);
  await new CancelScope().run(() => assert.equal(effectiveDeadline(), Infinity));
});

Deno.test("effectiveDeadline is the earliest deadline of the unshielded chain", async () => {
  const seen: number[] = [];
  await new CancelScope({ deadline: 5_000_000 }).run(() =>
    new CancelScope({ deadline: 9_000_000 }).run(async () => {
      seen.push(effectiveDeadline());
      await new CancelScope({ deadline: 3_000_000 }).run(() => seen.push(effectiveDeadline()));
    })
  );
  assert.deepEqual(seen, [5_000_000, 3_000_000]);
});

Deno.test("effectiveDeadline stops at a shielded scope", async () => {
  let seen = NaN, seenInner = NaN;
  await new CancelScope({ deadline: 5_000_000 }).run(() =>
    new CancelScope({ shield: true }).run(async () => {
      seen = effectiveDeadline();
      await new CancelScope({ deadline: 7_000_000 }).run(() => (seenInner = effectiveDeadline()));
    })
  );
  assert.equal(seen, Infinity);
  assert.equal(seenInner, 7_000_000);
});

Deno.test("effectiveDeadline follows a deadline changed while running", async () => {
  const scope = new CancelScope({ deadline: 5_000_000 });
  await scope.run(() => {
    scope.deadline = 6_000_000;
    assert.equal(effectiveDeadline(), 6_000_000);
  });
});

Deno.test("effectiveDeadline is -Infinity in a cancelled scope and under a cancelled parent", async () => {
  const outer = new CancelScope();
  const seen: number[] = [];
  await outer.run(async () => {
    await new CancelScope().run(() => {
      outer.cancel();
      seen.push(effectiveDeadline());
    }).catch(() => {});
    seen.push(effectiveDeadline());
  });
  assert.deepEqual(seen, [-Infinity, -Infinity]);
});

Deno.test("effectiveDeadline in a shielded scope under a cancelled parent is not -Infinity", async () => {
  const outer = new CancelScope();
  let seen = NaN;
  await outer.run(async () => {
    outer.cancel();
    await shield(() => (seen = effectiveDeadline()));
  });
  assert.equal(seen, Infinity);
});

Deno.test("failAfter's effective deadline is now plus ms", async () => {
  await withFakeTime(async (clock) => {
    await clock.tickAsync(1_000);
    let seen = NaN;
    await failAfter(250, () => (seen = effectiveDeadline()));
    assert.equal(seen, 1_250);
  });
});

// ------------------------------------------------------------- currentScope

Deno.test("currentScope is undefined outside any scope", () => {
  assert.equal(currentScope(), undefined);
});

Deno.test("currentScope is the innermost scope and is restored on exit", async () => {
  const outer = new CancelScope();
  const inner = new CancelScope();
  const seen: (CancelScope | undefined)[] = [];
  await outer.run(async () => {
    seen.push(currentScope());
    await inner.run(() => seen.push(currentScope()));
    seen.push(currentScope());
  });
  seen.push(currentScope());
  assert.deepEqual(seen, [outer, inner, outer, undefined]);
});

Deno.test("the ambient scope survives await", async () => {
  const scope = new CancelScope();
  const seen: (CancelScope | undefined)[] = [];
  await scope.run(async () => {
    await Promise.resolve();
    seen.push(currentScope());
    await sleep(1);
    seen.push(currentScope());
  });
  assert.deepEqual(seen, [scope, scope]);
});

Deno.test("the ambient scope survives real timers and microtasks", async () => {
  const scope = new CancelScope();
  const seen: (CancelScope | undefined)[] = [];
  await scope.run(async () => {
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        seen.push(currentScope());
        resolve();
      }, 1)
    );
    await new Promise<void>((resolve) =>
      queueMicrotask(() => {
        seen.push(currentScope());
        resolve();
      })
    );
  });
  assert.deepEqual(seen, [scope, scope]);
});

Deno.test("a timer started in a scope still sees the scope cancelled", async () => {
  const scope = new CancelScope();
  const done = deferred<string>();
  await scope.run(() => {
    setTimeout(() => state(sleep(10_000)).then(done.resolve), 1);
    scope.cancel();
  });
  assert.equal(await done.promise, "rejected");
});

Deno.test("a scope run from a timer callback nests under the scope the timer was started in", async () => {
  const outer = new CancelScope({ deadline: 8_000_000 });
  const done = deferred<number>();
  await outer.run(() =>
    new Promise<void>((resolve) =>
      setTimeout(() => {
        new CancelScope().run(() => done.resolve(effectiveDeadline())).then(resolve);
      }, 1)
    )
  );
  assert.equal(await done.promise, 8_000_000);
});

Deno.test("code that outlives a scope which finished normally belongs to the enclosing scope", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope({ deadline: 50_000 });
    const inner = new CancelScope({ deadline: 20_000 });
    const gate = deferred();
    let leaked!: Promise<[CancelScope | undefined, number, string]>;
    await outer.run(async () => {
      await inner.run(() => {
        // Nobody awaits this: it runs on after `inner` has finished.
        leaked = (async () => {
          await gate.promise;
          const ambient = currentScope();
          const deadline = effectiveDeadline();
          const outcome = await sleep(30_000).then(
            () => "slept",
            (err) => isCancelled(err) ? "cancelled" : String(err),
          );
          return [ambient, deadline, outcome];
        })();
      });
      gate.resolve();
      await flushMicrotasks();
      outer.cancel(); // reaches the sleep the leaked code started after `inner` ended
    });
    await clock.tickAsync(60_000);
    const [ambient, deadline, outcome] = await leaked;
    assert.equal(ambient, outer);
    assert.equal(deadline, 50_000);
    assert.equal(outcome, "cancelled");
  });
});

Deno.test("code that outlives two nested scopes which finished normally belongs to the scope around both", async () => {
  const outer = new CancelScope({ deadline: 9_000_000 });
  const gate = deferred();
  let leaked!: Promise<[CancelScope | undefined, number]>;
  await outer.run(async () => {
    await new CancelScope({ deadline: 8_000_000 }).run(async () => {
      await new CancelScope({ deadline: 7_000_000 }).run(() => {
        leaked = (async () => {
          await gate.promise;
          return [currentScope(), effectiveDeadline()];
        })();
      });
    });
    gate.resolve();
    await leaked;
  });
  const [ambient, deadline] = await leaked;
  assert.equal(ambient, outer);
  assert.equal(deadline, 9_000_000);
});

Deno.test("code that outlives a cancelled scope stays in it, cancelled", async () => {
  const scope = new CancelScope();
  const gate = deferred();
  let leaked!: Promise<[CancelScope | undefined, number, string]>;
  await scope.run(() => {
    leaked = (async () => {
      await gate.promise;
      return [currentScope(), effectiveDeadline(), await state(sleep(10_000))];
    })();
    scope.cancel();
  });
  gate.resolve();
  const [ambient, deadline, outcome] = await leaked;
  assert.equal(ambient, scope);
  assert.equal(deadline, -Infinity);
  assert.equal(outcome, "rejected");
});

Deno.test("code that outlives a task group which finished normally belongs to the enclosing scope", async () => {
  const outer = new CancelScope();
  const gate = deferred();
  let leaked!: Promise<CancelScope | undefined>;
  let group: CancelScope | undefined;
  await outer.run(async () => {
    await taskGroup((tg) => {
      group = tg.cancelScope;
      tg.startSoon(() => {
        leaked = gate.promise.then(() => currentScope());
      });
    });
    gate.resolve();
  });
  assert.notEqual(group, undefined);
  assert.equal(await leaked, outer);
});

// --------------------------------------------------------------------- shield

Deno.test("shield runs its body out of reach of an enclosing cancellation", async () => {
  const outer = new CancelScope();
  let completed = false;
  let shieldedSignal: AbortSignal | undefined;
  await outer.run(async () => {
    outer.cancel();
    await shield(async () => {
      shieldedSignal = currentScope()!.signal;
      await sleep(5);
      completed = true;
    });
  });
  assert.equal(completed, true);
  assert.equal(shieldedSignal!.aborted, false);
});

Deno.test("a shielded scope's signal does not abort when the parent is cancelled while it runs", async () => {
  const outer = new CancelScope();
  const shielded = new CancelScope({ shield: true });
  let aborted: boolean | undefined;
  await outer.run(() =>
    shielded.run(async () => {
      outer.cancel();
      await sleep(1);
      aborted = shielded.signal.aborted;
    })
  );
  assert.equal(aborted, false);
  assert.equal(outer.cancelledCaught, true);
});

Deno.test("a shielded scope can still be cancelled itself", async () => {
  const scope = new CancelScope({ shield: true });
  assert.equal(
    await scope.run(async (s) => {
      s.cancel();
      await sleep(10_000);
      return 1;
    }),
    undefined,
  );
  assert.equal(scope.cancelledCaught, true);
});

Deno.test("a cancelled scope waits for a shielded cleanup running inside it", async () => {
  await withFakeTime(async (clock) => {
    const events: string[] = [];
    const outer = new CancelScope();
    const run = outer.run(async () => {
      try {
        await sleep(10_000);
      } finally {
        await shield(async () => {
          await sleep(1_000);
          events.push("cleanup done");
        });
      }
    }).then(() => events.push("settled"));
    await clock.tickAsync(10);
    outer.cancel();
    await clock.tickAsync(999);
    assert.deepEqual(events, []);
    await clock.tickAsync(1);
    await run;
    assert.deepEqual(events, ["cleanup done", "settled"]);
  });
});

Deno.test("a body that ignores cancellation is abandoned one turn after its shielded part ends", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope();
    const mid = new CancelScope();
    const never = deferred();
    let shieldDone = false;
    const run = outer.run(() =>
      mid.run(async () => {
        await shield(async () => {
          await sleep(500);
          shieldDone = true;
        });
        await never.promise; // ignores the cancellation
      })
    );
    outer.cancel();
    await clock.tickAsync(499);
    assert.equal(await state(run), "pending");
    await clock.tickAsync(1);
    assert.equal(shieldDone, true);
    assert.equal(await state(run), "pending", "one more turn for the body");
    await clock.tickAsync(1);
    assert.equal(await state(run), "fulfilled");
    assert.equal(clock.countTimers(), 0);
    never.resolve();
  });
});

Deno.test("shield returns its body's value and rejects with its error", async () => {
  assert.equal(await shield(() => 5), 5);
  const boom = new Error("boom");
  await assert.rejects(shield(() => Promise.reject(boom)), (err) => err === boom);
});

Deno.test("shield rejects with a TypeError naming 'fn' when fn is not a function", async () => {
  await assert.rejects(
    shield(null as never),
    (err: unknown) => err instanceof TypeError && /'fn'/.test(err.message),
  );
});

Deno.test("shield ignores the enclosing deadline", async () => {
  await withFakeTime(async (clock) => {
    let finished = false;
    const p = moveOnAfter(100, async () => {
      await shield(async () => {
        await sleep(500);
        finished = true;
      });
      await sleep(10_000);
    });
    await clock.tickAsync(500);
    await clock.tickAsync(0);
    assert.equal(finished, true);
    assert.equal(await p, undefined);
  });
});

Deno.test("unshielding a running scope under a cancelled parent cancels it at once", async () => {
  const outer = new CancelScope();
  const inner = new CancelScope({ shield: true });
  let rejected: unknown;
  await outer.run(() =>
    inner.run(async () => {
      outer.cancel();
      assert.equal(inner.signal.aborted, false);
      inner.shield = false;
      assert.equal(inner.signal.aborted, true);
      await sleep(10_000).catch((err) => {
        rejected = err;
        throw err;
      });
    })
  );
  assert.equal(rejected, outer.signal.reason);
});

Deno.test("shielding a running scope keeps a later enclosing cancellation out", async () => {
  const outer = new CancelScope();
  const inner = new CancelScope();
  let completed = false;
  await outer.run(() =>
    inner.run(async () => {
      inner.shield = true;
      outer.cancel();
      await sleep(1);
      completed = true;
    })
  );
  assert.equal(completed, true);
});

// ------------------------------------------------------------------ failAfter

Deno.test("failAfter resolves with the body's value when it finishes in time", async () => {
  assert.equal(await failAfter(1_000, () => "fast"), "fast");
  assert.equal(
    await failAfter(1_000, async () => {
      await sleep(1);
      return "async";
    }),
    "async",
  );
});

Deno.test("failAfter rejects with a TimeoutError when its deadline passes", async () => {
  await withFakeTime(async (clock) => {
    let scope: CancelScope | undefined;
    const p = failAfter(1_000, (s) => {
      scope = s;
      return sleep(5_000);
    });
    const check = assert.rejects(p, TimeoutError);
    await clock.tickAsync(1_000);
    await check;
    assert.equal(scope!.cancelCalled, true);
    assert.equal(scope!.cancelledCaught, true);
  });
});

Deno.test("failAfter's TimeoutError is not a cancellation", async () => {
  await withFakeTime(async (clock) => {
    const p = failAfter(10, () => sleep(100));
    const check = assert.rejects(p, (err) => err instanceof TimeoutError && !isCancelled(err));
    await clock.tickAsync(10);
    await check;
  });
});

Deno.test("a manual cancel inside failAfter rejects with the scope's CancelledError, not a TimeoutError", async () => {
  let scope: CancelScope | undefined;
  await assert.rejects(
    failAfter(10_000, async (s) => {
      scope = s;
      s.cancel();
      await sleep(10_000);
      return "not reached";
    }),
    (err) => err instanceof CancelledError && err === scope!.signal.reason,
  );
});

Deno.test("failAfter rejects with the CancelledError of a manual cancel even if the body returns a value", async () => {
  let scope: CancelScope | undefined;
  await assert.rejects(
    failAfter(10_000, (s) => {
      scope = s;
      s.cancel("stop");
      return "ignored the cancel";
    }),
    (err) => err instanceof CancelledError && err === scope!.signal.reason,
  );
  assert.equal(scope!.cancelledCaught, true);
});

Deno.test("failAt rejects with the CancelledError of a manual cancel", async () => {
  await assert.rejects(
    failAt(currentTime() + 10_000, async (s) => {
      s.cancel("stop");
      await sleep(1);
      return 1;
    }),
    (err) => err instanceof CancelledError && err.message === "stop",
  );
});

Deno.test("moveOnAfter, moveOnAt and run still resolve undefined on a manual cancel", async () => {
  const body = (s: CancelScope): number => {
    s.cancel();
    return 1;
  };
  assert.equal(await moveOnAfter(10_000, body), undefined);
  assert.equal(await moveOnAt(currentTime() + 10_000, body), undefined);
  assert.equal(await new CancelScope().run(body), undefined);
});

Deno.test("a manual cancel inside failAfter stays no timeout even once the deadline passes", async () => {
  await withFakeTime(async (clock) => {
    const never = deferred();
    const p = failAfter(100, (scope) => {
      setTimeout(() => scope.cancel(), 50);
      return never.promise;
    });
    let outcome: unknown = "pending";
    p.then((v) => (outcome = v), (err) => (outcome = err));
    await clock.tickAsync(50);
    await clock.tickAsync(100);
    assert.ok(outcome instanceof CancelledError, `outcome ${outcome}`);
    assert.ok(!(outcome instanceof TimeoutError));
    never.resolve();
  });
});

Deno.test("failAfter with ms <= 0 rejects with a TimeoutError without invoking the body", async () => {
  for (const ms of [0, -5, -Infinity]) {
    let invoked = false;
    await assert.rejects(failAfter(ms, () => (invoked = true)), TimeoutError, `ms = ${ms}`);
    assert.equal(invoked, false, `ms = ${ms}`);
  }
});

Deno.test("failAfter(null) sets no deadline but is a cancellable scope", async () => {
  let seen = NaN;
  await assert.rejects(
    failAfter(null, async (scope) => {
      seen = effectiveDeadline();
      scope.cancel();
      await sleep(10_000);
    }),
    CancelledError,
  );
  assert.equal(seen, Infinity);
});

Deno.test("failAfter(Infinity) sets no deadline", async () => {
  assert.equal(await failAfter(Infinity, () => effectiveDeadline()), Infinity);
});

Deno.test("failAfter rejects NaN with a RangeError naming 'ms' and NaN", async () => {
  let invoked = false;
  await assert.rejects(
    failAfter(NaN, () => (invoked = true)),
    (err: unknown) =>
      err instanceof RangeError && /'ms'/.test(err.message) && /NaN/.test(err.message),
  );
  assert.equal(invoked, false);
});

Deno.test("failAfter and moveOnAfter reject an ms that is not a number with a TypeError naming 'ms'", async () => {
  for (const f of [failAfter, moveOnAfter]) {
    for (const bad of ["10", undefined, {}]) {
      await assert.rejects(
        f(bad as never, () => 1),
        (err: unknown) => err instanceof TypeError && /'ms'/.test(err.message),
        `${f.name}(${String(bad)})`,
      );
    }
  }
});

Deno.test("failAfter and friends reject an fn that is not a function with a TypeError naming themselves and 'fn'", async () => {
  const calls: [string, () => Promise<unknown>][] = [
    ["failAfter", () => failAfter(10, "x" as never)],
    ["moveOnAfter", () => moveOnAfter(null, undefined as never)],
    ["failAt", () => failAt(currentTime() + 10, 1 as never)],
    ["moveOnAt", () => moveOnAt(currentTime() + 10, null as never)],
    ["shield", () => shield({} as never)],
  ];
  for (const [name, call] of calls) {
    await assert.rejects(
      call(),
      (err: unknown) =>
        err instanceof TypeError && /'fn'/.test(err.message) && err.message.includes(name),
      name,
    );
  }
});

Deno.test("failAfter inside a shorter moveOnAfter lets the outer scope catch: no TimeoutError", async () => {
  await withFakeTime(async (clock) => {
    let innerError: unknown;
    const p = moveOnAfter(100, async () => {
      await failAfter(1_000, () => sleep(5_000)).catch((err) => {
        innerError = err;
        throw err;
      });
    });
    await clock.tickAsync(100);
    assert.equal(await p, undefined);
    assert.ok(innerError instanceof CancelledError);
  });
});

Deno.test("nested failAfter: the outer deadline yields the outer TimeoutError", async () => {
  await withFakeTime(async (clock) => {
    let innerError: unknown;
    const p = failAfter(100, async () => {
      await failAfter(1_000, () => sleep(5_000)).catch((err) => {
        innerError = err;
        throw err;
      });
    });
    const check = assert.rejects(p, TimeoutError);
    await clock.tickAsync(100);
    await check;
    assert.ok(innerError instanceof CancelledError, "the inner scope did not time out");
  });
});

Deno.test("failAfter around a task group yields a plain TimeoutError, not an ExceptionGroup", async () => {
  await withFakeTime(async (clock) => {
    const p = failAfter(100, () =>
      taskGroup((tg) => {
        tg.startSoon(() => sleep(5_000));
        tg.startSoon(() => sleep(6_000));
      }));
    const check = assert.rejects(
      p,
      (err) => err instanceof TimeoutError && !(err instanceof ExceptionGroup),
    );
    await clock.tickAsync(100);
    await check;
  });
});

Deno.test("failAfter around a task group whose children clean up still yields a TimeoutError", async () => {
  await withFakeTime(async (clock) => {
    let cleaned = 0;
    const p = failAfter(100, () =>
      taskGroup((tg) => {
        for (let i = 0; i < 3; i++) {
          tg.startSoon(async () => {
            try {
              await sleep(5_000);
            } finally {
              cleaned++;
            }
          });
        }
      }));
    const check = assert.rejects(p, TimeoutError);
    await clock.tickAsync(100);
    await check;
    assert.equal(cleaned, 3);
  });
});

// ---------------------------------------------------------------- moveOnAfter

Deno.test("moveOnAfter resolves with the body's value when it finishes in time", async () => {
  assert.equal(await moveOnAfter(1_000, () => 3), 3);
});

Deno.test("moveOnAfter resolves undefined when its deadline passes", async () => {
  await withFakeTime(async (clock) => {
    let scope: CancelScope | undefined;
    const p = moveOnAfter(1_000, async (s) => {
      scope = s;
      await sleep(5_000);
      return "late";
    });
    await clock.tickAsync(1_000);
    assert.equal(await p, undefined);
    assert.equal(scope!.cancelledCaught, true);
  });
});

Deno.test("moveOnAfter with ms <= 0 resolves undefined without invoking the body", async () => {
  let invoked = false;
  assert.equal(await moveOnAfter(0, () => (invoked = true)), undefined);
  assert.equal(invoked, false);
});

Deno.test("moveOnAfter rejects NaN with a RangeError", async () => {
  await assert.rejects(moveOnAfter(NaN, () => 1), RangeError);
});

Deno.test("moveOnAfter(null) never swallows an enclosing cancellation", async () => {
  const outer = new CancelScope();
  let innerError: unknown;
  let after = false;
  await outer.run(async () => {
    await moveOnAfter(null, async () => {
      outer.cancel("outer");
      await sleep(10_000);
    }).catch((err) => {
      innerError = err;
      throw err;
    });
    after = true;
  });
  assert.equal(innerError, outer.signal.reason);
  assert.equal(after, false);
});

Deno.test("moveOnAfter(null) rejects with an enclosing cancellation even when its body swallows it", async () => {
  const outer = new CancelScope();
  let innerError: unknown;
  await outer.run(async () => {
    await moveOnAfter(null, async () => {
      outer.cancel();
      try {
        await sleep(10_000);
      } catch {
        // swallowed
      }
      return "swallowed";
    }).catch((err) => {
      innerError = err;
      throw err;
    });
  });
  assert.equal(innerError, outer.signal.reason);
});

Deno.test("moveOnAfter(null) in an already cancelled scope rejects with that cancellation", async () => {
  const outer = new CancelScope();
  let innerError: unknown;
  let invoked = false;
  await outer.run(async () => {
    outer.cancel();
    await moveOnAfter(null, () => (invoked = true)).catch((err) => (innerError = err));
  });
  assert.equal(invoked, false);
  assert.equal(innerError, outer.signal.reason);
});

Deno.test("moveOnAfter does not swallow an enclosing cancellation that lands with its own", async () => {
  const outer = new CancelScope();
  let innerError: unknown;
  await outer.run(async () => {
    await moveOnAfter(null, async (inner) => {
      inner.cancel();
      outer.cancel();
      await sleep(10_000);
    }).catch((err) => {
      innerError = err;
      throw err;
    });
  });
  assert.equal(innerError, outer.signal.reason);
});

Deno.test("moveOnAfter does not swallow an enclosing deadline that passes with its own", async () => {
  await withFakeTime(async (clock) => {
    let innerError: unknown;
    const p = failAfter(100, async () => {
      await moveOnAfter(100, () => sleep(5_000)).catch((err) => {
        innerError = err;
        throw err;
      });
      return "went on";
    });
    const check = assert.rejects(p, TimeoutError);
    await clock.tickAsync(100);
    await check;
    assert.ok(innerError instanceof CancelledError);
  });
});

// ------------------------------------------------------------ failAt / moveOnAt

Deno.test("failAt rejects with a TimeoutError at its absolute deadline", async () => {
  await withFakeTime(async (clock) => {
    const p = failAt(currentTime() + 300, () => sleep(1_000));
    const check = assert.rejects(p, TimeoutError);
    await clock.tickAsync(300);
    await check;
  });
});

Deno.test("failAt resolves with the body's value before its deadline", async () => {
  assert.equal(await failAt(currentTime() + 10_000, () => "ok"), "ok");
});

Deno.test("moveOnAt resolves undefined at its absolute deadline", async () => {
  await withFakeTime(async (clock) => {
    const p = moveOnAt(currentTime() + 300, async () => {
      await sleep(1_000);
      return "late";
    });
    await clock.tickAsync(300);
    assert.equal(await p, undefined);
  });
});

Deno.test("failAt and moveOnAt with a past deadline do not invoke the body", async () => {
  let invoked = false;
  await assert.rejects(failAt(currentTime() - 1, () => (invoked = true)), TimeoutError);
  assert.equal(await moveOnAt(-Infinity, () => (invoked = true)), undefined);
  assert.equal(invoked, false);
});

Deno.test("failAt and moveOnAt validate the deadline, naming it", async () => {
  for (const f of [failAt, moveOnAt]) {
    await assert.rejects(
      f(NaN, () => 1),
      (err: unknown) =>
        err instanceof RangeError && /'deadline'/.test(err.message) && /NaN/.test(err.message),
    );
    await assert.rejects(
      f("soon" as never, () => 1),
      (err: unknown) => err instanceof TypeError && /'deadline'/.test(err.message),
    );
  }
});

// ------------------------------------------------------- issue 8 bugs 1 and 2

Deno.test("shielding a scope after an enclosing cancellation arrived lifts that cancellation", async () => {
  const outer = new CancelScope();
  const inner = new CancelScope({ deadline: currentTime() + 60_000 });
  let seen = NaN, slept = false, signalAfter: boolean | undefined;
  await outer.run(() =>
    inner.run(async () => {
      outer.cancel();
      assert.equal(effectiveDeadline(), -Infinity);
      inner.shield = true;
      seen = effectiveDeadline();
      await sleep(1);
      slept = true;
      signalAfter = inner.signal.aborted;
    })
  );
  assert.equal(seen, inner.deadline);
  assert.equal(slept, true);
  assert.equal(signalAfter, false, "a fresh signal once the cancellation is lifted");
  assert.equal(inner.cancelCalled, false);
});

Deno.test("lifting an enclosing cancellation reaches the scopes inside that only inherited it", async () => {
  const outer = new CancelScope(), middle = new CancelScope();
  const plain = new CancelScope(), own = new CancelScope();
  const outcomes: string[] = [];
  await outer.run(() =>
    middle.run(async () => {
      const a = plain.run(async () => {
        await macrotask(); // wait for the shield to lift the cancellation
        outcomes.push(`plain: ${await sleep(1).then(() => "slept", () => "rejected")}`);
      });
      const b = own.run(async () => {
        own.cancel();
        await macrotask();
        outcomes.push(`own: ${await sleep(1).then(() => "slept", () => "rejected")}`);
      });
      outer.cancel();
      middle.shield = true;
      await Promise.all([a, b]);
    })
  );
  assert.deepEqual(outcomes.sort(), ["own: rejected", "plain: slept"]);
});

Deno.test("a deadline that passed while an enclosing cancellation held the scope fires once it is lifted", async () => {
  const outer = new CancelScope(), inner = new CancelScope();
  let slept: string | undefined;
  await outer.run(() =>
    inner.run(async () => {
      outer.cancel();
      inner.deadline = currentTime() - 1;
      // No timer runs for it while the scope is cancelled, yet its deadline
      // was reached: cancelCalled says so (API.md §3, Trio's cancel_called).
      assert.equal(inner.cancelCalled, true, "its deadline was reached");
      inner.shield = true;
      assert.equal(inner.cancelCalled, true, "its own deadline cancels it");
      slept = await state(sleep(1_000));
    })
  );
  assert.equal(slept, "rejected");
  assert.equal(inner.cancelledCaught, true);
});

Deno.test("cancelling 20,000 nested scopes neither overflows the stack nor hangs", async () => {
  const innermost = deferred();
  const nest = async (n: number): Promise<unknown> => {
    await 0;
    if (n === 0) {
      innermost.resolve();
      return sleep(Infinity);
    }
    return new CancelScope().run(() => nest(n - 1));
  };
  const outer = new CancelScope();
  const run = outer.run(() => nest(20_000));
  await innermost.promise;
  outer.cancel();
  assert.equal(await run, undefined);
  assert.equal(outer.cancelledCaught, true);
});
