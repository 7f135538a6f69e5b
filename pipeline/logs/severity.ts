/**
 * Log severity numbers of the OpenTelemetry data model (1-24).
 *
 * @module
 */

/**
 * The OpenTelemetry severity numbers: four steps in each of six ranges.
 *
 * @example
 * ```ts
 * import { SeverityNumber } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SeverityNumber.INFO, 9);
 * assert.equal(SeverityNumber.FATAL4, 24);
 * ```
 */
export const SeverityNumber = {
  UNSPECIFIED: 0,
  TRACE: 1,
  TRACE2: 2,
  TRACE3: 3,
  TRACE4: 4,
  DEBUG: 5,
  DEBUG2: 6,
  DEBUG3: 7,
  DEBUG4: 8,
  INFO: 9,
  INFO2: 10,
  INFO3: 11,
  INFO4: 12,
  WARN: 13,
  WARN2: 14,
  WARN3: 15,
  WARN4: 16,
  ERROR: 17,
  ERROR2: 18,
  ERROR3: 19,
  ERROR4: 20,
  FATAL: 21,
  FATAL2: 22,
  FATAL3: 23,
  FATAL4: 24,
} as const;

/**
 * A severity number: 0 (unspecified) or 1-24.
 *
 * @example
 * ```ts
 * import type { SeverityNumber } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const n: SeverityNumber = 17;
 * assert.equal(n, 17);
 * ```
 */
export type SeverityNumber = typeof SeverityNumber[keyof typeof SeverityNumber];

const SHORT_NAMES = [
  "TRACE",
  "DEBUG",
  "INFO",
  "WARN",
  "ERROR",
  "FATAL",
] as const;

/**
 * The short name of a severity number's range (`"INFO"` for 9-12), or
 * `undefined` for 0 and values outside 1-24.
 *
 * @param severityNumber The severity number.
 * @returns The range's name.
 *
 * @example
 * ```ts
 * import { severityName } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(severityName(10), "INFO");
 * assert.equal(severityName(0), undefined);
 * ```
 */
export function severityName(severityNumber: number): string | undefined {
  if (!(severityNumber >= 1 && severityNumber <= 24)) return undefined;
  return SHORT_NAMES[(severityNumber - 1) >> 2];
}

/**
 * Tells whether a value is a valid severity number (an integer 1-24).
 *
 * @param value The value.
 * @returns `true` for integers 1-24.
 *
 * @example
 * ```ts
 * import { isValidSeverityNumber } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidSeverityNumber(24), true);
 * assert.equal(isValidSeverityNumber(25), false);
 * ```
 */
export function isValidSeverityNumber(value: unknown): value is number {
  return typeof value === "number" && value >= 1 && value <= 24 &&
    (value | 0) === value;
}
