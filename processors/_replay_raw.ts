/**
 * The hot path of the OS processors for a record whose shape repeats the
 * last event's: it reads the record as the caller gave it into a reusable
 * {@linkcode RawLogFields} without building a `LogRecordData` snapshot, for
 * a format's replay (user_events: {@linkcode replayLogRecord}; ETW:
 * `etw/_etw_replay.ts`). Only records the snapshot would take as they are
 * qualify (valid times and ids, primitive attributes within the limits, no
 * event name); for any other the reader returns `false` and the processor
 * takes the full path, where the sanitizer applies (and counts) its rules.
 * The bytes are the same either way.
 *
 * @module
 */

import type { Attributes } from "../pipeline/attributes.ts";
import { RawLogFields } from "./_raw_fields.ts";
import { normalizeHexId } from "../pipeline/ids.ts";
import { LogEmitContext, type LogRecord } from "../pipeline/logs/log_record.ts";
import { nowExactTime, toExactTime } from "../pipeline/time.ts";
import {
  activeSpanContext,
  isValidTraceFlags,
} from "../pipeline/trace_context.ts";
import {
  type EncodeOptions,
  type EventBuffer,
  replayLogRecord,
} from "./_eventheader.ts";

const VALID = 1;

export { RawLogFields };

/**
 * Reads `record` into `out` when a replay may write it as given; `false`
 * when it needs the full path. May throw (getters, Proxies): the caller
 * catches and takes the full path.
 *
 * @param record The record as emitted.
 * @param context The logger's context.
 * @param out Where the fields go.
 * @returns Whether the record qualifies.
 */
export function readRawLogRecord(
  record: LogRecord,
  context: LogEmitContext,
  out: RawLogFields,
): boolean {
  if (!(context instanceof LogEmitContext)) return false;
  if (record.eventName !== undefined) return false;
  // PartA time: the timestamp, else the observed time, else now (as the
  // snapshot with a lazy observed time).
  // (A valid timestamp of 0 counts as none, as in the full encoders.)
  const time = out.time;
  const timestamp = record.timestamp;
  let timed = false;
  if (timestamp !== undefined) {
    if (toExactTime(timestamp, time) !== VALID) return false;
    timed = time.unixMs !== 0 || time.nanosInMs !== 0;
  }
  if (!timed) {
    if (record.observedTimestamp !== undefined) return false;
    nowExactTime(time);
  }
  const severityText = record.severityText;
  if (severityText !== undefined && typeof severityText !== "string") {
    return false;
  }
  let attributes = record.attributes;
  if (attributes === null) attributes = undefined;
  else if (attributes !== undefined) {
    if (typeof attributes !== "object") return false;
    // No shape holds an event_id attribute (the full encoder moves it to
    // PartB). Read first, the load also tells the JIT the object's map, so
    // that the prototype below is a constant instead of a builtin call
    // (measured: about 10% of the replayed emit on Deno).
    if ((attributes as Attributes)["event_id"] !== undefined) return false;
    const proto = Object.getPrototypeOf(attributes);
    if (proto !== Object.prototype) {
      // Not Object.prototype: a null-prototype object (always in dictionary
      // mode on V8) or a class instance goes to the full encoder. A plain
      // copy of a null-prototype object (d507681), made by computed stores,
      // left the replay's for…in in a Maglev deopt loop ("wrong map" at
      // `attributes[key]`) once records of other keys had been seen: every
      // later plain emit 11-19x slower on Deno 2.9 (bench/replay_deopt.ts
      // --kind othershape,nullproto). An object that had a key deleted, or
      // got ~20 keys by computed stores, is in dictionary mode too, and
      // nothing a script can read tells it from a fast one (no engine API
      // says, nodejs/node#57374): those still pass here (#13). Afterwards
      // plain records cost 1.7-1.8x on Deno 2.9 and 1.5-1.6x on Bun
      // (--kind deleted), and on Deno the extra time is in three places
      // (--prof, clean against dirty): the `event_id` load above (a generic
      // LoadIC once a dictionary map is in its feedback), this prototype
      // read (a builtin call, no longer a constant) and the replay's for…in
      // (generic). Measured and dropped: the event_id load left out (the
      // replay's key check rejects the key anyway), 1.2x slower on plain
      // records and the cliff 1.4x; a key check for…in in its own function
      // and indexed `attributes[keys[i]]` loads in the replay, 1.3x slower
      // on Deno (1.19x on Bun), cliff still 1.4x. What avoids it is the
      // caller's: a rest copy instead of a delete (--kind rest), README.
      return false;
    }
  }
  if (
    record.traceId === undefined && record.spanId === undefined &&
    activeSpanContext() === undefined
  ) {
    out.traceId = undefined;
    out.spanId = undefined;
  } else if (!readTraceContext(record, out)) return false;
  out.attributes = attributes as Attributes | undefined;
  out.body = record.body;
  out.severityText = severityText;
  out.resource = context.resource;
  out.limits = context.sanitizer;
  return true;
}

/**
 * The trace and span id of a record that has either, or of the active span
 * (valid, normalized) into `out`; `false` when the snapshot would change
 * them. Out of readRawLogRecord, which is then small enough for V8 to
 * inline into the processors' onEmit (its bytecode with its inlined callees
 * was over V8's 460-byte limit).
 */
function readTraceContext(record: LogRecord, out: RawLogFields): boolean {
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
    if (trace === undefined || span === undefined) return false;
    if (traceFlags !== undefined && !isValidTraceFlags(traceFlags)) {
      return false;
    }
  }
  out.traceId = trace;
  out.spanId = span;
  return true;
}

const fields = new RawLogFields();

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
  const f = fields;
  if (!readRawLogRecord(record, context, f)) return -1;
  return replayLogRecord(b, level, options, "Log", f, severityNumber);
}
