// What every instrument handle points at: its descriptor, the storages it
// feeds (one per reader and matching view), and the provider's counters.

import type { Attributes } from "../attributes.ts";
import type { InstrumentDescriptor } from "./instrument.ts";
import type { MetricStorage } from "./_storage.ts";

/** Counters shared by every instrument of one provider (see MeterProviderStats). */
export interface MeterCounters {
  invalidInstruments: number;
  negativeValues: number;
  nonFiniteValues: number;
  invalidValues: number;
  unreadableAttributes: number;
  callbackErrors: number;
  callbackTimeouts: number;
  lateObservations: number;
}

export function newCounters(): MeterCounters {
  return {
    invalidInstruments: 0,
    negativeValues: 0,
    nonFiniteValues: 0,
    invalidValues: 0,
    unreadableAttributes: 0,
    callbackErrors: 0,
    callbackTimeouts: 0,
    lateObservations: 0,
  };
}

export class InstrumentCore {
  readonly descriptor: InstrumentDescriptor;
  readonly counters: MeterCounters;
  /** Every storage, of every reader. Emptied at shutdown. */
  storages: MetricStorage[];
  /** The storages of each reader, by reader index. */
  readonly byReader: MetricStorage[][];
  readonly monotonic: boolean;

  constructor(
    descriptor: InstrumentDescriptor,
    counters: MeterCounters,
    byReader: MetricStorage[][],
  ) {
    this.descriptor = descriptor;
    this.counters = counters;
    this.byReader = byReader;
    this.storages = byReader.flat();
    const type = descriptor.type;
    this.monotonic = type === "counter" || type === "observableCounter";
  }

  /** Checks a value; counts and returns false when it must be dropped. */
  accept(value: unknown, nonNegative: boolean): value is number {
    if (typeof value !== "number") {
      this.counters.invalidValues++;
      return false;
    }
    if (value - value !== 0) {
      this.counters.nonFiniteValues++; // NaN, ±Infinity
      return false;
    }
    if (nonNegative && value < 0) {
      this.counters.negativeValues++;
      return false;
    }
    return true;
  }

  record(value: number, attributes: Attributes | undefined): void {
    const storages = this.storages;
    for (let i = 0; i < storages.length; i++) {
      storages[i].record(value, attributes);
    }
  }
}
