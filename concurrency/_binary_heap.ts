// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * A binary min-heap of nodes (internal), shared by the deadline heaps of the
 * clock and open to any other ordered store of the module (a priority queue).
 *
 * - Stable: nodes that compare equal leave in the order they were pushed
 *   (a per-heap sequence number breaks ties), so six `sleep(20)` started
 *   together wake in the order they were started (tests/clock_test.ts).
 * - Removal by handle in O(log n): each node carries its own index.
 * - If `compare` throws, the heap is put back exactly as it was before the
 *   call and the error propagates, so a failed push, pop or removal has no
 *   effect.
 *
 * @module
 */

/** What the heap needs on each node it holds. */
export interface HeapNode {
  /** Position in the heap; -1 when the node is not in one. */
  heapIndex: number;
  /** Push order, which breaks ties between equal nodes. */
  heapSeq: number;
}

/** A binary min-heap of nodes ordered by `compare`, ties in push order. */
export class BinaryHeap<N extends HeapNode> {
  readonly #nodes: N[] = [];
  readonly #compare: (a: N, b: N) => number;
  #seq = 0;

  /** @param compare Negative if `a` comes first, positive if `b` does. */
  constructor(compare: (a: N, b: N) => number) {
    this.#compare = compare;
  }

  /** Number of nodes in the heap. */
  get size(): number {
    return this.#nodes.length;
  }

  /** The first node, or `undefined` if the heap is empty. */
  peek(): N | undefined {
    return this.#nodes[0];
  }

  /** Adds `node` (which must not be in a heap). */
  push(node: N): void {
    const nodes = this.#nodes, end = nodes.length;
    node.heapSeq = this.#seq++;
    this.#place(node, end);
    try {
      this.#siftUp(node);
    } catch (err) {
      this.#place(node, node.heapIndex);
      this.#walkDownTo(node, end);
      nodes.pop();
      node.heapIndex = -1;
      throw err;
    }
  }

  /** Removes and returns the first node, or `undefined` if the heap is empty. */
  pop(): N | undefined {
    const top = this.#nodes[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `node` from the heap; a no-op if it is not in it. */
  remove(node: N): void {
    const nodes = this.#nodes, i = node.heapIndex;
    if (i < 0 || nodes[i] !== node) return;
    const last = nodes.pop()!;
    node.heapIndex = -1;
    if (last === node) return;
    this.#place(last, i);
    try {
      if (i > 0 && this.#before(last, nodes[(i - 1) >> 1])) this.#siftUp(last);
      else this.#siftDown(last);
    } catch (err) {
      // `last` moved along a chain of parent links from `i`: walk it back.
      this.#place(last, last.heapIndex);
      if (last.heapIndex < i) this.#walkDownTo(last, i);
      else this.#walkUpTo(last, i);
      this.#place(node, i);
      this.#place(last, nodes.length);
      throw err;
    }
  }

  #before(a: N, b: N): boolean {
    const c = this.#compare(a, b);
    return c < 0 || !(c > 0) && a.heapSeq < b.heapSeq;
  }

  #place(node: N, i: number): void {
    this.#nodes[i] = node;
    node.heapIndex = i;
  }

  #swap(node: N, other: N): void {
    const i = node.heapIndex;
    this.#place(node, other.heapIndex);
    this.#place(other, i);
  }

  // Both sifts move a hole rather than swapping: each displaced node is
  // written once, and `node` once, where the hole stops. Until then
  // `node.heapIndex` marks the hole, so that if `compare` throws, the
  // rollbacks above put `node` there and start from a whole heap. Swapping
  // made a 1,000-item PriorityQueue 1.5× slower (bench/README.md, 2026-12-05).
  #siftUp(node: N): void {
    const nodes = this.#nodes;
    let i = node.heapIndex;
    while (i > 0) {
      const p = (i - 1) >> 1, parent = nodes[p];
      if (!this.#before(node, parent)) break;
      this.#place(parent, i);
      node.heapIndex = i = p;
    }
    nodes[i] = node;
  }

  #siftDown(node: N): void {
    const nodes = this.#nodes, n = nodes.length;
    let i = node.heapIndex;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && this.#before(nodes[l + 1], nodes[l]) ? l + 1 : l, child = nodes[c];
      if (!this.#before(child, node)) break;
      this.#place(child, i);
      node.heapIndex = i = c;
    }
    nodes[i] = node;
  }

  /** Moves `node` back down the chain of ancestors of index `to` it went up. */
  #walkDownTo(node: N, to: number): void {
    const path: number[] = [];
    for (let j = to; j > node.heapIndex; j = (j - 1) >> 1) path.push(j);
    for (let k = path.length - 1; k >= 0; k--) this.#swap(node, this.#nodes[path[k]]);
  }

  /** Moves `node` back up to index `to`, an ancestor of where it is. */
  #walkUpTo(node: N, to: number): void {
    while (node.heapIndex > to) this.#swap(node, this.#nodes[(node.heapIndex - 1) >> 1]);
  }
}
