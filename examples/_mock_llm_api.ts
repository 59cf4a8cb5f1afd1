// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * A local stand-in for an LLM API on 127.0.0.1, with a capacity it does not
 * tell: it serves `capacity` requests at once well (latency grows with load:
 * `latency * (1 + 0.5 * inFlight / capacity)`, ±20 % seeded noise), admits
 * at most `rate` requests per second (a token bucket holding `rate / 10`),
 * and answers anything beyond either with 429 and a `retry-after-ms` header,
 * as the big APIs do. Used by examples/rate_limited_api.ts, its e2e test and
 * bench/goodput_bench.ts.
 *
 * @module
 */

import { sleep } from "../mod.ts";

/** How the mock API behaves. */
export interface MockApiOptions {
  /** Requests it serves at once; one more is answered 429. */
  capacity: number;
  /** Requests admitted per second on average (token bucket). */
  rate: number;
  /** Latency of a lone request in ms (default 50). */
  latency?: number;
  /** Seeds the latency noise (default 1). */
  seed?: number;
}

/** What the mock API counted. */
export interface MockApiCounts {
  /** Requests answered 200. */
  ok: number;
  /** Requests answered 429 because `capacity` requests were in flight. */
  overCapacity: number;
  /** Requests answered 429 because the token bucket was empty. */
  overRate: number;
  /** The most requests in flight at once. */
  peakInFlight: number;
}

/** A running mock API. */
export interface MockApi {
  /** Where to POST: `http://127.0.0.1:<port>/v1/complete`. */
  url: string;
  /** Counts so far. */
  counts: MockApiCounts;
  /** Stops the server (waits for requests in flight). */
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so a run's latencies follow its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function tooMany(waitMs: number, reason: string): Response {
  return new Response(JSON.stringify({ error: { type: "rate_limit_error", reason } }), {
    status: 429,
    headers: { "content-type": "application/json", "retry-after-ms": String(Math.ceil(waitMs)) },
  });
}

/**
 * Starts the mock API on a free port of 127.0.0.1.
 *
 * @param options Capacity, rate, latency and seed.
 * @returns The running API.
 */
export function startMockApi(options: MockApiOptions): MockApi {
  const { capacity, rate, latency = 50, seed = 1 } = options;
  const noise = random(seed);
  const burst = Math.max(1, rate / 10);
  let tokens = burst;
  let refilledAt = performance.now();
  let inFlight = 0;
  const counts: MockApiCounts = { ok: 0, overCapacity: 0, overRate: 0, peakInFlight: 0 };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      await req.body?.cancel();
      if (inFlight >= capacity) {
        counts.overCapacity++;
        return tooMany(latency / 2, "concurrency");
      }
      const now = performance.now();
      tokens = Math.min(burst, tokens + (now - refilledAt) * rate / 1_000);
      refilledAt = now;
      if (tokens < 1) {
        counts.overRate++;
        return tooMany((1 - tokens) * 1_000 / rate, "rate");
      }
      tokens--;
      inFlight++;
      counts.peakInFlight = Math.max(counts.peakInFlight, inFlight);
      try {
        await sleep(latency * (1 + 0.5 * inFlight / capacity) * (0.8 + 0.4 * noise()));
      } finally {
        inFlight--;
      }
      counts.ok++;
      return Response.json({ completion: "ok" });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1/complete`,
    counts,
    close: () => server.shutdown(),
  };
}
