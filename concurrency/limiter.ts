// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `CapacityLimiter`: a FIFO-fair pool of tokens, as AnyIO's.
 *
 * @module
 */

import { type CancelScope, currentScope, pendingCancellation } from "./cancel.ts";
import { OncePermit, type Permit, TokenPool } from "./token_pool.ts";
import { checkSignalOption } from "./wait_queue.ts";

export type { Permit } from "./token_pool.ts";

/** Options of a waiting acquire. */
export interface AcquireOptions {
  /** Cancels the wait when it aborts. */
  signal?: AbortSignal;
}

/** What {@linkcode CapacityLimiter.statistics} reports. */
export interface LimiterStatistics {
  /** Tokens held now. */
  borrowedTokens: number;
  /** Tokens in all. */
  totalTokens: number;
  /** Calls waiting for a token. */
  tasksWaiting: number;
}

function checkTotal(value: unknown, where: string): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `${where}: 'totalTokens' must be a positive integer or Infinity, received ${typeof value}`,
    );
  }
  if (!(value === Infinity || Number.isInteger(value) && value >= 1)) {
    throw new RangeError(
      `${where}: 'totalTokens' must be a positive integer or Infinity, received ${value}`,
    );
  }
  return value;
}

/**
 * A pool of `totalTokens` tokens. Waiters are served strictly in arrival
 * order; while anyone waits, no new `acquire()` or `tryAcquire()` takes a
 * token ahead of them. A cancelled wait consumes no token.
 *
 * @example Usage
 * ```ts
 * import { CapacityLimiter } from "@lionpride/core";
 *
 * const limiter = new CapacityLimiter(2);
 * const results = await Promise.all([1, 2, 3, 4].map((n) =>
 *   limiter.use(async () => {
 *     console.assert(limiter.borrowedTokens <= 2);
 *     return n * 2;
 *   })
 * ));
 * console.assert(results.join() === "2,4,6,8");
 * ```
 */
export class CapacityLimiter {
  #total: number;
  readonly #pool: TokenPool;
  /** Tokens taken by acquire/tryAcquire and not yet released. */
  #anonymous = 0;
  readonly #borrowers = new Map<unknown, Permit | undefined>();
  readonly #releaseAnonymous = (): void => {
    if (this.#anonymous > 0) {
      this.#anonymous--;
      this.#pool.put();
    }
  };
  readonly #releaseBorrower = (borrower: unknown): void => {
    if (this.#borrowers.delete(borrower)) this.#pool.put();
  };

  /**
   * Constructs a new limiter.
   *
   * @param totalTokens How many tokens the limiter lends at once.
   * @throws {RangeError} If `totalTokens` is not a positive integer or Infinity.
   */
  constructor(totalTokens: number) {
    this.#total = checkTotal(totalTokens, "Cannot create CapacityLimiter");
    this.#pool = new TokenPool(this.#total);
  }

  /**
   * How many tokens the limiter lends at once. Raising it wakes waiters in
   * FIFO order; lowering it never revokes tokens already held.
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

  /** Tokens held now. */
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
   * @throws {CancelledError} (or the signal's reason) if cancelled while
   * waiting; no token is consumed then.
   */
  acquire(options?: AcquireOptions): Promise<Permit> {
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      try {
        signal = checkSignalOption(options, "Cannot acquire");
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const scope = currentScope();
    const pending = pendingCancellation(scope, signal);
    if (pending !== undefined) return Promise.reject(pending);
    if (this.#pool.tryTake()) {
      this.#anonymous++;
      return Promise.resolve(new OncePermit(this.#releaseAnonymous));
    }
    return this.#acquireSlow(scope, signal);
  }

  async #acquireSlow(
    scope: CancelScope | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Permit> {
    await this.#pool.wait(scope, signal);
    this.#anonymous++;
    return new OncePermit(this.#releaseAnonymous);
  }

  /**
   * Takes a token if one is free and nobody is waiting.
   *
   * @returns A permit, or `undefined` if no token could be taken at once.
   */
  tryAcquire(): Permit | undefined {
    if (!this.#pool.tryTake()) return undefined;
    this.#anonymous++;
    return new OncePermit(this.#releaseAnonymous);
  }

  /**
   * Releases one token taken by `acquire`/`tryAcquire` (borrower tokens are
   * untouched).
   *
   * @throws {Error} If no such token is held.
   */
  release(): void {
    if (this.#anonymous === 0) {
      throw new Error(
        "Cannot release CapacityLimiter: no token taken by acquire() or tryAcquire() is held",
      );
    }
    this.#releaseAnonymous();
  }

  /**
   * Acquires a token on behalf of `borrower`.
   *
   * @param borrower Any value that identifies the holder.
   * @param options The abort signal.
   * @returns A permit that releases the borrower's token.
   * @throws {Error} If `borrower` already holds (or waits for) a token.
   */
  async acquireOnBehalfOf(
    borrower: unknown,
    options?: AcquireOptions,
  ): Promise<Permit> {
    const signal = checkSignalOption(options, "Cannot acquire");
    if (this.#borrowers.has(borrower)) {
      throw new Error(
        `Cannot acquire on behalf of ${String(borrower)}: it already holds a token`,
      );
    }
    const scope = currentScope();
    const pending = pendingCancellation(scope, signal);
    if (pending !== undefined) throw pending;
    this.#borrowers.set(borrower, undefined);
    if (!this.#pool.tryTake()) {
      try {
        await this.#pool.wait(scope, signal);
      } catch (err) {
        this.#borrowers.delete(borrower);
        throw err;
      }
    }
    const permit = new OncePermit(this.#releaseBorrower, borrower);
    this.#borrowers.set(borrower, permit);
    return permit;
  }

  /**
   * Releases the token held by `borrower`.
   *
   * @param borrower The holder given to `acquireOnBehalfOf`.
   * @throws {Error} If `borrower` holds no token.
   */
  releaseOnBehalfOf(borrower: unknown): void {
    const permit = this.#borrowers.get(borrower);
    if (permit === undefined) {
      throw new Error(
        `Cannot release on behalf of ${String(borrower)}: it holds no token`,
      );
    }
    permit.release();
  }

  /**
   * Runs `fn` while holding a token.
   *
   * @typeParam T The type of `fn`'s value.
   * @param fn The work to do.
   * @param options The abort signal for the wait.
   * @returns `fn`'s value.
   */
  async use<T>(fn: () => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    using _permit = await this.acquire(options);
    return await fn();
  }

  /**
   * A snapshot of the limiter.
   *
   * @returns Borrowed and total tokens, and how many wait.
   */
  statistics(): LimiterStatistics {
    return {
      borrowedTokens: this.#pool.held,
      totalTokens: this.#total,
      tasksWaiting: this.#pool.waiters.size,
    };
  }
}
