// Copyright 2026 the @lionpride/core authors. MIT license.
// API.md §2-§4 and §7-§9 read sentence by sentence against the code: each
// test here pins a rule that no other test caught when the code behind it
// was deliberately broken (the mutation is named above each test).
import assert from "node:assert/strict";
import {
  alcall,
  type AlcallProgress,
  alcallStream,
  asCompleted,
  bcall,
  boundedMap,
  type CallContext,
  CancelledError,
  CancelScope,
  type chunks,
  type currentScope,
  currentTime,
  type effectiveDeadline,
  ExceptionGroup,
  failAfter,
  type failAt,
  gather,
  type isCancelled,
  moveOnAfter,
  type moveOnAt,
  nonCancelSubgroup,
  race,
  retry,
  type shield,
  splitCancellation,
  type TaskGroup,
  taskGroup,
  type TaskStatus,
  TimeoutError,
  toList,
} from "../mod.ts";
import { macrotask } from "./_helpers.ts";

/** An async iterator over `items` that counts its pulls and its return() calls. */
function countingInput<T>(items: readonly T[]) {
  const log = { pulled: 0, closed: 0 };
  const input: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (log.pulled >= items.length) return Promise.resolve({ done: true, value: undefined });
      return Promise.resolve({ done: false, value: items[log.pulled++] });
    },
    return() {
      log.closed++;
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return { log, input };
}

/** Yields 0 and 1, then throws `err` once `broken` is called. */
function breakingInput(err: Error) {
  let broken!: () => void;
  const gate = new Promise<void>((resolve) => (broken = resolve));
  async function* gen(): AsyncGenerator<number> {
    yield 0;
    yield 1;
    await gate;
    throw err;
  }
  return { input: gen(), broken };
}

// §9 "An input iterator that throws rejects the call with that error,
// unwrapped, after cancelling running items" — also when a running item,
// cancelled by the input's failure, fails with an error of its own.
// Mutations: collect() rethrowing the task group's ExceptionGroup instead of
// the input's error (_pool_tasks.ts); runAlcall checking item failures before
// the input's error (_run.ts).
Deno.test("an input that throws rejects alcall, alcallStream and boundedMap with its own error even when a cancelled item fails as it unwinds", async () => {
  const calls: Record<string, (input: AsyncIterable<number>) => Promise<unknown>> = {
    alcall: (input) =>
      alcall(input, (x, ctx) => unwindsWithError(x, ctx.signal), { maxConcurrent: 3 }),
    alcallStream: async (input) => {
      const out = [];
      const it = alcallStream(input, (x, ctx) => unwindsWithError(x, ctx.signal), {
        maxConcurrent: 3,
      });
      for await (const v of it) out.push(v);
      return out;
    },
    boundedMap: (input) =>
      boundedMap(input, (x, _i, signal) => unwindsWithError(x, signal), { limit: 3 }),
  };
  const started: number[] = [];
  let broken = (): void => {};
  async function unwindsWithError(x: number, signal: AbortSignal): Promise<number> {
    started.push(x);
    if (started.length === 2) broken();
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    throw new Error(`item ${x} failed while it unwound`);
  }
  for (const [name, call] of Object.entries(calls)) {
    started.length = 0;
    const inputError = new Error(`${name}'s input broke`);
    const breaking = breakingInput(inputError);
    broken = breaking.broken;
    const err = await call(breaking.input).then(() => undefined, (e) => e);
    assert.equal(err, inputError, `${name}: ${err}`);
    assert.deepEqual(started, [0, 1], name);
  }
});

// §9 "On a stream ... onProgress's total counts the items pulled so far
// until the input ends" (bcall). Mutation: bcall not raising `total` as it
// pulls a batch (bcall.ts); total then stayed 0.
Deno.test("bcall on a generator reports as onProgress's total the items pulled so far", async () => {
  function* items(): Generator<number> {
    for (let i = 0; i < 5; i++) yield i;
  }
  const totals: number[] = [];
  const onProgress = (p: AlcallProgress): void => {
    totals.push(p.total);
  };
  const batches: number[][] = [];
  for await (const batch of bcall(items(), (x) => x, { batchSize: 2, onProgress })) {
    batches.push(batch);
  }
  assert.deepEqual(batches, [[0, 1], [2, 3], [4]]);
  // Each batch's progress reports the items pulled until then: 2, then 4, then all 5.
  assert.deepEqual([...new Set(totals)], [2, 4, 5]);
  assert.ok(totals.every((t, i) => i === 0 || t >= totals[i - 1]), `${totals}`);
});

