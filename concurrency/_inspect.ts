// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * How the module's classes print in a console (internal): Deno's
 * `Deno.customInspect` and Node's `util.inspect.custom` (Bun honours Node's),
 * both registered symbols, so no runtime API is needed to install them.
 *
 * @module
 */

const DENO_INSPECT: unique symbol = Symbol.for("Deno.customInspect") as never;
const NODE_INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/**
 * Makes instances of `cls` print as `Name { <what describe returns> }`, e.g.
 * `CapacityLimiter { borrowed: 3/5, waiting: 12 }`.
 *
 * @param cls The class whose instances to describe.
 * @param describe Live state of one instance, as `key: value` pairs.
 */
export function defineInspect<T extends object>(
  // deno-lint-ignore no-explicit-any
  cls: abstract new (...args: any[]) => T,
  describe: (self: T) => string,
): void {
  function inspect(this: T): string {
    return `${this.constructor.name} { ${describe(this)} }`;
  }
  for (const key of [DENO_INSPECT, NODE_INSPECT]) {
    Object.defineProperty(cls.prototype, key, {
      value: inspect,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
}
