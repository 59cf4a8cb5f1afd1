// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The one attempt loop (internal), shared by `retry` and `alcall`: attempts,
 * backoff with jitter, `retryOn` (default: `retryableByDefault`),
 * Retry-After hints capped by `maxRetryAfter`, a per-attempt and a total
 * timeout that say where they fired, limiter permits and rate-limit tokens
 * per attempt, and deadline awareness.
 *
 * `retry` counts `attempts` in total, `alcall` counts `retryAttempts` after
 * the first: both hand this loop the total.
 *
 * @module
 */

import type { CancelScope } from "./cancel.ts";
import { currentScope, effectiveDeadline, pendingCancellation } from "./cancel.ts";
import { currentTime } from "./clock.ts";
import { isCancelled } from "./errors.ts";
import { retryableByDefault, retryAfterOf } from "./_retry_after.ts";
import { sleep } from "./sleep.ts";
import { type DeadlineLabel, runWithTimeout } from "./timeouts.ts";

/** The least spread of retries that wait out a Retry-After (as a fraction of it). */
const HINT_SPREAD = 0.1;
/**
 * The method by which a limiter that measures its calls (`AdaptiveLimiter`)
 * runs an attempt that must first wait, permit in hand, for a rate-limit
 * token: it measures the attempt alone, not the wait.
 */
export const USE_AFTER: unique symbol = Symbol("lionpride.useAfter");

/** A limiter with {@linkcode USE_AFTER} (kept out of the public `PermitLimiter`). */
interface MeasuringLimiter extends PermitLimiter {
  [USE_AFTER]?<T>(
    ready: () => Promise<unknown>,
    fn: () => T | Promise<T>,
    options?: { signal?: AbortSignal },
  ): Promise<T>;
}

/** A concurrency limiter as `alcall` uses it: `CapacityLimiter`, `AdaptiveLimiter` or alike. */
export interface PermitLimiter {
  /** Runs `fn` holding one permit. */
  use<T>(fn: () => T | Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** The current limit, reported by `onProgress`. */
  readonly totalTokens?: number;
}

/** A rate limiter as `alcall` uses it: `RateLimiter`, `DistributedRateLimiter` or alike. */
export interface TokenRateLimiter {
  /** Waits until one more call may start. */
  acquire(options?: { cost?: number; signal?: AbortSignal }): Promise<unknown>;
}

/** How to try (internal). */
export interface AttemptPolicy {
  /** Attempts in all (the first included); a positive integer or Infinity. */
  attempts: number;
  /**
   * The backoff before retry `k` (k = 1, 2, …), before jitter and
   * Retry-After, is `min(maxDelay, baseDelay * factor ** (k - 1))`.
   */
  baseDelay: number;
  /** See `baseDelay`. */
  factor: number;
  /** See `baseDelay`. */
  maxDelay: number;
  /** Random extra delay as a fraction of the delay (0: none). */
  jitter: number;
  /** Which errors to retry; `undefined`: `retryableByDefault`. */
  retryOn: ((err: unknown) => boolean) | undefined;
  /** Longest Retry-After hint worth waiting for, in ms. */
  maxRetryAfter: number;
  /** Budget of one attempt in ms (`undefined`: none). */
  attemptTimeout: number | undefined;
  /** Budget of all attempts and sleeps in ms (`undefined`: none). */
  totalTimeout: number | undefined;
  /** Each attempt runs holding one of its permits. */
  limiter: PermitLimiter | undefined;
  /** Each attempt takes one of its tokens before it starts. */
  rateLimiter: TokenRateLimiter | undefined;
  /** Called before each retry's sleep (alcall's books). */
  onRetry: (() => void) | undefined;
  /** An error arriving while the loop's scope is cancelled is final (alcall), else the cancellation wins (retry). */
  cancelledIsFinal: boolean;
  /** Sleep (a macrotask turn) even before a retry whose delay is 0 (retry), else go on at once (alcall). */
  sleepsOnZero: boolean;
}

/**
 * One attempt: `scope` is the attempt's own scope when it has a timeout,
 * else the scope the loop runs in (`undefined` outside any).
 */
export type Attempt<T> = (attempt: number, scope: CancelScope | undefined) => T | Promise<T>;

/**
 * Names one of the loop's own budgets in its `TimeoutError`, e.g. `item 17:
 * attempt 2 timed out after 5000 ms (attemptTimeout)`. The attempt is read
 * when the deadline has fired: for `retryTimeout` during a backoff sleep it
 * is the attempt that last failed.
 */
class BudgetLabel implements DeadlineLabel {
  constructor(
    readonly source: "attemptTimeout" | "retryTimeout",
    readonly trial: { readonly label: string; readonly attempt: number },
  ) {}

