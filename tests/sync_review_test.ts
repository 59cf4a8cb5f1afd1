// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Review of the in-process synchronisation primitives (API.md §5, §6):
 * borrowers of a CapacityLimiter, cancellation (signal, scope, deadline) at
 * every turn of every blocking call, and reference models of the parts the
 * earlier property tests leave out.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CancelScope,
  CapacityLimiter,
  Condition,
  Event,
  isCancelled,
  Lock,
  moveOnAfter,
  type Permit,
  PriorityQueue,
  Queue,
  QueueClosed,
  QueueEmpty,
  QueueFull,
  retry,
  Semaphore,
  sleep,
} from "../mod.ts";
import { Fifo } from "../concurrency/_fifo.ts";
import { RingBuffer } from "../concurrency/_queue_store.ts";
import { type FakeClock, withFakeTime } from "./_fake_time.ts";
import { flush, track, type Tracked } from "./_helpers.ts";

// --------------------------------------------------------------------------
// Borrowers: a borrower stops waiting the moment its wait is cancelled.

Deno.test("a borrower whose wait was just aborted may acquire again at once", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  const first = track(limiter.acquireOnBehalfOf("b", { signal: controller.signal }));
  await flush();
  controller.abort(new Error("abort"));
  assert.equal(limiter.waiting, 0);
  // Same tick: the first wait is over, so "b" neither holds nor waits for a token.
  const again = track(limiter.acquireOnBehalfOf("b"));
  await flush();
  assert.equal(first.rejected, true);
  assert.equal(again.rejected, false, String(again.error));
  assert.equal(limiter.waiting, 1);
  held.release();
  await flush();
  assert.equal(again.settled, true);
  limiter.releaseOnBehalfOf("b");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("a borrower whose wait was just cancelled by its scope may acquire again at once", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const scope = new CancelScope();
  const run = scope.run(() => limiter.acquireOnBehalfOf("b"));
  await flush();
  scope.cancel();
  const again = track(limiter.acquireOnBehalfOf("b"));
  await flush();
  assert.equal(again.rejected, false, String(again.error));
  held.release();
  await flush();
  assert.equal(again.settled, true);
  limiter.releaseOnBehalfOf("b");
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(await run, undefined);
});

