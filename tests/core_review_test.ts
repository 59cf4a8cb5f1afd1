// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of the cancellation core and the synchronisation primitives
// (API.md §1–§6). The tests of a fix failed before it; the sweeps of
// Condition.wait and taskGroup found no bug and guard what they checked (each
// fails when the rule it checks is broken in the code).
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CancelScope,
  CapacityLimiter,
  Condition,
  effectiveDeadline,
  ExceptionGroup,
  isCancelled,
  shield,
  sleep,
  taskGroup,
} from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";
import { flush, flushMicrotasks, state } from "./_helpers.ts";

// A scope that finishes normally hands the work it leaves running (a promise
// nobody awaited) to the scope around it: the work started before the scope
// finished, and already waiting, too, not only work that looks the ambient
// scope up afterwards (cancel.ts, `run`).

Deno.test("a sleep left waiting by a scope that finished normally is cancelled with the enclosing scope", async () => {
  const outer = new CancelScope();
  let leftover!: Promise<void>;
  await outer.run(async () => {
    await new CancelScope().run(() => {
      leftover = sleep(10_000); // nobody awaits it
    });
    outer.cancel();
  });
  assert.equal(await state(leftover), "rejected");
  await assert.rejects(leftover, (err) => isCancelled(err));
});

Deno.test("a scope left running by a scope that finished normally is cancelled with the enclosing scope", async () => {
  const outer = new CancelScope();
  let leftover!: Promise<unknown>;
  let signal!: AbortSignal;
  await outer.run(async () => {
    await new CancelScope().run(() => {
      leftover = new CancelScope().run(async (s) => {
        signal = s.signal;
        await sleep(10_000);
        return "slept";
      });
    });
    outer.cancel();
  });
  assert.equal(signal.aborted, true);
  await assert.rejects(leftover, (err) => isCancelled(err));
});

Deno.test("a scope left running by a scope that finished normally keeps the enclosing deadline", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope({ deadline: 5_000 });
    let leftover!: Promise<unknown>;
    let deadline = NaN;
    const done = outer.run(async () => {
      await new CancelScope().run(() => {
        leftover = new CancelScope().run(async () => {
          await sleep(1_000);
          deadline = effectiveDeadline();
          await sleep(60_000);
          return "slept";
        });
      });
      await sleep(100_000);
    });
    const outcome = leftover.then(() => "slept", (err) => isCancelled(err) ? "cancelled" : err);
    await clock.tickAsync(10_000);
    assert.equal(deadline, 5_000);
    assert.equal(await outcome, "cancelled");
    await done;
  });
});

Deno.test("a limiter waiter left by a scope that finished normally is cancelled with the enclosing scope, consuming no token", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const outer = new CancelScope();
  let leftover!: Promise<unknown>;
  await outer.run(async () => {
    await new CancelScope().run(() => {
      leftover = limiter.acquire();
    });
    outer.cancel();
  });
  await assert.rejects(leftover, (err) => isCancelled(err));
  assert.equal(limiter.waiting, 0);
  held.release();
  assert.equal(limiter.borrowedTokens, 0);
  await flushMicrotasks();
});

// `cancelCalled` is true once cancel() was called or the deadline was reached
// (API.md §3), as Trio's `cancel_called`: also when the deadline passes
// while an enclosing cancellation already holds the scope, and then the
// scope stays cancelled by its own deadline if a shield lifts the enclosing
// one later (`_cancel_status.ts`, `noteDeadline`).

Deno.test("a deadline reached while an enclosing cancellation holds the scope sets cancelCalled", async () => {
  await withFakeTime(async (clock) => {
    const outer = new CancelScope();
    const inner = new CancelScope({ deadline: 1_000 });
    const during: boolean[] = [];
    const done = outer.run(async () => {
      const running = inner.run(async () => {
        // Cleanup the cancelled scope waits for, while its deadline passes.
        await shield(async () => {
          during.push(inner.cancelCalled);
          await sleep(2_000);
          during.push(inner.cancelCalled);
        });
      });
      outer.cancel();
      await running;
    });
    const outcome = done.then(() => "resolved", (err) => err);
    await clock.tickAsync(5_000);
    assert.equal(await outcome, "resolved");
    assert.deepEqual(during, [false, true]);
    assert.equal(inner.cancelCalled, true);
    assert.equal(inner.cancelledCaught, false, "the enclosing scope caught the cancellation");
  });
});

