// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §2/§3 (0.2): a TimeoutError says which deadline fired, and
// how scopes and task groups print.
import assert from "node:assert/strict";
import {
  CancelledError,
  CancelScope,
  currentTime,
  failAfter,
  failAt,
  sleep,
  taskGroup,
  TimeoutError,
} from "../mod.ts";
import { deadlineFired } from "../concurrency/cancel.ts";
import { runWithTimeout } from "../concurrency/timeouts.ts";
import { withFakeTime } from "./_fake_time.ts";
import { deferred } from "./_helpers.ts";

Deno.test("failAfter's TimeoutError names failAfter and its budget", async () => {
  await withFakeTime(async (clock) => {
    const p = failAfter(5_000, () => sleep(10_000));
    const check = assert.rejects(p, (err) => {
      assert.ok(err instanceof TimeoutError);
      assert.equal(err.timeout, 5_000);
      assert.equal(err.source, "failAfter");
      assert.equal(err.message, "failAfter timed out after 5000 ms");
      assert.ok(err.cause instanceof CancelledError);
      return true;
    });
    await clock.tickAsync(5_000);
    await check;
  });
});

Deno.test("failAt's TimeoutError has a NaN timeout and names failAt and its deadline", async () => {
  await withFakeTime(async (clock) => {
    const p = failAt(1_234, () => sleep(10_000));
    const check = assert.rejects(p, (err) => {
      assert.ok(err instanceof TimeoutError);
      assert.ok(Number.isNaN(err.timeout));
      assert.equal(err.source, "failAt");
      assert.match(err.message, /^failAt timed out: its deadline 1234 passed$/);
      return true;
    });
    await clock.tickAsync(1_234);
    await check;
  });
});

Deno.test("failAfter with a spent budget says so without invoking the body", async () => {
  await assert.rejects(
    failAfter(0, () => "not run"),
    (err) =>
      err instanceof TimeoutError && err.timeout === 0 && err.source === "failAfter" &&
      err.message === "failAfter timed out after 0 ms",
  );
});

async function aCallerThatAwaitsFailAfter(): Promise<void> {
  await failAfter(1, () => sleep(1_000));
}

// JavaScriptCore (Bun) adds async callers to a stack only for an error made in
// an async function that the caller awaits directly; the TimeoutError is made
// in a promise reaction (rejectInReaction in concurrency/_cancel_status.ts), so
// on Bun its stack ends there. V8 (Deno, Node) follows the reaction's promise.
const noAsyncStacks = "Bun" in globalThis;

Deno.test({
  name: "a TimeoutError's stack shows the code that awaited failAfter",
  ignore: noAsyncStacks,
}, async () => {
  const err = await aCallerThatAwaitsFailAfter().then(() => undefined, (e) => e);
  assert.ok(err instanceof TimeoutError);
  assert.match(String(err.stack), /aCallerThatAwaitsFailAfter/);
});

async function aCallerWhoseBodyIgnoresTheDeadline(): Promise<void> {
  const ignored = deferred();
  const id = setTimeout(ignored.resolve, 200);
  try {
    await failAfter(1, () => ignored.promise);
  } finally {
    clearTimeout(id);
  }
}

Deno.test({
  name: "a TimeoutError's stack shows the caller when the body ignored the deadline",
  ignore: noAsyncStacks,
}, async () => {
  const err = await aCallerWhoseBodyIgnoresTheDeadline().then(() => undefined, (e) => e);
  assert.ok(err instanceof TimeoutError);
  assert.match(String(err.stack), /aCallerWhoseBodyIgnoresTheDeadline/);
});

Deno.test("runWithTimeout labels its TimeoutError with the subject read when the deadline fires", async () => {
  await withFakeTime(async (clock) => {
    let attempt = 1;
    const p = runWithTimeout(
      5_000,
      { source: "attemptTimeout", subject: () => `item 17: attempt ${attempt}` },
      () => sleep(10_000),
    );
    attempt = 2;
    const check = assert.rejects(p, (err) => {
      assert.ok(err instanceof TimeoutError);
      assert.equal(err.message, "item 17: attempt 2 timed out after 5000 ms (attemptTimeout)");
      assert.equal(err.source, "attemptTimeout");
      assert.equal(err.timeout, 5_000);
      return true;
    });
    await clock.tickAsync(5_000);
    await check;
  });
});