Deno.test("a borrower aborted as it is handed a token may acquire again as soon as the token passed on", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  const first = track(limiter.acquireOnBehalfOf("b", { signal: controller.signal }));
  await flush();
  held.release(); // handed to "b"...
  controller.abort(); // ...which is cancelled before it resumes
  await Promise.resolve(); // the hand-off job ran: the token is free again
  assert.equal(limiter.borrowedTokens, 0);
  const again = track(limiter.acquireOnBehalfOf("b"));
  await flush();
  assert.equal(first.rejected, true);
  assert.equal(again.rejected, false, String(again.error));
  assert.equal(again.settled, true);
  limiter.releaseOnBehalfOf("b");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("borrowers and anonymous waiters granted together resume in arrival order", async () => {
  for (const signal of [undefined, new AbortController().signal]) {
    const limiter = new CapacityLimiter(1);
    const holder = limiter.tryAcquire()!;
    const order: string[] = [];
    const calls = [
      limiter.acquireOnBehalfOf("b1", { signal }).then(() => order.push("b1")),
      limiter.acquire({ signal }).then(() => order.push("anonymous")),
      limiter.acquireOnBehalfOf("b2", { signal }).then(() => order.push("b2")),
    ];
    await flush();
    limiter.totalTokens = 4; // one token for each, handed in arrival order
    await Promise.all(calls);
    assert.deepEqual(order, ["b1", "anonymous", "b2"], `signal: ${signal !== undefined}`);
    holder.release();
    limiter.release();
    limiter.releaseOnBehalfOf("b1");
    limiter.releaseOnBehalfOf("b2");
    assert.equal(limiter.borrowedTokens, 0);
  }
});

// --------------------------------------------------------------------------
// release(): a token just handed to a waiter is held (borrowedTokens counts
// it), so release() gives it back whether or not the waiter can be cancelled.

for (const cancellable of [false, true]) {
  Deno.test(
    `release() gives back an anonymous token handed to a waiter ${
      cancellable ? "that can be cancelled" : "nothing can cancel"
    } before it resumes`,
    async () => {
      const limiter = new CapacityLimiter(1);
      const holder = limiter.tryAcquire()!;
      const signal = cancellable ? new AbortController().signal : undefined;
      const waiter = track(limiter.acquire({ signal }));
      const next = track(limiter.acquire());
      await flush();
      holder.release(); // handed to `waiter`, which has not resumed
      assert.equal(limiter.borrowedTokens, 1);
      limiter.release(); // the one token taken by acquire: `waiter`'s
      assert.equal(limiter.borrowedTokens, 1, "the token went on to the next waiter");
      await flush();
      assert.ok(waiter.settled && !waiter.rejected, "the waiter resumes all the same");
      assert.ok(next.settled && !next.rejected);
      limiter.release(); // next's token
      assert.equal(limiter.borrowedTokens, 0);
      waiter.value!.release(); // its token is back already: nothing left to release
      next.value!.release();
      assert.equal(limiter.borrowedTokens, 0);
      assert.equal(limiter.availableTokens, 1);
      assert.throws(
        () => limiter.release(),
        /no token taken by acquire\(\) or tryAcquire\(\) is held/,
      );
    },
  );
}

Deno.test("a waiter cancelled after release() gave back the token it was handed gives back nothing more", async () => {
  const limiter = new CapacityLimiter(2);
  const holders = [limiter.tryAcquire()!, limiter.tryAcquire()!];
  const controller = new AbortController();
  const waiter = track(limiter.acquire({ signal: controller.signal }));
  const next = track(limiter.acquire());
  await flush();
  holders[0].release(); // handed to `waiter`
  limiter.release(); // gives back holders[1]'s token (to `next`)
  limiter.release(); // gives back `waiter`'s token
  controller.abort(); // `waiter` is cancelled before it resumes
  await flush();
  assert.ok(waiter.rejected);
  assert.ok(next.settled && !next.rejected);
  assert.equal(limiter.borrowedTokens, 1, "only next holds a token");
  assert.equal(limiter.availableTokens, 1);
  next.value!.release();
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(limiter.availableTokens, 2);
});

// --------------------------------------------------------------------------
// Lock.release() in the tick the lock was handed to a waiter throws (the
// lock is "being handed to the next waiter"), whether or not the waiter can
// be cancelled; it used to unlock the new holder when nothing could cancel
// it, and two callers then held the lock at once.

for (const cancellable of [false, true]) {
  Deno.test(
    `Lock.release() while the lock is handed to a waiter ${
      cancellable ? "that can be cancelled" : "nothing can cancel"
    } throws, and the lock stays exclusive`,
    async () => {
      const lock = new Lock();
      const first = lock.tryAcquire()!;
      const signal = cancellable ? new AbortController().signal : undefined;
      let holders = 1, most = 1;
      const hold = async (): Promise<void> => {
        const permit = await lock.acquire({ signal });
        most = Math.max(most, ++holders);
        await flush(3);
        holders--;
        permit.release();
      };
      const waiters = [hold(), hold()];
      await flush();
      first.release();
      holders--;
      assert.throws(() => lock.release(), /being handed to the next waiter/);
      await Promise.all(waiters);
      assert.equal(most, 1, "one holder at a time");
      assert.equal(lock.locked(), false);
    },
  );
}

// --------------------------------------------------------------------------
// Waits sharing one signal. Every runtime's EventTarget scans a signal's
// listeners to add or remove one, so a listener per waiter made N waits on
// one signal cost O(N²) (40,000 limiter waiters on one signal took ~10 s to
// queue). They share one listener, so a wait stays O(1).

/** Counts the abort listeners live on `signal`. */
function countListeners(signal: AbortSignal): { live: number; most: number } {
  const count = { live: 0, most: 0 };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  const listeners = new Set<unknown>();
  signal.addEventListener = (type: string, listener: unknown, options?: unknown) => {
    if (type === "abort" && !listeners.has(listener)) {
      listeners.add(listener);
      count.most = Math.max(count.most, ++count.live);
    }
    add(type, listener as EventListener, options as AddEventListenerOptions);
  };
  signal.removeEventListener = (type: string, listener: unknown, options?: unknown) => {
    if (type === "abort" && listeners.delete(listener)) count.live--;
    remove(type, listener as EventListener, options as EventListenerOptions);
  };
  return count;
}

Deno.test("waits sharing one signal keep one listener on it, and none once they end", async () => {
  const controller = new AbortController();
  const count = countListeners(controller.signal);
  const signal = controller.signal;
  const limiter = new CapacityLimiter(1);
  const queue = new Queue<number>();
  const event = new Event();
  const holder = limiter.tryAcquire()!;
  const granted = Array.from({ length: 50 }, () => limiter.acquire({ signal }));
  const got = Array.from({ length: 50 }, () => queue.get({ signal }));
  const waits = Array.from({ length: 50 }, () => event.wait({ signal }));
  assert.equal(count.most, 1, "one listener for 150 waits");
  holder.release();
  for (const permit of granted) (await permit).release();
  for (let i = 0; i < 50; i++) queue.putNowait(i);
  assert.deepEqual(await Promise.all(got), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(count.live, 1, "the event's waiters still listen");
  controller.abort();
  for (const wait of waits) await assert.rejects(wait, (e) => isCancelled(e));
  assert.equal(count.live, 0);
  assert.equal(count.most, 1);
  assert.equal(event.statistics().tasksWaiting, 0);
});

Deno.test("sleeps, waits and retry calls sharing one signal keep one listener on it, told in arrival order", async () => {
  const controller = new AbortController();
  const count = countListeners(controller.signal);
  const { signal } = controller;
  const limiter = new CapacityLimiter(1);
  limiter.tryAcquire();
  const order: string[] = [];
  const note = (name: string) => (err: unknown) => {
    assert.ok(isCancelled(err), String(err));
    order.push(name);
  };
  const ends = [];
  for (let i = 0; i < 20; i++) {
    ends.push(sleep(10_000, { signal }).catch(note(`sleep ${i}`)));
    ends.push(limiter.acquire({ signal }).catch(note(`acquire ${i}`)));
    ends.push(retry(() => sleep(10_000), { signal }).catch(note(`retry ${i}`)));
  }
  assert.equal(count.most, 1, "one listener for 60 sleeps, waits and retry calls");
  controller.abort();
  await Promise.all(ends);
  assert.equal(count.live, 0);
  const expected = Array.from(
    { length: 20 },
    (_, i) => [`sleep ${i}`, `acquire ${i}`, `retry ${i}`],
  );
  // A retry call settles a few turns after its scope is cancelled; sleeps and
  // waits reject at once, in the order they began.
  assert.deepEqual(
    order.filter((n) => !n.startsWith("retry")),
    expected.flat().filter((n) => !n.startsWith("retry")),
  );
  assert.deepEqual(order.filter((n) => n.startsWith("retry")), expected.map((e) => e[2]));
});

Deno.test("a signal shared by waits that end one by one keeps no listener once the last ended", async () => {
  const controller = new AbortController();
  const count = countListeners(controller.signal);
  const limiter = new CapacityLimiter(1);
  for (let round = 0; round < 3; round++) {
    const holder = limiter.tryAcquire()!;
    const a = limiter.acquire({ signal: controller.signal });
    const b = limiter.acquire({ signal: controller.signal });
    holder.release();
    (await a).release();
    (await b).release();
    assert.equal(count.live, 0, `round ${round}`);
  }
  assert.equal(count.most, 1);
});

Deno.test("an abort cancels every wait on its signal in arrival order, across primitives", async () => {
  const controller = new AbortController();
  const { signal } = controller;
  const limiter = new CapacityLimiter(1);
  limiter.tryAcquire();
  const queue = new Queue<number>();
  const order: string[] = [];
  const note = (name: string) => (err: unknown) => {
    assert.ok(isCancelled(err));
    order.push(name);
  };
  limiter.acquire({ signal }).catch(note("limiter 1"));
  queue.get({ signal }).catch(note("queue"));
  limiter.acquire({ signal }).catch(note("limiter 2"));
  controller.abort();
  assert.equal(limiter.waiting, 0);
  assert.equal(queue.statistics().tasksWaitingGet, 0);
  await flush();
  assert.deepEqual(order, ["limiter 1", "queue", "limiter 2"]);
});

Deno.test("waits on a signal that takes no new property are shared and cancelled all the same", async () => {
  const controller = new AbortController();
  controller.signal.addEventListener("abort", () => {}); // the runtime's own state, made now
  Object.preventExtensions(controller.signal);
  const limiter = new CapacityLimiter(1);
  const holder = limiter.tryAcquire()!;
  const first = limiter.acquire({ signal: controller.signal });
  const second = track(limiter.acquire({ signal: controller.signal }));
  holder.release();
  (await first).release();
  await flush();
  assert.ok(second.settled && !second.rejected);
  second.value!.release();
  const third = limiter.acquire({ signal: controller.signal }); // granted at once
  const fourth = limiter.acquire({ signal: controller.signal });
  const fifth = limiter.acquire({ signal: controller.signal });
  assert.equal(limiter.waiting, 2);
  controller.abort();
  assert.equal(limiter.waiting, 0);
  await assert.rejects(fourth, (e) => isCancelled(e));
  await assert.rejects(fifth, (e) => isCancelled(e));
  (await third).release();
  assert.equal(limiter.borrowedTokens, 0);
});

// --------------------------------------------------------------------------
// Cancellation at every turn of every blocking call. Call A (cancellable)
// waits, call B (nothing can cancel it) waits behind it; `grant` hands A
// what it waits for; A is cancelled by its signal, its scope or its scope's
// deadline, before the grant, in the same tick, or 1…24 promise turns after
// it. Whatever the turn: A either completed or rejected with the
// cancellation, never both; a cancellation in the same tick as the grant
// always wins; what A did not take went to B; nothing was lost or made twice.

type CancelKind = "signal" | "scope" | "deadline";

/** One blocking call under review, on a fresh primitive. */
interface Subject {
  /** Starts A (with `signal` when cancelled by one). */
  a(signal: AbortSignal | undefined): Promise<unknown>;
  /** Starts B, which queues behind A. */
  b(): Promise<unknown>;
  /** Hands A (the first in line) what it waits for, synchronously. */
  grant(): void;
  /**
   * Once A settled and every promise turn ran: checks that what A did not
   * take went to B and nothing was lost, then ends B and checks the
   * primitive is back at rest.
   */
  settle(a: Tracked<unknown>, b: Tracked<unknown>): Promise<void>;
}

const done = (t: Tracked<unknown>): boolean => t.settled && !t.rejected;

/** A token-like primitive: `take` waits, `value.release()` gives back. */
/** A Semaphore granted by release(), bounded by `maxValue` or not. */
function semaphoreSubject(maxValue: number | undefined): () => Subject {
  return tokenSubject(() => {
    const sem = new Semaphore(0, maxValue === undefined ? {} : { maxValue });
    let released = 0;
    return {
      take: async (signal) => {
        const permit = await sem.acquire({ signal });
        return { release: () => (released++, permit.release()), [Symbol.dispose]() {} };
      },
      grant: () => sem.release(),
      held: () => 1 - sem.value - released,
      atRest() {
        assert.equal(sem.value, 1);
        assert.equal(sem.waiting, 0);
        // Bounded, it refuses a release past maxValue.
        if (maxValue !== undefined) assert.throws(() => sem.release(), RangeError);
      },
    };
  });
}

function tokenSubject(
  make: () => {
    take(signal?: AbortSignal): Promise<Permit>;
    grant(): void;
    atRest(): void;
    /** Tokens held now (A's and B's, in hand-off or not). */
    held(): number;
  },
): () => Subject {
  return () => {
    const p = make();
    return {
      a: (signal) => p.take(signal),
      b: () => p.take(),
      grant: p.grant,
      async settle(a, b) {
        assert.equal(p.held(), 1, "the one token granted is held once");
        if (done(a)) {
          assert.equal(b.settled, false, "B waits while A holds the token");
          (a.value as Permit).release();
          await flush(30);
        }
        assert.ok(done(b), `B got the token (${b.error})`);
        (b.value as Permit).release();
        await flush(30);
        p.atRest();
      },
    };
  };
}

const subjects: Record<string, () => Subject> = {
  "CapacityLimiter.acquire": tokenSubject(() => {
    const limiter = new CapacityLimiter(1);
    const holder = limiter.tryAcquire()!;
    return {
      take: (signal) => limiter.acquire({ signal }),
      grant: () => holder.release(),
      held: () => limiter.borrowedTokens,
      atRest() {
        assert.deepEqual(limiter.statistics(), {
          borrowedTokens: 0,
          totalTokens: 1,
          tasksWaiting: 0,
        });
        assert.notEqual(limiter.tryAcquire(), undefined);
      },
    };
  }),
  "CapacityLimiter.acquire, granted by raising totalTokens": tokenSubject(() => {
    const limiter = new CapacityLimiter(1);
    const holder = limiter.tryAcquire()!;
    return {
      take: (signal) => limiter.acquire({ signal }),
      grant: () => (limiter.totalTokens = 2),
      held: () => limiter.borrowedTokens - 1,
      atRest() {
        holder.release();
        assert.equal(limiter.borrowedTokens, 0);
        assert.equal(limiter.availableTokens, 2);
        assert.equal(limiter.waiting, 0);
      },
    };
  }),
  "CapacityLimiter.acquireOnBehalfOf": () => {
    const limiter = new CapacityLimiter(1);
    const holder = limiter.tryAcquire()!;
    return {
      a: (signal) => limiter.acquireOnBehalfOf("a", { signal }),
      b: () => limiter.acquireOnBehalfOf("b"),
      grant: () => holder.release(),
      async settle(a, b) {
        assert.equal(limiter.borrowedTokens, 1);
        if (done(a)) {
          assert.equal(b.settled, false);
          limiter.releaseOnBehalfOf("a");
          await flush(30);
        } else {
          assert.throws(() => limiter.releaseOnBehalfOf("a"), /holds no token/);
        }
        assert.ok(done(b), `B got the token (${b.error})`);
        limiter.releaseOnBehalfOf("b");
        const again = await limiter.acquireOnBehalfOf("a");
        again.release();
        assert.equal(limiter.borrowedTokens, 0);
        assert.equal(limiter.waiting, 0);
      },
    };
  },
  "CapacityLimiter.use": () => {
    const limiter = new CapacityLimiter(1);
    const holder = limiter.tryAcquire()!;
    const ran: string[] = [];
    let running = 0;
    const work = (name: string) => async () => {
      assert.equal(++running, 1, "one fn at a time");
      ran.push(name);
      await flush(3);
      running--;
    };
    return {
      a: (signal) => limiter.use(work("a"), { signal }),
      b: () => limiter.use(work("b")),
      grant: () => holder.release(),
      async settle(a, b) {
        await flush(30);
        assert.ok(done(b));
        assert.deepEqual(ran, done(a) ? ["a", "b"] : ["b"], "fn runs iff its call got the token");
        assert.equal(limiter.borrowedTokens, 0);
        assert.equal(limiter.waiting, 0);
      },
    };
  },
  "Semaphore.acquire (maxValue 1)": semaphoreSubject(1),
  "Semaphore.acquire (unbounded)": semaphoreSubject(undefined),
  "Lock.acquire": tokenSubject(() => {
    const lock = new Lock();
    const holder = lock.tryAcquire()!;
    let holders = 1;
    return {
      take: async (signal) => {
        const permit = await lock.acquire({ signal });
        holders++;
        return { release: () => (holders--, permit.release()), [Symbol.dispose]() {} };
      },
      grant: () => (holders--, holder.release()),
      held: () => holders,
      atRest() {
        assert.equal(lock.locked(), false);
        assert.deepEqual(lock.statistics(), { locked: false, tasksWaiting: 0 });
      },
    };
  }),
  "Event.wait": () => {
    const event = new Event();
    return {
      a: (signal) => event.wait({ signal }),
      b: () => event.wait(),
      grant: () => event.set(),
      settle(_a, b) {
        assert.ok(done(b), "set() wakes every waiter not cancelled");
        assert.equal(event.statistics().tasksWaiting, 0);
        return Promise.resolve();
      },
    };
  },
  "Condition.wait": () => {
    const cond = new Condition();
    const wait = async (signal?: AbortSignal): Promise<void> => {
      const permit = await cond.acquire();
      try {
        await cond.wait({ signal });
      } finally {
        assert.equal(cond.locked(), true, "wait returns or throws holding the lock");
        permit.release();
      }
    };
    return {
      a: wait,
      b: () => wait(),
      grant() {
        const permit = cond.lock.tryAcquire()!;
        cond.notify();
        permit.release();
      },
      async settle(a, b) {
        // One notification: A's, or B's once A was cancelled.
        assert.equal((done(a) ? 1 : 0) + (done(b) ? 1 : 0), 1, "one notification, one return");
        if (done(a)) {
          assert.equal(b.settled, false);
          const permit = await cond.acquire();
          cond.notify();
          permit.release();
          await flush(30);
        }
        assert.ok(done(b));
        assert.equal(cond.locked(), false);
        assert.equal(cond.statistics().tasksWaiting, 0);
      },
    };
  },
};

for (
  const [name, make] of [["Queue", () => new Queue<number>()], [
    "PriorityQueue",
    () => new PriorityQueue<number>(),
  ]] as const
) {
  subjects[`${name}.get`] = () => {
    const q = make();
    return {
      a: (signal) => q.get({ signal }),
      b: () => q.get(),
      grant: () => q.putNowait(1),
      async settle(a, b) {
        const got = [a, b].filter(done).map((t) => t.value);
        assert.deepEqual(got, [1], "the item went to exactly one call");
        assert.equal(q.size, 0);
        if (done(a)) {
          assert.equal(b.settled, false);
          q.putNowait(2);
          await flush(30);
          assert.equal(b.value, 2);
        }
        assert.equal(q.size, 0);
        assert.equal(q.statistics().tasksWaitingGet, 0);
      },
    };
  };
  subjects[`${name}.put`] = () => {
    const q = new (name === "Queue" ? Queue : PriorityQueue)<number>({ maxSize: 1 });
    q.putNowait(0);
    return {
      a: (signal) => q.put(1, { signal }),
      b: () => q.put(2),
      grant: () => assert.equal(q.getNowait(), 0),
      async settle(a, b) {
        assert.equal(q.size, 1, "the slot freed is filled once");
        const out: number[] = [];
        for (let i = 0; i < 3 && q.size > 0; i++) {
          out.push(q.getNowait());
          await flush(30);
        }
        assert.ok(done(b));
        assert.deepEqual(out, done(a) ? [1, 2] : [2], "A's item is enqueued iff A completed");
        assert.equal(q.statistics().tasksWaitingPut, 0);
      },
    };
  };
}

/**
 * Runs `subject` with A cancelled by `kind` at `turn` (-1: before the grant;
 * 0: in the same tick, after it; n: n promise turns after it).
 */
async function cancelAtTurn(
  clock: FakeClock,
  subject: Subject,
  kind: CancelKind,
  turn: number,
): Promise<"completed" | "cancelled"> {
  const where = `${kind}, turn ${turn}`;
  let a!: Tracked<unknown>;
  let cancel!: () => void;
  let run: Promise<unknown> = Promise.resolve();
  if (kind === "signal") {
    const controller = new AbortController();
    a = track(subject.a(controller.signal));
    cancel = () => controller.abort();
  } else if (kind === "scope") {
    const scope = new CancelScope();
    run = scope.run(() => {
      const call = subject.a(undefined);
      a = track(call);
      return call; // the scope must outlive the call, or the call is let go
    });
    cancel = () => scope.cancel();
  } else {
    run = moveOnAfter(10, () => {
      const call = subject.a(undefined);
      a = track(call);
      return call;
    });
    cancel = () => clock.tick(10); // the deadline fires now, synchronously
  }
  await flush(10);
  const b = track(subject.b());
  await flush(10);
  assert.equal(a.settled, false, `A waits (${where})`);
  assert.equal(b.settled, false, `B waits (${where})`);
  if (turn < 0) cancel();
  subject.grant();
  if (turn >= 0) {
    for (let i = 0; i < turn; i++) await Promise.resolve();
    cancel();
  }
  await flush(40);
  assert.ok(a.settled, `A settled (${where})`);
  if (a.rejected) assert.ok(isCancelled(a.error), `A rejected with ${a.error} (${where})`);
  if (turn <= 0) assert.equal(a.rejected, true, `a cancellation before A resumed wins (${where})`);
  try {
    await subject.settle(a, b);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
  }
  await clock.tickAsync(1);
  await run;
  return a.rejected ? "cancelled" : "completed";
}

for (const [name, make] of Object.entries(subjects)) {
  Deno.test(`${name} cancelled by signal, scope or deadline at any turn loses and duplicates nothing`, async () => {
    await withFakeTime(async (clock) => {
      for (const kind of ["signal", "scope", "deadline"] as const) {
        const outcomes = new Set<string>();
        for (let turn = -1; turn <= 24; turn++) {
          outcomes.add(await cancelAtTurn(clock, make(), kind, turn));
        }
        // The turns span the hand-off: early cancellations win, late ones come too late.
        assert.deepEqual([...outcomes].sort(), ["cancelled", "completed"], kind);
      }
    });
  });
}
// --------------------------------------------------------------------------
// CapacityLimiter with borrowers, anonymous permits and bare release(),
// against a reference model (limiter_property_test.ts leaves borrowers and
// release() out). Tokens taken by acquire/tryAcquire are interchangeable: a
// permit or release() gives one back while any is held; a borrower's token
// is its own.

type LimiterOp =
  | { type: "acquire"; borrower: number | undefined; signal: boolean }
  | { type: "tryAcquire" }
  | { type: "releasePermit"; pick: number }
  | { type: "release" }
  | { type: "releaseOnBehalfOf"; borrower: number }
  | { type: "abort"; pick: number; reborrow: boolean }
  | { type: "resize"; total: number };

const limiterOp: fc.Arbitrary<LimiterOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant("acquire" as const),
      borrower: fc.option(fc.nat(3), { nil: undefined }),
      signal: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("tryAcquire" as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant("releasePermit" as const), pick: fc.nat(30) }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("release" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant("releaseOnBehalfOf" as const), borrower: fc.nat(3) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant("abort" as const),
      pick: fc.nat(5),
      reborrow: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("resize" as const),
      total: fc.integer({ min: 1, max: 4 }),
    }),
  },
);

