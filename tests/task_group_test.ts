// Copyright 2026 the @lionpride/core authors. MIT license.
// Tests for API.md §4: taskGroup, TaskGroup, TaskStatus.
import assert from "node:assert/strict";
import {
  CancelledError,
  CancelScope,
  currentScope,
  effectiveDeadline,
  ExceptionGroup,
  failAfter,
  moveOnAfter,
  sleep,
  TaskGroup,
  taskGroup,
  type TaskStatus,
  TimeoutError,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";
import { deferred, macrotask, state } from "./_helpers.ts";

/** Asserts `err` is an ExceptionGroup holding exactly `expected`, in order. */
function assertGroupOf(err: unknown, expected: unknown[]): true {
  assert.ok(err instanceof ExceptionGroup, `expected an ExceptionGroup, got ${err}`);
  assert.equal(err.exceptions.length, expected.length);
  expected.forEach((e, i) => assert.equal(err.exceptions[i], e, `exception #${i}`));
  return true;
}

// ---------------------------------------------------------------- arguments

Deno.test("taskGroup rejects with a TypeError naming 'fn' when fn is not a function", async () => {
  await assert.rejects(
    taskGroup("nope" as never),
    (err: unknown) =>
      err instanceof TypeError && /'fn'/.test(err.message) && /string/.test(err.message),
  );
});

Deno.test("a TaskGroup cannot be constructed directly", () => {
  assert.throws(() => new (TaskGroup as unknown as new () => unknown)(), TypeError);
});

Deno.test("startSoon throws a TypeError naming 'fn' when fn is not a function", async () => {
  await taskGroup((tg) => {
    assert.throws(
      () => tg.startSoon(5 as never),
      (err: unknown) =>
        err instanceof TypeError && /'fn'/.test(err.message) && /number/.test(err.message),
    );
  });
});

Deno.test("start rejects with a TypeError naming 'fn' when fn is not a function", async () => {
  await taskGroup(async (tg) => {
    await assert.rejects(
      tg.start(null as never),
      (err: unknown) => err instanceof TypeError && /'fn'/.test(err.message),
    );
  });
});

// ---------------------------------------------------------------- basics

Deno.test("taskGroup resolves with the body's value", async () => {
  assert.equal(await taskGroup(() => 7), 7);
  assert.equal(
    await taskGroup(async () => {
      await sleep(1);
      return "async";
    }),
    "async",
  );
});

Deno.test("taskGroup settles only after every child has settled", async () => {
  await withFakeTime(async (clock) => {
    const done: number[] = [];
    const p = taskGroup((tg) => {
      for (const ms of [300, 100, 200]) {
        tg.startSoon(async () => {
          await sleep(ms);
          done.push(ms);
        });
      }
      return "body";
    });
    await clock.tickAsync(299);
    assert.equal(await state(p), "pending");
    await clock.tickAsync(1);
    assert.equal(await p, "body");
    assert.deepEqual(done, [100, 200, 300]);
  });
});

Deno.test("startSoon passes its arguments to the child", async () => {
  const seen: unknown[] = [];
  await taskGroup((tg) => {
    tg.startSoon(
      (a: number, b: string) => {
        seen.push(a, b);
      },
      1,
      "two",
    );
  });
  assert.deepEqual(seen, [1, "two"]);
});

Deno.test("children run with the group's scope ambient, across awaits", async () => {
  const seen: (CancelScope | undefined)[] = [];
  let groupScope: CancelScope | undefined;
  await taskGroup((tg) => {
    groupScope = tg.cancelScope;
    tg.startSoon(async () => {
      seen.push(currentScope());
      await sleep(1);
      seen.push(currentScope());
    });
  });
  assert.deepEqual(seen, [groupScope, groupScope]);
});

Deno.test("a child started from inside a nested scope of the body runs in the group's scope", async () => {
  let seen: CancelScope | undefined, groupScope: CancelScope | undefined;
  await taskGroup(async (tg) => {
    groupScope = tg.cancelScope;
    await new CancelScope().run(() => tg.startSoon(() => (seen = currentScope())));
  });
  assert.equal(seen, groupScope);
});

Deno.test("the group's scope nests under the ambient scope", async () => {
  let seen = NaN;
  await new CancelScope({ deadline: 9_000_000 }).run(() =>
    taskGroup((tg) => tg.startSoon(() => (seen = effectiveDeadline())))
  );
  assert.equal(seen, 9_000_000);
});

Deno.test("the group's signal is its scope's signal", async () => {
  await taskGroup((tg) => {
    assert.equal(tg.signal, tg.cancelScope.signal);
    assert.equal(tg.signal.aborted, false);
    tg.cancelScope.cancel();
    assert.equal(tg.signal.aborted, true);
  });
});

Deno.test("children started by children are awaited too", async () => {
  const done: string[] = [];
  await taskGroup((tg) => {
    tg.startSoon(async () => {
      await sleep(1);
      tg.startSoon(async () => {
        await sleep(5);
        done.push("grandchild");
      });
      done.push("child");
    });
  });
  assert.deepEqual(done, ["child", "grandchild"]);
});

Deno.test("a child started in the turn the last child ends is still awaited", async () => {
  const last = deferred();
  let lateDone = false;
  let groupDone = false;
  const p = taskGroup((tg) => {
    tg.startSoon(() => last.promise);
    last.promise.then(() =>
      tg.startSoon(async () => {
        await sleep(5);
        lateDone = true;
      })
    );
  }).then(() => (groupDone = lateDone));
  last.resolve();
  await p;
  assert.equal(groupDone, true);
});

Deno.test("startSoon and start on a finished group throw", async () => {
  let group: TaskGroup | undefined;
  await taskGroup((tg) => {
    group = tg;
  });
  assert.throws(
    () => group!.startSoon(() => {}),
    (err: unknown) => err instanceof Error && /finished/.test(err.message),
  );
  assert.throws(
    () => group!.start(() => {}),
    (err: unknown) => err instanceof Error && /finished/.test(err.message),
  );
});

Deno.test("a child returning a plain value or a thenable counts as done", async () => {
  let thenableDone = false;
  await taskGroup((tg) => {
    tg.startSoon(() => 5);
    tg.startSoon(() => ({
      then(resolve: () => void) {
        setTimeout(() => {
          thenableDone = true;
          resolve();
        }, 1);
      },
    }));
  });
  assert.equal(thenableDone, true);
});

// ----------------------------------------------------------------- failures

Deno.test("the first failure cancels the other children", async () => {
  const boom = new Error("boom");
  let siblingError: unknown;
  let siblingSignal: AbortSignal | undefined;
  await assert.rejects(
    taskGroup((tg) => {
      tg.startSoon(async () => {
        siblingSignal = tg.signal;
        try {
          await sleep(10_000);
        } catch (err) {
          siblingError = err;
          throw err;
        }
      });
      tg.startSoon(async () => {
        await sleep(1);
        throw boom;
      });
    }),
    (err) => assertGroupOf(err, [boom]),
  );
  assert.ok(siblingError instanceof CancelledError);
  assert.equal(siblingSignal!.aborted, true);
});

Deno.test("a single failure is still wrapped in an ExceptionGroup", async () => {
  const boom = new RangeError("only one");
  await assert.rejects(
    taskGroup((tg) => tg.startSoon(() => Promise.reject(boom))),
    (err) => assertGroupOf(err, [boom]),
  );
});

Deno.test("a synchronous throw in a child is a group failure, not thrown by startSoon", async () => {
  const boom = new Error("sync");
  let returned = false;
  await assert.rejects(
    taskGroup((tg) => {
      tg.startSoon(() => {
        throw boom;
      });
      returned = true;
    }),
    (err) => assertGroupOf(err, [boom]),
  );
  assert.equal(returned, true);
});

Deno.test("a failure of the body cancels the children and is reported in the group", async () => {
  const boom = new Error("body");
  let childCancelled = false;
  await assert.rejects(
    taskGroup(async (tg) => {
      tg.startSoon(async () => {
        await sleep(10_000).catch((err) => {
          childCancelled = err instanceof CancelledError;
          throw err;
        });
      });
      await sleep(1);
      throw boom;
    }),
    (err) => assertGroupOf(err, [boom]),
  );
  assert.equal(childCancelled, true);
});

Deno.test("a synchronous throw of the body is reported in the group after the children settle", async () => {
  const boom = new Error("sync body");
  let childSettled = false;
  await assert.rejects(
    taskGroup((tg) => {
      tg.startSoon(() => sleep(10_000).finally(() => (childSettled = true)));
      throw boom;
    }),
    (err) => assertGroupOf(err, [boom]),
  );
  assert.equal(childSettled, true);
});

Deno.test("the ExceptionGroup holds every failure, cleanup errors included, in the order they occurred", async () => {
  await withFakeTime(async (clock) => {
    const first = new Error("first");
    const cleanupA = new Error("cleanup A");
    const cleanupB = new Error("cleanup B");
    const p = taskGroup((tg) => {
      tg.startSoon(async () => {
        try {
          await sleep(10_000);
        } finally {
          await sleep(0).catch(() => {});
          // deno-lint-ignore no-unsafe-finally
          throw cleanupB;
        }
      });
      tg.startSoon(async () => {
        try {
          await sleep(10_000);
        } finally {
          // deno-lint-ignore no-unsafe-finally
          throw cleanupA;
        }
      });
      tg.startSoon(async () => {
        await sleep(100);
        throw first;
      });
      tg.startSoon(() => sleep(10_000)); // cancelled quietly
    });
    const check = assert.rejects(p, (err) => assertGroupOf(err, [first, cleanupA, cleanupB]));
    await clock.tickAsync(100);
    await check;
  });
});

Deno.test("failures of children that fail synchronously keep their order", async () => {
  const errors = [new Error("a"), new Error("b"), new Error("c")];
  await assert.rejects(
    taskGroup((tg) => {
      for (const e of errors) {
        tg.startSoon(() => {
          throw e;
        });
      }
    }),
    (err) => assertGroupOf(err, errors),
  );
});

Deno.test("the cancellations of cancelled children are not part of the ExceptionGroup", async () => {
  const boom = new Error("boom");
  await assert.rejects(
    taskGroup((tg) => {
      for (let i = 0; i < 5; i++) tg.startSoon(() => sleep(10_000));
      tg.startSoon(() => Promise.reject(boom));
    }),
    (err) => assertGroupOf(err, [boom]),
  );
});

Deno.test("a cancellation from an unrelated source while the group is not cancelled is a failure", async () => {
  const foreign = new DOMException("fetch aborted", "AbortError");
  await assert.rejects(
    taskGroup((tg) => tg.startSoon(() => Promise.reject(foreign))),
    (err) => assertGroupOf(err, [foreign]),
  );
});

Deno.test("a failing inner group is nested in the outer group's ExceptionGroup", async () => {
  const boom = new Error("deep");
  await assert.rejects(
    taskGroup((tg) => {
      tg.startSoon(() => taskGroup((inner) => inner.startSoon(() => Promise.reject(boom))));
      tg.startSoon(() => sleep(10_000));
    }),
    (err: unknown) => {
      assert.ok(err instanceof ExceptionGroup);
      assert.equal(err.exceptions.length, 1);
      assertGroupOf(err.exceptions[0], [boom]);
      return true;
    },
  );
});

Deno.test("a failure inside failAfter is an ExceptionGroup, not a TimeoutError", async () => {
  const boom = new Error("boom");
  await assert.rejects(
    failAfter(10_000, () => taskGroup((tg) => tg.startSoon(() => Promise.reject(boom)))),
    (err) => !(err instanceof TimeoutError) && assertGroupOf(err, [boom]),
  );
});

// ------------------------------------------------------------- cancellation

Deno.test("a task group never settles before its children, even when cancelled", async () => {
  const stubborn = deferred();
  let childDone = false;
  const p = taskGroup((tg) => {
    tg.startSoon(async () => {
      await stubborn.promise; // ignores the cancellation
      childDone = true;
    });
    tg.cancelScope.cancel();
  });
  await macrotask();
  await macrotask();
  assert.equal(await state(p), "pending");
  stubborn.resolve();
  assert.equal(await p, undefined);
  assert.equal(childDone, true);
});

Deno.test("a task group under an enclosing deadline still waits for a child that ignores it", async () => {
  await withFakeTime(async (clock) => {
    const stubborn = deferred();
    let group: Promise<unknown> | undefined;
    const p = moveOnAfter(100, () => {
      group = taskGroup((tg) => tg.startSoon(() => stubborn.promise));
      return group;
    });
    group!.catch(() => {});
    await clock.tickAsync(100);
    await clock.tickAsync(1);
    assert.equal(await p, undefined, "the scope has a bounded exit");
    assert.equal(await state(group!), "pending", "the group has not");
    stubborn.resolve();
    assert.ok(await group!.catch((err) => err) instanceof CancelledError);
  });
});

Deno.test("cancelling the group's own scope from the body resolves undefined", async () => {
  let group: TaskGroup | undefined;
  const value = await taskGroup(async (tg) => {
    group = tg;
    tg.startSoon(() => sleep(10_000));
    tg.cancelScope.cancel();
    await sleep(10_000);
    return "not reached";
  });
  assert.equal(value, undefined);
  assert.equal(group!.cancelScope.cancelledCaught, true);
});

Deno.test("cancelling the group's own scope after the body returned keeps the body's value", async () => {
  const value = await taskGroup((tg) => {
    tg.startSoon(async () => {
      await sleep(1);
      tg.cancelScope.cancel();
    });
    tg.startSoon(() => sleep(10_000));
    return "body value";
  });
  assert.equal(value, "body value");
});

Deno.test("a cancellation from an enclosing scope propagates as that cancellation", async () => {
  const outer = new CancelScope();
  let groupError: unknown;
  let childrenCancelled = 0;
  await outer.run(async () => {
    await taskGroup((tg) => {
      for (let i = 0; i < 3; i++) {
        tg.startSoon(() =>
          sleep(10_000).catch((err) => {
            childrenCancelled++;
            throw err;
          })
        );
      }
      outer.cancel("outer");
    }).catch((err) => {
      groupError = err;
      throw err;
    });
  });
  assert.equal(groupError, outer.signal.reason);
  assert.equal(childrenCancelled, 3);
  assert.equal(outer.cancelledCaught, true);
});

Deno.test("an enclosing deadline around a task group resolves the scope undefined", async () => {
  await withFakeTime(async (clock) => {
    const p = moveOnAfter(100, () => taskGroup((tg) => tg.startSoon(() => sleep(10_000))));
    await clock.tickAsync(100);
    assert.equal(await p, undefined);
  });
});

Deno.test("a task group in an already cancelled scope does not invoke its body", async () => {
  const outer = new CancelScope();
  let invoked = false;
  let groupError: unknown;
  await outer.run(async () => {
    outer.cancel();
    await taskGroup(() => {
      invoked = true;
    }).catch((err) => (groupError = err));
  });
  assert.equal(invoked, false);
  assert.equal(groupError, outer.signal.reason);
});

Deno.test("a deadline set on the group's scope cancels its children at that time", async () => {
  await withFakeTime(async (clock) => {
    const p = taskGroup(async (tg) => {
      tg.cancelScope.deadline = 500;
      tg.startSoon(() => sleep(10_000));
      await sleep(10_000);
      return "not reached";
    });
    await clock.tickAsync(499);
    assert.equal(await state(p), "pending");
    await clock.tickAsync(1);
    assert.equal(await p, undefined);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("failures win over an enclosing cancellation", async () => {
  const outer = new CancelScope();
  const cleanup = new Error("cleanup failed");
  let groupError: unknown;
  await outer.run(async () => {
    await taskGroup((tg) => {
      tg.startSoon(async () => {
        try {
          await sleep(10_000);
        } finally {
          // deno-lint-ignore no-unsafe-finally
          throw cleanup;
        }
      });
      outer.cancel();
    }).catch((err) => {
      groupError = err;
    });
  });
  assertGroupOf(groupError, [cleanup]);
});

// -------------------------------------------------------------------- start

Deno.test("start resolves with the value given to started and the child keeps running", async () => {
  const events: string[] = [];
  await taskGroup(async (tg) => {
    const port = await tg.start<number>(async (status) => {
      await sleep(1);
      status.started(8080);
      events.push("started");
      await sleep(5);
      events.push("child done");
    });
    events.push(`port ${port}`);
  });
  assert.deepEqual(events, ["started", "port 8080", "child done"]);
});

Deno.test("start's child runs in the group's scope", async () => {
  let seen: CancelScope | undefined, groupScope: CancelScope | undefined;
  await taskGroup(async (tg) => {
    groupScope = tg.cancelScope;
    await tg.start((status: TaskStatus) => {
      seen = currentScope();
      status.started();
    });
  });
  assert.equal(seen, groupScope);
});

Deno.test("start rejects with the child's error when it fails before started, and the group does not fail", async () => {
  const boom = new Error("failed to bind");
  let siblingCompleted = false;
  const value = await taskGroup(async (tg) => {
    tg.startSoon(async () => {
      await sleep(5);
      siblingCompleted = true;
    });
    await assert.rejects(
      tg.start(async () => {
        await sleep(1);
        throw boom;
      }),
      (err) => err === boom,
    );
    return "group ok";
  });
  assert.equal(value, "group ok");
  assert.equal(siblingCompleted, true);
});

Deno.test("start rejects with an Error when the child returns without calling started", async () => {
  const value = await taskGroup(async (tg) => {
    await assert.rejects(
      tg.start(async () => {
        await sleep(1);
      }),
      (err: unknown) => err instanceof Error && /never/.test(err.message),
    );
    return "group ok";
  });
  assert.equal(value, "group ok");
});

Deno.test("a child that fails after started is a failure of the group", async () => {
  const boom = new Error("later");
  await assert.rejects(
    taskGroup(async (tg) => {
      await tg.start(async (status: TaskStatus) => {
        status.started();
        await sleep(1);
        throw boom;
      });
    }),
    (err) => assertGroupOf(err, [boom]),
  );
});

Deno.test("start rejects with the cancellation when the group is cancelled before started", async () => {
  let startError: unknown;
  let group: TaskGroup | undefined;
  const value = await taskGroup(async (tg) => {
    group = tg;
    const p = tg.start(async (status: TaskStatus) => {
      await sleep(10_000);
      status.started();
    });
    tg.cancelScope.cancel();
    startError = await p.catch((err) => err);
    return "after";
  });
  assert.equal(startError, group!.cancelScope.signal.reason);
  assert.equal(value, undefined);
});

Deno.test("calling started twice throws", async () => {
  let second: unknown;
  await taskGroup(async (tg) => {
    await tg.start((status: TaskStatus) => {
      status.started();
      try {
        status.started();
      } catch (err) {
        second = err;
      }
    });
  });
  assert.ok(second instanceof Error);
});

Deno.test("start waits for the child to call started", async () => {
  await withFakeTime(async (clock) => {
    const p = taskGroup(async (tg) => {
      const v = tg.start<string>(async (status) => {
        await sleep(1_000);
        status.started("ready");
      });
      assert.equal(await state(v), "pending");
      await clock.tickAsync(1_000);
      return await v;
    });
    assert.equal(await p, "ready");
  });
});

Deno.test("a child returning an object whose then getter throws is a failure, and the group settles", async () => {
  const err = await taskGroup((tg) => {
    tg.startSoon(() => ({
      get then(): never {
        throw new Error("then getter throws");
      },
    }));
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ExceptionGroup);
  assert.equal((err.exceptions[0] as Error).message, "then getter throws");
});

Deno.test("a thenable child's synchronous rejection is recorded before later children's failures", async () => {
  const err = await taskGroup((tg) => {
    tg.startSoon(() => ({
      then(_ok: unknown, fail: (e: unknown) => void) {
        fail(new Error("thenable-first"));
      },
    }));
    tg.startSoon(() => Promise.reject(new Error("promise-second")));
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ExceptionGroup);
  assert.deepEqual(err.exceptions.map((e) => (e as Error).message), [
    "thenable-first",
    "promise-second",
  ]);
});

// ------------------------------------------------------------ issue 8 bug 3

Deno.test("start in a cancelled group rejects at once with the cancellation and starts nothing", async () => {
  let invoked = false;
  await taskGroup(async (tg) => {
    tg.cancelScope.cancel();
    const p = tg.start(() => {
      invoked = true;
    });
    assert.equal(await state(p), "rejected");
    await p.catch((err) => assert.equal(err, tg.cancelScope.signal.reason));
  });
  assert.equal(invoked, false);
});

Deno.test("start called inside a cancelled scope rejects at once with that scope's cancellation", async () => {
  let invoked = false;
  await taskGroup(async (tg) => {
    const caller = new CancelScope();
    await caller.run(async () => {
      caller.cancel();
      const p = tg.start(async (status: TaskStatus) => {
        invoked = true;
        await new Promise((resolve) => setTimeout(resolve, 1));
        status.started();
      });
      assert.equal(await state(p), "rejected");
      await p.catch((err) => assert.equal(err, caller.signal.reason));
    });
  });
  assert.equal(invoked, false);
});
