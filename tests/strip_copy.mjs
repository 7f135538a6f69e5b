// Writes a type-stripped JavaScript copy of the repository, the shape npm
// users get from JSR (generated .js), so Node can run the test suite without
// its own type stripper. tests/run.sh runs the real-kernel tests under Node
// from this copy: Node 26 strips types with Amaro, SWC compiled to
// WebAssembly, and under the VM's TCG emulation V8 now and then aborts while
// tiering up that WebAssembly (tests/kernel/node_abort/README.md). The copy
// compiles no WebAssembly at all.
//
//   node tests/strip_copy.mjs OUT_DIR
//
// Every .ts/.mts file becomes .js/.mjs through node:module's
// stripTypeScriptTypes (the transform `node file.ts` applies); every other
// file is copied as it is; OUT_DIR/node_modules links to the project's. A
// quoted path ending in .ts/.mts that names one of the project's TypeScript
// files is rewritten to the .js name: import specifiers, `new URL("./x.ts",
// import.meta.url)`, and the scripts tests start by path from the project root
// ("tests/kernel/_open_child.ts"). Run the copy with `node --no-strip-types`
// (NODE_OPTIONS reaches the child processes too), so a .ts file that slipped
// through fails to load instead of starting the type stripper. Prints
// "N modules stripped, N files copied into OUT_DIR".
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";

const root = join(import.meta.dirname, "..");
const out = process.argv[2];
if (out === undefined) {
  console.error("usage: node tests/strip_copy.mjs OUT_DIR");
  process.exit(2);
}
const dest = resolve(out);
/** Not copied: dependencies (linked instead), VCS, test output, build output. */
const skipped = new Set(["node_modules", ".git", ".test-out", ".deno", "out"]);

/** Every file under dir, relative to root, skipping `skipped` and `dest`. */
function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (skipped.has(entry.name) || path === dest) continue;
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield relative(root, path);
  }
}

const isTs = (path) => /\.m?ts$/.test(path) && !path.endsWith(".d.ts");
const toJs = (path) => path.replace(/\.ts$/, ".js").replace(/\.mts$/, ".mjs");

const all = [...files(root)];
const tsFiles = new Set(all.filter(isTs));

/**
 * A quoted `x.ts` that names a project file (relative to `file`'s folder when
 * it starts with ./ or ../, else to the root) gets the .js name.
 */
function rewritePaths(js, file) {
  return js.replace(
    /(["'])([\w@./-]+\.m?ts)\1/g,
    (whole, quote, path) => {
      const target = path.startsWith("./") || path.startsWith("../")
        ? join(dirname(file), path)
        : path;
      return tsFiles.has(target) ? quote + toJs(path) + quote : whole;
    },
  );
}

rmSync(dest, { recursive: true, force: true });
let stripped = 0;
let copied = 0;
for (const file of all) {
  const target = join(dest, isTs(file) ? toJs(file) : file);
  mkdirSync(dirname(target), { recursive: true });
  if (isTs(file)) {
    const js = stripTypeScriptTypes(readFileSync(join(root, file), "utf8"), {
      mode: "strip",
    });
    writeFileSync(target, rewritePaths(js, file));
    stripped++;
  } else {
    copyFileSync(join(root, file), target);
    copied++;
  }
}
if (existsSync(join(root, "node_modules"))) {
  symlinkSync(join(root, "node_modules"), join(dest, "node_modules"), "dir");
}
console.log(`${stripped} modules stripped, ${copied} files copied into ${out}`);
