// Copyright 2026 the @lionpride/core authors. MIT license.
// Property: alcallStream, in input order and in completion order, yields
// exactly what alcall returns, for random scripts of successes, failures and
// hangs (fake time).
import assert from "node:assert/strict";
import fc from "fast-check";
import { alcall, alcallStream, ExceptionGroup, sleep } from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";

type Step = { kind: "ok" | "fail" | "hang"; ms: number };

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom<Step["kind"]>("ok", "ok", "fail", "hang"),
  ms: fc.integer({ min: 0, max: 20 }),
});
const optsArb = fc.record({
  maxConcurrent: fc.integer({ min: 1, max: 4 }),
  returnExceptions: fc.boolean(),
  retryAttempts: fc.integer({ min: 0, max: 1 }),
  // At least the input: a smaller buffer holds starts back, which changes the timing (tested apart).
  buffer: fc.integer({ min: 8, max: 16 }),
});

type Opts = typeof optsArb extends fc.Arbitrary<infer O> ? O : never;

/** What a call ends with, comparable across alcall and alcallStream. */
type Outcome = { values: string[] } | { failures: string[] };

const show = (v: unknown): string => v instanceof Error ? `${v.name}: ${v.message}` : String(v);

function itemFn(script: Step[]) {
  return async (i: number, ctx: { signal: AbortSignal }): Promise<string> => {
    const step = script[i];
    await sleep(step.ms, { signal: ctx.signal });
    if (step.kind === "fail") throw new Error(`fail ${i}`);
    if (step.kind === "hang") await sleep(Infinity, { signal: ctx.signal });
    return `ok ${i}`;
  };
}

function outcomeOf(run: () => Promise<string[]>): Promise<Outcome> {
  return run().then(
    (values) => ({ values }),
    (err) => {
      assert.ok(err instanceof ExceptionGroup, show(err));
      return { failures: err.exceptions.map(show) };
    },
  );
}

async function drive(run: () => Promise<string[]>): Promise<Outcome> {
  let result: Outcome | undefined;
  await withFakeTime(async (clock) => {
    const p = outcomeOf(run);
    await clock.tickAsync(1_000);
    result = await p;
  });
  return result!;
}

async function check(script: Step[], o: Opts) {
  const input = script.map((_, i) => i);
  const options = {
    maxConcurrent: o.maxConcurrent,
    returnExceptions: o.returnExceptions,
    retryAttempts: o.retryAttempts,
    attemptTimeout: 50,
  };
  const fn = itemFn(script);
  const expected = await drive(async () => (await alcall(input, fn, options)).map(show));
  for (const ordered of [true, false]) {
    const got = await drive(async () => {
      const out: string[] = [];
      for await (const v of alcallStream(input, fn, { ...options, ordered, buffer: o.buffer })) {
        out.push(show(v));
      }
      return out;
    });
    if ("values" in expected && "values" in got && !ordered) {
      assert.deepEqual(got.values.toSorted(), expected.values.toSorted());
    } else if ("failures" in expected && "failures" in got) {
      assert.deepEqual(got.failures.toSorted(), expected.failures.toSorted());
    } else {
      assert.deepEqual(got, expected, `ordered: ${ordered}`);
    }
  }
}

Deno.test("alcallStream property: both orders yield what alcall returns, for random scripts", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { maxLength: 8 }), optsArb, check),
    { numRuns: 150 },
  );
});
