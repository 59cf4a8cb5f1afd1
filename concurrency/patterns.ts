// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Composite patterns built on scopes and task groups: `retry` with
 * deadline-aware backoff, `gather`, `race`, `boundedMap` and `asCompleted`.
 * None of them keeps a timer or a listener of its own: waiting is `sleep`,
 * cancellation is a {@linkcode CancelScope} or a {@linkcode TaskGroup}.
 *
 * @module
 */

import { CancelScope, currentScope, effectiveDeadline, pendingCancellation } from "./cancel.ts";
import { currentTime } from "./clock.ts";
import { ExceptionGroup, isCancelled } from "./errors.ts";
import { sleep } from "./sleep.ts";
import { type TaskGroup, taskGroup } from "./task_group.ts";

// ---------------------------------------------------------------------------
// Validation

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

function checkOptions(options: unknown, where: string): Record<string, unknown> | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${where}: 'options' must be an object, received ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

function checkNumber(
  value: unknown,
  name: string,
  where: string,
  expected: string,
  valid: (n: number) => boolean,
): number {
  if (typeof value !== "number") {
    throw new TypeError(`${where}: '${name}' must be ${expected}, received ${describe(value)}`);
  }
  if (!valid(value)) {
    throw new RangeError(`${where}: '${name}' must be ${expected}, received ${value}`);
  }
  return value;
}

function checkFunction(value: unknown, name: string, where: string): void {
  if (typeof value !== "function") {
    throw new TypeError(`${where}: '${name}' must be a function, received ${describe(value)}`);
  }
}

function checkBoolean(value: unknown, name: string, where: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(`${where}: '${name}' must be a boolean, received ${describe(value)}`);
  }
  return value;
}

const isLimit = (n: number): boolean => n === Infinity || Number.isInteger(n) && n >= 1;
const LIMIT = "a positive integer or Infinity";

function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && value !== undefined &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}

function checkTasks<F>(fns: unknown, where: string): F[] {
  if (typeof fns === "string" || !isIterable(fns)) {
    throw new TypeError(
      `${where}: 'fns' must be an iterable of functions, received ${describe(fns)}`,
    );
  }
  const list = Array.from(fns);
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== "function") {
      throw new TypeError(
        `${where}: 'fns[${i}]' must be a function, received ${describe(list[i])}`,
      );
    }
  }
  return list as F[];
}

// ---------------------------------------------------------------------------
// retry

/** What {@linkcode retry} hands to each attempt. */
export interface RetryContext {
  /** The attempt number, starting at 1. */
  readonly attempt: number;
  /**
   * Aborts when the attempt is cancelled: by `options.signal` or by the
   * ambient scope `retry` was called in.
   */
  readonly signal: AbortSignal;
}

/** Options of {@linkcode retry}. */
export interface RetryOptions {
  /** How many attempts in all, a positive integer or Infinity (default 3). */
  attempts?: number;
  /** Delay before the first retry in milliseconds, `> 0` (default 100); doubles each retry. */
  baseDelay?: number;
  /** Cap of the delay before jitter, in milliseconds, `>= 0` (default 2000). */
  maxDelay?: number;
  /** Random extra delay, as a fraction of the delay, `>= 0` (default 0.1). */
  jitter?: number;
  /** Decides whether an error is worth another attempt (default: every error but a cancellation). */
  retryOn?: (err: unknown) => boolean;
  /** Cancels the current attempt (through `ctx.signal`) and every later one. */
  signal?: AbortSignal;
}

interface RetryConfig {
  attempts: number;
  baseDelay: number;
  maxDelay: number;
  jitter: number;
  retryOn: ((err: unknown) => boolean) | undefined;
}

