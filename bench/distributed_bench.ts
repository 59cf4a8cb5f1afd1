// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Distributed primitives side by side, in one run, from 1 and 4 processes:
 * on one redis-server, acquire+release against bottleneck (Redis clustering)
 * and rate-limit decisions against rate-limiter-flexible (RateLimiterRedis);
 * on one local Deno KV file, grants against a naive get+CAS loop. Besides
 * operations per second: CPU time per operation in the clients (their own
 * `process.cpuUsage()`) and in redis-server (`INFO cpu`), and round trips
 * per operation (`MONITOR`). Rate decisions from one process are also run
 * with the client pinned (taskset) to redis-server's CPU and to the other
 * one, since that placement decides them.
 *
 * `deno task bench:distributed` (not a `deno bench` file: it spawns
 * processes and servers). As root, `BENCH_HALT_POLL_NS=200000 deno task
 * bench:distributed` runs it with the guest kernel's halt polling set to
 * that budget (the kernel's default), then restores the machine's own.
 * Results: bench/README.md.
 *
 * @module
 */

import process from "node:process";
import { Redis } from "ioredis";
import Bottleneck from "bottleneck";
import { RateLimiterRedis } from "rate-limiter-flexible";
import {
  DistributedLimiter,
  DistributedRateLimiter,
  kvStore,
  redisStore,
} from "../distributed/mod.ts";
import { RedisServer } from "../tests/_distributed.ts";

type Scenario = "limiter" | "bottleneck" | "rate" | "rlf" | "kv-limiter" | "kv-naive";
interface Job {
  scenario: Scenario;
  where: string;
  name: string;
  startAt: number;
  duration: number;
  /** Run exactly this many operations, one at a time (round-trip counting). */
  count?: number;
  /** Callers awaiting one operation at a time in each process (default 8). */
  callers?: number;
}

const CALLERS = 8;
/** Callers in one process for the rate-decision sweep (8 is in the main table). */
const SWEEP_CALLERS = [1, 32];
const DURATION = 2_000;
const LIMIT = 10;

async function loop(
  job: Job,
  op: () => Promise<unknown>,
  callers = job.callers ?? CALLERS,
): Promise<number> {
  if (job.count !== undefined) {
    for (let i = 0; i < job.count; i++) await op();
    return job.count;
  }
  await new Promise((r) => setTimeout(r, Math.max(0, job.startAt - Date.now())));
  const end = job.startAt + job.duration;
  let ops = 0;
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: callers }, async () => {
    while (Date.now() < end) {
      await op();
      ops++;
    }
  }));
  const used = process.cpuUsage(cpu);
  cpuMicros = used.user + used.system;
  return ops;
}

/** CPU time (µs) the child's last timed loop used. */
let cpuMicros = 0;

/** The naive KV limiter: a counter, taken and given back with get + CAS loops. */
async function naiveCas(
  kv: Deno.Kv,
  key: Deno.KvKey,
  delta: number,
  limit: number,
): Promise<boolean> {
  for (;;) {
    const entry = await kv.get<number>(key);
    const n = entry.value ?? 0;
    if (delta > 0 && n >= limit) return false;
    try {
      if ((await kv.atomic().check(entry).set(key, n + delta).commit()).ok) return true;
    } catch (err) {
      if (!(err instanceof Error && /database is locked/.test(err.message))) throw err;
    }
  }
}

