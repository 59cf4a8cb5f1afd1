// Copyright 2026 the @lionpride/core authors. MIT license.
// The import map names "fast-check" this file, not the npm package itself, so
// `deno task` (which installs every npm package its config names) fetches nothing
// for a user's `deno task example`; the tests that import it fetch it on first use.
export * from "npm:fast-check@4.11.0";
export { default } from "npm:fast-check@4.11.0";
