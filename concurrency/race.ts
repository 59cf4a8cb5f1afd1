// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `race`: the first function to settle wins; the others are cancelled.
 *
 * @module
 */

import { CancelScope } from "./cancel.ts";
import { checkTasks } from "./_validate.ts";
import { ItemSignals } from "./_item_signals.ts";

/**
 * Runs every function concurrently; the first to settle wins: `race`
 * resolves with its value or rejects with its error, and the others are
 * cancelled (their signal aborts and their ambient scope is cancelled).
 *
 * Like a {@linkcode CancelScope}, `race` waits for the losers to unwind (so
 * their `finally` blocks have run) but not beyond one macrotask turn after
 * the win: a loser that ignores its signal cannot hold the race up. The
 * losers' outcomes, values or errors, are discarded (never unhandled).
 *
 * @typeParam T The type of the values.
 * @param fns The contestants; each receives a signal of its own that aborts
 * when it has lost (or the caller is cancelled) and never once it has
 * settled, so the winner's (a `fetch` whose body is read later) stays alone.
 * @returns The winner's value.
 * @throws {Error} The winner's error, if the first to settle rejected.
 * @throws {CancelledError} If an enclosing scope was cancelled.
 * @throws {RangeError} If `fns` is empty (as a rejection).
 * @throws {TypeError} If `fns` is not an iterable of functions (as a rejection).
 *
 * @example Usage
 * ```ts
 * import { race, sleep } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * let loserAborted = false;
 * const winner = await race([
 *   async (signal) => {
 *     try {
 *       await sleep(1_000, { signal });
 *     } finally {
 *       loserAborted = signal.aborted;
 *     }
 *     return "slow";
 *   },
 *   async () => { await sleep(1); return "fast"; },
 * ]);
 * assert.equal(winner, "fast");
 * assert.ok(loserAborted);
 * ```
 */
export function race<T>(fns: Iterable<(signal: AbortSignal) => T | Promise<T>>): Promise<T>;
/**
 * Like the other overload, for contestants of different return types: the
 * value is typed as the union of their awaited return types.
 *
 * @typeParam F The type of the contestants.
 * @param fns The contestants.
 * @returns The winner's value.
 */
export function race<F extends (signal: AbortSignal) => unknown>(
  fns: Iterable<F>,
): Promise<Awaited<ReturnType<F>>>;
export function race<T>(fns: Iterable<(signal: AbortSignal) => T | Promise<T>>): Promise<T> {
  let list: Array<(signal: AbortSignal) => T | Promise<T>>;
  try {
    list = checkTasks(fns, "Cannot race");
    if (list.length === 0) {
      throw new RangeError("Cannot race: 'fns' must not be empty, received 0 functions");
    }
  } catch (err) {
    return Promise.reject(err);
  }
  return runRace(list);
}

async function runRace<T>(fns: Array<(signal: AbortSignal) => T | Promise<T>>): Promise<T> {
  let won = false, failed = false, outcome: unknown;
  // Each contestant has a signal of its own, so cancelling the losers leaves
  // the winner's alone: a fetch that won keeps a body that can be read.
  const signals = new ItemSignals();
  // The winner's outcome escapes through these variables, not through run():
  // run() would absorb a winner whose error is a cancellation.
  await new CancelScope().run((scope) =>
    new Promise<void>((allSettled) => {
      let pending = fns.length;
      const settle = (index: number, rejected: boolean, value: unknown): void => {
        signals.settle(index);
        if (!won) {
          won = true;
          failed = rejected;
          outcome = value;
          if (pending > 1) scope.cancel("Lost the race");
        }
        if (--pending === 0) allSettled();
      };
      const parent = scope.signal;
      for (let i = 0; i < fns.length; i++) {
        let result: unknown;
        try {
          result = fns[i](signals.open(i, parent));
        } catch (err) {
          result = Promise.reject(err);
        }
        Promise.resolve(result).then(
          (value) => settle(i, false, value),
          (err) => settle(i, true, err),
        );
      }
    })
  );
  if (failed) throw outcome;
  return outcome as T;
}
