// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `alcall` against its peers (p-map, p-limit, p-queue, async, bluebird,
 * @supercharge/promise-pool, effect) and a hand-written floor, plus the
 * per-item cost of `attemptTimeout` against p-timeout.
 *
 * - W1: 100,000 items, concurrency 64, `async (x) => x`: pure scheduling cost.
 * - W2: 10,000 items each awaiting `setTimeout(0)`, concurrency 100: the
 *   machinery should vanish behind a real (if tiny) wait.
 * - attemptTimeout: W1 with `attemptTimeout: 5_000` on every item, against the
 *   floor (and p-map) with p-timeout around every call.
 *
 * One bench iteration maps the whole input, so `time/iter` is the time of all
 * its items: divide by the item count (in the group's name) for the time of
 * one. In every group `alcall` is the reference (`baseline: true`), so the
 * summary prints its ratio to every peer and to the floor.
 *
 * `deno bench` runs all iterations of one contender, then of the next: on a
 * noisy machine a ratio drifts with the load. Run the file with `deno run`
 * for the interleaved mode instead: every round maps the input once with each
 * contender of a workload (the slowest peers left out), and the report gives
 * the median time per item and the median (and quartiles) of the per-round
 * ratio to the floor.
 *
 * Every contender is checked for a complete, input-ordered result once at
 * load time, and cheaply after every iteration.
 *
 * To compare with the code before a change in the same run, point
 * `ALCALL_BEFORE` at that code's `mod.ts` (e.g. `git archive HEAD | tar -x -C
 * /tmp/before`): its `alcall` joins every group as `alcall (before)`.
 *
 * Run: `deno bench --allow-all bench/alcall_bench.ts`
 * (interleaved: `deno run --allow-all bench/alcall_bench.ts [rounds]`)
 *
 * @module
 */

import pMap from "p-map";
import pLimit from "p-limit";
import PQueue from "p-queue";
import asyncLib from "async";
import Bluebird from "bluebird";
import { PromisePool } from "@supercharge/promise-pool";
import { Effect } from "effect";
import pTimeout from "p-timeout";
import { alcall } from "../mod.ts";
import { floorMap } from "./_floor_map.ts";

/** Items of W1 and of the attemptTimeout group. */
export const W1_ITEMS = 100_000;
/** Concurrency of W1 and of the attemptTimeout group. */
export const W1_CONCURRENCY = 64;
/** Items of W2. */
export const W2_ITEMS = 10_000;
/** Concurrency of W2. */
export const W2_CONCURRENCY = 100;
/** The per-attempt timeout of the attemptTimeout group (never reached). */
export const ATTEMPT_TIMEOUT = 5_000;

/** A bounded map over `items`: one contender. */
type Mapper = (
  items: readonly number[],
  fn: (x: number) => Promise<number>,
  concurrency: number,
) => Promise<unknown[]>;

const withPTimeout = (fn: (x: number) => Promise<number>) => (x: number): Promise<number> =>
  pTimeout(fn(x), { milliseconds: ATTEMPT_TIMEOUT });

/** Every contender, by bench name. */
export const MAPPERS: Record<string, Mapper> = {
  "alcall": (items, fn, c) => alcall(items, fn, { maxConcurrent: c }),
  "floor (hand-written workers)": floorMap,
  "p-map": (items, fn, c) => pMap(items, fn, { concurrency: c }),
  "p-limit + Promise.all": (items, fn, c) => {
    const limit = pLimit(c);
    return Promise.all(items.map((x) => limit(fn, x)));
  },
  "p-queue addAll/onIdle": async (items, fn, c) => {
    const queue = new PQueue({ concurrency: c });
    const all = queue.addAll(items.map((x) => () => fn(x)));
    await queue.onIdle();
    return await all;
  },
  "async.mapLimit": (items, fn, c) => asyncLib.mapLimit(items, c, fn),
  "bluebird Promise.map": (items, fn, c) =>
    Promise.resolve(Bluebird.map(items, fn, { concurrency: c })),
  // useCorrespondingResults: results in input order, like every other contender.
  "@supercharge/promise-pool": async (items, fn, c) => {
    const { results } = await PromisePool.withConcurrency(c).for(items)
      .useCorrespondingResults().process(fn);
    return results;
  },
  "effect Effect.forEach": (items, fn, c) =>
    Effect.runPromise(
      Effect.forEach(items, (x) => Effect.promise(() => fn(x)), { concurrency: c }),
    ),
  "alcall attemptTimeout: 5_000": (items, fn, c) =>
    alcall(items, fn, { maxConcurrent: c, attemptTimeout: ATTEMPT_TIMEOUT }),
  "floor + p-timeout per call": (items, fn, c) => floorMap(items, withPTimeout(fn), c),
  "p-map + p-timeout per call": (items, fn, c) => pMap(items, withPTimeout(fn), { concurrency: c }),
};

/** One workload: its input, its function and its contenders. */
interface Workload {
  /** Bench group. */
  group: string;
  items: number;
  concurrency: number;
  fn: (x: number) => Promise<number>;
  /** Contender names; the first is the baseline, the second the floor. */
  contenders: string[];
  /** Iterations (and warmups) per contender in `deno bench`. */
  n: number;
  /** Fewer iterations for these (the slow ones), so that a run stays within minutes. */
  slow: string[];
  /** Left out of the interleaved mode (too slow to run every round). */
  notInterleaved: string[];
}

// The workload of the issue: a native async function (async.mapLimit needs one).
// deno-lint-ignore require-await
const identity = async (x: number): Promise<number> => x;
const afterTimer = async (x: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, 0));
  return x;
};

const FLOOR = "floor (hand-written workers)";
const SLOW_PEERS = [
  "p-limit + Promise.all",
  "p-queue addAll/onIdle",
  "@supercharge/promise-pool",
  "effect Effect.forEach",
];
const P_TIMEOUT = ["floor + p-timeout per call", "p-map + p-timeout per call"];

const BEFORE = Deno.env.get("ALCALL_BEFORE");
const before = BEFORE === undefined ? undefined : (await import(BEFORE)).alcall as typeof alcall;
if (before !== undefined) {
  MAPPERS["alcall (before)"] = (items, fn, c) => before(items, fn, { maxConcurrent: c });
  MAPPERS["alcall (before) attemptTimeout"] = (items, fn, c) =>
    before(items, fn, { maxConcurrent: c, attemptTimeout: ATTEMPT_TIMEOUT });
}
const withBefore = (names: string[]): string[] => before === undefined ? [] : names;

/** The workloads. */
export const WORKLOADS: Workload[] = [
  {
    group: `W1 ${W1_ITEMS} × async (x) => x, concurrency ${W1_CONCURRENCY}`,
    items: W1_ITEMS,
    concurrency: W1_CONCURRENCY,
    fn: identity,
    contenders: [
      "alcall",
      FLOOR,
      ...withBefore(["alcall (before)"]),
      "p-map",
      "p-limit + Promise.all",
      "p-queue addAll/onIdle",
      "async.mapLimit",
      "bluebird Promise.map",
      "@supercharge/promise-pool",
      "effect Effect.forEach",
    ],
    n: 60,
    slow: SLOW_PEERS,
    notInterleaved: SLOW_PEERS,
  },
  {
    group: `W2 ${W2_ITEMS} × setTimeout(0), concurrency ${W2_CONCURRENCY}`,
    items: W2_ITEMS,
    concurrency: W2_CONCURRENCY,
    fn: afterTimer,
    contenders: ["alcall", FLOOR, ...withBefore(["alcall (before)"]), "p-map"],
    n: 20,
    slow: [],
    notInterleaved: [],
  },
  {
    group: `attemptTimeout ${W1_ITEMS} × async (x) => x, concurrency ${W1_CONCURRENCY}`,
    items: W1_ITEMS,
    concurrency: W1_CONCURRENCY,
    fn: identity,
    contenders: [
      "alcall",
      FLOOR,
      "alcall attemptTimeout: 5_000",
      ...withBefore(["alcall (before) attemptTimeout"]),
      ...P_TIMEOUT,
    ],
    n: 40,
    slow: P_TIMEOUT,
    notInterleaved: ["p-map + p-timeout per call"],
  },
];

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Benchmark invariant broken: ${what}`);
}

