// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * A `Deno.serve` handler fit for Deno Deploy: each request fans out to three
 * upstream calls under one per-request `failAfter` budget (shortened by a
 * client that sends a smaller one in an `x-budget-ms` header, as gRPC clients
 * propagate deadlines); each call also has a timeout of its own; a client
 * that disconnects cancels the upstream calls (`request.signal`); an upstream
 * whose circuit breaker is open gets a fast 503 without being called. An
 * optional `limiter` bounds how many requests fan out at once; waiting for it
 * counts against the budget. Where `Deno.openKv` exists (Deno Deploy, or
 * `--unstable-kv`), `openRequestLimiter` gives a `DistributedLimiter` on Deno
 * KV, one limit for every isolate sharing the KV; elsewhere an in-process
 * `CapacityLimiter`.
 *
 * On Deno Deploy:
 * `const { limiter } = await openRequestLimiter(50);`
 * `export default { fetch: createHandler(upstreams, { limiter }) }`.
 *
 * Locally it starts three fake upstreams and the handler on 127.0.0.1 and
 * shows the outcomes: a success, a 504 from one upstream's call timeout, a
 * 504 from the request budget (a client that allows 200 ms), a client that
 * disconnects (its upstream calls are cancelled), and a fast 503 once a
 * failing upstream's breaker is open. Its first line says which limiter it
 * took:
 *
 *   deno run --unstable-kv --allow-net=127.0.0.1 examples/deploy_handler.ts
 *
 * (Without `--unstable-kv` there is no `Deno.openKv`, and it falls back to a
 * `CapacityLimiter`. Locally the KV is in memory; `openRequestLimiter(limit,
 * path)` takes a file path that several local processes can share. On
 * Deploy, `Deno.openKv()` with no path is the one shared by all isolates.)
 *
 * (The repository's deno.json opts in to `no-legacy-abort`, so
 * `request.signal` aborts only when the client goes away. Elsewhere, pass
 * `--unstable-no-legacy-abort`, as Deno's warning says.)
 */

import {
  CapacityLimiter,
  CircuitBreaker,
  CircuitOpenError,
  ExceptionGroup,
  failAfter,
  gather,
  sleep,
  TimeoutError,
} from "../mod.ts";
import { DistributedLimiter, kvStore } from "../distributed/mod.ts";

/** One upstream service the handler fans out to. */
export interface Upstream {
  name: string;
  url: string;
}

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions {
  /**
   * Milliseconds for the whole request, all upstream calls included (default 2_000).
   * A request's `x-budget-ms` header (a positive number of ms) can only shorten it.
   */
  budget?: number;
  /**
   * Milliseconds for one upstream call (default 90% of `budget`). It sits inside the
   * budget so a slow upstream fails with a `TimeoutError` of its own, which counts
   * against its breaker; the budget's cancellation alone would not (a cancellation is
   * never a breaker failure). A client's shorter budget can still end the request first.
   */
  callTimeout?: number;
  /** Consecutive failures that open an upstream's breaker (default 3). */
  failureThreshold?: number;
  /** Milliseconds an open breaker waits before a probe (default 10_000). */
  resetTimeout?: number;
  /**
   * Bounds the requests fanning out at once (default: none). Waiting for a
   * permit counts against the request budget and ends on a disconnect.
   */
  limiter?: RequestLimiter;
}

/** What bounds concurrent requests: a `CapacityLimiter` or a `DistributedLimiter`. */
export interface RequestLimiter {
  use<T>(fn: () => Promise<T>): Promise<T>;
}

/** A request limiter, which kind it is, and how to let it go. */
export interface OpenedLimiter {
  limiter: RequestLimiter;
  /** "DistributedLimiter on Deno KV" or "CapacityLimiter (this isolate only)". */
  kind: string;
  /** Closes the KV, if one was opened (after the last request has finished). */
  close(): void;
}

/**
 * A `DistributedLimiter` of `limit` over `kvStore(await Deno.openKv(path))`
 * when `Deno.openKv` exists, else an in-process `CapacityLimiter(limit)`.
 */
export async function openRequestLimiter(limit: number, path?: string): Promise<OpenedLimiter> {
  if (typeof Deno.openKv !== "function") {
    return {
      limiter: new CapacityLimiter(limit),
      kind: "CapacityLimiter (this isolate only)",
      close: () => {},
    };
  }
  const kv = await Deno.openKv(path);
  // Leases outlive a crashed isolate by at most leaseTtl; 10 s suits requests of seconds.
  const limiter = new DistributedLimiter(kvStore(kv), "deploy-handler-requests", {
    limit,
    leaseTtl: 10_000,
  });
  return { limiter, kind: "DistributedLimiter on Deno KV", close: () => kv.close() };
}

/** A handler plus its breakers (for inspection in tests and dashboards). */
export interface FanOutHandler {
  (request: Request): Promise<Response>;
  breakers: Map<string, CircuitBreaker>;
}

class UpstreamError extends Error {
  constructor(readonly upstream: string, readonly status: number) {
    super(`${upstream} answered ${status}`);
    this.name = "UpstreamError";
  }
}

/** The request's budget: the server's, or the client's `x-budget-ms` if that is shorter. */
function requestBudget(request: Request, serverBudget: number): number {
  const asked = Number(request.headers.get("x-budget-ms") ?? NaN);
  return asked > 0 && asked < serverBudget ? asked : serverBudget;
}

/** Builds the fan-out handler for `upstreams`. */
export function createHandler(upstreams: Upstream[], options: HandlerOptions = {}): FanOutHandler {
  const maxBudget = options.budget ?? 2_000;
  const callTimeout = options.callTimeout ?? maxBudget * 0.9;
  const limiter = options.limiter;
  const breakers = new Map(upstreams.map((u) => [
    u.name,
    new CircuitBreaker({
      failureThreshold: options.failureThreshold ?? 3,
      resetTimeout: options.resetTimeout ?? 10_000,
    }),
  ]));

  const callUpstream = async (u: Upstream, query: string): Promise<unknown> => {
    try {
      return await breakers.get(u.name)!.call(() =>
        // The call's scope is inside the request's: its signal aborts on the call timeout,
        // the budget or a disconnect.
        failAfter(callTimeout, async (call) => {
          const res = await fetch(`${u.url}${query}`, { signal: call.signal });
          if (!res.ok) {
            await res.body?.cancel();
            throw new UpstreamError(u.name, res.status);
          }
          return await res.json();
        })
      );
    } catch (err) {
      // Only this call's own timeout is a TimeoutError here (the budget cancels the call
      // with a CancelledError); name the upstream it belongs to.
      if (!(err instanceof TimeoutError)) throw err;
      throw new TimeoutError(`${u.name}: no answer within its ${err.timeout} ms call timeout`, {
        timeout: err.timeout,
        source: err.source,
        cause: err,
      });
    }
  };

  const handler = async (request: Request): Promise<Response> => {
    // Fail fast: an open breaker means that upstream is known to be down.
    for (const [name, breaker] of breakers) {
      const { state, retryAfter } = breaker.statistics();
      if (state === "open") {
        return Response.json({ error: `${name} unavailable` }, {
          status: 503,
          headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfter / 1_000))) },
        });
      }
    }
    const query = new URL(request.url).search;
    const budget = requestBudget(request, maxBudget);
    try {
      const results = await failAfter(budget, (scope) => {
        const onDisconnect = (): void => scope.cancel("client disconnected");
        // A client already gone never fires "abort" again: cancel before calling anyone.
        if (request.signal.aborted) onDisconnect();
        request.signal.addEventListener("abort", onDisconnect, { once: true });
        const fanOut = () => gather(upstreams.map((u) => () => callUpstream(u, query)));
        return (limiter === undefined ? fanOut() : limiter.use(fanOut))
          .finally(() => request.signal.removeEventListener("abort", onDisconnect));
      });
      return Response.json(Object.fromEntries(upstreams.map((u, i) => [u.name, results[i]])));
    } catch (err) {
      // The scope cancelled on a disconnect rejects with its CancelledError.
      if (request.signal.aborted) return new Response(null, { status: 499 }); // client gone
      // The request budget's own TimeoutError comes bare from failAfter; a call timeout
      // comes inside gather's ExceptionGroup (below). `timeout` is the budget as given.
      if (err instanceof TimeoutError) {
        return Response.json({ error: `request budget of ${err.timeout} ms exceeded` }, {
          status: 504,
        });
      }
      const errors = err instanceof ExceptionGroup ? err.exceptions : [err];
      const details = errors.map(String);
      if (errors.some((e) => e instanceof CircuitOpenError)) {
        return Response.json({ error: details }, { status: 503 });
      }
      if (errors.some((e) => e instanceof TimeoutError)) {
        return Response.json({ error: "upstreams too slow", details }, { status: 504 });
      }
      return Response.json({ error: details }, { status: 502 });
    }
  };
  return Object.assign(handler, { breakers });
}

