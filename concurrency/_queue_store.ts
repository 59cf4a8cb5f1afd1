// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Where `Queue` and `PriorityQueue` keep their items (internal): a ring
 * buffer for FIFO order and a binary heap for priority order. Both either
 * succeed or change nothing, so a failed put or get has no effect.
 *
 * @module
 */

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

interface HeapEntry<T> {
  item: T;
  seq: number;
}

/**
 * A binary min-heap; a sequence number breaks ties, so equal items leave in
 * insertion order. If `compare` throws, the heap is restored exactly as it
 * was, so a failed put or get has no effect.
 */
export class BinaryHeap<T> implements ItemStore<T> {
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
