// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §7: GracefulShutdown.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { CancelledError, GracefulShutdown } from "../mod.ts";

/** Rejects if `promise` has not settled within `ms` real milliseconds. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` with some globals replaced, and puts them back even if it throws. */
function withGlobals<T>(replacements: Record<string, unknown>, fn: () => T): T {
  const saved = Object.keys(replacements).map(
    (key) => [key, Object.getOwnPropertyDescriptor(globalThis, key)] as const,
  );
  try {
    for (const [key, value] of Object.entries(replacements)) {
      Object.defineProperty(globalThis, key, { value, configurable: true, writable: true });
    }
    return fn();
  } finally {
    for (const [key, descriptor] of saved) {
      if (descriptor === undefined) delete (globalThis as Record<string, unknown>)[key];
      else Object.defineProperty(globalThis, key, descriptor);
    }
  }
}

/** A stand-in for `Deno`'s signal API that records what is added and removed. */
function fakeDeno(failFor: string[] = []) {
  const listeners = new Map<string, () => void>();
  const log: string[] = [];
  return {
    listeners,
    log,
    api: {
      addSignalListener(name: string, handler: () => void): void {
        if (failFor.includes(name)) throw new TypeError(`Invalid signal: ${name}`);
        log.push(`add ${name}`);
        listeners.set(name, handler);
      },
      removeSignalListener(name: string, handler: () => void): void {
        assert.equal(listeners.get(name), handler, "removes the very handler it added");
        log.push(`remove ${name}`);
        listeners.delete(name);
      },
    },
  };
}

/**
 * What a child process (this file, run again by {@linkcode runChild}) does
 * before it reports: each ends by sending itself SIGUSR2 with no listener
 * left, which must kill it, so "survived" printed means a listener stayed.
 */
const CHILD_SCRIPTS: Record<string, () => Promise<void> | void> = {
  async "second signal"() {
    const shutdown = new GracefulShutdown({ signals: ["SIGUSR2"] });
    process.kill(process.pid, "SIGUSR2");
    await new Promise((resolve) => shutdown.signal.addEventListener("abort", resolve));
    report(`requested ${shutdown.requested}`);
    process.kill(process.pid, "SIGUSR2");
  },
  dispose() {
    const shutdown = new GracefulShutdown({ signals: ["SIGUSR2"] });
    report(`listening ${shutdown.requested}`);
    shutdown[Symbol.dispose]();
    process.kill(process.pid, "SIGUSR2");
  },
};

/** Written at once: a child killed by a signal must not lose what it printed. */
function report(line: string): void {
  writeSync(1, `${line}\n`);
}

const childScript = process.env.LIONPRIDE_SHUTDOWN_CHILD;
if (childScript !== undefined) {
  // Ends the child if its signal never arrives.
  const guard = setTimeout(() => {
    report("guard fired");
    process.exit(3);
  }, 8_000);
  await CHILD_SCRIPTS[childScript]();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  report("survived");
  clearTimeout(guard);
  process.exit(0); // a child runs no tests
}

/**
 * Runs one of {@linkcode CHILD_SCRIPTS} in a fresh process of this runtime
 * (this very file: the test bundle on Node and Bun); returns its stdout and
 * the signal that ended it.
 */
function runChild(script: string): Promise<{ stdout: string; signal: string | null }> {
  const self = fileURLToPath(import.meta.url);
  const args = "Deno" in globalThis
    ? ["run", "--no-lock", "--allow-env", "--allow-run", self]
    : [self];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LIONPRIDE_SHUTDOWN_CHILD: script },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (_code, signal) => resolve({ stdout, signal }));
  });
}

// ------------------------------------------------------------------ real signals

Deno.test("the first OS signal aborts the shutdown signal and sets requested", async () => {
  // A listener of our own, so that a broken GracefulShutdown fails this test
  // instead of letting SIGUSR2 kill the whole test run. Through node:process,
  // so the test runs on Node and Bun too (where GracefulShutdown uses
  // process.on; on Deno it uses Deno.addSignalListener).
  const safety = (): void => {};
  process.on("SIGUSR2", safety);
  try {
    using shutdown = new GracefulShutdown({ signals: ["SIGUSR2"] });
    assert.equal(shutdown.requested, false);
    assert.equal(shutdown.signal.aborted, false);
    const aborted = new Promise<void>((resolve) =>
      shutdown.signal.addEventListener("abort", () => resolve(), { once: true })
    );
    process.kill(process.pid, "SIGUSR2");
    await within(aborted, 5_000);
    assert.equal(shutdown.requested, true);
    assert.equal(shutdown.requestedBy, "SIGUSR2");
    assert.ok(shutdown.signal.reason instanceof CancelledError);
    assert.match(shutdown.signal.reason.message, /SIGUSR2/);
  } finally {
    process.off("SIGUSR2", safety);
  }
});

Deno.test("after the first signal it stops listening, so a second one gets the default action", async () => {
  const { stdout, signal } = await runChild("second signal");
  assert.match(stdout, /requested true/);
  assert.doesNotMatch(stdout, /survived/);
  assert.equal(signal, "SIGUSR2");
});

