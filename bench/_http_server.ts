// One server of the request-instrumentation benchmark (bench/http_server.ts
// starts three of these, one per variant, and loads them in turns).
//
//   deno run -A bench/_http_server.ts bare|ours|theirs|paired
//   bun run bench/_http_server.ts bare|ours|theirs|paired
//
// (`paired`: all three in one process, one port each; see servePaired.)
//
// The same Hono app on Bun.serve or Deno.serve, 127.0.0.1, port 0:
// - bare:   no telemetry at all;
// - ours:   @seed/telemetry/hono middleware, one log per request through
//           Logger.emit, BatchSpanProcessor + BatchLogRecordProcessor into the
//           OTLP/HTTP exporters (protobuf) over a fetch that answers 200 at once;
// - theirs: @hono/otel on @opentelemetry/api with sdk-trace's TracerProvider
//           and BatchSpanProcessor, the AsyncLocalStorage context manager and
//           the W3C propagators registered as NodeSDK does, one log per request
//           through sdk-logs' BatchLogRecordProcessor; both exporters do what
//           OTLPTraceExporter / OTLPLogExporter do before their transport
//           (otlp-transformer's protobuf serializers), then report success.
//
// It prints `port N` once listening. `GET /__cpu` (outside the app and its
// instrumentation) flushes both pipelines, then answers this process's CPU
// time (process.cpuUsage, user + system, µs) and the items exported and
// dropped so far. It exits when its stdin closes (with SEED_HTTP_PROFILE
// set, it stops serving and writes a CPU profile first; see below).

import process from "node:process";
import { writeFileSync } from "node:fs";
import { AsyncLocalStorage } from "node:async_hooks";
import { Hono } from "hono";
import { httpInstrumentationMiddleware } from "@hono/otel";
import * as api from "@opentelemetry/api";
import * as logsApi from "@opentelemetry/api-logs";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  ExportResultCode,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import {
  BatchSpanProcessor as PeerBatchSpanProcessor,
  type ReadableSpan as PeerReadableSpan,
  type SpanExporter as PeerSpanExporter,
  TracerProvider as PeerTracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  BatchLogRecordProcessor as PeerBatchLogRecordProcessor,
  LoggerProvider as PeerLoggerProvider,
  type LogRecordExporter as PeerLogRecordExporter,
  type ReadableLogRecord as PeerReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import {
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchLogRecordProcessor,
  BatchSpanProcessor,
  LoggerProvider,
  Resource,
  TracerProvider,
} from "../mod.ts";
import {
  OtlpHttpLogExporter,
  OtlpHttpSpanExporter,
} from "../exporters/otlp/mod.ts";
import { honoMiddleware } from "../instrumentation/hono.ts";
import { okFetch } from "./_fixtures.ts";
import type { Exporter } from "../mod.ts";

/** The benchmark's three servers. */
export type HttpVariant = "bare" | "ours" | "theirs";

/** What `GET /__cpu` answers. */
export interface CpuSample {
  /** User + system CPU time of the server process so far, µs. */
  readonly cpuMicros: number;
  /** Spans and logs the exporters received so far. */
  readonly exportedSpans: number;
  readonly exportedLogs: number;
  /** Spans and logs the batch processors dropped so far. */
  readonly droppedSpans: number;
  readonly droppedLogs: number;
}

const RESOURCE = { "service.name": "bench-http", "service.version": "1.0.0" };

/**
 * A piece of ours for bench/http_ab.ts's `--part` (work on the
 * instrumentation only; bench/report never asks for one): ours with a piece
 * taken out, or only the floor under it, served as the new arm while the old
 * arm is a whole tree, to see what the piece costs.
 * - `no-log`: no log record per request (the span alone);
 * - `no-encode`: both batch processors export into an exporter that drops
 *   the batch (no OTLP encoding, no fetch);
 * - `middleware`: no telemetry; an async middleware that only awaits
 *   `next()`, the path (Hono's compose) any middleware puts a request on;
 * - `floor`: `middleware` plus what any instrumentation with the issue's
 *   attributes pays on this runtime before doing anything of its own:
 *   `req.headers` with four gets, the client address (`server.requestIP` /
 *   `info.remoteAddr`), and `next()` run inside an `AsyncLocalStorage`.
 */
export type HttpPart = "no-log" | "no-encode" | "middleware" | "floor";

/** The parts, for argument checks. */
export const HTTP_PARTS: readonly HttpPart[] = [
  "no-log",
  "no-encode",
  "middleware",
  "floor",
];

/** What `no-encode` exports into: success, nothing encoded. */
const dropBatches: Exporter<unknown> = {
  export: () => Promise.resolve({ code: "success" }),
  shutdown: () => Promise.resolve(),
};

/** `middleware` and `floor`: no telemetry, only the middleware's floor. */
function floor(app: Hono, withReads: boolean): Telemetry {
  const storage = new AsyncLocalStorage<unknown>();
  app.use(async (c, next) => {
    if (withReads) {
      const h = c.req.raw.headers;
      h.get("user-agent");
      h.get("traceparent");
      h.get("tracestate");
      h.get("baggage");
      const env = c.env as {
        requestIP?: (r: Request) => unknown;
        remoteAddr?: unknown;
      };
      if (typeof env?.requestIP === "function") env.requestIP(c.req.raw);
      else void env?.remoteAddr;
      await storage.run(c, next);
    } else await next();
  });
  return bare;
}
const noEnv = () => undefined;

interface Telemetry {
  /** Emits the request's one log record. */
  log(id: string): void;
  flush(): Promise<void>;
  counts(): Omit<CpuSample, "cpuMicros">;
}

function ours(app: Hono, part: HttpPart | undefined): Telemetry {
  const spans = new BatchSpanProcessor(
    part === "no-encode" ? dropBatches : new OtlpHttpSpanExporter({
      endpoint: "http://127.0.0.1:9/v1/traces",
      fetch: okFetch(),
      env: noEnv,
    }),
  );
  const logs = new BatchLogRecordProcessor(
    part === "no-encode" ? dropBatches : new OtlpHttpLogExporter({
      endpoint: "http://127.0.0.1:9/v1/logs",
      fetch: okFetch(),
      env: noEnv,
    }),
  );
  const resource = new Resource(RESOURCE);
  const tracerProvider = new TracerProvider({
    resource,
    processors: [spans],
    env: noEnv,
  });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [logs],
    env: noEnv,
  });
  const logger = loggerProvider.getLogger("bench-http", "1.0.0");
  // SEED_HTTP_CLIENT_ADDRESS=0 (work on the instrumentation only; bench/report
  // never sets it): ours without client.address, as @hono/otel records it.
  const clientAddress = process.env.SEED_HTTP_CLIENT_ADDRESS !== "0";
  app.use(honoMiddleware({ tracerProvider, env: noEnv, clientAddress }));
  const withLog = part !== "no-log";
  return {
    log(id) {
      if (!withLog) return;
      logger.emit({
        severityNumber: 9,
        severityText: "INFO",
        body: "user looked up",
        attributes: { "user.id": id },
      });
    },
    async flush() {
      await tracerProvider.forceFlush();
      await loggerProvider.forceFlush();
    },
    counts: () => ({
      exportedSpans: spans.stats.exported,
      exportedLogs: logs.stats.exported,
      droppedSpans: spans.stats.dropped,
      droppedLogs: logs.stats.dropped,
    }),
  };
}

