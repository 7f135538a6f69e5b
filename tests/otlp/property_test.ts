// Property test: any AnyValue (fast-check, seeded) encoded as a body and as
// an attribute decodes back to itself through protobufjs, and through the
// JSON encoder and JSON.parse.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type AnyValue,
  LogEmitContext,
  Resource,
  toLogRecordData,
} from "../../mod.ts";
import { encodeLogsRequest } from "../../exporters/_otlp_logs_proto.ts";
import { encodeLogsRequestJson } from "../../exporters/_otlp_json.ts";
import { type Decoded, decodeLogs, plainValue } from "./_decoder.ts";
import { jsonToDecoded } from "./_expect.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const value: fc.Arbitrary<AnyValue> = fc.letrec<{ value: AnyValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ maxLength: 300 }),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.integer(),
    fc.double(),
    fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).filter((b) =>
      b < -(2n ** 53n) || b > 2n ** 53n
    ),
    fc.uint8Array({ maxLength: 200 }),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 10 }), tie("value"), { maxKeys: 5 })
      .map((d) => ({ ...d })),
  ),
})).value;

const context = new LogEmitContext(new Resource({ "service.name": "prop" }), {
  name: "prop",
});

function firstRecord(decoded: Decoded): Decoded {
  return decoded.resourceLogs[0].scopeLogs[0].logRecords[0];
}

describe("OTLP encoders (property)", () => {
  it("round-trip any AnyValue through protobufjs and through JSON", () => {
    fc.assert(
      fc.property(value, (v) => {
        const data = toLogRecordData({
          body: v,
          attributes: { v },
          observedTimestamp: 1,
        }, context);
        // The sanitizer may legitimately rewrite a value (e.g. a __proto__ key); compare with what it kept.
        const proto = firstRecord(decodeLogs(encodeLogsRequest([data])));
        assert.deepEqual(plainValue(proto.body), data.body);
        assert.deepEqual(
          plainValue(proto.attributes[0].value),
          data.attributes.v,
        );
        const json = firstRecord(
          jsonToDecoded(
            JSON.parse(new TextDecoder().decode(encodeLogsRequestJson([data]))),
          ),
        );
        assert.deepEqual(plainValue(json.body), data.body);
      }),
      { seed: 20261124, numRuns: 300 },
    );
  });
});
