// Copyright 2026 the @lionpride/core authors. MIT license.
import assert from "node:assert/strict";
import {
  CancelledError,
  CancelScope,
  Condition,
  Event,
  Lock,
  moveOnAfter,
  type Permit,
  Semaphore,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";
import { flush, track, type Tracked } from "./_helpers.ts";

function fulfilled<T>(t: Tracked<T>): boolean {
  return t.settled && !t.rejected;
}

// =============================================================================
// Semaphore
// =============================================================================

Deno.test("Semaphore rejects an initialValue that is not a non-negative integer", () => {
  for (const bad of [-1, 1.5, NaN, Infinity]) {
    assert.throws(
      () => new Semaphore(bad),
      (err: unknown) =>
        err instanceof RangeError && err.message.includes("'initialValue'") &&
        err.message.includes(`received ${bad}`),
    );
  }
  assert.throws(() => new Semaphore("1" as unknown as number), TypeError);
});

Deno.test("Semaphore rejects a maxValue below initialValue, fractional or not a number", () => {
  assert.throws(() => new Semaphore(3, { maxValue: 2 }), /'maxValue'.*received 2/);
  assert.throws(() => new Semaphore(0, { maxValue: 1.5 }), RangeError);
  assert.throws(() => new Semaphore(0, { maxValue: NaN }), RangeError);
  assert.throws(() => new Semaphore(0, { maxValue: "2" as unknown as number }), TypeError);
  assert.throws(() => new Semaphore(0, 5 as unknown as { maxValue: number }), /'options'/);
  assert.equal(new Semaphore(2, { maxValue: 2 }).maxValue, 2);
  assert.equal(new Semaphore(2).maxValue, Infinity);
});

Deno.test("Semaphore acquire decrements the value and the permit's release increments it", async () => {
  const sem = new Semaphore(2);
  const a = await sem.acquire();
  assert.equal(sem.value, 1);
  const b = sem.tryAcquire()!;
  assert.equal(sem.value, 0);
  assert.equal(sem.tryAcquire(), undefined);
  a.release();
  b.release();
  assert.equal(sem.value, 2);
});

Deno.test("Semaphore waiters are served in FIFO order", async () => {
  const sem = new Semaphore(0);
  const order: number[] = [];
  const waiters = [0, 1, 2].map((i) => track(sem.acquire().then((p) => (order.push(i), p))));
  await flush();
  assert.equal(sem.statistics().tasksWaiting, 3);
  for (let i = 0; i < 3; i++) {
    sem.release();
    await flush();
  }
  assert.deepEqual(order, [0, 1, 2]);
  assert.equal(sem.value, 0);
  for (const w of waiters) w.value!.release();
  assert.equal(sem.value, 3);
});

Deno.test("Semaphore release hands the value to a waiter instead of letting tryAcquire barge", async () => {
  const sem = new Semaphore(0);
  const waiter = track(sem.acquire());
  sem.release();
  assert.equal(sem.tryAcquire(), undefined);
  assert.equal(sem.value, 0);
  await flush();
  assert.equal(fulfilled(waiter), true);
});

Deno.test("Semaphore release past maxValue throws a RangeError and leaves the value unchanged", () => {
  const sem = new Semaphore(1, { maxValue: 1 });
  assert.throws(() => sem.release(), /would exceed maxValue 1/);
  assert.equal(sem.value, 1);
  const permit = sem.tryAcquire()!;
  permit.release();
  assert.equal(sem.value, 1);
});

Deno.test("Semaphore with maxValue 0 refuses every release, even one a waiter would take", async () => {
  for (const signal of [undefined, new AbortController().signal]) {
    const sem = new Semaphore(0, { maxValue: 0 });
    const waiter = track(sem.acquire({ signal })); // waits for good: nothing can be released
    assert.throws(() => sem.release(), /would exceed maxValue 0/);
    await flush();
    assert.equal(waiter.settled, false);
    assert.equal(sem.waiting, 1);
  }
});

Deno.test("Semaphore counts a unit handed to a waiter towards maxValue whether or not it passed a signal", async () => {
  for (const signal of [undefined, new AbortController().signal]) {
    const sem = new Semaphore(0, { maxValue: 1 });
    const waiter = sem.acquire({ signal });
    sem.release(); // handed to the waiter, which has not resumed yet
    assert.throws(() => sem.release(), /would exceed maxValue 1/);
    const permit = await waiter;
    assert.equal(sem.value, 0);
    permit.release(); // the waiter's unit goes back without passing maxValue
    assert.equal(sem.value, 1);
  }
});

Deno.test("Semaphore waiting counts the calls waiting for a unit, as statistics and the console do", async () => {
  const sem = new Semaphore(0, { maxValue: 2 });
  assert.equal(sem.waiting, 0);
  const first = sem.acquire(), second = sem.acquire();
  assert.equal(sem.waiting, 2);
  assert.equal(sem.statistics().tasksWaiting, 2);
  assert.match(Deno.inspect(sem), /waiting: 2 }/);
  sem.release();
  assert.equal(sem.waiting, 1); // the first was handed a unit
  sem.release();
  assert.equal(sem.waiting, 0);
  (await first).release();
  (await second).release();
  assert.equal(sem.value, 2);
});