function theirs(app: Hono): Telemetry {
  let exportedSpans = 0;
  let exportedLogs = 0;
  const spanExporter: PeerSpanExporter = {
    export(items: PeerReadableSpan[], done) {
      const bytes = ProtobufTraceSerializer.serializeRequest(items);
      exportedSpans += bytes === undefined ? 0 : items.length;
      Promise.resolve().then(() => done({ code: ExportResultCode.SUCCESS }));
    },
    shutdown: () => Promise.resolve(),
  };
  const logExporter: PeerLogRecordExporter = {
    export(items: PeerReadableLogRecord[], done) {
      const bytes = ProtobufLogsSerializer.serializeRequest(items);
      exportedLogs += bytes === undefined ? 0 : items.length;
      Promise.resolve().then(() => done({ code: ExportResultCode.SUCCESS }));
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const resource = resourceFromAttributes(RESOURCE);
  const tracerProvider = new PeerTracerProvider({
    resource,
    spanProcessors: [new PeerBatchSpanProcessor({ exporter: spanExporter })],
  });
  const loggerProvider = new PeerLoggerProvider({
    resource,
    processors: [new PeerBatchLogRecordProcessor({ exporter: logExporter })],
  });
  api.context.setGlobalContextManager(
    new AsyncLocalStorageContextManager().enable(),
  );
  api.propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [
        new W3CTraceContextPropagator(),
        new W3CBaggagePropagator(),
      ],
    }),
  );
  api.trace.setGlobalTracerProvider(tracerProvider);
  logsApi.logs.setGlobalLoggerProvider(loggerProvider);
  const logger = logsApi.logs.getLogger("bench-http", "1.0.0");
  app.use(httpInstrumentationMiddleware({ serviceName: "bench-http" }));
  return {
    log(id) {
      logger.emit({
        severityNumber: 9,
        severityText: "INFO",
        body: "user looked up",
        attributes: { "user.id": id },
      });
    },
    async flush() {
      await tracerProvider.forceFlush();
      await loggerProvider.forceFlush();
    },
    // sdk-trace and sdk-logs keep no drop count a user can read: drops
    // show as exported < requests.
    counts: () => ({
      exportedSpans,
      exportedLogs,
      droppedSpans: 0,
      droppedLogs: 0,
    }),
  };
}