Deno.test("a user's failAfter inside a labelled budget keeps its own source", async () => {
  await withFakeTime(async (clock) => {
    const p = runWithTimeout(
      5_000,
      { source: "attemptTimeout" },
      () => failAfter(100, () => sleep(10_000)),
    );
    const check = assert.rejects(
      p,
      (err) => err instanceof TimeoutError && err.source === "failAfter",
    );
    await clock.tickAsync(100);
    await check;
  });
});

Deno.test("a labelled budget that fires around a user's failAfter is the labelled TimeoutError", async () => {
  await withFakeTime(async (clock) => {
    let inner: unknown;
    const p = runWithTimeout(
      100,
      { source: "retryTimeout" },
      () =>
        failAfter(5_000, () => sleep(10_000)).catch((err) => {
          inner = err;
          throw err;
        }),
    );
    const check = assert.rejects(
      p,
      (err) => err instanceof TimeoutError && err.source === "retryTimeout" && err.timeout === 100,
    );
    await clock.tickAsync(100);
    await check;
    assert.ok(inner instanceof CancelledError, "the inner scope saw the outer cancellation");
  });
});

Deno.test("runWithTimeout rejects with the CancelledError of a manual cancel", async () => {
  await assert.rejects(
    runWithTimeout(5_000, { source: "attemptTimeout" }, (scope) => {
      scope.cancel("stop");
      return 1;
    }),
    (err) => err instanceof CancelledError && err.message === "stop",
  );
});

// ------------------------------------------------------------------- printing

Deno.test("a CancelScope prints its state, deadline, cancellation and shield", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope({ deadline: currentTime() + 120 });
    assert.equal(
      Deno.inspect(scope),
      "CancelScope { state: idle, deadline: in 120 ms, cancelled: no, shield: false }",
    );
    const run = scope.run(async () => {
      await sleep(20);
      assert.equal(
        Deno.inspect(scope),
        "CancelScope { state: running, deadline: in 100 ms, cancelled: no, shield: false }",
      );
      await sleep(1_000);
    });
    await clock.tickAsync(120);
    await clock.tickAsync(0);
    await run;
    assert.equal(
      Deno.inspect(scope),
      "CancelScope { state: done, deadline: passed 0 ms ago, cancelled: by its deadline, shield: false }",
    );
    const manual = new CancelScope({ shield: true });
    manual.cancel();
    assert.equal(
      Deno.inspect(manual),
      "CancelScope { state: idle, deadline: none, cancelled: by cancel(), shield: true }",
    );
  });
});

Deno.test("a scope cancelled by an enclosing scope prints so", async () => {
  const outer = new CancelScope(), inner = new CancelScope();
  let printed = "";
  await outer.run(() =>
    inner.run(() => {
      outer.cancel();
      printed = Deno.inspect(inner);
    })
  );
  assert.equal(
    printed,
    "CancelScope { state: running, deadline: none, cancelled: by an enclosing scope, shield: false }",
  );
});

Deno.test("a TaskGroup prints its running children, failures and cancellation", async () => {
  const release = deferred();
  let printed = "";
  await assert.rejects(
    taskGroup(async (tg) => {
      for (let i = 0; i < 3; i++) tg.startSoon(() => release.promise);
      try {
        printed = Deno.inspect(tg);
        tg.startSoon(() => Promise.reject(new Error("boom")));
        await 0;
        assert.equal(Deno.inspect(tg), "TaskGroup { children: 3, failures: 1, cancelled: true }");
      } finally {
        // A failed assertion must not leave the children waiting (the group would never settle).
        release.resolve();
      }
    }),
  );
  assert.equal(printed, "TaskGroup { children: 3, failures: 0, cancelled: false }");
});

Deno.test("deadlineFired tells a scope's own deadline from a manual or enclosing cancel", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope();
    const timed = new CancelScope({ deadline: 100 }), manual = new CancelScope();
    const inner = new CancelScope({ deadline: 10_000 });
    const runs = [
      timed.run(() => sleep(1_000)),
      manual.run((s) => {
        s.cancel();
      }),
      outer.run(() => inner.run(() => sleep(1_000))),
    ];
    outer.cancel();
    await clock.tickAsync(100);
    await Promise.all(runs);
    assert.deepEqual([timed, manual, inner].map(deadlineFired), [true, false, false]);
  });
});
