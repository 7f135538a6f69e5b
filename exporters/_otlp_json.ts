// The OTLP/JSON encoder: the protobuf JSON mapping of ExportLogsServiceRequest
// and ExportTraceServiceRequest with the OTLP exceptions
// (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
// - keys are lowerCamelCase field names;
// - trace and span ids are lowercase hex strings, not base64;
// - enums (severityNumber, kind, status.code) are integers;
// - 64-bit integers (times, intValue) are decimal strings; uint32/fixed32
//   counts and flags are numbers;
// - bytesValue is base64; a non-finite double is "NaN", "Infinity" or
//   "-Infinity"; fields with default values are left out.
// Records are grouped by resource, then by scope, like the protobuf encoder.

import type { AnyValue, Attributes } from "../pipeline/attributes.ts";
import type { LogRecordData } from "../pipeline/logs/log_record.ts";
import type { Resource } from "../pipeline/resource.ts";
import type { InstrumentationScope } from "../pipeline/scope.ts";
import type {
  ReadableSpan,
  SpanEvent,
  SpanLink,
} from "../pipeline/trace/span.ts";
import { formatUnixNano } from "../pipeline/time.ts";
import {
  SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK,
  SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK,
} from "./_otlp_trace_proto.ts";

export type Json = string | number | boolean | null | Json[] | {
  [key: string]: Json;
};
export type JsonObject = { [key: string]: Json };

/** An int64 as the decimal string of its exact value. */
export function int64(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
}

/** A set time as its exact decimal string (formatUnixNano: "0" when invalid), else undefined. */
function time(ms: number, nanos: number): string | undefined {
  if (ms === 0 && nanos === 0) return undefined;
  const text = formatUnixNano(ms, nanos);
  return text === "0" ? undefined : text;
}

export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(
      null,
      Array.from(bytes.subarray(i, i + 0x8000)),
    );
  }
  return btoa(binary);
}

export function anyValue(value: AnyValue, depth: number): JsonObject {
  switch (typeof value) {
    case "string":
      return { stringValue: value };
    case "boolean":
      return { boolValue: value };
    case "number":
      if (Number.isSafeInteger(value)) return { intValue: String(value) };
      return { doubleValue: Number.isFinite(value) ? value : String(value) };
    case "bigint":
      return { intValue: value.toString() };
    case "object": {
      if (value === null) return {};
      if (value instanceof Uint8Array) return { bytesValue: base64(value) };
      if (depth > 64) return {};
      if (Array.isArray(value)) {
        const items = value as readonly AnyValue[];
        const values: Json[] = [];
        for (let i = 0; i < items.length; i++) {
          values.push(anyValue(items[i], depth + 1));
        }
        return { arrayValue: { values } };
      }
      return {
        kvlistValue: { values: keyValues(value as Attributes, depth + 1) },
      };
    }
    default:
      return {};
  }
}

export function keyValues(attributes: Attributes, depth = 0): Json[] {
  const out: Json[] = [];
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    const kv: { key: string; value: JsonObject } = {
      key,
      value: anyValue(value, depth),
    };
    out.push(kv);
  }
  return out;
}

export function resourceJson(resource: Resource): JsonObject {
  return { attributes: keyValues(resource.attributes) };
}

export function scopeJson(scope: InstrumentationScope): JsonObject {
  const out: JsonObject = { name: scope.name };
  if (scope.version) out.version = scope.version;
  if (scope.attributes !== undefined) {
    const attributes = keyValues(scope.attributes);
    if (attributes.length > 0) out.attributes = attributes;
  }
  return out;
}

interface Grouped {
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
}

function sameScope(a: InstrumentationScope, b: InstrumentationScope): boolean {
  return a === b ||
    (a.name === b.name && a.version === b.version &&
      a.schemaUrl === b.schemaUrl && a.attributes === b.attributes);
}

/** Groups by resource (identity) then scope, in order of first appearance. */
function group<T extends Grouped>(
  items: readonly T[],
): {
  resource: Resource;
  scopes: { scope: InstrumentationScope; items: T[] }[];
}[] {
  const out: {
    resource: Resource;
    scopes: { scope: InstrumentationScope; items: T[] }[];
  }[] = [];
  for (const item of items) {
    let r = out.find((g) => g.resource === item.resource);
    if (r === undefined) {
      r = { resource: item.resource, scopes: [] };
      out.push(r);
    }
    let s = r.scopes.find((g) => sameScope(g.scope, item.scope));
    if (s === undefined) {
      s = { scope: item.scope, items: [] };
      r.scopes.push(s);
    }
    s.items.push(item);
  }
  return out;
}

