// Field-by-field comparisons of decoded OTLP messages (protobufjs objects or
// OTLP/JSON) against the library's records, written from the OTLP spec, not
// from the encoder.

import assert from "node:assert/strict";
import type {
  Attributes,
  InstrumentationScope,
  LogRecordData,
  ReadableSpan,
  Resource,
} from "../../mod.ts";
import { type Decoded, hex, plainAttributes, plainValue } from "./_decoder.ts";

/**
 * A time pair (whole ms + ns within it) as protobufjs (longs: String) shows
 * its fixed64, or undefined for 0: computed with bigint, not as the encoder does.
 */
export function nanos(ms: number, nanosInMs: number): string | undefined {
  const value = BigInt(ms) * 1_000_000n + BigInt(nanosInMs);
  return value === 0n ? undefined : value.toString();
}

export function assertAttributes(
  decoded: Decoded[] | undefined,
  expected: Attributes | undefined,
  what: string,
): void {
  const want: Record<string, unknown> = {};
  for (const key in expected ?? {}) {
    if (expected![key] !== undefined) want[key] = expected![key];
  }
  assert.deepEqual(plainAttributes(decoded), want, what);
}

export function assertResource(decoded: Decoded, resource: Resource): void {
  assertAttributes(
    decoded.resource?.attributes,
    resource.attributes,
    "resource attributes",
  );
  assert.equal(decoded.schemaUrl, resource.schemaUrl, "resource schemaUrl");
}

export function assertScope(
  decoded: Decoded,
  scope: InstrumentationScope,
): void {
  assert.equal(decoded.scope?.name, scope.name || undefined, "scope name");
  assert.equal(
    decoded.scope?.version,
    scope.version || undefined,
    "scope version",
  );
  assertAttributes(
    decoded.scope?.attributes,
    scope.attributes,
    "scope attributes",
  );
  assert.equal(decoded.schemaUrl, scope.schemaUrl, "scope schemaUrl");
}

export function assertLogRecord(
  decoded: Decoded,
  r: LogRecordData,
  i: number,
): void {
  const at = `log record ${i}`;
  assert.equal(
    decoded.timeUnixNano,
    nanos(r.timeUnixMs, r.timeNanosInMs),
    `${at} timeUnixNano`,
  );
  assert.equal(
    decoded.observedTimeUnixNano,
    nanos(r.observedTimeUnixMs, r.observedTimeNanosInMs),
    `${at} observedTimeUnixNano`,
  );
  assert.equal(
    decoded.severityNumber,
    r.severityNumber || undefined,
    `${at} severityNumber`,
  );
  assert.equal(
    decoded.severityText,
    r.severityText || undefined,
    `${at} severityText`,
  );
  if (r.body === undefined) assert.equal(decoded.body, undefined, `${at} body`);
  else assert.deepEqual(plainValue(decoded.body), r.body, `${at} body`);
  assertAttributes(decoded.attributes, r.attributes, `${at} attributes`);
  assert.equal(
    decoded.droppedAttributesCount,
    r.droppedAttributesCount || undefined,
    `${at} droppedAttributesCount`,
  );
  assert.equal(decoded.flags, r.traceFlags || undefined, `${at} flags`);
  assert.equal(hex(decoded.traceId), r.traceId, `${at} traceId`);
  assert.equal(hex(decoded.spanId), r.spanId, `${at} spanId`);
  assert.equal(decoded.eventName, r.eventName, `${at} eventName`);
}

