// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The one clock of the module: `currentTime()`, the timers every primitive
 * goes through, and the deadline heap that arms a single timer for the
 * earliest deadline of all scopes and sleeps.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";

const RealDate = Date;
/**
 * Runs a function in the async context of module load (outside any scope).
 * The deadline timer is armed through it: its callback then expires deadlines
 * outside any ambient scope, and does not keep the scope that happened to arm
 * it alive until it fires.
 */
const outsideAnyScope = AsyncLocalStorage.snapshot();

/**
 * Returns the current time of the module's monotonic clock, in milliseconds.
 *
 * Under a fake clock (`@sinonjs/fake-timers`, or `@std/testing/time`'s
 * `FakeTime`, both of which replace the global `Date`) it follows the fake
 * `Date.now()`, so deadlines and sleeps follow the fake clock too.
 *
 * @returns The current time in milliseconds.
 *
 * @example Usage
 * ```ts
 * import { currentTime } from "@lionpride/core";
 *
 * const start = currentTime();
 * if (!(currentTime() >= start)) throw new Error("unexpected result");
 * ```
 */
export function currentTime(): number {
  const D = globalThis.Date;
  return D === RealDate ? performance.now() : D.now();
}

/** True while a fake clock has replaced the global `Date`. */
export function fakeClockActive(): boolean {
  return globalThis.Date !== RealDate;
}

/** The largest delay `setTimeout` accepts; longer waits are split. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

type TimerId = ReturnType<typeof setTimeout>;

/**
 * A one-shot timer created through the global `setTimeout` of the moment,
 * and cleared through the `clearTimeout` of that same moment.
 */
export class Timer {
  #id: TimerId | undefined;
  #clear: typeof clearTimeout;

  constructor(callback: () => void, delay: number) {
    this.#clear = globalThis.clearTimeout;
    this.#id = globalThis.setTimeout(callback, delay);
  }

  /** Clears the timer; a no-op once cleared. */
  clear(): void {
    if (this.#id !== undefined) {
      this.#clear(this.#id);
      this.#id = undefined;
    }
  }
}

/** Something with an absolute deadline, kept in the deadline heap. */
export abstract class DeadlineEntry {
  /** Absolute deadline on the `currentTime()` clock. */
  deadline = Infinity;
  /** Position in the heap, or -1 when not in it. */
  heapIndex = -1;
  /** Called (outside any ambient scope) once the deadline has passed. */
  abstract expire(): void;
}

const heap: DeadlineEntry[] = [];
let timer: Timer | undefined;
let armedAt = Infinity;
/**
 * The `setTimeout` the timer was armed through: once a fake clock is
 * installed or removed, that timer will not fire on the new clock, so the
 * next deadline arms a new one.
 */
let armedVia: typeof setTimeout | undefined;
/** Microtask hops left before the queued arm check arms the timer. */
let armHops = 0;
const ARM_HOPS = 3;

function swap(i: number, j: number): void {
  const a = heap[i], b = heap[j];
  heap[i] = b;
  b.heapIndex = i;
  heap[j] = a;
  a.heapIndex = j;
}

function siftUp(i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (heap[p].deadline <= heap[i].deadline) return;
    swap(i, p);
    i = p;
  }
}

function siftDown(i: number): void {
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    const r = l + 1;
    const c = r < n && heap[r].deadline < heap[l].deadline ? r : l;
    if (heap[i].deadline <= heap[c].deadline) return;
    swap(i, c);
    i = c;
  }
}

function arm(): void {
  if (heap.length === 0) return;
  const deadline = heap[0].deadline;
  if (deadline >= armedAt && armedVia === globalThis.setTimeout) return;
  timer?.clear();
  const delay = Math.min(
    MAX_TIMER_DELAY,
    Math.max(0, Math.ceil(deadline - currentTime())),
  );
  armedAt = deadline;
  armedVia = globalThis.setTimeout;
  timer = outsideAnyScope(newFireTimer, delay);
}

function newFireTimer(delay: number): Timer {
  return new Timer(fire, delay);
}

function armFromMicrotask(): void {
  if (heap.length === 0) {
    armHops = 0;
  } else if (--armHops > 0) {
    queueMicrotask(armFromMicrotask);
  } else {
    arm();
  }
}

function fire(): void {
  timer = undefined;
  armedAt = Infinity;
  const now = currentTime();
  try {
    while (heap.length > 0 && heap[0].deadline <= now) {
      const entry = heap[0];
      removeDeadline(entry);
      entry.expire();
    }
  } finally {
    // Even if an expiry threw, the deadlines left must still get a timer.
    arm();
  }
}

/**
 * Puts `entry` (with its `deadline` already set) in the heap.
 *
 * The timer is armed a few microtask hops later rather than at once: no timer
 * can fire before the microtask queue drains, so this changes nothing
 * observable, and a scope whose body settles within those hops (a cached
 * value, a sync body) never pays for a timer (`setTimeout` + `clearTimeout`
 * cost ~2-5 µs in Deno, more than all the rest of a scope). Under a fake clock
 * the timer is armed at once, so a synchronous `tick()` sees it.
 */
export function addDeadline(entry: DeadlineEntry): void {
  const i = heap.length;
  entry.heapIndex = i;
  heap.push(entry);
  siftUp(i);
  if (
    armedVia === globalThis.setTimeout &&
    (entry.heapIndex !== 0 || entry.deadline >= armedAt)
  ) return;
  if (fakeClockActive()) {
    arm();
  } else if (armHops === 0) {
    armHops = ARM_HOPS;
    queueMicrotask(armFromMicrotask);
  }
}

/** Takes `entry` out of the heap; clears the timer when nothing is left. */
export function removeDeadline(entry: DeadlineEntry): void {
  const i = entry.heapIndex;
  if (i < 0) return;
  entry.heapIndex = -1;
  const last = heap.pop()!;
  if (last !== entry) {
    heap[i] = last;
    last.heapIndex = i;
    siftDown(i);
    siftUp(last.heapIndex);
  }
  if (heap.length === 0 && timer !== undefined) {
    timer.clear();
    timer = undefined;
    armedAt = Infinity;
  }
}

/** Number of pending deadlines (for tests and statistics). */
export function pendingDeadlines(): number {
  return heap.length;
}
