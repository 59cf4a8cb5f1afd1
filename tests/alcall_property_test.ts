// Copyright 2026 the @lionpride/core authors. MIT license.
// Property test: random per-item failure scripts × random options, on fake
// time. Each run checks the results against what the scripts imply, that the
// books balance, and that nothing runs after alcall settles.
import assert from "node:assert/strict";
import fc from "fast-check";
import { alcall, type AlcallProgress, ExceptionGroup, TimeoutError } from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";

/** What an item does on each attempt. `duration` 0 means synchronously. */
type Script =
  | { kind: "ok"; failTimes: number; duration: number } // fail failTimes attempts, then succeed
  | { kind: "always"; duration: number } // every attempt fails
  | { kind: "hang" }; // every attempt waits until its signal aborts

interface Opts {
  maxConcurrent: number | undefined;
  retryAttempts: number;
  retryInitialDelay: number;
  hasDefault: boolean;
  returnExceptions: boolean;
  attemptTimeout: number | undefined;
  throttlePeriod: number;
}

const duration = fc.constantFrom(0, 5, 10, 30);
const scriptArb: fc.Arbitrary<Script> = fc.oneof(
  fc.record({
    kind: fc.constant("ok" as const),
    failTimes: fc.integer({ min: 0, max: 4 }),
    duration,
  }),
  fc.record({ kind: fc.constant("always" as const), duration }),
  fc.record({ kind: fc.constant("hang" as const) }),
);
const optsArb: fc.Arbitrary<Opts> = fc.record({
  maxConcurrent: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  retryAttempts: fc.integer({ min: 0, max: 3 }),
  retryInitialDelay: fc.constantFrom(0, 3),
  hasDefault: fc.boolean(),
  returnExceptions: fc.boolean(),
  // Never equal to a duration, so no attempt ends exactly at its deadline.
  attemptTimeout: fc.option(fc.constantFrom(20, 50), { nil: undefined }),
  throttlePeriod: fc.constantFrom(0, 0, 7),
});

type AttemptResult = "value" | "error" | "timeout" | "never";
type Outcome = { kind: "value" | "default" | "never" } | { kind: "error"; timeout: boolean };

function attemptResult(s: Script, attempt: number, o: Opts): AttemptResult {
  if (s.kind === "hang") return o.attemptTimeout === undefined ? "never" : "timeout";
  if (o.attemptTimeout !== undefined && s.duration >= o.attemptTimeout) return "timeout";
  return s.kind === "ok" && attempt > s.failTimes ? "value" : "error";
}

/** What the script implies for an item run on its own: its outcome and its attempts. */
function model(s: Script, o: Opts): { outcome: Outcome; attempts: number } {
  for (let attempt = 1;; attempt++) {
    const r = attemptResult(s, attempt, o);
    if (r === "never" || r === "value") return { outcome: { kind: r }, attempts: attempt };
    if (attempt === o.retryAttempts + 1) {
      const outcome: Outcome = o.hasDefault
        ? { kind: "default" }
        : { kind: "error", timeout: r === "timeout" };
      return { outcome, attempts: attempt };
    }
  }
}

const HORIZON = 100_000;
const DEFAULT = Symbol("default");

