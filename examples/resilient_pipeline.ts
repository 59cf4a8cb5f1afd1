// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The seed tutorial's pipeline, end to end, against a REAL flaky HTTP server
 * on 127.0.0.1: fetch (10 at a time, 5 s per call, 3 attempts with backoff,
 * behind a circuit breaker) → process (alcall, 20 at a time, through a
 * CapacityLimiter(5) modelling 5 database connections) → store (~10% fail,
 * aggregated in an ExceptionGroup). Ctrl-C finishes the current batch of 20
 * and prints what was done.
 *
 * Run: `deno task example` or
 * `deno run --allow-net=127.0.0.1 examples/resilient_pipeline.ts --items 100 --seed 1`.
 *
 * Flags: `--items N` (100), `--seed S` (random), `--json` (final object only),
 * `--failure-rate R` (0.2: share of requests answered with a 5xx),
 * `--hang-rate R` (0.03: share of first attempts that hang past the timeout),
 * `--latency MS` (100), `--call-timeout MS` (5000), `--store-failure-rate R` (0.1).
 */

import {
  alcall,
  CapacityLimiter,
  CircuitBreaker,
  currentTime,
  ExceptionGroup,
  GracefulShutdown,
  isCancelled,
  Queue,
  QueueClosed,
  sleep,
  taskGroup,
} from "../mod.ts";

// ---------------------------------------------------------------- options

interface Options {
  items: number;
  seed: number;
  json: boolean;
  failureRate: number;
  hangRate: number;
  latency: number;
  callTimeout: number;
  storeFailureRate: number;
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    items: 100,
    seed: Math.floor(Math.random() * 2 ** 31),
    json: false,
    failureRate: 0.2,
    hangRate: 0.03,
    latency: 100,
    callTimeout: 5_000,
    storeFailureRate: 0.1,
  };
  const numeric: Record<string, keyof Options> = {
    "--items": "items",
    "--seed": "seed",
    "--failure-rate": "failureRate",
    "--hang-rate": "hangRate",
    "--latency": "latency",
    "--call-timeout": "callTimeout",
    "--store-failure-rate": "storeFailureRate",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--json") {
      o.json = true;
    } else if (arg in numeric) {
      const value = Number(args[++i]);
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(`${arg} needs a number >= 0, received ${args[i]}`);
      }
      (o as unknown as Record<string, number>)[numeric[arg]] = value;
    } else {
      throw new TypeError(`Unknown argument ${arg}`);
    }
  }
  return o;
}

/** A deterministic fraction in [0, 1) from a seed and a few integers. */
function chance(seed: number, ...keys: number[]): number {
  let h = seed >>> 0 ^ 0x9e3779b9;
  for (const k of keys) {
    h = Math.imul(h ^ k, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 2 ** 32;
}

// ---------------------------------------------------------------- the flaky API

/** Starts the flaky upstream on 127.0.0.1 (port 0) and returns its URL and a stop function. */
function startFlakyApi(o: Options): { url: string; stop: () => Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      const id = Number(url.pathname.split("/").pop());
      const attempt = Number(req.headers.get("x-attempt") ?? "1");
      const roll = chance(o.seed, id, attempt);
      try {
        if (attempt === 1 && roll < o.hangRate) {
          // Hang past the caller's timeout; end when the caller gives up.
          await sleep(Infinity, { signal: req.signal });
        }
        await sleep(o.latency * (0.5 + chance(o.seed, id, attempt, 7)), { signal: req.signal });
      } catch {
        return new Response(null, { status: 499 });
      }
      if (roll < o.hangRate + o.failureRate) {
        return new Response("upstream overloaded", { status: 503 });
      }
      return Response.json({ id, value: Math.round(chance(o.seed, id) * 1_000) });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    stop: () => server.shutdown(),
  };
}

// ---------------------------------------------------------------- the pipeline

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.name = "HttpError";
  }
}

interface Fetched {
  id: number;
  value: number;
}

interface Processed extends Fetched {
  score: number;
}

export interface PipelineResult {
  status: "success" | "partial_success" | "interrupted";
  fetched: number;
  processed: number;
  storage_errors: number;
  fetch_failures: number;
  stored: number;
  retries: number;
  max_db_connections: number;
  breaker_opened: number;
  sequential_sec: number;
  metrics: {
    total_items: number;
    fetch_success: number;
    process_success: number;
    store_success: number;
    overall_success: number;
    duration_sec: number;
    avg_retries: number;
  };
}

