// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The error types every primitive of the module reuses: timeouts,
 * cancellations and groups of errors (PEP 654 style).
 *
 * @module
 */

/**
 * Shows a received value in an argument error: its type, and the value
 * itself when it is short enough to read (internal).
 *
 * @param value The value received.
 * @returns E.g. `string "10"`, `number -1`, `null`, `object`.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case "number":
    case "boolean":
      return `${typeof value} ${value}`;
    case "bigint":
      return `bigint ${value}n`;
    case "function":
      return value.name ? `function ${value.name}` : "function";
    case "object":
      if (value === null) return "null";
      return Array.isArray(value) ? "array" : "object";
    default:
      return typeof value;
  }
}

/**
 * Names a received value in a range or type error: a number as itself, `null`,
 * or else its type (internal; for messages like `received -1`).
 *
 * @param value The value received.
 * @returns E.g. `-1`, `null`, `string`.
 */
export function describeReceived(value: unknown): string {
  return typeof value === "number" ? String(value) : value === null ? "null" : typeof value;
}

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
 *
 * const scope = new CancelScope();
 * scope.cancel("no longer needed");
 * if (!(scope.signal.reason instanceof CancelledError)) throw new Error("unexpected result");
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
 *
 * if (!(isCancelled(new CancelledError()))) throw new Error("unexpected result");
 * if (!(isCancelled(new DOMException("aborted", "AbortError")))) throw new Error("unexpected result");
 * if (!(!isCancelled(new Error("boom")))) throw new Error("unexpected result");
 * ```
 */
export function isCancelled(err: unknown): boolean {
  if (err instanceof CancelledError) return true;
  return typeof err === "object" && err !== null &&
    (err as { name?: unknown }).name === "AbortError";
}

/**
 * A condition for {@linkcode ExceptionGroup.split}: an error class, or a
 * predicate over errors.
 */
export type ExceptionCondition<E = unknown> =
  // deno-lint-ignore no-explicit-any
  | (abstract new (...args: any[]) => unknown)
  | ((err: E) => boolean);

function toPredicate<E>(
  condition: ExceptionCondition<E>,
): (e: unknown) => boolean {
  if (typeof condition !== "function") {
    throw new TypeError(
      `Cannot split group: 'condition' must be an error class or a predicate, received ${
        describeValue(condition)
      }`,
    );
  }
  const proto = (condition as { prototype?: unknown }).prototype;
  // A class is tested with instanceof; calling one (as a predicate) throws.
  // Classes of thrown non-Errors are recognised by their source text.
  if (
    proto === Error.prototype || proto instanceof Error ||
    (proto !== undefined && /^class\b/.test(Function.prototype.toString.call(condition)))
  ) {
    const cls = condition as abstract new () => unknown;
    return (e) => e instanceof cls;
  }
  return condition as (e: unknown) => boolean;
}

/**
 * A group of errors, as Python's `ExceptionGroup` (PEP 654): what a
 * {@linkcode taskGroup} rejects with when children fail.
 *
 * @typeParam E The type of the errors held.
 *
 * @example Usage
 * ```ts
 * import { ExceptionGroup } from "@lionpride/core";
 *
 * const eg = new ExceptionGroup("two failures", [new TypeError("a"), new RangeError("b")]);
 * const [types, rest] = eg.split(TypeError);
 * if (!(types?.exceptions.length === 1 && rest?.exceptions.length === 1)) throw new Error("unexpected result");
 * if (!(String(eg).endsWith("(2 sub-exceptions)"))) throw new Error("unexpected result");
 * ```
 */
export class ExceptionGroup<E = unknown> extends AggregateError {
  /** The errors held by the group, in the order they occurred. */
  declare readonly errors: E[];

  /**
   * Constructs a new group.
   *
   * @param message What the group is about.
   * @param exceptions The errors (at least one).
   * @param options The standard error options (`cause`).
   * @throws {TypeError} If `message` is not a string or `exceptions` is empty
   * or not iterable.
   */
  constructor(
    message: string,
    exceptions: Iterable<E>,
    options?: ErrorOptions,
  ) {
    if (typeof message !== "string") {
      throw new TypeError(
        `Cannot create ExceptionGroup: 'message' must be a string, received ${
          describeValue(message)
        }`,
      );
    }
    if (
      exceptions === null || exceptions === undefined ||
      typeof (exceptions as Iterable<E>)[Symbol.iterator] !== "function" ||
      typeof exceptions === "string"
    ) {
      throw new TypeError(
        `Cannot create ExceptionGroup: 'exceptions' must be an iterable of errors, received ${
          describeValue(exceptions)
        }`,
      );
    }
    const list = Array.from(exceptions);
    if (list.length === 0) {
      throw new TypeError(
        "Cannot create ExceptionGroup: 'exceptions' must not be empty, received 0 errors",
      );
    }
    super(list, message, options);
    this.name = "ExceptionGroup";
  }

  /** The errors held by the group (the same items as `errors`). */
  get exceptions(): readonly E[] {
    return this.errors;
  }

  /**
   * The message followed by the number of errors, e.g.
   * `ExceptionGroup: boom (2 sub-exceptions)`.
   *
   * @returns The string form of the group.
   */
  override toString(): string {
    return `${this.name}: ${this.message} (${this.errors.length} sub-exceptions)`;
  }

  /**
   * Makes a new group with the same message holding `exceptions`; it keeps
   * this group's `stack`, `cause` and `notes` (as PEP 654's `split` copies the
   * traceback, cause, context and notes), so a part that is re-thrown still
   * points at the code that raised the group.
   *
   * @typeParam F The type of the errors of the new group.
   * @param exceptions The errors of the new group.
   * @returns The new group.
   */
  derive<F>(exceptions: Iterable<F>): ExceptionGroup<F> {
    return keepOrigin(this, new ExceptionGroup<F>(this.message, exceptions));
  }

  /**
   * Splits the group into the errors that match `condition` and the rest,
   * keeping the nesting of inner groups in both halves. The condition is also
   * tested on the nested groups themselves (and on this group).
   *
   * @param condition An error class or a predicate.
   * @returns `[match, rest]`, each `undefined` when empty.
   */
  split(
    condition: ExceptionCondition<E>,
  ): [ExceptionGroup<E> | undefined, ExceptionGroup<E> | undefined] {
    return splitGroup(this, toPredicate(condition));
  }

  /**
   * The errors that match `condition`, nesting kept.
   *
   * @param condition An error class or a predicate.
   * @returns The matching subgroup, or `undefined` if nothing matches.
   */
  subgroup(condition: ExceptionCondition<E>): ExceptionGroup<E> | undefined {
    return this.split(condition)[0];
  }
}

/** The fields a part of a group takes from the group it was split from. */
const ORIGIN_FIELDS = ["stack", "cause", "notes", "context"] as const;

/**
 * Copies `from`'s origin (stack, cause, notes, context: whichever it has as
 * own properties) onto `to`, a part derived from it. Runs after `derive`, so
 * a subclass whose `derive` builds the part its own way keeps them too.
 */
function keepOrigin<G extends ExceptionGroup<unknown>>(from: ExceptionGroup<unknown>, to: G): G {
  for (const key of ORIGIN_FIELDS) {
    const own = Object.getOwnPropertyDescriptor(from, key);
    if (own === undefined) continue;
    // `stack` is an accessor in some engines: copy what it reads.
    const value: unknown = (from as unknown as Record<string, unknown>)[key];
    Object.defineProperty(to, key, {
      value: Array.isArray(value) ? [...value] : value,
      writable: true,
      configurable: true,
      enumerable: own.enumerable ?? false,
    });
  }
  return to;
}

function splitGroup<E>(
  group: ExceptionGroup<E>,
  matches: (e: unknown) => boolean,
): [ExceptionGroup<E> | undefined, ExceptionGroup<E> | undefined] {
  if (matches(group)) return [group, undefined];
  const hit: E[] = [];
  const miss: E[] = [];
  for (const e of group.errors) {
    if (e instanceof ExceptionGroup) {
      const [m, r] = splitGroup(e as ExceptionGroup<E>, matches);
      if (m) hit.push(m as E);
      if (r) miss.push(r as E);
    } else if (matches(e)) {
      hit.push(e);
    } else {
      miss.push(e);
    }
  }
  return [
    hit.length === 0 ? undefined : miss.length === 0 ? group : keepOrigin(group, group.derive(hit)),
    miss.length === 0
      ? undefined
      : hit.length === 0
      ? group
      : keepOrigin(group, group.derive(miss)),
  ];
}

/**
 * Splits a group into its cancellations (see {@linkcode isCancelled}) and the
 * rest.
 *
 * @param eg The group to split.
 * @returns `[cancellations, rest]`, each `undefined` when empty.
 *
 * @example Usage
 * ```ts
 * import { CancelledError, ExceptionGroup, splitCancellation } from "@lionpride/core";
 *
 * const eg = new ExceptionGroup("mixed", [new CancelledError(), new Error("boom")]);
 * const [cancels, rest] = splitCancellation(eg);
 * if (!(cancels?.exceptions.length === 1 && rest?.exceptions.length === 1)) throw new Error("unexpected result");
 * ```
 */
export function splitCancellation<E>(
  eg: ExceptionGroup<E>,
): [ExceptionGroup<E> | undefined, ExceptionGroup<E> | undefined] {
  return splitGroup(eg, isCancelled);
}

/**
 * The part of a group that is not a cancellation.
 *
 * @param eg The group.
 * @returns The non-cancellation subgroup, or `undefined` if there is none.
 *
 * @example Usage
 * ```ts
 * import { CancelledError, ExceptionGroup, nonCancelSubgroup } from "@lionpride/core";
 *
 * const eg = new ExceptionGroup("only cancels", [new CancelledError()]);
 * if (!(nonCancelSubgroup(eg) === undefined)) throw new Error("unexpected result");
 * ```
 */
export function nonCancelSubgroup<E>(
  eg: ExceptionGroup<E>,
): ExceptionGroup<E> | undefined {
  return splitGroup(eg, isCancelled)[1];
}

/**
 * Thrown by `Queue.putNowait` when the queue is full.
 *
 * @example Usage
 * ```ts
 * import { Queue, QueueFull } from "@lionpride/core";
 *
 * const queue = new Queue<number>({ maxSize: 1 });
 * queue.putNowait(1);
 * try {
 *   queue.putNowait(2);
 * } catch (err) {
 *   if (!(err instanceof QueueFull)) throw new Error("unexpected result");
 * }
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
 *
 * try {
 *   new Queue<number>().getNowait();
 * } catch (err) {
 *   if (!(err instanceof QueueEmpty)) throw new Error("unexpected result");
 * }
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
 *
 * const queue = new Queue<number>();
 * queue.close();
 * await queue.put(1).catch((err) => {
 *   if (!(err instanceof QueueClosed)) throw new Error("unexpected result");
 * });
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
 *
 * const err = new CircuitOpenError("open", { retryAfter: 1_000 });
 * if (!(err.name === "CircuitOpenError" && err.retryAfter === 1_000)) throw new Error("unexpected result");
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
   */
  constructor(message = "Circuit breaker is open", options?: CircuitOpenErrorOptions) {
    super(message, options);
    this.name = "CircuitOpenError";
    this.retryAfter = options?.retryAfter ?? 0;
  }
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
   */
  constructor(message = "Rate limit exceeded", options?: RateLimitErrorOptions) {
    super(message, options);
    this.name = "RateLimitError";
    this.retryAfter = options?.retryAfter ?? 0;
  }
}
