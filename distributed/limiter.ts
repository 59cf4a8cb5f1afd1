// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `DistributedLimiter`: a capacity limiter whose `limit` holds across every
 * process sharing a store and a name, with leases that expire when their
 * holder dies.
 *
 * @module
 */

import { defineInspect } from "../concurrency/_inspect.ts";
import { CancelScope } from "../concurrency/cancel.ts";
import { isCancelled } from "../concurrency/errors.ts";
import { checkFunction } from "../concurrency/_validate.ts";
import { backendOf, checkName, type DistributedStore, type StoreBackend } from "./_store.ts";
import { isPositiveFinite, isPositiveInteger, numberOption, optionsObject } from "./_checks.ts";
import { KV_MAX_LEASES } from "./kv_store.ts";
import { LeasePool } from "./_lease_pool.ts";
import type { DistributedPermit } from "./_lease_permit.ts";

export type { DistributedPermit } from "./_lease_permit.ts";

/** Options of the {@linkcode DistributedLimiter} constructor. */
export interface DistributedLimiterOptions {
  /**
   * Leases held at once across all processes, while no limit is stored: a
   * positive integer, at most 1,000 on Deno KV (a name's leases share one
   * value of at most 64 KiB).
   */
  limit: number;
  /**
   * Milliseconds a lease lives without a renewal; a dead holder's slot is
   * free again within this.
   *
   * @default {30_000}
   */
  leaseTtl?: number;
  /**
   * Milliseconds between renewals of a held lease: `> 0` and `<= leaseTtl / 2`.
   *
   * @default {leaseTtl / 3}
   */
  heartbeat?: number;
  /**
   * Milliseconds between two store reads while this process has waiters
   * (jittered by ±50 %): `> 0` and `<= leaseTtl / 3`. Only a local release
   * or a new waiter polls sooner. A slot another process frees waits up to
   * this long for its next holder: Redis round trips are cheap, KV reads
   * (billed on Deploy) less so. Each poll keeps this process's waiters in
   * the global queue on Redis, where a waiter's ticket expires `leaseTtl`
   * after the last one: the bound keeps the longest gap between polls
   * (1.5 x `pollInterval`) within `leaseTtl / 2`, so a live waiter never
   * loses its place.
   *
   * @default {5 on Redis, 50 on Deno KV (at most leaseTtl / 3)}
   */
  pollInterval?: number;
}

/** Options of a waiting {@linkcode DistributedLimiter.acquire}. */
export interface DistributedAcquireOptions {
  /** Cancels the wait when it aborts. */
  signal?: AbortSignal;
}

/** What {@linkcode DistributedLimiter.statistics} reports. */
export interface DistributedLimiterStatistics {
  /** The limit in force (the stored one, else the constructor's). */
  limit: number;
  /** Unexpired leases across all processes. */
  held: number;
  /** Waiters in this process. */
  waiting: number;
}

const WHERE = "Cannot create DistributedLimiter";

const noop = (): void => {};

const fitsKvValue = (n: number): boolean => isPositiveInteger(n) && n <= KV_MAX_LEASES;

/**
 * A limit the store can hold: on KV every lease of a name shares one value,
 * so a larger limit would fail every round once the value is full, the
 * renewals of the leases already held with it.
 */
function limitOption(limit: unknown, backend: StoreBackend, where: string): number {
  const kv = backend.engine === "deno-kv";
  const expected = kv
    ? `a positive integer <= ${KV_MAX_LEASES} on Deno KV (a name's leases share one value of at most 64 KiB)`
    : "a positive integer";
  return numberOption(limit, "limit", where, expected, kv ? fitsKvValue : isPositiveInteger);
}

/** Each limiter's pool, for its console view. */
const pools = new WeakMap<DistributedLimiter, LeasePool>();

