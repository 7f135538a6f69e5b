/**
 * Log records: what callers emit ({@linkcode LogRecord}), the context a
 * logger hands its processors with it ({@linkcode LogEmitContext}), and the
 * immutable snapshot that batching processors and exporters keep
 * ({@linkcode LogRecordData}).
 *
 * @module
 */

import {
  type AnyValue,
  type Attributes,
  AttributeSanitizer,
} from "../attributes.ts";
import { consoleDiagnosticSink, type DiagnosticSink } from "../diagnostics.ts";
import { idPairOf, validPair } from "../_id_pairs.ts";
import { Resource } from "../resource.ts";
import type { InstrumentationScope } from "../scope.ts";
import { isValidSeverityNumber } from "./severity.ts";
import {
  type ExactTime,
  nowExactTime,
  type TimeInput,
  TimeStatus,
  toExactTime,
} from "../time.ts";
import {
  activeSpanContext,
  isValidTraceFlags,
  type SpanContext,
} from "../trace_context.ts";

/**
 * A log record as a caller emits it. Every field is optional.
 *
 * The logger does not copy the record before its processors see it, and
 * batching processors keep its `attributes` object when it is already valid:
 * do not mutate a record or its attributes after emitting it.
 *
 * @example
 * ```ts
 * import { type LogRecord, SeverityNumber } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const record: LogRecord = {
 *   severityNumber: SeverityNumber.WARN,
 *   severityText: "WARN",
 *   body: "disk almost full",
 *   attributes: { "disk.free_bytes": 1024 },
 * };
 * assert.equal(record.severityNumber, 13);
 * ```
 */
export interface LogRecord {
  /**
   * When the event happened: milliseconds since the epoch (`Date.now()`;
   * fractional allowed, below `performance.timeOrigin` it is
   * `performance.now()`-relative), an HrTime `[seconds, nanos]`, a `bigint`
   * of nanoseconds, or a `Date`. An invalid time leaves it unset (counted).
   */
  timestamp?: TimeInput;
  /** When the record was observed (a {@linkcode TimeInput}); defaults to the time of `emit`. */
  observedTimestamp?: TimeInput;
  /** Severity number, 1-24; see `SeverityNumber`. */
  severityNumber?: number;
  /** Severity text as the source reports it, e.g. `"WARN"`. */
  severityText?: string;
  /** The body: a message string or any structured value. */
  body?: AnyValue;
  /**
   * Attributes of the record. Leave a key out by building the object
   * without it (a literal, or `const { secret: _, ...attributes } = input`),
   * not with `delete`: on V8 and JSC an object that had a key deleted is a
   * hash table inside the engine, and once one reaches an OS processor's
   * fast path, every later record through it costs 1.5-1.8x as much for the
   * rest of the process (see the README, "Architecture").
   */
  attributes?: Attributes;
  /** The event name, for records that are named events. */
  eventName?: string;
  /** The trace id (32 lowercase hex digits); defaults to the active span's. */
  traceId?: string;
  /** The span id (16 lowercase hex digits); defaults to the active span's. */
  spanId?: string;
  /** W3C trace flags; defaults to the active span's. */
  traceFlags?: number;
}

/**
 * An immutable snapshot of an emitted log record, with everything resolved:
 * exact times (whole milliseconds since the epoch plus the nanoseconds within
 * the millisecond; see `toExactTime`), sanitized attributes and body, the trace context, and
 * the resource and scope of the logger that emitted it.
 *
 * @example
 * ```ts
 * import { LogEmitContext, Resource, toLogRecordData } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const context = new LogEmitContext(new Resource({ "service.name": "demo" }), { name: "example" });
 * const data = toLogRecordData({ body: "hi", severityNumber: 9 }, context);
 * assert.equal(data.body, "hi");
 * assert.equal(data.scope.name, "example");
 * assert.ok(data.observedTimeUnixMs > 0);
 * ```
 */
