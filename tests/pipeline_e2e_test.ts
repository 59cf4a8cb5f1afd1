// Copyright 2026 the @lionpride/core authors. MIT license.
// End-to-end tests of examples/resilient_pipeline.ts against its real flaky
// HTTP server on 127.0.0.1: the books balance, runs are a function of the
// seed, injected faults (connection resets, trickled bodies) lose no item,
// and an interruption (stop signal or a real SIGINT) leaves nothing running.
import assert from "node:assert/strict";
import {
  type FaultMode,
  type ItemEvent,
  parseArgs,
  type PipelineResult,
  runPipeline,
} from "../examples/resilient_pipeline.ts";
import { within } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url);
const SCRIPT = new URL("../examples/resilient_pipeline.ts", import.meta.url).pathname;

/** Short latency and timeout, so a run of 100 items takes about a second. */
const FAST = ["--latency", "20", "--call-timeout", "300"];
const SEED_1 = ["--items", "100", "--seed", "1", "--json", ...FAST];
/**
 * For runs whose exact counts are checked: every answer takes at most 30 ms,
 * and the call timeout leaves 2 s for it, so only the seeded hangs time out.
 * With FAST's 300 ms, a loaded machine that stalled a process for ~300 ms
 * timed out calls that were not meant to (one more retry, or a burst of
 * timeouts that opened the breaker), and the books differed by timing.
 */
const STEADY = ["--latency", "20", "--call-timeout", "2000"];
const STEADY_SEED_1 = ["--items", "100", "--seed", "1", "--json", ...STEADY];

const quiet = (): void => {};

/**
 * Starts the pipeline's CLI in a fresh Deno process, killed if it runs past
 * `ms`: a bound against a hang, far above a run's few seconds even on a
 * loaded machine.
 */
function spawnPipeline(args: string[], ms = 25_000): Deno.ChildProcess {
  const killer = new AbortController();
  const timer = setTimeout(() => killer.abort(), ms);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", "--unstable-no-legacy-abort", SCRIPT, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: killer.signal,
  }).spawn();
  child.status.finally(() => clearTimeout(timer));
  return child;
}

