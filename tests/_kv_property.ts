// Copyright 2026 the @lionpride/core authors. MIT license.
// Test helper: fast-check properties of the KV store on a fake clock.
import fc from "fast-check";
import { type FakeClock, withFakeTime } from "./_fake_time.ts";
import { withMemoryKv } from "./_distributed.ts";

/**
 * Checks a fast-check property `numRuns` times on one in-memory KV and a
 * fake clock, each run under a fresh name (`prefix` and the run's number).
 */
export async function kvPropertyOnFakeClock<T>(
  numRuns: number,
  prefix: string,
  arbitrary: fc.Arbitrary<T>,
  run: (clock: FakeClock, kv: Deno.Kv, name: string, value: T) => Promise<void>,
): Promise<void> {
  await withMemoryKv(async (kv) => {
    let runs = 0;
    await withFakeTime(async (clock) => {
      await fc.assert(
        fc.asyncProperty(arbitrary, (value) => run(clock, kv, `${prefix}${runs++}`, value)),
        { numRuns },
      );
    });
  });
}

/**
 * {@linkcode kvPropertyOnFakeClock} for a limiter driven by random steps: each
 * run draws a limit of 1-3 and `minLength`-`maxLength` steps of `step`.
 */
export function kvLimiterProperty<S>(
  numRuns: number,
  prefix: string,
  step: fc.Arbitrary<S>,
  lengths: { minLength: number; maxLength: number },
  run: (clock: FakeClock, kv: Deno.Kv, name: string, limit: number, steps: S[]) => Promise<void>,
): Promise<void> {
  return kvPropertyOnFakeClock(
    numRuns,
    prefix,
    fc.tuple(fc.integer({ min: 1, max: 3 }), fc.array(step, lengths)),
    (clock, kv, name, [limit, steps]) => run(clock, kv, name, limit, steps),
  );
}