Deno.test("Semaphore counts a unit in hand-off to a cancelled waiter, so release cannot pass maxValue", async () => {
  const sem = new Semaphore(0, { maxValue: 1 });
  const controller = new AbortController();
  const waiter = track(sem.acquire({ signal: controller.signal }));
  sem.release(); // handed to the waiter, which has not resumed yet
  controller.abort(new Error("gone"));
  assert.throws(() => sem.release(), /would exceed maxValue 1/);
  await flush();
  assert.equal(waiter.rejected, true);
  assert.equal(sem.value, 1); // the cancelled waiter gave its unit back
});

Deno.test("Semaphore with two cancellable waiters in hand-off never rises past maxValue", async () => {
  const sem = new Semaphore(0, { maxValue: 1 });
  const a = new AbortController(), b = new AbortController();
  const first = track(sem.acquire({ signal: a.signal }));
  const second = track(sem.acquire({ signal: b.signal }));
  sem.release(); // to the first waiter
  assert.throws(() => sem.release(), /would exceed maxValue 1/);
  a.abort();
  b.abort();
  await flush();
  assert.equal(first.rejected && second.rejected, true);
  assert.equal(sem.value, 1);
});

Deno.test("Semaphore without maxValue can be released above its initial value", () => {
  const sem = new Semaphore(0);
  sem.release();
  sem.release();
  assert.equal(sem.value, 2);
});

Deno.test("Semaphore permit released twice increments the value once", async () => {
  const sem = new Semaphore(1);
  const permit = await sem.acquire();
  permit.release();
  permit[Symbol.dispose]();
  permit.release();
  assert.equal(sem.value, 1);
});

Deno.test("Semaphore acquire aborted while waiting rejects with the reason and leaves the value alone", async () => {
  const sem = new Semaphore(0);
  const controller = new AbortController();
  const aborted = track(sem.acquire({ signal: controller.signal }));
  const next = track(sem.acquire());
  controller.abort(new Error("nope"));
  await flush();
  assert.equal(aborted.rejected, true);
  assert.equal((aborted.error as Error).message, "nope");
  assert.equal(sem.statistics().tasksWaiting, 1);
  sem.release();
  await flush();
  assert.equal(fulfilled(next), true);
  assert.equal(sem.value, 0);
});

Deno.test("Semaphore waiter aborted in the same tick it is granted passes the value on", async () => {
  const sem = new Semaphore(0);
  const controller = new AbortController();
  const aborted = track(sem.acquire({ signal: controller.signal }));
  const next = track(sem.acquire());
  sem.release();
  controller.abort();
  await flush();
  assert.equal(aborted.rejected, true);
  assert.equal(fulfilled(next), true);
  assert.equal(sem.value, 0);
  next.value!.release();
  assert.equal(sem.value, 1);
});

Deno.test("Semaphore acquire inside a cancelled scope rejects even when the value is positive", async () => {
  const sem = new Semaphore(3);
  let checked = false;
  await new CancelScope().run(async (scope) => {
    scope.cancel();
    await assert.rejects(sem.acquire(), CancelledError);
    checked = true;
  });
  assert.equal(checked, true);
  assert.equal(sem.value, 3);
});

