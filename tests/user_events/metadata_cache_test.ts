import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  encodeLogRecord,
  encodeSpan,
  EventBuffer,
} from "../../processors/_eventheader.ts";
import {
  METADATA_CACHE_MAX_BYTES,
  MetadataCache,
} from "../../processors/_metadata_cache.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
} from "../../processors/user_events/mod.ts";
import {
  type LogRecord,
  type LogRecordData,
  type ReadableSpan,
  Resource,
  toLogRecordData,
} from "../../mod.ts";
import { LogEmitContext } from "../../pipeline/logs/log_record.ts";

const OPTIONS = { resourceAttributes: ["host.name"] };
const RESOURCE = new Resource({
  "service.name": "svc",
  "service.instance.id": "i-1",
  "host.name": "h",
});
const context = new LogEmitContext(RESOURCE, { name: "t" });
const TIME_MS = 1704164645678;
const TIME = new Date(TIME_MS);

function data(record: LogRecord): LogRecordData {
  return toLogRecordData({ timestamp: TIME, ...record }, context);
}

function encode(b: EventBuffer, record: LogRecord): Uint8Array {
  const n = encodeLogRecord(b, data(record), 4, OPTIONS);
  assert.ok(n > 0, `encoded ${n}`);
  return b.bytes.slice(4, n);
}

function fields(event: Uint8Array): Record<string, unknown> {
  return decodedFieldsToObject(decodeEventHeader("p_L4K1", event).fields);
}

// Records whose shapes repeat, differ only in value kinds, key order, or
// keys that agree in length and first/last character.
const RECORDS: LogRecord[] = [
  { severityNumber: 9, body: "a", attributes: { "user.id": 1, retry: false } },
  { severityNumber: 9, body: "b", attributes: { "user.id": 2, retry: true } },
  { severityNumber: 9, body: "c", attributes: { "user.id": 3, retry: 1.5 } },
  { severityNumber: 9, body: "d", attributes: { retry: 1.5, "user.id": 3 } },
  { severityNumber: 9, body: 7, attributes: { a1b: "x", a2b: "y" } },
  { severityNumber: 9, body: 7, attributes: { a2b: "x", a1b: "y" } },
  { severityNumber: 9, body: 7, attributes: { a3b: "x", a1b: "y" } },
  { severityNumber: 17, severityText: "ERROR", eventName: "e", body: null },
  { severityNumber: 17, severityText: "ERROR", eventName: " ", body: null },
  {
    severityNumber: 1,
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    attributes: { event_id: 42, "k;x": "semicolon", "ключ": "ü" },
  },
  { severityNumber: 9, attributes: { event_id: "not an int" } },
  { severityNumber: 9, body: [1, 2], attributes: { m: { a: 1 }, b: 2n } },
];

