// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `bcall`: `alcall` batch by batch, as an async generator.
 *
 * @module
 */

import { describeValue } from "../concurrency/errors.ts";

import {
  type AlcallOptions,
  Books,
  type CallContext,
  itemsOf,
  planOf,
  runAlcall,
  shapeOutput,
} from "./alcall.ts";

/**
 * Runs {@linkcode alcall} over `input` in batches of `batchSize` items and
 * yields each batch's results as it completes. Breaking out of the loop starts
 * no further batch. `ctx.index` is the item's index in the whole input, and
 * `onProgress` counts over the whole input (its `total` is the input's size).
 * Options are validated when iteration starts (the first `next()` rejects).
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input An iterable of items (a string or non-iterable is one item).
 * @param fn The function to apply.
 * @param options The options of `alcall`, plus `batchSize` (a positive integer).
 * @returns An async generator of result batches.
 * @throws {TypeError} If `fn`, `options` or an option has the wrong type
 * (synchronously, before anything runs).
 * @throws {RangeError} If `batchSize` is not a positive integer, or an option
 * is out of range (synchronously).
 *
 * @example Usage
 * ```ts
 * import { bcall } from "@lionpride/core";
 *
 * const batches: number[][] = [];
 * for await (const batch of bcall([1, 2, 3, 4, 5], (x) => x * 10, { batchSize: 2 })) {
 *   batches.push(batch);
 * }
 * if (!(JSON.stringify(batches) === "[[10,20],[30,40],[50]]")) throw new Error("unexpected result");
 * ```
 */
export function bcall<T, R>(
  input: Iterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options: AlcallOptions<R> & { batchSize: number },
): AsyncGenerator<R[]> {
  const where = "Cannot call bcall";
  if (typeof fn !== "function") {
    throw new TypeError(`${where}: 'fn' must be a function, received ${typeof fn}`);
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${where}: 'options' must be an object with 'batchSize', received ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  const { batchSize } = options;
  if (typeof batchSize !== "number") {
    throw new TypeError(
      `${where}: 'batchSize' must be a positive integer, received ${describeValue(batchSize)}`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `${where}: 'batchSize' must be a positive integer, received ${batchSize}`,
    );
  }
  const plan = planOf(options as AlcallOptions, where);
  const items = itemsOf(input, plan) as T[];
  return batches(items, fn, plan, batchSize);
}

/** The batches of a validated `bcall`. */
async function* batches<T, R>(
  items: T[],
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  plan: ReturnType<typeof planOf>,
  batchSize: number,
): AsyncGenerator<R[]> {
  // One set of books for the whole input, so onProgress counts across batches.
  const books = new Books(items.length);
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = items.slice(start, start + batchSize);
    const results = await runAlcall(batch, fn, plan, start, books);
    yield shapeOutput(results, plan) as R[];
  }
}