/** Cheap per-iteration check: the length and both ends. */
function checkEnds(results: unknown[], n: number, name: string): void {
  check(
    results.length === n && results[0] === 0 && results[n - 1] === n - 1,
    `${name}: wrong results`,
  );
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// Full check of every contender once, on a small input with uneven delays,
// so that a mapper that loses items or order cannot produce a number.
{
  const input = range(1_000);
  const uneven = async (x: number): Promise<number> => {
    for (let k = x % 7; k > 0; k--) await null;
    return x;
  };
  for (const [name, map] of Object.entries(MAPPERS)) {
    const results = await map(input, uneven, 16);
    check(
      results.length === input.length && results.every((v, i) => v === i),
      `${name}: results incomplete or out of order`,
    );
  }
}

for (const w of WORKLOADS) {
  const input = range(w.items);
  for (const name of w.contenders) {
    const map = MAPPERS[name];
    const slow = w.slow.includes(name);
    Deno.bench({
      group: w.group,
      name,
      baseline: name === w.contenders[0],
      n: slow ? 8 : w.n,
      warmup: slow ? 2 : Math.ceil(w.n / 6),
      async fn() {
        checkEnds(await map(input, w.fn, w.concurrency), w.items, name);
      },
    });
  }
}

/** The `q` quantile of sorted `xs`. */
function quantile(xs: number[], q: number): number {
  return xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
}

/** Interleaved mode: every round runs each contender once, in a rotating order. */
async function interleaved(rounds: number): Promise<void> {
  const warmup = 3;
  console.log(`interleaved, ${rounds} rounds (+${warmup} warmup), Deno ${Deno.version.deno}`);
  for (const w of WORKLOADS) {
    const input = range(w.items);
    const names = w.contenders.filter((name) => !w.notInterleaved.includes(name));
    const times = names.map((): number[] => []);
    for (let r = 0; r < warmup + rounds; r++) {
      for (let k = 0; k < names.length; k++) {
        const j = (k + r) % names.length;
        const start = performance.now();
        const results = await MAPPERS[names[j]](input, w.fn, w.concurrency);
        const ns = (performance.now() - start) * 1e6 / w.items;
        checkEnds(results, w.items, names[j]);
        if (r >= warmup) times[j].push(ns);
      }
    }
    const floor = times[names.indexOf(FLOOR)];
    console.log(`\n${w.group}`);
    console.log(`${"contender".padEnd(30)} ${"ns/item".padStart(9)}   per-round ratio to floor`);
    names.forEach((name, j) => {
      const ns = times[j].toSorted((a, b) => a - b);
      const ratios = times[j].map((t, r) => t / floor[r]).sort((a, b) => a - b);
      console.log(
        `${name.padEnd(30)} ${quantile(ns, 0.5).toFixed(1).padStart(9)}   ${
          quantile(ratios, 0.5).toFixed(2)
        } [${quantile(ratios, 0.25).toFixed(2)}..${quantile(ratios, 0.75).toFixed(2)}]`,
      );
    });
  }
}

if (import.meta.main) await interleaved(Number(Deno.args[0] ?? 30));
