// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The per-call overhead of `retry` when the operation succeeds on its first
 * attempt (the common case, so the one that must be cheap), against p-retry
 * and a bare `await` of the same operation.
 *
 * One bench iteration makes {@linkcode CALLS} calls, so `time/iter` divided
 * by {@linkcode CALLS} is the time of one. `retry` is the baseline of the
 * group, so the summary prints its ratio to the bare call and to p-retry.
 *
 * Run: `deno bench --allow-all bench/patterns_bench.ts`
 *
 * @module
 */

import pRetry from "p-retry";
import { CancelScope, retry } from "../mod.ts";

/** Calls per bench iteration. */
export const CALLS = 10_000;

const group = "retry, first attempt succeeds";
const operation = (): Promise<number> => Promise.resolve(42);

Deno.bench({
  group,
  name: "bare: await fn()",
  async fn() {
    for (let i = 0; i < CALLS; i++) await operation();
  },
});

Deno.bench({
  group,
  name: "retry(fn)",
  baseline: true,
  async fn() {
    for (let i = 0; i < CALLS; i++) await retry(operation);
  },
});

Deno.bench({
  group,
  name: "retry(fn) inside a scope",
  async fn() {
    await new CancelScope().run(async () => {
      for (let i = 0; i < CALLS; i++) await retry(operation);
    });
  },
});

Deno.bench({
  group,
  name: "retry(fn, { signal })",
  async fn() {
    const { signal } = new AbortController();
    for (let i = 0; i < CALLS; i++) await retry(operation, { signal });
  },
});

Deno.bench({
  group,
  name: "p-retry: pRetry(fn)",
  async fn() {
    for (let i = 0; i < CALLS; i++) await pRetry(operation);
  },
});

Deno.bench({
  group,
  name: "p-retry: pRetry(fn, { signal })",
  async fn() {
    const { signal } = new AbortController();
    for (let i = 0; i < CALLS; i++) await pRetry(operation, { signal });
  },
});