async function check(scripts: Script[], o: Opts): Promise<void> {
  await withFakeTime(async (clock) => {
    const n = scripts.length;
    const calls = new Array<number>(n).fill(0);
    const firstStarts: number[] = [];
    const violations: string[] = [];
    const hung: Array<{ item: number; abortedBeforeSettle: boolean }> = [];
    const log: AlcallProgress[] = [];
    let running = 0, maxRunning = 0;
    let settled = false;

    /**
     * Like fetch: waits `ms` (Infinity: forever), or rejects with an
     * AbortError when `signal` aborts.
     */
    const wait = (ms: number, signal: AbortSignal): Promise<void> =>
      new Promise((resolve, reject) => {
        const abort = () => {
          if (id !== undefined) clearTimeout(id);
          reject(new DOMException("The operation was aborted", "AbortError"));
        };
        const id = ms === Infinity ? undefined : setTimeout(() => {
          signal.removeEventListener("abort", abort);
          resolve();
        }, ms);
        signal.addEventListener("abort", abort, { once: true });
      });

    const controller = new AbortController();
    const horizonReason = new Error("horizon");
    const horizon = setTimeout(() => controller.abort(horizonReason), HORIZON);

    const promise = alcall(
      Array.from({ length: n }, (_, i) => i),
      async (i, ctx): Promise<unknown> => {
        if (settled) violations.push(`fn(${i}) called after settlement`);
        calls[i]++;
        if (ctx.index !== i) violations.push(`ctx.index ${ctx.index} for item ${i}`);
        if (ctx.attempt !== calls[i]) {
          violations.push(`ctx.attempt ${ctx.attempt}, call ${calls[i]}`);
        }
        if (ctx.attempt === 1) firstStarts.push(Date.now());
        const signal = ctx.signal;
        if (signal.aborted) violations.push(`item ${i} started with an aborted signal`);
        running++;
        maxRunning = Math.max(maxRunning, running);
        try {
          const s = scripts[i];
          if (s.kind === "hang") {
            const record = { item: i, abortedBeforeSettle: false };
            hung.push(record);
            signal.addEventListener("abort", () => (record.abortedBeforeSettle = !settled));
            await wait(Infinity, signal);
          } else if (s.duration > 0) {
            await wait(s.duration, signal);
          }
          if (settled) violations.push(`item ${i} ran on after settlement`);
          if (attemptResult(s, ctx.attempt, o) === "value") return `v${i}`;
          throw new Error(`${i}:${ctx.attempt}`);
        } finally {
          running--;
        }
      },
      {
        maxConcurrent: o.maxConcurrent,
        retryAttempts: o.retryAttempts,
        retryInitialDelay: o.retryInitialDelay,
        retryDefault: o.hasDefault ? DEFAULT : undefined,
        returnExceptions: o.returnExceptions,
        attemptTimeout: o.attemptTimeout,
        throttlePeriod: o.throttlePeriod,
        signal: controller.signal,
        onProgress: (p) => {
          if (settled) violations.push("onProgress after settlement");
          log.push(p);
        },
      },
    );
    let result: unknown[] | undefined, error: unknown, done = false;
    promise.then(
      (v) => (result = v as unknown[]),
      (e) => (error = e),
    ).finally(() => (done = settled = true));

    await clock.tickAsync(HORIZON);
    await clock.tickAsync(0);
    assert.ok(done, "alcall settled by the horizon");
    clearTimeout(horizon);
    await clock.tickAsync(1_000); // anything left would run now
    assert.deepEqual(violations, []);
    assert.deepEqual(hung.filter((h) => !h.abortedBeforeSettle), [], "hung items saw their abort");
    if (o.maxConcurrent !== undefined) assert.ok(maxRunning <= o.maxConcurrent);
    for (let k = 1; k < firstStarts.length; k++) {
      assert.ok(firstStarts[k] - firstStarts[k - 1] >= o.throttlePeriod, "throttled starts");
    }

    const models = scripts.map((s) => model(s, o));
    models.forEach((m, i) => assert.ok(calls[i] <= m.attempts, `item ${i}: too many calls`));
    const anyNever = models.some((m) => m.outcome.kind === "never");
    const anyError = models.some((m) => m.outcome.kind === "error");
    const final = log[log.length - 1];
    if (final !== undefined) assert.equal(final.running, 0);

    if (error === undefined) {
      // Completed: every item as its script implies.
      assert.ok(!anyNever && (o.returnExceptions || !anyError), "alcall should have rejected");
      assert.equal(result!.length, n);
      models.forEach(({ outcome }, i) => {
        const got = result![i];
        if (outcome.kind === "value") assert.equal(got, `v${i}`);
        else if (outcome.kind === "default") assert.equal(got, DEFAULT);
        else if (outcome.kind === "error" && outcome.timeout) {
          assert.ok(got instanceof TimeoutError);
        } else assert.equal((got as Error).message, `${i}:${o.retryAttempts + 1}`);
        assert.equal(calls[i], models[i].attempts, `item ${i}: attempts`);
      });
      const succeeded = models.filter((m) => m.outcome.kind === "value").length;
      const retries = models.reduce((sum, m) => sum + m.attempts - 1, 0);
      if (n > 0) {
        assert.deepEqual(final, {
          total: n,
          started: n,
          succeeded,
          failed: n - succeeded,
          retries,
          running: 0,
        });
      }
    } else if (error === horizonReason) {
      // Only an item that hangs without a timeout can hold the call up to the horizon.
      assert.ok(anyNever, "rejected at the horizon without a hanging item");
    } else {
      assert.ok(error instanceof ExceptionGroup, `unexpected rejection ${error}`);
      assert.ok(!o.returnExceptions && anyError, "an ExceptionGroup without a final failure");
      let sawFinal = false;
      for (const e of error.exceptions) {
        if (e instanceof TimeoutError) {
          assert.ok(scripts.some((_, i) => attemptResult(scripts[i], 1, o) === "timeout"));
          sawFinal ||= models.some((m) => m.outcome.kind === "error" && m.outcome.timeout);
          continue;
        }
        const [i, attempt] = (e as Error).message.split(":").map(Number);
        assert.equal(attemptResult(scripts[i], attempt, o), "error", `genuine failure ${e}`);
        sawFinal ||= attempt === o.retryAttempts + 1;
      }
      assert.ok(sawFinal, "the group holds the final failure that stopped the call");
      assert.ok(final.succeeded + final.failed <= final.started && final.started <= n);
    }
  });
}

Deno.test("alcall property: results, books and cancellation follow random failure scripts", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(scriptArb, { maxLength: 8 }), optsArb, check),
    { numRuns: 300 },
  );
});
