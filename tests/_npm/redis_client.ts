// Copyright 2026 the @lionpride/core authors. MIT license.
// node-redis's client (the `redis` package re-exports it), for the Redis tests'
// second client shape, `sendCommand(args)`. See ioredis.ts for why the import
// map names this file and not the package.
export * from "npm:@redis/client@6.4.0";
