// Copyright 2026 the @lionpride/core authors. MIT license.
// A child process of the distributed tests: `deno run --unstable-kv -A
// tests/_distributed_worker.ts '<json>'`. Prints one JSON line per event on
// stdout, with wall-clock instants (`performance.timeOrigin + now()`) that are
// comparable across processes on one machine.

import { Redis } from "ioredis";
import {
  DistributedLimiter,
  DistributedRateLimiter,
  type DistributedStore,
  kvStore,
  redisStore,
} from "../distributed/mod.ts";

/** What the parent asks a worker to do. */
export interface WorkerTask {
  engine: "kv" | "redis";
  /** KV file path, or Redis port. */
  where: string;
  mode: "hold" | "rate" | "hold-forever" | "wait-once";
  name: string;
  limit: number;
  /** Concurrent holders (hold) or callers (rate). */
  holders: number;
  /** How long the work loop runs, ms. */
  duration: number;
  leaseTtl?: number;
  heartbeat?: number;
  period?: number;
  burst?: number;
}

const now = (): number => performance.timeOrigin + performance.now();
const emit = (event: Record<string, unknown>): void => console.log(JSON.stringify(event));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function open(task: WorkerTask): Promise<[DistributedStore, () => void]> {
  if (task.engine === "kv") {
    const kv = await Deno.openKv(task.where);
    return [kvStore(kv), () => kv.close()];
  }
  const client = new Redis({ host: "127.0.0.1", port: Number(task.where) });
  return [redisStore(client), () => client.disconnect()];
}

function limiterFor(store: DistributedStore, task: WorkerTask): DistributedLimiter {
  return new DistributedLimiter(store, task.name, {
    limit: task.limit,
    leaseTtl: task.leaseTtl,
    heartbeat: task.heartbeat,
    pollInterval: 10,
  });
}

async function hold(store: DistributedStore, task: WorkerTask): Promise<void> {
  const limiter = limiterFor(store, task);
  const end = now() + task.duration;
  await Promise.all(Array.from({ length: task.holders }, async (_, holder) => {
    while (now() < end) {
      const permit = await limiter.acquire();
      emit({ holder, grant: now() });
      await pause(Math.random() * 8);
      emit({ holder, release: now() });
      await permit.release();
    }
  }));
}

async function rate(store: DistributedStore, task: WorkerTask): Promise<void> {
  const limiter = new DistributedRateLimiter(store, task.name, {
    limit: task.limit,
    period: task.period!,
    burst: task.burst,
  });
  const end = now() + task.duration;
  await Promise.all(Array.from({ length: task.holders }, async () => {
    while (now() < end) {
      await limiter.acquire();
      emit({ admit: now() });
    }
  }));
}

async function once(store: DistributedStore, task: WorkerTask): Promise<void> {
  const limiter = limiterFor(store, task);
  emit({ waiting: now() });
  const permit = await limiter.acquire();
  emit({ grant: now() });
  if (task.mode === "hold-forever") await new Promise(() => {}); // until SIGKILL
  await permit.release();
}

const task: WorkerTask = JSON.parse(Deno.args[0]);
const [store, close] = await open(task);
try {
  if (task.mode === "hold") await hold(store, task);
  else if (task.mode === "rate") await rate(store, task);
  else await once(store, task);
} finally {
  close();
}