export function assertSpan(decoded: Decoded, s: ReadableSpan, i: number): void {
  const at = `span ${i}`;
  assert.equal(hex(decoded.traceId), s.traceId, `${at} traceId`);
  assert.equal(hex(decoded.spanId), s.spanId, `${at} spanId`);
  assert.equal(
    decoded.traceState,
    s.traceState || undefined,
    `${at} traceState`,
  );
  assert.equal(hex(decoded.parentSpanId), s.parentSpanId, `${at} parentSpanId`);
  assert.equal(
    decoded.flags,
    (s.traceFlags & 0xff) | 0x100 | (s.parentIsRemote ? 0x200 : 0),
    `${at} flags`,
  );
  assert.equal(decoded.name ?? "", s.name, `${at} name`); // proto3: "" is absent
  assert.equal(decoded.kind, s.kind + 1, `${at} kind (OTLP numbering)`);
  assert.equal(
    decoded.startTimeUnixNano,
    nanos(s.startTimeUnixMs, s.startTimeNanosInMs),
    `${at} start`,
  );
  assert.equal(
    decoded.endTimeUnixNano,
    nanos(s.endTimeUnixMs, s.endTimeNanosInMs),
    `${at} end`,
  );
  assertAttributes(decoded.attributes, s.attributes, `${at} attributes`);
  assert.equal(
    decoded.droppedAttributesCount,
    s.droppedAttributesCount || undefined,
    `${at} droppedAttributesCount`,
  );
  assert.equal((decoded.events ?? []).length, s.events.length, `${at} events`);
  s.events.forEach((e, k) => {
    const d = decoded.events[k];
    assert.equal(
      d.timeUnixNano,
      nanos(e.timeUnixMs, e.timeNanosInMs),
      `${at} event ${k} time`,
    );
    assert.equal(d.name ?? "", e.name, `${at} event ${k} name`);
    assertAttributes(d.attributes, e.attributes, `${at} event ${k} attributes`);
    assert.equal(
      d.droppedAttributesCount,
      e.droppedAttributesCount || undefined,
      `${at} event ${k} dropped`,
    );
  });
  assert.equal(
    decoded.droppedEventsCount,
    s.droppedEventsCount || undefined,
    `${at} droppedEventsCount`,
  );
  assert.equal((decoded.links ?? []).length, s.links.length, `${at} links`);
  s.links.forEach((l, k) => {
    const d = decoded.links[k];
    assert.equal(hex(d.traceId), l.traceId, `${at} link ${k} traceId`);
    assert.equal(hex(d.spanId), l.spanId, `${at} link ${k} spanId`);
    assert.equal(
      d.traceState,
      l.traceState || undefined,
      `${at} link ${k} traceState`,
    );
    assertAttributes(d.attributes, l.attributes, `${at} link ${k} attributes`);
    assert.equal(
      d.droppedAttributesCount,
      l.droppedAttributesCount || undefined,
      `${at} link ${k} dropped`,
    );
    assert.equal(d.flags, l.traceFlags || undefined, `${at} link ${k} flags`);
  });
  assert.equal(
    decoded.droppedLinksCount,
    s.droppedLinksCount || undefined,
    `${at} droppedLinksCount`,
  );
  assert.equal(
    decoded.status?.code,
    s.status.code || undefined,
    `${at} status code`,
  );
  assert.equal(
    decoded.status?.message,
    s.status.message || undefined,
    `${at} status message`,
  );
}

/**
 * Flattens a decoded request into [resource, scope, item] triples, in order,
 * checking that each resource and scope appears once.
 */
export function flatten(
  decoded: Decoded,
  resourceKey: string,
  scopeKey: string,
  itemKey: string,
): {
  resource: Decoded;
  scope: Decoded;
  item: Decoded;
}[] {
  const out: { resource: Decoded; scope: Decoded; item: Decoded }[] = [];
  for (const r of decoded[resourceKey] ?? []) {
    for (const s of r[scopeKey] ?? []) {
      for (const item of s[itemKey] ?? []) {
        out.push({ resource: r, scope: s, item });
      }
    }
  }
  return out;
}

/** Checks a decoded logs request against the records, group by group. */
export function assertLogsRequest(
  decoded: Decoded,
  records: readonly LogRecordData[],
): void {
  const resourceLogs: Decoded[] = decoded.resourceLogs ?? [];
  const resources = [...new Set(records.map((r) => r.resource))];
  assert.equal(
    resourceLogs.length,
    resources.length,
    "one ResourceLogs per resource",
  );
  let total = 0;
  resources.forEach((resource, ri) => {
    const rl = resourceLogs[ri];
    assertResource(rl, resource);
    const ofResource = records.filter((r) => r.resource === resource);
    const scopes = [...new Set(ofResource.map((r) => r.scope))];
    assert.equal(rl.scopeLogs.length, scopes.length, "one ScopeLogs per scope");
    scopes.forEach((scope, si) => {
      const sl = rl.scopeLogs[si];
      assertScope(sl, scope);
      const expected = ofResource.filter((r) => r.scope === scope);
      assert.equal(sl.logRecords.length, expected.length);
      expected.forEach((r, k) =>
        assertLogRecord(sl.logRecords[k], r, records.indexOf(r))
      );
      total += expected.length;
    });
  });
  assert.equal(total, records.length);
}

/** Turns OTLP/JSON back into protobufjs's object form: hex ids and base64 bytes to byte arrays. */
export function jsonToDecoded(value: unknown, key = ""): Decoded {
  if (Array.isArray(value)) return value.map((v) => jsonToDecoded(v));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonToDecoded(v, k);
    return out;
  }
  if (
    typeof value === "string" &&
    (key === "traceId" || key === "spanId" || key === "parentSpanId")
  ) {
    assert.match(value, /^[0-9a-f]+$/, `${key} is lowercase hex`);
    return Array.from(value.match(/../g)!, (h) => parseInt(h, 16));
  }
  if (typeof value === "string" && key === "bytesValue") {
    return Array.from(atob(value), (c) => c.charCodeAt(0));
  }
  if (typeof value === "string" && key === "doubleValue") return Number(value); // "NaN", "Infinity"
  return value;
}
