// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The options of `alcall`, `bcall` and `alcallStream`, and their validation
 * (internal).
 *
 * @module
 */

import type { PermitLimiter, TokenRateLimiter } from "../concurrency/_attempt_loop.ts";
import {
  checkBoolean,
  checkFunction,
  checkNumber,
  checkOptions,
  type DescribeStyle,
  describeValue,
  isLimit,
  LIMIT,
} from "../concurrency/_validate.ts";

export type { PermitLimiter, TokenRateLimiter };

/** What the function given to {@linkcode alcall} receives beside the item. */
export interface CallContext {
  /** The item's index in the input. */
  readonly index: number;
  /** The attempt number, 1-based. */
  readonly attempt: number;
  /** Aborts when this attempt is cancelled (timeout, another item's failure, outer cancellation). */
  readonly signal: AbortSignal;
}

/** Counts reported to `onProgress`. */
export interface AlcallProgress {
  /** Items in all. */
  total: number;
  /** Items started. */
  started: number;
  /** Items that succeeded. */
  succeeded: number;
  /** Items whose every attempt failed (even if `retryDefault` stood in). */
  failed: number;
  /** Retries made so far, over all items. */
  retries: number;
  /** Items running now. */
  running: number;
  /** The `limiter`'s current limit (its `totalTokens`), when one is given. */
  limit?: number;
}

/** Options of {@linkcode alcall}; every one is optional. */
export interface AlcallOptions<R = unknown> {
  /** Most items running at once (positive integer or Infinity; default unlimited). */
  maxConcurrent?: number;
  /** Milliseconds between two item starts. */
  throttlePeriod?: number;
  /** Milliseconds to wait before the first start. */
  delayBeforeStart?: number;
  /** Retries after the first attempt (default 0). */
  retryAttempts?: number;
  /** Milliseconds before the first retry (default 0). */
  retryInitialDelay?: number;
  /** Multiplier of the delay for each further retry (default 1). */
  retryBackoff?: number;
  /**
   * Value used for an item that failed (every attempt failed, its error is
   * not retryable, or its `retryTimeout` ran out) instead of failing; never
   * for a cancellation. `undefined` means none.
   */
  retryDefault?: R;
  /**
   * Which errors to retry (default: never a cancellation; an error with a
   * numeric `status` only for 408, 409, 425, 429, 500, 502, 503 and 504; any
   * other error yes).
   */
  retryOn?: (err: unknown) => boolean;
  /**
   * Longest `retryAfter` hint (ms) worth waiting for: an error whose
   * `retryAfter` is longer, or ends at or after the effective deadline
   * (`retryTimeout` included), is the item's final failure at once, whatever
   * `retryOn` says (default 60_000). A shorter hint makes the next attempt
   * wait `max(backoff, retryAfter)`; a wait set by the hint is spread up to
   * 10 % later, so callers the server turned away together do not return
   * together.
   */
  maxRetryAfter?: number;
  /**
   * Each attempt runs holding one of its permits (not across backoff sleeps);
   * several calls may share one. Waiting for it counts against
   * `retryTimeout`, not `attemptTimeout`.
   */
  limiter?: PermitLimiter;
  /**
   * Each attempt, retries included, acquires cost 1 from it before it starts
   * (inside the `limiter`'s permit). Waiting counts against `retryTimeout`,
   * not `attemptTimeout`; a `RateLimitError` from it is a retryable failure.
   */
  rateLimiter?: TokenRateLimiter;
  /** Milliseconds budget per item, covering all attempts and backoff sleeps (Infinity: none). */
  retryTimeout?: number;
  /** Milliseconds per attempt; a timed-out attempt counts as a failed attempt (Infinity: none). */
  attemptTimeout?: number;
  /** Put each failure at its index instead of rejecting. */
  returnExceptions?: boolean;
  /** Flatten the input (as `toList`). */
  inputFlatten?: boolean;
  /** Drop `null`/`undefined` input items. */
  inputDropna?: boolean;
  /** Drop duplicate input items. */
  inputUnique?: boolean;
  /** Flatten the output. */
  outputFlatten?: boolean;
  /** Drop `null`/`undefined` results. */
  outputDropna?: boolean;
  /** Drop duplicate results. */
  outputUnique?: boolean;
  /** Cancels the whole call when it aborts. */
  signal?: AbortSignal;
  /** Called on every change of the counts. */
  onProgress?: (progress: AlcallProgress) => void;
}

/** Validated options with defaults (internal; shared with `bcall`). */
export interface Plan {
  maxConcurrent: number;
  throttlePeriod: number;
  delayBeforeStart: number;
  retryAttempts: number;
  retryInitialDelay: number;
  retryBackoff: number;
  hasDefault: boolean;
  retryDefault: unknown;
  retryOn: ((err: unknown) => boolean) | undefined;
  maxRetryAfter: number;
  limiter: PermitLimiter | undefined;
  rateLimiter: TokenRateLimiter | undefined;
  retryTimeout: number | undefined;
  attemptTimeout: number | undefined;
  returnExceptions: boolean;
  inputFlatten: boolean;
  inputDropna: boolean;
  inputUnique: boolean;
  outputFlatten: boolean;
  outputDropna: boolean;
  outputUnique: boolean;
  signal: AbortSignal | undefined;
  onProgress: ((progress: AlcallProgress) => void) | undefined;
}

