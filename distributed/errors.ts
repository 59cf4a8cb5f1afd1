// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `LeaseLostError`: the reason a distributed permit's signal carries when its
 * lease was lost.
 *
 * @module
 */

/** Options of the {@linkcode LeaseLostError} constructor. */
export interface LeaseLostErrorOptions extends ErrorOptions {
  /** The id of the lost lease. */
  leaseId?: string;
}

/**
 * The lease behind a `DistributedPermit` was lost: a renewal found it gone,
 * or the store could not be reached before it would expire. The permit's
 * `signal` aborts with this error before the slot can be granted elsewhere.
 *
 * @example Usage
 * ```ts
 * import { LeaseLostError } from "@lionpride/core/distributed";
 * import assert from "node:assert/strict";
 *
 * const err = new LeaseLostError("gone", { leaseId: "abc" });
 * assert.equal(err.name, "LeaseLostError");
 * assert.equal(err.leaseId, "abc");
 * ```
 */
export class LeaseLostError extends Error {
  /** The id of the lost lease (empty if not given). */
  readonly leaseId: string;

  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The lease id and the standard `cause` (the last store error, if any).
   */
  constructor(message = "Lease lost", options?: LeaseLostErrorOptions) {
    super(message, options);
    this.name = "LeaseLostError";
    this.leaseId = options?.leaseId ?? "";
  }
}
