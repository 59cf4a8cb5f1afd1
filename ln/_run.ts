// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * One run of `alcall` (or one batch of `bcall`, or the body of an
 * `alcallStream`), internal: the worker-pool job that starts each item
 * (through the attempt loop unless it needs none), keeps the books for
 * `onProgress`, and records final failures.
 *
 * @module
 */

import type { CancelScope } from "../concurrency/cancel.ts";
import { currentTime } from "../concurrency/clock.ts";
import { CancelledError, ExceptionGroup, isCancelled } from "../concurrency/errors.ts";
import { sleep } from "../concurrency/sleep.ts";
import { type AttemptPolicy, runAttempts } from "../concurrency/_attempt_loop.ts";
import { type PoolInput, type PoolJob, WorkerPool } from "../concurrency/_worker_pool.ts";
import { SignalLink } from "../concurrency/_signal_link.ts";
import type { ItemSignals } from "../concurrency/_item_signals.ts";
import { taskGroup } from "../concurrency/task_group.ts";
import type { AlcallProgress, CallContext, Plan } from "./_plan.ts";

/** The counts `onProgress` sees; one per call, shared by the batches of a `bcall`. */
export class Books {
  started = 0;
  succeeded = 0;
  failed = 0;
  retries = 0;
  running = 0;

  /**
   * @param total Items in all, or pulled so far from a lazy input.
   * @param limiter Reported as `limit` when given.
   */
  constructor(public total: number, readonly limiter: { totalTokens?: number } | undefined) {}

  /** A snapshot for `onProgress`. */
  snapshot(): AlcallProgress {
    const progress: AlcallProgress = {
      total: this.total,
      started: this.started,
      succeeded: this.succeeded,
      failed: this.failed,
      retries: this.retries,
      running: this.running,
    };
    if (this.limiter !== undefined) progress.limit = this.limiter.totalTokens;
    return progress;
  }
}

/**
 * Spaces item starts by `throttlePeriod` and holds the first back by
 * `delayBeforeStart`: one per call, so the batches of a `bcall` share it.
 */
export class StartGate {
  #nextStartAt = -Infinity;
  #first = true;

  constructor(readonly delayBeforeStart: number, readonly throttlePeriod: number) {}

  /** Waits for this start's slot (`undefined`: start now). */
  readonly wait = (): Promise<void> | undefined => {
    const now = currentTime();
    let at = this.#nextStartAt + this.throttlePeriod;
    if (this.#first) {
      this.#first = false;
      at = now + this.delayBeforeStart;
    }
    if (at < now) at = now;
    this.#nextStartAt = at;
    return at > now ? sleep(at - now) : undefined;
  };
}

/**
 * The `ctx` of one attempt. A class (not an object literal with a getter,
 * which V8 builds ~10× slower) whose signal is read lazily: most functions
 * never touch it, and a scope creates its AbortController on first use.
 */
class ItemContext implements CallContext {
  readonly #scope: CancelScope;
  readonly #own: ItemSignals | undefined;

  constructor(
    readonly index: number,
    readonly attempt: number,
    scope: CancelScope,
    own: ItemSignals | undefined,
  ) {
    this.#scope = scope;
    this.#own = own;
  }

  get signal(): AbortSignal {
    const own = this.#own;
    return own === undefined ? this.#scope.signal : own.open(this.index, this.#scope.signal);
  }
}

/** The attempt-loop policy of a plan; `onRetry` counts the retry. */
function policyOf(plan: Plan, onRetry: () => void): AttemptPolicy {
  return {
    attempts: plan.retryAttempts + 1,
    baseDelay: plan.retryInitialDelay,
    factor: plan.retryBackoff,
    maxDelay: Infinity,
    jitter: 0,
    retryOn: plan.retryOn,
    maxRetryAfter: plan.maxRetryAfter,
    attemptTimeout: plan.attemptTimeout,
    totalTimeout: plan.retryTimeout,
    limiter: plan.limiter,
    rateLimiter: plan.rateLimiter,
    onRetry,
    cancelledIsFinal: true,
    sleepsOnZero: false,
  };
}

/** The pool job of one run: its results, its failures and its books. */
export class Run<T, R> implements PoolJob<T> {
  readonly results: unknown[];
  /** Final failures (and `onProgress` errors), in the order they occurred. */
  readonly failures: unknown[] = [];
  /** Items of this run that succeeded or failed (cancelled ones never settle). */
  settledCount = 0;
  readonly stopped = false;
  scope: CancelScope | undefined = undefined;
  gate: (() => Promise<void> | undefined) | undefined;
  /** Called with each outcome that counts (alcallStream's output). */
  onOutcome: ((index: number, value: unknown) => void) | undefined = undefined;
  /** Keep the results (false for alcallStream, which hands them on and forgets them). */
  keep = true;
  /**
   * Set when results are handed out before the run ends (alcallStream): an
   * item that shares the call's scope reads a signal of its own from
   * `ctx.signal`, which leaving early does not abort once the item has ended.
   */
  itemSignals: ItemSignals | undefined = undefined;
  /** No retry, no timeout, no limiter: items share the call's scope and signal. */
  readonly #simple: boolean;
  readonly #policy: AttemptPolicy;
  readonly #lazy: boolean;

