// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `retry`: deadline-aware retries with exponential backoff and jitter.
 *
 * @module
 */

import { CancelScope, currentScope, pendingCancellation } from "./cancel.ts";
import { type AttemptPolicy, runAttempts } from "./_attempt_loop.ts";
import { SignalLink } from "./_signal_link.ts";
import {
  checkFunction,
  checkNumber,
  checkOptions,
  describeValue,
  isLimit,
  LIMIT,
} from "./_validate.ts";

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
  /**
   * Decides whether an error is worth another attempt (default: never a
   * cancellation; an error with a numeric `status` only for 408, 409, 425,
   * 429, 500, 502, 503 and 504; any other error yes).
   */
  retryOn?: (err: unknown) => boolean;
  /**
   * Longest `retryAfter` hint (ms) worth waiting for: an error whose
   * `retryAfter` is longer, or ends at or after the effective deadline, is
   * rethrown at once, whatever `retryOn` says (default 60_000).
   */
  maxRetryAfter?: number;
  /** Cancels the current attempt (through `ctx.signal`) and every later one. */
  signal?: AbortSignal;
}

/** The policy of `retry(fn)` without options, built once (a policy is never changed). */
let defaultPolicy: AttemptPolicy | undefined;

/** The attempt-loop policy of `retry`'s options, validated. */
function retryPolicy(fn: unknown, options: unknown): [AttemptPolicy, AbortSignal | undefined] {
  const where = "Cannot retry";
  checkFunction(fn, "fn", where);
  if (options === undefined) return [defaultPolicy ??= retryPolicy(fn, {})[0], undefined];
  const o = checkOptions(options, where) ?? {};
  const number = (name: string, fallback: number, expected: string, ok: (n: number) => boolean) =>
    o[name] === undefined ? fallback : checkNumber(o[name], name, where, expected, ok);
  const finite = (n: number): boolean => n >= 0 && n !== Infinity;
  const attempts = number("attempts", 3, LIMIT, isLimit);
  const baseDelay = number("baseDelay", 100, "a finite number > 0", (n) => n > 0 && finite(n));
  const maxDelay = number("maxDelay", 2000, "a number >= 0", (n) => n >= 0);
  const jitter = number("jitter", 0.1, "a finite number >= 0", finite);
  const maxRetryAfter = number("maxRetryAfter", 60_000, "a number >= 0", (n) => n >= 0);
  if (o.retryOn !== undefined) checkFunction(o.retryOn, "retryOn", where);
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `${where}: 'signal' must be an AbortSignal, received ${describeValue(signal, "bare")}`,
    );
  }
  const policy: AttemptPolicy = {
    attempts,
    baseDelay,
    factor: 2,
    maxDelay,
    jitter,
    retryOn: o.retryOn as AttemptPolicy["retryOn"],
    maxRetryAfter,
    attemptTimeout: undefined,
    totalTimeout: undefined,
    limiter: undefined,
    rateLimiter: undefined,
    onRetry: undefined,
    cancelledIsFinal: false,
    sleepsOnZero: true,
  };
  return [policy, signal];
}

/** Calls `fn` with the context `retry` promises: the attempt and a signal. */
function attemptsOf<T>(
  fn: (ctx: RetryContext) => T | Promise<T>,
  fallback: AbortSignal | undefined,
) {
  return (attempt: number, scope: CancelScope | undefined): T | Promise<T> =>
    fn({ attempt, signal: scope?.signal ?? fallback ?? new AbortController().signal });
}

async function retryWithSignal<T>(
  fn: (ctx: RetryContext) => T | Promise<T>,
  policy: AttemptPolicy,
  signal: AbortSignal,
): Promise<T> {
  const scope = new CancelScope();
  const link = new SignalLink(signal);
  link.attach(scope);
  try {
    const value = await scope.run((s) => runAttempts(attemptsOf(fn, undefined), policy, s, ""));
    if (scope.cancelledCaught) throw link.reason;
    return value as T;
  } finally {
    link.unlink();
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
 * Retry-After: an error with a numeric `retryAfter` (ms; `RateLimitError`,
 * `CircuitOpenError`, an HTTP error, or your own) makes the next attempt wait
 * `max(backoff, retryAfter)`; jitter only adds to it (at least 10 % when the
 * hint sets the wait, so clients a server turned away together spread out). A hint longer than
 * `maxRetryAfter`, or one that ends at or after the effective deadline, makes
 * the error final at once, whatever `retryOn` says. By default an error with
 * a numeric `status` is retried only for 408, 409, 425, 429, 500, 502, 503
 * and 504.
 *
 * @typeParam T The type of `fn`'s value.
 * @param fn The operation; it receives the attempt number (from 1) and a
 * signal that aborts when the attempt is cancelled.
 * @param options Attempts, backoff, `retryOn` filter and abort signal.
 * @returns `fn`'s first value.
 * @throws {Error} The last error, when the attempts are used up, `retryOn`
 * (or the default rule) refuses it, its `retryAfter` is too long, or the
 * deadline leaves no time for another attempt.
 * @throws {CancelledError} (or `options.signal`'s reason) if cancelled.
 * @throws {TypeError} If `fn` is not a function or an option has the wrong
 * type (as a rejection).
 * @throws {RangeError} If `attempts` is not a positive integer or Infinity,
 * `baseDelay <= 0`, `maxDelay < 0`, `jitter < 0` or `maxRetryAfter < 0`
 * (as a rejection).
 *
 * @example Usage
 * ```ts
 * import { retry } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const value = await retry(({ attempt }) => {
 *   calls++;
 *   if (attempt < 3) throw new Error("flaky");
 *   return "ok";
 * }, { baseDelay: 1, jitter: 0 });
 * assert.equal(value, "ok");
 * assert.equal(calls, 3);
 * ```
 */
export function retry<T>(
  fn: (ctx: RetryContext) => T | Promise<T>,
  options?: RetryOptions,
): Promise<T> {
  let policy: AttemptPolicy, signal: AbortSignal | undefined;
  try {
    [policy, signal] = retryPolicy(fn, options);
  } catch (err) {
    return Promise.reject(err);
  }
  if (signal !== undefined) return retryWithSignal(fn, policy, signal);
  // Without a signal of its own, retry needs no scope (a scope costs ~2 µs):
  // attempts see the ambient scope's signal, or one that never aborts.
  const scope = currentScope();
  const pending = pendingCancellation(scope, undefined);
  if (pending !== undefined) return Promise.reject(pending);
  const never = scope === undefined ? new AbortController().signal : undefined;
  return runAttempts(attemptsOf(fn, never), policy, scope, "");
}