interface LimiterCall {
  id: number;
  borrower: string | undefined;
  state: "waiting" | "held" | "rejected";
  controller: AbortController | undefined;
  permit: Permit | undefined;
  /** The permit's release() was called. */
  released: boolean;
}

class BorrowerModel {
  free: number;
  readonly queue: LimiterCall[] = [];
  /** Tokens taken by acquire/tryAcquire and not given back. */
  anonymous = 0;
  /** Borrower → its call, waiting or holding. */
  readonly borrowers = new Map<string, LimiterCall>();
  readonly grants: number[] = [];

  constructor(public total: number) {
    this.free = total;
  }

  get held(): number {
    let borrowed = 0;
    for (const call of this.borrowers.values()) if (call.state === "held") borrowed++;
    return this.anonymous + borrowed;
  }

  #grant(call: LimiterCall): void {
    this.free--;
    call.state = "held";
    if (call.borrower === undefined) this.anonymous++;
    this.grants.push(call.id);
  }

  #wake(): void {
    while (this.free > 0 && this.queue.length > 0) this.#grant(this.queue.shift()!);
  }

  /** false if the call is refused (a borrower already holding or waiting). */
  acquire(call: LimiterCall): boolean {
    if (call.borrower !== undefined) {
      if (this.borrowers.has(call.borrower)) return false;
      this.borrowers.set(call.borrower, call);
    }
    if (this.free > 0 && this.queue.length === 0) this.#grant(call);
    else this.queue.push(call);
    return true;
  }

  tryAcquire(call: LimiterCall): boolean {
    if (!(this.free > 0 && this.queue.length === 0)) return false;
    this.#grant(call);
    return true;
  }

  #giveBack(): void {
    this.free++;
    this.#wake();
  }

  releasePermit(call: LimiterCall): void {
    if (call.released) return;
    call.released = true;
    if (call.borrower === undefined) {
      if (this.anonymous > 0) {
        this.anonymous--;
        this.#giveBack();
      }
    } else if (this.borrowers.get(call.borrower) === call) {
      this.borrowers.delete(call.borrower);
      this.#giveBack();
    }
  }

  /** false if release() must throw. */
  release(): boolean {
    if (this.anonymous === 0) return false;
    this.anonymous--;
    this.#giveBack();
    return true;
  }

  abort(call: LimiterCall): void {
    const at = this.queue.indexOf(call);
    if (at < 0) return;
    this.queue.splice(at, 1);
    call.state = "rejected";
    if (call.borrower !== undefined) this.borrowers.delete(call.borrower);
  }

  resize(total: number): void {
    this.total = total;
    this.free = total - this.held;
    this.#wake();
  }
}