/**
 * A limiter shared by every process that uses the same store and name: never
 * more than `limit` unexpired leases exist (Redis: by the server's clock; KV:
 * by expiry times written in the value, on each process's wall clock, so
 * those clocks must agree to well within `heartbeat / 2`). A held lease is
 * renewed every `heartbeat` ms; a holder that dies frees its slot within
 * `leaseTtl`, and a holder that cannot renew learns it (its permit's `signal`
 * aborts with a {@linkcode LeaseLostError}) before its lease could expire.
 *
 * Waiters of one process queue FIFO behind one poller; on Redis, waiters
 * across processes are served in arrival order (a global ticket queue), and
 * `tryAcquire` never jumps ahead of a waiter; a process that dies while it
 * waits leaves its ticket for up to `leaseTtl`, holding a free slot back
 * that long, as a dead holder's lease does. On KV, processes take turns: a
 * process serves its own waiters first unless another process's waiters
 * have waited four poll intervals longer, and `tryAcquire` takes no slot
 * while another process waits, so none waits for ever behind a busy one.
 * Store errors are retried with capped (≤ 1 s)
 * jittered backoff, indefinitely without a deadline; an effective deadline
 * ends the wait with the store's last error. It never admits on an error.
 *
 * @example Usage
 * ```ts
 * import { DistributedLimiter, kvStore } from "@lionpride/core/distributed";
 * import assert from "node:assert/strict";
 *
 * const kv = await Deno.openKv(":memory:");
 * const limiter = new DistributedLimiter(kvStore(kv), "db", { limit: 1 });
 * const permit = await limiter.acquire();
 * assert.equal(await limiter.tryAcquire(), undefined); // the one slot is taken
 * await permit.release();
 * assert.equal(await limiter.use(() => "done"), "done");
 * kv.close();
 * ```
 */
export class DistributedLimiter {
  readonly #backend: StoreBackend;
  readonly #name: string;
  readonly #limit: number;
  readonly #pool: LeasePool;

  /**
   * Constructs a limiter; nothing is written to the store until it is used.
   *
   * @param store From `kvStore` or `redisStore`.
   * @param name The shared name: 1-128 characters of `A-Z a-z 0-9 _ . : -`.
   * @param options The limit, lease time, heartbeat and poll interval.
   * @throws {TypeError} If `store` is not a store, or an argument has the wrong type.
   * @throws {RangeError} If `limit` is not a positive integer (at most 1,000
   * on Deno KV), `leaseTtl` not finite and `> 0`, `heartbeat` not in
   * `(0, leaseTtl / 2]`, `pollInterval` not in `(0, leaseTtl / 3]`, or
   * `name` has other characters.
   */
  constructor(store: DistributedStore, name: string, options: DistributedLimiterOptions) {
    this.#backend = backendOf(store, WHERE);
    this.#name = checkName(name, WHERE);
    const o = optionsObject(options, WHERE);
    this.#limit = limitOption(o.limit, this.#backend, WHERE);
    const ttl = o.leaseTtl === undefined ? 30_000 : numberOption(
      o.leaseTtl,
      "leaseTtl",
      WHERE,
      "a finite number of ms > 0",
      isPositiveFinite,
    );
    const heartbeat = o.heartbeat === undefined ? ttl / 3 : numberOption(
      o.heartbeat,
      "heartbeat",
      WHERE,
      `a number of ms > 0 and <= leaseTtl / 2 (${ttl / 2})`,
      (n) => n > 0 && n <= ttl / 2,
    );
    // A waiter's queue ticket lives leaseTtl from its process's last poll,
    // and polls come up to 1.5 x pollInterval apart (jitter): at most
    // leaseTtl / 3 leaves half the ticket's life for round trips, as
    // heartbeat <= leaseTtl / 2 does for a lease.
    const maxPoll = ttl / 3;
    const poll = o.pollInterval === undefined
      ? Math.min(this.#backend.engine === "redis" ? 5 : 50, maxPoll)
      : numberOption(
        o.pollInterval,
        "pollInterval",
        WHERE,
        `a number of ms > 0 and <= leaseTtl / 3 (${+maxPoll.toFixed(3)} with leaseTtl ${ttl}), ` +
          "so a waiter's queue ticket outlives the gap between its polls",
        (n) => n > 0 && n <= maxPoll,
      );
    this.#pool = new LeasePool({
      backend: this.#backend,
      name,
      limit: this.#limit,
      ttl,
      heartbeat,
      poll,
    });
    pools.set(this, this.#pool);
  }

  /** The shared name. */
  get name(): string {
    return this.#name;
  }

