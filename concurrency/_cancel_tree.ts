// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * How a cancellation travels through the tree of running scopes (internal):
 * delivery, the recalculation when a shield lifts it, and the search for
 * shielded cleanup that holds a cancelled scope's exit. Every walk uses an
 * explicit stack, never recursion, so 20,000 nested scopes cancel in one
 * call (tests/cancel_test.ts: "cancelling 20,000 nested scopes …").
 *
 * @module
 */

import { type CancelStatus, NOT_CANCELLED } from "./_cancel_status.ts";
import { removeDeadline } from "./clock.ts";
import type { CancelledError } from "./errors.ts";

/**
 * Cancels `root` and every unshielded scope inside it with `reason`: aborts
 * each signal, then the scopes inside, then wakes each one's watchers, in
 * that (depth-first) order, with an explicit stack.
 */
export function deliver(root: CancelStatus, reason: CancelledError): void {
  if (root.reason !== undefined) return;
  const stack: CancelStatus[] = [root], woken: boolean[] = [false];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (woken.pop()) {
      wakeWatchers(s, reason);
      continue;
    }
    if (s.reason !== undefined) continue;
    s.reason = reason;
    removeDeadline(s);
    s.controller?.abort(reason);
    stack.push(s);
    woken.push(true);
    const first = stack.length;
    for (let c = s.childHead; c !== undefined; c = c.next) {
      if (!c.shield) {
        stack.push(c);
        woken.push(false);
      }
    }
    reverseFrom(stack, first);
  }
}

function wakeWatchers(s: CancelStatus, reason: CancelledError): void {
  for (let w = s.watchHead; w !== undefined;) {
    const next = w.watchNext;
    s.unwatch(w);
    w.onCancel(reason);
    w = next;
  }
  if (s.resolve !== undefined) s.scheduleExit();
}

/**
 * `root` was shielded while an enclosing cancellation held it: it and the
 * scopes inside that only inherited that cancellation are no longer
 * cancelled (Trio semantics). Their signals cannot un-abort: each gets a
 * fresh one on the next read of `signal`. Deadlines are re-armed.
 */
export function uncancel(root: CancelStatus): void {
  const stack = [root], done: CancelStatus[] = [];
  while (stack.length > 0) {
    const s = stack.pop()!;
    s.reason = undefined;
    if (s.controller?.signal.aborted) s.controller = undefined;
    s.clearExitTimer();
    s.exitDeferred = false;
    for (let c = s.childHead; c !== undefined; c = c.next) {
      if (!c.shield && c.origin === NOT_CANCELLED && c.reason !== undefined) stack.push(c);
    }
    done.push(s);
  }
  // Only once the whole subtree is clear: a deadline that passed meanwhile
  // cancels its subtree again.
  for (const s of done) if (s.running) s.armDeadline();
}

/**
 * Finds a shielded scope running inside `root` (depth-first) and marks it as
 * holding `root`'s exit.
 */
export function holdExitForShielded(root: CancelStatus): boolean {
  const stack: CancelStatus[] = [];
  const pushChildren = (s: CancelStatus): void => {
    const first = stack.length;
    for (let c = s.childHead; c !== undefined; c = c.next) stack.push(c);
    reverseFrom(stack, first);
  };
  pushChildren(root);
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (s.shield) {
      s.holdsExit = true;
      return true;
    }
    pushChildren(s);
  }
  return false;
}

/** Reverses `list` from index `first` to its end, in place. */
function reverseFrom<T>(list: T[], first: number): void {
  for (let i = first, j = list.length - 1; i < j; i++, j--) {
    const t = list[i];
    list[i] = list[j];
    list[j] = t;
  }
}
