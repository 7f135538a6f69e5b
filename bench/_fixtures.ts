// Shared inputs of every benchmark: the one record of the single-record
// cases, 512 seeded records for the batch and encoder cases, and the fakes
// the end-to-end cases write into (a fetch that answers 200 at once, exporters
// that do nothing). Everything is deterministic: same seed, same records.

import type { Exporter, ExportResult, LogRecord } from "../mod.ts";
import type { Advapi32Binding } from "../ffi/advapi32.ts";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/**
 * The record of the single-record cases: a body and four attributes (an
 * int, two strings, a bool), as issue #13 and the Rust contrib's "4
 * attributes" bench; the severity text is what a logging bridge sets from
 * the level. `bench/ue_emit.c` writes the same event (`bench/kernel.sh`
 * checks the bytes).
 */
export const RECORD: LogRecord = {
  timestamp: Math.floor(performance.timeOrigin) + 123, // ms, as Date.now() gives
  severityNumber: 9,
  severityText: "INFO",
  body: "user signed in",
  attributes: {
    "user.id": 4242,
    "http.request.method": "POST",
    "url.path": "/api/v1/sessions",
    "retry": false,
  },
};

/** Seed of every generated input. */
export const SEED = 0x5eed;

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  "user",
  "signed",
  "in",
  "cache",
  "miss",
  "order",
  "created",
  "payment",
  "retry",
  "timeout",
  "disk",
  "almost",
  "full",
  "request",
  "served",
];
const METHODS = ["GET", "POST", "PUT", "DELETE"];

/**
 * `n` seeded records shaped like {@linkcode RECORD}: a body of 2-6 words, an
 * int, a string and a bool-or-double attribute, severities 1-24, increasing
 * timestamps, and a trace context on every other record.
 */
export function seededRecords(n: number, seed: number = SEED): LogRecord[] {
  const rnd = prng(seed);
  const out: LogRecord[] = [];
  for (let i = 0; i < n; i++) {
    const words = 2 + Math.floor(rnd() * 5);
    let body = "";
    for (let w = 0; w < words; w++) {
      body += (w === 0 ? "" : " ") + WORDS[Math.floor(rnd() * WORDS.length)];
    }
    const severity = 1 + Math.floor(rnd() * 24);
    const record: LogRecord = {
      timestamp: Math.floor(performance.timeOrigin) + i, // ms, as Date.now() gives
      severityNumber: severity,
      severityText: severity >= 17 ? "ERROR" : severity >= 9 ? "INFO" : "DEBUG",
      body,
      attributes: {
        "user.id": Math.floor(rnd() * 100_000),
        "http.request.method": METHODS[Math.floor(rnd() * METHODS.length)],
        "retry": i % 3 === 0 ? rnd() * 10 : rnd() < 0.5,
      },
    };
    if (i % 2 === 0) {
      record.traceId = hex(rnd, 32);
      record.spanId = hex(rnd, 16);
      record.traceFlags = 1;
    }
    out.push(record);
  }
  return out;
}

function hex(rnd: () => number, digits: number): string {
  let s = "";
  for (let i = 0; i < digits; i++) {
    s += Math.floor(rnd() * 16).toString(16);
  }
  return s === "0".repeat(digits) ? "1" + s.slice(1) : s;
}

/** The exporters' success result, allocated once. */
export const SUCCESS: ExportResult = Object.freeze({ code: "success" });

/** A `fetch` that answers every request with an empty 200 at once. */
export function okFetch(): typeof fetch {
  const fake = (_input: unknown, init?: RequestInit): Promise<Response> => {
    // Touch the body the way a transport would hand it to the socket.
    const body = init?.body;
    if (body instanceof Uint8Array) sink ^= body.length;
    else if (typeof body === "string") sink ^= body.length;
    return Promise.resolve(new Response(null, { status: 200 }));
  };
  return fake as typeof fetch;
}

/** Written by fakes so their work cannot be optimised away. */
export let sink = 0;

/** Lets a case fold a value into {@linkcode sink}. */
export function consume(value: number): void {
  sink ^= value;
}

/** An exporter that takes every batch and does nothing (the no-op batch cases). */
export class NoopExporter<T> implements Exporter<T> {
  /** Counts the batch into {@linkcode sink} and succeeds. */
  export(batch: readonly T[], _signal: AbortSignal): Promise<ExportResult> {
    consume(batch.length);
    return Promise.resolve(SUCCESS);
  }
  /** Nothing to release. */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An advapi32 binding without Windows: a session listens to every level, and
 * EventWriteTransfer only counts (its data descriptors point at the
 * processor's arena; nothing reads them), so an enabled EtwProcessor runs
 * its whole encode path and stops at the call into the OS.
 */
export function recordingAdvapi32(): Advapi32Binding & { writes: number } {
  const binding = {
    runtime: "bench",
    writes: 0,
    eventRegister(_id: Uint8Array, out: BigUint64Array): number {
      out[0] = 7n;
      return 0;
    },
    eventSetInformation: () => 0,
    eventProviderEnabled: () => 1,
    eventEnabled: () => 1,
    eventWriteTransfer(): number {
      binding.writes++;
      return 0;
    },
    eventUnregister: () => 0,
    addressOf: () => 0x10000,
    close: () => {},
  };
  return binding;
}

/** The value at fraction `f` (0 to 1) of `values` sorted, nearest rank below. */
export function quantile(values: readonly number[], f: number): number {
  return values.slice().sort((a, b) => a - b)[
    Math.floor(f * (values.length - 1))
  ];
}

/**
 * The process's CPU time so far, in ns: user + system of every thread (GC
 * helpers included), which a descheduled thread does not accrue, so a
 * paired bench's rounds read it rather than the wall clock on a loaded
 * host.
 */
export function processCpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** The spread of per-round ratios a paired bench reports: extremes and quartiles. */
export interface RatioSpread {
  min: number;
  p25: number;
  p50: number;
  p75: number;
  max: number;
}

/** {@linkcode RatioSpread} of `ratios`. */
export function ratioSpread(ratios: readonly number[]): RatioSpread {
  return {
    min: quantile(ratios, 0),
    p25: quantile(ratios, 0.25),
    p50: quantile(ratios, 0.5),
    p75: quantile(ratios, 0.75),
    max: quantile(ratios, 1),
  };
}

/** The source folders an A/B bench copies from a tree (no node_modules, tests or .git). */
const SOURCE_DIRS = [
  "mod.ts",
  "pipeline",
  "processors",
  "ffi",
  "exporters",
  "instrumentation",
  "receivers",
  "setup",
  "bench",
];

/**
 * Copies `root`'s sources (plus `extra` paths) under a fresh temp dir, so
 * an A/B bench can load two trees as separate module graphs in one process.
 *
 * @param root The tree to copy.
 * @param prefix The temp dir's name prefix.
 * @param extra More paths to copy (e.g. test fakes); absent ones are skipped.
 * @returns The copy's directory.
 */
export function copySourceTree(
  root: string,
  prefix: string,
  extra: readonly string[] = [],
): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const d of [...SOURCE_DIRS, ...extra]) {
    try {
      cpSync(join(root, d), join(dir, d), { recursive: true });
    } catch {
      // absent in an older tree
    }
  }
  return dir;
}
