// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §2: TimeoutError, CancelledError, isCancelled, ExceptionGroup.
import assert from "node:assert/strict";
import {
  CancelledError,
  CircuitOpenError,
  ExceptionGroup,
  isCancelled,
  nonCancelSubgroup,
  RateLimitError,
  splitCancellation,
  TimeoutError,
} from "../mod.ts";

// ---------------------------------------------------------------- TimeoutError

Deno.test("TimeoutError is an Error named TimeoutError with the given message", () => {
  const err = new TimeoutError("too slow");
  assert.ok(err instanceof Error);
  assert.equal(err.name, "TimeoutError");
  assert.equal(err.message, "too slow");
  assert.match(String(err), /^TimeoutError: too slow$/);
});

Deno.test("TimeoutError has a default message and keeps its cause", () => {
  const cause = new Error("root");
  const err = new TimeoutError(undefined, { cause });
  assert.ok(err.message.length > 0);
  assert.equal(err.cause, cause);
});

Deno.test("a TimeoutError is not a cancellation", () => {
  assert.equal(isCancelled(new TimeoutError()), false);
});

// -------------------------------------------------------------- CancelledError

Deno.test("CancelledError is an Error named CancelledError with the given message", () => {
  const err = new CancelledError("stop");
  assert.ok(err instanceof Error);
  assert.equal(err.name, "CancelledError");
  assert.equal(err.message, "stop");
  assert.match(String(err), /^CancelledError: stop$/);
});

Deno.test("CancelledError has a default message and keeps its cause", () => {
  const cause = { why: "shutdown" };
  const err = new CancelledError(undefined, { cause });
  assert.ok(err.message.length > 0);
  assert.equal(err.cause, cause);
});

// ----------------------------------------------------------------- isCancelled

Deno.test("isCancelled is true for a CancelledError and its subclasses", () => {
  class MyCancel extends CancelledError {}
  assert.equal(isCancelled(new CancelledError()), true);
  assert.equal(isCancelled(new MyCancel()), true);
});

Deno.test("isCancelled is true for an AbortError DOMException", () => {
  assert.equal(isCancelled(new DOMException("aborted", "AbortError")), true);
});

Deno.test("isCancelled is true for the reason of an aborted AbortController", () => {
  const controller = new AbortController();
  controller.abort();
  assert.equal(isCancelled(controller.signal.reason), true);
});

Deno.test("isCancelled is true for any error named AbortError", () => {
  const err = new Error("aborted");
  err.name = "AbortError";
  assert.equal(isCancelled(err), true);
});

Deno.test("isCancelled is false for other errors and for non-errors", () => {
  assert.equal(isCancelled(new Error("boom")), false);
  assert.equal(isCancelled(new DOMException("late", "TimeoutError")), false);
  assert.equal(isCancelled("AbortError"), false);
  assert.equal(isCancelled(undefined), false);
  assert.equal(isCancelled(null), false);
  assert.equal(isCancelled(42), false);
});

// --------------------------------------------------------- ExceptionGroup: new

Deno.test("ExceptionGroup is an AggregateError named ExceptionGroup", () => {
  const eg = new ExceptionGroup("boom", [new Error("a")]);
  assert.ok(eg instanceof AggregateError);
  assert.ok(eg instanceof Error);
  assert.equal(eg.name, "ExceptionGroup");
  assert.equal(eg.message, "boom");
});

Deno.test("ExceptionGroup.exceptions holds the same items as errors, in order", () => {
  const a = new Error("a"), b = new TypeError("b"), c = new RangeError("c");
  const eg = new ExceptionGroup("three", [a, b, c]);
  assert.deepEqual([...eg.exceptions], [a, b, c]);
  assert.equal(eg.exceptions.length, eg.errors.length);
  eg.exceptions.forEach((e, i) => assert.equal(e, eg.errors[i]));
});

Deno.test("ExceptionGroup accepts any iterable of exceptions", () => {
  const a = new Error("a"), b = new Error("b");
  const eg = new ExceptionGroup("set", new Set([a, b]));
  assert.deepEqual([...eg.exceptions], [a, b]);
  function* gen() {
    yield a;
  }
  assert.deepEqual([...new ExceptionGroup("gen", gen()).exceptions], [a]);
});

Deno.test("ExceptionGroup keeps the cause given in its options", () => {
  const cause = new Error("root");
  const eg = new ExceptionGroup("m", [new Error("a")], { cause });
  assert.equal(eg.cause, cause);
});

