// OTEL_CONFIG_FILE: a real server configured only by a declarative
// configuration file (YAML and JSON) sends to a loopback collector; bad files
// each give one ConfigurationError naming the file, the key and what to
// change, and nothing is built or installed; substitution follows the
// configuration data model's table.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigurationError, configure } from "../../setup/mod.ts";
import { substitute } from "../../setup/_config_file.ts";
import type { Diagnostic } from "../../mod.ts";
import { FakeCollector } from "../otlp/_server.ts";
import { isBun, isDeno, startChild } from "./_child.ts";
import { receivedLogs, receivedSpans } from "./_received.ts";

const SERVER = fileURLToPath(
  new URL("../testdata/auto_server.ts", import.meta.url),
);
const dir = mkdtempSync(join(tmpdir(), "seed-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(ext: string, text: string): string {
  const path = join(dir, `config-${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

const YAML_CONFIG = `# a server's whole telemetry, from the file alone
file_format: "1.0"
resource:
  attributes:
    - name: service.name
      value: \${SERVICE:-from-file}
    - name: build.number
      value: \${BUILD}
      type: int
  attributes_list: "team=a%20b"
propagator:
  composite:
    - tracecontext:
    - baggage:
tracer_provider:
  sampler:
    parent_based:
      root:
        always_on:
  limits:
    attribute_count_limit: 64
  processors:
    - batch:
        schedule_delay: 600000
        exporter:
          otlp_http:
            endpoint: \${env:COLLECTOR}/v1/traces
            encoding: protobuf
            headers:
              - name: x-tenant
                value: "$$tenant-\${TENANT}"
logger_provider:
  processors:
    - batch:
        schedule_delay: 600000
        exporter:
          otlp_http:
            endpoint: \${COLLECTOR}/v1/logs
`;

const JSON_CONFIG = JSON.stringify({
  file_format: "1.0",
  resource: { attributes: [{ name: "service.name", value: "json-service" }] },
  propagator: { composite_list: "tracecontext" },
  tracer_provider: {
    processors: [{
      simple: {
        exporter: { otlp_http: { endpoint: "${COLLECTOR}/v1/traces" } },
      },
    }],
  },
  logger_provider: {
    processors: [{
      batch: {
        exporter: {
          otlp_http: { endpoint: "${COLLECTOR}/v1/logs", encoding: "json" },
        },
      },
    }],
  },
});

const skip = isDeno || isBun
  ? false
  : "needs Deno.serve or Bun.serve (Node servers use @seed/telemetry/node-http)";

describe("OTEL_CONFIG_FILE on a real server", { skip }, () => {
  for (
    const [ext, text, service] of [
      ["yaml", YAML_CONFIG, "from-file"],
      ["json", JSON_CONFIG, "json-service"],
    ] as const
  ) {
    it(`configures everything from a ${ext} file, ignoring other OTEL_* variables`, async () => {
      await using collector = await FakeCollector.start();
      const path = file(ext, text);
      const child = startChild(SERVER, {
        OTEL_CONFIG_FILE: path,
        COLLECTOR: `http://127.0.0.1:${collector.port}`,
        BUILD: "42",
        TENANT: "t1",
        // Ignored while a file is used (they would route elsewhere):
        OTEL_SERVICE_NAME: "from-env",
        OTEL_TRACES_EXPORTER: "console",
        OTEL_LOGS_EXPORTER: "none",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
        OTEL_SDK_DISABLED: "true",
        SEED_TELEMETRY_INSTRUMENTATIONS: "http,console",
      });
      const port = await child.listening;
      for (let i = 0; i < 5; i++) {
        assert.equal(
          await (await fetch(`http://127.0.0.1:${port}/hello?n=${i}`)).text(),
          "hello",
        );
      }
      process.kill(child.process.pid!, "SIGTERM");
      const { code, signal } = await child.exited;
      assert.equal(signal, null, child.stderr);
      assert.equal(code, 0, child.stderr);
      assert.doesNotMatch(
        child.stderr,
        /\[@seed\/telemetry\]/,
        "no diagnostics",
      );
      const spans = receivedSpans(collector);
      assert.equal(spans.length, 5);
      assert.equal(spans[0].resource["service.name"], service);
      const logs = receivedLogs(collector).filter((l) =>
        String(l.body).startsWith("hello ")
      );
      assert.equal(logs.length, 5);
      assert.equal(logs[0].resource["service.name"], service);
      if (ext === "yaml") {
        assert.equal(spans[0].resource["build.number"], 42);
        assert.equal(spans[0].resource["team"], "a b");
        const traces = collector.requests.find((r) => r.path === "/v1/traces")!;
        assert.equal(traces.headers["x-tenant"], "$tenant-t1");
      } else {
        const logsRequest = collector.requests.find((r) =>
          r.path === "/v1/logs"
        )!;
        assert.match(String(logsRequest.headers["content-type"]), /json/);
      }
    });
  }
});

