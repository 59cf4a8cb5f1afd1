// Copyright 2026 the @lionpride/core authors. MIT license.
// The argument errors of the scope, timeout, sleep, task-group and queue calls,
// word for word: each names the call, the parameter and the value received.
import assert from "node:assert/strict";
import {
  CancelScope,
  failAfter,
  failAt,
  moveOnAfter,
  moveOnAt,
  PriorityQueue,
  Queue,
  shield,
  sleep,
  type TaskGroup,
  taskGroup,
} from "../mod.ts";

const untyped = (value: unknown): never => value as never;

/** Asserts that `call` throws or rejects with `type` and exactly `message`. */
async function assertArgumentError(
  call: () => unknown,
  type: typeof TypeError | typeof RangeError,
  message: string,
): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await call();
  } catch (err) {
    assert.ok(err instanceof type, `${err} is not a ${type.name}`);
    assert.equal(err.message, message);
    return;
  }
  assert.fail(`no error, got ${String(outcome)}`);
}

const fn = (): number => 1;

/** Runs `use` in a task group and throws what `use` threw or rejected with. */
const inGroup = (use: (tg: TaskGroup) => unknown) => async (): Promise<never> => {
  let error: unknown = new Error("no error");
  await taskGroup(async (tg) => {
    try {
      await use(tg);
    } catch (err) {
      error = err;
    }
  });
  throw error;
};

Deno.test("the timeout calls name themselves, the parameter and the typed value in their rejections", async () => {
  const cases: [() => unknown, typeof TypeError, string][] = [
    [
      () => failAfter(untyped("10"), fn),
      TypeError,
      `Cannot call failAfter: 'ms' must be a number or null, received string "10"`,
    ],
    [
      () => failAfter(NaN, fn),
      RangeError,
      "Cannot call failAfter: 'ms' must not be NaN, received NaN",
    ],
    [
      () => failAfter(10, untyped(5)),
      TypeError,
      "Cannot call failAfter: 'fn' must be a function, received number 5",
    ],
    [
      () => moveOnAfter(untyped(true), fn),
      TypeError,
      "Cannot call moveOnAfter: 'ms' must be a number or null, received boolean true",
    ],
    [
      () => moveOnAfter(null, untyped(null)),
      TypeError,
      "Cannot call moveOnAfter: 'fn' must be a function, received null",
    ],
    [
      () => failAt(untyped(undefined), fn),
      TypeError,
      "Cannot call failAt: 'deadline' must be a number, received undefined",
    ],
    [
      () => failAt(NaN, fn),
      RangeError,
      "Cannot call failAt: 'deadline' must not be NaN, received NaN",
    ],
    [
      () => moveOnAt(Infinity, untyped("f")),
      TypeError,
      `Cannot call moveOnAt: 'fn' must be a function, received string "f"`,
    ],
    [
      () => moveOnAt(NaN, untyped("f")),
      RangeError,
      "Cannot call moveOnAt: 'deadline' must not be NaN, received NaN",
    ],
    [
      () => shield(untyped([])),
      TypeError,
      "Cannot call shield: 'fn' must be a function, received array",
    ],
  ];
  for (const [call, type, message] of cases) await assertArgumentError(call, type, message);
});

Deno.test("CancelScope's constructor, setters and run name the parameter and the typed value", async () => {
  const cases: [() => unknown, typeof TypeError, string][] = [
    [
      () => new CancelScope(untyped(7)),
      TypeError,
      "Cannot create CancelScope: 'options' must be an object, received number 7",
    ],
    [
      () => new CancelScope({ deadline: untyped("1") }),
      TypeError,
      `Cannot create CancelScope: 'deadline' must be a number, received string "1"`,
    ],
    [
      () => new CancelScope({ deadline: NaN }),
      RangeError,
      "Cannot create CancelScope: 'deadline' must not be NaN, received NaN",
    ],
    [
      () => new CancelScope({ shield: untyped(1) }),
      TypeError,
      "Cannot create CancelScope: 'shield' must be a boolean, received number 1",
    ],
    [
      () => (new CancelScope().deadline = NaN),
      RangeError,
      "Cannot set CancelScope.deadline: 'deadline' must not be NaN, received NaN",
    ],
    [
      () => (new CancelScope().shield = untyped(undefined)),
      TypeError,
      "Cannot set CancelScope.shield: 'shield' must be a boolean, received undefined",
    ],
    [
      () => new CancelScope().run(untyped(42)),
      TypeError,
      "Cannot run CancelScope: 'fn' must be a function, received number 42",
    ],
  ];
  for (const [call, type, message] of cases) await assertArgumentError(call, type, message);
});

Deno.test("sleep and the task group calls name the parameter and the typed value", async () => {
  const cases: [() => unknown, typeof TypeError, string][] = [
    [
      () => sleep(untyped("5")),
      TypeError,
      `Cannot sleep: 'ms' must be a number, received string "5"`,
    ],
    [() => sleep(-1), RangeError, "Cannot sleep: 'ms' must be >= 0 or Infinity, received -1"],
    [
      () => taskGroup(untyped({})),
      TypeError,
      "Cannot call taskGroup: 'fn' must be a function, received object",
    ],
    [
      inGroup((tg) => tg.startSoon(untyped(3))),
      TypeError,
      "Cannot call TaskGroup.startSoon: 'fn' must be a function, received number 3",
    ],
    [
      inGroup((tg) => tg.start(untyped("x"))),
      TypeError,
      `Cannot call TaskGroup.start: 'fn' must be a function, received string "x"`,
    ],
  ];
  for (const [call, type, message] of cases) await assertArgumentError(call, type, message);
});

Deno.test("the queues name the parameter and the value, numbers bare, strings quoted and other values by type", async () => {
  const cases: [() => unknown, typeof TypeError, string][] = [
    [
      () => new Queue(untyped(true)),
      TypeError,
      "Cannot create Queue: 'options' must be an object, received boolean",
    ],
    [
      () => new Queue({ maxSize: untyped("3") }),
      TypeError,
      `Cannot create Queue: 'maxSize' must be a positive integer or Infinity, received string "3"`,
    ],
    [
      () => new Queue({ maxSize: 0 }),
      RangeError,
      "Cannot create Queue: 'maxSize' must be a positive integer or Infinity, received 0",
    ],
    [
      () => new PriorityQueue({ maxSize: 1.5 }),
      RangeError,
      "Cannot create PriorityQueue: 'maxSize' must be a positive integer or Infinity, received 1.5",
    ],
    [
      () => new PriorityQueue({ compare: untyped(1) }),
      TypeError,
      "Cannot create PriorityQueue: 'compare' must be a function, received 1",
    ],
  ];
  for (const [call, type, message] of cases) await assertArgumentError(call, type, message);
});
