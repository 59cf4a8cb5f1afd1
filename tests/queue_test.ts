// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §6: Queue, PriorityQueue, QueueFull, QueueEmpty, QueueClosed.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CancelledError,
  CancelScope,
  isCancelled,
  PriorityQueue,
  Queue,
  QueueClosed,
  QueueEmpty,
  QueueFull,
} from "../mod.ts";

/** Lets every pending microtask and one macrotask turn run. */
const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Settles to "resolved:<value>" or "rejected:<name>", for asserting outcomes. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then((v) => `resolved:${v}`, (e) => `rejected:${(e as Error).name}`);

// ------------------------------------------------------------------ basics

Deno.test("a queue hands items out in the order they were put", async () => {
  const q = new Queue<number>();
  for (let i = 0; i < 100; i++) await q.put(i);
  assert.equal(q.size, 100);
  const out: number[] = [];
  for (let i = 0; i < 100; i++) out.push(await q.get());
  assert.deepEqual(out, Array.from({ length: 100 }, (_, i) => i));
  assert.equal(q.size, 0);
});

Deno.test("a queue keeps FIFO order while its buffer wraps around and grows", () => {
  const q = new Queue<number>();
  let next = 0, expected = 0;
  // Interleave puts and gets so the ring's head moves, then grow it past 8 and 64 and shrink it.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 5 + (round % 7) * 30; i++) q.putNowait(next++);
    while (q.size > 3) assert.equal(q.getNowait(), expected++);
  }
  while (q.size > 0) assert.equal(q.getNowait(), expected++);
  assert.equal(expected, next);
});

Deno.test("maxSize defaults to Infinity and is reported", () => {
  assert.equal(new Queue().maxSize, Infinity);
  assert.equal(new Queue({ maxSize: 3 }).maxSize, 3);
});

Deno.test("putNowait throws QueueFull when the queue is full", () => {
  const q = new Queue<number>({ maxSize: 2 });
  q.putNowait(1);
  q.putNowait(2);
  assert.throws(() => q.putNowait(3), QueueFull);
  assert.equal(q.size, 2);
});

Deno.test("getNowait throws QueueEmpty when the queue is empty", () => {
  const q = new Queue<number>();
  assert.throws(() => q.getNowait(), QueueEmpty);
  q.putNowait(1);
  assert.equal(q.getNowait(), 1);
  assert.throws(() => q.getNowait(), QueueEmpty);
});

Deno.test("the queue errors are Errors with their own names", () => {
  for (
    const [Cls, name] of [[QueueFull, "QueueFull"], [QueueEmpty, "QueueEmpty"], [
      QueueClosed,
      "QueueClosed",
    ]] as const
  ) {
    const err = new Cls();
    assert.ok(err instanceof Error);
    assert.equal(err.name, name);
    assert.ok(err.message.length > 0);
  }
});

Deno.test("a bad maxSize throws, naming the parameter and the value", () => {
  for (const bad of [0, -1, 1.5, NaN, -Infinity]) {
    assert.throws(
      () => new Queue({ maxSize: bad }),
      (e: unknown) =>
        e instanceof RangeError && e.message.includes("'maxSize'") &&
        e.message.includes(String(bad)),
    );
  }
  assert.throws(
    () => new Queue({ maxSize: "3" as unknown as number }),
    (e: unknown) => e instanceof TypeError && /'maxSize'.*string/.test(e.message),
  );
  assert.throws(() => new Queue(5 as unknown as { maxSize: number }), TypeError);
  assert.throws(
    () => new PriorityQueue({ maxSize: 0 }),
    (e: unknown) => e instanceof RangeError && e.message.startsWith("Cannot create PriorityQueue"),
  );
});

Deno.test("put and get reject at once when options.signal is not an AbortSignal", async () => {
  const q = new Queue<number>();
  const bad = { signal: "nope" } as unknown as { signal: AbortSignal };
  await assert.rejects(
    q.put(1, bad),
    (e: unknown) => e instanceof TypeError && /'signal'/.test(e.message),
  );
  await assert.rejects(q.get(bad), TypeError);
  assert.equal(q.size, 0);
});

