// Copyright 2026 the @lionpride/core authors. MIT license.
// Property test for API.md §3 (shield): in a random tree of running scopes,
// any sequence of cancels and shield changes leaves each scope cancelled
// exactly when Trio's rule says so.
import assert from "node:assert/strict";
import fc from "fast-check";
import { CancelScope } from "../mod.ts";
import { enterScope, exitScope, runInScope, scopeReason } from "../concurrency/cancel.ts";

type Op = { kind: "cancel"; node: number } | { kind: "shield"; node: number; value: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("cancel" as const), node: fc.nat() }),
  fc.record({ kind: fc.constant("shield" as const), node: fc.nat(), value: fc.boolean() }),
);

/** Trio's rule: cancelled = cancel() called, or (not shielded and the parent is cancelled). */
function modelCancelled(parents: number[], own: boolean[], shield: boolean[], i: number): boolean {
  for (let j = i; j >= 0; j = parents[j]) {
    if (own[j]) return true;
    if (shield[j]) return false;
  }
  return false;
}

Deno.test("cancels and shield changes in random trees of running scopes follow Trio's rule", () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
      fc.array(opArb, { maxLength: 30 }),
      (rawParents, ops) => {
        const parents = rawParents.map((p, i) => (i === 0 ? -1 : p % i));
        const scopes = parents.map(() => new CancelScope());
        parents.forEach((p, i) => {
          if (p < 0) enterScope(scopes[i]);
          else runInScope(scopes[p], () => enterScope(scopes[i]));
        });
        const own = parents.map(() => false), shield = parents.map(() => false);
        for (const op of ops) {
          const i = op.node % parents.length;
          if (op.kind === "cancel") {
            scopes[i].cancel();
            own[i] = true;
          } else {
            scopes[i].shield = op.value;
            shield[i] = op.value;
          }
          scopes.forEach((scope, j) => {
            const cancelled = modelCancelled(parents, own, shield, j);
            assert.equal(
              scopeReason(scope) !== undefined,
              cancelled,
              `scope ${j} after ${op.kind}`,
            );
            assert.equal(scope.signal.aborted, cancelled, `signal of scope ${j}`);
          });
        }
        for (let i = scopes.length - 1; i >= 0; i--) exitScope(scopes[i]);
      },
    ),
    { numRuns: 300 },
  );
});
