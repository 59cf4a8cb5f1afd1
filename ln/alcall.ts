// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `alcall`: apply a function to every item of a list or a stream with
 * bounded concurrency, throttling, timeouts, retries that honour Retry-After,
 * limiters and rate limiters; results in input order. Built as input → worker
 * pool → output shaping (`_shape.ts`, `_run.ts`).
 *
 * @module
 */

import { checkFunction } from "../concurrency/_validate.ts";
import { ALCALL, type AlcallOptions, type CallContext, planOf } from "./_plan.ts";
import { Books, Run, runAlcall, startGateOf } from "./_run.ts";
import { callInputOf, shapeOutput } from "./_shape.ts";

export type {
  AlcallOptions,
  AlcallProgress,
  CallContext,
  PermitLimiter,
  TokenRateLimiter,
} from "./_plan.ts";

/**
 * Applies `fn` to every item of `input` with at most `maxConcurrent` running,
 * optional throttling, per-attempt and per-item timeouts, and retries with
 * backoff. Results keep input order.
 *
 * Without `returnExceptions`, the first final failure cancels the items still
 * running or queued and `alcall` rejects with an {@linkcode ExceptionGroup} of
 * every final failure; with it, each failure sits at its index. Cancellation
 * from `signal` or an enclosing scope rejects with that cancellation (the
 * signal's own `reason`). A cancellation is never retried nor replaced by
 * `retryDefault`; any other final failure (retries exhausted, an error
 * `retryOn` refuses, `retryTimeout` run out) takes `retryDefault` when it is
 * given. Items cancelled with the call count neither as succeeded nor failed.
 * An error thrown by `onProgress` fails the call like an item's failure.
 * An input that throws rejects the call with its error, unwrapped, after
 * the running items were cancelled; a call that stops early closes its input.
 *
 * When `attemptTimeout` or `retryTimeout` fires, the item fails with a
 * {@linkcode TimeoutError} whose `source` names the option and whose message
 * names the item and the attempt, e.g. `item 17: attempt 2 timed out after
 * 5000 ms (attemptTimeout)`. An error with a numeric `retryAfter` makes the
 * next attempt wait at least that long (see `maxRetryAfter`).
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input The items: an array (copied when the call starts), any other
 * iterable or an async iterable (pulled lazily, at most `maxConcurrent`
 * ahead of the items finished; give a limit for a long stream), or one item
 * (a string or a non-iterable, `null` included).
 * @param fn The function to apply; it receives the item and a {@linkcode CallContext}.
 * @param options See {@linkcode AlcallOptions}.
 * @returns The results, in input order.
 * @throws {ExceptionGroup} If items failed (without `returnExceptions`).
 * @throws {Error} The input's own error, if iterating it threw.
 * @throws {CancelledError} (or `signal.reason`) If the call was cancelled.
 * @throws {TypeError} If `fn` is not a function or an option has the wrong type.
 * @throws {RangeError} If an option is out of range.
 *
 * @example Usage
 * ```ts
 * import { alcall } from "@lionpride/core";
 *
 * import assert from "node:assert/strict";
 *
 * const results = await alcall([1, 2, 3], async (x) => x * 2, { maxConcurrent: 2 });
 * assert.deepEqual(results, [2, 4, 6]);
 * ```
 *
 * @example Retries and returnExceptions
 * ```ts
 * import { alcall } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const results = await alcall(["a", "b"], (x, ctx) => {
 *   calls++;
 *   if (x === "b" && ctx.attempt < 2) throw new Error("flaky");
 *   return x.toUpperCase();
 * }, { retryAttempts: 2, returnExceptions: true });
 * assert.deepEqual(results, ["A", "B"]);
 * assert.equal(calls, 3);
 * ```
 *
 * @example A stream, pulled lazily
 * ```ts
 * import { alcall } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * async function* numbers() {
 *   for (let i = 0; i < 5; i++) yield i;
 * }
 * assert.deepEqual(await alcall(numbers(), (x) => x * x, { maxConcurrent: 2 }), [0, 1, 4, 9, 16]);
 * ```
 */
export function alcall<T, R>(
  input: Iterable<T> | AsyncIterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options?: AlcallOptions<R> & { returnExceptions?: false },
): Promise<R[]>;
/**
 * Applies `fn` to every item, putting each failure at its index.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input An iterable of items (a string or non-iterable is one item).
 * @param fn The function to apply.
 * @param options See {@linkcode AlcallOptions}, with `returnExceptions: true`.
 * @returns The results and errors, in input order.
 */
export function alcall<T, R>(
  input: Iterable<T> | AsyncIterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options: AlcallOptions<R> & { returnExceptions: true },
): Promise<Array<R | Error>>;
/**
 * Applies `fn` to every item (general signature).
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input An iterable of items.
 * @param fn The function to apply.
 * @param options See {@linkcode AlcallOptions}.
 * @returns The results (and errors with `returnExceptions`), in input order.
 */
export function alcall<T, R>(
  input: Iterable<T> | AsyncIterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options?: AlcallOptions<R>,
): Promise<Array<R | Error>>;
export async function alcall<T, R>(
  input: Iterable<T> | AsyncIterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options?: AlcallOptions<R>,
): Promise<Array<R | Error>> {
  checkFunction(fn, "fn", "Cannot call alcall", ALCALL);
  const plan = planOf(options as AlcallOptions);
  const { input: source, size } = callInputOf<T>(input, plan);
  const run = new Run(fn, plan, 0, new Books(size ?? 0, plan.limiter), startGateOf(plan), size);
  const results = await runAlcall(run, source);
  return shapeOutput(results, plan) as Array<R | Error>;
}
