// Copyright 2026 the @lionpride/core authors. MIT license.
import assert from "node:assert/strict";
import { toList } from "../mod.ts";

Deno.test("toList turns null and undefined into an empty list", () => {
  assert.deepEqual(toList(null), []);
  assert.deepEqual(toList(undefined), []);
  assert.deepEqual(toList(null, { flatten: true, dropna: true, unique: true }), []);
});

Deno.test("toList keeps a string whole, as one item", () => {
  assert.deepEqual(toList("abc"), ["abc"]);
  assert.deepEqual(toList(["ab", ["cd"]], { flatten: true }), ["ab", "cd"]);
  const boxed = new String("xy");
  assert.deepEqual(toList(boxed), [boxed]);
});

Deno.test("toList wraps a non-iterable value in a one-item list", () => {
  const obj = { a: 1 };
  const fn = () => 1;
  assert.deepEqual(toList(5), [5]);
  assert.deepEqual(toList(false), [false]);
  assert.equal(toList(obj)[0], obj);
  assert.equal(toList(fn)[0], fn);
});

Deno.test("toList returns a new array holding an array's items", () => {
  const input = [1, [2, 3], null];
  const out = toList(input);
  assert.deepEqual(out, [1, [2, 3], null]);
  assert.notEqual(out, input);
});

Deno.test("toList takes the items of any other iterable: Set, generator, Map entries", () => {
  assert.deepEqual(toList(new Set([1, 2, 2])), [1, 2]);
  function* gen() {
    yield "a";
    yield "b";
  }
  assert.deepEqual(toList(gen()), ["a", "b"]);
  assert.deepEqual(toList(new Map([["k", 1]])), [["k", 1]]);
  assert.deepEqual(toList(new Uint8Array([7, 8])), [7, 8]);
});

Deno.test("toList flattens nested arrays and iterables at every depth", () => {
  const nested = [1, [2, [3, [4, new Set([5, [6]])]]], "seven", [[[]]]];
  assert.deepEqual(toList(nested, { flatten: true }), [1, 2, 3, 4, 5, 6, "seven"]);
  // Without flatten, only one level is taken.
  assert.equal(toList(nested).length, 4);
});

Deno.test("toList flattens a 100,000-deep nesting without overflowing the stack", () => {
  let deep: unknown = ["bottom"];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.deepEqual(toList(deep, { flatten: true }), ["bottom"]);
});

Deno.test("toList refuses to flatten a list that contains itself", () => {
  const cyclic: unknown[] = [1];
  cyclic.push([cyclic]);
  assert.throws(() => toList(cyclic, { flatten: true }), TypeError);
});

