// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `toList`: turn any input into an array, optionally flattened, without
 * nulls, and without duplicates.
 *
 * @module
 */

/** Options of {@linkcode toList}. */
export interface ToListOptions {
  /** Flatten nested arrays and other iterables (strings, byte arrays and Maps stay whole). */
  flatten?: boolean;
  /** Drop `null` and `undefined`. */
  dropna?: boolean;
  /** Keep the first of equal items (deep equality for plain objects and arrays). */
  unique?: boolean;
}

/** True for values that are iterated as lists of items. */
function isListLike(value: unknown): value is Iterable<unknown> {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return true;
  if (value instanceof Map || ArrayBuffer.isView(value)) return false;
  return typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep equality for plain objects and arrays; SameValueZero otherwise. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b || (a !== a && b !== b)) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (isPlain(a)) {
    if (!isPlain(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!Object.hasOwn(b, k) || !deepEqual(a[k], b[k])) return false;
    }
    return true;
  }
  return false;
}

/**
 * A cheap structural key for plain objects and arrays: equal values get
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

function flattenInto(out: unknown[], value: unknown, dropna: boolean): void {
  if (isListLike(value)) {
    for (const v of value) flattenInto(out, v, dropna);
  } else if (!(dropna && value == null)) {
    out.push(value);
  }
}

function uniqueOf(items: unknown[]): unknown[] {
  const seen = new Set<unknown>();
  const structural = new Map<string, unknown[]>();
  const out: unknown[] = [];
  for (const item of items) {
    if (Array.isArray(item) || isPlain(item)) {
      const key = structuralKey(item);
      const bucket = structural.get(key);
      if (bucket === undefined) {
        structural.set(key, [item]);
      } else if (bucket.some((b) => deepEqual(b, item))) {
        continue;
      } else {
        bucket.push(item);
      }
    } else {
      if (seen.has(item)) continue;
      seen.add(item);
    }
    out.push(item);
  }
  return out;
}

/**
 * Turns `input` into an array: an array or other iterable gives its items
 * (one level, or every level with `flatten`); a string, a Map, a byte array or
 * any non-iterable is one item; `null` or `undefined` gives `[]`.
 *
 * @param input The value to turn into a list.
 * @param options `flatten`, `dropna` and `unique`.
 * @returns A new array.
 * @throws {TypeError} If `options` is not an object.
 *
 * @example Usage
 * ```ts
 * import { toList } from "@lionpride/core";
 *
 * const list = toList([1, [2, [3, null]], "ab", { a: 1 }, { a: 1 }], {
 *   flatten: true,
 *   dropna: true,
 *   unique: true,
 * });
 * console.assert(JSON.stringify(list) === '[1,2,3,"ab",{"a":1}]');
 * ```
 */
export function toList(input: unknown, options?: ToListOptions): unknown[] {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(
      `Cannot call toList: 'options' must be an object, received ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  const flatten = options?.flatten === true;
  const dropna = options?.dropna === true;
  const unique = options?.unique === true;
  if (input == null) return [];
  let out: unknown[];
  if (flatten) {
    out = [];
    flattenInto(out, input, dropna);
  } else {
    out = isListLike(input) ? Array.from(input) : [input];
    if (dropna) out = out.filter((v) => v != null);
  }
  return unique ? uniqueOf(out) : out;
}

/** Whether `input` is taken as a list by {@linkcode toList} (internal). */
export { isListLike };
