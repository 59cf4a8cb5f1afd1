// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `Queue` and `PriorityQueue`: bounded, closable queues whose waiting getters
 * and putters line up on the shared FIFO waiter list.
 *
 * The hand-off rule (the same as the limiter's tokens): a waiting call is
 * granted its turn (an item for a getter, a free slot for a putter) in FIFO
 * order, and takes effect only when it resumes, after checking for
 * cancellation. A call cancelled between the grant and its resumption rejects
 * with no effect, and its turn passes to the next waiter in line. So a `put`
 * that rejects never enqueued its item, a `get` that rejects never took one,
 * and a call that resolves always had its effect: no item is lost or
 * delivered twice. A call that is granted its turn is still "in line" until it
 * resumes, so nothing (not even `putNowait`/`getNowait`) overtakes it.
 *
 * @module
 */

import { type CancelScope, currentScope, pendingCancellation } from "./cancel.ts";
import { startWait, WaitQueue } from "./_wait_queue.ts";
import { describeReceived, QueueClosed, QueueEmpty, QueueFull } from "./errors.ts";

/** Options of the {@linkcode Queue} constructor. */
export interface QueueOptions {
  /** How many items the queue holds at most: a positive integer or `Infinity` (the default). */
  maxSize?: number;
}

/** Options of the {@linkcode PriorityQueue} constructor. */
export interface PriorityQueueOptions<T> extends QueueOptions {
  /**
   * Orders items: negative if `a` leaves before `b`, positive if after, 0 if
   * equal (equal items leave in insertion order). Defaults to `<` / `>`.
   */
  compare?: (a: T, b: T) => number;
}

/** Options of a waiting {@linkcode Queue.put} or {@linkcode Queue.get}. */
export interface QueueWaitOptions {
  /** Cancels the wait when it aborts. */
  signal?: AbortSignal;
}

/** What {@linkcode Queue.statistics} reports. */
export interface QueueStatistics {
  /** Items in the queue. */
  size: number;
  /** The most items the queue holds. */
  maxSize: number;
  /** Whether `close()` was called. */
  closed: boolean;
  /** `get` calls still pending. */
  tasksWaitingGet: number;
  /** `put` calls still pending. */
  tasksWaitingPut: number;
}

/** Where a queue keeps its items. Both methods either succeed or change nothing. */
interface ItemStore<T> {
  readonly length: number;
  push(item: T): void;
  /** Removes the next item; the caller has checked that there is one. */
  shift(): T;
}

/** A growable ring buffer (capacity a power of two): O(1) push and shift. */
class RingBuffer<T> implements ItemStore<T> {
  #items: (T | undefined)[] = new Array(8);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#resize(this.#length * 2);
    const items = this.#items;
    items[(this.#head + this.#length) & (items.length - 1)] = item;
    this.#length++;
  }

  shift(): T {
    const items = this.#items, head = this.#head;
    const item = items[head] as T;
    items[head] = undefined;
    this.#head = (head + 1) & (items.length - 1);
    this.#length--;
    // Shrink at a quarter full, so a burst does not pin its memory forever.
    if (items.length > 64 && this.#length <= items.length >>> 2) {
      this.#resize(items.length >>> 1);
    }
    return item;
  }

  #resize(capacity: number): void {
    const items = this.#items, mask = items.length - 1, next = new Array(capacity);
    for (let i = 0; i < this.#length; i++) next[i] = items[(this.#head + i) & mask];
    this.#items = next;
    this.#head = 0;
  }
}

interface HeapEntry<T> {
  item: T;
  seq: number;
}

/**
 * A binary min-heap; a sequence number breaks ties, so equal items leave in
 * insertion order. If `compare` throws, the heap is restored exactly as it
 * was, so a failed put or get has no effect.
 */
class BinaryHeap<T> implements ItemStore<T> {
  readonly #heap: HeapEntry<T>[] = [];
  readonly #compare: (a: T, b: T) => number;
  #seq = 0;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get length(): number {
    return this.#heap.length;
  }

  #before(a: HeapEntry<T>, b: HeapEntry<T>): boolean {
    const c = this.#compare(a.item, b.item);
    return c < 0 || !(c > 0) && a.seq < b.seq;
  }

  push(item: T): void {
    const heap = this.#heap, entry = { item, seq: this.#seq++ }, last = heap.length;
    heap.push(entry);
    let i = last;
    try {
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.#before(entry, heap[p])) break;
        heap[i] = heap[p];
        heap[p] = entry;
        i = p;
      }
    } catch (err) {
      // Walk the entry back down the path it came up (the ancestors of `last`).
      const path: number[] = [];
      for (let j = last; j !== i; j = (j - 1) >> 1) path.push(j);
      for (let k = path.length - 1; k >= 0; k--) {
        const c = path[k];
        heap[i] = heap[c];
        heap[c] = entry;
        i = c;
      }
      heap.pop();
      throw err;
    }
  }

  shift(): T {
    const heap = this.#heap, top = heap[0], last = heap.pop()!;
    const n = heap.length;
    if (n === 0) return top.item;
    heap[0] = last;
    let i = 0;
    try {
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && this.#before(heap[l + 1], heap[l]) ? l + 1 : l;
        if (!this.#before(heap[c], last)) break;
        heap[i] = heap[c];
        heap[c] = last;
        i = c;
      }
    } catch (err) {
      // Walk `last` back up to the root, then put everything back.
      while (i > 0) {
        const p = (i - 1) >> 1;
        heap[i] = heap[p];
        heap[p] = last;
        i = p;
      }
      heap[0] = top;
      heap.push(last);
      throw err;
    }
    return top.item;
  }
}

