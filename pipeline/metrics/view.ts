/**
 * Views: change what the SDK makes of an instrument's measurements. A view
 * selects instruments (by name, with `*` and `?` wildcards, by kind, unit,
 * and meter) and says what their stream is: a new name or description, only
 * some attribute keys, another aggregation, another cardinality limit, or
 * nothing at all (`aggregation: { type: "drop" }`).
 *
 * An instrument that no view selects gets its default stream. One that
 * several views select gets one stream per view.
 *
 * @module
 */

import { type Aggregation, resolveAggregation } from "./aggregation.ts";
import type { InstrumentType } from "./instrument.ts";
import type { InstrumentationScope } from "../scope.ts";

/**
 * One view: a selector (every given criterion must match) and the stream it
 * makes.
 *
 * @example Seconds buckets for every `*.duration` histogram, and drop one metric
 * ```ts
 * import { ManualMetricReader, MeterProvider, type View } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const views: View[] = [
 *   { instrumentName: "*.duration", aggregation: { type: "explicitBucketHistogram", boundaries: [0.1, 1, 10] } },
 *   { instrumentName: "debug.*", aggregation: { type: "drop" } },
 * ];
 * const reader = new ManualMetricReader();
 * const provider = new MeterProvider({ readers: [reader], views });
 * const meter = provider.getMeter("app");
 * meter.createHistogram("job.duration").record(0.5);
 * const dropped = meter.createCounter("debug.loops");
 * assert.equal(dropped.enabled(), false);
 * const { resourceMetrics } = await reader.collect();
 * const point = resourceMetrics.scopeMetrics[0].metrics[0].dataPoints[0];
 * assert.ok("explicitBounds" in point);
 * assert.deepEqual(point.explicitBounds, [0.1, 1, 10]);
 * ```
 */
export interface View {
  /** Instrument name; `*` matches any run of characters, `?` one. Case-insensitive. */
  readonly instrumentName?: string;
  /** Instrument kind. */
  readonly instrumentType?: InstrumentType;
  /** Instrument unit, exactly. */
  readonly instrumentUnit?: string;
  /** Meter name, exactly. */
  readonly meterName?: string;
  /** Meter version, exactly. */
  readonly meterVersion?: string;
  /** Meter schema URL, exactly. */
  readonly meterSchemaUrl?: string;
  /**
   * The stream's name. Only with an `instrumentName` without wildcards (a
   * rename of many instruments would make them collide).
   * @default {the instrument's name}
   */
  readonly name?: string;
  /**
   * The stream's description.
   * @default {the instrument's description}
   */
  readonly description?: string;
  /**
   * The attribute keys to keep; others are removed before aggregation.
   * @default {all keys}
   */
  readonly attributeKeys?: readonly string[];
  /**
   * The aggregation.
   * @default {{ type: "default" }}
   */
  readonly aggregation?: Aggregation;
  /**
   * The most series the stream keeps (the overflow series included).
   * @default {the provider's cardinalityLimit}
   */
  readonly cardinalityLimit?: number;
}

/** A view checked and compiled (internal). */
export interface CompiledView {
  readonly view: View;
  readonly name: RegExp | undefined;
  readonly attributeKeys: ReadonlySet<string> | undefined;
}

function wildcard(pattern: string): RegExp {
  let source = "^";
  for (const ch of pattern) {
    if (ch === "*") source += ".*";
    else if (ch === "?") source += ".";
    else source += ch.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(source + "$", "is");
}

/**
 * Checks a view and compiles its selector.
 *
 * @throws {TypeError} When the view renames a wildcard selection, selects
 * nothing, or has a bad aggregation or limit.
 */
export function compileView(view: View, index: number): CompiledView {
  if (view === null || typeof view !== "object") {
    throw new TypeError(`Cannot use views[${index}]: expected an object`);
  }
  const selects = view.instrumentName !== undefined ||
    view.instrumentType !== undefined || view.instrumentUnit !== undefined ||
    view.meterName !== undefined || view.meterVersion !== undefined ||
    view.meterSchemaUrl !== undefined;
  if (!selects) {
    throw new TypeError(
      `Cannot use views[${index}]: it selects no instrument; set instrumentName, instrumentType, instrumentUnit or a meter criterion`,
    );
  }
  if (
    view.name !== undefined &&
    (view.instrumentName === undefined || /[*?]/.test(view.instrumentName))
  ) {
    throw new TypeError(
      `Cannot use views[${index}] with name ${
        JSON.stringify(view.name)
      }: a renaming view must select one instrument by an exact instrumentName`,
    );
  }
  if (
    view.cardinalityLimit !== undefined &&
    (!Number.isInteger(view.cardinalityLimit) || view.cardinalityLimit < 2)
  ) {
    throw new RangeError(
      `Cannot use views[${index}].cardinalityLimit ${view.cardinalityLimit}: expected an integer of at least 2`,
    );
  }
  if (view.aggregation !== undefined) {
    // Validate parameters once, for a kind every aggregation accepts.
    resolveAggregation(view.aggregation, "histogram", undefined);
  }
  return {
    view,
    name: view.instrumentName === undefined
      ? undefined
      : wildcard(view.instrumentName),
    attributeKeys: view.attributeKeys === undefined
      ? undefined
      : new Set(view.attributeKeys),
  };
}

/** Whether a compiled view selects an instrument of a meter. */
export function viewMatches(
  compiled: CompiledView,
  name: string,
  type: InstrumentType,
  unit: string,
  scope: InstrumentationScope,
): boolean {
  const view = compiled.view;
  if (compiled.name !== undefined && !compiled.name.test(name)) return false;
  if (view.instrumentType !== undefined && view.instrumentType !== type) {
    return false;
  }
  if (view.instrumentUnit !== undefined && view.instrumentUnit !== unit) {
    return false;
  }
  if (view.meterName !== undefined && view.meterName !== scope.name) {
    return false;
  }
  if (view.meterVersion !== undefined && view.meterVersion !== scope.version) {
    return false;
  }
  if (
    view.meterSchemaUrl !== undefined && view.meterSchemaUrl !== scope.schemaUrl
  ) return false;
  return true;
}
