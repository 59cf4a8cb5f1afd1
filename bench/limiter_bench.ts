// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `CapacityLimiter` against its peers (p-limit, async-sema, p-queue) and
 * three hand-written FIFO semaphores (bare; with permit objects; with permits
 * and O(1) cancellation by a signal), uncontended and contended.
 *
 * One bench iteration does the whole workload, so `time/iter` is the time of
 * 1,000,000 acquire+release pairs (uncontended) or of 100,000 (contended):
 * divide by the pair count for the time of one. In each group
 * `CapacityLimiter` is the reference (`baseline: true`), so the summary prints
 * its ratio to every peer and to the hand-written FIFOs. The contended group
 * also runs the limiter with every task inside a `CancelScope` (how it is used
 * in a task group or under `failAfter`): a waiter that can be cancelled takes
 * the checked path on wake-up, one that cannot (no scope, no signal) does not.
 * The hand-written FIFO and async-sema run that way too, since any code pays
 * for an ambient async context on every `await`.
 *
 * Run: `deno bench --allow-all bench/limiter_bench.ts`, or interleaved in CPU
 * time (steadier on a shared machine, see `_interleaved.ts`):
 * `deno run --allow-all bench/limiter_bench.ts [rounds]`
 *
 * @module
 */

import pLimit from "p-limit";
import { Sema } from "async-sema";
import PQueue from "p-queue";
import { CancelScope, CapacityLimiter } from "../mod.ts";
import { bench, runInterleaved } from "./_interleaved.ts";

/** Acquire+release pairs per iteration of the uncontended group. */
export const UNCONTENDED_PAIRS = 1_000_000;
/** Concurrent tasks of the contended group. */
export const TASKS = 1_000;
/** Acquire/`await null`/release cycles per task of the contended group. */
export const CYCLES = 100;
/** Tokens (or concurrency) of every limiter. */
export const CAPACITY = 10;

/** A waiting acquire of {@linkcode FifoSemaphore}: one node of its list. */
interface WaitNode {
  resolve: () => void;
  next: WaitNode | undefined;
}

/**
 * The floor: a FIFO-fair counting semaphore with no cancellation, no permit
 * objects and no validation; a counter and a linked list of resolvers.
 */
export class FifoSemaphore {
  #free: number;
  #head: WaitNode | undefined = undefined;
  #tail: WaitNode | undefined = undefined;

  constructor(tokens: number) {
    this.#free = tokens;
  }

  acquire(): Promise<void> {
    if (this.#free > 0 && this.#head === undefined) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const node: WaitNode = { resolve, next: undefined };
      if (this.#tail === undefined) this.#head = node;
      else this.#tail.next = node;
      this.#tail = node;
    });
  }

  release(): void {
    const head = this.#head;
    if (head === undefined) {
      this.#free++;
      return;
    }
    this.#head = head.next;
    if (this.#head === undefined) this.#tail = undefined;
    head.resolve();
  }

  get free(): number {
    return this.#free;
  }
}

/** A permit of {@linkcode FifoPermitSemaphore}. */
export interface FifoPermit {
  release(): void;
}

/** A waiting acquire of {@linkcode FifoPermitSemaphore}. */
interface PermitWaitNode {
  resolve: (permit: FifoPermit) => void;
  next: PermitWaitNode | undefined;
}

/**
 * {@linkcode FifoSemaphore} with the surface of `CapacityLimiter`: `acquire()`
 * resolves with a fresh permit object whose `release()` gives the token back
 * (no double-release guard). The gap between the two is the price of the
 * permit API itself.
 */
export class FifoPermitSemaphore {
  #free: number;
  #head: PermitWaitNode | undefined = undefined;
  #tail: PermitWaitNode | undefined = undefined;
  readonly #release = (): void => this.#giveBack();

  constructor(tokens: number) {
    this.#free = tokens;
  }

