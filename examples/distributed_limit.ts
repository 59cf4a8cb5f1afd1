// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Four worker processes share ONE limit of 5 concurrent requests to a local
 * server that counts how many requests it serves at once. One worker is
 * killed with SIGKILL while it holds leases: its slots come back when its
 * leases expire (`leaseTtl`), and the limit holds throughout.
 *
 * `deno task example:distributed` (a Deno KV file in a temp directory), or
 * with `REDIS_URL=redis://127.0.0.1:6379 deno task example:distributed`.
 */

import { sleep } from "../mod.ts";
import {
  DistributedLimiter,
  type DistributedStore,
  kvStore,
  redisStore,
} from "../distributed/mod.ts";

const LIMIT = 5;
const WORKERS = 4;
const LEASE_TTL = 1_500;
/** The victim is killed the first time it is seen in flight after this many ms. */
const KILL_AFTER = 1_500;
/** The run ends once the victim's slots are back in use, or after this many ms. */
const RUN_AT_MOST = 15_000;
const VICTIM = 3;

async function openStore(where: string): Promise<[DistributedStore, () => void]> {
  if (where.startsWith("redis://")) {
    const { Redis } = await import("ioredis");
    const client = new Redis(where, { maxRetriesPerRequest: 1 });
    return [redisStore(client), () => client.disconnect()];
  }
  const kv = await Deno.openKv(where);
  return [kvStore(kv), () => kv.close()];
}

/**
 * A worker: 8 callers, each calling the server under the shared limit until
 * the server answers that the run is over.
 */
async function worker(index: number, where: string, url: string): Promise<void> {
  const [store, close] = await openStore(where);
  const limiter = new DistributedLimiter(store, "example", { limit: LIMIT, leaseTtl: LEASE_TTL });
  const end = Date.now() + RUN_AT_MOST;
  let over = false;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (!over && Date.now() < end) {
      await limiter.use(async (signal) => {
        const res = await fetch(`${url}?worker=${index}`, { signal });
        if (res.headers.has("x-run-over")) over = true;
        await res.body?.cancel();
      });
    }
  }));
  close();
}

/** The server: counts requests in flight, globally and per worker. */
function countingServer() {
  const stats = {
    inFlight: 0,
    peak: 0,
    perWorker: new Map<number, { inFlight: number; peak: number; served: number }>(),
    onRequest: (_worker: number) => {},
    samples: [] as Array<[number, number]>,
    over: false,
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const worker = Number(new URL(req.url).searchParams.get("worker"));
    const w = stats.perWorker.get(worker) ?? { inFlight: 0, peak: 0, served: 0 };
    stats.perWorker.set(worker, w);
    stats.peak = Math.max(stats.peak, ++stats.inFlight);
    w.peak = Math.max(w.peak, ++w.inFlight);
    stats.samples.push([Date.now(), stats.inFlight]);
    stats.onRequest(worker);
    await sleep(20);
    stats.inFlight--;
    w.inFlight--;
    w.served++;
    stats.samples.push([Date.now(), stats.inFlight]);
    return new Response("ok", { headers: stats.over ? { "x-run-over": "1" } : {} });
  });
  return { server, stats };
}

async function main(): Promise<void> {
  const redisUrl = Deno.env.get("REDIS_URL");
  const dir = redisUrl ? undefined : await Deno.makeTempDir({ prefix: "lionpride-example-" });
  const where = redisUrl ?? `${dir}/limit.sqlite`;
  if (dir !== undefined) (await Deno.openKv(where)).close(); // create the file before 4 processes open it
  const { server, stats } = countingServer();
  const url = `http://127.0.0.1:${server.addr.port}/`;
  console.log(`store: ${redisUrl ? `Redis at ${redisUrl}` : `Deno KV file ${where}`}`);
  console.log(
    `${WORKERS} workers x 8 callers, one shared limit of ${LIMIT}, leaseTtl ${LEASE_TTL} ms`,
  );

  const children = Array.from({ length: WORKERS }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-kv",
        "-A",
        import.meta.filename!,
        "--worker",
        String(i),
        where,
        url,
      ],
    }).spawn());

  // Kill the victim the first time it is seen in flight after KILL_AFTER.
  const started = Date.now();
  let killedAt = 0, victimHeld = 0;
  stats.onRequest = (worker) => {
    if (worker !== VICTIM || killedAt !== 0 || Date.now() - started < KILL_AFTER) return;
    victimHeld = stats.perWorker.get(VICTIM)!.inFlight;
    killedAt = Date.now();
    children[VICTIM].kill("SIGKILL");
  };
  // The run lasts until the other workers fill every slot again after the
  // kill (and a little longer), however long a loaded machine takes.
  const full = () => stats.samples.find(([t, n]) => t > killedAt + 50 && n === LIMIT);
  while (Date.now() - started < RUN_AT_MOST && (killedAt === 0 || full() === undefined)) {
    await sleep(50);
  }
  await sleep(500);
  stats.over = true;
  const statuses = await Promise.all(children.map((c) => c.status));
  await server.shutdown();
  if (dir !== undefined) await Deno.remove(dir, { recursive: true });

  for (const [i, w] of [...stats.perWorker].sort((a, b) => a[0] - b[0])) {
    const fate = statuses[i].signal === "SIGKILL" ? " (SIGKILLed)" : "";
    console.log(`worker ${i}${fate}: ${w.served} requests served, peak ${w.peak} in flight`);
  }
  console.log(`global peak in flight: ${stats.peak} (limit ${LIMIT})`);
  if (killedAt !== 0) {
    const again = full();
    const back = again ? `${again[0] - killedAt} ms later` : "not within the run";
    console.log(
      `worker ${VICTIM} was SIGKILLed holding ${victimHeld}+ lease(s); ` +
        `${LIMIT} requests were in flight again ${back} (leases expire within ${LEASE_TTL} ms)`,
    );
  }
  if (stats.peak > LIMIT) throw new Error(`the limit was exceeded: ${stats.peak}`);
}

if (Deno.args[0] === "--worker") {
  await worker(Number(Deno.args[1]), Deno.args[2], Deno.args[3]);
} else if (import.meta.main) {
  await main();
}
