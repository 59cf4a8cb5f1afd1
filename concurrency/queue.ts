// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `Queue` and `PriorityQueue`: bounded, closable queues whose waiting getters
 * and putters line up on the shared FIFO waiter list. The public surface and
 * its checks live here; the hand-off algorithm and its invariants in
 * `_queue_core.ts`, the item stores in `_queue_store.ts`.
 *
 * @module
 */

import { currentScope } from "./cancel.ts";
import { startWait } from "./_wait_queue.ts";
import { QueueClosed, QueueEmpty, QueueFull } from "./errors.ts";
import { checkFunction, checkNumber, checkOptions, isLimit, LIMIT } from "./_validate.ts";
import { defineInspect } from "./_inspect.ts";
import { type ItemStore, PriorityStore, RingBuffer } from "./_queue_store.ts";
import { QueueCore } from "./_queue_core.ts";

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

function checkMaxSize(options: unknown, where: string): number {
  const maxSize = checkOptions(options, where, "bareNumber")?.maxSize;
  if (maxSize === undefined) return Infinity;
  return checkNumber(maxSize, "maxSize", where, LIMIT, isLimit, "bareNumber");
}

const defaultCompare = <T>(a: T, b: T): number => a < b ? -1 : a > b ? 1 : 0;

/**
 * The key under which `PriorityQueue` hands its heap to the `Queue`
 * constructor. Module-private, so no caller can pass a store of its own.
 */
const STORE: unique symbol = Symbol("store");

interface StoreOption<T> extends QueueOptions {
  [STORE]?: ItemStore<T>;
}

const PUT_CLOSED = "Cannot put: the queue is closed";
const GET_CLOSED = "Cannot get: the queue is closed and drained";

/**
 * A FIFO queue, optionally bounded, that can be closed. Getters wait while it
 * is empty and putters while it is full, both in arrival order; a waiting call
 * is cancelled by its `signal` or the ambient scope, and inside a cancelled
 * scope every `put`/`get` rejects at once.
 *
 * Hand-off rule: a waiting call is granted its turn (an item, or a free slot)
 * in FIFO order and takes effect only once the hand-off is committed (by the
 * next promise job, or earlier when a later call on the same side needs it).
 * If it was cancelled in between, it rejects with no effect and its turn
 * passes to the next waiter: a rejected `get` took nothing, a rejected `put`
 * enqueued nothing, and every item is delivered exactly once. A later call
 * never overtakes a granted one, and never waits while something is free.
 *
 * @typeParam T The type of the items.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
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
 * assert.deepEqual(seen, [0, 1, 2, 3, 4]);
 * ```
 */
export class Queue<T> {
  readonly #core: QueueCore<T>;

  /**
   * Constructs a new queue.
   *
   * @param options The maximum size.
   * @throws {TypeError} If `options` is not an object or `maxSize` not a number.
   * @throws {RangeError} If `maxSize` is not a positive integer or Infinity.
   */
  constructor(options?: QueueOptions) {
    const maxSize = checkMaxSize(options, `Cannot create ${new.target.name}`);
    const store = (options as StoreOption<T> | undefined)?.[STORE] ?? new RingBuffer<T>();
    this.#core = new QueueCore(store, maxSize);
  }

  /** Items in the queue, including any granted to a getter and not yet taken. */
  get size(): number {
    return this.#core.store.length;
  }

