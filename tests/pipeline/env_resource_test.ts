import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  defaultResource,
  detectRuntime,
  LoggerProvider,
  readBatchEnv,
  readBooleanEnv,
  readIntegerEnv,
  readKeyValueListEnv,
  readLimitsEnv,
  readOtlpEnv,
  Resource,
  SDK_VERSION,
  TracerProvider,
} from "../../mod.ts";
import { collect, envOf } from "./_fakes.ts";

describe("environment readers", () => {
  it("read booleans case-insensitively and report anything else as false", () => {
    const d = collect();
    assert.equal(readBooleanEnv("X", { env: envOf({ X: "True" }) }), true);
    assert.equal(readBooleanEnv("X", { env: envOf({ X: "false" }) }), false);
    assert.equal(
      readBooleanEnv("X", { env: envOf({ X: "1" }), diagnostics: d.sink }),
      false,
    );
    assert.equal(d.seen.length, 1);
    assert.match(
      d.seen[0].message,
      /Ignoring X="1": expected true or false; using false/,
    );
  });

  it("treat empty and blank values as unset", () => {
    const d = collect();
    assert.equal(
      readIntegerEnv("X", { env: envOf({ X: "  " }), diagnostics: d.sink }),
      undefined,
    );
    assert.equal(d.seen.length, 0);
  });

  it("reject non-integers, negatives and values below the minimum with a diagnostic", () => {
    const d = collect();
    for (const bad of ["-1", "1.5", "1e3", "0x10", "ten"]) {
      assert.equal(
        readIntegerEnv("X", { env: envOf({ X: bad }), diagnostics: d.sink }),
        undefined,
        bad,
      );
    }
    assert.equal(
      readIntegerEnv("X", {
        env: envOf({ X: "0" }),
        diagnostics: d.sink,
        min: 1,
      }),
      undefined,
    );
    assert.equal(d.seen.length, 6);
    assert.equal(readIntegerEnv("X", { env: envOf({ X: " 42 " }) }), 42);
  });

  it("percent-decode key=value lists and skip malformed entries by key, never by value", () => {
    const d = collect();
    const list = readKeyValueListEnv("H", {
      env: envOf({ H: "a=1, b = x%2Cy ,novalue,c=%E0%A4%A,=v,d=%F0%9F%98%80" }),
      diagnostics: d.sink,
    });
    assert.deepEqual(list, [["a", "1"], ["b", "x,y"], ["d", "\u{1F600}"]]);
    assert.equal(d.seen.length, 3);
    for (const diag of d.seen) assert.doesNotMatch(diag.message, /%E0|novalue/);
  });

  it("prefer signal-specific limits over general ones", () => {
    const env = envOf({
      OTEL_ATTRIBUTE_COUNT_LIMIT: "10",
      OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: "5",
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "7",
      OTEL_SPAN_EVENT_COUNT_LIMIT: "3",
      OTEL_SPAN_LINK_COUNT_LIMIT: "4",
      OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: "2",
      OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: "1",
    });
    assert.deepEqual(readLimitsEnv("traces", { env }), {
      attributeCountLimit: 5,
      attributeValueLengthLimit: 7,
      eventCountLimit: 3,
      linkCountLimit: 4,
      eventAttributeCountLimit: 2,
      linkAttributeCountLimit: 1,
    });
    assert.deepEqual(readLimitsEnv("logs", { env }), {
      attributeCountLimit: 10,
      attributeValueLengthLimit: 7,
    });
  });

  it("read OTEL_BSP_* for spans and OTEL_BLRP_* for logs", () => {
    const env = envOf({
      OTEL_BSP_MAX_QUEUE_SIZE: "9",
      OTEL_BLRP_MAX_QUEUE_SIZE: "8",
      OTEL_BSP_EXPORT_TIMEOUT: "10",
    });
    assert.deepEqual(readBatchEnv("traces", { env }), {
      maxQueueSize: 9,
      exportTimeoutMillis: 10,
    });
    assert.deepEqual(readBatchEnv("logs", { env }), { maxQueueSize: 8 });
  });

  it("read OTLP settings with signal-specific values winning", () => {
    const d = collect();
    const env = envOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://base:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:4318/custom",
      OTEL_EXPORTER_OTLP_HEADERS: "a=1,b=2",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "b=3",
      OTEL_EXPORTER_OTLP_TIMEOUT: "1000",
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "500",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_COMPRESSION: "brotli",
    });
    const traces = readOtlpEnv("traces", { env, diagnostics: d.sink });
    assert.equal(traces.signalEndpoint, "http://traces:4318/custom");
    assert.equal(traces.baseEndpoint, "http://base:4318");
    assert.deepEqual(traces.headers, [["a", "1"], ["b", "2"], ["b", "3"]]);
    assert.equal(traces.timeoutMillis, 500);
    assert.equal(traces.protocol, "http/json");
    assert.equal(traces.compression, undefined);
    assert.match(
      d.seen[0].message,
      /OTEL_EXPORTER_OTLP_COMPRESSION="brotli": expected one of gzip, none/,
    );
    assert.equal(
      readOtlpEnv("logs", { env, diagnostics: d.sink }).signalEndpoint,
      undefined,
    );
  });
});

