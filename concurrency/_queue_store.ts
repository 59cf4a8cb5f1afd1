// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Where `Queue` and `PriorityQueue` keep their items (internal): a ring
 * buffer for FIFO order and, for priority order, the shared binary heap of
 * `_binary_heap.ts`. Both either succeed or change nothing, so a failed put or
 * get has no effect.
 *
 * @module
 */

import { BinaryHeap, type HeapNode } from "./_binary_heap.ts";

/** Where a queue keeps its items. Both methods either succeed or change nothing. */
export interface ItemStore<T> {
  readonly length: number;
  push(item: T): void;
  /** Removes the next item; the caller has checked that there is one. */
  shift(): T;
}

/** A growable ring buffer (capacity a power of two): O(1) push and shift. */
export class RingBuffer<T> implements ItemStore<T> {
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

interface PriorityEntry<T> extends HeapNode {
  readonly item: T;
}

type EntryCompare = (a: PriorityEntry<unknown>, b: PriorityEntry<unknown>) => number;

// One entry comparer per item comparer, shared by every queue made with it:
// a fresh closure per queue made V8 call it without inlining, and a 1,000-item
// PriorityQueue 1.2× slower than with the shared one (bench/README.md, 2026-12-05).
const entryCompares = new WeakMap<(a: never, b: never) => number, EntryCompare>();

function byItem<T>(
  compare: (a: T, b: T) => number,
): (a: PriorityEntry<T>, b: PriorityEntry<T>) => number {
  let byEntry = entryCompares.get(compare);
  if (byEntry === undefined) {
    const c = compare as (a: unknown, b: unknown) => number;
    byEntry = (a, b) => c(a.item, b.item);
    entryCompares.set(compare, byEntry);
  }
  return byEntry;
}

/**
 * Items in `compare` order on the module's one stable binary heap: equal
 * items leave in insertion order, and a `compare` that throws leaves the
 * heap as it was, so a failed put or get has no effect.
 */
export class PriorityStore<T> implements ItemStore<T> {
  readonly #heap: BinaryHeap<PriorityEntry<T>>;

  constructor(compare: (a: T, b: T) => number) {
    this.#heap = new BinaryHeap(byItem(compare));
  }

  get length(): number {
    return this.#heap.size;
  }

  push(item: T): void {
    this.#heap.push({ item, heapIndex: -1, heapSeq: 0 });
  }

  shift(): T {
    return this.#heap.pop()!.item;
  }
}