// ------------------------------------------------------------------ waiting

Deno.test("a get waits until an item is put", async () => {
  const q = new Queue<string>();
  const got = q.get();
  await flush();
  assert.equal(q.statistics().tasksWaitingGet, 1);
  await q.put("x");
  assert.equal(await got, "x");
  assert.equal(q.statistics().tasksWaitingGet, 0);
});

Deno.test("waiting getters are served in arrival order", async () => {
  const q = new Queue<number>();
  const order: string[] = [];
  const getters = ["a", "b", "c"].map((name) => q.get().then((v) => order.push(`${name}${v}`)));
  q.putNowait(1);
  q.putNowait(2);
  q.putNowait(3);
  await Promise.all(getters);
  assert.deepEqual(order, ["a1", "b2", "c3"]);
});

Deno.test("a put waits while the queue is full and putters are served in arrival order", async () => {
  const q = new Queue<number>({ maxSize: 1 });
  q.putNowait(0);
  const done: number[] = [];
  const puts = [1, 2, 3].map((n) => q.put(n).then(() => done.push(n)));
  await flush();
  assert.deepEqual(done, []);
  assert.equal(q.statistics().tasksWaitingPut, 3);
  const out: number[] = [];
  for (let i = 0; i < 4; i++) out.push(await q.get());
  await Promise.all(puts);
  assert.deepEqual(out, [0, 1, 2, 3]);
  assert.deepEqual(done, [1, 2, 3]);
  assert.ok(q.size <= q.maxSize);
});

Deno.test("a new call never overtakes a waiter that was woken but has not resumed", async () => {
  const q = new Queue<number>({ maxSize: 1 });
  const g = q.get();
  q.putNowait(1); // reserved for g, which resumes later
  assert.throws(() => q.getNowait(), QueueEmpty);
  assert.equal(await g, 1);

  q.putNowait(2);
  const p = q.put(3);
  assert.equal(q.getNowait(), 2); // the free slot is reserved for p
  assert.throws(() => q.putNowait(4), QueueFull);
  await p;
  assert.equal(q.getNowait(), 3);
});

Deno.test("statistics() reports size, bound, closed flag and waiting calls", async () => {
  const q = new Queue<number>({ maxSize: 2 });
  assert.deepEqual(q.statistics(), {
    size: 0,
    maxSize: 2,
    closed: false,
    tasksWaitingGet: 0,
    tasksWaitingPut: 0,
  });
  const g1 = q.get(), g2 = q.get();
  assert.equal(q.statistics().tasksWaitingGet, 2);
  q.putNowait(1);
  q.putNowait(2); // g1 and g2 are woken but have not resumed: still pending
  assert.equal(q.statistics().tasksWaitingGet, 2);
  assert.equal(q.statistics().size, 2);
  assert.equal(await g1, 1);
  assert.equal(await g2, 2);
  assert.equal(q.statistics().tasksWaitingGet, 0);
  q.putNowait(3);
  q.putNowait(4);
  const p = q.put(5);
  assert.equal(q.statistics().tasksWaitingPut, 1);
  q.close();
  assert.deepEqual(q.statistics(), {
    size: 2,
    maxSize: 2,
    closed: true,
    tasksWaitingGet: 0,
    tasksWaitingPut: 0,
  });
  await assert.rejects(p, QueueClosed);
});

Deno.test("a queue prints its size, bound, waiting calls and closed flag in the console", async () => {
  const q = new Queue<number>({ maxSize: 3 });
  for (let i = 0; i < 3; i++) q.putNowait(i);
  const puts = [q.put(3), q.put(4)];
  assert.equal(
    Deno.inspect(q),
    "Queue { size: 3/3, getters: 0, putters: 2, closed: false }",
  );
  q.close();
  await Promise.allSettled(puts);
  const pq = new PriorityQueue<number>();
  const waiting = pq.get();
  assert.equal(
    Deno.inspect(pq),
    "PriorityQueue { size: 0/Infinity, getters: 1, putters: 0, closed: false }",
  );
  pq.close();
  await assert.rejects(waiting, QueueClosed);
});