async function child(job: Job): Promise<number> {
  if (job.scenario.startsWith("kv-")) {
    const kv = await Deno.openKv(job.where);
    try {
      if (job.scenario === "kv-limiter") {
        const limiter = new DistributedLimiter(kvStore(kv), job.name, { limit: 5 });
        return await loop(job, async () => (await limiter.acquire()).release(), 16);
      }
      const key = ["naive", job.name];
      return await loop(job, async () => {
        while (!await naiveCas(kv, key, 1, 5)) await new Promise((r) => setTimeout(r, 1));
        await naiveCas(kv, key, -1, 5);
      }, 16);
    } finally {
      kv.close();
    }
  }
  const port = Number(job.where);
  const client = new Redis({ host: "127.0.0.1", port });
  try {
    switch (job.scenario) {
      case "limiter": {
        const limiter = new DistributedLimiter(redisStore(client), job.name, { limit: LIMIT });
        return await loop(job, async () => (await limiter.acquire()).release());
      }
      case "bottleneck": {
        const limiter = new Bottleneck({
          id: job.name,
          maxConcurrent: LIMIT,
          datastore: "ioredis",
          clearDatastore: false,
          clientOptions: { host: "127.0.0.1", port },
          Redis,
        } as Bottleneck.ConstructorOptions);
        await limiter.ready();
        try {
          return await loop(job, () => limiter.schedule(() => Promise.resolve()));
        } finally {
          await limiter.disconnect(false);
        }
      }
      case "rate": {
        const limiter = new DistributedRateLimiter(redisStore(client), job.name, {
          limit: 1e9,
          period: 1_000,
        });
        return await loop(job, () => limiter.tryAcquire());
      }
      case "rlf": {
        const limiter = new RateLimiterRedis({
          storeClient: client,
          points: 1e9,
          duration: 1,
          keyPrefix: job.name,
        });
        return await loop(job, () => limiter.consume("k"));
      }
    }
  } finally {
    client.disconnect();
  }
  throw new Error(`unknown scenario ${job.scenario}`);
}

/**
 * Round trips per operation: commands the server received from clients over
 * `n` operations, watched with MONITOR (a script's inner calls, which
 * MONITOR tags "lua", are not round trips). A separate short run: MONITOR
 * slows the server down.
 */
async function roundTrips(port: number, scenario: Scenario, n = 200): Promise<number> {
  const client = new Redis({ host: "127.0.0.1", port });
  const monitor = await client.monitor();
  let commands = 0;
  monitor.on("monitor", (_time: string, _args: string[], source: string) => {
    if (!source.includes("lua")) commands++;
  });
  const job: Job = {
    scenario,
    where: String(port),
    name: `rt-${scenario}`,
    startAt: 0,
    duration: 0,
  };
  const ops = await child({ ...job, count: n });
  await new Promise((r) => setTimeout(r, 200));
  monitor.disconnect();
  client.disconnect();
  return commands / ops;
}

/** redis-server's CPU time so far, µs (user + system, from `INFO cpu`). */
async function serverCpu(port: number): Promise<number> {
  const client = new Redis({ host: "127.0.0.1", port });
  try {
    const info = await client.info("cpu");
    const read = (field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)![1]);
    return (read("used_cpu_user") + read("used_cpu_sys")) * 1e6;
  } finally {
    client.disconnect();
  }
}

/**
 * Pins redis-server (every thread of it) to `cpus` ("0", "0,1", …) with
 * taskset; false where taskset is missing or fails.
 */