Deno.test("a scope whose deadline passed under an enclosing cancellation stays cancelled when shielded", async () => {
  await withFakeTime(async (clock) => {
    const parent = new CancelScope();
    const child = new CancelScope({ deadline: 1_000 });
    let afterShield: boolean | undefined;
    let slept = false;
    const done = parent.run(async () => {
      const running = child.run(async () => {
        await shield(() => sleep(2_000));
        child.deadline = 10_000; // moved later once it had passed
        child.shield = true; // lifts the enclosing cancellation, not its own deadline's
        afterShield = child.signal.aborted;
        await sleep(100);
        slept = true;
      });
      parent.cancel();
      await running;
    });
    await clock.tickAsync(5_000);
    await done;
    assert.equal(afterShield, true);
    assert.equal(slept, false);
    assert.equal(child.cancelCalled, true);
    assert.equal(child.cancelledCaught, true);
  });
});

// --------------------------------------------------------------------------
// Condition.wait cancelled at every point of its life (before the notify,
// and 0…40 promise turns after it: waiting for the notification, waiting to
// get the lock back, resuming): it always settles holding the lock, no two
// callers ever hold it at once, and the one notification ends exactly one
// wait normally: the cancelled caller's, or the next waiter's it was passed to.

for (const kind of ["signal", "scope"] as const) {
  Deno.test(`Condition.wait cancelled by its ${kind} at any turn keeps the lock exclusive and the notification`, async () => {
    for (let turns = -1; turns <= 40; turns++) {
      const cond = new Condition();
      const outcomes = new Map<string, string>();
      let holders = 0;
      const hold = async (): Promise<void> => {
        assert.equal(cond.locked(), true, "held by whoever runs here");
        assert.equal(++holders, 1, `the lock is exclusive (turns ${turns})`);
        await flush(3);
        holders--;
      };
      const waiter = async (name: string, signal?: AbortSignal): Promise<void> => {
        const permit = await cond.acquire();
        try {
          await cond.wait({ signal });
          outcomes.set(name, "ok");
        } catch (err) {
          outcomes.set(name, isCancelled(err) ? "cancelled" : String(err));
        }
        try {
          await hold();
        } finally {
          permit.release();
        }
      };
      const notifyOnce = async (): Promise<void> => {
        const permit = await cond.acquire();
        cond.notify();
        await hold();
        permit.release();
      };
      const controller = new AbortController(), scope = new CancelScope();
      const cancel = (): void => kind === "signal" ? controller.abort() : scope.cancel();
      const a = kind === "signal"
        ? waiter("a", controller.signal)
        : scope.run(() => waiter("a")).then(() => {});
      await flush();
      const b = waiter("b");
      await flush();
      if (turns < 0) cancel();
      const notifier = notifyOnce();
      if (turns >= 0) {
        await flush(turns);
        cancel();
      }
      await Promise.all([a, notifier]);
      await flush(20);
      const oks = [...outcomes.values()].filter((o) => o === "ok").length;
      assert.equal(
        oks,
        1,
        `one notification, one normal return (turns ${turns}: ${[...outcomes]})`,
      );
      if (!outcomes.has("b")) await notifyOnce(); // a kept it: wake b to finish
      await b;
      assert.equal(cond.locked(), false);
      assert.equal(cond.statistics().tasksWaiting, 0);
    }
  });
}

// --------------------------------------------------------------------------
// TaskGroup: a child failing, the body throwing and an enclosing scope
// cancelling, each at any turn relative to the others: every failure that
// is not a cancellation (the cleanup error of a cancelled child included)
// is in the one ExceptionGroup, in the order it occurred; none is lost.

