// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Structured concurrency for async/await: cancellation scopes, task groups,
 * FIFO-fair limiters, locks, events and conditions.
 *
 * @example Usage
 * ```ts
 * import { CapacityLimiter, failAfter, sleep, taskGroup } from "@lionpride/core/concurrency";
 * import assert from "node:assert/strict";
 *
 * const limiter = new CapacityLimiter(2);
 * let running = 0;
 * let peak = 0;
 * await failAfter(5_000, () =>
 *   taskGroup((tg) => {
 *     for (let i = 0; i < 4; i++) {
 *       tg.startSoon(() =>
 *         limiter.use(async () => {
 *           peak = Math.max(peak, ++running);
 *           await sleep(1);
 *           running--;
 *         })
 *       );
 *     }
 *   }));
 * assert.equal(peak, 2); // never more than the limiter's 2 at once
 * ```
 *
 * @module
 */

export { checkpoint, sleep, type SleepOptions } from "./sleep.ts";
export { currentTime } from "./clock.ts";
export {
  CancelledError,
  CircuitOpenError,
  type CircuitOpenErrorOptions,
  type ExceptionCondition,
  ExceptionGroup,
  isCancelled,
  nonCancelSubgroup,
  QueueClosed,
  QueueEmpty,
  QueueFull,
  RateLimitError,
  type RateLimitErrorOptions,
  splitCancellation,
  TimeoutError,
  type TimeoutErrorOptions,
} from "./errors.ts";
export { CancelScope, type CancelScopeOptions, currentScope, effectiveDeadline } from "./cancel.ts";
export { failAfter, failAt, moveOnAfter, moveOnAt, shield } from "./timeouts.ts";
export { TaskGroup, taskGroup, type TaskStatus } from "./task_group.ts";
export {
  type AcquireOptions,
  CapacityLimiter,
  type LimiterStatistics,
  type Permit,
} from "./limiter.ts";
export { Condition, Event, Lock, Semaphore, type SemaphoreOptions } from "./primitives.ts";
export {
  asCompleted,
  type AsCompletedOptions,
  boundedMap,
  type BoundedMapOptions,
  gather,
  type GatherOptions,
  race,
  retry,
  type RetryContext,
  type RetryOptions,
} from "./patterns.ts";
export {
  PriorityQueue,
  type PriorityQueueOptions,
  Queue,
  type QueueOptions,
  type QueueStatistics,
  type QueueWaitOptions,
} from "./queue.ts";
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitBreakerStatistics,
  type CircuitState,
} from "./circuit_breaker.ts";
export {
  RateLimiter,
  type RateLimiterAcquireOptions,
  type RateLimiterOptions,
  type RateLimiterStatistics,
} from "./rate_limiter.ts";
export {
  type AdaptiveAlgorithm,
  AdaptiveLimiter,
  type AdaptiveLimiterOptions,
  type AdaptiveLimiterStatistics,
} from "./adaptive.ts";
export { checkResponse, HttpError, parseRetryAfter, type RetryAfterSource } from "./http.ts";
export { GracefulShutdown, type GracefulShutdownOptions } from "./shutdown.ts";
export { chunks } from "./chunks.ts";
