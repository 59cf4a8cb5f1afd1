// Copyright 2026 the @lionpride/core authors. MIT license.
// Spawning the distributed tests' worker processes and reading their events.

import type { WorkerTask } from "./_distributed_worker.ts";

const WORKER = new URL("./_distributed_worker.ts", import.meta.url).pathname;

/** One event a worker printed, with the worker's index. */
export type WorkerEvent = Record<string, number> & { worker: number };

/** A running worker process and the events it printed so far. */
export class Worker {
  readonly events: WorkerEvent[] = [];
  readonly child: Deno.ChildProcess;
  readonly done: Promise<Deno.CommandStatus>;
  #listeners: Array<() => void> = [];

  constructor(readonly index: number, task: WorkerTask) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--unstable-kv", "-A", "--no-check", WORKER, JSON.stringify(task)],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reading = this.#read();
    this.done = reading.then(() => this.child.status);
  }

  async #read(): Promise<void> {
    let buffer = "";
    for await (const chunk of this.child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith("{")) this.events.push({ ...JSON.parse(line), worker: this.index });
        for (const listener of this.#listeners) listener();
      }
    }
  }

  /** Resolves with the first event that has `key`. */
  next(key: string): Promise<WorkerEvent> {
    return new Promise((resolve) => {
      const check = () => {
        const found = this.events.find((e) => key in e);
        if (found === undefined) return false;
        this.#listeners = this.#listeners.filter((l) => l !== listener);
        resolve(found);
        return true;
      };
      const listener = () => void check();
      if (!check()) this.#listeners.push(listener);
    });
  }
}

/**
 * Runs `n` workers on `task` to the end; fails if any exits non-zero, or if
 * they are not all done `limit` ms after the start (then every worker still
 * running is killed first, so a stuck run ends the test instead of hanging it).
 */
export async function runWorkers(
  n: number,
  task: WorkerTask,
  limit = task.duration + 15_000,
): Promise<WorkerEvent[]> {
  const workers = Array.from({ length: n }, (_, i) => new Worker(i, task));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    for (const w of workers) {
      try {
        w.child.kill("SIGKILL");
      } catch { /* already exited */ }
    }
  }, limit);
  let statuses: Deno.CommandStatus[];
  try {
    statuses = await Promise.all(workers.map((w) => w.done));
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new Error(`the ${n} workers were not done within ${limit} ms`);
  statuses.forEach((s, i) => {
    if (!s.success) throw new Error(`worker ${i} exited with ${s.code}`);
  });
  return workers.flatMap((w) => w.events);
}

/** The most holders overlapping at any instant, from grant/release events. */
export function peakOverlap(events: WorkerEvent[]): number {
  const edges: Array<[number, number]> = [];
  for (const e of events) {
    if ("grant" in e) edges.push([e.grant, 1]);
    if ("release" in e) edges.push([e.release, -1]);
  }
  // At equal instants a release counts before a grant: the logged interval of
  // a holder lies inside its lease, so touching intervals never overlapped.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0, peak = 0;
  for (const [, delta] of edges) peak = Math.max(peak, running += delta);
  return peak;
}

/**
 * The worst excess of admissions over `burst + rate * (t + slack)` over every
 * window [a_i, a_j] of the sorted admission instants (> 0 means a violation).
 * `slack` absorbs how late a process can log an admission it got on time.
 */
export function worstWindowExcess(
  admits: number[],
  burst: number,
  ratePerMs: number,
  slack: number,
): number {
  const a = [...admits].sort((x, y) => x - y);
  let worst = -Infinity;
  for (let i = 0; i < a.length; i++) {
    for (let j = i; j < a.length; j++) {
      const allowed = burst + ratePerMs * (a[j] - a[i] + slack);
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return worst;
}