Deno.test("taskGroup keeps every failure whatever the turns at which children, body and parent fail", async () => {
  const turns = fc.integer({ min: 0, max: 12 });
  await fc.assert(
    fc.asyncProperty(
      turns,
      fc.option(turns),
      fc.option(turns),
      fc.boolean(),
      async (childAt, bodyAt, parentAt, bodyReturnsFirst) => {
        const occurred: string[] = [];
        const fail = (what: string): never => {
          occurred.push(what);
          throw new Error(what);
        };
        const outer = new CancelScope();
        const run = outer.run(() =>
          taskGroup(async (tg) => {
            tg.startSoon(async () => {
              await flush(childAt);
              fail("child");
            });
            tg.startSoon(async () => {
              try {
                await sleep(10_000);
              } catch {
                await flush(2);
                fail("cleanup");
              }
            });
            if (bodyAt === null) return "body";
            if (bodyReturnsFirst) {
              tg.startSoon(async () => {
                await flush(bodyAt);
                fail("late child");
              });
              return "body";
            }
            await flush(bodyAt);
            fail("body");
          })
        );
        if (parentAt !== null) {
          await flush(parentAt);
          outer.cancel();
        }
        const err = await run.then(() => undefined, (e) => e);
        assert.ok(err instanceof ExceptionGroup, `rejects with an ExceptionGroup: ${err}`);
        assert.deepEqual(err.exceptions.map((e) => (e as Error).message), occurred);
        assert.ok(occurred.includes("child") && occurred.includes("cleanup"));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("waits left by a shielded scope that finished normally under a cancelled scope are cancelled at once", async () => {
  const limiter = new CapacityLimiter(1);
  const held = limiter.tryAcquire()!;
  const outer = new CancelScope();
  let waiter!: Promise<unknown>, sleeper!: Promise<void>, nested!: Promise<unknown>;
  let signal!: AbortSignal;
  await outer.run(async () => {
    outer.cancel();
    await shield(() => {
      waiter = limiter.acquire();
      sleeper = sleep(10_000);
      nested = new CancelScope().run(async (s) => {
        signal = s.signal;
        await sleep(10_000);
      });
    });
  });
  assert.equal(signal.aborted, true);
  await assert.rejects(waiter, (err) => isCancelled(err));
  await assert.rejects(sleeper, (err) => isCancelled(err));
  await assert.rejects(nested, (err) => isCancelled(err));
  held.release();
  assert.equal(limiter.borrowedTokens, 0);
});

Deno.test("waits left by an outermost scope that finished normally are let go, not cancelled", async () => {
  let sleeper!: Promise<void>;
  const scope = new CancelScope();
  await scope.run(() => {
    sleeper = sleep(5);
  });
  assert.equal(await state(sleeper), "pending");
  await sleeper;
  scope.cancel(); // a finished scope: nothing left in it to cancel
});

// taskGroup resolves with the body's value unless the group's own scope was
// cancelled before the body returned (API.md §4): a synchronous body has
// returned when it returns, not a promise turn later.

Deno.test("taskGroup keeps a synchronous body's value when a child cancels the group in the next promise turn", async () => {
  const value = await taskGroup((tg) => {
    tg.startSoon(async () => {
      await null;
      tg.cancelScope.cancel(); // after the body returned
    });
    tg.startSoon(() => sleep(10_000));
    return "body value";
  });
  assert.equal(value, "body value");
});

Deno.test("taskGroup resolves undefined when a synchronous body cancels its group before it returns", async () => {
  let group!: CancelScope;
  const value = await taskGroup((tg) => {
    group = tg.cancelScope;
    tg.startSoon(() => sleep(10_000));
    tg.cancelScope.cancel();
    return "body value";
  });
  assert.equal(value, undefined);
  assert.equal(group.cancelledCaught, true);
});
