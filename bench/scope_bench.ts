// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The cost of a timeout around work that finishes at once: `failAfter`
 * against p-timeout, `AbortSignal.timeout` + `Promise.race`,
 * `setTimeout`/`clearTimeout` + `Promise.race`, a bare `await`, and
 * `AsyncLocalStorage.run` alone (what making a scope ambient costs at least).
 *
 * One bench iteration runs 100,000 calls one after the other, so `time/iter`
 * is the time of 100,000 calls (1 ms/iter = 10 ns/call). `failAfter` is the
 * reference of the group (`baseline: true`).
 *
 * `AbortSignal.timeout` cannot be cleared: every call leaves a 5 s timer
 * behind (Deno unrefs it, so it does not keep the process alive). That bench
 * comes last in the file, so its timers cannot slow the others down. Every
 * other bench leaves no timer behind.
 *
 * Run: `deno bench --allow-all bench/scope_bench.ts`, or interleaved in CPU
 * time (see `_interleaved.ts`; without the `AbortSignal.timeout` bench):
 * `deno run --allow-all bench/scope_bench.ts [rounds]`
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import pTimeout from "p-timeout";
import { currentTime, failAfter, TimeoutError } from "../mod.ts";
import { bench, runInterleaved } from "./_interleaved.ts";

/** Sequential calls per iteration. */
export const CALLS = 100_000;
/** The timeout of every call, in ms: it never fires. */
export const TIMEOUT_MS = 5_000;

const fn = (): Promise<number> => Promise.resolve(1);

function check(sum: number): void {
  if (sum !== CALLS) throw new Error(`Benchmark invariant broken: sum ${sum}`);
}

const G = {
  group: "timeout around an immediate fn ×100k",
  n: 30,
  warmup: 5,
  ops: CALLS,
} as const;

bench({
  ...G,
  name: "failAfter(5_000, fn)",
  baseline: true,
  async fn() {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) sum += await failAfter(TIMEOUT_MS, fn);
    check(sum);
  },
});

bench({
  ...G,
  name: "bare await fn()",
  async fn() {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) sum += await fn();
    check(sum);
  },
});

// The runtime's floor for any scope that is ambient (seen by `sleep`,
// `acquire`, ... inside `fn` without passing it): entering a new value of an
// AsyncLocalStorage for the call. On Deno 2.9.6 `run` copies the whole async
// context into a new object and records the value in a WeakMap, every call.
const storage = new AsyncLocalStorage<object>();
const store = {};
bench({
  ...G,
  name: "AsyncLocalStorage.run(store, fn) alone",
  async fn() {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) sum += await storage.run(store, fn);
    check(sum);
  },
});

// The floor of the target (failAfter <= 2x this): making a scope
// ambient and reading the clock once for its deadline, nothing else.
bench({
  ...G,
  name: "AsyncLocalStorage.run + currentTime()",
  async fn() {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) {
      currentTime();
      sum += await storage.run(store, fn);
    }
    check(sum);
  },
});

bench({
  ...G,
  name: "setTimeout/clearTimeout + Promise.race",
  async fn() {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) {
      let id: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        id = setTimeout(() => reject(new TimeoutError()), TIMEOUT_MS);
      });
      try {
        sum += await Promise.race([fn(), timeout]);
      } finally {
        clearTimeout(id);
      }
    }
    check(sum);
  },
});

bench({
  ...G,
  name: "p-timeout: pTimeout(fn(), { milliseconds: 5_000 })",
  n: 10,
  warmup: 2,
  async fn() {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) {
      sum += await pTimeout(fn(), { milliseconds: TIMEOUT_MS });
    }
    check(sum);
  },
});

// Last: its timers cannot be cleared and stay pending for 5 s.
bench({
  ...G,
  name: "AbortSignal.timeout(5_000) + Promise.race",
  n: 10,
  warmup: 2,
  skipInterleaved: true, // its timers would pile up under the other benches
  async fn() {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) {
      const signal = AbortSignal.timeout(TIMEOUT_MS);
      let onAbort!: () => void;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
      });
      try {
        sum += await Promise.race([fn(), aborted]);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    }
    check(sum);
  },
});

if (import.meta.main) await runInterleaved(Number(Deno.args[0] ?? 10));
