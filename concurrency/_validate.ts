// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Argument checks (internal), and the one describer of received values that
 * every argument error of the module uses: `… must be X, received <value>`.
 *
 * @module
 */

/**
 * How {@linkcode describeValue} shows a value. `"typed"` names the type and,
 * when short, the value (`string "10"`, `number -1`, `boolean true`). The
 * other two are the forms some calls were published with, which their tests
 * pin: `"bare"` shows a number or a boolean as itself, a string as typed, and
 * anything else by its type (`-1`, `true`, `string "3"`, `object`: the
 * patterns' checks); `"bareNumber"` shows only a number as itself and a string
 * as typed (`-1`, `boolean`, `string "3"`: `alcall`, `toList`, the queues).
 */
export type DescribeStyle = "typed" | "bare" | "bareNumber";

/**
 * Shows a value received by a call in an argument error.
 *
 * @param value The value received.
 * @param style `"typed"` (default), `"bare"` or `"bareNumber"`, see
 * {@linkcode DescribeStyle}.
 * @returns Typed: `string "10"`, `number -1`, `boolean true`, `bigint 5n`,
 * `symbol Symbol(id)`, `function retry`, `array`, `object`, `null`, `undefined`. Otherwise the
 * value or `null` or the type.
 */
export function describeValue(value: unknown, style: DescribeStyle = "typed"): string {
  const type = typeof value;
  if (value === null) return "null";
  if (type === "number" || (type === "boolean" && style !== "bareNumber")) {
    return style === "typed" ? `${type} ${value}` : String(value);
  }
  // A string is shown in every style: "received string" hides the value given.
  if (style !== "typed" && type !== "string") return type;
  switch (type) {
    case "string": {
      const text = value as string;
      return `string ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`;
    }
    case "bigint":
      return `bigint ${value}n`;
    case "function": {
      let name: unknown;
      try {
        name = (value as { name?: unknown }).name;
      } catch {
        // A Proxy whose get trap throws: the argument error must still be the one thrown.
      }
      return typeof name === "string" && name !== "" ? `function ${name}` : "function";
    }
    case "object":
      return Array.isArray(value) ? "array" : "object";
    case "symbol":
      return `symbol ${String(value)}`;
    default:
      return type;
  }
}

/**
 * {@linkcode describeValue} in the `"bareNumber"` style, under the name the
 * files that took it from `errors.ts` call it by.
 *
 * @param value The value received.
 * @returns E.g. `-1`, `boolean`, `null`, `string`.
 */
export function describeReceived(value: unknown): string {
  return describeValue(value, "bareNumber");
}

function mustBe(
  where: string,
  name: string,
  expected: string,
  value: unknown,
  style: DescribeStyle,
): string {
  return `${where}: '${name}' must be ${expected}, received ${describeValue(value, style)}`;
}

export function checkOptions(
  options: unknown,
  where: string,
  style: DescribeStyle = "bare",
): Record<string, unknown> | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(mustBe(where, "options", "an object", options, style));
  }
  return options as Record<string, unknown>;
}

export function checkNumber(
  value: unknown,
  name: string,
  where: string,
  expected: string,
  valid: (n: number) => boolean,
  style: DescribeStyle = "bare",
): number {
  if (typeof value !== "number") throw new TypeError(mustBe(where, name, expected, value, style));
  if (!valid(value)) {
    throw new RangeError(`${where}: '${name}' must be ${expected}, received ${value}`);
  }
  return value;
}

export function checkFunction(
  value: unknown,
  name: string,
  where: string,
  style: DescribeStyle = "bare",
): void {
  const error = functionError(value, name, where, style);
  if (error !== undefined) throw error;
}

/**
 * The `TypeError` of {@linkcode checkFunction}, or `undefined` if `value` is a
 * function: for calls that report a bad argument as a rejection.
 */
export function functionError(
  value: unknown,
  name: string,
  where: string,
  style: DescribeStyle = "bare",
): TypeError | undefined {
  if (typeof value === "function") return undefined;
  return new TypeError(mustBe(where, name, "a function", value, style));
}

/** Checks a point or span of time that may be any number but NaN (`±Infinity` too). */
export function checkNotNaN(
  value: unknown,
  name: string,
  where: string,
  expected = "a number",
): number {
  if (typeof value !== "number") {
    throw new TypeError(mustBe(where, name, expected, value, "typed"));
  }
  if (Number.isNaN(value)) {
    throw new RangeError(`${where}: '${name}' must not be NaN, received NaN`);
  }
  return value;
}

export function checkBoolean(
  value: unknown,
  name: string,
  where: string,
  style: DescribeStyle = "bare",
): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(mustBe(where, name, "a boolean", value, style));
  }
  return value;
}

/** A count of at least one (`batchSize`, `buffer`, a limiter's `min`/`max`). */
export const isPositiveInteger = (n: number): boolean => Number.isInteger(n) && n >= 1;

export const isLimit = (n: number): boolean => n === Infinity || Number.isInteger(n) && n >= 1;
export const LIMIT = "a positive integer or Infinity";

export function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && value !== undefined &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}

export function checkTasks<F>(fns: unknown, where: string): F[] {
  if (typeof fns === "string" || !isIterable(fns)) {
    throw new TypeError(
      mustBe(where, "fns", "an iterable of functions", fns, "bare"),
    );
  }
  const list = Array.from(fns);
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== "function") {
      throw new TypeError(
        mustBe(where, `fns[${i}]`, "a function", list[i], "bare"),
      );
    }
  }
  return list as F[];
}
