// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `retry`: deadline-aware retries with exponential backoff and jitter.
 *
 * @module
 */

import { CancelScope, currentScope, effectiveDeadline, pendingCancellation } from "./cancel.ts";
import { currentTime } from "./clock.ts";
import { isCancelled } from "./errors.ts";
import { sleep } from "./sleep.ts";
import { checkFunction, checkNumber, checkOptions, describe, isLimit, LIMIT } from "./_validate.ts";

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