/** Runs the CLI to its end and parses the JSON it prints. */
async function runCli(args: string[], code = 0): Promise<PipelineResult> {
  const out = await runCliText(args);
  assert.equal(out.code, code, `the pipeline exited with ${out.code}: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** Runs the CLI to its end: exit code, stdout and stderr. */
async function runCliText(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await spawnPipeline(args).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Records every step of every item, to account for each one. */
function ledger(): {
  onItem: (id: number, event: ItemEvent) => void;
  events: Map<number, ItemEvent[]>;
} {
  const events = new Map<number, ItemEvent[]>();
  return {
    events,
    onItem: (id, event) => events.set(id, [...events.get(id) ?? [], event]),
  };
}

/** The only histories an item may have; an interrupted run may stop one after "fetched". */
const COMPLETE = ["fetch_failed", "fetched,processed,stored", "fetched,processed,store_failed"];

/** Checks the books of `r` against each other and, if given, against a per-item ledger. */
function assertBooks(r: PipelineResult, total: number, events?: Map<number, ItemEvent[]>): void {
  assert.equal(r.metrics.total_items, total);
  assert.equal(r.fetched + r.fetch_failures + r.not_fetched, total, "fetch books");
  assert.equal(r.processed + r.unprocessed, r.fetched, "process books");
  assert.equal(r.stored + r.storage_errors, r.processed, "store books");
  for (const n of [r.fetched, r.fetch_failures, r.not_fetched, r.processed, r.unprocessed]) {
    assert.ok(Number.isInteger(n) && n >= 0, `a count is ${n}`);
  }
  if (r.status === "interrupted") {
    assert.ok(r.fetched + r.fetch_failures <= total);
  } else {
    assert.equal(r.not_fetched, 0, "a finished run fetched or failed every item");
    assert.equal(r.unprocessed, 0, "a finished run processed every fetched item");
    const partial = r.fetch_failures > 0 || r.storage_errors > 0;
    const none = total > 0 && r.stored === 0;
    assert.equal(r.status, none ? "failure" : partial ? "partial_success" : "success");
  }
  // Every item that failed for good has exactly one reason (fetch reasons are
  // counted once the fetch stage has finished).
  const reasons = Object.values(r.failure_reasons).reduce((a, b) => a + b, 0);
  assert.equal(r.failure_reasons.store_error ?? 0, r.storage_errors);
  assert.equal(
    reasons - r.storage_errors,
    r.status === "interrupted" ? 0 : r.fetch_failures,
    JSON.stringify(r.failure_reasons),
  );
  if (events === undefined) return;
  const tally = new Map<string, number>();
  for (const [id, history] of events) {
    assert.ok(Number.isInteger(id) && id >= 0 && id < total, `unknown item ${id}`);
    const h = history.join();
    const allowed = r.status === "interrupted" ? [...COMPLETE, "fetched"] : COMPLETE;
    assert.ok(allowed.includes(h), `item ${id} went through ${h}`);
    tally.set(h, (tally.get(h) ?? 0) + 1);
  }
  const count = (...histories: string[]): number =>
    histories.reduce((sum, h) => sum + (tally.get(h) ?? 0), 0);
  assert.equal(count(...COMPLETE.slice(1), "fetched"), r.fetched);
  assert.equal(count(...COMPLETE.slice(1)), r.processed);
  assert.equal(count("fetched,processed,stored"), r.stored);
  assert.equal(count("fetched,processed,store_failed"), r.storage_errors);
  if (r.status !== "interrupted") {
    // Failures are only reported per item once the fetch stage has finished.
    assert.equal(count("fetch_failed"), r.fetch_failures);
    assert.equal(events.size, total, "every item is accounted for");
  }
}

/** The parts of a result that must be a function of the options and the seed. */
function books(r: PipelineResult): Record<string, unknown> {
  const { status, fetched, fetch_failures, processed, stored, storage_errors, retries } = r;
  return { status, fetched, fetch_failures, processed, stored, storage_errors, retries };
}

// ------------------------------------------------------------------ plain runs

Deno.test("the pipeline run with --items 100 --seed 1 --json balances its books", async () => {
  const r = await runCli(STEADY_SEED_1);
  assertBooks(r, 100);
  assert.ok(r.retries > 0, "the flaky upstream made the pipeline retry");
  // With no breaker open, every attempt (first tries and retries) reached the upstream once.
  assert.equal(r.breaker_opened, 0);
  assert.equal(r.upstream.requests, 100 + r.retries);
  assert.ok(
    r.max_db_connections > 1,
    `the DB limiter was never contended: ${r.max_db_connections}`,
  );
  assert.ok(r.max_db_connections <= 5, `more than 5 DB connections: ${r.max_db_connections}`);
  assert.ok(r.storage_errors > 0, "seed 1 has storage failures");
  assert.equal(r.status, "partial_success");
  assert.ok(r.upstream.aborts > 0, "the hanging requests saw their callers give up");
});

Deno.test("the same seed gives the same books, from the CLI and from runPipeline", async () => {
  // Seed 1 opens no breaker (the one timing-dependent part), so its books are fixed.
  const fromCli = await runCli(STEADY_SEED_1);
  const first = ledger();
  // A 1 s stall of this process mid-run, as a loaded machine may cause, changes nothing.
  const stall = setTimeout(() => {
    for (const end = performance.now() + 1_000; performance.now() < end;);
  }, 250);
  let direct: PipelineResult;
  try {
    direct = await runPipeline({ ...parseArgs(STEADY_SEED_1), onItem: first.onItem }, quiet);
  } finally {
    clearTimeout(stall);
  }
  assertBooks(direct, 100, first.events);
  assert.equal(fromCli.breaker_opened, 0);
  assert.equal(direct.breaker_opened, 0);
  assert.deepEqual(books(direct), books(fromCli));
  assert.deepEqual(direct.upstream, fromCli.upstream);
});

Deno.test("another seed gives other failures", async () => {
  const failedStores = async (seed: string): Promise<number[]> => {
    const { onItem, events } = ledger();
    const r = await runPipeline({ ...parseArgs([...SEED_1, "--seed", seed]), onItem }, quiet);
    assertBooks(r, 100, events);
    return [...events].filter(([, h]) => h.includes("store_failed")).map(([id]) => id).sort();
  };
  const [one, two] = await Promise.all([failedStores("1"), failedStores("2")]);
  assert.ok(one.length > 0 && two.length > 0);
  assert.notDeepEqual(one, two);
});

Deno.test("back-pressure from a full queue is never mistaken for a slow upstream", async () => {
  // A fast, reliable upstream outpaces processing, so fetched items wait for
  // queue room longer than a call may take: that wait must not time the item
  // out and refetch it (which once counted items as fetched twice).
  const { onItem, events } = ledger();
  const r = await runPipeline({
    ...parseArgs([
      ...["--items", "200", "--seed", "5", "--failure-rate", "0", "--hang-rate", "0"],
      ...["--latency", "1", "--call-timeout", "30"],
    ]),
    onItem,
  }, quiet);
  assertBooks(r, 200, events);
});

// ------------------------------------------------------------------ fault injection

/**
 * Runs seed 1 with `mode`'s fault on a fifth of the requests, checks the books
 * item by item, and that every injected fault was a failed attempt: retried,
 * or the item's final failure.
 */
async function runWithFaults(mode: FaultMode): Promise<PipelineResult> {
  const { onItem, events } = ledger();
  const r = await runPipeline(
    { ...parseArgs([...SEED_1, "--fault-mode", mode, "--fault-rate", "0.2"]), onItem },
    quiet,
  );
  assertBooks(r, 100, events);
  assert.ok(r.upstream.faults >= 10, `only ${r.upstream.faults} faults were injected`);
  assert.ok(r.retries + r.fetch_failures >= r.upstream.faults);
  return r;
}

Deno.test("an upstream that resets connections or answers garbage loses no item", async () => {
  await runWithFaults("reset");
});

Deno.test("an upstream that trickles its body past the call timeout loses no item", async () => {
  // The timeout covers the body: a trickled body is a failed attempt, never a
  // slow success (runWithFaults checks that each fault failed an attempt; with
  // the body read outside the timeout it fails). No wall-time bound: a run takes
  // ~2.3 s, and a loaded machine may take longer without anything being wrong.
  const r = await runWithFaults("slow-body");
  // And the upstream saw every trickle abandoned (plus the hangs) before it shut down.
  assert.ok(r.upstream.aborts >= r.upstream.faults, `aborts ${r.upstream.aborts}`);
});

// ------------------------------------------------------------------ interruption

Deno.test("a stop signal mid-run ends it as interrupted, with balanced books", async () => {
  const stop = new AbortController();
  const { onItem, events } = ledger();
  let fetched = 0;
  let stoppedAt = 0;
  const r = await within(
    runPipeline(
      {
        ...parseArgs(["--items", "300", "--seed", "3", ...FAST]),
        onItem: (id, event) => {
          onItem(id, event);
          if (event === "fetched" && ++fetched === 30) {
            stoppedAt = performance.now();
            stop.abort();
          }
        },
      },
      quiet,
      stop.signal,
    ),
    5_000,
    "the interrupted pipeline",
  );
  const exit = performance.now() - stoppedAt;
  assert.ok(stoppedAt > 0, "the run never reached 30 fetched items");
  assert.equal(r.status, "interrupted");
  assertBooks(r, 300, events);
  assert.ok(r.fetched >= 30);
  assert.ok(r.not_fetched > 0, "the stop came before every item was fetched");
  assert.ok(exit < 1_500, `the pipeline took ${exit.toFixed(0)} ms to stop`);
  // The sanitizers check that no timer, fetch or server outlived the run.
});

Deno.test("a real SIGINT stops the CLI, which prints balanced books of what was done", async () => {
  const child = spawnPipeline(["--items", "300", "--seed", "4", "--latency", "50"]);
  const stderr = new Response(child.stderr).text();
  const decoder = new TextDecoder();
  let stdout = "";
  const reader = child.stdout.getReader();
  const read = async (): Promise<boolean> => {
    const { value, done } = await reader.read();
    if (!done) stdout += decoder.decode(value, { stream: true });
    return !done;
  };
  // The banner comes after the SIGINT handler is installed.
  while (!stdout.includes("resilient pipeline:") && await read());
  if (!stdout.includes("resilient pipeline:")) {
    assert.fail(`the CLI ended before its banner: ${stdout}${await stderr}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill("SIGINT");
  while (await read());
  const status = await child.status;
  assert.equal(status.code, 130, `exited with ${status.code}: ${await stderr}`);
  assert.equal(await stderr, "");
  const summary = /^\{\n[\s\S]*?\n\}$/m.exec(stdout);
  assert.ok(summary, `no summary in:\n${stdout}`);
  const r = JSON.parse(summary[0]);
  assert.equal(r.status, "interrupted");
  assert.ok(r.not_fetched > 0, "the run was stopped before it fetched everything");
  assert.equal(r.fetched + r.fetch_failures + r.not_fetched, 300);
  assert.equal(r.processed + r.unprocessed, r.fetched);
  assert.equal(r.stored + r.storage_errors, r.processed);
});

