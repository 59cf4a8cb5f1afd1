// Claims of README.md and docs/*.md that a user relies on and no other test
// checked: where the docs point (links, anchors, files, tasks, API pages) and
// concrete promises (defaults, bounds, orders). Each claim's test fails if the
// claim breaks; the docs' own code blocks run separately (deno test --doc).
import assert from "node:assert/strict";
import * as core from "../mod.ts";
import {
  AdaptiveLimiter,
  alcall,
  alcallStream,
  bcall,
  boundedMap,
  CircuitBreaker,
  CircuitOpenError,
  RateLimiter,
  RateLimitError,
  retry,
  sleep,
} from "../mod.ts";
import { DistributedLimiter, DistributedRateLimiter, kvStore } from "../distributed/mod.ts";
import { advanceByTimers, type FakeClock, withFakeTime } from "./_fake_time.ts";
import { withMemoryKv } from "./_distributed.ts";

const realSetTimeout = globalThis.setTimeout;
const root = new URL("../", import.meta.url);
const docFiles = [
  "README.md",
  ...[...Deno.readDirSync(new URL("docs/", root))]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort(),
];
const read = (path: string) => Deno.readTextFileSync(new URL(path, root));

/** Markdown outside fenced code blocks (a link inside a block is code, not a link). */
function prose(text: string): string {
  return text.split(/^```.*$/m).filter((_, i) => i % 2 === 0).join("\n");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function exists(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch {
    return false;
  }
}

function links(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
}

Deno.test("README.md is a front page: at most 200 lines, reference material in docs/", () => {
  const lines = read("README.md").split("\n").length;
  assert.ok(lines <= 200, `README.md has ${lines} lines; move reference material to docs/`);
});

Deno.test("docs: every relative link resolves to a file, and every anchor to a heading", () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (const link of links(read(file))) {
      if (/^[a-z]+:/i.test(link)) continue; // absolute: checked below for jsr.io
      checked++;
      const [path, anchor] = link.split("#");
      const target = path === "" ? new URL(file, root) : new URL(path, new URL(file, root));
      if (!exists(target)) {
        broken.push(`${file}: ${link} (no such file)`);
        continue;
      }
      if (anchor !== undefined && !anchors(Deno.readTextFileSync(target)).has(anchor)) {
        broken.push(`${file}: ${link} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked >= 10, `only ${checked} relative links found: is the parser broken?`);
});

