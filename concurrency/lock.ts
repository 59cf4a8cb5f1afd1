// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `Lock`: mutual exclusion with FIFO waiters, cancellable by the ambient
 * scope or a signal.
 *
 * @module
 */

import { currentScope } from "./cancel.ts";
import { defineInspect } from "./_inspect.ts";
import { type LockCore, newLockCore } from "./_lock_core.ts";
import type { Permit } from "./_token_pool.ts";
import { type AcquireOptions, startWait } from "./_wait_queue.ts";

/**
 * A mutual-exclusion lock with FIFO waiters.
 *
 * @example Usage
 * ```ts
 * import { Lock } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const lock = new Lock();
 * {
 *   using _held = await lock.acquire();
 *   assert.equal(lock.locked(), true);
 *   assert.equal(lock.tryAcquire(), undefined);
 * }
 * assert.equal(lock.locked(), false);
 * ```
 */
export class Lock {
  readonly #core: LockCore = newLockCore(this);

  /**
   * Acquires the lock, waiting in FIFO order.
   *
   * @param options The abort signal.
   * @returns A permit that releases the lock once; it does nothing if the
   * lock was meanwhile released another way.
   * @throws {TypeError} If `options` or `options.signal` has the wrong type.
   * @throws {CancelledError} (or the signal's reason) if cancelled before or
   * while waiting.
   */
  acquire(options?: AcquireOptions): Promise<Permit> {
    const scope = currentScope();
    const signal = startWait(options, scope, "Cannot acquire Lock");
    if (signal instanceof Promise) return signal;
    return this.#core.acquire(scope, signal);
  }

  /**
   * Acquires the lock if it is free and nobody waits.
   *
   * @returns A permit, or `undefined`.
   */
  tryAcquire(): Permit | undefined {
    return this.#core.tryAcquire();
  }

  /**
   * Releases the lock (to the first waiter, if any).
   *
   * @throws {Error} If the lock is not held: it is free, or it was just
   * released and is being handed to the next waiter.
   */
  release(): void {
    const core = this.#core;
    if (!core.isHeld()) {
      throw new Error(
        core.locked()
          ? "Cannot release Lock: it is not held (it was released and is being handed to the next waiter)"
          : "Cannot release Lock: it is not locked",
      );
    }
    core.unlock();
  }

  /**
   * Tells whether the lock is held (or being handed to a waiter).
   *
   * @returns `true` if held.
   */
  locked(): boolean {
    return this.#core.locked();
  }

  /**
   * A snapshot of the lock.
   *
   * @returns Whether it is held and how many wait.
   */
  statistics(): { locked: boolean; tasksWaiting: number } {
    const core = this.#core;
    return { locked: core.locked(), tasksWaiting: core.pool.waiters.size };
  }
}

defineInspect(Lock, (lock) => {
  const { locked, tasksWaiting } = lock.statistics();
  return `locked: ${locked}, waiting: ${tasksWaiting}`;
});
