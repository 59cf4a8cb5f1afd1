// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `@lionpride/core`: production-resilience concurrency primitives for
 * async/await: cancellation scopes, task groups, FIFO-fair limiters and more.
 *
 * Everything is exported flat, and also as the `concurrency` and `ln`
 * namespaces.
 *
 * @example Usage
 * ```ts
 * import { CapacityLimiter, failAfter, taskGroup } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const limiter = new CapacityLimiter(5);
 * const results: number[] = [];
 * await failAfter(5_000, () =>
 *   taskGroup((tg) => {
 *     for (let i = 0; i < 10; i++) {
 *       tg.startSoon(() => limiter.use(() => results.push(i)));
 *     }
 *   }));
 * assert.deepEqual(results.toSorted((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
 * ```
 *
 * @module
 */

export * from "./concurrency/mod.ts";
export * from "./ln/mod.ts";
export * as concurrency from "./concurrency/mod.ts";
export * as ln from "./ln/mod.ts";