/** An iterable named `name` over `items` that logs its closing, and throws at `throwAt`. */
function logged(name: string, items: unknown[], log: string[], throwAt = -1): Iterable<unknown> {
  return {
    [Symbol.iterator]() {
      let i = 0;
      return {
        next() {
          if (i === throwAt) throw new Error(`${name} failed`);
          return i < items.length
            ? { done: false, value: items[i++] }
            : { done: true, value: undefined };
        },
        return() {
          log.push(`${name} closed`);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

Deno.test("toList flatten, when a nested iterator throws, closes those around it but not that one (as for-of)", () => {
  const log: string[] = [];
  const inner = logged("inner", [1, 2], log, 1);
  assert.throws(() => toList(logged("outer", [inner, 3], log), { flatten: true }), /inner failed/);
  assert.deepEqual(log, ["outer closed"]);
  // The same nesting as two for-of loops.
  const expected: string[] = [];
  assert.throws(() => {
    for (const list of logged("outer", [logged("inner", [1, 2], expected, 1)], expected)) {
      for (const _ of list as Iterable<unknown>) { /* read */ }
    }
  });
  assert.deepEqual(expected, log);
});

Deno.test("toList flattens the same list met twice side by side (not a cycle)", () => {
  const shared = [1, 2];
  assert.deepEqual(toList([shared, [shared]], { flatten: true }), [1, 2, 1, 2]);
});

Deno.test("toList dropna removes null and undefined only, at every level when flattening", () => {
  const falsy = [0, "", false, NaN, null, undefined];
  assert.deepEqual(toList(falsy, { dropna: true }), [0, "", false, NaN]);
  assert.deepEqual(toList([1, [null, [undefined, 2]]], { flatten: true, dropna: true }), [1, 2]);
  // Without flatten, a nested list holding nulls is an item and stays as it is.
  assert.deepEqual(toList([[null], null], { dropna: true }), [[null]]);
});

Deno.test("toList unique uses SameValueZero for primitives and keeps the first", () => {
  assert.deepEqual(toList([1, "1", 1, NaN, NaN, 0, -0, 2], { unique: true }), [1, "1", NaN, 0, 2]);
  assert.ok(Object.is(toList([0, -0], { unique: true })[0], 0));
  assert.ok(Object.is(toList([-0, 0], { unique: true })[0], -0));
});

Deno.test("toList unique compares plain objects and arrays deeply and keeps the first", () => {
  const first = { a: 1, b: [1, { c: 2 }] };
  const second = { b: [1, { c: 2 }], a: 1 }; // same content, other key order
  const third = { a: 1, b: [1, { c: 3 }] };
  const out = toList([first, second, third, [1, 2], [1, 2], [2, 1]], { unique: true });
  assert.equal(out.length, 4);
  assert.equal(out[0], first);
  assert.equal(out[1], third);
  assert.deepEqual(out.slice(2), [[1, 2], [2, 1]]);
  const bare = Object.assign(Object.create(null), { a: 1 });
  assert.equal(toList([{ a: 1 }, bare], { unique: true }).length, 1);
  // Same keys, but one has an extra key: not equal.
  assert.equal(toList([{ a: 1 }, { a: 1, b: undefined }], { unique: true }).length, 2);
});

Deno.test("toList unique keeps distinct class instances and Dates (identity only)", () => {
  class Point {
    constructor(readonly x: number) {}
  }
  const p = new Point(1);
  const d = new Date(0);
  const out = toList([p, new Point(1), p, d, new Date(0), d], { unique: true });
  assert.equal(out.length, 4);
  assert.deepEqual(out.map((v) => v === p || v === d), [true, false, true, false]);
});

Deno.test("toList unique tells apart structures that differ only deeper than eight levels", () => {
  const nest = (leaf: number) => {
    let v: unknown = leaf;
    for (let i = 0; i < 12; i++) v = { v };
    return v;
  };
  assert.equal(toList([nest(1), nest(2), nest(1)], { unique: true }).length, 2);
});

Deno.test("toList unique terminates on cyclic structures", () => {
  const a: Record<string, unknown> = { n: 1 };
  a.self = a;
  const b: Record<string, unknown> = { n: 1 };
  b.self = b;
  const c: Record<string, unknown> = { n: 2 };
  c.self = c;
  assert.equal(toList([a, b, c], { unique: true }).length, 2);
});

Deno.test("toList applies flatten, then dropna, then unique", () => {
  const out = toList([1, [null, 1, [2, { a: 1 }]], { a: 1 }, undefined], {
    flatten: true,
    dropna: true,
    unique: true,
  });
  assert.deepEqual(out, [1, 2, { a: 1 }]);
});

Deno.test("toList rejects options of the wrong type, naming them", () => {
  assert.throws(() => toList([1], null as never), /'options' must be an object, received null/);
  assert.throws(() => toList([1], 3 as never), TypeError);
  for (const name of ["flatten", "dropna", "unique"]) {
    assert.throws(
      () => toList([1], { [name]: "yes" }),
      (err: unknown) =>
        err instanceof TypeError && err.message.includes(`'${name}'`) &&
        err.message.includes("received string"),
    );
  }
});
