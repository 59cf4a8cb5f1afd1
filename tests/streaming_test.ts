// Copyright 2026 the @lionpride/core authors. MIT license.
// API.md §9: alcall, bcall and boundedMap over async (and lazy sync) input,
// and alcallStream.
import assert from "node:assert/strict";
import {
  alcall,
  type AlcallProgress,
  alcallStream,
  bcall,
  boundedMap,
  CancelledError,
  currentTime,
  ExceptionGroup,
  failAfter,
  sleep,
  TimeoutError,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";

/** An async generator of 0 … n-1 that counts what was pulled and notes whether it was closed. */
function counted(n: number) {
  const state = { pulled: 0, closed: false };
  async function* gen(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < n; i++) {
        state.pulled++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, input: gen() };
}

/** Yields 0 and 1, then throws `err` 5 ms later. */
async function* breaksAfterTwo(err: Error): AsyncGenerator<number> {
  yield 0;
  yield 1;
  await sleep(5);
  throw err;
}

Deno.test("alcall pulls an async input lazily, never more than maxConcurrent ahead of the finished items", async () => {
  const { state, input } = counted(1_000);
  let finished = 0, ahead = 0;
  const out = await alcall(input, async (x) => {
    ahead = Math.max(ahead, state.pulled - finished);
    await null;
    finished++;
    return x * 2;
  }, { maxConcurrent: 4 });
  assert.equal(out.length, 1_000);
  assert.deepEqual(out.slice(0, 3), [0, 2, 4]);
  assert.ok(ahead <= 4, `${ahead} pulled ahead`);
});

Deno.test("alcall keeps input order on an async input whatever the completion order", async () => {
  const { input } = counted(20);
  const out = await alcall(input, async (x) => {
    await sleep((20 - x) % 7);
    return x;
  }, { maxConcurrent: 5 });
  assert.deepEqual(out, Array.from({ length: 20 }, (_, i) => i));
});

Deno.test("alcall pulls a sync generator lazily too", async () => {
  let pulled = 0, finished = 0, ahead = 0;
  function* gen(): Generator<number> {
    for (let i = 0; i < 500; i++) {
      pulled++;
      yield i;
    }
  }
  await alcall(gen(), async () => {
    ahead = Math.max(ahead, pulled - finished);
    await null;
    finished++;
  }, { maxConcurrent: 3 });
  assert.ok(ahead <= 3, `${ahead} pulled ahead`);
});

Deno.test("alcall rejects with the input's own error, unwrapped, after cancelling the running items", async () => {
  const broken = new Error("broken stream");
  const aborted: number[] = [];
  const gen = () => breaksAfterTwo(broken);
  const err = await alcall(gen(), async (x, ctx) => {
    try {
      await sleep(1_000, { signal: ctx.signal });
    } finally {
      if (ctx.signal.aborted) aborted.push(x);
    }
  }, { maxConcurrent: 4 }).catch((e) => e);
  assert.equal(err, broken);
  assert.deepEqual(aborted.sort(), [0, 1]);
});

Deno.test("alcall closes its async input when an item fails", async () => {
  const { state, input } = counted(1_000);
  await assert.rejects(
    alcall(input, (x) => {
      if (x === 3) throw new Error("boom");
    }, { maxConcurrent: 2 }),
    ExceptionGroup,
  );
  assert.ok(state.closed, "the input was not closed");
  assert.ok(state.pulled < 10, `${state.pulled} pulled`);
});

Deno.test("alcall closes its async input when its signal aborts", async () => {
  const { state, input } = counted(1_000_000);
  const controller = new AbortController();
  const p = alcall(input, async (x) => {
    if (x === 10) controller.abort("stop");
    await null;
  }, { maxConcurrent: 2, signal: controller.signal });
  assert.equal(await p.catch((e) => e), "stop");
  assert.ok(state.closed);
});

Deno.test("alcall on a stream: inputUnique keeps a seen-set, and onProgress's total counts the items pulled", async () => {
  async function* gen(): AsyncGenerator<unknown> {
    yield* [1, { a: 1 }, 1, [2, null], { a: 1 }, 3];
  }
  const totals: number[] = [];
  const out = await alcall(gen(), (x) => x, {
    maxConcurrent: 1,
    inputUnique: true,
    inputFlatten: true,
    inputDropna: true,
    onProgress: (p: AlcallProgress) => totals.push(p.total),
  });
  assert.deepEqual(out, [1, { a: 1 }, 2, 3]);
  assert.deepEqual([...new Set(totals)], [1, 2, 3, 4]);
});

Deno.test("boundedMap rejects with an async input's own error, unwrapped, after cancelling the running calls", async () => {
  for (const returnExceptions of [false, true]) {
    const broken = new Error("broken stream");
    const aborted: number[] = [];
    const err = await boundedMap(breaksAfterTwo(broken), async (x, _index, signal) => {
      try {
        await sleep(1_000, { signal });
      } finally {
        if (signal.aborted) aborted.push(x);
      }
    }, { limit: 4, returnExceptions }).catch((e) => e);
    assert.equal(err, broken);
    assert.deepEqual(aborted.sort(), [0, 1]);
  }
});

Deno.test("boundedMap takes an async iterable and keeps input order", async () => {
  const { state, input } = counted(50);
  const out = await boundedMap(input, async (x) => {
    await sleep(x % 3);
    return -x;
  }, { limit: 4 });
  assert.deepEqual(out, Array.from({ length: 50 }, (_, i) => -i));
  assert.equal(state.pulled, 50);
});

Deno.test("bcall pulls an async input one batch at a time", async () => {
  const { state, input } = counted(10);
  const gen = bcall(input, (x) => x, { batchSize: 4 });
  assert.equal(state.pulled, 0);
  assert.deepEqual((await gen.next()).value, [0, 1, 2, 3]);
  assert.equal(state.pulled, 4);
  assert.deepEqual((await gen.next()).value, [4, 5, 6, 7]);
  await gen.return(undefined);
  assert.equal(state.pulled, 8);
  assert.ok(state.closed);
});

Deno.test("alcallStream pulls and starts nothing before the first next()", async () => {
  const { state, input } = counted(10);
  let calls = 0;
  const it = alcallStream(input, () => calls++, { maxConcurrent: 2 });
  await sleep(5);
  assert.equal(state.pulled, 0);
  assert.equal(calls, 0);
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  await it.return!();
});

Deno.test("alcallStream yields in input order by default and in completion order with ordered: false", async () => {
  await withFakeTime(async (clock) => {
    const delays = [30, 10, 20];
    const collect = async (ordered: boolean) => {
      const out: number[] = [];
      for await (
        const v of alcallStream([0, 1, 2], async (i) => {
          await sleep(delays[i]);
          return i;
        }, { ordered })
      ) out.push(v);
      return out;
    };
    const a = collect(true), b = collect(false);
    await clock.tickAsync(30);
    assert.deepEqual(await a, [0, 1, 2]);
    assert.deepEqual(await b, [1, 2, 0]);
  });
});

Deno.test("alcallStream backpressure: started-but-unconsumed items never exceed maxConcurrent + buffer", async () => {
  for (const ordered of [true, false]) {
    let started = 0, consumed = 0, worst = 0;
    const it = alcallStream(counted(200).input, async (x) => {
      started++;
      worst = Math.max(worst, started - consumed);
      await sleep(x % 3);
      return x;
    }, { maxConcurrent: 3, buffer: 2, ordered });
    for await (const _ of it) {
      consumed++;
      await sleep(1); // a slow consumer
    }
    assert.equal(consumed, 200);
    assert.ok(worst <= 5, `ordered ${ordered}: ${worst} started but unconsumed`);
  }
});

Deno.test("alcallStream: the first failure cancels the rest, closes the input, and the next next() throws the ExceptionGroup", async () => {
  const { state, input } = counted(1_000);
  const boom = new Error("boom");
  const aborted: number[] = [];
  const it = alcallStream(input, async (x, ctx) => {
    if (x === 0) return 0;
    if (x === 2) {
      await sleep(5);
      throw boom;
    }
    try {
      await sleep(1_000, { signal: ctx.signal });
    } finally {
      if (ctx.signal.aborted) aborted.push(x);
    }
  }, { maxConcurrent: 3 });
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  const err = await it.next().catch((e) => e);
  assert.ok(err instanceof ExceptionGroup);
  assert.deepEqual(err.exceptions, [boom]);
  assert.ok(state.closed);
  assert.deepEqual(aborted.sort(), [1, 3]);
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

Deno.test("alcallStream: break cancels what runs, waits for it to unwind, and pulls nothing more", async () => {
  const { state, input } = counted(1_000);
  const unwound: number[] = [];
  for await (
    const v of alcallStream(input, async (x, ctx) => {
      if (x === 0) {
        await sleep(5); // by then 1 and 2 run
        return x;
      }
      try {
        await sleep(1_000, { signal: ctx.signal });
      } finally {
        unwound.push(x);
      }
      return x;
    }, { maxConcurrent: 3 })
  ) {
    assert.equal(v, 0);
    break;
  }
  assert.deepEqual(unwound.sort(), [1, 2]);
  const pulled = state.pulled;
  await sleep(5);
  assert.equal(state.pulled, pulled);
  assert.ok(state.closed);
});

Deno.test("alcallStream: break aborts ctx.signal of the items still running, never of one already yielded", async () => {
  for (const options of [{}, { retryAttempts: 2 }, { attemptTimeout: 60_000 }]) {
    const signals = new Map<number, AbortSignal>();
    for await (
      const _ of alcallStream([0, 1, 2], async (x, ctx) => {
        signals.set(x, ctx.signal);
        if (x !== 0) {
          await new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))
          );
        }
        return x;
      }, { maxConcurrent: 3, ...options })
    ) break;
    const aborted = [0, 1, 2].map((i) => signals.get(i)!.aborted);
    assert.deepEqual(aborted, [false, true, true], JSON.stringify(options));
  }
});

