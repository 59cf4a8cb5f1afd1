// Copyright 2026 the @lionpride/core authors. MIT license.
// Runs every test bundle built by build.mjs on one runtime, one process per
// file (two at a time), and prints the runtime's line:
//   node22: 540 passed, 0 failed (48 Deno-only not run: Deno.serve 7, Deno.Command 8)
//
// Usage: node run.mjs <label> <out dir> <runtime binary> [runtime args…]
// Exit code 1 if any test failed or a file did not report.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";

const [label, outArg, binary, ...runtimeArgs] = process.argv.slice(2);
const out = resolve(outArg);
const RESULT_PREFIX = "##xrt-result ";
const JOBS = Number(process.env.XRT_JOBS ?? 2);
const FILE_TIMEOUT_MS = Number(process.env.XRT_FILE_TIMEOUT_MS ?? 300_000);

function runFile(file) {
  return new Promise((done) => {
    const child = spawn(binary, [...runtimeArgs, join(out, "tests", file)], {
      cwd: resolve(out, ".."),
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), FILE_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const reports = stdout.split("\n").filter((l) => l.startsWith(RESULT_PREFIX))
        .map((l) => JSON.parse(l.slice(RESULT_PREFIX.length)));
      const summary = reports.find((r) => r.file !== undefined);
      const moduleDenoOnly = reports.find((r) => r.moduleDenoOnly !== undefined)?.moduleDenoOnly;
      if (summary) return done(summary);
      if (moduleDenoOnly !== undefined) {
        // The file needs Deno to load at all: all of it is Deno-only.
        return done({
          file,
          passed: 0,
          failed: 0,
          ignored: 0,
          denoOnly: [{ name: "(file)", api: moduleDenoOnly }],
          failures: [],
        });
      }
      done({
        file,
        passed: 0,
        failed: 1,
        ignored: 0,
        denoOnly: [],
        failures: [{
          name: "(file did not finish)",
          error: `exit ${code ?? signal}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`,
        }],
      });
    });
  });
}

const files = readdirSync(join(out, "tests")).filter((f) => f.endsWith(".mjs")).sort();
const results = [];
const started = performance.now();
let next = 0;
await Promise.all(Array.from({ length: JOBS }, async () => {
  while (next < files.length) {
    const file = files[next++];
    const result = await runFile(file);
    results.push(result);
    if (process.env.XRT_VERBOSE) {
      console.log(`${label} ${file}: ${result.passed} passed, ${result.failed} failed`);
      for (const d of result.denoOnly) console.log(`  Deno-only (Deno.${d.api}): ${d.name}`);
    }
  }
}));

const total = { passed: 0, failed: 0, ignored: 0 };
const denoOnlyByApi = new Map();
let denoOnly = 0;
for (const r of results.sort((a, b) => a.file.localeCompare(b.file))) {
  total.passed += r.passed;
  total.failed += r.failed;
  total.ignored += r.ignored;
  for (const d of r.denoOnly) {
    denoOnly++;
    denoOnlyByApi.set(d.api, (denoOnlyByApi.get(d.api) ?? 0) + 1);
  }
  for (const f of r.failures) {
    console.log(`\n${label} FAILED ${r.file} > ${f.name}\n${f.error}\n`);
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const apis = [...denoOnlyByApi].map(([api, n]) => `Deno.${api} ${n}`).join(", ");
const notes = [
  denoOnly > 0 ? `${denoOnly} Deno-only not run: ${apis}` : undefined,
  total.ignored > 0 ? `${total.ignored} ignored` : undefined,
  `${files.length} files, ${seconds} s`,
].filter(Boolean).join("; ");
console.log(`${label}: ${total.passed} passed, ${total.failed} failed (${notes})`);
process.exit(total.failed > 0 ? 1 : 0);
