// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The one worker pool (internal), shared by `gather`, `boundedMap`,
 * `asCompleted`, `alcall`, `bcall` and `alcallStream`: at most `limit`
 * children of a task group, each pulling its next item once it is done, from
 * an array, a sync iterator or an async iterator, so a huge or endless input
 * never becomes one promise per item and never sits in memory.
 *
 * A job says what to do with an item (`start`), what to do with its outcome
 * (`settled`, `failed`: throw there to fail the group), and may hold each
 * start back (`gate`: throttling, rate limits, a full output buffer).
 *
 * @module
 */

import type { TaskGroup } from "./task_group.ts";
import { Fifo } from "./_fifo.ts";

/** What the pool does with the items (internal). */
export interface PoolJob<I> {
  /** True once the job wants nothing more started or pulled. */
  readonly stopped: boolean;
  /** Starts item `index`: its value, or a promise of it. */
  start(item: I, index: number): unknown;
  /** Item `index` ended with `value`. */
  settled(index: number, value: unknown): void;
  /** Item `index` failed with `err`; throwing fails the group. */
  failed(index: number, err: unknown): void;
  /**
   * Awaited after an item is pulled, before it starts (`undefined`: start at
   * once). A rejection starts nothing more.
   */
  gate: (() => Promise<void> | undefined) | undefined;
}

/** Where the items come from. */
export type PoolInput<I> =
  | { readonly array: readonly I[] }
  | { readonly iterator: Iterator<I> }
  | { readonly asyncIterator: AsyncIterator<I> };

/**
 * Feeds the items of one input to at most `limit` workers in a task group.
 * An input that throws ends the pool: its error is kept in `inputError` and
 * the group is cancelled, so that the caller rejects with it unwrapped
 * (API.md §9) once the running items have unwound.
 */
export class WorkerPool<I> {
  /** The input is done (or threw): it must not be closed. */
  exhausted = false;
  /** What the input threw, unless the pool had stopped already. */
  inputError: { error: unknown } | undefined = undefined;
  /** Items pulled so far (their indexes are 0 … pulled - 1). */
  pulled = 0;
  readonly #input: PoolInput<I>;
  readonly #limit: number;
  readonly #job: PoolJob<I>;
  #group: TaskGroup | undefined = undefined;
  /**
   * With a finite limit each worker asks for its next item through its
   * `PullSlot`, and the pool keeps at most one `next()` in flight, handing
   * each result to the worker that asked first: no pump in between (2×
   * faster), and no queue of `next()` calls inside an async generator (V8
   * walks that queue on every call; see bench/README.md).
   */
  readonly #slots: PullSlot<I>[] = [];
  /** Slots waiting for the pull in flight to end. */
  readonly #asking = new Fifo<PullSlot<I>>();
  /** The slot whose `next()` is in flight. */
  #current: PullSlot<I> | undefined = undefined;
  /** The group was cancelled (a flag: `signal.aborted` costs too much per item). */
  #aborted = false;
  readonly #array: readonly I[] | undefined;
  readonly #iterator: Iterator<I> | undefined;
  readonly #asyncIterator: AsyncIterator<I> | undefined;

  constructor(
    input: PoolInput<I>,
    limit: number,
    job: PoolJob<I>,
  ) {
    this.#input = input;
    this.#limit = limit;
    this.#job = job;
    this.#array = "array" in input ? input.array : undefined;
    this.#iterator = "iterator" in input ? input.iterator : undefined;
    this.#asyncIterator = "asyncIterator" in input ? input.asyncIterator : undefined;
  }

  /** True once nothing more may start: the job stopped or the group was cancelled. */
  get halted(): boolean {
    return this.#aborted || this.#job.stopped;
  }

