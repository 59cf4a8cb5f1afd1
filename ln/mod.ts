// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * `ln`: apply functions to lists with bounded concurrency (coming next).
 *
 * @module
 */

export {};
