// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `Semaphore`, `Lock`, `Event` and `Condition`, all FIFO and all cancellable
 * by the ambient scope or a signal, built on the shared waiter list.
 *
 * @module
 */

import { type CancelScope, currentScope, pendingCancellation } from "./cancel.ts";
import type { AcquireOptions } from "./limiter.ts";
import { OncePermit, type Permit, TokenPool } from "./token_pool.ts";
import { checkSignalOption, WaitQueue } from "./wait_queue.ts";

/** Validates options and returns the ambient scope, or rejects (internal). */
function prepareWait(
  options: unknown,
  where: string,
): [CancelScope | undefined, AbortSignal | undefined] {
  const signal = checkSignalOption(options, where);
  const scope = currentScope();
  const pending = pendingCancellation(scope, signal);
  if (pending !== undefined) throw pending;
  return [scope, signal];
}

/** Acquires from a pool, level-triggered and FIFO (internal). */
async function acquireFrom(
  pool: TokenPool,
  options: unknown,
  where: string,
): Promise<void> {
  const [scope, signal] = prepareWait(options, where);
  if (!pool.tryTake()) await pool.wait(scope, signal);
}

/** Options of {@linkcode Semaphore}. */
export interface SemaphoreOptions {
  /** The largest value `release()` may raise the semaphore to (default `Infinity`). */
  maxValue?: number;
}

/**
 * A counting semaphore with FIFO waiters.
 *
 * @example Usage
 * ```ts
 * import { Semaphore } from "@lionpride/core";
 *
 * const sem = new Semaphore(1, { maxValue: 1 });
 * {
 *   using _permit = await sem.acquire();
 *   console.assert(sem.value === 0);
 * }
 * console.assert(sem.value === 1);
 * ```
 */
export class Semaphore {
  readonly #pool: TokenPool;
  readonly #maxValue: number;
  readonly #releaseOnce = (): void => this.release();

  /**
   * Constructs a new semaphore.
   *
   * @param initialValue The starting value, a non-negative integer.
   * @param options The maximum value.
   * @throws {RangeError} If `initialValue` is not a non-negative integer, or
   * `maxValue` is below it.
   */
  constructor(initialValue: number, options?: SemaphoreOptions) {
    if (typeof initialValue !== "number") {
      throw new TypeError(
        `Cannot create Semaphore: 'initialValue' must be a non-negative integer, received ${typeof initialValue}`,
      );
    }
    if (!Number.isInteger(initialValue) || initialValue < 0) {
      throw new RangeError(
        `Cannot create Semaphore: 'initialValue' must be a non-negative integer, received ${initialValue}`,
      );
    }
    const maxValue = options?.maxValue ?? Infinity;
    if (typeof maxValue !== "number") {
      throw new TypeError(
        `Cannot create Semaphore: 'maxValue' must be a number, received ${typeof maxValue}`,
      );
    }
    if (
      !(maxValue === Infinity || Number.isInteger(maxValue)) ||
      maxValue < initialValue
    ) {
      throw new RangeError(
        `Cannot create Semaphore: 'maxValue' must be an integer >= initialValue (${initialValue}), received ${maxValue}`,
      );
    }
    this.#pool = new TokenPool(initialValue);
    this.#maxValue = maxValue;
  }

  /** The current value (free tokens). */
  get value(): number {
    return this.#pool.free;
  }

  /** The largest value. */
  get maxValue(): number {
    return this.#maxValue;
  }

