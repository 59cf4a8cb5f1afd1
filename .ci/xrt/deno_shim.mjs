// Copyright 2026 the @lionpride/core authors. MIT license.
// The `Deno` a test file sees on Node and Bun: esbuild injects this module for
// every free `Deno` identifier of a test bundle (the module's own code reads
// `globalThis.Deno`, which stays undefined, so it behaves as it does for a
// Node or Bun user).
//
// `Deno.test` registers; `runRegisteredTests()` (called by the bundle's entry
// once the test file has evaluated) runs them one at a time, like `deno test`,
// and prints one result line for .ci/xrt/run.mjs. A test that touches a Deno
// API this shim does not provide (Deno.serve, Deno.Command, Deno.openKv…) is
// counted as Deno-only, whatever its outcome: the access itself is recorded,
// so a test that catches the error is still classified correctly.
import { inspect } from "node:util";

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const RESULT_PREFIX = "##xrt-result ";
const TEST_TIMEOUT_MS = Number(process.env.XRT_TEST_TIMEOUT_MS ?? 60_000);

/** @type {{ name: string; fn: Function; ignore: boolean; only: boolean }[]} */
const registered = [];
/** The running test: where a Deno-only access or a stray rejection is charged. */
let current = undefined;
const moduleDenoOnly = new Set();
const strayErrors = [];

class DenoOnlyError extends Error {
  constructor(api) {
    super(`Deno.${api} is Deno-only: this test runs on Deno only`);
    this.name = "DenoOnlyError";
  }
}

function register(a, b, c) {
  let def;
  if (typeof a === "string") {
    def = typeof b === "function" ? { name: a, fn: b } : { ...b, name: a, fn: c };
  } else if (typeof a === "function") {
    def = { name: a.name, fn: a };
  } else {
    def = typeof b === "function" ? { ...a, fn: b, name: a.name ?? b.name } : { ...a };
  }
  if (typeof def.fn !== "function") throw new TypeError(`Deno.test "${def.name}": no function`);
  registered.push({ name: def.name, fn: def.fn, ignore: def.ignore === true, only: !!def.only });
}
register.ignore = (...args) => registerWith({ ignore: true }, args);
register.only = (...args) => registerWith({ only: true }, args);

function registerWith(extra, args) {
  const before = registered.length;
  register(...args);
  Object.assign(registered[before], extra);
}

const provided = {
  test: register,
  inspect: (value, options) => inspect(value, { depth: 4, ...options }),
  memoryUsage: () => process.memoryUsage(),
  env: {
    get: (key) => process.env[key],
    has: (key) => key in process.env,
    toObject: () => ({ ...process.env }),
  },
  build: { os: process.platform === "win32" ? "windows" : process.platform },
  noColor: true,
};

/** The injected `Deno`. */
export const Deno = new Proxy(provided, {
  get(target, key) {
    if (typeof key === "symbol" || key in target) return target[key];
    if (current !== undefined) current.denoOnly ??= key;
    else {
      moduleDenoOnly.add(key);
      // The file may not get as far as the runner: tell run.mjs right away.
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ moduleDenoOnly: key })}\n`);
    }
    throw new DenoOnlyError(key);
  },
});

// Deno's `globalThis.addEventListener("unhandledrejection", …)`, where the
// runtime lacks it: a listener that calls preventDefault() handles the rejection.
const rejectionListeners = new Set();
if (typeof globalThis.addEventListener !== "function") {
  globalThis.addEventListener = (type, listener) => {
    if (type === "unhandledrejection") rejectionListeners.add(listener);
  };
  globalThis.removeEventListener = (type, listener) => {
    if (type === "unhandledrejection") rejectionListeners.delete(listener);
  };
}

process.on("unhandledRejection", (reason, promise) => {
  let handled = false;
  const event = {
    type: "unhandledrejection",
    reason,
    promise,
    preventDefault: () => (handled = true),
  };
  for (const listener of rejectionListeners) listener(event);
  if (!handled) (current?.errors ?? strayErrors).push(reason);
});
process.on("uncaughtException", (error) => {
  (current?.errors ?? strayErrors).push(error);
});

function macrotask() {
  return new Promise((resolve) => realSetTimeout(resolve, 0));
}

function describe(error) {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return inspect(error);
}

function testContext(name) {
  return {
    name,
    origin: "xrt",
    async step(stepName, stepFn) {
      const fn = typeof stepName === "function" ? stepName : stepFn ?? stepName.fn;
      await fn(testContext(typeof stepName === "string" ? stepName : fn.name));
      return true;
    },
  };
}

async function runOne(test) {
  current = { denoOnly: undefined, errors: [] };
  let timer;
  try {
    const timeout = new Promise((_, reject) => {
      timer = realSetTimeout(
        () => reject(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)),
        TEST_TIMEOUT_MS,
      );
    });
    await Promise.race([Promise.resolve().then(() => test.fn(testContext(test.name))), timeout]);
  } catch (error) {
    current.errors.unshift(error);
  } finally {
    realClearTimeout(timer);
  }
  // Rejections left unhandled by this test surface within a turn or two.
  await macrotask();
  await macrotask();
  const outcome = current;
  current = undefined;
  return outcome;
}

/** Runs every registered test and prints the file's result line. */
export async function runRegisteredTests(file) {
  const summary = { file, passed: 0, failed: 0, ignored: 0, denoOnly: [], failures: [] };
  const onlyMode = registered.some((t) => t.only);
  for (const test of registered) {
    if (test.ignore || (onlyMode && !test.only)) {
      summary.ignored++;
      continue;
    }
    if (moduleDenoOnly.size > 0) {
      summary.denoOnly.push({ name: test.name, api: [...moduleDenoOnly][0] });
      continue;
    }
    const outcome = await runOne(test);
    if (outcome.denoOnly !== undefined) {
      summary.denoOnly.push({ name: test.name, api: outcome.denoOnly });
    } else if (outcome.errors.length === 0) {
      summary.passed++;
    } else {
      summary.failed++;
      summary.failures.push({ name: test.name, error: outcome.errors.map(describe).join("\n") });
    }
  }
  if (strayErrors.length > 0) {
    summary.failed++;
    summary.failures.push({
      name: "(errors outside any test)",
      error: strayErrors.map(describe).join("\n"),
    });
  }
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(summary)}\n`);
  // Deno's sanitizers guard against leaked timers; here a leak must not hang CI.
  process.exit(summary.failed > 0 ? 1 : 0);
}