// ------------------------------------------------------------------ close

Deno.test("after close, put rejects and putNowait throws QueueClosed", async () => {
  const q = new Queue<number>();
  q.close();
  q.close(); // idempotent
  assert.equal(q.closed, true);
  await assert.rejects(q.put(1), QueueClosed);
  assert.throws(() => q.putNowait(1), QueueClosed);
  assert.equal(q.size, 0);
});

Deno.test("after close, get and getNowait drain the items left, then throw QueueClosed", async () => {
  const q = new Queue<number>();
  q.putNowait(1);
  q.putNowait(2);
  q.close();
  assert.equal(await q.get(), 1);
  assert.equal(q.getNowait(), 2);
  await assert.rejects(q.get(), QueueClosed);
  assert.throws(() => q.getNowait(), QueueClosed);
});

Deno.test("close rejects every waiting putter and, once drained, every waiting getter", async () => {
  const full = new Queue<number>({ maxSize: 1 });
  full.putNowait(1);
  const puts = [full.put(2), full.put(3)];
  full.close();
  for (const p of puts) await assert.rejects(p, QueueClosed);
  assert.equal(full.getNowait(), 1);

  const empty = new Queue<number>();
  const gets = [empty.get(), empty.get()];
  empty.close();
  for (const g of gets) await assert.rejects(g, QueueClosed);
});

Deno.test("a putter woken for a slot but resuming after close rejects and adds nothing", async () => {
  const q = new Queue<number>({ maxSize: 1 });
  q.putNowait(1);
  const p = q.put(2);
  assert.equal(q.getNowait(), 1); // grants the slot to p
  q.close(); // before p resumes
  await assert.rejects(p, QueueClosed);
  assert.equal(q.size, 0);
  assert.throws(() => q.getNowait(), QueueClosed);
});

Deno.test("a getter waiting on a closed queue still gets an item a cancelled getter gave back", async () => {
  const q = new Queue<number>();
  const ac = new AbortController();
  const first = q.get({ signal: ac.signal });
  const second = q.get();
  q.putNowait(1); // reserved for first
  q.close(); // one item left, so the getters keep waiting
  ac.abort();
  await assert.rejects(first);
  assert.equal(await second, 1);
  await assert.rejects(q.get(), QueueClosed);
});

