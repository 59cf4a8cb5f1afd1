// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * A circuit breaker in front of a service that goes down and comes back:
 * consecutive failures open it, calls then fail fast (without reaching the
 * service) until `resetTimeout` has passed, one probe goes through half-open,
 * and its success closes the breaker again.
 *
 * Run: `deno run examples/circuit_breaker.ts`.
 */

import { CircuitBreaker, CircuitOpenError, currentTime, sleep } from "../mod.ts";

const t0 = currentTime();
const stamp = (): string => `${String(Math.round(currentTime() - t0)).padStart(4)} ms`;

let healthy = false;
let reached = 0;
async function service(n: number): Promise<string> {
  reached++;
  await sleep(5);
  if (!healthy) throw new Error(`service down (call ${n})`);
  return `ok ${n}`;
}

const breaker = new CircuitBreaker({
  failureThreshold: 3,
  resetTimeout: 200,
  onStateChange: (from, to) => console.log(`${stamp()}  breaker ${from} -> ${to}`),
});

for (let n = 1; n <= 12; n++) {
  if (n === 8) {
    console.log(`${stamp()}  (service recovers; waiting out the reset timeout)`);
    healthy = true;
    await sleep(220);
  }
  try {
    const result = await breaker.call(service, n);
    console.log(`${stamp()}  call ${n}: ${result}`);
  } catch (err) {
    if (err instanceof CircuitOpenError) {
      console.log(`${stamp()}  call ${n}: fast fail, retry after ${Math.round(err.retryAfter)} ms`);
    } else {
      console.log(`${stamp()}  call ${n}: ${(err as Error).message}`);
    }
  }
}
console.log(
  `${stamp()}  the service was reached ${reached} times for 12 calls; state ${breaker.state}`,
);
