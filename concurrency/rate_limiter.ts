// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `RateLimiter`: a rate limit (GCRA, virtual scheduling) with FIFO waiters,
 * weighted cost and cancellable, deadline-aware waits.
 *
 * The state is the theoretical arrival time `tat`: the moment the limiter
 * would be idle again had every grant so far been spaced one emission
 * interval (`period / limit`) per unit of cost. A cost `c` fits at time `now`
 * when `max(tat, now) + c * interval - now <= burst * interval`; granting it
 * moves `tat` to `max(tat, now) + c * interval`. Over any window of length t
 * that lets at most `burst + limit * t / period` cost pass (rate_limiter
 * property test).
 *
 * `tat` is kept as how far it lies ahead of the last clock reading that moved
 * it, never as an absolute time: steps of `interval` (rarely exact in binary)
 * summed onto a reading far from zero (an epoch-based fake clock, ~1.8e12 ms;
 * `performance.now()` after weeks of uptime) round by up to half an ulp of
 * that reading each, ~1e-4 ms at the epoch, and the last call of a full
 * burst then failed by that much (tests/rate_core_review_test.ts). Sums near
 * zero round only by ulps of the interval.
 *
 * Waiters reserve nothing: only the head of the queue has a grant time, and
 * it sits in the module's one deadline heap. A waiter that leaves (cancelled)
 * has nothing to give back, so the ones behind it simply move up; a change of
 * `limit`, `period` or `burst` re-times the head at once. With nobody waiting
 * the deadline leaves the heap, so an idle limiter holds no timer.
 *
 * @module
 */

import { currentScope, effectiveDeadlineOf } from "./cancel.ts";
import { addDeadline, currentTime, DeadlineEntry, removeDeadline } from "./clock.ts";
import { RateLimitError } from "./errors.ts";
import { defineInspect } from "./_inspect.ts";
import { checkFunction, checkNumber, checkOptions } from "./_validate.ts";
import { startWait, type Waiter, WaitQueue } from "./_wait_queue.ts";

/** Options of the {@linkcode RateLimiter} constructor. */
export interface RateLimiterOptions {
  /** Cost that may pass per `period` on average: a finite number `> 0`. */
  limit: number;
  /** The period `limit` refers to, in milliseconds: a finite number `> 0`. */
  period: number;
  /**
   * Cost that may pass at once after a quiet spell: a finite number `>= 1`,
   * so that a default-cost (1) call can ever pass; costs may still be
   * fractions up to it. With the default, `limit` must then be `>= 1`:
   * write "one call per 2 s" as `{ limit: 1, period: 2_000 }`.
   *
   * @default {limit}
   */
  burst?: number;
}

/** Options of {@linkcode RateLimiter.acquire} and {@linkcode RateLimiter.use}. */
export interface RateLimiterAcquireOptions {
  /**
   * What the call costs: `0 < cost <= burst`, fractions allowed.
   *
   * @default {1}
   */
  cost?: number;
  /** Cancels the wait when it aborts. */
  signal?: AbortSignal;
}

/** What {@linkcode RateLimiter.statistics} reports. */
export interface RateLimiterStatistics {
  /** Cost per `period`. */
  limit: number;
  /** In milliseconds. */
  period: number;
  /** Cost that may pass at once. */
  burst: number;
  /** Calls waiting. */
  waiting: number;
  /** The cost that would pass now (0 while anyone waits). */
  available: number;
}

const POSITIVE = "a finite number > 0";
/** Milliseconds of float rounding a wait may carry. */
const ROUNDING = 1e-6;
/**
 * Whether a grant `wait` ms after `now` is due: the wait is float rounding
 * (steps of a fractional interval), or too short for the clock to tell from
 * `now` (half an ulp of an epoch reading is ~1e-4 ms). Only a wait that is
 * not due arms a deadline, which then lies strictly after `now`.
 */
const isDue = (wait: number, now: number): boolean => wait <= ROUNDING || now + wait <= now;
const isPositive = (n: number): boolean => n > 0 && n !== Infinity;
// A burst below 1 would make every default-cost (1) acquire throw; that is a
// configuration error best reported once, at construction, not on each call.
const AT_LEAST_ONE = "a finite number >= 1";
const isAtLeastOne = (n: number): boolean => n >= 1 && n !== Infinity;