describe("defaultResource", () => {
  it("describes the SDK and the runtime", () => {
    const r = defaultResource({ env: envOf({}) });
    const runtime = detectRuntime();
    assert.equal(r.attributes["telemetry.sdk.name"], "@seed/telemetry");
    assert.equal(r.attributes["telemetry.sdk.version"], SDK_VERSION);
    assert.equal(r.attributes["process.runtime.name"], runtime.name);
    assert.ok(["deno", "bun", "node"].includes(runtime.name), runtime.name);
    assert.match(
      String(r.attributes["process.runtime.version"]),
      /^\d+\.\d+\.\d+/,
    );
    assert.equal(
      r.attributes["service.name"],
      `unknown_service:${runtime.name}`,
    );
  });

  it("applies OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME, then options", () => {
    const env = envOf({
      OTEL_RESOURCE_ATTRIBUTES:
        "service.name=from-attrs,team=a%20b%2Cc,deployment.environment.name=prod",
      OTEL_SERVICE_NAME: "from-name",
    });
    const r = defaultResource({ env });
    assert.equal(r.attributes["service.name"], "from-name");
    assert.equal(r.attributes.team, "a b,c");
    assert.equal(r.attributes["deployment.environment.name"], "prod");
    const r2 = defaultResource({
      env,
      serviceName: "explicit",
      attributes: { team: "x" },
    });
    assert.equal(r2.serviceName, "explicit");
    assert.equal(r2.attributes.team, "x");
  });

  it("is what providers use unless a resource is given", () => {
    const provider = new LoggerProvider({
      env: envOf({ OTEL_SERVICE_NAME: "svc" }),
    });
    assert.equal(provider.resource.serviceName, "svc");
  });
});

describe("Resource", () => {
  it("merges with the other resource winning, and freezes its attributes", () => {
    const merged = new Resource({ a: 1, b: 1 }, "s1").merge(
      new Resource({ b: 2 }),
    );
    assert.deepEqual(merged.attributes, { a: 1, b: 2 });
    assert.equal(merged.schemaUrl, "s1");
    assert.ok(Object.isFrozen(merged.attributes));
  });
});

describe("OTEL_SDK_DISABLED", () => {
  it("turns loggers and tracers into no-ops", () => {
    let emitted = 0;
    const processor = {
      onEmit() {
        emitted++;
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const env = envOf({ OTEL_SDK_DISABLED: "true" });
    const logs = new LoggerProvider({ env, processors: [processor] });
    assert.equal(logs.disabled, true);
    const logger = logs.getLogger("t");
    logger.emit({ body: 1 });
    assert.equal(logger.enabled(9), false);
    assert.equal(emitted, 0);
    let ended = 0;
    const traces = new TracerProvider({
      env,
      processors: [{
        onEnd: () => void ended++,
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      }],
    });
    traces.getTracer("t").startSpan("s").end();
    assert.equal(ended, 0);
    assert.equal(
      new LoggerProvider({ env, disabled: false, processors: [processor] })
        .disabled,
      false,
    );
  });
});
