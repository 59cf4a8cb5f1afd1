// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `alcall`: apply a function to every item of a list with bounded
 * concurrency, throttling, timeouts and retries, results in input order.
 *
 * @module
 */

import { type CancelScope, scopeReason } from "../concurrency/cancel.ts";
import { currentTime } from "../concurrency/clock.ts";
import {
  CancelledError,
  describeReceived,
  ExceptionGroup,
  isCancelled,
} from "../concurrency/errors.ts";
import { sleep } from "../concurrency/sleep.ts";
import { type TaskGroup, taskGroup } from "../concurrency/task_group.ts";
import { failAfter } from "../concurrency/timeouts.ts";
import { retryAllowed } from "../concurrency/retry.ts";
import { checkBoolean, isListLike, listItems, UniqueFilter } from "./to_list.ts";

/** What the function given to {@linkcode alcall} receives beside the item. */
export interface CallContext {
  /** The item's index in the input. */
  readonly index: number;
  /** The attempt number, 1-based. */
  readonly attempt: number;
  /** Aborts when this attempt is cancelled (timeout, another item's failure, outer cancellation). */
  readonly signal: AbortSignal;
}

/** Counts reported to `onProgress`. */
export interface AlcallProgress {
  /** Items in all. */
  total: number;
  /** Items started. */
  started: number;
  /** Items that succeeded. */
  succeeded: number;
  /** Items whose every attempt failed (even if `retryDefault` stood in). */
  failed: number;
  /** Retries made so far, over all items. */
  retries: number;
  /** Items running now. */
  running: number;
}

/** Options of {@linkcode alcall}; every one is optional. */
export interface AlcallOptions<R = unknown> {
  /** Most items running at once (positive integer or Infinity; default unlimited). */
  maxConcurrent?: number;
  /** Milliseconds between two item starts. */
  throttlePeriod?: number;
  /** Milliseconds to wait before the first start. */
  delayBeforeStart?: number;
  /** Retries after the first attempt (default 0). */
  retryAttempts?: number;
  /** Milliseconds before the first retry (default 0). */
  retryInitialDelay?: number;
  /** Multiplier of the delay for each further retry (default 1). */
  retryBackoff?: number;
  /**
   * Value used for an item that failed (every attempt failed, its error is
   * not retryable, or its `retryTimeout` ran out) instead of failing; never
   * for a cancellation. `undefined` means none.
   */
  retryDefault?: R;
  /** Which errors to retry (default: everything but cancellation). */
  retryOn?: (err: unknown) => boolean;
  /** Milliseconds budget per item, covering all attempts and backoff sleeps (Infinity: none). */
  retryTimeout?: number;
  /** Milliseconds per attempt; a timed-out attempt counts as a failed attempt (Infinity: none). */
  attemptTimeout?: number;
  /** Put each failure at its index instead of rejecting. */
  returnExceptions?: boolean;
  /** Flatten the input (as `toList`). */
  inputFlatten?: boolean;
  /** Drop `null`/`undefined` input items. */
  inputDropna?: boolean;
  /** Drop duplicate input items. */
  inputUnique?: boolean;
  /** Flatten the output. */
  outputFlatten?: boolean;
  /** Drop `null`/`undefined` results. */
  outputDropna?: boolean;
  /** Drop duplicate results. */
  outputUnique?: boolean;
  /** Cancels the whole call when it aborts. */
  signal?: AbortSignal;
  /** Called on every change of the counts. */
  onProgress?: (progress: AlcallProgress) => void;
}

/** Validated options with defaults (internal; shared with `bcall`). */
export interface Plan {
  maxConcurrent: number;
  throttlePeriod: number;
  delayBeforeStart: number;
  retryAttempts: number;
  retryInitialDelay: number;
  retryBackoff: number;
  hasDefault: boolean;
  retryDefault: unknown;
  retryOn: ((err: unknown) => boolean) | undefined;
  retryTimeout: number | undefined;
  attemptTimeout: number | undefined;
  returnExceptions: boolean;
  inputFlatten: boolean;
  inputDropna: boolean;
  inputUnique: boolean;
  outputFlatten: boolean;
  outputDropna: boolean;
  outputUnique: boolean;
  signal: AbortSignal | undefined;
  onProgress: ((progress: AlcallProgress) => void) | undefined;
}

