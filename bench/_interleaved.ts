// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Registers benches with `Deno.bench` and, when a bench file is run with
 * `deno run`, runs them interleaved instead: every round runs each bench of a
 * group once, in a rotating order, and times it in CPU time (user + system of
 * this process). On a shared machine this is steadier than `deno bench`,
 * which runs every iteration of one bench before it starts the next, in wall
 * time: a burst of load then lands on one bench and moves the ratios.
 *
 * A file may ask for a full GC before each timed run (see `runInterleaved`).
 *
 * Not a bench file itself (its name does not end in `_bench.ts`).
 *
 * @module
 */

import process from "node:process";

/** A bench: a `Deno.bench` definition plus what interleaved mode needs. */
export interface BenchDef {
  group: string;
  name: string;
  fn: () => Promise<void>;
  /** The reference of the group: ratios are to it. */
  baseline?: boolean;
  n?: number;
  warmup?: number;
  /** Operations per call of `fn`, to print a time per operation. */
  ops: number;
  /** Left out of interleaved mode (too slow, or leaves timers behind). */
  skipInterleaved?: boolean;
}

const defs: BenchDef[] = [];

/** Registers `def` with `Deno.bench` and keeps it for interleaved mode. */
export function bench(def: BenchDef): void {
  defs.push(def);
  const { group, name, fn, baseline = false, n, warmup } = def;
  Deno.bench({ group, name, fn, baseline, n, warmup });
}

/** `gc()`, if V8 exposes it (`--v8-flags=--expose-gc`). */
const exposedGc = (globalThis as { gc?: () => void }).gc;

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function fmtNs(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}

/**
 * Runs every registered bench `rounds` times (after `warmup` rounds),
 * interleaved within each group, and prints per group: the median CPU time
 * per operation, and the median [quartiles] of the per-round ratio
 * `time ÷ baseline`.
 *
 * `filter` (by default the second command-line argument) is a regular
 * expression: only the benches whose "group: name" matches it run, e.g.
 * `"^contended.*: (CapacityLimiter|hand-written FIFO)$"`.
 *
 * With `gcBeforeEach` (and `--v8-flags=--expose-gc`), a full GC runs before
 * each timed run, so that no run pays for the garbage of the one before. Use
 * it only where each run's garbage dominates (100k objects at once): after a
 * full GC V8 shrinks the young generation, which slows down a run that keeps
 * many objects alive and allocates fast (the contended limiter runs 2–3×
 * slower and its ratios move).
 */
export async function runInterleaved(
  rounds: number,
  { warmup = 2, gcBeforeEach = false, filter = Deno.args[1] }: {
    warmup?: number;
    gcBeforeEach?: boolean;
    filter?: string;
  } = {},
): Promise<void> {
  const collectGarbage = gcBeforeEach ? exposedGc : undefined;
  console.log(
    `interleaved, ${rounds} rounds (+${warmup} warmup), CPU time, Deno ${Deno.version.deno}${
      collectGarbage === undefined ? "" : ", gc() before each run"
    }`,
  );
  const groups = new Map<string, BenchDef[]>();
  for (const def of defs) {
    if (def.skipInterleaved) continue;
    if (filter !== undefined && !new RegExp(filter).test(`${def.group}: ${def.name}`)) continue;
    const list = groups.get(def.group) ?? [];
    list.push(def);
    groups.set(def.group, list);
  }
  for (const [group, list] of groups) {
    const times = list.map((): number[] => []);
    for (let r = 0; r < warmup + rounds; r++) {
      for (let k = 0; k < list.length; k++) {
        const j = (k + r) % list.length;
        collectGarbage?.();
        const start = cpuMs();
        await list[j].fn();
        const ns = (cpuMs() - start) * 1e6 / list[j].ops;
        if (r >= warmup) times[j].push(ns);
      }
    }
    const base = times[Math.max(0, list.findIndex((d) => d.baseline))];
    console.log(`\n${group}`);
    console.log(`${"bench".padEnd(48)} ${"CPU/op".padStart(9)}   ÷ baseline, per round`);
    list.forEach((def, j) => {
      const ns = times[j].toSorted((a, b) => a - b);
      const ratios = times[j].map((t, r) => t / base[r]).sort((a, b) => a - b);
      console.log(
        `${def.name.slice(0, 48).padEnd(48)} ${fmtNs(quantile(ns, 0.5)).padStart(9)}   ${
          quantile(ratios, 0.5).toFixed(2)
        } [${quantile(ratios, 0.25).toFixed(2)}..${quantile(ratios, 0.75).toFixed(2)}]`,
      );
    });
  }
}