// §8 toList "unique: deep equality for plain objects and arrays,
// SameValueZero otherwise" — inside arrays and objects too. Mutation: the
// deep comparison using === for leaves (to_list.ts), so [NaN] != [NaN].
Deno.test("toList unique compares the leaves of plain objects and arrays with SameValueZero", () => {
  const first = [NaN, 0];
  const out = toList([first, [NaN, -0], { a: NaN }, { a: NaN }, [1]], { unique: true });
  assert.equal(out.length, 3);
  assert.equal(out[0], first); // the first of equal items is kept
  assert.deepEqual(out.slice(1), [{ a: NaN }, [1]]);
  // Not plain: compared by identity, however alike.
  assert.equal(toList([new Date(0), new Date(0)], { unique: true }).length, 2);
});

/** How many items an alcallStream over 50 instant items has started once its consumer stops after one. */
async function startedWhenStalled(options: { maxConcurrent: number; buffer?: number }) {
  let started = 0;
  const it = alcallStream(Array.from({ length: 50 }, (_, i) => i), (x) => {
    started++;
    return Promise.resolve(x);
  }, options);
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  for (let i = 0; i < 5; i++) await macrotask();
  await it.return!();
  return started;
}

// §9 "buffer (an integer ≥ 1; default maxConcurrent, or 64 when that is
// unlimited)". Mutation: a default of maxConcurrent + 1 (alcall_stream.ts).
Deno.test("alcallStream's buffer defaults to exactly maxConcurrent: a stalled consumer holds back the same starts", async () => {
  for (const maxConcurrent of [1, 3]) {
    const byDefault = await startedWhenStalled({ maxConcurrent });
    assert.equal(byDefault, await startedWhenStalled({ maxConcurrent, buffer: maxConcurrent }));
    // The scenario sees the buffer: one more slot starts one more item.
    assert.equal(
      await startedWhenStalled({ maxConcurrent, buffer: maxConcurrent + 1 }),
      byDefault + 1,
    );
    assert.ok(byDefault < 50);
  }
});

// §9 "break/return() cancels what is running, waits for it to unwind
// (bounded exit)". Mutation: return() resolving as soon as it has cancelled
// the run (alcall_stream.ts). An item whose clean-up takes many microtask turns
// shows it: the existing test's clean-up ends in the turn of the abort.
Deno.test("alcallStream's return() resolves only after the running items' clean-up has run", async () => {
  const unwound: number[] = [];
  const it = alcallStream([0, 1, 2], async (x, ctx) => {
    if (x === 0) return x;
    try {
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    } finally {
      for (let i = 0; i < 100; i++) await null; // honours the signal, unwinds slowly
      unwound.push(x);
    }
    return x;
  }, { maxConcurrent: 3 });
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  assert.deepEqual(await it.return!(), { done: true, value: undefined });
  assert.deepEqual(unwound.sort(), [1, 2]);
});

// §9 "leaving early ... calls the input iterator's return()" and "Nothing is
// pulled or started before the first next()". Mutation: return() before the
// first next() leaving the input open (alcall_stream.ts).
Deno.test("alcallStream closed before its first next() closes its input, pulls nothing and calls nothing", async () => {
  const { log, input } = countingInput([1, 2, 3]);
  let calls = 0;
  const it = alcallStream(input, (x) => {
    calls++;
    return x;
  }, { maxConcurrent: 2 });
  assert.deepEqual(await it.return!(), { done: true, value: undefined });
  assert.equal(log.closed, 1);
  assert.equal(log.pulled, 0);
  assert.equal(calls, 0);
  assert.deepEqual(await it.next(), { done: true, value: undefined });
  assert.equal(log.pulled, 0);
});