// ------------------------------------------------------------------ the CLI tells the truth

Deno.test("--help prints the usage and exits 0", async () => {
  const out = await runCliText(["--help"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^Usage: /);
  assert.match(out.stdout, /--items N/);
  assert.match(out.stdout, /130 when interrupted/);
  assert.equal(out.stderr, "");
});

Deno.test("an unknown option is a one-line error and exit code 2, not a stack trace", async () => {
  const out = await runCliText(["--itmes", "5"]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /^error: unknown option --itmes\n/);
  assert.doesNotMatch(out.stderr, /\bat \S+:\d+/, "no stack trace");
  const bad = await runCliText(["--items", "2.5"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--items needs a whole number, received 2.5/);
});

Deno.test("an upstream that always fails ends in failure, every item counted by its reason", async () => {
  const r = await runCli(
    ["--items", "30", "--seed", "1", "--json", "--failure-rate", "1", "--hang-rate", "0", ...FAST],
    1,
  );
  assert.equal(r.status, "failure");
  assertBooks(r, 30);
  assert.equal(r.fetch_failures, 30);
  // The first failures are 5xx; once the breaker opens, the rest fail fast.
  assert.equal((r.failure_reasons["5xx"] ?? 0) + (r.failure_reasons.circuit_open ?? 0), 30);
  assert.ok((r.attempt_failures["5xx"] ?? 0) > 0, JSON.stringify(r.attempt_failures));
});

Deno.test("failure reasons name timeouts and 5xx apart", async () => {
  const r = await runPipeline(
    parseArgs([
      "--items",
      "60",
      "--seed",
      "2",
      "--hang-rate",
      "0.5",
      "--failure-rate",
      "0.3",
      ...FAST,
    ]),
    quiet,
  );
  assertBooks(r, 60);
  assert.ok((r.attempt_failures.timeout ?? 0) > 0, JSON.stringify(r.attempt_failures));
  assert.ok((r.attempt_failures["5xx"] ?? 0) > 0, JSON.stringify(r.attempt_failures));
  for (const reason of Object.keys(r.attempt_failures)) {
    assert.ok(["5xx", "timeout", "circuit_open"].includes(reason), `unexpected reason ${reason}`);
  }
});

Deno.test("--items 0 is a success with nothing to do, and no speed-up claim", async () => {
  const out = await runCliText(["--items", "0", ...FAST]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /"status": "success"/);
  assert.match(out.stdout, /No items: nothing to do\./);
  assert.doesNotMatch(out.stdout, /x longer/);
  assert.doesNotMatch(out.stdout, /NaN|Infinity/);
});

Deno.test("the progress ends at the final counts, and every number printed is rounded", async () => {
  const out = await runCliText(["--items", "100", "--seed", "1", ...FAST]);
  assert.equal(out.code, 0, out.stderr);
  const progress = out.stdout.split("\n").filter((l) => l.startsWith("fetch "));
  const summary = JSON.parse(/^\{\n[\s\S]*?\n\}$/m.exec(out.stdout)![0]);
  assert.equal(
    progress.at(-1),
    `fetch 100/100 (running 0, retries ${progress.at(-1)!.match(/retries (\d+)/)![1]}) | ` +
      `processed ${summary.processed} | stored ${summary.stored}`,
  );
  for (const n of out.stdout.match(/\d+\.\d+/g) ?? []) {
    assert.ok(n.split(".")[1].length <= 2, `${n} is not rounded`);
  }
  const json = await runCli(SEED_1);
  for (const n of [json.sequential_sec, ...Object.values(json.metrics)]) {
    assert.equal(Math.round(n * 100) / 100, n, `${n} is not rounded`);
  }
});
