// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `CircuitBreaker`: stop calling a dependency that keeps failing, and probe it
 * again after a while.
 *
 * @module
 */

import { currentScope, pendingCancellation } from "./cancel.ts";
import { currentTime } from "./clock.ts";
import { defineInspect } from "./_inspect.ts";
import { CircuitOpenError, isCancelled } from "./errors.ts";
import { checkFunction } from "./_validate.ts";
import { checkBreakerOptions } from "./_breaker_options.ts";
import { retryAfterOf } from "./_retry_after.ts";
import { SharedBreaker, type SharedBreakerOptions } from "../distributed/_shared_breaker.ts";

/** The state of a {@linkcode CircuitBreaker}. */
export type CircuitState = "closed" | "open" | "half-open";

/** Options of the {@linkcode CircuitBreaker} constructor. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker: a positive integer (default 5). */
  failureThreshold?: number;
  /**
   * Milliseconds the breaker stays open before it lets probes through: `>= 0`,
   * or `Infinity` to stay open until `reset()` (default 60 000).
   */
  resetTimeout?: number;
  /** Probes let through at once while half-open: a positive integer (default 1). */
  halfOpenMaxCalls?: number;
  /**
   * Tells which errors count as failures (default: every error). Cancellations
   * never count, whatever it says. If it throws, the error counts as a failure
   * and `call` rejects with an `AggregateError` of `[error, what isFailure
   * threw]` (cause: the call's error), so neither is lost and nothing crashes.
   */
  isFailure?: (err: unknown) => boolean;
  /**
   * Called after every change of state. Errors it throws are logged with
   * `console.error` and change nothing (a broken logger must not crash the
   * process nor the call).
   */
  onStateChange?: (from: CircuitState, to: CircuitState) => void;
  /**
   * Shares the open state across processes through a store of
   * `@lionpride/core/distributed` (see docs/distributed.md): counting stays
   * per process; when one process opens the breaker, every process sharing
   * `name` fails fast within `syncInterval` ms, and half-open probes are
   * limited to `halfOpenMaxCalls` across all of them.
   *
   * Only `call()` reads the store (at most once per `syncInterval`, and
   * again when it takes a half-open probe lease); no timer polls it. So
   * `state`, `failures`, `statistics()` and `onStateChange` show this
   * process's view as of its last call: a process that makes no call still
   * reads `"closed"` after another one opened the breaker, and learns it on
   * its next `call()` (which then fails fast).
   *
   * A store that does not answer counts as unreachable, and the breaker then
   * decides on its own: a call waits at most `syncInterval` for the store
   * before deciding (the read, and the probe lease when half-open), and at
   * most `syncInterval` more, once `fn` has settled, for its outcome to be
   * stored. So a black-holed store (a client with no command timeout) slows
   * calls by at most `syncInterval`, never hangs them. An answer that comes
   * later is not adopted; a probe lease granted later is released at once;
   * a write that lands later still lands before this process's next one.
   */
  shared?: SharedBreakerOptions;
}

/** What {@linkcode CircuitBreaker.statistics} reports. */
export interface CircuitBreakerStatistics {
  /** The state now. */
  state: CircuitState;
  /** Consecutive failures so far. */
  failures: number;
  /**
   * Probes holding a half-open slot now (one running longer than `resetTimeout`
   * keeps its slot until a call takes it over).
   */
  probes: number;
  /** Milliseconds until an open breaker lets a probe through; 0 unless open. */
  retryAfter: number;
}

const WHERE = "Cannot create CircuitBreaker";

/**
 * A call let through while half-open: it holds a slot until it settles, or
 * until a call arriving `resetTimeout` or more after its start takes it over.
 */
interface Probe {
  readonly startedAt: number;
}