Deno.test("Semaphore acquire rejects bad options with a TypeError", async () => {
  const sem = new Semaphore(1);
  await assert.rejects(sem.acquire({ signal: {} as AbortSignal }), TypeError);
  assert.equal(sem.value, 1);
});

Deno.test("Semaphore statistics report value, maxValue and waiters", async () => {
  const sem = new Semaphore(0, { maxValue: 4 });
  const waiter = sem.acquire();
  assert.deepEqual(sem.statistics(), { value: 0, maxValue: 4, tasksWaiting: 1 });
  sem.release();
  (await waiter).release();
  assert.deepEqual(sem.statistics(), { value: 1, maxValue: 4, tasksWaiting: 0 });
});

// =============================================================================
// Lock
// =============================================================================

Deno.test("Lock is unlocked until acquired and unlocked again once the permit is released", async () => {
  const lock = new Lock();
  assert.equal(lock.locked(), false);
  const permit = await lock.acquire();
  assert.equal(lock.locked(), true);
  permit.release();
  assert.equal(lock.locked(), false);
});

Deno.test("Lock release throws when the lock is not locked", () => {
  const lock = new Lock();
  assert.throws(() => lock.release(), /not locked/);
  lock.tryAcquire();
  lock.release();
  assert.throws(() => lock.release(), /not locked/);
  assert.equal(lock.locked(), false);
});

Deno.test("Lock tryAcquire takes a free lock and returns undefined on a held one", () => {
  const lock = new Lock();
  const permit = lock.tryAcquire();
  assert.notEqual(permit, undefined);
  assert.equal(lock.tryAcquire(), undefined);
  permit!.release();
  assert.notEqual(lock.tryAcquire(), undefined);
});

Deno.test("Lock waiters get the lock in FIFO order, one at a time", async () => {
  const lock = new Lock();
  const first = lock.tryAcquire()!;
  const order: number[] = [];
  let inside = 0, peak = 0;
  const waiters = [0, 1, 2, 3].map((i) =>
    lock.acquire().then(async (p) => {
      inside++;
      peak = Math.max(peak, inside);
      order.push(i);
      await flush(3);
      inside--;
      p.release();
    })
  );
  first.release();
  await Promise.all(waiters);
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.equal(peak, 1);
  assert.equal(lock.locked(), false);
});

Deno.test("Lock released to a waiter cannot be taken by tryAcquire in the same tick", async () => {
  const lock = new Lock();
  const held = lock.tryAcquire()!;
  const waiter = track(lock.acquire());
  held.release();
  assert.equal(lock.tryAcquire(), undefined);
  assert.equal(lock.locked(), true);
  await flush();
  assert.equal(fulfilled(waiter), true);
  waiter.value!.release();
});

Deno.test("Lock waiter cancelled by its scope leaves the queue and the lock goes to the next one", async () => {
  const lock = new Lock();
  const held = lock.tryAcquire()!;
  const scope = new CancelScope();
  const run = scope.run(() => lock.acquire());
  const next = track(lock.acquire());
  await flush();
  assert.equal(lock.statistics().tasksWaiting, 2);
  scope.cancel();
  assert.equal(await run, undefined);
  assert.equal(lock.statistics().tasksWaiting, 1);
  held.release();
  await flush();
  assert.equal(fulfilled(next), true);
  next.value!.release();
  assert.equal(lock.locked(), false);
});

Deno.test("Lock waiter aborted in the same tick it is granted passes the lock on", async () => {
  const lock = new Lock();
  const held = lock.tryAcquire()!;
  const controller = new AbortController();
  const aborted = track(lock.acquire({ signal: controller.signal }));
  const next = track(lock.acquire());
  held.release();
  controller.abort();
  await flush();
  assert.equal(aborted.rejected, true);
  assert.equal(fulfilled(next), true);
  next.value!.release();
  assert.equal(lock.locked(), false);
});

