// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The worker-pool job of `gather`, `boundedMap` and `asCompleted`, and how
 * they read their input (internal).
 *
 * @module
 */

import { ExceptionGroup } from "./errors.ts";
import { describeValue, isIterable } from "./_validate.ts";
import { taskGroup } from "./task_group.ts";
import { type PoolInput, type PoolJob, WorkerPool } from "./_worker_pool.ts";
import type { ItemSignals } from "./_item_signals.ts";

/**
 * The job of `gather`, `boundedMap` and `asCompleted`: `call` each item with
 * the group's signal and hand each outcome to `onResult`; without
 * `returnExceptions` the first failure stops the pool and fails the group.
 */
export class TaskJob<I> implements PoolJob<I> {
  stopped = false;
  readonly gate = undefined;

  /** The group's signal, set when the group starts. */
  signal: AbortSignal | undefined = undefined;
  /**
   * Set when results are handed out before the group ends (`asCompleted`):
   * each item gets a signal of its own, which leaving early does not abort
   * once the item has ended.
   */
  itemSignals: ItemSignals | undefined = undefined;

  constructor(
    readonly call: (item: I, index: number, signal: AbortSignal) => unknown,
    readonly onResult: (index: number, value: unknown) => void,
    readonly returnExceptions: boolean,
  ) {}

  start(item: I, index: number): unknown {
    const own = this.itemSignals;
    return this.call(item, index, own === undefined ? this.signal! : own.open(index, this.signal!));
  }

  settled(index: number, value: unknown): void {
    this.itemSignals?.settle(index);
    if (!this.stopped) this.onResult(index, value);
  }

  failed(index: number, err: unknown): void {
    this.itemSignals?.settle(index);
    if (!this.returnExceptions) {
      // The group sees the failure a microtask later: until then, stop
      // starting and counting here.
      this.stopped = true;
      throw err;
    }
    this.onResult(index, err);
  }
}

/** Renames a task group's `ExceptionGroup` after the pattern that ran it. */
export function regroup(err: unknown, where: string): unknown {
  if (!(err instanceof ExceptionGroup)) return err;
  const n = err.exceptions.length;
  return new ExceptionGroup(`${where}: ${n} task${n === 1 ? "" : "s"} failed`, err.exceptions);
}

/** Calls a task of `gather`/`asCompleted` with the group's signal. */
export const callTask = (
  fn: (signal: AbortSignal) => unknown,
  _index: number,
  signal: AbortSignal,
): unknown => fn(signal);

/** Maps `input` in a task group and collects the outcomes at their index (`gather`, `boundedMap`). */
export async function collect<I>(
  input: PoolInput<I>,
  call: (item: I, index: number, signal: AbortSignal) => unknown,
  limit: number,
  returnExceptions: boolean,
  where: string,
): Promise<unknown[]> {
  const results: unknown[] = [];
  const store = (index: number, value: unknown): void => {
    results[index] = value;
  };
  const job = new TaskJob(call, store, returnExceptions);
  const pool = new WorkerPool(input, limit, job);
  try {
    await taskGroup((tg) => {
      job.signal = tg.signal;
      pool.launch(tg);
    });
  } catch (err) {
    // The input failed first (a late item failure or cancellation came while
    // its running items unwound): its error stands, unwrapped (API.md §9).
    throw pool.inputError !== undefined ? pool.inputError.error : regroup(err, where);
  } finally {
    await pool.close();
  }
  if (pool.inputError !== undefined) throw pool.inputError.error;
  return results;
}

/** True for an object with a `Symbol.asyncIterator` method. */
export function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as AsyncIterable<T>)[Symbol.asyncIterator] === "function";
}

/**
 * How the pool reads `items` (`boundedMap`): an array by index, any other
 * iterable or an async iterable through its iterator (a sync iterator wins
 * when both exist).
 *
 * @throws {TypeError} If `items` is neither iterable nor async iterable.
 */
export function poolInputOf<T>(items: unknown, where: string): PoolInput<T> {
  if (Array.isArray(items)) return { array: items as T[] };
  if (isIterable(items)) return { iterator: (items as Iterable<T>)[Symbol.iterator]() };
  if (isAsyncIterable<T>(items)) return { asyncIterator: items[Symbol.asyncIterator]() };
  throw new TypeError(
    `${where}: 'items' must be iterable, received ${
      describeValue(items, "bare")
    } (sync or async iterables only)`,
  );
}
