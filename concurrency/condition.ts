// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `Condition`: a condition variable bound to a `Lock`, with FIFO waiters,
 * cancellable by the ambient scope or a signal.
 *
 * @module
 */

import { currentScope, pendingCancellation } from "./cancel.ts";
import { defineInspect } from "./_inspect.ts";
import { type LockCore, lockCoreOf } from "./_lock_core.ts";
import type { Permit } from "./_token_pool.ts";
import { checkNumber, describeValue } from "./_validate.ts";
import {
  type AcquireOptions,
  cancellationOnWake,
  checkSignalOption,
  type Waiter,
  WaitQueue,
} from "./_wait_queue.ts";
import { Lock } from "./lock.ts";

const isCount = (n: number): boolean => Number.isInteger(n) && n >= 0;

/**
 * A condition variable bound to a {@linkcode Lock}. As in AnyIO, `wait`,
 * `notify` and `notifyAll` require the lock to be held.
 *
 * @example Usage
 * ```ts
 * import { Condition } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const cond = new Condition();
 * let ready = false;
 * const waiter = (async () => {
 *   using _held = await cond.acquire();
 *   while (!ready) await cond.wait();
 *   assert.equal(cond.locked(), true); // wait returns holding the lock
 *   return "saw ready";
 * })();
 * {
 *   using _held = await cond.acquire();
 *   ready = true;
 *   cond.notifyAll();
 * }
 * assert.equal(await waiter, "saw ready");
 * ```
 */
export class Condition {
  readonly #lock: Lock;
  readonly #core: LockCore;
  readonly #waiters = new WaitQueue<unknown>();

  /**
   * Constructs a new condition.
   *
   * @param lock The lock to use (a new one by default).
   * @throws {TypeError} If `lock` is not a Lock.
   */
  constructor(lock?: Lock) {
    const chosen = lock === undefined ? new Lock() : lock;
    const core = typeof chosen === "object" && chosen !== null ? lockCoreOf(chosen) : undefined;
    if (core === undefined) {
      throw new TypeError(
        `Cannot create Condition: 'lock' must be a Lock, received ${describeValue(lock)}`,
      );
    }
    this.#lock = chosen;
    this.#core = core;
  }

  /** The underlying lock. */
  get lock(): Lock {
    return this.#lock;
  }

  /**
   * Acquires the underlying lock.
   *
   * @param options The abort signal.
   * @returns A permit that releases the lock once.
   */
  acquire(options?: AcquireOptions): Promise<Permit> {
    return this.#lock.acquire(options);
  }

  /**
   * Releases the underlying lock.
   *
   * @throws {Error} If the lock is not held.
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Tells whether the underlying lock is held.
   *
   * @returns `true` if held.
   */
  locked(): boolean {
    return this.#core.locked();
  }

  /**
   * Releases the lock, waits for a notification, and reacquires the lock
   * before returning or rejecting, even when cancelled. A notification that
   * arrives for a caller cancelled before it could resume is passed on to the
   * next waiter, so none is lost (that waiter may see a spurious wake-up).
   *
   * @param options The abort signal.
   * @returns A promise that resolves once notified (lock held again).
   * @throws {TypeError} If `options` or `options.signal` has the wrong type.
   * @throws {Error} If the lock is not held.
   * @throws {CancelledError} (or the signal's reason) if cancelled; the lock
   * is held again then too.
   */
  async wait(options?: AcquireOptions): Promise<void> {
    const signal = checkSignalOption(options, "Cannot wait on Condition");
    const core = this.#core;
    if (!core.isHeld()) {
      throw new Error("Cannot wait on Condition: the lock is not held");
    }
    const scope = currentScope();
    const pending = pendingCancellation(scope, signal);
    if (pending !== undefined) throw pending;
    const notified = this.#waiters.wait(scope, signal);
    const holding = core.detach();
    let woken: unknown, failed = false, failure: unknown;
    try {
      woken = await notified;
    } catch (err) {
      failed = true;
      failure = err;
    }
    await core.reattach(holding);
    if (failed) throw failure;
    const late = cancellationOnWake(woken as Waiter<unknown>);
    if (late !== undefined) {
      this.#waiters.wakeWaiters(1);
      throw late;
    }
  }

  /**
   * Wakes up to `n` waiters, in FIFO order.
   *
   * @param n How many to wake (default 1).
   * @throws {TypeError} If `n` is not a number.
   * @throws {RangeError} If `n` is not a non-negative integer.
   * @throws {Error} If the lock is not held.
   */
  notify(n = 1): void {
    checkNumber(n, "n", "Cannot notify Condition", "a non-negative integer", isCount, "typed");
    this.#checkHeld("notify");
    this.#waiters.wakeWaiters(n);
  }

  /**
   * Wakes every waiter.
   *
   * @throws {Error} If the lock is not held.
   */
  notifyAll(): void {
    this.#checkHeld("notifyAll");
    this.#waiters.wakeWaiters();
  }

  #checkHeld(what: string): void {
    if (!this.#core.isHeld()) {
      throw new Error(`Cannot ${what} Condition: the lock is not held`);
    }
  }

  /**
   * A snapshot of the condition.
   *
   * @returns How many wait, and whether the lock is held.
   */
  statistics(): { tasksWaiting: number; locked: boolean } {
    return { tasksWaiting: this.#waiters.size, locked: this.#core.locked() };
  }
}

defineInspect(Condition, (cond) => {
  const { locked, tasksWaiting } = cond.statistics();
  return `locked: ${locked}, waiting: ${tasksWaiting}`;
});
