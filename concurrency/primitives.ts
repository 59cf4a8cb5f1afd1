// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `Semaphore`, `Lock`, `Event` and `Condition`, all FIFO and all cancellable
 * by the ambient scope or a signal, built on the shared waiter list.
 *
 * @module
 */

import { describeValue } from "./errors.ts";

import { currentScope, pendingCancellation } from "./cancel.ts";
import type { AcquireOptions } from "./limiter.ts";
import { makePermit, type Permit, TokenPool } from "./token_pool.ts";
import {
  cancellationOnWake,
  checkSignalOption,
  startWait,
  type Waiter,
  WaitQueue,
} from "./wait_queue.ts";

/** Rejects a woken wait whose caller was cancelled since the wake-up (internal). */
function throwIfCancelledOnWake(woken: unknown): void {
  const pending = cancellationOnWake(woken as Waiter<unknown>);
  if (pending !== undefined) throw pending;
}

/** Wakes every waiter of `waiters` (internal). */
function wakeAll(waiters: WaitQueue<unknown>): void {
  for (let w = waiters.shift(); w !== undefined; w = waiters.shift()) w.resolve(w);
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
 * let inside = -1;
 * {
 *   using _permit = await sem.acquire();
 *   inside = sem.value;
 * }
 * if (inside !== 0 || sem.value !== 1) throw new Error("unexpected result");
 * ```
 */
export class Semaphore {
  readonly #pool: TokenPool;
  readonly #maxValue: number;
  // Bound once per semaphore, so acquiring allocates no closure.
  readonly #releaseOnce = (): void => this.release();
  readonly #grant = (): Permit => makePermit(this.#releaseOnce);

  /**
   * Constructs a new semaphore.
   *
   * @param initialValue The starting value, a non-negative integer.
   * @param options The maximum value.
   * @throws {TypeError} If `initialValue` or `maxValue` is not a number, or
   * `options` not an object.
   * @throws {RangeError} If `initialValue` is not a non-negative integer, or
   * `maxValue` is not an integer (or Infinity) at least `initialValue`.
   */
  constructor(initialValue: number, options?: SemaphoreOptions) {
    if (typeof initialValue !== "number") {
      throw new TypeError(
        `Cannot create Semaphore: 'initialValue' must be a non-negative integer, received ${
          describeValue(initialValue)
        }`,
      );
    }
    if (!Number.isInteger(initialValue) || initialValue < 0) {
      throw new RangeError(
        `Cannot create Semaphore: 'initialValue' must be a non-negative integer, received ${initialValue}`,
      );
    }
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new TypeError(
        `Cannot create Semaphore: 'options' must be an object, received ${
          options === null ? "null" : typeof options
        }`,
      );
    }
    const maxValue = options?.maxValue ?? Infinity;
    if (typeof maxValue !== "number") {
      throw new TypeError(
        `Cannot create Semaphore: 'maxValue' must be a number, received ${describeValue(maxValue)}`,
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
    this.#pool = new TokenPool(initialValue, this.#grant);
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
   * @throws {TypeError} If `options` or `options.signal` has the wrong type.
   * @throws {CancelledError} (or the signal's reason) if cancelled before or
   * while waiting; the value is untouched then.
   */
  acquire(options?: AcquireOptions): Promise<Permit> {
    const scope = currentScope();
    const signal = startWait(options, scope, "Cannot acquire Semaphore");
    if (signal instanceof Promise) return signal;
    const pool = this.#pool;
    if (pool.tryTake()) return Promise.resolve(makePermit(this.#releaseOnce));
    return pool.wait(scope, signal);
  }

  /**
   * Decrements the value if it is above 0 and nobody waits.
   *
   * @returns A permit, or `undefined`.
   */
  tryAcquire(): Permit | undefined {
    return this.#pool.tryTake() ? makePermit(this.#releaseOnce) : undefined;
  }

  /**
   * Increments the value, or hands it to the first waiter. A unit handed to a
   * waiter that has not resumed yet still counts towards `maxValue`: if that
   * waiter is cancelled, the unit comes back.
   *
   * @throws {RangeError} If the value (units free or in hand-off) would go
   * past `maxValue`.
   */
  release(): void {
    const pool = this.#pool;
    if (
      pool.free + pool.handingOff >= this.#maxValue && !pool.putGoesStraightToHolder()
    ) {
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

// Hooks into Lock's private state for Condition (bound in Lock's static block).
/** True if a holder holds `lock` (not free, not in hand-off). */
let isHeld: (lock: Lock) => boolean;
/** Releases `lock` for `Condition.wait`; returns the holding to restore. */
let detach: (lock: Lock) => number;
/** Reacquires `lock` in FIFO order ignoring cancellation, restoring `holding`. */
let reattach: (lock: Lock, holding: number) => Promise<void>;

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
 *   if (!(lock.locked())) throw new Error("unexpected result");
 * }
 * if (!(!lock.locked())) throw new Error("unexpected result");
 * ```
 */
export class Lock {
  /**
   * The current holding: a number given out at each acquisition, or 0 while
   * the lock is free or being handed to a waiter. A permit releases the lock
   * only if its holding is still the current one.
   */
  #holding = 0;
  #holdings = 0;
  readonly #releaseHolding = (holding: unknown): void => {
    if (holding === this.#holding) this.#unlock();
  };
  readonly #grant = (): Permit => this.#hold();
  readonly #pool = new TokenPool(1, this.#grant);

  static {
    isHeld = (lock) => lock.#holding !== 0;
    detach = (lock) => {
      const holding = lock.#holding;
      lock.#unlock();
      return holding;
    };
    reattach = async (lock, holding) => {
      const pool = lock.#pool;
      if (!pool.tryTake()) await pool.wait(undefined, undefined);
      lock.#holding = holding;
    };
  }

  #hold(): Permit {
    const holding = ++this.#holdings;
    this.#holding = holding;
    return makePermit(this.#releaseHolding, holding);
  }

  #unlock(): void {
    this.#holding = 0;
    this.#pool.put();
  }

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
    const pool = this.#pool;
    if (pool.tryTake()) return Promise.resolve(this.#hold());
    return pool.wait(scope, signal);
  }

  /**
   * Acquires the lock if it is free and nobody waits.
   *
   * @returns A permit, or `undefined`.
   */
  tryAcquire(): Permit | undefined {
    return this.#pool.tryTake() ? this.#hold() : undefined;
  }

  /**
   * Releases the lock (to the first waiter, if any).
   *
   * @throws {Error} If the lock is not held: it is free, or it was just
   * released and is being handed to the next waiter.
   */
  release(): void {
    if (this.#holding === 0) {
      throw new Error(
        this.#pool.free === 0
          ? "Cannot release Lock: it is not held (it was released and is being handed to the next waiter)"
          : "Cannot release Lock: it is not locked",
      );
    }
    this.#unlock();
  }

  /**
   * Tells whether the lock is held (or being handed to a waiter).
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
 * if (!(ready.isSet())) throw new Error("unexpected result");
 * ```
 */
export class Event {
  #set = false;
  readonly #waiters = new WaitQueue<unknown>();

  /** Sets the flag and wakes every waiter; a no-op once set. */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    wakeAll(this.#waiters);
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
   * Waits until the flag is set. Like every waiting call it is level-triggered:
   * inside a cancelled scope (or with an aborted signal) it rejects, even if
   * the flag is already set, and a wait woken by `set()` rejects if its caller
   * was cancelled before it could resume.
   *
   * @param options The abort signal.
   * @returns A promise that resolves once the flag is set.
   * @throws {TypeError} If `options` or `options.signal` has the wrong type.
   * @throws {CancelledError} (or the signal's reason) if cancelled.
   */
  wait(options?: AcquireOptions): Promise<void> {
    const scope = currentScope();
    const signal = startWait(options, scope, "Cannot wait for Event");
    if (signal instanceof Promise) return signal;
    if (this.#set) return Promise.resolve();
    return this.#waiters.wait(scope, signal).then(throwIfCancelledOnWake);
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
 * A condition variable bound to a {@linkcode Lock}. As in AnyIO, `wait`,
 * `notify` and `notifyAll` require the lock to be held.
 *
 * @example Usage
 * ```ts
 * import { Condition } from "@lionpride/core";
 *
 * const cond = new Condition();
 * let ready = false;
 * const waiter = (async () => {
 *   using _held = await cond.acquire();
 *   while (!ready) await cond.wait();
 * })();
 * {
 *   using _held = await cond.acquire();
 *   ready = true;
 *   cond.notifyAll();
 * }
 * await waiter;
 * ```
 */
export class Condition {
  readonly #lock: Lock;
  readonly #waiters = new WaitQueue<unknown>();

  /**
   * Constructs a new condition.
   *
   * @param lock The lock to use (a new one by default).
   * @throws {TypeError} If `lock` is not a Lock.
   */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(
        `Cannot create Condition: 'lock' must be a Lock, received ${
          lock === null ? "null" : typeof lock
        }`,
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
    return this.#lock.locked();
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
    const lock = this.#lock;
    if (!isHeld(lock)) {
      throw new Error("Cannot wait on Condition: the lock is not held");
    }
    const scope = currentScope();
    const pending = pendingCancellation(scope, signal);
    if (pending !== undefined) throw pending;
    const notified = this.#waiters.wait(scope, signal);
    const holding = detach(lock);
    let failed = false, failure: unknown;
    try {
      await notified;
    } catch (err) {
      failed = true;
      failure = err;
    }
    await reattach(lock, holding);
    if (failed) throw failure;
    const late = pendingCancellation(scope, signal);
    if (late !== undefined) {
      this.#wake(1);
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
    if (typeof n !== "number") {
      throw new TypeError(
        `Cannot notify Condition: 'n' must be a non-negative integer, received ${typeof n}`,
      );
    }
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot notify Condition: 'n' must be a non-negative integer, received ${n}`,
      );
    }
    this.#checkHeld("notify");
    this.#wake(n);
  }

  /**
   * Wakes every waiter.
   *
   * @throws {Error} If the lock is not held.
   */
  notifyAll(): void {
    this.#checkHeld("notifyAll");
    wakeAll(this.#waiters);
  }

  #checkHeld(what: string): void {
    if (!isHeld(this.#lock)) {
      throw new Error(`Cannot ${what} Condition: the lock is not held`);
    }
  }

  #wake(n: number): void {
    const waiters = this.#waiters;
    for (let i = 0; i < n; i++) {
      const w = waiters.shift();
      if (w === undefined) return;
      w.resolve(w);
    }
  }

  /**
   * A snapshot of the condition.
   *
   * @returns How many wait, and whether the lock is held.
   */
  statistics(): { tasksWaiting: number; locked: boolean } {
    return { tasksWaiting: this.#waiters.size, locked: this.#lock.locked() };
  }
}
