// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Review of the in-process synchronisation primitives (API.md §5, §6):
 * borrowers of a CapacityLimiter, cancellation (signal, scope, deadline) at
 * every turn of every blocking call, and reference models of the parts the
 * earlier property tests leave out.
 */
import assert from "node:assert/strict";
import { CancelScope, CapacityLimiter } from "../mod.ts";
import { flush, track } from "./_helpers.ts";

// --------------------------------------------------------------------------
// Borrowers: a borrower stops waiting the moment its wait is cancelled.

Deno.test("a borrower whose wait was just aborted may acquire again at once", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  const first = track(limiter.acquireOnBehalfOf("b", { signal: controller.signal }));
  await flush();
  controller.abort(new Error("abort"));
  assert.equal(limiter.waiting, 0);
  // Same tick: the first wait is over, so "b" neither holds nor waits for a token.
  const again = track(limiter.acquireOnBehalfOf("b"));
  await flush();
  assert.equal(first.rejected, true);
  assert.equal(again.rejected, false, String(again.error));
  assert.equal(limiter.waiting, 1);
  held.release();
  await flush();
  assert.equal(again.settled, true);
  limiter.releaseOnBehalfOf("b");
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("a borrower whose wait was just cancelled by its scope may acquire again at once", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const scope = new CancelScope();
  const run = scope.run(() => limiter.acquireOnBehalfOf("b"));
  await flush();
  scope.cancel();
  const again = track(limiter.acquireOnBehalfOf("b"));
  await flush();
  assert.equal(again.rejected, false, String(again.error));
  held.release();
  await flush();
  assert.equal(again.settled, true);
  limiter.releaseOnBehalfOf("b");
  assert.equal(limiter.borrowedTokens, 0);
  assert.equal(await run, undefined);
});

Deno.test("a borrower aborted as it is handed a token may acquire again as soon as the token passed on", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const controller = new AbortController();
  const first = track(limiter.acquireOnBehalfOf("b", { signal: controller.signal }));
  await flush();
  held.release(); // handed to "b"...
  controller.abort(); // ...which is cancelled before it resumes
  await Promise.resolve(); // the hand-off job ran: the token is free again
  assert.equal(limiter.borrowedTokens, 0);
  const again = track(limiter.acquireOnBehalfOf("b"));
  await flush();
  assert.equal(first.rejected, true);
  assert.equal(again.rejected, false, String(again.error));
  assert.equal(again.settled, true);
  limiter.releaseOnBehalfOf("b");
  assert.equal(limiter.borrowedTokens, 0);
});
