// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `CapacityLimiter`: a FIFO-fair pool of tokens, as AnyIO's.
 *
 * @module
 */

import { currentScope, pendingCancellation } from "./cancel.ts";
import { defineInspect } from "./_inspect.ts";
import { makePermit, type Permit, TokenPool } from "./_token_pool.ts";
import { checkFunction, checkNumber, describeValue, isLimit, LIMIT } from "./_validate.ts";
import { type AcquireOptions, checkSignalOption, startWait, type Waiter } from "./_wait_queue.ts";

export type { Permit } from "./_token_pool.ts";
export type { AcquireOptions } from "./_wait_queue.ts";

/** What {@linkcode CapacityLimiter.statistics} reports. */
export interface LimiterStatistics {
  /** Tokens held now. */
  borrowedTokens: number;
  /** Tokens in all. */
  totalTokens: number;
  /** Calls waiting for a token. */
  tasksWaiting: number;
  /**
   * The same as `tasksWaiting`, under the name of the `waiting` getter. It is
   * not enumerable, so the snapshot prints and compares as it always did.
   */
  readonly waiting: number;
}

/** The payload of a waiter waiting on behalf of a borrower. */
class Borrowing {
  constructor(readonly borrower: unknown) {}
}

/**
 * The payload of an anonymous waiter whose token `release()` (or a spent
 * permit) gave back while it was handed to it.
 */
const TOKEN_RETURNED: unique symbol = Symbol("token returned");

const isAnonymous = (waiter: Waiter<Permit>): boolean => waiter.payload === undefined;
const isTokenReturned = (waiter: Waiter<Permit>): boolean => waiter.payload === TOKEN_RETURNED;

function checkTotal(value: unknown, where: string): number {
  return checkNumber(value, "totalTokens", where, LIMIT, isLimit, "typed");
}

/**
 * A pool of `totalTokens` tokens. Waiters are served strictly in arrival
 * order; while anyone waits, no new `acquire()` or `tryAcquire()` takes a
 * token ahead of them. A cancelled wait consumes no token.
 *
 * @example Usage
 * ```ts
 * import { CapacityLimiter } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const limiter = new CapacityLimiter(2);
 * let running = 0, peak = 0;
 * const results = await Promise.all([1, 2, 3, 4].map((n) =>
 *   limiter.use(async () => {
 *     peak = Math.max(peak, ++running);
 *     await new Promise((resolve) => setTimeout(resolve, 1));
 *     running--;
 *     return n * 2;
 *   })
 * ));
 * assert.deepEqual(results, [2, 4, 6, 8]);
 * assert.equal(peak, 2); // never more than totalTokens at once
 * ```
 */
