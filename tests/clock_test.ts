// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §1: currentTime, sleep, checkpoint, and how they follow fake clocks.
import assert from "node:assert/strict";
import {
  CancelledError,
  CancelScope,
  checkpoint,
  currentScope,
  currentTime,
  effectiveDeadline,
  failAfter,
  moveOnAfter,
  sleep,
  TimeoutError,
} from "../mod.ts";
import { addDeadline, DeadlineEntry, pendingDeadlines } from "../concurrency/clock.ts";
import FakeTimers from "@sinonjs/fake-timers";
import { withFakeTime } from "./_fake_time.ts";
import { deferred, flushMicrotasks, state, within } from "./_helpers.ts";

const MAX_DELAY = 2 ** 31 - 1;

/**
 * A tiny double of `@std/testing/time`'s `FakeTime` (JSR is unreachable):
 * it replaces `Date` (with a subclass whose `now()` is virtual) and
 * `setTimeout`/`clearTimeout` (with a virtual queue), and leaves
 * `performance.now` real, as `FakeTime` does.
 */
class FakeTimeDouble implements Disposable {
  now: number;
  /** Every delay handed to the fake `setTimeout`. */
  readonly delays: number[] = [];
  readonly #timers = new Map<number, { at: number; seq: number; fn: () => void }>();
  #seq = 0;
  readonly #saved = {
    Date: globalThis.Date,
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
  };

  constructor(start = 1_700_000_000_000) {
    this.now = start;
    const RealDate = this.#saved.Date;
    // deno-lint-ignore no-this-alias
    const self = this;
    class FakeDate extends RealDate {
      constructor(...args: [] | [string | number | Date]) {
        super(args.length === 0 ? self.now : args[0]);
      }
      static override now(): number {
        return self.now;
      }
    }
    globalThis.Date = FakeDate as DateConstructor;
    globalThis.setTimeout = ((fn: (...a: unknown[]) => void, delay = 0, ...args: unknown[]) => {
      const d = Number(delay) || 0;
      this.delays.push(d);
      const id = ++this.#seq;
      this.#timers.set(id, { at: this.now + Math.max(0, d), seq: id, fn: () => fn(...args) });
      return id;
    }) as unknown as typeof setTimeout;
    globalThis.clearTimeout = ((id?: number) => {
      if (id !== undefined) this.#timers.delete(id);
    }) as unknown as typeof clearTimeout;
  }

  /** Number of pending fake timers. */
  get pending(): number {
    return this.#timers.size;
  }

  #next(limit: number): [number, { at: number; fn: () => void }] | undefined {
    let best: [number, { at: number; seq: number; fn: () => void }] | undefined;
    for (const entry of this.#timers) {
      const t = entry[1];
      if (t.at > limit) continue;
      if (best === undefined || t.at < best[1].at || (t.at === best[1].at && t.seq < best[1].seq)) {
        best = entry;
      }
    }
    return best;
  }

  /** Advances virtual time by `ms`, running due timers (and microtasks between them). */
  async tickAsync(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.#next(target);
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.now = Math.max(this.now, next[1].at);
      next[1].fn();
    }
    this.now = target;
    await flushMicrotasks();
  }

  [Symbol.dispose](): void {
    globalThis.Date = this.#saved.Date;
    globalThis.setTimeout = this.#saved.setTimeout;
    globalThis.clearTimeout = this.#saved.clearTimeout;
  }
}

// ---------------------------------------------------------------- currentTime

Deno.test("currentTime never goes backwards", () => {
  let last = currentTime();
  for (let i = 0; i < 10_000; i++) {
    const t = currentTime();
    assert.ok(t >= last);
    last = t;
  }
});

Deno.test("currentTime advances with real time, in milliseconds", async () => {
  const start = currentTime();
  await new Promise((r) => setTimeout(r, 20));
  const elapsed = currentTime() - start;
  assert.ok(elapsed >= 15 && elapsed < 1_000, `elapsed ${elapsed}`);
});

Deno.test("currentTime follows @sinonjs/fake-timers", async () => {
  await withFakeTime(async (clock) => {
    const start = currentTime();
    await clock.tickAsync(12_345);
    assert.equal(currentTime() - start, 12_345);
  });
});

Deno.test("currentTime follows a FakeTime-like clock that fakes Date but not performance.now", async () => {
  using time = new FakeTimeDouble();
  assert.equal(currentTime(), time.now);
  await time.tickAsync(5_000);
  assert.equal(currentTime(), time.now);
});

