// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `chunks`: work through a list in batches, e.g. checking a shutdown signal
 * or a checkpoint between them.
 *
 * @module
 */

import { checkNumber, describeValue } from "./_validate.ts";

const isPositiveSize = (n: number): boolean => Number.isInteger(n) && n >= 1;

/**
 * Splits `items` into consecutive slices of `size` items (the last may be
 * shorter).
 *
 * @typeParam T The type of the items.
 * @param items The items.
 * @param size Items per chunk, a positive integer.
 * @returns A generator of the chunks (fresh arrays).
 * @throws {TypeError} If `items` is not an array or `size` not a number.
 * @throws {RangeError} If `size` is not a positive integer.
 *
 * @example Usage
 * ```ts
 * import { chunks } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...chunks([1, 2, 3, 4, 5], 2)], [[1, 2], [3, 4], [5]]);
 * ```
 */
export function chunks<T>(items: readonly T[], size: number): Generator<T[], void, undefined> {
  if (!Array.isArray(items)) {
    throw new TypeError(
      `Cannot make chunks: 'items' must be an array, received ${describeValue(items)}`,
    );
  }
  checkNumber(size, "size", "Cannot make chunks", "a positive integer", isPositiveSize, "typed");
  return chunksOf(items, size);
}

function* chunksOf<T>(items: readonly T[], size: number): Generator<T[], void, undefined> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
