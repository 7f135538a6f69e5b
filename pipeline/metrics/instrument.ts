/**
 * Instruments as the OpenTelemetry metrics API defines them: their kinds,
 * the options they are created with, and the specification's name and unit
 * rules.
 *
 * @module
 */

/**
 * The kind of an instrument.
 *
 * @example
 * ```ts
 * import type { InstrumentType } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const kind: InstrumentType = "histogram";
 * assert.equal(kind, "histogram");
 * ```
 */
export type InstrumentType =
  | "counter"
  | "upDownCounter"
  | "histogram"
  | "gauge"
  | "observableCounter"
  | "observableUpDownCounter"
  | "observableGauge";

/**
 * Whether an instrument's values are encoded as OTLP integers or doubles.
 * With `"int"`, a safe integer is sent as `as_int` and anything else as
 * `as_double`.
 *
 * @example
 * ```ts
 * import type { ValueType } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const type: ValueType = "int";
 * assert.equal(type, "int");
 * ```
 */
export type ValueType = "int" | "double";

/**
 * Hints an instrument gives to the SDK about its default aggregation.
 *
 * @example
 * ```ts
 * import type { InstrumentAdvice } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const advice: InstrumentAdvice = { explicitBucketBoundaries: [0.1, 0.5, 1] };
 * assert.equal(advice.explicitBucketBoundaries?.length, 3);
 * ```
 */
export interface InstrumentAdvice {
  /**
   * Bucket boundaries for an explicit-bucket histogram: finite, strictly
   * increasing. Invalid boundaries are reported and ignored.
   * @default {the specification's default boundaries}
   */
  readonly explicitBucketBoundaries?: readonly number[];
}

/**
 * Options of every instrument.
 *
 * @example
 * ```ts
 * import type { InstrumentOptions } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const options: InstrumentOptions = { unit: "s", description: "Request duration", valueType: "double" };
 * assert.equal(options.unit, "s");
 * ```
 */
export interface InstrumentOptions {
  /**
   * A description of what the instrument measures.
   * @default {""}
   */
  readonly description?: string;
  /**
   * The unit, in UCUM case-sensitive form (`"s"`, `"By"`, `"{request}"`):
   * at most 63 ASCII characters; an invalid unit is reported and replaced
   * by `""`.
   * @default {""}
   */
  readonly unit?: string;
  /**
   * How values are encoded.
   * @default {"double"}
   */
  readonly valueType?: ValueType;
  /** Hints for the default aggregation. */
  readonly advice?: InstrumentAdvice;
}

/**
 * What identifies an instrument: its name, kind, unit, description and
 * value type.
 *
 * @example
 * ```ts
 * import type { InstrumentDescriptor } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const d: InstrumentDescriptor = { name: "requests", type: "counter", unit: "", description: "", valueType: "int" };
 * assert.equal(d.type, "counter");
 * ```
 */
export interface InstrumentDescriptor {
  /** The name as given. */
  readonly name: string;
  /** The kind. */
  readonly type: InstrumentType;
  /** The unit (`""` when none). */
  readonly unit: string;
  /** The description (`""` when none). */
  readonly description: string;
  /** How values are encoded. */
  readonly valueType: ValueType;
  /** Hints for the default aggregation. */
  readonly advice?: InstrumentAdvice;
}

const NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/;

/**
 * Tells whether `name` follows the specification's instrument name syntax:
 * an ASCII letter, then up to 254 ASCII letters, digits, `_`, `.`, `-`, `/`.
 *
 * @param name The candidate name.
 * @returns `true` when valid.
 *
 * @example
 * ```ts
 * import { isValidInstrumentName } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidInstrumentName("http.server.request.duration"), true);
 * assert.equal(isValidInstrumentName("1st"), false);
 * assert.equal(isValidInstrumentName("a".repeat(256)), false);
 * ```
 */
export function isValidInstrumentName(name: unknown): boolean {
  return typeof name === "string" && NAME.test(name);
}

/**
 * Tells whether `unit` is a valid instrument unit: a string of at most 63
 * ASCII characters.
 *
 * @param unit The candidate unit.
 * @returns `true` when valid.
 *
 * @example
 * ```ts
 * import { isValidInstrumentUnit } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidInstrumentUnit("ms"), true);
 * assert.equal(isValidInstrumentUnit("µs"), false);
 * ```
 */
export function isValidInstrumentUnit(unit: unknown): boolean {
  if (typeof unit !== "string" || unit.length > 63) return false;
  for (let i = 0; i < unit.length; i++) {
    if (unit.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}
