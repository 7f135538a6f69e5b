/**
 * From EventHeader events back to telemetry: the Common Schema 4.0 layout
 * (`__csver__`, `PartA`, `PartB`, `PartC`) of the `Log` and `Span` events
 * that this library's processors and the OpenTelemetry Rust `user_events`
 * exporters write, turned back into log records and spans that any
 * processor or exporter of this library takes.
 *
 * What the layout cannot carry comes back as documented defaults: trace
 * flags (logs 0, spans 1 = sampled), span events, link attributes and
 * trace state (none), `OK` versus `UNSET` status (both `UNSET`), the
 * instrumentation scope (the bridge's), resource attributes other than
 * `service.name` / `service.instance.id` (those the writer copied into
 * `PartC` come back as attributes), and sub-microsecond precision of span
 * times (the span model keeps `number` nanoseconds).
 *
 * @module
 */

import type { AnyValue, Attributes } from "../../pipeline/attributes.ts";
import {
  LogEmitContext,
  type LogRecord,
} from "../../pipeline/logs/log_record.ts";
import type {
  LogRecordProcessor,
  SpanProcessor,
} from "../../pipeline/processor.ts";
import { Resource } from "../../pipeline/resource.ts";
import type { InstrumentationScope } from "../../pipeline/scope.ts";
import type {
  ReadableSpan,
  SpanKind,
  SpanLink,
  SpanStatus,
} from "../../pipeline/trace/span.ts";
import type {
  DecodedEvent,
  DecodedField,
  DecodedValue,
} from "../../processors/user_events/decode_event_header.ts";
import {
  type ExactTime,
  TimeStatus,
  toExactTime,
} from "../../pipeline/time.ts";
import type { ListenedEvent } from "./listener.ts";
import { SPAN_PART_B_ATTRIBUTES } from "../../processors/_span_part_b.ts";

const RFC3339 =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/** PartB names of span attributes, back to their OpenTelemetry keys (the writers' table, inverted). */
const SPAN_FIELD_TO_ATTRIBUTE: Readonly<Record<string, string>> = Object
  .freeze(Object.assign(
    Object.create(null),
    Object.fromEntries(
      SPAN_PART_B_ATTRIBUTES.map(([key, name]) => [name, key]),
    ),
  ));

/**
 * Parses an RFC 3339 time (as the writers put it in `PartA.time`) into
 * exact nanoseconds since the epoch.
 *
 * @param text E.g. `2024-01-02T03:04:05.678901234Z`.
 * @returns Nanoseconds, or `undefined` when it is not an RFC 3339 time.
 *
 * @example
 * ```ts
 * import { parseRfc3339Nanos } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRfc3339Nanos("1970-01-01T00:00:01.5Z"), 1_500_000_000n);
 * assert.equal(parseRfc3339Nanos("yesterday"), undefined);
 * ```
 */
export function parseRfc3339Nanos(text: unknown): bigint | undefined {
  if (typeof text !== "string" || text.length > 40) return undefined;
  // RFC3339 fixes where the parts are: the date and time in the first 19
  // characters, then `.` and 1-9 digits, then `Z` or a 6-character offset.
  // Read by position (no match array, no substrings per event).
  if (!RFC3339.test(text)) return undefined;
  const zone = text.charCodeAt(text.length - 1) === 0x5a /* Z */ ? 1 : 6;
  const ms = Date.parse(
    text.slice(0, 19) + (zone === 1 ? "Z" : text.slice(text.length - 6)),
  );
  if (!Number.isFinite(ms)) return undefined;
  let nanos = 0;
  const digitsEnd = text.length - zone;
  if (digitsEnd > 19) {
    let scale = 100_000_000;
    for (let i = 20; i < digitsEnd; i++) {
      nanos += (text.charCodeAt(i) - 48) * scale;
      scale /= 10;
    }
  }
  return BigInt(ms) * 1_000_000n + BigInt(nanos);
}

function members(value: DecodedValue | undefined): readonly DecodedField[] {
  return Array.isArray(value) && value.length > 0 &&
      typeof value[0] === "object" && value[0] !== null &&
      !(value[0] instanceof Uint8Array) && "encoding" in value[0]
    ? value as readonly DecodedField[]
    : [];
}

