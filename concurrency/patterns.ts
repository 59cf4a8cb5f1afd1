// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Composite patterns built on scopes and task groups: `retry` with
 * deadline-aware backoff, `gather`, `race`, `boundedMap` and `asCompleted`,
 * one file each. None of them keeps a timer or a listener of its own: waiting
 * is `sleep`, cancellation is a `CancelScope` or a `TaskGroup`.
 *
 * @module
 */

export { retry, type RetryContext, type RetryOptions } from "./retry.ts";
export { gather, type GatherOptions } from "./gather.ts";
export { race } from "./race.ts";
export { boundedMap, type BoundedMapOptions } from "./bounded_map.ts";
export { asCompleted, type AsCompletedOptions } from "./as_completed.ts";
