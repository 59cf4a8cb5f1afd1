// Copyright 2026 the @lionpride/core authors. MIT license.
// Property tests for API.md §6 (issue 12): random interleavings of put, putNowait, get,
// getNowait, cancellation (by an AbortSignal or a CancelScope) and close, on Queue and
// PriorityQueue, checked step by step against a small reference model, and at every quiet
// moment against the contract itself: every item is delivered exactly once, in FIFO (or
// priority, ties in insertion order) order; nobody waits while an item or a slot is free for
// them; close drains, then rejects with QueueClosed.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CancelScope,
  isCancelled,
  PriorityQueue,
  Queue,
  QueueClosed,
  QueueEmpty,
  QueueFull,
} from "../mod.ts";

/** How a call ended: "ok:<value>", "cancelled", "closed", "full", "empty"; or "pending". */
type Outcome = string;

function describeError(e: unknown): Outcome {
  if (isCancelled(e)) return "cancelled";
  if (e instanceof QueueClosed) return "closed";
  if (e instanceof QueueFull) return "full";
  if (e instanceof QueueEmpty) return "empty";
  return `unexpected ${String(e)}`;
}

/** Items are `id * KEYS + key`; a priority queue orders them by key alone. */
const KEYS = 4;
const byKey = (a: number, b: number): number => (a % KEYS) - (b % KEYS);

// ------------------------------------------------------------------ the reference model

interface ModelCall {
  outcome: Outcome;
  item?: number;
  /** Cancelled after it was granted its turn, before the grant took effect. */
  cancelled: boolean;
}

/**
 * The contract as plain arrays. A waiting call granted its turn (an item reserved for a
 * getter, a slot for a putter) takes effect when the grant is committed: at the next promise
 * turn, or at once when a later call on the same side comes; one cancelled before that
 * rejects, and its turn passes on. Items reserved for getters stay in `items`.
 */
class Model {
  readonly items: { item: number; seq: number }[] = [];
  closed = false;
  readonly getWait: ModelCall[] = [];
  readonly getFlight: ModelCall[] = [];
  readonly putWait: ModelCall[] = [];
  readonly putFlight: ModelCall[] = [];
  #seq = 0;

  constructor(readonly maxSize: number, readonly priority: boolean) {}

  put(call: ModelCall, nowait: boolean): void {
    if (this.closed) return void (call.outcome = "closed");
    this.#commitPuts();
    if (this.putWait.length === 0 && this.items.length < this.maxSize) {
      this.#insert(call.item!);
      call.outcome = "ok:undefined";
    } else if (nowait) call.outcome = "full";
    else this.putWait.push(call);
  }

  get(call: ModelCall, nowait: boolean): void {
    this.#commitGets();
    if (this.getWait.length === 0 && this.items.length > 0) {
      call.outcome = `ok:${this.#take()}`;
    } else if (this.closed && this.items.length === 0) call.outcome = "closed";
    else if (nowait) call.outcome = "empty";
    else this.getWait.push(call);
  }

  cancel(call: ModelCall): void {
    for (const line of [this.getWait, this.putWait]) {
      const i = line.indexOf(call);
      if (i >= 0) {
        line.splice(i, 1);
        call.outcome = "cancelled";
      }
    }
    if (this.getFlight.includes(call) || this.putFlight.includes(call)) call.cancelled = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.putWait.splice(0)) c.outcome = "closed";
    if (this.items.length === 0) { for (const c of this.getWait.splice(0)) c.outcome = "closed"; }
  }

  /** What one promise turn does: every pending grant takes effect. */
  turn(): void {
    while (this.getFlight.length > 0 || this.putFlight.length > 0) {
      this.#commitGets();
      this.#commitPuts();
    }
  }

  #insert(item: number): void {
    this.items.push({ item, seq: this.#seq++ });
    this.#wakeGetters();
  }

  /** Reserves each unreserved item for the next waiting getter. */
  #wakeGetters(): void {
    while (this.getWait.length > 0 && this.items.length > this.getFlight.length) {
      this.getFlight.push(this.getWait.shift()!);
    }
  }

  #take(): number {
    let best = 0;
    if (this.priority) {
      this.items.forEach((it, i) => {
        const b = this.items[best];
        const c = byKey(it.item, b.item);
        if (c < 0 || c === 0 && it.seq < b.seq) best = i;
      });
    }
    const [{ item }] = this.items.splice(best, 1);
    this.#wakePutters();
    if (this.closed && this.items.length === 0) {
      for (const c of this.getWait.splice(0)) c.outcome = "closed";
    }
    return item;
  }

  #wakePutters(): void {
    while (
      this.putWait.length > 0 && this.items.length + this.putFlight.length < this.maxSize
    ) this.putFlight.push(this.putWait.shift()!);
  }

  #commitGets(): void {
    for (let c = this.getFlight.shift(); c !== undefined; c = this.getFlight.shift()) {
      if (c.cancelled) {
        c.outcome = "cancelled";
        this.#wakeGetters(); // its reserved item stays, for the next in line
      } else c.outcome = `ok:${this.#take()}`;
    }
  }

  #commitPuts(): void {
    for (let c = this.putFlight.shift(); c !== undefined; c = this.putFlight.shift()) {
      if (c.cancelled || this.closed) {
        c.outcome = c.cancelled ? "cancelled" : "closed";
        this.#wakePutters();
      } else {
        this.#insert(c.item!);
        c.outcome = "ok:undefined";
      }
    }
  }
}

