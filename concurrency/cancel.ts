// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Cancellation scopes: the one place where cancellation lives. Every waiting
 * primitive asks the ambient scope whether it is cancelled and registers a
 * {@linkcode CancelWatcher} with it instead of keeping its own timers.
 *
 * A {@linkcode CancelScope} is the user's handle (what to cancel and when);
 * the plumbing that carries a cancellation through the tree of scopes is
 * its internal `CancelStatus` (`_cancel_status.ts`), which other files of
 * the module reach through the ordinary functions below.
 *
 * @module
 */

import { ambientStatus } from "./_ambient.ts";
import {
  BY_DEADLINE,
  CancelStatus,
  CancelWatcher,
  NOT_CANCELLED,
  STATUS,
} from "./_cancel_status.ts";
import { currentTime } from "./clock.ts";
import { defineInspect } from "./_inspect.ts";
import { CancelledError } from "./errors.ts";
import { isInstance } from "./_thrown.ts";
import { checkNotNaN, checkOptions, describeValue, functionError } from "./_validate.ts";

export { CancelWatcher };

function toReason(reason: unknown): CancelledError {
  // A user's abort reason can be anything, a Proxy included: cancelling must
  // not throw from inside the signal's abort listener.
  if (isInstance(reason, CancelledError)) return reason as CancelledError;
  if (reason === undefined) return new CancelledError("Cancelled by CancelScope.cancel()");
  if (typeof reason === "string") return new CancelledError(reason);
  return new CancelledError("Cancelled by CancelScope.cancel()", { cause: reason });
}