Deno.test("String(ExceptionGroup) ends with the number of sub-exceptions", () => {
  assert.ok(
    String(new ExceptionGroup("two", [new Error(), new Error()])).endsWith("(2 sub-exceptions)"),
  );
  assert.ok(String(new ExceptionGroup("one", [new Error()])).endsWith("(1 sub-exceptions)"));
  assert.match(String(new ExceptionGroup("msg", [new Error()])), /^ExceptionGroup: msg /);
});

Deno.test("an ExceptionGroup with no exceptions is a TypeError", () => {
  assert.throws(() => new ExceptionGroup("none", []), (err: unknown) => {
    assert.ok(err instanceof TypeError);
    assert.match(err.message, /'exceptions'/);
    assert.match(err.message, /0/);
    return true;
  });
  assert.throws(() => new ExceptionGroup("none", new Set()), TypeError);
});

Deno.test("an ExceptionGroup whose exceptions are not iterable is a TypeError naming them", () => {
  for (const bad of [undefined, null, 42, {}, "ab"]) {
    assert.throws(
      () => new ExceptionGroup("bad", bad as never),
      (err: unknown) =>
        err instanceof TypeError && /'exceptions'/.test(err.message) &&
        err.message.includes(bad === null ? "null" : typeof bad),
      `exceptions = ${String(bad)}`,
    );
  }
});

Deno.test("an ExceptionGroup whose message is not a string is a TypeError naming it", () => {
  assert.throws(
    () => new ExceptionGroup(42 as never, [new Error()]),
    (err: unknown) =>
      err instanceof TypeError && /'message'/.test(err.message) && /number/.test(err.message),
  );
});

// ------------------------------------------------------- ExceptionGroup: split

Deno.test("split by class returns the matching and the other exceptions, order kept", () => {
  const t1 = new TypeError("t1"), r = new RangeError("r"), t2 = new TypeError("t2");
  const eg = new ExceptionGroup("mixed", [t1, r, t2]);
  const [match, rest] = eg.split(TypeError);
  assert.ok(match instanceof ExceptionGroup);
  assert.ok(rest instanceof ExceptionGroup);
  assert.deepEqual([...match.exceptions], [t1, t2]);
  assert.deepEqual([...rest.exceptions], [r]);
  assert.equal(match.message, "mixed");
  assert.equal(rest.message, "mixed");
});

Deno.test("split by predicate returns the matching and the other exceptions", () => {
  const a = new Error("keep"), b = new Error("drop");
  const eg = new ExceptionGroup("m", [a, b]);
  const [match, rest] = eg.split((e) => (e as Error).message === "keep");
  assert.deepEqual([...match!.exceptions], [a]);
  assert.deepEqual([...rest!.exceptions], [b]);
});

Deno.test("split returns undefined for an empty half", () => {
  const eg = new ExceptionGroup("m", [new TypeError("a"), new TypeError("b")]);
  const [all, none] = eg.split(TypeError);
  assert.equal(all, eg);
  assert.equal(none, undefined);
  const [nothing, everything] = eg.split(RangeError);
  assert.equal(nothing, undefined);
  assert.equal(everything, eg);
});

Deno.test("split keeps the nesting of inner groups in both halves", () => {
  const t1 = new TypeError("t1"), r1 = new RangeError("r1");
  const t2 = new TypeError("t2"), r2 = new RangeError("r2");
  const inner = new ExceptionGroup("inner", [t2, r2]);
  const eg = new ExceptionGroup("outer", [t1, inner, r1]);
  const [match, rest] = eg.split(TypeError);
  assert.equal(match!.exceptions.length, 2);
  assert.equal(match!.exceptions[0], t1);
  const innerMatch = match!.exceptions[1];
  assert.ok(innerMatch instanceof ExceptionGroup);
  assert.equal(innerMatch.message, "inner");
  assert.deepEqual([...innerMatch.exceptions], [t2]);

  assert.equal(rest!.exceptions.length, 2);
  const innerRest = rest!.exceptions[0];
  assert.ok(innerRest instanceof ExceptionGroup);
  assert.equal(innerRest.message, "inner");
  assert.deepEqual([...innerRest.exceptions], [r2]);
  assert.equal(rest!.exceptions[1], r1);
});

Deno.test("split drops a nested group that ends up empty on one side", () => {
  const t = new TypeError("t"), r = new RangeError("r");
  const inner = new ExceptionGroup("inner", [t]);
  const eg = new ExceptionGroup("outer", [inner, r]);
  const [match, rest] = eg.split(TypeError);
  assert.deepEqual([...match!.exceptions], [inner]);
  assert.deepEqual([...rest!.exceptions], [r]);
});

