// Copyright 2026 the @lionpride/core authors. MIT license.
// The process tests' own checkers (tests/_distributed_children.ts) on
// hand-made logs: each must find the violation it exists to find.

import assert from "node:assert/strict";
import { peakOverlap, type WorkerEvent, worstWindowExcess } from "./_distributed_children.ts";

const grant = (worker: number, at: number) => ({ worker, grant: at }) as WorkerEvent;
const release = (worker: number, at: number) => ({ worker, release: at }) as WorkerEvent;

Deno.test("peakOverlap finds six holders at once across workers, whatever order the logs come in", () => {
  // Staggered holders: all six hold during [5, 10) only.
  const events: WorkerEvent[] = [];
  for (let i = 0; i < 6; i++) events.push(grant(i % 3, i), release(i % 3, 10 + i));
  assert.equal(peakOverlap(events), 6);
  // Worker by worker (as runWorkers concatenates them), releases before grants.
  const byWorker = [...events].sort((a, b) => a.worker - b.worker || ("release" in a ? -1 : 1));
  assert.equal(peakOverlap(byWorker), 6);
  // Five of them in one chain of hand-offs, the sixth overlapping one link.
  const chain = [grant(0, 0), release(0, 1), grant(1, 1), release(1, 2), grant(2, 1.5)];
  assert.equal(peakOverlap(chain), 2);
});

Deno.test("peakOverlap counts a holder whose release was never logged (a killed worker) to the end", () => {
  const events = [grant(0, 0), grant(1, 1), release(1, 2), grant(2, 3), release(2, 4)];
  assert.equal(peakOverlap(events), 2);
});

Deno.test("worstWindowExcess finds a window over burst + rate * t from any start point", () => {
  // Burst 5 at 0.1 per ms: seven in 10 ms is one over (5 + 1 allowed).
  assert.ok(worstWindowExcess([0, 1, 2, 3, 4, 5, 10], 5, 0.1, 0) > 0);
  // Spread out, then seven in 6 ms: only windows starting at 300 see it.
  const late = [0, 100, 200, 300, 301, 302, 303, 304, 305, 306];
  assert.ok(Math.abs(worstWindowExcess(late, 5, 0.1, 0) - (7 - 5.6)) < 1e-9);
  // In any order.
  assert.ok(worstWindowExcess([...late].reverse(), 5, 0.1, 0) > 1);
});

Deno.test("worstWindowExcess takes t as the window's length: burst + rate * t exactly is no violation", () => {
  assert.equal(worstWindowExcess([0, 0, 0, 0, 0, 10], 5, 0.1, 0), 0);
  assert.ok(worstWindowExcess([0, 0, 0, 0, 0, 9.5], 5, 0.1, 0) > 0);
  // The slack lengthens every window by itself.
  assert.equal(worstWindowExcess([0, 0, 0, 0, 0, 5], 5, 0.1, 5), 0);
});
