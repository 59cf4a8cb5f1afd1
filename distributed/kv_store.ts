// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `kvStore`: the distributed primitives on Deno KV (SQLite locally,
 * FoundationDB on Deno Deploy). Every decision is a read and a compare-and-set
 * of one value per name; lease expiry times are written in that value (KV's
 * `expireIn` only garbage-collects, so it cannot bound a lease).
 *
 * @module
 */

import { describeValue } from "../concurrency/errors.ts";
import { currentTime, Timer } from "../concurrency/clock.ts";
import {
  type BreakerState,
  type DistributedStore,
  type GcraOutcome,
  type GcraRequest,
  type LeaseOutcome,
  type LeaseRound,
  StoreBackend,
  type WaitTurns,
} from "./_store.ts";

/** Options of {@linkcode kvStore}. */
export interface KvStoreOptions {
  /**
   * Key prefix under which every name is kept.
   *
   * @default {["lionpride"]}
   */
  prefix?: Deno.KvKey;
}

type Leases = Record<string, number>;

/**
 * The processes (pools) that wait for a name, for KV, which keeps no global
 * queue: member id -> [when its oldest waiter arrived, its waiters, expiry],
 * wall-clock ms. Without it a process that frees a slot re-grants it to its
 * own waiters in the same commit, and a busy process kept every slot while
 * another waited for ever (examples/distributed_limit.ts under load;
 * tests/distributed_kv_turns_test.ts).
 */
type Waiting = Record<string, [oldest: number, waiters: number, expiry: number]>;

/**
 * The limit stored for a name, or `fallback` if none is. A stored value that
 * is not a positive integer (setLimit never writes one) fails the call
 * before anything is written: read as a number it would over-admit (2.5,
 * Infinity) or admit nobody without a word (NaN, 0).
 */
function storedLimit(entry: Deno.KvEntryMaybe<unknown>, fallback: number): number {
  const value = entry.value;
  if (value === null) return fallback;
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  throw new TypeError(
    `kvStore: the limit stored at ${JSON.stringify(entry.key)} is not a positive integer: ${
      describeValue(value)
    }`,
  );
}

function othersWait(waiting: Waiting, member: string): boolean {
  for (const m in waiting) if (m !== member) return true;
  return false;
}

/** Slots owed to other processes whose oldest waiter arrived before `before`. */
function owed(waiting: Waiting, member: string, before: number): number {
  let n = 0;
  for (const m in waiting) if (m !== member && waiting[m][0] < before) n += waiting[m][1];
  return n;
}

/**
 * Updates this pool's entry after a round that served the first `served` of
 * its wanted ids; true if the entry must be written. The oldest waiter's
 * arrival and the expiry are what decide turns, so a count that changed
 * alone is written only along with leases (a poll that changes nothing
 * writes nothing), and the expiry is refreshed at half its life.
 */
function takeTurn(
  waiting: Waiting,
  turns: WaitTurns,
  served: number,
  now: number,
  ttl: number,
  writing: boolean,
): boolean {
  const mine = waiting[turns.member];
  const left = turns.waiting - served;
  if (left <= 0 || Number.isNaN(turns.oldest)) {
    if (mine === undefined) return false;
    delete waiting[turns.member];
    return true;
  }
  const oldest = served < turns.wantSince.length
    ? turns.wantSince[served]
    : served > 0
    ? now
    : turns.oldest;
  if (
    mine === undefined || mine[0] !== oldest || mine[2] - now < ttl / 2 ||
    (writing && mine[1] !== left)
  ) {
    waiting[turns.member] = [oldest, left, now + ttl];
    return true;
  }
  return false;
}

/** The subset of `Deno.Kv` the store uses. */
interface KvLike {
  getMany(keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<unknown>[]>;
  get(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<unknown>>;
  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): Promise<unknown>;
  delete(key: Deno.KvKey): Promise<void>;
  atomic(): Deno.AtomicOperation;
}

/**
 * SQLite reports contention between processes sharing one file as
 * `database is locked`; retrying loses nothing (measured: 4 processes x 500
 * CAS increments = exactly 2 000), so it is retried here, briefly, before
 * the caller's own backoff sees it.
 */
const LOCKED_RETRIES = 20;

function isLocked(err: unknown): boolean {
  return err instanceof Error && /database is locked|SQLITE_BUSY/i.test(err.message);
}

/**
 * The largest `DistributedLimiter` limit on KV. Every lease of a name lives
 * in one value, and KV rejects a value over 64 KiB: a lease (a UUID and its
 * expiry) takes about 47 bytes, so 1,394 fit (bench/README.md, "A KV
 * value's lease capacity"). 1,000 keeps 28 % of the value spare.
 */
export const KV_MAX_LEASES = 1_000;

/**
 * Ms a GCRA decision may lie past its bound and still fit: float rounding,
 * not time. `period / limit` is rarely exact in binary, so the steps of a
 * full burst can sum to a hair over `burst * interval`. Never more than a
 * thousandth of an interval, so no unit of cost passes early for it, however
 * fast the rate.
 */
const ROUNDING = 1e-3;

/**
 * A name's theoretical arrival time, as whole wall-clock ms and the fraction
 * of a ms past them. One absolute ms number would round to 2^-13 ms at
 * today's date, coarser than a fast rate's step, and decisions within one ms
 * of `Date.now()` would add those roundings up: under-admitting, 2,926 of a
 * burst of 5,000 at 7M/s (tests/distributed_rate_limiter_test.ts). Split, the
 * whole part is exact and the fraction keeps a double's full precision.
 */
type ArrivalTime = [wholeMs: number, fractionMs: number];

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => new Timer(resolve, ms));
}

