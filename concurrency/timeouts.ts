// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Deadlines as scopes: `failAfter`, `moveOnAfter`, `failAt`, `moveOnAt` and
 * `shield`, all thin layers over {@linkcode CancelScope}.
 *
 * @module
 */

import type { DeadlineLabel } from "./_cancel_status.ts";
import { CancelScope, statusOf } from "./cancel.ts";
import { checkFunction, checkNotNaN } from "./_validate.ts";

export type { DeadlineLabel };

/**
 * Checks the arguments of a timeout call (`fn`, after `ms` or `deadline` if
 * given): the rejection the call returns, or `undefined` if they are good.
 */
function badArgs(
  where: string,
  fn: unknown,
  timeName?: "ms" | "deadline",
  time?: unknown,
): Promise<never> | undefined {
  try {
    if (timeName === "deadline") checkNotNaN(time, "deadline", where);
    else if (timeName === "ms" && time !== null) checkNotNaN(time, "ms", where, "a number or null");
    checkFunction(fn, "fn", where, "typed");
  } catch (err) {
    return Promise.reject(err);
  }
  return undefined;
}

const FAIL_AFTER: DeadlineLabel = { source: "failAfter" };
const FAIL_AT: DeadlineLabel = { source: "failAt" };

/**
 * Runs `fn` in `scope` (with a relative `budget` in ms, if given); the
 * scope's own deadline rejects with its `TimeoutError` (whose stack shows
 * the caller), a manual cancel with its `CancelledError`.
 */
function runFailing<T>(
  scope: CancelScope,
  label: DeadlineLabel,
  budget: number | undefined,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T> {
  const status = statusOf(scope);
  status.rejectCaught = true;
  status.label = label;
  return status.run(fn, budget) as Promise<T>;
}

/**
 * Like {@linkcode failAfter}, for the budgets of other calls of the module
 * (internal; e.g. alcall's `attemptTimeout`): its deadline rejects with a
 * `TimeoutError` whose `source` is `label.source`, whose `timeout` is `ms`,
 * and whose message is `<label.subject()> timed out after <ms> ms
 * (<source>)`, or `<source> timed out after <ms> ms` without a subject.
 * `subject` is read when the deadline has fired. A manual cancel of the
 * scope rejects with its `CancelledError`; an enclosing cancellation with
 * that cancellation; `fn`'s own errors unchanged. No argument checks.
 *
 * @param ms The budget in ms (`<= 0`: `fn` is not invoked); `null` or
 * `Infinity` for none.
 * @param label Names the budget.
 * @param fn The body; it receives the scope.
 * @returns `fn`'s value.
 */
export function runWithTimeout<T>(
  ms: number | null,
  label: DeadlineLabel,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T> {
  return runFailing(new CancelScope(), label, ms ?? undefined, fn);
}

/**
 * Runs `fn` in a scope whose deadline is `ms` milliseconds from now; rejects
 * with a {@linkcode TimeoutError} (`source: "failAfter"`, `timeout: ms`, its
 * stack showing the caller) if the deadline cancels it. A manual
 * `scope.cancel()` is not a timeout: then it rejects with the scope's
 * `CancelledError` (its `signal.reason`), even if `fn` returns a value.
 *
 * @typeParam T The type of `fn`'s value.
 * @param ms Milliseconds until the deadline; `null` for none (the scope can
 * still be cancelled). `ms <= 0` means the deadline has passed: `fn` is not
 * invoked.
 * @param fn The body; it receives the scope.
 * @returns `fn`'s value.
 * @throws {TimeoutError} If the deadline passed before `fn` finished.
 * @throws {CancelledError} If the scope was cancelled by `scope.cancel()`, or
 * an enclosing scope was cancelled.
 * @throws {TypeError} If `ms` is not a number or null, or `fn` not a function.
 * @throws {RangeError} If `ms` is NaN.
 *
 * @example Usage
 * ```ts
 * import { failAfter, sleep, TimeoutError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(failAfter(10, () => sleep(1_000)), (err) => {
 *   assert.ok(err instanceof TimeoutError);
 *   assert.equal(err.message, "failAfter timed out after 10 ms");
 *   assert.equal(err.timeout, 10);
 *   return true;
 * });
 * assert.equal(await failAfter(1_000, () => 42), 42);
 * ```
 */
export function failAfter<T>(
  ms: number | null,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T> {
  const bad = badArgs("Cannot call failAfter", fn, "ms", ms);
  if (bad !== undefined) return bad;
  return runFailing(new CancelScope(), FAIL_AFTER, ms ?? undefined, fn);
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
 * import assert from "node:assert/strict";
 *
 * const result = await moveOnAfter(10, async () => {
 *   await sleep(1_000);
 *   return "done";
 * });
 * assert.equal(result, undefined);
 * ```
 */
export function moveOnAfter<T>(
  ms: number | null,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T | undefined> {
  const bad = badArgs("Cannot call moveOnAfter", fn, "ms", ms);
  if (bad !== undefined) return bad;
  const scope = new CancelScope();
  return statusOf(scope).run(fn, ms ?? undefined) as Promise<T | undefined>;
}

/**
 * Like {@linkcode failAfter}, with an absolute deadline on the
 * {@linkcode currentTime} clock; its `TimeoutError` has `source: "failAt"`
 * and `timeout: NaN`, and its message names the deadline.
 *
 * @typeParam T The type of `fn`'s value.
 * @param deadline The absolute deadline in milliseconds.
 * @param fn The body; it receives the scope.
 * @returns `fn`'s value.
 * @throws {TimeoutError} If the deadline passed before `fn` finished.
 * @throws {CancelledError} If the scope was cancelled by `scope.cancel()`, or
 * an enclosing scope was cancelled.
 * @throws {TypeError} If `deadline` is not a number or `fn` not a function.
 * @throws {RangeError} If `deadline` is NaN.
 *
 * @example Usage
 * ```ts
 * import { currentTime, failAt, sleep, TimeoutError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await failAt(currentTime() + 1_000, () => 42), 42);
 * await assert.rejects(
 *   failAt(currentTime() + 10, () => sleep(1_000)),
 *   (err) => err instanceof TimeoutError && err.source === "failAt" && Number.isNaN(err.timeout),
 * );
 * ```
 */
export function failAt<T>(
  deadline: number,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T> {
  const bad = badArgs("Cannot call failAt", fn, "deadline", deadline);
  if (bad !== undefined) return bad;
  return runFailing(new CancelScope({ deadline }), FAIL_AT, undefined, fn);
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
 * import assert from "node:assert/strict";
 *
 * const value = await moveOnAt(currentTime() + 10, async () => {
 *   await sleep(1_000);
 *   return "done";
 * });
 * assert.equal(value, undefined);
 * ```
 */
export function moveOnAt<T>(
  deadline: number,
  fn: (scope: CancelScope) => T | Promise<T>,
): Promise<T | undefined> {
  const bad = badArgs("Cannot call moveOnAt", fn, "deadline", deadline);
  if (bad !== undefined) return bad;
  return new CancelScope({ deadline }).run(fn);
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
 * import assert from "node:assert/strict";
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
 * assert.equal(cleaned, true);
 * ```
 */
export function shield<T>(fn: () => T | Promise<T>): Promise<T> {
  const bad = badArgs("Cannot call shield", fn);
  if (bad !== undefined) return bad;
  return new CancelScope({ shield: true }).run(fn) as Promise<T>;
}
