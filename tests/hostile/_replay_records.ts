// Seeded records for the replay tests (tests/user_events/replay_test.ts,
// tests/etw/replay_test.ts): runs of records that repeat a shape, with
// hostile values mixed in (non-ASCII and lone surrogates, long strings,
// bigints beyond int64, bytes, arrays, maps, null, invalid times and ids,
// names whose written forms collide, event_id, event names, a throwing
// getter, inherited and null-prototype attributes), so that a replay meets every reason to give up.
import type { LogRecord } from "../../mod.ts";
import { prng32 } from "../time/_time.ts";

/** mulberry32 as floats in [0, 1): tests/time/_time.ts's `prng32` over 2^32. */
export function mulberry32(seed: number): () => number {
  const next = prng32(seed);
  return () => next() / 4294967296;
}

export const SHAPES: readonly (readonly string[])[] = [
  ["user.id", "http.request.method", "retry"],
  ["user.id", "http.request.method", "retry"],
  ["a", "b"],
  [],
  ["k;1", "k_1", "x"], // equal written names in EventHeader (";" is "_")
  ["k\0", "k?", "y"], // equal written names in TraceLogging (NUL is "?")
  ["event_id", "m"],
  ["only"],
];

function text(rnd: () => number, max: number): string {
  const n = Math.floor(rnd() * max);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rnd();
    s += r < 0.9
      ? String.fromCharCode(32 + Math.floor(rnd() * 95))
      : r < 0.95
      ? "é"
      : r < 0.98
      ? "😀"
      : "\ud800"; // a lone surrogate
  }
  return s;
}

/** 60-200 ASCII characters (past the replays' switch to encodeInto at 64), sometimes ending in a character that is not ASCII. */
function longAscii(rnd: () => number): string {
  const n = 60 + Math.floor(rnd() * 140);
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + (i % 26));
  const r = rnd();
  return r < 0.7 ? s : r < 0.8 ? s + "é" : r < 0.9 ? s + "\ud800" : s + "😀";
}

function value(rnd: () => number, kind: number): unknown {
  switch (kind) {
    case 0: {
      const r = rnd();
      return r < 0.05
        ? text(rnd, 400)
        : r < 0.12
        ? longAscii(rnd)
        : text(rnd, 12);
    }
    case 1:
      return rnd() < 0.5;
    case 2:
      return Math.floor(rnd() * 2 ** 40) - 2 ** 39;
    case 3:
      return rnd() < 0.1 ? NaN : rnd() * 1000;
    case 4: {
      // Beyond int64 the sanitizer makes a bigint a string (and ETW writes
      // one below 2^64 as UINT64): another shape, not a replay.
      const r = rnd();
      return r < 0.7
        ? BigInt(Math.floor(rnd() * 1e6)) - 500_000n
        : r < 0.85
        ? 2n ** 70n
        : r < 0.95
        ? 2n ** 64n - 1n
        : -(2n ** 63n) - 1n;
    }
    case 5:
      return undefined;
    case 6:
      return { nested: 1 };
    case 7:
      return Uint8Array.of(1, 2, 3);
    case 8:
      return [1, "two"];
    default:
      return null;
  }
}

export const BASE_MS = 1_704_164_645_678;

/**
 * Emits "first" ({ a: 1, b: "x" }), then "outer" ({ a: 2, b: "y" }) whose
 * attributes are a Proxy that emits "inner" ({ other: true }) from its first
 * trap: a record emitted from inside a replayed one. A processor must write
 * first, inner and outer, each whole.
 */
export function emitNestedInReplay(
  emit: (record: LogRecord) => void,
  timestamp: number,
): void {
  const at = (body: string, attributes: object): LogRecord => ({
    timestamp,
    severityNumber: 9,
    body,
    attributes: attributes as LogRecord["attributes"],
  });
  emit(at("first", { a: 1, b: "x" }));
  let fired = false;
  const attributes = new Proxy({ a: 2, b: "y" }, {
    get(target, key, receiver) {
      if (!fired) {
        fired = true;
        emit(at("inner", { other: true }));
      }
      return Reflect.get(target, key, receiver);
    },
  });
  emit(at("outer", attributes));
}

/**
 * Records whose values repeat the last event's (strings a replay skips in
 * place) or change kind, value or length, for a run in which the attribute
 * value length limit changes between events: record `i` is meant to be
 * emitted under a limit of 3 where {@linkcode underShortLimit} says so (a
 * string cut there must be checked again under the next limit). With
 * `bodies`, four records that vary the body follow (a string body is never
 * cut).
 */