Deno.test("alcallStream: an item that ignores its signal cannot hold return() past one macrotask turn", async () => {
  await withFakeTime(async (clock) => {
    const it = alcallStream([1, 2], async (x) => {
      if (x === 2) await new Promise((r) => setTimeout(r, 10_000)); // ignores ctx.signal
      return x;
    }, { maxConcurrent: 2, ordered: false });
    assert.deepEqual(await it.next(), { done: false, value: 1 });
    let closed = false;
    const closing = it.return!().then(() => (closed = true));
    await clock.tickAsync(1);
    assert.ok(closed);
    await closing;
    await clock.tickAsync(10_000);
  });
});

Deno.test("alcallStream with returnExceptions yields errors as results", async () => {
  const out: unknown[] = [];
  for await (
    const v of alcallStream([1, 2, 3], (x) => {
      if (x === 2) throw new Error("two");
      return x;
    }, { returnExceptions: true })
  ) out.push(v);
  assert.equal(out[0], 1);
  assert.equal((out[1] as Error).message, "two");
  assert.equal(out[2], 3);
});

Deno.test("alcallStream rejects with the signal's reason when its signal aborts", async () => {
  const controller = new AbortController();
  const it = alcallStream(counted(100).input, async (x, ctx) => {
    if (x === 1) controller.abort(new CancelledError("stop"));
    await sleep(1_000, { signal: ctx.signal });
  }, { maxConcurrent: 2, signal: controller.signal });
  const err = await it.next().catch((e) => e);
  assert.ok(err instanceof CancelledError);
  assert.equal(err.message, "stop");
});