/** Runs the pipeline; `log` receives progress lines. */
export async function runPipeline(
  o: Options,
  log: (line: string, final?: boolean) => void,
  stopSignal?: AbortSignal,
): Promise<PipelineResult> {
  const api = startFlakyApi(o);
  const started = currentTime();
  let breakerOpened = 0;
  const breaker = new CircuitBreaker({
    failureThreshold: 5,
    resetTimeout: 1_000,
    onStateChange: (from, to) => {
      if (to === "open") breakerOpened++;
      log(`circuit breaker: ${from} -> ${to}`, true);
    },
  });
  const db = new CapacityLimiter(5);
  let maxDb = 0;
  let callTime = 0;
  let retries = 0;
  const counts = { fetched: 0, fetchFailed: 0, processed: 0, stored: 0, storageErrors: 0 };
  const queue = new Queue<Fetched>({ maxSize: 40 });
  const ids = Array.from({ length: o.items }, (_, i) => i);
  let interrupted = false;

  const fetchItem = (id: number, attempt: number, signal: AbortSignal): Promise<Fetched> =>
    breaker.call(async () => {
      const t = currentTime();
      try {
        const res = await fetch(`${api.url}/items/${id}`, {
          signal,
          headers: { "x-attempt": String(attempt) },
        });
        if (!res.ok) {
          await res.body?.cancel();
          throw new HttpError(res.status);
        }
        return await res.json() as Fetched;
      } finally {
        callTime += currentTime() - t;
      }
    });

  const producer = async (): Promise<void> => {
    try {
      await alcall(ids, async (id, ctx) => {
        const item = await fetchItem(id, ctx.attempt, ctx.signal);
        counts.fetched++;
        await queue.put(item);
      }, {
        maxConcurrent: 10,
        attemptTimeout: o.callTimeout,
        retryAttempts: 2,
        retryInitialDelay: 100,
        retryBackoff: 2,
        returnExceptions: true,
        signal: stopSignal,
        onProgress: (p) => {
          retries = p.retries;
          counts.fetchFailed = p.failed;
          log(
            `fetch ${
              p.succeeded + p.failed
            }/${p.total} (running ${p.running}, retries ${p.retries})` +
              ` | processed ${counts.processed} | stored ${counts.stored}`,
          );
        },
      });
    } catch (err) {
      if (!(stopSignal?.aborted && isCancelled(err))) throw err;
      interrupted = true;
    } finally {
      queue.close();
    }
  };

  const consumer = async (): Promise<void> => {
    for (;;) {
      const batch: Fetched[] = [];
      try {
        while (batch.length < 20) batch.push(await queue.get());
      } catch (err) {
        if (!(err instanceof QueueClosed)) throw err;
      }
      if (batch.length === 0) return;
      const processed = await alcall(batch, async (item) => {
        using _conn = await db.acquire();
        maxDb = Math.max(maxDb, db.borrowedTokens);
        await sleep(5 + chance(o.seed, item.id, 99) * 10);
        return { ...item, score: item.value / 10 } as Processed;
      }, { maxConcurrent: 20 });
      counts.processed += processed.length;
      const stored = await alcall(processed, async (item) => {
        await sleep(2);
        if (chance(o.seed, item.id, 1234) < o.storeFailureRate) {
          throw new Error(`store failed for item ${item.id}`);
        }
        return item.id;
      }, { maxConcurrent: 20, returnExceptions: true });
      const errors = stored.filter((r): r is Error => r instanceof Error);
      counts.stored += stored.length - errors.length;
      if (errors.length > 0) {
        const group = new ExceptionGroup("storage failures", errors);
        counts.storageErrors += group.exceptions.length;
      }
      if (stopSignal?.aborted) {
        interrupted = true;
        return;
      }
    }
  };

  try {
    await taskGroup((tg) => {
      tg.startSoon(producer);
      tg.startSoon(consumer);
    });
  } finally {
    await api.stop();
  }
  const duration = (currentTime() - started) / 1_000;
  const total = o.items;
  const pct = (n: number): number => Math.round((n / Math.max(1, total)) * 1_000) / 10;
  return {
    status: interrupted
      ? "interrupted"
      : counts.storageErrors > 0 || counts.fetchFailed > 0
      ? "partial_success"
      : "success",
    fetched: counts.fetched,
    processed: counts.processed,
    storage_errors: counts.storageErrors,
    fetch_failures: counts.fetchFailed,
    stored: counts.stored,
    retries,
    max_db_connections: maxDb,
    breaker_opened: breakerOpened,
    sequential_sec: Math.round(callTime) / 1_000 +
      counts.processed * 0.01 + counts.processed * 0.002,
    metrics: {
      total_items: total,
      fetch_success: pct(counts.fetched),
      process_success: pct(counts.processed),
      store_success: pct(counts.stored),
      overall_success: pct(counts.stored),
      duration_sec: Math.round(duration * 100) / 100,
      avg_retries: Math.round((retries / Math.max(1, total)) * 100) / 100,
    },
  };
}

// ---------------------------------------------------------------- main

if (import.meta.main) {
  const o = parseArgs(Deno.args);
  const tty = Deno.stdout.isTerminal();
  let lastPlain = 0;
  const encoder = new TextEncoder();
  const log = (line: string, final = false): void => {
    if (o.json) return;
    if (tty) {
      Deno.stdout.writeSync(encoder.encode(`\r\x1b[2K${line}${final ? "\n" : ""}`));
    } else if (final || currentTime() - lastPlain >= 1_000) {
      lastPlain = currentTime();
      console.log(line);
    }
  };
  using shutdown = new GracefulShutdown();
  if (!o.json) console.log(`resilient pipeline: ${o.items} items, seed ${o.seed}`);
  const result = await runPipeline(o, log, shutdown.signal);
  if (o.json) {
    console.log(JSON.stringify(result));
  } else {
    if (tty) console.log();
    console.log(JSON.stringify(
      {
        status: result.status,
        fetched: result.fetched,
        processed: result.processed,
        storage_errors: result.storage_errors,
      },
      null,
      2,
    ));
    const m = result.metrics;
    console.log("\nReal-World Metrics");
    console.log(`  total_items:     ${m.total_items}`);
    console.log(`  fetch_success:   ${m.fetch_success}%`);
    console.log(`  process_success: ${m.process_success}%`);
    console.log(`  store_success:   ${m.store_success}%`);
    console.log(`  overall_success: ${m.overall_success}%`);
    console.log(`  duration_sec:    ${m.duration_sec}`);
    console.log(`  avg_retries:     ${m.avg_retries}`);
    console.log(
      `\nA sequential run would have taken ~${result.sequential_sec.toFixed(1)} s ` +
        `(${(result.sequential_sec / Math.max(0.01, m.duration_sec)).toFixed(1)}x longer); ` +
        `peak DB connections ${result.max_db_connections}/5.`,
    );
  }
}
