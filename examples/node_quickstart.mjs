// Copyright 2026 the @lionpride/core authors. MIT license.
// Quickstart for Node (>= 22) and Bun, after `npx jsr add @lionpride/core`
// (or `bunx jsr add @lionpride/core`):
//
//   node node_quickstart.mjs
//
// CI runs it against the package built from this repository (.ci/xrt/run_all.sh).
import assert from "node:assert/strict";
import { alcall, failAfter, sleep, taskGroup, TimeoutError } from "@lionpride/core";

// 1. Call a flaky function for a list of items: at most 2 at a time, one retry each.
const seen = new Map();
const doubled = await alcall([1, 2, 3, 4], async (n) => {
  const tries = (seen.get(n) ?? 0) + 1;
  seen.set(n, tries);
  if (n === 3 && tries === 1) throw new Error("flaky once");
  await sleep(5);
  return n * 2;
}, { maxConcurrent: 2, retryAttempts: 1 });
assert.deepEqual(doubled, [2, 4, 6, 8]);
assert.equal(seen.get(3), 2);

// 2. Give a slow call a time budget.
await assert.rejects(
  failAfter(20, () => sleep(10_000)),
  (err) => err instanceof TimeoutError,
);

// 3. Run tasks together; the first failure cancels the others.
let cancelledSibling = false;
await assert.rejects(
  taskGroup((tg) => {
    tg.startSoon(async () => {
      try {
        await sleep(10_000);
      } catch (err) {
        cancelledSibling = true;
        throw err;
      }
    });
    tg.startSoon(async () => {
      await sleep(5);
      throw new Error("boom");
    });
  }),
  (err) => err.exceptions?.length === 1 && err.exceptions[0].message === "boom",
);
assert.equal(cancelledSibling, true);

const runtime = globalThis.Bun ? `Bun ${globalThis.Bun.version}` : `Node ${process.versions.node}`;
console.log(`quickstart ok on ${runtime}: alcall ${JSON.stringify(doubled)}, failAfter, taskGroup`);
