// Copyright 2026 the @lionpride/core authors. MIT license.
import assert from "node:assert/strict";
import {
  CancelledError,
  CancelScope,
  CapacityLimiter,
  failAfter,
  moveOnAfter,
  type Permit,
  TimeoutError,
} from "../mod.ts";
import FakeTimers from "@sinonjs/fake-timers";
import { withFakeTime } from "./_fake_time.ts";
import { flush, track, type Tracked } from "./_helpers.ts";

/** Takes every token of `limiter` with tryAcquire. */
function drain(limiter: CapacityLimiter): Permit[] {
  const permits: Permit[] = [];
  for (let p = limiter.tryAcquire(); p !== undefined; p = limiter.tryAcquire()) permits.push(p);
  return permits;
}

/** Starts `n` waiting acquires that record their grant order in `order`. */
function queueWaiters(
  limiter: CapacityLimiter,
  n: number,
  order: number[],
): Tracked<Permit>[] {
  const waiters: Tracked<Permit>[] = [];
  for (let i = 0; i < n; i++) {
    waiters.push(track(
      limiter.acquire().then((p) => {
        order.push(i);
        return p;
      }),
    ));
  }
  return waiters;
}

// --- construction and validation -------------------------------------------

Deno.test("the constructor rejects a totalTokens that is not a positive integer with a RangeError naming it", () => {
  for (const bad of [0, -1, 1.5, NaN, -Infinity]) {
    assert.throws(
      () => new CapacityLimiter(bad),
      (err: unknown) =>
        err instanceof RangeError && err.message.includes("'totalTokens'") &&
        err.message.includes(`received ${bad}`),
      `totalTokens ${bad}`,
    );
  }
});

Deno.test("the constructor rejects a totalTokens that is not a number with a TypeError", () => {
  for (const bad of ["3", undefined, null, 3n, {}]) {
    assert.throws(
      () => new CapacityLimiter(bad as unknown as number),
      (err: unknown) => err instanceof TypeError && err.message.includes("'totalTokens'"),
      `totalTokens ${String(bad)}`,
    );
  }
});

Deno.test("setting totalTokens to a bad value throws and leaves the limiter unchanged", async () => {
  const limiter = new CapacityLimiter(2);
  const held = limiter.tryAcquire()!;
  for (const bad of [0, -3, 2.5, NaN, "4", undefined]) {
    assert.throws(
      () => {
        limiter.totalTokens = bad as number;
      },
      (err: unknown) =>
        (err instanceof RangeError || err instanceof TypeError) &&
        err.message.includes("'totalTokens'"),
    );
    assert.deepEqual(limiter.statistics(), {
      borrowedTokens: 1,
      totalTokens: 2,
      tasksWaiting: 0,
    });
    assert.equal(limiter.availableTokens, 1);
  }
  const second = await limiter.acquire();
  assert.equal(limiter.tryAcquire(), undefined);
  held.release();
  second.release();
});

