// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `AdaptiveLimiter`: a `CapacityLimiter` that finds how much concurrency a
 * downstream serves well from what the calls tell it: overloads (429, 503,
 * timeouts, any `retryAfter`) shrink the limit, successes at load grow it.
 *
 * Two ways to adapt, as in Netflix's concurrency-limits and Envoy's adaptive
 * concurrency filter:
 * - AIMD (default): a drop multiplies the estimate by 0.9, at most once per
 *   round trip; a success while at least half the limit is in use adds
 *   1/limit, the integer number of permits (so about 1 per round trip of a
 *   full limit), as API.md says.
 * - Gradient (Gradient2): the estimate moves towards
 *   `estimate * clamp(1.5 * longRtt / shortRtt, 0.5, 1) + 4`, smoothed by
 *   0.2, where the RTTs are moving averages over ~10 and ~500 samples;
 *   latency that rises above its long-run level shrinks the limit before the
 *   server has to refuse. Until the first drop it moves on every success (a
 *   slow start: ×1.8 per round trip while latency is flat), and the first
 *   drop halves it; after that it moves once per two round trips and drops
 *   back off as in AIMD.
 *
 * "At most once per round trip" is kept with an epoch counter rather than
 * timestamps: each call remembers the number of decreases when it started,
 * and a drop of a call that started before the last decrease is ignored (it
 * measured a limit that no longer holds). Ties on a coarse clock cannot
 * blur that.
 *
 * @module
 */

import { type AcquireOptions, CapacityLimiter, type LimiterStatistics } from "./limiter.ts";
import { currentTime } from "./clock.ts";
import { isCancelled, RateLimitError, TimeoutError } from "./errors.ts";
import { retryAfterOf } from "./_retry_after.ts";
import { fieldOf, isInstance } from "./_thrown.ts";
import { defineInspect } from "./_inspect.ts";
import { USE_AFTER } from "./_attempt_loop.ts";
import {
  checkFunction,
  checkNumber,
  checkOptions,
  describeValue,
  functionError,
  isPositiveInteger,
} from "./_validate.ts";

/** How an {@linkcode AdaptiveLimiter} adapts. */
export type AdaptiveAlgorithm = "aimd" | "gradient";

/** Options of the {@linkcode AdaptiveLimiter} constructor. */
export interface AdaptiveLimiterOptions {
  /**
   * The limit to start from, in `[min, max]` (fractions allowed).
   *
   * @default {10, or the nearer of min and max when 10 lies outside them}
   */
  initial?: number;
  /**
   * The smallest limit, a positive integer.
   *
   * @default {1}
   */
  min?: number;
  /**
   * The largest limit, an integer `>= min`.
   *
   * @default {1000}
   */
  max?: number;
  /**
   * How the limit adapts.
   *
   * @default {"aimd"}
   */
  algorithm?: AdaptiveAlgorithm;
  /**
   * Whether an error says the downstream is overloaded (default: a
   * `TimeoutError`, the module's or the platform's `DOMException` of that
   * name, a `RateLimitError`, a `status` of 429 or 503, or any
   * `retryAfter`). Cancellations never are; other errors are ignored.
   */
  isOverload?: (err: unknown) => boolean;
  /**
   * Called when the integer limit changes, with the new and the old limit.
   * Errors it throws are logged with `console.error` and change nothing, as
   * `CircuitBreaker`'s `onStateChange` (a broken logger must not crash the
   * process nor the call).
   */
  onLimitChange?: (limit: number, previous: number) => void;
}

/** What {@linkcode AdaptiveLimiter.statistics} reports. */
export interface AdaptiveLimiterStatistics extends LimiterStatistics {
  /** The integer limit (the same as `totalTokens`). */
  limit: number;
  /** The estimate behind it (may be fractional). */
  estimate: number;
  /** The smallest limit. */
  min: number;
  /** The largest limit. */
  max: number;
  /** How the limit adapts. */
  algorithm: AdaptiveAlgorithm;
  /** Calls that succeeded. */
  successes: number;
  /** Overloads that lowered the limit. */
  drops: number;
  /** Overloads of calls started before the last decrease, ignored. */
  ignoredDrops: number;
  /** Short-window moving average of the round trip of a success, in ms (NaN before one). */
  rtt: number;
}

/**
 * The default `isOverload`: timeouts, rate limits, 429 and 503 statuses, and
 * any error that asks to wait. A timeout is matched by name as well, as
 * `isCancelled` matches `AbortError`: `fetch(url, { signal:
 * AbortSignal.timeout(ms) })` rejects with a `DOMException` named
 * `TimeoutError`, and a slow downstream says the same thing through it.
 */
function isOverloadByDefault(err: unknown): boolean {
  if (isInstance(err, TimeoutError) || isInstance(err, RateLimitError)) return true;
  const status = fieldOf(err, "status");
  if (status === 429 || status === 503) return true;
  if (fieldOf(err, "name") === "TimeoutError") return true;
  return retryAfterOf(err) !== undefined;
}