/**
 * A circuit breaker. `failureThreshold` consecutive failures open it; while
 * open, `call` rejects at once with {@linkcode CircuitOpenError} without
 * calling `fn`; `resetTimeout` ms later it turns half-open and lets up to
 * `halfOpenMaxCalls` probes through: a probe's success closes it, a probe's
 * failure re-opens it. When the error that opens it carries a `retryAfter`
 * (an `HttpError`, a `RateLimitError`, …), it stays open for the longer of
 * `resetTimeout` and that `retryAfter`. Time is read with
 * {@linkcode currentTime}, so no timer is ever armed.
 *
 * A probe that has not settled within `resetTimeout` of its start no longer
 * holds its slot: the next call takes the slot over and probes again, so a
 * hung probe never wedges the breaker. Its late outcome, success or failure,
 * is ignored, whether or not a newer probe took its slot: only a
 * probe that answers within `resetTimeout` says the dependency recovered.
 * Elapsed time is counted in whole milliseconds, so with `resetTimeout: 0` a
 * probe that settles in the millisecond it started counts. Choose a
 * `resetTimeout` longer than the dependency's normal latency: probes slower
 * than it keep the breaker half-open (each call still probes).
 *
 * Cancellations (see {@linkcode isCancelled}) and errors `isFailure` rejects
 * are neutral: they neither count as failures nor reset the count, and a
 * probe that ends so frees its slot for the next call. Every call belongs to
 * the state it started in: an outcome that arrives after the breaker changed
 * state (a slow call from before it opened, a stale probe) is ignored, so it
 * can never close a breaker that another probe re-opened.
 *
 * @example Usage
 * ```ts
 * import { CircuitBreaker, CircuitOpenError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 30_000 });
 * let calls = 0;
 * const flaky = () => {
 *   calls++;
 *   return Promise.reject(new Error("down"));
 * };
 * for (let i = 0; i < 2; i++) await assert.rejects(breaker.call(flaky), /down/);
 * assert.equal(breaker.state, "open");
 * await assert.rejects(
 *   breaker.call(flaky),
 *   (err) => err instanceof CircuitOpenError && err.retryAfter > 29_000,
 * );
 * assert.equal(calls, 2); // the open breaker did not call flaky
 * ```
 */
export class CircuitBreaker {
  readonly #failureThreshold: number;
  readonly #resetTimeout: number;
  readonly #halfOpenMaxCalls: number;
  readonly #isFailure: ((err: unknown) => boolean) | undefined;
  readonly #onStateChange: ((from: CircuitState, to: CircuitState) => void) | undefined;
  #state: CircuitState = "closed";
  #failures = 0;
  /** When an open breaker turns half-open (a `currentTime()` reading). */
  #openUntil = 0;
  /** The probes holding a slot, oldest first. */
  #probes: Probe[] = [];
  /** Bumped on every change of state; an outcome counts only in its own generation. */
  #generation = 0;
  readonly #shared: SharedBreaker | undefined;

  /**
   * Constructs a new breaker, closed.
   *
   * @param options Threshold, timeout, probes, failure filter and state callback.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If `failureThreshold` or `halfOpenMaxCalls` is not a
   * positive integer, or `resetTimeout` is negative or NaN.
   */
  constructor(options?: CircuitBreakerOptions) {
    const checked = checkBreakerOptions(options, WHERE);
    this.#failureThreshold = checked.failureThreshold;
    this.#halfOpenMaxCalls = checked.halfOpenMaxCalls;
    const resetTimeout = checked.resetTimeout;
    this.#resetTimeout = resetTimeout;
    this.#isFailure = checked.isFailure;
    this.#onStateChange = checked.onStateChange;
    this.#shared = options?.shared === undefined ? undefined : new SharedBreaker(
      options.shared,
      WHERE,
      { resetTimeout, halfOpenMaxCalls: this.#halfOpenMaxCalls },
      {
        adoptOpen: (openFor) => {
          const now = currentTime();
          this.#openUntil = resetTimeout === Infinity ? Infinity : now + openFor;
          if (this.#state === "closed" || openFor > 0 && this.#state === "half-open") {
            this.#transition("open");
          }
          this.#refresh(now);
        },
        adoptClosed: () => this.reset(),
        tripped: () => this.#state !== "closed",
      },
    );
  }