Deno.test("acquire rejects bad options with a TypeError and takes no token", async () => {
  const limiter = new CapacityLimiter(1);
  await assert.rejects(limiter.acquire(null as unknown as undefined), TypeError);
  await assert.rejects(limiter.acquire(5 as unknown as undefined), TypeError);
  await assert.rejects(
    limiter.acquire({ signal: "abort" as unknown as AbortSignal }),
    /'signal' must be an AbortSignal/,
  );
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("use rejects a non-function with a TypeError and takes no token", async () => {
  const limiter = new CapacityLimiter(1);
  await assert.rejects(
    limiter.use(42 as unknown as () => number),
    (err: unknown) => err instanceof TypeError && err.message.includes("'fn'"),
  );
  assert.equal(limiter.borrowedTokens, 0);
});

// --- counting ----------------------------------------------------------------

Deno.test("acquire resolves at once while tokens are free, and the getters count it", async () => {
  const limiter = new CapacityLimiter(3);
  const a = await limiter.acquire();
  const b = await limiter.acquire();
  assert.equal(limiter.borrowedTokens, 2);
  assert.equal(limiter.availableTokens, 1);
  assert.equal(limiter.waiting, 0);
  assert.deepEqual(limiter.statistics(), { borrowedTokens: 2, totalTokens: 3, tasksWaiting: 0 });
  a.release();
  b.release();
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(limiter.availableTokens, 3);
});

Deno.test("acquire waits when every token is held, and statistics report the waiter", async () => {
  const limiter = new CapacityLimiter(1);
  const held = await limiter.acquire();
  const waiter = track(limiter.acquire());
  await flush();
  assert.equal(waiter.settled, false);
  assert.equal(limiter.waiting, 1);
  assert.deepEqual(limiter.statistics(), { borrowedTokens: 1, totalTokens: 1, tasksWaiting: 1 });
  held.release();
  await flush();
  assert.equal(waiter.settled, true);
  assert.equal(limiter.waiting, 0);
  assert.equal(limiter.borrowedTokens, 1);
  waiter.value!.release();
});

Deno.test("tryAcquire returns undefined when no token is free", () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire();
  assert.notEqual(held, undefined);
  assert.equal(limiter.tryAcquire(), undefined);
  assert.equal(limiter.borrowedTokens, 1);
  held!.release();
  assert.equal(limiter.availableTokens, 1);
});

// --- FIFO, no barging ------------------------------------------------------

Deno.test("waiters are granted tokens strictly in arrival order", async () => {
  const limiter = new CapacityLimiter(2);
  const held = drain(limiter);
  const order: number[] = [];
  const waiters = queueWaiters(limiter, 6, order);
  await flush();
  for (let i = 0; i < 6; i++) {
    // Release one token at a time, alternately from the first holders and from waiters.
    (i < 2 ? held[i] : waiters[i - 2].value!).release();
    await flush();
  }
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  waiters[4].value!.release();
  waiters[5].value!.release();
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("waiters resume in arrival order whether or not something can cancel them", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const order: string[] = [];
  const follow = (name: string, p: Promise<Permit>) =>
    p.then((permit) => (order.push(name), permit));
  const cancellable = new AbortController();
  const scope = new CancelScope();
  const waiters = [
    follow("signal", limiter.acquire({ signal: cancellable.signal })),
    follow("plain-1", limiter.acquire()),
    scope.run(() => follow("scope", limiter.acquire())) as Promise<Permit>,
    follow("plain-2", limiter.acquire()),
  ];
  limiter.totalTokens = 5; // four waiters granted in one tick
  const permits = await Promise.all(waiters);
  assert.deepEqual(order, ["signal", "plain-1", "scope", "plain-2"]);
  for (const p of [held, ...permits]) p.release();
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("a new acquire never takes a released token ahead of a waiter", async () => {
  const limiter = new CapacityLimiter(1);
  const held = await limiter.acquire();
  const order: string[] = [];
  const first = limiter.acquire().then((p) => (order.push("first"), p));
  await flush();
  held.release();
  // Same tick as the release: the token is already promised to "first".
  const late = limiter.acquire().then((p) => (order.push("late"), p));
  await flush();
  assert.deepEqual(order, ["first"]);
  (await first).release();
  (await late).release();
  assert.deepEqual(order, ["first", "late"]);
});

Deno.test("tryAcquire never takes a released token while anyone waits", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const waiter = track(limiter.acquire());
  held.release();
  assert.equal(limiter.tryAcquire(), undefined);
  await flush();
  assert.equal(waiter.settled, true);
  assert.equal(limiter.tryAcquire(), undefined);
  waiter.value!.release();
  assert.notEqual(limiter.tryAcquire(), undefined);
});

Deno.test("tryAcquire fails while someone waits even if raising totalTokens freed a token for them", () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const waiter = track(limiter.acquire());
  limiter.totalTokens = 2;
  assert.equal(limiter.tryAcquire(), undefined);
  assert.equal(limiter.borrowedTokens, 2);
  held.release();
  return flush().then(() => waiter.value!.release());
});

// --- cancellation ------------------------------------------------------------

Deno.test("a waiting acquire aborted by its signal rejects with the reason and consumes no token", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  const reason = new Error("changed my mind");
  const waiter = track(limiter.acquire({ signal: controller.signal }));
  const next = track(limiter.acquire());
  assert.equal(limiter.waiting, 2);
  controller.abort(reason);
  assert.equal(limiter.waiting, 1);
  await flush();
  assert.equal(waiter.rejected, true);
  assert.equal(waiter.error, reason);
  held.release();
  await flush();
  assert.equal(next.settled, true, "the token went to the next waiter");
  assert.equal(limiter.borrowedTokens, 1);
  next.value!.release();
  assert.equal(limiter.availableTokens, 1);
});

Deno.test("waits that end, granted or cancelled, leave no listener on a long-lived signal", async () => {
  const limiter = new CapacityLimiter(1);
  const { signal } = new AbortController();
  let listeners = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => (listeners++, add(...args));
  signal.removeEventListener = (
    ...args: Parameters<typeof remove>
  ) => (listeners--, remove(...args));
  const held = limiter.tryAcquire()!;
  const granted = limiter.acquire({ signal });
  const scope = new CancelScope();
  const cancelled = scope.run(() => limiter.acquire({ signal }));
  assert.equal(listeners, 1); // the waits of one signal share one listener
  scope.cancel(); // ends the second wait
  assert.equal(await cancelled, undefined);
  assert.equal(listeners, 1);
  held.release(); // ends the first wait
  (await granted).release();
  assert.equal(listeners, 0);
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("a waiting acquire cancelled by the ambient scope rejects with the scope's reason", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const scope = new CancelScope();
  let waiting: Promise<Permit> | undefined;
  const run = scope.run(() => (waiting = limiter.acquire()));
  await flush();
  assert.equal(limiter.waiting, 1);
  scope.cancel("shutting down");
  assert.equal(limiter.waiting, 0);
  await assert.rejects(
    waiting!,
    (err: unknown) => err instanceof CancelledError && err.message === "shutting down",
  );
  assert.equal(await run, undefined);
  assert.equal(scope.cancelledCaught, true);
  assert.equal(limiter.borrowedTokens, 1);
  held.release();
  assert.equal(limiter.availableTokens, 1);
});

Deno.test("a waiting acquire is cancelled when an enclosing scope is cancelled", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const outer = new CancelScope();
  const inner = new CancelScope();
  const run = outer.run(() => inner.run(() => limiter.acquire()));
  await flush();
  assert.equal(limiter.waiting, 1);
  outer.cancel();
  assert.equal(await run, undefined);
  assert.equal(limiter.waiting, 0);
  assert.equal(limiter.borrowedTokens, 1);
  held.release();
});

Deno.test("a waiting acquire in a shielded scope is not cancelled by the enclosing scope", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const outer = new CancelScope();
  const shielded = new CancelScope({ shield: true });
  let waiting: Promise<Permit> | undefined;
  const run = outer.run(() => shielded.run(() => (waiting = limiter.acquire())));
  await flush();
  outer.cancel();
  await flush();
  assert.equal(limiter.waiting, 1);
  held.release();
  const permit = await waiting!;
  permit.release();
  await run;
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("acquire inside a cancelled scope rejects at once even with free tokens", async () => {
  const limiter = new CapacityLimiter(5);
  let checked = false;
  await new CancelScope().run(async (scope) => {
    scope.cancel("cancelled first");
    const acquired = track(limiter.acquire());
    await Promise.resolve();
    assert.equal(acquired.rejected, true);
    assert.equal(acquired.error, scope.signal.reason);
    assert.equal(limiter.borrowedTokens, 0);
    checked = true;
  });
  assert.equal(checked, true);
});

Deno.test("acquire keeps rejecting after the scope was cancelled while it ran (level-triggered)", async () => {
  const limiter = new CapacityLimiter(5);
  const outcomes: string[] = [];
  await new CancelScope().run(async (scope) => {
    scope.cancel();
    for (let i = 0; i < 3; i++) {
      await limiter.acquire().then(() => outcomes.push("granted"), () => outcomes.push("rejected"));
    }
  });
  assert.deepEqual(outcomes, ["rejected", "rejected", "rejected"]);
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("acquire with an already aborted signal rejects at once with its reason even with free tokens", async () => {
  const limiter = new CapacityLimiter(1);
  const reason = new Error("already aborted");
  await assert.rejects(
    limiter.acquire({ signal: AbortSignal.abort(reason) }),
    (err) => err === reason,
  );
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("a waiter aborted in the same tick it is granted passes its token to the next waiter", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  const aborted = track(limiter.acquire({ signal: controller.signal }));
  const next = track(limiter.acquire());
  held.release(); // hands the token to `aborted`…
  controller.abort(new Error("too late")); // …which is aborted before it resumes
  await flush();
  assert.equal(aborted.rejected, true);
  assert.equal((aborted.error as Error).message, "too late");
  assert.equal(next.settled && !next.rejected, true);
  assert.equal(limiter.borrowedTokens, 1);
  next.value!.release();
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(limiter.availableTokens, 1);
});

Deno.test("a waiter aborted in the same tick it is granted frees the token when nobody else waits", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  const aborted = track(limiter.acquire({ signal: controller.signal }));
  held.release();
  controller.abort();
  await flush();
  assert.equal(aborted.rejected, true);
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(limiter.availableTokens, 1);
});

Deno.test("a waiter whose scope is cancelled in the same tick it is granted passes its token on", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const scope = new CancelScope();
  let waiting: Promise<Permit> | undefined;
  const run = scope.run(() => (waiting = limiter.acquire()));
  const next = track(limiter.acquire());
  await flush();
  held.release();
  scope.cancel();
  await assert.rejects(waiting!, CancelledError);
  await run;
  await flush();
  assert.equal(next.settled && !next.rejected, true);
  assert.equal(limiter.borrowedTokens, 1);
  next.value!.release();
});

Deno.test("failAfter times out a waiting acquire with TimeoutError and no token is consumed", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new CapacityLimiter(1);
    const held = limiter.tryAcquire()!;
    const timedOut = assert.rejects(failAfter(1_000, () => limiter.acquire()), TimeoutError);
    await clock.tickAsync(999);
    assert.equal(limiter.waiting, 1);
    await clock.tickAsync(1);
    await timedOut;
    assert.equal(limiter.waiting, 0);
    held.release();
    assert.equal(limiter.availableTokens, 1);
  });
});