// §9 "the first final failure ... the iterator throws the ExceptionGroup at
// its next next(); results not yet yielded are dropped". Mutations: next()
// handing out finished results before the error (no stop check), and the
// error path keeping them for a later next() (alcall_stream.ts).
Deno.test("alcallStream drops the finished results not yet yielded when an item fails", async () => {
  const boom = new Error("boom");
  const it = alcallStream([0, 1, 2, 3], async (x) => {
    if (x === 3) {
      await macrotask(); // 1 and 2 finished and wait in the buffer by then
      throw boom;
    }
    return x;
  }, { maxConcurrent: 4, ordered: false });
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  await macrotask();
  await macrotask();
  const err = await it.next().then(() => undefined, (e) => e);
  assert.ok(err instanceof ExceptionGroup, `${err}`);
  assert.deepEqual(err.exceptions, [boom]);
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

// §3 "cancelCalled: boolean (cancel() called or deadline reached)": a scope
// not yet run whose deadline has passed has reached it (as Trio's
// cancel_called says for a scope not yet entered); it said false until run()
// entered it. Reading it must not cancel anything: a deadline moved later
// before run() still counts.
Deno.test("cancelCalled is true for a scope not yet run whose deadline has passed", async () => {
  const passed = new CancelScope({ deadline: currentTime() - 1 });
  assert.equal(passed.cancelCalled, true);
  const set = new CancelScope();
  assert.equal(set.cancelCalled, false);
  set.deadline = currentTime() - 1;
  assert.equal(set.cancelCalled, true);
  set.deadline = Infinity; // moved away before run: not reached any more
  assert.equal(set.cancelCalled, false);
  assert.equal(await set.run(() => "ran"), "ran");
  assert.equal(set.cancelCalled, false);
  let invoked = false;
  assert.equal(await passed.run(() => (invoked = true)), undefined);
  assert.equal(invoked, false);
  assert.equal(passed.cancelCalled, true);
  assert.equal(passed.cancelledCaught, true);
});

// ---------------------------------------------------------------------------
// The signatures of API.md §2-§4 and §7-§9 as a user writes them: which
// arguments are optional, what each call returns. `deno task check` type-checks
// this file, so a signature that drifts (an options object made optional or
// required, a return type widened or narrowed) fails the check. Mutations:
// boundedMap's options made optional, retry's options made required, and
// alcall's returnExceptions overload returning Promise<R[]> (each failed
// `deno check`).

/** True when A and B are the same type. */
type Same<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true
  : false;
/** Accepts only `true`: a type-level assertion. */
function same<T extends true>(_proof?: T): void {}

// Never called: only type-checked (the calls with missing arguments would reject).
function signatures(): void {
  // §2
  const eg = new ExceptionGroup("m", [new TypeError("a")]);
  same<Same<typeof eg.exceptions, readonly TypeError[]>>();
  same<
    Same<
      ReturnType<typeof eg.split>,
      [ExceptionGroup<TypeError> | undefined, ExceptionGroup<TypeError> | undefined]
    >
  >();
  same<Same<ReturnType<typeof eg.subgroup>, ExceptionGroup<TypeError> | undefined>>();
  same<
    Same<
      typeof splitCancellation<Error>,
      (
        eg: ExceptionGroup<Error>,
      ) => [ExceptionGroup<Error> | undefined, ExceptionGroup<Error> | undefined]
    >
  >();
  same<Same<ReturnType<typeof nonCancelSubgroup<Error>>, ExceptionGroup<Error> | undefined>>();
  const timeout = new TimeoutError();
  same<Same<[typeof timeout.timeout, typeof timeout.source], [number, string]>>();
  same<Same<typeof isCancelled, (err: unknown) => boolean>>();
  // §3
  const scope = new CancelScope();
  new CancelScope({ deadline: 1, shield: true });
  same<Same<ReturnType<typeof scope.run<number>>, Promise<number | undefined>>>();
  same<Same<ReturnType<typeof failAfter<number>>, Promise<number>>>();
  same<Same<ReturnType<typeof failAt<number>>, Promise<number>>>();
  same<Same<ReturnType<typeof moveOnAfter<number>>, Promise<number | undefined>>>();
  same<Same<ReturnType<typeof moveOnAt<number>>, Promise<number | undefined>>>();
  same<Same<ReturnType<typeof shield<number>>, Promise<number>>>();
  failAfter(null, () => 1);
  moveOnAfter(null, () => 1);
  same<Same<ReturnType<typeof effectiveDeadline>, number>>();
  same<Same<ReturnType<typeof currentScope>, CancelScope | undefined>>();
  // §4
  same<Same<ReturnType<typeof taskGroup<number>>, Promise<number | undefined>>>();
  taskGroup((tg: TaskGroup) => {
    tg.startSoon((a: number, b: string) => a + b, 1, "b");
    // @ts-expect-error the arguments follow fn's parameters
    tg.startSoon((a: number) => a, "not a number");
    same<Same<ReturnType<typeof tg.start<string>>, Promise<string>>>();
    tg.start((status: TaskStatus<string>) => status.started("ready"));
    same<Same<[typeof tg.cancelScope, typeof tg.signal], [CancelScope, AbortSignal]>>();
  });
  // §7
  same<Same<ReturnType<typeof retry<number>>, Promise<number>>>();
  retry(({ attempt, signal }) => attempt + Number(signal.aborted));
  retry(() => 1, { attempts: 3, baseDelay: 100, maxDelay: 2000, jitter: 0.1, retryOn: () => true });
  const gatheredValues = gather([() => 1, () => Promise.resolve(2)]);
  same<Same<typeof gatheredValues, Promise<number[]>>>();
  const gathered = gather([() => 1], { returnExceptions: true });
  same<Same<typeof gathered, Promise<Array<number | Error>>>>();
  const winner = race([() => 1, () => Promise.resolve(2)]);
  same<Same<typeof winner, Promise<number>>>();
  // @ts-expect-error boundedMap's options (with limit) are required
  boundedMap([1], (x) => x);
  const mapped = boundedMap([1], (x, index) => `${x}${index}`, { limit: 2 });
  same<Same<typeof mapped, Promise<string[]>>>();
  const completed = asCompleted([() => 1], { limit: 2 });
  same<Same<Awaited<ReturnType<typeof completed.next>>, IteratorResult<[number, number]>>>();
  same<Same<ReturnType<typeof chunks<number>>, Generator<number[], void, undefined>>>();
  // §8
  const called = alcall([1, 2], (x, ctx: CallContext) => x + ctx.index + ctx.attempt);
  same<Same<typeof called, Promise<number[]>>>();
  const withErrors = alcall([1], (x) => x, { returnExceptions: true });
  same<Same<typeof withErrors, Promise<Array<number | Error>>>>();
  alcall("one item", (s) => s.toUpperCase());
  // @ts-expect-error bcall needs batchSize
  bcall([1], (x) => x);
  const batches = bcall([1], (x) => String(x), { batchSize: 2 });
  same<Same<typeof batches, AsyncGenerator<string[]>>>();
  same<Same<ReturnType<typeof toList>, unknown[]>>();
  toList(1);
  // §9
  async function* numbers(): AsyncGenerator<number> {
    yield 1;
  }
  alcall(numbers(), (x) => x, { maxConcurrent: 2 });
  bcall(numbers(), (x) => x, { batchSize: 2 });
  boundedMap(numbers(), (x) => x, { limit: 2 });
  const streamed = alcallStream(numbers(), (x) => String(x), { ordered: false, buffer: 4 });
  same<Same<Awaited<ReturnType<typeof streamed.next>>, IteratorResult<string>>>();
  const streamedErrors = alcallStream([1], (x) => x, { returnExceptions: true });
  same<Same<Awaited<ReturnType<typeof streamedErrors.next>>, IteratorResult<number | Error>>>();
}

Deno.test("the signatures of API.md §2-§4 and §7-§9 type-check as written (checked by deno check)", () => {
  assert.equal(typeof signatures, "function");
});

// §2 "`condition` is an error class or a predicate `(e) => boolean`": a
// predicate written as a classic function (it has a prototype) is called,
// not used with instanceof. Mutation: every function with a prototype taken
// for a class (_exception_group.ts).
Deno.test("ExceptionGroup.split calls a predicate written as a function expression", () => {
  const a = new TypeError("a"), b = new RangeError("b");
  const eg = new ExceptionGroup("two", [a, b]);
  const [match, rest] = eg.split(function isTypeError(e) {
    return e instanceof TypeError;
  });
  assert.deepEqual(match?.exceptions, [a]);
  assert.deepEqual(rest?.exceptions, [b]);
  // A class not derived from Error (thrown non-Errors) is still a class.
  class Code {
    constructor(readonly code: number) {}
  }
  const thrown = new Code(7);
  const mixed = new ExceptionGroup<unknown>("mixed", [thrown, a]);
  assert.deepEqual(mixed.subgroup(Code)?.exceptions, [thrown]);
});

// §2 "splitCancellation(eg) → [cancellations | undefined, rest | undefined];
// nonCancelSubgroup(eg) → rest | undefined", a cancellation being what
// isCancelled says: a CancelledError or any error named "AbortError", nested
// groups included. Mutation: either function also taking a RangeError for a
// cancellation (_exception_group.ts); the suite only split plain Errors off.
Deno.test("splitCancellation and nonCancelSubgroup split on isCancelled alone, nesting kept", () => {
  const cancelled = new CancelledError(), aborted = new DOMException("stop", "AbortError");
  const range = new RangeError("r"), timeout = new TimeoutError(), thrown = { code: 1 };
  const inner = new ExceptionGroup<unknown>("inner", [aborted, range]);
  const eg = new ExceptionGroup<unknown>("outer", [cancelled, inner, timeout, thrown]);
  const [cancels, rest] = splitCancellation(eg);
  assert.equal(cancels?.exceptions[0], cancelled);
  assert.deepEqual((cancels?.exceptions[1] as ExceptionGroup).exceptions, [aborted]);
  assert.equal(cancels?.exceptions.length, 2);
  assert.deepEqual((rest?.exceptions[0] as ExceptionGroup).exceptions, [range]);
  assert.deepEqual(rest?.exceptions.slice(1), [timeout, thrown]);
  const only = nonCancelSubgroup(eg);
  assert.deepEqual((only?.exceptions[0] as ExceptionGroup).exceptions, [range]);
  assert.deepEqual(only?.exceptions.slice(1), [timeout, thrown]);
  assert.equal(nonCancelSubgroup(new ExceptionGroup("c", [cancelled, aborted])), undefined);
  assert.deepEqual(splitCancellation(new ExceptionGroup("r", [range]))[0], undefined);
});
