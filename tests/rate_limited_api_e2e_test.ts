// Copyright 2026 the @lionpride/core authors. MIT license.
// End-to-end test of examples/rate_limited_api.ts: its CLI in a fresh Deno
// process against the real mock API on 127.0.0.1, kept small (a few seconds).
import assert from "node:assert/strict";
import { parseArgs, sparkline } from "../examples/rate_limited_api.ts";

const ROOT = new URL("..", import.meta.url);
const SCRIPT = new URL("../examples/rate_limited_api.ts", import.meta.url).pathname;

/** Runs the CLI, killed if it runs past 20 s. */
async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const killer = new AbortController();
  const timer = setTimeout(() => killer.abort(), 20_000);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", SCRIPT, ...args],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: killer.signal,
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("the example finds a server's undisclosed capacity: every item done, few 429s", async () => {
  const out = await runCli(["--items", "300", "--capacity", "8", "--rate", "1000", "--json"]);
  assert.equal(out.code, 0, out.stderr);
  const result = JSON.parse(out.stdout);
  assert.equal(result.succeeded, 300);
  assert.equal(result.failed, 0);
  assert.ok(result.finalLimit >= 5 && result.finalLimit <= 10, `final limit ${result.finalLimit}`);
  assert.ok(result.share429 < 0.2, `429 share ${result.share429}`);
  assert.ok(result.limits.length > 0);
  assert.equal(result.requests, result.succeeded + result.status429);
});

Deno.test("the example prints a sparkline, goodput, 429 count and wall time", async () => {
  const out = await runCli(["--items", "100", "--capacity", "20", "--rate", "400", "--seed", "3"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /limit over [\d.]+ s/);
  assert.match(out.stdout, /[▁▂▃▄▅▆▇█]+/);
  assert.match(out.stdout, /goodput [\d.]+ items\/s; requests \d+, 429s \d+/);
  assert.match(out.stdout, /items 100: 100 ok, 0 failed, in [\d.]+ s/);
});

Deno.test("--help prints the flags and bad flags are refused", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  for (const flag of ["--items", "--capacity", "--rate", "--seed", "--json"]) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  assert.throws(() => parseArgs(["--items", "0"]), /--items needs a number >= 1, received 0/);
  assert.throws(() => parseArgs(["--frobnicate"]), /Unknown flag/);
  assert.deepEqual(parseArgs(["--rate=50"])?.rate, 50);
});

Deno.test("sparkline scales values to eight bar heights", () => {
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
  assert.equal(sparkline([3, 3]), "▁▁");
  assert.equal(sparkline([]), "");
  assert.equal(sparkline(Array.from({ length: 100 }, (_, i) => i), 10).length, 10);
});
