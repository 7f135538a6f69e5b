// `npm run demo` (Deno) / `npm run demo:bun` (Bun): the pipeline end to end
// on a real server, on an embedded default.
//
// An OTLP/HTTP collector runs inside this process on 127.0.0.1 and decodes
// what arrives with protobufjs and the official OTLP .proto files (the same
// third-party decoder the tests use). Two real instrumented services listen on
// 127.0.0.1 (Deno.serve on Deno, Bun.serve with route patterns on Bun):
// "shop" answers /items/:id by calling "inventory" through the instrumented
// fetch, /stream with a streamed body, /boom by throwing; anything else is a
// 404. A few hundred requests go through; spans and logs travel through the
// batching processors to the OTLP exporters and, at the same time, to the
// user_events processors, which write to the kernel when it has user_events
// and otherwise say why in one line.
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
  SeverityNumber,
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
import { HttpServerInstrumentation } from "./instrumentation/http_server.ts";
import { instrumentFetch } from "./instrumentation/fetch.ts";
import {
  decodeLogs,
  decodeTrace,
  hex,
  plainAttributes,
} from "./tests/otlp/_decoder.ts";
import { isBun, serve } from "./tests/instrumentation/_serve.ts";

const started = performance.now();
const color = !process.env.NO_COLOR && process.stdout.isTTY;
const bold = (s: string) => color ? `\x1b[1m${s}\x1b[0m` : s;
const dim = (s: string) => color ? `\x1b[2m${s}\x1b[0m` : s;

// --- the embedded collector -------------------------------------------------
interface ReceivedSpan {
  service: string;
  name: string;
  spanId: string;
  parentSpanId?: string;
  traceId: string;
  kind: number;
  status: number;
  attributes: Record<string, unknown>;
}
interface ReceivedLog {
  service: string;
  body: unknown;
  severity: number;
  traceId?: string;
  spanId?: string;
}
const spans: ReceivedSpan[] = [];
const logs: ReceivedLog[] = [];
let posts = 0;
const serviceOf = (rs: { resource?: { attributes?: unknown } }) =>
  String(
    plainAttributes(rs.resource?.attributes as never)["service.name"] ?? "?",
  );
const collector = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Uint8Array[] = [];
  req.on("data", (c: Uint8Array) => chunks.push(c));
  req.on("end", () => {
    posts++;
    const body = new Uint8Array(Buffer.concat(chunks));
    if (req.url === "/v1/logs") {
      for (const rl of decodeLogs(body).resourceLogs ?? []) {
        for (const sl of rl.scopeLogs ?? []) {
          for (const r of sl.logRecords ?? []) {
            logs.push({
              service: serviceOf(rl),
              body: r.body?.stringValue,
              severity: r.severityNumber,
              traceId: hex(r.traceId),
              spanId: hex(r.spanId),
            });
          }
        }
      }
    } else if (req.url === "/v1/traces") {
      for (const rs of decodeTrace(body).resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              service: serviceOf(rs),
              name: s.name,
              spanId: hex(s.spanId)!,
              parentSpanId: hex(s.parentSpanId),
              traceId: hex(s.traceId)!,
              kind: s.kind,
              status: s.status?.code ?? 0,
              attributes: plainAttributes(s.attributes),
            });
          }
        }
      }
    }
    res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  });
});
await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
console.log(bold(`Embedded OTLP/HTTP collector on ${base}`));

// --- one pipeline per service ------------------------------------------------
const diagnostics: Diagnostic[] = [];
const sink = (d: Diagnostic) => void diagnostics.push(d);
const userEventsLogs = await openUserEventsProcessor({
  providerName: "seed_demo",
  diagnostics: sink,
});
const userEventsSpans = await openUserEventsSpanProcessor({
  providerName: "seed_demo",
  diagnostics: sink,
});
function pipeline(serviceName: string, withUserEvents: boolean) {
  const resource = defaultResource({ serviceName });
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
  const loggerProvider = new LoggerProvider({
    resource,
    processors: withUserEvents ? [logBatch, userEventsLogs] : [logBatch],
    diagnostics: sink,
  });
  const tracerProvider = new TracerProvider({
    resource,
    processors: withUserEvents ? [spanBatch, userEventsSpans] : [spanBatch],
    diagnostics: sink,
  });
  return { loggerProvider, tracerProvider, logBatch, spanBatch };
}
const shop = pipeline("shop", true);
const inventory = pipeline("inventory", false);

