// Copyright 2026 the @lionpride/core authors. MIT license.
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  AdaptiveLimiter,
  checkResponse,
  failAfter,
  HttpError,
  parseRetryAfter,
  RateLimiter,
  RateLimitError,
  retry,
} from "../mod.ts";
import { retryableByDefault } from "../concurrency/_retry_after.ts";

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);

Deno.test("retry-after in delta seconds, fractions allowed, becomes ms", () => {
  assert.equal(parseRetryAfter({ "retry-after": "3" }, NOW), 3_000);
  assert.equal(parseRetryAfter({ "retry-after": "0.25" }, NOW), 250);
  assert.equal(parseRetryAfter({ "retry-after": " 7 " }, NOW), 7_000);
  assert.equal(parseRetryAfter({ "retry-after": "0" }, NOW), 0);
});

Deno.test("retry-after as an HTTP date is the time until that date", () => {
  assert.equal(parseRetryAfter({ "retry-after": "Sat, 05 Dec 2026 12:00:42 GMT" }, NOW), 42_000);
});

Deno.test("a date in the past or a negative number means no wait", () => {
  assert.equal(parseRetryAfter({ "retry-after": "Fri, 04 Dec 2026 12:00:00 GMT" }, NOW), 0);
  assert.equal(parseRetryAfter({ "retry-after": "-5" }, NOW), 0);
  assert.equal(parseRetryAfter({ "retry-after-ms": "-1" }, NOW), 0);
  assert.equal(parseRetryAfter({ "ratelimit-reset": "-0.5" }, NOW), 0);
  assert.equal(parseRetryAfter({ "x-ratelimit-reset": String(NOW / 1_000 - 60) }, NOW), 0);
});

Deno.test("retry-after-ms wins over retry-after", () => {
  assert.equal(parseRetryAfter({ "retry-after-ms": "120", "retry-after": "9" }, NOW), 120);
});

Deno.test("garbage in a header falls through to the next header", () => {
  assert.equal(parseRetryAfter({ "retry-after-ms": "soon", "retry-after": "2" }, NOW), 2_000);
  assert.equal(parseRetryAfter({ "retry-after": "later", "ratelimit-reset": "4" }, NOW), 4_000);
  assert.equal(parseRetryAfter({ "retry-after": "1e3", "x-ratelimit-reset": "5" }, NOW), 5_000);
  for (const garbage of ["", "abc", "1,5", "NaN", "Infinity", "0x10", "1 2", "12abc", "Sun"]) {
    assert.equal(parseRetryAfter({ "retry-after": garbage }, NOW), undefined, garbage);
  }
  assert.equal(parseRetryAfter({ "retry-after": "9".repeat(400) }, NOW), undefined);
});

Deno.test("ratelimit-reset and x-ratelimit-reset are delta seconds", () => {
  assert.equal(parseRetryAfter({ "ratelimit-reset": "1.5" }, NOW), 1_500);
  assert.equal(parseRetryAfter({ "x-ratelimit-reset": "30" }, NOW), 30_000);
  assert.equal(parseRetryAfter({ "ratelimit-reset": "2", "x-ratelimit-reset": "30" }, NOW), 2_000);
});

Deno.test("x-ratelimit-reset above 10^9 is an epoch time in seconds", () => {
  assert.equal(parseRetryAfter({ "x-ratelimit-reset": String(NOW / 1_000 + 12) }, NOW), 12_000);
  assert.equal(parseRetryAfter({ "x-ratelimit-reset": "1000000000" }, NOW), 1e12, "10^9 itself");
});

Deno.test("10^12 seconds is read as it is, for the caller's cap to refuse", () => {
  assert.equal(parseRetryAfter({ "retry-after": "1000000000000" }, NOW), 1e15);
  const epoch = parseRetryAfter({ "x-ratelimit-reset": "1000000000000" }, NOW)!;
  assert.equal(epoch, 1e15 - NOW);
});

Deno.test("record keys are case-insensitive; Headers and Response work too", () => {
  assert.equal(parseRetryAfter({ "Retry-After": "1" }, NOW), 1_000);
  assert.equal(parseRetryAfter({ "RETRY-AFTER-MS": "5" }, NOW), 5);
  assert.equal(parseRetryAfter(new Headers({ "Retry-After": "2" }), NOW), 2_000);
  const res = new Response(null, { status: 429, headers: { "x-ratelimit-reset": "3" } });
  assert.equal(parseRetryAfter(res, NOW), 3_000);
});

Deno.test("no usable header means undefined", () => {
  assert.equal(parseRetryAfter({}, NOW), undefined);
  assert.equal(parseRetryAfter(new Headers({ "content-type": "text/plain" }), NOW), undefined);
  assert.throws(() => parseRetryAfter(null as never), /'source' must be a Response, Headers/);
});

Deno.test("HttpError carries status, headers, url and the parsed retryAfter", () => {
  const res = new Response("busy", {
    status: 503,
    statusText: "Service Unavailable",
    headers: { "retry-after": "0.5" },
  });
  const err = new HttpError(res);
  assert.equal(err.name, "HttpError");
  assert.equal(err.status, 503);
  assert.equal(err.retryAfter, 500);
  assert.equal(err.headers.get("retry-after"), "0.5");
  assert.equal(err.url, "");
  assert.equal(err.message, "HTTP 503 Service Unavailable");
  assert.equal(new HttpError(res, "custom").message, "custom");
  assert.equal(new HttpError(new Response(null, { status: 500 })).retryAfter, undefined);
  assert.throws(() => new HttpError({} as never), /'res' must be a Response, received object/);
});