  /** The most items the queue holds (`Infinity` if unbounded). */
  get maxSize(): number {
    return this.#core.maxSize;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Adds an item at once.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, QueueFull } from "@lionpride/core";
   *
   * const queue = new Queue<string>({ maxSize: 1 });
   * queue.putNowait("a");
   * assert.throws(() => queue.putNowait("b"), QueueFull);
   * assert.equal(queue.size, 1);
   * ```
   *
   * @param item The item.
   * @throws {QueueClosed} If the queue is closed.
   * @throws {QueueFull} If the queue is full, or a `put` is waiting.
   */
  putNowait(item: T): void {
    const core = this.#core;
    if (core.closed) throw new QueueClosed(PUT_CLOSED);
    if (!core.canPut()) {
      throw new QueueFull(`Cannot put: the queue is full (maxSize ${core.maxSize})`);
    }
    core.insert(item);
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
    const core = this.#core;
    if (core.closed) return Promise.reject(new QueueClosed(PUT_CLOSED));
    if (!core.canPut()) return core.putters.wait(scope, signal, item);
    try {
      core.insert(item);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  /**
   * Removes and returns the next item at once.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, QueueEmpty } from "@lionpride/core";
   *
   * const queue = new Queue<string>();
   * queue.putNowait("a");
   * assert.equal(queue.getNowait(), "a");
   * assert.throws(() => queue.getNowait(), QueueEmpty);
   * ```
   *
   * @returns The item.
   * @throws {QueueClosed} If the queue is closed and drained.
   * @throws {QueueEmpty} If no item is free (none, or each granted to a waiting `get`).
   */
  getNowait(): T {
    const core = this.#core;
    if (core.canGet()) return core.take();
    if (core.closed && core.store.length === 0) throw new QueueClosed(GET_CLOSED);
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
    const core = this.#core;
    if (core.canGet()) {
      try {
        return Promise.resolve(core.take());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (core.closed && core.store.length === 0) {
      return Promise.reject(new QueueClosed(GET_CLOSED));
    }
    return core.getters.wait(scope, signal);
  }

  /**
   * Closes the queue: waiting and later `put` calls reject with
   * {@linkcode QueueClosed}; `get` calls drain the items left, then reject
   * with it too. Idempotent.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, QueueClosed } from "@lionpride/core";
   *
   * const queue = new Queue<string>();
   * queue.putNowait("last");
   * queue.close();
   * await assert.rejects(queue.put("late"), QueueClosed);
   * assert.equal(await queue.get(), "last");
   * await assert.rejects(queue.get(), QueueClosed);
   * ```
   */
  close(): void {
    this.#core.close();
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
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@lionpride/core";
   *
   * const queue = new Queue<number>({ maxSize: 10 });
   * const pending = queue.get();
   * assert.equal(queue.statistics().tasksWaitingGet, 1);
   * queue.putNowait(7);
   * assert.equal(await pending, 7);
   * assert.deepEqual(queue.statistics(), {
   *   size: 0,
   *   maxSize: 10,
   *   closed: false,
   *   tasksWaitingGet: 0,
   *   tasksWaitingPut: 0,
   * });
   * ```
   *
   * @returns The size, bound, closed flag and how many calls are pending.
   */
  statistics(): QueueStatistics {
    const core = this.#core;
    return {
      size: core.store.length,
      maxSize: core.maxSize,
      closed: core.closed,
      tasksWaitingGet: core.waitingGets,
      tasksWaitingPut: core.waitingPuts,
    };
  }
}

defineInspect(Queue, (queue) => {
  const s = queue.statistics();
  return `size: ${s.size}/${s.maxSize}, getters: ${s.tasksWaitingGet}, putters: ${s.tasksWaitingPut}, closed: ${s.closed}`;
});

/**
 * A {@linkcode Queue} that hands out the lowest item first (by `compare`);
 * equal items leave in insertion order. It keeps the same waiting, closing
 * and hand-off rules.
 *
 * @typeParam T The type of the items.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { PriorityQueue } from "@lionpride/core";
 *
 * const jobs = new PriorityQueue<{ priority: number; name: string }>({
 *   compare: (a, b) => a.priority - b.priority,
 * });
 * jobs.putNowait({ priority: 2, name: "later" });
 * jobs.putNowait({ priority: 1, name: "first" });
 * jobs.putNowait({ priority: 2, name: "last" });
 * const order = [jobs.getNowait(), jobs.getNowait(), jobs.getNowait()].map((j) => j.name);
 * assert.deepEqual(order, ["first", "later", "last"]);
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
    const where = `Cannot create ${new.target.name}`;
    const maxSize = checkMaxSize(options, where);
    const compare = options?.compare ?? defaultCompare;
    checkFunction(compare, "compare", where, "bareNumber");
    const withHeap: StoreOption<T> = { maxSize, [STORE]: new PriorityStore(compare) };
    super(withHeap);
  }
}