async function runBorrowerOps(total: number, ops: LimiterOp[]): Promise<void> {
  const limiter = new CapacityLimiter(total);
  const model = new BorrowerModel(total);
  const calls: LimiterCall[] = [];
  const modelCalls: LimiterCall[] = [];
  const grants: number[] = [];
  const newCall = (borrower: string | undefined, signal: boolean): [LimiterCall, LimiterCall] => {
    const make = (): LimiterCall => ({
      id: calls.length,
      borrower,
      state: "waiting",
      controller: undefined,
      permit: undefined,
      released: false,
    });
    const real = make(), model = make();
    if (signal) real.controller = new AbortController();
    calls.push(real);
    modelCalls.push(model);
    return [real, model];
  };
  const start = (borrower: string | undefined, signal: boolean): void => {
    const [real, expected] = newCall(borrower, signal);
    const options = { signal: real.controller?.signal };
    const call = borrower === undefined
      ? limiter.acquire(options)
      : limiter.acquireOnBehalfOf(borrower, options);
    const accepted = model.acquire(expected);
    if (!accepted) expected.state = "rejected";
    call.then((permit) => {
      assert.equal(real.state, "waiting", `call ${real.id} settled twice`);
      real.state = "held";
      real.permit = permit;
      grants.push(real.id);
    }, (err) => {
      assert.equal(real.state, "waiting", `call ${real.id} settled twice`);
      real.state = "rejected";
      if (!accepted) assert.match(String(err), /already (holds|waits for) a token/);
    });
  };
  const waitingWithSignal = (): LimiterCall[] =>
    modelCalls.filter((c) => c.state === "waiting" && calls[c.id].controller !== undefined);

  for (const op of ops) {
    switch (op.type) {
      case "acquire":
        start(op.borrower === undefined ? undefined : `b${op.borrower}`, op.signal);
        break;
      case "tryAcquire": {
        const permit = limiter.tryAcquire();
        const [real, expected] = newCall(undefined, false);
        assert.equal(permit !== undefined, model.tryAcquire(expected), "tryAcquire");
        if (permit === undefined) {
          real.state = expected.state = "rejected";
        } else {
          real.state = "held";
          real.permit = permit;
          grants.push(real.id);
        }
        break;
      }
      case "releasePermit": {
        const holders = calls.filter((c) => c.permit !== undefined);
        const real = holders[op.pick % Math.max(1, holders.length)];
        if (real === undefined) break;
        real.permit!.release();
        model.releasePermit(modelCalls[real.id]);
        break;
      }
      case "release": {
        let threw = false;
        try {
          limiter.release();
        } catch (err) {
          threw = true;
          assert.match(String(err), /no token taken by acquire\(\) or tryAcquire\(\) is held/);
        }
        assert.equal(threw, !model.release(), "release() throws iff no anonymous token is held");
        break;
      }
      case "releaseOnBehalfOf": {
        const borrower = `b${op.borrower}`;
        const holder = model.borrowers.get(borrower);
        if (holder?.state === "held") {
          limiter.releaseOnBehalfOf(borrower);
          calls[holder.id].released = true;
          model.releasePermit(holder);
        } else {
          assert.throws(() => limiter.releaseOnBehalfOf(borrower), /holds no token/);
        }
        break;
      }
      case "abort": {
        const waiting = waitingWithSignal();
        const expected = waiting[op.pick % Math.max(1, waiting.length)];
        if (expected === undefined) break;
        calls[expected.id].controller!.abort();
        model.abort(expected);
        // Same tick: a borrower whose wait was aborted may borrow again.
        if (op.reborrow && expected.borrower !== undefined) start(expected.borrower, true);
        break;
      }
      case "resize":
        limiter.totalTokens = op.total;
        model.resize(op.total);
        break;
    }
    await flush(20);
    for (const call of calls) {
      assert.equal(call.state, modelCalls[call.id].state, `state of call ${call.id}`);
    }
    assert.deepEqual(grants, model.grants, "FIFO grant order");
    assert.equal(limiter.borrowedTokens, model.held, "borrowedTokens");
    assert.equal(limiter.availableTokens, Math.max(0, model.free), "availableTokens");
    assert.deepEqual(limiter.statistics(), {
      borrowedTokens: model.held,
      totalTokens: model.total,
      tasksWaiting: model.queue.length,
    });
    assert.equal(limiter.waiting, model.queue.length);
  }
  // Everything given back: every waiter is served, then nothing is held.
  for (let round = 0; round < 100 && model.held + model.queue.length > 0; round++) {
    for (const call of calls) {
      if (call.permit !== undefined && !call.released) {
        call.permit.release();
        model.releasePermit(modelCalls[call.id]);
      }
    }
    while (model.release()) limiter.release();
    await flush(20);
  }
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(limiter.waiting, 0);
  assert.equal(limiter.availableTokens, limiter.totalTokens);
}

