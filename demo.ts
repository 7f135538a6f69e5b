// `npm run demo`: the pipeline end to end, on an embedded default.
//
// An OTLP/HTTP collector runs inside this process on 127.0.0.1 and decodes
// what arrives with protobufjs and the official OTLP .proto files (the same
// third-party decoder the tests use). A small "server" handles a few requests:
// each is a SERVER span with a CLIENT child, and logs inside it pick up the
// trace context. Records and spans go through the batching processors to the
// OTLP exporters (protobuf, the OTLP default), and at the same time to the
// user_events processors, which write to the kernel when it supports
// user_events and otherwise say so once and count what they skip.
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import {
  BatchLogRecordProcessor,
  BatchSpanProcessor,
  defaultResource,
  type Diagnostic,
  LoggerProvider,
  type LogRecordProcessor,
  SeverityNumber,
  SpanKind,
  SpanStatusCode,
  TracerProvider,
} from "./mod.ts";
import {
  OtlpHttpLogExporter,
  OtlpHttpSpanExporter,
} from "./exporters/otlp/mod.ts";
import {
  openUserEventsProcessor,
  openUserEventsSpanProcessor,
} from "./processors/user_events/mod.ts";
import {
  decodeLogs,
  decodeTrace,
  hex,
  plainAttributes,
  plainValue,
} from "./tests/otlp/_decoder.ts";

const color = !process.env.NO_COLOR && process.stdout.isTTY;
const bold = (s: string) => color ? `\x1b[1m${s}\x1b[0m` : s;
const dim = (s: string) => color ? `\x1b[2m${s}\x1b[0m` : s;

// --- the embedded collector -------------------------------------------------
interface Received {
  logs: {
    severity: string;
    body: unknown;
    attributes: Record<string, unknown>;
    traceId?: string;
  }[];
  spans: {
    name: string;
    spanId: string;
    parentSpanId?: string;
    traceId: string;
    kind: number;
    status: number;
  }[];
}
const received: Received = { logs: [], spans: [] };
const collector = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Uint8Array[] = [];
  req.on("data", (c: Uint8Array) => chunks.push(c));
  req.on("end", () => {
    const body = new Uint8Array(Buffer.concat(chunks));
    if (req.url === "/v1/logs") {
      const message = decodeLogs(body);
      let n = 0;
      for (const rl of message.resourceLogs ?? []) {
        for (const sl of rl.scopeLogs ?? []) {
          for (const r of sl.logRecords ?? []) {
            n++;
            received.logs.push({
              severity: r.severityText || String(r.severityNumber ?? ""),
              body: r.body ? plainValue(r.body) : undefined,
              attributes: plainAttributes(r.attributes),
              traceId: hex(r.traceId),
            });
          }
        }
      }
      console.log(
        dim(
          `  collector <- POST /v1/logs   ${
            req.headers["content-type"]
          }, ${body.length} bytes, ${n} records`,
        ),
      );
    } else if (req.url === "/v1/traces") {
      const message = decodeTrace(body);
      let n = 0;
      for (const rs of message.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            n++;
            received.spans.push({
              name: s.name,
              spanId: hex(s.spanId)!,
              parentSpanId: hex(s.parentSpanId),
              traceId: hex(s.traceId)!,
              kind: s.kind,
              status: s.status?.code ?? 0,
            });
          }
        }
      }
      console.log(
        dim(
          `  collector <- POST /v1/traces ${
            req.headers["content-type"]
          }, ${body.length} bytes, ${n} spans`,
        ),
      );
    }
    res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  });
});
await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
console.log(bold(`Embedded OTLP/HTTP collector on ${base}`));

// --- the pipeline --------------------------------------------------------------
const diagnostics: Diagnostic[] = [];
const sink = (d: Diagnostic) => {
  diagnostics.push(d);
  console.log(`  diagnostic from ${d.source}: ${d.message}`);
};
const logBatch = new BatchLogRecordProcessor(
  new OtlpHttpLogExporter({ endpoint: `${base}/v1/logs`, diagnostics: sink }),
  { scheduledDelayMillis: 200, diagnostics: sink },
);
const spanBatch = new BatchSpanProcessor(
  new OtlpHttpSpanExporter({
    endpoint: `${base}/v1/traces`,
    diagnostics: sink,
  }),
  { scheduledDelayMillis: 200, diagnostics: sink },
);
console.log(
  bold(
    "Opening the user_events processors (a no-op with one diagnostic where the kernel lacks them)",
  ),
);
const userEventsLogs = await openUserEventsProcessor({
  providerName: "seed_demo",
  diagnostics: sink,
});
const userEventsSpans = await openUserEventsSpanProcessor({
  providerName: "seed_demo",
  diagnostics: sink,
});
const logProcessors: LogRecordProcessor[] = [logBatch, userEventsLogs];
const resource = defaultResource({ serviceName: "seed-demo" });
const logs = new LoggerProvider({
  resource,
  processors: logProcessors,
  diagnostics: sink,
});
const traces = new TracerProvider({
  resource,
  processors: [spanBatch, userEventsSpans],
  diagnostics: sink,
});
const logger = logs.getLogger("demo.server", "0.1.0");
const tracer = traces.getTracer("demo.server", "0.1.0");

