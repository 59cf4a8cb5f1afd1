// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * HTTP responses as errors: `HttpError`, `checkResponse`, and
 * `parseRetryAfter`, which reads how long a server asks to wait from the
 * headers the common APIs send. The error carries that wait as `retryAfter`,
 * so `retry`, `alcall`, `CircuitBreaker` and `AdaptiveLimiter` honour it
 * without knowing about HTTP.
 *
 * `HttpError` lives here rather than in errors.ts because it needs the
 * parser; errors.ts keeps the error types that need nothing.
 *
 * @module
 */

import { describeValue } from "./errors.ts";

/** What {@linkcode parseRetryAfter} reads headers from. */
export type RetryAfterSource = Response | Headers | Record<string, string>;

/** Above this, `x-ratelimit-reset` is an epoch time in seconds, not a delta. */
const EPOCH_SECONDS = 1e9;
/** Delta seconds: digits with an optional fraction, nothing else. */
const SECONDS = /^\d+(?:\.\d+)?$|^\.\d+$/;
const NEGATIVE = /^-(?:\d+(?:\.\d+)?|\.\d+)$/;

/**
 * True for the `Headers` of any fetch implementation. On Node the global
 * class is not the only one: the npm `undici` (a copy other than the one
 * Node bundles), node-fetch and frameworks' polyfills bring their own, which
 * fail `instanceof Headers` (tests/runtime_review_test.ts).
 */
function isHeaders(value: unknown): value is Headers {
  return value instanceof Headers ||
    (typeof value === "object" && value !== null &&
      typeof (value as { get?: unknown }).get === "function");
}

/** True for the `Response` of any fetch implementation (see {@linkcode isHeaders}). */
function isResponse(value: unknown): value is Response {
  if (value instanceof Response) return true;
  if (typeof value !== "object" || value === null) return false;
  const res = value as { status?: unknown; ok?: unknown; headers?: unknown };
  return typeof res.status === "number" && typeof res.ok === "boolean" && isHeaders(res.headers);
}

/** A header lookup that works on all three source shapes, case-insensitively. */
function headerReader(source: RetryAfterSource): (name: string) => string | undefined {
  if (isResponse(source)) source = source.headers;
  if (isHeaders(source)) {
    const headers = source;
    // Some header classes hold numbers or arrays too (axios's): only text is a header value here.
    return (name) => {
      const value: unknown = headers.get(name);
      return typeof value === "string" ? value : undefined;
    };
  }
  if (source === null || typeof source !== "object") {
    throw new TypeError(
      `Cannot parse Retry-After: 'source' must be a Response, Headers or a record, received ${
        describeValue(source)
      }`,
    );
  }
  const lower = new Map<string, string>();
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === "string") lower.set(key.toLowerCase(), value);
  }
  return (name) => lower.get(name);
}

/** Delta seconds (negative → 0) in ms, or undefined when not a number. */
function deltaSeconds(value: string): number | undefined {
  if (SECONDS.test(value)) return Number(value) * 1_000;
  if (NEGATIVE.test(value)) return 0;
  return undefined;
}

function ms(value: string): number | undefined {
  if (SECONDS.test(value)) return Number(value);
  if (NEGATIVE.test(value)) return 0;
  return undefined;
}

const WEEKDAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "\\d{2}:\\d{2}:\\d{2}";
/**
 * The three HTTP date formats (RFC 9110 §5.6.7), any case: IMF-fixdate
 * `Sun, 06 Nov 1994 08:49:37 GMT`, the obsolete RFC 850 `Sunday,
 * 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`; a day
 * of one digit is read too, as senders write it.
 * `Date.parse` alone reads far more: "later 2026" as 1 January 2026 and
 * "abc 12" as December 2001, which turned garbage into a wait of 0 instead
 * of falling through to the next header.
 */
const HTTP_DATE = new RegExp(
  `^${WEEKDAY}, \\d{1,2} ${MONTH} \\d{4} ${TIME} GMT$|` +
    `^${WEEKDAY}[a-z]*, \\d{1,2}-${MONTH}-\\d{2} ${TIME} GMT$`,
  "i",
);
const ASCTIME = new RegExp(`^${WEEKDAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4}$`, "i");

