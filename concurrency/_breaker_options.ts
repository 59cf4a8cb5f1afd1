// Copyright 2026 the @lionpride/core authors. MIT license.
// The checks of `CircuitBreaker`'s constructor options (internal), kept apart
// so the breaker's file holds only its state machine.

import type { CircuitBreakerOptions, CircuitState } from "./circuit_breaker.ts";
import { checkFunction, checkNumber, checkOptions, describeValue } from "./_validate.ts";

/** The local options of a breaker, checked and with their defaults. */
export interface CheckedBreakerOptions {
  failureThreshold: number;
  halfOpenMaxCalls: number;
  resetTimeout: number;
  isFailure: ((err: unknown) => boolean) | undefined;
  onStateChange: ((from: CircuitState, to: CircuitState) => void) | undefined;
}

/**
 * Checks every option but `shared` (the shared breaker checks its own) and
 * applies the defaults: 5 failures, 60 s, 1 probe.
 */
export function checkBreakerOptions(
  options: CircuitBreakerOptions | undefined,
  where: string,
): CheckedBreakerOptions {
  checkOptions(options, where, "typed");
  const failureThreshold = positiveInteger(options?.failureThreshold, "failureThreshold", 5, where);
  const halfOpenMaxCalls = positiveInteger(options?.halfOpenMaxCalls, "halfOpenMaxCalls", 1, where);
  const resetTimeout = options?.resetTimeout ?? 60_000;
  if (typeof resetTimeout !== "number") {
    throw new TypeError(
      `${where}: 'resetTimeout' must be a number of milliseconds, received ${
        describeValue(resetTimeout)
      }`,
    );
  }
  if (!(resetTimeout >= 0)) {
    throw new RangeError(
      `${where}: 'resetTimeout' must be >= 0 or Infinity, received ${resetTimeout}`,
    );
  }
  return {
    failureThreshold,
    halfOpenMaxCalls,
    resetTimeout,
    isFailure: callback(options?.isFailure, "isFailure", where),
    onStateChange: callback(options?.onStateChange, "onStateChange", where),
  };
}

const isPositiveInteger = (n: number): boolean => Number.isInteger(n) && n >= 1;

function positiveInteger(value: unknown, name: string, fallback: number, where: string): number {
  if (value === undefined) return fallback;
  return checkNumber(value, name, where, "a positive integer", isPositiveInteger, "typed");
}

function callback<F>(value: unknown, name: string, where: string): F | undefined {
  if (value === undefined) return undefined;
  checkFunction(value, name, where, "typed");
  return value as F;
}