// ---------------------------------------------------------------------- sleep

Deno.test("sleep resolves after the given time", async () => {
  const start = currentTime();
  await sleep(15);
  assert.ok(currentTime() - start >= 14);
});

Deno.test("sleep(0) resolves after a macrotask turn", async () => {
  let timerRan = false;
  setTimeout(() => (timerRan = true), 0);
  await sleep(0);
  assert.equal(timerRan, true);
});

Deno.test("sleep resolves exactly when the virtual time reaches its end", async () => {
  await withFakeTime(async (clock) => {
    const p = sleep(60_000);
    await clock.tickAsync(59_999);
    assert.equal(await state(p), "pending");
    await clock.tickAsync(1);
    assert.equal(await state(p), "fulfilled");
  });
});

Deno.test("concurrent sleeps resolve in the order of their ends", async () => {
  await withFakeTime(async (clock) => {
    const order: number[] = [];
    const all = Promise.all(
      [300, 100, 200, 100].map((ms, i) => sleep(ms).then(() => order.push(i))),
    );
    await clock.tickAsync(300);
    await all;
    assert.deepEqual(order, [1, 3, 2, 0]);
  });
});

Deno.test("sleep follows a FakeTime-like clock", async () => {
  using time = new FakeTimeDouble();
  const p = sleep(10_000);
  await time.tickAsync(9_999);
  assert.equal(await state(p), "pending");
  await time.tickAsync(1);
  assert.equal(await state(p), "fulfilled");
});

Deno.test("sleep creates its timer through the setTimeout installed at the time of the call", async () => {
  using time = new FakeTimeDouble();
  const p = sleep(1_000);
  assert.ok(time.pending >= 1);
  await time.tickAsync(1_000);
  await p;
});

Deno.test("a sleep longer than 2^31-1 ms is split into timers the runtime accepts", async () => {
  using time = new FakeTimeDouble();
  const ms = MAX_DELAY * 2 + 5_000;
  const p = sleep(ms);
  await time.tickAsync(ms - 1);
  assert.equal(await state(p), "pending");
  await time.tickAsync(1);
  assert.equal(await state(p), "fulfilled");
  assert.ok(time.delays.length >= 3, `delays ${time.delays}`);
  for (const d of time.delays) assert.ok(d <= MAX_DELAY, `delay ${d}`);
});

/**
 * Makes the installed `setTimeout` throw on a delay the runtime would not
 * accept (sinon would run it after 1 ms, so an unsplit delay spins instead of
 * failing).
 */
function rejectLongDelays(): Disposable {
  const installed = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, delay?: number) => {
    if ((delay ?? 0) > MAX_DELAY) throw new RangeError(`setTimeout delay ${delay} > 2^31-1`);
    return installed(fn, delay);
  }) as unknown as typeof setTimeout;
  return { [Symbol.dispose]: () => void (globalThis.setTimeout = installed) };
}

Deno.test("a sleep longer than 2^31-1 ms ends on time under @sinonjs/fake-timers", async () => {
  await withFakeTime(async (clock) => {
    using _guard = rejectLongDelays();
    const ms = MAX_DELAY + 10_000;
    const p = sleep(ms);
    await clock.tickAsync(ms - 1);
    assert.equal(await state(p), "pending");
    await clock.tickAsync(1);
    assert.equal(await state(p), "fulfilled");
  });
});