export function changingLimitRecords(
  bodies: boolean,
  timestamp: number = BASE_MS,
): LogRecord[] {
  const same = (n: unknown, s: string, body: unknown = "b"): LogRecord => ({
    timestamp,
    severityNumber: 9,
    severityText: "INFO",
    body: body as LogRecord["body"],
    attributes: { n, s, t: true, f: 0.5, g: 7n } as LogRecord["attributes"],
  });
  const list = [
    same(1, "abcdef"),
    same(1, "abcdef"),
    same(1, "abcdef"), // short: cut to "abc"
    same(1, "abcdef"),
    same(-0, "abcdef"),
    same(0, "abcdef"),
    same(NaN, "abcdef"), // short
    same(NaN, "abcdef"),
    same(NaN, "ab"),
    same(2 ** 40, "ab"), // short
    same(2 ** 40, "ab"),
    same("1", "ab"), // another kind: another shape
    same(2 ** 40, "abcdef"), // short
  ];
  if (bodies) {
    list.push(
      same(2 ** 40, "abcdef", "abcdef"), // the body: never cut
      same(2 ** 40, "abcdef", "abcdef"), // short
      same(2 ** 40, "abcdef", 5), // another body kind
      same(2 ** 40, "abcdef", undefined),
    );
  }
  return list;
}

/** Whether record `i` of {@linkcode changingLimitRecords} is emitted under the short limit (3). */
export function underShortLimit(i: number): boolean {
  return i % 3 === 2 || i === 6;
}

function timestamp(rnd: () => number, i: number): unknown {
  const r = rnd();
  if (r < 0.55) return BASE_MS + Math.floor(i / 7); // ms, same second often
  if (r < 0.7) return BigInt(BASE_MS + i) * 1_000_000n + BigInt(i % 1000);
  if (r < 0.8) return [1_704_164_645 + i, (i * 7919) % 1e9];
  if (r < 0.88) return new Date(BASE_MS + i * 1000);
  if (r < 0.92) return (BASE_MS + i) + 0.25; // fractional ms
  if (r < 0.95) return 0; // epoch: taken as no timestamp, then observed time
  return -5; // invalid: counted, then observed time
}

/** A seeded record whose shape repeats the previous one's most of the time. */
export function records(seed: number, n: number): LogRecord[] {
  const rnd = mulberry32(seed);
  const out: LogRecord[] = [];
  let shape = SHAPES[0];
  let kinds = [2, 0, 1];
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.15) {
      shape = SHAPES[Math.floor(rnd() * SHAPES.length)];
      kinds = shape.map(() =>
        rnd() < 0.75 ? Math.floor(rnd() * 5) : Math.floor(rnd() * 10)
      );
    }
    let attributes: Record<string, unknown> = {};
    for (let k = 0; k < shape.length; k++) {
      attributes[shape[k]] = value(rnd, rnd() < 0.97 ? kinds[k] : 0);
    }
    const proto = rnd();
    if (proto < 0.03 && shape.length > 0) {
      // The last key inherited: for-in lists it, an own-keys reader (the
      // sanitizer) does not, so the event differs from the resident shape.
      const last = shape[shape.length - 1];
      const inherited = Object.create({ [last]: attributes[last] });
      for (let k = 0; k < shape.length - 1; k++) {
        inherited[shape[k]] = attributes[shape[k]];
      }
      attributes = inherited;
    } else if (proto < 0.06) {
      attributes = Object.assign(Object.create(null), attributes);
    }
    const r = rnd();
    const record: LogRecord = {
      timestamp: timestamp(rnd, i) as LogRecord["timestamp"],
      severityNumber: 1 + Math.floor(rnd() * 24),
      body: (r < 0.7
        ? (rnd() < 0.1 ? longAscii(rnd) : text(rnd, rnd() < 0.05 ? 600 : 30))
        : value(rnd, Math.floor(rnd() * 10))) as LogRecord["body"],
      attributes: (rnd() < 0.95 ? attributes : undefined) as
        | LogRecord["attributes"]
        | undefined,
    };
    if (rnd() < 0.8) {
      record.severityText = rnd() < 0.97 ? "INFO" : "WARN";
    }
    if (rnd() < 0.02) {
      (record as Record<string, unknown>).severityText = 7; // invalid: counted
    }
    if (rnd() < 0.3) {
      record.traceId = rnd() < 0.9
        ? "4bf92f3577b34da6a3ce929d0e0e4736"
        : "4BF92F3577B34DA6A3CE929D0E0E4736"; // lowercased
      record.spanId = rnd() < 0.95 ? "00f067aa0ba902b7" : "zz";
      if (rnd() < 0.1) {
        record.traceFlags = rnd() < 0.5 ? 1 : 999;
      }
    }
    if (rnd() < 0.02) {
      record.eventName = "checkout.done";
    }
    if (rnd() < 0.01) {
      Object.defineProperty(record, "body", {
        get() {
          throw new Error("hostile getter");
        },
        enumerable: true,
      });
    }
    out.push(record);
  }
  return out;
}

