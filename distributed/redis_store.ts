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
import { BREAKER_READ, BREAKER_WRITE, GCRA, LEASE_ROUND, LEASE_STATS } from "./_redis_scripts.ts";

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

class RedisBackend extends StoreBackend {
  readonly engine = "redis" as const;
  readonly #send: Send;
  readonly #prefix: string;
  readonly #shas = new Map<string, Promise<string>>();

  constructor(send: Send, prefix: string) {
    super();
    this.#send = send;
    this.#prefix = prefix;
  }

  #key(name: string, part: string): string {
    return `${this.#prefix}{${name}}:${part}`;
  }

  /** EVALSHA (one round trip); EVAL once if the server lost its script cache. */
  async #run(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.#shas.get(script);
    if (sha === undefined) this.#shas.set(script, sha = sha1(script));
    const rest = [String(keys.length), ...keys, ...args];
    try {
      return await this.#send(["EVALSHA", await sha, ...rest]);
    } catch (err) {
      if (!(err instanceof Error && err.message.includes("NOSCRIPT"))) throw err;
      return await this.#send(["EVAL", script, ...rest]);
    }
  }

  async leaseRound(name: string, round: LeaseRound): Promise<LeaseOutcome> {
    const keys = ["leases", "queue", "ticket-expiry", "tickets", "limit"]
      .map((part) => this.#key(name, part));
    const args = [
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
    const [granted, lost, limit, held] = await this.#run(LEASE_ROUND, keys, args) as [
      string[],
      string[],
      number,
      number,
    ];
    return { granted: granted ?? [], lost: lost ?? [], limit: Number(limit), held: Number(held) };
  }

  async leaseStats(name: string, defaultLimit: number): Promise<{ limit: number; held: number }> {
    const keys = [this.#key(name, "leases"), this.#key(name, "limit")];
    const [limit, held] = await this.#run(LEASE_STATS, keys, [String(defaultLimit)]) as number[];
    return { limit: Number(limit), held: Number(held) };
  }

  async setLimit(name: string, limit: number): Promise<void> {
    await this.#send(["SET", this.#key(name, "limit"), String(limit)]);
  }

  async gcra(name: string, request: GcraRequest): Promise<GcraOutcome> {
    const args = [request.interval, request.burst, request.cost, Math.min(request.maxWait, 1e15)]
      .map(String);
    const [ok, wait] = await this.#run(GCRA, [this.#key(name, "gcra")], args) as [
      number,
      string,
    ];
    return { ok: Number(ok) === 1, wait: Math.max(0, Number(wait)) };
  }

  async breakerRead(name: string): Promise<BreakerState> {
    const keys = [this.#key(name, "open-until"), this.#key(name, "tripped")];
    const [ttl, tripped] = await this.#run(BREAKER_READ, keys, []) as number[];
    return { tripped: Number(tripped) === 1, openFor: Number(ttl) > 0 ? Number(ttl) : 0 };
  }

  async breakerWrite(name: string, ms: number): Promise<void> {
    const keys = [this.#key(name, "open-until"), this.#key(name, "tripped")];
    await this.#run(BREAKER_WRITE, keys, [String(Math.ceil(ms))]);
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
    send = (args) => call.call(c, args[0], ...args.slice(1));
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