Deno.test("split tests the condition on nested groups themselves", () => {
  const inner = new ExceptionGroup("inner", [new TypeError("t"), new RangeError("r")]);
  const other = new Error("other");
  const eg = new ExceptionGroup("outer", [inner, other]);
  const [match, rest] = eg.split((e) => e instanceof ExceptionGroup && e.message === "inner");
  assert.deepEqual([...match!.exceptions], [inner]);
  assert.deepEqual([...rest!.exceptions], [other]);
});

Deno.test("split tests the condition on the group itself", () => {
  const eg = new ExceptionGroup("whole", [new TypeError("t")]);
  assert.deepEqual(eg.split(ExceptionGroup), [eg, undefined]);
  assert.deepEqual(eg.split(AggregateError), [eg, undefined]);
});

Deno.test("split accepts a class that does not extend Error", () => {
  class Failure {
    constructor(readonly code: number) {}
  }
  const f = new Failure(1), e = new Error("e");
  const eg = new ExceptionGroup<unknown>("m", [f, e]);
  const [match, rest] = eg.split(Failure);
  assert.deepEqual([...match!.exceptions], [f]);
  assert.deepEqual([...rest!.exceptions], [e]);
});

Deno.test("split with a condition that is not a function is a TypeError naming it", () => {
  const eg = new ExceptionGroup("m", [new Error()]);
  assert.throws(
    () => eg.split("TypeError" as never),
    (err: unknown) =>
      err instanceof TypeError && /'condition'/.test(err.message) && /string/.test(err.message),
  );
  assert.throws(() => eg.subgroup(undefined as never), TypeError);
});

Deno.test("split keeps the cause on both halves", () => {
  const cause = new Error("root");
  const eg = new ExceptionGroup("m", [new TypeError(), new RangeError()], { cause });
  const [match, rest] = eg.split(TypeError);
  assert.equal(match!.cause, cause);
  assert.equal(rest!.cause, cause);
});

/** Raises a group from a named function, so its stack says where it came from. */
function raiseGroupHere(): ExceptionGroup {
  return new ExceptionGroup("raised here", [
    new TypeError("t"),
    new ExceptionGroup("inner", [new TypeError("t2"), new RangeError("r2")]),
    new RangeError("r"),
  ]);
}

Deno.test("split, subgroup and derive parts keep the group's stack, as PEP 654 keeps the traceback", () => {
  const eg = raiseGroupHere();
  assert.match(eg.stack!, /raiseGroupHere/);
  const [match, rest] = eg.split(TypeError);
  for (const part of [match!, rest!, eg.subgroup(RangeError)!, eg.derive([new Error("x")])]) {
    assert.notEqual(part, eg);
    assert.equal(part.stack, eg.stack);
  }
  const inner = eg.exceptions[1] as ExceptionGroup;
  assert.equal((match!.exceptions[1] as ExceptionGroup).stack, inner.stack);
  assert.equal((rest!.exceptions[0] as ExceptionGroup).stack, inner.stack);
});

Deno.test("split parts keep the group's notes (a copy) and context", () => {
  const eg = new ExceptionGroup("m", [new TypeError(), new RangeError()]);
  Object.assign(eg, { notes: ["while syncing user 7"], context: "the sync job" });
  const [match, rest] = eg.split(TypeError);
  for (const part of [match!, rest!]) {
    assert.deepEqual((part as unknown as { notes: string[] }).notes, ["while syncing user 7"]);
    assert.notEqual(
      (part as unknown as { notes: string[] }).notes,
      (eg as unknown as { notes: string[] }).notes,
    );
    assert.equal((part as unknown as { context: string }).context, "the sync job");
  }
});

Deno.test("a part of a group without a cause has no cause property", () => {
  const [match] = new ExceptionGroup("m", [new TypeError(), new RangeError()]).split(TypeError);
  assert.equal(Object.hasOwn(match!, "cause"), false);
});

Deno.test("split keeps the origin even when a subclass's derive builds the part its own way", () => {
  class Tagged extends ExceptionGroup {
    override derive<F>(exceptions: Iterable<F>): ExceptionGroup<F> {
      return new Tagged(`tagged: ${this.message}`, exceptions) as ExceptionGroup<F>;
    }
  }
  const cause = new Error("root");
  const eg = new Tagged("m", [new TypeError(), new RangeError()], { cause });
  const [match] = eg.split(TypeError);
  assert.ok(match instanceof Tagged);
  assert.equal(match.message, "tagged: m");
  assert.equal(match.stack, eg.stack);
  assert.equal(match.cause, cause);
});

