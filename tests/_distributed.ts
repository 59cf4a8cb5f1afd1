// Copyright 2026 the @lionpride/core authors. MIT license.
// Real engines for the distributed tests: a redis-server of our own on a free
// 127.0.0.1 port, temp KV files, and a KV whose every call can be made to fail.

import { Redis } from "ioredis";

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
  return new Redis({
    host: "127.0.0.1",
    port,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => 20,
    lazyConnect: false,
  });
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
    client.disconnect();
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
  set(key: Deno.KvKey, value: unknown): Promise<Deno.KvCommitResult> {
    this.#check();
    return this.kv.set(key, value);
  }
  delete(key: Deno.KvKey): Promise<void> {
    this.#check();
    return this.kv.delete(key);
  }
  atomic(): Deno.AtomicOperation {
    this.#check();
    return this.kv.atomic();
  }
}
