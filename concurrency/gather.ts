// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `gather`: run functions concurrently, results in order.
 *
 * @module
 */

import { checkBoolean, checkOptions, checkTasks } from "./_validate.ts";
import { callTask, collect } from "./_pool_tasks.ts";

/** Options of {@linkcode gather}. */
export interface GatherOptions {
  /**
   * If true, a failure neither cancels the others nor rejects: the error sits
   * at its index in the results (default false).
   */
  returnExceptions?: boolean;
}

/**
 * Runs every function concurrently, as children of one task group, and
 * resolves with their values in input order. Each function receives the
 * group's signal, which aborts when the others fail or the caller is
 * cancelled; the ambient scope inside each is the group's.
 *
 * @typeParam T The type of the values.
 * @param fns The functions to run.
 * @param options `returnExceptions`.
 * @returns The values, in the order of `fns` (errors at their index with
 * `returnExceptions`).
 * @throws {ExceptionGroup} Without `returnExceptions`, if any function failed:
 * the first failure cancels the rest, and the group holds every failure.
 * @throws {CancelledError} If an enclosing scope was cancelled.
 * @throws {TypeError} If `fns` is not an iterable of functions (as a rejection).
 *
 * @example Usage
 * ```ts
 * import { gather, sleep } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const values = await gather([
 *   async () => { await sleep(2); return "slow"; },
 *   () => "fast",
 * ]);
 * assert.deepEqual(values, ["slow", "fast"]);
 * ```
 */
export function gather<T>(
  fns: Iterable<(signal: AbortSignal) => T | Promise<T>>,
  options?: GatherOptions & { returnExceptions?: false },
): Promise<T[]>;
/**
 * Runs every function concurrently and resolves with their values or errors,
 * in input order; a failure cancels nothing.
 *
 * @typeParam T The type of the values.
 * @param fns The functions to run.
 * @param options `returnExceptions: true`.
 * @returns The values and errors, in the order of `fns`.
 */
export function gather<T>(
  fns: Iterable<(signal: AbortSignal) => T | Promise<T>>,
  options: GatherOptions,
): Promise<Array<T | Error>>;
/**
 * Like the other overloads, for functions of different return types: the
 * values are typed as the union of their awaited return types.
 *
 * @typeParam F The type of the functions.
 * @param fns The functions to run.
 * @param options `returnExceptions` (absent or false).
 * @returns The values, in the order of `fns`.
 */
export function gather<F extends (signal: AbortSignal) => unknown>(
  fns: Iterable<F>,
  options?: GatherOptions & { returnExceptions?: false },
): Promise<Array<Awaited<ReturnType<F>>>>;
/**
 * Like the other overloads, for functions of different return types, with
 * `returnExceptions`.
 *
 * @typeParam F The type of the functions.
 * @param fns The functions to run.
 * @param options `returnExceptions: true`.
 * @returns The values and errors, in the order of `fns`.
 */
export function gather<F extends (signal: AbortSignal) => unknown>(
  fns: Iterable<F>,
  options: GatherOptions,
): Promise<Array<Awaited<ReturnType<F>> | Error>>;
export function gather<T>(
  fns: Iterable<(signal: AbortSignal) => T | Promise<T>>,
  options?: GatherOptions,
): Promise<Array<T | Error>> {
  const where = "Cannot gather";
  let list: Array<(signal: AbortSignal) => T | Promise<T>>, returnExceptions: boolean;
  try {
    list = checkTasks(fns, where);
    returnExceptions = checkBoolean(
      checkOptions(options, where)?.returnExceptions,
      "returnExceptions",
      where,
    );
  } catch (err) {
    return Promise.reject(err);
  }
  return collect(
    { array: list },
    callTask as (item: unknown, index: number, signal: AbortSignal) => unknown,
    Infinity,
    returnExceptions,
    "gather",
  ) as Promise<Array<T | Error>>;
}
