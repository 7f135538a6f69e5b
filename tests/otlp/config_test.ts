// Configuration of the OTLP/HTTP exporters: options over environment over
// defaults, the specification's endpoint path rules, and what is refused.
// Requests go to a recording fake fetch.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type Diagnostic,
  InMemoryExporter,
  LoggerProvider,
  type LogRecordData,
  SimpleLogRecordProcessor,
} from "../../mod.ts";
import {
  type OtlpHttpExporterOptions,
  OtlpHttpLogExporter,
  OtlpHttpSpanExporter,
} from "../../exporters/otlp/mod.ts";
import { parseRetryAfter } from "../../exporters/otlp/_transport.ts";

interface Call {
  url: string;
  headers: Headers;
  body: Uint8Array;
}

function recordingFetch(calls: Call[], status = 200): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(input),
      headers: new Headers(init?.headers),
      body: init?.body as Uint8Array,
    });
    return Promise.resolve(new Response(null, { status }));
  }) as typeof fetch;
}

function envOf(
  vars: Record<string, string>,
): (name: string) => string | undefined {
  return (name) => vars[name];
}

let records: LogRecordData[] | undefined;
async function oneRecord(): Promise<LogRecordData[]> {
  if (records !== undefined) return records;
  const memory = new InMemoryExporter<LogRecordData>();
  const provider = new LoggerProvider({
    env: () => undefined,
    processors: [new SimpleLogRecordProcessor(memory)],
  });
  provider.getLogger("config").emit({ body: "hello", severityNumber: 9 });
  await provider.shutdown();
  return records = memory.items;
}

async function sendOne(
  options: OtlpHttpExporterOptions,
  vars: Record<string, string> = {},
): Promise<{
  call: Call;
  diagnostics: Diagnostic[];
  exporter: OtlpHttpLogExporter;
}> {
  const calls: Call[] = [];
  const diagnostics: Diagnostic[] = [];
  const exporter = new OtlpHttpLogExporter({
    env: envOf(vars),
    diagnostics: (d) => diagnostics.push(d),
    fetch: recordingFetch(calls),
    ...options,
  });
  const result = await exporter.export(
    await oneRecord(),
    new AbortController().signal,
  );
  assert.equal(result.code, "success");
  await exporter.shutdown();
  assert.equal(calls.length, 1);
  return { call: calls[0], diagnostics, exporter };
}

