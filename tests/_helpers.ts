// Copyright 2026 the @lionpride/core authors. MIT license.
// Test helpers shared by the test files: observing promises without awaiting them.

/** Lets pending promise reactions run (no macrotask turn). */
export async function flush(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

/** Drains the microtask queue (20 turns). */
export function flushMicrotasks(): Promise<void> {
  return flush(20);
}

/** "pending" if `p` has not settled once the microtask queue has drained. */
export async function state(p: Promise<unknown>): Promise<"pending" | "fulfilled" | "rejected"> {
  let s: "pending" | "fulfilled" | "rejected" = "pending";
  p.then(() => (s = "fulfilled"), () => (s = "rejected"));
  await flushMicrotasks();
  return s;
}

/** The outcome of a promise, readable without awaiting it. */
export interface Tracked<T> {
  settled: boolean;
  rejected: boolean;
  value: T | undefined;
  error: unknown;
}

/** Starts tracking `promise`'s outcome. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { settled: false, rejected: false, value: undefined, error: undefined };
  promise.then(
    (value) => {
      t.settled = true;
      t.value = value;
    },
    (error) => {
      t.settled = true;
      t.rejected = true;
      t.error = error;
    },
  );
  return t;
}

/** Rejects if `promise` has not settled within `ms` real milliseconds. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise and the functions that settle it. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
} {
  let resolve!: (value: T) => void, reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One macrotask turn on the real clock. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Runs `fn` with `console.error` recording its calls instead of printing them. */
export async function withConsoleErrors(fn: (logged: unknown[][]) => Promise<void>): Promise<void> {
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await fn(logged);
  } finally {
    console.error = original;
  }
}
