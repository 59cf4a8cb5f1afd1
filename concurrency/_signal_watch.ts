// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The one place that listens to a caller's `AbortSignal` for waits (internal):
 * every waiter, sleeper and signal-to-scope link watching one signal shares
 * one listener on it, and they are told of the abort in the order they began
 * to watch. Every runtime's EventTarget scans a signal's listeners to add or
 * remove one, so a listener per wait made N waits on one signal cost O(N²):
 * queueing 40,000 limiter waiters on one signal took ~10 s, granting them
 * 2-3 s (bench/README.md, 2026-12-05, fifth session), and Node warns of a
 * listener leak past 10 listeners on one signal.
 *
 * @module
 */

/** What a signal's abort is passed on to. */
export interface SignalWatcher {
  /**
   * Called once, when the signal aborts while watched; the link is already
   * cut then.
   */
  signalAborted(reason: unknown): void;
}

/**
 * A watcher's place in its signal's list: a node of its own, made only for a
 * wait with a signal, so that a waiter without one carries no extra fields.
 */
export interface SignalWatchLink {
  readonly watcher: SignalWatcher;
  prev: SignalWatchLink | undefined;
  next: SignalWatchLink | undefined;
  /** The list it is in; `undefined` once cut. */
  watch: SignalWatch | undefined;
}

/**
 * The watchers of one signal, in the order they began to watch, and the one
 * listener they share on it while there are any.
 */
class SignalWatch {
  head: SignalWatchLink | undefined = undefined;
  tail: SignalWatchLink | undefined = undefined;
  readonly signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  /** Tells every watcher of the abort, in order; the last cut removes the listener. */
  handleEvent(): void {
    const reason = this.signal.reason;
    for (let link = this.head; link !== undefined; link = this.head) {
      unwatchSignal(link);
      link.watcher.signalAborted(reason);
    }
  }
}

/**
 * Where a signal keeps its watch: a symbol-keyed property of the signal, made
 * once and kept for its life (its listener is not: see `unwatchSignal`).
 * Under contention, a wait with a signal of its own took 1.4× as long as with
 * a listener per waiter when the watch was found through a `WeakMap`, ~1.1×
 * through the property (bench/README.md, 2026-12-05, fifth session); the map
 * serves only signals that cannot take a property (frozen ones).
 */
const WATCH: unique symbol = Symbol("lionpride signal watch");
const frozenSignalWatches = new WeakMap<AbortSignal, SignalWatch>();

function watchOf(signal: AbortSignal): SignalWatch {
  const watch = (signal as { [WATCH]?: SignalWatch })[WATCH] ?? frozenSignalWatches.get(signal);
  if (watch !== undefined) return watch;
  const made = new SignalWatch(signal);
  if (Object.isExtensible(signal)) Object.defineProperty(signal, WATCH, { value: made });
  else frozenSignalWatches.set(signal, made);
  return made;
}

/**
 * Makes `watcher` hear of `signal`'s abort, after the watchers before it.
 * The caller has checked that the signal has not aborted yet.
 */
export function watchSignal(signal: AbortSignal, watcher: SignalWatcher): SignalWatchLink {
  const watch = watchOf(signal);
  const tail = watch.tail;
  const link: SignalWatchLink = { watcher, prev: tail, next: undefined, watch };
  if (tail === undefined) {
    signal.addEventListener("abort", watch);
    watch.head = link;
  } else {
    tail.next = link;
  }
  watch.tail = link;
  return link;
}

/** Stops a watcher hearing of its signal (nothing if it no longer does). */
export function unwatchSignal(link: SignalWatchLink): void {
  const watch = link.watch;
  if (watch === undefined) return;
  link.watch = undefined;
  const prev = link.prev, next = link.next;
  if (prev === undefined) watch.head = next;
  else prev.next = next;
  if (next === undefined) watch.tail = prev;
  else next.prev = prev;
  // No listener stays on a signal nobody waits on: Node keeps a timeout
  // signal that has abort listeners alive until it fires.
  if (watch.head === undefined) watch.signal.removeEventListener("abort", watch);
}
