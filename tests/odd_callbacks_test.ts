// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of every export that calls user code, driven with odd callbacks:
// thrown non-Errors (an object whose `name` getter throws, a Proxy that throws
// on every access). Each test of a fix failed before it; the last test found
// no bug and fails if `isCancelled(undefined)` is made true.
import assert from "node:assert/strict";
import {
  AdaptiveLimiter,
  alcall,
  asCompleted,
  boundedMap,
  CancelledError,
  CancelScope,
  CapacityLimiter,
  CircuitBreaker,
  ExceptionGroup,
  gather,
  isCancelled,
  retry,
  sleep,
  splitCancellation,
  taskGroup,
  toList,
} from "../mod.ts";
import { within } from "./_helpers.ts";

/** A thrown value that throws when inspected: `name` and `message` getters throw. */
const badName = {
  get name(): never {
    throw new Error("name getter");
  },
  get message(): never {
    throw new Error("message getter");
  },
};
/** A thrown value that throws on every access, `instanceof` included. */
const hostile = new Proxy({}, {
  get() {
    throw new Error("proxy get");
  },
  getPrototypeOf() {
    throw new Error("proxy getPrototypeOf");
  },
});

Deno.test("isCancelled is false, never a throw, for a value whose name getter or prototype throws", () => {
  assert.equal(isCancelled(badName), false);
  assert.equal(isCancelled(hostile), false);
});

Deno.test("gather, boundedMap, asCompleted and a task-group child keep a thrown hostile value and settle", async () => {
  for (const thrown of [badName, hostile]) {
    const fail = () => {
      throw thrown;
    };
    const runs: [string, () => Promise<unknown>][] = [
      ["gather", () => gather([fail])],
      ["boundedMap", () => boundedMap([1], fail, { limit: 1 })],
      ["asCompleted", async () => {
        for await (const _ of asCompleted([fail])) { /* drain */ }
      }],
      ["taskGroup child", () => taskGroup((tg) => tg.startSoon(fail))],
    ];
    for (const [what, run] of runs) {
      const err = await within(run().then(() => "resolved", (e) => e), 1_000, what);
      assert.ok(err instanceof ExceptionGroup, what);
      assert.ok(Object.is(err.exceptions[0], thrown), what);
    }
  }
});

Deno.test("retry, alcall's retries, AdaptiveLimiter.use and CircuitBreaker.call reject with the hostile value itself", async () => {
  for (const thrown of [badName, hostile]) {
    const fail = () => {
      throw thrown;
    };
    const exact: [string, () => Promise<unknown>][] = [
      ["retry", () => retry(fail, { attempts: 2, baseDelay: 1 })],
      ["AdaptiveLimiter.use", () => new AdaptiveLimiter().use(fail)],
      ["CircuitBreaker.call", () => new CircuitBreaker({ failureThreshold: 1 }).call(fail)],
    ];
    for (const [what, run] of exact) {
      // In a box: resolving with the Proxy itself would read its `then`.
      const [err] = await within(run().then(() => ["resolved"], (e) => [e]), 1_000, what);
      assert.ok(Object.is(err, thrown), what);
    }
    const err = await alcall([1], fail, { retryAttempts: 1 }).catch((e) => e);
    assert.ok(err instanceof ExceptionGroup);
    assert.ok(Object.is(err.exceptions[0], thrown), "alcall");
  }
});

Deno.test("CancelScope.cancel takes a hostile reason as its CancelledError's cause, and retry's signal aborted with one rejects with it", async () => {
  const scope = new CancelScope();
  scope.cancel(hostile);
  assert.equal(scope.cancelCalled, true);
  assert.ok(scope.signal.reason instanceof CancelledError);
  assert.ok(Object.is(scope.signal.reason.cause, hostile));

  const controller = new AbortController();
  const pending = retry(
    ({ signal }) =>
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    { signal: controller.signal },
  ).then(() => ["resolved"], (e) => [e]);
  controller.abort(hostile);
  const [err] = await within(pending, 1_000, "retry");
  assert.ok(Object.is(err, hostile));
});

Deno.test("splitCancellation and split by class put a hostile value in the rest instead of throwing", () => {
  const cancel = new CancelledError();
  const eg = new ExceptionGroup("mixed", [hostile, cancel]);
  const [cancels, rest] = splitCancellation(eg);
  assert.deepEqual(cancels?.exceptions, [cancel]);
  assert.equal(rest?.exceptions.length, 1);
  assert.ok(Object.is(rest?.exceptions[0], hostile));
  const [typeErrors, others] = eg.split(TypeError);
  assert.equal(typeErrors, undefined);
  assert.equal(others, eg);
});

Deno.test("an argument error describing a hostile function is still the TypeError", async () => {
  const hostileFn = new Proxy(() => {}, {
    get() {
      throw new Error("proxy get");
    },
  });
  assert.throws(() => new CapacityLimiter(hostileFn as never), TypeError);
  await assert.rejects(() => sleep(hostileFn as never), TypeError);
});

Deno.test("a thrown undefined is a failure, kept as undefined, by a task group, gather and alcall", async () => {
  assert.equal(isCancelled(undefined), false);
  const fail = () => {
    throw undefined;
  };
  const runs: [string, () => Promise<unknown>][] = [
    ["taskGroup child", () => taskGroup((tg) => tg.startSoon(fail))],
    ["gather", () => gather([fail, () => 1])],
    ["alcall", () => alcall([1], fail)],
  ];
  for (const [what, run] of runs) {
    const err = await run().then(() => "resolved", (e) => e);
    assert.ok(err instanceof ExceptionGroup, what);
    assert.deepEqual(err.exceptions, [undefined], what);
  }
});

Deno.test("toList with flatten keeps the iteration's error and closes every outer list when one's return() throws, as for-of", () => {
  const failure = new Error("inner next() failed");
  let outerClosed = 0;
  const list = (items: unknown[], close: () => IteratorResult<unknown>): Iterable<unknown> => ({
    [Symbol.iterator]: () => {
      let i = 0;
      return {
        next: () =>
          i < items.length ? { done: false, value: items[i++] } : { done: true, value: undefined },
        return: close,
      };
    },
  });
  const inner = (function* () {
    yield 1;
    throw failure;
  })();
  const middle = list([inner], () => {
    throw "middle return() failed";
  });
  const outer = list([middle], () => {
    outerClosed++;
    return { done: true, value: undefined };
  });
  assert.throws(() => toList(outer, { flatten: true }), (e) => e === failure);
  assert.equal(outerClosed, 1);
});
