// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * What every store engine does for the distributed primitives (internal): one
 * lease round, one GCRA decision, and the shared breaker's open state. The
 * primitives speak only this; `kvStore` and `redisStore` implement it.
 *
 * @module
 */

import { describeValue } from "../concurrency/errors.ts";

/**
 * A store the distributed primitives keep their shared state in, made by
 * `kvStore` (Deno KV) or `redisStore` (Redis). Opaque: pass it to
 * `DistributedLimiter`, `DistributedRateLimiter` or a `CircuitBreaker`'s
 * `shared` option.
 */
export interface DistributedStore {
  /** The engine behind the store. */
  readonly engine: "deno-kv" | "redis";
}

/** One lease round: what a process asks of the store for one limiter name. */
export interface LeaseRound {
  /** Milliseconds a granted or renewed lease lives. */
  ttl: number;
  /** The limit used while none is stored. */
  defaultLimit: number;
  /** Lease ids that want a lease, in local arrival order. */
  want: readonly string[];
  /** Held lease ids to renew (a gone lease is reported lost, never re-created). */
  renew: readonly string[];
  /** Lease ids (held, wanted or queued) to drop; unknown ids are ignored. */
  release: readonly string[];
  /** Grant only if nobody waits anywhere, and never queue (tryAcquire). */
  tryOnly: boolean;
  /**
   * Where the store keeps no global queue (KV), how waiting processes take
   * turns: this process's id among them, when each id of `want` arrived and
   * when its oldest waiter did (wall-clock ms, `NaN` if none), and how much
   * longer another process's waiters must have waited to go first. Absent
   * for a round that waits for nothing (the shared breaker's probe lease).
   */
  turns?: WaitTurns;
}

/** See {@linkcode LeaseRound.turns}. */
export interface WaitTurns {
  /** This pool's id. */
  member: string;
  /** `Date.now()` at the arrival of each id of `want`. */
  wantSince: readonly number[];
  /** `Date.now()` at the arrival of the oldest waiter of this pool (`NaN`: none). */
  oldest: number;
  /** Waiters of this pool, polled in this round or not. */
  waiting: number;
  /** Ms by which another pool's waiters must be older than one of ours to go first. */
  yieldAfter: number;
}

/** What a lease round found. */
export interface LeaseOutcome {
  /** Wanted ids that hold a lease now (granted now, or by an earlier round: renewed now). */
  granted: string[];
  /** Renewed ids whose lease was gone. */
  lost: string[];
  /** The limit in force. */
  limit: number;
  /** Unexpired leases after the round. */
  held: number;
}

/** One GCRA decision. */
export interface GcraRequest {
  /** Emission interval: `period / limit` ms per unit of cost. */
  interval: number;
  /** Cost that may pass at once. */
  burst: number;
  /** Cost of this request. */
  cost: number;
  /** Reserve even if it must wait, up to this many ms (0 = only if it fits now). */
  maxWait: number;
}

/** The result of a GCRA decision. */
export interface GcraOutcome {
  /** True if the cost was reserved. */
  ok: boolean;
  /** Ms until the reservation is due (ok), or until it would fit (not ok). */
  wait: number;
}

/** The shared state of a breaker, on the store's clock. */
export interface BreakerState {
  /** True from the moment a process opens it until a probe's success clears it. */
  tripped: boolean;
  /** Ms from now until it lets probes through; 0 once it does (or if not tripped). */
  openFor: number;
}

/** The internal face of a store. */
export abstract class StoreBackend implements DistributedStore {
  abstract readonly engine: "deno-kv" | "redis";
  /** Runs one lease round for `name`. */
  abstract leaseRound(name: string, round: LeaseRound): Promise<LeaseOutcome>;
  /** Reads the limit stored for `name` and its unexpired leases. */
  abstract leaseStats(name: string, defaultLimit: number): Promise<{ limit: number; held: number }>;
  /** Stores the limit of `name`. */
  abstract setLimit(name: string, limit: number): Promise<void>;
  /** Runs one GCRA decision for `name`. */
  abstract gcra(name: string, request: GcraRequest): Promise<GcraOutcome>;
  /** Reads how long the shared breaker `name` stays open. */
  abstract breakerRead(name: string): Promise<BreakerState>;
  /** Trips the shared breaker `name`, open for `ms` from now; `ms` 0 clears it. */
  abstract breakerWrite(name: string, ms: number): Promise<void>;
}

/** The backend behind `store`, or a TypeError naming the call and parameter. */
export function backendOf(store: unknown, where: string): StoreBackend {
  if (!(store instanceof StoreBackend)) {
    throw new TypeError(
      `${where}: 'store' must come from kvStore() or redisStore(), received ${
        describeValue(store)
      }`,
    );
  }
  return store;
}

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Checks a shared name: 1-128 characters of `A-Z a-z 0-9 _ . : -`. */
export function checkName(name: unknown, where: string): string {
  if (typeof name !== "string") {
    throw new TypeError(`${where}: 'name' must be a string, received ${describeValue(name)}`);
  }
  if (!NAME.test(name)) {
    throw new RangeError(
      `${where}: 'name' must be 1-128 characters of A-Z a-z 0-9 _ . : -, received ${
        JSON.stringify(name)
      }`,
    );
  }
  return name;
}
