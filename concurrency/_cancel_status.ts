// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The plumbing of cancellation (internal), split from {@linkcode CancelScope}
 * the way Trio splits `CancelScope` from `CancelStatus`.
 *
 * A `CancelScope` is what a user holds: what to cancel and when (its
 * deadline, its shield, `cancel()`), with argument checks and docs. Its
 * `CancelStatus` is how a cancellation travels: where the scope sits in the
 * tree of running scopes, the reason in force (its own, or an enclosing
 * scope's), who must be woken (watchers: sleeps, limiter and queue waiters),
 * the abort of its signal, and the bounded exit of `run`. Keeping them apart
 * lets every primitive reach the plumbing through ordinary methods, without
 * handing out the user's object's private state, and keeps each half short.
 *
 * Invariants (tests/cancel_test.ts, tests/scope_property_test.ts):
 * - `reason` is set iff the scope is cancelled: by itself (`origin`), or by
 *   an enclosing scope through a chain of unshielded links. Shielding a
 *   running scope recalculates its subtree (the scope is cancelled again
 *   only by its own cancel or deadline), as Trio's `recalculate` does.
 * - Delivery and recalculation walk the tree with an explicit stack, never
 *   by recursion: 20,000 nested scopes cancel in one call.
 * - A scope is in its clock's deadline heap only while it runs, has a finite
 *   deadline and is not cancelled.
 * - A scope that finished normally holds no children and no watchers: what
 *   it left running passed to its parent (`#bequeath`).
 *
 * @module
 */

import type { CancelScope } from "./cancel.ts";
import { type Frame, statusFrom, storage } from "./_ambient.ts";
import { addDeadline, currentTime, DeadlineEntry, removeDeadline, Timer } from "./clock.ts";
import { CancelledError, isCancelled, TimeoutError } from "./errors.ts";
import { whenSettled } from "./_thenable.ts";
import { deliver, holdExitForShielded, uncancel } from "./_cancel_tree.ts";

/**
 * Something that waits and must be woken with the reason when the scope it
 * waits in is cancelled (a limiter waiter, a sleep, …).
 */
export abstract class CancelWatcher {
  /** The status of the scope this watcher is registered with. */
  watchScope: CancelStatus | undefined = undefined;
  /** Previous watcher of the same scope. */
  watchPrev: CancelWatcher | undefined = undefined;
  /** Next watcher of the same scope. */
  watchNext: CancelWatcher | undefined = undefined;
  /** Called once, synchronously, when the scope is cancelled. */
  abstract onCancel(reason: CancelledError): void;
}

/**
 * Names the budget of a scope's deadline, for the {@linkcode TimeoutError}
 * made when that deadline fires.
 */
export interface DeadlineLabel {
  /** The call or option the budget belongs to: `"failAfter"`, `"attemptTimeout"`. */
  readonly source: string;
  /**
   * What timed out, read when the error is made (e.g. `"item 17: attempt 2"`);
   * the message then ends with the source in parentheses.
   */
  readonly subject?: () => string;
}

/** Where a scope's own cancellation came from (`CancelStatus.origin`). */
export const NOT_CANCELLED = 0, BY_CANCEL = 1, BY_DEADLINE = 2;

const IDLE = 0, RUNNING = 1, DONE = 2;

/** The key of a {@linkcode CancelScope}'s status (module-internal: not exported by mod.ts). */
export const STATUS: unique symbol = Symbol("CancelScope status");

/** The plumbing of one {@linkcode CancelScope}; see the module docs. */
export class CancelStatus extends DeadlineEntry {
  state = IDLE;
  shield: boolean;
  /** How this scope itself was cancelled: NOT_CANCELLED, BY_CANCEL or BY_DEADLINE. */
  origin = NOT_CANCELLED;
  /** The reason of this scope's own cancellation. */
  ownReason: CancelledError | undefined = undefined;
  /** The reason of the cancellation in force (own or inherited), if any. */
  reason: CancelledError | undefined = undefined;
  /** `run` absorbed this scope's own cancellation. */
  caught = false;
  /** `run` rejects with its own cancellation instead of resolving `undefined`. */
  rejectCaught = false;
  /** The budget the deadline was given as, in ms (`NaN`: an absolute deadline). */
  budget = NaN;
  /** What the deadline is the budget of. */
  label: DeadlineLabel | undefined = undefined;
  parent: CancelStatus | undefined = undefined;
  // Children (scopes running inside this one, shielded or not), doubly linked.
  childHead: CancelStatus | undefined = undefined;
  prev: CancelStatus | undefined = undefined;
  next: CancelStatus | undefined = undefined;
  linked = false;
  watchHead: CancelWatcher | undefined = undefined;
  controller: AbortController | undefined = undefined;
  /** The frame that makes this scope ambient, while it runs. */
  frame: Frame | undefined = undefined;
  // Pending body of run(): settle callbacks and the bounded-exit timer.
  resolve: ((value: unknown) => void) | undefined = undefined;
  reject: ((err: unknown) => void) | undefined = undefined;
  exitTimer: Timer | undefined = undefined;
  /** The exit turn came while a shielded scope ran inside: waiting for it. */
  exitDeferred = false;
  /** An enclosing scope's deferred exit waits for this (shielded) scope. */
  holdsExit = false;

  constructor(readonly scope: CancelScope, deadline: number, shield: boolean) {
    super();
    this.deadline = deadline;
    this.shield = shield;
  }

  get idle(): boolean {
    return this.state === IDLE;
  }

  get running(): boolean {
    return this.state === RUNNING;
  }

  signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      if (this.reason !== undefined) controller.abort(this.reason);
    }
    return controller.signal;
  }

  /**
   * Makes the scope run under `parent` (without running a body). A `budget`
   * (ms) becomes the absolute deadline now, once, on entry.
   */
  enter(parent: CancelStatus | undefined, budget?: number): void {
    this.state = RUNNING;
    this.parent = parent;
    if (parent !== undefined) this.#link(parent);
    if (this.reason !== undefined) return;
    if (budget === undefined) {
      this.armDeadline();
    } else if (budget <= 0) {
      this.budget = budget;
      this.deadline = -Infinity;
      this.expire();
    } else if (budget !== Infinity) {
      this.budget = budget;
      this.deadline = currentTime() + budget;
      addDeadline(this);
    }
  }

  #link(parent: CancelStatus): void {
    this.linked = true;
    const head = parent.childHead;
    this.next = head;
    if (head !== undefined) head.prev = this;
    parent.childHead = this;
    if (!this.shield && parent.reason !== undefined) deliver(this, parent.reason);
  }

  #unlink(): void {
    if (!this.linked) return;
    this.linked = false;
    const prev = this.prev, next = this.next;
    if (next !== undefined) next.prev = prev;
    if (prev !== undefined) prev.next = next;
    else this.parent!.childHead = next;
    this.prev = this.next = undefined;
  }

  /** Puts the (absolute) deadline in the heap, or expires it if it has passed. */
  armDeadline(): void {
    removeDeadline(this);
    const deadline = this.deadline;
    if (deadline === Infinity || this.reason !== undefined) return;
    if (deadline <= currentTime()) this.expire();
    else addDeadline(this);
  }

  setDeadline(deadline: number): void {
    if (this.state === RUNNING) this.noteDeadline();
    removeDeadline(this);
    this.deadline = deadline;
    this.budget = NaN;
    if (this.state === RUNNING) this.armDeadline();
  }

  setShield(shield: boolean): void {
    if (shield === this.shield) return;
    if (this.state === RUNNING) this.noteDeadline();
    this.shield = shield;
    const outer = this.parent?.reason;
    if (this.state !== RUNNING || outer === undefined) return;
    if (!shield) deliver(this, outer);
    else if (this.reason !== undefined && this.origin === NOT_CANCELLED) uncancel(this);
  }

  /**
   * An enclosing cancellation took this scope's deadline out of the heap
   * (no timer for a cancelled subtree); if the deadline has passed since,
   * it counts as fired now, as if its timer had run: `cancelCalled` turns
   * true, and a shield set later lifts only the enclosing cancellation, as
   * in Trio. Called wherever that is observed: the `cancelCalled` getter,
   * a deadline or shield change, exit.
   */
  noteDeadline(): void {
    if (
      this.origin === NOT_CANCELLED && this.reason !== undefined && this.deadline !== Infinity &&
      this.deadline <= currentTime()
    ) {
      this.origin = BY_DEADLINE;
      this.ownReason = new CancelledError("Deadline exceeded");
    }
  }

  /** Called by the clock once the deadline has passed. */
  expire(): void {
    if (this.origin !== NOT_CANCELLED || this.state === DONE) return;
    this.origin = BY_DEADLINE;
    deliver(this, this.ownReason = new CancelledError("Deadline exceeded"));
  }

  cancel(reason: CancelledError): void {
    if (this.origin !== NOT_CANCELLED) return;
    this.origin = BY_CANCEL;
    deliver(this, this.ownReason = reason);
  }

  /** The reason of a visible enclosing scope's cancellation, if any. */
  enclosingReason(): CancelledError | undefined {
    const parent = this.parent;
    return this.shield || parent === undefined ? undefined : parent.reason;
  }

  effectiveDeadline(): number {
    if (this.reason !== undefined) return -Infinity;
    let deadline = this.deadline;
    for (let s = this.shield ? undefined : this.parent; s !== undefined;) {
      if (s.reason !== undefined) return -Infinity;
      if (s.deadline < deadline) deadline = s.deadline;
      s = s.shield ? undefined : s.parent;
    }
    return deadline;
  }

  watch(w: CancelWatcher): void {
    w.watchScope = this;
    const head = this.watchHead;
    w.watchNext = head;
    w.watchPrev = undefined;
    if (head !== undefined) head.watchPrev = w;
    this.watchHead = w;
  }

  unwatch(w: CancelWatcher): void {
    w.watchScope = undefined;
    const prev = w.watchPrev, next = w.watchNext;
    if (next !== undefined) next.watchPrev = prev;
    if (prev !== undefined) prev.watchNext = next;
    else this.watchHead = next;
    w.watchPrev = w.watchNext = undefined;
  }

  /**
   * The {@linkcode TimeoutError} for this scope's deadline, e.g. `failAfter
   * timed out after 5000 ms` or `item 17: attempt 2 timed out after 5000 ms
   * (attemptTimeout)`; `run` rejects with it when `rejectCaught` is set.
   */
  timeoutError(): TimeoutError {
    const label = this.label, timeout = this.budget;
    const source = label?.source ?? "CancelScope";
    const subject = label?.subject?.();
    const what = subject ?? source, tail = subject === undefined ? "" : ` (${source})`;
    const message = Number.isNaN(timeout)
      ? `${what} timed out: its deadline ${this.deadline} passed${tail}`
      : `${what} timed out after ${timeout} ms${tail}`;
    return new TimeoutError(message, { timeout, source, cause: this.ownReason });
  }

  /** Runs `fn(...args)` with this scope ambient. */
  runInside<A extends unknown[], R>(fn: (...args: A) => R, args: A): R {
    return storage.run(this.frame ??= { status: this, up: storage.getStore() }, fn, ...args);
  }

  /**
   * Runs `fn` as the body of `CancelScope.run` (see its docs): enters the
   * scope under the ambient one, and settles with the body, or one macrotask
   * turn after a cancellation the body ignores (bounded exit).
   */
  run(fn: (scope: CancelScope) => unknown, budget?: number): Promise<unknown> {
    if (this.state !== IDLE) {
      return Promise.reject(new Error("Cannot run CancelScope: a scope runs only once"));
    }
    const up = storage.getStore();
    this.enter(statusFrom(up), budget);
    if (this.reason !== undefined) return this.#finishNow(false, undefined);
    let result: unknown;
    try {
      result = storage.run(this.frame = { status: this, up }, fn, this.scope);
    } catch (err) {
      return this.#finishNow(true, err);
    }
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      if (this.reason !== undefined) this.scheduleExit();
      whenSettled(result, (value) => this.#settle(false, value), (err) => this.#settle(true, err));
    });
  }

  scheduleExit(): void {
    if (this.exitTimer === undefined) this.exitTimer = new Timer(() => this.#exitTurn(), 0);
  }

  #exitTurn(): void {
    this.exitTimer = undefined;
    if (this.resolve === undefined) return;
    // Shielded code inside is cleanup the user asked to finish: wait for it
    // (as Trio does), then give the body one more turn.
    if (holdExitForShielded(this)) this.exitDeferred = true;
    // Abandoned: the body ignored the cancellation for a macrotask turn; run
    // settles as if it had honoured it.
    else this.#settle(false, undefined);
  }

  /** Leaves the scope: unlinks it, drops its deadline and exit timer. */
  exit(): void {
    this.state = DONE;
    const frame = this.frame;
    if (this.reason === undefined) {
      if (frame !== undefined) {
        this.frame = undefined;
        frame.status = undefined;
      }
      if (this.childHead !== undefined || this.watchHead !== undefined) this.#bequeath();
    } else {
      this.noteDeadline();
    }
    this.exitDeferred = false;
    if (this.holdsExit) {
      this.holdsExit = false;
      for (let p = this.parent; p !== undefined; p = p.parent) {
        if (p.exitDeferred) {
          p.exitDeferred = false;
          p.scheduleExit();
        }
      }
    }
    this.#unlink();
    removeDeadline(this);
    this.clearExitTimer();
  }

  /**
   * Hands what still runs or waits inside this scope, which finished
   * normally (scopes and waits begun by a promise nobody awaited), to the
   * scope around it, as the ambient lookup does for code that looks its
   * scope up later: its cancellation and deadline reach them from now on
   * (tests/core_review_test.ts: "a sleep left waiting by a scope that
   * finished normally …"). Without a scope around it they are let go.
   */
  #bequeath(): void {
    const heir = this.parent;
    let child = this.childHead, watcher = this.watchHead;
    this.childHead = undefined;
    this.watchHead = undefined;
    for (; child !== undefined;) {
      const next = child.next;
      child.prev = child.next = undefined;
      child.linked = false;
      child.parent = heir;
      if (heir !== undefined) child.#link(heir);
      child = next;
    }
    for (; watcher !== undefined;) {
      const next = watcher.watchNext;
      watcher.watchPrev = watcher.watchNext = watcher.watchScope = undefined;
      if (heir?.reason !== undefined) watcher.onCancel(heir.reason);
      else heir?.watch(watcher);
      watcher = next;
    }
  }

  clearExitTimer(): void {
    if (this.exitTimer !== undefined) {
      this.exitTimer.clear();
      this.exitTimer = undefined;
    }
  }

  #settle(failed: boolean, value: unknown): void {
    const resolve = this.resolve, reject = this.reject;
    if (resolve === undefined || reject === undefined) return; // a late outcome is absorbed
    this.resolve = this.reject = undefined;
    try {
      resolve(this.#outcome(failed, value));
    } catch (err) {
      if (this.#timedOut(err)) rejectInReaction(resolve, () => this.timeoutError());
      else reject(err);
    }
  }

  #finishNow(failed: boolean, value: unknown): Promise<unknown> {
    try {
      return Promise.resolve(this.#outcome(failed, value));
    } catch (err) {
      // Made here, synchronously: its stack shows the caller.
      return Promise.reject(this.#timedOut(err) ? this.timeoutError() : err);
    }
  }

  /** `err`, thrown by `#outcome`, is this scope's own deadline, to be a TimeoutError. */
  #timedOut(err: unknown): boolean {
    return this.rejectCaught && this.origin === BY_DEADLINE && this.caught &&
      err === this.reason;
  }

  /** Leaves the scope and returns what `run` resolves with, or throws what it rejects with. */
  #outcome(failed: boolean, value: unknown): unknown {
    this.exit();
    const reason = this.reason;
    const outer = reason === undefined ? undefined : this.enclosingReason();
    this.parent = undefined;
    if (failed && (reason === undefined || !isCancelled(value))) throw value;
    if (reason === undefined) return value;
    if (outer !== undefined) throw outer;
    if (this.origin !== NOT_CANCELLED) {
      this.caught = true;
      if (this.rejectCaught) throw reason;
      return undefined;
    }
    if (failed) throw value;
    return value;
  }
}

/**
 * Rejects the promise of `resolve` with `make()`'s error, made in a promise
 * reaction that the promise already follows: V8's async stack trace of an
 * error made there walks on to whoever awaits that promise, so a timeout's
 * stack shows the caller's frame, while a scope that does not time out pays
 * nothing (no stack captured, no extra promise; a wrapping `then` or `async`
 * function on every call measured +20%: bench/README.md, 2026-12-05).
 */
function rejectInReaction(resolve: (value: unknown) => void, make: () => Error): void {
  let trigger!: () => void;
  const source = new Promise<void>((r) => (trigger = r));
  resolve(source.then(() => {
    throw make();
  }));
  trigger(); // after `resolve`: its follow-up reaction must be in place first
}
