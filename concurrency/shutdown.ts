// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `GracefulShutdown`: turn the first OS signal into an `AbortSignal`.
 *
 * @module
 */

import { CancelledError } from "./errors.ts";
import { describeValue } from "./_validate.ts";

/** Options of the {@linkcode GracefulShutdown} constructor. */
export interface GracefulShutdownOptions {
  /** The OS signals to listen for (default `["SIGINT", "SIGTERM"]`). */
  signals?: string[];
}

type Listen = (name: string, handler: () => void) => () => void;

interface DenoSignals {
  addSignalListener(name: string, handler: () => void): void;
  removeSignalListener(name: string, handler: () => void): void;
}

interface NodeProcess {
  on(name: string, handler: () => void): unknown;
  off?(name: string, handler: () => void): unknown;
  removeListener?(name: string, handler: () => void): unknown;
}

/** How this runtime listens for a signal; returns the remover, or throws if it cannot. */
function platformListen(): Listen | undefined {
  const deno = (globalThis as { Deno?: Partial<DenoSignals> }).Deno;
  if (typeof deno?.addSignalListener === "function") {
    const d = deno as DenoSignals;
    return (name, handler) => {
      d.addSignalListener(name, handler);
      return () => d.removeSignalListener(name, handler);
    };
  }
  const proc = (globalThis as { process?: Partial<NodeProcess> }).process;
  if (typeof proc?.on === "function") {
    const p = proc as NodeProcess;
    return (name, handler) => {
      p.on(name, handler);
      return () => {
        if (typeof p.off === "function") p.off(name, handler);
        else p.removeListener?.(name, handler);
      };
    };
  }
  return undefined;
}

const UNCATCHABLE = new Set(["SIGKILL", "SIGSTOP"]);

function checkSignals(value: unknown): string[] {
  const where = "Cannot create GracefulShutdown";
  if (!Array.isArray(value)) {
    throw new TypeError(
      `${where}: 'signals' must be an array of signal names, received ${describeValue(value)}`,
    );
  }
  for (const name of value) {
    if (typeof name !== "string") {
      throw new TypeError(
        `${where}: 'signals' must hold signal names, received ${describeValue(name)}`,
      );
    }
    if (!/^SIG[A-Z0-9]+$/.test(name) || UNCATCHABLE.has(name)) {
      throw new RangeError(
        `${where}: 'signals' must hold catchable signal names like "SIGTERM", received "${name}"`,
      );
    }
  }
  return [...new Set(value as string[])];
}

/**
 * Listens for OS signals and turns the first one into a request to shut down:
 * `requested` becomes true and `signal` aborts (with a
 * {@linkcode CancelledError} naming the signal). Then it stops listening, so
 * a second signal gets the runtime's default behaviour (usually: terminate at
 * once), the familiar "press Ctrl-C again to force".
 *
 * Uses `Deno.addSignalListener` where it exists, else `process.on`; where
 * neither works (a browser, Deno Deploy, a signal the platform does not
 * support) it listens for nothing and only `request()` triggers it.
 * `[Symbol.dispose]()` removes its listeners.
 *
 * @example Usage
 * ```ts
 * import { GracefulShutdown, isCancelled, sleep } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * using shutdown = new GracefulShutdown({ signals: ["SIGINT", "SIGTERM"] });
 * setTimeout(() => shutdown.request("demo"), 10); // what a SIGTERM would do
 * // serve until asked to stop
 * await assert.rejects(sleep(Infinity, { signal: shutdown.signal }), isCancelled);
 * assert.equal(shutdown.requested, true);
 * assert.equal(shutdown.requestedBy, "demo");
 * ```
 */
export class GracefulShutdown implements Disposable {
  readonly #controller = new AbortController();
  #requestedBy: string | undefined = undefined;
  #removers: (() => void)[] = [];

  /**
   * Constructs a new instance and starts listening.
   *
   * @param options The signals to listen for.
   * @throws {TypeError} If `options` is not an object or `signals` not an array of strings.
   * @throws {RangeError} If a signal name is not a catchable `SIG…` name.
   */
  constructor(options?: GracefulShutdownOptions) {
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new TypeError(
        `Cannot create GracefulShutdown: 'options' must be an object, received ${
          describeValue(options)
        }`,
      );
    }
    const signals = checkSignals(options?.signals ?? ["SIGINT", "SIGTERM"]);
    const listen = platformListen();
    if (listen === undefined) return;
    for (const name of signals) {
      const handler = (): void => this.request(name);
      try {
        this.#removers.push(listen(name, handler));
      } catch {
        // Not supported here (Deno Deploy, SIGTERM on Windows…): listen for the others.
      }
    }
  }

  /** True once a signal arrived or `request()` was called. */
  get requested(): boolean {
    return this.#requestedBy !== undefined;
  }

  /** The signal name (or `request()`'s reason) that requested the shutdown, if any. */
  get requestedBy(): string | undefined {
    return this.#requestedBy;
  }

  /** Aborts, with a {@linkcode CancelledError}, when the shutdown is requested. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Requests the shutdown as if a signal had arrived; idempotent (the first
   * request wins). Stops listening for signals.
   *
   * @param reason What requested it (default `"request()"`).
   */
  request(reason = "request()"): void {
    if (this.#requestedBy !== undefined) return;
    this.#requestedBy = String(reason);
    this.#removeListeners();
    this.#controller.abort(new CancelledError(`Shutdown requested by ${this.#requestedBy}`));
  }

  /** Removes the signal listeners; idempotent. It does not request a shutdown. */
  [Symbol.dispose](): void {
    this.#removeListeners();
  }

  #removeListeners(): void {
    const removers = this.#removers;
    this.#removers = [];
    for (const remove of removers) {
      try {
        remove();
      } catch {
        // Already gone: nothing left to remove.
      }
    }
  }
}
