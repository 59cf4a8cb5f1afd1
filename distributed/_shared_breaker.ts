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
 * A store that does not answer is one that cannot be reached: a call waits
 * at most `syncInterval` for the store to decide (the sync and the probe
 * lease together), and at most `syncInterval` more for its outcome to be
 * stored, then decides, or returns, on its own. What answers after that is
 * dropped, with two exceptions: a write still settles `#unstored`, and a
 * probe lease granted late is released at once. Writes go to the store one
 * at a time, so a late one never lands over a newer one; and no read starts
 * while a write is unanswered, since its answer could predate the write.
 * Tests: tests/distributed_breaker_test.ts, "… never answers …", "… after the
 * breaker stopped waiting …", "… not acknowledged yet …", "… in order …".
 *
 * @module
 */

import { addDeadline, currentTime, DeadlineEntry, removeDeadline } from "../concurrency/clock.ts";
import { backendOf, checkName, type DistributedStore, type StoreBackend } from "./_store.ts";
import { isPositiveFinite, numberOption, optionsObject } from "./_checks.ts";

/** The `shared` option of a `CircuitBreaker`. */
export interface SharedBreakerOptions {
  /** From `kvStore` or `redisStore`. */
  store: DistributedStore;
  /** The shared name: 1-128 characters of `A-Z a-z 0-9 _ . : -`. */
  name: string;
  /**
   * Milliseconds between two reads of the shared state; also the longest a
   * call waits for the store before it decides on its own, as if the store
   * were unreachable. Keep it well above the store's round trip.
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

/** What {@linkcode within} gives when the store has not answered in time. */
const LATE: unique symbol = Symbol("late");

/** The end of a wait on the store, in the one deadline heap. */
class StoreDeadline extends DeadlineEntry {
  giveUp!: (late: typeof LATE) => void;
  expire(): void {
    this.giveUp(LATE);
  }
}

/**
 * `op`'s outcome, or {@linkcode LATE} once `deadline` (a `currentTime()`
 * reading) has passed. `op`'s later outcome is dropped, a rejection too (it
 * is handled by the race), and the deadline leaves the heap as soon as either
 * comes, so no timer outlives the wait.
 */
function within<T>(op: Promise<T>, deadline: number): Promise<T | typeof LATE> {
  const bound = new StoreDeadline();
  const late = new Promise<typeof LATE>((resolve) => (bound.giveUp = resolve));
  bound.deadline = deadline;
  addDeadline(bound);
  return Promise.race([op, late]).finally(() => removeDeadline(bound));
}

/** Internal. */
export class SharedBreaker {
  readonly #backend: StoreBackend;
  readonly #name: string;
  /**
   * The probe leases' name: "/" is not allowed in the names users give, so
   * no DistributedLimiter can share these leases.
   */
  readonly #probeName: string;
  readonly #syncInterval: number;
  readonly #probeTtl: number;
  readonly #probes: number;
  readonly #hooks: BreakerHooks;
  #syncedAt = -Infinity;
  #syncing: Promise<void> | undefined = undefined;
  /** Bumped by every write: a read that started before a write is stale. */
  #writes = 0;
  /** Writes not yet answered; each waits for the one before it. */
  #writesPending = 0;
  #lastWrite: Promise<void> = Promise.resolve();
  /**
   * What this process decided but has not stored (its write failed, or has
   * not been answered yet): the `currentTime()` its open state ends at, or 0
   * for cleared. The next sync stores it instead of reading, so a store that
   * never heard of it cannot undo it.
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
    this.#probeName = `${this.#name}/probe`;
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
   * stores instead what this process decided while the store was away. Waits
   * at most `syncInterval`; a store that has not answered by then counts as
   * unreachable until the next sync.
   */
  sync(): Promise<void> | undefined {
    if (this.#syncing !== undefined) return this.#syncing;
    if (currentTime() - this.#syncedAt < this.#syncInterval) return undefined;
    const deadline = currentTime() + this.#syncInterval;
    if (this.#writesPending > 0) {
      // The store has yet to answer the last write: another one would only
      // queue behind it, and a read could predate it. Decide locally.
      this.#syncedAt = currentTime();
      return undefined;
    }
    const unstored = this.#unstored;
    this.#unstored = undefined;
    let synced: Promise<unknown>;
    // Unless the breaker changed since (say, reset() closed it).
    if (unstored !== undefined && (unstored > 0) === this.#hooks.tripped()) {
      synced = within(this.#write(unstored), deadline);
    } else {
      const writes = this.#writes;
      synced = within(this.#backend.breakerRead(this.#name), deadline).then((state) => {
        if (state === LATE || writes !== this.#writes) return;
        if (state.tripped) this.#hooks.adoptOpen(state.openFor);
        else if (this.#hooks.tripped()) this.#hooks.adoptClosed();
      });
    }
    this.#syncing = synced.then(
      () => {},
      () => {}, // unreachable: decide locally until the next read
    ).finally(() => {
      this.#syncedAt = currentTime();
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  /**
   * Takes a probe lease for a call that started at `since`, waiting for the
   * store until `syncInterval` after then; `undefined` if every probe slot is
   * taken across the processes, or if the store says the breaker was
   * re-opened (adopted here then). A store error or silence lets the probe
   * through (local decision).
   */
  async takeProbe(since: number): Promise<string | undefined> {
    const deadline = since + this.#syncInterval;
    const id = crypto.randomUUID();
    // The sync spent the wait: the store is away, decide locally.
    if (currentTime() >= deadline) return id;
    const round = this.#backend.leaseRound(this.#probeName, {
      ttl: this.#probeTtl,
      defaultLimit: this.#probes,
      want: [id],
      renew: [],
      release: [],
      tryOnly: true,
    });
    try {
      const out = await within(round, deadline);
      if (out === LATE) {
        // The probe goes ahead without it; a lease granted now would only
        // keep other processes' probes out until it expires (resetTimeout).
        round.then((late) => {
          if (late.granted.includes(id)) void this.#release(id);
        }, () => {});
        return id;
      }
      if (!out.granted.includes(id)) return undefined;
    } catch {
      return id;
    }
    // A failed probe elsewhere stored its new open time before it released
    // this lease; this process's view may be up to syncInterval older.
    const writes = this.#writes;
    const state = await within(this.#backend.breakerRead(this.#name), deadline)
      .catch((): typeof LATE => LATE); // unreachable: probe
    if (state === LATE) return id;
    this.#syncedAt = currentTime();
    if (!state.tripped || state.openFor <= 0 || writes !== this.#writes) return id;
    this.#hooks.adoptOpen(state.openFor);
    await within(this.#release(id), deadline);
    return undefined;
  }

  /**
   * Stores the outcome: `openFor` ms open (> 0), cleared (0), or nothing
   * (`undefined`); then releases the probe lease, so the next probe anywhere
   * sees the new state. Waits at most `syncInterval`; a lease whose release
   * comes later is released once the write has answered (never before: it
   * must not let a probe in on the old state), or expires after
   * `resetTimeout` if the write never answers. A new open time the store
   * refused keeps the lease until it expires (after `resetTimeout`, the
   * shortest open time): released, it let another process probe the upstream
   * that just failed at once, on the old state.
   */
  async settle(probe: string | undefined, openFor: number | undefined): Promise<void> {
    let done: Promise<unknown> | undefined = openFor === undefined
      ? undefined
      : this.#write(storedUntil(openFor));
    if (probe !== undefined) {
      done = done === undefined
        ? this.#release(probe)
        : done.then((stored) => stored || openFor === 0 ? this.#release(probe) : undefined);
    }
    if (done !== undefined) await within(done, currentTime() + this.#syncInterval);
  }

  /** Releases a probe lease; never rejects (it expires after resetTimeout anyway). */
  #release(probe: string): Promise<void> {
    return this.#backend.leaseRound(this.#probeName, {
      ttl: this.#probeTtl,
      defaultLimit: this.#probes,
      want: [],
      renew: [],
      release: [probe],
      tryOnly: false,
    }).then(() => {}, () => {});
  }

  /**
   * Stores the decision `until` (see `#unstored`) once the writes before it
   * have answered; never rejects: resolves whether the store took it. Until
   * it answers, it counts as unstored.
   */
  #write(until: number): Promise<boolean> {
    const write = ++this.#writes;
    this.#unstored = until;
    this.#writesPending++;
    const store = () => {
      const ms = until === 0
        ? 0
        : Math.min(Math.max(1, Math.ceil(until - currentTime())), MAX_OPEN);
      return this.#backend.breakerWrite(this.#name, ms);
    };
    const stored = () => {
      if (write === this.#writes) this.#unstored = undefined;
      return true;
    };
    const done = this.#lastWrite.then(store).then(stored, () => false)
      .finally(() => this.#writesPending--);
    this.#lastWrite = done.then(() => {});
    return done;
  }
}

/** The `#unstored` form of a decision to stay open `openFor` ms (0: cleared). */
function storedUntil(openFor: number): number {
  return openFor === 0 ? 0 : currentTime() + Math.min(Math.ceil(openFor), MAX_OPEN);
}