Deno.test("Lock waiter aborted in the same tick it is granted unlocks it when nobody else waits", async () => {
  const lock = new Lock();
  const held = lock.tryAcquire()!;
  const controller = new AbortController();
  const aborted = track(lock.acquire({ signal: controller.signal }));
  held.release();
  controller.abort();
  await flush();
  assert.equal(aborted.rejected, true);
  assert.equal(lock.locked(), false);
});

Deno.test("Lock acquire inside a cancelled scope rejects even when the lock is free", async () => {
  const lock = new Lock();
  let checked = false;
  await new CancelScope().run(async (scope) => {
    scope.cancel();
    await assert.rejects(lock.acquire(), CancelledError);
    checked = true;
  });
  assert.equal(checked, true);
  assert.equal(lock.locked(), false);
});

Deno.test("Lock permit released twice does not unlock the next holder", async () => {
  const lock = new Lock();
  const first = await lock.acquire();
  const second = track(lock.acquire());
  first.release();
  await flush();
  assert.equal(fulfilled(second), true);
  first.release();
  first[Symbol.dispose]();
  assert.equal(lock.locked(), true);
  assert.equal(lock.tryAcquire(), undefined);
  second.value!.release();
  assert.equal(lock.locked(), false);
});

Deno.test("Lock permit whose holding ended through lock.release() does not unlock the next holder", async () => {
  const lock = new Lock();
  const stale = await lock.acquire();
  lock.release();
  const current = await lock.acquire();
  stale.release();
  assert.equal(lock.locked(), true);
  current.release();
  assert.equal(lock.locked(), false);
});

Deno.test("Lock release while the lock is being handed to a cancellable waiter throws instead of unlocking it", async () => {
  const lock = new Lock();
  const held = lock.tryAcquire()!;
  // A waiter with a signal resumes one job after the hand-off (to check it
  // was not aborted meanwhile); until then nobody holds the lock.
  const waiter = track(lock.acquire({ signal: new AbortController().signal }));
  held.release();
  assert.throws(() => lock.release(), /being handed to the next waiter/);
  await flush();
  assert.equal(fulfilled(waiter), true);
  assert.equal(lock.locked(), true);
  assert.equal(lock.tryAcquire(), undefined);
  waiter.value!.release();
});

Deno.test("Lock held with `using` is released at the end of the block", async () => {
  const lock = new Lock();
  {
    using _held = await lock.acquire();
    assert.equal(lock.locked(), true);
  }
  assert.equal(lock.locked(), false);
});

Deno.test("Lock acquire rejects bad options with a TypeError", async () => {
  const lock = new Lock();
  await assert.rejects(lock.acquire("x" as unknown as undefined), /'options' must be an object/);
  assert.equal(lock.locked(), false);
});

Deno.test("Lock statistics report whether it is held and how many wait", async () => {
  const lock = new Lock();
  assert.deepEqual(lock.statistics(), { locked: false, tasksWaiting: 0 });
  const held = lock.tryAcquire()!;
  const waiter = lock.acquire();
  assert.deepEqual(lock.statistics(), { locked: true, tasksWaiting: 1 });
  held.release();
  (await waiter).release();
  assert.deepEqual(lock.statistics(), { locked: false, tasksWaiting: 0 });
});

// =============================================================================
// Event
// =============================================================================

Deno.test("Event is not set until set() is called, and set() is idempotent", () => {
  const event = new Event();
  assert.equal(event.isSet(), false);
  event.set();
  assert.equal(event.isSet(), true);
  event.set();
  assert.equal(event.isSet(), true);
});

Deno.test("Event.set wakes every waiter", async () => {
  const event = new Event();
  const waiters = [1, 2, 3].map(() => track(event.wait()));
  await flush();
  assert.equal(waiters.some((w) => w.settled), false);
  assert.equal(event.statistics().tasksWaiting, 3);
  event.set();
  assert.equal(event.statistics().tasksWaiting, 0);
  await flush();
  assert.equal(waiters.every(fulfilled), true);
});

Deno.test("Event.wait resolves at once when the event is already set", async () => {
  const event = new Event();
  event.set();
  const waiter = track(event.wait());
  await flush(2);
  assert.equal(fulfilled(waiter), true);
  assert.equal(event.statistics().tasksWaiting, 0);
});