Deno.test("async iteration yields every item until the queue is closed and drained", async () => {
  const q = new Queue<number>({ maxSize: 2 });
  const seen: number[] = [];
  const consumer = (async () => {
    for await (const item of q) seen.push(item);
  })();
  for (let i = 0; i < 10; i++) await q.put(i);
  q.close();
  await consumer;
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("async iteration rethrows a cancellation instead of ending quietly", async () => {
  const q = new Queue<number>();
  const scope = new CancelScope();
  let error: unknown;
  const run = scope.run(async () => {
    try {
      for await (const _ of q) { /* nothing arrives */ }
    } catch (e) {
      error = e;
      throw e;
    }
  });
  await flush();
  scope.cancel();
  await run;
  assert.ok(error instanceof CancelledError);
  assert.equal(q.statistics().tasksWaitingGet, 0);
});

// ------------------------------------------------------------------ cancellation

Deno.test("get inside a cancelled scope rejects at once, even when an item is ready", async () => {
  const q = new Queue<number>();
  q.putNowait(1);
  const scope = new CancelScope();
  await scope.run(async () => {
    scope.cancel();
    await assert.rejects(q.get(), CancelledError);
    await assert.rejects(q.put(2), CancelledError);
  });
  assert.equal(q.size, 1);
  assert.equal(q.getNowait(), 1);
});

Deno.test("a waiting get cancelled by its signal rejects with the reason and leaves the line", async () => {
  const q = new Queue<number>();
  const ac = new AbortController();
  const cancelled = q.get({ signal: ac.signal });
  const next = q.get();
  const reason = new Error("no longer needed");
  ac.abort(reason);
  await assert.rejects(cancelled, (e) => e === reason);
  assert.equal(q.statistics().tasksWaitingGet, 1);
  q.putNowait(5);
  assert.equal(await next, 5);
});

Deno.test("a waiting put cancelled by its scope rejects and never enqueues its item", async () => {
  const q = new Queue<string>({ maxSize: 1 });
  q.putNowait("a");
  const scope = new CancelScope();
  let error: unknown;
  const run = scope.run(() =>
    q.put("b").catch((e) => {
      error = e;
      throw e;
    })
  );
  await flush();
  scope.cancel();
  await run;
  assert.ok(error instanceof CancelledError);
  assert.equal(q.getNowait(), "a");
  assert.equal(q.size, 0);
  assert.equal(q.statistics().tasksWaitingPut, 0);
});

Deno.test("a get cancelled after its item was handed over rejects and the item goes to the next getter", async () => {
  const q = new Queue<string>();
  const ac = new AbortController();
  const first = q.get({ signal: ac.signal });
  const second = q.get();
  q.putNowait("a"); // hand-off to first...
  ac.abort(new Error("stop")); // ...which is cancelled before it resumes
  await assert.rejects(first, /stop/);
  assert.equal(await second, "a");
  assert.equal(q.size, 0);
});

Deno.test("a get cancelled after its item was handed over leaves the item at the front of the queue", async () => {
  const q = new Queue<string>();
  const scope = new CancelScope();
  let got = "nothing";
  const run = scope.run(async () => {
    got = await q.get();
  });
  q.putNowait("a");
  q.putNowait("b");
  scope.cancel();
  await run;
  assert.equal(got, "nothing");
  assert.equal(q.getNowait(), "a");
  assert.equal(q.getNowait(), "b");
});

Deno.test("a put cancelled after it was granted a slot rejects and the slot goes to the next putter", async () => {
  const q = new Queue<string>({ maxSize: 1 });
  q.putNowait("a");
  const ac = new AbortController();
  const cancelled = q.put("b", { signal: ac.signal });
  const next = q.put("c");
  assert.equal(q.getNowait(), "a"); // grants the slot to "b"...
  ac.abort(); // ...which is cancelled before it resumes
  await assert.rejects(cancelled, (e) => isCancelled(e));
  await next;
  assert.equal(q.getNowait(), "c");
  assert.equal(q.size, 0);
});

Deno.test("cancelling a get at any await point delivers its item exactly once", async () => {
  for (let hops = 0; hops < 6; hops++) {
    const q = new Queue<number>();
    const ac = new AbortController();
    const result = outcome(q.get({ signal: ac.signal }));
    q.putNowait(42);
    for (let i = 0; i < hops; i++) await Promise.resolve();
    ac.abort();
    const r = await result;
    if (r === "resolved:42") {
      assert.equal(q.size, 0, `hops=${hops}`);
    } else {
      assert.equal(r, "rejected:AbortError", `hops=${hops}`);
      assert.equal(q.getNowait(), 42, `hops=${hops}`);
    }
    if (hops === 0) assert.equal(r, "rejected:AbortError"); // the hand-off rule
  }
});

Deno.test("cancelling a put at any await point enqueues its item at most once", async () => {
  for (let hops = 0; hops < 6; hops++) {
    const q = new Queue<number>({ maxSize: 1 });
    q.putNowait(1);
    const ac = new AbortController();
    const result = outcome(q.put(2, { signal: ac.signal }));
    assert.equal(q.getNowait(), 1);
    for (let i = 0; i < hops; i++) await Promise.resolve();
    ac.abort();
    const r = await result;
    const left: number[] = [];
    while (q.size > 0) left.push(q.getNowait());
    assert.deepEqual(left, r === "resolved:undefined" ? [2] : [], `hops=${hops} ${r}`);
    if (hops === 0) assert.equal(r, "rejected:AbortError"); // the hand-off rule
  }
});

// ------------------------------------------------------------------ hand-off (issue 12)

/** Records how a promise settled, so a test can see one that never settles. */
function track<T>(p: Promise<T>): { state: string } {
  const seen = { state: "pending" };
  p.then((v) => seen.state = `resolved:${v}`, (e) => seen.state = `rejected:${(e as Error).name}`);
  return seen;
}

Deno.test("a get arriving while an earlier getter is handed its item gets the next free item", async () => {
  for (const q of [new Queue<number>(), new PriorityQueue<number>()]) {
    const a = track(q.get());
    q.putNowait(1); // handed to a, which has not resumed yet
    q.putNowait(2); // free
    const b = track(q.get());
    await flush();
    assert.deepEqual([a.state, b.state], ["resolved:1", "resolved:2"], q.constructor.name);
    assert.deepEqual(q.statistics().tasksWaitingGet, 0);
  }
});

Deno.test("getNowait takes a free item while an earlier getter is handed its own", async () => {
  const q = new Queue<number>();
  const a = q.get();
  q.putNowait(1);
  q.putNowait(2);
  assert.equal(q.getNowait(), 2);
  assert.equal(await a, 1);
});

Deno.test("a consumer pool iterating with for await gets every item, then ends on close", async () => {
  const q = new Queue<string>();
  const out: string[] = [];
  const consumer = async (name: string): Promise<void> => {
    for await (const x of q) out.push(`${name}:${x}`);
  };
  const c1 = track(consumer("c1")); // waits on an empty queue
  q.putNowait("a"); // handed to c1
  q.putNowait("b"); // free
  const c2 = track(consumer("c2")); // arrives during c1's hand-off
  q.close();
  await flush();
  assert.deepEqual([c1.state, c2.state], ["resolved:undefined", "resolved:undefined"]);
  assert.deepEqual(out.toSorted(), ["c1:a", "c2:b"]);
});

Deno.test("a put arriving while an earlier putter is handed its slot takes the next free slot", async () => {
  for (const q of [new Queue<number>({ maxSize: 2 }), new PriorityQueue<number>({ maxSize: 2 })]) {
    q.putNowait(1);
    q.putNowait(2);
    const p1 = track(q.put(3)); // waits: full
    assert.equal(q.getNowait(), 1); // the freed slot is handed to p1
    assert.equal(q.getNowait(), 2); // free
    const p2 = track(q.put(4));
    await flush();
    assert.deepEqual([p1.state, p2.state], ["resolved:undefined", "resolved:undefined"]);
    assert.deepEqual([q.getNowait(), q.getNowait()], [3, 4], q.constructor.name);
  }
});

Deno.test("putNowait uses a free slot while an earlier putter is handed its own", async () => {
  const q = new Queue<number>({ maxSize: 2 });
  q.putNowait(1);
  q.putNowait(2);
  const p1 = q.put(3);
  q.getNowait();
  q.getNowait();
  q.putNowait(4); // the put of 3 is in line first, so 3 leaves first
  await p1;
  assert.deepEqual([q.getNowait(), q.getNowait()], [3, 4]);
});

Deno.test("getNowait right after a granted getter was cancelled takes the item it gave back", async () => {
  const q = new Queue<number>();
  const ac = new AbortController();
  const a = outcome(q.get({ signal: ac.signal }));
  q.putNowait(1); // granted to a...
  ac.abort(); // ...which is cancelled before the hand-off takes effect
  assert.equal(q.getNowait(), 1);
  assert.equal(await a, "rejected:AbortError");
  assert.equal(q.size, 0);
});

Deno.test("putNowait right after a granted putter was cancelled takes the slot it gave back", async () => {
  const q = new Queue<number>({ maxSize: 1 });
  q.putNowait(1);
  const ac = new AbortController();
  const p = outcome(q.put(2, { signal: ac.signal }));
  assert.equal(q.getNowait(), 1); // the slot is granted to p...
  ac.abort(); // ...which is cancelled before the hand-off takes effect
  q.putNowait(3);
  assert.equal(await p, "rejected:AbortError");
  assert.deepEqual([q.getNowait(), q.size], [3, 0]);
});

// ------------------------------------------------------------------ PriorityQueue

Deno.test("a priority queue hands out the lowest item first", async () => {
  const q = new PriorityQueue<number>();
  for (const n of [5, 1, 4, 2, 3, 0, 9, 7, 8, 6]) q.putNowait(n);
  const out: number[] = [];
  while (q.size > 0) out.push(await q.get());
  assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(q instanceof Queue);
});

Deno.test("equal priorities leave a priority queue in insertion order", () => {
  const q = new PriorityQueue<[number, string]>({ compare: (a, b) => a[0] - b[0] });
  const input: [number, string][] = [];
  for (let i = 0; i < 200; i++) input.push([(i * 7) % 5, `item${i}`]);
  for (const it of input) q.putNowait(it);
  const out: [number, string][] = [];
  while (q.size > 0) out.push(q.getNowait());
  const expected = [...input].sort((a, b) => a[0] - b[0]); // Array#sort is stable
  assert.deepEqual(out, expected);
});

Deno.test("a priority queue matches a stable sort for random input", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 60 }), (keys) => {
      const q = new PriorityQueue<{ key: number; id: number }>({
        compare: (a, b) => a.key - b.key,
      });
      const input = keys.map((key, id) => ({ key, id }));
      for (const it of input) q.putNowait(it);
      const out = [];
      while (q.size > 0) out.push(q.getNowait());
      assert.deepEqual(out, [...input].sort((a, b) => a.key - b.key));
    }),
  );
});