  subject(): string {
    return `${this.trial.label}attempt ${this.trial.attempt}`;
  }
}

/**
 * Asks `retryOn` whether to retry after `err`. If the predicate itself
 * throws, both errors are kept (neither is lost): an `AggregateError` of
 * `[err, thrown]` is thrown.
 */
function retryAllowed(retryOn: (err: unknown) => boolean, err: unknown): boolean {
  try {
    return retryOn(err);
  } catch (thrown) {
    throw new AggregateError([err, thrown], "retryOn threw while deciding whether to retry", {
      cause: err,
    });
  }
}

/** One run of the loop: the attempt in progress (for messages) and its own total deadline. */
class Trial<T> {
  attempt = 0;
  /** The total-timeout scope's deadline (Infinity: none). */
  ownDeadline = Infinity;

  /** No timeout, limiter nor rate limiter: an attempt is a bare call of `fn`. */
  readonly #bare: boolean;
  #attemptLabel: BudgetLabel | undefined = undefined;

  constructor(
    readonly fn: Attempt<T>,
    readonly policy: AttemptPolicy,
    readonly label: string,
  ) {
    this.#bare = policy.attemptTimeout === undefined && policy.limiter === undefined &&
      policy.rateLimiter === undefined;
  }

  /** One attempt: a rate-limit token, a permit, then `fn` under its own timeout. */
  once(scope: CancelScope | undefined): T | Promise<T> {
    if (this.#bare) return this.fn(this.attempt, scope);
    const { limiter, rateLimiter } = this.policy;
    if (limiter === undefined && rateLimiter === undefined) return this.timed(scope);
    return this.#limited(scope, limiter, rateLimiter);
  }

  #limited(
    scope: CancelScope | undefined,
    limiter: PermitLimiter | undefined,
    rateLimiter: TokenRateLimiter | undefined,
  ): Promise<T> {
    const signal = scope?.signal;
    // The permit comes first and the token under it, so that tokens do not
    // pile up while every permit is busy and then start together.
    if (rateLimiter === undefined) return limiter!.use(() => this.timed(scope), { signal });
    const token = () => rateLimiter.acquire({ cost: 1, signal });
    if (limiter === undefined) return token().then(() => this.timed(scope));
    const measuring = limiter as MeasuringLimiter;
    if (measuring[USE_AFTER] !== undefined) {
      return measuring[USE_AFTER](token, () => this.timed(scope), { signal });
    }
    return limiter.use(() => token().then(() => this.timed(scope)), { signal });
  }

