// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Goodput against the mock LLM API of examples/rate_limited_api.ts, whose
 * capacity the client is not told: an `AdaptiveLimiter` against a sweep of
 * fixed `CapacityLimiter`s (5…400), all through the example's `alcall`
 * client (its `limiter` option), and p-map at concurrency 200 around
 * `retry`, for three server capacities. Every client retries an item after
 * the server's `retry-after-ms` (alcall and retry honour `retryAfter`), so
 * what differs is only how many requests are in flight.
 *
 * Not a `Deno.bench` file (one run is seconds of wall time): run it with
 * `deno run --config bench/deno.json --allow-net=127.0.0.1 --allow-read bench/goodput_bench.ts [items] [capacity/rate]`
 * (default 1000 items per run, all three servers); it prints one markdown
 * table per server.
 *
 * @module
 */

import pMap from "p-map";
import { AdaptiveLimiter, CapacityLimiter, type PermitLimiter, retry } from "../mod.ts";
import { processItems, requestCounter } from "../examples/rate_limited_api.ts";
import { startMockApi } from "../examples/_mock_llm_api.ts";

interface Server {
  capacity: number;
  rate: number;
}

interface Row {
  client: string;
  failed: number;
  goodput: number;
  share429: number;
  wallMs: number;
  finalLimit?: number;
}

const SERVERS: Server[] = [
  { capacity: 37, rate: 200 },
  { capacity: 20, rate: 2_000 },
  { capacity: 80, rate: 600 },
];
const SWEEP = [5, 10, 20, 40, 80, 150, 200, 400];
const RETRY_ATTEMPTS = 200;
// `--adaptive-only` skips the fixed sweep and p-map (for quick iterations).
const adaptiveOnly = Deno.args.includes("--adaptive-only");
const args = Deno.args.filter((a) => a !== "--adaptive-only");

async function measure(
  server: Server,
  items: number,
  client: string,
  run: (call: () => Promise<void>, inputs: number[]) => Promise<unknown>,
): Promise<Row> {
  const api = startMockApi({ ...server, seed: 1 });
  const { call, counts } = requestCounter(api.url);
  const inputs = Array.from({ length: items }, (_, i) => i);
  const start = performance.now();
  try {
    await run(call, inputs);
  } finally {
    await api.close();
  }
  const wallMs = performance.now() - start;
  console.error(
    `  ${server.capacity}/${server.rate}: ${client} done in ${wallMs.toFixed(0)} ms`,
  );
  return {
    failed: items - api.counts.ok,
    client,
    goodput: api.counts.ok / wallMs * 1_000,
    share429: counts.status429 / counts.requests,
    wallMs,
  };
}

function viaLimiter(limiter: PermitLimiter) {
  return (call: () => Promise<void>, inputs: number[]) =>
    processItems(inputs, call, { limiter, retryAttempts: RETRY_ATTEMPTS });
}

async function benchServer(server: Server, items: number): Promise<Row[]> {
  const rows: Row[] = [];
  const adaptive = new AdaptiveLimiter();
  const row = await measure(
    server,
    items,
    "AdaptiveLimiter (aimd)",
    viaLimiter(adaptive),
  );
  rows.push({ ...row, finalLimit: adaptive.limit });
  const gradient = new AdaptiveLimiter({ algorithm: "gradient" });
  const g = await measure(
    server,
    items,
    "AdaptiveLimiter (gradient)",
    viaLimiter(gradient),
  );
  rows.push({ ...g, finalLimit: gradient.limit });
  if (adaptiveOnly) return rows;
  for (const n of SWEEP) {
    rows.push(
      await measure(
        server,
        items,
        `fixed ${n}`,
        viaLimiter(new CapacityLimiter(n)),
      ),
    );
  }
  rows.push(
    await measure(
      server,
      items,
      "p-map 200",
      (call, inputs) =>
        pMap(
          inputs,
          () =>
            retry(call, {
              attempts: RETRY_ATTEMPTS + 1,
              baseDelay: 1,
              maxDelay: 20,
            }).catch((
              err: Error,
            ) => err),
          { concurrency: 200 },
        ),
    ),
  );
  return rows;
}

function table(server: Server, rows: Row[]): string {
  const fixed = rows.filter((r) => r.client.startsWith("fixed "));
  if (fixed.length === 0) fixed.push(...rows);
  const best = fixed.reduce((a, b) => (b.goodput > a.goodput ? b : a));
  const lines = [
    `### Server: ${server.capacity} concurrent, ${server.rate} req/s (best fixed: ${best.client})`,
    "",
    "| client | goodput (items/s) | vs best fixed | 429s | failed | wall (s) | final limit |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const vsBest = (r.goodput / best.goodput * 100).toFixed(0);
    const share = (r.share429 * 100).toFixed(1);
    const wall = (r.wallMs / 1_000).toFixed(2);
    lines.push(
      `| ${r.client} | ${
        r.goodput.toFixed(1)
      } | ${vsBest} % | ${share} % | ${r.failed} | ${wall} | ${r.finalLimit ?? ""} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const items = Number(args[0] ?? 1_000);
  console.log(
    `goodput bench: ${items} items per run, ${
      new Date().toISOString().slice(0, 10)
    }, Deno ${Deno.version.deno}\n`,
  );
  // An optional second argument picks one server, e.g. `80/600`.
  const only = args[1];
  for (
    const server of SERVERS.filter((s) => !only || only === `${s.capacity}/${s.rate}`)
  ) {
    console.log(table(server, await benchServer(server, items)) + "\n");
  }
}
