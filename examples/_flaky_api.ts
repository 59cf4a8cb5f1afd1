// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The flaky upstream of examples/resilient_pipeline.ts: a real HTTP server on
 * 127.0.0.1 whose every answer (latency, 503, hang, injected fault) is drawn
 * from the seed, so a run is a function of its options.
 *
 * @module
 */

import { sleep } from "../mod.ts";
import { chance, type PipelineOptions } from "./_pipeline_options.ts";

/** What the upstream saw: requests, faults injected, and callers it saw give up. */
export interface UpstreamStats {
  requests: number;
  faults: number;
  aborts: number;
}

export interface Server {
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
export function startFlakyApi(o: PipelineOptions): Server & { stats: UpstreamStats } {
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
