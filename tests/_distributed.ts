// Copyright 2026 the @lionpride/core authors. MIT license.
// Real engines for the distributed tests: a redis-server of our own on a free
// 127.0.0.1 port, temp KV files, and a KV whose every call can be made to fail.

import { Redis } from "ioredis";
import { type DistributedStore, kvStore, redisStore } from "../distributed/mod.ts";

function hasRedisServer(): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", "command -v redis-server"] }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/** True if redis-server is installed; under CI=true its absence is a failure. */
export const redisAvailable: boolean = hasRedisServer();
if (!redisAvailable) {
  if (Deno.env.get("CI") === "true") {
    throw new Error("redis-server is required under CI=true: apt-get install -y redis-server");
  }
  console.log("skipping Redis tests: redis-server not found (apt-get install -y redis-server)");
}

/** A port nobody listens on now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A redis-server child process, stoppable and restartable on the same port. */
export class RedisServer {
  readonly port: number = freePort();
  #child: Deno.ChildProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 200; i++) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        conn.close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    throw new Error("redis-server did not start");
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    child.kill("SIGKILL");
    await child.status;
  }
}

/** An ioredis client that fails fast while the server is away. */
export function ioredis(port: number): Redis {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => 20,
    lazyConnect: false,
    // Its timer to destroy a socket that did not close must end with the test.
    disconnectTimeout: 5,
  });
  // Failures reach the caller through each command; the event is noise here.
  client.on("error", () => {});
  return client;
}

/** Connects and waits until the client is ready. */
export async function readyClient(port: number): Promise<Redis> {
  const client = ioredis(port);
  if (client.status !== "ready") {
    await new Promise<void>((resolve, reject) => {
      client.once("ready", resolve);
      client.once("error", reject);
    });
  }
  return client;
}

/** Disconnects and waits until the client's socket has closed (and its timers with it). */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === "end") return;
  // "end" comes once a connected socket has closed; a client between
  // reconnection attempts has no socket and ends at once.
  const hadSocket = client.status !== "reconnecting";
  const ended = new Promise((resolve) => client.once("end", resolve));
  client.disconnect();
  if (hadSocket && (client.status as string) !== "end") await ended;
  await new Promise((resolve) => setTimeout(resolve, 20));
}

/** node-redis's client shape (`sendCommand(args)`), over an ioredis client. */
export function nodeRedisShape(client: Redis): { sendCommand(args: string[]): Promise<unknown> } {
  return { sendCommand: (args) => client.call(args[0], ...args.slice(1)) };
}

/** Runs `fn` with a fresh redis-server and a ready client; stops both after. */
export async function withRedis(
  fn: (client: Redis, server: RedisServer) => Promise<void>,
): Promise<void> {
  const server = new RedisServer();
  await server.start();
  const client = await readyClient(server.port);
  try {
    await fn(client, server);
  } finally {
    await closeClient(client);
    await server.stop();
  }
}

/** A KV in a fresh temp directory (removed after). */
export async function withKvFile(fn: (kv: Deno.Kv, path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lionpride-kv-" });
  const path = `${dir}/kv.sqlite`;
  const kv = await Deno.openKv(path);
  try {
    await fn(kv, path);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A Deno.Kv whose every call throws while `down` is true. */
export class FaultyKv {
  down = false;
  calls = 0;
  /** Writes in order: "set <key>" and "atomic". */
  readonly writes: string[] = [];
  constructor(readonly kv: Deno.Kv) {}
  /** This, typed as the Deno.Kv it stands in for (kvStore uses only these methods). */
  get asKv(): Deno.Kv {
    return this as unknown as Deno.Kv;
  }
  #check(): void {
    this.calls++;
    if (this.down) throw new TypeError("kv unreachable (test fault)");
  }
  getMany(keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<unknown>[]> {
    this.#check();
    return this.kv.getMany(keys);
  }
  get(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<unknown>> {
    this.#check();
    return this.kv.get(key);
  }
  set(
    key: Deno.KvKey,
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<Deno.KvCommitResult> {
    this.#check();
    this.writes.push(`set ${key.join("/")}`);
    return this.kv.set(key, value, options);
  }
  delete(key: Deno.KvKey): Promise<void> {
    this.#check();
    this.writes.push(`delete ${key.join("/")}`);
    return this.kv.delete(key);
  }
  /** While true, a commit lands in the store but its caller gets an error (an unknown outcome). */
  loseCommitReplies = false;

  atomic(): Deno.AtomicOperation {
    this.#check();
    this.writes.push("atomic");
    const op = this.kv.atomic();
    const commit = op.commit.bind(op);
    op.commit = async () => {
      const result = await commit();
      if (this.loseCommitReplies && result.ok) {
        this.loseCommitReplies = false;
        throw new TypeError("connection reset after commit (test fault)");
      }
      return result;
    };
    return op;
  }
}

/** A TCP proxy to a local port whose connections the test can cut. */
export class TcpProxy {
  readonly #listener: Deno.Listener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #accepting: Promise<void>;
  #cut = false;

  constructor(readonly target: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        if (this.#cut) {
          conn.close();
          continue;
        }
        const upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.target });
        this.#conns.add(conn).add(upstream);
        conn.readable.pipeTo(upstream.writable).catch(() => {});
        upstream.readable.pipeTo(conn.writable).catch(() => {});
      }
    } catch { /* listener closed */ }
  }

  #closeAll(): void {
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* already closed by a finished pipe */ }
    }
    this.#conns.clear();
  }

  /** Drops every connection and refuses new ones: the store is unreachable. */
  cut(): void {
    this.#cut = true;
    this.#closeAll();
  }

  async close(): Promise<void> {
    this.#cut = true;
    this.#listener.close();
    this.#closeAll();
    await this.#accepting;
  }
}

/** A store engine the in-process tests run on: a temp KV file, or Redis through either client shape. */
export interface Engine {
  name: string;
  ignore: boolean;
  /** Runs `fn` with a fresh store; `wipe` deletes everything the store holds. */
  with(fn: (store: DistributedStore, wipe: () => Promise<void>) => Promise<void>): Promise<void>;
}

/** Deno KV, Redis through ioredis's `call`, and Redis through node-redis's `sendCommand`. */
export const engines: Engine[] = [
  {
    name: "Deno KV",
    ignore: false,
    with: (fn) =>
      withKvFile((kv) =>
        fn(kvStore(kv, { prefix: ["t"] }), async () => {
          for await (const e of kv.list({ prefix: ["t"] })) await kv.delete(e.key);
        })
      ),
  },
  {
    name: "Redis (ioredis call)",
    ignore: !redisAvailable,
    with: (fn) =>
      withRedis((client) => fn(redisStore(client), () => client.call("FLUSHALL").then(() => {}))),
  },
  {
    name: "Redis (node-redis sendCommand)",
    ignore: !redisAvailable,
    with: (fn) =>
      withRedis((client) =>
        fn(redisStore(nodeRedisShape(client)), () => client.call("FLUSHALL").then(() => {}))
      ),
  },
];

/** Registers `fn` once per engine, named `<engine>: <name>`. */
export function testOnEngines(
  name: string,
  fn: (store: DistributedStore, wipe: () => Promise<void>) => Promise<void>,
): void {
  for (const engine of engines) {
    Deno.test({
      name: `${engine.name}: ${name}`,
      ignore: engine.ignore,
      fn: () => engine.with(fn),
    });
  }
}
