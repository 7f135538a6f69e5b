/**
 * Zero-code setup, programmatic form: {@linkcode configure} builds the
 * logger, tracer and meter providers from the environment (`OTEL_*`
 * variables) or from an OpenTelemetry declarative configuration file
 * (`OTEL_CONFIG_FILE`, YAML or JSON), picks the back-ends (OTLP/HTTP when an
 * endpoint is configured, user_events on Linux and ETW on Windows when they
 * are available), installs the instrumentations asked for, and flushes at
 * exit and on SIGTERM/SIGINT. `@seed/telemetry/auto` is the same thing as a
 * one-line import.
 *
 * @example Build from an in-memory configuration
 * ```ts
 * import { configure } from "@seed/telemetry/setup";
 * import assert from "node:assert/strict";
 *
 * await using telemetry = await configure({
 *   config: { file_format: "1.0", resource: { attributes: [{ name: "service.name", value: "checkout" }] } },
 *   instrumentations: [],
 *   signals: false,
 * });
 * assert.equal(telemetry.tracerProvider.resource.serviceName, "checkout");
 * assert.deepEqual(telemetry.backends.traces, []);
 * ```
 *
 * @module
 */

import {
  consoleDiagnosticSink,
  type DiagnosticSink,
  type EnvSource,
  type LoggerProvider,
  processEnvSource,
  readBooleanEnv,
  readStringEnv,
  reportDiagnostic,
  type TracerProvider,
} from "../mod.ts";
import type { MeterProvider } from "../pipeline/metrics/mod.ts";
import type { TextMapPropagator } from "../instrumentation/propagation.ts";
import {
  type FetchHandler,
  type HandlerOptions,
  HttpServerInstrumentation,
} from "../instrumentation/http_server.ts";
import { patchGlobalFetch } from "../instrumentation/fetch.ts";
import {
  type OtelApi,
  type OtelLogsApi,
  registerOtelApi,
} from "../instrumentation/otel_api.ts";
import { captureConsole } from "../instrumentation/console.ts";
import { buildPipeline } from "./_build.ts";
import { planFromEnv, readLibraryEnv } from "./_from_env.ts";
import { installExitHooks } from "./_lifecycle.ts";
import type { InstrumentationName, Plan } from "./_plan.ts";
import { INSTRUMENTED_HANDLER, patchServe } from "./_serve_patch.ts";

export { ConfigurationError } from "./errors.ts";
export type { InstrumentationName } from "./_plan.ts";

/**
 * Options of {@linkcode configure}. Every field is optional; an explicit
 * option wins over its variable.
 *
 * @example
 * ```ts
 * import type { ConfigureOptions } from "@seed/telemetry/setup";
 * import assert from "node:assert/strict";
 *
 * const options: ConfigureOptions = { instrumentations: ["http", "fetch"], shutdownTimeoutMillis: 2000 };
 * assert.equal(options.instrumentations?.length, 2);
 * ```
 */
export interface ConfigureOptions {
  /**
   * Where variables come from (also for `${VAR}` substitution in a file).
   * @default {processEnvSource}
   */
  readonly env?: EnvSource;
  /**
   * Where problems are reported: bad variables, back-ends that are not available, failed exports.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
  /**
   * A declarative configuration file (`.yaml`, `.yml` or `.json`). When one is
   * used, `OTEL_*` variables are ignored except in `${VAR}` substitution.
   * @default {OTEL_CONFIG_FILE, else none: the environment is used}
   */
  readonly configFile?: string;
  /**
   * A configuration already parsed (the file format's data model as a plain
   * object); wins over `configFile`.
   * @default {none}
   */
  readonly config?: unknown;
  /**
   * What to instrument: `http` (the handlers of `Deno.serve` and
   * `Bun.serve`), `fetch` (patches `globalThis.fetch`), `otel-api`
   * (registers with `@opentelemetry/api`), `console` (console calls become
   * log records).
   * @default {SEED_TELEMETRY_INSTRUMENTATIONS, else ["http"]}
   */
  readonly instrumentations?: readonly InstrumentationName[];
  /**
   * Whether to flush at exit (`beforeExit`) and on SIGTERM / SIGINT (then exit).
   * @default {true}
   */
  readonly signals?: boolean;
  /**
   * The deadline of the flush at exit or on a signal, in ms.
   * @default {SEED_TELEMETRY_SHUTDOWN_TIMEOUT, else 5000}
   */
  readonly shutdownTimeoutMillis?: number;
  /**
   * The `@opentelemetry/api` module (and `@opentelemetry/api-logs`) for
   * the `otel-api` instrumentation.
   * @default {imported by name when `otel-api` is asked for}
   */
  readonly otelApi?: { readonly api: OtelApi; readonly logsApi?: OtelLogsApi };
  /**
   * The `fetch` of the OTLP exporters.
   * @default {globalThis.fetch, as it was before any patch}
   */
  readonly fetch?: typeof fetch;
}

