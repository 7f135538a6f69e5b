// Shared inputs of every benchmark: the one record of the single-record
// cases, 512 seeded records for the batch and encoder cases, and the fakes
// the end-to-end cases write into (a fetch that answers 200 at once, exporters
// that do nothing). Everything is deterministic: same seed, same records.

import type { ExportResult, LogRecord } from "../mod.ts";

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
