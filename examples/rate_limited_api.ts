// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Calling a rate-limited API without knowing its limits: a local mock LLM API
 * on 127.0.0.1 (examples/_mock_llm_api.ts) serves some concurrency well,
 * admits some requests per second, and answers 429 + `retry-after-ms` beyond
 * either. The client is told none of it: an `AdaptiveLimiter` finds the
 * concurrency from the 429s as `alcall`'s `limiter`, and `alcall` retries
 * each item after the wait the server asked for (`checkResponse` throws an
 * `HttpError` whose `retryAfter` it honours). The limit, as `onProgress`
 * reports it, is drawn over time in the terminal, then the goodput, the 429
 * count and the wall time are printed.
 *
 * Run: `deno task example:ratelimit` or
 * `deno run --allow-net=127.0.0.1 examples/rate_limited_api.ts --items 500 --capacity 20`.
 *
 * Flags: `--items N` (2000), `--capacity N` (37: requests the server serves at
 * once), `--rate N` (200: requests per second it admits), `--latency MS` (50),
 * `--seed S` (1: latency noise), `--algorithm aimd|gradient` (aimd), `--json`
 * (the final object only), `--help`.
 *
 * `runExample(options)` is exported for the e2e test and the goodput bench.
 */

import {
  type AdaptiveAlgorithm,
  AdaptiveLimiter,
  alcall,
  type AlcallProgress,
  checkResponse,
  type PermitLimiter,
  sleep,
} from "../mod.ts";
import { type MockApiCounts, startMockApi } from "./_mock_llm_api.ts";

/** What a run does (the CLI flags). */
export interface ExampleOptions {
  items: number;
  capacity: number;
  rate: number;
  latency: number;
  seed: number;
  algorithm: AdaptiveAlgorithm;
  json: boolean;
}

/** What a run reports (`--json` prints it). */
export interface ExampleResult {
  items: number;
  succeeded: number;
  failed: number;
  wallMs: number;
  /** Items done per second of wall time. */
  goodput: number;
  /** HTTP requests made, retries included. */
  requests: number;
  /** Requests answered 429. */
  status429: number;
  /** `status429 / requests`. */
  share429: number;
  finalLimit: number;
  /** The limit every 50 ms. */
  limits: number[];
  server: MockApiCounts;
}

const USAGE = `Usage: deno run --allow-net=127.0.0.1 examples/rate_limited_api.ts [flags]
  --items N        items to process (2000)
  --capacity N     requests the server serves at once, not told to the client (37)
  --rate N         requests per second the server admits, not told to the client (200)
  --latency MS     latency of a lone request (50)
  --seed S         seeds the latency noise (1)
  --algorithm A    aimd | gradient (aimd)
  --json           print only the final result as JSON
  --help           this text`;

/** Parses the CLI flags; `undefined` means `--help`. */
export function parseArgs(args: string[]): ExampleOptions | undefined {
  const o: ExampleOptions = {
    items: 2_000,
    capacity: 37,
    rate: 200,
    latency: 50,
    seed: 1,
    algorithm: "aimd",
    json: false,
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = (): string => inline ?? args[++i];
    if (flag === "--help" || flag === "-h") return undefined;
    if (flag === "--json") o.json = true;
    else if (flag === "--algorithm") {
      const a = value();
      if (a !== "aimd" && a !== "gradient") {
        throw new RangeError(
          `--algorithm needs aimd or gradient, received ${a}`,
        );
      }
      o.algorithm = a;
    } else if (
      ["--items", "--capacity", "--rate", "--latency", "--seed"].includes(flag)
    ) {
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < (flag === "--seed" ? 0 : 1)) {
        throw new RangeError(
          `${flag} needs a number >= ${flag === "--seed" ? 0 : 1}, received ${raw}`,
        );
      }
      (o as unknown as Record<string, number>)[flag.slice(2)] = n;
    } else {
      throw new TypeError(`Unknown flag ${args[i]}\n${USAGE}`);
    }
  }
  return o;
}

/** How often an item is tried again after a 429, unless told otherwise. */
const RETRY_ATTEMPTS = 50;

/**
 * Calls `fn` for every input with `alcall`: each attempt holds one of
 * `limiter`'s permits (an `AdaptiveLimiter` learns from how it ends), and a
 * 429's `HttpError` is retried after `max(backoff, retryAfter)`, i.e. after
 * the wait the server asked for, outside the limiter. Failures are returned
 * in place.
 */
export function processItems<T, R>(
  inputs: T[],
  fn: (input: T) => Promise<R>,
  options: {
    limiter: PermitLimiter;
    retryAttempts?: number;
    onProgress?: (progress: AlcallProgress) => void;
  },
): Promise<Array<R | Error>> {
  return alcall(inputs, fn, {
    limiter: options.limiter,
    retryAttempts: options.retryAttempts ?? RETRY_ATTEMPTS,
    maxRetryAfter: 10_000,
    returnExceptions: true,
    onProgress: options.onProgress,
  });
}