/** A log record with one fixed shape; `undefined` fields are left out by JSON.stringify. */
function logRecordJson(r: LogRecordData): LogRecordJson {
  const attributes = keyValues(r.attributes);
  return {
    timeUnixNano: time(r.timeUnixMs, r.timeNanosInMs),
    observedTimeUnixNano: time(r.observedTimeUnixMs, r.observedTimeNanosInMs),
    severityNumber: r.severityNumber > 0 ? r.severityNumber : undefined,
    severityText: r.severityText || undefined,
    body: r.body === undefined ? undefined : anyValue(r.body, 0),
    attributes: attributes.length > 0 ? attributes : undefined,
    droppedAttributesCount: r.droppedAttributesCount > 0
      ? r.droppedAttributesCount
      : undefined,
    flags: r.traceFlags !== 0 ? r.traceFlags : undefined,
    traceId: r.traceId,
    spanId: r.spanId,
    eventName: r.eventName || undefined,
  };
}

interface LogRecordJson {
  timeUnixNano: string | undefined;
  observedTimeUnixNano: string | undefined;
  severityNumber: number | undefined;
  severityText: string | undefined;
  body: JsonObject | undefined;
  attributes: Json[] | undefined;
  droppedAttributesCount: number | undefined;
  flags: number | undefined;
  traceId: string | undefined;
  spanId: string | undefined;
  eventName: string | undefined;
}

function eventJson(e: SpanEvent): JsonObject {
  const out: JsonObject = {
    timeUnixNano: formatUnixNano(e.timeUnixMs, e.timeNanosInMs),
    name: e.name,
  };
  const attributes = keyValues(e.attributes);
  if (attributes.length > 0) out.attributes = attributes;
  if (e.droppedAttributesCount > 0) {
    out.droppedAttributesCount = e.droppedAttributesCount;
  }
  return out;
}

function linkJson(l: SpanLink): JsonObject {
  const out: JsonObject = { traceId: l.traceId, spanId: l.spanId };
  if (l.traceState) out.traceState = l.traceState;
  const attributes = keyValues(l.attributes);
  if (attributes.length > 0) out.attributes = attributes;
  if (l.droppedAttributesCount > 0) {
    out.droppedAttributesCount = l.droppedAttributesCount;
  }
  if ((l.traceFlags & 0xff) !== 0) out.flags = l.traceFlags & 0xff;
  return out;
}

function spanJson(s: ReadableSpan): JsonObject {
  const out: JsonObject = { traceId: s.traceId, spanId: s.spanId };
  if (s.traceState) out.traceState = s.traceState;
  if (s.parentSpanId !== undefined) out.parentSpanId = s.parentSpanId;
  out.flags = (s.traceFlags & 0xff) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK |
    (s.parentIsRemote ? SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK : 0);
  out.name = s.name;
  out.kind = s.kind + 1; // API 0-4 → OTLP 1-5
  out.startTimeUnixNano = formatUnixNano(
    s.startTimeUnixMs,
    s.startTimeNanosInMs,
  );
  out.endTimeUnixNano = formatUnixNano(s.endTimeUnixMs, s.endTimeNanosInMs);
  const attributes = keyValues(s.attributes);
  if (attributes.length > 0) out.attributes = attributes;
  if (s.droppedAttributesCount > 0) {
    out.droppedAttributesCount = s.droppedAttributesCount;
  }
  if (s.events.length > 0) out.events = s.events.map(eventJson);
  if (s.droppedEventsCount > 0) out.droppedEventsCount = s.droppedEventsCount;
  if (s.links.length > 0) out.links = s.links.map(linkJson);
  if (s.droppedLinksCount > 0) out.droppedLinksCount = s.droppedLinksCount;
  const status: JsonObject = {};
  if (s.status.message) status.message = s.status.message;
  if (s.status.code !== 0) status.code = s.status.code;
  out.status = status;
  return out;
}

let skippedJsonItems = 0;

