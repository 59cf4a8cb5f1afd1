// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Deadline propagation across nested calls: an outer request budget is the
 * ambient deadline; inner calls read what is left with `effectiveDeadline()`
 * and a slow step gives up without any signal passed by hand.
 *
 * Run: `deno run examples/deadline.ts`.
 */

import {
  currentTime,
  effectiveDeadline,
  failAfter,
  moveOnAfter,
  retry,
  sleep,
  TimeoutError,
} from "../mod.ts";

const t0 = currentTime();
const stamp = (): string => `${String(Math.round(currentTime() - t0)).padStart(4)} ms`;
const left = (): string => {
  const d = effectiveDeadline();
  return d === Infinity ? "no deadline" : `${Math.round(d - currentTime())} ms left`;
};

function lookupUser(id: number): Promise<string> {
  // Asks for 1 s, but the ambient deadline (the caller's budget) is earlier: the min wins.
  return failAfter(1_000, async () => {
    console.log(`${stamp()}    lookupUser(${id}) asked for 1000 ms, has ${left()}`);
    await sleep(50);
    return `user-${id}`;
  });
}

function loadRecommendations(user: string): Promise<string[]> {
  // Its own, shorter budget: a TimeoutError of its own, the request goes on.
  return failAfter(100, async () => {
    console.log(`${stamp()}    loadRecommendations(${user}): ${left()}`);
    await sleep(400); // too slow
    return ["a", "b"];
  });
}

async function flakyCount(): Promise<number> {
  // retry is deadline-aware: it gives up at once when the next attempt could not start in time.
  let attempts = 0;
  return await retry(async () => {
    attempts++;
    console.log(`${stamp()}    flakyCount attempt ${attempts}: ${left()}`);
    await sleep(20);
    throw new Error("count service unavailable");
  }, { attempts: 10, baseDelay: 40, jitter: 0 });
}

async function handleRequest(): Promise<void> {
  console.log(`${stamp()}  request with a 300 ms budget: ${left()}`);
  const user = await lookupUser(7);
  try {
    console.log(`${stamp()}  recommendations: ${await loadRecommendations(user)}`);
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    console.log(`${stamp()}  recommendations timed out after their own 100 ms: skipped`);
  }
  // A step that may simply be skipped when time runs short:
  const extra = await moveOnAfter(30, () => sleep(100).then(() => "extra"));
  console.log(`${stamp()}  optional extra: ${extra ?? "(moved on)"}`);
  try {
    await flakyCount();
  } catch (err) {
    console.log(`${stamp()}  flakyCount gave up: ${(err as Error).message}`);
  }
}

try {
  await failAfter(300, handleRequest);
  console.log(`${stamp()}  request finished within its budget`);
} catch (err) {
  console.log(`${stamp()}  request: ${err instanceof TimeoutError ? "TimeoutError" : err}`);
}
