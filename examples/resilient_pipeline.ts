// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * A fetch → process → store pipeline, end to end, against a REAL flaky HTTP server
 * on 127.0.0.1: fetch (10 at a time, 5 s per call, 3 attempts with backoff,
 * behind a circuit breaker) → process (alcall, 20 at a time, through a
 * CapacityLimiter(5) modelling 5 database connections) → store (~10% fail,
 * aggregated in an ExceptionGroup). Ctrl-C finishes the current batch of 20,
 * prints what was done and exits with 130.
 *
 * Run: `deno task example` or
 * `deno run --allow-net=127.0.0.1 examples/resilient_pipeline.ts --items 100 --seed 1`
 * (`--help` lists the options).
 *
 * The summary says how the run ended (`success`: every item stored;
 * `partial_success`: some; `failure`: none; `interrupted`) and counts why
 * items failed (`failure_reasons`, e.g. `{ "5xx": 4, "timeout": 1,
 * "store_error": 9 }`) and why attempts failed (`attempt_failures`). The
 * progress line ends on the final counts.
 *
 * Flags: `--items N` (100), `--seed S` (random), `--json` (final object only),
 * `--failure-rate R` (0.2: share of requests answered with a 5xx),
 * `--hang-rate R` (0.03: share of first attempts that hang past the timeout),
 * `--latency MS` (100), `--call-timeout MS` (5000), `--store-failure-rate R` (0.1),
 * `--fault-mode none|reset|slow-body` (none), `--fault-rate R` (0.1).
 *
 * Fault injection (off by default): with `--fault-mode reset`, a seeded share
 * (`--fault-rate`) of requests is redirected (307) to a raw TCP listener that
 * closes the connection at once or writes garbage instead of HTTP; with
 * `--fault-mode slow-body`, that share gets its headers at once and a body
 * trickled over twice the per-call timeout. Either way the attempt fails and
 * is retried; no item leaves the books.
 *
 * The books (`--json`): `fetched + fetch_failures + not_fetched = total`,
 * `processed + unprocessed = fetched`, `stored + storage_errors = processed`;
 * `not_fetched` and `unprocessed` are 0 unless the run was interrupted.
 * Every outcome is a function of the seed, except that a circuit breaker
 * opened by a run of failures (`breaker_opened > 0`) fails calls by timing,
 * and that an answer slower than `--call-timeout` (a machine that stalls the
 * process for that long) times out and is retried like a hang.
 * `runPipeline(options, log, stopSignal)` is exported for tests.
 */

import {
  alcall,
  CapacityLimiter,
  CircuitBreaker,
  CircuitOpenError,
  currentTime,
  ExceptionGroup,
  failAfter,
  GracefulShutdown,
  isCancelled,
  Queue,
  QueueClosed,
  sleep,
  taskGroup,
  TimeoutError,
} from "../mod.ts";

// ---------------------------------------------------------------- options

/** How the flaky upstream misbehaves beyond slow answers, 5xx and hangs. */
export type FaultMode = "none" | "reset" | "slow-body";

/** What one item went through; see {@linkcode PipelineOptions.onItem}. */
export type ItemEvent = "fetched" | "fetch_failed" | "processed" | "stored" | "store_failed";

/** Options of {@linkcode runPipeline}; the CLI flags map onto them. */
export interface PipelineOptions {
  /** Items to fetch, process and store (`--items`). */
  items: number;
  /** Seeds every random choice of the upstream and the store (`--seed`). */
  seed: number;
  /** Print only the final object as JSON (`--json`). */
  json: boolean;
  /** Share of requests answered with a 503 (`--failure-rate`). */
  failureRate: number;
  /** Share of first attempts that hang until the caller gives up (`--hang-rate`). */
  hangRate: number;
  /** Mean upstream latency in ms (`--latency`). */
  latency: number;
  /** Ms per fetch attempt, body included (`--call-timeout`). */
  callTimeout: number;
  /** Share of items whose store fails (`--store-failure-rate`). */
  storeFailureRate: number;
  /** Extra fault of the upstream (`--fault-mode`). */
  faultMode: FaultMode;
  /** Share of requests that get the fault, when `faultMode` is not "none" (`--fault-rate`). */
  faultRate: number;
  /** Called for every step of every item (tests keep a per-item ledger with it). */
  onItem?: (id: number, event: ItemEvent) => void;
}