/** An HTTP date in ms from now (a date in the past is 0), or undefined when not one. */
function httpDate(value: string, now: number): number | undefined {
  let at: number;
  if (HTTP_DATE.test(value)) at = Date.parse(value);
  // asctime names no zone, and Date.parse would read it as local time; HTTP
  // dates are GMT.
  else if (ASCTIME.test(value)) at = Date.parse(`${value} GMT`);
  else return undefined;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function finite(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/**
 * Reads how long a server asks to wait before the next request: from
 * `retry-after-ms`, else `retry-after` (delta seconds, fractions allowed, or
 * an HTTP date), else `ratelimit-reset` (delta seconds), else
 * `x-ratelimit-reset` (delta seconds; a value above 10^9 is an epoch time in
 * seconds). A header that does not parse falls through to the next.
 *
 * @param source A response, its headers, or a record of header names (any
 * case) to values.
 * @param now The current time in ms since the epoch, for HTTP dates and epoch
 * resets.
 * @returns Milliseconds to wait (a negative wait or a date in the past is 0),
 * or `undefined` if no header says.
 * @throws {TypeError} If `source` is not a Response, Headers or an object,
 * or `now` is not a number.
 * @throws {RangeError} If `now` is NaN or infinite.
 *
 * @example Usage
 * ```ts
 * import { parseRetryAfter } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRetryAfter({ "Retry-After": "1.5" }), 1_500);
 * assert.equal(parseRetryAfter(new Headers({ "retry-after-ms": "250" })), 250);
 * assert.equal(parseRetryAfter({ "retry-after": "soon" }), undefined);
 * const now = Date.UTC(2026, 0, 1);
 * assert.equal(parseRetryAfter({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, now), 30_000);
 * ```
 */
export function parseRetryAfter(
  source: RetryAfterSource,
  now: number = Date.now(),
): number | undefined {
  if (typeof now !== "number" || !Number.isFinite(now)) {
    const kind = typeof now === "number" ? RangeError : TypeError;
    throw new kind(
      `Cannot parse Retry-After: 'now' must be a finite number of ms since the epoch, received ${
        describeValue(now)
      }`,
    );
  }
  const get = headerReader(source);
  return explicitWait(get, now) ?? resetWait(get, now);
}

type HeaderReader = (name: string) => string | undefined;

/** The wait a server asks for in so many words: `retry-after-ms`, else `retry-after`. */
function explicitWait(get: HeaderReader, now: number): number | undefined {
  let value = get("retry-after-ms")?.trim();
  const wait = value === undefined ? undefined : finite(ms(value));
  if (wait !== undefined) return wait;
  value = get("retry-after")?.trim();
  return value === undefined ? undefined : finite(deltaSeconds(value) ?? httpDate(value, now));
}

/** When the quota resets: `ratelimit-reset`, else `x-ratelimit-reset`. */
function resetWait(get: HeaderReader, now: number): number | undefined {
  let value = get("ratelimit-reset")?.trim();
  const wait = value === undefined ? undefined : finite(deltaSeconds(value));
  if (wait !== undefined) return wait;
  value = get("x-ratelimit-reset")?.trim();
  const reset = value === undefined ? undefined : finite(deltaSeconds(value));
  if (reset === undefined) return undefined;
  return reset > EPOCH_SECONDS * 1_000 ? Math.max(0, reset - now) : reset;
}

/**
 * Whether `res` was refused for its quota: a 429, or a quota that says none
 * is left. Only then is the quota's reset time a wait: GitHub's API and the
 * IETF RateLimit headers send it on every response, and on a 502 or a 404 it
 * says nothing about when to try again (a transient 502 was given up at once
 * for an hour-long "wait" above `maxRetryAfter`; tests/rate_core_review_test.ts).
 */
function refusedForQuota(res: Response): boolean {
  if (res.status === 429) return true;
  const remaining = res.headers.get("ratelimit-remaining") ??
    res.headers.get("x-ratelimit-remaining");
  return remaining !== null && remaining.trim() === "0";
}

/**
 * A response whose status is not 2xx, as an error. `retryAfter` holds the
 * server's requested wait, so the retry loops wait at least that long:
 * `retry-after-ms` or `retry-after` on any status, else the quota's reset
 * time (`ratelimit-reset`, `x-ratelimit-reset`) when the response was refused
 * for its quota (a 429, or a `ratelimit-remaining` / `x-ratelimit-remaining`
 * of 0); see {@linkcode parseRetryAfter} for the formats.
 *
 * @example Usage
 * ```ts
 * import { HttpError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const res = new Response("slow down", { status: 429, headers: { "retry-after": "2" } });
 * const err = new HttpError(res);
 * assert.equal(err.status, 429);
 * assert.equal(err.retryAfter, 2_000);
 * assert.match(err.message, /429/);
 * ```
 */
export class HttpError extends Error {
  /** The response status, e.g. 429. */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** Milliseconds the server asked to wait, if it said (see the class doc). */
  readonly retryAfter: number | undefined;
  /** The URL of the response ("" for a constructed response). */
  readonly url: string;

  /**
   * Constructs a new instance from a response (its body is not read).
   *
   * @param res The response.
   * @param message The error message (default: status, status text and URL).
   * @throws {TypeError} If `res` is not a Response.
   */
  constructor(res: Response, message?: string) {
    if (!isResponse(res)) {
      throw new TypeError(
        `Cannot create HttpError: 'res' must be a Response, received ${describeValue(res)}`,
      );
    }
    super(
      message ??
        `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}${
          res.url ? ` from ${res.url}` : ""
        }`,
    );
    this.name = "HttpError";
    this.status = res.status;
    this.headers = res.headers;
    const get = headerReader(res.headers), now = Date.now();
    this.retryAfter = explicitWait(get, now) ??
      (refusedForQuota(res) ? resetWait(get, now) : undefined);
    this.url = res.url;
  }
}

/**
 * Returns `res` if its status is 2xx; otherwise cancels its body (which frees
 * the connection) and throws an {@linkcode HttpError}. `res` may come from any
 * fetch implementation: the global `fetch`, the npm `undici` or node-fetch
 * (whose body, a `node:stream` Readable, is destroyed instead).
 *
 * @param res The response to check.
 * @returns `res` itself, when `res.ok`.
 * @throws {HttpError} If `res.ok` is false.
 * @throws {TypeError} If `res` is not a Response.
 *
 * @example Usage
 * ```ts
 * import { checkResponse, HttpError } from "@lionpride/core";
 * import assert from "node:assert/strict";
 *
 * const ok = new Response("fine");
 * assert.equal(checkResponse(ok), ok);
 * assert.throws(() => checkResponse(new Response("gone", { status: 503 })), HttpError);
 * ```
 */
export function checkResponse(res: Response): Response {
  if (!isResponse(res)) {
    throw new TypeError(
      `Cannot check response: 'res' must be a Response, received ${describeValue(res)}`,
    );
  }
  if (res.ok) return res;
  const err = new HttpError(res);
  discardBody(res.body as Body);
  throw err;
}

/** A web stream, or the `node:stream` Readable of node-fetch (also Bun's node-fetch). */
type Body =
  | {
    locked?: boolean;
    cancel?: () => Promise<void>;
    readableFlowing?: boolean | null;
    destroy?: () => void;
  }
  | null
  | undefined;

/**
 * Frees the connection of a body nobody will read. A body someone is
 * reading (a locked stream, a flowing Readable) is theirs to finish; an
 * error here never replaces the HttpError.
 */
function discardBody(body: Body): void {
  try {
    if (body == null) return;
    if (typeof body.cancel === "function") {
      if (!body.locked) body.cancel().catch(() => {});
    } else if (typeof body.destroy === "function" && body.readableFlowing !== true) {
      body.destroy();
    }
  } catch {
    // A body of some other shape: the HttpError is what the caller needs.
  }
}
