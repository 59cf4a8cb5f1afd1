// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `bcall`: `alcall` batch by batch, as an async generator.
 *
 * @module
 */

import {
  type AlcallOptions,
  type CallContext,
  itemsOf,
  planOf,
  runAlcall,
  shapeOutput,
} from "./alcall.ts";

/**
 * Runs {@linkcode alcall} over `input` in batches of `batchSize` items and
 * yields each batch's results as it completes. Breaking out of the loop starts
 * no further batch. `ctx.index` is the item's index in the whole input.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input An iterable of items (a string or non-iterable is one item).
 * @param fn The function to apply.
 * @param options The options of `alcall`, plus `batchSize` (a positive integer).
 * @returns An async generator of result batches.
 * @throws {RangeError} If `batchSize` is not a positive integer.
 *
 * @example Usage
 * ```ts
 * import { bcall } from "@lionpride/core";
 *
 * const batches: number[][] = [];
 * for await (const batch of bcall([1, 2, 3, 4, 5], (x) => x * 10, { batchSize: 2 })) {
 *   batches.push(batch);
 * }
 * console.assert(JSON.stringify(batches) === "[[10,20],[30,40],[50]]");
 * ```
 */
export async function* bcall<T, R>(
  input: Iterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options: AlcallOptions<R> & { batchSize: number },
): AsyncGenerator<R[]> {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot call bcall: 'fn' must be a function, received ${typeof fn}`);
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot call bcall: 'options' must be an object with 'batchSize', received ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  const { batchSize } = options;
  if (typeof batchSize !== "number") {
    throw new TypeError(
      `Cannot call bcall: 'batchSize' must be a positive integer, received ${typeof batchSize}`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot call bcall: 'batchSize' must be a positive integer, received ${batchSize}`,
    );
  }
  planOf(options as AlcallOptions);
  const items = itemsOf(input, options as AlcallOptions) as T[];
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = items.slice(start, start + batchSize);
    const results = await runAlcall(batch, fn, planOf(options as AlcallOptions, start));
    yield shapeOutput(results, options as AlcallOptions) as R[];
  }
}
