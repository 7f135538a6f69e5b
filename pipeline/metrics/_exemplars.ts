// Exemplars: a few measurements kept with each data point, with the span
// that was active when they were recorded. The filter decides which
// measurements are offered (trace_based by default: only those made inside
// a sampled span); the reservoir decides which are kept: one per bucket for
// explicit-bucket histograms (the latest), else one per series by reservoir
// sampling. Nothing is allocated unless a measurement is kept.

import type { AnyValue, Attributes } from "../attributes.ts";
import {
  activeSpanContext,
  type SpanContext,
  TRACE_FLAG_SAMPLED,
} from "../trace_context.ts";
import type { ExactTime } from "../time.ts";
import type { Exemplar } from "./metric_data.ts";

/**
 * Which measurements may become exemplars: `"trace_based"` (those made in a
 * sampled span), `"always_on"`, `"always_off"`.
 *
 * @example
 * ```ts
 * import type { ExemplarFilter } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const filter: ExemplarFilter = "trace_based";
 * assert.equal(filter, "trace_based");
 * ```
 */
export type ExemplarFilter = "trace_based" | "always_on" | "always_off";

/** A series that can keep exemplars. */
interface WithReservoir {
  readonly exemplars: ExemplarReservoir | undefined;
}

const EMPTY: Attributes = Object.freeze({});

/** Keeps up to `slots` exemplars of one series. */
export class ExemplarReservoir {
  readonly #values: Float64Array;
  /** Whole ms of each kept measurement's time; -1 marks an empty slot. */
  readonly #times: Float64Array;
  /** Nanoseconds within that millisecond. */
  readonly #nanos: Float64Array;
  readonly #contexts: (SpanContext | undefined)[];
  readonly #filtered: (Attributes | undefined)[];
  #offered = 0;
  #filled = 0;

  constructor(slots: number) {
    this.#values = new Float64Array(slots);
    this.#times = new Float64Array(slots).fill(-1);
    this.#nanos = new Float64Array(slots);
    this.#contexts = new Array(slots).fill(undefined);
    this.#filtered = new Array(slots).fill(undefined);
  }

  /** Offers one measurement for `slot` (a bucket, or 0). */
  offer(
    slot: number,
    value: number,
    time: ExactTime,
    context: SpanContext | undefined,
    attributes: Attributes | undefined,
    kept: ReadonlySet<string> | undefined,
  ): void {
    if (this.#values.length === 1) {
      // Reservoir sampling over the interval: the n-th offer wins with 1/n.
      this.#offered++;
      if (this.#offered > 1 && Math.random() * this.#offered >= 1) return;
      slot = 0;
    }
    if (this.#times[slot] < 0) this.#filled++;
    this.#values[slot] = value;
    this.#times[slot] = time.unixMs;
    this.#nanos[slot] = time.nanosInMs;
    this.#contexts[slot] = context;
    this.#filtered[slot] = kept === undefined || attributes === undefined
      ? undefined
      : filteredOut(attributes, kept);
  }

  /** The exemplars kept since the last call; the reservoir starts over. */
  take(_delta: boolean): readonly Exemplar[] | undefined {
    this.#offered = 0;
    if (this.#filled === 0) return undefined;
    const out: Exemplar[] = [];
    const times = this.#times;
    for (let i = 0; i < times.length; i++) {
      if (times[i] < 0) continue;
      const context = this.#contexts[i];
      const exemplar: {
        value: number;
        timeUnixMs: number;
        timeNanosInMs: number;
        filteredAttributes: Attributes;
        traceId?: string;
        spanId?: string;
      } = {
        value: this.#values[i],
        timeUnixMs: times[i],
        timeNanosInMs: this.#nanos[i],
        filteredAttributes: this.#filtered[i] ?? EMPTY,
      };
      if (context !== undefined) {
        exemplar.traceId = context.traceId;
        exemplar.spanId = context.spanId;
      }
      out.push(exemplar);
      times[i] = -1;
      this.#contexts[i] = undefined;
      this.#filtered[i] = undefined;
    }
    this.#filled = 0;
    return out;
  }
}

function filteredOut(
  attributes: Attributes,
  kept: ReadonlySet<string>,
): Attributes {
  const out: Record<string, AnyValue> = {};
  try {
    for (const key in attributes) {
      if (kept.has(key)) continue;
      const value = attributes[key];
      if (
        typeof value === "string" || typeof value === "number" ||
        typeof value === "boolean"
      ) out[key] = value;
    }
  } catch {
    // Unreadable attributes: keep what was read.
  }
  return out;
}

/** Applies the filter, then offers to the series' reservoir. */
export class ExemplarSampler {
  readonly filter: ExemplarFilter;
  readonly #now: (out: ExactTime) => void;
  /** The time of the measurement being offered (copied by the reservoir). */
  readonly #time: ExactTime = { unixMs: 0, nanosInMs: 0 };

  constructor(filter: ExemplarFilter, now: (out: ExactTime) => void) {
    this.filter = filter;
    this.#now = now;
  }

  offer(
    series: WithReservoir,
    slot: number,
    value: number,
    attributes: Attributes | undefined,
    kept: ReadonlySet<string> | undefined,
  ): void {
    const reservoir = series.exemplars;
    if (reservoir === undefined) return;
    let context: SpanContext | undefined;
    try {
      context = activeSpanContext();
    } catch {
      context = undefined;
    }
    if (this.filter === "trace_based") {
      if (
        context === undefined || (context.traceFlags & TRACE_FLAG_SAMPLED) === 0
      ) return;
    }
    const time = this.#time;
    this.#now(time);
    reservoir.offer(slot, value, time, context, attributes, kept);
  }
}