function numberOption(
  o: Record<string, unknown>,
  name: string,
  fallback: number,
  ok: (v: number) => boolean,
  expected: string,
  where: string,
): number {
  const value = o[name];
  return value === undefined ? fallback : checkNumber(value, name, where, expected, ok, ALCALL);
}

/**
 * How the argument errors of `alcall`, `bcall`, `alcallStream` and `toList`
 * show a value (as published, and pinned by their tests): see `DescribeStyle`.
 */
export const ALCALL: DescribeStyle = "bareNumber";

const finiteNonNegative = (v: number): boolean => v >= 0 && v !== Infinity;
const positiveOrInfinity = (v: number): boolean => v > 0;

// "an acquire() method" but "a use() method": by the sound, which for these
// names follows the first letter, "u" (as in "use") excepted.
const article = (word: string): string => /^[aeio]/.test(word) ? "an" : "a";

function checkDuck(o: Record<string, unknown>, name: string, method: string, where: string): void {
  const value = o[name];
  if (value === undefined) return;
  if (
    value === null || typeof value !== "object" ||
    typeof (value as Record<string, unknown>)[method] !== "function"
  ) {
    throw new TypeError(
      `${where}: '${name}' must be an object with ${article(method)} ${method}() method, received ${
        describeValue(value, ALCALL)
      }`,
    );
  }
}

/**
 * Checks the type of `options` and of its non-number options.
 *
 * @throws {TypeError} If one has the wrong type.
 */
function checkKinds(options: unknown, where: string): Record<string, unknown> {
  const o = checkOptions(options, where, ALCALL) ?? {};
  for (const name of ["retryOn", "onProgress"]) {
    if (o[name] !== undefined) checkFunction(o[name], name, where, ALCALL);
  }
  checkDuck(o, "limiter", "use", where);
  checkDuck(o, "rateLimiter", "acquire", where);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(
      `${where}: 'signal' must be an AbortSignal, received ${describeValue(o.signal, ALCALL)}`,
    );
  }
  return o;
}

/**
 * Validates `options` and fills in the defaults (internal; shared with `bcall`).
 *
 * @throws {TypeError} If `options` or an option has the wrong type.
 * @throws {RangeError} If an option is out of range.
 */
export function planOf(options: AlcallOptions | undefined, where = "Cannot call alcall"): Plan {
  const o = checkKinds(options, where);
  const timeout = (name: string): number | undefined => {
    const ms = numberOption(o, name, Infinity, positiveOrInfinity, "a number > 0", where);
    return ms === Infinity ? undefined : ms;
  };
  const finite = (name: string, fallback: number): number =>
    numberOption(o, name, fallback, finiteNonNegative, "a finite number >= 0", where);
  return {
    maxConcurrent: numberOption(
      o,
      "maxConcurrent",
      Infinity,
      isLimit,
      LIMIT,
      where,
    ),
    throttlePeriod: finite("throttlePeriod", 0),
    delayBeforeStart: finite("delayBeforeStart", 0),
    retryAttempts: numberOption(
      o,
      "retryAttempts",
      0,
      (v) => Number.isInteger(v) && v >= 0,
      "a non-negative integer",
      where,
    ),
    retryInitialDelay: finite("retryInitialDelay", 0),
    retryBackoff: finite("retryBackoff", 1),
    hasDefault: o.retryDefault !== undefined,
    retryDefault: o.retryDefault,
    retryOn: o.retryOn as Plan["retryOn"],
    maxRetryAfter: numberOption(o, "maxRetryAfter", 60_000, (v) => v >= 0, "a number >= 0", where),
    limiter: o.limiter as PermitLimiter | undefined,
    rateLimiter: o.rateLimiter as TokenRateLimiter | undefined,
    retryTimeout: timeout("retryTimeout"),
    attemptTimeout: timeout("attemptTimeout"),
    returnExceptions: checkBoolean(o.returnExceptions, "returnExceptions", where, ALCALL),
    inputFlatten: checkBoolean(o.inputFlatten, "inputFlatten", where, ALCALL),
    inputDropna: checkBoolean(o.inputDropna, "inputDropna", where, ALCALL),
    inputUnique: checkBoolean(o.inputUnique, "inputUnique", where, ALCALL),
    outputFlatten: checkBoolean(o.outputFlatten, "outputFlatten", where, ALCALL),
    outputDropna: checkBoolean(o.outputDropna, "outputDropna", where, ALCALL),
    outputUnique: checkBoolean(o.outputUnique, "outputUnique", where, ALCALL),
    signal: o.signal as AbortSignal | undefined,
    onProgress: o.onProgress as Plan["onProgress"],
  };
}
