// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * A `Deno.serve` handler fit for Deno Deploy: each request fans out to three
 * upstream calls under one per-request `failAfter` budget; a client that
 * disconnects cancels the upstream calls (`request.signal`); an upstream whose
 * circuit breaker is open gets a fast 503 without being called.
 *
 * On Deno Deploy: `export default { fetch: createHandler(upstreams) }`.
 * Locally (starts three fake upstreams on 127.0.0.1 and sends a few requests):
 * `deno run --allow-net=127.0.0.1 examples/deploy_handler.ts`.
 */

import {
  CircuitBreaker,
  CircuitOpenError,
  ExceptionGroup,
  failAfter,
  gather,
  sleep,
  TimeoutError,
} from "../mod.ts";

/** One upstream service the handler fans out to. */
export interface Upstream {
  name: string;
  url: string;
}

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions {
  /** Milliseconds for the whole request, all upstream calls included (default 2_000). */
  budget?: number;
  /**
   * Milliseconds for one upstream call (default 90% of `budget`). It sits inside the
   * budget so a slow upstream fails with a `TimeoutError` of its own, which counts
   * against its breaker; the budget's cancellation alone would not (a cancellation is
   * never a breaker failure).
   */
  callTimeout?: number;
  /** Consecutive failures that open an upstream's breaker (default 3). */
  failureThreshold?: number;
  /** Milliseconds an open breaker waits before a probe (default 10_000). */
  resetTimeout?: number;
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

/** Builds the fan-out handler for `upstreams`. */
export function createHandler(upstreams: Upstream[], options: HandlerOptions = {}): FanOutHandler {
  const budget = options.budget ?? 2_000;
  const callTimeout = options.callTimeout ?? budget * 0.9;
  const breakers = new Map(upstreams.map((u) => [
    u.name,
    new CircuitBreaker({
      failureThreshold: options.failureThreshold ?? 3,
      resetTimeout: options.resetTimeout ?? 10_000,
    }),
  ]));

  const callUpstream = (u: Upstream, query: string): Promise<unknown> =>
    breakers.get(u.name)!.call(() =>
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
    try {
      const results = await failAfter(budget, (scope) => {
        const onDisconnect = (): void => scope.cancel("client disconnected");
        // A client already gone never fires "abort" again: cancel before calling anyone.
        if (request.signal.aborted) onDisconnect();
        request.signal.addEventListener("abort", onDisconnect, { once: true });
        return gather(upstreams.map((u) => () => callUpstream(u, query)))
          .finally(() => request.signal.removeEventListener("abort", onDisconnect));
      });
      return Response.json(Object.fromEntries(upstreams.map((u, i) => [u.name, results[i]])));
    } catch (err) {
      // The scope cancelled on a disconnect rejects with its CancelledError.
      if (request.signal.aborted) return new Response(null, { status: 499 }); // client gone
      if (err instanceof TimeoutError) {
        return Response.json({ error: "upstreams too slow" }, { status: 504 });
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

if (import.meta.main) {
  // Three fake upstreams: fast, slow-ish, and one that fails every request.
  const serve = (handler: (req: Request) => Promise<Response> | Response) =>
    Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const users = serve(() => Response.json({ id: 1, name: "Ada" }));
  const orders = serve(async (req) => {
    await sleep(50, { signal: req.signal }).catch(() => {});
    return Response.json([{ id: 10, total: 42 }]);
  });
  const recs = serve(() => new Response("boom", { status: 500 }));
  const upstreams = [
    { name: "users", url: `http://127.0.0.1:${users.addr.port}/` },
    { name: "orders", url: `http://127.0.0.1:${orders.addr.port}/` },
    { name: "recommendations", url: `http://127.0.0.1:${recs.addr.port}/` },
  ];
  const handler = createHandler(upstreams, { budget: 1_000, failureThreshold: 2 });
  const app = serve(handler);
  try {
    for (let i = 1; i <= 4; i++) {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${app.addr.port}/?user=1`);
      const body = await res.text();
      console.log(
        `request ${i}: ${res.status} in ${(performance.now() - t).toFixed(0)} ms  ${
          body.slice(0, 100)
        }`,
      );
    }
    console.log(`recommendations breaker: ${handler.breakers.get("recommendations")!.state}`);
  } finally {
    await Promise.all([app, users, orders, recs].map((s) => s.shutdown()));
  }
}