export class CapacityLimiter {
  #total: number;
  readonly #pool: TokenPool;
  /**
   * Tokens taken by acquire/tryAcquire and not yet released, but for those
   * handed to a waiter that has not resumed yet (see `#giveBackHandedOff`).
   */
  #anonymous = 0;
  /** Borrower → its permit, or `undefined` while it waits. */
  readonly #borrowers = new Map<unknown, Permit | undefined>();
  // Bound once per limiter, so the hot path allocates no closure.
  readonly #releaseAnonymous = (): void => {
    if (this.#anonymous > 0) {
      this.#anonymous--;
      this.#pool.put();
    } else {
      this.#giveBackHandedOff();
    }
  };
  readonly #releaseBorrower = (borrower: unknown): void => {
    if (this.#borrowers.delete(borrower)) this.#pool.put();
  };
  /**
   * Gives back an anonymous token handed to a waiter that has not resumed
   * yet, if there is one. Such a token is held (`borrowedTokens` counts it)
   * and a waiter that nothing can cancel counts in `#anonymous` from the
   * hand-off, so `release()` must give it back whether or not the waiter
   * could be cancelled. The waiter still resumes, its token already back;
   * cancelled before it resumes, it has none to put back.
   *
   * @returns Whether a token was given back.
   */
  #giveBackHandedOff(): boolean {
    const waiter = this.#pool.findHandingOff(isAnonymous);
    if (waiter === undefined) return false;
    waiter.payload = TOKEN_RETURNED;
    this.#pool.put();
    return true;
  }
  /**
   * Forgets a borrower whose wait was cancelled, at the cancellation: were it
   * forgotten when its `acquireOnBehalfOf` rejects, some promise turns later,
   * the borrower would still count as waiting in between, and a new
   * `acquireOnBehalfOf` for it would be refused.
   */
  readonly #forgetBorrower = (waiter: Waiter<Permit>): void => {
    const box = waiter.payload;
    if (box instanceof Borrowing) this.#borrowers.delete(box.borrower);
  };
  /** Makes the permit of a waiter handed a token (see `TokenPool`). */
  readonly #grant = (waiter: Waiter<Permit>): Permit => {
    const box = waiter.payload as Borrowing | typeof TOKEN_RETURNED | undefined;
    if (box === undefined) {
      this.#anonymous++;
      return makePermit(this.#releaseAnonymous);
    }
    if (box === TOKEN_RETURNED) return makePermit(this.#releaseAnonymous);
    const permit = makePermit(this.#releaseBorrower, box.borrower);
    this.#borrowers.set(box.borrower, permit);
    return permit;
  };

  /**
   * Constructs a new limiter.
   *
   * @param totalTokens How many tokens the limiter lends at once.
   * @throws {TypeError} If `totalTokens` is not a number.
   * @throws {RangeError} If `totalTokens` is not a positive integer or Infinity.
   */
  constructor(totalTokens: number) {
    this.#total = checkTotal(totalTokens, "Cannot create CapacityLimiter");
    this.#pool = new TokenPool(this.#total, this.#grant, false, isTokenReturned);
    this.#pool.waiters.onCancelled = this.#forgetBorrower;
  }

  /**
   * How many tokens the limiter lends at once. Raising it wakes waiters in
   * FIFO order; lowering it never revokes tokens already held (so
   * `borrowedTokens` may exceed it until enough are released).
   *
   * @throws {TypeError} If set to a non-number (the limiter is unchanged).
   * @throws {RangeError} If set to anything but a positive integer or
   * Infinity (the limiter is unchanged).
   */
  get totalTokens(): number {
    return this.#total;
  }

  set totalTokens(value: number) {
    this.#total = checkTotal(value, "Cannot set CapacityLimiter.totalTokens");
    const pool = this.#pool;
    pool.free = value - pool.held;
    pool.wake();
  }

  /** Tokens held now (including any just handed to a waiter). */
  get borrowedTokens(): number {
    return this.#pool.held;
  }

  /** Tokens free now (never negative). */
  get availableTokens(): number {
    return Math.max(0, this.#pool.free);
  }

  /** Calls waiting for a token. */
  get waiting(): number {
    return this.#pool.waiters.size;
  }

  /**
   * Acquires a token, waiting in FIFO order if none is free.
   *
   * @param options The abort signal.
   * @returns A permit; release it (or `using` it) to give the token back.
   * @throws {TypeError} If `options` or `options.signal` has the wrong type.
   * @throws {CancelledError} (or the signal's reason) if the ambient scope is
   * cancelled or the signal aborted, before or while waiting; no token is
   * consumed then.
   */
  acquire(options?: AcquireOptions): Promise<Permit> {
    const scope = currentScope();
    const signal = startWait(options, scope, "Cannot acquire CapacityLimiter");
    if (signal instanceof Promise) return signal;
    const pool = this.#pool;
    if (pool.tryTake()) {
      this.#anonymous++;
      return Promise.resolve(makePermit(this.#releaseAnonymous));
    }
    return pool.wait(scope, signal);
  }

  /**
   * Takes a token if one is free and nobody is waiting. It does not wait, so
   * it is not a cancellation point.
   *
   * @returns A permit, or `undefined` if no token could be taken at once.
   */
  tryAcquire(): Permit | undefined {
    if (!this.#pool.tryTake()) return undefined;
    this.#anonymous++;
    return makePermit(this.#releaseAnonymous);
  }

  /**
   * Releases one token taken by `acquire`/`tryAcquire` (borrower tokens are
   * untouched). Tokens taken that way are interchangeable: a permit whose
   * token was already given back by `release()` finds none left to release
   * only once every such token is back. A token just handed to a waiter that
   * has not resumed yet is held too, whether or not the waiter can be
   * cancelled; given back, it passes on and the waiter resumes all the same.
   *
   * @throws {Error} If no such token is held.
   */
  release(): void {
    if (this.#anonymous > 0) {
      this.#anonymous--;
      this.#pool.put();
    } else if (!this.#giveBackHandedOff()) {
      throw new Error(
        "Cannot release CapacityLimiter: no token taken by acquire() or tryAcquire() is held",
      );
    }
  }

  /**
   * Acquires a token on behalf of `borrower`, waiting in FIFO order.
   *
   * @param borrower Any value that identifies the holder.
   * @param options The abort signal.
   * @returns A permit that releases the borrower's token.
   * @throws {Error} If `borrower` already holds (or waits for) a token.
   * @throws {TypeError} If `options` or `options.signal` has the wrong type.
   * @throws {CancelledError} (or the signal's reason) if cancelled before or
   * while waiting; no token is consumed then.
   */
  acquireOnBehalfOf(
    borrower: unknown,
    options?: AcquireOptions,
  ): Promise<Permit> {
    // Not an async function: its extra promise turns made a borrower resume
    // after an anonymous waiter granted a token after it.
    let signal: AbortSignal | undefined;
    try {
      signal = checkSignalOption(options, "Cannot acquire CapacityLimiter");
    } catch (err) {
      return Promise.reject(err);
    }
    const held = this.#borrowers.get(borrower);
    if (held !== undefined || this.#borrowers.has(borrower)) {
      return Promise.reject(
        new Error(
          `Cannot acquire CapacityLimiter on behalf of ${describeValue(borrower)}: it already ${
            held === undefined ? "waits for" : "holds"
          } a token`,
        ),
      );
    }
    const scope = currentScope();
    const pending = pendingCancellation(scope, signal);
    if (pending !== undefined) return Promise.reject(pending);
    const pool = this.#pool;
    if (pool.tryTake()) {
      const permit = makePermit(this.#releaseBorrower, borrower);
      this.#borrowers.set(borrower, permit);
      return Promise.resolve(permit);
    }
    this.#borrowers.set(borrower, undefined); // waiting; see #forgetBorrower
    return pool.wait(scope, signal, new Borrowing(borrower));
  }

  /**
   * Releases the token held by `borrower`.
   *
   * @param borrower The holder given to `acquireOnBehalfOf`.
   * @throws {Error} If `borrower` holds no token (it never acquired one, it
   * already released it, or it is still waiting).
   */
  releaseOnBehalfOf(borrower: unknown): void {
    const permit = this.#borrowers.get(borrower);
    if (permit === undefined) {
      throw new Error(
        `Cannot release CapacityLimiter on behalf of ${describeValue(borrower)}: it holds no token`,
      );
    }
    permit.release();
  }

  /**
   * Runs `fn` while holding a token, and releases it when `fn` settles
   * (returns, throws or rejects).
   *
   * @typeParam T The type of `fn`'s value.
   * @param fn The work to do.
   * @param options The abort signal for the wait.
   * @returns `fn`'s value.
   * @throws {TypeError} If `fn` is not a function (as a rejection).
   */
  async use<T>(fn: () => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    checkFunction(fn, "fn", "Cannot use CapacityLimiter", "typed");
    const permit = await this.acquire(options);
    try {
      return await fn();
    } finally {
      permit.release();
    }
  }

  /**
   * A snapshot of the limiter.
   *
   * @returns Borrowed and total tokens, and how many wait.
   */
  statistics(): LimiterStatistics {
    const waiting = this.#pool.waiters.size;
    const statistics = {
      borrowedTokens: this.#pool.held,
      totalTokens: this.#total,
      tasksWaiting: waiting,
    };
    return Object.defineProperty(statistics, "waiting", { value: waiting }) as LimiterStatistics;
  }
}

defineInspect(
  CapacityLimiter,
  (limiter) =>
    `borrowed: ${limiter.borrowedTokens}/${limiter.totalTokens}, waiting: ${limiter.waiting}`,
);
