// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The one FIFO waiter list every waiting primitive shares: a doubly linked
 * list, so enqueue, dequeue and cancellation are all O(1). A waiter watches
 * the ambient scope (through the scope machinery) and an optional signal, and
 * leaves the list at once when either cancels it.
 *
 * @module
 */

import type { CancelledError } from "./errors.ts";
import { describeValue } from "./_validate.ts";
import {
  type CancelScope,
  type CancelWatcher,
  pendingCancellation,
  unwatchScope,
  watchScope,
} from "./cancel.ts";
import { type SignalWatchLink, unwatchSignal, watchSignal } from "./_signal_watch.ts";

/** Options of a waiting call (`acquire`, `wait`, …). */
export interface AcquireOptions {
  /** Cancels the wait when it aborts. */
  signal?: AbortSignal;
}

/**
 * One waiting call. A plain object (made in `WaitQueue.wait`) rather than a
 * class instance: it is allocated on every wait, and V8 builds an object
 * literal from its boilerplate faster than it runs a constructor chain.
 */
export interface Waiter<T> extends CancelWatcher {
  prev: Waiter<T> | undefined;
  next: Waiter<T> | undefined;
  /** The list the waiter is in; `undefined` once it left it. */
  queue: WaitQueue<T> | undefined;
  /** The ambient scope of the call (kept after the waiter leaves the list). */
  scope: CancelScope | undefined;
  /** The signal of the call (kept after the waiter leaves the list). */
  signal: AbortSignal | undefined;
  /** Free slot for the owner (e.g. the item a putter offers). */
  payload: unknown;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
  /** Called by the scope machinery when the waiter's scope is cancelled. */
  onCancel(reason: CancelledError): void;
  /** Called when the waiter's signal aborts. */
  signalAborted(reason: unknown): void;
  /** Its place among the watchers of its signal. */
  signalLink: SignalWatchLink | undefined;
}

function onCancel(this: Waiter<unknown>, reason: CancelledError): void {
  this.queue?.cancel(this, reason);
}

function signalAborted(this: Waiter<unknown>, reason: unknown): void {
  this.queue?.cancel(this, reason);
}

function unsettled(): void {}

/** A FIFO list of waiters. */
export class WaitQueue<T> {
  #head: Waiter<T> | undefined = undefined;
  #tail: Waiter<T> | undefined = undefined;
  /**
   * Number of waiters. Read-only outside this class: a plain field rather
   * than a getter because the limiter's hot path reads it on every acquire
   * and release.
   */
  size = 0;
  /**
   * Called after a waiter left the list because it was cancelled (and by
   * `TokenPool` after a waiter it handed a token was cancelled before it
   * resumed): the distributed lease pool withdraws the waiter's ticket from
   * the store then, and `CapacityLimiter` forgets a waiting borrower.
   */
  onCancelled: ((waiter: Waiter<T>) => void) | undefined = undefined;

  /** The first waiter, if any (not removed). */
  get head(): Waiter<T> | undefined {
    return this.#head;
  }

  /**
   * Appends a waiter that watches `scope` and `signal`. The caller has checked
   * that neither is cancelled already.
   */
  wait(
    scope: CancelScope | undefined,
    signal: AbortSignal | undefined,
    payload?: unknown,
  ): Promise<T> {
    const w: Waiter<T> = {
      watchScope: undefined,
      watchPrev: undefined,
      watchNext: undefined,
      prev: undefined,
      next: undefined,
      queue: this,
      scope,
      signal,
      payload,
      resolve: unsettled,
      reject: unsettled,
      onCancel,
      signalAborted,
      signalLink: undefined,
    };
    const promise = new Promise<T>((resolve, reject) => {
      w.resolve = resolve;
      w.reject = reject;
    });
    const tail = this.#tail;
    w.prev = tail;
    if (tail === undefined) this.#head = w;
    else tail.next = w;
    this.#tail = w;
    this.size++;
    if (scope !== undefined) watchScope(scope, w);
    if (signal !== undefined) w.signalLink = watchSignal(signal, w);
    return promise;
  }

  /** Removes and returns the first waiter (no longer watching anything). */
  shift(): Waiter<T> | undefined {
    const w = this.#head;
    if (w !== undefined) this.#remove(w);
    return w;
  }

  /** Wakes the first waiter with `value`; returns false if there was none. */
  wakeOne(value: T): boolean {
    const w = this.shift();
    if (w === undefined) return false;
    w.resolve(value);
    return true;
  }

  /**
   * Wakes up to `n` waiters in FIFO order, each resolved with its own record,
   * so that it can ask {@linkcode cancellationOnWake} when it resumes.
   */
  wakeWaiters(this: WaitQueue<unknown>, n = Infinity): void {
    for (let i = 0; i < n; i++) {
      const w = this.shift();
      if (w === undefined) return;
      w.resolve(w);
    }
  }

  /** Removes a cancelled waiter and rejects it with `reason`. */
  cancel(w: Waiter<T>, reason: unknown): void {
    if (w.queue !== this) return;
    this.#remove(w);
    w.reject(reason);
    this.onCancelled?.(w);
  }

  #remove(w: Waiter<T>): void {
    const prev = w.prev, next = w.next;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    w.prev = w.next = w.queue = undefined;
    this.size--;
    if (w.watchScope !== undefined) unwatchScope(w);
    const link = w.signalLink;
    if (link !== undefined) {
      w.signalLink = undefined;
      unwatchSignal(link);
    }
  }
}

/**
 * The cancellation in force for a waiter that was woken and is resuming: its
 * scope's reason if the scope was cancelled since the wake-up, else its
 * signal's reason if the signal aborted. Waiting calls check it on resumption
 * so that cancellation stays level-triggered.
 */
export function cancellationOnWake<T>(w: Waiter<T>): unknown {
  return pendingCancellation(w.scope, w.signal);
}

/**
 * The common start of every waiting call: validates `options.signal` and
 * checks for a cancellation already in force (level-triggered). Returns the
 * signal, or a rejected promise for the caller to return as is.
 */
export function startWait(
  options: unknown,
  scope: CancelScope | undefined,
  where: string,
): AbortSignal | undefined | Promise<never> {
  let signal: AbortSignal | undefined;
  if (options !== undefined) {
    try {
      signal = checkSignalOption(options, where);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  if (scope !== undefined || signal !== undefined) {
    const pending = pendingCancellation(scope, signal);
    if (pending !== undefined) return Promise.reject(pending);
  }
  return signal;
}

/** Validates an `options.signal` argument. */
export function checkSignalOption(
  options: unknown,
  where: string,
): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${where}: 'options' must be an object, received ${describeValue(options)}`,
    );
  }
  const signal = (options as { signal?: unknown }).signal;
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(
      `${where}: 'signal' must be an AbortSignal, received ${describeValue(signal)}`,
    );
  }
  return signal;
}
