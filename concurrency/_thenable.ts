// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Following what a body returned (internal): the one thenable adopter of the
 * module, used by `CancelScope.run` and by task-group children.
 *
 * @module
 */

/**
 * Calls `onValue` or `onError`, exactly once, with the outcome of `result`:
 * at once for a value that is not a thenable, else when the thenable
 * settles. A native promise is followed with `then` directly; any other
 * object's `then` is read once, and a `then` getter or call that throws is
 * an error of the body. No extra tick is added, so outcomes keep their order
 * (tests/task_group_test.ts: "a thenable child's synchronous rejection is
 * recorded before later children's failures").
 *
 * @param result What the body returned.
 * @param onValue Called with the value.
 * @param onError Called with the error.
 */
export function whenSettled(
  result: unknown,
  onValue: (value: unknown) => void,
  onError: (err: unknown) => void,
): void {
  if (result instanceof Promise) {
    result.then(onValue, onError);
    return;
  }
  if (result === null || (typeof result !== "object" && typeof result !== "function")) {
    onValue(result);
    return;
  }
  let then: unknown;
  try {
    then = (result as PromiseLike<unknown>).then;
  } catch (err) {
    onError(err);
    return;
  }
  if (typeof then !== "function") {
    onValue(result);
    return;
  }
  let settled = false;
  try {
    (then as PromiseLike<unknown>["then"]).call(
      result,
      (value) => {
        if (settled) return;
        settled = true;
        onValue(value);
      },
      (err) => {
        if (settled) return;
        settled = true;
        onError(err);
      },
    );
  } catch (err) {
    if (settled) return;
    settled = true;
    onError(err);
  }
}