async function pinServer(port: number, cpus: string): Promise<boolean> {
  const client = new Redis({ host: "127.0.0.1", port });
  try {
    const pid = /process_id:(\d+)/.exec(await client.info("server"))![1];
    const pinned = await new Deno.Command("taskset", {
      args: ["-a", "-p", "-c", cpus, pid],
      stdout: "null",
      stderr: "null",
    }).output();
    return pinned.success;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** One timed run: operations per second, and client and server CPU µs per operation. */
interface Measured {
  perSecond: number;
  clientCpu: number;
  serverCpu: number;
  /** The slowest process's operations over the mean's (1: all equal; ~0: one starved). */
  slowestShare: number;
}

async function measure(
  scenario: Scenario,
  processes: number,
  where: string,
  callers = CALLERS,
  cpu?: number,
): Promise<Measured> {
  const job: Job = {
    scenario,
    where,
    callers,
    name: `${scenario}-${processes}-${crypto.randomUUID().slice(0, 8)}`,
    startAt: Date.now() + 2_500,
    duration: DURATION,
  };
  const redis = !scenario.startsWith("kv-");
  const serverBefore = redis
    ? new Promise<number>((resolve) =>
      setTimeout(() => resolve(serverCpu(Number(where))), job.startAt - Date.now())
    )
    : Promise.resolve(0);
  const outputs = await Promise.all(
    Array.from(
      { length: processes },
      () =>
        new Deno.Command(cpu === undefined ? Deno.execPath() : "taskset", {
          args: [
            ...(cpu === undefined ? [] : ["-c", String(cpu), Deno.execPath()]),
            "run",
            "--unstable-kv",
            "-A",
            import.meta.filename!,
            "child",
            JSON.stringify(job),
          ],
          stderr: "inherit",
        }).output(),
    ),
  );
  const serverUsed = redis ? await serverCpu(Number(where)) - await serverBefore : NaN;
  let ops = 0, clientUsed = 0, slowest = Infinity;
  for (const o of outputs) {
    const [n, cpu] = new TextDecoder().decode(o.stdout).trim().split(" ").map(Number);
    ops += n;
    clientUsed += cpu;
    slowest = Math.min(slowest, n);
  }
  return {
    perSecond: ops / (DURATION / 1_000),
    clientCpu: clientUsed / ops,
    serverCpu: serverUsed / ops,
    slowestShare: slowest / (ops / processes),
  };
}

const ROUNDS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Every scenario once per round, rounds interleaved; the median of each figure. */
async function interleaved(
  scenarios: Scenario[],
  processes: number,
  where: string,
  callers = CALLERS,
  cpu?: number,
): Promise<Map<Scenario, Measured>> {
  const runs = new Map<Scenario, Measured[]>(scenarios.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of round % 2 ? [...scenarios].reverse() : scenarios) {
      runs.get(s)!.push(await measure(s, processes, where, callers, cpu));
    }
  }
  return new Map(
    [...runs].map(([s, xs]) => [s, {
      perSecond: median(xs.map((x) => x.perSecond)),
      clientCpu: median(xs.map((x) => x.clientCpu)),
      serverCpu: median(xs.map((x) => x.serverCpu)),
      slowestShare: median(xs.map((x) => x.slowestShare)),
    }]),
  );
}

const cpuCell = (x: number) => Number.isNaN(x) ? "" : x.toFixed(1);

const LABELS: Record<Scenario, string> = {
  limiter: "acquire+release: DistributedLimiter (limit 10)",
  bottleneck: "acquire+release: bottleneck, ioredis datastore (maxConcurrent 10)",
  rate: "rate decision: DistributedRateLimiter.tryAcquire",
  rlf: "rate decision: RateLimiterRedis.consume",
  "kv-limiter": "grant+release: DistributedLimiter (limit 5)",
  "kv-naive": "grant+release: naive get+CAS counter (limit 5)",
};

/**
 * The guest kernel's halt-polling budget, read and (as root) set: how long an
 * idle vCPU polls for work before it halts. Rate decisions from one process
 * hang on it (bench/README.md, "Halt polling decides the cross-CPU point"):
 * with polling off, every hand-over between the client and redis-server on
 * two CPUs wakes a halted vCPU through the hypervisor.
 */
const HALT_POLL = "/sys/module/haltpoll/parameters/guest_halt_poll_ns";

async function readHaltPoll(): Promise<string> {
  try {
    return `${(await Deno.readTextFile(HALT_POLL)).trim()} ns`;
  } catch {
    return "n/a";
  }
}

async function main(): Promise<void> {
  // BENCH_HALT_POLL_NS=<ns> runs the whole table with that budget (root
  // only) and puts the machine's own back afterwards.
  const haltPoll = Deno.env.get("BENCH_HALT_POLL_NS");
  const ownHaltPoll = haltPoll === undefined ? undefined : await Deno.readTextFile(HALT_POLL);
  if (haltPoll !== undefined) await Deno.writeTextFile(HALT_POLL, haltPoll);
  try {
    await table();
  } finally {
    if (ownHaltPoll !== undefined) await Deno.writeTextFile(HALT_POLL, ownHaltPoll);
  }
}

async function table(): Promise<void> {
  const print = (line: string) => console.log(line);
  print(
    `${
      new Date().toISOString().slice(0, 10)
    }, Deno ${Deno.version.deno}, ${ROUNDS} interleaved rounds, median, guest_halt_poll_ns ${await readHaltPoll()}`,
  );
  print(
    "| store | operation | processes | ops/s | client CPU µs/op | server CPU µs/op | round trips/op |\n" +
      "|---|---|---|---|---|---|---|",
  );
  const server = new RedisServer();
  await server.start();
  try {
    const where = String(server.port);
    const only = Deno.args[1]?.split(",") as Scenario[] | undefined;
    const redisScenarios: Scenario[] = only ?? ["limiter", "bottleneck", "rate", "rlf"];
    const trips = new Map<Scenario, number>();
    for (const s of redisScenarios) {
      // ioredis's MONITOR connection now and then dies of a "Command queue
      // state error" when another client connects; a second try counts.
      for (let attempt = 0; attempt < 3 && !trips.has(s); attempt++) {
        const { success, stdout } = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", import.meta.filename!, "trips", s, where],
          stderr: "inherit",
        }).output();
        if (success) trips.set(s, Number(new TextDecoder().decode(stdout)));
      }
    }
    for (const processes of [1, 4]) {
      const results = await interleaved(redisScenarios, processes, where);
      for (const [s, m] of results) {
        const rt = processes === 1 ? trips.get(s)?.toFixed(2) ?? "?" : "";
        print(
          `| Redis 7 | ${LABELS[s]} | ${processes} | ${
            Math.round(m.perSecond).toLocaleString("en")
          } | ${cpuCell(m.clientCpu)} | ${cpuCell(m.serverCpu)} | ${rt} |`,
        );
      }
    }
    // Decisions per second from one process depend on how many are in
    // flight: one caller measures the round trip, more measure what a busy
    // process gets.
    const rates = redisScenarios.filter((s) => s === "rate" || s === "rlf");
    for (const callers of rates.length > 0 ? SWEEP_CALLERS : []) {
      const results = await interleaved(rates, 1, where, callers);
      for (const [s, m] of results) {
        print(
          `| Redis 7 | ${LABELS[s]} (${callers} caller${callers === 1 ? "" : "s"}) | 1 | ${
            Math.round(m.perSecond).toLocaleString("en")
          } | ${cpuCell(m.clientCpu)} | ${cpuCell(m.serverCpu)} | |`,
        );
      }
    }
    // From one process, decisions per second swing with where the scheduler
    // puts the client and redis-server: on one CPU a reply hands over within
    // that CPU, on two each hand-over wakes the other. Both placements, pinned.
    if (
      rates.length > 0 && navigator.hardwareConcurrency >= 2 && await pinServer(server.port, "1")
    ) {
      for (const [cpu, placement] of [[1, "same CPU as redis-server"], [0, "other CPU"]] as const) {
        const results = await interleaved(rates, 1, where, CALLERS, cpu);
        for (const [s, m] of results) {
          print(
            `| Redis 7 | ${LABELS[s]} (${CALLERS} callers, ${placement}) | 1 | ${
              Math.round(m.perSecond).toLocaleString("en")
            } | ${cpuCell(m.clientCpu)} | ${cpuCell(m.serverCpu)} | |`,
          );
        }
      }
    }
  } finally {
    await server.stop();
  }
  if (Deno.args[1] !== undefined) return;
  const dir = await Deno.makeTempDir({ prefix: "lionpride-bench-" });
  const path = `${dir}/kv.sqlite`;
  (await Deno.openKv(path)).close();
  try {
    const results = await interleaved(["kv-limiter", "kv-naive"], 4, path);
    for (const [s, m] of results) {
      print(
        `| KV file | ${LABELS[s]} (16 callers each; slowest process ${
          m.slowestShare.toFixed(2)
        } of the mean) | 4 | ${Math.round(m.perSecond).toLocaleString("en")} | ${
          cpuCell(m.clientCpu)
        } | | |`,
      );
    }
    const kv = await Deno.openKv(path);
    const leftover = [];
    for await (const e of kv.list({ prefix: ["naive"] })) leftover.push(e.value);
    kv.close();
    print(`naive counters after the runs (all 0 = no lost update): ${leftover.join(", ")}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main && Deno.args[0] === "trips") {
  console.log(await roundTrips(Number(Deno.args[2]), Deno.args[1] as Scenario));
} else if (import.meta.main && Deno.args[0] === "child") {
  const ops = await child(JSON.parse(Deno.args[1]));
  console.log(`${ops} ${cpuMicros}`);
} else if (import.meta.main && Deno.args[0] === "run") {
  await main();
}