Deno.test("random borrowers, anonymous permits, release() and aborts match a model of the limiter", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }),
      fc.array(limiterOp, { minLength: 1, maxLength: 50, size: "max" }),
      runBorrowerOps,
    ),
    { numRuns: 500 },
  );
});

// --------------------------------------------------------------------------
// The FIFO stores against a plain array: the queue's ring buffer (grows when
// full, shrinks at a quarter full past 64 slots) and the worker pool's Fifo
// (drops its consumed front past 1,024), through bursts that make both
// resize many times.

type StoreOp = { type: "push"; count: number } | { type: "shift"; count: number } | {
  type: "clear";
};

const storeOps = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        type: fc.constant("push" as const),
        count: fc.integer({ min: 1, max: 700 }),
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        type: fc.constant("shift" as const),
        count: fc.integer({ min: 1, max: 700 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant("clear" as const) }) },
  ),
  { maxLength: 40, size: "max" },
);

Deno.test("the ring buffer of a Queue keeps FIFO order through random bursts that grow and shrink it", () => {
  fc.assert(
    fc.property(storeOps, (ops) => {
      const ring = new RingBuffer<number>();
      const model: number[] = [];
      let next = 0;
      for (const op of ops) {
        if (op.type === "push") {
          for (let i = 0; i < op.count; i++) {
            ring.push(next);
            model.push(next++);
          }
        } else {
          const count = op.type === "clear" ? model.length : Math.min(op.count, model.length);
          for (let i = 0; i < count; i++) assert.equal(ring.shift(), model.shift());
        }
        assert.equal(ring.length, model.length);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("the Fifo of the worker pool keeps FIFO order through random bursts that compact it", () => {
  fc.assert(
    fc.property(storeOps, (ops) => {
      const fifo = new Fifo<number>();
      const model: number[] = [];
      let next = 0;
      for (const op of ops) {
        if (op.type === "push") {
          for (let i = 0; i < op.count; i++) {
            fifo.push(next);
            model.push(next++);
          }
        } else if (op.type === "shift") {
          const count = Math.min(op.count, model.length);
          for (let i = 0; i < count; i++) assert.equal(fifo.shift(), model.shift());
        } else {
          assert.deepEqual(fifo.clear(), model.splice(0));
        }
        assert.equal(fifo.size, model.length);
      }
    }),
    { numRuns: 300 },
  );
});

// --------------------------------------------------------------------------
// Condition: random waits, notify(n), notifyAll and aborts (some in the same
// tick as a notify) against a model: notify(n) wakes the first n waiters;
// one cancelled before it resumes rejects and passes its notification to the
// first waiter left; the lock is held by one caller at a time.

type CondOp =
  | { type: "wait"; cancellable: boolean }
  | { type: "notify"; n: number }
  | { type: "notifyAll" }
  | { type: "abort"; pick: number }
  | { type: "notifyThenAbort"; n: number; pick: number };

const condOps = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({ type: fc.constant("wait" as const), cancellable: fc.boolean() }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ type: fc.constant("notify" as const), n: fc.nat(3) }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant("notifyAll" as const) }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant("abort" as const), pick: fc.nat(5) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        type: fc.constant("notifyThenAbort" as const),
        n: fc.nat(3),
        pick: fc.nat(5),
      }),
    },
  ),
  { minLength: 1, maxLength: 40, size: "max" },
);

