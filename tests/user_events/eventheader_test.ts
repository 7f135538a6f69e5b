import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  addInt16,
  addInt32,
  addString,
  beginEvent,
  beginStruct,
  encodeLogRecord,
  endStruct,
  ERANGE,
  EventBuffer,
  finishEvent,
  MAX_EVENT_PAYLOAD,
} from "../../processors/_eventheader.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
} from "../../processors/user_events/mod.ts";
import { LogEmitContext, Resource, toLogRecordData } from "../../mod.ts";

const goldenHex = readFileSync(
  new URL("../testdata/eventheader_worked_example.hex", import.meta.url),
  "utf8",
).trim();
const golden = new Uint8Array(
  goldenHex.match(/../g)!.map((h) => parseInt(h, 16)),
);

function workedExample(b: EventBuffer): number {
  beginEvent(b, 4, 0, "MyEvent");
  addString(b, "msg", "hi");
  addInt32(b, "count", -5);
  const partB = beginStruct(b, "PartB");
  addString(b, "_typeName", "Log");
  addInt16(b, "severityNumber", 9);
  endStruct(b, partB, 2);
  return finishEvent(b);
}

describe("EventHeader encoder", () => {
  it("writes the specification's worked example byte for byte", () => {
    const b = new EventBuffer();
    const n = workedExample(b);
    assert.equal(n, 88);
    assert.deepEqual(b.bytes.slice(0, n), golden);
  });

  it("resets between events (same bytes twice)", () => {
    const b = new EventBuffer();
    workedExample(b);
    addString(b, "junk", "x".repeat(1000));
    const n = workedExample(b);
    assert.deepEqual(b.bytes.slice(0, n), golden);
  });

  it("returns -ERANGE when metadata plus data exceed the limit, and accepts the largest event that fits", () => {
    const b = new EventBuffer();
    beginEvent(b, 4, 0, "E");
    addString(b, "s", "x".repeat(MAX_EVENT_PAYLOAD));
    assert.equal(finishEvent(b), -ERANGE);
    // "E\0" + "s\0" + enc = 5 bytes of metadata, 2 bytes of length
    beginEvent(b, 4, 0, "E");
    addString(b, "s", "x".repeat(MAX_EVENT_PAYLOAD - 7));
    const n = finishEvent(b);
    assert.equal(n, 4 + 8 + 4 + MAX_EVENT_PAYLOAD);
    const event = decodeEventHeader("p_L4K1", b.bytes.slice(4, n));
    assert.equal(
      (event.fields[0].value as string).length,
      MAX_EVENT_PAYLOAD - 7,
    );
    beginEvent(b, 4, 0, "E");
    addString(b, "s", "x".repeat(MAX_EVENT_PAYLOAD - 6));
    assert.equal(finishEvent(b), -ERANGE);
  });

  it("rejects non-ASCII strings that do not fit without writing out of bounds", () => {
    const b = new EventBuffer();
    beginEvent(b, 4, 0, "E");
    addString(b, "s", "é".repeat(40000));
    assert.equal(finishEvent(b), -ERANGE);
  });

  it("replaces ';' and NUL in field names", () => {
    const b = new EventBuffer();
    beginEvent(b, 4, 0, "E");
    addString(b, "a;b\0c", "v");
    addString(b, "ü;x", "w");
    const n = finishEvent(b);
    const event = decodeEventHeader("p_L4K1", b.bytes.slice(4, n));
    assert.deepEqual(event.fields.map((f) => f.name), ["a_b_c", "ü_x"]);
  });
});

describe("encodeLogRecord", () => {
  it("encodes a minimal record as the Rust exporter does", () => {
    const context = new LogEmitContext(new Resource({}), { name: "t" });
    const data = toLogRecordData({
      severityNumber: 9,
      timestamp: new Date(1704164645678),
    }, context);
    const b = new EventBuffer();
    const n = encodeLogRecord(b, data, 4, { resourceAttributes: [] });
    const expected = [
      0x07,
      0,
      0,
      0,
      0,
      0,
      0,
      4,
    ];
    assert.deepEqual([...b.bytes.slice(4, 12)], expected);
    const event = decodeEventHeader("p_L4K1", b.bytes.slice(4, n));
    assert.deepEqual(decodedFieldsToObject(event.fields), {
      __csver__: 1024,
      PartA: { time: "2024-01-02T03:04:05.678Z" },
      PartB: { _typeName: "Log", severityNumber: 9 },
    });
  });

  it("a hand-made record with an inexact time after a resident shape writes the full encoder's bytes", () => {
    // The replay takes exact times only (it no longer checks): a snapshot's
    // always are, and encodeLogRecord checks what it hands over.
    const context = new LogEmitContext(new Resource({}), { name: "t" });
    const options = { resourceAttributes: [] };
    const exact = toLogRecordData({
      severityNumber: 9,
      timestamp: 1704164645678,
    }, context);
    const b = new EventBuffer();
    encodeLogRecord(b, exact, 4, options);
    assert.notEqual(b.resident, undefined);
    for (
      const [unixMs, nanosInMs] of [
        [1704164645678.5, 0],
        [1704164645678, 0.5],
        [1704164645678, 1e6],
        [-1, 0],
        [NaN, 0],
      ]
    ) {
      const odd = { ...exact, timeUnixMs: unixMs, timeNanosInMs: nanosInMs };
      const n = encodeLogRecord(b, odd, 4, options);
      const fresh = new EventBuffer();
      const m = encodeLogRecord(fresh, odd, 4, options);
      assert.deepEqual(
        [...b.bytes.slice(4, n)],
        [...fresh.bytes.slice(4, m)],
        `${unixMs} ${nanosInMs}`,
      );
      // The full encoder took it, and the next exact record replays again.
      encodeLogRecord(b, exact, 4, options);
    }
  });
});
