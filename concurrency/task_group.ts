// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Task groups (Trio's nurseries): structured concurrency where no child
 * outlives the group, the first failure cancels the rest, and every failure
 * comes back in one {@linkcode ExceptionGroup}.
 *
 * @module
 */

import {
  CancelScope,
  currentScope,
  enclosingReason,
  enterScope,
  exitScope,
  markCaught,
  pendingCancellation,
  runInScope,
  scopeReason,
} from "./cancel.ts";
import { ExceptionGroup, isCancelled } from "./errors.ts";
import { checkFunction, functionError } from "./_validate.ts";
import { defineInspect } from "./_inspect.ts";
import { whenSettled } from "./_thenable.ts";

/** Handed to a child started with {@linkcode TaskGroup.start}. */
export interface TaskStatus<R = void> {
  /** Tells the parent the child has started, with a value for `start` to resolve with. */
  started(value?: R): void;
}

/**
 * The bookkeeping of one group (internal): children still running, the
 * failures in the order they occurred, and the wait for the last child.
 * Only {@linkcode taskGroup} makes one, and a {@linkcode TaskGroup} can only
 * be made from one.
 */
class GroupState {
  readonly scope: CancelScope = new CancelScope();
  pending = 0;
  closed = false;
  readonly failures: unknown[] = [];
  #idle: (() => void) | undefined = undefined;
  readonly childDone = (): void => {
    if (--this.pending === 0 && this.#idle !== undefined) this.#idle();
  };
  readonly childFailed = (err: unknown): void => {
    this.fail(err);
    this.childDone();
  };

  fail(err: unknown): void {
    // A cancellation is expected while the group is cancelled; otherwise it
    // is a real failure and must not be lost.
    if (isCancelled(err) && scopeReason(this.scope) !== undefined) return;
    this.failures.push(err);
    if (this.failures.length === 1) this.scope.cancel("A task of the group failed");
  }

  /** Resolves once no child is running, then closes the group. */
  async join(): Promise<void> {
    // A loop: a child may start another in the turn the last one ends.
    while (this.pending > 0) {
      await new Promise<void>((resolve) => (this.#idle = resolve));
    }
    this.closed = true;
  }
}

/**
 * A group of concurrent children, created by {@linkcode taskGroup}.
 *
 * @example Usage
 * ```ts
 * import { sleep, taskGroup } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const done: number[] = [];
 * await taskGroup((tg) => {
 *   for (const ms of [30, 10, 20]) {
 *     tg.startSoon(async () => {
 *       await sleep(ms);
 *       done.push(ms);
 *     });
 *   }
 * });
 * assert.deepEqual(done, [10, 20, 30]);
 * ```
 */
export class TaskGroup {
  /** The group's scope: cancel it to cancel every child. */
  readonly cancelScope: CancelScope;
  readonly #state: GroupState;

  /**
   * Use {@linkcode taskGroup} to make one.
   *
   * @param token Internal.
   */
  constructor(token: unknown) {
    if (!(token instanceof GroupState)) {
      throw new TypeError("Cannot create TaskGroup directly: use taskGroup(fn)");
    }
    this.#state = token;
    this.cancelScope = token.scope;
  }

  static {
    // Printed as e.g. `TaskGroup { children: 3, failures: 0, cancelled: false }`.
    defineInspect(TaskGroup, (tg) => {
      const state = tg.#state;
      return `children: ${state.pending}, failures: ${state.failures.length}, ` +
        `cancelled: ${scopeReason(state.scope) !== undefined}` + (state.closed ? ", finished" : "");
    });
  }

  /** The group's signal: aborts when the group is cancelled. */
  get signal(): AbortSignal {
    return this.cancelScope.signal;
  }

  /**
   * Starts `fn(...args)` as a child of the group, with the group's scope
   * ambient. The child starts at once (its synchronous part runs before
   * `startSoon` returns).
   *
   * @typeParam A The argument types.
   * @param fn The child.
   * @param args Arguments for `fn`.
   * @throws {Error} If the group has finished.
   */
  startSoon<A extends unknown[]>(
    fn: (...args: A) => unknown,
    ...args: A
  ): void {
    this.#checkOpen(fn, "startSoon");
    const state = this.#state;
    state.pending++;
    let result: unknown;
    try {
      // Children started from the body already run with the group's scope
      // ambient: skip the (costly) context switch then.
      // A spread of no arguments still builds an array: skip it.
      result = currentScope() !== this.cancelScope
        ? runInScope(this.cancelScope, fn, ...args)
        : args.length === 0
        ? (fn as () => unknown)()
        : fn(...args);
    } catch (err) {
      state.childFailed(err);
      return;
    }
    whenSettled(result, state.childDone, state.childFailed);
  }

  /**
   * Starts a child and waits until it calls `status.started(value)`.
   *
   * @typeParam R The type of the started value.
   * @param fn The child; it receives the status to report with.
   * @returns The value given to `status.started()`.
   * @throws {Error} If the group has finished. The promise rejects with a
   * `TypeError` if `fn` is not a function; at once with the cancellation if
   * it is called in a cancelled scope or the group is cancelled (the child is
   * not started); and with the child's error (or an `Error` saying it never
   * started) if the child ends before calling `started`; the group does not
   * count that as a failure.
   */
  start<R = void>(fn: (status: TaskStatus<R>) => unknown): Promise<R> {
    try {
      this.#checkOpen(fn, "start");
    } catch (err) {
      // A finished group is a state error of the caller: thrown, as by startSoon.
      if (this.#state.closed) throw err;
      return Promise.reject(err);
    }
    // A waiting call in a cancelled scope rejects at once (API.md §1).
    const cancelled = pendingCancellation(currentScope(), undefined) ??
      scopeReason(this.cancelScope);
    if (cancelled !== undefined) return Promise.reject(cancelled);
    let started = false;
    let resolve!: (value: R) => void, reject!: (err: unknown) => void;
    const promise = new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const status: TaskStatus<R> = {
      started(value?: R): void {
        if (started) throw new Error("Cannot call TaskStatus.started() twice");
        started = true;
        resolve(value as R);
      },
    };
    this.startSoon(async () => {
      try {
        await fn(status);
      } catch (err) {
        if (started) throw err;
        reject(err);
        return;
      }
      if (!started) {
        reject(
          new Error(
            "Child started with TaskGroup.start() never called started()",
          ),
        );
      }
    });
    return promise;
  }

  #checkOpen(fn: unknown, method: string): void {
    if (this.#state.closed) {
      throw new Error(
        `Cannot call TaskGroup.${method}: the task group has finished`,
      );
    }
    checkFunction(fn, "fn", `Cannot call TaskGroup.${method}`, "typed");
  }
}

/** Whether `value` is something `await` waits for (its `then` was read once already). */
function isThenable(value: unknown): boolean {
  return value instanceof Promise ||
    (value !== null && (typeof value === "object" || typeof value === "function") &&
      typeof (value as PromiseLike<unknown>).then === "function");
}

/** The body of {@linkcode taskGroup}: runs `fn`, then waits for every child. */
async function runGroup(fn: (tg: TaskGroup) => unknown): Promise<unknown> {
  const state = new GroupState();
  const tg = new TaskGroup(state), scope = state.scope;
  enterScope(scope);
  let value: unknown;
  let completed = false;
  if (scopeReason(scope) === undefined) {
    try {
      const result = runInScope(scope, fn, tg);
      // A body that returns a plain value has returned now: a cancel that
      // lands in the promise turn the await takes came after it.
      const returnedInTime = scopeReason(scope) === undefined;
      value = await result;
      completed = isThenable(result) ? scopeReason(scope) === undefined : returnedInTime;
    } catch (err) {
      state.fail(err);
    }
  }
  await state.join();
  exitScope(scope);
  if (state.failures.length > 0) {
    throw new ExceptionGroup("Errors in task group", state.failures);
  }
  const outer = enclosingReason(scope);
  if (outer !== undefined) throw outer;
  if (completed || !scope.cancelCalled) return value;
  markCaught(scope);
  return undefined;
}

/**
 * Runs `fn` with a new {@linkcode TaskGroup} and settles once `fn` and every
 * child have settled (even when cancelled: a group never settles before its
 * children). The first failure cancels the group; then it rejects with an
 * {@linkcode ExceptionGroup} of every non-cancellation failure, in the order
 * they occurred. A cancellation from an enclosing scope propagates as itself.
 *
 * @typeParam T The type of `fn`'s value.
 * @param fn The body; it receives the group.
 * @returns `fn`'s value, or `undefined` if the group's own scope was
 * cancelled before `fn` returned.
 * @throws {ExceptionGroup} If `fn` or a child failed.
 *
 * @example Usage
 * ```ts
 * import { ExceptionGroup, sleep, taskGroup } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * let cancelled = false;
 * await assert.rejects(
 *   taskGroup((tg) => {
 *     tg.startSoon(() => sleep(1_000).catch(() => (cancelled = true)));
 *     tg.startSoon(() => Promise.reject(new Error("boom")));
 *   }),
 *   (err) => err instanceof ExceptionGroup && err.exceptions.length === 1,
 * );
 * assert.equal(cancelled, true, "the failure cancelled the sleeping child");
 * ```
 */
export function taskGroup<T>(
  fn: (tg: TaskGroup) => T | Promise<T>,
): Promise<T | undefined> {
  const bad = functionError(fn, "fn", "Cannot call taskGroup", "typed");
  if (bad !== undefined) return Promise.reject(bad);
  return runGroup(fn) as Promise<T | undefined>;
}