/** configure() with only a file; must reject with one ConfigurationError. */
async function rejects(
  path: string,
  env: Record<string, string> = {},
): Promise<ConfigurationError> {
  const fetchBefore = globalThis.fetch;
  const listeners = process.listenerCount("SIGTERM");
  const error = await configure({
    configFile: path,
    env: (name) => env[name],
    diagnostics: () => {},
    instrumentations: ["http", "fetch", "console"],
  }).then(
    () => assert.fail("configure() resolved"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConfigurationError, String(error));
  assert.equal(error.file, path);
  assert.ok(error.message.includes(path), error.message);
  // Nothing half-built: no patch, no hook left behind.
  assert.equal(globalThis.fetch, fetchBefore);
  assert.equal(process.listenerCount("SIGTERM"), listeners);
  return error;
}

const HEAD = 'file_format: "1.0"\n';

describe("a bad configuration file", () => {
  it("names the line of a YAML syntax error", async () => {
    const e = await rejects(
      file("yaml", HEAD + "tracer_provider:\n  processors: [\n    - batch\n"),
    );
    assert.match(e.message, /not valid YAML at line \d+, column \d+/);
    assert.equal(e.path, "");
  });

  it("names a JSON syntax error", async () => {
    const e = await rejects(file("json", '{"file_format": "1.0",}'));
    assert.match(e.message, /not valid JSON/);
  });

  it("rejects a duplicate key", async () => {
    const e = await rejects(
      file("yaml", HEAD + "disabled: false\ndisabled: true\n"),
    );
    assert.match(e.message, /not valid YAML/);
  });

  it("names an unknown key with its path and the valid ones", async () => {
    const e = await rejects(
      file("yaml", HEAD + "tracer_provider:\n  procesors: []\n"),
    );
    assert.equal(e.path, "tracer_provider.procesors");
    assert.match(
      e.message,
      /unknown key; expected one of processors, limits, sampler/,
    );
  });

  it("names an unknown component deep in the tree", async () => {
    const e = await rejects(file(
      "yaml",
      HEAD +
        "logger_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_htp:\n            endpoint: http://x\n",
    ));
    assert.equal(
      e.path,
      "logger_provider.processors[0].batch.exporter.otlp_htp",
    );
    assert.match(e.message, /expected one of otlp_http, console/);
  });

  it("says what to use instead of a component this library does not provide", async () => {
    const e = await rejects(file(
      "yaml",
      HEAD +
        "tracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_grpc: {}\n",
    ));
    assert.equal(
      e.path,
      "tracer_provider.processors[0].batch.exporter.otlp_grpc",
    );
    assert.match(e.message, /not provided by @seed\/telemetry.*use otlp_http/);
  });

  it("names a value of the wrong type and what was given", async () => {
    const e = await rejects(file(
      "yaml",
      HEAD +
        "tracer_provider:\n  processors:\n    - batch:\n        schedule_delay: soon\n        exporter:\n          console:\n",
    ));
    assert.equal(e.path, "tracer_provider.processors[0].batch.schedule_delay");
    assert.match(e.message, /expected an integer >= 0, got string "soon"/);
  });

  it("types a substituted value after substitution (and names the variable when it is not set)", async () => {
    const path = file(
      "yaml",
      HEAD +
        "resource:\n  attributes:\n    - name: service.name\n      value: ${SERVICE_NAME}\n",
    );
    const e = await rejects(path);
    assert.equal(e.path, "resource.attributes[0].value");
    assert.match(
      e.message,
      /SERVICE_NAME is not set: set it, or give a default as \$\{SERVICE_NAME:-value\}/,
    );
    await using ok = await configure({
      configFile: path,
      env: (n) => (n === "SERVICE_NAME" ? "svc" : undefined),
      instrumentations: [],
      signals: false,
    });
    assert.equal(ok.tracerProvider.resource.serviceName, "svc");
  });

  it("rejects an invalid substitution reference", async () => {
    const e = await rejects(file("yaml", HEAD + "log_level: ${1LEVEL}\n"));
    assert.match(e.message, /invalid substitution reference \$\{1LEVEL\}/);
  });

  it("rejects a missing or unsupported file_format", async () => {
    assert.match(
      (await rejects(file("yaml", "disabled: false\n"))).message,
      /file_format: missing; add file_format: "1.0"/,
    );
    assert.match(
      (await rejects(file("yaml", 'file_format: "0.3"\n'))).message,
      /file_format: expected "1.0"/,
    );
    assert.match((await rejects(file("yaml", ""))).message, /empty/);
  });

  it("rejects a sampler it cannot honour rather than ignoring it", async () => {
    const e = await rejects(file(
      "yaml",
      HEAD +
        "tracer_provider:\n  sampler:\n    parent_based:\n      root:\n        always_on:\n      remote_parent_not_sampled:\n        always_on:\n",
    ));
    assert.equal(
      e.path,
      "tracer_provider.sampler.parent_based.remote_parent_not_sampled",
    );
  });

  it("rejects a ratio out of range, an unknown propagator and TLS files", async () => {
    const ratio = await rejects(
      file(
        "yaml",
        HEAD +
          "tracer_provider:\n  sampler:\n    trace_id_ratio_based:\n      ratio: 1.5\n",
      ),
    );
    assert.equal(
      ratio.path,
      "tracer_provider.sampler.trace_id_ratio_based.ratio",
    );
    const b3 = await rejects(
      file("yaml", HEAD + "propagator:\n  composite:\n    - b3:\n"),
    );
    assert.match(b3.message, /propagator "b3" is not provided/);
    const tls = await rejects(file(
      "yaml",
      HEAD +
        "tracer_provider:\n  processors:\n    - simple:\n        exporter:\n          otlp_http:\n            tls:\n              ca_file: /ca.pem\n",
    ));
    assert.equal(
      tls.path,
      "tracer_provider.processors[0].simple.exporter.otlp_http.tls.ca_file",
    );
  });

  it("names a file that cannot be read or has the wrong extension", async () => {
    const missing = join(dir, "nope.yaml");
    assert.match((await rejects(missing)).message, /cannot be read \(ENOENT\)/);
    assert.match(
      (await rejects(file("txt", HEAD))).message,
      /expected a \.yaml, \.yml or \.json file/,
    );
  });

  it("rejects the whole file when only the last processor is bad", async () => {
    const e = await rejects(file(
      "yaml",
      HEAD +
        "tracer_provider:\n  processors:\n    - simple:\n        exporter:\n          console:\n    - batch:\n        max_queue_size: 0\n        exporter:\n          console:\n",
    ));
    assert.equal(e.path, "tracer_provider.processors[1].batch.max_queue_size");
  });
});

describe("hostile configuration input", () => {
  const base = {
    instrumentations: [] as [],
    signals: false,
    diagnostics: () => {},
    env: () => undefined,
  };

  it("turns an unreadable config object into one ConfigurationError", async () => {
    const trap = new Proxy({}, {
      ownKeys() {
        throw new Error("trap");
      },
    });
    const e = await configure({
      ...base,
      config: { file_format: "1.0", tracer_provider: trap },
    })
      .catch((x: unknown) => x);
    assert.ok(e instanceof ConfigurationError, String(e));
    assert.match((e as Error).message, /cannot be read \(trap\)/);
    const getter = {
      file_format: "1.0",
      get resource(): never {
        throw new RangeError("getter");
      },
    };
    assert.ok(
      await configure({ ...base, config: getter }).catch((x: unknown) =>
        x
      ) instanceof ConfigurationError,
    );
  });

  it("does not walk cycles or accept null, strings and arrays as the configuration", async () => {
    const cyclic: Record<string, unknown> = { file_format: "1.0" };
    cyclic["instrumentation/development"] = { js: cyclic };
    await using ok = await configure({ ...base, config: cyclic });
    assert.equal(ok.source, "options");
    for (const config of [null, "file_format: 1.0", [], 7]) {
      const e = await configure({ ...base, config }).catch((x: unknown) => x);
      assert.ok(e instanceof ConfigurationError || config === null, String(e));
    }
    await assert.rejects(configure(null as never), TypeError);
  });

  it("stops an alias expansion bomb with one error", async () => {
    let text = 'file_format: "1.0"\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) {
      text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]\n`;
    }
    const started = performance.now();
    const e = await rejects(file("yaml", text));
    assert.ok(performance.now() - started < 5000);
    assert.match(e.message, /cannot be expanded|unknown key/);
  });

  it("names a deeply nested or huge value without throwing anything else", async () => {
    const deep = HEAD +
      "resource:\n  attributes:\n    - name: x\n      value: " +
      "[".repeat(200) + "]".repeat(200) + "\n";
    const e = await rejects(file("yaml", deep));
    assert.ok(e.message.length < 2000);
    assert.match(e.message, /more than 64 levels deep at line \d+/);
    // 100,000 levels are refused by the scan before the parser sees them.
    const deeper = await rejects(
      file("yaml", HEAD + "x: " + "{".repeat(100_000) + "\n"),
    );
    assert.match(deeper.message, /more than 64 levels deep/);
    const huge = await rejects(
      file("yaml", HEAD + "# " + "x".repeat(2 << 20) + "\n"),
    );
    assert.match(huge.message, /more than the 1048576 this library reads/);
    // Brackets inside quotes and comments are text, not nesting.
    await rejects(
      file(
        "yaml",
        HEAD +
          `# ${"[".repeat(100)}\nresource:\n  attributes:\n    - name: "${
            "{".repeat(100)
          }"\n      value: '${"[".repeat(100)}'\nbogus_key: 1\n`,
      ),
    ).then((ok) => assert.match(ok.message, /bogus_key/));
    const lone = await rejects(
      file("yaml", HEAD + 'tracer_provider:\n  "\\ud800": 1\n'),
    );
    assert.equal(lone.path, "tracer_provider.\ud800");
  });
});

