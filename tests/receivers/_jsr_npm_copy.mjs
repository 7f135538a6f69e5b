// Writes the package the way JSR's npm compatibility layer serves it
// (`npx jsr add`, `bunx jsr add`): only the modules of the module graph of
// deno.json's exports (deno_graph's own analysis, through `deno info
// --json`; code imports, static and dynamic, not type-only ones), each .ts
// file transpiled to .js (here: Node's strip-only transform, which keeps
// every position), and the import specifiers of those dependencies rewritten
// from .ts to .js at the positions deno_graph reports, nothing else: like
// JSR, a `new URL("./x.ts", import.meta.url)` is left as it is.
//
//   node tests/receivers/_jsr_npm_copy.mjs ROOT OUT_DIR
//
// Prints one JSON line: {"modules": [paths relative to OUT_DIR]}.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const [root, out] = process.argv.slice(2);
if (root === undefined || out === undefined) {
  console.error("usage: node tests/receivers/_jsr_npm_copy.mjs ROOT OUT_DIR");
  process.exit(2);
}
const deno = join(import.meta.dirname, "../../node_modules/.bin/deno");
const config = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const rootUrl = pathToFileURL(root.endsWith("/") ? root : root + "/").href;

/** specifier -> its code dependencies ({ specifier, span }), file: only. */
const graph = new Map();
for (const path of new Set(Object.values(config.exports))) {
  const info = JSON.parse(
    execFileSync(deno, ["info", "--json", join(root, path)], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    }),
  );
  for (const module of info.modules) {
    if (!module.specifier.startsWith(rootUrl) || graph.has(module.specifier)) {
      continue;
    }
    graph.set(
      module.specifier,
      (module.dependencies ?? []).filter((d) =>
        d.code?.specifier?.startsWith(rootUrl)
      ).map((d) => ({ written: d.specifier, span: d.code.span })),
    );
  }
}

const toJs = (path) => path.replace(/\.ts$/, ".js").replace(/\.mts$/, ".mjs");
rmSync(out, { recursive: true, force: true });
const written = [];
for (const [specifier, deps] of graph) {
  const source = readFileSync(fileURLToPath(specifier), "utf8");
  const isTs = /\.m?ts$/.test(specifier);
  const lines =
    (isTs ? stripTypeScriptTypes(source, { mode: "strip" }) : source)
      .split("\n");
  for (const { written: spec, span } of deps) {
    if (!/\.m?ts$/.test(spec)) continue;
    const line = lines[span.start.line];
    const from = line.indexOf(spec, span.start.character);
    if (from < 0) throw new Error(`${specifier}: ${spec} not at its span`);
    lines[span.start.line] = line.slice(0, from) + toJs(spec) +
      line.slice(from + spec.length);
  }
  const path = relative(fileURLToPath(rootUrl), fileURLToPath(specifier));
  const target = join(out, isTs ? toJs(path) : path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, lines.join("\n"));
  written.push(isTs ? toJs(path) : path);
}
writeFileSync(
  join(out, "package.json"),
  JSON.stringify({ name: "@jsr/seed__telemetry", type: "module" }),
);
console.log(JSON.stringify({ modules: written.sort() }));
