// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §7: chunks.
import assert from "node:assert/strict";
import { chunks } from "../mod.ts";

Deno.test("chunks splits a list into slices of size, the last one shorter", () => {
  assert.deepEqual([...chunks([1, 2, 3, 4, 5], 2)], [[1, 2], [3, 4], [5]]);
  assert.deepEqual([...chunks([1, 2, 3], 3)], [[1, 2, 3]]);
  assert.deepEqual([...chunks([1, 2], 10)], [[1, 2]]);
  assert.deepEqual([...chunks([], 4)], []);
});

Deno.test("chunks yields fresh arrays that do not alias the input", () => {
  const items = [1, 2, 3];
  const [first] = chunks(items, 2);
  first.push(99);
  assert.deepEqual(items, [1, 2, 3]);
});

Deno.test("chunks validates its arguments when called, not when iterated", () => {
  assert.throws(
    () => chunks([1], 0),
    (e: unknown) => e instanceof RangeError && /'size'.*0/.test(e.message),
  );
  assert.throws(() => chunks([1], 1.5), RangeError);
  assert.throws(() => chunks([1], NaN), RangeError);
  assert.throws(() => chunks([1], "2" as unknown as number), TypeError);
  assert.throws(
    () => chunks("abc" as unknown as string[], 1),
    (e: unknown) => e instanceof TypeError && /'items'.*string/.test(e.message),
  );
});