describe("a valid configuration file", () => {
  it("reads the library's components with their options", async () => {
    const seen: Diagnostic[] = [];
    await using telemetry = await configure({
      configFile: file(
        "yml",
        HEAD + `disabled: false
attribute_limits:
  attribute_count_limit: 16
tracer_provider:
  processors:
    - user_events:
        provider_name: myservice
    - simple:
        exporter:
          console:
logger_provider:
  processors:
    - etw:
        provider_name: MyCompany.MyService
meter_provider:
  readers:
    - periodic:
        interval: 1000
        exporter:
          user_events:
`,
      ),
      env: () => undefined,
      diagnostics: (d) => seen.push(d),
      instrumentations: [],
      signals: false,
    });
    // Asked for explicitly: kept (as counted no-ops where unavailable), each
    // with its own one diagnostic.
    assert.deepEqual(telemetry.backends.traces, ["user_events", "console"]);
    assert.deepEqual(telemetry.backends.logs, ["etw"]);
    assert.deepEqual(telemetry.backends.metrics, ["user_events"]);
    assert.equal(telemetry.source.endsWith(".yml"), true);
  });

  it("warns once about variables that were not set and made a value empty", async () => {
    const seen: Diagnostic[] = [];
    await using _telemetry = await configure({
      configFile: file(
        "yaml",
        HEAD +
          "tracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_http:\n            endpoint: ${NOT_SET_ENDPOINT}\n            timeout: ${NOT_SET_TIMEOUT}\n",
      ),
      env: () => undefined,
      diagnostics: (d) => seen.push(d),
      instrumentations: [],
      signals: false,
    });
    assert.equal(seen.length, 1, JSON.stringify(seen));
    assert.match(seen[0].message, /NOT_SET_ENDPOINT, NOT_SET_TIMEOUT/);
  });
});

