// Copyright 2026 the @lionpride/core authors. MIT license.
// Real engines for the distributed tests: a redis-server of our own on a free
// 127.0.0.1 port, temp KV files, and a KV whose every call can be made to fail.
// The Redis parts use node:child_process and node:net rather than Deno's APIs,
// so the Redis tests run on Node and Bun too (.ci/xrt); the KV parts are Deno's.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  type AddressInfo,
  createConnection,
  createServer,
  type Server,
  type Socket,
} from "node:net";
import { Redis } from "ioredis";
import { createClient } from "@redis/client";
import { type DistributedStore, kvStore, redisStore } from "../distributed/mod.ts";

function hasRedisServer(): boolean {
  try {
    return spawnSync("sh", ["-c", "command -v redis-server"]).status === 0;
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
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a TCP connection to the port opens (its socket is closed before this resolves). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let opened = false;
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      opened = true;
      socket.destroy();
    });
    socket.once("error", () => {});
    socket.once("close", () => resolve(opened));
  });
}

/** A redis-server child process, stoppable and restartable on the same port. */
export class RedisServer {
  #port = 0;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  /** The port it listens on, chosen by the first {@linkcode start}. */
  get port(): number {
    if (this.#port === 0) throw new Error("RedisServer: start() chooses the port");
    return this.#port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.#port === 0) this.#port = await freePort();
    const child = spawn("redis-server", [
      "--port",
      String(this.#port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ], { stdio: "ignore" });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
    for (let i = 0; i < 200; i++) {
      if (await accepts(this.#port)) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    await this.stop();
    throw new Error("redis-server did not start");
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    child.kill("SIGKILL");
    await this.#exited;
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

/** A node-redis client (`@redis/client`), connected, that fails fast while the server is away. */
export async function nodeRedis(port: number): Promise<NodeRedis> {
  const client: NodeRedis = createClient({
    socket: { host: "127.0.0.1", port, reconnectStrategy: () => 20 },
    disableOfflineQueue: true,
  });
  // Failures reach the caller through each command; the event is noise here.
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** What {@linkcode nodeRedis} returns. */
export type NodeRedis = ReturnType<typeof createClient>;

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

/** A fresh in-memory KV for `fn`, closed after. */
export async function withMemoryKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
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
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;

  private constructor(readonly target: number) {
    this.#server = createServer((conn) => {
      if (this.#cut) {
        conn.destroy();
        return;
      }
      const upstream = createConnection({ host: "127.0.0.1", port: this.target });
      for (const socket of [conn, upstream]) {
        this.#sockets.add(socket);
        // A cut or a closed peer ends both pipes; their errors are the fault under test.
        socket.on("error", () => {});
        socket.once("close", () => this.#sockets.delete(socket));
      }
      conn.pipe(upstream).pipe(conn);
    });
  }

  /** A proxy listening on a free port. */
  static open(target: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    return new Promise((resolve) => proxy.#server.listen(0, "127.0.0.1", () => resolve(proxy)));
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Destroys every connection and waits until all have closed. */
  async #closeAll(): Promise<void> {
    const closing = [...this.#sockets].map((socket) =>
      new Promise<void>((resolve) => socket.once("close", () => resolve()).destroy())
    );
    await Promise.all(closing);
  }

  /** Drops every connection and refuses new ones: the store is unreachable. */
  cut(): Promise<void> {
    this.#cut = true;
    return this.#closeAll();
  }

  async close(): Promise<void> {
    this.#cut = true;
    await Promise.all([
      new Promise<void>((resolve) => this.#server.close(() => resolve())),
      this.#closeAll(),
    ]);
  }
}

/** A store engine the in-process tests run on: a temp KV file, or Redis through either client shape. */
export interface Engine {
  name: string;
  ignore: boolean;
  /** Runs `fn` with a fresh store; `wipe` deletes everything the store holds. */
  with(fn: (store: DistributedStore, wipe: () => Promise<void>) => Promise<void>): Promise<void>;
}

/** Deno KV, Redis through ioredis (its `call`), and Redis through node-redis (its `sendCommand`). */
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
      withRedis(async (_, server) => {
        const client = await nodeRedis(server.port);
        try {
          await fn(redisStore(client), () => client.sendCommand(["FLUSHALL"]).then(() => {}));
        } finally {
          client.destroy();
        }
      }),
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
