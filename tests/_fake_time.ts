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
