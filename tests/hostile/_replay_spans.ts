// Seeded span runs for the span replay tests (user_events and ETW): a few
// repeating shapes with values that change within a shape, plus hostile,
// huge and invalid-time spans.
import {
  type Attributes,
  type ReadableSpan,
  Resource,
  SpanStatusCode,
  TracerProvider,
} from "../../mod.ts";
import { revokedProxy, trappedProxy } from "./_hostile.ts";

/** A seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RESOURCES = [
  new Resource({ "service.name": "checkout", "service.instance.id": "i-1" }),
  new Resource({ "service.name": "cart" }),
  new Resource({}),
  new Resource({ "service.name": "caf\u00e9", "host.name": "h" }),
];

const NAMES = [
  "GET /users/:id",
  "GET /users/:id",
  "POST /cart",
  "caf\u00e9 \u{1F600}",
  "lone \ud800 surrogate",
  "x".repeat(70), // the encodeInto path of the replay's string copy
  "",
];

const VALUES: readonly unknown[] = [
  "v",
  "value two",
  "\udc00",
  "\u00e9t\u00e9",
  "y".repeat(100),
  0,
  42,
  -1,
  2 ** 40,
  -(2 ** 53) + 1,
  1.5,
  NaN,
  -Infinity,
  true,
  false,
  123n,
  -(2n ** 63n),
  2n ** 64n + 5n,
  ["a", "b"],
  [1, 2],
  new Uint8Array([1, 2]),
];

const KEYS = [
  "http.route",
  "user.id",
  "a;b",
  "k\0",
  "k\ud800",
  "http.request.method",
  "http.response.status_code",
  "url.full",
  "db.system.name",
  "rpc.system.name",
  "messaging.system",
];

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

/** Spans of a few repeating shapes, with values that change within a shape. */
export function spans(count: number, seed: number): ReadableSpan[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T =>
    list[Math.floor(random() * list.length)];
  const ended: ReadableSpan[] = [];
  const providers = RESOURCES.map((resource) => collector(ended, resource));
  // A handful of shapes (key lists), so that runs of one shape replay.
  const shapes: string[][] = [];
  for (let i = 0; i < 6; i++) {
    const keys: string[] = [];
    const n = Math.floor(random() * 6);
    for (let j = 0; j < n; j++) {
      const k = pick(KEYS);
      if (!keys.includes(k)) keys.push(k);
    }
    shapes.push(keys);
  }
  const base = 1_704_164_645_000;
  let shape = shapes[0];
  let provider = providers[0];
  let kind = 1;
  let linked = false;
  let parented = true;
  for (let i = 0; i < count; i++) {
    if (random() < 0.1) shape = pick(shapes);
    if (random() < 0.05) provider = pick(providers);
    if (random() < 0.1) kind = Math.floor(random() * 5);
    if (random() < 0.1) linked = !linked;
    if (random() < 0.1) parented = !parented;
    const attributes: Record<string, unknown> = {};
    for (const k of shape) {
      // Mostly the same kind per key, sometimes another.
      attributes[k] = random() < 0.95
        ? (k.length % 3 === 0 ? `v${i % 7}` : k.length % 3 === 1 ? i : true)
        : pick(VALUES);
    }
    const links = linked
      ? Array.from({ length: 1 + Math.floor(random() * 3) }, (_, j) => ({
        context: {
          traceId: TRACE,
          spanId: (0x1000 + i * 4 + j).toString(16).padStart(16, "0"),
          traceFlags: 1,
        },
      }))
      : [];
    const parent = parented
      ? {
        traceId: TRACE,
        spanId: (0x100 + i).toString(16).padStart(16, "a"),
        traceFlags: 1,
      }
      : undefined;
    const start = base + Math.floor(i / 3) * 400 + (i % 3);
    const span = provider.getTracer("t").startSpan(
      random() < 0.9 ? NAMES[i % 3] : pick(NAMES),
      {
        kind: kind as 0,
        attributes: attributes as Attributes,
        links,
        parent,
        startTime: random() < 0.9 ? start : start + 0.000123,
      },
    );
    if (random() < 0.1) span.addEvent("ignored", { a: 1 });
    const s = random();
    if (s < 0.05) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: `failed ${i % 4}`,
      });
    } else if (s < 0.07) span.setStatus({ code: SpanStatusCode.ERROR });
    else if (s < 0.09) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: "\u00e9" });
    } else if (s < 0.15) span.setStatus({ code: SpanStatusCode.OK });
    span.end(start + 1 + Math.floor(random() * 1500) + random() / 1000);
  }
  return ended;
}

/** Ended spans with values and names from 10 to 70,000 characters. */
export function hugeSpans(): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const tracer = collector(ended).getTracer("t");
  for (const size of [10, 60_000, 10, 70_000, 100, 65_400, 10]) {
    tracer.startSpan("big", { attributes: { v: "z".repeat(size) } }).end();
    tracer.startSpan("z".repeat(size), { attributes: { v: "a" } }).end();
  }
  return ended;
}

function collector(ended: ReadableSpan[], resource?: Resource) {
  return new TracerProvider({
    resource,
    env: () => undefined,
    processors: [{
      onEnd: (s: ReadableSpan) => void ended.push(s),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    }],
  });
}

/** A hand-made copy of a span made by the tracer: every field an own data property. */
function handMade(): { made: ReadableSpan; good: Record<string, unknown> } {
  const made = spans(4, 13)[0];
  const good: Record<string, unknown> = {};
  for (
    const k of [
      "name",
      "kind",
      "traceId",
      "spanId",
      "traceFlags",
      "traceState",
      "parentSpanId",
      "parentIsRemote",
      "startTimeUnixMs",
      "startTimeNanosInMs",
      "endTimeUnixMs",
      "endTimeNanosInMs",
      "attributes",
      "droppedAttributesCount",
      "events",
      "droppedEventsCount",
      "links",
      "droppedLinksCount",
      "status",
      "resource",
      "scope",
      "ended",
    ] as const
  ) good[k] = made[k];
  return { made, good };
}

/** Hand-made spans: copies, cycles, throwing getters, Proxies, wrong types, null. */
export function hostileSpans(): unknown[] {
  const { made, good } = handMade();
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  return [
    { ...good },
    { ...good, attributes: cycle },
    {
      ...good,
      get name() {
        throw new Error("getter");
      },
    },
    { ...good, attributes: trappedProxy() },
    { ...good, links: revokedProxy() },
    { ...good, status: trappedProxy() },
    new Proxy({ ...good }, {
      get: (t, k) => k === "kind" ? 99 : Reflect.get(t, k),
    }),
    { ...good, links: [{ traceId: 5, spanId: "x" }] },
    { ...good, kind: "server", attributes: { ...made.attributes } },
    trappedProxy(),
    revokedProxy(),
    null,
    { ...good },
  ];
}

/** Hand-made spans whose times are invalid (the check replaces them by now). */
export function invalidTimeSpans(): ReadableSpan[] {
  const { good } = handMade();
  return [
    { ...good, endTimeUnixMs: 1e300 },
    { ...good, startTimeNanosInMs: -1 },
  ] as unknown as ReadableSpan[];
}
