// Copyright 2026 the @lionpride/core authors. MIT license.
// The import map names "ioredis" this file, not the npm package itself, so
// `deno task` fetches nothing for a user's `deno task example`; the distributed
// tests (and the distributed example, when REDIS_URL is set) fetch it on first use.
export * from "npm:ioredis@5.8.2";
export { default } from "npm:ioredis@5.8.2";
