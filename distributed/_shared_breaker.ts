// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * What a `CircuitBreaker` with the `shared` option does with the store
 * (internal). Counting stays in each process; the store holds whether the
 * breaker is tripped and until when it stays open, and a probe lease that
 * limits half-open probes across processes.
 *
 * The breaker reads the shared state at most once per `syncInterval` (so a
 * breaker that another process opened fails fast here within that time),
 * and again once it holds a probe lease (so it never probes on a view older
 * than the failed probe that released the lease), and adopts it: open with
 * the store's remaining time, half-open once that has passed, closed once a
 * probe's success has cleared it. A store that cannot be reached leaves the
 * breaker to its own, local decisions: the breaker protects callers from a
 * failing upstream, and must not become a second point of failure. A
 * decision the store missed is stored at the next sync, not undone by it.
 *
 * @module
 */

import { currentTime } from "../concurrency/clock.ts";
import { backendOf, checkName, type DistributedStore, type StoreBackend } from "./_store.ts";
import { isPositiveFinite, numberOption, optionsObject } from "./_checks.ts";

/** The `shared` option of a `CircuitBreaker`. */
export interface SharedBreakerOptions {
  /** From `kvStore` or `redisStore`. */
  store: DistributedStore;
  /** The shared name: 1-128 characters of `A-Z a-z 0-9 _ . : -`. */
  name: string;
  /**
   * Milliseconds between two reads of the shared state.
   *
   * @default {1_000}
   */
  syncInterval?: number;
}

/** How the shared state reaches the breaker's private state. */
export interface BreakerHooks {
  /** Opens the breaker locally for `openFor` ms (0: half-open now). */
  adoptOpen(openFor: number): void;
  /** Closes the breaker locally (a probe somewhere succeeded). */
  adoptClosed(): void;
  /** True while the breaker is open or half-open locally. */
  tripped(): boolean;
}

/** Open times are stored finite: `resetTimeout: Infinity` stays open ~24 days at a time. */
const MAX_OPEN = 2 ** 31 - 1;

/** Internal. */
export class SharedBreaker {
  readonly #backend: StoreBackend;
  readonly #name: string;
  readonly #syncInterval: number;
  readonly #probeTtl: number;
  readonly #probes: number;
  readonly #hooks: BreakerHooks;
  #syncedAt = -Infinity;
  #syncing: Promise<void> | undefined = undefined;
  /** Bumped by every write: a read that started before a write is stale. */
  #writes = 0;
  /**
   * What this process decided but could not store: the `currentTime()` its
   * open state ends at, or 0 for cleared. The next sync stores it instead of
   * reading, so a store that never heard of it cannot undo it.
   */
  #unstored: number | undefined = undefined;

  constructor(
    options: unknown,
    where: string,
    breaker: { resetTimeout: number; halfOpenMaxCalls: number },
    hooks: BreakerHooks,
  ) {
    const o = optionsObject(options, `${where}: 'shared'`);
    this.#backend = backendOf(o.store, where);
    this.#name = checkName(o.name, where);
    this.#syncInterval = o.syncInterval === undefined ? 1_000 : numberOption(
      o.syncInterval,
      "syncInterval",
      where,
      "a finite number of ms > 0",
      isPositiveFinite,
    );
    // A probe that hangs stops holding its slot after resetTimeout, as locally.
    this.#probeTtl = Math.min(Math.max(breaker.resetTimeout, 1), MAX_OPEN);
    this.#probes = breaker.halfOpenMaxCalls;
    this.#hooks = hooks;
  }

  /**
   * Adopts the shared state if `syncInterval` has passed since the last read;
   * stores instead what this process decided while the store was away.
   */
  sync(): Promise<void> | undefined {
    if (this.#syncing !== undefined) return this.#syncing;
    if (currentTime() - this.#syncedAt < this.#syncInterval) return undefined;
    const unstored = this.#unstored;
    this.#unstored = undefined;
    // Unless the breaker changed since (say, reset() closed it).
    if (unstored !== undefined && (unstored > 0) === this.#hooks.tripped()) {
      const openFor = unstored === 0 ? 0 : Math.max(1, unstored - currentTime());
      this.#syncing = this.#write(openFor).finally(() => {
        this.#syncedAt = currentTime();
        this.#syncing = undefined;
      });
      return this.#syncing;
    }
    const writes = this.#writes;
    this.#syncing = this.#backend.breakerRead(this.#name).then(
      ({ tripped, openFor }) => {
        this.#syncedAt = currentTime();
        if (writes !== this.#writes) return;
        if (tripped) this.#hooks.adoptOpen(openFor);
        else if (this.#hooks.tripped()) this.#hooks.adoptClosed();
      },
      () => {
        this.#syncedAt = currentTime(); // unreachable: decide locally until the next read
      },
    ).finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  /**
   * Takes a probe lease; `undefined` if every probe slot is taken across the
   * processes, or if the store says the breaker was re-opened (adopted here
   * then). A store error lets the probe through (local decision).
   */
  async takeProbe(): Promise<string | undefined> {
    const id = crypto.randomUUID();
    try {
      const out = await this.#backend.leaseRound(`${this.#name}.probe`, {
        ttl: this.#probeTtl,
        defaultLimit: this.#probes,
        want: [id],
        renew: [],
        release: [],
        tryOnly: true,
      });
      if (!out.granted.includes(id)) return undefined;
    } catch {
      return id;
    }
    // A failed probe elsewhere stored its new open time before it released
    // this lease; this process's view may be up to syncInterval older.
    const writes = this.#writes;
    const state = await this.#backend.breakerRead(this.#name).catch(() => undefined);
    if (state === undefined) return id;
    this.#syncedAt = currentTime();
    if (!state.tripped || state.openFor <= 0 || writes !== this.#writes) return id;
    this.#hooks.adoptOpen(state.openFor);
    await this.settle(id, undefined);
    return undefined;
  }

  /**
   * Stores the outcome: `openFor` ms open (> 0), cleared (0), or nothing
   * (`undefined`); then releases the probe lease, so the next probe anywhere
   * sees the new state.
   */
  async settle(probe: string | undefined, openFor: number | undefined): Promise<void> {
    if (openFor !== undefined) await this.#write(openFor);
    if (probe === undefined) return;
    await this.#backend.leaseRound(`${this.#name}.probe`, {
      ttl: this.#probeTtl,
      defaultLimit: this.#probes,
      want: [],
      renew: [],
      release: [probe],
      tryOnly: false,
    }).catch(() => {}); // it expires after resetTimeout anyway
  }

  /** Stores `openFor` ms open (0: cleared); never rejects. */
  #write(openFor: number): Promise<void> {
    const write = ++this.#writes;
    const ms = Math.min(Math.ceil(openFor), MAX_OPEN);
    const until = ms === 0 ? 0 : currentTime() + ms;
    return this.#backend.breakerWrite(this.#name, ms).then(
      () => {
        if (write === this.#writes) this.#unstored = undefined;
      },
      () => {
        if (write === this.#writes) this.#unstored = until;
      },
    );
  }
}