const BACKOFF = 0.9;
const GRADIENT_TOLERANCE = 1.5;
const GRADIENT_SMOOTHING = 0.2;
const GRADIENT_QUEUE = 4;
/** Round trips per gradient update after the slow start. */
const GRADIENT_WINDOW = 2;
const SHORT_WINDOW = 10;
const LONG_WINDOW = 500;

interface Config {
  initial: number;
  min: number;
  max: number;
  algorithm: AdaptiveAlgorithm;
  isOverload: (err: unknown) => boolean;
  onLimitChange: ((limit: number, previous: number) => void) | undefined;
}

function configure(options: unknown): Config {
  const where = "Cannot create AdaptiveLimiter";
  const o = checkOptions(options, where) ?? {};
  const integer = "a positive integer";
  const min = o.min === undefined
    ? 1
    : checkNumber(o.min, "min", where, integer, isPositiveInteger);
  const max = o.max === undefined
    ? 1000
    : checkNumber(o.max, "max", where, integer, isPositiveInteger);
  if (min > max) {
    throw new RangeError(`${where}: 'min' (${min}) must be <= 'max', received max ${max}`);
  }
  const initial = o.initial === undefined
    ? Math.min(max, Math.max(min, 10))
    : checkNumber(o.initial, "initial", where, `a number in [${min}, ${max}]`, (n) =>
      n >= min && n <= max);
  const algorithm = o.algorithm ?? "aimd";
  if (algorithm !== "aimd" && algorithm !== "gradient") {
    throw new RangeError(
      `${where}: 'algorithm' must be "aimd" or "gradient", received ${describeValue(algorithm)}`,
    );
  }
  if (o.isOverload !== undefined) checkFunction(o.isOverload, "isOverload", where);
  if (o.onLimitChange !== undefined) checkFunction(o.onLimitChange, "onLimitChange", where);
  return {
    initial,
    min,
    max,
    algorithm,
    isOverload: (o.isOverload as Config["isOverload"] | undefined) ?? isOverloadByDefault,
    onLimitChange: o.onLimitChange as Config["onLimitChange"],
  };
}

/**
 * A {@linkcode CapacityLimiter} whose `totalTokens` it sets itself from what
 * the calls run through {@linkcode AdaptiveLimiter.use} tell it. Waiters stay
 * FIFO; shrinking never preempts a running call.
 *
 * @example Usage
 * ```ts
 * import { AdaptiveLimiter, RateLimitError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const limiter = new AdaptiveLimiter({ initial: 20 });
 * await limiter.use(() => "ok");
 * await assert.rejects(limiter.use(() => {
 *   throw new RateLimitError("429", { retryAfter: 100 });
 * }));
 * assert.equal(limiter.limit, 18); // 20 * 0.9
 * ```
 */
export class AdaptiveLimiter extends CapacityLimiter {
  #estimate: number;
  readonly #min: number;
  readonly #max: number;
  readonly #algorithm: AdaptiveAlgorithm;
  readonly #isOverload: (err: unknown) => boolean;
  /** Decreases so far; a call's drop counts only if none happened since it started. */
  #epoch = 0;
  #successes = 0;
  #drops = 0;
  #ignoredDrops = 0;
  #shortRtt = NaN;
  #longRtt = NaN;
  /** When the gradient last moved the estimate. */
  #updatedAt = -Infinity;
  /**
   * Called when the integer limit changes, with the new and the old limit.
   * If it throws, the error is reported asynchronously (as an uncaught
   * exception), never through the call that changed the limit.
   */
  onLimitChange: ((limit: number, previous: number) => void) | undefined;

  /**
   * Constructs a new adaptive limiter.
   *
   * @param options Bounds, start, algorithm, overload test and change callback.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If `min` or `max` is not a positive integer, `min >
   * max`, `initial` lies outside `[min, max]`, or `algorithm` is unknown.
   */
  constructor(options?: AdaptiveLimiterOptions) {
    const config = configure(options);
    super(Math.max(config.min, Math.floor(config.initial)));
    this.#estimate = config.initial;
    this.#min = config.min;
    this.#max = config.max;
    this.#algorithm = config.algorithm;
    this.#isOverload = config.isOverload;
    this.onLimitChange = config.onLimitChange;
  }

  /** The number of permits now: the estimate rounded down, in `[min, max]`. */
  get limit(): number {
    return super.totalTokens;
  }

  /**
   * The number of permits (as `limit`). The limiter sets it itself.
   *
   * @throws {TypeError} When set.
   */
  override get totalTokens(): number {
    return super.totalTokens;
  }

  override set totalTokens(value: number) {
    throw new TypeError(
      `Cannot set AdaptiveLimiter.totalTokens: the limiter sets it itself, received ${
        describeValue(value, "bare")
      }`,
    );
  }

  /**
   * Runs `fn` while holding a permit and learns from how it ends: a success
   * is a latency sample, an overload a drop, any other error nothing.
   *
   * @typeParam T The type of `fn`'s value.
   * @param fn The work to do.
   * @param options The abort signal for the wait.
   * @returns `fn`'s value.
   * @throws {TypeError} If `fn` is not a function (as a rejection).
   */
  override use<T>(fn: () => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    const error = functionError(fn, "fn", "Cannot use AdaptiveLimiter");
    return error === undefined ? this.#use(undefined, fn, options) : Promise.reject(error);
  }