function field(
  fields: readonly DecodedField[],
  name: string,
): DecodedField | undefined {
  for (const f of fields) if (f.name === name) return f;
  return undefined;
}

function part(
  fields: readonly DecodedField[],
  name: string,
): readonly DecodedField[] {
  const f = field(fields, name);
  return f !== undefined && f.encoding === 1 && !f.array
    ? members(f.value)
    : [];
}

function str(
  fields: readonly DecodedField[],
  name: string,
): string | undefined {
  const v = field(fields, name)?.value;
  return typeof v === "string" ? v : undefined;
}

function int(
  fields: readonly DecodedField[],
  name: string,
): number | undefined {
  const v = field(fields, name)?.value;
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}

/** A scalar decoded value as an attribute value; structs and arrays are left out. */
function toAnyValue(f: DecodedField): AnyValue | undefined {
  if (f.array || f.encoding === 1) return undefined;
  const v = f.value;
  switch (typeof v) {
    case "string":
    case "number":
    case "bigint":
    case "boolean":
      return v;
    default:
      return v instanceof Uint8Array ? v : undefined;
  }
}

function put(target: Record<string, AnyValue>, key: string, value: AnyValue) {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

function attributesOf(
  fields: readonly DecodedField[],
  into: Record<string, AnyValue> = {},
): Record<string, AnyValue> {
  for (const f of fields) {
    const value = toAnyValue(f);
    if (value !== undefined) put(into, f.name, value);
  }
  return into;
}

/** What a conversion reads from `PartA`, before any object is built. */
interface PartAScratch {
  timeUnixNanos: bigint | undefined;
  traceId: string | undefined;
  spanId: string | undefined;
  role: string | undefined;
  instance: string | undefined;
}

/** Reads `PartA` into `out` (the bridge reuses one: no objects per event). */
function readPartA(fields: readonly DecodedField[], out: PartAScratch): void {
  const a = part(fields, "PartA");
  const traceId = str(a, "ext_dt_traceId");
  const spanId = str(a, "ext_dt_spanId");
  out.role = str(a, "ext_cloud_role");
  out.instance = str(a, "ext_cloud_roleInstance");
  out.timeUnixNanos = parseRfc3339Nanos(str(a, "time"));
  out.traceId = traceId !== undefined && HEX32.test(traceId)
    ? traceId
    : undefined;
  out.spanId = spanId !== undefined && HEX16.test(spanId) ? spanId : undefined;
}

function newPartAScratch(): PartAScratch {
  return {
    timeUnixNanos: undefined,
    traceId: undefined,
    spanId: undefined,
    role: undefined,
    instance: undefined,
  };
}

function resourceOf(a: PartAScratch): Record<string, AnyValue> {
  const resource: Record<string, AnyValue> = {};
  if (a.role !== undefined) resource["service.name"] = a.role;
  if (a.instance !== undefined) resource["service.instance.id"] = a.instance;
  return resource;
}

function isCommonSchema(event: DecodedEvent, typeName: string): boolean {
  try {
    return event.name === typeName &&
      str(part(event.fields, "PartB"), "_typeName") === typeName;
  } catch {
    return false;
  }
}

/**
 * A log record rebuilt from a `Log` event, with the resource its `PartA` names.
 *
 * @example
 * ```ts
 * import type { LogFromEvent } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const f = (l: LogFromEvent) => l.record.body;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface LogFromEvent {
  /** The record (times as bigint nanoseconds). */
  readonly record: LogRecord;
  /** Resource attributes from `PartA`. */
  readonly resource: Attributes;
}

/**
 * Turns a Common Schema `Log` event back into a log record: `PartA.time` →
 * `timestamp`, trace and span id, `PartB` body, severity number and text,
 * event name (`name`) and `eventId` (→ attribute `event_id`), `PartC` →
 * attributes. Never throws.
 *
 * @param event A decoded event.
 * @param observedUnixNanos When the kernel recorded it (the listener's `unixNanos`).
 * @returns The record, or `undefined` when the event is not a `Log` event.
 *
 * @example
 * ```ts
 * import { decodeEventHeader } from "@seed/telemetry/user-events";
 * import { logFromEvent } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const hex = "0700000000000004390001004d794576656e74006d7367000a636f756e740084025061727442008102" +
 *   "5f747970654e616d65000a73657665726974794e756d626572008302020068" + "69fbffffff03004c6f670900";
 * const event = decodeEventHeader("MyProvider_L4K1", new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16))));
 * assert.equal(logFromEvent(event), undefined); // named MyEvent, not Log
 * ```
 */