async function runConditionOps(ops: CondOp[]): Promise<void> {
  const cond = new Condition();
  type Outcome = "waiting" | "notified" | "cancelled";
  const outcomes: Outcome[] = [];
  const controllers: (AbortController | undefined)[] = [];
  /** The model: ids waiting for a notification, in line order. */
  const line: number[] = [];
  const expected: Outcome[] = [];
  let holders = 0;
  const runs: Promise<void>[] = [];
  const wait = async (id: number, signal?: AbortSignal): Promise<void> => {
    const permit = await cond.acquire();
    assert.equal(++holders, 1, "the lock is held by one caller at a time");
    holders--;
    try {
      await cond.wait({ signal });
      outcomes[id] = "notified";
    } catch (err) {
      assert.ok(isCancelled(err), String(err));
      outcomes[id] = "cancelled";
    } finally {
      assert.equal(++holders, 1, "wait returns holding the lock, alone");
      holders--;
      permit.release();
    }
  };
  const notify = (n: number | "all"): void => {
    const permit = cond.lock.tryAcquire();
    assert.ok(permit !== undefined, "the lock is free between steps");
    if (n === "all") cond.notifyAll();
    else cond.notify(n);
    permit.release();
    const woken = line.splice(0, n === "all" ? line.length : n);
    for (const id of woken) expected[id] = "notified";
    return void woken;
  };
  /** Aborts the picked cancellable call that has not returned yet. */
  const abort = (pick: number): void => {
    const live = expected.flatMap((o, id) =>
      o !== "cancelled" && outcomes[id] === "waiting" && controllers[id] ? [id] : []
    );
    const id = live[pick % Math.max(1, live.length)];
    if (id === undefined) return;
    controllers[id]!.abort();
    const at = line.indexOf(id);
    if (at >= 0) {
      line.splice(at, 1);
    } else if (expected[id] === "notified") {
      // Notified, not resumed: it rejects and passes the notification on.
      const next = line.shift();
      if (next !== undefined) expected[next] = "notified";
    }
    expected[id] = "cancelled";
  };
  for (const op of ops) {
    switch (op.type) {
      case "wait": {
        const id = outcomes.length;
        const controller = op.cancellable ? new AbortController() : undefined;
        outcomes.push("waiting");
        expected.push("waiting");
        controllers.push(controller);
        line.push(id);
        runs.push(wait(id, controller?.signal));
        break;
      }
      case "notify":
        notify(op.n);
        break;
      case "notifyAll":
        notify("all");
        break;
      case "abort":
        abort(op.pick);
        break;
      case "notifyThenAbort":
        notify(op.n);
        abort(op.pick);
        break;
    }
    // Woken waiters take the lock back one after another, each hand-off a
    // few promise jobs (how many differs between runtimes): enough turns for
    // every waiter so far.
    await flush(40 + 8 * outcomes.length);
    assert.deepEqual(outcomes, expected, `after ${JSON.stringify(op)}`);
    assert.equal(cond.statistics().tasksWaiting, line.length, "tasksWaiting");
    assert.equal(cond.locked(), false);
  }
  notify("all");
  await Promise.all(runs);
  assert.equal(cond.statistics().tasksWaiting, 0);
  assert.equal(cond.locked(), false);
}

