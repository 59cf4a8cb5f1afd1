// Copyright 2026 the @lionpride/core authors. MIT license.
// Review of API.md §12 (and the timer rules of §1) where runtimes differ:
// these run on Deno, Node 22/24 and Bun alike (.ci/xrt).
import assert from "node:assert/strict";
import { readFile } from "node:fs";
import { readFile as readFilePromise } from "node:fs/promises";
import { Readable } from "node:stream";
import {
  alcall,
  alcallStream,
  bcall,
  CancelScope,
  checkResponse,
  currentTime,
  effectiveDeadline,
  ExceptionGroup,
  HttpError,
  parseRetryAfter,
} from "../mod.ts";
import { DistributedLimiter, redisStore } from "../distributed/mod.ts";
import { MAX_TIMER_DELAY } from "../concurrency/clock.ts";
import { redisAvailable, withRedis } from "./_distributed.ts";

const DAY = 86_400_000;

/**
 * Runs `fn` while the global `setTimeout` notes every delay it is given.
 * Deno, Node and Bun all run a timer whose delay exceeds 2^31 - 1 after
 * 1 ms, so the module must never ask for one (API.md §1: longer waits are
 * split).
 */
async function recordingDelays(fn: () => Promise<void>): Promise<number[]> {
  const real = globalThis.setTimeout;
  const delays: number[] = [];
  globalThis.setTimeout = ((cb: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    return real(cb, ms);
  }) as typeof setTimeout;
  try {
    await fn();
  } finally {
    globalThis.setTimeout = real;
  }
  return delays;
}

for (const days of [30, 90]) {
  Deno.test({
    name: `a lease with a ${days}-day leaseTtl is neither lost at once nor polled in a 1 ms loop`,
    ignore: !redisAvailable,
    fn: () =>
      withRedis(async (client) => {
        const limiter = new DistributedLimiter(redisStore(client), "long-ttl", {
          limit: 1,
          leaseTtl: days * DAY,
        });
        let aborted = "";
        const delays = await recordingDelays(async () => {
          const permit = await limiter.acquire();
          try {
            await new Promise((resolve) => setTimeout(resolve, 30));
            if (permit.signal.aborted) aborted = String(permit.signal.reason);
          } finally {
            await permit.release();
          }
        });
        assert.equal(aborted, "", "the lease was not lost");
        const tooLong = delays.filter((ms) => ms > MAX_TIMER_DELAY);
        assert.deepEqual(tooLong, [], "no timer asked for more than 2^31 - 1 ms");
      }),
  });
}

// ------------------------------------------------------------ stream inputs

/** A web stream of 0, 1, 2, … (`length` items, or endless) that notes pulls and a cancel. */
function countingStream(length = Infinity) {
  const state = {
    pulled: 0,
    cancelled: false as boolean | string,
    stream: undefined! as ReadableStream<number>,
  };
  state.stream = new ReadableStream<number>({
    pull(controller) {
      if (state.pulled === length) controller.close();
      else controller.enqueue(state.pulled++);
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return state;
}

Deno.test("alcall over a web ReadableStream keeps input order and cancels the stream on a failure", async () => {
  const ok = countingStream(20);
  assert.deepEqual(
    await alcall(ok.stream, async (n) => {
      await new Promise((resolve) => setTimeout(resolve, (n * 7) % 3));
      return n * 2;
    }, { maxConcurrent: 4 }),
    Array.from({ length: 20 }, (_, i) => i * 2),
  );
  assert.equal(ok.cancelled, false, "a stream read to its end is not cancelled");

  const failing = countingStream();
  const err = await alcall(failing.stream, (n) => {
    if (n === 5) throw new Error("item 5");
    return n;
  }, { maxConcurrent: 3 }).catch((e) => e);
  assert.ok(err instanceof ExceptionGroup, String(err));
  assert.equal(failing.cancelled, true, "the endless stream was cancelled");
  assert.ok(failing.pulled <= 5 + 3 + 1, `pulled ${failing.pulled}`);
});

Deno.test("alcallStream over a web ReadableStream: leaving the loop cancels the stream and pulls no more", async () => {
  const input = countingStream();
  const seen: number[] = [];
  for await (const n of alcallStream(input.stream, (n) => n, { maxConcurrent: 2, buffer: 2 })) {
    seen.push(n);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [0, 1, 2]);
  assert.equal(input.cancelled, true);
  const pulled = input.pulled;
  assert.ok(pulled <= 3 + 2 + 2, `pulled ${pulled}`);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(input.pulled, pulled, "nothing pulled after the loop left");
});

Deno.test("bcall over a web ReadableStream yields batch by batch in input order", async () => {
  const input = countingStream(7);
  const batches: number[][] = [];
  for await (const batch of bcall(input.stream, (n) => n + 1, { batchSize: 3 })) {
    batches.push(batch);
  }
  assert.deepEqual(batches, [[1, 2, 3], [4, 5, 6], [7]]);
});

Deno.test("alcall over a node:stream Readable destroys it when an item fails", async () => {
  let produced = 0;
  const readable = Readable.from(
    (function* () {
      for (;;) yield produced++;
    })(),
    { highWaterMark: 1 },
  );
  const err = await alcall(readable, (n: number) => {
    if (n === 4) throw new Error("item 4");
    return n;
  }, { maxConcurrent: 2 }).catch((e) => e);
  assert.ok(err instanceof ExceptionGroup, String(err));
  assert.equal(readable.destroyed, true);
  assert.ok(produced < 50, `produced ${produced}`);
  assert.deepEqual(
    await alcall(Readable.from(["a", "b", "c"]), (s: string) => s.toUpperCase()),
    ["A", "B", "C"],
  );
});

// ------------------------------------------- responses of another fetch

/**
 * Headers of another fetch implementation: the same interface as the global
 * `Headers`, but another class. On Node that is common: the npm `undici`
 * (a copy other than the one Node bundles), node-fetch, or a framework's
 * polyfill, whose classes fail `instanceof` the global ones.
 */
class OtherHeaders {
  readonly #map = new Map<string, string>();
  constructor(init: Record<string, string>) {
    for (const [k, v] of Object.entries(init)) this.#map.set(k.toLowerCase(), v);
  }
  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    yield* this.#map;
  }
}

/** A response of another fetch implementation; `body` as undici (a web stream) or node-fetch (a Readable) has it. */
class OtherResponse {
  readonly headers: OtherHeaders;
  readonly ok: boolean;
  readonly statusText = "Too Many Requests";
  readonly url = "http://127.0.0.1/other";
  readonly bodyUsed = false;
  constructor(
    readonly status: number,
    headers: Record<string, string>,
    readonly body: ReadableStream<Uint8Array> | Readable | null,
  ) {
    this.headers = new OtherHeaders(headers);
    this.ok = status >= 200 && status < 300;
  }
}

function cancellableBody(): { body: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    cancel: () => {
      cancelled = true;
    },
  });
  return { body, cancelled: () => cancelled };
}

