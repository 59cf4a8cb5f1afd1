// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The per-limiter coordinator of a `DistributedLimiter` (internal): ONE loop
 * per limiter talks to the store for every waiter, holder and release of the
 * process, in batched rounds, so waiters queue FIFO behind one poller instead
 * of each polling the store (no thundering herd).
 *
 * A round releases, renews the leases due for a heartbeat, and asks for
 * leases for the waiters (in arrival order), all in one store call. A round
 * whose outcome is unknown (the call threw) is settled by lease id: a waiter
 * keeps its id, and the next round finds it granted or not; an id that nobody
 * wants any more is released, which is a no-op for an id the store never saw.
 *
 * Each held lease has a loss timer of its own, independent of the loop (which
 * may be stuck in a store call): it fires `margin` before the earliest moment
 * the store could let the lease expire, counted from when the last successful
 * renewal was SENT, so the holder learns of the loss before the slot can be
 * granted elsewhere.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { currentScope, effectiveDeadlineOf, pendingCancellation } from "../concurrency/cancel.ts";
import { currentTime, Timer } from "../concurrency/clock.ts";
import { isCancelled } from "../concurrency/errors.ts";
import { startWait, type Waiter, WaitQueue } from "../concurrency/_wait_queue.ts";
import type { LeaseOutcome, StoreBackend, WaitTurns } from "./_store.ts";
import { LeaseLostError } from "./errors.ts";
import { LeasePermit } from "./_lease_permit.ts";

/**
 * The loop and its timers run outside any caller's scope: they serve every
 * caller, and must not be cancelled with (or keep alive) the one that
 * happened to start them.
 */
const detached = AsyncLocalStorage.snapshot();

/** Resolves a waiter that was granted a lease (it leaves the queue by `cancel`). */
const GRANTED = Symbol("granted");

/**
 * On KV, a process serves its own waiters first unless another process's
 * waiters have waited this many poll intervals longer: slots then change
 * hands between processes (each hand-over costs the next holder's poll), and
 * none waits for ever behind a busy one. bench/README.md, "KV turns".
 */
const YIELD_AFTER_POLLS = 4;

/** Store errors back off up to this (jittered down to half of it). */
const MAX_BACKOFF = 1_000;

/** Settings of a pool. */
export interface PoolConfig {
  backend: StoreBackend;
  name: string;
  limit: number;
  ttl: number;
  heartbeat: number;
  poll: number;
}

interface WaitEntry {
  id: string;
  /** `Date.now()` at arrival: KV orders processes' turns by wall clock. */
  since: number;
  /** True once the id went to the store (it may hold a lease or a ticket there). */
  sent: boolean;
  permit: LeasePermit | undefined;
}

interface Held {
  permit: LeasePermit;
  renewAt: number;
  loss: Timer | undefined;
  /**
   * The store lets the lease expire by this: `ttl` after the last round that
   * sent it ended, whatever that round's outcome (a renewal whose reply was
   * lost may still have landed).
   */
  expiresBy: number;
}

interface Release {
  /**
   * Past this the lease has expired anyway: stop trying. `Infinity` while a
   * round that may write the lease is in flight: the lease then lives until
   * `ttl` after that round ends, not after the release was asked for.
   */
  until: number;
  /** Resolves the `release()` (or lease loss cleanup) that asked for it, if any. */
  done: (() => void) | undefined;
}

/** Internal. */
export class LeasePool {
  readonly #c: PoolConfig;
  readonly #queue = new WaitQueue<never>();
  readonly #held = new Map<string, Held>();
  readonly #releases = new Map<string, Release>();
  #running = false;
  /** True while the loop's round is at the store (it may grant or renew any id it sent). */
  #inRound = false;
  #wake: (() => void) | undefined = undefined;
  #nextPoll = 0;
  /**
   * Bumped by every ask for an early poll (an arrival, a local release,
   * `pollSoon`): one made while a round is in flight was not part of it, so
   * that round must not push the next poll a whole interval away.
   */
  #asks = 0;
  #failures = 0;
  #lastError: unknown = undefined;
  /** True while the loop backs off after a store error: new work waits for it. */
  #backingOff = false;
  readonly #giveBack = (id: string): Promise<void> => this.#release(id);
  /** This pool's id among the processes that wait for the name (KV's turns). */
  readonly #member = crypto.randomUUID();