  /**
   * Decrements the value, waiting in FIFO order while it is 0.
   *
   * @param options The abort signal.
   * @returns A permit whose `release()` increments the value once.
   */
  async acquire(options?: AcquireOptions): Promise<Permit> {
    await acquireFrom(this.#pool, options, "Cannot acquire Semaphore");
    return new OncePermit(this.#releaseOnce);
  }

  /**
   * Decrements the value if it is above 0 and nobody waits.
   *
   * @returns A permit, or `undefined`.
   */
  tryAcquire(): Permit | undefined {
    return this.#pool.tryTake() ? new OncePermit(this.#releaseOnce) : undefined;
  }

  /**
   * Increments the value, or hands it to the first waiter.
   *
   * @throws {RangeError} If the value would go past `maxValue`.
   */
  release(): void {
    const pool = this.#pool;
    if (pool.waiters.size === 0 && pool.free >= this.#maxValue) {
      throw new RangeError(
        `Cannot release Semaphore: value would exceed maxValue ${this.#maxValue}`,
      );
    }
    pool.put();
  }

  /**
   * A snapshot of the semaphore.
   *
   * @returns The value and how many wait.
   */
  statistics(): { value: number; maxValue: number; tasksWaiting: number } {
    return {
      value: this.#pool.free,
      maxValue: this.#maxValue,
      tasksWaiting: this.#pool.waiters.size,
    };
  }
}

/** Reacquires a lock ignoring cancellation (for `Condition.wait`). */
let reacquire: (lock: Lock) => Promise<void>;

/**
 * A mutual-exclusion lock with FIFO waiters.
 *
 * @example Usage
 * ```ts
 * import { Lock } from "@lionpride/core";
 *
 * const lock = new Lock();
 * {
 *   using _held = await lock.acquire();
 *   console.assert(lock.locked());
 * }
 * console.assert(!lock.locked());
 * ```
 */
export class Lock {
  readonly #pool = new TokenPool(1);
  readonly #releaseOnce = (): void => {
    if (this.#pool.free === 0) this.#pool.put();
  };

  /**
   * Acquires the lock, waiting in FIFO order.
   *
   * @param options The abort signal.
   * @returns A permit that releases the lock once.
   */
  async acquire(options?: AcquireOptions): Promise<Permit> {
    await acquireFrom(this.#pool, options, "Cannot acquire Lock");
    return new OncePermit(this.#releaseOnce);
  }

  static {
    reacquire = async (lock) => {
      if (!lock.#pool.tryTake()) await lock.#pool.wait(undefined, undefined);
    };
  }

  /**
   * Acquires the lock if it is free and nobody waits.
   *
   * @returns A permit, or `undefined`.
   */
  tryAcquire(): Permit | undefined {
    return this.#pool.tryTake() ? new OncePermit(this.#releaseOnce) : undefined;
  }

  /**
   * Releases the lock (to the first waiter, if any).
   *
   * @throws {Error} If the lock is not locked.
   */
  release(): void {
    if (this.#pool.free !== 0) {
      throw new Error("Cannot release Lock: it is not locked");
    }
    this.#pool.put();
  }

  /**
   * Tells whether the lock is held.
   *
   * @returns `true` if held.
   */
  locked(): boolean {
    return this.#pool.free === 0;
  }

  /**
   * A snapshot of the lock.
   *
   * @returns Whether it is held and how many wait.
   */
  statistics(): { locked: boolean; tasksWaiting: number } {
    return {
      locked: this.#pool.free === 0,
      tasksWaiting: this.#pool.waiters.size,
    };
  }
}

/**
 * A one-shot flag that tasks can wait for.
 *
 * @example Usage
 * ```ts
 * import { Event } from "@lionpride/core";
 *
 * const ready = new Event();
 * setTimeout(() => ready.set(), 1);
 * await ready.wait();
 * console.assert(ready.isSet());
 * ```
 */
export class Event {
  #set = false;
  readonly #waiters = new WaitQueue<void>();

  /** Sets the flag and wakes every waiter. */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    while (this.#waiters.wakeOne(undefined));
  }

  /**
   * Tells whether the flag is set.
   *
   * @returns `true` once `set()` was called.
   */
  isSet(): boolean {
    return this.#set;
  }

  /**
   * Waits until the flag is set.
   *
   * @param options The abort signal.
   * @returns A promise that resolves once the flag is set.
   */
  async wait(options?: AcquireOptions): Promise<void> {
    const [scope, signal] = prepareWait(options, "Cannot wait for Event");
    if (!this.#set) await this.#waiters.wait(scope, signal);
  }

  /**
   * A snapshot of the event.
   *
   * @returns How many wait.
   */
  statistics(): { tasksWaiting: number } {
    return { tasksWaiting: this.#waiters.size };
  }
}

/**
 * A condition variable bound to a {@linkcode Lock}.
 *
 * @example Usage
 * ```ts
 * import { Condition } from "@lionpride/core";
 *
 * const cond = new Condition();
 * let ready = false;
 * const waiter = (async () => {
 *   await cond.acquire();
 *   while (!ready) await cond.wait();
 *   cond.release();
 * })();
 * await cond.acquire();
 * ready = true;
 * cond.notifyAll();
 * cond.release();
 * await waiter;
 * ```
 */
export class Condition {
  readonly #lock: Lock;
  readonly #waiters = new WaitQueue<void>();

  /**
   * Constructs a new condition.
   *
   * @param lock The lock to use (a new one by default).
   * @throws {TypeError} If `lock` is not a Lock.
   */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(
        `Cannot create Condition: 'lock' must be a Lock, received ${typeof lock}`,
      );
    }
    this.#lock = lock ?? new Lock();
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
   * @throws {Error} If the lock is not locked.
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
    return this.#lock.locked();
  }

  /**
   * Releases the lock, waits for a notification, and reacquires the lock
   * before returning, even when cancelled.
   *
   * @param options The abort signal.
   * @returns A promise that resolves once notified (lock held again).
   * @throws {Error} If the lock is not held.
   */
  async wait(options?: AcquireOptions): Promise<void> {
    if (!this.#lock.locked()) {
      throw new Error("Cannot wait on Condition: the lock is not held");
    }
    const [scope, signal] = prepareWait(options, "Cannot wait on Condition");
    const notified = this.#waiters.wait(scope, signal);
    this.#lock.release();
    try {
      await notified;
    } finally {
      await reacquire(this.#lock);
    }
  }

  /**
   * Wakes up to `n` waiters, in FIFO order.
   *
   * @param n How many to wake (default 1).
   * @throws {RangeError} If `n` is not a non-negative integer.
   */
  notify(n = 1): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot notify Condition: 'n' must be a non-negative integer, received ${n}`,
      );
    }
    for (let i = 0; i < n && this.#waiters.wakeOne(undefined); i++);
  }

  /** Wakes every waiter. */
  notifyAll(): void {
    while (this.#waiters.wakeOne(undefined));
  }

  /**
   * A snapshot of the condition.
   *
   * @returns How many wait.
   */
  statistics(): { tasksWaiting: number; locked: boolean } {
    return { tasksWaiting: this.#waiters.size, locked: this.#lock.locked() };
  }
}