export interface LogRecordData {
  /** When the event happened: whole milliseconds since the epoch; with {@linkcode LogRecordData.timeNanosInMs} 0 when unknown. */
  readonly timeUnixMs: number;
  /** The nanoseconds within {@linkcode LogRecordData.timeUnixMs}, 0-999999. */
  readonly timeNanosInMs: number;
  /** When it was observed: whole milliseconds since the epoch. */
  readonly observedTimeUnixMs: number;
  /** The nanoseconds within {@linkcode LogRecordData.observedTimeUnixMs}, 0-999999. */
  readonly observedTimeNanosInMs: number;
  /** 1-24, or 0 when unspecified. */
  readonly severityNumber: number;
  /** Severity text, if any. */
  readonly severityText: string | undefined;
  /** The body, if any. */
  readonly body: AnyValue;
  /** Attributes (an empty object when there are none). */
  readonly attributes: Attributes;
  /** Attributes dropped by limits or value rules. */
  readonly droppedAttributesCount: number;
  /** The event name, if any. */
  readonly eventName: string | undefined;
  /** The trace id, if the record belongs to a trace. */
  readonly traceId: string | undefined;
  /** The span id, if the record belongs to a span. */
  readonly spanId: string | undefined;
  /** W3C trace flags (0 when there is no trace context). */
  readonly traceFlags: number;
  /** The resource of the provider that emitted it. */
  readonly resource: Resource;
  /** The scope of the logger that emitted it. */
  readonly scope: InstrumentationScope;
}

/**
 * An empty, frozen attributes object shared by every record without attributes.
 *
 * @example
 * ```ts
 * import { EMPTY_ATTRIBUTES } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Object.isFrozen(EMPTY_ATTRIBUTES));
 * ```
 */
export const EMPTY_ATTRIBUTES: Attributes = Object.freeze({});

/**
 * Options of {@linkcode LogEmitContext}: the sanitizer and diagnostic sink shared by all loggers of a provider.
 *
 * @example
 * ```ts
 * import { AttributeSanitizer, LogEmitContext, type LogEmitContextOptions, Resource } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: LogEmitContextOptions = { sanitizer: new AttributeSanitizer({ attributeCountLimit: 8 }) };
 * assert.equal(new LogEmitContext(new Resource({}), { name: "x" }, options).sanitizer.attributeCountLimit, 8);
 * ```
 */
export interface LogEmitContextOptions {
  /**
   * The sanitizer that applies attribute limits and value rules.
   * @default {a new AttributeSanitizer with the default limits}
   */
  readonly sanitizer?: AttributeSanitizer;
  /**
   * Where processors report diagnostics.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

/**
 * What a logger hands its processors with each record: the provider's
 * resource, the logger's scope, the attribute sanitizer and the diagnostic
 * sink. One per logger, allocated once, so `emit` allocates nothing.
 *
 * @example
 * ```ts
 * import { LogEmitContext, Resource } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const context = new LogEmitContext(new Resource({}), { name: "lib", version: "1.0.0" });
 * assert.equal(context.scope.version, "1.0.0");
 * ```
 */
export class LogEmitContext {
  /** The provider's resource. */
  readonly resource: Resource;
  /** The logger's instrumentation scope. */
  readonly scope: InstrumentationScope;
  /** Applies attribute limits and value rules, and counts what they change. */
  readonly sanitizer: AttributeSanitizer;
  /** Where processors report diagnostics. */
  readonly diagnostics: DiagnosticSink;

  /**
   * Creates a context.
   *
   * @param resource The provider's resource.
   * @param scope The logger's scope.
   * @param options Sanitizer and diagnostics.
   */
  constructor(
    resource: Resource,
    scope: InstrumentationScope,
    options: LogEmitContextOptions = {},
  ) {
    this.resource = resource;
    this.scope = scope;
    this.sanitizer = options.sanitizer ?? new AttributeSanitizer();
    this.diagnostics = options.diagnostics ?? consoleDiagnosticSink;
  }

  #fanOut = false;
  #record: LogRecord | undefined = undefined;
  #data: LogRecordData | undefined = undefined;

