// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Signals of their own for the items of a call that hands results out before
 * it ends (`asCompleted`, `alcallStream`), internal. Items that shared the
 * call's signal lost what they had handed out when the consumer left early:
 * closing the iterator aborts that signal, and a `fetch` made with it cancels
 * the body of a Response already yielded (hedging: `for await (const [, res]
 * of asCompleted(…)) return res;` returned a body nobody could read). An
 * item's own signal aborts with the call's only while the item runs.
 *
 * @module
 */

import {
  type SignalWatcher,
  type SignalWatchLink,
  unwatchSignal,
  watchSignal,
} from "./_signal_watch.ts";

/** One item's signal, aborting with its parent until it is let go. */
class ItemSignal implements SignalWatcher {
  readonly controller: AbortController = new AbortController();
  link: SignalWatchLink | undefined = undefined;

  constructor(parent: AbortSignal) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else this.link = watchSignal(parent, this);
  }

  signalAborted(reason: unknown): void {
    this.link = undefined;
    this.controller.abort(reason);
  }
}

/** The signals of a call's running items, by index. */
export class ItemSignals {
  readonly #running = new Map<number, ItemSignal>();

  /**
   * The signal of item `index` (the same one for every attempt of it): it
   * aborts when `parent` does, until {@linkcode ItemSignals.settle} lets it go.
   */
  open(index: number, parent: AbortSignal): AbortSignal {
    let item = this.#running.get(index);
    if (item === undefined) {
      item = new ItemSignal(parent);
      this.#running.set(index, item);
    }
    return item.controller.signal;
  }

  /** Item `index` has ended: its signal no longer aborts with its parent. */
  settle(index: number): void {
    const item = this.#running.get(index);
    if (item === undefined) return;
    this.#running.delete(index);
    if (item.link !== undefined) unwatchSignal(item.link);
    item.link = undefined;
  }
}
