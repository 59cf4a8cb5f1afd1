// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `Semaphore`, `Lock`, `Event` and `Condition`, all FIFO and all cancellable
 * by the ambient scope or a signal, built on the shared waiter list; one
 * file each.
 *
 * @module
 */

export { Semaphore, type SemaphoreOptions } from "./semaphore.ts";
export { Lock } from "./lock.ts";
export { Event } from "./event.ts";
export { Condition } from "./condition.ts";
