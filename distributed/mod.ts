// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Past one process: a capacity limiter and a rate limiter shared by every
 * process (or Deno Deploy isolate) that uses the same store and name, on
 * Deno KV or Redis, with zero dependencies: you pass the engine's client.
 * The same stores also let a `CircuitBreaker` (from `@lionpride/core`) share
 * its open state and half-open probes across processes, through its `shared`
 * option.
 *
 * @example Usage
 * ```ts
 * import { DistributedLimiter, kvStore } from "@lionpride/core/distributed";
 * import assert from "node:assert/strict";
 *
 * const kv = await Deno.openKv(":memory:");
 * const limiter = new DistributedLimiter(kvStore(kv), "api", { limit: 5 });
 * const results = await Promise.all([1, 2, 3].map((n) => limiter.use(() => n * 2)));
 * assert.deepEqual(results, [2, 4, 6]);
 * kv.close();
 * ```
 *
 * @module
 */

export type { DistributedStore } from "./_store.ts";
export { kvStore, type KvStoreOptions } from "./kv_store.ts";
export { type RedisClientLike, redisStore, type RedisStoreOptions } from "./redis_store.ts";
export {
  type DistributedAcquireOptions,
  DistributedLimiter,
  type DistributedLimiterOptions,
  type DistributedLimiterStatistics,
  type DistributedPermit,
} from "./limiter.ts";
export { LeaseLostError, type LeaseLostErrorOptions } from "./errors.ts";
export {
  type DistributedRateAcquireOptions,
  DistributedRateLimiter,
  type DistributedRateLimiterOptions,
  type RateDecision,
} from "./rate_limiter.ts";
export type { SharedBreakerOptions } from "./_shared_breaker.ts";
