// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The error types every primitive of the module reuses: timeouts,
 * cancellations and groups of errors (PEP 654 style).
 *
 * @module
 */

// ln/alcall.ts, ln/bcall.ts and ln/to_list.ts still import the describer from
// here, under its two former names (internal; not exported by mod.ts).
export { describeReceived, describeValue } from "./_validate.ts";
import { describeValue } from "./_validate.ts";
import { fieldOf, isInstance } from "./_thrown.ts";

/** Options of the {@linkcode TimeoutError} constructor. */
export interface TimeoutErrorOptions extends ErrorOptions {
  /**
   * The budget that fired, in milliseconds as given, or `NaN` for an absolute
   * deadline.
   *
   * @default {NaN}
   */
  timeout?: number;
  /**
   * The name of the call or option whose budget fired: `"failAfter"`,
   * `"failAt"`, `"attemptTimeout"`, `"retryTimeout"`, or a user's own label.
   *
   * @default {"unknown"}
   */
  source?: string;
}

/**
 * Thrown when a deadline set by {@linkcode failAfter} or {@linkcode failAt}
 * (or a timeout option of `alcall`) expires. It says which budget fired:
 * `timeout` (ms as given, `NaN` for an absolute deadline) and `source`.
 *
 * @example Usage
 * ```ts
 * import { TimeoutError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const err = new TimeoutError("timed out after 5000 ms (failAfter)", {
 *   timeout: 5000,
 *   source: "failAfter",
 * });
 * assert.equal(err.name, "TimeoutError");
 * assert.equal(err.timeout, 5000);
 * assert.equal(err.source, "failAfter");
 * ```
 */
export class TimeoutError extends Error {
  /** The budget that fired, in ms as given; `NaN` for an absolute deadline. */
  readonly timeout: number;
  /** The name of the call or option whose budget fired, e.g. `"attemptTimeout"`. */
  readonly source: string;

  /**
   * Constructs a new instance.
   *
   * @param message The error message; by default it names `timeout` and `source`.
   * @param options `timeout`, `source` and the standard `cause`.
   */
  constructor(message?: string, options?: TimeoutErrorOptions) {
    const timeout = options?.timeout ?? NaN;
    const source = options?.source ?? "unknown";
    super(
      message ??
        (Number.isNaN(timeout)
          ? `deadline exceeded (${source})`
          : `timed out after ${timeout} ms (${source})`),
      options,
    );
    this.name = "TimeoutError";
    this.timeout = timeout;
    this.source = source;
  }
}

/**
 * The reason a cancelled scope's signal carries.
 *
 * @example Usage
 * ```ts
 * import { CancelScope, CancelledError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const scope = new CancelScope();
 * scope.cancel("no longer needed");
 * assert.ok(scope.signal.reason instanceof CancelledError);
 * ```
 */