/** One request to the API; a non-2xx answer throws `HttpError`. */
export function requestCounter(
  url: string,
): {
  call: () => Promise<void>;
  counts: { requests: number; status429: number };
} {
  const counts = { requests: 0, status429: 0 };
  const call = async (): Promise<void> => {
    counts.requests++;
    const res = await fetch(url, {
      method: "POST",
      body: '{"prompt":"hello"}',
    });
    if (res.status === 429) counts.status429++;
    await checkResponse(res).json();
  };
  return { call, counts };
}

const BARS = "▁▂▃▄▅▆▇█";

/** The values as a one-line bar chart `width` columns wide (averaged per column). */
export function sparkline(values: number[], width = 64): string {
  if (values.length === 0) return "";
  const columns = Math.min(width, values.length);
  const per = values.length / columns;
  const means: number[] = [];
  for (let c = 0; c < columns; c++) {
    const slice = values.slice(
      Math.floor(c * per),
      Math.max(Math.floor((c + 1) * per), Math.floor(c * per) + 1),
    );
    means.push(slice.reduce((a, b) => a + b, 0) / slice.length);
  }
  const max = Math.max(...means), min = Math.min(...means);
  const span = max - min || 1;
  return means.map((m) => BARS[Math.round((m - min) / span * (BARS.length - 1))]).join("");
}

/**
 * Starts the mock API, processes `items` items with `alcall` through an
 * `AdaptiveLimiter`, and reports. `onSample` sees the limit every 50 ms
 * (the terminal drawing).
 */
export async function runExample(
  options: ExampleOptions,
  onSample?: (limits: number[], progress: { done: number }) => void,
): Promise<ExampleResult> {
  const api = startMockApi(options);
  const limiter = new AdaptiveLimiter({ algorithm: options.algorithm });
  const { call, counts } = requestCounter(api.url);
  const limits: number[] = [];
  // alcall's onProgress reports the limiter's limit with every count change;
  // the sampler turns the latest report into one value per 50 ms.
  const progress = { done: 0, limit: limiter.limit };
  const onProgress = (p: AlcallProgress): void => {
    progress.done = p.succeeded;
    progress.limit = p.limit ?? progress.limit;
  };
  const stop = new AbortController();
  const sampler = (async () => {
    while (!stop.signal.aborted) {
      limits.push(progress.limit);
      onSample?.(limits, progress);
      await sleep(50, { signal: stop.signal }).catch(() => {});
    }
  })();
  const start = performance.now();
  try {
    const inputs = Array.from({ length: options.items }, (_, i) => i);
    const results = await processItems(inputs, call, { limiter, onProgress });
    const wallMs = performance.now() - start;
    const failed = results.filter((r) => r instanceof Error).length;
    return {
      items: options.items,
      succeeded: options.items - failed,
      failed,
      wallMs: Math.round(wallMs),
      goodput: Math.round((options.items - failed) / wallMs * 1_000 * 10) / 10,
      requests: counts.requests,
      status429: counts.status429,
      share429: Math.round(counts.status429 / counts.requests * 10_000) /
        10_000,
      finalLimit: limiter.limit,
      limits,
      server: { ...api.counts },
    };
  } finally {
    stop.abort();
    await sampler;
    await api.close();
  }
}

function report(o: ExampleOptions, r: ExampleResult): string {
  const peak = Math.max(...r.limits);
  return [
    `mock API: serves ${o.capacity} at once, admits ${o.rate} req/s (the client is not told)`,
    `limit over ${(r.wallMs / 1_000).toFixed(1)} s (${
      Math.min(...r.limits)
    }…${peak}, final ${r.finalLimit}):`,
    `  ${sparkline(r.limits)}`,
    `items ${r.items}: ${r.succeeded} ok, ${r.failed} failed, in ${
      (r.wallMs / 1_000).toFixed(2)
    } s`,
    `goodput ${r.goodput} items/s; requests ${r.requests}, 429s ${r.status429} (${
      (r.share429 * 100).toFixed(1)
    } %)`,
  ].join("\n");
}

if (import.meta.main) {
  const options = parseArgs(Deno.args);
  if (options === undefined) {
    console.log(USAGE);
  } else {
    const live = !options.json && Deno.stdout.isTerminal();
    const encoder = new TextEncoder();
    const result = await runExample(options, (limits, { done }) => {
      if (!live) return;
      const line = `\r limit ${limits.at(-1)} ${
        sparkline(limits.slice(-48), 48)
      } ${done}/${options.items}`;
      Deno.stdout.writeSync(encoder.encode(line));
    });
    if (live) Deno.stdout.writeSync(encoder.encode("\r\x1b[2K"));
    console.log(
      options.json ? JSON.stringify(result) : report(options, result),
    );
  }
}
