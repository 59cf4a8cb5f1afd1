// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The token-counting core shared by `CapacityLimiter`, `Semaphore` and `Lock`:
 * a count of free tokens and a FIFO list of waiters, with the hand-off rules
 * that keep tokens conserved under cancellation.
 *
 * @module
 */

import { type CancelScope, pendingCancellation } from "./cancel.ts";
import { WaitQueue } from "./wait_queue.ts";

/** What an acquire hands back: a token that can be given back once. */
export interface Permit extends Disposable {
  /** Gives the token back; releasing twice is a no-op. */
  release(): void;
}

/**
 * Free tokens plus FIFO waiters; no barging while anyone waits. A token handed
 * to a waiter stays counted in `held` from the hand-off on. Internal.
 */
export class TokenPool {
  /** Free tokens right now. */
  free: number;
  /** Tokens taken and not yet put back (including ones in hand-off). */
  held = 0;
  readonly waiters: WaitQueue<void> = new WaitQueue<void>();

  constructor(free: number) {
    this.free = free;
  }

  /** Takes a token if one is free and nobody waits. */
  tryTake(): boolean {
    if (this.free > 0 && this.waiters.size === 0) {
      this.free--;
      this.held++;
      return true;
    }
    return false;
  }

  /**
   * Waits for a token in FIFO order. The caller has checked that no
   * cancellation is in force and that `tryTake()` failed. If the waiter is
   * cancelled between the hand-off and its resumption (the same tick), the
   * token passes to the next waiter and the wait rejects: cancellation is
   * level-triggered and no token is lost.
   */
  async wait(
    scope: CancelScope | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    await this.waiters.wait(scope, signal);
    const pending = pendingCancellation(scope, signal);
    if (pending !== undefined) {
      this.put();
      throw pending;
    }
  }

  /** Returns a token and hands free tokens to waiters in FIFO order. */
  put(): void {
    this.held--;
    this.free++;
    this.wake();
  }

  /** Hands free tokens to waiters in FIFO order. */
  wake(): void {
    while (this.free > 0 && this.waiters.size > 0) {
      this.free--;
      this.held++;
      this.waiters.wakeOne(undefined);
    }
  }
}

/** A permit that calls back its owner once. Internal. */
export class OncePermit implements Permit {
  #release: ((borrower: unknown) => void) | undefined;
  #borrower: unknown;

  constructor(release: (borrower: unknown) => void, borrower?: unknown) {
    this.#release = release;
    this.#borrower = borrower;
  }

  release(): void {
    const release = this.#release;
    if (release === undefined) return;
    this.#release = undefined;
    release(this.#borrower);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