Deno.test("Event.wait aborted by its signal rejects with the reason and leaves the other waiters", async () => {
  const event = new Event();
  const controller = new AbortController();
  const aborted = track(event.wait({ signal: controller.signal }));
  const other = track(event.wait());
  controller.abort(new Error("gave up"));
  assert.equal(event.statistics().tasksWaiting, 1);
  await flush();
  assert.equal(aborted.rejected, true);
  assert.equal((aborted.error as Error).message, "gave up");
  event.set();
  await flush();
  assert.equal(fulfilled(other), true);
});

Deno.test("Event.wait is cancelled by a deadline of the ambient scope", async () => {
  await withFakeTime(async (clock) => {
    const event = new Event();
    const result = moveOnAfter(1_000, async () => {
      await event.wait();
      return "set";
    });
    await clock.tickAsync(1_000);
    assert.equal(await result, undefined);
    assert.equal(event.statistics().tasksWaiting, 0);
  });
});

Deno.test("Event.wait inside a cancelled scope rejects even when the event is set", async () => {
  const event = new Event();
  event.set();
  let checked = false;
  await new CancelScope().run(async (scope) => {
    scope.cancel();
    await assert.rejects(event.wait(), CancelledError);
    checked = true;
  });
  assert.equal(checked, true);
});

Deno.test("Event.wait woken by set() rejects if its caller was cancelled before it resumed", async () => {
  const event = new Event();
  const controller = new AbortController();
  const waiter = track(event.wait({ signal: controller.signal }));
  event.set();
  controller.abort(new Error("late"));
  await flush();
  assert.equal(waiter.rejected, true);
  assert.equal((waiter.error as Error).message, "late");
});

Deno.test("Event.wait rejects bad options with a TypeError", async () => {
  const event = new Event();
  await assert.rejects(event.wait(null as unknown as undefined), TypeError);
  assert.equal(event.statistics().tasksWaiting, 0);
});

// =============================================================================
// Condition
// =============================================================================

Deno.test("Condition rejects a lock that is not a Lock", () => {
  assert.throws(() => new Condition({} as Lock), /'lock' must be a Lock/);
  assert.throws(() => new Condition(null as unknown as Lock), TypeError);
});

Deno.test("Condition uses the lock it is given", async () => {
  const lock = new Lock();
  const cond = new Condition(lock);
  assert.equal(cond.lock, lock);
  const permit = await cond.acquire();
  assert.equal(lock.locked(), true);
  assert.equal(cond.locked(), true);
  permit.release();
  assert.equal(cond.locked(), false);
});

Deno.test("Condition.wait without holding the lock rejects and leaves the lock unlocked", async () => {
  const cond = new Condition();
  await assert.rejects(cond.wait(), /the lock is not held/);
  assert.equal(cond.locked(), false);
  assert.equal(cond.statistics().tasksWaiting, 0);
});

Deno.test("Condition.notify and notifyAll throw when the lock is not held", () => {
  const cond = new Condition();
  assert.throws(() => cond.notify(), /Cannot notify Condition: the lock is not held/);
  assert.throws(() => cond.notifyAll(), /Cannot notifyAll Condition: the lock is not held/);
});

Deno.test("Condition.notify rejects an n that is not a non-negative integer", async () => {
  const cond = new Condition();
  await cond.acquire();
  assert.throws(() => cond.notify(-1), /'n'.*received -1/);
  assert.throws(() => cond.notify(1.5), RangeError);
  assert.throws(() => cond.notify(NaN), RangeError);
  assert.throws(() => cond.notify("2" as unknown as number), TypeError);
  cond.release();
});

Deno.test("Condition.wait releases the lock while it waits and holds it again when it returns", async () => {
  const cond = new Condition();
  await cond.acquire();
  const waiting = track(cond.wait());
  assert.equal(cond.locked(), false, "released while waiting");
  const other = await cond.acquire();
  cond.notify();
  await flush();
  assert.equal(waiting.settled, false, "cannot return before it has the lock again");
  other.release();
  await flush();
  assert.equal(fulfilled(waiting), true);
  assert.equal(cond.locked(), true);
  cond.release();
  assert.equal(cond.locked(), false);
});

