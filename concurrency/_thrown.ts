// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Asking about a thrown value without throwing (internal). Any value can be
 * thrown or given as a reason, a Proxy or an object with a throwing getter
 * included; the code that classifies it (cancellation, Retry-After, status)
 * must not replace it with the error its inspection raised.
 *
 * @module
 */

/**
 * `err[key]` when `err` is an object, else `undefined`; also `undefined` when
 * reading it throws (a Proxy, a throwing getter), so that asking about a
 * thrown value never replaces it with the getter's error.
 *
 * @param err Any thrown value.
 * @param key The property to read.
 * @returns The property's value, or `undefined`.
 */
export function fieldOf(err: unknown, key: string): unknown {
  if (typeof err !== "object" || err === null) return undefined;
  try {
    return (err as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * `err instanceof type`, false where that throws (a Proxy's
 * `getPrototypeOf` trap).
 *
 * @param err Any thrown value.
 * @param type The class to test against.
 * @returns Whether `err` is an instance of `type`.
 */
// deno-lint-ignore no-explicit-any
export function isInstance(err: unknown, type: abstract new (...args: any[]) => unknown): boolean {
  try {
    return err instanceof type;
  } catch {
    return false;
  }
}