/**
 * What {@linkcode configure} built: the providers, the propagator, what
 * was installed, and the lifecycle. `shutdown()` (or `await using`) flushes,
 * shuts everything down and undoes the patches.
 *
 * @example
 * ```ts
 * import { configure, type Telemetry } from "@seed/telemetry/setup";
 * import assert from "node:assert/strict";
 *
 * const telemetry: Telemetry = await configure({ env: () => undefined, instrumentations: [], signals: false, diagnostics: () => {} });
 * assert.equal(telemetry.source, "environment");
 * await telemetry.shutdown();
 * ```
 */
export interface Telemetry extends AsyncDisposable {
  /** `"environment"`, the configuration file's path, or `"options"` (a `config` object). */
  readonly source: string;
  /** Whether the SDK is disabled (`OTEL_SDK_DISABLED`, `disabled: true` in a file). */
  readonly disabled: boolean;
  /** The logger provider. */
  readonly loggerProvider: LoggerProvider;
  /** The tracer provider. */
  readonly tracerProvider: TracerProvider;
  /** The meter provider. */
  readonly meterProvider: MeterProvider;
  /** The propagator (`OTEL_PROPAGATORS` or the file's `propagator`). */
  readonly propagator: TextMapPropagator;
  /** The back-ends in use per signal, e.g. `["otlp", "user_events"]`. */
  readonly backends: {
    readonly traces: readonly string[];
    readonly logs: readonly string[];
    readonly metrics: readonly string[];
  };
  /** The instrumentations installed. */
  readonly instrumentations: readonly InstrumentationName[];
  /**
   * Wraps a fetch-style handler so that each request is a SERVER span (for
   * servers the `http` instrumentation does not reach). A wrapped handler is
   * not wrapped again by the `http` instrumentation.
   *
   * @param handler The handler.
   * @param options The route.
   * @returns The instrumented handler.
   */
  instrument<H extends FetchHandler>(handler: H, options?: HandlerOptions): H;
  /**
   * Exports what is queued.
   *
   * @returns A promise that settles when done.
   */
  forceFlush(): Promise<void>;
  /**
   * Undoes the patches and hooks, then shuts the providers down within the
   * deadline (idempotent).
   *
   * @returns `true` when everything was flushed in time.
   */
  shutdown(): Promise<boolean>;
}

async function importOtelApi(): Promise<
  { api: OtelApi; logsApi?: OtelLogsApi } | string
> {
  // By name, at run time: @opentelemetry/api is the application's dependency,
  // not this library's.
  const apiName = "@opentelemetry/api";
  const logsName = "@opentelemetry/api-logs";
  let api: OtelApi;
  try {
    api = await import(apiName) as OtelApi;
  } catch (error) {
    return `${apiName} could not be imported (${
      (error as Error)?.message ?? error
    }); add it to your dependencies or pass configure({ otelApi })`;
  }
  try {
    return { api, logsApi: await import(logsName) as OtelLogsApi };
  } catch {
    return { api };
  }
}

async function resolvePlan(
  options: ConfigureOptions,
  env: EnvSource,
  diagnostics: DiagnosticSink,
): Promise<Plan> {
  const read = { env, diagnostics };
  const file = options.configFile ?? readStringEnv("OTEL_CONFIG_FILE", read);
  if (options.config === undefined && file === undefined) {
    return planFromEnv(read);
  }
  // Only a configuration file needs the YAML parser.
  const { planFromConfigFile, planFromConfigObject } = await import(
    "./_config_file.ts"
  );
  const library = readLibraryEnv(read);
  return options.config !== undefined
    ? planFromConfigObject(options.config, undefined, env, library)
    : planFromConfigFile(file!, env, library);
}

/**
 * Builds the pipeline from the environment or a configuration file,
 * installs the instrumentations and the exit hooks, and returns it.
 *
 * Bad variables never throw: each is reported once and its default applies.
 * An invalid configuration file (or `config`) rejects with a
 * {@linkcode ConfigurationError} naming the key and the file, and nothing is
 * built or installed.
 *
 * @param options Where to read, what to instrument, the deadline.
 * @returns The telemetry.
 * @throws {ConfigurationError} When the configuration file is invalid.
 *
 * @example SDK disabled by variable
 * ```ts
 * import { configure } from "@seed/telemetry/setup";
 * import assert from "node:assert/strict";
 *
 * const vars: Record<string, string> = { OTEL_SDK_DISABLED: "true" };
 * await using telemetry = await configure({ env: (n) => vars[n], instrumentations: [], signals: false });
 * assert.equal(telemetry.disabled, true);
 * assert.equal(telemetry.tracerProvider.disabled, true);
 * ```
 */
