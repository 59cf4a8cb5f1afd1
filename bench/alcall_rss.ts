// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * W6, memory: maps 1,000,000 items (`async (x) => x`, concurrency 64) with ONE
 * variant, in its own process, so that `bench/alcall_rss.sh` can read its peak
 * RSS with `/usr/bin/time -v`. Prints nothing; exits non-zero (with a message)
 * if the results are wrong or the variant is unknown.
 *
 * Variants (first argument):
 * - `baseline`: only allocates the input and an output array like the ones
 *   the others produce (what every variant needs at least);
 * - `alcall`, `pmap`, `floor`: map the input with `alcall`, p-map, or the
 *   hand-written floor of `bench/alcall_bench.ts`.
 *
 * Every variant imports the same modules, so that the code loaded is the same
 * in every process and the difference of peak RSS is the mapping's alone.
 *
 * Run: `deno run bench/alcall_rss.ts alcall` (or use `bench/alcall_rss.sh`).
 *
 * @module
 */

import pMap from "p-map";
import { alcall } from "../mod.ts";
import { floorMap } from "./_floor_map.ts";

/** Items mapped. */
export const ITEMS = 1_000_000;
/** Workers / concurrency. */
export const CONCURRENCY = 64;

// The workload of the issue: a native async function (async.mapLimit needs one).
// deno-lint-ignore require-await
const identity = async (x: number): Promise<number> => x;

const VARIANTS: Record<string, (input: number[]) => Promise<unknown[]>> = {
  baseline: (input) => {
    const output = new Array<number>(input.length);
    for (let i = 0; i < input.length; i++) output[i] = input[i];
    return Promise.resolve(output);
  },
  alcall: (input) => alcall(input, identity, { maxConcurrent: CONCURRENCY }),
  pmap: (input) => pMap(input, identity, { concurrency: CONCURRENCY }),
  floor: (input) => floorMap(input, identity, CONCURRENCY),
};

const variant = VARIANTS[Deno.args[0]];
if (Deno.args.length !== 1 || variant === undefined) {
  console.error(`usage: deno run bench/alcall_rss.ts ${Object.keys(VARIANTS).join(" | ")}`);
  Deno.exit(2);
}

const input = Array.from({ length: ITEMS }, (_, i) => i);
const output = await variant(input);
// Check (and keep both arrays alive until here).
if (output.length !== ITEMS || output[0] !== 0 || output[ITEMS - 1] !== ITEMS - 1) {
  console.error(`${Deno.args[0]}: wrong results`);
  Deno.exit(1);
}
