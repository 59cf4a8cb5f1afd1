// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `ln`: apply functions to lists and streams with bounded concurrency,
 * timeouts and retries (`alcall`, `bcall`), yield results as they are ready
 * (`alcallStream`), and turn anything into a list (`toList`).
 *
 * @example Usage
 * ```ts
 * import { alcall } from "@lionpride/core/ln";
 * import assert from "node:assert/strict";
 *
 * const results = await alcall([1, 2, 3], async (x) => x + 1, { maxConcurrent: 2 });
 * assert.deepEqual(results, [2, 3, 4]);
 * ```
 *
 * @module
 */

export {
  alcall,
  type AlcallOptions,
  type AlcallProgress,
  type CallContext,
  type PermitLimiter,
  type TokenRateLimiter,
} from "./alcall.ts";
export { alcallStream, type AlcallStreamOptions } from "./alcall_stream.ts";
export { bcall } from "./bcall.ts";
export { toList, type ToListOptions } from "./to_list.ts";