// ------------------------------------------------------------------ the runner

type Kind =
  | "put"
  | "putNowait"
  | "get"
  | "getNowait"
  | "cancel"
  | "close"
  | "hop"
  | "settle"
  | "flush";
interface Step {
  kind: Kind;
  pick: number;
  key: number;
  viaScope: boolean;
  /** 0: the call starts already cancelled (level-triggered: it rejects at once). */
  pre: number;
  /** How many times a put/get step runs back to back (bursts, as a pool of callers makes). */
  repeat: number;
}

/** How often each kind of step comes up. */
const WEIGHTS: [Kind, number][] = [
  ["put", 3],
  ["putNowait", 3],
  ["get", 3],
  ["getNowait", 2],
  ["cancel", 2],
  ["close", 1],
  ["hop", 2],
  ["settle", 1],
  ["flush", 1],
];

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom(...WEIGHTS.flatMap(([kind, w]): Kind[] => Array(w).fill(kind))),
  pick: fc.nat(),
  key: fc.integer({ min: 0, max: KEYS - 1 }),
  viaScope: fc.boolean(),
  pre: fc.integer({ min: 0, max: 15 }),
  repeat: fc.integer({ min: 1, max: 4 }),
});

interface Call {
  label: string;
  real: Outcome;
  model: ModelCall;
  cancel?: () => void;
}

/** Lets every pending promise job and one macrotask turn run. */
const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** The contract at a quiet moment (no grant pending): nobody waits while something is free. */
function assertQuiet(q: Queue<number>, where: string): void {
  const s = q.statistics();
  if (s.tasksWaitingGet > 0) assert.equal(s.size, 0, `${where}: a get waits beside an item`);
  if (s.tasksWaitingPut > 0) {
    assert.equal(s.size, s.maxSize, `${where}: a put waits beside a free slot`);
  }
  if (s.closed) {
    assert.equal(s.tasksWaitingPut, 0, `${where}: a put waits on a closed queue`);
    if (s.size === 0) assert.equal(s.tasksWaitingGet, 0, `${where}: a get waits, closed+empty`);
  }
}

/** The model's size and lines match the queue's `statistics()` (checked after every step). */
function assertSameCounts(q: Queue<number>, m: Model, where: string): void {
  const s = q.statistics();
  assert.deepEqual(
    [s.size, s.tasksWaitingGet, s.tasksWaitingPut, s.closed],
    [
      m.items.length,
      m.getWait.length + m.getFlight.length,
      m.putWait.length + m.putFlight.length,
      m.closed,
    ],
    `${where}: [size, waiting gets, waiting puts, closed]`,
  );
}

/** Every call ended as the model says (checked once promise callbacks have run). */
function assertSameOutcomes(calls: Call[], where: string): void {
  for (const c of calls) assert.equal(c.real, c.model.outcome, `${where}: ${c.label}`);
}

/** Plays one script on a queue and on the model side by side, checking as it goes. */
class Script {
  readonly q: Queue<number>;
  readonly m: Model;
  readonly calls: Call[] = [];
  /** Waiting calls not cancelled yet, for "cancel" steps to pick from. */
  readonly cancellable: Call[] = [];
  #nextId = 0;

  constructor(readonly maxSize: number, readonly priority: boolean) {
    this.q = priority
      ? new PriorityQueue<number>({ maxSize, compare: byKey })
      : new Queue<number>({ maxSize });
    this.m = new Model(maxSize, priority);
  }

  /**
   * Plays one step. Returns a promise only for the steps that let promise jobs run: awaiting
   * any other step would itself let the queue's hand-offs take effect behind the model's back.
   */
  step(s: Step, where: string): Promise<void> | void {
    const { q, m } = this;
    switch (s.kind) {
      case "put":
      case "get":
        return this.#wait(s);
      case "putNowait":
      case "getNowait":
        return this.#nowait(s, where);
      case "cancel": {
        if (this.cancellable.length === 0) return;
        const [call] = this.cancellable.splice(s.pick % this.cancellable.length, 1);
        call.cancel!();
        return m.cancel(call.model);
      }
      case "close":
        q.close();
        return m.close();
      case "hop": // one promise turn: the grants made so far take effect
        return Promise.resolve().then(() => m.turn());
      case "settle": // promise turns until every chain of hand-offs has run out
        return (async () => {
          for (let t = 0; t < 64; t++) await Promise.resolve();
          m.turn();
          assertQuiet(q, where);
        })();
      case "flush":
        return this.flush(where);
    }
  }

