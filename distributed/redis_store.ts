// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `redisStore`: the distributed primitives on Redis, through the user's own
 * client (ioredis or node-redis). Every decision is one Lua script run by the
 * server with its own clock (`TIME`).
 *
 * @module
 */

import { describeValue } from "../concurrency/errors.ts";
import {
  type BreakerState,
  type DistributedStore,
  type GcraOutcome,
  type GcraRequest,
  type LeaseOutcome,
  type LeaseRound,
  StoreBackend,
} from "./_store.ts";
import {
  BREAKER_READ,
  BREAKER_WRITE,
  GCRA,
  GCRA_ONE,
  GCRA_SAME,
  LEASE_ROUND,
  LEASE_STATS,
} from "./_redis_scripts.ts";

/** A Redis client as ioredis (`call`) or node-redis (`sendCommand`) has it. */
export type RedisClientLike =
  | { sendCommand(args: string[]): Promise<unknown> }
  | { call(command: string, ...args: string[]): Promise<unknown> };

/** Options of {@linkcode redisStore}. */
export interface RedisStoreOptions {
  /**
   * Prepended to every key. Names are wrapped in a hash tag (`{name}`), so all
   * keys of one name live on one Redis Cluster slot.
   *
   * @default {"lionpride:"}
   */
  prefix?: string;
}

type Send = (args: string[]) => Promise<unknown>;

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** At most this many decisions go in one script call (a bound on its run time). */
const GCRA_BATCH = 100;

/** Decisions on one name that wait for the microtask that sends them. */
interface GcraBatch {
  key: string;
  /** Per decision: `cost * interval` (µs). */
  step: number[];
  /** Per decision: how far ahead of now the arrival time may lie after it (µs). */
  maxAhead: number[];
  /** Per decision: `burst * interval` (ms); the reply less it is the wait. */
  tolerance: number[];
  resolve: Array<(outcome: GcraOutcome) => void>;
  reject: Array<(err: unknown) => void>;
  /** The longest `burst * interval` of the batch; -1 once a decision may wait. */
  ttl: number;
}

/** A decision whose arrival time lies `us` ahead of now after it (negated: refused). */
function gcraOutcome(us: number, tolerance: number): GcraOutcome {
  const wait = Math.abs(us) / 1000 - tolerance;
  return { ok: us >= 0, wait: wait > 0 ? wait : 0 };
}

/** Whether every decision of the batch asks the same (then GCRA_SAME decides them). */
function allSame({ step, maxAhead }: GcraBatch): boolean {
  for (let i = 1; i < step.length; i++) {
    if (step[i] !== step[0] || maxAhead[i] !== maxAhead[0]) return false;
  }
  return true;
}

class RedisBackend extends StoreBackend {
  readonly engine = "redis" as const;
  readonly #send: Send;
  readonly #prefix: string;
  readonly #shas = new Map<string, string>();
  readonly #gcraBatches = new Map<string, GcraBatch>();

  constructor(send: Send, prefix: string) {
    super();
    this.#send = send;
    this.#prefix = prefix;
  }

