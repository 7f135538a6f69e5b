import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  formatLogLine,
  formatRfc3339,
  LogEmitContext,
  Resource,
  toLogRecordData,
  toUnixNano,
} from "../../mod.ts";

describe("formatRfc3339", () => {
  it("uses 0, 3, 6 or 9 fractional digits", () => {
    assert.equal(formatRfc3339(1704164645000, 0), "2024-01-02T03:04:05Z");
    assert.equal(formatRfc3339(1704164645678, 0), "2024-01-02T03:04:05.678Z");
    assert.equal(formatRfc3339(1_000, 1_000), "1970-01-01T00:00:01.000001Z");
    assert.equal(formatRfc3339(1_000, 1), "1970-01-01T00:00:01.000000001Z");
  });
});

describe("toUnixNano", () => {
  it("accepts numbers (ms), bigints (ns), HrTimes and Dates and refuses invalid times", () => {
    assert.equal(toUnixNano(4_102_444_800_000.9), 4_102_444_800_000_900_000n);
    assert.equal(toUnixNano(10n), 10n);
    assert.equal(toUnixNano([2, 3]), 2_000_000_003n);
    assert.equal(toUnixNano(new Date(2)), 2_000_000n);
    assert.equal(toUnixNano(new Date(NaN)), undefined);
    assert.equal(toUnixNano(NaN), undefined);
    assert.equal(toUnixNano(-1n), undefined);
    assert.equal(toUnixNano(undefined), undefined);
  });
});

describe("formatLogLine", () => {
  it("prints one line with severity, scope, body, attributes and trace context", () => {
    const context = new LogEmitContext(new Resource({}), { name: "shop" });
    const line = formatLogLine(toLogRecordData({
      timestamp: new Date(1704164645678),
      severityNumber: 17,
      body: "failed",
      attributes: { id: 7, who: "a b" },
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
    }, context));
    assert.equal(
      line,
      '2024-01-02T03:04:05.678Z ERROR [shop] failed id=7 who="a b" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7',
    );
  });
});
