// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `Semaphore`: a counting semaphore with FIFO waiters, cancellable by the
 * ambient scope or a signal, optionally bounded by `maxValue`.
 *
 * @module
 */

import { currentScope } from "./cancel.ts";
import { defineInspect } from "./_inspect.ts";
import { makePermit, type Permit, TokenPool } from "./_token_pool.ts";
import { checkNumber, checkOptions, describeValue } from "./_validate.ts";
import { type AcquireOptions, startWait } from "./_wait_queue.ts";

/** Options of {@linkcode Semaphore}. */
export interface SemaphoreOptions {
  /** The largest value `release()` may raise the semaphore to (default `Infinity`). */
  maxValue?: number;
}

const WHERE = "Cannot create Semaphore";

const isNonNegativeInteger = (n: number): boolean => Number.isInteger(n) && n >= 0;

function checkArgs(initialValue: unknown, options: unknown): number {
  const initial = checkNumber(
    initialValue,
    "initialValue",
    WHERE,
    "a non-negative integer",
    isNonNegativeInteger,
    "typed",
  );
  checkOptions(options, WHERE, "typed");
  const maxValue = (options as SemaphoreOptions | undefined)?.maxValue ?? Infinity;
  if (typeof maxValue !== "number") {
    throw new TypeError(
      `${WHERE}: 'maxValue' must be a number, received ${describeValue(maxValue)}`,
    );
  }
  if (!(maxValue === Infinity || Number.isInteger(maxValue)) || maxValue < initial) {
    throw new RangeError(
      `${WHERE}: 'maxValue' must be an integer >= initialValue (${initial}), received ${maxValue}`,
    );
  }
  return maxValue;
}

/**
 * A counting semaphore with FIFO waiters.
 *
 * @example Usage
 * ```ts
 * import { Semaphore } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const sem = new Semaphore(1, { maxValue: 1 });
 * {
 *   using _permit = await sem.acquire();
 *   assert.equal(sem.value, 0);
 *   assert.equal(sem.tryAcquire(), undefined);
 * }
 * assert.equal(sem.value, 1);
 * assert.throws(() => sem.release(), RangeError); // already at maxValue
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
    this.#maxValue = checkArgs(initialValue, options);
    // Bounded: every hand-off is deferred, so `release` counts it (see there).
    this.#pool = new TokenPool(initialValue, this.#grant, this.#maxValue !== Infinity);
  }

  /** The current value (free tokens). */
  get value(): number {
    return this.#pool.free;
  }

  /** The largest value. */
  get maxValue(): number {
    return this.#maxValue;
  }

  /** Calls waiting for a unit (a waiter handed one is no longer counted). */
  get waiting(): number {
    return this.#pool.waiters.size;
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
   * Increments the value, or hands it to the first waiter. As in Python's
   * `asyncio.BoundedSemaphore`, a unit handed to a waiter that has not resumed
   * yet (it resumes in a promise job after the code that released it) still
   * counts towards `maxValue`, whether or not the waiter can be cancelled: if
   * it is cancelled meanwhile, the unit comes back. So with `maxValue` 1, one
   * waiter and no free unit, a second `release()` in the same tick throws,
   * and with `maxValue` 0 every `release()` throws, waiters or not.
   *
   * @throws {RangeError} If the value (units free or in hand-off) would go
   * past `maxValue`.
   */
  release(): void {
    const pool = this.#pool;
    const maxValue = this.#maxValue;
    if (maxValue !== Infinity && pool.free + pool.handingOff() >= maxValue) {
      throw new RangeError(
        `Cannot release Semaphore: value would exceed maxValue ${maxValue}`,
      );
    }
    pool.put();
  }

  /**
   * A snapshot of the semaphore.
   *
   * @returns The value, the largest value and how many wait (`tasksWaiting`
   * is {@linkcode Semaphore.waiting}, named as in `CapacityLimiter.statistics()`).
   */
  statistics(): { value: number; maxValue: number; tasksWaiting: number } {
    return { value: this.value, maxValue: this.#maxValue, tasksWaiting: this.waiting };
  }
}

defineInspect(
  Semaphore,
  (s) => `value: ${s.value}, maxValue: ${s.maxValue}, waiting: ${s.waiting}`,
);