class KvBackend extends StoreBackend {
  readonly engine = "deno-kv" as const;
  readonly #kv: KvLike;
  readonly #prefix: Deno.KvKey;

  constructor(kv: KvLike, prefix: Deno.KvKey) {
    super();
    this.#kv = kv;
    this.#prefix = prefix;
  }

  #key(name: string, part: string): Deno.KvKey {
    return [...this.#prefix, name, part];
  }

  async #retryLocked<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!isLocked(err) || attempt >= LOCKED_RETRIES) throw err;
        await pause(1 + Math.random() * Math.min(50, 2 ** attempt));
      }
    }
  }

  leaseRound(name: string, round: LeaseRound): Promise<LeaseOutcome> {
    return this.#retryLocked(() => this.#leaseRound(name, round));
  }

  async #leaseRound(name: string, round: LeaseRound): Promise<LeaseOutcome> {
    const leasesKey = this.#key(name, "leases"), limitKey = this.#key(name, "limit");
    const waitingKey = this.#key(name, "waiting");
    const { turns } = round;
    for (let conflicts = 0;; conflicts++) {
      const [entry, limitEntry, waitingEntry] = await this.#kv.getMany([
        leasesKey,
        limitKey,
        waitingKey,
      ]);
      const now = Date.now();
      const leases: Leases = { ...(entry.value as Leases | null) };
      let changed = false;
      for (const id in leases) {
        if (leases[id] <= now) changed = delete leases[id];
      }
      for (const id of round.release) {
        if (id in leases) changed = delete leases[id];
      }
      const lost: string[] = [];
      for (const id of round.renew) {
        if (id in leases) {
          leases[id] = now + round.ttl;
          changed = true;
        } else lost.push(id);
      }
      const waiting: Waiting = { ...(waitingEntry.value as Waiting | null) };
      let turnsChanged = false;
      for (const m in waiting) {
        if (waiting[m][2] <= now) turnsChanged = delete waiting[m];
      }
      const limit = storedLimit(limitEntry, round.defaultLimit);
      let held = Object.keys(leases).length;
      const granted: string[] = [];
      // Grants go in arrival order: once one waiter finds no slot, no later one
      // takes one. tryAcquire takes none while another process waits.
      const member = turns?.member ?? "";
      let full = round.tryOnly && othersWait(waiting, member);
      let served = 0;
      for (let i = 0; i < round.want.length; i++) {
        const id = round.want[i];
        // An id already in the value was granted by a commit whose outcome
        // this process never learnt: settled by lease id, and renewed, since
        // the process counts the lease from this round.
        if (id in leases) {
          leases[id] = now + round.ttl;
          granted.push(id);
          changed = true;
        } else if (
          !full && held < limit &&
          (turns === undefined ||
            limit - held > owed(waiting, member, turns.wantSince[i] - turns.yieldAfter))
        ) {
          leases[id] = now + round.ttl;
          held++;
          granted.push(id);
          changed = true;
        } else {
          full = true;
          continue;
        }
        served = i + 1;
      }
      if (turns !== undefined && !round.tryOnly) {
        turnsChanged = takeTurn(waiting, turns, served, now, round.ttl, changed) || turnsChanged;
      }
      if (!changed && !turnsChanged) return { granted, lost, limit, held };
      let op = this.#kv.atomic().check(entry).check(limitEntry).check(waitingEntry);
      if (changed) op = op.set(leasesKey, leases);
      if (turnsChanged) {
        op = Object.keys(waiting).length > 0 ? op.set(waitingKey, waiting) : op.delete(waitingKey);
      }
      const result = await op.commit();
      if (result.ok) return { granted, lost, limit, held };
      // Lost the race to another writer: read again (some writer always wins).
      if (conflicts > 3) await pause(Math.random() * 5);
    }
  }

  leaseStats(name: string, defaultLimit: number): Promise<{ limit: number; held: number }> {
    return this.#retryLocked(async () => {
      const [entry, limitEntry] = await this.#kv.getMany([
        this.#key(name, "leases"),
        this.#key(name, "limit"),
      ]);
      const now = Date.now();
      const leases = (entry.value as Leases | null) ?? {};
      let held = 0;
      for (const id in leases) if (leases[id] > now) held++;
      return { limit: storedLimit(limitEntry, defaultLimit), held };
    });
  }

  setLimit(name: string, limit: number): Promise<void> {
    return this.#retryLocked(async () => {
      await this.#kv.set(this.#key(name, "limit"), limit);
    });
  }

  gcra(name: string, request: GcraRequest): Promise<GcraOutcome> {
    const asked = currentTime();
    return this.#retryLocked(() => this.#gcra(name, request, asked));
  }

  /**
   * The decision is made on this process's clock, so it is judged, and its
   * wait counted, on the time as it is, not as it was when asked: `maxWait`
   * (from `asked`) shrinks by the reads, conflicts and locked retries before
   * the clock is read, and the wait by the commit after it. Else a slow
   * store reserved slots past the caller's deadline, and a slow commit
   * slept past slots due before it (tests/distributed_rate_deadline_test.ts).
   */
  async #gcra(
    name: string,
    { interval, burst, cost, maxWait }: GcraRequest,
    asked: number,
  ): Promise<GcraOutcome> {
    const key = this.#key(name, "gcra");
    for (;;) {
      const entry = await this.#kv.get(key);
      const now = Date.now(), readAt = currentTime();
      const arrival = entry.value as ArrivalTime | null;
      const ahead = arrival === null ? 0 : Math.max(arrival[0] - now + arrival[1], 0);
      const after = ahead + cost * interval;
      const wait = after - burst * interval;
      const mayWait = Math.max(0, maxWait - (readAt - asked));
      if (wait > mayWait + Math.min(ROUNDING, interval / 1000)) return { ok: false, wait };
      const whole = Math.floor(after);
      const next: ArrivalTime = [now + whole, after - whole];
      const result = await this.#kv.atomic().check(entry).set(key, next).commit();
      if (result.ok) return { ok: true, wait: Math.max(0, wait - (currentTime() - readAt)) };
    }
  }

  breakerRead(name: string): Promise<BreakerState> {
    return this.#retryLocked(async () => {
      const entry = await this.#kv.get(this.#key(name, "open-until"));
      const until = entry.value as number | null;
      if (until === null) return { tripped: false, openFor: 0 };
      return { tripped: true, openFor: Math.max(0, until - Date.now()) };
    });
  }

  breakerWrite(name: string, ms: number): Promise<void> {
    const key = this.#key(name, "open-until");
    return this.#retryLocked(async () => {
      // Tripped until a probe clears it; a breaker nobody probes again is
      // garbage-collected a day after it would have let probes through.
      if (ms > 0) await this.#kv.set(key, Date.now() + ms, { expireIn: ms + 86_400_000 });
      else await this.#kv.delete(key);
    });
  }
}

