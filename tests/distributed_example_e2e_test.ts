// Copyright 2026 the @lionpride/core authors. MIT license.
// End-to-end test of examples/distributed_limit.ts, run as users run it: four
// worker processes share one limit of 5 on a real KV file and on a real
// redis-server, one worker is SIGKILLed mid-lease, and the report it prints
// must show the limit held and the killed worker's slots coming back.
import assert from "node:assert/strict";
import { redisAvailable, RedisServer } from "./_distributed.ts";

const ROOT = new URL("..", import.meta.url);
const SCRIPT = new URL("../examples/distributed_limit.ts", import.meta.url).pathname;
/** The example's lease time-to-live. */
const LEASE_TTL = 1_500;

/** Runs the example to its end (killed past 25 s, above its own 15 s cap) and returns its output. */
async function runExample(env: Record<string, string> = {}): Promise<string> {
  const killer = new AbortController();
  const timer = setTimeout(() => killer.abort(), 25_000);
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--unstable-kv", "-A", SCRIPT],
      cwd: ROOT,
      env,
      stdin: "null",
      signal: killer.signal,
    }).output();
    const text = new TextDecoder().decode(stdout);
    assert.equal(
      code,
      0,
      `the example exited with ${code}:\n${text}\n${new TextDecoder().decode(stderr)}`,
    );
    return text;
  } finally {
    clearTimeout(timer);
  }
}

/** Checks the report: every worker served, the limit held, the victim's slots came back. */
function checkReport(text: string): void {
  const workers = [
    ...text.matchAll(
      /^worker (\d)( \(SIGKILLed\))?: (\d+) requests served, peak (\d+) in flight$/gm,
    ),
  ];
  assert.equal(workers.length, 4, text);
  for (const [, , , served, peak] of workers) {
    assert.ok(Number(served) > 0 && Number(peak) >= 1 && Number(peak) <= 5, text);
  }
  assert.deepEqual(workers.filter((w) => w[2] !== undefined).map((w) => w[1]), ["3"], text);
  const peak = /^global peak in flight: (\d+) \(limit 5\)$/m.exec(text);
  assert.ok(peak !== null && Number(peak[1]) >= 1 && Number(peak[1]) <= 5, text);
  const back = /5 requests were in flight again (\d+) ms later/.exec(text);
  assert.ok(back !== null, `the killed worker's slots did not come back within the run:\n${text}`);
  // Its leases expire within leaseTtl; a waiter elsewhere takes the slot at its
  // next poll, and a loaded machine adds its stalls: a loose ceiling. The dead
  // worker renewed them every leaseTtl / 3, so they had most of leaseTtl left
  // when it died, and until they expire no fifth request may start: a floor,
  // lowered for a renewal a loaded machine delayed.
  const ms = Number(back[1]);
  assert.ok(ms >= LEASE_TTL / 3 && ms <= LEASE_TTL + 2_000, text);
}

Deno.test("examples/distributed_limit.ts on a KV file: the limit holds and a killed worker's slots come back", async () => {
  checkReport(await runExample());
});

Deno.test({
  name:
    "examples/distributed_limit.ts on Redis: the limit holds and a killed worker's slots come back",
  ignore: !redisAvailable,
  async fn() {
    const server = new RedisServer();
    await server.start();
    try {
      const text = await runExample({ REDIS_URL: server.url });
      assert.match(text, new RegExp(`^store: Redis at ${server.url}$`, "m"));
      checkReport(text);
    } finally {
      await server.stop();
    }
  },
});