/**
 * Attributes objects the replays' loop must not learn from (null prototype,
 * deleted keys: dictionary mode on V8, copied to a plain object or taken by
 * the full path), each between plain objects of the same keys, so that a
 * replay follows each: the bytes must stay the full encoder's.
 */
export function oddAttributeRecords(): LogRecord[] {
  const plain = () => ({
    "user.id": 4242,
    "http.request.method": "POST",
    "url.path": "/api/v1/sessions",
    "retry": false,
  });
  const nullProto = (extra?: Record<string, unknown>) =>
    Object.assign(Object.create(null), plain(), extra);
  const withProtoKey = nullProto();
  Object.defineProperty(withProtoKey, "__proto__", {
    value: "own",
    enumerable: true,
    writable: true,
    configurable: true,
  });
  const withGetter = nullProto();
  Object.defineProperty(withGetter, "url.path", {
    get: () => "/read",
    enumerable: true,
  });
  const deletedKey: Record<string, unknown> = { gone: 1, ...plain() };
  delete deletedKey.gone;
  const deletedLast: Record<string, unknown> = { ...plain(), gone: 1 };
  delete deletedLast.gone;
  const odd: unknown[] = [
    nullProto(),
    withProtoKey,
    withGetter,
    nullProto({ "7": "an index key", "x": 1.5 }),
    nullProto({ "url.path": undefined }),
    nullProto({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8 }),
    Object.assign(Object.create(null), { "user.id": 1 }),
    Object.create(null),
    deletedKey,
    deletedLast,
  ];
  const out: LogRecord[] = [];
  let t = BASE_MS;
  for (let round = 0; round < 3; round++) {
    for (const attributes of odd) {
      for (const a of [plain(), attributes, plain(), plain()]) {
        out.push({
          timestamp: t++,
          severityNumber: 9,
          severityText: "INFO",
          body: `round ${round}`,
          attributes: a as LogRecord["attributes"],
        });
      }
    }
  }
  return out;
}

/**
 * Records whose attributes object had keys deleted (dictionary mode on V8
 * unless the key deleted was the last one added), in every position of the
 * plain keys, deleted and added again (which moves the key last), reduced
 * to fewer keys, and in runs of 1, 10, 11 and 40 between runs of plain
 * objects, so that a replay meets them before, between and after it has
 * compiled: each must be written as the full encoder writes it.
 */
export function deletedKeyRecords(): LogRecord[] {
  const plain = (i: number): Record<string, unknown> => ({
    "user.id": 4242 + i,
    "http.request.method": i % 3 === 0 ? "POST" : "GET",
    "url.path": `/api/v1/sessions/${i % 7}`,
    "retry": (i & 1) === 0,
  });
  const keys = Object.keys(plain(0));
  const variants: ((i: number) => Record<string, unknown>)[] = [];
  // An extra key in each position (and after the last), then deleted.
  for (let at = 0; at <= keys.length; at++) {
    variants.push((i) => {
      const src = plain(i);
      const o: Record<string, unknown> = {};
      keys.forEach((k, j) => {
        if (j === at) o.gone = i;
        o[k] = src[k];
      });
      if (at === keys.length) o.gone = i;
      delete o.gone;
      return o;
    });
  }
  // A plain key deleted: fewer keys (another shape).
  for (const k of keys) {
    variants.push((i) => {
      const o = plain(i);
      delete o[k];
      return o;
    });
  }
  // A plain key deleted and added again: the same keys in another order.
  for (const k of keys) {
    variants.push((i) => {
      const o = plain(i);
      const v = o[k];
      delete o[k];
      o[k] = v;
      return o;
    });
  }
  // Several deleted, every key deleted, and an index key beside a deletion.
  variants.push((i) => {
    const o: Record<string, unknown> = { a: 1, b: 2, ...plain(i), c: 3 };
    delete o.a;
    delete o.c;
    delete o.b;
    return o;
  });
  variants.push((i) => {
    const o = plain(i);
    for (const k of keys) delete o[k];
    return o;
  });
  variants.push((i) => {
    const o: Record<string, unknown> = { gone: 0, ...plain(i), "7": "x" };
    delete o.gone;
    return o;
  });
  const out: LogRecord[] = [];
  let t = BASE_MS;
  const push = (attributes: Record<string, unknown>) =>
    out.push({
      timestamp: t++,
      severityNumber: 9,
      severityText: "INFO",
      body: "deleted",
      attributes: attributes as LogRecord["attributes"],
    });
  let i = 0;
  for (const variant of variants) {
    push(plain(i++));
    push(variant(i++));
    push(plain(i++));
    push(plain(i++));
  }
  // Runs: past the ~10 odd objects after which V8 recompiled the loop.
  for (const run of [1, 10, 11, 40]) {
    const variant = variants[run % variants.length];
    for (let k = 0; k < 3; k++) push(plain(i++));
    for (let k = 0; k < run; k++) push(variant(i++));
    for (let k = 0; k < 3; k++) push(plain(i++));
  }
  return out;
}