describe("metadata cache (user_events)", () => {
  it("writes the same bytes with and without the cache, hit or miss", () => {
    const cached = new EventBuffer();
    const uncached = new EventBuffer(undefined, 0);
    for (let round = 0; round < 3; round++) {
      for (const record of RECORDS) {
        assert.deepEqual(encode(cached, record), encode(uncached, record));
      }
    }
    const stats = cached.metadataCache;
    // RECORDS[0] and RECORDS[1] share a shape; every other record has its own.
    assert.equal(stats.misses, RECORDS.length - 1);
    assert.equal(stats.hits, 2 * RECORDS.length + 1);
    assert.equal(uncached.metadataCache.hits, 0);
    assert.equal(uncached.metadataCache.size, 0);
  });

  it("notices a shape change right after a hit", () => {
    const b = new EventBuffer();
    encode(b, RECORDS[0]);
    encode(b, RECORDS[1]);
    assert.equal(b.metadataCache.hits, 1);
    // Same keys, `retry` now a double: a miss, and the decoder sees a float.
    const event = encode(b, RECORDS[2]);
    assert.equal(b.metadataCache.hits, 1);
    assert.equal(b.metadataCache.misses, 2);
    assert.deepEqual(fields(event).PartC as Record<string, unknown>, {
      "user.id": 3,
      retry: 1.5,
      "host.name": "h",
    });
    // Keys alike in length and first/last character are still told apart.
    encode(b, RECORDS[4]);
    const swapped = fields(encode(b, RECORDS[6]));
    assert.deepEqual(Object.keys(swapped.PartC as object), [
      "a3b",
      "a1b",
      "host.name",
    ]);
    // A body that appears, and struct member counts that change.
    const withName = fields(encode(b, RECORDS[7]));
    const blankName = fields(encode(b, RECORDS[8]));
    assert.equal((withName.PartB as Record<string, unknown>).name, "e");
    assert.equal("name" in (blankName.PartB as object), false);
  });

  it("caches span shapes too", () => {
    const span = (attributes: Record<string, unknown>): ReadableSpan => ({
      name: "op",
      kind: 2,
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
      traceState: undefined,
      parentSpanId: "1111111111111111",
      parentIsRemote: false,
      startTimeUnixMs: TIME_MS,
      startTimeNanosInMs: 0,
      endTimeUnixMs: TIME_MS + 1,
      endTimeNanosInMs: 234567,
      attributes: attributes as ReadableSpan["attributes"],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code: 2, message: "boom" },
      resource: RESOURCE,
      scope: { name: "s" },
      ended: true,
    });
    const cached = new EventBuffer();
    const uncached = new EventBuffer(undefined, 0);
    const spans = [
      span({ "http.request.method": "GET", a: 1 }),
      span({ "http.request.method": "GET", a: 1 }),
      span({ "http.response.status_code": 200, a: "x" }),
      span({ "http.request.method": "GET", a: 1 }),
    ];
    for (const s of spans) {
      const n = encodeSpan(cached, s, OPTIONS);
      const m = encodeSpan(uncached, s, OPTIONS);
      assert.equal(n, m);
      assert.deepEqual(cached.bytes.slice(4, n), uncached.bytes.slice(4, m));
    }
    assert.equal(cached.metadataCache.hits, 2);
    assert.equal(cached.metadataCache.misses, 2);
  });

  it("keeps at most its capacity of shapes, evicting the least recently used", () => {
    const b = new EventBuffer();
    const cache = b.metadataCache;
    assert.equal(cache.capacity, 256);
    for (let i = 0; i < 2000; i++) {
      encode(b, { severityNumber: 9, attributes: { [`key${i}`]: i } });
    }
    assert.equal(cache.misses, 2000);
    assert.ok(cache.size <= 256, `size ${cache.size}`);
    assert.ok(cache.size > 128, `size ${cache.size}`);
    assert.equal(cache.evictions, 2000 - cache.size);
    // The most recent shape is still there.
    encode(b, { severityNumber: 9, attributes: { key1999: 0 } });
    assert.equal(cache.hits, 1);
    cache.clear();
    assert.equal(cache.size, 0);
    encode(b, { severityNumber: 9, attributes: { key1999: 0 } });
    assert.equal(cache.hits, 1);
  });

  it("does not keep metadata blocks above its byte limit, and writes them right", () => {
    const b = new EventBuffer();
    const uncached = new EventBuffer(undefined, 0);
    const attributes: Record<string, number> = {};
    for (let i = 0; i < 100; i++) attributes[`attribute.number.${i}`] = i;
    const record = { severityNumber: 9, attributes };
    const first = encode(b, record);
    const second = encode(b, record);
    assert.deepEqual(first, second);
    assert.deepEqual(first, encode(uncached, record));
    const metaLength = first[8] | (first[9] << 8);
    assert.ok(metaLength > METADATA_CACHE_MAX_BYTES);
    assert.equal(b.metadataCache.size, 0);
    assert.equal(b.metadataCache.hits, 0);
  });

  it("rounds its capacity up to a power of two; 0 disables it", () => {
    assert.equal(new MetadataCache(100).capacity, 128);
    assert.equal(new MetadataCache(1).capacity, 2);
    const off = new MetadataCache(0);
    const codes = new Int32Array([1]);
    assert.equal(off.find(["a"], codes, 1), undefined);
    off.add(["a"], codes, 1, new Uint8Array([97, 0, 1]));
    assert.equal(off.find(["a"], codes, 1), undefined);
    const on = new MetadataCache(2);
    assert.equal(on.find(["a"], codes, 1), undefined);
    on.add(["a"], codes, 1, new Uint8Array([97, 0, 1]));
    assert.deepEqual(on.find(["a"], codes, 1), new Uint8Array([97, 0, 1]));
    assert.equal(on.find(["b"], codes, 1), undefined);
    assert.equal(on.find(["a"], new Int32Array([2]), 1), undefined);
  });
});

const LAZY = { lazyObservedTime: true } as const;

describe("toLogRecordData lazyObservedTime", () => {
  it("skips the clock only for a timestamped record that nobody shares", () => {
    const lazy = toLogRecordData({ timestamp: TIME }, context, LAZY);
    assert.equal(lazy.observedTimeUnixMs, 0);
    assert.equal(lazy.timeUnixMs, TIME_MS);
    const untimed = toLogRecordData({ body: "x" }, context, LAZY);
    assert.ok(untimed.observedTimeUnixMs > 0);
    const given = toLogRecordData(
      { timestamp: TIME, observedTimestamp: 5n },
      context,
      LAZY,
    );
    assert.equal(given.observedTimeUnixMs, 0);
    assert.equal(given.observedTimeNanosInMs, 5);
    assert.ok(
      toLogRecordData({ timestamp: TIME }, context).observedTimeUnixMs > 0,
    );
    context.beginFanOut();
    try {
      const shared = toLogRecordData({ timestamp: TIME }, context, LAZY);
      assert.ok(shared.observedTimeUnixMs > 0);
    } finally {
      context.endFanOut();
    }
  });
});

describe("metadata cache (user_events), random shapes", () => {
  it("writes what an uncached buffer writes, for 3000 records of repeating shapes", () => {
    let seed = 0x5eed;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(list: readonly T[]): T =>
      list[Math.floor(rnd() * list.length)];
    const keys = ["a", "b", "ab", "ba", "user.id", "k;1", "é", "event_id"];
    const values = [
      () => "s",
      () => 1,
      () => 1.5,
      () => true,
      () => null,
      () => 2n,
    ];
    const cached = new EventBuffer();
    const uncached = new EventBuffer(undefined, 0);
    for (let i = 0; i < 3000; i++) {
      const attributes: Record<string, unknown> = {};
      const n = Math.floor(rnd() * 4);
      for (let k = 0; k < n; k++) attributes[pick(keys)] = pick(values)();
      const record = {
        severityNumber: 1 + Math.floor(rnd() * 24),
        body: rnd() < 0.8 ? pick(values)() : undefined,
        severityText: rnd() < 0.5 ? "INFO" : undefined,
        eventName: rnd() < 0.3 ? "evt" : undefined,
        attributes,
      } as LogRecord;
      assert.deepEqual(encode(cached, record), encode(uncached, record));
    }
    // Both paths ran many times (about 800 hits, 2200 misses and evictions).
    const cache = cached.metadataCache;
    assert.ok(cache.hits > 300, `hits ${cache.hits}`);
    assert.ok(cache.evictions > 300, `evictions ${cache.evictions}`);
  });
});