Deno.test("alcallStream validates its options synchronously", () => {
  assert.throws(() => alcallStream([1], (x) => x, { buffer: 0 }), RangeError);
  assert.throws(
    () => alcallStream([1], (x) => x, { buffer: 1.5 }),
    /'buffer' must be an integer >= 1, received 1.5/,
  );
  // deno-lint-ignore no-explicit-any
  assert.throws(() => alcallStream([1], (x) => x, { ordered: "yes" as any }), TypeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => alcallStream([1], "f" as any), TypeError);
});

Deno.test("alcall over an input whose next() never settles still ends at its deadline, generator or not", async () => {
  await withFakeTime(async (clock) => {
    async function* stalls(): AsyncGenerator<number> {
      yield 1;
      await new Promise(() => {}); // a source that never answers again
    }
    let pulls = 0;
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          pulls++ === 0 ? Promise.resolve({ done: false, value: 1 }) : new Promise(() => {}),
      }),
    };
    for (const input of [stalls(), iterable]) {
      const p = failAfter(100, () => alcall(input, (x) => x, { maxConcurrent: 2 })).catch((e) => e);
      await clock.tickAsync(100);
      assert.ok((await p) instanceof TimeoutError);
    }
  });
});

Deno.test("alcall pulls a plain async iterator (not a generator) one next() at a time", async () => {
  let inFlight = 0, worst = 0, i = 0;
  const iterable: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        worst = Math.max(worst, ++inFlight);
        await sleep(1);
        inFlight--;
        return i < 20 ? { done: false, value: i++ } : { done: true, value: undefined };
      },
    }),
  };
  const out = await alcall(iterable, async (x) => {
    await sleep(3);
    return x;
  }, { maxConcurrent: 4 });
  assert.deepEqual(out, Array.from({ length: 20 }, (_, k) => k));
  assert.equal(worst, 1);
});