export function logFromEvent(
  event: DecodedEvent,
  observedUnixNanos?: bigint,
): LogFromEvent | undefined {
  const a = newPartAScratch();
  const record = logRecordOf(event, observedUnixNanos, a);
  return record === undefined ? undefined : { record, resource: resourceOf(a) };
}

/**
 * {@linkcode logFromEvent}'s record, with what `PartA` says left in `a`
 * (the bridge needs only the role and instance, not a resource object).
 */
function logRecordOf(
  event: DecodedEvent,
  observedUnixNanos: bigint | undefined,
  a: PartAScratch,
): LogRecord | undefined {
  try {
    if (!isCommonSchema(event, "Log")) return undefined;
    const fields = event.fields;
    readPartA(fields, a);
    const b = part(fields, "PartB");
    const attributes = attributesOf(part(fields, "PartC"));
    const eventId = field(b, "eventId")?.value;
    if (typeof eventId === "number" || typeof eventId === "bigint") {
      put(attributes, "event_id", eventId);
    }
    const severity = int(b, "severityNumber");
    const bodyField = field(b, "body");
    return {
      timestamp: a.timeUnixNanos,
      observedTimestamp: observedUnixNanos,
      severityNumber: severity !== undefined && severity >= 1 && severity <= 24
        ? severity
        : undefined,
      severityText: str(b, "severityText"),
      body: bodyField === undefined ? undefined : toAnyValue(bodyField),
      attributes,
      eventName: str(b, "name"),
      traceId: a.traceId,
      spanId: a.traceId === undefined ? undefined : a.spanId,
      traceFlags: 0,
    };
  } catch {
    return undefined;
  }
}

function parseLinks(text: string | undefined): SpanLink[] {
  if (text === undefined || text.length > 1 << 20) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const links: SpanLink[] = [];
  if (!Array.isArray(parsed)) return links;
  for (const item of parsed) {
    const traceId = (item as { toTraceId?: unknown })?.toTraceId;
    const spanId = (item as { toSpanId?: unknown })?.toSpanId;
    if (
      typeof traceId === "string" && HEX32.test(traceId) &&
      typeof spanId === "string" && HEX16.test(spanId)
    ) {
      links.push({
        traceId,
        spanId,
        traceFlags: 0,
        attributes: {},
        droppedAttributesCount: 0,
      });
    }
  }
  return links;
}

const BRIDGE_SCOPE: InstrumentationScope = Object.freeze({
  name: "@seed/telemetry/user-events/listener",
});

/**
 * Turns a Common Schema `Span` event back into an ended span: `PartA` time
 * (end), trace and span id, resource; `PartB` name, kind, `startTime`,
 * `parentId`, `success` (false → status `ERROR` with `statusMessage`),
 * `links`, and the well-known fields (`httpMethod`, `dbSystem`, …) back
 * under their attribute keys; `PartC` → attributes. Never throws.
 *
 * @param event A decoded event.
 * @param scope The scope the span reports.
 * @returns The span, or `undefined` when the event is not a valid `Span` event.
 *
 * @example
 * ```ts
 * import { spanFromEvent } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * assert.equal(spanFromEvent({ name: "Other", fields: [] } as never), undefined);
 * ```
 */
export function spanFromEvent(
  event: DecodedEvent,
  scope: InstrumentationScope = BRIDGE_SCOPE,
): ReadableSpan | undefined {
  return spanOf(event, scope, newPartAScratch());
}

