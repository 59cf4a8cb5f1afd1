// Copyright 2026 the @lionpride/core authors. MIT license.
// Test helper: run a test body on a virtual clock (@sinonjs/fake-timers).
import FakeTimers from "@sinonjs/fake-timers";

/** The fake clock handed to a test body. */
export type FakeClock = ReturnType<typeof FakeTimers.install>;

/**
 * Installs fake timers (Date, setTimeout, setInterval, performance) for the
 * duration of `fn`, and uninstalls them even if `fn` throws.
 */
export async function withFakeTime(fn: (clock: FakeClock) => Promise<void> | void): Promise<void> {
  const clock = FakeTimers.install({
    now: 0,
    toFake: ["Date", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
  });
  try {
    await fn(clock);
  } finally {
    clock.uninstall();
  }
}

/** When the fake clock's next timer is due (`Infinity` if none). */
export function nextTimerAt(clock: FakeClock): number {
  // fake-timers keeps its timers in a Map (a plain object before v15).
  const timers = (clock as unknown as { timers?: Map<number, { callAt: number }> }).timers;
  let at = Infinity;
  for (const timer of timers?.values() ?? []) at = Math.min(at, timer.callAt);
  return at;
}

/**
 * Advances the fake clock by `ms`, timer by timer, awaiting `settle` (real
 * I/O the fake clock does not drive, such as a store answering) before the
 * first step, since calls on their way make timers when answered, and after
 * each step, then `afterEach`.
 */
export async function advanceByTimers(
  clock: FakeClock,
  ms: number,
  settle: () => Promise<void>,
  afterEach: () => Promise<void> | void = () => {},
): Promise<void> {
  const until = Date.now() + ms;
  await settle();
  while (Date.now() < until) {
    await clock.tickAsync(Math.max(1, Math.min(until, nextTimerAt(clock)) - Date.now()));
    await settle();
    await afterEach();
  }
}