  /**
   * Waits for a lease, FIFO behind this process's earlier waiters.
   *
   * @param options The abort signal.
   * @returns The permit; release it (or `await using` it) when done.
   * @throws {CancelledError} Or the signal's reason, if the wait is cancelled.
   * @throws The store's last error, if the effective deadline comes while
   * the store is failing.
   */
  acquire(options?: DistributedAcquireOptions): Promise<DistributedPermit> {
    return this.#pool.acquire(options, "Cannot acquire DistributedLimiter");
  }

  /**
   * Takes a lease if one is free now and nobody waits (here or, on Redis,
   * anywhere).
   *
   * @returns The permit, or `undefined`.
   * @throws The store's error, if the store fails (nothing is held then).
   */
  tryAcquire(): Promise<DistributedPermit | undefined> {
    return this.#pool.tryAcquire();
  }

  /**
   * Runs `fn` holding a lease, in a scope that is cancelled if the lease is
   * lost; releases the lease once `fn` has settled, and returns once the
   * release is done. A cancellation `fn` ignores does not free the slot
   * under it: the lease is held until `fn` settles (or is lost), so no other
   * holder runs beside it, though an enclosing `failAfter` or `moveOnAfter`
   * still returns on time. While the store is down the release takes until
   * the lease would have expired anyway (up to `leaseTtl`, plus one retry
   * delay of at most 1 s, after `fn`). To not wait, `acquire()` and call
   * `release()` without awaiting it: the lease counts until released or
   * expired either way.
   *
   * @typeParam T The type of `fn`'s value.
   * @param fn The work; it receives the scope's signal.
   * @param options The abort signal of the wait.
   * @returns `fn`'s value.
   * @throws {LeaseLostError} If the lease was lost while `fn` ran.
   * @throws Whatever `acquire` or `fn` throws.
   */
  async use<T>(
    fn: (signal: AbortSignal) => T | Promise<T>,
    options?: DistributedAcquireOptions,
  ): Promise<T> {
    checkFunction(fn, "fn", "Cannot use DistributedLimiter", "typed");
    const permit = await this.acquire(options);
    const scope = new CancelScope();
    let markLost!: () => void;
    const lost = new Promise<void>((resolve) => (markLost = resolve));
    const onLost = (): void => {
      scope.cancel(permit.signal.reason);
      markLost();
    };
    permit.signal.addEventListener("abort", onLost);
    let work: Promise<unknown> | undefined;
    try {
      const value = await scope.run((s) => {
        const out = fn(s.signal);
        work = Promise.resolve(out);
        return out;
      });
      if (permit.signal.aborted) throw permit.signal.reason;
      return value as T;
    } catch (err) {
      throw permit.signal.aborted && isCancelled(err) ? permit.signal.reason : err;
    } finally {
      // A cancellation ends the scope one turn after it, even if fn ignores
      // it; the slot stays fn's until fn settles (or the lease is lost), or
      // another holder would run beside it.
      if (work !== undefined && !permit.signal.aborted) {
        await Promise.race([work.then(noop, noop), lost]);
      }
      permit.signal.removeEventListener("abort", onLost);
      await permit.release();
    }
  }

  /**
   * Reads the limit in force and the leases held across all processes.
   *
   * @returns The limit, held leases and this process's waiters.
   * @throws The store's error.
   */
  async statistics(): Promise<DistributedLimiterStatistics> {
    const { limit, held } = await this.#backend.leaseStats(this.#name, this.#limit);
    return { limit, held, waiting: this.#pool.waiting };
  }

  /**
   * Stores a new limit for every process sharing the name. Lowering it never
   * revokes leases already held.
   *
   * @param limit A positive integer, at most 1,000 on Deno KV.
   * @returns A promise that resolves once stored.
   * @throws {RangeError} If `limit` is not a positive integer, or above 1,000
   * on Deno KV (nothing is stored then).
   * @throws The store's error.
   */
  async setLimit(limit: number): Promise<void> {
    limitOption(limit, this.#backend, "Cannot set DistributedLimiter limit");
    await this.#backend.setLimit(this.#name, limit);
    this.#pool.pollSoon();
  }
}

defineInspect(DistributedLimiter, (self) => {
  const pool = pools.get(self);
  return `name: ${JSON.stringify(self.name)}, holding: ${pool?.holding}, waiting: ${pool?.waiting}`;
});