/** {@linkcode spanFromEvent}, reading `PartA` into `a`. */
function spanOf(
  event: DecodedEvent,
  scope: InstrumentationScope,
  a: PartAScratch,
): ReadableSpan | undefined {
  try {
    if (!isCommonSchema(event, "Span")) return undefined;
    const fields = event.fields;
    readPartA(fields, a);
    if (
      a.traceId === undefined || a.spanId === undefined ||
      a.timeUnixNanos === undefined
    ) return undefined;
    const b = part(fields, "PartB");
    const start: ExactTime = { unixMs: 0, nanosInMs: 0 };
    const end: ExactTime = { unixMs: 0, nanosInMs: 0 };
    const name = str(b, "name");
    if (
      name === undefined ||
      toExactTime(parseRfc3339Nanos(str(b, "startTime")), start) !==
        TimeStatus.VALID ||
      toExactTime(a.timeUnixNanos, end) !== TimeStatus.VALID
    ) return undefined; // absent, or beyond the 2^64 - 1 ns a span can hold
    const attributes: Record<string, AnyValue> = {};
    for (const f of b) {
      const key = SPAN_FIELD_TO_ATTRIBUTE[f.name];
      const value = toAnyValue(f);
      if (key !== undefined && value !== undefined) put(attributes, key, value);
    }
    attributesOf(part(fields, "PartC"), attributes);
    const success = field(b, "success")?.value;
    const message = str(b, "statusMessage");
    const status: SpanStatus = success === false
      ? (message === undefined ? { code: 2 } : { code: 2, message })
      : { code: 0 };
    const kind = int(b, "kind");
    const parent = str(b, "parentId");
    return {
      name,
      kind:
        (kind !== undefined && kind >= 0 && kind <= 4 ? kind : 0) as SpanKind,
      traceId: a.traceId,
      spanId: a.spanId,
      traceFlags: 1,
      traceState: undefined,
      parentSpanId: parent !== undefined && HEX16.test(parent)
        ? parent
        : undefined,
      parentIsRemote: false,
      startTimeUnixMs: start.unixMs,
      startTimeNanosInMs: start.nanosInMs,
      endTimeUnixMs: end.unixMs,
      endTimeNanosInMs: end.nanosInMs,
      attributes,
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: parseLinks(str(b, "links")),
      droppedLinksCount: 0,
      status,
      resource: new Resource(resourceOf(a)),
      scope,
      ended: true,
    };
  } catch {
    return undefined;
  }
}

/**
 * Options of {@linkcode UserEventsBridge}.
 *
 * @example
 * ```ts
 * import type { UserEventsBridgeOptions } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const options: UserEventsBridgeOptions = { logProcessors: [], spanProcessors: [] };
 * assert.deepEqual(options.logProcessors, []);
 * ```
 */
export interface UserEventsBridgeOptions {
  /**
   * Receive the log records rebuilt from `Log` events.
   * @default {[]}
   */
  readonly logProcessors?: readonly LogRecordProcessor[];
  /**
   * Receive the spans rebuilt from `Span` events.
   * @default {[]}
   */
  readonly spanProcessors?: readonly SpanProcessor[];
  /**
   * The instrumentation scope of what the bridge hands on.
   * @default {{ name: "@seed/telemetry/user-events/listener" }}
   */
  readonly scope?: InstrumentationScope;
  /**
   * Most distinct writer resources (`PartA` role and instance) kept; more
   * share one context without resource attributes, counted in `resourcesCapped`.
   * @default {1024}
   */
  readonly maxResources?: number;
}

/**
 * Counters of a {@linkcode UserEventsBridge}: `events = logs + spans + other + invalid`.
 *
 * @example
 * ```ts
 * import type { UserEventsBridgeStats } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const sum = (s: UserEventsBridgeStats) => s.logs + s.spans + s.other + s.invalid;
 * assert.equal(typeof sum, "function");
 * ```
 */
export interface UserEventsBridgeStats {
  /** Events handed to the bridge. */
  readonly events: number;
  /** `Log` events handed on as log records. */
  readonly logs: number;
  /** `Span` events handed on as spans. */
  readonly spans: number;
  /** Events that are neither (not Common Schema `Log`/`Span`). */
  readonly other: number;
  /** `Log`/`Span` events without the fields the layout requires. */
  readonly invalid: number;
  /** Records that went to the shared context because `maxResources` was reached. */
  readonly resourcesCapped: number;
}

