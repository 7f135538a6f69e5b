/**
 * Writes OpenTelemetry values as TraceLogging fields, the way the
 * OpenTelemetry Rust ETW exporters type them.
 *
 * @module
 */

import type { AnyValue } from "../../pipeline/attributes.ts";
import {
  InType,
  OUT_AUTO_UTF8,
  OutType,
  type TraceLoggingWriter,
} from "../_tracelogging.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * bool → BOOL32, safe integer → INT64, other number → DOUBLE, bigint →
 * INT64 (UINT64 above int64), string → counted UTF-8, bytes → BINARY,
 * array/map → JSON string (OutType JSON), null → empty string.
 */
export function writeValue(
  w: TraceLoggingWriter,
  name: string,
  value: AnyValue,
): void {
  switch (typeof value) {
    case "string":
      w.str8(name, value, OUT_AUTO_UTF8);
      return;
    case "boolean":
      w.int32(name, InType.BOOL32, value ? 1 : 0);
      return;
    case "number":
      if (Number.isSafeInteger(value)) w.int64(name, InType.INT64, value);
      else w.f64(name, value);
      return;
    case "bigint":
      if (value >= INT64_MIN && value <= INT64_MAX) {
        w.int64(name, InType.INT64, value);
      } else if (value > 0n && value <= UINT64_MAX) {
        w.int64(name, InType.UINT64, value);
      } else w.str8(name, value.toString(), 0);
      return;
  }
  if (value === null || value === undefined) {
    w.str8(name, "", 0);
  } else if (value instanceof Uint8Array) {
    w.binary(name, value);
  } else {
    w.str8(name, toJson(value), OutType.JSON);
  }
}

/** JSON of an AnyValue: bigints as numbers, bytes as base64 strings, non-finite numbers as null. */
export function toJson(value: AnyValue): string {
  switch (typeof value) {
    case "string":
      // Lone surrogates as U+FFFD (JSON.stringify would write \udXXX
      // escapes, which strict JSON readers reject), as every encoder does.
      return JSON.stringify(value.toWellFormed());
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
  }
  if (value === null || value === undefined) return "null";
  if (value instanceof Uint8Array) return JSON.stringify(base64(value));
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      out += (i === 0 ? "" : ",") + toJson(value[i]);
    }
    return out + "]";
  }
  let out = "{";
  let first = true;
  const map = value as Record<string, AnyValue>;
  for (const key in map) {
    if (map[key] === undefined) continue;
    out += (first ? "" : ",") + JSON.stringify(key.toWellFormed()) + ":" +
      toJson(map[key]);
    first = false;
  }
  return out + "}";
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}
