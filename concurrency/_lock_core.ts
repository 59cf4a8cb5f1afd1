// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The state of a `Lock` (internal): one token, the current holding, and the
 * operations `Condition.wait` needs to let the lock go and take it back. A
 * `Lock` keeps its core in a private field and registers it here, so a
 * `Condition` given that lock reaches it through ordinary methods.
 *
 * @module
 */

import type { CancelScope } from "./cancel.ts";
import { makePermit, type Permit, TokenPool } from "./_token_pool.ts";

/** One lock's token, holder and waiters. */
export class LockCore {
  /**
   * The current holding: a number given out at each acquisition, or 0 while
   * the lock is free or being handed to a waiter. A permit releases the lock
   * only if its holding is still the current one.
   */
  #holding = 0;
  #holdings = 0;
  readonly #releaseHolding = (holding: unknown): void => {
    if (holding === this.#holding) this.unlock();
  };
  /**
   * Every hand-off is deferred (see `TokenPool`), so that from a release to
   * the resumption of the waiter it hands the lock to, `isHeld()` is false
   * and `Lock.release()` throws whether or not that waiter can be cancelled.
   * With a hand-off at once to one nothing can cancel, a second release in
   * that tick unlocked the new holder, and two callers held the lock.
   */
  readonly pool: TokenPool = new TokenPool(1, () => this.hold(), true);

  /** True if a holder holds the lock (not free, not in hand-off). */
  isHeld(): boolean {
    return this.#holding !== 0;
  }

  /** True if the lock is held or being handed to a waiter. */
  locked(): boolean {
    return this.pool.free === 0;
  }

  /** Makes the caller the holder; returns its permit. The token is taken. */
  hold(): Permit {
    const holding = ++this.#holdings;
    this.#holding = holding;
    return makePermit(this.#releaseHolding, holding);
  }

  /** Ends the current holding and passes the token on. */
  unlock(): void {
    this.#holding = 0;
    this.pool.put();
  }

  /** Takes the lock at once if it is free and nobody waits. */
  tryAcquire(): Permit | undefined {
    return this.pool.tryTake() ? this.hold() : undefined;
  }

  /** Takes the lock, or waits for it in FIFO order. */
  acquire(scope: CancelScope | undefined, signal: AbortSignal | undefined): Promise<Permit> {
    const pool = this.pool;
    if (pool.tryTake()) return Promise.resolve(this.hold());
    return pool.wait(scope, signal);
  }

  /** Releases the lock for `Condition.wait`; returns the holding to restore. */
  detach(): number {
    const holding = this.#holding;
    this.unlock();
    return holding;
  }

  /**
   * Takes the lock back for `Condition.wait`, in FIFO order and whatever the
   * cancellation (the caller must return holding it), restoring `holding`
   * so that the permit the caller took before waiting still releases it.
   */
  async reattach(holding: number): Promise<void> {
    const pool = this.pool;
    if (!pool.tryTake()) await pool.wait(undefined, undefined);
    this.#holding = holding;
  }
}

const cores = new WeakMap<object, LockCore>();

/**
 * Makes a new core for `lock` and registers it.
 *
 * @param lock The lock the core belongs to.
 * @returns The core.
 */
export function newLockCore(lock: object): LockCore {
  const core = new LockCore();
  cores.set(lock, core);
  return core;
}

/**
 * The core of a lock made by `newLockCore`.
 *
 * @param lock A lock.
 * @returns Its core, or `undefined` if `lock` is not a lock.
 */
export function lockCoreOf(lock: object): LockCore | undefined {
  return cores.get(lock);
}
