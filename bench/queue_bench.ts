// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Throughput of `Queue` and `PriorityQueue`: one caller putting and getting
 * with nobody waiting, a ping-pong where every `get` waits for its item (the
 * hand-off path), and a bounded pipeline where producers and consumers both
 * wait. A hand-written floor (an array of items and an array of resolvers, no
 * cancellation, no bound) shows what the unbounded groups cost at least.
 *
 * One iteration is the whole workload (`ops` operations); `Queue` is the
 * reference of every group. Run: `deno bench --allow-all bench/queue_bench.ts`,
 * or interleaved in CPU time (see `_interleaved.ts`):
 * `deno run --allow-all bench/queue_bench.ts [rounds] [filter]`
 *
 * @module
 */

import { PriorityQueue, Queue } from "../mod.ts";
import { bench, runInterleaved } from "./_interleaved.ts";

/** The part of the queue API the workloads use. */
export interface BenchQueue {
  put(item: number): Promise<void>;
  putNowait(item: number): void;
  get(): Promise<number>;
  getNowait(): number;
  close(): void;
  [Symbol.asyncIterator](): AsyncIterator<number>;
}

/** The least an unbounded async FIFO queue does: items, and resolvers of waiting gets. */
class FloorQueue implements BenchQueue {
  // Two arrays used as queues, with head and tail indices reset when empty,
  // so a steady workload neither shifts nor reallocates.
  #items: number[] = [];
  #head = 0;
  #tail = 0;
  #getters: ((item: number) => void)[] = [];
  #getHead = 0;
  #getTail = 0;

  put(item: number): Promise<void> {
    this.putNowait(item);
    return Promise.resolve();
  }

  putNowait(item: number): void {
    if (this.#getHead === this.#getTail) {
      this.#items[this.#tail++] = item;
      return;
    }
    const resolve = this.#getters[this.#getHead++];
    if (this.#getHead === this.#getTail) this.#getHead = this.#getTail = 0;
    resolve(item);
  }

  getNowait(): number {
    const item = this.#items[this.#head++];
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
    return item;
  }

  get(): Promise<number> {
    if (this.#head < this.#tail) return Promise.resolve(this.getNowait());
    return new Promise((resolve) => this.#getters[this.#getTail++] = resolve);
  }

  close(): void {}

  [Symbol.asyncIterator](): AsyncIterator<number> {
    throw new Error("not used");
  }
}

const N = 100_000;

function check(got: number, want: number): void {
  if (got !== want) throw new Error(`Benchmark invariant broken: ${got} !== ${want}`);
}

/** Registers the workloads for one queue implementation. */
export function registerQueueBenches(
  name: string,
  make: (maxSize?: number) => BenchQueue,
  { baseline = false, bounded = true }: { baseline?: boolean; bounded?: boolean } = {},
): void {
  const sumTo = (n: number): number => n * (n - 1) / 2;
  bench({
    group: "putNowait + getNowait ×100k",
    name,
    baseline,
    ops: N,
    fn() {
      const q = make();
      let sum = 0;
      for (let i = 0; i < N; i++) {
        q.putNowait(i);
        q.putNowait(i);
        sum += q.getNowait() + q.getNowait();
      }
      check(sum, 2 * sumTo(N));
      return Promise.resolve();
    },
  });
  bench({
    group: "await put + await get, nobody waits ×100k",
    name,
    baseline,
    ops: N,
    async fn() {
      const q = make();
      let sum = 0;
      for (let i = 0; i < N; i++) {
        await q.put(i);
        sum += await q.get();
      }
      check(sum, sumTo(N));
    },
  });
  bench({
    group: "ping-pong, every get waits ×100k",
    name,
    baseline,
    ops: N,
    async fn() {
      const ping = make(), pong = make();
      const echo = (async () => {
        for (let i = 0; i < N; i++) pong.putNowait(await ping.get());
      })();
      let sum = 0;
      for (let i = 0; i < N; i++) {
        ping.putNowait(i);
        sum += await pong.get();
      }
      await echo;
      check(sum, sumTo(N));
    },
  });
  if (!bounded) return;
  bench({
    group: "pipeline: 1 producer, 4 consumers, maxSize 16 ×100k",
    name,
    baseline,
    ops: N,
    async fn() {
      const q = make(16);
      let sum = 0;
      const consumers = Array.from({ length: 4 }, async () => {
        for await (const item of q as AsyncIterable<number>) sum += item;
      });
      for (let i = 0; i < N; i++) await q.put(i);
      q.close();
      await Promise.all(consumers);
      check(sum, sumTo(N));
    },
  });
}

registerQueueBenches("Queue", (maxSize) => new Queue<number>({ maxSize }), { baseline: true });
registerQueueBenches("PriorityQueue", (maxSize) => new PriorityQueue<number>({ maxSize }));
registerQueueBenches("hand-written floor (unbounded)", () => new FloorQueue(), {
  bounded: false,
});

if (import.meta.main) await runInterleaved(Number(Deno.args[0] ?? 10));
