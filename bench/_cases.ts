// Every benchmark case, named `area/subject/variant`, built once and shared by
// the `deno bench` files (bench/*_bench.ts) and the mitata runner
// (bench/suite.mitata.ts, run by Deno and by Bun). A case's `fn` performs
// `ops` operations (primitives are batched so loop and call overhead of the
// harness stay out of the per-op figure); reports divide by `ops`.

import {
  BatchLogRecordProcessor,
  type Exporter,
  type ExportResult,
  InMemoryExporter,
  type LogEmitContext,
  LoggerProvider,
  type LogRecord,
  type LogRecordData,
  type LogRecordProcessor,
  nativeClockStatus,
  type ReadableSpan,
  Resource,
  SimpleLogRecordProcessor,
  type SpanProcessor,
  TracerProvider,
  useNativeClock,
} from "../mod.ts";
import {
  BatchLogRecordProcessor as PeerBatchLogRecordProcessor,
  InMemoryLogRecordExporter as PeerInMemoryLogRecordExporter,
  LoggerProvider as PeerLoggerProvider,
  type LogRecordExporter as PeerLogRecordExporter,
  type ReadableLogRecord as PeerReadableLogRecord,
  SimpleLogRecordProcessor as PeerSimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import {
  NoopSpanProcessor as PeerNoopSpanProcessor,
  TracerProvider as PeerTracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  JsonLogsSerializer as PeerJsonLogsSerializer,
  ProtobufLogsSerializer as PeerProtobufLogsSerializer,
} from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes as peerResourceFromAttributes } from "@opentelemetry/resources";
import {
  type Context as PeerContext,
  ROOT_CONTEXT,
  SpanKind as PeerSpanKind,
  trace,
} from "@opentelemetry/api";
import type { LogRecord as PeerLogRecord } from "@opentelemetry/api-logs";
import { UserEventsProcessor } from "../processors/user_events/mod.ts";
import { EtwProcessor } from "../processors/etw/mod.ts";
import { OtlpHttpLogExporter } from "../exporters/otlp/mod.ts";
import {
  encodeLogsRequest,
  writeLogsRequest,
} from "../exporters/_otlp_logs_proto.ts";
import { ProtoBuffer } from "../exporters/_proto_writer.ts";
import { encodeLogsRequestJson } from "../exporters/_otlp_json.ts";
import { openLibc } from "../ffi/load_libc.ts";
import { type ExactTime, nowExactTime, toExactTime } from "../pipeline/time.ts";
import { DevNullLibc, FakeLibc } from "./_fake_libc.ts";
import { metricsCases } from "./_metrics_cases.ts";
import {
  consume,
  NoopExporter,
  okFetch,
  RECORD,
  recordingAdvapi32,
  seededRecords,
  SUCCESS,
} from "./_fixtures.ts";

/** One benchmark case. */
export interface BenchCase {
  /** `area/subject/variant`. */
  readonly name: string;
  /** `area/subject`: cases of one group are compared with its baseline. */
  readonly group: string;
  /** The variant: the last path segment of the name. */
  readonly variant: string;
  /** The reference of the group (ratios are `case / baseline`). */
  readonly baseline: boolean;
  /** Operations performed by one call of `fn`. */
  readonly ops: number;
  /** What one operation is, for the report (e.g. "emit", "batch of 512"). */
  readonly unit: string;
  /** Runs `ops` operations. */
  readonly fn: () => void | Promise<void>;
}

/** A group of cases as the report shows it. */
export interface CaseArea {
  /** The area prefix of the case names, e.g. `sync-vs-async`. */
  readonly area: string;
  /** Builds the area's cases. */
  readonly build: () => Promise<BenchCase[]>;
}

const noEnv = (): undefined => undefined;
const silent = (): void => {};
const RESOURCE_ATTRIBUTES = {
  "service.name": "bench",
  "service.instance.id": "bench-1",
};

function mk(
  group: string,
  variant: string,
  ops: number,
  unit: string,
  fn: () => void | Promise<void>,
  baseline = false,
): BenchCase {
  return {
    name: `${group}/${variant}`,
    group,
    variant,
    baseline,
    ops,
    unit,
    fn,
  };
}

// ---------------------------------------------------------------------------
// 1. The seed's table: one record through a sync Processor vs an async Exporter.