/**
 * Makes a store on Deno KV for the distributed primitives. Lease expiry times
 * are wall-clock times (`Date.now()`) written in the value, so the processes
 * sharing a name need clocks that agree to well within half a lease's
 * `heartbeat` (one machine, or NTP): a process whose clock runs ahead by more
 * counts a lease expired before its holder, cut off from the store, is told
 * of the loss, and can grant the slot while that holder still runs.
 *
 * @param kv An open `Deno.Kv` (a local file shared by processes, `:memory:`
 * within one process, or Deno Deploy's KV).
 * @param options The key prefix.
 * @returns The store.
 * @throws {TypeError} If `kv` is not a `Deno.Kv` or `prefix` not an array of
 * key parts.
 *
 * @example Usage
 * ```ts
 * import { DistributedLimiter, kvStore } from "@lionpride/core/distributed";
 * import assert from "node:assert/strict";
 *
 * const kv = await Deno.openKv(":memory:");
 * const limiter = new DistributedLimiter(kvStore(kv), "db", { limit: 2 });
 * const permit = await limiter.acquire();
 * assert.equal((await limiter.statistics()).held, 1);
 * await permit.release();
 * kv.close();
 * ```
 */
export function kvStore(kv: Deno.Kv, options?: KvStoreOptions): DistributedStore {
  const where = "Cannot create kvStore";
  const k = kv as unknown as Partial<KvLike> | null;
  if (
    k === null || typeof k !== "object" || typeof k.getMany !== "function" ||
    typeof k.atomic !== "function"
  ) {
    throw new TypeError(`${where}: 'kv' must be a Deno.Kv, received ${describeValue(kv)}`);
  }
  const prefix = options?.prefix ?? ["lionpride"];
  if (!Array.isArray(prefix)) {
    throw new TypeError(
      `${where}: 'prefix' must be an array of key parts, received ${describeValue(prefix)}`,
    );
  }
  // KV would reject such a key at every call, which the primitives retry as
  // a store error: a waiter without a deadline would wait for ever.
  prefix.forEach((part: unknown, i) => {
    const t = typeof part;
    if (
      t !== "string" && t !== "number" && t !== "bigint" && t !== "boolean" &&
      !ArrayBuffer.isView(part)
    ) {
      throw new TypeError(
        `${where}: 'prefix[${i}]' must be a KV key part (string, number, bigint, boolean or Uint8Array), received ${
          describeValue(part)
        }`,
      );
    }
  });
  return new KvBackend(k as KvLike, [...prefix]);
}