function checkShield(value: unknown, where: string): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${where}: 'shield' must be a boolean, received ${describeValue(value)}`);
  }
  return value;
}

/** Options of the {@linkcode CancelScope} constructor. */
export interface CancelScopeOptions {
  /** Absolute deadline on the {@linkcode currentTime} clock; `Infinity` (the default) means none. */
  deadline?: number;
  /** If true, cancellation of enclosing scopes does not reach this scope. */
  shield?: boolean;
}

/**
 * A cancellation scope, as in Trio: cancel it (or let its deadline pass) and
 * everything running inside it is cancelled: its `signal` aborts, and every
 * `sleep`, `checkpoint` and waiting call of this module inside it rejects.
 *
 * Scopes nest: the scope that is ambient when `run` is called becomes the
 * parent, and its cancellation reaches this scope unless `shield` is set.
 *
 * @example Usage
 * ```ts
 * import { CancelScope, sleep } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const scope = new CancelScope();
 * const result = await scope.run(async (s) => {
 *   s.cancel();
 *   await sleep(1_000); // rejects at once: the scope is cancelled
 *   return "not reached";
 * });
 * assert.equal(result, undefined);
 * assert.equal(scope.cancelledCaught, true);
 * ```
 */
export class CancelScope {
  /** @ignore */
  readonly [STATUS]: CancelStatus;

  /**
   * Constructs a new scope. It does nothing until {@linkcode CancelScope.run}.
   *
   * @param options The deadline and shield of the scope.
   * @throws {TypeError} If `options` is not an object, `deadline` not a
   * number or `shield` not a boolean.
   * @throws {RangeError} If `deadline` is NaN.
   */
  constructor(options?: CancelScopeOptions) {
    let deadline = Infinity, shield = false;
    if (options !== undefined) {
      const where = "Cannot create CancelScope";
      checkOptions(options, where, "typed");
      if (options.deadline !== undefined) {
        deadline = checkNotNaN(options.deadline, "deadline", where);
      }
      if (options.shield !== undefined) shield = checkShield(options.shield, where);
    }
    this[STATUS] = new CancelStatus(this, deadline, shield);
  }

  /**
   * Aborts (with a {@linkcode CancelledError}) when this scope is cancelled,
   * or when an enclosing scope is, unless the scope is shielded. (If a
   * shield set later lifts an enclosing cancellation, the next read of
   * `signal` gives a fresh signal that has not aborted.)
   */
  get signal(): AbortSignal {
    return this[STATUS].signal();
  }

  /**
   * The absolute deadline of this scope (`Infinity` for none). Setting it
   * while the scope runs re-arms it; a deadline already past cancels at once.
   */
  get deadline(): number {
    return this[STATUS].deadline;
  }

  set deadline(value: number) {
    this[STATUS].setDeadline(checkNotNaN(value, "deadline", "Cannot set CancelScope.deadline"));
  }

  /**
   * If true, cancellation of enclosing scopes does not reach this scope.
   * Setting it while an enclosing cancellation holds the scope lifts that
   * cancellation (as in Trio); clearing it lets the cancellation in.
   */
  get shield(): boolean {
    return this[STATUS].shield;
  }

  set shield(value: boolean) {
    this[STATUS].setShield(checkShield(value, "Cannot set CancelScope.shield"));
  }

  /** True once `cancel()` was called or the deadline was reached. */
  get cancelCalled(): boolean {
    const status = this[STATUS];
    if (status.running) status.noteDeadline();
    // Not run yet: no timer is armed, yet a deadline already past has been
    // reached (Trio's cancel_called says so too); run() will not invoke fn.
    else if (status.idle && status.deadline <= currentTime()) return true;
    return status.origin !== NOT_CANCELLED;
  }

  /** True if `run` absorbed this scope's own cancellation. */
  get cancelledCaught(): boolean {
    return this[STATUS].caught;
  }

  /**
   * Cancels the scope; idempotent. The signal's reason is always a
   * {@linkcode CancelledError}: a string `reason` becomes its message,
   * anything else its `cause`.
   *
   * @param reason Why the scope is cancelled.
   */
  cancel(reason?: unknown): void {
    const status = this[STATUS];
    if (status.origin === NOT_CANCELLED) status.cancel(toReason(reason));
  }

  /**
   * Runs `fn` with this scope ambient.
   *
   * Resolves with `fn`'s value; resolves `undefined` (and sets
   * `cancelledCaught`) if this scope was cancelled; rejects with the
   * cancellation of an enclosing scope if one was cancelled; rejects with
   * `fn`'s own errors unchanged. Once cancelled, it settles when `fn` settles
   * or one macrotask turn later, whichever comes first (a late outcome of an
   * abandoned `fn` is absorbed). While a shielded scope runs inside it, that
   * turn waits for the shielded scope to finish: shielded work is cleanup
   * the caller asked to complete.
   *
   * Code that outlives `fn` in its async context (a promise nobody awaited)
   * belongs, once this scope has finished, to the nearest enclosing scope
   * that has not finished normally, and so do the waits and scopes it has
   * pending then; if this scope was cancelled, it stays in this scope,
   * cancelled.
   *
   * @typeParam T The type of `fn`'s value.
   * @param fn The body; it receives the scope.
   * @returns `fn`'s value, or `undefined` if the scope was cancelled.
   * @throws {Error} If the scope has already run (as a rejection).
   * @throws {TypeError} If `fn` is not a function (as a rejection).
   */
  run<T>(fn: (scope: CancelScope) => T | Promise<T>): Promise<T | undefined> {
    if (this[STATUS].idle) {
      const bad = functionError(fn, "fn", "Cannot run CancelScope", "typed");
      if (bad !== undefined) return Promise.reject(bad);
    }
    return this[STATUS].run(fn) as Promise<T | undefined>;
  }
}

function describeDeadline(deadline: number): string {
  if (deadline === Infinity) return "none";
  const left = Math.round(deadline - currentTime());
  return left > 0 ? `in ${left} ms` : `passed ${-left} ms ago`;
}

// Printed as e.g. `CancelScope { state: running, deadline: in 120 ms, cancelled: no, shield: false }`.
defineInspect(CancelScope, (scope) => {
  const s = scope[STATUS];
  const state = s.idle ? "idle" : s.running ? "running" : "done";
  const cancelled = s.reason === undefined
    ? "no"
    : s.origin === NOT_CANCELLED
    ? "by an enclosing scope"
    : s.origin === BY_DEADLINE
    ? "by its deadline"
    : "by cancel()";
  return `state: ${state}, deadline: ${describeDeadline(s.deadline)}, cancelled: ${cancelled}, ` +
    `shield: ${s.shield}`;
});

/** The plumbing of `scope` (internal). */
export function statusOf(scope: CancelScope): CancelStatus {
  return scope[STATUS];
}

/**
 * Returns the innermost ambient scope, if any.
 *
 * @returns The ambient scope, or `undefined` outside any scope.
 *
 * @example Usage
 * ```ts
 * import { currentScope, moveOnAfter } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(currentScope(), undefined);
 * await moveOnAfter(1_000, (scope) => {
 *   assert.equal(currentScope(), scope);
 * });
 * ```
 */
export function currentScope(): CancelScope | undefined {
  return ambientStatus()?.scope;
}

/**
 * Returns the ambient effective deadline: the earliest deadline of the
 * ambient scope and its unshielded ancestors.
 *
 * @returns The deadline; `Infinity` if none, `-Infinity` if the ambient scope
 * is already cancelled.
 *
 * @example Usage
 * ```ts
 * import { currentTime, effectiveDeadline, failAfter } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(effectiveDeadline(), Infinity);
 * await failAfter(5_000, () => {
 *   const left = effectiveDeadline() - currentTime();
 *   assert.ok(left > 0 && left <= 5_000);
 * });
 * ```
 */
export function effectiveDeadline(): number {
  return ambientStatus()?.effectiveDeadline() ?? Infinity;
}

// ---------------------------------------------------------------------------
// Internal: how the other files of the module reach the plumbing.

/**
 * The cancellation reason in force for code running now: the ambient scope's
 * (if cancelled), else `signal.reason` if `signal` has aborted. Internal.
 */
export function pendingCancellation(
  scope: CancelScope | undefined,
  signal: AbortSignal | undefined,
): unknown {
  if (scope !== undefined) {
    const reason = scope[STATUS].reason;
    if (reason !== undefined) return reason;
  }
  if (signal !== undefined && signal.aborted) return signal.reason;
  return undefined;
}

/** Links a watcher to a scope, to be woken when it is cancelled (internal). */
export function watchScope(scope: CancelScope, watcher: CancelWatcher): void {
  scope[STATUS].watch(watcher);
}

/** Removes a watcher from its scope; a no-op if it is not linked (internal). */
export function unwatchScope(watcher: CancelWatcher): void {
  watcher.watchScope?.unwatch(watcher);
}

/** The reason `scope` is cancelled for, if it is (internal). */
export function scopeReason(scope: CancelScope): CancelledError | undefined {
  return scope[STATUS].reason;
}

/**
 * True once `scope`'s own deadline has cancelled it (not `cancel()`, not an
 * enclosing scope): lets a caller that opened a scope with a budget tell
 * that its budget fired (internal).
 */
export function deadlineFired(scope: CancelScope): boolean {
  return scope[STATUS].origin === BY_DEADLINE;
}

/** The cancellation of a visible enclosing scope, if any (internal). */
export function enclosingReason(scope: CancelScope): CancelledError | undefined {
  return scope[STATUS].enclosingReason();
}

/** Enters `scope` under the ambient scope without running a body (internal). */
export function enterScope(scope: CancelScope): void {
  scope[STATUS].enter(ambientStatus());
}

/** Leaves a scope entered with `enterScope` (internal). */
export function exitScope(scope: CancelScope): void {
  scope[STATUS].exit();
}

/** Marks that `scope` absorbed its own cancellation (internal). */
export function markCaught(scope: CancelScope): void {
  scope[STATUS].caught = true;
}

/** The effective deadline of `scope` and its unshielded ancestors (internal). */
export function effectiveDeadlineOf(scope: CancelScope | undefined): number {
  return scope === undefined ? Infinity : scope[STATUS].effectiveDeadline();
}

/** Runs `fn(...args)` with `scope` ambient (internal). */
export function runInScope<A extends unknown[], R>(
  scope: CancelScope,
  fn: (...args: A) => R,
  ...args: A
): R {
  return scope[STATUS].runInside(fn, args);
}

/**
 * Runs a scope like `run`; with `timeout`, its own deadline rejects with a
 * `TimeoutError` and a manual cancel with its `CancelledError`, instead of
 * resolving `undefined` (internal; kept for callers of 0.1; new code uses
 * `runWithTimeout` of timeouts.ts).
 */
export function runScopeFor(
  scope: CancelScope,
  fn: (scope: CancelScope) => unknown,
  timeout: boolean,
  _now?: number,
): Promise<unknown> {
  const status = scope[STATUS];
  status.rejectCaught = timeout;
  return status.run(fn);
}