/**
 * Shapes of {@linkcode replayableRecords}: each key keeps one kind (s ASCII
 * string, i integer, f fraction, b bool, n bigint). A string that is not all
 * ASCII always takes the full path ({@linkcode records} has them).
 */
const REPLAYABLE_SHAPES: readonly (readonly [string, string][])[] = [
  [["user.id", "i"], ["http.request.method", "s"], ["retry", "b"], [
    "ratio",
    "f",
  ]],
  [["a", "n"]],
  [],
  [["k", "s"], ["é", "i"], ["path", "s"]],
];

/**
 * Seeded records a replay should take nearly every time: a shape kept for
 * runs of about 20 records (with its body kind, severity and whether it
 * carries trace context), each key's values of one kind (ASCII strings
 * short, past 64 characters or the last one again; integers within and
 * past int32; fractions; bools; small bigints), valid times as milliseconds
 * (the same, the next, a later second), fractional milliseconds, bigint
 * nanoseconds and Dates. Where
 * {@linkcode records} checks that a replay gives up on every reason to,
 * these check the bytes it writes when it does not, time text included.
 */
export function replayableRecords(seed: number, n: number): LogRecord[] {
  const rnd = mulberry32(seed);
  const out: LogRecord[] = [];
  let shape = REPLAYABLE_SHAPES[0];
  // What else the events' metadata holds changes with the shape only.
  let textBody = true;
  let traced = false;
  let severity = 9;
  let ms = BASE_MS;
  let last = "GET";
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.05) {
      shape = REPLAYABLE_SHAPES[Math.floor(rnd() * REPLAYABLE_SHAPES.length)];
      textBody = rnd() < 0.8;
      traced = rnd() < 0.3;
      severity = rnd() < 0.8 ? 9 : 13;
    }
    const attributes: Record<string, unknown> = {};
    for (const [key, kind] of shape) {
      const r = rnd();
      attributes[key] = kind === "i"
        ? (r < 0.8 ? Math.floor(r * 1e6) - 400_000 : 2 ** 40 + i)
        : kind === "f"
        ? i + 0.5
        : kind === "b"
        ? r < 0.5
        : kind === "n"
        ? BigInt(i) - 7n
        : r < 0.5
        ? last
        : r < 0.7
        ? (last = ["GET", "POST", "PUT"][i % 3])
        : r < 0.85
        ? "user-" + i
        : "/" + "segment/".repeat(9) + i;
    }
    const step = rnd();
    ms += step < 0.4 ? 0 : step < 0.7 ? 1 : step < 0.9 ? 137 : 1000;
    const form = rnd();
    const timestamp = form < 0.7
      ? ms
      : form < 0.8
      ? ms + 0.25
      : form < 0.9
      ? BigInt(ms) * 1_000_000n + BigInt(i)
      : new Date(ms);
    const record: LogRecord = {
      timestamp: timestamp as LogRecord["timestamp"],
      severityNumber: severity,
      severityText: "INFO",
      body: textBody ? "request " + (i % 5) : i,
      attributes: shape.length === 0 && rnd() < 0.5
        ? undefined
        : attributes as LogRecord["attributes"],
    };
    if (traced) {
      record.traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      record.spanId = "00f067aa0ba902b7";
      record.traceFlags = 1;
    }
    out.push(record);
  }
  return out;
}

/**
 * Makes each record's `severityNumber` a counting getter (where it is a
 * plain number). Both OS processors read it once in `onEmit`; the full
 * path's snapshot reads it again, a replay does not: an emit that read it
 * once was replayed. `reads()` is the count so far.
 */
export function countSeverityReads(
  list: readonly LogRecord[],
): { records: readonly LogRecord[]; reads: () => number } {
  let reads = 0;
  for (const record of list) {
    const d = Object.getOwnPropertyDescriptor(record, "severityNumber");
    if (d === undefined || typeof d.value !== "number") continue;
    const value = d.value;
    Object.defineProperty(record, "severityNumber", {
      get() {
        reads++;
        return value;
      },
      enumerable: true,
      configurable: true,
    });
  }
  return { records: list, reads: () => reads };
}
