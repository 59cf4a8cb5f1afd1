// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `sleep` and `checkpoint`: the two ways to wait for time, both cancellable
 * by the ambient scope.
 *
 * @module
 */

import {
  CancelWatcher,
  currentScope,
  pendingCancellation,
  scopeReason,
  unwatchScope,
  watchScope,
} from "./cancel.ts";
import { addDeadline, currentTime, DeadlineEntry, removeDeadline, Timer } from "./clock.ts";
import { describeValue } from "./_validate.ts";
import { checkSignalOption } from "./_wait_queue.ts";
import { type SignalWatchLink, unwatchSignal, watchSignal } from "./_signal_watch.ts";

/** Options of {@linkcode sleep}. */
export interface SleepOptions {
  /** Cancels the sleep when it aborts. */
  signal?: AbortSignal;
}

/** A pending sleep: a deadline in the shared heap, watching its scope and signal. */
class Sleeper extends CancelWatcher {
  readonly entry: SleepDeadline;
  signalLink: SignalWatchLink | undefined = undefined;
  resolve!: () => void;
  reject!: (err: unknown) => void;

  constructor() {
    super();
    this.entry = new SleepDeadline(this);
  }

  finish(): void {
    removeDeadline(this.entry);
    unwatchScope(this);
    if (this.signalLink !== undefined) unwatchSignal(this.signalLink);
  }

  onCancel(reason: unknown): void {
    this.finish();
    this.reject(reason);
  }

  signalAborted(reason: unknown): void {
    this.onCancel(reason);
  }
}

class SleepDeadline extends DeadlineEntry {
  constructor(readonly sleeper: Sleeper) {
    super();
  }
  expire(): void {
    this.sleeper.finish();
    this.sleeper.resolve();
  }
}

/**
 * Resolves after `ms` milliseconds. Rejects with the cancellation reason when
 * `options.signal` aborts or the ambient scope is cancelled, and clears its
 * timer then.
 *
 * @param ms Milliseconds to sleep: finite and `>= 0`, or `Infinity` to sleep
 * until cancelled.
 * @param options The abort signal.
 * @returns A promise that resolves after `ms` milliseconds.
 * @throws {TypeError} If `ms` is not a number or `signal` not an AbortSignal.
 * @throws {RangeError} If `ms` is negative or NaN.
 *
 * @example Usage
 * ```ts
 * import { currentTime, sleep } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const start = currentTime();
 * await sleep(10);
 * assert.ok(currentTime() - start >= 9);
 * ```
 */
export function sleep(ms: number, options?: SleepOptions): Promise<void> {
  let signal: AbortSignal | undefined;
  try {
    if (typeof ms !== "number") {
      throw new TypeError(
        `Cannot sleep: 'ms' must be a number, received ${describeValue(ms)}`,
      );
    }
    if (!(ms >= 0)) {
      throw new RangeError(
        `Cannot sleep: 'ms' must be >= 0 or Infinity, received ${ms}`,
      );
    }
    signal = checkSignalOption(options, "Cannot sleep");
  } catch (err) {
    return Promise.reject(err);
  }
  const scope = currentScope();
  const pending = pendingCancellation(scope, signal);
  if (pending !== undefined) return Promise.reject(pending);
  const sleeper = new Sleeper();
  const promise = new Promise<void>((resolve, reject) => {
    sleeper.resolve = resolve;
    sleeper.reject = reject;
  });
  if (ms !== Infinity) {
    sleeper.entry.deadline = currentTime() + ms;
    addDeadline(sleeper.entry);
  }
  if (scope !== undefined) watchScope(scope, sleeper);
  if (signal !== undefined) sleeper.signalLink = watchSignal(signal, sleeper);
  return promise;
}

/**
 * Rejects at once with the cancellation reason if the ambient scope is
 * cancelled; otherwise yields one macrotask turn (`setTimeout(0)`), so a
 * CPU-bound loop lets timers and I/O run, and rejects after that turn if the
 * scope was cancelled meanwhile.
 *
 * @returns A promise that resolves after one macrotask turn.
 *
 * @example Usage
 * ```ts
 * import { checkpoint } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * let timerRan = false;
 * setTimeout(() => (timerRan = true), 0);
 * await checkpoint(); // a CPU-bound loop would call this now and then
 * assert.equal(timerRan, true);
 * ```
 */
export function checkpoint(): Promise<void> {
  const scope = currentScope();
  if (scope === undefined) return new Promise((resolve) => new Timer(resolve, 0));
  const pending = scopeReason(scope);
  if (pending !== undefined) return Promise.reject(pending);
  // A checkpoint is a cancellation point for the whole turn it yields: a
  // cancel that lands meanwhile rejects it, as a sleep would.
  return new Promise((resolve, reject) =>
    new Timer(() => {
      const reason = scopeReason(scope);
      if (reason === undefined) resolve();
      else reject(reason);
    }, 0)
  );
}
