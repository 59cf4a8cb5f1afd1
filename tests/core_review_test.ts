// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of the cancellation core and the synchronisation primitives
// (API.md §1–§6): each test here failed before the fix it names.
import assert from "node:assert/strict";
import { CancelScope, CapacityLimiter, effectiveDeadline, isCancelled, sleep } from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";
import { flushMicrotasks, state } from "./_helpers.ts";

// A scope that finishes normally hands the work it leaves running (a promise
// nobody awaited) to the scope around it: the work started before the scope
// finished, and already waiting, too, not only work that looks the ambient
// scope up afterwards (cancel.ts, `run`).

Deno.test("a sleep left waiting by a scope that finished normally is cancelled with the enclosing scope", async () => {
  const outer = new CancelScope();
  let leftover!: Promise<void>;
  await outer.run(async () => {
    await new CancelScope().run(() => {
      leftover = sleep(10_000); // nobody awaits it
    });
    outer.cancel();
  });
  assert.equal(await state(leftover), "rejected");
  await assert.rejects(leftover, (err) => isCancelled(err));
});

Deno.test("a scope left running by a scope that finished normally is cancelled with the enclosing scope", async () => {
  const outer = new CancelScope();
  let leftover!: Promise<unknown>;
  let signal!: AbortSignal;
  await outer.run(async () => {
    await new CancelScope().run(() => {
      leftover = new CancelScope().run(async (s) => {
        signal = s.signal;
        await sleep(10_000);
        return "slept";
      });
    });
    outer.cancel();
  });
  assert.equal(signal.aborted, true);
  await assert.rejects(leftover, (err) => isCancelled(err));
});

Deno.test("a scope left running by a scope that finished normally keeps the enclosing deadline", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope({ deadline: 5_000 });
    let leftover!: Promise<unknown>;
    let deadline = NaN;
    const done = outer.run(async () => {
      await new CancelScope().run(() => {
        leftover = new CancelScope().run(async () => {
          await sleep(1_000);
          deadline = effectiveDeadline();
          await sleep(60_000);
          return "slept";
        });
      });
      await sleep(100_000);
    });
    const outcome = leftover.then(() => "slept", (err) => isCancelled(err) ? "cancelled" : err);
    await clock.tickAsync(10_000);
    assert.equal(deadline, 5_000);
    assert.equal(await outcome, "cancelled");
    await done;
  });
});

Deno.test("a limiter waiter left by a scope that finished normally is cancelled with the enclosing scope, consuming no token", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const outer = new CancelScope();
  let leftover!: Promise<unknown>;
  await outer.run(async () => {
    await new CancelScope().run(() => {
      leftover = limiter.acquire();
    });
    outer.cancel();
  });
  await assert.rejects(leftover, (err) => isCancelled(err));
  assert.equal(limiter.waiting, 0);
  held.release();
  assert.equal(limiter.borrowedTokens, 0);
  await flushMicrotasks();
});
