// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The FIFO array of the worker pool, `asCompleted` and `alcallStream`
 * (internal). Waiters that must be cancellable in O(1) use `wait_queue.ts`.
 *
 * @module
 */

/**
 * A FIFO array with a head index: O(1) `shift`, and a consumed front that is
 * dropped even when the queue never empties (a steady stream), so memory
 * follows what is queued, not what went through.
 */
export class Fifo<V> {
  #items: V[] = [];
  #head = 0;

  /** Values queued. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Queues `v` at the end. */
  push(v: V): void {
    this.#items.push(v);
  }

  /** Takes the first value (the queue must not be empty). */
  shift(): V {
    const items = this.#items;
    const v = items[this.#head];
    items[this.#head++] = undefined as V;
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
      // Never empty for long (a steady stream): drop the consumed front.
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return v;
  }

  /** Empties the queue and returns what it held, in order. */
  clear(): V[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