Deno.test("moveOnAfter gives up on a waiting acquire and a later waiter still gets the token", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new CapacityLimiter(1);
    const held = limiter.tryAcquire()!;
    const gaveUp = moveOnAfter(500, () => limiter.acquire());
    const patient = track(limiter.acquire());
    await clock.tickAsync(500);
    assert.equal(await gaveUp, undefined);
    held.release();
    await flush();
    assert.equal(patient.settled && !patient.rejected, true);
    patient.value!.release();
    assert.equal(limiter.borrowedTokens, 0);
  });
});

Deno.test("tryAcquire is not a cancellation point: it takes a free token even inside a cancelled scope", async () => {
  const limiter = new CapacityLimiter(1);
  let permit: Permit | undefined;
  await new CancelScope().run((scope) => {
    scope.cancel();
    permit = limiter.tryAcquire();
  });
  assert.notEqual(permit, undefined);
  assert.equal(limiter.borrowedTokens, 1);
  permit!.release();
});

Deno.test("a hand-off needs no clock tick even when a fake clock replaces queueMicrotask", async () => {
  const clock = FakeTimers.install(); // the default set of fakes, queueMicrotask included
  try {
    const limiter = new CapacityLimiter(1);
    const held = limiter.tryAcquire()!;
    const waiter = track(limiter.acquire());
    held.release();
    await flush();
    assert.equal(waiter.settled && !waiter.rejected, true);
    waiter.value!.release();
  } finally {
    clock.uninstall();
  }
});

