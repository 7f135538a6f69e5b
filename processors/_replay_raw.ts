/**
 * The user_events hot path for a record whose shape repeats the last
 * event's: it reads the record as the caller gave it and hands its fields to
 * {@linkcode replayLogRecord} without building a `LogRecordData` snapshot.
 * Only records the snapshot would take as they are qualify (valid times and
 * ids, primitive attributes within the limits, no event name); for any other
 * it returns -1 and the processor takes the full path, where the sanitizer
 * applies (and counts) its rules. The bytes are the same either way.
 *
 * @module
 */

import type { Attributes } from "../pipeline/attributes.ts";
import { normalizeHexId } from "../pipeline/ids.ts";
import { LogEmitContext, type LogRecord } from "../pipeline/logs/log_record.ts";
import { type ExactTime, nowExactTime, toExactTime } from "../pipeline/time.ts";
import {
  activeSpanContext,
  isValidTraceFlags,
} from "../pipeline/trace_context.ts";
import {
  type EncodeOptions,
  type EventBuffer,
  replayLogRecord,
} from "./_eventheader.ts";

const time: ExactTime = { unixMs: 0, nanosInMs: 0 };
const VALID = 1;

/**
 * Writes `record` by replaying `b.resident` (see `replayLogRecord`); -1 when
 * it needs the full path. May throw (getters, Proxies): the caller catches
 * and takes the full path.
 *
 * @param b The buffer, with a resident shape.
 * @param record The record as emitted.
 * @param context The logger's context.
 * @param level The level of its (valid) severity.
 * @param severityNumber That severity (1-24), as read once by the caller.
 * @param options The encoder options.
 * @returns The bytes to write, or -1.
 */
export function replayRawLogRecord(
  b: EventBuffer,
  record: LogRecord,
  context: LogEmitContext,
  level: number,
  severityNumber: number,
  options: EncodeOptions,
): number {
  if (!(context instanceof LogEmitContext)) return -1;
  if (record.eventName !== undefined) return -1;
  // PartA time: the timestamp, else the observed time, else now (as the
  // snapshot with a lazy observed time).
  // (A valid timestamp of 0 counts as none, as in the full encoder.)
  const timestamp = record.timestamp;
  let timed = false;
  if (timestamp !== undefined) {
    if (toExactTime(timestamp, time) !== VALID) return -1;
    timed = time.unixMs !== 0 || time.nanosInMs !== 0;
  }
  if (!timed) {
    if (record.observedTimestamp !== undefined) return -1;
    nowExactTime(time);
  }
  const severityText = record.severityText;
  if (severityText !== undefined && typeof severityText !== "string") {
    return -1;
  }
  let attributes = record.attributes;
  if (attributes === null) attributes = undefined;
  else if (attributes !== undefined) {
    if (typeof attributes !== "object") return -1;
    const proto = Object.getPrototypeOf(attributes);
    if (proto !== Object.prototype && proto !== null) return -1;
  }
  let traceId: unknown = record.traceId;
  let spanId: unknown = record.spanId;
  let traceFlags: unknown = record.traceFlags;
  if (traceId === undefined && spanId === undefined) {
    const active = activeSpanContext();
    if (active !== undefined) {
      traceId = active.traceId;
      spanId = active.spanId;
      traceFlags ??= active.traceFlags;
    }
  }
  let trace: string | undefined;
  let span: string | undefined;
  if (traceId !== undefined || spanId !== undefined) {
    trace = normalizeHexId(traceId, 32);
    span = normalizeHexId(spanId, 16);
    if (trace === undefined || span === undefined) return -1;
    if (traceFlags !== undefined && !isValidTraceFlags(traceFlags)) return -1;
  }
  const sanitizer = context.sanitizer;
  return replayLogRecord(
    b,
    level,
    options,
    "Log",
    context.resource,
    time,
    trace,
    span,
    attributes as Attributes | undefined,
    record.body,
    severityNumber,
    severityText,
    sanitizer.attributeCountLimit,
    sanitizer.attributeValueLengthLimit,
  );
}
