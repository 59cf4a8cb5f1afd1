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
 * The flags and their parser are in `_pipeline_options.ts`, the flaky
 * upstream in `_flaky_api.ts`, the result and the printed summary in
 * `_pipeline_report.ts`.
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
import { type Server, startFlakyApi, type UpstreamStats } from "./_flaky_api.ts";
import { type PipelineResult, printSummary, round1 } from "./_pipeline_report.ts";
import {
  chance,
  defaultOptions,
  type ItemEvent,
  parseArgs,
  type PipelineOptions,
  USAGE,
  UsageError,
} from "./_pipeline_options.ts";

export type { PipelineResult, PipelineStatus } from "./_pipeline_report.ts";
export type { UpstreamStats } from "./_flaky_api.ts";
// What the tests drive a run with.
export {
  type FaultMode,
  type ItemEvent,
  parseArgs,
  type PipelineOptions,
} from "./_pipeline_options.ts";

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

type Log = (line: string, final?: boolean) => void;

/**
 * One run: the fetch stage (the producer) feeds a bounded queue that the
 * process-and-store stage (the consumer) drains in batches of 20; the fields
 * are the books both keep.
 */
class PipelineRun {
  readonly #o: PipelineOptions;
  readonly #api: Server;
  readonly #log: Log;
  readonly #stopSignal: AbortSignal | undefined;
  readonly #onItem: (id: number, event: ItemEvent) => void;
  readonly #started = currentTime();
  readonly #breaker: CircuitBreaker;
  readonly #db = new CapacityLimiter(5);
  readonly #queue = new Queue<Fetched>({ maxSize: 40 });
  readonly #ids: number[];
  readonly #counts = { fetched: 0, fetchFailed: 0, processed: 0, stored: 0, storageErrors: 0 };
  readonly #failureReasons: Record<string, number> = {};
  readonly #attemptFailures: Record<string, number> = {};
  readonly #fetchProgress: { done: number; total: number; running: number };
  #breakerOpened = 0;
  #maxDb = 0;
  #callTime = 0;
  #retries = 0;
  #interrupted = false;