/**
 * Feeds listened events to log record and span processors: a listener in
 * front of any processor or exporter of this library (the agent model).
 * `handle` never throws.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor } from "@seed/telemetry";
 * import { UserEventsBridge } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * const bridge = new UserEventsBridge({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
 * bridge.handleEvent({ name: "Heartbeat", fields: [] } as never);
 * assert.equal(bridge.stats.other, 1);
 * ```
 */
export class UserEventsBridge {
  readonly #logs: readonly LogRecordProcessor[];
  readonly #spans: readonly SpanProcessor[];
  readonly #scope: InstrumentationScope;
  readonly #contexts = new Map<string, LogEmitContext>();
  readonly #maxResources: number;
  readonly #shared: LogEmitContext;
  readonly #counters = new Float64Array(6);
  /** Reused by every conversion (`handleEvent` is not re-entrant per record). */
  readonly #partA: PartAScratch = newPartAScratch();
  #lastRole: string | undefined;
  #lastInstance: string | undefined;
  #lastContext: LogEmitContext | undefined;

  /**
   * Creates the bridge.
   *
   * @param options The processors and scope.
   */
  constructor(options: UserEventsBridgeOptions = {}) {
    this.#logs = [...(options.logProcessors ?? [])];
    this.#spans = [...(options.spanProcessors ?? [])];
    this.#scope = options.scope ?? BRIDGE_SCOPE;
    const max = options.maxResources ?? 1024;
    this.#maxResources = Number.isInteger(max) && max >= 0 ? max : 1024;
    this.#shared = new LogEmitContext(new Resource({}), this.#scope);
  }

  /** The counters so far. */
  get stats(): UserEventsBridgeStats {
    const c = this.#counters;
    return {
      events: c[0],
      logs: c[1],
      spans: c[2],
      other: c[3],
      invalid: c[4],
      resourcesCapped: c[5],
    };
  }

  /**
   * Hands one listened event on. Suits {@linkcode UserEventsListener.run}'s callback.
   *
   * @param listened The event.
   */
  handle(listened: ListenedEvent): void {
    this.handleEvent(listened.event, listened.unixNanos);
  }

  /**
   * Hands one decoded event on.
   *
   * @param event The decoded event.
   * @param observedUnixNanos When it was recorded, if known.
   */
  handleEvent(event: DecodedEvent, observedUnixNanos?: bigint): void {
    const c = this.#counters;
    c[0]++;
    const name = (event as { name?: unknown })?.name;
    if (name === "Log") {
      const a = this.#partA;
      const record = logRecordOf(event, observedUnixNanos, a);
      if (record === undefined) {
        c[isCommonSchema(event, "Log") ? 4 : 3]++;
        return;
      }
      c[1]++;
      const context = this.#context(a);
      for (const processor of this.#logs) {
        try {
          processor.onEmit(record, context);
        } catch {
          // Processors must not throw; one that does loses only its copy.
        }
      }
      return;
    }
    if (name === "Span") {
      const span = spanOf(event, this.#scope, this.#partA);
      if (span === undefined) {
        c[isCommonSchema(event, "Span") ? 4 : 3]++;
        return;
      }
      c[2]++;
      for (const processor of this.#spans) {
        try {
          processor.onEnd(span);
        } catch {
          // as above
        }
      }
      return;
    }
    c[3]++;
  }

  #context(a: PartAScratch): LogEmitContext {
    const role = a.role;
    const instance = a.instance;
    if (role === undefined && instance === undefined) return this.#shared;
    // A stream mostly comes from one writer: the same strings as the last
    // record (the decoder hands repeated short strings back as the same
    // string) find its context without building the map key.
    if (
      this.#lastContext !== undefined && role === this.#lastRole &&
      instance === this.#lastInstance
    ) return this.#lastContext;
    const key = `${String(role)}\u0000${String(instance)}`;
    let context = this.#contexts.get(key);
    if (context === undefined) {
      if (this.#contexts.size >= this.#maxResources) {
        this.#counters[5]++;
        return this.#shared;
      }
      context = new LogEmitContext(new Resource(resourceOf(a)), this.#scope);
      this.#contexts.set(key, context);
    }
    this.#lastRole = role;
    this.#lastInstance = instance;
    this.#lastContext = context;
    return context;
  }
}
