// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * What an error says about retrying it (internal): its `retryAfter` hint and
 * whether it is retryable by default (API.md §10). The attempt loop, the
 * circuit breaker and the adaptive limiter all ask here, so the statuses and
 * the shape of a hint are decided in one place.
 *
 * @module
 */

import { isCancelled } from "./errors.ts";
import { fieldOf } from "./_thrown.ts";

/** HTTP statuses worth retrying: timeouts, conflicts, too early, rate limits, 5xx that pass. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/**
 * The server's or limiter's own hint: the error's `retryAfter` property when
 * it is a finite number `>= 0` or `Infinity`, else `undefined`.
 *
 * @param err Any thrown value.
 * @returns Milliseconds to wait before the next attempt, or `undefined`.
 */
export function retryAfterOf(err: unknown): number | undefined {
  const value = fieldOf(err, "retryAfter");
  return typeof value === "number" && value >= 0 ? value : undefined;
}

/**
 * The default `retryOn`: never a cancellation; an error with a numeric
 * `status` only for 408, 409, 425, 429, 500, 502, 503 and 504; anything else
 * yes.
 *
 * @param err Any thrown value.
 * @returns Whether to try again.
 */
export function retryableByDefault(err: unknown): boolean {
  if (isCancelled(err)) return false;
  const status = fieldOf(err, "status");
  if (typeof status === "number") return RETRYABLE_STATUSES.has(status);
  return true;
}
