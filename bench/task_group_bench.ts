// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `taskGroup` with 100,000 children that resolve at once, against
 * `Promise.all` over 100,000 calls of the same async function.
 *
 * One bench iteration starts and joins all 100,000 children, so `time/iter`
 * is the time of 100,000 children (1 ms/iter = 10 ns/child). `taskGroup` is
 * the reference of the group (`baseline: true`).
 *
 * Run: `deno bench --allow-all bench/task_group_bench.ts`, or interleaved in
 * CPU time with a GC before each run (see `_interleaved.ts`): `deno run
 * --allow-all --v8-flags=--expose-gc bench/task_group_bench.ts [rounds]`
 *
 * @module
 */

import { taskGroup } from "../mod.ts";
import { bench, runInterleaved } from "./_interleaved.ts";

/** Children per iteration. */
export const CHILDREN = 100_000;

let finished = 0;
// deno-lint-ignore require-await
async function child(): Promise<void> {
  finished++;
}

function check(): void {
  if (finished !== CHILDREN) {
    throw new Error(`Benchmark invariant broken: ${finished} children finished`);
  }
  finished = 0;
}

const G = {
  group: "100k children that resolve at once",
  n: 30,
  warmup: 5,
  ops: CHILDREN,
} as const;

bench({
  ...G,
  name: "taskGroup + startSoon ×100k",
  baseline: true,
  async fn() {
    await taskGroup((tg) => {
      for (let i = 0; i < CHILDREN; i++) tg.startSoon(child);
    });
    check();
  },
});

bench({
  ...G,
  name: "Promise.all over 100k async calls",
  async fn() {
    const calls = new Array<Promise<void>>(CHILDREN);
    for (let i = 0; i < CHILDREN; i++) calls[i] = child();
    await Promise.all(calls);
    check();
  },
});

// Each run leaves 100k settled promises behind: without a GC between runs,
// whichever run comes next pays for them (use --v8-flags=--expose-gc).
if (import.meta.main) await runInterleaved(Number(Deno.args[0] ?? 20), { gcBeforeEach: true });
