// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The permit a `DistributedLimiter` hands out (internal class behind the
 * exported `DistributedPermit` interface).
 *
 * @module
 */

/** A lease on one slot of a `DistributedLimiter`. */
export interface DistributedPermit extends AsyncDisposable {
  /** The lease id in the store. */
  readonly leaseId: string;
  /** Aborts (reason: a `LeaseLostError`) if the lease is lost; never on release. */
  readonly signal: AbortSignal;
  /**
   * Gives the slot back. Idempotent, never rejects, a no-op after a lease
   * loss. Resolves once the store dropped the lease; while the store is down,
   * once the lease would have expired anyway (up to `leaseTtl`).
   */
  release(): Promise<void>;
}

/** Internal. */
export class LeasePermit implements DistributedPermit {
  readonly leaseId: string;
  readonly #controller = new AbortController();
  #giveBack: ((id: string) => Promise<void>) | undefined;
  #released: Promise<void> | undefined;
  declare [Symbol.asyncDispose]: () => Promise<void>;

  constructor(leaseId: string, giveBack: (id: string) => Promise<void>) {
    this.leaseId = leaseId;
    this.#giveBack = giveBack;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  release(): Promise<void> {
    if (this.#released === undefined) {
      const giveBack = this.#giveBack!;
      this.#giveBack = undefined;
      this.#released = giveBack(this.leaseId);
    }
    return this.#released;
  }

  /**
   * Marks the lease lost: the signal aborts, and `release()` only waits for
   * `cleanup` (this process dropping what the store may still hold).
   */
  lose(reason: unknown, cleanup: Promise<void>): void {
    this.#giveBack = undefined;
    this.#released ??= cleanup;
    this.#controller.abort(reason);
  }
}

// Runtimes without explicit resource management lack the symbol; the permit
// then simply has no disposer.
if (typeof Symbol.asyncDispose === "symbol") {
  Object.defineProperty(LeasePermit.prototype, Symbol.asyncDispose, {
    value: function (this: LeasePermit): Promise<void> {
      return this.release();
    },
    writable: true,
    configurable: true,
  });
}
