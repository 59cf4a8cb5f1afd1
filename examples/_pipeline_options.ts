// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The options of examples/resilient_pipeline.ts: its CLI flags, their
 * defaults and parser, and the seeded randomness every choice of a run
 * draws from.
 *
 * @module
 */

export type FaultMode = "none" | "reset" | "slow-body";

/** What one item went through; see {@linkcode PipelineOptions.onItem}. */
export type ItemEvent = "fetched" | "fetch_failed" | "processed" | "stored" | "store_failed";

/** Options of {@linkcode runPipeline}; the CLI flags map onto them. */
export interface PipelineOptions {
  /** Items to fetch, process and store (`--items`). */
  items: number;
  /** Seeds every random choice of the upstream and the store (`--seed`). */
  seed: number;
  /** Print only the final object as JSON (`--json`). */
  json: boolean;
  /** Share of requests answered with a 503 (`--failure-rate`). */
  failureRate: number;
  /** Share of first attempts that hang until the caller gives up (`--hang-rate`). */
  hangRate: number;
  /** Mean upstream latency in ms (`--latency`). */
  latency: number;
  /** Ms per fetch attempt, body included (`--call-timeout`). */
  callTimeout: number;
  /** Share of items whose store fails (`--store-failure-rate`). */
  storeFailureRate: number;
  /** Extra fault of the upstream (`--fault-mode`). */
  faultMode: FaultMode;
  /** Share of requests that get the fault, when `faultMode` is not "none" (`--fault-rate`). */
  faultRate: number;
  /** Called for every step of every item (tests keep a per-item ledger with it). */
  onItem?: (id: number, event: ItemEvent) => void;
}

const FAULT_MODES: readonly FaultMode[] = ["none", "reset", "slow-body"];

/** The defaults of every option but `seed` (random unless given). */
export function defaultOptions(): PipelineOptions {
  return {
    items: 100,
    seed: Math.floor(Math.random() * 2 ** 31),
    json: false,
    failureRate: 0.2,
    hangRate: 0.03,
    latency: 100,
    callTimeout: 5_000,
    storeFailureRate: 0.1,
    faultMode: "none",
    faultRate: 0.1,
  };
}

/** The `--help` text. */
export const USAGE = `Usage: deno task example [options]
       deno run --allow-net=127.0.0.1 examples/resilient_pipeline.ts [options]

Fetches items from a flaky HTTP server it starts on 127.0.0.1, processes them through
5 "database connections" and stores them; prints progress, then what succeeded, what
failed and why. Ctrl-C stops fetching, finishes the batch in hand and exits with 130.

Options:
  --items N               items to move through the pipeline (default 100)
  --seed S                seed for every random choice: same seed, same outcome (default random)
  --json                  print only the final result, as one JSON object
  --failure-rate R        share of requests answered with a 503 (default 0.2)
  --hang-rate R           share of first attempts that hang past the call timeout (default 0.03)
  --latency MS            mean upstream latency (default 100)
  --call-timeout MS       budget per fetch attempt, body included (default 5000)
  --store-failure-rate R  share of items whose store fails (default 0.1)
  --fault-mode MODE       none | reset (connections reset or garbage) | slow-body (default none)
  --fault-rate R          share of requests that get the fault (default 0.1)
  -h, --help              show this help

Exit status: 0 when every item or some got through, 1 when none did, 2 for a bad
option, 130 when interrupted.`;

/** A bad command line; the message says which flag and what it got. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses the CLI flags (see {@linkcode USAGE}) into options, or `"help"`.
 *
 * @throws {UsageError} For an unknown flag or a bad value.
 */
export function parseArgs(args: string[]): PipelineOptions;
export function parseArgs(args: string[], allowHelp: true): PipelineOptions | "help";
export function parseArgs(args: string[], allowHelp = false): PipelineOptions | "help" {
  const o = defaultOptions();
  const numeric: Record<string, keyof PipelineOptions> = {
    "--items": "items",
    "--seed": "seed",
    "--failure-rate": "failureRate",
    "--hang-rate": "hangRate",
    "--latency": "latency",
    "--call-timeout": "callTimeout",
    "--store-failure-rate": "storeFailureRate",
    "--fault-rate": "faultRate",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (allowHelp && (arg === "--help" || arg === "-h")) {
      return "help";
    } else if (arg === "--json") {
      o.json = true;
    } else if (arg === "--fault-mode") {
      const mode = args[++i] as FaultMode;
      if (!FAULT_MODES.includes(mode)) {
        throw new UsageError(
          `--fault-mode needs one of ${FAULT_MODES.join(", ")}, received ${mode}`,
        );
      }
      o.faultMode = mode;
    } else if (arg in numeric) {
      const raw = args[++i];
      const value = raw === undefined || raw.trim() === "" ? NaN : Number(raw);
      if (!Number.isFinite(value) || value < 0) {
        throw new UsageError(`${arg} needs a number >= 0, received ${raw ?? "nothing"}`);
      }
      if (arg === "--items" && !Number.isInteger(value)) {
        throw new UsageError(`--items needs a whole number, received ${raw}`);
      }
      (o as unknown as Record<string, number>)[numeric[arg]] = value;
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return o;
}

/** A deterministic fraction in [0, 1) from a seed and a few integers. */
export function chance(seed: number, ...keys: number[]): number {
  let h = seed >>> 0 ^ 0x9e3779b9;
  for (const k of keys) {
    h = Math.imul(h ^ k, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 2 ** 32;
}