Deno.test("Condition.notify wakes one waiter at a time in FIFO order", async () => {
  const cond = new Condition();
  const order: number[] = [];
  const waiters = [0, 1, 2].map(async (i) => {
    using _held = await cond.acquire();
    await cond.wait();
    order.push(i);
  });
  await flush();
  assert.equal(cond.statistics().tasksWaiting, 3);
  for (let i = 0; i < 3; i++) {
    const held = await cond.acquire();
    cond.notify();
    held.release();
    await flush();
    assert.deepEqual(order, [0, 1, 2].slice(0, i + 1));
  }
  await Promise.all(waiters);
  assert.equal(cond.locked(), false);
});

Deno.test("Condition.notify(n) wakes n waiters and notify(0) wakes none", async () => {
  const cond = new Condition();
  const woken: number[] = [];
  const waiters = [0, 1, 2, 3].map(async (i) => {
    using _held = await cond.acquire();
    await cond.wait();
    woken.push(i);
  });
  await flush();
  let held = await cond.acquire();
  cond.notify(0);
  held.release();
  await flush();
  assert.deepEqual(woken, []);
  held = await cond.acquire();
  cond.notify(3);
  held.release();
  await flush(30);
  assert.deepEqual(woken, [0, 1, 2]);
  assert.equal(cond.statistics().tasksWaiting, 1);
  held = await cond.acquire();
  cond.notify(5);
  held.release();
  await Promise.all(waiters);
  assert.deepEqual(woken, [0, 1, 2, 3]);
});

Deno.test("Condition.notifyAll wakes every waiter", async () => {
  const cond = new Condition();
  const woken: number[] = [];
  const waiters = [0, 1, 2].map(async (i) => {
    using _held = await cond.acquire();
    await cond.wait();
    woken.push(i);
  });
  await flush();
  const held = await cond.acquire();
  cond.notifyAll();
  assert.equal(cond.statistics().tasksWaiting, 0);
  held.release();
  await Promise.all(waiters);
  assert.deepEqual(woken, [0, 1, 2]);
});

Deno.test("Condition.wait cancelled while waiting reacquires the lock before it rejects", async () => {
  const cond = new Condition();
  const controller = new AbortController();
  await cond.acquire();
  const waiting = track(cond.wait({ signal: controller.signal }));
  const other = await cond.acquire();
  controller.abort(new Error("stop waiting"));
  await flush();
  assert.equal(waiting.settled, false, "still waiting for the lock");
  assert.equal(cond.statistics().tasksWaiting, 0);
  other.release();
  await flush();
  assert.equal(waiting.rejected, true);
  assert.equal((waiting.error as Error).message, "stop waiting");
  assert.equal(cond.locked(), true, "held again by the cancelled waiter");
  cond.release();
});

Deno.test("Condition.wait cancelled by its scope still returns holding the lock", async () => {
  await withFakeTime(async (clock) => {
    const cond = new Condition();
    const lockedAfter: boolean[] = [];
    const run = moveOnAfter(100, async () => {
      using _held = await cond.acquire();
      try {
        await cond.wait();
      } finally {
        lockedAfter.push(cond.locked());
      }
    });
    await clock.tickAsync(100);
    await run;
    assert.deepEqual(lockedAfter, [true]);
    assert.equal(cond.locked(), false, "released by `using` afterwards");
  });
});

Deno.test("Condition.wait inside a cancelled scope rejects at once and keeps the lock", async () => {
  const cond = new Condition();
  let checked = false;
  await cond.acquire();
  await new CancelScope().run(async (scope) => {
    scope.cancel();
    await assert.rejects(cond.wait(), CancelledError);
    assert.equal(cond.locked(), true);
    assert.equal(cond.statistics().tasksWaiting, 0);
    checked = true;
  });
  assert.equal(checked, true);
  cond.release();
});