function numberOption(
  o: Record<string, unknown>,
  name: string,
  fallback: number,
  ok: (v: number) => boolean,
  expected: string,
  where: string,
): number {
  const value = o[name];
  if (value === undefined) return fallback;
  const message = `${where}: '${name}' must be ${expected}, received ${describeReceived(value)}`;
  if (typeof value !== "number") throw new TypeError(message);
  if (!ok(value)) throw new RangeError(message);
  return value;
}

const finiteNonNegative = (v: number): boolean => v >= 0 && v !== Infinity;
const positiveOrInfinity = (v: number): boolean => v > 0;

/**
 * Validates `options` and fills in the defaults (internal; shared with `bcall`).
 *
 * @throws {TypeError} If `options` or an option has the wrong type.
 * @throws {RangeError} If an option is out of range.
 */
export function planOf(options: AlcallOptions | undefined, where = "Cannot call alcall"): Plan {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(
      `${where}: 'options' must be an object, received ${describeReceived(options)}`,
    );
  }
  const o = (options ?? {}) as Record<string, unknown>;
  for (const name of ["retryOn", "onProgress"]) {
    if (o[name] !== undefined && typeof o[name] !== "function") {
      throw new TypeError(
        `${where}: '${name}' must be a function, received ${describeReceived(o[name])}`,
      );
    }
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(
      `${where}: 'signal' must be an AbortSignal, received ${describeReceived(o.signal)}`,
    );
  }
  const timeout = (name: string): number | undefined => {
    const ms = numberOption(o, name, Infinity, positiveOrInfinity, "a number > 0", where);
    return ms === Infinity ? undefined : ms;
  };
  const finite = (name: string, fallback: number): number =>
    numberOption(o, name, fallback, finiteNonNegative, "a finite number >= 0", where);
  return {
    maxConcurrent: numberOption(
      o,
      "maxConcurrent",
      Infinity,
      (v) => v === Infinity || Number.isInteger(v) && v >= 1,
      "a positive integer or Infinity",
      where,
    ),
    throttlePeriod: finite("throttlePeriod", 0),
    delayBeforeStart: finite("delayBeforeStart", 0),
    retryAttempts: numberOption(
      o,
      "retryAttempts",
      0,
      (v) => Number.isInteger(v) && v >= 0,
      "a non-negative integer",
      where,
    ),
    retryInitialDelay: finite("retryInitialDelay", 0),
    retryBackoff: finite("retryBackoff", 1),
    hasDefault: o.retryDefault !== undefined,
    retryDefault: o.retryDefault,
    retryOn: o.retryOn as Plan["retryOn"],
    retryTimeout: timeout("retryTimeout"),
    attemptTimeout: timeout("attemptTimeout"),
    returnExceptions: checkBoolean(o.returnExceptions, "returnExceptions", where),
    inputFlatten: checkBoolean(o.inputFlatten, "inputFlatten", where),
    inputDropna: checkBoolean(o.inputDropna, "inputDropna", where),
    inputUnique: checkBoolean(o.inputUnique, "inputUnique", where),
    outputFlatten: checkBoolean(o.outputFlatten, "outputFlatten", where),
    outputDropna: checkBoolean(o.outputDropna, "outputDropna", where),
    outputUnique: checkBoolean(o.outputUnique, "outputUnique", where),
    signal: o.signal as AbortSignal | undefined,
    onProgress: o.onProgress as Plan["onProgress"],
  };
}

function collect(
  list: Iterable<unknown>,
  flatten: boolean,
  dropna: boolean,
  unique: boolean,
): unknown[] {
  const out: unknown[] = [];
  const filter = unique ? new UniqueFilter() : undefined;
  for (const v of listItems(list, flatten, dropna)) {
    if (filter === undefined || filter.add(v)) out.push(v);
  }
  return out;
}

