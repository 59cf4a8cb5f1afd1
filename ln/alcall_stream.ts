// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `alcallStream`: `alcall`'s semantics over a stream, results yielded as they
 * are ready (in input order or completion order), with backpressure.
 *
 * @module
 */

import { CancelScope } from "../concurrency/cancel.ts";
import { Fifo } from "../concurrency/_fifo.ts";
import { ItemSignals } from "../concurrency/_item_signals.ts";
import {
  checkBoolean,
  checkFunction,
  checkNumber,
  isPositiveInteger,
} from "../concurrency/_validate.ts";
import { ALCALL, type AlcallOptions, type CallContext, type Plan, planOf } from "./_plan.ts";
import { Books, Run, runAlcall, startGateOf } from "./_run.ts";
import { type CallInput, callInputOf } from "./_shape.ts";

/** Options of {@linkcode alcallStream}: `alcall`'s, plus the order and the buffer. */
export interface AlcallStreamOptions<R = unknown> extends AlcallOptions<R> {
  /**
   * Yield in input order (true) or completion order (false).
   *
   * @default {true}
   */
  ordered?: boolean;
  /**
   * Gates the starts (an integer >= 1): an item starts only while fewer than
   * `buffer` finished results wait for the consumer. Items already running
   * when it fills still finish, so up to `buffer - 1 + maxConcurrent`
   * results can wait; what holds is that started-but-unconsumed items
   * (running or finished) never exceed `maxConcurrent + buffer`. With
   * unlimited `maxConcurrent` nothing bounds the starts while few results
   * have finished: give a limit for a long input.
   *
   * @default {maxConcurrent, or 64 when that is unlimited}
   */
  buffer?: number;
}

interface PendingNext<R> {
  resolve: (result: IteratorResult<R>) => void;
  reject: (err: unknown) => void;
}

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

/** The iterator `alcallStream` returns; its run starts on the first `next()`. */
class AlcallStream<T, R> implements AsyncIterableIterator<R>, AsyncDisposable {
  readonly #source: CallInput<T>;
  readonly #run: Run<T, R>;
  readonly #ordered: boolean;
  readonly #buffer: number;
  /** Wraps the run so that `return()` has a bounded exit. */
  readonly #outer = new CancelScope();
  #finished: Promise<void> | undefined = undefined;
  #ended = false;
  /** Nothing more is yielded (return() called, or the end delivered). */
  #closed = false;
  #error: { value: unknown } | undefined = undefined;
  /** Results ready to yield, in yield order. */
  readonly #ready = new Fifo<R>();
  /** Ordered mode: finished results waiting for an earlier one, by index. */
  readonly #early = new Map<number, R>();
  #nextIndex = 0;
  /** The pending next() (see `next`), then any further ones. */
  #nextResolve: ((result: IteratorResult<R>) => void) | undefined = undefined;
  #nextReject: ((err: unknown) => void) | undefined = undefined;
  readonly #waiting = new Fifo<PendingNext<R>>();
  /** Workers holding a start back while the buffer is full. */
  readonly #gated = new Fifo<() => void>();
  #listening = false;
  #cancelled = false;

