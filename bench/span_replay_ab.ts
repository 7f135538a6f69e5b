// Span replay, old/new in one process (issue 13): the full EventHeader span
// encoder (`encodeSpan`, what every span cost before) against
// `writeSpanEvent` (replay of the last span's shape, the full encoder
// otherwise) on the same ended server spans, and the whole enabled
// `UserEventsSpanProcessor.onEnd` through a fake libc (no kernel, `write`
// only counts). Interleaved rounds; the fastest round of each is reported.
//
//   deno run -A bench/span_replay_ab.ts     bun bench/span_replay_ab.ts
//
// With OLD_ETW=<path of a copy of the old etw_span_processor.ts> it also
// runs the old ETW span processor (no replay) for an ETW old/new ratio.
//
// A short micro-benchmark (about 2 s): the CPU is shared, so read the ratio,
// not the absolute figures.

import { encodeSpan, EventBuffer } from "../processors/_eventheader.ts";
import { writeSpanEvent } from "../processors/_span_replay.ts";
import { UserEventsSpanProcessor } from "../processors/user_events/mod.ts";
import { type ReadableSpan, Resource, TracerProvider } from "../mod.ts";
import { FakeLibc } from "./_fake_libc.ts";
import { recordingAdvapi32 } from "./_fixtures.ts";
import { EtwSpanProcessor } from "../processors/etw/mod.ts";

/** The old ETW span processor (full encoder per span) when OLD_ETW names a copy of it. */
const oldEtwPath = (globalThis as { process?: { env: Record<string, string> } })
  .process?.env.OLD_ETW;
const OldEtw: typeof EtwSpanProcessor | undefined = oldEtwPath === undefined
  ? undefined
  : (await import(oldEtwPath)).EtwSpanProcessor;

const SPANS = 256;
const ROUNDS = Number(
  (globalThis as { process?: { env: Record<string, string> } }).process?.env
    .ROUNDS ?? 15,
);
const PASSES = 40; // SPANS * PASSES spans per round

const ended: ReadableSpan[] = [];
const tracer = new TracerProvider({
  env: () => undefined,
  resource: new Resource({
    "service.name": "bench",
    "service.instance.id": "bench-1",
  }),
  processors: [{
    onEnd: (s: ReadableSpan) => void ended.push(s),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  }],
}).getTracer("bench", "1.0.0");
const parent = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: 1,
};
for (let i = 0; i < SPANS; i++) {
  tracer.startSpan("GET /users/:id", {
    kind: 1,
    parent,
    attributes: {
      "http.request.method": "GET",
      "url.path": `/users/${i}`,
      "http.response.status_code": 200,
      "http.route": "/users/:id",
    },
  }).end();
}

const options = { resourceAttributes: [] as string[] };
const oldBuffer = new EventBuffer();
const newBuffer = new EventBuffer();
let sink = 0;

function oldEncode(): void {
  for (let r = 0; r < PASSES; r++) {
    for (let i = 0; i < SPANS; i++) {
      sink += encodeSpan(oldBuffer, ended[i], options);
    }
  }
}
function newEncode(): void {
  for (let r = 0; r < PASSES; r++) {
    for (let i = 0; i < SPANS; i++) {
      sink += writeSpanEvent(newBuffer, ended[i], options);
    }
  }
}

const fake = new FakeLibc();
const processor = new UserEventsSpanProcessor(fake, {
  providerName: "bench",
  userEventsDataPath: "/fake/user_events_data",
  diagnostics: () => {},
});
fake.setEnabled(true);
function onEnd(): void {
  for (let r = 0; r < PASSES; r++) {
    for (let i = 0; i < SPANS; i++) processor.onEnd(ended[i]);
  }
}

const advapi32 = recordingAdvapi32();
const etw = new EtwSpanProcessor(advapi32, { providerName: "Bench.Spans" });
function etwOnEnd(): void {
  for (let r = 0; r < PASSES; r++) {
    for (let i = 0; i < SPANS; i++) etw.onEnd(ended[i]);
  }
}
const oldEtw = OldEtw === undefined
  ? undefined
  : new OldEtw(advapi32, { providerName: "Bench.Spans" });
function oldEtwOnEnd(): void {
  for (let r = 0; r < PASSES; r++) {
    for (let i = 0; i < SPANS; i++) oldEtw!.onEnd(ended[i]);
  }
}

// The same bytes (checked once, outside the timing).
for (let i = 0; i < SPANS; i++) {
  const a = encodeSpan(oldBuffer, ended[i], options);
  const b = writeSpanEvent(newBuffer, ended[i], options);
  if (
    a !== b ||
    oldBuffer.bytes.subarray(4, a).some((x, j) => x !== newBuffer.bytes[4 + j])
  ) throw new Error(`span ${i}: the replay wrote other bytes`);
}

const arms: [string, () => void][] = [
  ["encodeSpan (old)", oldEncode],
  ["writeSpanEvent (new)", newEncode],
  ["onEnd, fake write (new)", onEnd],
  ["ETW onEnd, fake (new)", etwOnEnd],
  ...(oldEtw === undefined
    ? []
    : [["ETW onEnd, fake (old)", oldEtwOnEnd] as [string, () => void]]),
];
const best = arms.map(() => Infinity);
for (let round = 0; round < ROUNDS; round++) {
  for (let a = 0; a < arms.length; a++) {
    const t0 = performance.now();
    arms[a][1]();
    const ns = (performance.now() - t0) * 1e6 / (SPANS * PASSES);
    if (ns < best[a]) best[a] = ns;
  }
}
const runtime = "Bun" in globalThis
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : "Deno" in globalThis
  ? `Deno ${
    (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno
      .version.deno
  }`
  : "Node";
console.log(`${runtime}: fastest of ${ROUNDS} rounds, ns per span`);
for (let a = 0; a < arms.length; a++) {
  console.log(`  ${arms[a][0].padEnd(26)} ${best[a].toFixed(1)}`);
}
console.log(`  new/old encode            ${(best[1] / best[0]).toFixed(2)}`);
if (oldEtw !== undefined) {
  console.log(`  new/old ETW onEnd         ${(best[3] / best[4]).toFixed(2)}`);
}
if (sink === 0 || fake.writes === 0 || advapi32.writes === 0) {
  throw new Error("nothing written");
}