  constructor(
    readonly fn: (item: T, ctx: CallContext) => R | Promise<R>,
    readonly plan: Plan,
    readonly offset: number,
    readonly books: Books,
    startGate: StartGate | undefined,
    size: number | undefined,
  ) {
    this.results = size === undefined ? [] : new Array(size);
    this.#lazy = size === undefined;
    this.gate = startGate?.wait;
    this.#simple = plan.retryAttempts === 0 && plan.retryTimeout === undefined &&
      plan.attemptTimeout === undefined && plan.limiter === undefined &&
      plan.rateLimiter === undefined;
    this.#policy = policyOf(plan, () => {
      books.retries++;
      this.report();
    });
  }

  /** True once the call's scope is cancelled (a failure, the signal, or an outer scope). */
  get cancelled(): boolean {
    return this.scope!.signal.aborted;
  }

  report(): void {
    const { onProgress } = this.plan;
    if (onProgress === undefined) return;
    try {
      onProgress(this.books.snapshot());
    } catch (err) {
      // A bug in the callback is the call's failure, not an item's.
      this.stopWith(err);
    }
  }

  /** Records a failure of the call; the first cancels it. */
  stopWith(err: unknown): void {
    this.failures.push(err);
    if (this.failures.length === 1) this.scope!.cancel("alcall: an item failed");
  }

  start(item: T, index: number): unknown {
    const { books } = this;
    if (this.#lazy && this.offset + index >= books.total) books.total = this.offset + index + 1;
    books.started++;
    books.running++;
    this.report();
    // onProgress threw just now: the call has failed, so this item must not
    // run (its signal is aborted already); it ends as a cancelled item.
    if (this.failures.length !== 0) return Promise.reject(this.scope!.signal.reason);
    const fn = this.fn; // called without `this`
    if (this.#simple) {
      return fn(item, new ItemContext(index + this.offset, 1, this.scope!, this.itemSignals));
    }
    return this.#attempts(item, index + this.offset);
  }

  // Apart from `start`: a closure there would make V8 allocate its context
  // on every call, the simple ones included.
  #attempts(item: T, at: number): Promise<R> {
    const fn = this.fn;
    // An attempt with a scope of its own (attemptTimeout) has its own signal.
    const own = this.itemSignals, shared = this.scope;
    return runAttempts(
      (attempt, scope) =>
        fn(item, new ItemContext(at, attempt, scope!, scope === shared ? own : undefined)),
      this.#policy,
      this.scope,
      `item ${at}: `,
    );
  }

  settled(index: number, value: unknown): void {
    this.itemSignals?.settle(index + this.offset);
    if (this.keep) this.results[index] = value;
    this.settledCount++;
    this.books.succeeded++;
    this.books.running--;
    this.onOutcome?.(index, value);
    this.report();
  }

  failed(index: number, err: unknown): void {
    this.itemSignals?.settle(index + this.offset);
    this.books.running--;
    // A cancellation while the call is cancelled is not this item's failure.
    if (!(isCancelled(err) && this.cancelled)) this.#finalFailure(index, err);
    this.report();
  }

  #finalFailure(index: number, err: unknown): void {
    this.settledCount++;
    this.books.failed++;
    let value: unknown;
    if (this.plan.hasDefault && !isCancelled(err)) value = this.plan.retryDefault;
    else if (this.plan.returnExceptions) value = err;
    else return this.stopWith(err);
    if (this.keep) this.results[index] = value;
    this.onOutcome?.(index, value);
  }
}

/**
 * Runs `run` over `input` in a task group of its own, the `signal` option
 * linked to it, and returns the results in input order.
 *
 * @throws The input's own error (unwrapped), an `ExceptionGroup` of the
 * final failures, or the cancellation (the signal's reason, or an enclosing
 * scope's).
 */
export async function runAlcall<T, R>(run: Run<T, R>, input: PoolInput<T>): Promise<unknown[]> {
  const { signal } = run.plan;
  if (signal?.aborted) throw signal.reason;
  const link = new SignalLink(signal);
  const pool = new WorkerPool(input, run.plan.maxConcurrent, run);
  try {
    await taskGroup((tg) => {
      run.scope = tg.cancelScope;
      link.attach(tg.cancelScope);
      pool.launch(tg);
    });
  } finally {
    link.unlink();
    await pool.close();
  }
  if (pool.inputError !== undefined) throw pool.inputError.error;
  if (run.failures.length > 0) {
    throw new ExceptionGroup("alcall: items failed", run.failures);
  }
  // An abort during the call rejects it even if every item still settled
  // (items that ignore ctx.signal finish anyway): the caller asked to stop.
  if (link.aborted) throw link.reason;
  if (run.settledCount < pool.pulled) {
    // The call's own scope was cancelled before every item settled; only the
    // signal does that (an enclosing cancellation rejected above).
    if (signal?.aborted) throw signal.reason;
    throw run.scope!.signal.reason ?? new CancelledError("alcall was cancelled");
  }
  return run.results;
}

/** The start gate a plan asks for, if any. */
export function startGateOf(plan: Plan): StartGate | undefined {
  if (plan.delayBeforeStart === 0 && plan.throttlePeriod === 0) return undefined;
  return new StartGate(plan.delayBeforeStart, plan.throttlePeriod);
}
