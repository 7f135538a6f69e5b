// bench/etw_encode_lib.c, the C side of the ETW row of the budget table
// (bench/encode_vs_c.ts --case etw), must encode exactly the event the
// EtwProcessor hands EventWriteTransfer for the bench's record: the same
// EVENT_DESCRIPTOR and the same traits, metadata and payload bytes, or the
// ratio compares different work. The C file is built with -DETW_DUMP_MAIN
// into a program that prints etw_dump()'s bytes (descriptor, then per data
// descriptor its type, u32 size and bytes).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { etwDumpLayout, FakeAdvapi32, hex } from "./_fake_advapi32.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import { LoggerProvider, Resource } from "../../mod.ts";
import { RECORD } from "../../bench/_fixtures.ts";

const source = fileURLToPath(
  new URL("../../bench/etw_encode_lib.c", import.meta.url),
);

const WHOLE_SECOND = Math.ceil(performance.timeOrigin / 1000) * 1000 + 1000;

function hasCc(): boolean {
  try {
    execFileSync("cc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Our call for `ms`, in etw_dump()'s layout, and its decoded fields. */
function ours(ms: number): { bytes: string; fields: unknown } {
  const fake = new FakeAdvapi32();
  fake.enabledAnswer = 1;
  const processor = new EtwProcessor(fake, {
    providerName: "Bench.Provider",
    diagnostics: () => {},
  });
  const context = new LoggerProvider({
    env: () => undefined,
    resource: new Resource({ "service.name": "bench" }),
    processors: [processor],
  }).getLogger("bench").context;
  const record = { ...RECORD, timestamp: ms };
  processor.onEmit(record, context); // full encoder
  processor.onEmit(record, context); // replay, what the bench times
  assert.equal(fake.writes.length, 2);
  const [first, w] = fake.writes;
  assert.equal(hex(w.blobs[2].bytes), hex(first.blobs[2].bytes));
  return {
    bytes: hex(etwDumpLayout(w)),
    fields: traceLoggingFieldsToObject(
      decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).fields,
    ),
  };
}

describe("bench/etw_encode_lib.c (the C side of the ETW budget row)", {
  skip: hasCc() ? false : "no C compiler (cc)",
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "etw-c-"));
  const program = join(dir, "etw_dump");
  const c = (ms: number): string => {
    const out = execFileSync(program, [String(ms)], { encoding: "utf8" })
      .trim();
    return out.replace(/(..)(?!$)/g, "$1 ");
  };

  it("builds with -DETW_DUMP_MAIN", () => {
    execFileSync("cc", ["-O2", "-DETW_DUMP_MAIN", "-o", program, source], {
      stdio: "inherit",
    });
  });

  for (
    const ms of [
      // Numbers below performance.timeOrigin read as performance.now()
      // values (pipeline/time.ts), so every time here is after it.
      RECORD.timestamp as number,
      WHOLE_SECOND + 100, // a fraction with trailing zeros: still 3 digits
      WHOLE_SECOND + 1000, // no fraction
      WHOLE_SECOND + 999,
    ]
  ) {
    it(`hands EventWriteTransfer the bytes the EtwProcessor does (time ${ms})`, () => {
      const mine = ours(ms);
      assert.equal(c(ms), mine.bytes);
      // and those bytes are the bench's record (an independent reading)
      assert.deepEqual(mine.fields, {
        __csver__: 0x400,
        PartA: {
          ext_cloud: { role: "bench" },
          // RFC 3339 with 0/3/6/9 fraction digits: none for a whole second
          time: new Date(ms).toISOString().replace(".000Z", "Z"),
        },
        PartC: {
          "user.id": 4242n,
          "http.request.method": "POST",
          "url.path": "/api/v1/sessions",
          retry: false,
        },
        PartB: {
          _typeName: "Log",
          body: "user signed in",
          severityNumber: 9,
          severityText: "INFO",
        },
      });
    });
  }

  it("cleans up", () => rmSync(dir, { recursive: true, force: true }));
});
