// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Which scope is ambient (internal): the async-context storage every scope
 * is entered through, and the lookup of the ambient scope's status.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { CancelStatus } from "./_cancel_status.ts";

/**
 * What the async context holds: a small frame that points at the ambient
 * scope's status, rather than the status itself, and at the frame the scope
 * was entered in. When a scope exits without being cancelled, its frame lets
 * go of it and defers to the frame around it, so that code which outlives
 * the scope in its async context (a promise nobody awaited) belongs to the
 * nearest enclosing scope still in force; a cancelled scope keeps its frame,
 * so such code stays cancelled (level-triggered).
 *
 * It also keeps scopes cheap: Deno's `AsyncLocalStorage.run` records each
 * value in a WeakMap whose values V8's young-generation GC keeps alive, so a
 * scope stored there survived collections it did not need to (bench/README.md,
 * 2026-11-28: a small frame made `failAfter` 21-24% faster).
 */
export interface Frame {
  /** The scope's status; `undefined` once it finished without being cancelled. */
  status: CancelStatus | undefined;
  /** The frame the scope was entered in. */
  readonly up: Frame | undefined;
}
export const storage: AsyncLocalStorage<Frame> = new AsyncLocalStorage<Frame>();

/** The status of `frame`, or of the nearest frame around it that still has one. */
export function statusFrom(frame: Frame | undefined): CancelStatus | undefined {
  for (; frame !== undefined; frame = frame.up) {
    const status = frame.status;
    if (status !== undefined) return status;
  }
  return undefined;
}

/** The status of the ambient scope. */
export function ambientStatus(): CancelStatus | undefined {
  return statusFrom(storage.getStore());
}