  constructor(config: PoolConfig) {
    this.#c = config;
    this.#queue.onCancelled = (w) => this.#waiterLeft(w);
  }

  /** Waiters in this process. */
  get waiting(): number {
    return this.#queue.size;
  }

  /** Leases held by this process. */
  get holding(): number {
    return this.#held.size;
  }

  acquire(options: unknown, where: string): Promise<LeasePermit> {
    const scope = currentScope();
    const signal = startWait(options, scope, where);
    if (signal instanceof Promise) return signal;
    const entry: WaitEntry = {
      id: crypto.randomUUID(),
      since: Date.now(),
      sent: false,
      permit: undefined,
    };
    const promise = this.#queue.wait(scope, signal, entry);
    this.#pollNow();
    this.#kick();
    return this.#awaitGrant(promise, entry, scope, signal);
  }

  async #awaitGrant(
    promise: Promise<never>,
    entry: WaitEntry,
    scope: ReturnType<typeof currentScope>,
    signal: AbortSignal | undefined,
  ): Promise<LeasePermit> {
    try {
      return await promise;
    } catch (err) {
      if (err !== GRANTED) {
        // The deadline ended a wait while the store was failing: say why.
        // Read now: the scope may have brought it forward since the last retry.
        const storeError = this.#lastError;
        if (
          isCancelled(err) && storeError !== undefined &&
          currentTime() >= effectiveDeadlineOf(scope)
        ) {
          throw storeError;
        }
        throw err;
      }
      const permit = entry.permit!;
      // Level-triggered: a cancellation that landed with the grant wins.
      const pending = pendingCancellation(scope, signal);
      if (pending === undefined) return permit;
      void permit.release();
      throw pending;
    }
  }

  async tryAcquire(): Promise<LeasePermit | undefined> {
    if (this.#queue.size > 0) return undefined;
    const id = crypto.randomUUID();
    const sentAt = currentTime();
    const c = this.#c;
    let out: LeaseOutcome;
    try {
      out = await c.backend.leaseRound(c.name, {
        ttl: c.ttl,
        defaultLimit: c.limit,
        want: [id],
        renew: [],
        release: [],
        tryOnly: true,
        turns: this.#turns([]),
      });
    } catch (err) {
      this.#drop(id); // the outcome is unknown: make sure that id holds nothing
      throw err;
    }
    if (!out.granted.includes(id)) return undefined;
    const permit = this.#hold(id, sentAt);
    this.#kick(true); // its renewals must not wait out a backoff: the store just answered
    return permit;
  }

  /**
   * Re-reads the store soon (e.g. after the limit changed): a store that just
   * answered ends a backoff too.
   */
  pollSoon(): void {
    this.#pollNow();
    if (this.#queue.size > 0) this.#kick(true);
  }

  #pollNow(): void {
    this.#nextPoll = 0;
    this.#asks++;
  }

  #kick(afterStoreAnswered = false): void {
    if (this.#running) {
      // Every arrival, release or loss would otherwise cut the backoff short:
      // a failing store would get a round per arrival.
      if (!this.#backingOff || afterStoreAnswered) this.#wake?.();
      return;
    }
    this.#running = true;
    detached(() => {
      this.#loop().catch((err) => {
        // A bug, not a store error (those are retried): fail the waiters loudly.
        this.#running = false;
        for (let w = this.#queue.head; w !== undefined; w = this.#queue.head) {
          this.#queue.cancel(w, err);
        }
      });
    });
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = new Timer(() => {
        this.#wake = undefined;
        resolve();
      }, Math.max(0, ms));
      this.#wake = () => {
        timer.clear();
        this.#wake = undefined;
        resolve();
      };
    });
  }

  async #loop(): Promise<void> {
    const c = this.#c;
    for (;;) {
      const now = currentTime();
      for (const [id, r] of this.#releases) {
        if (r.until <= now) this.#settleRelease(id);
      }
      const release = [...this.#releases.keys()];
      const renew: string[] = [];
      let next = this.#queue.size > 0 ? this.#nextPoll : Infinity;
      for (const [id, h] of this.#held) {
        if (h.renewAt <= now) renew.push(id);
        else if (h.renewAt < next) next = h.renewAt;
      }
      const poll = this.#queue.size > 0 && this.#nextPoll <= now;
      if (release.length === 0 && renew.length === 0 && !poll) {
        if (next === Infinity) {
          this.#running = false;
          return;
        }
        await this.#pause(next - now);
        continue;
      }
      const wantSince: number[] = [];
      const want = poll ? this.#wanted(wantSince) : [];
      const turns = this.#turns(wantSince);
      const asks = this.#asks;
      let out: LeaseOutcome;
      this.#inRound = true;
      try {
        out = await c.backend.leaseRound(c.name, {
          ttl: c.ttl,
          defaultLimit: c.limit,
          want,
          renew,
          release,
          tryOnly: false,
          turns,
        });
      } catch (err) {
        this.#roundEnded(renew);
        await this.#failed(err);
        continue;
      }
      this.#roundEnded(renew);
      this.#failures = 0;
      this.#lastError = undefined;
      this.#settle(out, release, renew, now);
      if (poll && this.#asks === asks) {
        this.#nextPoll = currentTime() + c.poll * (0.5 + Math.random());
      }
    }
  }

  #turns(wantSince: number[]): WaitTurns {
    const head = this.#queue.head;
    return {
      member: this.#member,
      wantSince,
      oldest: head === undefined ? NaN : (head.payload as WaitEntry).since,
      waiting: this.#queue.size,
      yieldAfter: this.#c.poll * YIELD_AFTER_POLLS,
    };
  }

  /** Every waiter's id, in arrival order, and when each arrived into `since`. */
  #wanted(since: number[]): string[] {
    const ids: string[] = [];
    for (let w = this.#queue.head; w !== undefined; w = w.next) {
      const entry = w.payload as WaitEntry;
      entry.sent = true;
      ids.push(entry.id);
      since.push(entry.since);
    }
    return ids;
  }

  async #failed(err: unknown): Promise<void> {
    this.#lastError = err;
    this.#failures++;
    const delay = Math.min(MAX_BACKOFF, 25 * 2 ** this.#failures) * (0.5 + Math.random() / 2);
    // Like retry: a waiter whose deadline comes before the next attempt gets
    // the store's error now, not a timeout later.
    const giveUp = currentTime() + delay;
    for (let w = this.#queue.head; w !== undefined;) {
      const next = w.next;
      // Read now, not at arrival: the waiter's scope may have moved its deadline.
      if (effectiveDeadlineOf(w.scope) <= giveUp) this.#queue.cancel(w, err);
      w = next;
    }
    this.#backingOff = true;
    await this.#pause(delay);
    this.#backingOff = false;
  }

  /**
   * The round may have granted or renewed, as it committed, any lease it
   * sent, and any lease released while it was in flight: each lives `ttl`
   * from now at most.
   */
  #roundEnded(renew: string[]): void {
    this.#inRound = false;
    const until = currentTime() + this.#c.ttl;
    for (const id of renew) {
      const h = this.#held.get(id);
      if (h !== undefined) h.expiresBy = until;
    }
    for (const r of this.#releases.values()) if (r.until === Infinity) r.until = until;
  }

  /** When to stop trying to release a lease the store lets expire by `expiresBy`. */
  #giveUpAt(expiresBy: number): number {
    return this.#inRound ? Infinity : expiresBy;
  }

  #settle(out: LeaseOutcome, release: string[], renew: string[], sentAt: number): void {
    for (const id of release) this.#settleRelease(id);
    const lost = new Set(out.lost);
    for (const id of renew) {
      const h = this.#held.get(id);
      if (h === undefined) continue; // released or lost while the round ran
      if (lost.has(id)) this.#lose(id, "a renewal found it gone", true);
      else {
        h.renewAt = sentAt + this.#c.heartbeat;
        this.#armLoss(id, h, sentAt);
      }
    }
    if (out.granted.length === 0) return;
    const granted = new Set(out.granted);
    for (let w = this.#queue.head; w !== undefined && granted.size > 0;) {
      const next = w.next;
      const entry = w.payload as WaitEntry;
      if (granted.delete(entry.id)) {
        entry.permit = this.#hold(entry.id, sentAt);
        this.#queue.cancel(w, GRANTED);
      }
      w = next;
    }
    // Granted to a waiter that has gone meanwhile: give it straight back.
    for (const id of granted) this.#drop(id);
  }

  #hold(id: string, sentAt: number): LeasePermit {
    const h: Held = {
      permit: new LeasePermit(id, this.#giveBack),
      renewAt: sentAt + this.#c.heartbeat,
      loss: undefined,
      expiresBy: currentTime() + this.#c.ttl,
    };
    this.#held.set(id, h);
    this.#armLoss(id, h, sentAt);
    return h.permit;
  }

  #armLoss(id: string, h: Held, sentAt: number): void {
    h.loss?.clear();
    const c = this.#c;
    const at = sentAt + c.ttl - c.heartbeat / 2;
    h.loss = detached(() =>
      new Timer(
        () => this.#lose(id, "it could not be renewed before it would expire", false),
        Math.max(0, at - currentTime()),
      )
    );
  }

  /**
   * Aborts the holder's signal. A lease the store may still hold is dropped
   * there (it frees the slot sooner); the permit's `release()` then waits for
   * that, so nothing this process started outlives the holder.
   */
  #lose(id: string, why: string, gone: boolean): void {
    const h = this.#held.get(id);
    if (h === undefined) return;
    this.#held.delete(id);
    h.loss?.clear();
    const cleanup = gone ? Promise.resolve() : new Promise<void>((resolve) => {
      // Not heartbeat / 2 from now: a renewal whose reply was lost may have
      // landed and extended it.
      this.#releases.set(id, { until: this.#giveUpAt(h.expiresBy), done: resolve });
      this.#kick();
    });
    h.permit.lose(
      new LeaseLostError(`Lease ${id} of DistributedLimiter '${this.#c.name}' lost: ${why}`, {
        leaseId: id,
        cause: this.#lastError,
      }),
      cleanup,
    );
  }

  #release(id: string): Promise<void> {
    const h = this.#held.get(id);
    if (h === undefined) return Promise.resolve();
    this.#held.delete(id);
    h.loss?.clear();
    return new Promise((resolve) => {
      this.#releases.set(id, { until: this.#giveUpAt(currentTime() + this.#c.ttl), done: resolve });
      this.#pollNow();
      this.#kick();
    });
  }

  /** Releases `id` in the background (nobody awaits it). */
  #drop(id: string): void {
    if (!this.#releases.has(id)) {
      const until = this.#giveUpAt(currentTime() + this.#c.ttl);
      this.#releases.set(id, { until, done: undefined });
    }
    this.#kick();
  }

  #settleRelease(id: string): void {
    const r = this.#releases.get(id);
    if (r === undefined) return;
    this.#releases.delete(id);
    r.done?.();
  }

  #waiterLeft(w: Waiter<never>): void {
    const entry = w.payload as WaitEntry;
    if (entry.permit === undefined && entry.sent) this.#drop(entry.id);
  }
}