/**
 * The items `alcall` works on: a snapshot of `input` (a string or
 * non-iterable, `null` included, is one item), shaped by the input options
 * (internal; shared with `bcall`).
 */
export function itemsOf(input: unknown, plan: Plan): unknown[] {
  const list = isListLike(input) ? input : [input];
  if (!plan.inputFlatten && !plan.inputDropna && !plan.inputUnique) {
    return Array.isArray(list) ? list.slice() : Array.from(list);
  }
  return collect(list, plan.inputFlatten, plan.inputDropna, plan.inputUnique);
}

/** Applies the output options (internal; shared with `bcall`). */
export function shapeOutput(results: unknown[], plan: Plan): unknown[] {
  if (!plan.outputFlatten && !plan.outputDropna && !plan.outputUnique) return results;
  return collect(results, plan.outputFlatten, plan.outputDropna, plan.outputUnique);
}

/** The counts `onProgress` sees; one per `alcall`, shared by the batches of a `bcall` (internal). */
export class Books {
  started = 0;
  succeeded = 0;
  failed = 0;
  retries = 0;
  running = 0;

  /**
   * Constructs the books.
   *
   * @param total Items in all.
   */
  constructor(readonly total: number) {}

  /**
   * A snapshot for `onProgress`.
   *
   * @returns A fresh progress object.
   */
  snapshot(): AlcallProgress {
    return {
      total: this.total,
      started: this.started,
      succeeded: this.succeeded,
      failed: this.failed,
      retries: this.retries,
      running: this.running,
    };
  }
}

/**
 * The `ctx` of one attempt. A class (not an object literal with a getter,
 * which V8 builds ~10× slower) whose signal is read lazily: most functions
 * never touch it, and a scope creates its AbortController on first use.
 */
class ItemContext implements CallContext {
  readonly #scope: CancelScope;

  constructor(readonly index: number, readonly attempt: number, scope: CancelScope) {
    this.#scope = scope;
  }

  get signal(): AbortSignal {
    return this.#scope.signal;
  }
}

/** One call of `alcall` (or one batch of `bcall`): its results and its workers. */
class Run<T, R> {
  readonly results: unknown[];
  /** Final failures (and `onProgress` errors), in the order they occurred. */
  readonly failures: unknown[] = [];
  /** Items of this run that succeeded or failed (cancelled ones never settle). */
  settled = 0;
  next = 0;
  nextStartAt = -Infinity;
  scope: CancelScope | undefined = undefined;
  /** No retry and no timeout: items share the call's scope and signal. */
  readonly simple: boolean;

  constructor(
    readonly items: readonly T[],
    readonly fn: (item: T, ctx: CallContext) => R | Promise<R>,
    readonly plan: Plan,
    readonly offset: number,
    readonly books: Books,
  ) {
    this.results = new Array(items.length);
    this.simple = plan.retryAttempts === 0 && plan.retryTimeout === undefined &&
      plan.attemptTimeout === undefined;
  }

  /** True once the call's scope is cancelled (a failure, the signal, or an outer scope). */
  get stopped(): boolean {
    return scopeReason(this.scope!) !== undefined;
  }

  report(): void {
    const { onProgress } = this.plan;
    if (onProgress === undefined) return;
    try {
      onProgress(this.books.snapshot());
    } catch (err) {
      // A bug in the callback is the call's failure, not an item's.
      this.#stopWith(err);
    }
  }