Deno.test("a priority queue waits, closes and iterates like a queue", async () => {
  const q = new PriorityQueue<number>({ maxSize: 2 });
  q.putNowait(3);
  q.putNowait(1);
  assert.throws(() => q.putNowait(2), QueueFull);
  const waiting = q.put(2);
  assert.equal(await q.get(), 1);
  await waiting;
  q.close();
  const out: number[] = [];
  for await (const n of q) out.push(n);
  assert.deepEqual(out, [2, 3]);
});

Deno.test("a compare that throws fails the call and leaves the priority queue unchanged", async () => {
  let broken = false;
  const q = new PriorityQueue<number>({
    compare: (a, b) => {
      if (broken) throw new Error("bad compare");
      return a - b;
    },
  });
  for (const n of [8, 3, 5, 1, 9, 2, 7]) q.putNowait(n);
  broken = true;
  assert.throws(() => q.putNowait(0), /bad compare/);
  await assert.rejects(q.put(0), /bad compare/);
  assert.throws(() => q.getNowait(), /bad compare/);
  await assert.rejects(q.get(), /bad compare/);
  assert.equal(q.size, 7);
  broken = false;
  const out: number[] = [];
  while (q.size > 0) out.push(q.getNowait());
  assert.deepEqual(out, [1, 2, 3, 5, 7, 8, 9]);
});