Deno.test("random waits, notify(n), notifyAll and aborts on a Condition match a model", async () => {
  await fc.assert(fc.asyncProperty(condOps, runConditionOps), { numRuns: 300 });
});

// --------------------------------------------------------------------------
// A PriorityQueue whose compare throws now and then, under waiting getters
// and putters: a call the compare failed rejects with its error and has no
// effect (the heap rolls back), so every item a put added is delivered once
// and none other is; once compare behaves, the heap still gives its items
// out in order.

type ThrowOp =
  | { type: "put"; wait: boolean; key: number }
  | { type: "get"; wait: boolean }
  | { type: "throwEvery"; n: number };

const throwOps = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        type: fc.constant("put" as const),
        wait: fc.boolean(),
        key: fc.integer({ min: 0, max: 5 }),
      }),
    },
    { weight: 3, arbitrary: fc.record({ type: fc.constant("get" as const), wait: fc.boolean() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("throwEvery" as const),
        n: fc.integer({ min: 0, max: 4 }),
      }),
    },
  ),
  { minLength: 1, maxLength: 60, size: "max" },
);

class CompareError extends Error {}

async function runThrowingCompare(maxSize: number, ops: ThrowOp[]): Promise<void> {
  let every = 0, calls = 0;
  // Items are [key, id]; ids are unique, keys repeat.
  const compare = (a: [number, number], b: [number, number]): number => {
    if (every > 0 && ++calls % every === 0) throw new CompareError("compare failed");
    return a[0] - b[0];
  };
  const queue = new PriorityQueue<[number, number]>({ maxSize, compare });
  const added = new Set<number>(), delivered: number[] = [];
  const pending: Promise<unknown>[] = [];
  const expectCompareError = (err: unknown, allowed: (e: unknown) => boolean): void => {
    assert.ok(err instanceof CompareError || allowed(err), String(err));
  };
  let nextId = 0;
  for (const op of ops) {
    if (op.type === "throwEvery") {
      every = op.n;
    } else if (op.type === "put") {
      const item: [number, number] = [op.key, nextId++];
      if (op.wait) {
        pending.push(
          queue.put(item).then(
            () => added.add(item[1]),
            (err) => expectCompareError(err, (e) => e instanceof QueueClosed),
          ),
        );
      } else {
        try {
          queue.putNowait(item);
          added.add(item[1]);
        } catch (err) {
          expectCompareError(err, (e) => e instanceof QueueFull);
        }
      }
    } else if (op.wait) {
      pending.push(
        queue.get().then(
          (item) => delivered.push(item[1]),
          (err) => expectCompareError(err, (e) => e instanceof QueueClosed),
        ),
      );
    } else {
      try {
        delivered.push(queue.getNowait()[1]);
      } catch (err) {
        expectCompareError(err, (e) => e instanceof QueueEmpty);
      }
    }
    await flush(10);
    assert.ok(queue.size <= maxSize);
  }
  // Compare behaves from now on: let the waiting putters in, then take what
  // is left in one sweep, which must come out in key order (ties by arrival).
  every = 0;
  for (let round = 0; round < 200 && queue.statistics().tasksWaitingPut > 0; round++) {
    if (queue.size > 0) delivered.push(queue.getNowait()[1]);
    await flush(10);
  }
  const rest: [number, number][] = [];
  while (queue.size > 0) rest.push(queue.getNowait());
  queue.close();
  await Promise.all(pending);
  delivered.push(...rest.map((item) => item[1]));
  assert.equal(new Set(delivered).size, delivered.length, "no item delivered twice");
  assert.deepEqual(new Set(delivered), added, "every item added is delivered, and only those");
  for (let i = 1; i < rest.length; i++) {
    const [a, b] = [rest[i - 1], rest[i]];
    assert.ok(a[0] < b[0] || a[0] === b[0] && a[1] < b[1], `heap order: ${rest.join(" ")}`);
  }
}

Deno.test("a PriorityQueue whose compare throws now and then loses, duplicates and misorders nothing", async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(2, 4, Infinity), throwOps, runThrowingCompare),
    { numRuns: 300 },
  );
});
