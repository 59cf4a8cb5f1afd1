// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Streaming: map an async generator of N items (`async (x) => x`,
 * concurrency 64) and consume the results, with ONE variant per process, so
 * that `bench/stream_bench.sh` can compare peak RSS and time side by side:
 *
 * - `empty`: an empty Deno process that imports the same modules (RSS base);
 * - `alcallStream`: `alcallStream(gen, fn, { maxConcurrent: 64 })`, input order;
 * - `alcallStream-unordered`: the same with `ordered: false`;
 * - `floor`: a hand-written async-iterator pool (64 workers pulling `next()`,
 *   no order, no cancellation, no errors): what any stream map needs at least;
 * - `floor-iterator`: the same, handing its results to the consumer through
 *   an async iterator with a 64-result bound, as every stream API does;
 * - `pooledMap`: the algorithm of @std/async `pooledMap` (a TransformStream of
 *   promises, `Promise.race` over the running set), written here because JSR
 *   is not reachable;
 * - `pMapIterable`: p-map's `pMapIterable` (concurrency and backpressure 64).
 *
 * Prints one JSON line: variant, items, ms, ns/item, and the peak RSS sampled
 * every 50 ms (`Deno.memoryUsage().rss`).
 *
 * `compare [items] [rounds]` runs the variants (but `empty` and `pooledMap`)
 * interleaved in one process instead, and prints the median ns/item and the
 * median per-round ratio to the floor: steadier on a noisy machine.
 *
 * Run: `deno run --allow-all bench/stream_bench.ts alcallStream 1000000`
 * (`deno run --allow-all bench/stream_bench.ts compare 200000 10`)
 *
 * @module
 */

import { pMapIterable } from "p-map";
import { alcallStream } from "../mod.ts";

const CONCURRENCY = 64;

async function* numbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

// deno-lint-ignore require-await
const identity = async (x: number): Promise<number> => x;

/** The hand-written floor: 64 workers pulling one shared async iterator. */
async function floor(n: number): Promise<number> {
  const it = numbers(n);
  let sum = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      sum += await identity(r.value);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return sum;
}

/**
 * The hand-written floor of a stream map: 64 workers pulling one shared async
 * iterator and handing each result to the consumer through an async
 * iterator (completion order; a worker waits while 64 results are queued;
 * no order, no cancellation, no errors).
 */
function floorIterator(n: number): AsyncIterableIterator<number> {
  const it = numbers(n);
  const queue: number[] = [];
  let head = 0, running = CONCURRENCY;
  let wake: (() => void) | undefined;
  const room: Array<() => void> = [];
  const worker = async (): Promise<void> => {
    for (;;) {
      while (queue.length - head >= CONCURRENCY) await new Promise<void>((r) => room.push(r));
      const r = await it.next();
      if (r.done) break;
      queue.push(await identity(r.value));
      wake?.();
    }
    running--;
    wake?.();
  };
  for (let w = 0; w < CONCURRENCY; w++) worker();
  return (async function* () {
    for (;;) {
      if (head < queue.length) {
        const value = queue[head++];
        if (head === queue.length) queue.length = head = 0;
        else if (head >= 1024) queue.splice(0, head), head = 0;
        room.pop()?.();
        yield value;
      } else if (running === 0) return;
      else await new Promise<void>((r) => (wake = r)).then(() => (wake = undefined));
    }
  })();
}

/** @std/async pooledMap's algorithm, as a reference. */
function pooledMap<T, R>(
  limit: number,
  items: AsyncIterable<T>,
  fn: (item: T) => Promise<R>,
): AsyncIterableIterator<R> {
  const results = new TransformStream<Promise<R>, R>({
    async transform(promise, controller) {
      controller.enqueue(await promise);
    },
  });
  (async () => {
    const writer = results.writable.getWriter();
    const running: Array<Promise<unknown>> = [];
    for await (const item of items) {
      const p = Promise.resolve().then(() => fn(item));
      writer.write(p);
      const e: Promise<unknown> = p.then(() => running.splice(running.indexOf(e), 1));
      running.push(e);
      if (running.length >= limit) await Promise.race(running);
    }
    await Promise.all(running);
    writer.close();
  })();
  return results.readable[Symbol.asyncIterator]();
}

async function drain(results: AsyncIterable<unknown>): Promise<number> {
  let sum = 0;
  for await (const v of results) sum += v as number;
  return sum;
}

const VARIANTS: Record<string, (n: number) => Promise<number>> = {
  empty: () => Promise.resolve(0),
  alcallStream: (n) => drain(alcallStream(numbers(n), identity, { maxConcurrent: CONCURRENCY })),
  "alcallStream-unordered": (n) =>
    drain(alcallStream(numbers(n), identity, { maxConcurrent: CONCURRENCY, ordered: false })),
  floor,
  "floor-iterator": (n) => drain(floorIterator(n)),
  pooledMap: (n) => drain(pooledMap(CONCURRENCY, numbers(n), identity)),
  pMapIterable: (n) =>
    drain(
      pMapIterable(numbers(n), identity, { concurrency: CONCURRENCY, backpressure: CONCURRENCY }),
    ),
};

/** Interleaved rounds in one process: median ns/item and per-round ratio to the floor. */
async function compare(n: number, rounds: number): Promise<void> {
  const names = Object.keys(VARIANTS).filter((v) => v !== "empty" && v !== "pooledMap");
  const times = names.map((): number[] => []);
  for (let r = 0; r < rounds + 2; r++) {
    for (let k = 0; k < names.length; k++) {
      const j = (k + r) % names.length;
      const start = performance.now();
      await VARIANTS[names[j]](n);
      if (r >= 2) times[j].push((performance.now() - start) * 1e6 / n);
    }
  }
  const floorTimes = times[names.indexOf("floor")];
  const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${n} items, ${rounds} interleaved rounds, Deno ${Deno.version.deno}`);
  names.forEach((name, j) => {
    const ratios = times[j].map((t, r) => t / floorTimes[r]);
    console.log(
      `${name.padEnd(24)} ${median(times[j]).toFixed(0).padStart(6)} ns/item  ${
        median(ratios).toFixed(2)
      } × floor`,
    );
  });
}

if (import.meta.main && Deno.args[0] === "compare") {
  await compare(Number(Deno.args[1] ?? 200_000), Number(Deno.args[2] ?? 10));
} else if (import.meta.main) {
  const [name, count = "1000000"] = Deno.args;
  const variant = VARIANTS[name];
  if (variant === undefined) {
    console.error(
      `usage: deno run -A bench/stream_bench.ts ${Object.keys(VARIANTS).join("|")} [items]`,
    );
    Deno.exit(2);
  }
  const n = Number(count);
  let peak = Deno.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 50);
  const start = performance.now();
  const sum = await variant(n);
  const ms = performance.now() - start;
  clearInterval(sampler);
  peak = Math.max(peak, Deno.memoryUsage().rss);
  if (name !== "empty" && sum !== n * (n - 1) / 2) {
    console.error(`${name}: wrong sum ${sum}`);
    Deno.exit(1);
  }
  console.log(JSON.stringify({
    variant: name,
    items: n,
    ms: Math.round(ms),
    nsPerItem: Math.round(ms * 1e6 / Math.max(n, 1)),
    peakRssMiB: Math.round(peak / 2 ** 20 * 10) / 10,
  }));
}