describe("substitute", () => {
  const env: Record<string, string> = {
    STRING_VALUE: "value",
    BOOL_VALUE: "true",
    REPLACE_ME: "${DO_NOT_REPLACE_ME}",
    VALUE_WITH_ESCAPE: "value$$",
  };
  const sub = (s: string) =>
    substitute(s, (n) => env[n], (r) => {
      throw new Error(`invalid ${r}`);
    }).text;
  // The configuration data model's table.
  const rows: [string, string][] = [
    ["${STRING_VALUE}", "value"],
    ["${env:STRING_VALUE}", "value"],
    ["foo ${STRING_VALUE} ${BOOL_VALUE}", "foo value true"],
    ["${UNDEFINED_KEY}", ""],
    ["${UNDEFINED_KEY:-fallback}", "fallback"],
    ["${REPLACE_ME}", "${DO_NOT_REPLACE_ME}"],
    ["${UNDEFINED_KEY:-${STRING_VALUE}}", "${STRING_VALUE}"],
    ["$${STRING_VALUE}", "${STRING_VALUE}"],
    ["$$${STRING_VALUE}", "$value"],
    ["$$$${STRING_VALUE}", "$${STRING_VALUE}"],
    ["$${STRING_VALUE:-fallback}", "${STRING_VALUE:-fallback}"],
    ["$${STRING_VALUE:-${STRING_VALUE}}", "${STRING_VALUE:-value}"],
    [
      "${UNDEFINED_KEY:-$${UNDEFINED_KEY}}",
      "${UNDEFINED_KEY:-${UNDEFINED_KEY}}",
    ],
    ["${VALUE_WITH_ESCAPE}", "value$$"],
    ["a $$ b", "a $ b"],
    ["a $ b", "a $ b"],
  ];
  for (const [input, output] of rows) {
    it(`turns ${input} into ${output || '""'}`, () => {
      assert.equal(sub(input), output);
    });
  }
  it("rejects ${STRING_VALUE:?error} and ${API_$KEY}", () => {
    assert.throws(() => sub("${STRING_VALUE:?error}"), /invalid/);
    assert.throws(() => sub("${API_$KEY}"), /invalid/);
  });
});
