// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Argument checks shared by the patterns (internal).
 *
 * @module
 */

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

export function checkOptions(options: unknown, where: string): Record<string, unknown> | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${where}: 'options' must be an object, received ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

export function checkNumber(
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

export function checkFunction(value: unknown, name: string, where: string): void {
  if (typeof value !== "function") {
    throw new TypeError(`${where}: '${name}' must be a function, received ${describe(value)}`);
  }
}

export function checkBoolean(value: unknown, name: string, where: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(`${where}: '${name}' must be a boolean, received ${describe(value)}`);
  }
  return value;
}

export const isLimit = (n: number): boolean => n === Infinity || Number.isInteger(n) && n >= 1;
export const LIMIT = "a positive integer or Infinity";

export function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && value !== undefined &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}

export function checkTasks<F>(fns: unknown, where: string): F[] {
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