Deno.test("without a limit, every item of an async input starts as soon as it is pulled", async () => {
  await withFakeTime(async (clock) => {
    const starts: number[] = [];
    const p = alcall(counted(5).input, async (x) => {
      starts.push(currentTime());
      await sleep(10);
      return x;
    });
    await clock.tickAsync(10);
    assert.deepEqual(await p, [0, 1, 2, 3, 4]);
    assert.deepEqual(starts, [0, 0, 0, 0, 0]);
    const q = boundedMap(counted(3).input, (x) => sleep(5).then(() => -x), { limit: Infinity });
    await clock.tickAsync(5);
    assert.deepEqual(await q, [-0, -1, -2]);
  });
});

Deno.test("alcallStream ends with the input's own error, unwrapped, after cancelling the running items", async () => {
  const broken = new Error("broken stream");
  const aborted: number[] = [];
  const gen = () => breaksAfterTwo(broken);
  const out: unknown[] = [];
  const err = await (async () => {
    for await (
      const v of alcallStream(gen(), async (x, ctx) => {
        if (x === 0) return x;
        try {
          await sleep(1_000, { signal: ctx.signal });
        } finally {
          if (ctx.signal.aborted) aborted.push(x);
        }
      }, { maxConcurrent: 4, ordered: false })
    ) out.push(v);
  })().catch((e) => e);
  assert.equal(err, broken);
  assert.deepEqual(out, [0]);
  assert.deepEqual(aborted, [1]);
});

Deno.test("alcallStream: items running when the buffer fills still finish, so finished results can exceed buffer", async () => {
  let started = 0, finished = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const it = alcallStream(counted(100).input, async (x) => {
    started++;
    await gate;
    finished++;
    return x;
  }, { maxConcurrent: 3, buffer: 1 });
  const first = it.next();
  await sleep(5);
  assert.equal(started, 3);
  open();
  assert.deepEqual(await first, { done: false, value: 0 });
  await sleep(5);
  // 1 and 2 were running when 0 finished: both wait, one more than buffer,
  // and nothing else started (3 started <= maxConcurrent + buffer).
  assert.equal(finished - 1, 2);
  assert.equal(started, 3);
  await it.return!();
});

Deno.test("alcallStream's buffer defaults to maxConcurrent", async () => {
  let started = 0, consumed = 0, worst = 0;
  for await (
    const _ of alcallStream(counted(100).input, async () => {
      worst = Math.max(worst, ++started - consumed);
      await null;
    }, { maxConcurrent: 2 })
  ) {
    consumed++;
    await sleep(1);
  }
  assert.equal(consumed, 100);
  assert.ok(worst <= 4, `${worst} started but unconsumed`);
  assert.ok(worst >= 3, `the buffer held only ${worst - 2}`);
});

Deno.test("alcallStream answers concurrent next() calls in the order they were made", async () => {
  const it = alcallStream([1, 10, 20], async (ms) => {
    await sleep(ms);
    return ms;
  }, { ordered: false });
  const a = it.next(), b = it.next();
  assert.equal((await a).value, 1);
  const c = it.next(); // asked while b still waits: b is answered first
  assert.equal((await b).value, 10);
  assert.equal((await c).value, 20);
  assert.equal((await it.next()).done, true);
});
