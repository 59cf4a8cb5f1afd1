// Copyright 2026 the @lionpride/core authors. MIT license.
import assert from "node:assert/strict";
import { type AlcallProgress, bcall, currentTime, ExceptionGroup } from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const batch of gen) out.push(batch);
  return out;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("bcall yields the results batch by batch, batchSize items each, the last one partial", async () => {
  const batches = await collect(bcall([1, 2, 3, 4, 5], (x) => x * 10, { batchSize: 2 }));
  assert.deepEqual(batches, [[10, 20], [30, 40], [50]]);
});

Deno.test("bcall gives ctx.index as the index in the whole input", async () => {
  const seen: Array<[string, number]> = [];
  await collect(bcall(["a", "b", "c", "d", "e"], (x, ctx) => {
    seen.push([x, ctx.index]);
  }, { batchSize: 2 }));
  assert.deepEqual(seen, [["a", 0], ["b", 1], ["c", 2], ["d", 3], ["e", 4]]);
});

Deno.test("bcall runs batches one after another, each after the consumer asked for it", async () => {
  await withFakeTime(async (clock) => {
    const starts: Array<[number, number]> = [];
    const gen = bcall([0, 1, 2, 3], async (x) => {
      starts.push([x, currentTime()]);
      await delay(10);
      return x;
    }, { batchSize: 2 });
    const first = gen.next();
    await clock.tickAsync(10);
    assert.deepEqual(await first, { value: [0, 1], done: false });
    await clock.tickAsync(50); // nobody asks: the next batch does not start
    assert.deepEqual(starts, [[0, 0], [1, 0]]);
    const second = gen.next();
    await clock.tickAsync(10);
    assert.deepEqual(await second, { value: [2, 3], done: false });
    assert.deepEqual(starts.slice(2), [[2, 60], [3, 60]]);
    assert.deepEqual(await gen.next(), { value: undefined, done: true });
  });
});

Deno.test("bcall starts no further batch once the loop is left", async () => {
  const called: number[] = [];
  for await (const batch of bcall([0, 1, 2, 3, 4, 5], (x) => called.push(x), { batchSize: 2 })) {
    assert.equal(batch.length, 2);
    break;
  }
  assert.deepEqual(called, [0, 1]);
});

Deno.test("bcall throws a batch's ExceptionGroup after yielding the batches before it", async () => {
  const boom = new Error("boom");
  const got: number[][] = [];
  let calls = 0;
  await assert.rejects(
    (async () => {
      for await (
        const batch of bcall([0, 1, 2, 3, 4, 5], (x) => {
          calls++;
          if (x === 3) throw boom;
          return x;
        }, { batchSize: 2, maxConcurrent: 1 })
      ) got.push(batch);
    })(),
    (err: unknown) => err instanceof ExceptionGroup && err.exceptions[0] === boom,
  );
  assert.deepEqual(got, [[0, 1]]);
  assert.equal(calls, 4); // the third batch never started
});

Deno.test("bcall with returnExceptions yields errors at their index in the batch", async () => {
  const boom = new Error("boom");
  const batches = await collect(bcall([0, 1, 2], (x) => {
    if (x === 1) throw boom;
    return x;
  }, { batchSize: 2, returnExceptions: true }));
  assert.deepEqual(batches, [[0, boom], [2]]);
});

Deno.test("bcall onProgress counts over the whole input, across batches", async () => {
  const log: AlcallProgress[] = [];
  await collect(bcall([0, 1, 2, 3, 4], (x, ctx) => {
    if (x === 3 && ctx.attempt === 1) throw new Error("retry me");
    return x;
  }, { batchSize: 2, retryAttempts: 1, onProgress: (p) => log.push(p) }));
  assert.ok(log.every((p) => p.total === 5));
  assert.deepEqual(log[log.length - 1], {
    total: 5,
    started: 5,
    succeeded: 5,
    failed: 0,
    retries: 1,
    running: 0,
  });
  assert.deepEqual(log.map((p) => p.started), [1, 2, 2, 2, 3, 4, 4, 4, 4, 5, 5]);
});

Deno.test("bcall: a signal aborted between batches makes the next batch reject with its reason", async () => {
  const controller = new AbortController();
  const gen = bcall([1, 2, 3], (x) => x, { batchSize: 1, signal: controller.signal });
  assert.deepEqual(await gen.next(), { value: [1], done: false });
  controller.abort("enough");
  await assert.rejects(gen.next(), (e) => e === "enough");
});

Deno.test("bcall applies the input options to the whole input and the output options per batch", async () => {
  const batches = await collect(bcall([[1, 1], [null, 2, 3]], (x) => [x, x], {
    batchSize: 2,
    inputFlatten: true,
    inputDropna: true,
    inputUnique: true,
    outputFlatten: true,
    outputUnique: true,
  }));
  assert.deepEqual(batches, [[1, 2], [3]]);
});

Deno.test("bcall throws at once for a missing or wrong batchSize, naming it and the value", () => {
  const fn = (x: number) => x;
  const cases: Array<[unknown, typeof TypeError | typeof RangeError, RegExp]> = [
    [undefined, TypeError, /'batchSize' must be a positive integer, received undefined/],
    ["2", TypeError, /'batchSize' .*received string "2"/],
    [0, RangeError, /'batchSize' .*received 0/],
    [-1, RangeError, /received -1/],
    [1.5, RangeError, /received 1.5/],
    [NaN, RangeError, /received NaN/],
  ];
  for (const [batchSize, type, message] of cases) {
    assert.throws(
      () => bcall([1], fn, { batchSize } as never),
      (err: unknown) => err instanceof type && message.test((err as Error).message),
    );
  }
  assert.throws(() => bcall([1], fn, undefined as never), TypeError);
  assert.throws(() => bcall([1], "fn" as never, { batchSize: 1 }), TypeError);
});

Deno.test("bcall validates the alcall options before running anything", () => {
  let calls = 0;
  assert.throws(
    () => bcall([1, 2], () => calls++, { batchSize: 1, maxConcurrent: 0 }),
    (err: unknown) => err instanceof RangeError && /bcall: 'maxConcurrent'/.test(err.message),
  );
  assert.throws(
    () => bcall([1, 2], () => calls++, { batchSize: 1, retryOn: 1 as never }),
    TypeError,
  );
  assert.equal(calls, 0);
});

Deno.test("bcall spaces starts by throttlePeriod across batches and waits delayBeforeStart only once", async () => {
  await withFakeTime(async (clock) => {
    const starts: number[] = [];
    const run = collect(bcall([0, 1, 2, 3], async () => {
      starts.push(currentTime());
      await delay(3);
    }, { batchSize: 1, throttlePeriod: 100, delayBeforeStart: 50 }));
    await clock.tickAsync(1_000);
    await run;
    assert.deepEqual(starts, [50, 150, 250, 350]);
  });
});