// --- the workload -------------------------------------------------------------
console.log(
  bold("Handling 5 requests (a SERVER span each, a CLIENT child, logs inside)"),
);
for (let id = 1; id <= 5; id++) {
  await tracer.startActiveSpan(
    "GET /items/:id",
    {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": "GET",
        "url.full": `http://shop/items/${id}`,
      },
    },
    async (span) => {
      logger.emit({
        severityNumber: SeverityNumber.INFO,
        severityText: "INFO",
        body: `looking up item ${id}`,
        attributes: { "item.id": id },
      });
      const query = tracer.startSpan("SELECT items", {
        kind: SpanKind.CLIENT,
        attributes: { "db.system.name": "postgresql" },
      });
      await new Promise((r) => setTimeout(r, 3));
      query.end();
      if (id === 4) {
        logger.emit({
          severityNumber: SeverityNumber.ERROR,
          severityText: "ERROR",
          body: "item 4 is out of stock",
          attributes: { "item.id": id },
        });
        span.setStatus({ code: SpanStatusCode.ERROR, message: "out of stock" });
        span.setAttribute("http.response.status_code", 409);
      } else {
        span.setAttribute("http.response.status_code", 200);
      }
      span.end();
    },
  );
}
// A record with a value no OTLP attribute can hold: dropped, counted, never thrown.
logger.emit({
  severityNumber: SeverityNumber.WARN,
  severityText: "WARN",
  body: "odd input",
  attributes: { callback: (() => 1) as never, ok: true },
});

await logs.forceFlush();
await traces.forceFlush();

// --- what arrived ---------------------------------------------------------------
console.log(
  bold(`\nThe collector decoded ${received.logs.length} log records:`),
);
for (const r of received.logs) {
  console.log(
    `  ${r.severity.padEnd(5)} ${JSON.stringify(r.body)} ${
      JSON.stringify(r.attributes)
    }${r.traceId ? dim(` trace ${r.traceId.slice(0, 8)}...`) : ""}`,
  );
}
console.log(bold(`and ${received.spans.length} spans:`));
const kinds = [
  "UNSPECIFIED",
  "INTERNAL",
  "SERVER",
  "CLIENT",
  "PRODUCER",
  "CONSUMER",
];
for (const s of received.spans) {
  const parent = received.spans.find((p) => p.spanId === s.parentSpanId);
  console.log(
    `  ${s.name.padEnd(15)} ${kinds[s.kind].padEnd(6)} ${
      s.status === 2 ? "ERROR" : "ok   "
    } ${
      dim(
        `trace ${s.traceId.slice(0, 8)}... ${
          parent ? `child of ${parent.name}` : "root"
        }`,
      )
    }`,
  );
}

// --- the counters ----------------------------------------------------------------
const b = logBatch.stats;
console.log(bold("\nCounters"));
console.log(
  `  log batch processor: accepted ${b.accepted}, exported ${b.exported}, failed ${b.failed}, dropped ${b.dropped}`,
);
console.log(
  `  span batch processor: exported ${spanBatch.stats.exported}, failed ${spanBatch.stats.failed}, dropped ${spanBatch.stats.dropped}`,
);
console.log(
  `  logger provider: invalid attribute values dropped ${logs.stats.invalidValues}`,
);
console.log(`  user_events (logs): ${JSON.stringify(userEventsLogs.stats)}`);
const ok = received.logs.length === 7 && received.spans.length === 10 &&
  b.exported === 7 && b.dropped === 0 &&
  received.logs.every((r, i) => i === 6 || r.traceId !== undefined);
console.log(
  ok
    ? bold(
      "\nEnd to end: every record and span arrived, with its trace context.",
    )
    : "\nSomething was lost: see above.",
);

await logs.shutdown();
await traces.shutdown();
collector.close();
if (!ok) process.exitCode = 1;