  constructor(source: CallInput<T>, run: Run<T, R>, ordered: boolean, buffer: number) {
    this.#source = source;
    this.#run = run;
    this.#ordered = ordered;
    this.#buffer = buffer;
    run.keep = false;
    run.itemSignals = new ItemSignals();
    run.onOutcome = this.#onOutcome;
    const throttle = run.gate;
    run.gate = () => {
      const wait = this.#bufferWait();
      if (wait === undefined) return throttle?.();
      return throttle === undefined ? wait : wait.then(throttle);
    };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R>> {
    if (this.#finished === undefined && !this.#closed) this.#start();
    if (this.#stopping()) return this.#end();
    if (this.#ready.size > 0) {
      const value = this.#ready.shift();
      this.#release();
      return Promise.resolve({ done: false, value });
    }
    if (this.#closed) return Promise.resolve(DONE);
    if (this.#ended) return this.#end();
    // A `for await` asks once at a time: one pending next() in two fields,
    // any further ones (concurrent calls) in the FIFO behind it.
    if (this.#nextResolve === undefined && this.#waiting.size === 0) {
      return new Promise((resolve, reject) => {
        this.#nextResolve = resolve;
        this.#nextReject = reject;
      });
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<R>> {
    const wasClosed = this.#closed;
    this.#closed = true;
    this.#drop();
    if (this.#finished === undefined) {
      if (!wasClosed) await closeUnstarted(this.#source.input);
      return DONE;
    }
    this.#outer.cancel("alcallStream closed");
    await this.#finished;
    if (wasClosed) return DONE;
    return this.#end();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.return().then(() => {});
  }

  #start(): void {
    const run = this.#run, input = this.#source.input;
    this.#finished = this.#outer.run(() => runAlcall(run, input)).then(
      () => this.#finish(undefined),
      (err) => this.#finish({ value: err }),
    );
  }

  /** The run is being cancelled (a failure, a bad input, the signal, an outer scope). */
  #stopping(): boolean {
    if (!this.#listening) {
      // A flag set by one listener: reading `signal.aborted` per item costs.
      const scope = this.#run.scope;
      if (scope === undefined) return false;
      this.#listening = true;
      if (scope.signal.aborted) this.#onCancelled();
      else scope.signal.addEventListener("abort", this.#onCancelled, { once: true });
    }
    return this.#cancelled && !this.#closed;
  }

  readonly #onCancelled = (): void => {
    this.#cancelled = true;
    // A cancelled run must not leave workers held back by the buffer.
    for (const go of this.#gated.clear()) go();
  };

  /** Settles once the run has: throws its error once, then is done. */
  async #end(): Promise<IteratorResult<R>> {
    this.#drop();
    await this.#finished;
    this.#closed = true;
    const error = this.#error;
    this.#error = undefined;
    if (error !== undefined) throw error.value;
    return DONE;
  }

  /** Drops the results not yet yielded and lets held-back workers see the end. */
  #drop(): void {
    this.#ready.clear();
    this.#early.clear();
    for (const go of this.#gated.clear()) go();
  }

  #finish(error: { value: unknown } | undefined): void {
    this.#ended = true;
    this.#error = error;
    const resolve = this.#nextResolve, reject = this.#nextReject;
    this.#nextResolve = this.#nextReject = undefined;
    if (resolve !== undefined) this.next().then(resolve, reject);
    while (this.#waiting.size > 0) {
      const waiter = this.#waiting.shift();
      this.next().then(waiter.resolve, waiter.reject);
    }
  }

  /** How many finished results wait for the consumer. */
  get #waitingResults(): number {
    return this.#ready.size + this.#early.size;
  }

  readonly #onOutcome = (index: number, value: unknown): void => {
    if (this.#closed || this.#stopping()) return;
    if (!this.#ordered) return this.#deliver(value as R);
    if (index !== this.#nextIndex) {
      this.#early.set(index, value as R);
      return;
    }
    this.#deliver(value as R);
    this.#nextIndex++;
    if (this.#early.size === 0) return; // in order: no lookup per item
    for (let i = this.#nextIndex; this.#early.has(i); i = ++this.#nextIndex) {
      const next = this.#early.get(i)!;
      this.#early.delete(i);
      this.#deliver(next);
    }
  };

  #deliver(value: R): void {
    const resolve = this.#nextResolve;
    if (resolve !== undefined) {
      this.#nextResolve = this.#nextReject = undefined;
      resolve({ done: false, value });
      this.#release();
    } else if (this.#waiting.size > 0) {
      this.#waiting.shift().resolve({ done: false, value });
      this.#release();
    } else {
      this.#ready.push(value);
    }
  }

  #bufferWait(): Promise<void> | undefined {
    if (this.#waitingResults < this.#buffer && this.#gated.size === 0) return undefined;
    if (this.#closed || this.#stopping()) return undefined;
    return new Promise((resolve) => this.#gated.push(resolve));
  }

  /** A result was taken: one held-back worker may start. */
  #release(): void {
    if (this.#gated.size > 0 && this.#waitingResults < this.#buffer) this.#gated.shift()();
  }
}

/**
 * Closes the iterator taken from an input whose run never started, as a
 * `for await` that left would: `alcallStream` takes it when called, and
 * some inputs hold something until then (a `ReadableStream` stays locked
 * and is never cancelled; tests/rate_core_review_test.ts). Its error is
 * dropped, as the worker pool drops one when it closes a started input.
 */
async function closeUnstarted<T>(input: CallInput<T>["input"]): Promise<void> {
  try {
    if ("iterator" in input) input.iterator.return?.();
    else if ("asyncIterator" in input) await input.asyncIterator.return?.();
  } catch { /* nothing was asked of the input; its close is best effort */ }
}

/**
 * Validates the stream options and returns the buffer size.
 *
 * @throws {TypeError} If `ordered` is not a boolean or `buffer` not a number.
 * @throws {RangeError} If `buffer` is not an integer >= 1.
 */
function bufferOf(options: AlcallStreamOptions | undefined, plan: Plan, where: string): number {
  const buffer = options?.buffer;
  checkBoolean(options?.ordered, "ordered", where, ALCALL);
  if (buffer === undefined) return plan.maxConcurrent === Infinity ? 64 : plan.maxConcurrent;
  return checkNumber(buffer, "buffer", where, "an integer >= 1", isPositiveInteger, ALCALL);
}

/**
 * Applies `fn` to every item of `input` with `alcall`'s semantics and yields
 * the results as they are ready: in input order (`ordered`, the default) or
 * in completion order (`ordered: false`).
 *
 * Nothing is pulled or started before the first `next()`; the items run in
 * a task group whose parent is the scope ambient then. Backpressure: no new
 * item starts while `buffer` finished results wait for the consumer, so
 * started-but-unconsumed items (running or finished) never exceed
 * `maxConcurrent + buffer` and memory stays O(maxConcurrent + buffer)
 * however long the input. Items already running when the buffer fills still
 * finish, so the finished results waiting can exceed `buffer` (by up to
 * `maxConcurrent - 1`). With unlimited `maxConcurrent` nothing bounds the
 * starts while few results have finished: give a limit for a long input.
 *
 * Without `returnExceptions`, the first final failure cancels the rest,
 * closes the input, and the iterator throws the {@linkcode ExceptionGroup} of
 * every final failure at its next `next()`; results not yet yielded are
 * dropped. An input that throws ends the stream with that error, unwrapped.
 * `break`, `return()` or `await using` cancel what is running, wait for it to
 * unwind (bounded exit: at most one macrotask turn for an item that ignores
 * its signal), pull nothing more and close the input (before the first
 * `next()` too); if a failure was not delivered yet,
 * `return()` rejects with it, so that no error is lost (as `asCompleted`).
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input Any iterable or async iterable (pulled lazily), or one item.
 * @param fn The function to apply; it receives the item and a {@linkcode CallContext}.
 * @param options `alcall`'s options, plus `ordered` and `buffer`.
 * @returns An async iterator of the results (with `returnExceptions`, a
 * failure's error is its result).
 * @throws {TypeError} If `fn` is not a function or an option has the wrong
 * type (synchronously).
 * @throws {RangeError} If an option is out of range (synchronously).
 *
 * @example Usage
 * ```ts
 * import { alcallStream, sleep } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * async function* ids() {
 *   for (let i = 1; i <= 4; i++) yield i;
 * }
 * const seen: number[] = [];
 * for await (const n of alcallStream(ids(), async (id) => {
 *   await sleep(5 - id); // later ids finish first
 *   return id * 10;
 * }, { maxConcurrent: 4 })) {
 *   seen.push(n);
 * }
 * assert.deepEqual(seen, [10, 20, 30, 40]); // input order
 * ```
 */
export function alcallStream<T, R>(
  input: Iterable<T> | AsyncIterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options?: AlcallStreamOptions<R> & { returnExceptions?: false },
): AsyncIterableIterator<R> & AsyncDisposable;
/**
 * Like the other overload, with `returnExceptions`: a failure's error is its result.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input Any iterable or async iterable, or one item.
 * @param fn The function to apply.
 * @param options `alcall`'s options with `returnExceptions: true`, plus `ordered` and `buffer`.
 * @returns An async iterator of the results and errors.
 */
export function alcallStream<T, R>(
  input: Iterable<T> | AsyncIterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options: AlcallStreamOptions<R>,
): AsyncIterableIterator<R | Error> & AsyncDisposable;
export function alcallStream<T, R>(
  input: Iterable<T> | AsyncIterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options?: AlcallStreamOptions<R>,
): AsyncIterableIterator<R | Error> & AsyncDisposable {
  const where = "Cannot call alcallStream";
  checkFunction(fn, "fn", where, ALCALL);
  const plan = planOf(options as AlcallOptions, where);
  const buffer = bufferOf(options, plan, where);
  const source = callInputOf<T>(input, plan);
  const books = new Books(source.size ?? 0, plan.limiter);
  const run = new Run(fn, plan, 0, books, startGateOf(plan), undefined);
  return new AlcallStream<T, R | Error>(source, run, options?.ordered ?? true, buffer);
}