Deno.test("Condition waiter notified and cancelled in the same tick passes the notification on", async () => {
  const cond = new Condition();
  const controller = new AbortController();
  await cond.acquire();
  const cancelled = track(cond.wait({ signal: controller.signal }));
  await cond.acquire();
  const patient = track(cond.wait());
  await cond.acquire();
  cond.notify();
  controller.abort(new Error("cancelled after notify"));
  cond.release();
  await flush(30);
  assert.equal(cancelled.rejected, true);
  assert.equal((cancelled.error as Error).message, "cancelled after notify");
  // The cancelled waiter reacquired the lock, passed the notification on and rejected.
  assert.equal(cond.statistics().tasksWaiting, 0);
  assert.equal(patient.settled, false, "the patient waiter needs the lock back first");
  cond.release();
  await flush();
  assert.equal(fulfilled(patient), true);
  cond.release();
  assert.equal(cond.locked(), false);
});

Deno.test("Condition permit taken before wait still releases the lock after wait returns", async () => {
  const cond = new Condition();
  const permit = await cond.acquire();
  const waiting = cond.wait();
  const notifier = await cond.acquire();
  cond.notify();
  notifier.release();
  await waiting;
  assert.equal(cond.locked(), true);
  permit.release();
  assert.equal(cond.locked(), false);
});

Deno.test("Condition.wait rejects bad options with a TypeError and keeps the lock", async () => {
  const cond = new Condition();
  await cond.acquire();
  await assert.rejects(cond.wait({ signal: 1 as unknown as AbortSignal }), TypeError);
  assert.equal(cond.locked(), true);
  cond.release();
});

Deno.test("Condition statistics report waiters and whether the lock is held", async () => {
  const cond = new Condition();
  assert.deepEqual(cond.statistics(), { tasksWaiting: 0, locked: false });
  const permit: Permit = await cond.acquire();
  const waiting = cond.wait();
  assert.deepEqual(cond.statistics(), { tasksWaiting: 1, locked: false });
  await cond.acquire();
  cond.notifyAll();
  cond.release();
  await waiting;
  assert.deepEqual(cond.statistics(), { tasksWaiting: 0, locked: true });
  permit.release();
});

// =============================================================================
// How they print
// =============================================================================

Deno.test("a Semaphore prints its value, maxValue and waiters in the console", async () => {
  const sem = new Semaphore(1, { maxValue: 3 });
  assert.equal(Deno.inspect(sem), "Semaphore { value: 1, maxValue: 3, waiting: 0 }");
  const held = sem.tryAcquire()!;
  const waiter = sem.acquire();
  assert.equal(Deno.inspect(sem), "Semaphore { value: 0, maxValue: 3, waiting: 1 }");
  held.release();
  (await waiter).release();
});

Deno.test("a Lock prints whether it is held and how many wait", async () => {
  const lock = new Lock();
  assert.equal(Deno.inspect(lock), "Lock { locked: false, waiting: 0 }");
  const held = lock.tryAcquire()!;
  const waiter = lock.acquire();
  assert.equal(Deno.inspect(lock), "Lock { locked: true, waiting: 1 }");
  held.release();
  (await waiter).release();
});

Deno.test("an Event prints whether it is set and how many wait", async () => {
  const event = new Event();
  const waiter = event.wait();
  assert.equal(Deno.inspect(event), "Event { set: false, waiting: 1 }");
  event.set();
  await waiter;
  assert.equal(Deno.inspect(event), "Event { set: true, waiting: 0 }");
});

Deno.test("a Condition prints whether its lock is held and how many wait", async () => {
  const cond = new Condition();
  assert.equal(Deno.inspect(cond), "Condition { locked: false, waiting: 0 }");
  const held = await cond.acquire();
  const waiter = (async () => {
    using _held = await cond.acquire();
    await cond.wait();
  })();
  held.release();
  await flush();
  assert.equal(Deno.inspect(cond), "Condition { locked: false, waiting: 1 }");
  {
    using _held = await cond.acquire();
    cond.notify();
  }
  await waiter;
});

Deno.test("the primitives print the same through Node's inspect hook", async () => {
  const { inspect } = await import("node:util");
  assert.equal(inspect(new Lock()), "Lock { locked: false, waiting: 0 }");
  assert.equal(inspect(new Semaphore(2)), "Semaphore { value: 2, maxValue: Infinity, waiting: 0 }");
});

Deno.test("Condition rejects null for a lock, naming it", () => {
  assert.throws(() => new Condition(null as never), /'lock' must be a Lock, received null/);
});