/**
 * The encode work shared by the three variants: severity, body and the
 * attributes (key, type tag, value) into a preallocated buffer, with plain
 * loops. ASCII only, which is all the fixture holds.
 */
export function encodeSmall(
  record: LogRecord,
  buf: Uint8Array,
  view: DataView,
): number {
  let p = 0;
  buf[p++] = record.severityNumber ?? 0;
  const body = record.body;
  if (typeof body === "string") p = writeAscii(body, buf, p);
  const attributes = record.attributes;
  if (attributes !== undefined) {
    for (const key in attributes) {
      p = writeAscii(key, buf, p);
      const value = attributes[key];
      if (typeof value === "number") {
        buf[p++] = 1;
        view.setFloat64(p, value, true);
        p += 8;
      } else if (typeof value === "string") {
        buf[p++] = 2;
        p = writeAscii(value, buf, p);
      } else if (typeof value === "boolean") {
        buf[p++] = 3;
        buf[p++] = value ? 1 : 0;
      } else {
        buf[p++] = 0;
      }
    }
  }
  return p;
}

function writeAscii(s: string, buf: Uint8Array, p: number): number {
  const n = s.length;
  buf[p++] = n;
  for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
  return p;
}

class EncodingProcessor implements LogRecordProcessor {
  readonly buf: Uint8Array = new Uint8Array(512);
  readonly view: DataView = new DataView(this.buf.buffer);
  length = 0;
  onEmit(record: LogRecord, _context: LogEmitContext): void {
    this.length = encodeSmall(record, this.buf, this.view);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

class EncodingExporter implements Exporter<LogRecord> {
  readonly buf: Uint8Array = new Uint8Array(512);
  readonly view: DataView = new DataView(this.buf.buffer);
  length = 0;
  // deno-lint-ignore require-await
  async export(
    batch: readonly LogRecord[],
    _signal: AbortSignal,
  ): Promise<ExportResult> {
    this.length = encodeSmall(batch[0], this.buf, this.view);
    return SUCCESS;
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const ONE_RECORD_OPS = 1000;

/** The least work a sink can do with a record: read a field into its state. */
class MinimalProcessor implements LogRecordProcessor {
  last = 0;
  onEmit(record: LogRecord, _context: LogEmitContext): void {
    this.last = record.severityNumber ?? 0;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

class MinimalExporter implements Exporter<LogRecord> {
  last = 0;
  // deno-lint-ignore require-await
  async export(
    batch: readonly LogRecord[],
    _signal: AbortSignal,
  ): Promise<ExportResult> {
    this.last = batch[0].severityNumber ?? 0;
    return SUCCESS;
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Case 1: the seed's table in TypeScript. Two groups with the same three
 * variants, a sync `onEmit`, an awaited `async export`, and the export's
 * Promise dropped: `minimal`, where the sink only reads one field (the work
 * of the Rust bench's exporters, so that the difference is the async
 * boundary itself), and `one-record`, where it encodes the record (severity,
 * body, attributes) into a preallocated buffer. Both hand the exporter the
 * same one-record batch array each time, so the array is not counted.
 */
export function syncVsAsyncCases(): Promise<BenchCase[]> {
  const signal = new AbortController().signal;
  const context = new LoggerProvider({ env: noEnv }).getLogger("bench").context;
  const record = RECORD;
  const batch: readonly LogRecord[] = [record];
  const n = ONE_RECORD_OPS;
  const variants = (
    group: string,
    processor: LogRecordProcessor,
    exporter: Exporter<LogRecord>,
  ): BenchCase[] => [
    mk(group, "processor-onEmit-sync", n, "record", () => {
      for (let i = 0; i < n; i++) processor.onEmit(record, context);
    }, true),
    mk(group, "exporter-export-await", n, "record", async () => {
      for (let i = 0; i < n; i++) await exporter.export(batch, signal);
    }),
    mk(group, "exporter-export-no-await", n, "record", () => {
      for (let i = 0; i < n; i++) exporter.export(batch, signal);
    }),
  ];
  const buf = new Uint8Array(512);
  const view = new DataView(buf.buffer);
  return Promise.resolve([
    ...variants(
      "sync-vs-async/minimal",
      new MinimalProcessor(),
      new MinimalExporter(),
    ),
    mk("sync-vs-async/one-record", "encode-only", n, "record", () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += encodeSmall(record, buf, view);
      consume(s);
    }),
    ...variants(
      "sync-vs-async/one-record",
      new EncodingProcessor(),
      new EncodingExporter(),
    ),
  ]);
}

// ---------------------------------------------------------------------------
// 2. user_events with no listener (and, as host proxies of case 3, enabled).

const DISABLED_OPS = 10_000;
const ENABLED_OPS = 100;

function userEventsLogger(processor: LogRecordProcessor) {
  return new LoggerProvider({
    env: noEnv,
    resource: new Resource({ "service.name": "bench" }),
    processors: [processor],
  }).getLogger("bench");
}

/**
 * Case 2: the UserEventsProcessor with no listener. The production cases
 * come first and the no-op processor's last: in one process, `Logger.emit`'s
 * call to `onEmit` then sees only the production processor's class while it
 * is measured, as in an application (a logger meets one processor class);
 * `bench/report` also runs this area alone in a fresh process per runtime, so
 * no other case (nor the setup of one, such as case 5's, which emits through
 * a SimpleLogRecordProcessor) has taught that call site other classes first.
 */
export function userEventsDisabledCases(): Promise<BenchCase[]> {
  const record = RECORD;
  // Disabled: the production processor over a binding whose enable words
  // stay 0, i.e. exactly the path taken when no tracer listens.
  const disabled = new UserEventsProcessor(new FakeLibc(), {
    providerName: "bench",
    diagnostics: silent,
  });
  const logger = userEventsLogger(disabled);
  const context = logger.context;
  const noop: LogRecordProcessor = {
    onEmit(_record: LogRecord, _context: LogEmitContext): void {},
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const noopLogger = userEventsLogger(noop);
  const g = "user-events/disabled";
  const n = DISABLED_OPS;
  return Promise.resolve([
    mk(g, "logger-emit", n, "emit", () => {
      for (let i = 0; i < n; i++) logger.emit(record);
    }),
    mk(g, "processor-onEmit", n, "emit", () => {
      for (let i = 0; i < n; i++) disabled.onEmit(record, context);
    }),
    mk(g, "logger-enabled", n, "call", () => {
      let on = 0;
      for (let i = 0; i < n; i++) if (logger.enabled(9)) on++;
      consume(on);
    }),
    mk(g, "noop-processor-onEmit", n, "emit", () => {
      for (let i = 0; i < n; i++) noop.onEmit(record, context);
    }, true),
    mk(g, "noop-processor-logger-emit", n, "emit", () => {
      for (let i = 0; i < n; i++) noopLogger.emit(record);
    }),
  ]);
}

/** Host proxies of case 3: the UserEventsProcessor with a listener. */
export async function userEventsCases(): Promise<BenchCase[]> {
  const cases: BenchCase[] = [];
  const record = RECORD;

  // Enabled, fake write: the encode cost alone.
  const fake = new FakeLibc();
  const encoding = new UserEventsProcessor(fake, {
    providerName: "bench",
    diagnostics: silent,
  });
  fake.setEnabled(true);
  const encodingContext = userEventsLogger(encoding).context;
  const m = ENABLED_OPS;
  cases.push(
    mk("user-events/enabled", "processor-onEmit-fake-write", m, "emit", () => {
      for (let i = 0; i < m; i++) encoding.onEmit(record, encodingContext);
    }),
  );

  // Enabled, real FFI write(2) into /dev/null (host proxy of the kernel case).
  let libc: DevNullLibc | undefined;
  try {
    libc = new DevNullLibc(await openLibc());
  } catch {
    libc = undefined; // no FFI here: the case is left out
  }
  if (libc !== undefined) {
    const devnull = new UserEventsProcessor(libc, {
      providerName: "bench",
      diagnostics: silent,
    });
    libc.enableAll();
    const devnullLogger = userEventsLogger(devnull);
    const devnullContext = devnullLogger.context;
    cases.push(
      mk("user-events/enabled", "processor-onEmit-devnull", m, "emit", () => {
        for (let i = 0; i < m; i++) devnull.onEmit(record, devnullContext);
      }, true),
      mk("user-events/enabled", "logger-emit-devnull", m, "emit", () => {
        for (let i = 0; i < m; i++) devnullLogger.emit(record);
      }),
    );
  }
  return cases;
}

/** ETW, enabled: the EtwProcessor through the recording binding. */
export function etwCases(): Promise<BenchCase[]> {
  const processor = new EtwProcessor(recordingAdvapi32(), {
    providerName: "Bench.Provider",
    diagnostics: silent,
  });
  const logger = userEventsLogger(processor);
  const context = logger.context;
  const record = RECORD;
  const m = ENABLED_OPS;
  return Promise.resolve([
    mk("etw/enabled", "processor-onEmit-fake-write", m, "emit", () => {
      for (let i = 0; i < m; i++) processor.onEmit(record, context);
    }, true),
    mk("etw/enabled", "logger-emit-fake-write", m, "emit", () => {
      for (let i = 0; i < m; i++) logger.emit(record);
    }),
  ]);
}

// ---------------------------------------------------------------------------
// 4. emit into a batching processor, ours vs @opentelemetry/sdk-logs.

const BATCH = 512;

/** Peer records for the same seeded inputs (the same ms timestamps), a span context. */
export function toPeerRecords(
  records: readonly LogRecord[],
): PeerLogRecord[] {
  return records.map((r): PeerLogRecord => {
    const out: PeerLogRecord = {
      timestamp: r.timestamp as number,
      severityNumber: r.severityNumber,
      severityText: r.severityText,
      body: r.body as string,
      attributes: r.attributes as PeerLogRecord["attributes"],
    };
    if (r.traceId !== undefined && r.spanId !== undefined) {
      const ctx: PeerContext = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: r.traceId,
        spanId: r.spanId,
        traceFlags: r.traceFlags ?? 0,
      });
      out.context = ctx;
    }
    return out;
  });
}

const RESOLVED: Promise<void> = Promise.resolve();

function peerExporter(
  work: (logs: PeerReadableLogRecord[]) => void,
): PeerLogRecordExporter {
  return {
    export(logs, resultCallback): void {
      work(logs);
      // As OTLPLogExporter over a transport that answers at once: the
      // result arrives when the transport's Promise settles.
      RESOLVED.then(() => resultCallback({ code: 0 }));
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
}

/** The seed's OTLP/HTTP log exporter over a fetch that answers 200 at once. */
export function otlpExporterOverOkFetch(
  protocol: "http/protobuf" | "http/json",
): OtlpHttpLogExporter {
  return new OtlpHttpLogExporter({
    env: noEnv,
    endpoint: "http://127.0.0.1:4318",
    protocol,
    compression: "none",
    fetch: okFetch(),
    diagnostics: silent,
  });
}

/**
 * Case 4: 512 emits + `forceFlush`, per emit (the batch's export amortized
 * over its records), ours vs the peer.
 *
 * Headline group (`batch/emit-then-flush`): each side's OTLP protobuf log
 * exporter minus the network. Ours: `Logger.emit` → `BatchLogRecordProcessor`
 * → `OtlpHttpLogExporter` (protobuf) over a `fetch` that answers 200 at once.
 * Peer: `LoggerProvider` → `BatchLogRecordProcessor` → an exporter doing what
 * `OTLPLogExporter` does before its transport,
 * `ProtobufLogsSerializer.serializeRequest` (otlp-transformer), then reporting
 * success once a resolved Promise settles (a transport that answers at once).
 *
 * Secondary group (`batch/emit-then-flush-no-encoding`): the same pipelines
 * into exporters that do nothing, i.e. emit + batching alone.
 */
export function batchCases(): Promise<BenchCase[]> {
  const records = seededRecords(BATCH);
  const peerRecords = toPeerRecords(records);
  const cases: BenchCase[] = [];

  const seedVariant = (
    group: string,
    variant: string,
    exporter: Exporter<LogRecordData>,
  ) => {
    const provider = new LoggerProvider({
      env: noEnv,
      resource: new Resource(RESOURCE_ATTRIBUTES),
      processors: [
        new BatchLogRecordProcessor(exporter, {
          env: noEnv,
          diagnostics: silent,
        }),
      ],
    });
    const logger = provider.getLogger("bench", "1.0.0");
    cases.push(mk(group, variant, BATCH, "emit", async () => {
      for (let i = 0; i < BATCH; i++) logger.emit(records[i]);
      await provider.forceFlush();
    }));
  };
  const peerVariant = (
    group: string,
    variant: string,
    exporter: PeerLogRecordExporter,
  ) => {
    const provider = new PeerLoggerProvider({
      resource: peerResourceFromAttributes(RESOURCE_ATTRIBUTES),
      processors: [new PeerBatchLogRecordProcessor({ exporter })],
    });
    const logger = provider.getLogger("bench", "1.0.0");
    cases.push(mk(group, variant, BATCH, "emit", async () => {
      for (let i = 0; i < BATCH; i++) logger.emit(peerRecords[i]);
      await provider.forceFlush();
    }, true));
  };

  const otlp = "batch/emit-then-flush";
  seedVariant(
    otlp,
    "seed-otlp-protobuf",
    otlpExporterOverOkFetch("http/protobuf"),
  );
  peerVariant(
    otlp,
    "peer-otlp-protobuf",
    peerExporter((l) => {
      consume(PeerProtobufLogsSerializer.serializeRequest(l)?.length ?? 0);
    }),
  );
  const bare = "batch/emit-then-flush-no-encoding";
  seedVariant(bare, "seed-noop-exporter", new NoopExporter<LogRecordData>());
  peerVariant(
    bare,
    "peer-noop-exporter",
    peerExporter((l) => consume(l.length)),
  );
  return Promise.resolve(cases);
}

// ---------------------------------------------------------------------------
// 5. OTLP encoding of 512 records, ours vs @opentelemetry/otlp-transformer.

/** The 512 seeded records as our pipeline snapshots them. */
export async function seedLogRecordData(): Promise<LogRecordData[]> {
  const exporter = new InMemoryExporter<LogRecordData>();
  const provider = new LoggerProvider({
    env: noEnv,
    resource: new Resource(RESOURCE_ATTRIBUTES),
    processors: [new SimpleLogRecordProcessor(exporter)],
  });
  const logger = provider.getLogger("bench", "1.0.0");
  for (const r of seededRecords(BATCH)) logger.emit(r);
  await provider.forceFlush();
  return exporter.items.slice();
}

/** The same 512 records as the peer SDK hands them to its exporters. */
export async function peerReadableLogRecords(): Promise<
  PeerReadableLogRecord[]
> {
  const exporter = new PeerInMemoryLogRecordExporter();
  const provider = new PeerLoggerProvider({
    resource: peerResourceFromAttributes(RESOURCE_ATTRIBUTES),
    processors: [new PeerSimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger("bench", "1.0.0");
  for (const r of toPeerRecords(seededRecords(BATCH))) logger.emit(r);
  await provider.forceFlush();
  return exporter.getFinishedLogRecords().slice();
}

/** Case 5: encode 512 records as OTLP protobuf and JSON. */
export async function encodeCases(): Promise<BenchCase[]> {
  const ours = await seedLogRecordData();
  const peer = await peerReadableLogRecords();
  const cases: BenchCase[] = [];
  const unit = "batch of 512";
  const proto = "otlp-encode/protobuf-512";
  const json = "otlp-encode/json-512";
  // What OtlpHttpLogExporter does per batch: write into a buffer it reuses.
  const reused = new ProtoBuffer();
  cases.push(mk(proto, "seed", 1, unit, () => {
    consume(writeLogsRequest(ours, reused, 0));
  }));
  // The same encoding into bytes of their own (a fresh slab region per call).
  cases.push(mk(proto, "seed-fresh-bytes", 1, unit, () => {
    consume(encodeLogsRequest(ours).length);
  }));
  cases.push(mk(proto, "peer-otlp-transformer", 1, unit, () => {
    consume(PeerProtobufLogsSerializer.serializeRequest(peer)?.length ?? 0);
  }, true));
  cases.push(mk(json, "seed", 1, unit, () => {
    consume(encodeLogsRequestJson(ours).length);
  }));
  cases.push(mk(json, "peer-otlp-transformer", 1, unit, () => {
    consume(PeerJsonLogsSerializer.serializeRequest(peer)?.length ?? 0);
  }, true));
  return cases;
}

// ---------------------------------------------------------------------------
// 6. span start + end with attributes, ours vs @opentelemetry/sdk-trace.

const SPAN_OPS = 100;
const SPAN_ATTRIBUTES = {
  "http.request.method": "GET",
  "url.path": "/users/42",
  "http.response.status_code": 200,
};

/** Case 6: start + end of a server span with three attributes. */
export function spanCases(): Promise<BenchCase[]> {
  const group = "span/start-end-3-attributes";
  const noop: SpanProcessor = {
    onEnd(span: ReadableSpan): void {
      consume(span.attributes === undefined ? 0 : 1);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const tracer = new TracerProvider({
    env: noEnv,
    resource: new Resource(RESOURCE_ATTRIBUTES),
    processors: [noop],
  }).getTracer("bench", "1.0.0");
  const peerTracer = new PeerTracerProvider({
    resource: peerResourceFromAttributes(RESOURCE_ATTRIBUTES),
    spanProcessors: [new PeerNoopSpanProcessor()],
  }).getTracer("bench", "1.0.0");
  const n = SPAN_OPS;
  return Promise.resolve([
    mk(group, "seed", n, "span", () => {
      for (let i = 0; i < n; i++) {
        tracer.startSpan("GET /users/:id", {
          kind: 1,
          attributes: SPAN_ATTRIBUTES,
        }).end();
      }
    }),
    mk(group, "peer-sdk-trace", n, "span", () => {
      for (let i = 0; i < n; i++) {
        peerTracer.startSpan("GET /users/:id", {
          kind: PeerSpanKind.SERVER,
          attributes: SPAN_ATTRIBUTES,
        }).end();
      }
    }, true),
  ]);
}

// ---------------------------------------------------------------------------
// Exact time: what a record's time costs (issue 13: a few ns at most).

const TIME_OPS = 10_000;

/**
 * The conversions every record goes through: a `Date.now()` millisecond
 * timestamp, a bigint of nanoseconds and the clock read of a record without
 * one (`nowExactTime`, against `performance.now()`: the baseline).
 * `nowExactTime` reads the native clock where `@seed/telemetry` installed
 * it (Deno with FFI allowed, Bun; see `nativeClockStatus`), so it can cost
 * less than the baseline; `nowExactTime-performance-now` is the fallback
 * path (`useNativeClock(false)` for the duration of the case), and
 * `date-now` what OpenTelemetry JS's sdk-logs reads per record for the
 * observed time (milliseconds only).
 */
export function timeCases(): Promise<BenchCase[]> {
  const g = "time/per-record";
  const out: ExactTime = { unixMs: 0, nanosInMs: 0 };
  const ms = RECORD.timestamp as number;
  const ns = BigInt(ms) * 1_000_000n + 123_456n;
  const n = TIME_OPS;
  return Promise.resolve([
    mk(g, "performance-now", n, "record", () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += performance.now();
      consume(s);
    }, true),
    mk(g, "toExactTime-ms-number", n, "record", () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += toExactTime(ms + (i & 7), out);
      consume(s + out.nanosInMs);
    }),
    mk(g, "toExactTime-bigint-ns", n, "record", () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += toExactTime(ns, out);
      consume(s + out.nanosInMs);
    }),
    mk(g, "nowExactTime", n, "record", () => {
      for (let i = 0; i < n; i++) nowExactTime(out);
      consume(out.nanosInMs);
    }),
    mk(g, "nowExactTime-performance-now", n, "record", () => {
      const native = nativeClockStatus().active;
      if (native) useNativeClock(false);
      for (let i = 0; i < n; i++) nowExactTime(out);
      if (native) useNativeClock(true);
      consume(out.nanosInMs);
    }),
    mk(g, "date-now", n, "record", () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += Date.now();
      consume(s);
    }),
  ]);
}

/** Every area, in report order.  */
export const AREAS: CaseArea[] = [
  { area: "sync-vs-async", build: syncVsAsyncCases },
  { area: "user-events/disabled", build: userEventsDisabledCases },
  { area: "user-events/enabled", build: userEventsCases },
  { area: "etw/enabled", build: etwCases },
  { area: "time", build: timeCases },
  { area: "batch", build: batchCases },
  { area: "otlp-encode", build: encodeCases },
  { area: "span", build: spanCases },
  { area: "metrics", build: metricsCases },
];