  /**
   * Starts the workers in `tg` (call it from the group's body).
   *
   * @param tg The task group the items run in.
   */
  launch(tg: TaskGroup): void {
    this.#group = tg;
    const input = this.#input;
    tg.signal.addEventListener("abort", this.#onAbort, { once: true });
    if ("array" in input) {
      const n = Math.min(this.#limit, input.array.length);
      for (let w = 0; w < n && !this.halted; w++) {
        const i = this.pulled++;
        tg.startSoon(this.#work, input.array[i], i);
      }
      return;
    }
    if ("iterator" in input) {
      for (let w = 0; w < this.#limit; w++) {
        const first = this.#pullSync(input.iterator);
        if (first === undefined) return;
        tg.startSoon(this.#work, first.value, this.pulled++);
      }
      return;
    }
    // Without a limit, one worker to begin with; each item pulled adds one.
    const workers = this.#limit === Infinity ? 1 : this.#limit;
    for (let w = 0; w < workers; w++) this.#spawn();
  }

  /**
   * Closes the input if the pool left it early (as for-of does). An error
   * from closing never replaces the one that stopped the pool. An async
   * input whose `next()` is still pending is closed without waiting.
   */
  async close(): Promise<void> {
    this.#group?.signal.removeEventListener("abort", this.#onAbort);
    if (this.exhausted) return;
    this.exhausted = true;
    const input = this.#input;
    try {
      if ("iterator" in input) input.iterator.return?.();
      else if ("asyncIterator" in input) {
        const closing = input.asyncIterator.return?.();
        if (this.#current === undefined) await closing;
        else Promise.resolve(closing).catch(() => {});
      }
    } catch { /* the error that stopped the pool wins */ }
  }

  #inputFailed(err: unknown): void {
    this.exhausted = true;
    // A pull in flight when the call began to fail or was cancelled: the
    // first reason stands.
    if (this.halted) return;
    this.inputError ??= { error: err };
    this.#group!.cancelScope.cancel("the input failed");
  }

  #pullSync(iterator: Iterator<I>): IteratorResult<I> | undefined {
    if (this.exhausted || this.halted) return undefined;
    let result: IteratorResult<I>;
    try {
      result = iterator.next();
    } catch (err) {
      this.#inputFailed(err);
      return undefined;
    }
    if (!result.done) return result;
    this.exhausted = true;
    return undefined;
  }

  /**
   * A worker: runs its item, then the next it pulls, until the input ends or
   * the pool halts. An async input's worker pulls first (`index` -1, `slot`
   * its pull slot).
   */
  readonly #work = async (item: I, index: number, slot = 0): Promise<void> => {
    const job = this.#job, array = this.#array, iterator = this.#iterator;
    for (;;) {
      if (index < 0) {
        let got: boolean;
        try {
          got = await this.#pullDirect(slot);
        } catch (err) {
          return this.#inputFailed(err);
        }
        // A failure or a cancellation may have halted the pool while the
        // input answered: the item it gave is not started.
        if (!got || this.halted) return;
        const pulled = this.#slots[slot];
        item = pulled.value;
        index = pulled.index;
      }
      if (job.gate !== undefined) {
        const wait = job.gate();
        if (wait !== undefined) {
          try {
            await wait;
          } catch {
            return;
          }
          if (this.halted) return;
        }
      }
      let ok = false, value: unknown;
      try {
        value = await job.start(item, index);
        ok = true;
      } catch (err) {
        job.failed(index, err);
      }
      if (ok) job.settled(index, value);
      if (array !== undefined) {
        if (this.pulled >= array.length || this.halted) return;
        index = this.pulled++;
        item = array[index];
      } else if (iterator !== undefined) {
        const next = this.#pullSync(iterator);
        if (next === undefined) return;
        item = next.value;
        index = this.pulled++;
      } else {
        index = -1;
      }
    }
  };

  /** Whether a worker's slot got its next item from an async input (false: done or cancelled). */
  #pullDirect(slot: number): Promise<boolean> {
    if (this.exhausted || this.halted) return Promise.resolve(false);
    return this.#slots[slot].pull();
  }

  /**
   * Called by a slot that waits for an item (internal to this file): its
   * `next()` starts now, or when the one in flight has ended.
   */
  ask(slot: PullSlot<I>): void {
    if (this.#current !== undefined) {
      this.#asking.push(slot);
      return;
    }
    this.#current = slot;
    let next: Promise<IteratorResult<I>>;
    try {
      next = Promise.resolve(this.#asyncIterator!.next());
    } catch (err) {
      next = Promise.reject(err);
    }
    next.then(this.#onPulled, this.#onPullFailed);
  }

  readonly #onPulled = (result: IteratorResult<I>): void => {
    const slot = this.#current!;
    this.#current = undefined;
    if (result.done) this.exhausted = true;
    slot.settle(result.done ? undefined : result.value, this);
    this.#askNext();
    // Without a limit nobody waits for a free worker: when no worker asks,
    // the next item gets a new one.
    if (
      this.#limit === Infinity && this.#current === undefined && !this.exhausted && !this.halted
    ) {
      this.#spawn();
    }
  };

  readonly #onPullFailed = (err: unknown): void => {
    const slot = this.#current!;
    this.#current = undefined;
    this.exhausted = true;
    slot.fail(err);
    this.#askNext();
  };

  /** The next waiting slot gets its `next()`, or `undefined` if the input ended. */
  #askNext(): void {
    while (this.#asking.size > 0) {
      const slot = this.#asking.shift();
      if (this.exhausted || this.halted) slot.abandon();
      else return this.ask(slot);
    }
  }

  /** Adds a worker for an async input, with its slot. */
  #spawn(): void {
    const slot = this.#slots.length;
    this.#slots.push(new PullSlot(this));
    this.#group!.startSoon(this.#work, undefined as I, -1, slot);
  }

  readonly #onAbort = (): void => {
    this.#aborted = true;
    // Leave a next() that may never settle; close() will not wait for it.
    for (const slot of this.#slots) slot.abandon();
  };
}

/**
 * One worker's requests for its next item, reused from request to request
 * so that a pull allocates only its promise (the allocation rate is what
 * sets the peak RSS on a long stream; see bench/README.md). A request can be
 * abandoned when the group is cancelled: its late result is dropped.
 */
class PullSlot<I> {
  #resolve: ((got: boolean) => void) | undefined = undefined;
  #reject: ((err: unknown) => void) | undefined = undefined;
  /**
   * The item pulled and its index, read by the worker before it asks again.
   * The promise resolves with a boolean, not with an object: resolving with
   * an object costs a `then` lookup per item (bench/README.md, streaming).
   */
  value: I = undefined as I;
  index = 0;

  constructor(readonly pool: WorkerPool<I>) {}

  pull(): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.pool.ask(this);
    });
  }

  /** Hands over the next item (none once the input is exhausted); in the order asked. */
  settle(value: I | undefined, pool: WorkerPool<I>): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return; // abandoned: a late result is dropped
    this.#resolve = this.#reject = undefined;
    if (pool.exhausted) return resolve(false);
    this.value = value as I;
    this.index = pool.pulled++;
    resolve(true);
  }

  fail(err: unknown): void {
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    reject?.(err);
  }

  /** Settles a request in flight with no item (cancelled, or the input ended). */
  abandon(): void {
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve?.(false);
  }
}