  /**
   * Resolves `record` into a {@linkcode LogRecordData}. While a logger fans
   * one record out to several processors, they all get the same snapshot, so
   * attributes are sanitized (and counted) once. Prefer
   * {@linkcode toLogRecordData}.
   *
   * @param record The record being emitted.
   * @param lazyObservedTime See {@linkcode toLogRecordData}.
   * @returns Its snapshot.
   */
  snapshot(
    record: LogRecord,
    lazyObservedTime: boolean = false,
  ): LogRecordData {
    if (!this.#fanOut) {
      return snapshotOf(record, this, lazyObservedTime);
    }
    if (this.#record === record && this.#data !== undefined) return this.#data;
    this.#data = snapshotOf(record, this, false);
    this.#record = record;
    return this.#data;
  }

  /** Starts sharing one snapshot among the processors of one emit; the logger calls it. */
  beginFanOut(): void {
    this.#fanOut = true;
  }

  /** Ends the sharing started by {@linkcode LogEmitContext.beginFanOut}. */
  endFanOut(): void {
    this.#fanOut = false;
    this.#record = undefined;
    this.#data = undefined;
  }
}

/** The destination of every time conversion of a snapshot (no allocation per record). */
const scratch: ExactTime = { unixMs: 0, nanosInMs: 0 };

/**
 * Resolves `record` into a {@linkcode LogRecordData} (see
 * {@linkcode toLogRecordData}): every field into a local, then one object
 * literal. A class whose constructor resolved the fields was too big to
 * inline: V8 allocated each snapshot through its generic construct stub
 * (JSConstructStubGeneric + FastNewObject, 7% of a no-op batch emit on
 * Deno) with a write barrier on every field store, and a 15-argument
 * constructor that only stored them was still 10% slower than this literal
 * on Bun. The literal: -9% to -15% per emit into a no-op batch exporter on
 * Deno, Bun and Node (old and new in one process, both orders, load 1-3).
 */
function snapshotOf(
  record: LogRecord,
  context: LogEmitContext,
  lazyObservedTime: boolean,
): LogRecordData {
  const sanitizer = context.sanitizer;
  // Every field read once, into locals (no object per record); a record
  // whose getters or Proxy traps throw is read again field by field.
  let timestamp: LogRecord["timestamp"];
  let observedTimestamp: LogRecord["observedTimestamp"];
  let severity: unknown;
  let severityText: unknown;
  let body: LogRecord["body"];
  let attributes: LogRecord["attributes"];
  let eventName: unknown;
  let traceId: unknown;
  let spanId: unknown;
  let traceFlags: unknown;
  try {
    if (record !== null && typeof record === "object") {
      timestamp = record.timestamp;
      observedTimestamp = record.observedTimestamp;
      severity = record.severityNumber;
      severityText = record.severityText;
      body = record.body;
      attributes = record.attributes;
      eventName = record.eventName;
      traceId = record.traceId;
      spanId = record.spanId;
      traceFlags = record.traceFlags;
    }
  } catch {
    const f = readEachField(record, sanitizer);
    timestamp = f.timestamp;
    observedTimestamp = f.observedTimestamp;
    severity = f.severityNumber;
    severityText = f.severityText;
    body = f.body;
    attributes = f.attributes;
    eventName = f.eventName;
    traceId = f.traceId;
    spanId = f.spanId;
    traceFlags = f.traceFlags;
  }
  const t = scratch;
  let timeUnixMs = 0;
  let timeNanosInMs = 0;
  const time = toExactTime(timestamp, t); // never throws
  if (time === TimeStatus.VALID) {
    timeUnixMs = t.unixMs;
    timeNanosInMs = t.nanosInMs;
  } else if (time === TimeStatus.INVALID) sanitizer.invalidTimes++;
  let observedTimeUnixMs = 0;
  let observedTimeNanosInMs = 0;
  const observed = toExactTime(observedTimestamp, t);
  if (observed === TimeStatus.VALID) {
    observedTimeUnixMs = t.unixMs;
    observedTimeNanosInMs = t.nanosInMs;
  } else {
    if (observed === TimeStatus.INVALID) sanitizer.invalidTimes++;
    if (!lazyObservedTime || (timeUnixMs === 0 && timeNanosInMs === 0)) {
      nowExactTime(t);
      observedTimeUnixMs = t.unixMs;
      observedTimeNanosInMs = t.nanosInMs;
    }
  }
  let severityNumber = 0;
  if (isValidSeverityNumber(severity)) severityNumber = severity;
  else if (severity !== undefined && severity !== 0) sanitizer.invalidFields++;
  let text: string | undefined;
  if (typeof severityText === "string") text = severityText;
  else if (severityText !== undefined) sanitizer.invalidFields++;
  const bodyValue = sanitizer.value(body);
  const attributeValues = sanitizer.attributes(attributes) ??
    EMPTY_ATTRIBUTES;
  const droppedAttributesCount = sanitizer.lastDropped;
  let name: string | undefined;
  if (typeof eventName === "string") {
    name = eventName === "" ? undefined : eventName;
  } else if (eventName !== undefined) sanitizer.invalidFields++;
  if (traceId === undefined && spanId === undefined) {
    const active: SpanContext | undefined = activeSpanContext();
    if (active !== undefined) {
      traceId = active.traceId;
      spanId = active.spanId;
      traceFlags ??= active.traceFlags;
    }
  }
  let validTraceId: string | undefined;
  let validSpanId: string | undefined;
  let flags = 0;
  if (traceId !== undefined || spanId !== undefined) {
    // Ids are validated (and uppercase hex lowercased) as a pair, compared
    // with the recently seen valid pairs first (see idPairOf): the records
    // of one span, from the active span or given in the record, carry the
    // same id strings.
    if (!idPairOf(traceId, spanId)) {
      sanitizer.invalidTraceContexts++;
    } else {
      validTraceId = validPair.traceId;
      validSpanId = validPair.spanId;
      if (traceFlags === undefined) flags = 0;
      else if (isValidTraceFlags(traceFlags)) flags = traceFlags;
      else sanitizer.invalidTraceContexts++;
    }
  }
  return {
    timeUnixMs,
    timeNanosInMs,
    observedTimeUnixMs,
    observedTimeNanosInMs,
    severityNumber,
    severityText: text,
    body: bodyValue,
    attributes: attributeValues,
    droppedAttributesCount,
    eventName: name,
    traceId: validTraceId,
    spanId: validSpanId,
    traceFlags: flags,
    resource: context.resource,
    scope: context.scope,
  };
}

const FIELDS = [
  "timestamp",
  "observedTimestamp",
  "severityNumber",
  "severityText",
  "body",
  "attributes",
  "eventName",
  "traceId",
  "spanId",
  "traceFlags",
] as const;

/** Reads a record whose getters or Proxy traps throw, field by field: a field that throws is absent (and counted). */
function readEachField(
  record: LogRecord,
  sanitizer: AttributeSanitizer,
): LogRecord {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) {
    try {
      out[field] = record[field];
    } catch {
      sanitizer.invalidFields++;
    }
  }
  return out as LogRecord;
}

/**
 * Resolves a record into an immutable {@linkcode LogRecordData}: times
 * converted exactly (the observed time defaults to now; an invalid time is
 * treated as absent and counted in the sanitizer's `invalidTimes`), severity validated,
 * attributes and body sanitized, and the trace context taken from the record
 * or else from the active span. Invalid trace ids are dropped as a pair.
 *
 * Call it synchronously inside `onEmit`: the active span is read from the
 * current async context.
 *
 * A synchronous processor that uses the observed time only when the record
 * has no timestamp may pass `lazyObservedTime`: a record with a valid
 * `timestamp` and no `observedTimestamp` then gets `observedTimeUnixMs` 0
 * instead of a clock read, unless the snapshot is shared with other
 * processors (a logger fanning out), which always get the real time.
 *
 * @param record The record as emitted.
 * @param context The emitting logger's context.
 * @param options `lazyObservedTime`: skip the clock read when the record has a timestamp (see above).
 * @returns The snapshot.
 *
 * @example
 * ```ts
 * import { LogEmitContext, Resource, toLogRecordData } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const context = new LogEmitContext(new Resource({}), { name: "example" });
 * const data = toLogRecordData({ severityNumber: 99, traceId: "nope" }, context);
 * assert.equal(data.severityNumber, 0);
 * assert.equal(data.traceId, undefined);
 * ```
 */
export function toLogRecordData(
  record: LogRecord,
  context: LogEmitContext,
  options?: ToLogRecordDataOptions,
): LogRecordData {
  let lazy = false;
  try {
    lazy = options?.lazyObservedTime === true;
  } catch {
    // unreadable options: the defaults
  }
  // A processor called by hand with something else than a logger's context
  // still gets a record (with an empty resource and scope), never a throw.
  let valid = false;
  try {
    valid = context instanceof LogEmitContext;
  } catch {
    // a Proxy whose getPrototypeOf trap throws
  }
  return valid
    ? context.snapshot(record, lazy)
    : snapshotOf(record, fallbackContext(), lazy);
}

let fallback: LogEmitContext | undefined;
function fallbackContext(): LogEmitContext {
  return fallback ??= new LogEmitContext(new Resource({}), { name: "" });
}

/**
 * Options of {@linkcode toLogRecordData}.
 *
 * @example
 * ```ts
 * import { LogEmitContext, Resource, toLogRecordData, type ToLogRecordDataOptions } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const lazy: ToLogRecordDataOptions = { lazyObservedTime: true };
 * const context = new LogEmitContext(new Resource({}), { name: "example" });
 * assert.equal(toLogRecordData({ timestamp: Date.now() }, context, lazy).observedTimeUnixMs, 0);
 * ```
 */
export interface ToLogRecordDataOptions {
  /**
   * Skip the clock read for `observedTimeUnixMs` when the record has a
   * valid `timestamp` (it is then 0), unless the snapshot is shared with
   * other processors. For synchronous processors that use the observed time
   * only when there is no timestamp. Pass a constant object: no allocation
   * per emit.
   * @default {false}
   */
  readonly lazyObservedTime?: boolean;
}