export async function configure(
  options: ConfigureOptions = {},
): Promise<Telemetry> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot configure: options must be an object, got ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  const env = options.env ?? processEnvSource;
  const diagnostics = options.diagnostics ?? consoleDiagnosticSink;
  // Taken before any patch, so exports are never traced or captured.
  const exportFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const originalLog = console.log.bind(console);
  const plan = await resolvePlan(options, env, diagnostics);
  const shutdownTimeoutMillis = options.shutdownTimeoutMillis ??
    plan.shutdownTimeoutMillis;
  if (!(shutdownTimeoutMillis >= 0)) {
    throw new RangeError(
      `Cannot configure: shutdownTimeoutMillis ${shutdownTimeoutMillis} must be a number >= 0`,
    );
  }
  for (const warning of plan.warnings ?? []) {
    reportDiagnostic(diagnostics, "@seed/telemetry/auto", "warn", warning);
  }
  const built = await buildPipeline(
    { ...plan, shutdownTimeoutMillis },
    { diagnostics, fetch: exportFetch, write: (line) => originalLog(line) },
  );
  const { loggerProvider, tracerProvider, meterProvider, propagator } = built;
  const http = new HttpServerInstrumentation({
    tracerProvider,
    propagator,
    diagnostics,
  });
  const undo: (() => void)[] = [];
  const installed: InstrumentationName[] = [];
  const wanted = plan.disabled
    ? []
    : options.instrumentations ?? plan.instrumentations;
  for (const name of wanted) {
    if (installed.includes(name)) continue;
    try {
      if (name === "http") {
        if (readBooleanEnv("OTEL_DENO", { env, diagnostics })) {
          reportDiagnostic(
            diagnostics,
            "@seed/telemetry/auto",
            "warn",
            "OTEL_DENO=true: Deno's built-in OpenTelemetry already makes the SERVER spans of Deno.serve; the http instrumentation is left out (drop http from SEED_TELEMETRY_INSTRUMENTATIONS, or unset OTEL_DENO)",
          );
          continue;
        }
        undo.push(patchServe(http, diagnostics));
      } else if (name === "fetch") {
        const patch = patchGlobalFetch({
          tracerProvider,
          propagator,
          diagnostics,
        });
        undo.push(() => patch.restore());
      } else if (name === "otel-api") {
        const modules = options.otelApi ?? await importOtelApi();
        if (typeof modules === "string") {
          reportDiagnostic(
            diagnostics,
            "@seed/telemetry/auto",
            "warn",
            `The otel-api instrumentation is left out: ${modules}`,
          );
          continue;
        }
        const registration = registerOtelApi({
          api: modules.api,
          tracerProvider,
          propagator,
          diagnostics,
          ...(modules.logsApi === undefined
            ? {}
            : { logsApi: modules.logsApi, loggerProvider }),
        });
        undo.push(() => registration.unregister());
      } else if (name === "console") {
        const capture = captureConsole({ loggerProvider });
        undo.push(() => capture.restore());
      }
      installed.push(name);
    } catch (error) {
      reportDiagnostic(
        diagnostics,
        "@seed/telemetry/auto",
        "warn",
        `The ${name} instrumentation could not be installed and is left out`,
        error,
      );
    }
  }
  let shutdownPromise: Promise<boolean> | undefined;
  const shutdown = (): Promise<boolean> =>
    shutdownPromise ??= (async () => {
      for (const u of undo.reverse()) {
        try {
          u();
        } catch {
          // An undo that fails leaves that patch in place; nothing else to do.
        }
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), shutdownTimeoutMillis);
      });
      const done = Promise.allSettled([
        meterProvider.shutdown(),
        tracerProvider.shutdown(),
        loggerProvider.shutdown(),
      ]).then((results) => results.every((r) => r.status === "fulfilled"));
      const outcome = await Promise.race([done, deadline]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        reportDiagnostic(
          diagnostics,
          "@seed/telemetry/auto",
          "error",
          `Shutdown did not finish within ${shutdownTimeoutMillis} ms; what was still queued is lost (see the processors' droppedOnShutdownTimeout). Raise SEED_TELEMETRY_SHUTDOWN_TIMEOUT or check the collector`,
        );
        return false;
      }
      return outcome;
    })();
  if (options.signals !== false) undo.push(installExitHooks(shutdown));
  const telemetry: Telemetry = {
    source: plan.source,
    disabled: plan.disabled,
    loggerProvider,
    tracerProvider,
    meterProvider,
    propagator,
    backends: built.backends,
    instrumentations: Object.freeze(installed),
    instrument<H extends FetchHandler>(
      handler: H,
      handlerOptions?: HandlerOptions,
    ): H {
      const wrapped = http.handler(handler, handlerOptions);
      Object.defineProperty(wrapped, INSTRUMENTED_HANDLER, { value: true });
      return wrapped;
    },
    async forceFlush(): Promise<void> {
      await Promise.all([
        meterProvider.forceFlush(),
        tracerProvider.forceFlush(),
        loggerProvider.forceFlush(),
      ]);
    },
    shutdown,
    async [Symbol.asyncDispose](): Promise<void> {
      await shutdown();
    },
  };
  return telemetry;
}