// --- totalTokens -------------------------------------------------------------

Deno.test("raising totalTokens wakes as many waiters as new tokens, in FIFO order", async () => {
  const limiter = new CapacityLimiter(1);
  const held = drain(limiter);
  const order: number[] = [];
  const waiters = queueWaiters(limiter, 4, order);
  limiter.totalTokens = 3;
  await flush();
  assert.deepEqual(order, [0, 1]);
  assert.equal(limiter.waiting, 2);
  assert.equal(limiter.borrowedTokens, 3);
  limiter.totalTokens = Infinity;
  await flush();
  assert.deepEqual(order, [0, 1, 2, 3]);
  for (const p of [...held, ...waiters.map((w) => w.value!)]) p.release();
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("lowering totalTokens never revokes held tokens, and grants resume only below the new total", async () => {
  const limiter = new CapacityLimiter(3);
  const held = drain(limiter);
  limiter.totalTokens = 1;
  assert.equal(limiter.borrowedTokens, 3);
  assert.equal(limiter.availableTokens, 0);
  assert.deepEqual(limiter.statistics(), { borrowedTokens: 3, totalTokens: 1, tasksWaiting: 0 });
  const waiter = track(limiter.acquire());
  held[0].release();
  held[1].release();
  await flush();
  assert.equal(waiter.settled, false, "borrowed (1) is not below total (1)");
  assert.equal(limiter.tryAcquire(), undefined);
  held[2].release();
  await flush();
  assert.equal(waiter.settled, true);
  assert.equal(limiter.borrowedTokens, 1);
  waiter.value!.release();
  assert.equal(limiter.availableTokens, 1);
});

Deno.test("setting totalTokens to its current value wakes nobody and changes nothing", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const waiter = track(limiter.acquire());
  limiter.totalTokens = 1;
  await flush();
  assert.equal(waiter.settled, false);
  assert.equal(limiter.borrowedTokens, 1);
  held.release();
  await flush();
  waiter.value!.release();
});

Deno.test("a limiter with Infinity tokens never makes anyone wait", async () => {
  const limiter = new CapacityLimiter(Infinity);
  const permits = await Promise.all(Array.from({ length: 1_000 }, () => limiter.acquire()));
  assert.equal(limiter.borrowedTokens, 1_000);
  assert.equal(limiter.availableTokens, Infinity);
  assert.equal(limiter.waiting, 0);
  assert.equal(limiter.statistics().totalTokens, Infinity);
  for (const p of permits) p.release();
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("lowering totalTokens from Infinity keeps the tokens held and makes new acquires wait", async () => {
  const limiter = new CapacityLimiter(Infinity);
  const held = [limiter.tryAcquire()!, limiter.tryAcquire()!, limiter.tryAcquire()!];
  limiter.totalTokens = 2;
  assert.equal(limiter.availableTokens, 0);
  const waiter = track(limiter.acquire());
  held[0].release();
  await flush();
  assert.equal(waiter.settled, false);
  held[1].release();
  await flush();
  assert.equal(waiter.settled, true);
  held[2].release();
  waiter.value!.release();
  assert.equal(limiter.availableTokens, 2);
});

// --- release, permits, use -----------------------------------------------------

Deno.test("release() gives back a token taken by acquire", async () => {
  const limiter = new CapacityLimiter(1);
  await limiter.acquire();
  limiter.release();
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(limiter.availableTokens, 1);
});

Deno.test("release() throws when no token taken by acquire or tryAcquire is held", () => {
  const limiter = new CapacityLimiter(2);
  assert.throws(() => limiter.release(), /no token taken by acquire\(\) or tryAcquire\(\) is held/);
  const permit = limiter.tryAcquire()!;
  permit.release();
  assert.throws(() => limiter.release(), Error);
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(limiter.availableTokens, 2);
});

Deno.test("release() never touches a token held on behalf of a borrower", async () => {
  const limiter = new CapacityLimiter(2);
  await limiter.acquireOnBehalfOf("worker-1");
  assert.throws(() => limiter.release(), Error);
  assert.equal(limiter.borrowedTokens, 1);
  limiter.releaseOnBehalfOf("worker-1");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("release() never touches a token a borrower got after waiting for it", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const borrowed = limiter.acquireOnBehalfOf("worker-2");
  held.release();
  await borrowed;
  assert.throws(() => limiter.release(), /no token taken by acquire\(\) or tryAcquire\(\)/);
  assert.equal(limiter.borrowedTokens, 1);
  limiter.releaseOnBehalfOf("worker-2");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("releasing a permit twice is a no-op and does not free another holder's token", async () => {
  const limiter = new CapacityLimiter(2);
  const a = await limiter.acquire();
  const b = await limiter.acquire();
  a.release();
  a.release();
  assert.equal(limiter.borrowedTokens, 1);
  a[Symbol.dispose]();
  assert.equal(limiter.borrowedTokens, 1);
  b.release();
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("a permit whose token was already given back by release() releases nothing", async () => {
  const limiter = new CapacityLimiter(2);
  const permit = await limiter.acquire();
  limiter.release();
  permit.release();
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(limiter.availableTokens, 2);
  assert.throws(() => limiter.release(), Error);
});

Deno.test("a permit held with `using` is released at the end of the block", async () => {
  const limiter = new CapacityLimiter(1);
  {
    using _permit = await limiter.acquire();
    assert.equal(limiter.borrowedTokens, 1);
  }
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("a permit held with `using` is released when the block throws", async () => {
  const limiter = new CapacityLimiter(1);
  await assert.rejects(async () => {
    using _permit = await limiter.acquire();
    throw new Error("boom");
  }, /boom/);
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("use runs fn with a token held and returns its value", async () => {
  const limiter = new CapacityLimiter(1);
  const seen: number[] = [];
  const value = await limiter.use(() => {
    seen.push(limiter.borrowedTokens);
    return "done";
  });
  assert.equal(value, "done");
  assert.deepEqual(seen, [1]);
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("use releases the token when fn throws or rejects", async () => {
  const limiter = new CapacityLimiter(1);
  await assert.rejects(
    limiter.use(() => {
      throw new Error("sync");
    }),
    /sync/,
  );
  assert.equal(limiter.borrowedTokens, 0);
  await assert.rejects(limiter.use(() => Promise.reject(new Error("async"))), /async/);
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("use never runs more than totalTokens functions at once", async () => {
  const limiter = new CapacityLimiter(3);
  let running = 0, peak = 0;
  await Promise.all(Array.from({ length: 20 }, (_, i) =>
    limiter.use(async () => {
      running++;
      peak = Math.max(peak, running);
      await flush(i % 4);
      running--;
    })));
  assert.equal(peak, 3);
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("use passes its signal to the wait, and fn never runs if the wait is aborted", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  let ran = false;
  const used = limiter.use(() => {
    ran = true;
  }, { signal: controller.signal });
  controller.abort(new Error("stop"));
  await assert.rejects(used, /stop/);
  assert.equal(ran, false);
  held.release();
  assert.equal(limiter.borrowedTokens, 0);
});

// --- borrowers ---------------------------------------------------------------

Deno.test("acquireOnBehalfOf lends a token that releaseOnBehalfOf gives back", async () => {
  const limiter = new CapacityLimiter(2);
  const borrower = { id: 1 };
  await limiter.acquireOnBehalfOf(borrower);
  assert.equal(limiter.borrowedTokens, 1);
  limiter.releaseOnBehalfOf(borrower);
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("acquireOnBehalfOf rejects when the borrower already holds a token", async () => {
  const limiter = new CapacityLimiter(3);
  await limiter.acquireOnBehalfOf("task-a");
  await assert.rejects(limiter.acquireOnBehalfOf("task-a"), /"task-a": it already holds a token/);
  assert.equal(limiter.borrowedTokens, 1);
  limiter.releaseOnBehalfOf("task-a");
});

Deno.test("acquireOnBehalfOf rejects when the borrower is already waiting for a token", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const first = track(limiter.acquireOnBehalfOf("task-a"));
  await flush();
  await assert.rejects(limiter.acquireOnBehalfOf("task-a"), /already waits for a token/);
  assert.equal(limiter.waiting, 1);
  held.release();
  await flush();
  assert.equal(first.settled && !first.rejected, true);
  limiter.releaseOnBehalfOf("task-a");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("releaseOnBehalfOf throws when the borrower holds no token", async () => {
  const limiter = new CapacityLimiter(1);
  assert.throws(() => limiter.releaseOnBehalfOf("nobody"), /it holds no token/);
  await limiter.acquireOnBehalfOf("once");
  limiter.releaseOnBehalfOf("once");
  assert.throws(() => limiter.releaseOnBehalfOf("once"), /it holds no token/);
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("releaseOnBehalfOf throws while the borrower is still waiting, and the wait goes on", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const waiting = track(limiter.acquireOnBehalfOf("patient"));
  await flush();
  assert.throws(() => limiter.releaseOnBehalfOf("patient"), /it holds no token/);
  held.release();
  await flush();
  assert.equal(waiting.settled && !waiting.rejected, true);
  limiter.releaseOnBehalfOf("patient");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("error messages about a borrower never throw, whatever the borrower is", () => {
  const limiter = new CapacityLimiter(1);
  const odd = Object.create(null);
  assert.throws(() => limiter.releaseOnBehalfOf(odd), /it holds no token/);
  assert.throws(() => limiter.releaseOnBehalfOf(Symbol("s")), /Symbol\(s\)/);
});

Deno.test("a borrower's permit releases its token once, like releaseOnBehalfOf", async () => {
  const limiter = new CapacityLimiter(2);
  const permit = await limiter.acquireOnBehalfOf("b");
  await limiter.acquireOnBehalfOf("c");
  permit.release();
  permit.release();
  assert.equal(limiter.borrowedTokens, 1);
  assert.throws(() => limiter.releaseOnBehalfOf("b"), /it holds no token/);
  limiter.releaseOnBehalfOf("c");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("a borrower whose wait was cancelled holds nothing and may acquire again", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  const waiting = limiter.acquireOnBehalfOf("b", { signal: controller.signal });
  await flush();
  controller.abort(new Error("abort"));
  await assert.rejects(waiting, /abort/);
  assert.throws(() => limiter.releaseOnBehalfOf("b"), /it holds no token/);
  held.release();
  await limiter.acquireOnBehalfOf("b");
  limiter.releaseOnBehalfOf("b");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("a borrower aborted in the same tick it is granted passes the token on and holds nothing", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  const aborted = track(limiter.acquireOnBehalfOf("b", { signal: controller.signal }));
  const next = track(limiter.acquireOnBehalfOf("c"));
  await flush();
  held.release();
  controller.abort();
  await flush();
  assert.equal(aborted.rejected, true);
  assert.equal(next.settled && !next.rejected, true);
  assert.throws(() => limiter.releaseOnBehalfOf("b"), /it holds no token/);
  limiter.releaseOnBehalfOf("c");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("borrowers and anonymous acquires share one FIFO queue", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const order: string[] = [];
  const a = limiter.acquireOnBehalfOf("a").then((p) => (order.push("a"), p));
  await flush();
  const anon = limiter.acquire().then((p) => (order.push("anonymous"), p));
  const b = limiter.acquireOnBehalfOf("b").then((p) => (order.push("b"), p));
  await flush();
  held.release();
  (await a).release();
  (await anon).release();
  (await b).release();
  assert.deepEqual(order, ["a", "anonymous", "b"]);
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("acquireOnBehalfOf inside a cancelled scope rejects at once and records no borrower", async () => {
  const limiter = new CapacityLimiter(1);
  let checked = false;
  await new CancelScope().run(async (scope) => {
    scope.cancel();
    await assert.rejects(limiter.acquireOnBehalfOf("b"), CancelledError);
    assert.equal(limiter.borrowedTokens, 0);
    checked = true;
  });
  assert.equal(checked, true);
  await limiter.acquireOnBehalfOf("b");
  limiter.releaseOnBehalfOf("b");
});

Deno.test("argument type errors show the value received, not only its type", async () => {
  assert.throws(() => new CapacityLimiter("3" as never), /'totalTokens'.*received string "3"/);
  const limiter = new CapacityLimiter(1);
  await assert.rejects(
    limiter.acquire({ signal: 5 as never }),
    /'signal' must be an AbortSignal, received number 5/,
  );
  await assert.rejects(
    limiter.acquire(7 as never),
    /'options' must be an object, received number 7/,
  );
});

Deno.test("statistics() also reports the waiters as waiting, like the getter", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const waiter = limiter.acquire();
  const stats = limiter.statistics();
  assert.equal(stats.waiting, 1);
  assert.equal(stats.waiting, limiter.waiting);
  assert.equal(stats.tasksWaiting, 1);
  held.release();
  (await waiter).release();
  assert.equal(limiter.statistics().waiting, 0);
});

Deno.test("a CapacityLimiter prints its borrowed and total tokens and its waiters", async () => {
  const limiter = new CapacityLimiter(5);
  const permits = [0, 1, 2].map(() => limiter.tryAcquire()!);
  assert.equal(Deno.inspect(limiter), "CapacityLimiter { borrowed: 3/5, waiting: 0 }");
  limiter.totalTokens = 3;
  const waiters = [limiter.acquire(), limiter.acquire()];
  assert.equal(Deno.inspect(limiter), "CapacityLimiter { borrowed: 3/3, waiting: 2 }");
  for (const p of permits) p.release();
  for (const w of waiters) (await w).release();
  assert.equal(
    Deno.inspect(new CapacityLimiter(Infinity)),
    "CapacityLimiter { borrowed: 0/Infinity, waiting: 0 }",
  );
});
