// Copyright 2026 the @lionpride/core authors. MIT license.
// Property test for API.md §3 (shield, deadlines): in a random tree of running
// scopes on fake time, any sequence of cancels, shield changes, deadlines moved
// earlier or later (or into the past), clock ticks and normal exits of scopes
// (whose children pass to the parent) leaves every scope cancelled exactly
// when Trio's rule says, with Trio's `cancel_called` and the effective
// deadline of the unshielded chain.
import assert from "node:assert/strict";
import fc from "fast-check";
import { CancelScope, currentTime, effectiveDeadline } from "../mod.ts";
import { enterScope, exitScope, runInScope, scopeReason } from "../concurrency/cancel.ts";
import { withFakeTime } from "./_fake_time.ts";

type TreeOp =
  | { kind: "cancel"; node: number }
  | { kind: "shield"; node: number; value: boolean }
  | { kind: "deadline"; node: number; offset: number | null }
  | { kind: "tick"; ms: number }
  | { kind: "exit"; node: number };

const treeOpArb: fc.Arbitrary<TreeOp> = fc.oneof(
  fc.record({ kind: fc.constant("cancel" as const), node: fc.nat() }),
  fc.record({ kind: fc.constant("shield" as const), node: fc.nat(), value: fc.boolean() }),
  fc.record({
    kind: fc.constant("deadline" as const),
    node: fc.nat(),
    offset: fc.option(fc.integer({ min: -3, max: 6 }), { freq: 5 }),
  }),
  fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("exit" as const), node: fc.nat() }),
);

Deno.test("cancels, shields, moved deadlines, ticks and exits in random scope trees follow Trio's rules", async () => {
  await withFakeTime((clock) => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        fc.array(treeOpArb, { maxLength: 40 }),
        (rawParents, ops) => {
          const n = rawParents.length;
          const parents = rawParents.map((p, i) => (i === 0 ? -1 : p % i));
          const scopes = parents.map(() => new CancelScope());
          parents.forEach((p, i) => {
            if (p < 0) enterScope(scopes[i]);
            else runInScope(scopes[p], () => enterScope(scopes[i]));
          });
          const own = parents.map(() => false), shielded = parents.map(() => false);
          const deadline = parents.map(() => Infinity), live = parents.map(() => true);
          const cancelled = (i: number): boolean => {
            for (let j = i; j >= 0; j = parents[j]) {
              if (own[j]) return true;
              if (shielded[j]) return false;
            }
            return false;
          };
          const effective = (i: number): number => {
            if (cancelled(i)) return -Infinity;
            let d = Infinity;
            for (let j = i; j >= 0; j = parents[j]) {
              d = Math.min(d, deadline[j]);
              if (shielded[j]) break;
            }
            return d;
          };
          const reached = (): void => {
            const now = currentTime();
            for (let j = 0; j < n; j++) if (live[j] && deadline[j] <= now) own[j] = true;
          };
          for (const op of ops) {
            if (op.kind === "tick") {
              clock.tick(op.ms);
            } else {
              const i = op.node % n;
              if (!live[i]) continue;
              if (op.kind === "cancel") {
                scopes[i].cancel();
                own[i] = true;
              } else if (op.kind === "shield") {
                scopes[i].shield = op.value;
                shielded[i] = op.value;
              } else if (op.kind === "deadline") {
                const value = op.offset === null ? Infinity : currentTime() + op.offset;
                scopes[i].deadline = value;
                deadline[i] = value;
              } else {
                if (cancelled(i)) continue; // only normal exits hand children on
                exitScope(scopes[i]);
                live[i] = false;
                parents.forEach((p, c) => {
                  if (p === i) parents[c] = parents[i];
                });
              }
            }
            reached();
            scopes.forEach((scope, j) => {
              if (!live[j]) return;
              const what = `scope ${j} after ${JSON.stringify(op)}`;
              assert.equal(scopeReason(scope) !== undefined, cancelled(j), what);
              assert.equal(scope.signal.aborted, cancelled(j), `signal of ${what}`);
              assert.equal(scope.cancelCalled, own[j], `cancelCalled of ${what}`);
              assert.equal(
                runInScope(scope, effectiveDeadline),
                effective(j),
                `deadline of ${what}`,
              );
            });
          }
          for (let i = n - 1; i >= 0; i--) if (live[i]) exitScope(scopes[i]);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
