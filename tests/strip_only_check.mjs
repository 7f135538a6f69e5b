// Checks that every TypeScript module of the project (or of the directory
// given as the first argument) is erasable TypeScript: Node's strip-only mode
// (`node:module` stripTypeScriptTypes, the same transform `node file.ts`
// applies) accepts it, and V8 parses the stripped JavaScript as a module.
// That rejects parameter properties, enums, namespaces, `import =`,
// `<T>expr` assertions (all ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX) and syntax V8
// does not have yet, such as decorators. Nothing is evaluated.
//
// Run with Node >= 23.6 and --experimental-vm-modules (tests/run.sh and
// deno.json's check task use node_modules/.bin/node, Node 26):
//   node --experimental-vm-modules tests/strip_only_check.mjs [dir]
// Prints one line per failing file and "strip-only: N modules, N failed".
import { readdirSync, readFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { join, relative } from "node:path";
import process from "node:process";
import { SourceTextModule } from "node:vm";

const root = process.argv[2] ?? join(import.meta.dirname, "..");
const skipped = new Set(["node_modules", ".git", ".test-out", "testdata"]);

/** Every .ts/.mts file under dir, skipping dependencies and fixtures. */
function* modules(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipped.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* modules(path);
    else if (/\.m?ts$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
      yield path;
    }
  }
}

let count = 0;
let failed = 0;
for (const path of modules(root)) {
  count++;
  try {
    const js = stripTypeScriptTypes(readFileSync(path, "utf8"), {
      mode: "strip",
    });
    new SourceTextModule(js, { identifier: path });
  } catch (error) {
    failed++;
    const where = relative(process.cwd(), path);
    console.log(`${where}: ${error?.code ?? error?.name}: ${error?.message}`);
  }
}
console.log(`strip-only: ${count} modules, ${failed} failed`);
if (count === 0 || failed > 0) process.exitCode = 1;
