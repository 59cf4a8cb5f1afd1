// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `DistributedRateLimiter`: a GCRA rate limit shared by every process that
 * uses the same store and name.
 *
 * @module
 */

import { defineInspect } from "../concurrency/_inspect.ts";
import { currentScope, effectiveDeadline, pendingCancellation } from "../concurrency/cancel.ts";
import { currentTime } from "../concurrency/clock.ts";
import { isCancelled, RateLimitError } from "../concurrency/errors.ts";
import { retry } from "../concurrency/mod.ts";
import { sleep } from "../concurrency/sleep.ts";
import { checkSignalOption } from "../concurrency/_wait_queue.ts";
import {
  backendOf,
  checkName,
  type DistributedStore,
  type GcraOutcome,
  type StoreBackend,
} from "./_store.ts";
import { isPositiveFinite, numberOption, optionsObject } from "./_checks.ts";

/** Options of the {@linkcode DistributedRateLimiter} constructor. */
export interface DistributedRateLimiterOptions {
  /** Cost admitted per `period`: a finite number > 0. */
  limit: number;
  /** Milliseconds over which `limit` is admitted: a finite number > 0. */
  period: number;
  /**
   * Cost that may pass at once: a finite number > 0.
   *
   * @default {limit}
   */
  burst?: number;
}

/** Options of {@linkcode DistributedRateLimiter.acquire}. */
export interface DistributedRateAcquireOptions {
  /**
   * Cost of this request: `> 0` and `<= burst`.
   *
   * @default {1}
   */
  cost?: number;
  /** Cancels the wait when it aborts (the reservation is kept). */
  signal?: AbortSignal;
}

/** What {@linkcode DistributedRateLimiter.tryAcquire} decides. */
export interface RateDecision {
  /** True if the cost was admitted. */
  ok: boolean;
  /** Milliseconds until the cost would be admitted; 0 when `ok`. */
  retryAfter: number;
}

const WHERE = "Cannot create DistributedRateLimiter";

/**
 * Ms taken off the time left before the deadline when a reservation may
 * wait: the stores let a decision lie up to 1e-3 ms past its bound (float
 * rounding), and a slot due at the deadline, not only after it, must be
 * refused (as RateLimiter does). Sleeps end on whole ms, so refusing a slot
 * a few µs before the deadline costs nothing.
 */
const AT_DEADLINE = 2e-3;

function decision({ ok, wait }: GcraOutcome): RateDecision {
  return { ok, retryAfter: ok ? 0 : Math.ceil(wait) };
}

/**
 * A rate limit shared across processes: GCRA (virtual scheduling) over one
 * state value per name, so over any window of length t at most
 * `burst + limit * t / period` cost passes across all processes. On Redis
 * each decision is one round trip (a Lua script on the server's clock); on
 * Deno KV it is a read and a compare-and-set (wall clocks must agree).
 *
 * `acquire` reserves a slot in the schedule, then sleeps until it: a
 * cancelled sleep KEEPS its reservation (the store has already moved the
 * schedule on; giving it back would need a second round trip that could
 * race other processes), so cancelling waiters costs capacity, never safety.
 * A reservation that would come due at or after the ambient deadline is not
 * made: `acquire` rejects at once with a `RateLimitError`.
 *
 * A decision whose reply is lost (the store call throws after the store
 * decided) may have reserved its cost: `acquire` retries it, and a caller
 * that retries a rejected `tryAcquire` asks again, so the cost can be
 * reserved twice. That only under-admits; it never lets more pass.
 *
 * @example Usage
 * ```ts
 * import { DistributedRateLimiter, kvStore } from "@lionpride/core/distributed";
 * import assert from "node:assert/strict";
 *
 * const kv = await Deno.openKv(":memory:");
 * const limiter = new DistributedRateLimiter(kvStore(kv), "api", { limit: 2, period: 60_000 });
 * assert.equal((await limiter.tryAcquire()).ok, true);
 * assert.equal((await limiter.tryAcquire()).ok, true);
 * const third = await limiter.tryAcquire();
 * assert.equal(third.ok, false);
 * assert.ok(third.retryAfter > 29_000 && third.retryAfter <= 30_000);
 * kv.close();
 * ```
 */
export class DistributedRateLimiter {
  readonly #backend: StoreBackend;
  readonly #name: string;
  readonly #interval: number;
  readonly #burst: number;

