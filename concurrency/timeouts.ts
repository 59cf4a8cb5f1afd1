// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Deadlines as scopes: `failAfter`, `moveOnAfter`, `failAt`, `moveOnAt` and
 * `shield`, all thin layers over {@linkcode CancelScope}.
 *
 * @module
 */

import { CancelScope, runScopeFor } from "./cancel.ts";
import { currentTime } from "./clock.ts";
import { describeValue } from "./errors.ts";

function checkFn(fn: unknown, fnName: string): void {
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot call ${fnName}: 'fn' must be a function, received ${describeValue(fn)}`,
    );
  }
}

function checkMs(ms: unknown, fn: unknown, fnName: string): void {
  if (ms !== null) {
    if (typeof ms !== "number") {
      throw new TypeError(
        `Cannot call ${fnName}: 'ms' must be a number or null, received ${describeValue(ms)}`,
      );
    }
    if (Number.isNaN(ms)) {
      throw new RangeError(`Cannot call ${fnName}: 'ms' must not be NaN, received NaN`);
    }
  }
  checkFn(fn, fnName);
}

function checkDeadline(deadline: unknown, fn: unknown, fnName: string): void {
  if (typeof deadline !== "number") {
    throw new TypeError(
      `Cannot call ${fnName}: 'deadline' must be a number, received ${describeValue(deadline)}`,
    );
  }
  if (Number.isNaN(deadline)) {
    throw new RangeError(`Cannot call ${fnName}: 'deadline' must not be NaN, received NaN`);
  }
  checkFn(fn, fnName);
}

function runAfter<T>(
  ms: number | null,
  fn: (scope: CancelScope) => T | Promise<T>,
  timeout: boolean,
): Promise<T | undefined> {
  if (ms === null) return runScopeFor(new CancelScope(), fn, timeout, NaN) as Promise<T>;
  const now = currentTime();
  const scope = new CancelScope({ deadline: now + ms });
  return runScopeFor(scope, fn, timeout, now) as Promise<T | undefined>;
}

function runAt<T>(
  deadline: number,
  fn: (scope: CancelScope) => T | Promise<T>,
  timeout: boolean,
): Promise<T | undefined> {
  return runScopeFor(new CancelScope({ deadline }), fn, timeout, NaN) as Promise<T | undefined>;
}

/**
 * Runs `fn` in a scope whose deadline is `ms` milliseconds from now; rejects
 * with {@linkcode TimeoutError} if the deadline cancels it. A manual
 * `scope.cancel()` is not a timeout: then it resolves `undefined`.
 *
 * @typeParam T The type of `fn`'s value.
 * @param ms Milliseconds until the deadline; `null` for none (the scope can
 * still be cancelled). `ms <= 0` means the deadline has passed: `fn` is not
 * invoked.
 * @param fn The body; it receives the scope.
 * @returns `fn`'s value.
 * @throws {TimeoutError} If the deadline passed before `fn` finished.
 * @throws {TypeError} If `ms` is not a number or null, or `fn` not a function.
 * @throws {RangeError} If `ms` is NaN.
 *
 * @example Usage
 * ```ts
 * import { failAfter, sleep, TimeoutError } from "@lionpride/core";
 *
 * try {
 *   await failAfter(10, () => sleep(1_000));
 * } catch (err) {
 *   if (!(err instanceof TimeoutError)) throw new Error("unexpected result");
 * }
 * ```
 */
export function failAfter<T>(
  ms: number | null,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T> {
  try {
    checkMs(ms, fn, "failAfter");
  } catch (err) {
    return Promise.reject(err);
  }
  return runAfter(ms, fn, true) as Promise<T>;
}

/**
 * Runs `fn` in a scope whose deadline is `ms` milliseconds from now; resolves
 * `undefined` if the deadline (or a manual cancel) cancels it.
 *
 * @typeParam T The type of `fn`'s value.
 * @param ms Milliseconds until the deadline; `null` for none.
 * @param fn The body; it receives the scope.
 * @returns `fn`'s value, or `undefined` if the scope was cancelled.
 * @throws {TypeError} If `ms` is not a number or null, or `fn` not a function.
 * @throws {RangeError} If `ms` is NaN.
 *
 * @example Usage
 * ```ts
 * import { moveOnAfter, sleep } from "@lionpride/core";
 *
 * const result = await moveOnAfter(10, async () => {
 *   await sleep(1_000);
 *   return "done";
 * });
 * if (!(result === undefined)) throw new Error("unexpected result");
 * ```
 */
export function moveOnAfter<T>(
  ms: number | null,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T | undefined> {
  try {
    checkMs(ms, fn, "moveOnAfter");
  } catch (err) {
    return Promise.reject(err);
  }
  return runAfter(ms, fn, false);
}

/**
 * Like {@linkcode failAfter}, with an absolute deadline on the
 * {@linkcode currentTime} clock.
 *
 * @typeParam T The type of `fn`'s value.
 * @param deadline The absolute deadline in milliseconds.
 * @param fn The body; it receives the scope.
 * @returns `fn`'s value.
 * @throws {TimeoutError} If the deadline passed before `fn` finished.
 * @throws {TypeError} If `deadline` is not a number or `fn` not a function.
 * @throws {RangeError} If `deadline` is NaN.
 *
 * @example Usage
 * ```ts
 * import { currentTime, failAt } from "@lionpride/core";
 *
 * const value = await failAt(currentTime() + 1_000, () => 42);
 * if (!(value === 42)) throw new Error("unexpected result");
 * ```
 */
export function failAt<T>(
  deadline: number,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T> {
  try {
    checkDeadline(deadline, fn, "failAt");
  } catch (err) {
    return Promise.reject(err);
  }
  return runAt(deadline, fn, true) as Promise<T>;
}

/**
 * Like {@linkcode moveOnAfter}, with an absolute deadline on the
 * {@linkcode currentTime} clock.
 *
 * @typeParam T The type of `fn`'s value.
 * @param deadline The absolute deadline in milliseconds.
 * @param fn The body; it receives the scope.
 * @returns `fn`'s value, or `undefined` if the scope was cancelled.
 * @throws {TypeError} If `deadline` is not a number or `fn` not a function.
 * @throws {RangeError} If `deadline` is NaN.
 *
 * @example Usage
 * ```ts
 * import { currentTime, moveOnAt, sleep } from "@lionpride/core";
 *
 * const value = await moveOnAt(currentTime() + 10, () => sleep(1_000));
 * if (!(value === undefined)) throw new Error("unexpected result");
 * ```
 */
export function moveOnAt<T>(
  deadline: number,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T | undefined> {
  try {
    checkDeadline(deadline, fn, "moveOnAt");
  } catch (err) {
    return Promise.reject(err);
  }
  return runAt(deadline, fn, false);
}

/**
 * Runs `fn` in a shielded scope: cancellation of enclosing scopes does not
 * reach it. Use it for cleanup that must finish: a cancelled enclosing scope
 * waits for a shielded scope running inside it before its bounded exit.
 *
 * @typeParam T The type of `fn`'s value.
 * @param fn The body.
 * @returns `fn`'s value.
 * @throws {TypeError} If `fn` is not a function.
 *
 * @example Usage
 * ```ts
 * import { CancelScope, shield, sleep } from "@lionpride/core";
 *
 * const outer = new CancelScope();
 * let cleaned = false;
 * await outer.run(async (s) => {
 *   s.cancel();
 *   await shield(async () => {
 *     await sleep(1);
 *     cleaned = true;
 *   });
 * });
 * if (!(cleaned)) throw new Error("unexpected result");
 * ```
 */
export function shield<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    checkFn(fn, "shield");
  } catch (err) {
    return Promise.reject(err);
  }
  return new CancelScope({ shield: true }).run(fn) as Promise<T>;
}