  /** `fn` under the attempt timeout, opened here so waiting for permits does not count. */
  timed(scope: CancelScope | undefined): Promise<T> {
    const ms = this.policy.attemptTimeout;
    if (ms === undefined) return Promise.resolve(this.fn(this.attempt, scope));
    this.#attemptLabel ??= new BudgetLabel("attemptTimeout", this);
    return runWithTimeout(ms, this.#attemptLabel, (own) => this.fn(this.attempt, own));
  }

  /**
   * The delay before the next attempt after `err`, or `undefined` if `err`
   * is final: out of attempts, a cancellation, a Retry-After too long or past
   * the deadline, refused by `retryOn`, or a backoff that would end at or
   * after a deadline other than the loop's own total timeout (that one fires
   * during the sleep, as a `TimeoutError` naming the attempt that failed).
   */
  delayAfter(err: unknown): number | undefined {
    const { policy } = this;
    if (this.attempt >= policy.attempts || isCancelled(err)) return undefined;
    const deadline = effectiveDeadline();
    // Cancelled already: alcall reports the error as the item's failure;
    // retry sleeps, so that the cancellation wins over the last error.
    if (deadline === -Infinity && policy.cancelledIsFinal) return undefined;
    const hint = retryAfterOf(err);
    if (hint !== undefined && hint > policy.maxRetryAfter) return undefined;
    const retryable = policy.retryOn === undefined
      ? retryableByDefault(err)
      : retryAllowed(policy.retryOn, err);
    if (!retryable) return undefined;
    let delay = Math.min(policy.maxDelay, policy.baseDelay * policy.factor ** (this.attempt - 1));
    let jitter = policy.jitter;
    const waitsForHint = hint !== undefined && hint > delay;
    if (waitsForHint) {
      delay = hint;
      // A Retry-After is one wake-up time for every caller the server turned
      // away: spread those retries (only ever later) so they do not land in
      // the same instant and earn the next 429 together.
      if (jitter < HINT_SPREAD) jitter = HINT_SPREAD;
    }
    if (jitter !== 0) delay *= 1 + Math.random() * jitter;
    if (deadline === -Infinity) return delay;
    const now = currentTime();
    if (hint !== undefined && now + hint >= deadline) return undefined;
    // The server's time fits: the spread must not carry the retry it allowed
    // past the deadline (tests/scenarios_e2e_test.ts, "a Retry-After that
    // ends before the deadline is retried, whatever the spread adds to it").
    if (waitsForHint && now + delay >= deadline) delay = hint!;
    const outer = deadline < this.ownDeadline ? deadline : Infinity;
    return now + delay >= outer ? undefined : delay;
  }

  async loop(scope: CancelScope | undefined): Promise<T> {
    for (;;) {
      this.attempt++;
      let delay: number | undefined;
      try {
        return await this.once(scope);
      } catch (err) {
        delay = this.delayAfter(err);
        if (delay === undefined) throw err;
      }
      this.policy.onRetry?.();
      if (delay > 0 || this.policy.sleepsOnZero) {
        await sleep(delay);
        // The clock expires every deadline due when it fires: a sleep that
        // ends in the deadline's millisecond (or a late timer) resolves in
        // the turn that cancels the scope. Starting an attempt is a
        // checkpoint, so that attempt never starts.
        const cancelled = pendingCancellation(currentScope(), undefined);
        if (cancelled !== undefined) throw cancelled;
      }
    }
  }
}

/**
 * Calls `fn` until it succeeds or its error is final, as `policy` says.
 * `scope` is the scope the loop runs in (handed to attempts without a
 * timeout of their own); `label` prefixes the messages of the loop's own
 * timeouts (e.g. `"item 17: "`).
 *
 * @throws The last error, a `TimeoutError` of the total timeout, or a cancellation.
 */
export function runAttempts<T>(
  fn: Attempt<T>,
  policy: AttemptPolicy,
  scope: CancelScope | undefined,
  label: string,
): Promise<T> {
  const trial = new Trial(fn, policy, label);
  const ms = policy.totalTimeout;
  if (ms !== undefined) return withinTotal(trial, ms);
  if (policy.attempts !== 1) return trial.loop(scope);
  // One attempt, no total budget: nothing for the loop to do.
  trial.attempt = 1;
  try {
    return Promise.resolve(trial.once(scope));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The loop under its total timeout (alcall's `retryTimeout`). */
function withinTotal<T>(trial: Trial<T>, ms: number): Promise<T> {
  return runWithTimeout(ms, new BudgetLabel("retryTimeout", trial), (own) => {
    trial.ownDeadline = own.deadline;
    return trial.loop(own);
  });
}