const FAULT_MODES: readonly FaultMode[] = ["none", "reset", "slow-body"];

/** The defaults of every option but `seed` (random unless given). */
export function defaultOptions(): PipelineOptions {
  return {
    items: 100,
    seed: Math.floor(Math.random() * 2 ** 31),
    json: false,
    failureRate: 0.2,
    hangRate: 0.03,
    latency: 100,
    callTimeout: 5_000,
    storeFailureRate: 0.1,
    faultMode: "none",
    faultRate: 0.1,
  };
}

/** The `--help` text. */
export const USAGE = `Usage: deno task example [options]
       deno run --allow-net=127.0.0.1 examples/resilient_pipeline.ts [options]

Fetches items from a flaky HTTP server it starts on 127.0.0.1, processes them through
5 "database connections" and stores them; prints progress, then what succeeded, what
failed and why. Ctrl-C stops fetching, finishes the batch in hand and exits with 130.

Options:
  --items N               items to move through the pipeline (default 100)
  --seed S                seed for every random choice: same seed, same outcome (default random)
  --json                  print only the final result, as one JSON object
  --failure-rate R        share of requests answered with a 503 (default 0.2)
  --hang-rate R           share of first attempts that hang past the call timeout (default 0.03)
  --latency MS            mean upstream latency (default 100)
  --call-timeout MS       budget per fetch attempt, body included (default 5000)
  --store-failure-rate R  share of items whose store fails (default 0.1)
  --fault-mode MODE       none | reset (connections reset or garbage) | slow-body (default none)
  --fault-rate R          share of requests that get the fault (default 0.1)
  -h, --help              show this help

Exit status: 0 when every item or some got through, 1 when none did, 2 for a bad
option, 130 when interrupted.`;

/** A bad command line; the message says which flag and what it got. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses the CLI flags (see {@linkcode USAGE}) into options, or `"help"`.
 *
 * @throws {UsageError} For an unknown flag or a bad value.
 */
export function parseArgs(args: string[]): PipelineOptions;
export function parseArgs(args: string[], allowHelp: true): PipelineOptions | "help";
export function parseArgs(args: string[], allowHelp = false): PipelineOptions | "help" {
  const o = defaultOptions();
  const numeric: Record<string, keyof PipelineOptions> = {
    "--items": "items",
    "--seed": "seed",
    "--failure-rate": "failureRate",
    "--hang-rate": "hangRate",
    "--latency": "latency",
    "--call-timeout": "callTimeout",
    "--store-failure-rate": "storeFailureRate",
    "--fault-rate": "faultRate",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (allowHelp && (arg === "--help" || arg === "-h")) {
      return "help";
    } else if (arg === "--json") {
      o.json = true;
    } else if (arg === "--fault-mode") {
      const mode = args[++i] as FaultMode;
      if (!FAULT_MODES.includes(mode)) {
        throw new UsageError(
          `--fault-mode needs one of ${FAULT_MODES.join(", ")}, received ${mode}`,
        );
      }
      o.faultMode = mode;
    } else if (arg in numeric) {
      const raw = args[++i];
      const value = raw === undefined || raw.trim() === "" ? NaN : Number(raw);
      if (!Number.isFinite(value) || value < 0) {
        throw new UsageError(`${arg} needs a number >= 0, received ${raw ?? "nothing"}`);
      }
      if (arg === "--items" && !Number.isInteger(value)) {
        throw new UsageError(`--items needs a whole number, received ${raw}`);
      }
      (o as unknown as Record<string, number>)[numeric[arg]] = value;
    } else {
      throw new UsageError(`unknown option ${arg}`);
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

/** What the upstream saw: requests, faults injected, and callers it saw give up. */
export interface UpstreamStats {
  requests: number;
  faults: number;
  aborts: number;
}

interface Server {
  url: string;
  stop: () => Promise<void>;
}

/**
 * A raw TCP listener on 127.0.0.1 that never speaks HTTP: on `/close…` it
 * reads a few bytes and closes the connection with the rest of the request
 * unread (the kernel answers with a reset); on anything else it reads the
 * request and answers garbage.
 */
function startResetServer(): Server {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  const garbage = new TextEncoder().encode("HTTP/1.1 2OO \x00\x01 not http\r\n\r\n");
  const handle = async (conn: Deno.Conn): Promise<void> => {
    try {
      const start = new Uint8Array(16);
      const n = await conn.read(start);
      if (new TextDecoder().decode(start.subarray(0, n ?? 0)).startsWith("GET /close")) return;
      await conn.read(new Uint8Array(4_096));
      await conn.write(garbage);
    } catch {
      // The peer gave up first: that is the point of this server.
    } finally {
      if (open.delete(conn)) conn.close();
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      const handler = handle(conn);
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    stop: async () => {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of open) {
        open.delete(conn);
        conn.close();
      }
      await Promise.allSettled(handlers);
    },
  };
}

/**
 * A 200 whose JSON body is trickled: the first bytes at once, then a space
 * every tenth of `duration`, the closing brace last. Stops when the caller
 * goes away (the stream is cancelled or `signal` aborts).
 */
function slowBody(
  json: string,
  duration: number,
  signal: AbortSignal,
  onAbort: () => void,
): Response {
  const encoder = new TextEncoder();
  const gone = new AbortController();
  const stop = (): void => {
    if (gone.signal.aborted) return;
    gone.abort();
    onAbort();
  };
  signal.addEventListener("abort", stop, { once: true });
  const steps = 10;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === 0) {
        controller.enqueue(encoder.encode(json.slice(0, -1)));
      } else {
        try {
          await sleep(duration / steps, { signal: gone.signal });
        } catch {
          // The caller is gone; end the response (a no-op if the stream was cancelled).
          controller.error(new Error("caller went away"));
          return;
        }
        controller.enqueue(encoder.encode(sent < steps ? " " : "}"));
      }
      if (++sent > steps) {
        signal.removeEventListener("abort", stop);
        controller.close();
      }
    },
    cancel: stop,
  });
  return new Response(body, { headers: { "content-type": "application/json" } });
}

