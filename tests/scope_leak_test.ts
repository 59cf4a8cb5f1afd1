// Copyright 2026 the @lionpride/core authors. MIT license.
// Leak test for API.md §3: a long-lived scope running a million short child
// scopes must not keep anything of them.
//
// Run with `--v8-flags=--expose-gc` for the tight bound; without it the test
// measures without forcing a collection and uses a looser bound (a real leak
// of a million scopes would still be hundreds of MiB).
import assert from "node:assert/strict";
import { CancelScope, currentTime, effectiveDeadline, moveOnAfter } from "../mod.ts";
import { pendingDeadlines } from "../concurrency/clock.ts";

const MiB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
const BOUND = typeof gc === "function" ? 8 * MiB : 64 * MiB;

function heapUsed(): number {
  if (typeof gc === "function") {
    gc();
    gc();
  }
  return Deno.memoryUsage().heapUsed;
}

/** Runs `n` short scopes of several kinds, one after the other, in the ambient scope. */
async function churn(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    switch (i % 8) {
      case 0:
        sum += (await new CancelScope().run(() => 1)) ?? 0;
        break;
      case 1:
        sum += (await moveOnAfter(null, async () => {
          await null;
          return 1;
        })) ?? 0;
        break;
      case 2:
        // A deadline: an entry in the deadline heap.
        sum += (await new CancelScope({ deadline: currentTime() + 60_000 }).run(async () => {
          await null;
          return 1;
        })) ?? 0;
        break;
      case 3:
        sum += (await moveOnAfter(30_000, () => (effectiveDeadline() < Infinity ? 1 : 0))) ?? 0;
        break;
      case 4: {
        // Cancelled from inside, synchronously.
        const scope = new CancelScope();
        await scope.run((s) => s.cancel());
        sum += scope.cancelledCaught ? 1 : 0;
        break;
      }
      case 5: {
        // Cancelled while the body awaits: a bounded-exit timer is armed and cleared.
        const scope = new CancelScope({ deadline: currentTime() + 60_000 });
        await scope.run(async (s) => {
          s.cancel();
          await null;
        });
        sum += scope.cancelledCaught ? 1 : 0;
        break;
      }
      case 6: {
        // Nested scopes, the inner one reading its signal (the lazy AbortController).
        const v = await new CancelScope().run(() =>
          new CancelScope({ deadline: currentTime() + 10_000 }).run((
            s,
          ) => (s.signal.aborted ? 0 : 1))
        );
        sum += v ?? 0;
        break;
      }
      default:
        // A body that fails.
        sum += await new CancelScope().run(() => Promise.reject(new Error("x"))).then(
          () => 0,
          () => 1,
        );
    }
  }
  return sum;
}

Deno.test("a million short scopes under one long-lived scope leave the heap as they found it", async () => {
  const TOTAL = 1_000_000;
  const parent = new CancelScope({ deadline: currentTime() + 3_600_000 });
  let growth = NaN;
  let sum = 0;
  await parent.run(async () => {
    sum += await churn(20_000); // warm up the JIT and the allocator
    const before = heapUsed();
    sum += await churn(TOTAL - 20_000);
    growth = heapUsed() - before;
  });
  assert.equal(sum, TOTAL, "every scope ran");
  assert.equal(parent.cancelCalled, false);
  assert.equal(pendingDeadlines(), 0, "no deadline left in the heap");
  assert.ok(
    growth < BOUND,
    `heap grew by ${(growth / MiB).toFixed(2)} MiB (bound ${BOUND / MiB} MiB, gc ${
      typeof gc === "function"
    })`,
  );
});
