// Copyright 2026 the @lionpride/core authors. MIT license.
// Fails when the module's deno.json names a package to download. `deno task`
// installs every package its config names before running any task, so one
// such entry makes a user's cold `deno task example` download it. Test
// packages go behind a local re-export in tests/_npm/ (the import map names
// that file); benchmark packages go in bench/deno.json.
const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
const remote = Object.entries(config.imports ?? {}).filter(([, target]) =>
  !String(target).startsWith(".")
);
if (remote.length > 0) {
  console.error(
    `deno.json imports must name local files only; found ${
      remote.map(([name, target]) => `"${name}": "${target}"`).join(", ")
    }.\nPut a test package behind tests/_npm/<name>.ts (see tests/_npm/fast_check.ts) ` +
      `and a benchmark package in bench/deno.json.`,
  );
  Deno.exit(1);
}