const bare: Telemetry = {
  log() {},
  flush: () => Promise.resolve(),
  counts: () => ({
    exportedSpans: 0,
    exportedLogs: 0,
    droppedSpans: 0,
    droppedLogs: 0,
  }),
};

/** The app: one route with a parameter, a JSON body, one log inside. */
export function build(variant: HttpVariant, part?: HttpPart): {
  fetch: (request: Request, info: unknown) => Response | Promise<Response>;
  telemetry: Telemetry;
} {
  const app = new Hono();
  const telemetry = variant === "ours"
    ? (part === "middleware" || part === "floor"
      ? floor(app, part === "floor")
      : ours(app, part))
    : variant === "theirs"
    ? theirs(app)
    : bare;
  app.get("/users/:id", (c) => {
    const id = c.req.param("id");
    telemetry.log(id);
    return c.json({ id, name: "Ada" });
  });
  const cpu = async (): Promise<Response> => {
    await telemetry.flush();
    const usage = process.cpuUsage();
    const sample: CpuSample = {
      cpuMicros: usage.user + usage.system,
      ...telemetry.counts(),
    };
    return Response.json(sample);
  };
  return {
    fetch: (request, info) =>
      request.url.endsWith("/__cpu") ? cpu() : app.fetch(request, info),
    telemetry,
  };
}

interface ServeLike {
  Bun?: {
    serve(
      options: Record<string, unknown>,
    ): { port: number; stop?(closeActive?: boolean): void };
  };
  Deno?: {
    serve(
      options: Record<string, unknown>,
      handler: (request: Request, info: unknown) => unknown,
    ): { addr: { port: number } };
  };
}

/**
 * `_http_server.ts paired`: bare, ours and theirs in this one process, each
 * on its own port (bench/http_server.ts's paired rounds, the budget row).
 * Prints `ports bare=N,ours=N,theirs=N`; exits when stdin closes.
 */
function servePaired(): void {
  const g = globalThis as ServeLike;
  const ports: string[] = [];
  for (const variant of ["bare", "ours", "theirs"] as const) {
    const { fetch } = build(variant);
    const port = g.Bun !== undefined
      ? g.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch }).port
      : g.Deno!.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        fetch,
      ).addr.port;
    ports.push(`${variant}=${port}`);
  }
  process.stdout.write(`ports ${ports.join(",")}\n`);
  const stop = () => process.exit(0);
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}

if (import.meta.main && process.argv[process.argv.length - 1] === "paired") {
  servePaired();
} else if (import.meta.main) {
  const variant = process.argv[process.argv.length - 1] as HttpVariant;
  if (!["bare", "ours", "theirs"].includes(variant)) {
    console.error("usage: _http_server.ts bare|ours|theirs|paired");
    process.exit(2);
  }
  const { fetch } = build(variant);
  const g = globalThis as ServeLike;
  const profile = process.env.SEED_HTTP_PROFILE;
  let port: number;
  let stopServer: () => void;
  if (g.Bun !== undefined) {
    const server = g.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
    port = server.port;
    stopServer = () => server.stop?.(true);
  } else if (g.Deno !== undefined) {
    const abort = new AbortController();
    port = g.Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: abort.signal,
      onListen: () => {},
    }, fetch).addr.port;
    stopServer = () => abort.abort();
  } else {
    console.error("_http_server.ts runs on Deno or Bun");
    process.exit(2);
  }
  // SEED_HTTP_PROFILE=DIR (bench/http_server.ts passes it on): a CPU
  // profile of this server into DIR. Bun writes its --cpu-prof file only
  // when the process ends by itself, never on process.exit, so the server
  // stops and the process runs out of work; Deno has no such flag, so the
  // profile is taken through node:inspector and written at the stop.
  let writeProfile = (): Promise<void> => Promise.resolve();
  if (profile !== undefined && g.Deno !== undefined) {
    writeProfile = await startInspectorProfile(profile, variant);
  }
  process.stdout.write(`port ${port}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (profile === undefined) process.exit(0);
    stopServer();
    void writeProfile().then(() => {
      // Something left holding the loop (it should not): exit anyway.
      const timer = setTimeout(() => process.exit(0), 5_000) as unknown as {
        unref?: () => void;
      };
      timer.unref?.();
    });
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}

/** Starts V8's sampling profiler through node:inspector; the result writes DIR/http-VARIANT.cpuprofile. */
async function startInspectorProfile(
  dir: string,
  variant: string,
): Promise<() => Promise<void>> {
  const { Session } = await import("node:inspector");
  const { mkdirSync } = await import("node:fs");
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(
        method,
        params ?? {},
        (error: Error | null, result: unknown) =>
          error ? reject(error) : resolve(result),
      )
    );
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 250 });
  await post("Profiler.start");
  return async () => {
    const { profile } = await post("Profiler.stop") as { profile: unknown };
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/http-${variant}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  };
}