Deno.test("HttpError statuses follow the default retry policy", () => {
  const err = (status: number) => new HttpError(new Response(null, { status }));
  assert.equal(retryableByDefault(err(429)), true);
  assert.equal(retryableByDefault(err(503)), true);
  assert.equal(retryableByDefault(err(404)), false);
  assert.equal(retryableByDefault(err(400)), false);
});

Deno.test("checkResponse returns an ok response untouched", async () => {
  const res = new Response("fine");
  assert.equal(checkResponse(res), res);
  assert.equal(await res.text(), "fine");
});

Deno.test("checkResponse cancels the body of a failed response and throws HttpError", async () => {
  let cancelled = false;
  const body = new ReadableStream({
    pull(c) {
      c.enqueue(new Uint8Array(8));
    },
    cancel() {
      cancelled = true;
    },
  });
  const res = new Response(body, { status: 429, headers: { "retry-after": "1" } });
  const err = (() => {
    try {
      checkResponse(res);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof HttpError);
  assert.equal(err.retryAfter, 1_000);
  await Promise.resolve();
  assert.equal(cancelled, true);
  assert.throws(() => checkResponse("x" as never), TypeError);
});

/** A server on 127.0.0.1 that answers every request with `respond` (node:http, so Node and Bun run these tests too). */
async function serve(
  respond: (res: ServerResponse) => void,
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const sockets = new Set<Socket>();
  const server = createServer((_, res) => {
    hits++;
    respond(res);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

Deno.test("checkResponse frees the connection of a real failed fetch", async () => {
  const server = await serve((res) =>
    res.writeHead(429, { "retry-after-ms": "40" }).end("x".repeat(100_000))
  );
  try {
    const url = `${server.url}/v1/complete`;
    const err = await fetch(url).then(checkResponse).catch((e) => e);
    assert.ok(err instanceof HttpError);
    assert.equal(err.url, url);
    assert.equal(err.retryAfter, 40);
    assert.match(err.message, /^HTTP 429 Too Many Requests from http:\/\/127\.0\.0\.1/);
  } finally {
    await server.close();
  }
});

/** A server on 127.0.0.1 that answers every request 429 with `Retry-After`. */
function always429(retryAfter: string) {
  return serve((res) => res.writeHead(429, { "retry-after": retryAfter }).end("rate limited"));
}

async function retryAgainst429Forever(retryAfterSeconds: string) {
  const server = await always429(retryAfterSeconds);
  try {
    const start = performance.now();
    const err = await failAfter(150, () =>
      retry(() => fetch(server.url).then(checkResponse), {
        attempts: Infinity,
        baseDelay: 10,
        jitter: 0,
      })).catch((e) => e);
    return { err, elapsed: performance.now() - start, hits: server.hits() };
  } finally {
    await server.close();
  }
}

Deno.test("retry against a 429-forever server whose Retry-After outlasts the deadline gives up at once", async () => {
  const { err, elapsed, hits } = await retryAgainst429Forever("1");
  assert.ok(err instanceof HttpError, `the server's error, not a timeout: ${err}`);
  assert.equal(err.status, 429);
  assert.equal(err.retryAfter, 1_000);
  assert.ok(elapsed < 150, `gave up at ${elapsed.toFixed(0)} ms, before the deadline`);
  assert.equal(hits, 1); // a 1 s wait cannot end before the 150 ms deadline: no sleep, no retry
});

Deno.test("retry against a 429-forever server waits its Retry-After and gives up before the deadline", async () => {
  const { err, elapsed, hits } = await retryAgainst429Forever("0.02");
  assert.ok(err instanceof HttpError, `the server's error, not a timeout: ${err}`);
  assert.equal(err.status, 429);
  assert.ok(elapsed < 150, `gave up at ${elapsed.toFixed(0)} ms, before the deadline`);
  assert.ok(hits >= 2 && hits <= 8, `retried every ~20 ms: ${hits} requests`);
});

Deno.test("an AdaptiveLimiter in front of a 429-forever server falls to min and the rate limiter refuses past the deadline", async () => {
  const server = await always429("0.05");
  try {
    const url = server.url;
    const adaptive = new AdaptiveLimiter({ initial: 8, min: 2 });
    const rate = new RateLimiter({ limit: 20, period: 1_000, burst: 5 });
    const start = performance.now();
    const outcome = await failAfter(400, async () => {
      for (;;) {
        await rate.acquire();
        await adaptive.use(() => fetch(url).then(checkResponse)).catch((e) => {
          if (!(e instanceof HttpError)) throw e;
        });
      }
    }).catch((e) => e);
    const elapsed = performance.now() - start;
    assert.ok(outcome instanceof RateLimitError, `refused before the deadline: ${outcome}`);
    assert.ok(outcome.retryAfter > 0);
    assert.ok(elapsed < 400, `gave up at ${elapsed.toFixed(0)} ms`);
    assert.equal(adaptive.limit, 2, "every 429 lowered the limit down to min");
    assert.equal(rate.waiting, 0, "nothing left reserved");
  } finally {
    await server.close();
  }
});

Deno.test("parseRetryAfter rejects a now that is not a finite number, naming it and the value", () => {
  assert.throws(
    () => parseRetryAfter({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, NaN),
    { name: "RangeError", message: /'now'.*received number NaN/ },
  );
  assert.throws(() => parseRetryAfter({}, Infinity), /'now'.*Infinity/);
  assert.throws(() => parseRetryAfter({}, "1" as unknown as number), TypeError);
});
