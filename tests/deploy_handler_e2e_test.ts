// Copyright 2026 the @lionpride/core authors. MIT license.
// End-to-end tests of examples/deploy_handler.ts: the handler served with
// Deno.serve on 127.0.0.1, real fetch clients, and fake upstreams (Deno.serve,
// or raw TCP for connection faults) that count their hits and watch for aborts.
import assert from "node:assert/strict";
import {
  createHandler,
  type HandlerOptions,
  openRequestLimiter,
  type Upstream,
} from "../examples/deploy_handler.ts";
import { DistributedLimiter } from "../distributed/mod.ts";
import { within } from "./_helpers.ts";

/** Polls `condition` every 10 ms; rejects if it is still false after `ms` real milliseconds. */
async function waitUntil(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves after `ms` real milliseconds, or at once when `signal` aborts. */
function nap(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** A fake upstream: counts its hits and when it saw a caller give up. */
interface FakeUpstream extends Upstream {
  hits: number;
  /** `performance.now()` of each request whose signal aborted while it was handled. */
  aborts: number[];
  /** Resolves at the first hit. */
  firstHit: Promise<void>;
  stop: () => Promise<void>;
}

function startUpstream(
  name: string,
  handle: (req: Request) => Response | Promise<Response>,
): FakeUpstream {
  let hit!: () => void;
  const upstream: FakeUpstream = {
    name,
    url: "",
    hits: 0,
    aborts: [],
    firstHit: new Promise((resolve) => hit = resolve),
    stop: () => server.shutdown(),
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      upstream.hits++;
      hit();
      const onAbort = (): number => upstream.aborts.push(performance.now());
      req.signal.addEventListener("abort", onAbort, { once: true });
      try {
        return await handle(req);
      } finally {
        // What aborts after the response is written (legacy behaviour) is no disconnect.
        req.signal.removeEventListener("abort", onAbort);
      }
    },
  );
  upstream.url = `http://127.0.0.1:${server.addr.port}/`;
  return upstream;
}

/** An upstream that hangs (up to 5 s) until its caller gives up. */
const hanging = (name: string): FakeUpstream =>
  startUpstream(name, async (req) => {
    await nap(5_000, req.signal);
    return Response.json({ late: true });
  });

/** An upstream that answers at once. */
const healthy = (name: string): FakeUpstream =>
  startUpstream(name, () => Response.json({ from: name }));

/** Serves the handler; records the status of each response it made. */
function startApp(upstreams: Upstream[], options: HandlerOptions) {
  const handler = createHandler(upstreams, options);
  const statuses: number[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const res = await handler(req);
      statuses.push(res.status);
      return res;
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/?user=1`,
    handler,
    statuses,
    stop: () => server.shutdown(),
  };
}

/** Sends one request; returns the status, body and real milliseconds it took. */
async function get(
  url: string,
  headers?: HeadersInit,
): Promise<{ status: number; body: string; ms: number; res: Response }> {
  const t = performance.now();
  const res = await fetch(url, { headers });
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - t, res };
}

// ------------------------------------------------------------------ disconnects

Deno.test("a client that disconnects cancels every upstream call within a bound", async () => {
  const upstreams = [hanging("users"), hanging("orders"), hanging("recommendations")];
  const app = startApp(upstreams, { budget: 10_000 });
  try {
    const client = new AbortController();
    const response = fetch(app.url, { signal: client.signal });
    await within(Promise.all(upstreams.map((u) => u.firstHit)), 2_000, "the fan-out");
    const abortedAt = performance.now();
    client.abort();
    await assert.rejects(response, { name: "AbortError" });
    await waitUntil(() => upstreams.every((u) => u.aborts.length > 0), 2_000, "upstream aborts");
    for (const u of upstreams) {
      assert.equal(u.hits, 1);
      assert.equal(u.aborts.length, 1, `${u.name} saw ${u.aborts.length} aborts`);
      const lag = u.aborts[0] - abortedAt;
      assert.ok(lag < 1_000, `${u.name} saw the abort ${lag.toFixed(0)} ms after the client`);
    }
  } finally {
    await app.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
  }
  // The handler gave up on the request well before its 10 s budget.
  assert.deepEqual(app.statuses, [499]);
});

// ------------------------------------------------------------------ circuit breakers

Deno.test("a failing upstream opens its breaker and later requests get a fast 503 without reaching it", async () => {
  const users = healthy("users");
  const recs = startUpstream("recommendations", () => new Response("boom", { status: 500 }));
  const upstreams = [users, recs];
  const app = startApp(upstreams, { budget: 2_000, failureThreshold: 2, resetTimeout: 60_000 });
  try {
    for (let i = 0; i < 2; i++) {
      const r = await get(app.url);
      assert.equal(r.status, 502);
      assert.match(r.body, /recommendations answered 500/);
    }
    assert.equal(recs.hits, 2);
    assert.equal(app.handler.breakers.get("recommendations")!.state, "open");
    assert.equal(app.handler.breakers.get("users")!.state, "closed");
    const usersHits = users.hits;
    for (let i = 0; i < 3; i++) {
      const r = await get(app.url);
      assert.equal(r.status, 503);
      assert.match(r.body, /recommendations unavailable/);
      const retryAfter = Number(r.res.headers.get("retry-after"));
      assert.equal(retryAfter, 60, "retry-after: the seconds until the breaker half-opens");
      assert.ok(r.ms < 200, `a fast 503 took ${r.ms.toFixed(0)} ms`);
    }
    assert.equal(recs.hits, 2, "an open breaker let a request through");
    assert.equal(users.hits, usersHits, "a request that cannot succeed called the others");
  } finally {
    await app.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
  }
});

Deno.test("a breaker lets one probe through after its reset timeout, and a success closes it", async () => {
  let down = true;
  const flaky = startUpstream(
    "flaky",
    () => down ? new Response("boom", { status: 500 }) : Response.json({ ok: true }),
  );
  const app = startApp([flaky], { budget: 2_000, failureThreshold: 1, resetTimeout: 150 });
  try {
    assert.equal((await get(app.url)).status, 502);
    assert.equal((await get(app.url)).status, 503);
    assert.equal(flaky.hits, 1);
    down = false;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const probe = await get(app.url);
    assert.equal(probe.status, 200, probe.body);
    assert.deepEqual(JSON.parse(probe.body), { flaky: { ok: true } });
    assert.equal(flaky.hits, 2);
    assert.equal(app.handler.breakers.get("flaky")!.state, "closed");
  } finally {
    await app.stop();
    await flaky.stop();
  }
});

// ------------------------------------------------------------------ budget

Deno.test("an upstream slower than the budget gives a 504, and its call is cancelled", async () => {
  const users = healthy("users");
  const slow = hanging("orders");
  const upstreams = [users, slow];
  const app = startApp(upstreams, { budget: 200 });
  try {
    const r = await get(app.url);
    assert.equal(r.status, 504);
    assert.match(r.body, /too slow/);
    assert.match(r.body, /orders: no answer within its 180 ms call timeout/);
    // The call's own timeout (90% of the budget) fires first.
    assert.ok(r.ms >= 170, `the 504 came before the call timeout: ${r.ms.toFixed(0)} ms`);
    assert.ok(r.ms < 1_000, `the 504 took ${r.ms.toFixed(0)} ms for a 200 ms budget`);
    await waitUntil(() => slow.aborts.length > 0, 1_000, "the slow upstream's abort");
    assert.equal(slow.hits, 1);
  } finally {
    await app.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
  }
});

Deno.test("a client's shorter x-budget-ms makes the request budget fire first: a 504 naming it, not counted against the breaker", async () => {
  const users = healthy("users");
  const slow = hanging("orders");
  const upstreams = [users, slow];
  const app = startApp(upstreams, { budget: 2_000, failureThreshold: 1 });
  try {
    const r = await get(app.url, { "x-budget-ms": "150" });
    assert.equal(r.status, 504, r.body);
    assert.deepEqual(JSON.parse(r.body), { error: "request budget of 150 ms exceeded" });
    assert.ok(r.ms >= 140, `the 504 came before the 150 ms budget: ${r.ms.toFixed(0)} ms`);
    assert.ok(r.ms < 1_000, `the 504 took ${r.ms.toFixed(0)} ms for a 150 ms budget`);
    await waitUntil(() => slow.aborts.length > 0, 1_000, "the slow upstream's abort");
    // The budget cancelled the call: a cancellation is no failure of the upstream.
    assert.equal(app.handler.breakers.get("orders")!.state, "closed");
    assert.equal(app.handler.breakers.get("orders")!.failures, 0);
    // A header asking for more than the server's budget, or nonsense, changes nothing.
    const unchanged = await get(app.url.replace("user=1", "user=2"), { "x-budget-ms": "abc" });
    assert.equal(unchanged.status, 504);
    assert.match(unchanged.body, /orders: no answer within its 1800 ms call timeout/);
  } finally {
    await app.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
  }
});

Deno.test("an upstream that is always too slow opens its breaker", async () => {
  const users = healthy("users");
  const slow = hanging("orders");
  const upstreams = [users, slow];
  const app = startApp(upstreams, { budget: 150, failureThreshold: 2, resetTimeout: 60_000 });
  try {
    assert.equal((await get(app.url)).status, 504);
    assert.equal((await get(app.url)).status, 504);
    assert.equal(app.handler.breakers.get("orders")!.state, "open");
    const r = await get(app.url);
    assert.equal(r.status, 503, "a timed-out call counts against the breaker");
    assert.equal(slow.hits, 2);
  } finally {
    await app.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
  }
});

// ------------------------------------------------------------------ connection faults

/** A raw TCP upstream that accepts and closes each connection at once. */
function startResetUpstream(name: string): FakeUpstream {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let hit!: () => void;
  const upstream: FakeUpstream = {
    name,
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`,
    hits: 0,
    aborts: [],
    firstHit: new Promise((resolve) => hit = resolve),
    stop: async () => {
      listener.close();
      await accepting.catch(() => {});
    },
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      upstream.hits++;
      hit();
      conn.close();
    }
  })();
  return upstream;
}

