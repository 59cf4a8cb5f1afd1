// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Argument checks shared by the distributed primitives (internal).
 *
 * @module
 */

import { describeValue } from "../concurrency/errors.ts";

/** The options object of a constructor, or a TypeError naming it. */
export function optionsObject(options: unknown, where: string): Record<string, unknown> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${where}: 'options' must be an object, received ${describeValue(options)}`,
    );
  }
  return options as Record<string, unknown>;
}

/** A number option checked by a predicate: the module's one number check. */
export { checkNumber as numberOption } from "../concurrency/_validate.ts";

/** A positive integer (a limit). */
export { isPositiveInteger } from "../concurrency/_validate.ts";

/** A finite number > 0 (a duration or a rate). */
export const isPositiveFinite = (n: number): boolean => n > 0 && n !== Infinity;
