// One Node process that exercises what a short .ts child does, for longer:
// Node's type stripper (Amaro: SWC compiled to WebAssembly) over every .ts
// file of the project, again and again, with fresh JS functions compiled and
// dropped (code-space churn) and a full GC now and then, for SECONDS seconds.
//   node --expose-gc tests/kernel/node_abort/stress.mjs [SECONDS] [ffi]
// Exits 0 when it survives; a V8 abort or a segfault ends it by signal.
// With "ffi", it also opens libc through node:ffi and calls getpid each round.
import { stripTypeScriptTypes } from "node:module";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const seconds = Number(process.argv[2] ?? 30);
const root = new URL("../../../", import.meta.url).pathname;
const sources = [];
function walk(dir) {
  for (const e of readdirSync(dir)) {
    if (e === "node_modules" || e.startsWith(".") || e === "out") continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".ts")) sources.push(readFileSync(p, "utf8"));
  }
}
walk(root);
let getpid;
if (process.argv[3] === "ffi") {
  const ffi = process.getBuiltinModule("node:ffi");
  const { functions } = ffi.dlopen("libc.so.6", {
    getpid: { arguments: [], return: "i32" },
  });
  getpid = functions.getpid;
}
const end = Date.now() + seconds * 1000;
let rounds = 0, bytes = 0;
while (Date.now() < end) {
  for (const s of sources) {
    bytes += stripTypeScriptTypes(s, { mode: "strip" }).length;
    // A new function per file: compiled, run until optimized, then dropped.
    const f = new Function(
      "x",
      `let a = ${rounds}; for (let i = 0; i < x; i++) a += i ^ ${
        bytes & 255
      }; return a;`,
    );
    for (let i = 0; i < 200; i++) f(50);
    if (getpid) getpid();
  }
  rounds++;
  if (globalThis.gc && rounds % 3 === 0) globalThis.gc();
}
console.log(
  `stress: ${rounds} rounds over ${sources.length} files, ${bytes} bytes stripped, survived`,
);