Deno.test("sleep(Infinity) waits until its scope is cancelled", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope();
    let woke = false;
    const run = scope.run(async () => {
      await sleep(Infinity);
      woke = true;
    });
    await clock.tickAsync(MAX_DELAY * 3);
    assert.equal(await state(run), "pending");
    scope.cancel();
    await clock.tickAsync(0);
    assert.equal(await run, undefined);
    assert.equal(woke, false);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("sleep(Infinity) waits until its signal aborts", async () => {
  const controller = new AbortController();
  const p = sleep(Infinity, { signal: controller.signal });
  assert.equal(await state(p), "pending");
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(p, (err) => err === reason);
});

Deno.test("sleep rejects with the signal's reason when the signal aborts", async () => {
  await withFakeTime(async (clock) => {
    const controller = new AbortController();
    const p = sleep(10_000, { signal: controller.signal });
    const check = assert.rejects(p, (err) => err === controller.signal.reason);
    await clock.tickAsync(10);
    controller.abort();
    await check;
    assert.equal(clock.countTimers(), 0, "the sleep's timer was cleared");
  });
});

Deno.test("sleep rejects at once when its signal has already aborted", async () => {
  const reason = new CancelledError("already");
  const p = sleep(10_000, { signal: AbortSignal.abort(reason) });
  assert.equal(await state(p), "rejected");
  await assert.rejects(p, (err) => err === reason);
});

Deno.test("a sleep that ended no longer listens to its signal", async () => {
  const controller = new AbortController();
  await sleep(1, { signal: controller.signal });
  controller.abort();
  // Nothing to observe but the absence of an unhandled rejection; and a new
  // sleep on the aborted signal rejects.
  await assert.rejects(sleep(1, { signal: controller.signal }), (err) => isAbort(err));
});

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

Deno.test("sleep rejects with the scope's reason when the ambient scope is cancelled", async () => {
  await withFakeTime(async (clock) => {
    const scope = new CancelScope();
    let caught: unknown;
    const run = scope.run(async () => {
      try {
        await sleep(10_000);
      } catch (err) {
        caught = err;
        throw err;
      }
    });
    await clock.tickAsync(100);
    scope.cancel("enough");
    await clock.tickAsync(0);
    await run;
    assert.ok(caught instanceof CancelledError);
    assert.equal(caught, scope.signal.reason);
    assert.equal(clock.countTimers(), 0, "the sleep's timer was cleared");
  });
});

Deno.test("sleep rejects with a TypeError naming 'ms' and the value when ms is not a number", async () => {
  const cases: [unknown, string][] = [["10", '"10"'], [undefined, "undefined"], [null, "null"], [
    10n,
    "10n",
  ]];
  for (const [bad, shown] of cases) {
    await assert.rejects(
      sleep(bad as never),
      (err: unknown) =>
        err instanceof TypeError && /'ms'/.test(err.message) && err.message.includes(shown),
      `ms = ${String(bad)}`,
    );
  }
});

Deno.test("sleep rejects with a RangeError naming 'ms' and the value when ms is negative or NaN", async () => {
  for (const bad of [-1, -Infinity, NaN]) {
    await assert.rejects(
      sleep(bad),
      (err: unknown) =>
        err instanceof RangeError && /'ms'/.test(err.message) && err.message.includes(String(bad)),
      `ms = ${bad}`,
    );
  }
});

Deno.test("sleep rejects with a TypeError naming the option when signal or options are wrong", async () => {
  await assert.rejects(
    sleep(1, { signal: "nope" as never }),
    (err: unknown) => err instanceof TypeError && /'signal'/.test(err.message),
  );
  await assert.rejects(
    sleep(1, 5 as never),
    (err: unknown) => err instanceof TypeError && /'options'/.test(err.message),
  );
});

// ----------------------------------------------------------------- checkpoint

Deno.test("checkpoint yields one macrotask turn", async () => {
  let timerRan = false;
  setTimeout(() => (timerRan = true), 0);
  await checkpoint();
  assert.equal(timerRan, true);
});

Deno.test("checkpoint waits for a timer, not only for microtasks", async () => {
  const p = checkpoint();
  assert.equal(await state(p), "pending");
  await p;
});

Deno.test("checkpoint goes through the setTimeout installed at the time of the call", async () => {
  using time = new FakeTimeDouble();
  const p = checkpoint();
  assert.equal(time.delays.at(-1), 0);
  assert.equal(await state(p), "pending");
  await time.tickAsync(0);
  assert.equal(await state(p), "fulfilled");
});

Deno.test("checkpoint rejects at once inside a cancelled scope", async () => {
  const scope = new CancelScope();
  let result: string | undefined;
  await scope.run(async () => {
    scope.cancel();
    const p = checkpoint();
    result = await state(p);
    await p.catch((err) => assert.equal(err, scope.signal.reason));
  });
  assert.equal(result, "rejected");
});

Deno.test("checkpoint rejects when the scope is cancelled while it waits", async () => {
  const scope = new CancelScope();
  let caught: unknown;
  await scope.run(async () => {
    const p = checkpoint();
    scope.cancel();
    await p.catch((err) => (caught = err));
  });
  assert.ok(caught instanceof CancelledError);
  assert.equal(caught, scope.signal.reason);
});

Deno.test("a CPU-bound loop with checkpoints lets its deadline cancel it", async () => {
  let iterations = 0;
  await assert.rejects(
    failAfter(20, async () => {
      for (;;) {
        const end = performance.now() + 1;
        while (performance.now() < end) iterations++;
        await checkpoint();
      }
    }),
    TimeoutError,
  );
  assert.ok(iterations > 0);
});

// -------------------------------------------------- level-triggered cancellation

Deno.test("after a cancel, every later sleep and checkpoint of the scope rejects at once", async () => {
  const scope = new CancelScope();
  const outcomes: string[] = [];
  await scope.run(async () => {
    scope.cancel();
    for (let i = 0; i < 3; i++) {
      outcomes.push(await state(sleep(10_000)));
      outcomes.push(await state(checkpoint()));
      outcomes.push(await state(sleep(0)));
      outcomes.push(await state(sleep(Infinity)));
    }
  });
  assert.deepEqual(outcomes, Array(12).fill("rejected"));
});

Deno.test("cancellation of a scope reaches sleeps in nested unshielded scopes", async () => {
  const outer = new CancelScope();
  let inner: string | undefined;
  await outer.run(async () => {
    await new CancelScope().run(async () => {
      outer.cancel();
      inner = await state(sleep(10_000));
    }).catch(() => {});
  });
  assert.equal(inner, "rejected");
});

// ----------------------------------------------------- deadlines on a fake clock

Deno.test("scope deadlines follow a FakeTime-like clock", async () => {
  using time = new FakeTimeDouble();
  const scope = new CancelScope({ deadline: currentTime() + 30_000 });
  const run = scope.run(() => sleep(60_000));
  await time.tickAsync(29_999);
  assert.equal(scope.cancelCalled, false);
  await time.tickAsync(1);
  assert.equal(scope.cancelCalled, true);
  assert.equal(scope.signal.aborted, true);
  await time.tickAsync(0);
  assert.equal(await run, undefined);
  assert.equal(time.pending, 0);
});

Deno.test("failAfter times out on a FakeTime-like clock", async () => {
  using time = new FakeTimeDouble();
  const p = failAfter(5_000, () => sleep(10_000));
  const check = assert.rejects(p, TimeoutError);
  await time.tickAsync(5_000);
  await check;
});

Deno.test("effectiveDeadline is on the FakeTime-like clock", async () => {
  using time = new FakeTimeDouble();
  let seen = NaN;
  await moveOnAfter(1_000, () => {
    seen = effectiveDeadline();
  });
  assert.equal(seen, time.now + 1_000);
});

Deno.test("a scope deadline further than 2^31-1 ms away is split and hit on time", async () => {
  await withFakeTime(async (clock) => {
    using _guard = rejectLongDelays();
    const ms = MAX_DELAY * 2;
    const p = moveOnAfter(ms, async () => {
      await sleep(Infinity);
      return "woke";
    });
    await clock.tickAsync(ms - 1);
    assert.equal(await state(p), "pending");
    await clock.tickAsync(1);
    await clock.tickAsync(0);
    assert.equal(await state(p), "fulfilled");
    assert.equal(await p, undefined);
  });
});

Deno.test("a timer armed under the real clock does not stop deadlines on a fake clock", async () => {
  // A sleep pending on the real clock while a fake clock is installed: the
  // fake clock's deadlines must still get a fake timer, even when they come
  // after the real one.
  const controller = new AbortController();
  const real = sleep(60_000, { signal: controller.signal });
  real.catch(() => {});
  await sleep(1); // let the real timer be armed
  try {
    using time = new FakeTimeDouble(0);
    const ms = Math.ceil(performance.now()) + 120_000;
    const p = sleep(ms);
    await time.tickAsync(ms);
    assert.equal(await state(p), "fulfilled");
  } finally {
    controller.abort();
  }
});

// ------------------------------------------------------------ the deadline heap

Deno.test("an abort listener run by a passing deadline sees no ambient scope", async () => {
  let seen: unknown = "not called";
  await new CancelScope().run(() =>
    moveOnAfter(5, (scope) => {
      scope.signal.addEventListener("abort", () => (seen = currentScope()));
      return sleep(1_000);
    })
  );
  assert.equal(seen, undefined);
});

Deno.test("a deadline whose expiry throws does not stop the deadlines after it", async () => {
  await withFakeTime(async (clock) => {
    class Throwing extends DeadlineEntry {
      expire(): void {
        throw new Error("expiry failed");
      }
    }
    const entry = new Throwing();
    entry.deadline = 100;
    addDeadline(entry);
    const p = sleep(200);
    await assert.rejects(clock.tickAsync(100), /expiry failed/);
    await clock.tickAsync(100);
    assert.equal(await state(p), "fulfilled");
    assert.equal(pendingDeadlines(), 0);
  });
});

Deno.test("deadlines that pass at the same time all expire in one turn", async () => {
  await withFakeTime(async (clock) => {
    const sleeps = [sleep(100), sleep(100), sleep(100)];
    const scope = new CancelScope({ deadline: 100 });
    const run = scope.run(() => sleep(1_000));
    await clock.tickAsync(100);
    for (const p of sleeps) assert.equal(await state(p), "fulfilled");
    assert.equal(scope.cancelCalled, true);
    await clock.tickAsync(1);
    await run;
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("deadlines that pass at the same time expire in the order they were set", async () => {
  await withFakeTime(async (clock) => {
    const woke: number[] = [];
    const sleeps = [1, 2, 3, 4, 5, 6].map((n) => sleep(20).then(() => woke.push(n)));
    await clock.tickAsync(20);
    await Promise.all(sleeps);
    assert.deepEqual(woke, [1, 2, 3, 4, 5, 6]);
  });
});

// ------------------------------------------------- real and fake clocks together

Deno.test("a real deadline still fires after a fake clock came and went inside its scope", async () => {
  const ignored = deferred();
  let id: ReturnType<typeof setTimeout> | undefined;
  const start = performance.now();
  const p = failAfter(30, async () => {
    const clock = FakeTimers.install();
    try {
      const nap = sleep(10);
      await clock.tickAsync(10);
      await nap;
    } finally {
      clock.uninstall();
    }
    id = setTimeout(ignored.resolve, 300);
    await ignored.promise; // ignores the signal
    return "body finished";
  });
  try {
    await assert.rejects(p, TimeoutError);
    assert.ok(performance.now() - start < 250, `settled after ${performance.now() - start} ms`);
  } finally {
    clearTimeout(id);
    ignored.resolve();
  }
});

Deno.test("installing an epoch-based fake clock does not expire pending real deadlines", async () => {
  const value = await failAfter(10_000, async (guard) => {
    const clock = FakeTimers.install({ now: Date.now() });
    try {
      const nap = sleep(10);
      await clock.tickAsync(10);
      await nap;
      assert.equal(guard.signal.aborted, false);
    } finally {
      clock.uninstall();
    }
    return "guarded";
  });
  assert.equal(value, "guarded");
});

Deno.test("a FakeTime-like clock (epoch Date, real performance.now) leaves real deadlines alone", async () => {
  const value = await failAfter(10_000, async (guard) => {
    {
      using time = new FakeTimeDouble(Date.now());
      const nap = sleep(10);
      await time.tickAsync(10);
      await nap;
      assert.equal(guard.signal.aborted, false);
      assert.equal(await state(moveOnAfter(5, () => sleep(100))), "pending");
      await time.tickAsync(5);
    }
    return "guarded";
  });
  assert.equal(value, "guarded");
});

Deno.test("a deadline read on a fake clock is judged on that clock, not on the real one", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    // Real performance.now() is far past 0 + 50: only the fake clock decides.
    const p = moveOnAfter(50, () => sleep(Infinity));
    await clock.tickAsync(49);
    assert.equal(await state(p), "pending");
    await clock.tickAsync(1);
    await clock.tickAsync(0);
    assert.equal(await state(p), "fulfilled");
  } finally {
    clock.uninstall();
  }
});

Deno.test("a real deadline whose timer went to a setTimeout-only fake gets a real timer back when a wait ends", async () => {
  const ignored = deferred();
  let id: ReturnType<typeof setTimeout> | undefined;
  const start = performance.now();
  const p = failAfter(30, async () => {
    const other = new AbortController();
    const unrelated = sleep(10_000, { signal: other.signal }).catch(() => "aborted");
    const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout"] });
    const nap = sleep(5); // earlier than the deadline: the real clock re-arms through the fake
    await flushMicrotasks();
    clock.uninstall(); // the timer goes with it
    other.abort(); // a wait that ends takes its deadline out of the heap
    await unrelated;
    await nap;
    id = setTimeout(ignored.resolve, 300);
    await ignored.promise; // ignores the signal
  });
  try {
    await assert.rejects(within(p, 1_000, "failAfter(30)"), TimeoutError);
    assert.ok(performance.now() - start < 250, `settled after ${performance.now() - start} ms`);
  } finally {
    clearTimeout(id);
    ignored.resolve();
  }
});