// --- the two services ----------------------------------------------------------
const inventoryHttp = new HttpServerInstrumentation({
  tracerProvider: inventory.tracerProvider,
});
const inventoryLog = inventory.loggerProvider.getLogger("inventory");
const inventoryServer = await serve(
  inventoryHttp.handler((request: Request) => {
    const sku = new URL(request.url).pathname.split("/").pop();
    inventoryLog.emit({
      severityNumber: SeverityNumber.INFO,
      severityText: "INFO",
      body: `stock lookup for ${sku}`,
    });
    return Response.json({ sku, inStock: Number(sku) % 3 !== 0 });
  }, { route: "/stock/:sku" }),
);

const shopHttp = new HttpServerInstrumentation({
  tracerProvider: shop.tracerProvider,
});
const shopLog = shop.loggerProvider.getLogger("shop");
const tracedFetch = instrumentFetch(fetch, {
  tracerProvider: shop.tracerProvider,
});
const item = async (id: string): Promise<Response> => {
  const stock = await tracedFetch(`${inventoryServer.url}/stock/${id}`);
  const { inStock } = await stock.json();
  shopLog.emit({
    severityNumber: SeverityNumber.INFO,
    severityText: "INFO",
    body: `item ${id} ${inStock ? "in stock" : "sold out"}`,
  });
  return Response.json({ id, inStock });
};
const stream = (): Response =>
  new Response(
    new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let i = 0; i < 3; i++) {
          controller.enqueue(new TextEncoder().encode(`chunk ${i}\n`));
          await new Promise((r) => setTimeout(r, 2));
        }
        controller.close();
      },
    }),
  );
const boom = (): Response => {
  throw new Error("the handler failed");
};
const onError = () => new Response("internal error", { status: 500 });
const shopServer = isBun
  // Bun: route patterns give http.route; the fetch fallback answers 404.
  ? await serve(
    shopHttp.handler(() => new Response("no such page", { status: 404 })),
    {
      routes: shopHttp.routes({
        "/items/:id": (request: Request & { params: { id: string } }) =>
          item(request.params.id),
        "/stream": stream,
        "/boom": boom,
      }),
      onError,
    },
  )
  // Deno (and Node): one handler with its own router, which names the route
  // through the lower-level begin / setRoute / run / end API.
  : await serve(async (request, info) => {
    const path = new URL(request.url).pathname;
    const match = /^\/items\/([^/]+)$/.exec(path);
    const state = shopHttp.begin(request, info);
    const route = match
      ? "/items/:id"
      : path === "/stream" || path === "/boom"
      ? path
      : undefined;
    if (route !== undefined) state.setRoute(route);
    try {
      const response = await state.run(() =>
        match
          ? item(match[1])
          : path === "/stream"
          ? stream()
          : path === "/boom"
          ? boom()
          : new Response("no such page", { status: 404 })
      );
      return state.end(response);
    } catch (error) {
      state.fail(error);
      throw error;
    }
  }, { onError });
console.log(
  bold(
    `shop on ${shopServer.url} and inventory on ${inventoryServer.url} (${
      isBun ? "Bun.serve with routes" : "Deno.serve"
    })`,
  ),
);

// --- the load: a few hundred requests, 8 at a time -----------------------------
const plan: string[] = [];
for (let i = 0; i < 300; i++) {
  plan.push(
    i % 50 === 7
      ? "/boom"
      : i % 50 === 13
      ? "/stream"
      : i % 50 === 21
      ? "/missing"
      : `/items/${i}`,
  );
}
const statuses = new Map<number, number>();
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next < plan.length) {
      const path = plan[next++];
      const response = await fetch(`${shopServer.url}${path}`);
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  }),
);
console.log(
  `Sent ${plan.length} requests: ${
    [...statuses].sort().map(([s, n]) => `${n} x ${s}`).join(", ")
  }`,
);

