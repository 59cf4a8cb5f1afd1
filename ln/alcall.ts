// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `alcall` and `bcall`: apply a function to every item of a list with bounded
 * concurrency, throttling, timeouts and retries, results in input order.
 *
 * @module
 */

import type { CancelScope } from "../concurrency/cancel.ts";
import { currentTime } from "../concurrency/clock.ts";
import { ExceptionGroup, isCancelled } from "../concurrency/errors.ts";
import { sleep } from "../concurrency/sleep.ts";
import { type TaskGroup, taskGroup } from "../concurrency/task_group.ts";
import { failAfter } from "../concurrency/timeouts.ts";
import { scopeReason } from "../concurrency/cancel.ts";
import { isListLike, toList } from "./to_list.ts";

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
  /** Most items running at once (positive integer; default unlimited). */
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
  /** Value used for an item whose every attempt failed, instead of failing. */
  retryDefault?: R;
  /** Which errors to retry (default: everything but cancellation). */
  retryOn?: (err: unknown) => boolean;
  /** Milliseconds budget per item, covering all attempts and backoff sleeps. */
  retryTimeout?: number;
  /** Milliseconds per attempt; a timed-out attempt counts as a failed attempt. */
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

/** Validated options with defaults (internal). */
interface Plan {
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
  signal: AbortSignal | undefined;
  onProgress: ((progress: AlcallProgress) => void) | undefined;
  indexOffset: number;
}

const BOOLEAN_OPTIONS = [
  "returnExceptions",
  "inputFlatten",
  "inputDropna",
  "inputUnique",
  "outputFlatten",
  "outputDropna",
  "outputUnique",
] as const;

function fail(name: string, expected: string, value: unknown, range: boolean): never {
  const shown = typeof value === "number" ? String(value) : typeof value;
  const message = `Cannot call alcall: '${name}' must be ${expected}, received ${shown}`;
  throw range ? new RangeError(message) : new TypeError(message);
}

function numberOption(
  options: Record<string, unknown>,
  name: string,
  fallback: number,
  ok: (v: number) => boolean,
  expected: string,
): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== "number") fail(name, expected, value, false);
  if (!ok(value)) fail(name, expected, value, true);
  return value;
}

const nonNegative = (v: number): boolean => v >= 0 && v !== Infinity;
const positive = (v: number): boolean => v > 0 && v !== Infinity;

