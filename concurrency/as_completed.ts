// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `asCompleted`: results in completion order, as an async iterator.
 *
 * @module
 */

import { type TaskGroup, taskGroup } from "./task_group.ts";
import {
  checkBoolean,
  checkNumber,
  checkOptions,
  checkTasks,
  isLimit,
  LIMIT,
} from "./_validate.ts";
import { WorkerPool } from "./_worker_pool.ts";
import { Fifo } from "./_fifo.ts";
import { callTask, regroup, TaskJob } from "./_pool_tasks.ts";
import { ItemSignals } from "./_item_signals.ts";

/** Options of {@linkcode asCompleted}. */
export interface AsCompletedOptions {
  /** How many functions may run at once: a positive integer or Infinity (the default). */
  limit?: number;
  /**
   * If true, a failure cancels nothing: the error is yielded as that
   * function's result (default false).
   */
  returnExceptions?: boolean;
}

interface PendingNext {
  resolve: (result: IteratorResult<[number, unknown]>) => void;
  reject: (err: unknown) => void;
}

const DONE: IteratorResult<[number, unknown]> = Object.freeze({ done: true, value: undefined });

/** The iterator {@linkcode asCompleted} returns; its task group starts on the first `next()`. */
class CompletionIterator implements AsyncIterableIterator<[number, unknown]>, AsyncDisposable {
  readonly #fns: ReadonlyArray<(signal: AbortSignal) => unknown>;
  readonly #limit: number;
  readonly #returnExceptions: boolean;
  #group: TaskGroup | undefined = undefined;
  #run: Promise<void> | undefined = undefined;
  #finished = false;
  /** The iterator yields nothing more (return() called, or the error delivered). */
  #closed = false;
  #error: { value: unknown } | undefined = undefined;
  // Results not yet asked for, and next() calls not yet answered: FIFO
  // arrays with a head index (at most one of the two is non-empty).
  readonly #results = new Fifo<[number, unknown]>();
  readonly #waiting = new Fifo<PendingNext>();

