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

function gcraOutcome(reply: unknown): GcraOutcome {
  const [ok, us] = reply as [number, number];
  const wait = Number(us) / 1000;
  return { ok: Number(ok) === 1, wait: wait > 0 ? wait : 0 };
}

class RedisBackend extends StoreBackend {
  readonly engine = "redis" as const;
  readonly #send: Send;
  readonly #prefix: string;
  readonly #shas = new Map<string, string>();

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

  gcra(name: string, request: GcraRequest): Promise<GcraOutcome> {
    const command = [
      "",
      "",
      "1",
      this.#key(name, "gcra"),
      String(request.interval),
      String(request.burst),
      String(request.cost),
      String(Math.min(request.maxWait, 1e15)),
    ];
    return this.#run(GCRA, command, gcraOutcome) as Promise<GcraOutcome>;
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
