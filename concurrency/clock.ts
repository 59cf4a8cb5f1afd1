// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The one clock of the module: `currentTime()`, the timers every primitive
 * goes through, and the deadline heaps that arm a single timer for the
 * earliest deadline of all scopes and sleeps (one heap per clock: the real
 * one, and each fake clock a test installs).
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { BinaryHeap, type HeapNode } from "./_binary_heap.ts";

const RealDate = Date;
/**
 * The real monotonic clock, kept for judging real deadlines: `@sinonjs/fake-timers`
 * replaces `performance.now` along with `Date`, and a real deadline must
 * still be timed on real time while a fake clock is installed.
 */
const realNow = performance.now.bind(performance);
/** `performance.now` as the runtime gave it: another one in its place is a fake clock's. */
const realPerformanceNow = performance.now;
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
 * `Date.now()`; under a fake `performance.now` without a fake `Date`
 * (fake-timers told to fake `performance` but not `Date`) it follows that.
 * Deadlines and sleeps follow the same fake clock.
 *
 * @returns The current time in milliseconds.
 *
 * @example Usage
 * ```ts
 * import { currentTime, sleep } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const start = currentTime();
 * await sleep(5);
 * assert.ok(currentTime() - start >= 4);
 * ```
 */
export function currentTime(): number {
  const D = globalThis.Date;
  return D === RealDate ? performance.now() : D.now();
}

/**
 * What names the clock {@linkcode currentTime} reads now: the fake `Date`,
 * else a fake `performance.now`, else `RealDate` for the real clock. Each
 * has its own deadline heap, so a deadline is judged on the clock it was
 * read from (tests/breaker_shutdown_review_test.ts: "a fake performance.now
 * without a fake Date …").
 */
function clockKey(): object {
  const D = globalThis.Date;
  if (D !== RealDate) return D;
  const now = globalThis.performance.now;
  return now === realPerformanceNow ? RealDate : now;
}

/** The largest delay `setTimeout` accepts; longer waits are split. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

type TimerId = ReturnType<typeof setTimeout>;

/**
 * A one-shot timer created through the global `setTimeout` of the moment (or
 * the pair given), and cleared through the matching `clearTimeout`. A delay
 * past {@linkcode MAX_TIMER_DELAY} (~24.8 days) is waited in parts: every
 * runtime runs such a timer after 1 ms instead (a 30-day lease was lost at
 * once; tests/runtime_review_test.ts).
 */
export class Timer {
  #id: TimerId | undefined;
  #clear: typeof clearTimeout;

  constructor(
    callback: () => void,
    delay: number,
    set: typeof setTimeout = globalThis.setTimeout,
    clear: typeof clearTimeout = globalThis.clearTimeout,
  ) {
    this.#clear = clear;
    this.#id = delay > MAX_TIMER_DELAY
      ? set(() => this.#rest(callback, delay - MAX_TIMER_DELAY, set), MAX_TIMER_DELAY)
      : set(callback, delay);
  }

  #rest(callback: () => void, delay: number, set: typeof setTimeout): void {
    this.#id = delay > MAX_TIMER_DELAY
      ? set(() => this.#rest(callback, delay - MAX_TIMER_DELAY, set), MAX_TIMER_DELAY)
      : set(callback, delay);
  }

  /** Clears the timer; a no-op once cleared. */
  clear(): void {
    if (this.#id !== undefined) {
      this.#clear(this.#id);
      this.#id = undefined;
    }
  }
}

/** Something with an absolute deadline, kept in the deadline heap of its clock. */
export abstract class DeadlineEntry implements HeapNode {
  /** Absolute deadline, read from the clock that is current when it is added. */
  deadline = Infinity;
  /** Position in its heap, or -1 when not in one. */
  heapIndex = -1;
  /** Insertion order: equal deadlines expire in the order they were added. */
  heapSeq = 0;
  /** The clock the deadline was added on. */
  clock: DeadlineClock | undefined = undefined;
  /** Called (outside any ambient scope) once the deadline has passed. */
  abstract expire(): void;
}

const byDeadline = (a: DeadlineEntry, b: DeadlineEntry): number => a.deadline - b.deadline;

/**
 * The deadlines read from one clock, with one timer armed for the earliest.
 *
 * Why one per clock: a reading of the real clock (`performance.now()`, some
 * thousands of ms) and one of a fake epoch-based `Date.now()` (~1.7e12) mean
 * nothing to each other, so a deadline is judged only on the clock it was
 * read from. Installing a fake clock inside a real `failAfter` must neither
 * expire the real deadline at once nor move its timer onto the fake
 * `setTimeout` (which dies with the fake clock): each clock's timer is armed
 * through the `setTimeout` that was global while that clock was current.
 * Tests: tests/clock_test.ts, "… fake clock …".
 */
class DeadlineClock {
  readonly heap: BinaryHeap<DeadlineEntry> = new BinaryHeap(byDeadline);
  #timer: Timer | undefined = undefined;
  #armedAt = Infinity;
  /** The `setTimeout` the timer was armed through. */
  #armedVia: typeof setTimeout | undefined = undefined;
  /** The timer functions that were global when this clock was last current. */
  #set: typeof setTimeout = globalThis.setTimeout;
  #clear: typeof clearTimeout = globalThis.clearTimeout;
  readonly #fire = (): void => this.#expireDue();

