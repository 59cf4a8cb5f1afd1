// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `toList`: turn any input into an array, optionally flattened, without
 * nulls, and without duplicates.
 *
 * @module
 */

import { checkBoolean, checkOptions } from "../concurrency/_validate.ts";

/** Options of {@linkcode toList}. */
export interface ToListOptions {
  /** Flatten nested arrays and other iterables (strings stay whole). */
  flatten?: boolean;
  /** Drop `null` and `undefined`. */
  dropna?: boolean;
  /** Keep the first of equal items (deep equality for plain objects and arrays). */
  unique?: boolean;
}

/**
 * True for values taken as lists of items: arrays and every other iterable
 * object except strings (as in p-map and `Array.from`). Internal.
 */
export function isListLike(value: unknown): value is Iterable<unknown> {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return true;
  if (value instanceof String) return false;
  return typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Deep equality for plain objects and arrays; SameValueZero otherwise.
 * `path` holds the pairs being compared, so cyclic structures terminate
 * (a pair met again is assumed equal, as in every coinductive comparison).
 */
function deepEqual(a: unknown, b: unknown, path: unknown[] = []): boolean {
  if (a === b || (a !== a && b !== b)) return true;
  const arrays = Array.isArray(a);
  if (arrays ? !Array.isArray(b) : !isPlain(a) || !isPlain(b)) return false;
  for (let i = 0; i < path.length; i += 2) {
    if (path[i] === a && path[i + 1] === b) return true;
  }
  path.push(a, b);
  try {
    if (arrays) {
      const x = a as unknown[], y = b as unknown[];
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i], path)) return false;
      return true;
    }
    const x = a as Record<string, unknown>, y = b as Record<string, unknown>;
    const kx = Object.keys(x);
    if (kx.length !== Object.keys(y).length) return false;
    for (const k of kx) {
      if (!Object.hasOwn(y, k) || !deepEqual(x[k], y[k], path)) return false;
    }
    return true;
  } finally {
    path.length -= 2;
  }
}

/**
 * A cheap structural key for plain objects and arrays: deep-equal values get
 * equal keys (collisions are resolved by {@linkcode deepEqual}).
 */
function structuralKey(value: unknown, depth = 0): string {
  if (depth > 8) return "…";
  if (Array.isArray(value)) {
    return `[${value.map((v) => structuralKey(v, depth + 1)).join(",")}]`;
  }
  if (isPlain(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${k}:${structuralKey(value[k], depth + 1)}`).join(",")}}`;
  }
  if (value !== null && typeof value === "object") return "#object";
  if (typeof value === "function") return "#function";
  if (typeof value === "symbol") return "#symbol";
  return `${typeof value}:${String(value)}`;
}

/**
 * Remembers the items offered so far: `add` is true the first time an item
 * (or a deep-equal plain object or array) is offered. Internal.
 */
export class UniqueFilter {
  readonly #seen = new Set<unknown>();
  readonly #structural = new Map<string, unknown[]>();

  /**
   * Offers `item`.
   *
   * @param item The item.
   * @returns True if no equal item was offered before.
   */
  add(item: unknown): boolean {
    if (!Array.isArray(item) && !isPlain(item)) {
      if (this.#seen.has(item)) return false;
      this.#seen.add(item);
      return true;
    }
    const key = structuralKey(item);
    const bucket = this.#structural.get(key);
    if (bucket === undefined) {
      this.#structural.set(key, [item]);
      return true;
    }
    for (const b of bucket) if (deepEqual(b, item)) return false;
    bucket.push(item);
    return true;
  }
}

/**
 * Yields the items of the list `input`: its elements, or with `flatten` the
 * leaves of every nested list (depth-first, without recursion, so deep
 * nesting cannot overflow the stack), skipping `null`/`undefined` with
 * `dropna`. Closes the iterators it opened if the consumer stops early or
 * one of them throws (not the one that threw, as for-of). Internal.
 *
 * @throws {TypeError} If `flatten` meets a list that contains itself.
 */
export function* listItems(
  input: Iterable<unknown>,
  flatten: boolean,
  dropna: boolean,
): Generator<unknown, void, undefined> {
  if (!flatten) {
    for (const v of input) if (!(dropna && v == null)) yield v;
    return;
  }
  const iterators: Iterator<unknown>[] = [input[Symbol.iterator]()];
  const lists: unknown[] = [input];
  const open = new Set<unknown>([input]);
  let failed = false;
  try {
    while (iterators.length > 0) {
      let step: IteratorResult<unknown>;
      try {
        step = iterators[iterators.length - 1].next();
      } catch (err) {
        // As for-of: an iterator whose next() threw is not closed; those
        // around it are.
        iterators.pop();
        throw err;
      }
      if (step.done) {
        iterators.pop();
        open.delete(lists.pop());
        continue;
      }
      const v = step.value;
      if (isListLike(v)) {
        if (open.has(v)) {
          throw new TypeError("Cannot flatten: the input contains itself, received a cyclic list");
        }
        open.add(v);
        lists.push(v);
        iterators.push(v[Symbol.iterator]());
      } else if (!(dropna && v == null)) {
        yield v;
      }
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    // Stopped early (or failed): close what is still open, innermost first,
    // each even if one before it throws. As for-of: on a failure its error
    // wins over one from return(); on an early stop the first such error is
    // thrown.
    let closeError: { error: unknown } | undefined;
    while (iterators.length > 0) {
      try {
        iterators.pop()!.return?.();
      } catch (err) {
        closeError ??= { error: err };
      }
    }
    // deno-lint-ignore no-unsafe-finally
    if (closeError !== undefined && !failed) throw closeError.error;
  }
}

/**
 * Turns `input` into a new array: an array or other iterable (a Set, a Map's
 * entries, a generator, …) gives its items, one level deep or, with
 * `flatten`, every level; a string or any non-iterable is one item; `null` or
 * `undefined` gives `[]`.
 *
 * @param input The value to turn into a list.
 * @param options `flatten`, `dropna` and `unique`.
 * @returns A new array.
 * @throws {TypeError} If `options` is not an object, an option is not a
 * boolean, or `flatten` meets a list that contains itself.
 *
 * @example Usage
 * ```ts
 * import { toList } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const list = toList([1, [2, [3, null]], "ab", { a: 1 }, { a: 1 }], {
 *   flatten: true,
 *   dropna: true,
 *   unique: true,
 * });
 * assert.deepEqual(list, [1, 2, 3, "ab", { a: 1 }]);
 * ```
 */
export function toList(input: unknown, options?: ToListOptions): unknown[] {
  const where = "Cannot call toList";
  checkOptions(options, where, "bareNumber");
  const flatten = checkBoolean(options?.flatten, "flatten", where, "bareNumber");
  const dropna = checkBoolean(options?.dropna, "dropna", where, "bareNumber");
  const unique = checkBoolean(options?.unique, "unique", where, "bareNumber");
  if (input == null) return [];
  const list = isListLike(input) ? input : [input];
  if (!flatten && !dropna && !unique) return Array.from(list);
  const out: unknown[] = [];
  const filter = unique ? new UniqueFilter() : undefined;
  for (const v of listItems(list, flatten, dropna)) {
    if (filter === undefined || filter.add(v)) out.push(v);
  }
  return out;
}