Deno.test("checkResponse and HttpError take a Response of another fetch implementation (npm undici, node-fetch)", async () => {
  const ok = new OtherResponse(200, {}, null);
  assert.equal(checkResponse(ok as unknown as Response), ok);

  const { body, cancelled } = cancellableBody();
  const refused = new OtherResponse(429, { "Retry-After": "3" }, body);
  const err = (() => {
    try {
      checkResponse(refused as unknown as Response);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof HttpError, `an HttpError, not ${err}`);
  assert.equal(err.status, 429);
  assert.equal(err.retryAfter, 3_000);
  assert.equal(err.url, "http://127.0.0.1/other");
  assert.equal(err.headers.get("retry-after"), "3");
  await Promise.resolve();
  assert.equal(cancelled(), true, "the body was cancelled, freeing the connection");

  const direct = new HttpError(new OtherResponse(503, { "retry-after-ms": "40" }, null) as never);
  assert.equal(direct.status, 503);
  assert.equal(direct.retryAfter, 40);
});

Deno.test("checkResponse destroys a node:stream body (node-fetch) and throws the HttpError", () => {
  const body = Readable.from(["a", "b"]);
  const refused = new OtherResponse(502, {}, body);
  assert.throws(
    () => checkResponse(refused as unknown as Response),
    (e) => e instanceof HttpError && e.status === 502,
  );
  assert.equal(body.destroyed, true);

  // A body someone is reading is theirs to finish, as a locked web stream is.
  const reading = Readable.from(["a", "b"]);
  reading.on("data", () => {});
  assert.throws(() => checkResponse(new OtherResponse(502, {}, reading) as never), HttpError);
  assert.equal(reading.destroyed, false);
});

Deno.test("parseRetryAfter reads Headers and Responses of another fetch implementation", () => {
  const headers = new OtherHeaders({ "Retry-After": "2", "x-ratelimit-reset": "9" });
  assert.equal(parseRetryAfter(headers as unknown as Headers), 2_000);
  const res = new OtherResponse(429, { "retry-after-ms": "250" }, null);
  assert.equal(parseRetryAfter(res as unknown as Response), 250);
  // A header class whose get() may return something other than text (a number): skipped.
  const numeric = new Map<string, unknown>([["retry-after-ms", 5], ["retry-after", "1"]]);
  assert.equal(parseRetryAfter(numeric as unknown as Headers), 1_000);
});

// ------------------------------------------------ the ambient scope (ALS)

Deno.test("the ambient scope survives the async boundaries of each runtime's own APIs", async () => {
  // The effective deadline, not currentScope(): alcall pulls its input from
  // a scope of its own, inside this one.
  const seen: Record<string, number> = {};
  const note = (where: string) => (seen[where] = effectiveDeadline());
  const here = new URL(import.meta.url);
  const scope = new CancelScope({ deadline: currentTime() + 60_000 });
  await scope.run(async () => {
    await readFilePromise(here);
    note("after awaiting node:fs/promises");
    await new Promise<void>((resolve) =>
      readFile(here, () => {
        note("in a node:fs callback");
        resolve();
      })
    );
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        note("in setImmediate");
        resolve();
      })
    );
    await new Promise<void>((resolve) =>
      queueMicrotask(() => {
        note("in queueMicrotask");
        resolve();
      })
    );
    const readable = Readable.from(["a"]);
    readable.on("data", () => note("in a node:stream data listener"));
    await new Promise((resolve) => readable.on("end", resolve));
    for await (const _ of Readable.from(["a"])) note("in for await over a node:stream");
    const stream = new ReadableStream<number>({
      pull(controller) {
        note("in a ReadableStream pull");
        controller.enqueue(1);
        controller.close();
      },
    }, { highWaterMark: 0 });
    for await (const _ of stream) note("in for await over a web stream");
    async function* input() {
      await new Promise((resolve) => setTimeout(resolve, 1));
      note("in an async generator pulled by alcall");
      yield 1;
    }
    await alcall(input(), () => {}, { maxConcurrent: 1 });
    const target = new EventTarget();
    target.addEventListener("x", () => note("in an EventTarget listener"));
    target.dispatchEvent(new Event("x"));
  });
  const lost = Object.entries(seen).filter(([, d]) => d !== scope.deadline).map(([w]) => w);
  assert.deepEqual(lost, [], "where the ambient scope was lost");
  assert.equal(Object.keys(seen).length, 10);
});