Deno.test("dispose removes the OS signal listeners", async () => {
  const { stdout, signal } = await runChild("dispose");
  assert.match(stdout, /listening false/);
  assert.doesNotMatch(stdout, /survived/);
  assert.equal(signal, "SIGUSR2");
});

// ------------------------------------------------------------------ platforms

Deno.test("it listens for SIGINT and SIGTERM by default and removes both on dispose", () => {
  const deno = fakeDeno();
  const shutdown = withGlobals({ Deno: deno.api }, () => new GracefulShutdown());
  assert.deepEqual(deno.log, ["add SIGINT", "add SIGTERM"]);
  shutdown[Symbol.dispose]();
  shutdown[Symbol.dispose](); // idempotent
  assert.deepEqual(deno.log, ["add SIGINT", "add SIGTERM", "remove SIGINT", "remove SIGTERM"]);
  assert.equal(shutdown.requested, false);
});

Deno.test("the first of several signals wins and all listeners are removed", () => {
  const deno = fakeDeno();
  const shutdown = withGlobals(
    { Deno: deno.api },
    () => new GracefulShutdown({ signals: ["SIGINT", "SIGTERM", "SIGHUP"] }),
  );
  const onTerm = deno.listeners.get("SIGTERM")!;
  const onInt = deno.listeners.get("SIGINT")!;
  onTerm();
  onInt(); // a late second signal changes nothing
  assert.equal(shutdown.requestedBy, "SIGTERM");
  assert.equal(deno.listeners.size, 0);
  assert.equal(deno.log.filter((l) => l.startsWith("remove")).length, 3);
});

Deno.test("without Deno's signal API it uses process.on and process.off", () => {
  const log: string[] = [];
  const handlers = new Map<string, () => void>();
  const fakeProcess = {
    on(name: string, handler: () => void) {
      log.push(`on ${name}`);
      handlers.set(name, handler);
    },
    off(name: string, handler: () => void) {
      assert.equal(handlers.get(name), handler);
      log.push(`off ${name}`);
    },
  };
  const shutdown = withGlobals(
    { Deno: undefined, process: fakeProcess },
    () => new GracefulShutdown(),
  );
  assert.deepEqual(log, ["on SIGINT", "on SIGTERM"]);
  handlers.get("SIGINT")!();
  assert.equal(shutdown.requested, true);
  assert.equal(shutdown.requestedBy, "SIGINT");
  assert.deepEqual(log, ["on SIGINT", "on SIGTERM", "off SIGINT", "off SIGTERM"]);
  shutdown[Symbol.dispose]();
  assert.equal(log.length, 4);
});

Deno.test("where signals cannot be listened for, it degrades to a no-op that request() still triggers", () => {
  const deploy = fakeDeno(["SIGINT", "SIGTERM"]);
  const onDeploy = withGlobals({ Deno: deploy.api }, () => new GracefulShutdown());
  assert.deepEqual(deploy.log, []);
  onDeploy.request();
  assert.equal(onDeploy.signal.aborted, true);
  onDeploy[Symbol.dispose]();

  const browser = withGlobals(
    { Deno: undefined, process: undefined },
    () => new GracefulShutdown(),
  );
  assert.equal(browser.requested, false);
  browser.request("admin endpoint");
  assert.equal(browser.requestedBy, "admin endpoint");
});

Deno.test("a signal the platform refuses is skipped and the others still listen", () => {
  const windows = fakeDeno(["SIGTERM"]);
  const shutdown = withGlobals({ Deno: windows.api }, () => new GracefulShutdown());
  assert.deepEqual(windows.log, ["add SIGINT"]);
  windows.listeners.get("SIGINT")!();
  assert.equal(shutdown.requestedBy, "SIGINT");
  assert.deepEqual(windows.log, ["add SIGINT", "remove SIGINT"]);
});

Deno.test("request() aborts with a CancelledError once; later requests change nothing", () => {
  const deno = fakeDeno();
  const shutdown = withGlobals({ Deno: deno.api }, () => new GracefulShutdown());
  shutdown.request("deploy");
  const reason = shutdown.signal.reason;
  shutdown.request("again");
  assert.ok(reason instanceof CancelledError);
  assert.equal(shutdown.signal.reason, reason);
  assert.equal(shutdown.requestedBy, "deploy");
  assert.equal(deno.listeners.size, 0, "stops listening once requested");
});

Deno.test("bad signal options throw, naming the parameter and the value", () => {
  const deno = fakeDeno();
  withGlobals({ Deno: deno.api }, () => {
    assert.throws(
      () => new GracefulShutdown({ signals: "SIGTERM" as unknown as string[] }),
      (e: unknown) => e instanceof TypeError && /'signals'.*string/.test(e.message),
    );
    assert.throws(
      () => new GracefulShutdown({ signals: [15 as unknown as string] }),
      (e: unknown) => e instanceof TypeError && /'signals'.*number/.test(e.message),
    );
    for (const bad of ["sigterm", "TERM", "SIGKILL", "SIGSTOP", ""]) {
      assert.throws(
        () => new GracefulShutdown({ signals: [bad] }),
        (e: unknown) => e instanceof RangeError && e.message.includes(`"${bad}"`),
      );
    }
    assert.throws(() => new GracefulShutdown(null as unknown as undefined), TypeError);
  });
  assert.deepEqual(deno.log, [], "nothing is listened for when the options are bad");
});