  acquire(): Promise<FifoPermit> {
    if (this.#free > 0 && this.#head === undefined) {
      this.#free--;
      return Promise.resolve({ release: this.#release });
    }
    return new Promise((resolve) => {
      const node: PermitWaitNode = { resolve, next: undefined };
      if (this.#tail === undefined) this.#head = node;
      else this.#tail.next = node;
      this.#tail = node;
    });
  }

  #giveBack(): void {
    const head = this.#head;
    if (head === undefined) {
      this.#free++;
      return;
    }
    this.#head = head.next;
    if (this.#head === undefined) this.#tail = undefined;
    head.resolve({ release: this.#release });
  }

  get free(): number {
    return this.#free;
  }
}

/** A permit of {@linkcode CancellableFifoSemaphore}: gives its token back once. */
interface OncePermit {
  sem: CancellableFifoSemaphore | undefined;
  release(): void;
}

function releaseOnce(this: OncePermit): void {
  const sem = this.sem;
  if (sem === undefined) return;
  this.sem = undefined;
  sem.giveBack();
}

/** A waiting acquire of {@linkcode CancellableFifoSemaphore}. */
interface CancellableNode {
  prev: CancellableNode | undefined;
  next: CancellableNode | undefined;
  resolve: (permit: OncePermit) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  sem: CancellableFifoSemaphore | undefined;
  handleEvent(): void;
}

function unset(): void {}

function abortWait(this: CancellableNode): void {
  this.sem?.cancel(this);
}

/**
 * The least a limiter with `CapacityLimiter`'s guarantees must do: the FIFO
 * semaphore with permit objects that release once, and waits that an
 * `AbortSignal` can cancel in O(1) (a doubly linked list, and a node that
 * keeps its `reject`). No ambient scope, no check on wake-up, no borrowers,
 * no validation: the gap between this and `CapacityLimiter` is what those
 * cost.
 */
export class CancellableFifoSemaphore {
  #free: number;
  #head: CancellableNode | undefined = undefined;
  #tail: CancellableNode | undefined = undefined;

  constructor(tokens: number) {
    this.#free = tokens;
  }

  acquire(signal?: AbortSignal): Promise<OncePermit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0 && this.#head === undefined) {
      this.#free--;
      return Promise.resolve({ sem: this, release: releaseOnce });
    }
    const tail = this.#tail;
    const node: CancellableNode = {
      prev: tail,
      next: undefined,
      resolve: unset,
      reject: unset,
      signal,
      sem: this,
      handleEvent: abortWait,
    };
    const promise = new Promise<OncePermit>((resolve, reject) => {
      node.resolve = resolve;
      node.reject = reject;
    });
    if (tail === undefined) this.#head = node;
    else tail.next = node;
    this.#tail = node;
    signal?.addEventListener("abort", node);
    return promise;
  }

  /** Gives a token back: to the first waiter if any. */
  giveBack(): void {
    const node = this.#head;
    if (node === undefined) {
      this.#free++;
      return;
    }
    this.#unlink(node);
    node.resolve({ sem: this, release: releaseOnce });
  }

  /** Removes an aborted waiter and rejects it. */
  cancel(node: CancellableNode): void {
    this.#unlink(node);
    node.reject(node.signal!.reason);
  }

  #unlink(node: CancellableNode): void {
    const prev = node.prev, next = node.next;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    node.prev = node.next = node.sem = undefined;
    node.signal?.removeEventListener("abort", node);
  }

  get free(): number {
    return this.#free;
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Benchmark invariant broken: ${what}`);
}

const value = 1;
const immediate = (): number => value;
const yieldOnce = async (): Promise<void> => {
  await null;
};

/**
 * Starts `TASKS` copies of `task` at once, each inside `wrap` if given, and
 * waits for them all.
 */
async function startAll(
  task: () => Promise<void>,
  wrap?: (task: () => Promise<void>) => Promise<unknown>,
): Promise<void> {
  const tasks = new Array<Promise<unknown>>(TASKS);
  for (let t = 0; t < TASKS; t++) tasks[t] = wrap === undefined ? task() : wrap(task);
  await Promise.all(tasks);
}

/**
 * Runs a task inside its own `CancelScope`, as in real use (inside a task
 * group or a `failAfter`): a wait there can be cancelled, so a woken waiter
 * is checked for cancellation before it resumes.
 */
const inScope = (task: () => Promise<void>): Promise<unknown> => new CancelScope().run(task);

// As in any program that uses scopes: once a scope has run, looking up the
// ambient scope (which every acquire does) is no longer free.
await new CancelScope().run(() => undefined);

// Every limiter is made once per bench and reused by its iterations (each
// iteration ends with every token back, which `check` verifies): a limiter
// made per iteration would hand V8 new closures every time and measure
// deoptimizations rather than the limiter. For the same reason every bench
// has its own loop instead of sharing one.

// Uncontended: one caller, acquire then release, 1M times.
const U = { group: "uncontended ×1M", n: 12, warmup: 3, ops: UNCONTENDED_PAIRS } as const;

const limiterU = new CapacityLimiter(CAPACITY);
bench({
  ...U,
  name: "CapacityLimiter: await acquire(); permit.release()",
  baseline: true,
  async fn() {
    const limiter = limiterU;
    for (let i = 0; i < UNCONTENDED_PAIRS; i++) {
      const permit = await limiter.acquire();
      permit.release();
    }
    check(limiter.borrowedTokens === 0, "tokens still held");
  },
});

const fifoU = new FifoSemaphore(CAPACITY);
bench({
  ...U,
  name: "hand-written FIFO: await acquire(); release()",
  async fn() {
    const sem = fifoU;
    for (let i = 0; i < UNCONTENDED_PAIRS; i++) {
      await sem.acquire();
      sem.release();
    }
    check(sem.free === CAPACITY, "tokens still held");
  },
});

const fifoPermitU = new FifoPermitSemaphore(CAPACITY);
bench({
  ...U,
  name: "hand-written FIFO + permit: await acquire(); permit.release()",
  async fn() {
    const sem = fifoPermitU;
    for (let i = 0; i < UNCONTENDED_PAIRS; i++) {
      const permit = await sem.acquire();
      permit.release();
    }
    check(sem.free === CAPACITY, "tokens still held");
  },
});

const cancellableU = new CancellableFifoSemaphore(CAPACITY);
bench({
  ...U,
  name: "hand-written cancellable FIFO + permit",
  async fn() {
    const sem = cancellableU;
    for (let i = 0; i < UNCONTENDED_PAIRS; i++) {
      const permit = await sem.acquire();
      permit.release();
    }
    check(sem.free === CAPACITY, "tokens still held");
  },
});

const semaU = new Sema(CAPACITY);
bench({
  ...U,
  name: "async-sema: await s.acquire(); s.release()",
  async fn() {
    const sema = semaU;
    for (let i = 0; i < UNCONTENDED_PAIRS; i++) {
      await sema.acquire();
      sema.release();
    }
    check(sema.nrWaiting() === 0, "waiters left");
  },
});

const limitU = pLimit(CAPACITY);
bench({
  ...U,
  name: "p-limit: await limit(() => x)",
  n: 4,
  warmup: 1,
  async fn() {
    const limit = limitU;
    for (let i = 0; i < UNCONTENDED_PAIRS; i++) await limit(immediate);
    check(limit.activeCount === 0, "tasks still active");
  },
});

const queueU = new PQueue({ concurrency: CAPACITY });
bench({
  ...U,
  name: "p-queue: await queue.add(() => x)",
  n: 4,
  warmup: 1,
  skipInterleaved: true, // 4-5 s a round
  async fn() {
    const queue = queueU;
    for (let i = 0; i < UNCONTENDED_PAIRS; i++) await queue.add(immediate);
    check(queue.size === 0 && queue.pending === 0, "tasks left");
  },
});

// Contended: 1,000 tasks × 100 cycles of (acquire, await null, release) on 10 tokens.
const ALL_CYCLES = TASKS * CYCLES;
const C = { group: "contended 1k tasks × 100 cycles", n: 12, warmup: 3, ops: ALL_CYCLES } as const;

const limiterC = new CapacityLimiter(CAPACITY);
/** The contended workload on `CapacityLimiter` (also the p-queue group's reference, below). */
async function contendedLimiter(): Promise<void> {
  const limiter = limiterC;
  let done = 0;
  await startAll(async () => {
    for (let i = 0; i < CYCLES; i++) {
      const permit = await limiter.acquire();
      await null;
      permit.release();
      done++;
    }
  });
  check(done === ALL_CYCLES && limiter.borrowedTokens === 0, "cycles or tokens");
}
bench({ ...C, name: "CapacityLimiter", baseline: true, fn: contendedLimiter });

const fifoC = new FifoSemaphore(CAPACITY);
bench({
  ...C,
  name: "hand-written FIFO",
  async fn() {
    const sem = fifoC;
    let done = 0;
    await startAll(async () => {
      for (let i = 0; i < CYCLES; i++) {
        await sem.acquire();
        await null;
        sem.release();
        done++;
      }
    });
    check(done === ALL_CYCLES && sem.free === CAPACITY, "cycles or tokens");
  },
});

const fifoPermitC = new FifoPermitSemaphore(CAPACITY);
bench({
  ...C,
  name: "hand-written FIFO + permit",
  async fn() {
    const sem = fifoPermitC;
    let done = 0;
    await startAll(async () => {
      for (let i = 0; i < CYCLES; i++) {
        const permit = await sem.acquire();
        await null;
        permit.release();
        done++;
      }
    });
    check(done === ALL_CYCLES && sem.free === CAPACITY, "cycles or tokens");
  },
});

const cancellableC = new CancellableFifoSemaphore(CAPACITY);
bench({
  ...C,
  name: "hand-written cancellable FIFO + permit",
  async fn() {
    const sem = cancellableC;
    let done = 0;
    await startAll(async () => {
      for (let i = 0; i < CYCLES; i++) {
        const permit = await sem.acquire();
        await null;
        permit.release();
        done++;
      }
    });
    check(done === ALL_CYCLES && sem.free === CAPACITY, "cycles or tokens");
  },
});

const semaC = new Sema(CAPACITY);
bench({
  ...C,
  name: "async-sema",
  async fn() {
    const sema = semaC;
    let done = 0;
    await startAll(async () => {
      for (let i = 0; i < CYCLES; i++) {
        await sema.acquire();
        await null;
        sema.release();
        done++;
      }
    });
    check(done === ALL_CYCLES && sema.nrWaiting() === 0, "cycles or waiters");
  },
});

const limiterS = new CapacityLimiter(CAPACITY);
bench({
  ...C,
  name: "CapacityLimiter, every task in a CancelScope",
  async fn() {
    const limiter = limiterS;
    let done = 0;
    await startAll(async () => {
      for (let i = 0; i < CYCLES; i++) {
        const permit = await limiter.acquire();
        await null;
        permit.release();
        done++;
      }
    }, inScope);
    check(done === ALL_CYCLES && limiter.borrowedTokens === 0, "cycles or tokens");
  },
});

const fifoS = new FifoSemaphore(CAPACITY);
bench({
  ...C,
  name: "hand-written FIFO, every task in a CancelScope",
  async fn() {
    const sem = fifoS;
    let done = 0;
    await startAll(async () => {
      for (let i = 0; i < CYCLES; i++) {
        await sem.acquire();
        await null;
        sem.release();
        done++;
      }
    }, inScope);
    check(done === ALL_CYCLES && sem.free === CAPACITY, "cycles or tokens");
  },
});

const semaS = new Sema(CAPACITY);
bench({
  ...C,
  name: "async-sema, every task in a CancelScope",
  async fn() {
    const sema = semaS;
    let done = 0;
    await startAll(async () => {
      for (let i = 0; i < CYCLES; i++) {
        await sema.acquire();
        await null;
        sema.release();
        done++;
      }
    }, inScope);
    check(done === ALL_CYCLES && sema.nrWaiting() === 0, "cycles or waiters");
  },
});

const limitC = pLimit(CAPACITY);
bench({
  ...C,
  name: "p-limit",
  async fn() {
    const limit = limitC;
    let done = 0;
    await startAll(async () => {
      for (let i = 0; i < CYCLES; i++) {
        await limit(yieldOnce);
        done++;
      }
    });
    check(done === ALL_CYCLES && limit.activeCount === 0, "cycles or tasks");
  },
});

// p-queue runs every task through a new `AsyncResource`, which registers with
// a FinalizationRegistry: 100,000 of them per iteration leave work for the
// garbage collector that lands on whichever bench runs next, and in the
// interleaved rotation it made every other bench 1.5-2.5x slower, ours most
// (it allocates most). So it has a group of its own, run last, with ours
// again as the reference.
const PQ = { ...C, group: "contended 1k tasks × 100 cycles, p-queue" } as const;

// The same function and limiter as the contended group's reference: no new
// closure for V8, and each iteration ends with every token back.
bench({ ...PQ, name: "CapacityLimiter", baseline: true, fn: contendedLimiter });

const queueC = new PQueue({ concurrency: CAPACITY });
bench({
  ...PQ,
  name: "p-queue",
  async fn() {
    const queue = queueC;
    let done = 0;
    await startAll(async () => {
      for (let i = 0; i < CYCLES; i++) {
        await queue.add(yieldOnce);
        done++;
      }
    });
    check(done === ALL_CYCLES && queue.size === 0 && queue.pending === 0, "cycles or tasks");
  },
});

if (import.meta.main) await runInterleaved(Number(Deno.args[0] ?? 10));
