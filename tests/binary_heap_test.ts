// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for the internal binary heap shared by the deadline heaps (and open to PriorityQueue).
import assert from "node:assert/strict";
import fc from "fast-check";
import { BinaryHeap, type HeapNode } from "../concurrency/_binary_heap.ts";

interface Node extends HeapNode {
  key: number;
  id: number;
}

function node(key: number, id: number): Node {
  return { key, id, heapIndex: -1, heapSeq: 0 };
}

Deno.test("the heap pops in key order, equal keys in push order", () => {
  const heap = new BinaryHeap<Node>((a, b) => a.key - b.key);
  const keys = [3, 1, 2, 1, 3, 1, 2];
  keys.forEach((k, id) => heap.push(node(k, id)));
  const out: number[] = [];
  for (let n = heap.pop(); n !== undefined; n = heap.pop()) out.push(n.id);
  assert.deepEqual(out, [1, 3, 5, 2, 6, 0, 4]);
  assert.equal(heap.size, 0);
});

Deno.test("removing a node by its handle keeps the order of the rest", () => {
  const heap = new BinaryHeap<Node>((a, b) => a.key - b.key);
  const nodes = [5, 4, 3, 2, 1, 0].map((k, id) => node(k, id));
  for (const n of nodes) heap.push(n);
  heap.remove(nodes[2]);
  heap.remove(nodes[2]); // a second removal is a no-op
  assert.equal(nodes[2].heapIndex, -1);
  const out: number[] = [];
  for (let n = heap.pop(); n !== undefined; n = heap.pop()) out.push(n.key);
  assert.deepEqual(out, [0, 1, 2, 4, 5]);
});

type Op =
  | { kind: "push"; key: number; poison: boolean }
  | { kind: "pop"; poison: boolean }
  | { kind: "remove"; pick: number; poison: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("push" as const),
    key: fc.integer({ min: 0, max: 5 }),
    poison: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("pop" as const), poison: fc.boolean() }),
  fc.record({ kind: fc.constant("remove" as const), pick: fc.nat(), poison: fc.boolean() }),
);

Deno.test("the heap matches a stable sorted list, and a throwing compare changes nothing", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 80 }), fc.nat(), (ops, seed) => {
      let poison = false, calls = 0;
      const heap = new BinaryHeap<Node>((a, b) => {
        // A poisoned operation throws on one of its comparisons, picked by the seed.
        if (poison && ++calls > seed % 4) throw new Error("compare failed");
        return a.key - b.key;
      });
      let model: Node[] = []; // sorted by key, then push order
      let id = 0;
      for (const op of ops) {
        poison = op.poison;
        calls = 0;
        const before = model.slice();
        try {
          if (op.kind === "push") {
            const n = node(op.key, id++);
            heap.push(n);
            model.push(n);
            model.sort((a, b) => a.key - b.key || a.id - b.id);
          } else if (op.kind === "pop") {
            assert.equal(heap.pop(), model.shift());
          } else if (model.length > 0) {
            const n = model[op.pick % model.length];
            heap.remove(n);
            model = model.filter((m) => m !== n);
          }
        } catch (err) {
          assert.equal((err as Error).message, "compare failed");
          model = before;
        }
        poison = false;
        assert.equal(heap.size, model.length);
        assert.equal(heap.peek(), model[0]);
      }
      const out: Node[] = [];
      for (let n = heap.pop(); n !== undefined; n = heap.pop()) out.push(n);
      assert.deepEqual(out.map((n) => n.id), model.map((n) => n.id));
    }),
    { numRuns: 500 },
  );
});
