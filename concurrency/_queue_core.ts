// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The hand-off algorithm behind `Queue` and `PriorityQueue` (internal): the
 * items, the lines of waiting getters and putters, and the hand-offs between
 * them.
 *
 * When an item (a free slot) appears while a getter (a putter) waits, the
 * first in line is granted it: the waiter leaves the waiter list for a list of
 * hand-offs, and the item (slot) is reserved for it. Reserved items stay in
 * the store, so one a cancelled getter gives back keeps its place (the front,
 * or its priority), and `size` counts them. Hand-offs are committed in grant
 * order by one promise job scheduled at the grant, or at once when a later
 * call on the same side needs the line settled: `get`/`getNowait` commit the
 * pending get hand-offs first, `put`/`putNowait` the put hand-offs. So a
 * newcomer neither overtakes a granted call nor waits behind it while
 * something is free (issue 12: it used to wait, and nothing woke it).
 *
 * Commit asks `cancellationOnWake`: a call cancelled since its grant rejects
 * with no effect and its grant passes to the next in line; otherwise the
 * getter takes the front item (the putter adds its item) and resolves. A call
 * thus completes or rejects, never both, and every item is delivered once, to
 * getters in line order. Commit is not done at the grant itself because a
 * cancellation that arrives before the granted caller could run must still
 * win (the limiter's rule too; `tests/queue_test.ts`, "cancelling a get at
 * any await point").
 *
 * Invariants, checked against a reference model by
 * `tests/queue_property_test.ts`:
 * - a getter waits only while every item is reserved
 *   (`getters.size > 0` ⇒ `store.length === gets.length`);
 * - a putter waits only while every slot is taken or reserved
 *   (`putters.size > 0` ⇒ `store.length + puts.length >= maxSize`);
 * - no putter waits on a closed queue, and no getter on a closed, empty one.
 *
 * @module
 */

import { QueueClosed } from "./errors.ts";
import { cancellationOnWake, type Waiter, WaitQueue } from "./_wait_queue.ts";
import type { ItemStore } from "./_queue_store.ts";

const PUT_CLOSED = "Cannot put: the queue was closed";
const GET_DRAINED = "Cannot get: the queue was closed and is drained";

/** A promise job queue entry point that no fake clock can intercept. */
const resolved: Promise<void> = Promise.resolve();

/** Waiters granted their turn and not committed yet, in grant order. */
class HandOffs<T> {
  #head: Waiter<T> | undefined = undefined;
  #tail: Waiter<T> | undefined = undefined;
  length = 0;

  /** Appends a waiter that has left its waiter list (its `next` is free). */
  push(w: Waiter<T>): void {
    if (this.#tail === undefined) this.#head = w;
    else this.#tail.next = w;
    this.#tail = w;
    this.length++;
  }

  shift(): Waiter<T> | undefined {
    const w = this.#head;
    if (w === undefined) return undefined;
    this.#head = w.next;
    if (w.next === undefined) this.#tail = undefined;
    w.next = undefined;
    this.length--;
    return w;
  }
}

function rejectAll<W>(waiters: WaitQueue<W>, message: string): void {
  for (let w = waiters.shift(); w !== undefined; w = waiters.shift()) {
    w.reject(new QueueClosed(message));
  }
}

/** The state of one queue and its hand-off rules (internal). */
export class QueueCore<T> {
  readonly store: ItemStore<T>;
  readonly maxSize: number;
  closed = false;
  readonly getters: WaitQueue<T> = new WaitQueue<T>();
  /** Waiting putters; each waiter's `payload` is its item. */
  readonly putters: WaitQueue<void> = new WaitQueue<void>();
  readonly #gets = new HandOffs<T>();
  readonly #puts = new HandOffs<void>();
  #commitScheduled = false;
  readonly #commitAll = (): void => {
    while (this.#gets.length > 0 || this.#puts.length > 0) {
      this.#commitGets();
      this.#commitPuts();
    }
    this.#commitScheduled = false;
  };

  constructor(store: ItemStore<T>, maxSize: number) {
    this.store = store;
    this.maxSize = maxSize;
  }

  /** `get` calls pending: waiting, or granted an item and not committed. */
  get waitingGets(): number {
    return this.getters.size + this.#gets.length;
  }

  /** `put` calls pending: waiting, or granted a slot and not committed. */
  get waitingPuts(): number {
    return this.putters.size + this.#puts.length;
  }

  /** Whether a new put may add its item now; commits earlier put hand-offs first. */
  canPut(): boolean {
    if (this.#puts.length > 0) this.#commitPuts();
    return this.putters.size === 0 && this.store.length < this.maxSize;
  }

  /** Whether a new get may take an item now; commits earlier get hand-offs first. */
  canGet(): boolean {
    if (this.#gets.length > 0) this.#commitGets();
    return this.getters.size === 0 && this.store.length > 0;
  }

  /** Adds an item (the caller checked `canPut()`) and grants it to a waiting getter. */
  insert(item: T): void {
    this.store.push(item);
    this.#wakeGetters();
  }

  /** Removes the next item (the store has one) and grants the freed slot. */
  take(): T {
    const item = this.store.shift();
    this.#wakePutters();
    if (this.closed && this.store.length === 0) rejectAll(this.getters, GET_DRAINED);
    return item;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    rejectAll(this.putters, PUT_CLOSED);
    if (this.store.length === 0) rejectAll(this.getters, GET_DRAINED);
  }

  #schedule(): void {
    if (this.#commitScheduled) return;
    this.#commitScheduled = true;
    resolved.then(this.#commitAll);
  }

  /** Reserves one unreserved item per waiting getter, in line order. */
  #wakeGetters(): void {
    const getters = this.getters, gets = this.#gets;
    while (getters.size > 0 && this.store.length > gets.length) {
      gets.push(getters.shift()!);
      this.#schedule();
    }
  }

  /** Reserves one free slot per waiting putter, in line order. */
  #wakePutters(): void {
    const putters = this.putters, puts = this.#puts;
    while (putters.size > 0 && this.store.length + puts.length < this.maxSize) {
      puts.push(putters.shift()!);
      this.#schedule();
    }
  }

  #commitGets(): void {
    const gets = this.#gets;
    for (let w = gets.shift(); w !== undefined; w = gets.shift()) {
      let item: T;
      try {
        const pending = cancellationOnWake(w);
        if (pending !== undefined) throw pending;
        item = this.take();
      } catch (err) {
        w.reject(err);
        this.#wakeGetters(); // the reserved item stays, for the next in line
        continue;
      }
      w.resolve(item);
    }
  }

  #commitPuts(): void {
    const puts = this.#puts;
    for (let w = puts.shift(); w !== undefined; w = puts.shift()) {
      try {
        const pending = cancellationOnWake(w);
        if (pending !== undefined) throw pending;
        if (this.closed) throw new QueueClosed(PUT_CLOSED);
        this.store.push(w.payload as T);
      } catch (err) {
        w.reject(err);
        this.#wakePutters(); // the reserved slot passes to the next in line
        continue;
      }
      w.resolve();
      this.#wakeGetters();
    }
  }
}