/**
 * Starts the flaky upstream on 127.0.0.1 (port 0). `GET /items/:id` with an
 * `x-attempt` header answers, by a roll of (seed, id, attempt): the fault of
 * `faultMode`, a hang (first attempts only), a 503, or the item as JSON.
 */
function startFlakyApi(o: PipelineOptions): Server & { stats: UpstreamStats } {
  const stats: UpstreamStats = { requests: 0, faults: 0, aborts: 0 };
  const reset = o.faultMode === "reset" ? startResetServer() : undefined;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      stats.requests++;
      const url = new URL(req.url);
      const id = Number(url.pathname.split("/").pop());
      const attempt = Number(req.headers.get("x-attempt") ?? "1");
      const item = { id, value: Math.round(chance(o.seed, id) * 1_000) };
      if (o.faultMode !== "none" && chance(o.seed, id, attempt, 31) < o.faultRate) {
        stats.faults++;
        if (reset !== undefined) {
          const how = chance(o.seed, id, attempt, 37) < 0.5 ? "close" : "garbage";
          return Response.redirect(`${reset.url}/${how}/${id}`, 307);
        }
        return slowBody(JSON.stringify(item), 2 * o.callTimeout, req.signal, () => stats.aborts++);
      }
      const roll = chance(o.seed, id, attempt);
      try {
        if (attempt === 1 && roll < o.hangRate) {
          // Hang past the caller's timeout; end when the caller gives up.
          await sleep(Infinity, { signal: req.signal });
        }
        await sleep(o.latency * (0.5 + chance(o.seed, id, attempt, 7)), { signal: req.signal });
      } catch {
        stats.aborts++;
        return new Response(null, { status: 499 });
      }
      if (roll < o.hangRate + o.failureRate) {
        return new Response("upstream overloaded", { status: 503 });
      }
      return Response.json(item);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    stats,
    stop: async () => {
      await server.shutdown();
      await reset?.stop();
    },
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

/**
 * Why an item failed for good, or why an attempt failed: `"5xx"` (the upstream
 * answered 5xx), `"4xx"`, `"timeout"` (the call's budget ran out), `"network"`
 * (connection reset, or an answer that is not HTTP), `"bad_body"` (not JSON),
 * `"circuit_open"` (the breaker refused the call), `"store_error"`, `"other"`.
 */
export function reasonOf(err: unknown): string {
  if (err instanceof HttpError) return err.status >= 500 ? "5xx" : "4xx";
  if (err instanceof TimeoutError) return "timeout";
  if (err instanceof CircuitOpenError) return "circuit_open";
  if (err instanceof SyntaxError) return "bad_body";
  if (err instanceof TypeError) return "network";
  if (err instanceof ExceptionGroup && err.exceptions.length === 1) {
    return reasonOf(err.exceptions[0]);
  }
  return "other";
}

function tally(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** One decimal: what a person reads. */
const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * How a run ended: every item stored (`success`), some (`partial_success`),
 * none of at least one (`failure`), or stopped early (`interrupted`).
 */
export type PipelineStatus = "success" | "partial_success" | "failure" | "interrupted";

/** What a run did; see the module doc for how the books balance. */
export interface PipelineResult {
  status: PipelineStatus;
  fetched: number;
  processed: number;
  storage_errors: number;
  fetch_failures: number;
  stored: number;
  /** Items neither fetched nor failed: cancelled or never started (interrupted runs). */
  not_fetched: number;
  /** Fetched items left in the queue when the run was interrupted. */
  unprocessed: number;
  retries: number;
  /** Items that failed for good, by reason (see {@linkcode reasonOf}); storage failures as "store_error". */
  failure_reasons: Record<string, number>;
  /** Every failed fetch attempt, retried or not, by reason. */
  attempt_failures: Record<string, number>;
  max_db_connections: number;
  breaker_opened: number;
  /** What the upstream saw: requests, injected faults, callers that gave up mid-request. */
  upstream: UpstreamStats;
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

/**
 * Runs the pipeline against a fresh flaky upstream and stops that upstream
 * before it settles. Options left out take their defaults (see
 * {@linkcode defaultOptions}); `log` receives progress lines; aborting
 * `stopSignal` stops fetching, finishes the batch being processed and
 * resolves with status "interrupted".
 */
export async function runPipeline(
  options: Partial<PipelineOptions>,
  log: (line: string, final?: boolean) => void,
  stopSignal?: AbortSignal,
): Promise<PipelineResult> {
  const o: PipelineOptions = { ...defaultOptions(), ...options };
  const onItem = o.onItem ?? (() => {});
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
  const failureReasons: Record<string, number> = {};
  const attemptFailures: Record<string, number> = {};
  const fetchProgress = { done: 0, total: o.items, running: 0 };
  const progress = (final = false): void =>
    log(
      `fetch ${fetchProgress.done}/${fetchProgress.total} (running ${fetchProgress.running}, ` +
        `retries ${retries}) | processed ${counts.processed} | stored ${counts.stored}`,
      final,
    );
  const queue = new Queue<Fetched>({ maxSize: 40 });
  const ids = Array.from({ length: o.items }, (_, i) => i);
  let interrupted = false;

  // One attempt: the timeout covers the body too (a trickled body is a slow call).
  const fetchItem = (id: number, attempt: number): Promise<Fetched> =>
    failAfter(o.callTimeout, ({ signal }) =>
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
      }));

  const producer = async (): Promise<void> => {
    try {
      // The put stays outside the per-call timeout: waiting for queue room is
      // back-pressure, not a slow upstream, and must never refetch an item.
      const results = await alcall(ids, async (id, ctx) => {
        let item: Fetched;
        try {
          item = await fetchItem(id, ctx.attempt);
        } catch (err) {
          if (!isCancelled(err)) tally(attemptFailures, reasonOf(err));
          throw err;
        }
        counts.fetched++;
        onItem(id, "fetched");
        await queue.put(item);
      }, {
        maxConcurrent: 10,
        retryAttempts: 2,
        retryInitialDelay: 100,
        retryBackoff: 2,
        returnExceptions: true,
        signal: stopSignal,
        onProgress: (p) => {
          retries = p.retries;
          counts.fetchFailed = p.failed;
          fetchProgress.done = p.succeeded + p.failed;
          fetchProgress.total = p.total;
          fetchProgress.running = p.running;
          progress();
        },
      });
      results.forEach((r, i) => {
        if (!(r instanceof Error)) return;
        tally(failureReasons, reasonOf(r));
        onItem(ids[i], "fetch_failed");
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
      for (const item of processed) onItem(item.id, "processed");
      const stored = await alcall(processed, async (item) => {
        await sleep(2);
        if (chance(o.seed, item.id, 1234) < o.storeFailureRate) {
          throw new Error(`store failed for item ${item.id}`);
        }
        return item.id;
      }, { maxConcurrent: 20, returnExceptions: true });
      const errors = stored.filter((r): r is Error => r instanceof Error);
      counts.stored += stored.length - errors.length;
      stored.forEach((r, i) =>
        onItem(processed[i].id, r instanceof Error ? "store_failed" : "stored")
      );
      if (errors.length > 0) {
        const group = new ExceptionGroup("storage failures", errors);
        counts.storageErrors += group.exceptions.length;
        for (const _ of group.exceptions) tally(failureReasons, "store_error");
      }
      progress();
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
  // The last line of progress shows the final counts.
  progress(true);
  const duration = (currentTime() - started) / 1_000;
  const total = o.items;
  // Of no items, none failed.
  const pct = (n: number): number => total === 0 ? 100 : round1((n / total) * 100);
  return {
    status: interrupted
      ? "interrupted"
      : counts.stored === total
      ? "success"
      : counts.stored === 0
      ? "failure"
      : "partial_success",
    fetched: counts.fetched,
    processed: counts.processed,
    storage_errors: counts.storageErrors,
    fetch_failures: counts.fetchFailed,
    stored: counts.stored,
    not_fetched: total - counts.fetched - counts.fetchFailed,
    unprocessed: counts.fetched - counts.processed,
    retries,
    failure_reasons: failureReasons,
    attempt_failures: attemptFailures,
    max_db_connections: maxDb,
    breaker_opened: breakerOpened,
    upstream: { ...api.stats },
    // What the same calls, processing and stores would take one after the other.
    sequential_sec: round1(callTime / 1_000 + counts.processed * (0.01 + 0.002)),
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

/** Runs the CLI: `--help`, a usage error (exit 2), or a run (exit 130 when interrupted). */
async function main(args: string[]): Promise<number> {
  let parsed: PipelineOptions | "help";
  try {
    parsed = parseArgs(args, true);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}\n\nRun with --help to see the options.`);
    return 2;
  }
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  const o = parsed;
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
    printSummary(result);
  }
  // 128 + SIGINT, as a shell reports a program stopped by Ctrl-C.
  return result.status === "interrupted" ? 130 : result.status === "failure" ? 1 : 0;
}

function printSummary(result: PipelineResult): void {
  const summary: Record<string, unknown> = {
    status: result.status,
    fetched: result.fetched,
    fetch_failures: result.fetch_failures,
    processed: result.processed,
    stored: result.stored,
    storage_errors: result.storage_errors,
    failure_reasons: result.failure_reasons,
  };
  // An interrupted run also says what was left undone.
  if (result.status === "interrupted") {
    summary.not_fetched = result.not_fetched;
    summary.unprocessed = result.unprocessed;
  }
  console.log(JSON.stringify(summary, null, 2));
  const m = result.metrics;
  console.log("\nReal-World Metrics");
  console.log(`  total_items:     ${m.total_items}`);
  console.log(`  fetch_success:   ${m.fetch_success}%`);
  console.log(`  process_success: ${m.process_success}%`);
  console.log(`  store_success:   ${m.store_success}%`);
  console.log(`  overall_success: ${m.overall_success}%`);
  console.log(`  duration_sec:    ${m.duration_sec}`);
  console.log(`  avg_retries:     ${m.avg_retries}`);
  const failedAttempts = Object.entries(result.attempt_failures)
    .map(([reason, n]) => `${reason} ${n}`).join(", ");
  if (failedAttempts !== "") console.log(`  failed attempts: ${failedAttempts}`);
  if (result.metrics.total_items === 0) {
    console.log("\nNo items: nothing to do.");
    return;
  }
  const speedup = result.sequential_sec / Math.max(0.01, m.duration_sec);
  console.log(
    `\nOne call at a time, the same work would have taken ~${result.sequential_sec.toFixed(1)} s` +
      (speedup >= 1.05 ? ` (${speedup.toFixed(1)}x longer)` : "") +
      `; peak DB connections ${result.max_db_connections}/5.`,
  );
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