  constructor(o: PipelineOptions, api: Server, log: Log, stopSignal: AbortSignal | undefined) {
    this.#o = o;
    this.#api = api;
    this.#log = log;
    this.#stopSignal = stopSignal;
    this.#onItem = o.onItem ?? (() => {});
    this.#ids = Array.from({ length: o.items }, (_, i) => i);
    this.#fetchProgress = { done: 0, total: o.items, running: 0 };
    this.#breaker = new CircuitBreaker({
      failureThreshold: 5,
      resetTimeout: 1_000,
      onStateChange: (from, to) => {
        if (to === "open") this.#breakerOpened++;
        log(`circuit breaker: ${from} -> ${to}`, true);
      },
    });
  }

  /** Runs both stages to their end. */
  async run(): Promise<void> {
    await taskGroup((tg) => {
      tg.startSoon(() => this.#produce());
      tg.startSoon(() => this.#consume());
    });
  }

  progress(final = false): void {
    const { done, total, running } = this.#fetchProgress;
    this.#log(
      `fetch ${done}/${total} (running ${running}, retries ${this.#retries}) | ` +
        `processed ${this.#counts.processed} | stored ${this.#counts.stored}`,
      final,
    );
  }

  // One attempt: the timeout covers the body too (a trickled body is a slow call).
  #fetchItem(id: number, attempt: number): Promise<Fetched> {
    return failAfter(this.#o.callTimeout, ({ signal }) =>
      this.#breaker.call(async () => {
        const t = currentTime();
        try {
          const res = await fetch(`${this.#api.url}/items/${id}`, {
            signal,
            headers: { "x-attempt": String(attempt) },
          });
          if (!res.ok) {
            await res.body?.cancel();
            throw new HttpError(res.status);
          }
          return await res.json() as Fetched;
        } finally {
          this.#callTime += currentTime() - t;
        }
      }));
  }

  async #produce(): Promise<void> {
    try {
      // The put stays outside the per-call timeout: waiting for queue room is
      // back-pressure, not a slow upstream, and must never refetch an item.
      const results = await alcall(this.#ids, async (id, ctx) => {
        let item: Fetched;
        try {
          item = await this.#fetchItem(id, ctx.attempt);
        } catch (err) {
          if (!isCancelled(err)) tally(this.#attemptFailures, reasonOf(err));
          throw err;
        }
        this.#counts.fetched++;
        this.#onItem(id, "fetched");
        await this.#queue.put(item);
      }, {
        maxConcurrent: 10,
        retryAttempts: 2,
        retryInitialDelay: 100,
        retryBackoff: 2,
        returnExceptions: true,
        signal: this.#stopSignal,
        onProgress: (p) => {
          this.#retries = p.retries;
          this.#counts.fetchFailed = p.failed;
          this.#fetchProgress.done = p.succeeded + p.failed;
          this.#fetchProgress.total = p.total;
          this.#fetchProgress.running = p.running;
          this.progress();
        },
      });
      results.forEach((r, i) => {
        if (!(r instanceof Error)) return;
        tally(this.#failureReasons, reasonOf(r));
        this.#onItem(this.#ids[i], "fetch_failed");
      });
    } catch (err) {
      if (!(this.#stopSignal?.aborted && isCancelled(err))) throw err;
      this.#interrupted = true;
    } finally {
      this.#queue.close();
    }
  }

  async #consume(): Promise<void> {
    for (;;) {
      const batch: Fetched[] = [];
      try {
        while (batch.length < 20) batch.push(await this.#queue.get());
      } catch (err) {
        if (!(err instanceof QueueClosed)) throw err;
      }
      if (batch.length === 0) return;
      await this.#store(await this.#process(batch));
      this.progress();
      if (this.#stopSignal?.aborted) {
        this.#interrupted = true;
        return;
      }
    }
  }

  async #process(batch: Fetched[]): Promise<Processed[]> {
    const processed = await alcall(batch, async (item) => {
      using _conn = await this.#db.acquire();
      this.#maxDb = Math.max(this.#maxDb, this.#db.borrowedTokens);
      await sleep(5 + chance(this.#o.seed, item.id, 99) * 10);
      return { ...item, score: item.value / 10 } as Processed;
    }, { maxConcurrent: 20 });
    this.#counts.processed += processed.length;
    for (const item of processed) this.#onItem(item.id, "processed");
    return processed;
  }

  async #store(processed: Processed[]): Promise<void> {
    const stored = await alcall(processed, async (item) => {
      await sleep(2);
      if (chance(this.#o.seed, item.id, 1234) < this.#o.storeFailureRate) {
        throw new Error(`store failed for item ${item.id}`);
      }
      return item.id;
    }, { maxConcurrent: 20, returnExceptions: true });
    const errors = stored.filter((r): r is Error => r instanceof Error);
    this.#counts.stored += stored.length - errors.length;
    stored.forEach((r, i) =>
      this.#onItem(processed[i].id, r instanceof Error ? "store_failed" : "stored")
    );
    if (errors.length > 0) {
      const group = new ExceptionGroup("storage failures", errors);
      this.#counts.storageErrors += group.exceptions.length;
      for (const _ of group.exceptions) tally(this.#failureReasons, "store_error");
    }
  }

  /** The books, once the run is over and `upstream` is the upstream's last word. */
  result(upstream: UpstreamStats): PipelineResult {
    const counts = this.#counts, total = this.#o.items;
    const duration = (currentTime() - this.#started) / 1_000;
    // Of no items, none failed.
    const pct = (n: number): number => total === 0 ? 100 : round1((n / total) * 100);
    return {
      status: this.#interrupted
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
      retries: this.#retries,
      failure_reasons: this.#failureReasons,
      attempt_failures: this.#attemptFailures,
      max_db_connections: this.#maxDb,
      breaker_opened: this.#breakerOpened,
      upstream,
      // What the same calls, processing and stores would take one after the other.
      sequential_sec: round1(this.#callTime / 1_000 + counts.processed * (0.01 + 0.002)),
      metrics: {
        total_items: total,
        fetch_success: pct(counts.fetched),
        process_success: pct(counts.processed),
        store_success: pct(counts.stored),
        overall_success: pct(counts.stored),
        duration_sec: Math.round(duration * 100) / 100,
        avg_retries: Math.round((this.#retries / Math.max(1, total)) * 100) / 100,
      },
    };
  }
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
  log: Log,
  stopSignal?: AbortSignal,
): Promise<PipelineResult> {
  const o: PipelineOptions = { ...defaultOptions(), ...options };
  const api = startFlakyApi(o);
  const run = new PipelineRun(o, api, log, stopSignal);
  try {
    await run.run();
  } finally {
    await api.stop();
  }
  // The last line of progress shows the final counts.
  run.progress(true);
  return run.result({ ...api.stats });
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

if (import.meta.main) Deno.exitCode = await main(Deno.args);