for (const p of [shop, inventory]) {
  await p.tracerProvider.forceFlush();
  await p.loggerProvider.forceFlush();
}

// --- what arrived -----------------------------------------------------------------
console.log(
  bold(
    `\nThe collector decoded ${spans.length} spans and ${logs.length} log records in ${posts} POSTs`,
  ),
);
const perRoute = new Map<string, number>();
for (const s of spans) {
  const key = `${s.service.padEnd(9)} ${s.name}`;
  perRoute.set(key, (perRoute.get(key) ?? 0) + 1);
}
console.log(bold("Spans per service and name:"));
for (const [key, n] of [...perRoute].sort()) {
  console.log(`  ${String(n).padStart(4)}  ${key}`);
}
const kinds = ["", "INTERNAL", "SERVER", "CLIENT"];
const sample = spans.find((s) => s.service === "inventory")!;
const tree = spans.filter((s) => s.traceId === sample.traceId);
console.log(bold(`One trace across both services (${sample.traceId}):`));
const printTree = (parent: string | undefined, depth: number) => {
  for (const s of tree.filter((t) => t.parentSpanId === parent)) {
    console.log(
      `  ${"  ".repeat(depth)}${s.service}: ${s.name} ${dim(kinds[s.kind])} ${
        dim(`status ${s.attributes["http.response.status_code"]}`)
      }`,
    );
    for (const l of logs.filter((l) => l.spanId === s.spanId)) {
      console.log(`  ${"  ".repeat(depth + 1)}${dim(`log: ${l.body}`)}`);
    }
    printTree(s.spanId, depth + 1);
  }
};
printTree(undefined, 0);
const spanIds = new Set(spans.map((s) => s.spanId));
const correlated = logs.filter((l) => l.spanId && spanIds.has(l.spanId)).length;
console.log(
  `Log correlation: ${correlated} of ${logs.length} records carry the id of a span that arrived`,
);
const errors = spans.filter((s) => s.status === 2);
console.log(
  `Error spans: ${errors.length} (${
    [...new Set(errors.map((s) => `${s.name}: ${s.attributes["error.type"]}`))]
      .join(", ")
  })`,
);

console.log(bold("\nCounters"));
console.log(`  shop http: ${JSON.stringify(shopHttp.stats)}`);
console.log(`  inventory http: ${JSON.stringify(inventoryHttp.stats)}`);
for (const [name, p] of [["shop", shop], ["inventory", inventory]] as const) {
  console.log(
    `  ${name} batches: spans exported ${p.spanBatch.stats.exported}, dropped ${p.spanBatch.stats.dropped}; logs exported ${p.logBatch.stats.exported}, dropped ${p.logBatch.stats.dropped}`,
  );
}
const ueDiag = diagnostics.find((d) =>
  /user_events/i.test(d.source + d.message)
);
console.log(
  ueDiag === undefined
    ? `  user_events: ${JSON.stringify(userEventsSpans.stats)}`
    : `  user_events: not written here: ${ueDiag.message}`,
);
const others = diagnostics.filter((d) =>
  d !== ueDiag && !/user_events/i.test(d.source + d.message)
);
for (const d of others) {
  console.log(`  diagnostic from ${d.source}: ${d.message}`);
}

// --- the verdict -------------------------------------------------------------------
const items = plan.filter((p) => p.startsWith("/items/")).length;
const single = plan.length - items; // /boom, /stream, /missing: one span each
const ok = spans.length === items * 3 + single && logs.length === items * 2 &&
  correlated === logs.length &&
  errors.length === plan.filter((p) => p === "/boom").length &&
  tree.length === 3 && shopHttp.stats.handlerErrors === errors.length;
console.log(
  ok
    ? bold(
      `\nEnd to end in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s: every span and record arrived, one trace tree per request across both services.`,
    )
    : "\nSomething was lost: see above.",
);

for (const p of [shop, inventory]) {
  await p.tracerProvider.shutdown();
  await p.loggerProvider.shutdown();
}
await shopServer.close();
await inventoryServer.close();
collector.close();
if (!ok) process.exitCode = 1;
