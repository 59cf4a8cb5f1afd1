// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The token-counting core shared by `CapacityLimiter`, `Semaphore` and `Lock`:
 * a count of free tokens and a FIFO list of waiters, with the hand-off rules
 * that keep tokens conserved under cancellation, and the permit objects that
 * give a token back once.
 *
 * @module
 */

import type { CancelScope } from "./cancel.ts";
import { cancellationOnWake, type Waiter, WaitQueue } from "./_wait_queue.ts";

/** What an acquire hands back: a token that can be given back once. */
export interface Permit extends Disposable {
  /** Gives the token back; releasing twice is a no-op. */
  release(): void;
}

/** The fields of a permit object (internal). */
interface PermitState extends Permit {
  /** Gives the token back; `undefined` once released. */
  giveBack: ((key: unknown) => void) | undefined;
  /** Passed to `giveBack` (a borrower, a lock holding, …). */
  key: unknown;
}

// One function shared by every permit: `release` and `[Symbol.dispose]` are
// the same, and no closure is allocated per permit.
function releasePermit(this: PermitState): void {
  const giveBack = this.giveBack;
  if (giveBack === undefined) return;
  this.giveBack = undefined;
  giveBack(this.key);
}

/**
 * Makes a permit that calls `giveBack(key)` on its first release. Internal.
 *
 * A permit is a plain object literal rather than a class instance on purpose:
 * V8 resolves a promise with an object whose prototype is `Object.prototype`
 * without looking `then` up the prototype chain. Measured on Deno 2.9, an
 * `await` of a promise resolved with a class instance took ~40 ns against
 * ~25 ns for a literal, more than the rest of an uncontended acquire+release.
 */
export function makePermit(giveBack: (key: unknown) => void, key?: unknown): Permit {
  const permit: PermitState = {
    giveBack,
    key,
    release: releasePermit,
    [Symbol.dispose]: releasePermit,
  };
  return permit;
}

/** A promise job queue entry point that no fake clock can intercept. */
const resolved: Promise<void> = Promise.resolve();

/**
 * Free tokens plus FIFO waiters; no barging while anyone waits. A token handed
 * to a waiter stays counted in `held` from the hand-off on. Internal.
 *
 * A hand-off to a waiter that can be cancelled (it has a scope or a signal)
 * does not resolve it at once: the waiter joins a list of waiters resuming,
 * which one promise job drains right after the code that released the token.
 * There each waiter is checked for a cancellation that arrived since the
 * hand-off (its token then passes on to the next waiter, it rejects and
 * `waiters.onCancelled` hears of it, as of a wait cancelled in the list:
 * cancellation is level-triggered and no token is lost), or resolved with what
 * `grant` makes (its permit). A waiter that nothing can cancel is resolved at
 * the hand-off unless the list is not empty, so resumptions keep FIFO order,
 * or unless the pool was made with `deferEveryHandOff` (a bounded `Semaphore`,
 * a `Lock`: a unit handed to any waiter then stays in hand-off until that job,
 * so `handingOff()` counts it and `Lock.release()` refuses it whether or not
 * the waiter can be cancelled).
 * The job goes through the promise job queue rather than `queueMicrotask`,
 * which fake clocks replace.
 */
export class TokenPool<P = Permit> {
  /** Free tokens right now (negative after a limiter was shrunk below `held`). */
  free: number;
  /** Tokens taken and not yet put back (including ones in hand-off). */
  held = 0;
  readonly waiters: WaitQueue<P> = new WaitQueue<P>();
  /** Makes the value a waiter that got a token resolves with. */
  readonly #grant: (waiter: Waiter<P>) => P;
  // Waiters handed a token and not yet resumed, linked through `next`, and
  // whether the job that drains them is pending or running.
  #resumingHead: Waiter<P> | undefined = undefined;
  #resumingTail: Waiter<P> | undefined = undefined;
  #resumeScheduled = false;
  /** Whether even a waiter nothing can cancel goes through the list of waiters resuming. */
  readonly #deferEveryHandOff: boolean;
  readonly #resume = (): void => {
    for (let w = this.#resumingHead; w !== undefined; w = this.#resumingHead) {
      const next = w.next;
      this.#resumingHead = next;
      if (next === undefined) this.#resumingTail = undefined;
      w.next = undefined;
      const pending = cancellationOnWake(w);
      if (pending !== undefined) {
        // May append to the list being drained.
        if (this.#tokenReturned === undefined || !this.#tokenReturned(w)) this.put();
        w.reject(pending);
        this.waiters.onCancelled?.(w);
      } else {
        w.resolve(this.#grant(w));
      }
    }
    this.#resumeScheduled = false;
  };

  /**
   * Whether the token handed to a waiter went back already (the limiter's
   * `release()` can give back a token in hand-off): a waiter cancelled before
   * it resumes then has none to put back.
   */
  readonly #tokenReturned: ((waiter: Waiter<P>) => boolean) | undefined;

  constructor(
    free: number,
    grant: (waiter: Waiter<P>) => P,
    deferEveryHandOff = false,
    tokenReturned?: (waiter: Waiter<P>) => boolean,
  ) {
    this.free = free;
    this.#grant = grant;
    this.#deferEveryHandOff = deferEveryHandOff;
    this.#tokenReturned = tokenReturned;
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
   * Waits in FIFO order; resolves with `grant(waiter)` once a token was handed
   * to it. The caller has checked that no cancellation is in force and that
   * `tryTake()` failed.
   */
  wait(
    scope: CancelScope | undefined,
    signal: AbortSignal | undefined,
    payload?: unknown,
  ): Promise<P> {
    return this.waiters.wait(scope, signal, payload);
  }

  /** Returns a token and hands free tokens to waiters in FIFO order. */
  put(): void {
    this.held--;
    this.free++;
    if (this.waiters.size > 0) this.wake();
  }

  /**
   * Counts the tokens handed to waiters that have not resumed yet (a part of
   * `held`). It walks the list of waiters resuming, which one promise job
   * empties, so that the hot path keeps no counter for the one caller that
   * needs it (`Semaphore.release` with a finite `maxValue`).
   *
   * @returns How many waiters are resuming.
   */
  handingOff(): number {
    let n = 0;
    for (let w = this.#resumingHead; w !== undefined; w = w.next) n++;
    return n;
  }

  /**
   * The first waiter handed a token and not resumed yet that `match` picks.
   *
   * @param match Tells the waiter sought.
   * @returns That waiter, or `undefined`.
   */
  findHandingOff(match: (waiter: Waiter<P>) => boolean): Waiter<P> | undefined {
    for (let w = this.#resumingHead; w !== undefined; w = w.next) if (match(w)) return w;
    return undefined;
  }

  /** Hands free tokens to waiters in FIFO order. */
  wake(): void {
    const waiters = this.waiters;
    while (this.free > 0) {
      const w = waiters.shift();
      if (w === undefined) return;
      this.free--;
      this.held++;
      const tail = this.#resumingTail;
      if (
        tail === undefined && w.scope === undefined && w.signal === undefined &&
        !this.#deferEveryHandOff
      ) {
        // Nothing can cancel this waiter, so it needs no check on resumption;
        // with nobody ahead of it in the list, resolving now keeps the order.
        w.resolve(this.#grant(w));
        continue;
      }
      this.#resumingTail = w;
      if (tail !== undefined) {
        tail.next = w;
      } else {
        this.#resumingHead = w;
        if (!this.#resumeScheduled) {
          this.#resumeScheduled = true;
          resolved.then(this.#resume);
        }
      }
    }
  }
}