describe("OtlpHttpLogExporter configuration", () => {
  it("defaults to http://localhost:4318/v1/logs, protobuf, no compression, 10 s", async () => {
    const { call, exporter } = await sendOne({});
    assert.equal(call.url, "http://localhost:4318/v1/logs");
    assert.equal(call.headers.get("content-type"), "application/x-protobuf");
    assert.equal(call.headers.get("content-encoding"), null);
    assert.equal(
      call.headers.get("user-agent"),
      "OTel-OTLP-Exporter-JavaScript/0.1.0 seed-telemetry/0.1.0",
    );
    assert.equal(exporter.timeoutMillis, 10000);
    assert.equal(exporter.protocol, "http/protobuf");
    assert.equal(exporter.compression, "none");
  });

  it("appends v1/logs to the base endpoint's path, with or without a trailing slash", async () => {
    assert.equal(
      (await sendOne({}, {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      })).call.url,
      "http://collector:4318/v1/logs",
    );
    assert.equal(
      (await sendOne({}, {
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://gw.example/otlp/",
      })).call.url,
      "https://gw.example/otlp/v1/logs",
    );
    assert.equal(
      (await sendOne({}, {
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://gw.example/otlp",
      })).call.url,
      "https://gw.example/otlp/v1/logs",
    );
  });

  it("uses the signal-specific endpoint as is, over the base endpoint", async () => {
    const vars = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://base:4318",
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://logs:9999/custom/path",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999",
    };
    assert.equal(
      (await sendOne({}, vars)).call.url,
      "http://logs:9999/custom/path",
    );
    const calls: Call[] = [];
    const spans = new OtlpHttpSpanExporter({
      env: envOf(vars),
      fetch: recordingFetch(calls),
    });
    assert.equal(spans.endpoint, "http://traces:9999/");
    const base = new OtlpHttpSpanExporter({
      env: envOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://base:4318" }),
    });
    assert.equal(base.endpoint, "http://base:4318/v1/traces");
  });

  it("lets the endpoint option win over every variable", async () => {
    const vars = { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://env:1/v1/logs" };
    assert.equal(
      (await sendOne({ endpoint: "http://option:2/x" }, vars)).call.url,
      "http://option:2/x",
    );
  });

  it("reads protocol, compression and timeout from the environment, signal-specific first", async () => {
    const vars = {
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
      OTEL_EXPORTER_OTLP_TIMEOUT: "5000",
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: "7000",
    };
    const { call, exporter } = await sendOne({}, vars);
    assert.equal(call.headers.get("content-type"), "application/json");
    assert.equal(call.headers.get("content-encoding"), "gzip");
    assert.deepEqual([...call.body.subarray(0, 2)], [0x1f, 0x8b]);
    assert.equal(exporter.timeoutMillis, 7000);
    const options = await sendOne({
      protocol: "http/protobuf",
      compression: "none",
      timeoutMillis: 100,
    }, vars);
    assert.equal(
      options.call.headers.get("content-type"),
      "application/x-protobuf",
    );
    assert.equal(options.call.headers.get("content-encoding"), null);
    assert.equal(options.exporter.timeoutMillis, 100);
  });

  it("replaces grpc from the environment by http/protobuf with one diagnostic", async () => {
    const { call, diagnostics } = await sendOne({}, {
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
    });
    assert.equal(call.headers.get("content-type"), "application/x-protobuf");
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /grpc.*using http\/protobuf/);
  });

  it("merges headers from both variables and options, options winning, without printing values", async () => {
    const vars = {
      OTEL_EXPORTER_OTLP_HEADERS: "x-a=general,x-b=general,bad%20name=hidden-1",
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: "x-b=logs,x-c=logs%3Dencoded",
    };
    const { call, diagnostics } = await sendOne({
      headers: { "X-C": "option", "user-agent": "mine/1" },
    }, vars);
    assert.equal(call.headers.get("x-a"), "general");
    assert.equal(call.headers.get("x-b"), "logs");
    assert.equal(call.headers.get("x-c"), "option");
    assert.equal(call.headers.get("user-agent"), "mine/1");
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /bad name/);
    assert.doesNotMatch(diagnostics[0].message, /hidden-1/);
  });

  it("rejects bad options at construction without echoing header values", () => {
    assert.throws(
      () => new OtlpHttpLogExporter({ endpoint: "ftp://x" }),
      TypeError,
    );
    assert.throws(
      () => new OtlpHttpLogExporter({ endpoint: "not a url" }),
      TypeError,
    );
    assert.throws(
      () =>
        new OtlpHttpLogExporter({
          endpoint: "http://user:pw-secret@host/v1/logs",
        }),
      (e: Error) => e instanceof TypeError && !e.message.includes("pw-secret"),
    );
    assert.throws(
      () => new OtlpHttpLogExporter({ protocol: "grpc" as never }),
      TypeError,
    );
    assert.throws(
      () => new OtlpHttpLogExporter({ compression: "br" as never }),
      TypeError,
    );
    assert.throws(
      () => new OtlpHttpLogExporter({ timeoutMillis: 0 }),
      RangeError,
    );
    assert.throws(
      () => new OtlpHttpLogExporter({ retry: { maxAttempts: 0 } }),
      RangeError,
    );
    assert.throws(
      () => new OtlpHttpLogExporter({ retry: { jitter: 2 } }),
      RangeError,
    );
    assert.throws(
      () => new OtlpHttpLogExporter({ maxConcurrentExports: 0 }),
      RangeError,
    );
    assert.throws(
      () =>
        new OtlpHttpLogExporter({
          headers: { "x-token": "emoji-secret-\u{1F511}" },
        }),
      (e: Error) =>
        e instanceof TypeError && e.message.includes("x-token") &&
        !e.message.includes("secret"),
    );
    assert.throws(
      () =>
        new OtlpHttpLogExporter({
          headers: { "x-token": "line\nbreak-secret" },
        }),
      (e: Error) =>
        e instanceof TypeError && e.message.includes("x-token") &&
        !e.message.includes("secret"),
    );
  });

  it("reports a bad endpoint variable and falls back to the next setting", async () => {
    const { call, diagnostics } = await sendOne({}, {
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "::nonsense::",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://base:4318/",
    });
    assert.equal(call.url, "http://base:4318/v1/logs");
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /OTEL_EXPORTER_OTLP_LOGS_ENDPOINT/);
  });

  it("maps a non-retryable status to a non-retryable failure without retrying", async () => {
    const calls: Call[] = [];
    const exporter = new OtlpHttpLogExporter({
      env: () => undefined,
      fetch: recordingFetch(calls, 401),
    });
    const result = await exporter.export(
      await oneRecord(),
      new AbortController().signal,
    );
    assert.equal(result.code, "failure");
    assert.equal(result.code === "failure" && result.retryable, false);
    assert.equal(calls.length, 1);
  });
});

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP dates", () => {
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    assert.equal(parseRetryAfter("120", now), 120_000);
    assert.equal(parseRetryAfter(" 0 ", now), 0);
    assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:02 GMT", now), 2000);
    assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
    assert.equal(parseRetryAfter("soon", now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });
});