function retryConfig(fn: unknown, options: unknown): [RetryConfig, AbortSignal | undefined] {
  const where = "Cannot retry";
  checkFunction(fn, "fn", where);
  const o = checkOptions(options, where);
  const config: RetryConfig = {
    attempts: 3,
    baseDelay: 100,
    maxDelay: 2000,
    jitter: 0.1,
    retryOn: undefined,
  };
  if (o === undefined) return [config, undefined];
  if (o.attempts !== undefined) {
    config.attempts = checkNumber(o.attempts, "attempts", where, LIMIT, isLimit);
  }
  if (o.baseDelay !== undefined) {
    config.baseDelay = checkNumber(
      o.baseDelay,
      "baseDelay",
      where,
      "a finite number > 0",
      (n) => n > 0 && n !== Infinity,
    );
  }
  if (o.maxDelay !== undefined) {
    config.maxDelay = checkNumber(o.maxDelay, "maxDelay", where, "a number >= 0", (n) => n >= 0);
  }
  if (o.jitter !== undefined) {
    config.jitter = checkNumber(
      o.jitter,
      "jitter",
      where,
      "a finite number >= 0",
      (n) => n >= 0 && n !== Infinity,
    );
  }
  if (o.retryOn !== undefined) {
    checkFunction(o.retryOn, "retryOn", where);
    config.retryOn = o.retryOn as (err: unknown) => boolean;
  }
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: 'signal' must be an AbortSignal, received ${describe(signal)}`);
  }
  return [config, signal];
}

async function attemptLoop<T>(
  fn: (ctx: RetryContext) => T | Promise<T>,
  config: RetryConfig,
  signal: AbortSignal,
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fn({ attempt, signal });
    } catch (err) {
      if (
        attempt >= config.attempts || isCancelled(err) ||
        config.retryOn !== undefined && !retryAllowed(config.retryOn, err)
      ) {
        throw err;
      }
      let delay = Math.min(config.maxDelay, config.baseDelay * 2 ** (attempt - 1));
      if (config.jitter !== 0) delay *= 1 + Math.random() * config.jitter;
      // A cancelled scope (-Infinity) is left to `sleep`, so the cancellation
      // wins over the last error.
      const deadline = effectiveDeadline();
      if (deadline !== -Infinity && currentTime() + delay >= deadline) throw err;
      await sleep(delay);
    }
  }
}

async function retryWithSignal<T>(
  fn: (ctx: RetryContext) => T | Promise<T>,
  config: RetryConfig,
  signal: AbortSignal,
): Promise<T> {
  // The signal only reaches the loop through this scope: one cancellation
  // mechanism, and an attempt that ignores ctx.signal cannot hold retry up.
  const scope = new CancelScope();
  const onAbort = (): void => scope.cancel(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort);
  try {
    const value = await scope.run((s) => attemptLoop(fn, config, s.signal));
    if (scope.cancelledCaught) throw signal.reason;
    return value as T;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Asks `retryOn` whether to retry after `err`. If the predicate itself
 * throws, both errors are kept (neither is lost): an `AggregateError` of
 * `[err, thrown]` is thrown. Internal; shared with `alcall`.
 */
export function retryAllowed(retryOn: (err: unknown) => boolean, err: unknown): boolean {
  try {
    return retryOn(err);
  } catch (thrown) {
    throw new AggregateError([err, thrown], "retryOn threw while deciding whether to retry", {
      cause: err,
    });
  }
}

/**
 * Calls `fn` until it succeeds, sleeping with exponential backoff between
 * attempts: the delay before retry `k` (k = 1, 2, …) is
 * `min(maxDelay, baseDelay * 2 ** (k - 1)) * (1 + Math.random() * jitter)`.
 *
 * A cancellation (see {@linkcode isCancelled}) is never retried. The backoff
 * is deadline-aware: when the ambient effective deadline (see
 * {@linkcode effectiveDeadline}) would pass before the next attempt could
 * start, `retry` rethrows the last error at once instead of sleeping.
 *
 * @typeParam T The type of `fn`'s value.
 * @param fn The operation; it receives the attempt number (from 1) and a
 * signal that aborts when the attempt is cancelled.
 * @param options Attempts, backoff, `retryOn` filter and abort signal.
 * @returns `fn`'s first value.
 * @throws {Error} The last error, when the attempts are used up, `retryOn`
 * refuses it, or the deadline leaves no time for another attempt.
 * @throws {CancelledError} (or `options.signal`'s reason) if cancelled.
 * @throws {TypeError} If `fn` is not a function or an option has the wrong
 * type (as a rejection).
 * @throws {RangeError} If `attempts` is not a positive integer or Infinity,
 * `baseDelay <= 0`, `maxDelay < 0` or `jitter < 0` (as a rejection).
 *
 * @example Usage
 * ```ts
 * import { retry } from "@lionpride/core";
 *
 * let calls = 0;
 * const value = await retry(({ attempt }) => {
 *   calls++;
 *   if (attempt < 3) throw new Error("flaky");
 *   return "ok";
 * }, { baseDelay: 1, jitter: 0 });
 * if (!(value === "ok" && calls === 3)) throw new Error("unexpected result");
 * ```
 */
export function retry<T>(
  fn: (ctx: RetryContext) => T | Promise<T>,
  options?: RetryOptions,
): Promise<T> {
  let config: RetryConfig, signal: AbortSignal | undefined;
  try {
    [config, signal] = retryConfig(fn, options);
  } catch (err) {
    return Promise.reject(err);
  }
  if (signal !== undefined) return retryWithSignal(fn, config, signal);
  // Without a signal of its own, retry needs no scope (a scope costs ~2 µs):
  // attempts see the ambient scope's signal, or one that never aborts.
  const scope = currentScope();
  const pending = pendingCancellation(scope, undefined);
  if (pending !== undefined) return Promise.reject(pending);
  return attemptLoop(fn, config, scope?.signal ?? new AbortController().signal);
}

// ---------------------------------------------------------------------------
// The worker pool shared by gather, boundedMap and asCompleted

/**
 * Feeds the items of `iterator` to at most `limit` children of `tg`, each
 * pulling its next item once it is done, so a huge input never becomes one
 * promise per item. `onResult` receives every outcome that counts.
 */
class Feeder<I> {
  /** True once the iterator is done (or threw): it must not be closed then. */
  exhausted = false;
  /** True once a failure counts: stop pulling and drop later results. */
  stopped = false;
  #next = 0;
  #iterator: Iterator<I>;
  #signal: AbortSignal;
  #call: (item: I, index: number, signal: AbortSignal) => unknown;
  #onResult: (index: number, value: unknown) => void;
  #returnExceptions: boolean;

  constructor(
    tg: TaskGroup,
    iterator: Iterator<I>,
    limit: number,
    call: (item: I, index: number, signal: AbortSignal) => unknown,
    onResult: (index: number, value: unknown) => void,
    returnExceptions: boolean,
  ) {
    this.#iterator = iterator;
    this.#signal = tg.signal;
    this.#call = call;
    this.#onResult = onResult;
    this.#returnExceptions = returnExceptions;
    for (let workers = 0; workers < limit; workers++) {
      const first = this.#pull();
      if (first === undefined) break;
      tg.startSoon(this.#work, first.value, this.#next++);
    }
  }

  #pull(): IteratorResult<I> | undefined {
    if (this.exhausted || this.stopped || this.#signal.aborted) return undefined;
    this.exhausted = true; // until next() returns: a throwing iterator is done
    const result = this.#iterator.next();
    if (result.done) return undefined;
    this.exhausted = false;
    return result;
  }

  readonly #work = async (item: I, index: number): Promise<void> => {
    const signal = this.#signal;
    for (;;) {
      try {
        const value = await this.#call(item, index, signal);
        if (!this.stopped) this.#onResult(index, value);
      } catch (err) {
        if (!this.#returnExceptions) {
          // The group sees the failure a microtask later: until then, stop
          // starting and counting here.
          this.stopped = true;
          throw err;
        }
        this.#onResult(index, err);
      }
      const next = this.#pull();
      if (next === undefined) return;
      item = next.value;
      index = this.#next++;
    }
  };
}

function regroup(err: unknown, where: string): unknown {
  if (!(err instanceof ExceptionGroup)) return err;
  const n = err.exceptions.length;
  return new ExceptionGroup(`${where}: ${n} task${n === 1 ? "" : "s"} failed`, err.exceptions);
}

const callTask = (fn: (signal: AbortSignal) => unknown, _index: number, signal: AbortSignal) =>
  fn(signal);

async function collect(
  iterator: Iterator<unknown>,
  call: (item: unknown, index: number, signal: AbortSignal) => unknown,
  limit: number,
  returnExceptions: boolean,
  where: string,
): Promise<unknown[]> {
  const results: unknown[] = [];
  const store = (index: number, value: unknown): void => {
    results[index] = value;
  };
  let feeder: Feeder<unknown> | undefined;
  try {
    await taskGroup((tg) => {
      feeder = new Feeder(tg, iterator, limit, call, store, returnExceptions);
    });
  } catch (err) {
    throw regroup(err, where);
  } finally {
    // Only a failure or a cancellation stops the map early; as in for-of, an
    // error from closing the iterator does not replace it.
    if (feeder === undefined || !feeder.exhausted) {
      try {
        iterator.return?.();
      } catch { /* the error that stopped the map wins */ }
    }
  }
  return results;
}

// ---------------------------------------------------------------------------
// gather

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
 *
 * const values = await gather([
 *   async () => { await sleep(2); return "slow"; },
 *   () => "fast",
 * ]);
 * if (!(values.join() === "slow,fast")) throw new Error("unexpected result");
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
    list.values(),
    callTask as (item: unknown, index: number, signal: AbortSignal) => unknown,
    Infinity,
    returnExceptions,
    "gather",
  ) as Promise<Array<T | Error>>;
}

// ---------------------------------------------------------------------------
// race

/**
 * Runs every function concurrently; the first to settle wins: `race`
 * resolves with its value or rejects with its error, and the others are
 * cancelled (their signal aborts and their ambient scope is cancelled).
 *
 * Like a {@linkcode CancelScope}, `race` waits for the losers to unwind (so
 * their `finally` blocks have run) but not beyond one macrotask turn after
 * the win: a loser that ignores its signal cannot hold the race up. The
 * losers' outcomes, values or errors, are discarded (never unhandled).
 *
 * @typeParam T The type of the values.
 * @param fns The contestants; each receives a signal that aborts when it has
 * lost (or the caller is cancelled).
 * @returns The winner's value.
 * @throws {Error} The winner's error, if the first to settle rejected.
 * @throws {CancelledError} If an enclosing scope was cancelled.
 * @throws {RangeError} If `fns` is empty (as a rejection).
 * @throws {TypeError} If `fns` is not an iterable of functions (as a rejection).
 *
 * @example Usage
 * ```ts
 * import { race, sleep } from "@lionpride/core";
 *
 * let loserAborted = false;
 * const winner = await race([
 *   async (signal) => {
 *     try {
 *       await sleep(1_000, { signal });
 *     } finally {
 *       loserAborted = signal.aborted;
 *     }
 *     return "slow";
 *   },
 *   async () => { await sleep(1); return "fast"; },
 * ]);
 * if (!(winner === "fast" && loserAborted)) throw new Error("unexpected result");
 * ```
 */
export function race<T>(fns: Iterable<(signal: AbortSignal) => T | Promise<T>>): Promise<T>;
/**
 * Like the other overload, for contestants of different return types: the
 * value is typed as the union of their awaited return types.
 *
 * @typeParam F The type of the contestants.
 * @param fns The contestants.
 * @returns The winner's value.
 */
export function race<F extends (signal: AbortSignal) => unknown>(
  fns: Iterable<F>,
): Promise<Awaited<ReturnType<F>>>;
export function race<T>(fns: Iterable<(signal: AbortSignal) => T | Promise<T>>): Promise<T> {
  let list: Array<(signal: AbortSignal) => T | Promise<T>>;
  try {
    list = checkTasks(fns, "Cannot race");
    if (list.length === 0) {
      throw new RangeError("Cannot race: 'fns' must not be empty, received 0 functions");
    }
  } catch (err) {
    return Promise.reject(err);
  }
  return runRace(list);
}

async function runRace<T>(fns: Array<(signal: AbortSignal) => T | Promise<T>>): Promise<T> {
  let won = false, failed = false, outcome: unknown;
  // The winner's outcome escapes through these variables, not through run():
  // run() would absorb a winner whose error is a cancellation.
  await new CancelScope().run((scope) =>
    new Promise<void>((allSettled) => {
      let pending = fns.length;
      const settle = (rejected: boolean, value: unknown): void => {
        if (!won) {
          won = true;
          failed = rejected;
          outcome = value;
          if (pending > 1) scope.cancel("Lost the race");
        }
        if (--pending === 0) allSettled();
      };
      const fulfil = (value: unknown): void => settle(false, value);
      const reject = (err: unknown): void => settle(true, err);
      const signal = scope.signal;
      for (const fn of fns) {
        let result: unknown;
        try {
          result = fn(signal);
        } catch (err) {
          result = Promise.reject(err);
        }
        Promise.resolve(result).then(fulfil, reject);
      }
    })
  );
  if (failed) throw outcome;
  return outcome as T;
}

// ---------------------------------------------------------------------------
// boundedMap

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
 * @param items The items (any iterable; it is closed if the map stops early).
 * @param fn The mapper; it receives the item, its index and a signal that
 * aborts when the map is cancelled.
 * @param options `limit` and `returnExceptions`.
 * @returns The values, in input order (errors at their index with
 * `returnExceptions`).
 * @throws {ExceptionGroup} Without `returnExceptions`, if a call failed: the
 * first failure cancels the rest and starts no more. A throwing iterator is a
 * failure too, even with `returnExceptions`.
 * @throws {CancelledError} If an enclosing scope was cancelled.
 * @throws {TypeError} If `items` is not iterable, `fn` not a function or
 * `options.limit` missing (as a rejection).
 * @throws {RangeError} If `limit` is not a positive integer or Infinity (as a
 * rejection).
 *
 * @example Usage
 * ```ts
 * import { boundedMap, sleep } from "@lionpride/core";
 *
 * let running = 0, peak = 0;
 * const doubled = await boundedMap([1, 2, 3, 4, 5], async (n) => {
 *   peak = Math.max(peak, ++running);
 *   await sleep(1);
 *   running--;
 *   return n * 2;
 * }, { limit: 2 });
 * if (!(doubled.join() === "2,4,6,8,10" && peak === 2)) throw new Error("unexpected result");
 * ```
 */
export function boundedMap<T, R>(
  items: Iterable<T>,
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
  items: Iterable<T>,
  fn: (item: T, index: number, signal: AbortSignal) => R | Promise<R>,
  options: BoundedMapOptions,
): Promise<Array<R | Error>>;
export function boundedMap<T, R>(
  items: Iterable<T>,
  fn: (item: T, index: number, signal: AbortSignal) => R | Promise<R>,
  options: BoundedMapOptions,
): Promise<Array<R | Error>> {
  const where = "Cannot boundedMap";
  let iterator: Iterator<unknown>, limit: number, returnExceptions: boolean;
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
    if (!isIterable(items)) {
      throw new TypeError(`${where}: 'items' must be iterable, received ${describe(items)}`);
    }
    iterator = items[Symbol.iterator]();
  } catch (err) {
    return Promise.reject(err);
  }
  return collect(
    iterator,
    fn as (item: unknown, index: number, signal: AbortSignal) => unknown,
    limit,
    returnExceptions,
    "boundedMap",
  ) as Promise<Array<R | Error>>;
}

// ---------------------------------------------------------------------------
// asCompleted

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
  #results: Array<[number, unknown]> = [];
  #resultsHead = 0;
  #waiting: PendingNext[] = [];
  #waitingHead = 0;

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
    if (this.#resultsHead < this.#results.length) {
      const value = this.#results[this.#resultsHead++];
      if (this.#resultsHead === this.#results.length) {
        this.#results = [];
        this.#resultsHead = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#closed) return Promise.resolve(DONE);
    if (this.#finished) return this.#close();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<[number, unknown]>> {
    const wasClosed = this.#closed;
    this.#closed = true;
    this.#results = [];
    this.#resultsHead = 0;
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
    this.#run = taskGroup((tg) => {
      this.#group = tg;
      new Feeder(tg, fns.values(), this.#limit, callTask, this.#push, this.#returnExceptions);
    }).then(
      () => this.#finish(undefined),
      (err) => this.#finish({ value: regroup(err, "asCompleted") }),
    );
  }

  readonly #push = (index: number, value: unknown): void => {
    if (this.#closed || this.#group!.signal.aborted) return;
    const entry: [number, unknown] = [index, value];
    if (this.#waitingHead < this.#waiting.length) {
      this.#takeWaiter().resolve({ done: false, value: entry });
    } else {
      this.#results.push(entry);
    }
  };

  #takeWaiter(): PendingNext {
    const waiter = this.#waiting[this.#waitingHead++];
    if (this.#waitingHead === this.#waiting.length) {
      this.#waiting = [];
      this.#waitingHead = 0;
    }
    return waiter;
  }

  #finish(error: { value: unknown } | undefined): void {
    this.#finished = true;
    this.#error = error;
    while (this.#waitingHead < this.#waiting.length) {
      const waiter = this.#takeWaiter();
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
 * @param fns The functions to run; each receives a signal that aborts when
 * they are cancelled.
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
 *
 * const order: number[] = [];
 * for await (const [index] of asCompleted([() => sleep(60), () => sleep(20), () => sleep(40)])) {
 *   order.push(index);
 * }
 * if (!(order.join() === "1,2,0")) throw new Error("unexpected result");
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
