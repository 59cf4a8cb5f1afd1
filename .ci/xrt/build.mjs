// Copyright 2026 the @lionpride/core authors. MIT license.
// Builds what Node and Bun run: one esbuild bundle per tests/*_test.ts (with
// deno.json's import map and `npm:` specifiers resolved against packages npm
// installs into a cache dir), and the module itself as a plain ES package
// under <out>/pkg/node_modules/@lionpride/core, as `npx jsr add` would lay it out.
//
// Runtime code (everything but tests/, examples/, bench/, .ci/) is only
// stripped of its types, never down-levelled: a `using` declaration or other
// syntax Node 22 cannot parse makes the Node run fail, as it would for a user.
// Test code is down-levelled to ES2022 (tests may use `using`).
//
// Usage: XRT_TOOLS=<dir with esbuild installed> node build.mjs <repo root> <out dir> <cache dir>
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";

const [root, out, cache] = process.argv.slice(2).map((p) => resolve(p));
const require = createRequire(join(resolve(process.env.XRT_TOOLS ?? "."), "package.json"));
const esbuild = require("esbuild");
const NOT_RUNTIME = ["tests", "examples", "bench", ".ci"];
const denoJson = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const importMap = denoJson.imports ?? {};

/** `npm:name@version/sub` → { name, version, sub }. */
function parseNpm(spec) {
  const m = /^npm:\/?((?:@[^/]+\/)?[^/@]+)(?:@([^/]+))?(\/.*)?$/.exec(spec);
  if (!m) throw new Error(`cannot read npm specifier ${spec}`);
  return { name: m[1], version: m[2] ?? "*", sub: m[3] ?? "" };
}

function walk(dir, pred, acc = []) {
  if (!existsSync(dir)) return acc;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, pred, acc);
    else if (pred(p)) acc.push(p);
  }
  return acc;
}

/** Every npm package the tests can reach: the import map's and literal `npm:` imports. */
function npmDependencies() {
  const specs = Object.values(importMap).filter((v) => v.startsWith("npm:"));
  for (const file of walk(join(root, "tests"), (p) => p.endsWith(".ts"))) {
    for (const m of readFileSync(file, "utf8").matchAll(/["'](npm:[^"']+)["']/g)) specs.push(m[1]);
  }
  const deps = {};
  for (const spec of specs) {
    const { name, version } = parseNpm(spec);
    if (deps[name] !== undefined && deps[name] !== version) {
      console.warn(`xrt: ${name} is pinned as ${deps[name]} and ${version}; using ${deps[name]}`);
    }
    deps[name] ??= version;
  }
  return deps;
}

/** Installs the test packages once per set of versions. */
function installDependencies(deps) {
  const manifest = JSON.stringify({ private: true, dependencies: deps }, null, 2);
  const hash = createHash("sha256").update(manifest).digest("hex").slice(0, 12);
  const dir = join(cache, `deps-${hash}`);
  if (!existsSync(join(dir, ".installed"))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), manifest);
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: dir,
      stdio: "inherit",
    });
    writeFileSync(join(dir, ".installed"), "");
  }
  return dir;
}

function isRuntimeFile(path) {
  const rel = relative(root, path);
  return !rel.startsWith("..") && !rel.includes("node_modules") &&
    !NOT_RUNTIME.includes(rel.split(/[\\/]/)[0]);
}

const SELF = Symbol("xrt resolving");

/** deno.json's import map and `npm:` specifiers, for the repository's own files. */
function denoResolution(depsDir) {
  return {
    name: "deno-resolution",
    setup(build) {
      build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === SELF || args.importer.includes("node_modules")) return undefined;
        let target = importMap[args.path];
        if (target === undefined) {
          const prefix = Object.keys(importMap)
            .filter((k) => k.endsWith("/") && args.path.startsWith(k))
            .sort((a, b) => b.length - a.length)[0];
          if (prefix !== undefined) target = importMap[prefix] + args.path.slice(prefix.length);
        }
        target ??= args.path;
        if (target.startsWith("npm:")) {
          const { name, sub } = parseNpm(target);
          const found = await build.resolve(name + sub, {
            kind: args.kind,
            resolveDir: depsDir,
            pluginData: SELF,
          });
          return found.errors.length > 0 ? { errors: found.errors } : found;
        }
        if (target.startsWith(".") || target.startsWith("/")) {
          return { path: resolve(root, target) };
        }
        return undefined;
      });
      build.onLoad({ filter: /\.[cm]?tsx?$/ }, async (args) => {
        if (args.path.includes("node_modules") || isRuntimeFile(args.path)) return undefined;
        const source = readFileSync(args.path, "utf8");
        const { code } = await esbuild.transform(source, {
          loader: "ts",
          target: "es2022",
          format: "esm",
          sourcefile: args.path,
        });
        return { contents: code, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

const BANNER = 'import { createRequire as __xrtRequire } from "node:module";\n' +
  "const require = __xrtRequire(import.meta.url);";

async function bundleTests(depsDir) {
  const files = readdirSync(join(root, "tests")).filter((f) => f.endsWith("_test.ts")).sort();
  const shim = join(dirname(new URL(import.meta.url).pathname), "deno_shim.mjs");
  await Promise.all(files.map((file) =>
    esbuild.build({
      stdin: {
        contents: `import "./tests/${file}";\n` +
          `import { runRegisteredTests } from ${JSON.stringify(shim)};\n` +
          `await runRegisteredTests(${JSON.stringify(file)});\n`,
        resolveDir: root,
        sourcefile: `xrt-entry-${file}`,
        loader: "js",
      },
      bundle: true,
      format: "esm",
      platform: "node",
      target: "esnext",
      // Bundling may rename a class (`class _TaskGroup`); consoles print `constructor.name`.
      keepNames: true,
      inject: [shim],
      // The bundle's entry is the runner: no example's `if (import.meta.main)` block runs.
      define: { "import.meta.main": "false" },
      banner: { js: BANNER },
      outfile: join(out, "tests", file.replace(/\.ts$/, ".mjs")),
      plugins: [denoResolution(depsDir)],
      logLevel: "error",
    })
  ));
  return files.length;
}

/** The module as an ES package: entry points from deno.json's `exports`. */
async function buildPackage() {
  const pkgDir = join(out, "pkg", "node_modules", ...denoJson.name.split("/"));
  const exportsMap = {};
  const entryPoints = [];
  for (const [key, target] of Object.entries(denoJson.exports)) {
    entryPoints.push(join(root, target));
    exportsMap[key] = `./${relative(root, join(root, target)).replace(/\.ts$/, ".js")}`;
  }
  await esbuild.build({
    entryPoints,
    outbase: root,
    outdir: pkgDir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "neutral",
    target: "esnext",
    keepNames: true,
    external: ["node:*"],
    logLevel: "error",
  });
  writeFileSync(
    join(pkgDir, "package.json"),
    JSON.stringify(
      { name: denoJson.name, version: denoJson.version, type: "module", exports: exportsMap },
      null,
      2,
    ),
  );
  copyFileSync(
    join(root, "examples", "node_quickstart.mjs"),
    join(out, "pkg", "node_quickstart.mjs"),
  );
}

const started = performance.now();
const depsDir = installDependencies(npmDependencies());
const count = await bundleTests(depsDir);
await buildPackage();
console.log(
  `xrt: bundled ${count} test files and the package (${basename(out)}) in ${
    ((performance.now() - started) / 1000).toFixed(1)
  } s`,
);