/** Validates `options` (internal; shared with `bcall`). */
export function planOf(options: AlcallOptions | undefined, indexOffset = 0): Plan {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(
      `Cannot call alcall: 'options' must be an object, received ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  const o = (options ?? {}) as Record<string, unknown>;
  for (const name of BOOLEAN_OPTIONS) {
    if (o[name] !== undefined && typeof o[name] !== "boolean") {
      fail(name, "a boolean", o[name], false);
    }
  }
  for (const name of ["retryOn", "onProgress"]) {
    if (o[name] !== undefined && typeof o[name] !== "function") {
      fail(name, "a function", o[name], false);
    }
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    fail("signal", "an AbortSignal", o.signal, false);
  }
  return {
    maxConcurrent: numberOption(
      o,
      "maxConcurrent",
      Infinity,
      (v) => v === Infinity || Number.isInteger(v) && v >= 1,
      "a positive integer",
    ),
    throttlePeriod: numberOption(o, "throttlePeriod", 0, nonNegative, "a finite number >= 0"),
    delayBeforeStart: numberOption(o, "delayBeforeStart", 0, nonNegative, "a finite number >= 0"),
    retryAttempts: numberOption(
      o,
      "retryAttempts",
      0,
      (v) => Number.isInteger(v) && v >= 0,
      "a non-negative integer",
    ),
    retryInitialDelay: numberOption(
      o,
      "retryInitialDelay",
      0,
      nonNegative,
      "a finite number >= 0",
    ),
    retryBackoff: numberOption(o, "retryBackoff", 1, nonNegative, "a finite number >= 0"),
    hasDefault: o.retryDefault !== undefined,
    retryDefault: o.retryDefault,
    retryOn: o.retryOn as Plan["retryOn"],
    retryTimeout: o.retryTimeout === undefined
      ? undefined
      : numberOption(o, "retryTimeout", 0, positive, "a finite number > 0"),
    attemptTimeout: o.attemptTimeout === undefined
      ? undefined
      : numberOption(o, "attemptTimeout", 0, positive, "a finite number > 0"),
    returnExceptions: o.returnExceptions === true,
    signal: o.signal as AbortSignal | undefined,
    onProgress: o.onProgress as Plan["onProgress"],
    indexOffset,
  };
}

/** The items `alcall` works on (internal; shared with `bcall`). */
export function itemsOf(input: unknown, options: AlcallOptions | undefined): unknown[] {
  const flatten = options?.inputFlatten === true;
  const dropna = options?.inputDropna === true;
  const unique = options?.inputUnique === true;
  if (!flatten && !dropna && !unique && Array.isArray(input)) return input;
  if (!flatten && !dropna && !unique && !isListLike(input)) return [input];
  return toList(input, { flatten, dropna, unique });
}

class ItemContext implements CallContext {
  readonly index: number;
  readonly attempt: number;
  readonly #scope: CancelScope;

  constructor(index: number, attempt: number, scope: CancelScope) {
    this.index = index;
    this.attempt = attempt;
    this.#scope = scope;
  }

  get signal(): AbortSignal {
    return this.#scope.signal;
  }
}

/** One call of `alcall`: its books and its workers. */
class Run<T, R> {
  readonly results: unknown[];
  readonly failures: unknown[] = [];
  next = 0;
  nextStartAt = -Infinity;
  started = 0;
  succeeded = 0;
  failed = 0;
  retries = 0;
  running = 0;
  scope!: CancelScope;

  constructor(
    readonly items: readonly T[],
    readonly fn: (item: T, ctx: CallContext) => R | Promise<R>,
    readonly plan: Plan,
  ) {
    this.results = new Array(items.length);
  }

  report(): void {
    this.plan.onProgress?.({
      total: this.items.length,
      started: this.started,
      succeeded: this.succeeded,
      failed: this.failed,
      retries: this.retries,
      running: this.running,
    });
  }

  /** True once the call's scope is cancelled (a failure, the signal, or an outer scope). */
  get stopped(): boolean {
    return scopeReason(this.scope) !== undefined;
  }

  async worker(): Promise<void> {
    const { items, plan } = this;
    const n = items.length;
    const simple = plan.retryAttempts === 0 && plan.retryTimeout === undefined &&
      plan.attemptTimeout === undefined;
    while (this.next < n && !this.stopped) {
      if (plan.throttlePeriod > 0) {
        const now = currentTime();
        const at = Math.max(now, this.nextStartAt + plan.throttlePeriod);
        this.nextStartAt = at;
        if (at > now) await sleep(at - now);
        if (this.next >= n || this.stopped) return;
      }
      const i = this.next++;
      this.started++;
      this.running++;
      if (plan.onProgress !== undefined) this.report();
      try {
        const value = simple
          ? await this.fn(items[i], new ItemContext(i + plan.indexOffset, 1, this.scope))
          : await this.#callWithRetries(i);
        this.results[i] = value;
        this.succeeded++;
      } catch (err) {
        this.#failed(i, err);
      }
      this.running--;
      if (plan.onProgress !== undefined) this.report();
    }
  }

  #failed(i: number, err: unknown): void {
    if (err instanceof AllAttemptsFailed) {
      this.failed++;
      this.results[i] = this.plan.retryDefault;
      return;
    }
    // A cancellation while the call is cancelled is not this item's failure.
    if (isCancelled(err) && this.stopped) return;
    this.failed++;
    if (this.plan.returnExceptions) {
      this.results[i] = err;
    } else {
      this.failures.push(err);
      if (this.failures.length === 1) this.scope.cancel("alcall: an item failed");
    }
  }

  #callWithRetries(i: number): Promise<unknown> {
    const { retryTimeout } = this.plan;
    if (retryTimeout === undefined) return this.#attempts(i, this.scope);
    return failAfter(retryTimeout, (itemScope) => this.#attempts(i, itemScope));
  }

  async #attempts(i: number, itemScope: CancelScope): Promise<unknown> {
    const plan = this.plan;
    const item = this.items[i];
    const index = i + plan.indexOffset;
    for (let attempt = 1;; attempt++) {
      try {
        if (plan.attemptTimeout === undefined) {
          return await this.fn(item, new ItemContext(index, attempt, itemScope));
        }
        return await failAfter(
          plan.attemptTimeout,
          (s) => this.fn(item, new ItemContext(index, attempt, s)),
        );
      } catch (err) {
        if (isCancelled(err)) throw err;
        if (plan.retryOn !== undefined && !plan.retryOn(err)) throw err;
        if (attempt > plan.retryAttempts) {
          if (plan.hasDefault) throw new AllAttemptsFailed();
          throw err;
        }
        this.retries++;
        if (plan.onProgress !== undefined) this.report();
        const delay = plan.retryInitialDelay * plan.retryBackoff ** (attempt - 1);
        if (delay > 0) await sleep(delay);
      }
    }
  }

  async execute(tg: TaskGroup): Promise<void> {
    this.scope = tg.cancelScope;
    const plan = this.plan;
    if (plan.delayBeforeStart > 0) await sleep(plan.delayBeforeStart);
    const workers = Math.min(plan.maxConcurrent, this.items.length);
    for (let w = 0; w < workers; w++) tg.startSoon(() => this.worker());
  }
}

/** Marks an item whose every attempt failed and that `retryDefault` stands in for. */
class AllAttemptsFailed {}

/** Runs `fn` over `items` (internal; shared with `bcall`). */
export async function runAlcall<T, R>(
  items: readonly T[],
  fn: (item: T, ctx: CallContext) => R | Promise<R>,
  plan: Plan,
): Promise<unknown[]> {
  const { signal } = plan;
  if (signal?.aborted) throw signal.reason;
  const run = new Run(items, fn, plan);
  const onAbort = (): void => run.scope?.cancel(signal!.reason);
  signal?.addEventListener("abort", onAbort);
  try {
    await taskGroup((tg) => {
      run.scope = tg.cancelScope;
      if (signal?.aborted) tg.cancelScope.cancel(signal.reason);
      return run.execute(tg);
    });
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (run.failures.length > 0) {
    throw new ExceptionGroup("alcall: items failed", run.failures);
  }
  if (signal?.aborted) throw signal.reason;
  return run.results;
}

/** Applies the output options (internal; shared with `bcall`). */
export function shapeOutput(results: unknown[], options: AlcallOptions | undefined): unknown[] {
  const flatten = options?.outputFlatten === true;
  const dropna = options?.outputDropna === true;
  const unique = options?.outputUnique === true;
  if (!flatten && !dropna && !unique) return results;
  return toList(results, { flatten, dropna, unique });
}

/**
 * Applies `fn` to every item of `input` with at most `maxConcurrent` running,
 * optional throttling, per-attempt and per-item timeouts, and retries with
 * backoff. Results keep input order.
 *
 * Without `returnExceptions`, the first final failure cancels the items still
 * running or queued and `alcall` rejects with an {@linkcode ExceptionGroup} of
 * every final failure; with it, each failure sits at its index. Cancellation
 * from `signal` or an enclosing scope rejects with that cancellation.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of `fn`'s results.
 * @param input An iterable of items (a string or non-iterable is one item).
 * @param fn The function to apply; it receives the item and a {@linkcode CallContext}.
 * @param options See {@linkcode AlcallOptions}.
 * @returns The results, in input order.
 * @throws {ExceptionGroup} If items failed (without `returnExceptions`).
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If an option is out of range.
 *
 * @example Usage
 * ```ts
 * import { alcall } from "@lionpride/core";
 *
 * const results = await alcall([1, 2, 3], async (x) => x * 2, { maxConcurrent: 2 });
 * console.assert(results.join() === "2,4,6");
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
 * console.assert(results.join() === "A,B" && calls === 3);
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
  const items = itemsOf(input, options as AlcallOptions) as T[];
  const results = await runAlcall(items, fn, plan);
  return shapeOutput(results, options as AlcallOptions) as Array<R | Error>;
}