  constructor(
    fns: ReadonlyArray<(signal: AbortSignal) => unknown>,
    limit: number,
    returnExceptions: boolean,
  ) {
    this.#fns = fns;
    this.#limit = limit;
    this.#returnExceptions = returnExceptions;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<[number, unknown]>> {
    if (this.#run === undefined && !this.#closed) this.#start();
    if (this.#results.size > 0) {
      const value = this.#results.shift();
      return Promise.resolve({ done: false, value });
    }
    if (this.#closed) return Promise.resolve(DONE);
    if (this.#finished) return this.#close();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<[number, unknown]>> {
    const wasClosed = this.#closed;
    this.#closed = true;
    this.#results.clear();
    if (this.#run === undefined) return DONE;
    // No group if the caller's scope was cancelled before the body could run.
    if (!this.#finished) this.#group?.cancelScope.cancel("asCompleted iterator closed");
    await this.#run;
    if (wasClosed) return DONE;
    return this.#close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.return().then(() => {});
  }

  #start(): void {
    const fns = this.#fns;
    const job = new TaskJob(callTask, this.#push, this.#returnExceptions);
    job.itemSignals = new ItemSignals();
    this.#run = taskGroup((tg) => {
      this.#group = tg;
      job.signal = tg.signal;
      new WorkerPool({ array: fns }, this.#limit, job).launch(tg);
    }).then(
      () => this.#finish(undefined),
      (err) => this.#finish({ value: regroup(err, "asCompleted") }),
    );
  }

  readonly #push = (index: number, value: unknown): void => {
    if (this.#closed || this.#group!.signal.aborted) return;
    const entry: [number, unknown] = [index, value];
    if (this.#waiting.size > 0) {
      this.#waiting.shift().resolve({ done: false, value: entry });
    } else {
      this.#results.push(entry);
    }
  };

  #finish(error: { value: unknown } | undefined): void {
    this.#finished = true;
    this.#error = error;
    while (this.#waiting.size > 0) {
      const waiter = this.#waiting.shift();
      if (this.#closed) waiter.resolve(DONE);
      else this.#close().then(waiter.resolve, waiter.reject);
    }
  }

  /** Ends the iteration: rejects once with the run's error, if any. */
  #close(): Promise<IteratorResult<[number, unknown]>> {
    this.#closed = true;
    const error = this.#error;
    this.#error = undefined;
    return error === undefined ? Promise.resolve(DONE) : Promise.reject(error.value);
  }
}

/**
 * Runs the functions concurrently (at most `limit` at once) and yields
 * `[index, value]` pairs in completion order.
 *
 * Nothing starts before the first `next()`; the functions run in a task
 * group whose parent is the scope ambient then. Leaving the loop early
 * (`break`, `return`, a throw) or disposing of the iterator (`await using`)
 * cancels what is still running and waits for it to unwind.
 *
 * Without `returnExceptions`, a failure cancels the rest; the iterator yields
 * the results that completed before it, then throws an
 * {@linkcode ExceptionGroup} of every failure once everything has unwound.
 * An early exit throws it too if it was not delivered yet (a failure, or an
 * error raised while unwinding): no error is lost. Nothing that completes
 * after a failure or a cancellation is yielded.
 *
 * @typeParam T The type of the values.
 * @param fns The functions to run; each receives a signal of its own that
 * aborts when it is cancelled while it runs, never once it has ended (so a
 * `fetch` yielded before an early exit keeps its body readable).
 * @param options `limit` and `returnExceptions`.
 * @returns An async iterator of `[index, value]` pairs (with
 * `returnExceptions`, a failure's error is its value).
 * @throws {TypeError} If `fns` is not an iterable of functions or an option
 * has the wrong type.
 * @throws {RangeError} If `limit` is not a positive integer or Infinity.
 *
 * @example Usage
 * ```ts
 * import { asCompleted, sleep } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const order: number[] = [];
 * for await (const [index] of asCompleted([() => sleep(60), () => sleep(20), () => sleep(40)])) {
 *   order.push(index);
 * }
 * assert.deepEqual(order, [1, 2, 0]);
 * ```
 */
export function asCompleted<T>(
  fns: Iterable<(signal: AbortSignal) => T | Promise<T>>,
  options?: AsCompletedOptions & { returnExceptions?: false },
): AsyncIterableIterator<[index: number, result: T]> & AsyncDisposable;
/**
 * Runs the functions concurrently (at most `limit` at once) and yields
 * `[index, value or error]` pairs in completion order; a failure cancels
 * nothing.
 *
 * @typeParam T The type of the values.
 * @param fns The functions to run.
 * @param options `limit` and `returnExceptions: true`.
 * @returns An async iterator of `[index, value or error]` pairs.
 */
export function asCompleted<T>(
  fns: Iterable<(signal: AbortSignal) => T | Promise<T>>,
  options: AsCompletedOptions,
): AsyncIterableIterator<[index: number, result: T | Error]> & AsyncDisposable;
/**
 * Like the other overloads, for functions of different return types: the
 * results are typed as the union of their awaited return types.
 *
 * @typeParam F The type of the functions.
 * @param fns The functions to run.
 * @param options `limit` and `returnExceptions` (absent or false).
 * @returns An async iterator of `[index, value]` pairs.
 */
export function asCompleted<F extends (signal: AbortSignal) => unknown>(
  fns: Iterable<F>,
  options?: AsCompletedOptions & { returnExceptions?: false },
): AsyncIterableIterator<[index: number, result: Awaited<ReturnType<F>>]> & AsyncDisposable;
/**
 * Like the other overloads, for functions of different return types, with
 * `returnExceptions`.
 *
 * @typeParam F The type of the functions.
 * @param fns The functions to run.
 * @param options `limit` and `returnExceptions: true`.
 * @returns An async iterator of `[index, value or error]` pairs.
 */
export function asCompleted<F extends (signal: AbortSignal) => unknown>(
  fns: Iterable<F>,
  options: AsCompletedOptions,
): AsyncIterableIterator<[index: number, result: Awaited<ReturnType<F>> | Error]> & AsyncDisposable;
export function asCompleted<T>(
  fns: Iterable<(signal: AbortSignal) => T | Promise<T>>,
  options?: AsCompletedOptions,
): AsyncIterableIterator<[index: number, result: T | Error]> & AsyncDisposable {
  const where = "Cannot call asCompleted";
  const list = checkTasks<(signal: AbortSignal) => unknown>(fns, where);
  const o = checkOptions(options, where);
  const limit = o?.limit === undefined
    ? Infinity
    : checkNumber(o.limit, "limit", where, LIMIT, isLimit);
  const returnExceptions = checkBoolean(o?.returnExceptions, "returnExceptions", where);
  return new CompletionIterator(list, limit, returnExceptions) as
    & AsyncIterableIterator<[number, T | Error]>
    & AsyncDisposable;
}