  #key(name: string, part: string): string {
    return `${this.#prefix}{${name}}:${part}`;
  }

  /**
   * EVALSHA (one round trip); EVAL once if the server lost its script cache.
   * `command` is `[, , numkeys, ...keys, ...args]`: its first two places are
   * filled here, so a decision builds one array.
   */
  #run(script: string, command: string[], parse?: (reply: unknown) => unknown): Promise<unknown> {
    const sha = this.#shas.get(script);
    if (sha === undefined) {
      return sha1(script).then((digest) => {
        this.#shas.set(script, digest);
        return this.#run(script, command, parse);
      });
    }
    command[0] = "EVALSHA";
    command[1] = sha;
    // Not an async function, and the reply parsed in the same reaction as the
    // NOSCRIPT check: a decision is ~10 µs, and each promise layer costs.
    return this.#send(command).then(parse, (err) => {
      if (!(err instanceof Error && err.message.includes("NOSCRIPT"))) throw err;
      command[0] = "EVAL";
      command[1] = script;
      return parse === undefined ? this.#send(command) : this.#send(command).then(parse);
    });
  }

  async leaseRound(name: string, round: LeaseRound): Promise<LeaseOutcome> {
    const keys = ["leases", "queue", "ticket-expiry", "tickets", "limit"]
      .map((part) => this.#key(name, part));
    const command = [
      "",
      "",
      "5",
      ...keys,
      String(Math.ceil(round.ttl)),
      String(round.defaultLimit),
      round.tryOnly ? "1" : "0",
      String(round.release.length),
      String(round.renew.length),
      String(round.want.length),
      ...round.release,
      ...round.renew,
      ...round.want,
    ];
    const [granted, lost, limit, held] = await this.#run(LEASE_ROUND, command) as [
      string[],
      string[],
      number,
      number,
    ];
    return { granted: granted ?? [], lost: lost ?? [], limit: Number(limit), held: Number(held) };
  }

  async leaseStats(name: string, defaultLimit: number): Promise<{ limit: number; held: number }> {
    const command = ["", "", "2", this.#key(name, "leases"), this.#key(name, "limit")];
    command.push(String(defaultLimit));
    const [limit, held] = await this.#run(LEASE_STATS, command) as number[];
    return { limit: Number(limit), held: Number(held) };
  }

  async setLimit(name: string, limit: number): Promise<void> {
    await this.#send(["SET", this.#key(name, "limit"), String(limit)]);
  }

  /**
   * Decisions on one name asked for in the same turn of the event loop (say,
   * callers whose replies arrived together) go to the server in one script
   * call, sent from a microtask: each is still one round trip, decided in
   * call order on one reading of the server's clock, and the server reads
   * and writes the name once for all of them.
   */
  gcra(name: string, { interval, burst, cost, maxWait }: GcraRequest): Promise<GcraOutcome> {
    let batch = this.#gcraBatches.get(name);
    if (batch === undefined || batch.resolve.length === GCRA_BATCH) {
      const fresh: GcraBatch = {
        key: this.#key(name, "gcra"),
        step: [],
        maxAhead: [],
        tolerance: [],
        resolve: [],
        reject: [],
        ttl: 0,
      };
      this.#gcraBatches.set(name, batch = fresh);
      queueMicrotask(() => {
        if (this.#gcraBatches.get(name) === fresh) this.#gcraBatches.delete(name);
        this.#sendGcra(fresh);
      });
    }
    const tolerance = burst * interval;
    batch.step.push(cost * interval * 1000);
    batch.maxAhead.push((tolerance + Math.min(maxWait, 1e15)) * 1000);
    batch.tolerance.push(tolerance);
    if (batch.ttl >= 0) batch.ttl = maxWait > 0 ? -1 : Math.max(batch.ttl, tolerance);
    const { resolve, reject } = batch;
    return new Promise((res, rej) => {
      resolve.push(res);
      reject.push(rej);
    });
  }

  #sendGcra(batch: GcraBatch): void {
    const { step, maxAhead, tolerance, resolve, reject, ttl } = batch;
    const n = resolve.length;
    // When no decision may wait, every reservation lies within its burst: the
    // key's lifetime is known here, and the script formats no number for it.
    const command = ["", "", "1", batch.key, ttl < 0 ? "" : String(Math.ceil(ttl) + 1)];
    // Equal decisions (callers that all tryAcquire one cost) need no loop and
    // no reply each on the server, the part of a call that grows with n.
    const same = n > 1 && allSame(batch);
    if (same) command.push(String(n), String(step[0]), String(maxAhead[0]));
    else for (let i = 0; i < n; i++) command.push(String(step[i]), String(maxAhead[i]));
    let sent: Promise<unknown>;
    try {
      sent = this.#run(same ? GCRA_SAME : n === 1 ? GCRA_ONE : GCRA, command);
    } catch (err) {
      // A client that throws instead of rejecting: its callers get the error,
      // not the microtask this runs in.
      sent = Promise.reject(err);
    }
    sent.then((reply) => {
      if (same) {
        const [k, ahead] = (reply as unknown[]).map(Number);
        for (let i = 0; i < n; i++) {
          const us = i < k ? ahead + (i + 1) * step[0] : -(ahead + (k + 1) * step[0]);
          resolve[i](gcraOutcome(us, tolerance[i]));
        }
      } else if (n === 1) resolve[0](gcraOutcome(Number(reply), tolerance[0]));
      else {
        const replies = reply as unknown[];
        for (let i = 0; i < n; i++) resolve[i](gcraOutcome(Number(replies[i]), tolerance[i]));
      }
    }, (err) => {
      for (const r of reject) r(err);
    });
  }

  async breakerRead(name: string): Promise<BreakerState> {
    const command = ["", "", "2", this.#key(name, "open-until"), this.#key(name, "tripped")];
    const [ttl, tripped] = await this.#run(BREAKER_READ, command) as number[];
    return { tripped: Number(tripped) === 1, openFor: Number(ttl) > 0 ? Number(ttl) : 0 };
  }

  async breakerWrite(name: string, ms: number): Promise<void> {
    const command = ["", "", "2", this.#key(name, "open-until"), this.#key(name, "tripped")];
    command.push(String(Math.ceil(ms)));
    await this.#run(BREAKER_WRITE, command);
  }
}

/**
 * Makes a store on Redis for the distributed primitives, through your own
 * client: an ioredis client (its `call(command, ...args)` is used) or a
 * node-redis client (`sendCommand(args)`). Configure the client to fail fast
 * while disconnected (ioredis: `maxRetriesPerRequest: 1`; node-redis:
 * `disableOfflineQueue: true`): the primitives retry with their own backoff
 * and honour your deadlines.
 *
 * @param client The Redis client.
 * @param options The key prefix.
 * @returns The store.
 * @throws {TypeError} If `client` has neither `call` nor `sendCommand`, or
 * `prefix` is not a string.
 *
 * @example Usage
 * ```ts
 * import { redisStore } from "@lionpride/core/distributed";
 * import assert from "node:assert/strict";
 *
 * const sent: string[][] = [];
 * const client = { sendCommand: (args: string[]) => (sent.push(args), Promise.resolve("OK")) };
 * const store = redisStore(client, { prefix: "app:" });
 * assert.equal(store.engine, "redis");
 * assert.throws(() => redisStore({} as never), TypeError);
 * ```
 */
export function redisStore(client: RedisClientLike, options?: RedisStoreOptions): DistributedStore {
  const where = "Cannot create redisStore";
  const c = client as { call?: unknown; sendCommand?: unknown } | null;
  let send: Send;
  if (c !== null && typeof c === "object" && typeof c.call === "function") {
    const call = c.call as (command: string, ...args: string[]) => Promise<unknown>;
    send = (args) => call.apply(c, args as [string, ...string[]]);
  } else if (c !== null && typeof c === "object" && typeof c.sendCommand === "function") {
    const sendCommand = c.sendCommand as (args: string[]) => Promise<unknown>;
    send = (args) => sendCommand.call(c, args);
  } else {
    throw new TypeError(
      `${where}: 'client' must have call(command, ...args) (ioredis) or sendCommand(args) ` +
        `(node-redis), received ${describeValue(client)}`,
    );
  }
  const prefix = options?.prefix ?? "lionpride:";
  if (typeof prefix !== "string") {
    throw new TypeError(`${where}: 'prefix' must be a string, received ${describeValue(prefix)}`);
  }
  return new RedisBackend(send, prefix);
}