  /** Lets everything pending run, then checks the queue against the model and the contract. */
  async flush(where: string): Promise<void> {
    await flush();
    this.m.turn();
    assertSameCounts(this.q, this.m, where);
    assertSameOutcomes(this.calls, where);
    assertQuiet(this.q, where);
  }

  /** The end: cancel what still waits, close, drain, and check every item's fate. */
  async finish(): Promise<void> {
    await this.flush("after the script");
    for (const call of this.cancellable) {
      call.cancel!();
      this.m.cancel(call.model);
    }
    await this.flush("after cancelling the rest");
    this.q.close();
    this.m.close();
    await this.flush("after close");
    const scripted = this.calls.length, drained: number[] = [];
    for (;;) {
      const call = this.#newCall("getNowait");
      this.#nowait({ kind: "getNowait" } as Step, "draining a closed queue", call);
      if (!call.real.startsWith("ok:")) break;
      drained.push(Number(call.real.slice(3)));
    }
    assertContract(this.calls.slice(0, scripted), drained, this.priority);
  }

  #newCall(kind: Kind, key = 0): Call {
    const item = kind.startsWith("put") ? this.#nextId++ * KEYS + key : undefined;
    const call: Call = {
      label: `#${this.calls.length} ${kind}(${item ?? ""})`,
      real: "pending",
      model: { outcome: "pending", item, cancelled: false },
    };
    this.calls.push(call);
    return call;
  }

  /** A waiting call, cancellable by a signal or by a scope ambient when it is made. */
  #wait(s: Step): void {
    const call = this.#newCall(s.kind, s.key), item = call.model.item;
    this.cancellable.push(call);
    if (s.pre === 0) call.model.outcome = "cancelled";
    else if (item !== undefined) this.m.put(call.model, false);
    else this.m.get(call.model, false);
    const q = this.q;
    const fn = (signal?: AbortSignal): Promise<unknown> =>
      item !== undefined ? q.put(item, { signal }) : q.get({ signal });
    const record = (p: Promise<unknown>): Promise<void> =>
      p.then((v) => void (call.real = `ok:${v}`), (e) => void (call.real = describeError(e)));
    if (s.viaScope) {
      const scope = new CancelScope();
      call.cancel = () => scope.cancel();
      scope.run(() => {
        if (s.pre === 0) scope.cancel();
        return record(fn());
      });
    } else {
      const ac = new AbortController();
      call.cancel = () => ac.abort();
      if (s.pre === 0) ac.abort();
      record(fn(ac.signal));
    }
  }

  #nowait(s: Step, where: string, call = this.#newCall(s.kind, s.key)): void {
    const item = call.model.item;
    try {
      call.real = item !== undefined ? `ok:${this.q.putNowait(item)}` : `ok:${this.q.getNowait()}`;
    } catch (e) {
      call.real = describeError(e);
    }
    if (item !== undefined) this.m.put(call.model, true);
    else this.m.get(call.model, true);
    assert.equal(call.real, call.model.outcome, `${where}: ${call.label}`);
  }
}

async function runScript(maxSize: number, priority: boolean, steps: Step[]): Promise<void> {
  const script = new Script(maxSize, priority);
  const burst = (s: Step): Step[] => Array(/put|get/i.test(s.kind) ? s.repeat : 1).fill(s);
  for (const [i, s] of steps.flatMap(burst).entries()) {
    const where = `step ${i} (${s.kind})`;
    const turns = script.step(s, where);
    if (turns !== undefined) await turns;
    assertSameCounts(script.q, script.m, where);
    assert.ok(script.q.size <= maxSize, `${where}: size within maxSize`);
  }
  await script.finish();
}

/** Independent of the model: each item delivered exactly once, in order. */
function assertContract(calls: Call[], drained: number[], priority: boolean): void {
  for (const c of calls) assert.notEqual(c.real, "pending", `${c.label} settled`);
  const value = (c: Call): number => Number(c.real.slice(3));
  const ok = calls.filter((c) => c.real.startsWith("ok:"));
  const enqueued = ok.filter((c) => c.model.item !== undefined).map((c) => c.model.item!);
  const delivered = ok.filter((c) => c.model.item === undefined).map(value);
  const out = [...delivered, ...drained];
  assert.deepEqual(out.toSorted((a, b) => a - b), enqueued.toSorted((a, b) => a - b));
  // Getters in line order get the items in put order (a FIFO queue only: a priority
  // queue's order depends on what was in it at each get, which the model checks).
  if (!priority) assert.deepEqual(out, enqueued);
}

for (const [name, priority] of [["Queue", false], ["PriorityQueue", true]] as const) {
  Deno.test(`${name}: random put/get/cancel/close interleavings match the model and the contract`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 2, 2, 3, 3, Infinity),
        fc.array(stepArb, { maxLength: 40 }),
        (maxSize, steps) => runScript(maxSize, priority, steps),
      ),
      { numRuns: 400 },
    );
  });
}
