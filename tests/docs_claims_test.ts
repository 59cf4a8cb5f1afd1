// Claims of README.md and docs/*.md that a user relies on and no other test
// checked: where the docs point (links, anchors, files, tasks, API pages) and
// concrete promises (defaults, bounds, orders). Each claim's test fails if the
// claim breaks; the docs' own code blocks run separately (deno test --doc).
import assert from "node:assert/strict";
import * as core from "../mod.ts";

const root = new URL("../", import.meta.url);
const docFiles = [
  "README.md",
  ...[...Deno.readDirSync(new URL("docs/", root))]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort(),
];
const read = (path: string) => Deno.readTextFileSync(new URL(path, root));

/** Markdown outside fenced code blocks (a link inside a block is code, not a link). */
function prose(text: string): string {
  return text.split(/^```.*$/m).filter((_, i) => i % 2 === 0).join("\n");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function exists(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch {
    return false;
  }
}

function links(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
}

Deno.test("docs: every relative link resolves to a file, and every anchor to a heading", () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (const link of links(read(file))) {
      if (/^[a-z]+:/i.test(link)) continue; // absolute: checked below for jsr.io
      checked++;
      const [path, anchor] = link.split("#");
      const target = path === "" ? new URL(file, root) : new URL(path, new URL(file, root));
      if (!exists(target)) {
        broken.push(`${file}: ${link} (no such file)`);
        continue;
      }
      if (anchor !== undefined && !anchors(Deno.readTextFileSync(target)).has(anchor)) {
        broken.push(`${file}: ${link} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked >= 10, `only ${checked} relative links found: is the parser broken?`);
});

Deno.test("docs: every jsr.io API page linked names an export of mod.ts", () => {
  const missing: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (const link of links(read(file))) {
      const m = link.match(/^https:\/\/jsr\.io\/@lionpride\/core\/doc\/~\/([A-Za-z_$][\w$]*)$/);
      if (m === null) continue;
      checked++;
      if (!(m[1] in core)) missing.push(`${file}: ${link}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked >= 5, `only ${checked} API links found`);
});

Deno.test("docs: every repository file named in code spans exists", () => {
  const missing: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (
      const m of prose(read(file)).matchAll(/`((?:examples|bench|tests|docs|\.ci)\/[\w./-]+)`/g)
    ) {
      checked++;
      if (!exists(new URL(m[1], root))) missing.push(`${file}: ${m[1]}`);
    }
    // examples named by their file name alone ("`deploy_handler.ts`") live in examples/
    for (const m of read(file).matchAll(/`([a-z_]+\.(?:ts|mjs))`/g)) {
      if (exists(new URL(`examples/${m[1]}`, root)) || exists(new URL(m[1], root))) continue;
      if (/^[a-z_]+\.ts$/.test(m[1]) && exists(new URL(`bench/${m[1]}`, root))) continue;
      missing.push(`${file}: ${m[1]}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked >= 5, `only ${checked} file names found`);
});

Deno.test("docs: every `deno task` named exists in deno.json", () => {
  const tasks = Object.keys(JSON.parse(read("deno.json")).tasks);
  const missing: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (const m of read(file).matchAll(/deno task ([\w:-]+)/g)) {
      checked++;
      if (!tasks.includes(m[1])) missing.push(`${file}: deno task ${m[1]}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked >= 5);
});

Deno.test("docs: every bench/README.md section quoted by name exists", () => {
  const headings = [...read("bench/README.md").matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1]);
  const missing: string[] = [];
  let checked = 0;
  for (const file of docFiles) {
    for (const m of read(file).matchAll(/bench\/README\.md,\s*"([^"]+)"/g)) {
      checked++;
      if (!headings.some((h) => h.startsWith(m[1]))) missing.push(`${file}: "${m[1]}"`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked >= 2);
});