function checkOptions(options: unknown, where: string): number {
  if (options === undefined) return Infinity;
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${where}: 'options' must be an object, received ${describeReceived(options)}`,
    );
  }
  const maxSize = (options as QueueOptions).maxSize;
  if (maxSize === undefined) return Infinity;
  if (typeof maxSize !== "number") {
    throw new TypeError(
      `${where}: 'maxSize' must be a positive integer or Infinity, received ${
        describeReceived(maxSize)
      }`,
    );
  }
  if (!(maxSize === Infinity || Number.isInteger(maxSize) && maxSize >= 1)) {
    throw new RangeError(
      `${where}: 'maxSize' must be a positive integer or Infinity, received ${maxSize}`,
    );
  }
  return maxSize;
}

const defaultCompare = <T>(a: T, b: T): number => a < b ? -1 : a > b ? 1 : 0;

// Bound in Queue's static block: lets PriorityQueue swap in its heap.
let useStore: <T>(queue: Queue<T>, store: ItemStore<T>) => void;

/**
 * A FIFO queue, optionally bounded, that can be closed. Getters wait while it
 * is empty and putters while it is full, both in arrival order; a waiting call
 * is cancelled by its `signal` or the ambient scope, and inside a cancelled
 * scope every `put`/`get` rejects at once.
 *
 * Hand-off rule: a waiting call is granted its turn (an item, or a free slot)
 * in FIFO order and takes effect only when it resumes. If it was cancelled in
 * between, it rejects with no effect and its turn passes to the next waiter:
 * a rejected `get` took nothing, a rejected `put` enqueued nothing, and every
 * item is delivered exactly once. Until it resumes, a granted call is still in
 * line, so `putNowait`/`getNowait` cannot overtake it.
 *
 * @typeParam T The type of the items.
 *
 * @example Usage
 * ```ts
 * import { Queue, taskGroup } from "@lionpride/core";
 *
 * const queue = new Queue<number>({ maxSize: 2 });
 * const seen: number[] = [];
 * await taskGroup((tg) => {
 *   tg.startSoon(async () => {
 *     for await (const item of queue) seen.push(item);
 *   });
 *   tg.startSoon(async () => {
 *     for (let i = 0; i < 5; i++) await queue.put(i);
 *     queue.close();
 *   });
 * });
 * if (!(seen.join() === "0,1,2,3,4")) throw new Error("unexpected result");
 * ```
 */
export class Queue<T> {
  #store: ItemStore<T> = new RingBuffer<T>();
  readonly #maxSize: number;
  #closed = false;
  readonly #getters = new WaitQueue<void>();
  readonly #putters = new WaitQueue<void>();
  /** Getters woken with an item reserved for them that have not resumed yet. */
  #grantedGets = 0;
  /** Putters woken with a slot reserved for them that have not resumed yet. */
  #grantedPuts = 0;

  static {
    useStore = (queue, store) => {
      queue.#store = store;
    };
  }

  /**
   * Constructs a new queue.
   *
   * @param options The maximum size.
   * @throws {TypeError} If `options` is not an object or `maxSize` not a number.
   * @throws {RangeError} If `maxSize` is not a positive integer or Infinity.
   */
  constructor(options?: QueueOptions) {
    this.#maxSize = checkOptions(options, `Cannot create ${new.target.name}`);
  }

  /** Items in the queue, including any already granted to a waking getter. */
  get size(): number {
    return this.#store.length;
  }

  /** The most items the queue holds (`Infinity` if unbounded). */
  get maxSize(): number {
    return this.#maxSize;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Adds an item at once.
   *
   * @param item The item.
   * @throws {QueueClosed} If the queue is closed.
   * @throws {QueueFull} If the queue is full, or a `put` is waiting.
   */
  putNowait(item: T): void {
    if (this.#closed) throw new QueueClosed("Cannot put: the queue is closed");
    if (!this.#canPut()) {
      throw new QueueFull(`Cannot put: the queue is full (maxSize ${this.#maxSize})`);
    }
    this.#insert(item);
  }

  /**
   * Adds an item, waiting in FIFO order while the queue is full.
   *
   * @param item The item.
   * @param options The abort signal.
   * @returns A promise that resolves once the item is in the queue.
   * @throws {QueueClosed} If the queue is closed (also while waiting).
   * @throws {CancelledError} (or the signal's reason) if cancelled; the item
   * is not enqueued then.
   */
  put(item: T, options?: QueueWaitOptions): Promise<void> {
    const scope = currentScope();
    const signal = startWait(options, scope, "Cannot put");
    if (signal instanceof Promise) return signal;
    if (this.#closed) return Promise.reject(new QueueClosed("Cannot put: the queue is closed"));
    if (!this.#canPut()) return this.#putSlow(item, scope, signal);
    try {
      this.#insert(item);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  async #putSlow(
    item: T,
    scope: CancelScope | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    await this.#putters.wait(scope, signal);
    this.#grantedPuts--;
    const pending = pendingCancellation(scope, signal);
    if (pending !== undefined) {
      this.#wakePutters();
      throw pending;
    }
    if (this.#closed) throw new QueueClosed("Cannot put: the queue was closed");
    try {
      this.#store.push(item);
    } catch (err) {
      this.#wakePutters();
      throw err;
    }
    this.#wakeGetters();
  }

  /**
   * Removes and returns the next item at once.
   *
   * @returns The item.
   * @throws {QueueClosed} If the queue is closed and drained.
   * @throws {QueueEmpty} If no item is free, or a `get` is waiting.
   */
  getNowait(): T {
    if (this.#canGet()) return this.#take();
    if (this.#closed && this.#store.length === 0) {
      throw new QueueClosed("Cannot get: the queue is closed and drained");
    }
    throw new QueueEmpty("Cannot get: the queue is empty");
  }

  /**
   * Removes and returns the next item, waiting in FIFO order while the queue
   * is empty.
   *
   * @param options The abort signal.
   * @returns The item.
   * @throws {QueueClosed} Once the queue is closed and drained.
   * @throws {CancelledError} (or the signal's reason) if cancelled; no item
   * is taken then.
   */
  get(options?: QueueWaitOptions): Promise<T> {
    const scope = currentScope();
    const signal = startWait(options, scope, "Cannot get");
    if (signal instanceof Promise) return signal;
    if (this.#canGet()) {
      try {
        return Promise.resolve(this.#take());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (this.#closed && this.#store.length === 0) {
      return Promise.reject(new QueueClosed("Cannot get: the queue is closed and drained"));
    }
    return this.#getSlow(scope, signal);
  }

  async #getSlow(scope: CancelScope | undefined, signal: AbortSignal | undefined): Promise<T> {
    await this.#getters.wait(scope, signal);
    this.#grantedGets--;
    const pending = pendingCancellation(scope, signal);
    if (pending === undefined) {
      try {
        return this.#take();
      } catch (err) {
        this.#wakeGetters();
        throw err;
      }
    }
    this.#wakeGetters();
    throw pending;
  }

  /**
   * Closes the queue: waiting and later `put` calls reject with
   * {@linkcode QueueClosed}; `get` calls drain the items left, then reject
   * with it too. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    rejectAll(this.#putters, "Cannot put: the queue was closed");
    if (this.#store.length === 0) {
      rejectAll(this.#getters, "Cannot get: the queue was closed and is drained");
    }
  }

  /**
   * Yields items until the queue is closed and drained.
   *
   * @returns An async iterator over the items.
   * @throws {CancelledError} (from `next()`) if the ambient scope is cancelled.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    const next = async (): Promise<IteratorResult<T, undefined>> => {
      try {
        return { done: false, value: await this.get() };
      } catch (err) {
        if (err instanceof QueueClosed) return { done: true, value: undefined };
        throw err;
      }
    };
    return {
      next,
      [Symbol.asyncIterator](): AsyncIterableIterator<T> {
        return this;
      },
    };
  }

  /**
   * A snapshot of the queue.
   *
   * @returns The size, bound, closed flag and how many calls wait.
   */
  statistics(): QueueStatistics {
    return {
      size: this.#store.length,
      maxSize: this.#maxSize,
      closed: this.#closed,
      tasksWaitingGet: this.#getters.size + this.#grantedGets,
      tasksWaitingPut: this.#putters.size + this.#grantedPuts,
    };
  }

  /** No barging: a granted putter that has not resumed is still in line. */
  #canPut(): boolean {
    return this.#putters.size === 0 && this.#grantedPuts === 0 &&
      this.#store.length < this.#maxSize;
  }

  #canGet(): boolean {
    return this.#getters.size === 0 && this.#grantedGets === 0 && this.#store.length > 0;
  }

  #insert(item: T): void {
    this.#store.push(item);
    this.#wakeGetters();
  }

  #take(): T {
    const item = this.#store.shift();
    this.#wakePutters();
    if (this.#closed && this.#store.length === 0) {
      rejectAll(this.#getters, "Cannot get: the queue was closed and is drained");
    }
    return item;
  }

  /** Reserves one item per waiting getter, in FIFO order. */
  #wakeGetters(): void {
    const getters = this.#getters;
    while (getters.size > 0 && this.#store.length > this.#grantedGets) {
      this.#grantedGets++;
      getters.wakeOne();
    }
  }

  /** Reserves one free slot per waiting putter, in FIFO order. */
  #wakePutters(): void {
    const putters = this.#putters;
    while (putters.size > 0 && this.#store.length + this.#grantedPuts < this.#maxSize) {
      this.#grantedPuts++;
      putters.wakeOne();
    }
  }
}

function rejectAll(waiters: WaitQueue<void>, message: string): void {
  for (let w = waiters.shift(); w !== undefined; w = waiters.shift()) {
    w.reject(new QueueClosed(message));
  }
}

/**
 * A {@linkcode Queue} that hands out the lowest item first (by `compare`);
 * equal items leave in insertion order. It keeps the same waiting, closing
 * and hand-off rules.
 *
 * @typeParam T The type of the items.
 *
 * @example Usage
 * ```ts
 * import { PriorityQueue } from "@lionpride/core";
 *
 * const jobs = new PriorityQueue<{ priority: number; name: string }>({
 *   compare: (a, b) => a.priority - b.priority,
 * });
 * jobs.putNowait({ priority: 2, name: "later" });
 * jobs.putNowait({ priority: 1, name: "first" });
 * jobs.putNowait({ priority: 2, name: "last" });
 * const order = [jobs.getNowait(), jobs.getNowait(), jobs.getNowait()].map((j) => j.name);
 * if (!(order.join() === "first,later,last")) throw new Error("unexpected result");
 * ```
 */
export class PriorityQueue<T> extends Queue<T> {
  /**
   * Constructs a new priority queue.
   *
   * @param options The maximum size and the order of the items.
   * @throws {TypeError} If `options` is not an object, `maxSize` not a number
   * or `compare` not a function.
   * @throws {RangeError} If `maxSize` is not a positive integer or Infinity.
   */
  constructor(options?: PriorityQueueOptions<T>) {
    super(options);
    const compare = options?.compare ?? defaultCompare;
    if (typeof compare !== "function") {
      throw new TypeError(
        `Cannot create ${new.target.name}: 'compare' must be a function, received ${
          describeReceived(compare)
        }`,
      );
    }
    useStore(this, new BinaryHeap(compare));
  }
}