  /**
   * `use`, with `ready` awaited first while the permit is held (alcall's
   * rate-limit wait): only `fn` is measured, so that wait is no round-trip
   * time and its refusal no overload.
   *
   * @typeParam T The type of `fn`'s value.
   * @param ready What to wait for before `fn`.
   * @param fn The work to do.
   * @param options The abort signal for the wait.
   * @returns `fn`'s value.
   */
  [USE_AFTER]<T>(
    ready: () => Promise<unknown>,
    fn: () => T | Promise<T>,
    options?: AcquireOptions,
  ): Promise<T> {
    return this.#use(ready, fn, options);
  }

  async #use<T>(
    ready: (() => Promise<unknown>) | undefined,
    fn: () => T | Promise<T>,
    options: AcquireOptions | undefined,
  ): Promise<T> {
    const permit = await this.acquire(options);
    try {
      if (ready !== undefined) await ready();
      const epoch = this.#epoch;
      const start = currentTime();
      try {
        const value = await fn();
        this.#onSuccess(currentTime() - start);
        return value;
      } catch (err) {
        if (!isCancelled(err) && this.#isOverload(err)) this.#onDrop(epoch);
        throw err;
      }
    } finally {
      permit.release();
    }
  }

  /**
   * A snapshot of the limiter.
   *
   * @returns The limiter's statistics plus the estimate and what it learnt.
   */
  override statistics(): AdaptiveLimiterStatistics {
    return {
      ...super.statistics(),
      limit: this.limit,
      estimate: this.#estimate,
      min: this.#min,
      max: this.#max,
      algorithm: this.#algorithm,
      successes: this.#successes,
      drops: this.#drops,
      ignoredDrops: this.#ignoredDrops,
      rtt: this.#shortRtt,
    };
  }

  #onSuccess(rtt: number): void {
    this.#successes++;
    // The finished call still holds its permit here, so it counts as in use.
    const inUse = this.borrowedTokens;
    if (this.#algorithm === "aimd") {
      const limit = this.limit;
      if (inUse >= limit / 2) this.#setEstimate(this.#estimate + 1 / limit);
      return;
    }
    if (Number.isNaN(this.#shortRtt)) this.#shortRtt = this.#longRtt = rtt;
    this.#shortRtt += (rtt - this.#shortRtt) / SHORT_WINDOW;
    this.#longRtt += (rtt - this.#longRtt) / LONG_WINDOW;
    // Load has fallen back: forget the high long-run latency faster than
    // the long average would (as Gradient2 does).
    if (this.#longRtt > 2 * this.#shortRtt) this.#longRtt *= 0.95;
    if (inUse < this.#estimate / 2) return; // idle capacity says nothing about the limit
    // Until the first overload, update on every sample as Gradient2 does: the
    // queue allowance then compounds to ~×1.8 per round trip, a slow start
    // that finds a large limit in a few round trips. After it, once per two
    // round trips (Netflix windows Gradient2's samples too), so probing a
    // limit the server enforces without slowing down costs few refusals.
    if (this.#drops > 0) {
      const now = currentTime();
      if (now - this.#updatedAt < GRADIENT_WINDOW * this.#shortRtt) return;
      this.#updatedAt = now;
    }
    const ratio = this.#shortRtt > 0 ? GRADIENT_TOLERANCE * this.#longRtt / this.#shortRtt : 1;
    const gradient = Math.max(0.5, Math.min(1, ratio));
    const target = this.#estimate * gradient + GRADIENT_QUEUE;
    this.#setEstimate(
      this.#estimate * (1 - GRADIENT_SMOOTHING) + target * GRADIENT_SMOOTHING,
    );
  }

  #onDrop(epoch: number): void {
    if (epoch !== this.#epoch) {
      this.#ignoredDrops++;
      return;
    }
    // The first overload ends the gradient's slow start, which may have
    // overshot by up to one round trip of doubling: halve, as TCP does when
    // it leaves slow start.
    const factor = this.#algorithm === "gradient" && this.#drops === 0 ? 0.5 : BACKOFF;
    this.#drops++;
    this.#epoch++;
    this.#setEstimate(this.#estimate * factor);
  }

  #setEstimate(estimate: number): void {
    this.#estimate = Math.min(this.#max, Math.max(this.#min, estimate));
    const limit = Math.max(this.#min, Math.floor(this.#estimate));
    const previous = super.totalTokens;
    if (limit === previous) return;
    super.totalTokens = limit;
    const onLimitChange = this.onLimitChange;
    if (onLimitChange === undefined) return;
    try {
      onLimitChange(limit, previous);
    } catch (err) {
      console.error("AdaptiveLimiter: onLimitChange threw", err);
    }
  }
}

defineInspect(AdaptiveLimiter, (self) => {
  const s = self.statistics();
  return `limit: ${s.limit} (estimate ${
    Math.round(s.estimate * 100) / 100
  }), borrowed: ${s.borrowedTokens}, waiting: ${s.tasksWaiting}`;
});