/** Which upstream misbehaves, and how, is chosen by the request's query string. */
function startDemoUpstreams(cancelled: Map<string, number>): {
  upstreams: Upstream[];
  stop: () => Promise<void>;
} {
  const servers: Deno.HttpServer[] = [];
  const upstreams = ["users", "orders", "recommendations"].map((name) => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const query = new URL(req.url).searchParams;
        if (query.get("down") === name) return new Response("boom", { status: 500 });
        const delay = query.get("slow") === name ? 60_000 : 10;
        try {
          await sleep(delay, { signal: req.signal });
        } catch {
          cancelled.set(name, performance.now());
          return new Response(null, { status: 499 });
        }
        return Response.json({ upstream: name, ok: true });
      },
    );
    servers.push(server);
    return { name, url: `http://127.0.0.1:${server.addr.port}/` };
  });
  return { upstreams, stop: () => Promise.all(servers.map((s) => s.shutdown())).then(() => {}) };
}

/** Runs the four scenarios against a local handler; prints one line per request. */
async function demo(): Promise<void> {
  const cancelled = new Map<string, number>();
  const opened = await openRequestLimiter(10, ":memory:");
  const { upstreams, stop } = startDemoUpstreams(cancelled);
  console.log(`requests limited to 10 at once by ${opened.kind}`);
  const handler = createHandler(upstreams, {
    budget: 500,
    failureThreshold: 2,
    limiter: opened.limiter,
  });
  const app = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const base = `http://127.0.0.1:${app.addr.port}/`;
  const request = async (what: string, query: string, headers?: HeadersInit): Promise<void> => {
    const t = performance.now();
    const res = await fetch(base + query, { headers });
    const body = await res.text();
    const ms = Math.round(performance.now() - t);
    console.log(`${what.padEnd(38)} -> ${res.status} in ${ms} ms  ${body.slice(0, 120)}`);
  };
  try {
    await request("all upstreams healthy", "?user=1");
    // The budget is 500 ms, so each call's own timeout is 450 ms: that one fires first.
    await request("orders slower than its call timeout", "?user=1&slow=orders");
    // A client that allows only 200 ms: now the request budget fires, before any call timeout.
    await request("client budget 200 ms, orders slow", "?user=1&slow=orders", {
      "x-budget-ms": "200",
    });

    // The client gives up after 100 ms: the handler cancels its upstream calls.
    cancelled.clear();
    const client = new AbortController();
    const t = performance.now();
    const pending = fetch(base + "?user=1&slow=orders", { signal: client.signal });
    setTimeout(() => client.abort(), 100);
    await pending.catch(() => {});
    const left = performance.now();
    while (!cancelled.has("orders") && performance.now() - left < 1_000) await sleep(5);
    const seen = cancelled.get("orders");
    console.log(
      `${"client disconnects after 100 ms".padEnd(38)} -> ` +
        (seen === undefined
          ? "orders call NOT cancelled"
          : `orders call cancelled ${Math.round(seen - t)} ms after the request began`),
    );

    await request("recommendations failing (1/2)", "?user=1&down=recommendations");
    await request("recommendations failing (2/2)", "?user=1&down=recommendations");
    await request("breaker open: fail fast", "?user=1&down=recommendations");
    console.log(`recommendations breaker: ${handler.breakers.get("recommendations")!.state}`);
  } finally {
    // Every request has ended (and released its lease) before the KV closes.
    await app.shutdown();
    await stop();
    opened.close();
  }
}

if (import.meta.main) await demo();
