// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `Event`: a one-shot flag that tasks can wait for, cancellable by the
 * ambient scope or a signal.
 *
 * @module
 */

import { currentScope } from "./cancel.ts";
import { defineInspect } from "./_inspect.ts";
import {
  type AcquireOptions,
  cancellationOnWake,
  startWait,
  type Waiter,
  WaitQueue,
} from "./_wait_queue.ts";

/** Rejects a woken wait whose caller was cancelled since the wake-up. */
function throwIfCancelledOnWake(woken: unknown): void {
  const pending = cancellationOnWake(woken as Waiter<unknown>);
  if (pending !== undefined) throw pending;
}

/**
 * A one-shot flag that tasks can wait for.
 *
 * @example Usage
 * ```ts
 * import { Event } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const ready = new Event();
 * const order: string[] = [];
 * const waiter = ready.wait().then(() => order.push("woken"));
 * order.push("set");
 * ready.set();
 * await waiter;
 * assert.deepEqual(order, ["set", "woken"]);
 * assert.equal(ready.isSet(), true);
 * ```
 */
export class Event {
  #set = false;
  readonly #waiters = new WaitQueue<unknown>();

  /** Sets the flag and wakes every waiter; a no-op once set. */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    this.#waiters.wakeWaiters();
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

defineInspect(
  Event,
  (event) => `set: ${event.isSet()}, waiting: ${event.statistics().tasksWaiting}`,
);