  /**
   * @param key What names the clock (see `clockKey`).
   * @param now Reads it.
   */
  constructor(readonly key: object, readonly now: () => number) {}

  /** Notes the timer functions of the moment, if this clock is the current one. */
  #follow(): void {
    if (clockKey() === this.key) {
      this.#set = globalThis.setTimeout;
      this.#clear = globalThis.clearTimeout;
    }
  }

  /** True if the timer will fire in time for `entry`, just added. */
  timerCovers(entry: DeadlineEntry): boolean {
    const via = clockKey() === this.key ? globalThis.setTimeout : this.#set;
    return this.#armedVia === via && (entry.heapIndex !== 0 || entry.deadline >= this.#armedAt);
  }

  arm(): void {
    const first = this.heap.peek();
    if (first === undefined) return;
    this.#follow();
    if (first.deadline >= this.#armedAt && this.#armedVia === this.#set) return;
    this.#timer?.clear();
    const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, Math.ceil(first.deadline - this.now())));
    this.#armedAt = first.deadline;
    this.#armedVia = this.#set;
    this.#timer = outsideAnyScope(newTimer, this.#fire, delay, this.#set, this.#clear);
  }

  /**
   * Re-arms the timer if it was armed through a `setTimeout` that is no
   * longer the global one while this clock is current (a fake `setTimeout`
   * installed without a fake `Date`, then removed, took it along).
   */
  recheck(): void {
    if (
      this.#timer !== undefined && clockKey() === this.key &&
      this.#armedVia !== globalThis.setTimeout
    ) this.arm();
  }

  disarm(): void {
    this.#timer?.clear();
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #expireDue(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.now();
    try {
      for (let first = this.heap.peek(); first !== undefined && first.deadline <= now;) {
        removeDeadline(first);
        first.expire();
        first = this.heap.peek();
      }
    } finally {
      // Even if an expiry threw, the deadlines left must still get a timer.
      this.arm();
    }
  }
}

function newTimer(
  callback: () => void,
  delay: number,
  set: typeof setTimeout,
  clear: typeof clearTimeout,
): Timer {
  return new Timer(callback, delay, set, clear);
}

const realClock = new DeadlineClock(RealDate, realNow);
/** Fake clocks that have pending deadlines (rarely more than one). */
const fakeClocks: DeadlineClock[] = [];

/** The fake clock named `key`, the current one (`clockKey()`). */
function clockOf(key: object): DeadlineClock {
  for (const clock of fakeClocks) if (clock.key === key) return clock;
  let now: () => number;
  if (key === globalThis.Date) {
    const date = key as DateConstructor;
    now = () => date.now();
  } else {
    const performanceNow = key as () => number, fake = globalThis.performance;
    now = () => performanceNow.call(fake);
  }
  const clock = new DeadlineClock(key, now);
  fakeClocks.push(clock);
  return clock;
}

/** Microtask hops left before the queued arm check arms the real clock's timer. */
let armHops = 0;
const ARM_HOPS = 3;

function armFromMicrotask(): void {
  if (realClock.heap.size === 0) {
    armHops = 0;
  } else if (--armHops > 0) {
    queueMicrotask(armFromMicrotask);
  } else {
    realClock.arm();
  }
}

/**
 * Puts `entry` (with its `deadline` already set, read from `currentTime()`)
 * in the heap of the clock that is current.
 *
 * The real clock's timer is armed a few microtask hops later rather than at
 * once: no timer can fire before the microtask queue drains, so this changes
 * nothing observable, and a scope whose body settles within those hops (a
 * cached value, a sync body) never pays for a timer (`setTimeout` +
 * `clearTimeout` cost ~2-5 µs in Deno, more than all the rest of a scope).
 * Under a fake clock the timer is armed at once, so a synchronous `tick()`
 * sees it.
 */
export function addDeadline(entry: DeadlineEntry): void {
  const key = clockKey();
  const clock = key === RealDate ? realClock : clockOf(key);
  entry.clock = clock;
  clock.heap.push(entry);
  if (clock.timerCovers(entry)) return;
  if (clock !== realClock) {
    clock.arm();
  } else if (armHops === 0) {
    armHops = ARM_HOPS;
    queueMicrotask(armFromMicrotask);
  }
}

/**
 * Takes `entry` out of its heap; clears the timer when nothing is left, else
 * makes sure the timer still goes through the global `setTimeout`.
 */
export function removeDeadline(entry: DeadlineEntry): void {
  const clock = entry.clock;
  if (clock === undefined || entry.heapIndex < 0) return;
  entry.clock = undefined;
  clock.heap.remove(entry);
  if (clock.heap.size === 0) {
    clock.disarm();
    if (clock !== realClock) fakeClocks.splice(fakeClocks.indexOf(clock), 1);
  } else {
    clock.recheck();
  }
}

/** Number of pending deadlines on every clock (for tests and statistics). */
export function pendingDeadlines(): number {
  let n = realClock.heap.size;
  for (const clock of fakeClocks) n += clock.heap.size;
  return n;
}
