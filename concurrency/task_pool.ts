// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The worker pool shared by `gather`, `boundedMap` and `asCompleted` (internal): at most
 * `limit` children of a task group, each pulling its next item from an iterator.
 *
 * @module
 */

import { ExceptionGroup } from "./errors.ts";
import { type TaskGroup, taskGroup } from "./task_group.ts";

/**
 * Feeds the items of `iterator` to at most `limit` children of `tg`, each
 * pulling its next item once it is done, so a huge input never becomes one
 * promise per item. `onResult` receives every outcome that counts.
 */
export class Feeder<I> {
  /** True once the iterator is done (or threw): it must not be closed then. */
  exhausted = false;
  /** True once a failure counts: stop pulling and drop later results. */
  stopped = false;
  #next = 0;
  #iterator: Iterator<I>;
  #signal: AbortSignal;
  #call: (item: I, index: number, signal: AbortSignal) => unknown;
  #onResult: (index: number, value: unknown) => void;
  #returnExceptions: boolean;

  constructor(
    tg: TaskGroup,
    iterator: Iterator<I>,
    limit: number,
    call: (item: I, index: number, signal: AbortSignal) => unknown,
    onResult: (index: number, value: unknown) => void,
    returnExceptions: boolean,
  ) {
    this.#iterator = iterator;
    this.#signal = tg.signal;
    this.#call = call;
    this.#onResult = onResult;
    this.#returnExceptions = returnExceptions;
    for (let workers = 0; workers < limit; workers++) {
      const first = this.#pull();
      if (first === undefined) break;
      tg.startSoon(this.#work, first.value, this.#next++);
    }
  }

  #pull(): IteratorResult<I> | undefined {
    if (this.exhausted || this.stopped || this.#signal.aborted) return undefined;
    this.exhausted = true; // until next() returns: a throwing iterator is done
    const result = this.#iterator.next();
    if (result.done) return undefined;
    this.exhausted = false;
    return result;
  }

  readonly #work = async (item: I, index: number): Promise<void> => {
    const signal = this.#signal;
    for (;;) {
      try {
        const value = await this.#call(item, index, signal);
        if (!this.stopped) this.#onResult(index, value);
      } catch (err) {
        if (!this.#returnExceptions) {
          // The group sees the failure a microtask later: until then, stop
          // starting and counting here.
          this.stopped = true;
          throw err;
        }
        this.#onResult(index, err);
      }
      const next = this.#pull();
      if (next === undefined) return;
      item = next.value;
      index = this.#next++;
    }
  };
}

export function regroup(err: unknown, where: string): unknown {
  if (!(err instanceof ExceptionGroup)) return err;
  const n = err.exceptions.length;
  return new ExceptionGroup(`${where}: ${n} task${n === 1 ? "" : "s"} failed`, err.exceptions);
}

export const callTask = (
  fn: (signal: AbortSignal) => unknown,
  _index: number,
  signal: AbortSignal,
) => fn(signal);

export async function collect(
  iterator: Iterator<unknown>,
  call: (item: unknown, index: number, signal: AbortSignal) => unknown,
  limit: number,
  returnExceptions: boolean,
  where: string,
): Promise<unknown[]> {
  const results: unknown[] = [];
  const store = (index: number, value: unknown): void => {
    results[index] = value;
  };
  let feeder: Feeder<unknown> | undefined;
  try {
    await taskGroup((tg) => {
      feeder = new Feeder(tg, iterator, limit, call, store, returnExceptions);
    });
  } catch (err) {
    throw regroup(err, where);
  } finally {
    // Only a failure or a cancellation stops the map early; as in for-of, an
    // error from closing the iterator does not replace it.
    if (feeder === undefined || !feeder.exhausted) {
      try {
        iterator.return?.();
      } catch { /* the error that stopped the map wins */ }
    }
  }
  return results;
}
