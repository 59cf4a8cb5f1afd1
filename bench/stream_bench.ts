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
 * - `pooledMap`: the algorithm of @std/async `pooledMap` (a TransformStream of
 *   promises, `Promise.race` over the running set), written here because JSR
 *   is not reachable;
 * - `pMapIterable`: p-map's `pMapIterable` (concurrency and backpressure 64).
 *
 * Prints one JSON line: variant, items, ms, ns/item, and the peak RSS sampled
 * every 50 ms (`Deno.memoryUsage().rss`).
 *
 * Run: `deno run --allow-all bench/stream_bench.ts alcallStream 1000000`
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
  pooledMap: (n) => drain(pooledMap(CONCURRENCY, numbers(n), identity)),
  pMapIterable: (n) =>
    drain(
      pMapIterable(numbers(n), identity, { concurrency: CONCURRENCY, backpressure: CONCURRENCY }),
    ),
};

if (import.meta.main) {
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
