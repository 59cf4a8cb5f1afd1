// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `bcall`: `alcall` batch by batch, as an async generator.
 *
 * @module
 */

import {
  checkFunction,
  checkNumber,
  describeValue,
  isPositiveInteger,
} from "../concurrency/_validate.ts";
import type { PoolInput } from "../concurrency/_worker_pool.ts";
import { ALCALL, type AlcallOptions, type CallContext, type Plan, planOf } from "./_plan.ts";
import { Books, Run, runAlcall, type StartGate, startGateOf } from "./_run.ts";
import { callInputOf, shapeOutput } from "./_shape.ts";

/**
 * Runs {@linkcode alcall} over `input` in batches of `batchSize` items and
 * yields each batch's results as it completes. Breaking out of the loop starts
 * no further batch. `ctx.index` is the item's index in the whole input, and
 * `onProgress` counts over the whole input (its `total` is the input's size,
 * or the items pulled so far from a lazy input). `throttlePeriod` spaces
 * every two starts of the whole call, across batches, and `delayBeforeStart`
 * holds back only the first start.
 *
 * Any iterable but an array, and any async iterable, is pulled one batch at
 * a time: a long stream never sits in memory.
 * Arguments are checked when `bcall` is called: a bad one throws at once,
 * before anything runs.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input An array, any iterable or async iterable, or one item (a
 * string or non-iterable).
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
 * import assert from "node:assert/strict";
 *
 * const batches: number[][] = [];
 * for await (const batch of bcall([1, 2, 3, 4, 5], (x) => x * 10, { batchSize: 2 })) {
 *   batches.push(batch);
 * }
 * assert.deepEqual(batches, [[10, 20], [30, 40], [50]]);
 * ```
 */
export function bcall<T, R>(
  input: Iterable<T> | AsyncIterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options: AlcallOptions<R> & { batchSize: number },
): AsyncGenerator<R[]> {
  const where = "Cannot call bcall";
  checkFunction(fn, "fn", where, ALCALL);
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${where}: 'options' must be an object with 'batchSize', received ${
        describeValue(options, ALCALL)
      }`,
    );
  }
  // Published with the typed style: `received string "2"`.
  const batchSize = checkNumber(
    options.batchSize,
    "batchSize",
    where,
    "a positive integer",
    isPositiveInteger,
    "typed",
  );
  const plan = planOf(options as AlcallOptions, where);
  const { input: source, size } = callInputOf<T>(input, plan);
  return batches(source, size, fn, plan, batchSize);
}

/** The batches of `input`, `size` items each (the last may be shorter). */
async function* chunksOf<T>(input: PoolInput<T>, size: number): AsyncGenerator<T[]> {
  if ("array" in input) {
    for (let start = 0; start < input.array.length; start += size) {
      yield input.array.slice(start, start + size);
    }
    return;
  }
  const iterator = "iterator" in input ? input.iterator : input.asyncIterator;
  let done = false;
  try {
    while (!done) {
      const batch: T[] = [];
      while (batch.length < size) {
        let step: IteratorResult<T>;
        try {
          step = await iterator.next();
        } catch (err) {
          done = true; // a throwing input is not closed
          throw err;
        }
        if (step.done) {
          done = true;
          break;
        }
        batch.push(step.value);
      }
      if (batch.length > 0) yield batch;
    }
  } finally {
    // Left early: close the input, as for-of does.
    if (!done) await iterator.return?.();
  }
}

/** The batches of a validated `bcall`: one set of books and one start gate for them all. */
async function* batches<T, R>(
  input: PoolInput<T>,
  size: number | undefined,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  plan: Plan,
  batchSize: number,
): AsyncGenerator<R[]> {
  const books = new Books(size ?? 0, plan.limiter);
  const gate: StartGate | undefined = startGateOf(plan);
  let offset = 0;
  for await (const batch of chunksOf(input, batchSize)) {
    const run = new Run(fn, plan, offset, books, gate, batch.length);
    if (size === undefined) books.total = offset + batch.length;
    const results = await runAlcall(run, { array: batch });
    offset += batch.length;
    yield shapeOutput(results, plan) as R[];
  }
}