Deno.test("an upstream that resets connections gives a 502 and counts against its breaker", async () => {
  const users = healthy("users");
  const broken = startResetUpstream("broken");
  const upstreams = [users, broken];
  const app = startApp(upstreams, { budget: 2_000, failureThreshold: 2 });
  try {
    for (let i = 0; i < 2; i++) {
      const r = await get(app.url);
      assert.equal(r.status, 502, r.body);
    }
    assert.ok(broken.hits >= 2);
    assert.equal(app.handler.breakers.get("broken")!.state, "open");
    const hits = broken.hits;
    assert.equal((await get(app.url)).status, 503);
    assert.equal(broken.hits, hits);
  } finally {
    await app.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
  }
});

Deno.test("an upstream that trickles its body past the budget gives a 504 and is cut off", async () => {
  let abandoned = false;
  const trickle = startUpstream("trickle", (req) => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await nap(sent === 0 ? 0 : 100, req.signal);
        if (req.signal.aborted) return controller.error(new Error("caller went away"));
        // Up to 3 s of body: far past the budget, but bounded if nobody cancels it.
        controller.enqueue(new TextEncoder().encode(sent === 0 ? '{"ok":true' : " "));
        if (++sent === 30) {
          controller.enqueue(new TextEncoder().encode("}"));
          controller.close();
        }
      },
      cancel: () => {
        abandoned = true;
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  const app = startApp([trickle], { budget: 300 });
  try {
    const r = await get(app.url);
    assert.equal(r.status, 504, r.body);
    assert.ok(r.ms < 1_500, `the 504 took ${r.ms.toFixed(0)} ms for a 300 ms budget`);
    assert.equal(trickle.hits, 1);
    // The budget cancels the body read too, which closes the upstream connection.
    await waitUntil(() => abandoned, 1_000, "the trickled body's cancellation");
  } finally {
    await app.stop();
    await trickle.stop();
  }
});

// ------------------------------------------------------------------ request limiter

Deno.test("with Deno.openKv the request limiter is a DistributedLimiter on KV: a request waits for a held permit within its budget, and every lease is released", async () => {
  const opened = await openRequestLimiter(1, ":memory:");
  assert.equal(opened.kind, "DistributedLimiter on Deno KV");
  const limiter = opened.limiter;
  assert.ok(limiter instanceof DistributedLimiter);
  const slow = hanging("orders");
  const app = startApp([slow], { budget: 400, limiter });
  try {
    const first = get(app.url); // holds the only permit until its 400 ms budget ends
    await slow.firstHit;
    const second = await get(app.url, { "x-budget-ms": "100" });
    assert.equal(second.status, 504);
    assert.match(second.body, /request budget of 100 ms exceeded/);
    assert.equal(slow.hits, 1, "the second request never reached the upstream");
    assert.equal((await first).status, 504);
    await waitUntil(() => slow.aborts.length > 0, 1_000, "the slow upstream's abort");
    assert.equal((await limiter.statistics()).held, 0);
  } finally {
    await app.stop();
    await slow.stop();
    opened.close();
  }
});

Deno.test("the example says which limiter it took: KV with --unstable-kv, CapacityLimiter without", async () => {
  for (
    const [flags, kind] of [[["--unstable-kv"], /DistributedLimiter on Deno KV/], [
      [],
      /CapacityLimiter \(this isolate only\)/,
    ]] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, "--allow-net=127.0.0.1", "examples/deploy_handler.ts"],
      cwd: new URL("..", import.meta.url),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(stdout.split("\n")[0], kind);
    assert.match(stdout, /all upstreams healthy\s+-> 200 /);
  }
});

Deno.test("the example run as its header says shows a success, both kinds of 504, a cancelled call and a fast 503, without warnings", async () => {
  const root = new URL("..", import.meta.url);
  const killer = new AbortController();
  const timer = setTimeout(() => killer.abort(), 20_000);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--unstable-kv", "--allow-net=127.0.0.1", "examples/deploy_handler.ts"],
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: killer.signal,
      env: { NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(stderr, "", "nothing on stderr (no legacy request.signal warning)");
    assert.match(stdout, /requests limited to 10 at once by DistributedLimiter on Deno KV/);
    assert.match(stdout, /all upstreams healthy\s+-> 200 /);
    assert.match(
      stdout,
      /orders slower than its call timeout\s+-> 504 in \d+ ms .*orders: no answer within its 450 ms call timeout/,
    );
    assert.match(
      stdout,
      /client budget 200 ms, orders slow\s+-> 504 in \d+ ms .*"request budget of 200 ms exceeded"/,
    );
    assert.match(stdout, /client disconnects after 100 ms\s+-> orders call cancelled \d+ ms/);
    assert.match(stdout, /breaker open: fail fast\s+-> 503 in \d ms/);
  } finally {
    clearTimeout(timer);
  }
});
