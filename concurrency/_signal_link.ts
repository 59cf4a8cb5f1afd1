// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The one place where a caller's `AbortSignal` becomes the cancellation of a
 * scope (internal): `retry`, `alcall` and `alcallStream` link their `signal`
 * option to the scope their work runs in, so the signal reaches the work only
 * through that scope and an attempt that ignores `ctx.signal` cannot hold
 * the call up.
 *
 * @module
 */

import type { CancelScope } from "./cancel.ts";
import {
  type SignalWatcher,
  type SignalWatchLink,
  unwatchSignal,
  watchSignal,
} from "./_signal_watch.ts";

/** Cancels a scope, attached now or later, when `signal` aborts. */
export class SignalLink implements SignalWatcher {
  /** True once the signal aborted while linked (or before). */
  aborted = false;
  readonly #signal: AbortSignal | undefined;
  #scope: CancelScope | undefined = undefined;
  #watch: SignalWatchLink | undefined = undefined;

  /**
   * Listens to `signal` (nothing to do when it is `undefined`).
   *
   * @param signal The caller's signal.
   */
  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
    if (signal === undefined) return;
    if (signal.aborted) this.aborted = true;
    else this.#watch = watchSignal(signal, this);
  }

  /** The signal's reason, once it aborted. */
  get reason(): unknown {
    return this.#signal?.reason;
  }

  /**
   * Makes the signal cancel `scope` (at once if it already aborted).
   *
   * @param scope The scope the work runs in.
   */
  attach(scope: CancelScope): void {
    this.#scope = scope;
    if (this.aborted) scope.cancel(this.#signal!.reason);
  }

  /** Stops listening; call it when the work has settled. */
  unlink(): void {
    if (this.#watch !== undefined) unwatchSignal(this.#watch);
    this.#scope = undefined;
  }

  /** Cancels the attached scope (see {@linkcode SignalWatcher}). */
  signalAborted(reason: unknown): void {
    this.aborted = true;
    this.#scope?.cancel(reason);
  }
}