  #stopWith(err: unknown): void {
    this.failures.push(err);
    if (this.failures.length === 1) this.scope!.cancel("alcall: an item failed");
  }

  async execute(tg: TaskGroup): Promise<void> {
    this.scope = tg.cancelScope;
    const { plan } = this;
    if (plan.delayBeforeStart > 0) await sleep(plan.delayBeforeStart);
    const workers = Math.min(plan.maxConcurrent, this.items.length);
    for (let w = 0; w < workers; w++) tg.startSoon(() => this.worker());
  }

  async worker(): Promise<void> {
    const { items, plan, books, offset } = this;
    const fn = this.fn; // called without `this`
    const n = items.length;
    while (this.next < n && !this.stopped) {
      // Claim the item before waiting for its start slot, so a worker never
      // sleeps for a slot no item is left for.
      const i = this.next++;
      if (plan.throttlePeriod > 0) {
        const now = currentTime();
        const at = Math.max(now, this.nextStartAt + plan.throttlePeriod);
        this.nextStartAt = at;
        if (at > now) {
          try {
            await sleep(at - now);
          } catch {
            return; // the call was cancelled: start nothing more
          }
        }
      }
      books.started++;
      books.running++;
      this.report();
      let ok = false;
      let value: unknown;
      try {
        value = this.simple
          ? await fn(items[i], new ItemContext(i + offset, 1, this.scope!))
          : await this.#item(i);
        ok = true;
      } catch (err) {
        this.#failed(i, err);
      }
      if (ok) {
        this.results[i] = value;
        this.settled++;
        books.succeeded++;
      }
      books.running--;
      this.report();
    }
  }

  #failed(i: number, err: unknown): void {
    // A cancellation while the call is cancelled is not this item's failure.
    if (isCancelled(err) && this.stopped) return;
    this.settled++;
    this.books.failed++;
    if (this.plan.hasDefault && !isCancelled(err)) {
      this.results[i] = this.plan.retryDefault;
    } else if (this.plan.returnExceptions) {
      this.results[i] = err;
    } else {
      this.#stopWith(err);
    }
  }

  #item(i: number): Promise<unknown> {
    const { retryTimeout } = this.plan;
    if (retryTimeout === undefined) return this.#attempts(i, this.scope!);
    return failAfter(retryTimeout, (itemScope) => this.#attempts(i, itemScope));
  }

  async #attempts(i: number, itemScope: CancelScope): Promise<unknown> {
    const { plan, books } = this;
    const fn = this.fn;
    const item = this.items[i];
    const index = i + this.offset;
    const { attemptTimeout } = plan;
    for (let attempt = 1;; attempt++) {
      try {
        if (attemptTimeout === undefined) {
          return await fn(item, new ItemContext(index, attempt, itemScope));
        }
        return await failAfter(attemptTimeout, (s) => fn(item, new ItemContext(index, attempt, s)));
      } catch (err) {
        // Final: out of retries, a cancellation, an error raised while the
        // item is being cancelled (no retry could start), or not retryable.
        if (
          attempt > plan.retryAttempts || isCancelled(err) ||
          scopeReason(itemScope) !== undefined ||
          (plan.retryOn !== undefined && !retryAllowed(plan.retryOn, err))
        ) {
          throw err;
        }
      }
      books.retries++;
      this.report();
      const delay = plan.retryInitialDelay * plan.retryBackoff ** (attempt - 1);
      if (delay > 0) await sleep(delay);
    }
  }
}

/**
 * Runs `fn` over `items` (internal; shared with `bcall`). `offset` is added
 * to each item's index in `ctx.index`.
 */
export async function runAlcall<T, R>(
  items: readonly T[],
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  plan: Plan,
  offset: number,
  books: Books,
): Promise<unknown[]> {
  const { signal } = plan;
  if (signal?.aborted) throw signal.reason;
  const run = new Run(items, fn, plan, offset, books);
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
    run.scope?.cancel(signal!.reason);
  };
  signal?.addEventListener("abort", onAbort);
  try {
    await taskGroup((tg) => run.execute(tg));
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (run.failures.length > 0) {
    throw new ExceptionGroup("alcall: items failed", run.failures);
  }
  // An abort during the call rejects it even if every item still settled
  // (items that ignore ctx.signal finish anyway): the caller asked to stop.
  if (aborted) throw signal!.reason;
  if (run.settled < items.length) {
    // The call's own scope was cancelled before every item settled; only the
    // signal does that (an enclosing cancellation rejected above).
    if (signal?.aborted) throw signal.reason;
    throw scopeReason(run.scope!) ?? new CancelledError("alcall was cancelled");
  }
  return run.results;
}

