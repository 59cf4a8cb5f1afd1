// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `ExceptionGroup` (PEP 654) and the splitting of groups into cancellations
 * and the rest (internal file: import them from `errors.ts`).
 *
 * @module
 */

import { isCancelled } from "./errors.ts";
import { describeValue } from "./_validate.ts";
import { isInstance } from "./_thrown.ts";

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
    return (e) => isInstance(e, cls);
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
 * import assert from "node:assert/strict";
 *
 * const a = new TypeError("a"), b = new RangeError("b");
 * const eg = new ExceptionGroup("two failures", [a, b]);
 * const [types, rest] = eg.split(TypeError);
 * assert.deepEqual(types?.exceptions, [a]);
 * assert.deepEqual(rest?.exceptions, [b]);
 * assert.equal(String(eg), "ExceptionGroup: two failures (2 sub-exceptions)");
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
    // A thrown Proxy can throw from instanceof: it is then a leaf, not a group.
    if (isInstance(e, ExceptionGroup)) {
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
 * import assert from "node:assert/strict";
 *
 * const cancel = new CancelledError(), boom = new Error("boom");
 * const [cancels, rest] = splitCancellation(new ExceptionGroup("mixed", [cancel, boom]));
 * assert.deepEqual(cancels?.exceptions, [cancel]);
 * assert.deepEqual(rest?.exceptions, [boom]);
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
 * import assert from "node:assert/strict";
 *
 * const boom = new Error("boom");
 * const eg = new ExceptionGroup("mixed", [new CancelledError(), boom]);
 * assert.deepEqual(nonCancelSubgroup(eg)?.exceptions, [boom]);
 * assert.equal(nonCancelSubgroup(new ExceptionGroup("only", [new CancelledError()])), undefined);
 * ```
 */
export function nonCancelSubgroup<E>(
  eg: ExceptionGroup<E>,
): ExceptionGroup<E> | undefined {
  return splitGroup(eg, isCancelled)[1];
}
