// Copyright 2026 the @lionpride/core authors. MIT license.
// The import map names "@sinonjs/fake-timers" this file, not the npm package
// itself: see fast_check.ts for why.
export * from "npm:@sinonjs/fake-timers@15.5.0";
export { default } from "npm:@sinonjs/fake-timers@15.5.0";