export class CancelledError extends Error {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The standard error options (`cause`).
   */
  constructor(message = "Cancelled", options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/**
 * Tells whether `err` is a cancellation: a {@linkcode CancelledError} or any
 * error named `"AbortError"` (the `DOMException` that `fetch` and friends
 * reject with).
 *
 * @param err The value to test.
 * @returns `true` if `err` is a cancellation.
 *
 * @example Usage
 * ```ts
 * import { CancelledError, isCancelled } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isCancelled(new CancelledError()), true);
 * assert.equal(isCancelled(new DOMException("aborted", "AbortError")), true);
 * assert.equal(isCancelled(new Error("boom")), false);
 * ```
 */
export function isCancelled(err: unknown): boolean {
  // Any thrown value reaches here: inspecting it must not throw, or the task
  // group or gather that asks would lose the error and never settle.
  return isInstance(err, CancelledError) || fieldOf(err, "name") === "AbortError";
}

export {
  type ExceptionCondition,
  ExceptionGroup,
  nonCancelSubgroup,
  splitCancellation,
} from "./_exception_group.ts";

/**
 * Thrown by `Queue.putNowait` when the queue is full.
 *
 * @example Usage
 * ```ts
 * import { Queue, QueueFull } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const queue = new Queue<number>({ maxSize: 1 });
 * queue.putNowait(1);
 * assert.throws(() => queue.putNowait(2), QueueFull);
 * ```
 */
export class QueueFull extends Error {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The standard error options (`cause`).
   */
  constructor(message = "Queue is full", options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueFull";
  }
}

/**
 * Thrown by `Queue.getNowait` when no item can be taken at once.
 *
 * @example Usage
 * ```ts
 * import { Queue, QueueEmpty } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => new Queue<number>().getNowait(), QueueEmpty);
 * ```
 */
export class QueueEmpty extends Error {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The standard error options (`cause`).
   */
  constructor(message = "Queue is empty", options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueEmpty";
  }
}

/**
 * Thrown by `put` on a closed queue, and by `get` on a closed queue once it
 * is drained.
 *
 * @example Usage
 * ```ts
 * import { Queue, QueueClosed } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const queue = new Queue<number>();
 * queue.close();
 * await assert.rejects(queue.put(1), QueueClosed);
 * ```
 */
export class QueueClosed extends Error {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The standard error options (`cause`).
   */
  constructor(message = "Queue is closed", options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueClosed";
  }
}

/** Options of the {@linkcode CircuitOpenError} constructor. */
export interface CircuitOpenErrorOptions extends ErrorOptions {
  /** Milliseconds after which a call may be let through again. */
  retryAfter?: number;
}

/**
 * Thrown by `CircuitBreaker.call` when the breaker does not let the
 * call through. `retryAfter` says in how many milliseconds to try again.
 *
 * @example Usage
 * ```ts
 * import { CircuitOpenError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const err = new CircuitOpenError("open", { retryAfter: 1_000 });
 * assert.equal(err.name, "CircuitOpenError");
 * assert.equal(err.retryAfter, 1_000);
 * ```
 */
export class CircuitOpenError extends Error {
  /** Milliseconds after which a call may be let through again. */
  readonly retryAfter: number;

  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options `retryAfter` (default 0) and the standard `cause`.
   * @throws {TypeError} If `retryAfter` is given and is not a number.
   * @throws {RangeError} If `retryAfter` is negative or NaN (`Infinity` is
   * allowed: never).
   */
  constructor(message = "Circuit breaker is open", options?: CircuitOpenErrorOptions) {
    super(message, options);
    this.name = "CircuitOpenError";
    this.retryAfter = retryAfterOption(options?.retryAfter, "CircuitOpenError");
  }
}

/** A wait in ms: >= 0 or Infinity, so the retry loops can trust it. */
function retryAfterOption(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot create ${what}: 'retryAfter' must be a number, received ${describeValue(value)}`,
    );
  }
  if (!(value >= 0)) {
    throw new RangeError(
      `Cannot create ${what}: 'retryAfter' must be >= 0 or Infinity, received ${value}`,
    );
  }
  return value;
}

/** Options of the {@linkcode RateLimitError} constructor. */
export interface RateLimitErrorOptions extends ErrorOptions {
  /**
   * Milliseconds from now until the request would be admitted.
   *
   * @default {0}
   */
  retryAfter?: number;
}

/**
 * Thrown when a rate limit refuses a request, e.g. by `RateLimiter.acquire`
 * when the grant would come only after the ambient deadline. `retryAfter`
 * says in how many milliseconds to try again.
 *
 * @example Usage
 * ```ts
 * import { RateLimitError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const err = new RateLimitError("slow down", { retryAfter: 250 });
 * assert.equal(err.name, "RateLimitError");
 * assert.equal(err.retryAfter, 250);
 * ```
 */
export class RateLimitError extends Error {
  /** Milliseconds from now until the request would be admitted. */
  readonly retryAfter: number;

  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options `retryAfter` (default 0) and the standard `cause`.
   * @throws {TypeError} If `retryAfter` is given and is not a number.
   * @throws {RangeError} If `retryAfter` is negative or NaN (`Infinity` is
   * allowed: never).
   */
  constructor(message = "Rate limit exceeded", options?: RateLimitErrorOptions) {
    super(message, options);
    this.name = "RateLimitError";
    this.retryAfter = retryAfterOption(options?.retryAfter, "RateLimitError");
  }
}