  /**
   * Constructs a rate limiter; nothing is written until it is used.
   *
   * @param store From `kvStore` or `redisStore`.
   * @param name The shared name: 1-128 characters of `A-Z a-z 0-9 _ . : -`.
   * @param options The rate (`limit` per `period`) and `burst`.
   * @throws {TypeError} If `store` is not a store, or an argument has the wrong type.
   * @throws {RangeError} If `limit`, `period` or `burst` is not a finite
   * number > 0, or `name` has other characters.
   */
  constructor(store: DistributedStore, name: string, options: DistributedRateLimiterOptions) {
    this.#backend = backendOf(store, WHERE);
    this.#name = checkName(name, WHERE);
    const o = optionsObject(options, WHERE);
    const what = "a finite number > 0";
    const limit = numberOption(o.limit, "limit", WHERE, what, isPositiveFinite);
    const period = numberOption(o.period, "period", WHERE, what, isPositiveFinite);
    const burst = o.burst === undefined
      ? limit
      : numberOption(o.burst, "burst", WHERE, what, isPositiveFinite);
    // As RateLimiter: below 1 every default-cost acquire would throw, so say so once, here.
    if (burst < 1) {
      throw new RangeError(
        `${WHERE}: 'burst' (default: 'limit') must be >= 1, received ${burst}; ` +
          `give a burst >= 1, or express the rate with a longer period`,
      );
    }
    this.#burst = burst;
    this.#interval = period / limit;
  }

  /** The shared name. */
  get name(): string {
    return this.#name;
  }

  /** Cost that may pass at once. */
  get burst(): number {
    return this.#burst;
  }

  readonly #fitsBurst = (n: number): boolean => n > 0 && n <= this.#burst;

  #cost(cost: unknown, where: string): number {
    if (typeof cost === "number" && cost > 0 && cost <= this.#burst) return cost;
    return numberOption(
      cost,
      "cost",
      where,
      `a number > 0 and <= burst (${this.#burst})`,
      this.#fitsBurst,
    );
  }

  /**
   * Reserves `cost` in the shared schedule and sleeps until it is due. Store
   * errors are retried with capped (≤ 1 s) jittered backoff until the
   * effective deadline, which ends it with the store's last error.
   *
   * @param options `cost` and the abort signal.
   * @returns A promise that resolves when the cost is admitted.
   * @throws {RangeError} If `cost` is not in `(0, burst]`.
   * @throws {RateLimitError} If the reservation would come due at or after
   * the ambient deadline (`retryAfter`: ms until it would; nothing reserved).
   * @throws {CancelledError} Or the signal's reason, if cancelled (a
   * reservation already made is kept).
   */
  async acquire(options?: DistributedRateAcquireOptions): Promise<void> {
    const where = "Cannot acquire DistributedRateLimiter";
    const signal = checkSignalOption(options, where);
    const cost = options?.cost === undefined ? 1 : this.#cost(options.cost, where);
    const pending = pendingCancellation(currentScope(), signal);
    if (pending !== undefined) throw pending;
    const { ok, wait } = await this.#reserve(cost, signal);
    if (!ok) {
      throw new RateLimitError(
        `DistributedRateLimiter '${this.#name}': cost ${cost} would be admitted only at or after the deadline`,
        { retryAfter: Math.ceil(wait) },
      );
    }
    if (wait > 0) await sleep(wait, { signal });
  }

  /**
   * One reservation, store errors retried with the one attempt loop. A
   * deadline that lands while a retry sleeps ends it with the store's error.
   * Each attempt reads the deadline as it stands then: the scope may have
   * moved it while the store failed.
   */
  async #reserve(cost: number, signal: AbortSignal | undefined): Promise<GcraOutcome> {
    let storeError: unknown = undefined;
    const attempt = async (): Promise<GcraOutcome> => {
      const deadline = effectiveDeadline();
      try {
        return await this.#backend.gcra(this.#name, {
          interval: this.#interval,
          burst: this.#burst,
          cost,
          maxWait: deadline === Infinity ? Infinity : deadline - currentTime() - AT_DEADLINE,
        });
      } catch (err) {
        throw storeError = err;
      }
    };
    try {
      return await retry(attempt, {
        attempts: Infinity,
        baseDelay: 25,
        maxDelay: 900,
        jitter: 0.1,
        signal,
      });
    } catch (err) {
      if (isCancelled(err) && storeError !== undefined && currentTime() >= effectiveDeadline()) {
        throw storeError;
      }
      throw err;
    }
  }

  /**
   * Admits `cost` if it fits now; never waits.
   *
   * @param cost `> 0` and `<= burst` (default 1).
   * @returns `{ ok, retryAfter }`: `retryAfter` is the ms until `cost` would
   * fit (0 when ok).
   * @throws {RangeError} If `cost` is not in `(0, burst]`.
   * @throws The store's error. The store may have admitted `cost` before
   * the reply was lost: retrying then reserves it again (under-admits only).
   */
  tryAcquire(cost = 1): Promise<RateDecision> {
    try {
      this.#cost(cost, "Cannot tryAcquire DistributedRateLimiter");
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#backend.gcra(this.#name, {
      interval: this.#interval,
      burst: this.#burst,
      cost,
      maxWait: 0,
    }).then(decision);
  }
}

defineInspect(
  DistributedRateLimiter,
  (self) => `name: ${JSON.stringify(self.name)}, burst: ${self.burst}`,
);