/**
 * Applies `fn` to every item of `input` with at most `maxConcurrent` running,
 * optional throttling, per-attempt and per-item timeouts, and retries with
 * backoff. Results keep input order.
 *
 * Without `returnExceptions`, the first final failure cancels the items still
 * running or queued and `alcall` rejects with an {@linkcode ExceptionGroup} of
 * every final failure; with it, each failure sits at its index. Cancellation
 * from `signal` or an enclosing scope rejects with that cancellation (the
 * signal's own `reason`). A cancellation is never retried nor replaced by
 * `retryDefault`; any other final failure (retries exhausted, an error
 * `retryOn` refuses, `retryTimeout` run out) takes `retryDefault` when it is
 * given. Items cancelled with the call count neither as succeeded nor failed.
 * An error thrown by `onProgress` fails the call like an item's failure.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input An iterable of items (a string or non-iterable, `null`
 * included, is one item); arrays are copied when the call starts.
 * @param fn The function to apply; it receives the item and a {@linkcode CallContext}.
 * @param options See {@linkcode AlcallOptions}.
 * @returns The results, in input order.
 * @throws {ExceptionGroup} If items failed (without `returnExceptions`).
 * @throws {CancelledError} (or `signal.reason`) If the call was cancelled.
 * @throws {TypeError} If `fn` is not a function or an option has the wrong type.
 * @throws {RangeError} If an option is out of range.
 *
 * @example Usage
 * ```ts
 * import { alcall } from "@lionpride/core";
 *
 * const results = await alcall([1, 2, 3], async (x) => x * 2, { maxConcurrent: 2 });
 * if (!(results.join() === "2,4,6")) throw new Error("unexpected result");
 * ```
 *
 * @example Retries and returnExceptions
 * ```ts
 * import { alcall } from "@lionpride/core";
 *
 * let calls = 0;
 * const results = await alcall(["a", "b"], (x, ctx) => {
 *   calls++;
 *   if (x === "b" && ctx.attempt < 2) throw new Error("flaky");
 *   return x.toUpperCase();
 * }, { retryAttempts: 2, returnExceptions: true });
 * if (!(results.join() === "A,B" && calls === 3)) throw new Error("unexpected result");
 * ```
 */
export function alcall<T, R>(
  input: Iterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options?: AlcallOptions<R> & { returnExceptions?: false },
): Promise<R[]>;
/**
 * Applies `fn` to every item, putting each failure at its index.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input An iterable of items (a string or non-iterable is one item).
 * @param fn The function to apply.
 * @param options See {@linkcode AlcallOptions}, with `returnExceptions: true`.
 * @returns The results and errors, in input order.
 */
export function alcall<T, R>(
  input: Iterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options: AlcallOptions<R> & { returnExceptions: true },
): Promise<Array<R | Error>>;
/**
 * Applies `fn` to every item (general signature).
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input An iterable of items.
 * @param fn The function to apply.
 * @param options See {@linkcode AlcallOptions}.
 * @returns The results (and errors with `returnExceptions`), in input order.
 */
export function alcall<T, R>(
  input: Iterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options?: AlcallOptions<R>,
): Promise<Array<R | Error>>;
export async function alcall<T, R>(
  input: Iterable<T> | T,
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  options?: AlcallOptions<R>,
): Promise<Array<R | Error>> {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot call alcall: 'fn' must be a function, received ${typeof fn}`);
  }
  const plan = planOf(options as AlcallOptions);
  const items = itemsOf(input, plan) as T[];
  const results = await runAlcall(items, fn, plan, 0, new Books(items.length));
  return shapeOutput(results, plan) as Array<R | Error>;
}
