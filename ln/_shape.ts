// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * What `alcall`, `bcall` and `alcallStream` read and return (internal): the
 * input as the worker pool reads it (an array copied when the call starts,
 * any other iterable or an async iterable pulled lazily, anything else one
 * item), shaped by the input options on the way in, and the output options
 * on the way out.
 *
 * @module
 */

import type { PoolInput } from "../concurrency/_worker_pool.ts";
import { isAsyncIterable } from "../concurrency/_pool_tasks.ts";
import type { Plan } from "./_plan.ts";
import { isListLike, listItems, UniqueFilter } from "./to_list.ts";

/** The input of a call: how the pool reads it, and its size when known up front. */
export interface CallInput<T> {
  readonly input: PoolInput<T>;
  readonly size: number | undefined;
}

function shapesInput(plan: Plan): boolean {
  return plan.inputFlatten || plan.inputDropna || plan.inputUnique;
}

/** The items of `list`, flattened, without nulls and deduplicated as asked. */
function* shaped(
  list: Iterable<unknown>,
  flatten: boolean,
  dropna: boolean,
  unique: boolean,
): Generator<unknown, void, undefined> {
  const filter = unique ? new UniqueFilter() : undefined;
  for (const v of listItems(list, flatten, dropna)) {
    if (filter === undefined || filter.add(v)) yield v;
  }
}

const shapedItems = (list: Iterable<unknown>, plan: Plan) =>
  shaped(list, plan.inputFlatten, plan.inputDropna, plan.inputUnique);

/** The same for an async input: the seen-set of `inputUnique` lives as long as the stream. */
async function* shapedStream(
  stream: AsyncIterable<unknown>,
  plan: Plan,
): AsyncGenerator<unknown, void, undefined> {
  const filter = plan.inputUnique ? new UniqueFilter() : undefined;
  for await (const item of stream) {
    for (const v of listItems([item], plan.inputFlatten, plan.inputDropna)) {
      if (filter === undefined || filter.add(v)) yield v;
    }
  }
}

/**
 * How the pool reads `input`: an array is copied when the call starts (its
 * snapshot is the input); any other iterable (a sync iterator wins when both
 * exist) or an async iterable is pulled lazily; a string or a non-iterable,
 * `null` included, is one item.
 */
export function callInputOf<T>(input: unknown, plan: Plan): CallInput<T> {
  const shaped = shapesInput(plan);
  if (Array.isArray(input)) {
    const array = shaped ? Array.from(shapedItems(input, plan)) : input.slice();
    return { input: { array: array as T[] }, size: array.length };
  }
  if (isListLike(input)) {
    const iterator = shaped ? shapedItems(input, plan) : input[Symbol.iterator]();
    return { input: { iterator: iterator as Iterator<T> }, size: undefined };
  }
  if (isAsyncIterable(input)) {
    const stream = shaped ? shapedStream(input, plan) : input;
    return {
      input: { asyncIterator: stream[Symbol.asyncIterator]() as AsyncIterator<T> },
      size: undefined,
    };
  }
  const array = shaped ? Array.from(shapedItems([input], plan)) : [input];
  return { input: { array: array as T[] }, size: array.length };
}

/** Applies the output options. */
export function shapeOutput(results: unknown[], plan: Plan): unknown[] {
  if (!plan.outputFlatten && !plan.outputDropna && !plan.outputUnique) return results;
  return Array.from(shaped(results, plan.outputFlatten, plan.outputDropna, plan.outputUnique));
}