Deno.test("a priority queue rejects a compare that is not a function", () => {
  assert.throws(
    () => new PriorityQueue({ compare: 3 as unknown as (a: number, b: number) => number }),
    (e: unknown) => e instanceof TypeError && /'compare'.*3/.test(e.message),
  );
});

// ------------------------------------------------------------------ property

type Kind = "put" | "putNowait" | "get" | "getNowait" | "cancel" | "close" | "hop" | "flush";
interface Step {
  kind: Kind;
  pick: number;
  viaScope: boolean;
}

interface Call {
  index: number;
  item?: number;
  status: "pending" | "ok" | "failed";
  error?: unknown;
}

const EXPECTED = (e: unknown): boolean =>
  isCancelled(e) || e instanceof QueueClosed || e instanceof QueueFull || e instanceof QueueEmpty;

Deno.test("random put/get/cancel/close interleavings deliver every item exactly once, in FIFO order", async () => {
  const step = fc.record({
    kind: fc.constantFrom<Kind>(
      "put",
      "put",
      "putNowait",
      "get",
      "get",
      "getNowait",
      "cancel",
      "cancel",
      "close",
      "hop",
      "hop",
      "flush",
    ),
    pick: fc.nat(),
    viaScope: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 2, 3, Infinity),
      fc.array(step, { maxLength: 40 }),
      async (maxSize, steps: Step[]) => {
        const q = new Queue<number>({ maxSize });
        const puts: Call[] = [], gets: Call[] = [];
        const cancellers: (() => void)[] = [];
        let nextItem = 0;
        const settle = (call: Call, p: Promise<unknown>): Promise<void> =>
          p.then((v) => {
            call.status = "ok";
            if (call.item === undefined) call.item = v as number;
          }, (e) => {
            call.status = "failed";
            call.error = e;
          });
        // Cancellable by a scope (ambient when put/get is called) or by a signal.
        const start = (
          viaScope: boolean,
          call: Call,
          fn: (signal: AbortSignal | undefined) => Promise<unknown>,
        ): void => {
          if (viaScope) {
            const scope = new CancelScope();
            cancellers.push(() => scope.cancel());
            scope.run(() => settle(call, fn(undefined)));
          } else {
            const ac = new AbortController();
            cancellers.push(() => ac.abort());
            settle(call, fn(ac.signal));
          }
        };
        for (const s of steps) {
          switch (s.kind) {
            case "put": {
              const call: Call = {
                index: puts.length + gets.length,
                item: nextItem++,
                status: "pending",
              };
              puts.push(call);
              start(s.viaScope, call, (signal) => q.put(call.item!, { signal }));
              break;
            }
            case "putNowait": {
              const call: Call = {
                index: puts.length + gets.length,
                item: nextItem++,
                status: "pending",
              };
              puts.push(call);
              try {
                q.putNowait(call.item!);
                call.status = "ok";
              } catch (e) {
                call.status = "failed";
                call.error = e;
              }
              break;
            }
            case "get": {
              const call: Call = { index: puts.length + gets.length, status: "pending" };
              gets.push(call);
              start(s.viaScope, call, (signal) => q.get({ signal }));
              break;
            }
            case "getNowait": {
              const call: Call = { index: puts.length + gets.length, status: "pending" };
              gets.push(call);
              try {
                call.item = q.getNowait();
                call.status = "ok";
              } catch (e) {
                call.status = "failed";
                call.error = e;
              }
              break;
            }
            case "cancel":
              if (cancellers.length > 0) cancellers.splice(s.pick % cancellers.length, 1)[0]();
              break;
            case "close":
              q.close();
              break;
            case "hop":
              await Promise.resolve();
              break;
            case "flush":
              await flush();
              break;
          }
          assert.ok(q.size <= maxSize, "size stays within maxSize");
        }
        for (const cancel of cancellers) cancel();
        await flush();
        q.close();
        await flush();
        const drained: number[] = [];
        for (;;) {
          try {
            drained.push(q.getNowait());
          } catch (e) {
            assert.ok(e instanceof QueueClosed, "a closed queue ends with QueueClosed");
            break;
          }
        }
        for (const call of [...puts, ...gets]) {
          assert.notEqual(call.status, "pending", "every call settled");
          if (call.status === "failed") assert.ok(EXPECTED(call.error), String(call.error));
        }
        const byIndex = (a: Call, b: Call): number => a.index - b.index;
        const enqueued = puts.filter((c) => c.status === "ok").sort(byIndex).map((c) => c.item);
        const delivered = gets.filter((c) => c.status === "ok").sort(byIndex).map((c) => c.item);
        assert.deepEqual([...delivered, ...drained], enqueued);
      },
    ),
    { numRuns: 300 },
  );
});