/** The head waiter's grant time, kept in the one deadline heap. */
class GrantDeadline extends DeadlineEntry {
  constructor(readonly grant: () => void) {
    super();
  }
  expire(): void {
    this.grant();
  }
}

/** A promise job entry point that no fake clock can intercept. */
const resolved: Promise<void> = Promise.resolve();

/**
 * A rate limit: on average `limit` cost per `period` milliseconds, up to
 * `burst` at once. Waiters are served strictly in arrival order, each with
 * its own cost; while anyone waits, `tryAcquire` fails.
 *
 * @example Usage
 * ```ts
 * import { RateLimiter } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const limiter = new RateLimiter({ limit: 2, period: 1_000 });
 * assert.equal(limiter.tryAcquire(), true);
 * assert.equal(limiter.tryAcquire(), true);
 * assert.equal(limiter.tryAcquire(), false); // the burst of 2 is spent
 * assert.ok(limiter.retryAfter() > 400); // one more fits in ~500 ms
 * ```
 */
export class RateLimiter {
  /**
   * A limiter that lives as long as the class, so that V8 keeps the hidden
   * classes of a limiter, its grant entry and its wait queue, which it holds
   * only weakly while no such object is alive. Without it, code that makes a
   * limiter, drains it and drops it, with major GCs in between, gets each time
   * a limiter whose field types V8 must learn again and a grant loop that is
   * deoptimized and recompiled (bench/README.md, "Rate limits", 2026-12-05
   * second session). It never waits, so it holds no timer.
   */
  static readonly #shapeKeeper: RateLimiter = new RateLimiter({ limit: 1, period: 1 });
  #limit: number;
  #period: number;
  #burst: number;
  /** `period / limit`: time one unit of cost occupies. */
  #interval: number;
  /** The clock reading `#ahead` was measured from. */
  #at = -Infinity;
  /** How far the theoretical arrival time lay ahead of `#at` (see the module doc). */
  #ahead = 0;
  /** Sum of the waiters' costs. */
  #queuedCost = 0;
  readonly #waiters = new WaitQueue<void>();
  readonly #deadline = new GrantDeadline(() => this.#grantDue());
  #grantScheduled = false;
  readonly #grantJob = (): void => {
    this.#grantScheduled = false;
    this.#grantDue();
  };

  /**
   * Constructs a new rate limiter.
   *
   * @param options `limit`, `period` and `burst`.
   * @throws {TypeError} If `options` or one of its fields has the wrong type.
   * @throws {RangeError} If `limit` or `period` is not a finite number
   * `> 0`, or `burst` (default `limit`) is not a finite number `>= 1`.
   */
  constructor(options: RateLimiterOptions) {
    const where = "Cannot create RateLimiter";
    const o = checkOptions(options, where);
    if (o === undefined) {
      throw new TypeError(`${where}: 'options' must be an object, received undefined`);
    }
    this.#limit = checkNumber(o.limit, "limit", where, POSITIVE, isPositive);
    this.#period = checkNumber(o.period, "period", where, POSITIVE, isPositive);
    if (o.burst === undefined && this.#limit < 1) {
      throw new RangeError(
        `${where}: 'burst' (default: 'limit') must be >= 1, received ${this.#limit}; ` +
          `give a burst >= 1, or express the rate with a longer period`,
      );
    }
    this.#burst = o.burst === undefined
      ? this.#limit
      : checkNumber(o.burst, "burst", where, AT_LEAST_ONE, isAtLeastOne);
    this.#interval = this.#period / this.#limit;
    this.#waiters.onCancelled = (w) => {
      this.#queuedCost -= w.payload as number;
      this.#retime();
    };
  }

  /** Cost per `period`; setting it re-times the waiters at once. */
  get limit(): number {
    return this.#limit;
  }

  set limit(value: number) {
    const limit = checkNumber(value, "limit", "Cannot set RateLimiter.limit", POSITIVE, isPositive);
    this.#setInterval(this.#period / limit);
    this.#limit = limit;
  }

  /** The period `limit` refers to, in ms; setting it re-times the waiters at once. */
  get period(): number {
    return this.#period;
  }

  set period(value: number) {
    const period = checkNumber(
      value,
      "period",
      "Cannot set RateLimiter.period",
      POSITIVE,
      isPositive,
    );
    this.#setInterval(period / this.#limit);
    this.#period = period;
  }

  /**
   * Cost that may pass at once; setting it re-times the waiters at once.
   *
   * @throws {RangeError} If set below 1 or below the cost of a waiting call.
   */
  get burst(): number {
    return this.#burst;
  }

  set burst(value: number) {
    const where = "Cannot set RateLimiter.burst";
    const burst = checkNumber(value, "burst", where, AT_LEAST_ONE, isAtLeastOne);
    for (let w = this.#waiters.head; w !== undefined; w = w.next) {
      if ((w.payload as number) > burst) {
        throw new RangeError(
          `${where}: 'burst' must be >= the cost of every waiting call (${w.payload}), received ${burst}`,
        );
      }
    }
    this.#burst = burst;
    this.#retime();
  }

  /** Calls waiting. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Waits until `cost` fits, behind every call already waiting.
   *
   * @param options `cost` (default 1) and the abort signal.
   * @returns A promise that resolves once the cost has passed.
   * @throws {RateLimitError} If the grant would come at or after the ambient
   * effective deadline (`retryAfter`: ms until that grant); nothing is
   * reserved then.
   * @throws {CancelledError} (or the signal's reason) if the ambient scope is
   * cancelled or the signal aborts before the grant; the cost is not taken.
   * @throws {TypeError} If `options`, `cost` or `signal` has the wrong type.
   * @throws {RangeError} If `cost` is not in `(0, burst]`.
   */
  acquire(options?: RateLimiterAcquireOptions): Promise<void> {
    const where = "Cannot acquire RateLimiter";
    let cost = 1;
    if (options !== undefined) {
      try {
        cost = this.#checkCost(checkOptions(options, where)?.cost, where);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const scope = currentScope();
    const signal = startWait(options, scope, where);
    if (signal instanceof Promise) return signal;
    const now = currentTime();
    if (this.#waiters.size === 0 && this.#tryTake(cost, now)) return Promise.resolve();
    const wait = this.#wait(cost, now, this.#queuedCost);
    const deadline = effectiveDeadlineOf(scope);
    if (now + wait >= deadline) {
      return Promise.reject(
        new RateLimitError(
          `RateLimiter: cost ${cost} would be granted in ${Math.ceil(wait)} ms, ` +
            `after the deadline in ${Math.max(0, Math.ceil(deadline - now))} ms`,
          { retryAfter: wait },
        ),
      );
    }
    const promise = this.#waiters.wait(scope, signal, cost);
    this.#queuedCost += cost;
    if (this.#waiters.size === 1) this.#arm(now + wait);
    return promise;
  }

  /**
   * Takes `cost` if it fits now and nobody waits. It does not wait, so it is
   * not a cancellation point.
   *
   * @param cost What the call costs (default 1).
   * @returns Whether the cost was taken.
   * @throws {TypeError} If `cost` is not a number.
   * @throws {RangeError} If `cost` is not in `(0, burst]`.
   */
  tryAcquire(cost = 1): boolean {
    if (cost !== 1) this.#checkCost(cost, "Cannot tryAcquire RateLimiter");
    return this.#waiters.size === 0 && this.#tryTake(cost, currentTime());
  }

  /**
   * How long `cost` would wait if asked for now, behind the calls waiting.
   *
   * @param cost What the call costs (default 1).
   * @returns Milliseconds; 0 if it fits now.
   * @throws {TypeError} If `cost` is not a number.
   * @throws {RangeError} If `cost` is not in `(0, burst]`.
   */
  retryAfter(cost = 1): number {
    if (cost !== 1) this.#checkCost(cost, "Cannot compute RateLimiter.retryAfter");
    return this.#wait(cost, currentTime(), this.#queuedCost);
  }

  /**
   * Runs `fn` once `cost` has passed (see {@linkcode RateLimiter.acquire}).
   *
   * @typeParam T The type of `fn`'s value.
   * @param fn The work to do.
   * @param options `cost` and the abort signal for the wait.
   * @returns `fn`'s value.
   * @throws {TypeError} If `fn` is not a function (as a rejection).
   * @throws {RateLimitError} As `acquire`.
   */
  async use<T>(fn: () => T | Promise<T>, options?: RateLimiterAcquireOptions): Promise<T> {
    checkFunction(fn, "fn", "Cannot use RateLimiter");
    await this.acquire(options);
    return await fn();
  }

  /**
   * A snapshot of the limiter.
   *
   * @returns Its settings, how many wait and the cost that would pass now.
   */
  statistics(): RateLimiterStatistics {
    return {
      limit: this.#limit,
      period: this.#period,
      burst: this.#burst,
      waiting: this.#waiters.size,
      available: this.#waiters.size !== 0
        ? 0
        : Math.max(0, this.#burst - this.#aheadAt(currentTime()) / this.#interval),
    };
  }

  #checkCost(value: unknown, where: string): number {
    if (value === undefined) value = 1;
    checkNumber(value, "cost", where, POSITIVE, isPositive);
    if ((value as number) > this.#burst) {
      throw new RangeError(`${where}: 'cost' must be <= burst (${this.#burst}), received ${value}`);
    }
    return value as number;
  }

  /** How far the theoretical arrival time lies ahead of `now` (0 once it has passed). */
  #aheadAt(now: number): number {
    const ahead = this.#ahead - (now - this.#at);
    return ahead > 0 ? ahead : 0;
  }

  /**
   * Ms until `cost` would be granted if it queued at `now` behind `queued`
   * cost of waiters (0: now). A waiter is granted at the latest when `tat`
   * has come, and each grant moves `tat` on by its cost, so the queue ends
   * at `max(tat, now) + queued * interval`.
   */
  #wait(cost: number, now: number, queued: number): number {
    const wait = this.#aheadAt(now) + (queued + cost - this.#burst) * this.#interval;
    return isDue(wait, now) ? 0 : wait;
  }

  /** Takes `cost` if it fits at `now` (the hot path of both acquires). */
  #tryTake(cost: number, now: number): boolean {
    const ahead = this.#aheadAt(now);
    if (!isDue(ahead + (cost - this.#burst) * this.#interval, now)) return false;
    this.#at = now;
    this.#ahead = ahead + cost * this.#interval;
    return true;
  }

  /** Grants every head waiter whose time has come, then arms for the next. */
  #grantDue(): void {
    const waiters = this.#waiters;
    // One reading for the whole loop: the grants of one pass happen at once.
    const now = currentTime();
    for (let w = waiters.head; w !== undefined; w = waiters.head) {
      const cost = w.payload as number;
      const wait = this.#wait(cost, now, 0);
      if (wait > 0) return this.#arm(now + wait);
      waiters.shift();
      this.#queuedCost -= cost;
      this.#ahead = this.#aheadAt(now) + cost * this.#interval;
      this.#at = now;
      w.resolve();
    }
    this.#queuedCost = 0; // no rounding left over from fractional costs
    removeDeadline(this.#deadline);
  }

  /** Re-times the head after the queue or the settings changed. */
  #retime(): void {
    const head: Waiter<void> | undefined = this.#waiters.head;
    if (head === undefined) {
      this.#queuedCost = 0;
      removeDeadline(this.#deadline);
    } else if (!this.#grantScheduled) {
      // A promise job, not a synchronous grant: code that changes a setting
      // and then cancels a waiter in the same turn sees the waiter cancelled.
      this.#grantScheduled = true;
      resolved.then(this.#grantJob);
    }
  }

  #arm(at: number): void {
    const entry = this.#deadline;
    if (entry.heapIndex >= 0) {
      if (entry.deadline === at) return;
      removeDeadline(entry);
    }
    entry.deadline = at;
    addDeadline(entry);
  }

  /** Keeps the cost already passed when the interval changes. */
  #setInterval(interval: number): void {
    const now = currentTime();
    this.#ahead = this.#aheadAt(now) * interval / this.#interval;
    this.#at = now;
    this.#interval = interval;
    this.#retime();
  }
}

defineInspect(RateLimiter, (self) => {
  const s = self.statistics();
  return `limit: ${s.limit}/${s.period} ms, burst: ${s.burst}, available: ${
    Math.floor(s.available * 100) / 100
  }, waiting: ${s.waiting}`;
});
