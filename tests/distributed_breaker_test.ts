// Copyright 2026 the @lionpride/core authors. MIT license.
// CircuitBreaker's `shared` option: two breakers on one store stand for two
// processes (each has its own SharedBreaker and counts on its own).

import assert from "node:assert/strict";
import { CircuitBreaker, CircuitOpenError, currentTime, sleep } from "../mod.ts";
import { type DistributedStore, kvStore } from "../distributed/mod.ts";
import { FaultyKv, testOnEngines, withKvFile } from "./_distributed.ts";

const fail = () => Promise.reject(new Error("upstream down"));
const ok = () => "fine";

function pair(store: DistributedStore, resetTimeout = 300) {
  const options = {
    failureThreshold: 2,
    resetTimeout,
    shared: { store, name: "upstream", syncInterval: 20 },
  };
  return [new CircuitBreaker(options), new CircuitBreaker(options)];
}

const test = testOnEngines;

test("when one process opens the breaker, the other fails fast within syncInterval", async (store) => {
  // A long resetTimeout, and a lower bound on retryAfter measured rather
  // than assumed, so a process stalled for hundreds of ms on a loaded machine
  // neither half-opens the breaker nor falls below a fixed margin.
  const resetTimeout = 5_000;
  const [a, b] = pair(store, resetTimeout);
  assert.equal(await b.call(ok), "fine");
  await assert.rejects(a.call(fail), /upstream down/);
  const openedAfter = currentTime();
  await assert.rejects(a.call(fail), /upstream down/);
  assert.equal(a.state, "open");
  await sleep(30);
  let called = false;
  const err = await b.call(() => (called = true)).catch((e) => e);
  const elapsed = currentTime() - openedAfter;
  assert.ok(err instanceof CircuitOpenError, String(err));
  assert.equal(called, false);
  const atLeast = resetTimeout - Math.ceil(elapsed) - 2; // Date.now() is whole ms
  assert.ok(
    err.retryAfter >= atLeast && err.retryAfter <= resetTimeout,
    `retryAfter ${err.retryAfter}, expected in [${atLeast}, ${resetTimeout}]`,
  );
});

// The tests below need a few steps to happen within resetTimeout; 400 ms
// leaves room for a process stalled by a loaded machine (a probe that has not
// settled within resetTimeout loses its slot, so a 100 ms one was flaky).
const STALL_ROOM = 400;

test("half-open probes are limited across processes, and a probe's success closes it for all", async (store) => {
  const [a, b] = pair(store, STALL_ROOM);
  for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
  await sleep(STALL_ROOM + 30);
  let release!: () => void;
  const probe = a.call(() => new Promise<string>((r) => (release = () => r("recovered"))));
  await sleep(30);
  await assert.rejects(b.call(ok), CircuitOpenError);
  release();
  assert.equal(await probe, "recovered");
  assert.equal(a.state, "closed");
  await sleep(30);
  assert.equal(await b.call(ok), "fine");
  assert.equal(b.state, "closed");
});

test("a failed probe re-opens the breaker for every process", async (store) => {
  const [a, b] = pair(store, STALL_ROOM);
  for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
  await sleep(STALL_ROOM + 30);
  const probedAt = currentTime();
  await assert.rejects(a.call(fail), /upstream down/);
  await sleep(30);
  const err = await b.call(ok).catch((e) => e);
  const atLeast = STALL_ROOM - Math.ceil(currentTime() - probedAt) - 2; // Date.now() is whole ms
  assert.ok(err instanceof CircuitOpenError, String(err));
  assert.ok(err.retryAfter >= atLeast && err.retryAfter <= STALL_ROOM, `${err.retryAfter}`);
});

Deno.test("a failed probe stores the new openUntil before it releases its probe lease", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    const [a] = pair(kvStore(faulty.asKv), 50);
    for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
    await sleep(70);
    faulty.writes.length = 0;
    await assert.rejects(a.call(fail), /upstream down/);
    // takeProbe (atomic), then the new openUntil (set), then the release (atomic).
    assert.deepEqual(faulty.writes, ["atomic", "set lionpride/upstream/open-until", "atomic"]);
  });
});

Deno.test("a breaker whose store is unreachable decides on its own", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    faulty.down = true;
    const [a] = pair(kvStore(faulty.asKv), STALL_ROOM);
    for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
    assert.equal(a.state, "open");
    await sleep(STALL_ROOM + 20);
    assert.equal(await a.call(ok), "fine");
    assert.equal(a.state, "closed");
  });
});

Deno.test("a bad shared option names the parameter", () => {
  assert.throws(() => new CircuitBreaker({ shared: { store: {} as never, name: "x" } }), /'store'/);
  assert.throws(
    () =>
      new CircuitBreaker({
        shared: { store: kvStore({ getMany() {}, atomic() {} } as never), name: "a b" },
      }),
    /'name'/,
  );
  assert.throws(
    () =>
      new CircuitBreaker({
        shared: {
          store: kvStore({ getMany() {}, atomic() {} } as never),
          name: "a",
          syncInterval: 0,
        },
      }),
    /'syncInterval'/,
  );
});

test("a process that last read the store before a probe failed elsewhere does not probe again", async (store) => {
  // A long syncInterval: b's view of the store is as of its first call. A
  // resetTimeout of 1 s: b's call must come before the re-opened breaker
  // half-opens again.
  const resetTimeout = 1_000;
  const options = {
    failureThreshold: 2,
    resetTimeout,
    shared: { store, name: "upstream", syncInterval: 60_000 },
  };
  const [a, b] = [new CircuitBreaker(options), new CircuitBreaker(options)];
  for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
  await assert.rejects(b.call(ok), CircuitOpenError); // b adopts a's open state
  await sleep(resetTimeout + 30); // both half-open
  const probedAt = currentTime();
  await assert.rejects(a.call(fail), /upstream down/); // re-opened for all, then the lease is free
  let called = false;
  const err = await b.call(() => (called = true)).catch((e) => e);
  assert.equal(called, false, "b probed an upstream whose probe had just failed");
  assert.ok(err instanceof CircuitOpenError, String(err));
  const atLeast = resetTimeout - Math.ceil(currentTime() - probedAt) - 2; // Date.now() is whole ms
  assert.ok(err.retryAfter >= atLeast && err.retryAfter <= resetTimeout, `${err.retryAfter}`);
  assert.equal(b.state, "open");
});

Deno.test("a breaker whose open state could not be stored is not closed by the store's silence", async () => {
  await withKvFile(async (kv) => {
    const faulty = new FaultyKv(kv);
    const [a] = pair(kvStore(faulty.asKv), 5_000);
    assert.equal(await a.call(ok), "fine");
    faulty.down = true; // the store is away when the breaker opens
    for (let i = 0; i < 2; i++) await a.call(fail).catch(() => {});
    assert.equal(a.state, "open");
    faulty.down = false;
    await sleep(30); // past syncInterval: the next call reads a store that never heard of it
    let called = false;
    const err = await a.call(() => (called = true)).catch((e) => e);
    assert.equal(called, false, "closed without a probe's success");
    assert.ok(err instanceof CircuitOpenError, String(err));
    assert.equal(a.state, "open");
    // That call stored it: another process now fails fast too.
    const [b] = pair(kvStore(kv), 5_000);
    await assert.rejects(b.call(ok), CircuitOpenError);
  });
});