// ---------------------------------------------------- subgroup and derive

Deno.test("subgroup returns only the matching exceptions, nesting kept", () => {
  const t1 = new TypeError("t1"), t2 = new TypeError("t2");
  const inner = new ExceptionGroup("inner", [t2, new RangeError()]);
  const eg = new ExceptionGroup("outer", [t1, new RangeError(), inner]);
  const sub = eg.subgroup(TypeError)!;
  assert.equal(sub.message, "outer");
  assert.equal(sub.exceptions[0], t1);
  const nested = sub.exceptions[1] as ExceptionGroup;
  assert.ok(nested instanceof ExceptionGroup);
  assert.deepEqual([...nested.exceptions], [t2]);
});

Deno.test("subgroup with a predicate returns undefined when nothing matches", () => {
  const eg = new ExceptionGroup("m", [new Error("a")]);
  assert.equal(eg.subgroup(() => false), undefined);
  assert.equal(eg.subgroup(SyntaxError), undefined);
});

Deno.test("derive makes a new group with the same message and the given exceptions", () => {
  const eg = new ExceptionGroup("original", [new Error("a")]);
  const x = new Error("x"), y = new Error("y");
  const derived = eg.derive([x, y]);
  assert.ok(derived instanceof ExceptionGroup);
  assert.notEqual(derived, eg);
  assert.equal(derived.message, "original");
  assert.deepEqual([...derived.exceptions], [x, y]);
  assert.equal(eg.exceptions.length, 1);
});

Deno.test("derive with no exceptions is a TypeError", () => {
  const eg = new ExceptionGroup("m", [new Error()]);
  assert.throws(() => eg.derive([]), TypeError);
});

// ------------------------------------- splitCancellation and nonCancelSubgroup

Deno.test("splitCancellation separates cancellations from the other errors", () => {
  const c = new CancelledError(), abort = new DOMException("x", "AbortError");
  const boom = new Error("boom");
  const [cancels, rest] = splitCancellation(new ExceptionGroup("m", [c, boom, abort]));
  assert.deepEqual([...cancels!.exceptions], [c, abort]);
  assert.deepEqual([...rest!.exceptions], [boom]);
});

Deno.test("splitCancellation keeps nesting and returns undefined for an empty half", () => {
  const c = new CancelledError(), boom = new Error("boom");
  const eg = new ExceptionGroup("outer", [new ExceptionGroup("inner", [c, boom])]);
  const [cancels, rest] = splitCancellation(eg);
  assert.deepEqual([...(cancels!.exceptions[0] as ExceptionGroup).exceptions], [c]);
  assert.deepEqual([...(rest!.exceptions[0] as ExceptionGroup).exceptions], [boom]);
  const onlyCancels = new ExceptionGroup("m", [new CancelledError()]);
  assert.deepEqual(splitCancellation(onlyCancels), [onlyCancels, undefined]);
});

Deno.test("nonCancelSubgroup returns the errors that are not cancellations", () => {
  const boom = new Error("boom");
  const eg = new ExceptionGroup("m", [new CancelledError(), boom]);
  assert.deepEqual([...nonCancelSubgroup(eg)!.exceptions], [boom]);
});

Deno.test("nonCancelSubgroup returns undefined for a group of cancellations only", () => {
  const eg = new ExceptionGroup("m", [
    new CancelledError(),
    new ExceptionGroup("inner", [new DOMException("x", "AbortError")]),
  ]);
  assert.equal(nonCancelSubgroup(eg), undefined);
});

Deno.test("RateLimitError and CircuitOpenError reject a negative or NaN retryAfter, and allow Infinity", () => {
  for (const ErrorClass of [RateLimitError, CircuitOpenError]) {
    assert.throws(() => new ErrorClass("m", { retryAfter: -1 }), {
      name: "RangeError",
      message: new RegExp(`${ErrorClass.name}: 'retryAfter'.*received -1`),
    });
    assert.throws(() => new ErrorClass("m", { retryAfter: NaN }), RangeError);
    assert.throws(
      () => new ErrorClass("m", { retryAfter: "5" as unknown as number }),
      TypeError,
    );
    assert.equal(new ErrorClass("m", { retryAfter: Infinity }).retryAfter, Infinity);
    assert.equal(new ErrorClass("m").retryAfter, 0);
  }
});