/** How many items the last `encode*RequestJson` call left out because reading them threw. */
export function lastSkippedJsonItems(): number {
  return skippedJsonItems;
}

function request<T extends Grouped>(
  items: readonly T[],
  resourceKey: string,
  scopeKey: string,
  itemsKey: string,
  itemJson: (item: T) => unknown,
): JsonObject {
  skippedJsonItems = 0;
  const resources: Json[] = [];
  for (const r of group(items)) {
    const scopes: Json[] = [];
    for (const s of r.scopes) {
      const written: Json[] = [];
      for (const item of s.items) {
        try {
          written.push(itemJson(item) as Json);
        } catch {
          skippedJsonItems++; // costs only itself (see lastSkippedJsonItems)
        }
      }
      const scoped: JsonObject = {
        scope: scopeJson(s.scope),
        [itemsKey]: written,
      };
      if (s.scope.schemaUrl) scoped.schemaUrl = s.scope.schemaUrl;
      scopes.push(scoped);
    }
    const resourced: JsonObject = {
      resource: resourceJson(r.resource),
      [scopeKey]: scopes,
    };
    if (r.resource.schemaUrl) resourced.schemaUrl = r.resource.schemaUrl;
    resources.push(resourced);
  }
  return { [resourceKey]: resources };
}

const encoder = new TextEncoder();

/** The `ExportLogsServiceRequest` of `records` as an OTLP/JSON value. */
export function logsRequestJson(records: readonly LogRecordData[]): JsonObject {
  return request(
    records,
    "resourceLogs",
    "scopeLogs",
    "logRecords",
    logRecordJson,
  );
}

/** The `ExportTraceServiceRequest` of `spans` as an OTLP/JSON value. */
export function traceRequestJson(spans: readonly ReadableSpan[]): JsonObject {
  return request(spans, "resourceSpans", "scopeSpans", "spans", spanJson);
}

// JSON.stringify writes a lone surrogate as a `\udXXX` escape, which strict
// JSON-to-protobuf decoders reject (a proto string is valid UTF-8). Like the
// protobuf encoder, write U+FFFD instead: only when the text has such an
// escape is the value stringified again with every string made well-formed.
const LONE_SURROGATE_ESCAPE = /\\ud[89a-f][0-9a-f]{2}/;

function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === "string" ? value.toWellFormed() : value;
}

function stringify(value: JsonObject): Uint8Array<ArrayBuffer> {
  let text = JSON.stringify(value);
  if (text.includes("\\u") && LONE_SURROGATE_ESCAPE.test(text)) {
    text = JSON.stringify(value, wellFormed);
  }
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

/** Encodes an `ExportLogsServiceRequest` as UTF-8 OTLP/JSON; lone surrogates become U+FFFD. */
export function encodeLogsRequestJson(
  records: readonly LogRecordData[],
): Uint8Array<ArrayBuffer> {
  return stringify(logsRequestJson(records));
}

/** Encodes an `ExportTraceServiceRequest` as UTF-8 OTLP/JSON; lone surrogates become U+FFFD. */
export function encodeTraceRequestJson(
  spans: readonly ReadableSpan[],
): Uint8Array<ArrayBuffer> {
  return stringify(traceRequestJson(spans));
}

/**
 * Reads `partialSuccess` from an OTLP/JSON response body (`rejectedLogRecords`
 * or `rejectedSpans`, as a number or a decimal string, and `errorMessage`).
 *
 * @returns It, or `undefined` when the body has none or is not JSON.
 */
export function decodePartialSuccessJson(
  text: string,
): { rejected: number; message: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object") return undefined;
  const partial = (parsed as { partialSuccess?: unknown }).partialSuccess;
  if (partial === null || typeof partial !== "object") return undefined;
  const p = partial as {
    rejectedLogRecords?: unknown;
    rejectedSpans?: unknown;
    rejectedDataPoints?: unknown;
    errorMessage?: unknown;
  };
  const raw = p.rejectedLogRecords ?? p.rejectedSpans ?? p.rejectedDataPoints ??
    0;
  const rejected = typeof raw === "number"
    ? raw
    : typeof raw === "string"
    ? Number(raw)
    : 0;
  return {
    rejected: Number.isSafeInteger(rejected) && rejected > 0 ? rejected : 0,
    message: typeof p.errorMessage === "string" ? p.errorMessage : "",
  };
}
