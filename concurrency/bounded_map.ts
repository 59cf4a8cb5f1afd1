// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `boundedMap`: map a function over items with at most `limit` running.
 *
 * @module
 */

import {
  checkBoolean,
  checkFunction,
  checkNumber,
  checkOptions,
  isLimit,
  LIMIT,
} from "./_validate.ts";
import type { PoolInput } from "./_worker_pool.ts";
import { collect, poolInputOf } from "./_pool_tasks.ts";

/** Options of {@linkcode boundedMap}. */
export interface BoundedMapOptions {
  /** How many calls may run at once: a positive integer or Infinity. */
  limit: number;
  /**
   * If true, a failure neither cancels the others nor rejects: the error sits
   * at its index in the results (default false).
   */
  returnExceptions?: boolean;
}

/**
 * Calls `fn(item, index, signal)` for every item, at most `limit` at once,
 * and resolves with the values in input order. `limit` workers pull items
 * from the iterator one at a time, so a huge (or lazy) input is never
 * turned into one promise per item up front.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s values.
 * @param items The items: any iterable or async iterable, pulled lazily
 * (at most `limit` ahead of those finished); it is closed if the map stops
 * early.
 * @param fn The mapper; it receives the item, its index and a signal that
 * aborts when the map is cancelled.
 * @param options `limit` and `returnExceptions`.
 * @returns The values, in input order (errors at their index with
 * `returnExceptions`).
 * @throws {ExceptionGroup} Without `returnExceptions`, if a call failed: the
 * first failure cancels the rest and starts no more.
 * @throws {unknown} Whatever the input iterator threw, unwrapped, even with
 * `returnExceptions`: the running calls are cancelled first.
 * @throws {CancelledError} If an enclosing scope was cancelled.
 * @throws {TypeError} If `items` is neither iterable nor async iterable, `fn` not a function or
 * `options.limit` missing (as a rejection).
 * @throws {RangeError} If `limit` is not a positive integer or Infinity (as a
 * rejection).
 *
 * @example Usage
 * ```ts
 * import { boundedMap, sleep } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * let running = 0, peak = 0;
 * const doubled = await boundedMap([1, 2, 3, 4, 5], async (n) => {
 *   peak = Math.max(peak, ++running);
 *   await sleep(1);
 *   running--;
 *   return n * 2;
 * }, { limit: 2 });
 * assert.deepEqual(doubled, [2, 4, 6, 8, 10]);
 * assert.equal(peak, 2);
 * ```
 */
export function boundedMap<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  fn: (item: T, index: number, signal: AbortSignal) => R | Promise<R>,
  options: BoundedMapOptions & { returnExceptions?: false },
): Promise<R[]>;
/**
 * Calls `fn(item, index, signal)` for every item, at most `limit` at once,
 * and resolves with the values or errors in input order.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s values.
 * @param items The items.
 * @param fn The mapper.
 * @param options `limit` and `returnExceptions: true`.
 * @returns The values and errors, in input order.
 */
export function boundedMap<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  fn: (item: T, index: number, signal: AbortSignal) => R | Promise<R>,
  options: BoundedMapOptions,
): Promise<Array<R | Error>>;
export function boundedMap<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  fn: (item: T, index: number, signal: AbortSignal) => R | Promise<R>,
  options: BoundedMapOptions,
): Promise<Array<R | Error>> {
  const where = "Cannot boundedMap";
  let input: PoolInput<unknown>, limit: number, returnExceptions: boolean;
  try {
    checkFunction(fn, "fn", where);
    const o = checkOptions(options, where);
    if (o === undefined) {
      throw new TypeError(
        `${where}: 'options' must be an object with a 'limit', received undefined`,
      );
    }
    limit = checkNumber(o.limit, "limit", where, LIMIT, isLimit);
    returnExceptions = checkBoolean(o.returnExceptions, "returnExceptions", where);
    input = poolInputOf(items, where);
  } catch (err) {
    return Promise.reject(err);
  }
  return collect(
    input,
    fn as (item: unknown, index: number, signal: AbortSignal) => unknown,
    limit,
    returnExceptions,
    "boundedMap",
  ) as Promise<Array<R | Error>>;
}
