// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * What a run of examples/resilient_pipeline.ts reports: its result (the
 * books, see that file's module doc) and the summary the CLI prints.
 *
 * @module
 */

import type { UpstreamStats } from "./_flaky_api.ts";

/** One decimal: what a person reads. */
export const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * How a run ended: every item stored (`success`), some (`partial_success`),
 * none of at least one (`failure`), or stopped early (`interrupted`).
 */
export type PipelineStatus = "success" | "partial_success" | "failure" | "interrupted";

/** What a run did; see the module doc for how the books balance. */
export interface PipelineResult {
  status: PipelineStatus;
  fetched: number;
  processed: number;
  storage_errors: number;
  fetch_failures: number;
  stored: number;
  /** Items neither fetched nor failed: cancelled or never started (interrupted runs). */
  not_fetched: number;
  /** Fetched items left in the queue when the run was interrupted. */
  unprocessed: number;
  retries: number;
  /** Items that failed for good, by reason (see `reasonOf` in resilient_pipeline.ts); storage failures as "store_error". */
  failure_reasons: Record<string, number>;
  /** Every failed fetch attempt, retried or not, by reason. */
  attempt_failures: Record<string, number>;
  max_db_connections: number;
  breaker_opened: number;
  /** What the upstream saw: requests, injected faults, callers that gave up mid-request. */
  upstream: UpstreamStats;
  sequential_sec: number;
  metrics: {
    total_items: number;
    fetch_success: number;
    process_success: number;
    store_success: number;
    overall_success: number;
    duration_sec: number;
    avg_retries: number;
  };
}

/** Prints the summary of a run that is not `--json`. */
export function printSummary(result: PipelineResult): void {
  const summary: Record<string, unknown> = {
    status: result.status,
    fetched: result.fetched,
    fetch_failures: result.fetch_failures,
    processed: result.processed,
    stored: result.stored,
    storage_errors: result.storage_errors,
    failure_reasons: result.failure_reasons,
  };
  // An interrupted run also says what was left undone.
  if (result.status === "interrupted") {
    summary.not_fetched = result.not_fetched;
    summary.unprocessed = result.unprocessed;
  }
  console.log(JSON.stringify(summary, null, 2));
  const m = result.metrics;
  console.log("\nReal-World Metrics");
  console.log(`  total_items:     ${m.total_items}`);
  console.log(`  fetch_success:   ${m.fetch_success}%`);
  console.log(`  process_success: ${m.process_success}%`);
  console.log(`  store_success:   ${m.store_success}%`);
  console.log(`  overall_success: ${m.overall_success}%`);
  console.log(`  duration_sec:    ${m.duration_sec}`);
  console.log(`  avg_retries:     ${m.avg_retries}`);
  const failedAttempts = Object.entries(result.attempt_failures)
    .map(([reason, n]) => `${reason} ${n}`).join(", ");
  if (failedAttempts !== "") console.log(`  failed attempts: ${failedAttempts}`);
  if (result.metrics.total_items === 0) {
    console.log("\nNo items: nothing to do.");
    return;
  }
  const speedup = result.sequential_sec / Math.max(0.01, m.duration_sec);
  console.log(
    `\nOne call at a time, the same work would have taken ~${result.sequential_sec.toFixed(1)} s` +
      (speedup >= 1.05 ? ` (${speedup.toFixed(1)}x longer)` : "") +
      `; peak DB connections ${result.max_db_connections}/5.`,
  );
}
