// Writes a type-stripped .js copy of the project's TypeScript (ffi/, pipeline/,
// processors/, receivers/, exporters/, setup/, mod.ts, tests/kernel/_open_child.ts)
// into tests/kernel/node_abort/out/js/, with ".ts" import specifiers rewritten to
// ".js", so a child can run the same code without Node's type stripping (Amaro,
// SWC compiled to WebAssembly). Run on the host with Node 26:
//   node tests/kernel/node_abort/strip.mjs
import { stripTypeScriptTypes } from "node:module";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

const root = new URL("../../../", import.meta.url).pathname;
const out = join(root, "tests/kernel/node_abort/out/js");
const roots = [
  "ffi",
  "pipeline",
  "processors",
  "receivers",
  "exporters",
  "setup",
  "instrumentation",
  "mod.ts",
  "tests/kernel/_open_child.ts",
];
let n = 0;
function walk(rel) {
  const abs = join(root, rel);
  if (statSync(abs).isDirectory()) {
    for (const e of readdirSync(abs)) walk(join(rel, e));
    return;
  }
  if (!rel.endsWith(".ts")) return;
  const js = stripTypeScriptTypes(readFileSync(abs, "utf8"), { mode: "strip" })
    .replace(/((?:from|import)\s*\(?\s*["'][^"']+)\.ts(["'])/g, "$1.js$2");
  const dest = join(out, rel.replace(/\.ts$/, ".js"));
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, js);
  n++;
}
for (const r of roots) walk(r);
writeFileSync(join(out, "package.json"), '{"type":"module"}\n');
console.log(`${n} files stripped into ${out}`);