  /**
   * The state now; an open breaker whose `resetTimeout` has passed reads
   * `"half-open"`. With `shared`, this is this process's view as of its last
   * `call()`: what other processes did since shows only after the next call
   * syncs with the store.
   */
  get state(): CircuitState {
    this.#refresh();
    return this.#state;
  }

  /** Consecutive failures since the last success or `reset()`. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Calls `fn(...args)` unless the breaker is open, and records the outcome.
   *
   * @typeParam A The types of `fn`'s arguments.
   * @typeParam R The type of `fn`'s value.
   * @param fn The guarded call.
   * @param args The arguments for `fn`.
   * @returns `fn`'s value.
   * @throws {CircuitOpenError} If the breaker is open (`retryAfter`: the ms
   * left until it turns half-open), or half-open with every probe slot taken
   * (`retryAfter`: the ms until the oldest probe's slot can be taken over,
   * at the latest; sooner if a probe settles first); `fn` is not called then.
   * @throws {TypeError} If `fn` is not a function.
   * @throws {CancelledError} If the ambient scope is cancelled (`fn` is not
   * called). Otherwise rejects with whatever `fn` throws.
   */
  async call<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, ...args: A): Promise<R> {
    checkFunction(fn, "fn", "Cannot call through CircuitBreaker", "typed");
    const pending = pendingCancellation(currentScope(), undefined);
    if (pending !== undefined) throw pending;
    let since = 0;
    if (this.#shared !== undefined) {
      since = currentTime();
      await this.#shared.sync();
    }
    const now = currentTime();
    this.#refresh(now);
    if (this.#state === "open") {
      throw new CircuitOpenError(
        `Circuit breaker is open after ${this.#failures} consecutive failures`,
        { retryAfter: this.#retryAfter(now) },
      );
    }
    let probe: Probe | undefined;
    if (this.#state === "half-open") {
      const probes = this.#probes;
      if (probes.length >= this.#halfOpenMaxCalls && !this.#takeOverSlot(now)) {
        throw new CircuitOpenError(
          `Circuit breaker is half-open and its ${this.#halfOpenMaxCalls} probe(s) are running`,
          { retryAfter: this.#retryAfter(now) },
        );
      }
      probe = { startedAt: now };
      probes.push(probe);
    }
    const generation = this.#generation;
    const lease = probe && this.#shared !== undefined
      ? await this.#shared.takeProbe(since)
      : undefined;
    if (probe && this.#shared !== undefined && lease === undefined) {
      // Another process holds the shared probe lease, or re-opened the
      // breaker (adopted meanwhile): give the local slot back.
      if (generation === this.#generation) this.#counts(generation, probe);
      if (this.#state as CircuitState === "open") {
        throw new CircuitOpenError("Circuit breaker was re-opened by a failed probe", {
          retryAfter: this.#retryAfter(currentTime()),
        });
      }
      throw new CircuitOpenError(
        "Circuit breaker is half-open and its shared probe(s) are running",
        {
          retryAfter: this.#resetTimeout,
        },
      );
    }
    let value: R;
    try {
      value = await fn(...args);
    } catch (err) {
      const rejection = this.#recordError(err, generation, probe);
      const opened = this.#generation !== generation && this.#state as CircuitState === "open";
      await this.#shared?.settle(lease, opened ? this.#retryAfter(currentTime()) : undefined);
      throw rejection;
    }
    const closes = this.#counts(generation, probe);
    if (closes) {
      this.#failures = 0;
      if (probe !== undefined) this.#transition("closed");
    }
    await this.#shared?.settle(lease, closes && probe ? 0 : undefined);
    return value;
  }

  /** Closes the breaker and clears the failure count; outcomes of calls in flight are ignored. */
  reset(): void {
    this.#failures = 0;
    this.#transition("closed");
  }

  /**
   * A snapshot of the breaker.
   *
   * @returns The state, failure count, probes running and `retryAfter`.
   */
  statistics(): CircuitBreakerStatistics {
    const now = currentTime();
    this.#refresh(now);
    return {
      state: this.#state,
      failures: this.#failures,
      probes: this.#probes.length,
      retryAfter: this.#state === "open" ? this.#retryAfter(now) : 0,
    };
  }

  /** Books a failed call; returns the error the call rejects with. */
  #recordError(err: unknown, generation: number, probe: Probe | undefined): unknown {
    let failure = !isCancelled(err);
    let rejection = err;
    if (failure && this.#isFailure !== undefined) {
      try {
        failure = Boolean(this.#isFailure(err));
      } catch (filterError) {
        // A broken filter must not hide the call's error: count it, keep both.
        rejection = new AggregateError([err, filterError], "CircuitBreaker: isFailure threw", {
          cause: err,
        });
      }
    }
    if (!this.#counts(generation, probe) || !failure) return rejection;
    this.#failures++;
    if (probe !== undefined || this.#failures >= this.#failureThreshold) {
      const hint = retryAfterOf(err) ?? 0;
      this.#openUntil = currentTime() + Math.max(this.#resetTimeout, hint);
      this.#transition("open");
    }
    return rejection;
  }

  /**
   * Tells whether the outcome of a call counts: it started in the current
   * state, and if it is a probe, it still holds its slot (which it gives up
   * now) and settled within `resetTimeout` of its start (see the class JSDoc).
   */
  #counts(generation: number, probe: Probe | undefined): boolean {
    if (generation !== this.#generation) return false;
    if (probe === undefined) return true;
    const index = this.#probes.indexOf(probe);
    if (index < 0) return false;
    this.#probes.splice(index, 1);
    return Math.floor(currentTime() - probe.startedAt) <= this.#resetTimeout;
  }

  /**
   * Frees the slot of the oldest probe if it started `resetTimeout` or more
   * ago, for the call arriving now; tells whether it did. `>=` matches
   * `#retryAfter`: a call made `retryAfter` ms after a refusal gets through.
   */
  #takeOverSlot(now: number): boolean {
    const probes = this.#probes;
    if (now - probes[0].startedAt < this.#resetTimeout) return false;
    probes.shift();
    return true;
  }

  /**
   * Milliseconds until a call will be let through: while open, until it
   * turns half-open; while half-open with every slot taken, until the oldest
   * probe's slot can be taken over (at least 1: it is refused only before
   * then); otherwise 0.
   */
  #retryAfter(now: number): number {
    if (this.#state === "open") return Math.max(0, Math.ceil(this.#openUntil - now));
    const probes = this.#probes;
    if (this.#state !== "half-open" || probes.length < this.#halfOpenMaxCalls) return 0;
    return Math.ceil(probes[0].startedAt + this.#resetTimeout - now);
  }

  #refresh(now = currentTime()): void {
    if (this.#state === "open" && now >= this.#openUntil) this.#transition("half-open");
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    this.#generation++;
    this.#probes = [];
    if (from === to) return;
    this.#state = to;
    if (this.#onStateChange !== undefined) {
      try {
        this.#onStateChange(from, to);
      } catch (err) {
        console.error("CircuitBreaker: onStateChange threw", err);
      }
    }
  }
}

defineInspect(CircuitBreaker, (breaker) => {
  const { state, failures, probes, retryAfter } = breaker.statistics();
  const shown = JSON.stringify(state);
  if (state === "open") {
    return `state: ${shown}, failures: ${failures}, retryAfter: ${retryAfter} ms`;
  }
  if (state === "half-open") return `state: ${shown}, failures: ${failures}, probes: ${probes}`;
  return `state: ${shown}, failures: ${failures}`;
});