Deno.test("docs: every jsr.io API page linked names an export of mod.ts", () => {
  const missing: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (const link of links(read(file))) {
      const m = link.match(/^https:\/\/jsr\.io\/@lionpride\/core\/doc\/~\/([A-Za-z_$][\w$]*)$/);
      if (m === null) continue;
      checked++;
      if (!(m[1] in core)) missing.push(`${file}: ${link}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked >= 5, `only ${checked} API links found`);
});

Deno.test("docs: every repository file named in code spans exists", () => {
  const missing: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (
      const m of prose(read(file)).matchAll(/`((?:examples|bench|tests|docs|\.ci)\/[\w./-]+)`/g)
    ) {
      checked++;
      if (!exists(new URL(m[1], root))) missing.push(`${file}: ${m[1]}`);
    }
    // examples named by their file name alone ("`deploy_handler.ts`") live in examples/
    for (const m of read(file).matchAll(/`([a-z_]+\.(?:ts|mjs))`/g)) {
      if (exists(new URL(`examples/${m[1]}`, root)) || exists(new URL(m[1], root))) continue;
      if (/^[a-z_]+\.ts$/.test(m[1]) && exists(new URL(`bench/${m[1]}`, root))) continue;
      missing.push(`${file}: ${m[1]}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked >= 5, `only ${checked} file names found`);
});

Deno.test("docs: every `deno task` named exists in deno.json", () => {
  const tasks = Object.keys(JSON.parse(read("deno.json")).tasks);
  const missing: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (const m of read(file).matchAll(/deno task ([\w:-]+)/g)) {
      checked++;
      if (!tasks.includes(m[1])) missing.push(`${file}: deno task ${m[1]}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked >= 5);
});

Deno.test("docs: every bench/README.md section quoted by name exists", () => {
  const headings = [...read("bench/README.md").matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1]);
  const missing: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (const m of read(file).matchAll(/bench\/README\.md,\s*"([^"]+)"/g)) {
      checked++;
      const name = m[1].replace(/\s+/g, " "); // a quote may wrap across lines
      if (!headings.some((h) => h.startsWith(name))) missing.push(`${file}: "${name}"`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked >= 2);
});

// --- docs/alcall.md, docs/retry_after.md: which statuses are retried by default

Deno.test("docs/alcall.md: by default a status is retried only for 408, 409, 425, 429, 500, 502, 503 and 504, not any 5xx", async () => {
  const retried = [408, 409, 425, 429, 500, 502, 503, 504];
  const statuses = [...retried, 400, 404, 422, 501, 505, 507, 511];
  const calls = new Map<number, number>();
  await alcall(statuses, (status) => {
    calls.set(status, (calls.get(status) ?? 0) + 1);
    throw Object.assign(new Error(`HTTP ${status}`), { status });
  }, { retryAttempts: 1, returnExceptions: true });
  for (const status of statuses) {
    assert.equal(calls.get(status), retried.includes(status) ? 2 : 1, `status ${status}`);
  }
});

// --- docs/streaming.md: an array is copied by the alcall family, read as it goes by boundedMap

Deno.test("docs/streaming.md: alcall, bcall and alcallStream copy an array when the call starts; boundedMap reads it as it goes", async () => {
  const slow = async (x: number) => {
    await sleep(1);
    return x;
  };
  const mutate = (items: number[]) => {
    items.push(4);
    items[2] = 30;
  };
  let items = [1, 2, 3];
  const all = alcall(items, slow, { maxConcurrent: 1 });
  mutate(items);
  assert.deepEqual(await all, [1, 2, 3]);

  items = [1, 2, 3];
  const batches: number[] = [];
  for await (const batch of bcall(items, slow, { batchSize: 1 })) {
    batches.push(...batch);
    if (batches.length === 1) mutate(items);
  }
  assert.deepEqual(batches, [1, 2, 3]);

  items = [1, 2, 3];
  const streamed: number[] = [];
  for await (const x of alcallStream(items, slow, { maxConcurrent: 1 })) {
    streamed.push(x);
    if (streamed.length === 1) mutate(items);
  }
  assert.deepEqual(streamed, [1, 2, 3]);

  items = [1, 2, 3];
  const mapped = boundedMap(items, slow, { limit: 1 });
  mutate(items);
  assert.deepEqual(await mapped, [1, 2, 30, 4]);
});

// --- docs/streaming.md: alcallStream's buffer defaults to 64 when maxConcurrent is unlimited

Deno.test("docs/streaming.md: with unlimited maxConcurrent, alcallStream's buffer is 64 finished results", async () => {
  let started = 0;
  async function* numbers() {
    for (let i = 0; i < 1_000; i++) yield i;
  }
  const stream = alcallStream(numbers(), (x) => {
    started++;
    return x;
  });
  assert.deepEqual(await stream.next(), { value: 0, done: false });
  await sleep(10);
  // One result consumed, 64 waiting: the 66th item does not start.
  assert.equal(started, 65);
  await stream.return!();
});

// --- README.md tour 5: the breaker's defaults (one trial call after 60 s)

Deno.test("README.md: a CircuitBreaker opens after 5 failures, stays open 60 s, then lets one trial call through", async () => {
  await withFakeTime(async (clock) => {
    const breaker = new CircuitBreaker();
    const down = () => Promise.reject(new Error("down"));
    for (let i = 0; i < 4; i++) await breaker.call(down).catch(() => {});
    assert.equal(breaker.state, "closed");
    await breaker.call(down).catch(() => {});
    assert.equal(breaker.state, "open");
    await clock.tickAsync(59_999);
    await assert.rejects(breaker.call(() => "early"), CircuitOpenError);
    await clock.tickAsync(1);
    let release!: () => void;
    const trial = breaker.call(() => new Promise<string>((r) => release = () => r("trial")));
    await assert.rejects(breaker.call(() => "second"), CircuitOpenError);
    release();
    assert.equal(await trial, "trial");
    assert.equal(breaker.state, "closed");
  });
});

// --- API.md §7 (retry's defaults as docs/name_map.md gives them): maxDelay 2000

Deno.test("docs/name_map.md: retry's delay is capped at 2 000 ms by default", async () => {
  await withFakeTime(async (clock) => {
    const starts: number[] = [];
    const run = retry(() => {
      starts.push(Date.now());
      if (starts.length < 4) throw new Error("again");
      return "ok";
    }, { attempts: 4, baseDelay: 1_500, jitter: 0 });
    await clock.tickAsync(10_000);
    assert.equal(await run, "ok");
    // 1 500, then min(2 000, 3 000), then min(2 000, 6 000)
    assert.deepEqual(starts.slice(1).map((t, i) => t - starts[i]), [1_500, 2_000, 2_000]);
  });
});

// --- docs/retry_after.md: maxRetryAfter defaults to 60 000 ms, on retry and alcall

Deno.test("docs/retry_after.md: a retryAfter of exactly 60 000 ms is waited by default, one ms more is final", async () => {
  await withFakeTime(async (clock) => {
    for (const [hint, tries] of [[60_000, 2], [60_001, 1]]) {
      let calls = 0;
      const fail = () => {
        calls++;
        throw new RateLimitError("slow down", { retryAfter: hint });
      };
      const viaRetry = retry(fail, { attempts: 2, jitter: 0 }).catch((e) => e);
      await clock.tickAsync(70_000);
      assert.ok(await viaRetry instanceof RateLimitError);
      assert.equal(calls, tries, `retry, retryAfter ${hint}`);
      calls = 0;
      const viaAlcall = alcall([1], fail, { retryAttempts: 1, returnExceptions: true });
      await clock.tickAsync(70_000);
      assert.ok((await viaAlcall)[0] instanceof RateLimitError);
      assert.equal(calls, tries, `alcall, retryAfter ${hint}`);
    }
  });
});

// --- docs/rate_limits.md: the gradient's step is clamped below at half the estimate

Deno.test("docs/rate_limits.md: one slow sample moves the gradient's estimate towards estimate * 0.5 + 4 at the lowest", async () => {
  await withFakeTime(async (clock) => {
    const limiter = new AdaptiveLimiter({ initial: 20, algorithm: "gradient" });
    const flat = Array.from({ length: 20 }, () => limiter.use(() => sleep(10)));
    await clock.tickAsync(10);
    await Promise.all(flat);
    const before = limiter.statistics().estimate;
    const n = limiter.limit;
    // All n in use; the first to finish is 100× slower than the usual
    // latency: 1.5 * longRtt / shortRtt is far below 0.5.
    const slow = Array.from(
      { length: n },
      (_, i) => limiter.use(() => sleep(i === 0 ? 1_000 : 5_000)),
    );
    await clock.tickAsync(1_000);
    const after = limiter.statistics().estimate;
    assert.ok(
      Math.abs(after - (before * 0.8 + (before * 0.5 + 4) * 0.2)) < 1e-9,
      `${before} -> ${after}`,
    );
    await clock.tickAsync(4_000);
    await Promise.all(slow);
  });
});

// --- API.md §10 (AdaptiveLimiter's JSDoc): the default initial limit 10 is kept within [min, max]

Deno.test("AdaptiveLimiter's default initial limit is 10, kept within [min, max]", () => {
  assert.equal(new AdaptiveLimiter().statistics().estimate, 10);
  assert.equal(new AdaptiveLimiter({ min: 20, max: 30 }).statistics().estimate, 20);
  assert.equal(new AdaptiveLimiter({ max: 5 }).statistics().estimate, 5);
  assert.equal(new AdaptiveLimiter({ max: 5 }).limit, 5);
});

// --- docs/distributed.md: DistributedRateLimiter's burst defaults to limit

Deno.test("docs/distributed.md: a DistributedRateLimiter's burst defaults to its limit", async () => {
  await withMemoryKv(async (kv) => {
    const api = new DistributedRateLimiter(kvStore(kv), "burst-default", {
      limit: 3,
      period: 60_000,
    });
    const oks: boolean[] = [];
    for (let i = 0; i < 4; i++) oks.push((await api.tryAcquire()).ok);
    assert.deepEqual(oks, [true, true, true, false]);
  });
});

// --- docs/distributed.md: a KV round uses 3 checks, within Deno KV Connect's 10

/**
 * A Deno.Kv that records how many checks each committed atomic operation
 * carried (`counts`), and how many calls are on their way (`inFlight`).
 */
class CountingKv {
  readonly counts: number[] = [];
  reads = 0;
  inFlight = 0;
  constructor(readonly kv: Deno.Kv) {}

  #track<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    return p.finally(() => this.inFlight--);
  }

  get asKv(): Deno.Kv {
    const { kv } = this;
    return {
      getMany: (keys: Deno.KvKey[]) => {
        this.reads++;
        return this.#track(kv.getMany(keys));
      },
      get: (key: Deno.KvKey) => this.#track(kv.get(key)),
      set: (key: Deno.KvKey, value: unknown) => this.#track(kv.set(key, value)),
      atomic: () => {
        const op = kv.atomic();
        let checks = 0;
        const check = op.check.bind(op);
        const commit = op.commit.bind(op);
        op.check = (...entries) => {
          checks += entries.length;
          return check(...entries);
        };
        op.commit = () => {
          this.counts.push(checks);
          return this.#track(commit());
        };
        return op;
      },
    } as unknown as Deno.Kv;
  }

  /** Lets the real store answer everything asked (a fake clock stands still meanwhile). */
  async settle(): Promise<void> {
    for (let quiet = 0; quiet < 2;) {
      await new Promise((r) => realSetTimeout(r, 0));
      quiet = this.inFlight === 0 ? quiet + 1 : 0;
    }
  }

  /** `call`'s outcome, once the store has answered what it asked. */
  async answer<T>(call: Promise<T>): Promise<T> {
    await this.settle();
    return await call;
  }
}

/** Runs `fn` on a fake clock over a counting in-memory KV. */
function onFakeClock(fn: (counting: CountingKv, clock: FakeClock) => Promise<void>) {
  return withMemoryKv((kv) => withFakeTime((clock) => fn(new CountingKv(kv), clock)));
}

Deno.test("docs/distributed.md: a KV lease round commits 3 checks, and no KV commit more than 10", async () => {
  await withMemoryKv(async (kv) => {
    const counting = new CountingKv(kv);
    const rounds = counting.counts;
    const store = kvStore(counting.asKv);
    const a = new DistributedLimiter(store, "checks", { limit: 1, pollInterval: 5 });
    const b = new DistributedLimiter(store, "checks", { limit: 1, pollInterval: 5 });
    const held = await a.acquire();
    const waiting = b.acquire(); // another process waits: its turn is written too
    await sleep(20);
    assert.equal(await a.tryAcquire(), undefined);
    await held.release();
    await (await waiting).release();
    assert.ok(rounds.length >= 3);
    assert.equal(Math.max(...rounds), 3, `checks per lease round: ${rounds}`);

    const sharing = new CountingKv(kv);
    const others = sharing.counts;
    const shared = kvStore(sharing.asKv);
    const rate = new DistributedRateLimiter(shared, "checks", { limit: 10, period: 1_000 });
    await rate.tryAcquire();
    await rate.acquire();
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      resetTimeout: 10,
      shared: { store: shared, name: "checks", syncInterval: 5 },
    });
    await breaker.call(() => Promise.reject(new Error("down"))).catch(() => {});
    await sleep(15);
    await breaker.call(() => "probe");
    assert.ok(others.length >= 3);
    assert.ok(Math.max(...others) <= 10, `checks per commit: ${others}`);
  });
});

// --- docs/alcall.md: an attempt that ignores ctx.signal is left behind one turn after its budget

Deno.test("docs/alcall.md: an attempt that ignores ctx.signal is left behind a turn after attemptTimeout, and keeps running outside maxConcurrent", async () => {
  await withFakeTime(async (clock) => {
    const starts: string[] = [];
    let running = 0, peak = 0;
    // A raw timer: neither ctx.signal nor the ambient scope can stop it.
    const deaf = <T>(ms: number, value: T) =>
      new Promise<T>((resolve) => setTimeout(() => resolve(value), ms)).finally(() => running--);
    const results = alcall([0, 1], (item, ctx) => {
      starts.push(`item ${item} attempt ${ctx.attempt} at ${Date.now()}`);
      peak = Math.max(peak, ++running);
      return deaf(item === 0 && ctx.attempt === 1 ? 1_000 : 1, `ok ${item}`);
    }, { maxConcurrent: 1, attemptTimeout: 10, retryAttempts: 1 });
    await clock.tickAsync(2_000);
    assert.deepEqual(await results, ["ok 0", "ok 1"]);
    // The deadline fires at 10; the retry starts one macrotask turn later
    // (a timer of 0 ms, which the fake clock runs 1 ms on), not at 1 000.
    assert.deepEqual(starts, [
      "item 0 attempt 1 at 0",
      "item 0 attempt 2 at 11",
      "item 1 attempt 1 at 12",
    ]);
    assert.equal(peak, 2, "the abandoned attempt ran beside the next item");
  });
});

// --- docs/distributed.md: a name is 1-128 characters of A-Z a-z 0-9 _ . : -

Deno.test("docs/distributed.md: a name may be 1-128 characters of A-Z a-z 0-9 _ . : -, nothing else", async () => {
  await withMemoryKv((kv) => {
    const store = kvStore(kv);
    const name = (n: string) => () => new DistributedLimiter(store, n, { limit: 1 });
    const rate = (n: string) => () =>
      new DistributedRateLimiter(store, n, { limit: 1, period: 1_000 });
    const every = "AZaz09_.:-";
    for (const ok of [every, "x", every.repeat(13).slice(0, 128)]) {
      name(ok)();
      rate(ok)();
    }
    for (const bad of ["", "x".repeat(129), "a b", "a/b", "a{b}", "é", "a\n"]) {
      assert.throws(name(bad), { name: "RangeError", message: /'name' must be 1-128 characters/ });
      assert.throws(rate(bad), { name: "RangeError", message: /'name' must be 1-128 characters/ });
    }
    return Promise.resolve();
  });
});

// --- docs/distributed.md: a holder renews every heartbeat, leaseTtl / 3 by default

Deno.test("docs/distributed.md: held leases are renewed every leaseTtl / 3 by default, those granted together in one round trip", async () => {
  await onFakeClock(async (counting, clock) => {
    const limiter = new DistributedLimiter(kvStore(counting.asKv), "heartbeat", {
      limit: 2,
      leaseTtl: 3_000,
    });
    // Granted at the same moment (of the fake clock), so due together.
    const permits = await counting.answer(Promise.all([limiter.acquire(), limiter.acquire()]));
    const grants = counting.counts.length;
    await advanceByTimers(clock, 3_500, () => counting.settle());
    // Renewals at 1 000, 2 000 and 3 000 ms: one commit each, for both leases.
    assert.equal(counting.counts.length - grants, 3);
    assert.ok(permits.every((permit) => !permit.signal.aborted));
    await counting.answer(Promise.all(permits.map((permit) => permit.release())));
  });
});

// --- docs/distributed.md: a waiting process polls every 50 ms on KV by default, jittered

Deno.test("docs/distributed.md: on KV a waiting process polls about every 50 ms by default", async () => {
  await onFakeClock(async (counting, clock) => {
    const store = kvStore(counting.asKv);
    const holder = new DistributedLimiter(store, "poll", { limit: 1 });
    const waiter = new DistributedLimiter(store, "poll", { limit: 1 });
    const permit = await counting.answer(holder.acquire());
    const waiting = waiter.acquire();
    await advanceByTimers(clock, 100, () => counting.settle());
    const reads = counting.reads;
    await advanceByTimers(clock, 1_000, () => counting.settle());
    // Gaps of 25-75 ms (50 ms ± 50 %): about 20 polls a second.
    const polls = counting.reads - reads;
    assert.ok(polls >= 15 && polls <= 27, `${polls} polls in 1 s`);
    const releasing = permit.release();
    await advanceByTimers(clock, 100, () => counting.settle());
    await releasing;
    await counting.answer((await waiting).release());
  });
});

// --- docs/distributed.md: a shared breaker reads the store at most once per syncInterval, 1 s by default

Deno.test("docs/distributed.md: a shared breaker adopts another process's open state after syncInterval, 1 s by default", async () => {
  await onFakeClock(async (counting, clock) => {
    const shared = { store: kvStore(counting.asKv), name: "sync-default" };
    const options = { failureThreshold: 1, resetTimeout: 60_000, shared };
    const here = new CircuitBreaker(options), elsewhere = new CircuitBreaker(options);
    const call = (breaker: CircuitBreaker, value: string) =>
      counting.answer(breaker.call(() => value).catch((err) => err));
    assert.equal(await call(elsewhere, "before"), "before"); // reads the store now
    await counting.answer(here.call(() => Promise.reject(new Error("down"))).catch(() => {}));
    assert.equal(here.state, "open");
    await clock.tickAsync(999);
    assert.equal(await call(elsewhere, "not yet read"), "not yet read");
    await clock.tickAsync(1);
    assert.ok(await call(elsewhere, "read") instanceof CircuitOpenError);
  });
});

// --- docs/rate_limits.md: a default burst is fixed at construction

Deno.test("docs/rate_limits.md: changing limit leaves a default burst as constructed", () => {
  const limiter = new RateLimiter({ limit: 5, period: 1_000 });
  limiter.limit = 10;
  assert.equal(limiter.burst, 5);
  for (let i = 0; i < 5; i++) assert.equal(limiter.tryAcquire(), true);
  assert.equal(limiter.tryAcquire(), false);
  limiter.limit = 2;
  assert.equal(limiter.burst, 5);
});
