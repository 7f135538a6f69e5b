// A Plan turned into providers. Everything is resolved first and built here in
// one go; if any constructor throws, what was built is shut down again and the
// error propagates, so there is never a half-built pipeline.

import {
  BatchLogRecordProcessor,
  BatchSpanProcessor,
  ConsoleLogRecordExporter,
  ConsoleSpanExporter,
  defaultResource,
  type Diagnostic,
  type DiagnosticSink,
  LoggerProvider,
  type LogRecordProcessor,
  reportDiagnostic,
  Resource,
  SimpleLogRecordProcessor,
  SimpleSpanProcessor,
  type SpanProcessor,
  TracerProvider,
} from "../mod.ts";
import {
  ConsoleMetricExporter,
  MeterProvider,
  type MetricExporter,
  type MetricReader,
  PeriodicExportingMetricReader,
} from "../pipeline/metrics/mod.ts";
import {
  OtlpHttpLogExporter,
  OtlpHttpMetricExporter,
  OtlpHttpSpanExporter,
} from "../exporters/otlp/mod.ts";
import {
  openUserEventsMetricExporter,
  openUserEventsProcessor,
  openUserEventsSpanProcessor,
} from "../processors/user_events/mod.ts";
import {
  openEtwMetricExporter,
  openEtwProcessor,
  openEtwSpanProcessor,
} from "../processors/etw/mod.ts";
import {
  CompositePropagator,
  type TextMapPropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "../instrumentation/propagation.ts";
import type { Telemetry } from "./mod.ts";
import type {
  ExporterPlan,
  OsPlan,
  OtlpPlan,
  Plan,
  ProcessorPlan,
} from "./_plan.ts";

export interface BuildOptions {
  readonly diagnostics: DiagnosticSink;
  /** The fetch of the OTLP exporters (taken before any fetch patch). */
  readonly fetch: typeof fetch;
  /** Where console exporters write (taken before any console capture). */
  readonly write: (line: string) => void;
}

/** What the build hands `configure`: the part of {@linkcode Telemetry} it makes. */
export type Built = Pick<
  Telemetry,
  | "loggerProvider"
  | "tracerProvider"
  | "meterProvider"
  | "propagator"
  | "backends"
>;

/** A user_events / ETW provider name from `service.name`: letters, digits and `_` only, 1-233 of them. */
export function providerNameFrom(serviceName: string | undefined): string {
  const name = (serviceName ?? "").replace(/[^A-Za-z0-9_]/g, "_").slice(0, 233);
  return name === "" ? "unknown_service" : name;
}

function propagatorOf(names: Plan["propagators"]): TextMapPropagator {
  const list = names ?? ["tracecontext", "baggage"];
  return new CompositePropagator(
    list.map((name) =>
      name === "tracecontext"
        ? new W3CTraceContextPropagator()
        : new W3CBaggagePropagator()
    ),
  );
}

interface Closable {
  shutdown(): Promise<void>;
}

/** Opens OS back-ends, holding back their diagnostics until it is known whether they are wanted. */
class OsOpener {
  readonly #diagnostics: DiagnosticSink;
  /** Why optional back-ends were left out (one diagnostic for all of them). */
  readonly unavailable: string[] = [];
  /** Which back-ends those were. */
  readonly kinds: string[] = [];

  constructor(diagnostics: DiagnosticSink) {
    this.#diagnostics = diagnostics;
  }

  async open<T extends Closable>(
    plan: OsPlan,
    open: (diagnostics: DiagnosticSink) => Promise<T>,
    opened: Closable[],
  ): Promise<T | undefined> {
    const held: Diagnostic[] = [];
    const route: { target?: DiagnosticSink } = {};
    const sink: DiagnosticSink = (d) => {
      if (route.target !== undefined) route.target(d);
      else held.push(d);
    };
    const component = await open(sink);
    opened.push(component);
    if (held.length > 0 && plan.optional === true) {
      // Picked by default and not usable here: leave it out.
      this.unavailable.push(held[0].message);
      if (!this.kinds.includes(plan.kind)) this.kinds.push(plan.kind);
      await component.shutdown();
      opened.splice(opened.indexOf(component), 1);
      return undefined;
    }
    route.target = this.#diagnostics;
    for (const d of held) this.#diagnostics(d);
    return component;
  }
}

export async function buildPipeline(
  plan: Plan,
  options: BuildOptions,
): Promise<Built> {
  const { diagnostics } = options;
  const env = plan.componentEnv;
  const resource = plan.resource === undefined
    ? defaultResource({ env, diagnostics })
    : new Resource(
      defaultResource({
        env: () => undefined,
        attributes: plan.resource.attributes,
      }).attributes,
      plan.resource.schemaUrl,
    );
  const providerName = plan.providerName ??
    providerNameFrom(resource.serviceName);
  const propagator = propagatorOf(plan.propagators);
  if (plan.disabled) {
    return {
      loggerProvider: new LoggerProvider({ resource, disabled: true, env }),
      tracerProvider: new TracerProvider({ resource, disabled: true, env }),
      meterProvider: new MeterProvider({ resource, env }),
      propagator,
      backends: { traces: [], logs: [], metrics: [] },
    };
  }
  const opened: Closable[] = [];
  const os = new OsOpener(diagnostics);
  const common = { env, diagnostics };
  const otlpOptions = (p: OtlpPlan) => ({
    ...common,
    fetch: options.fetch,
    ...(p.endpoint === undefined ? {} : { endpoint: p.endpoint }),
    ...(p.headers === undefined ? {} : { headers: p.headers }),
    ...(p.timeoutMillis === undefined
      ? {}
      : { timeoutMillis: p.timeoutMillis }),
    ...(p.compression === undefined ? {} : { compression: p.compression }),
    ...(p.protocol === undefined ? {} : { protocol: p.protocol }),
  });
  const osOptions = (p: OsPlan, sink: DiagnosticSink) => ({
    providerName: p.providerName ?? providerName,
    diagnostics: sink,
    ...(p.resourceAttributes === undefined
      ? {}
      : { resourceAttributes: p.resourceAttributes }),
    ...(p.maxEventSize === undefined ? {} : { maxEventSize: p.maxEventSize }),
  });
  const batchOptions = (p: ProcessorPlan & { kind: "batch" }) => ({
    ...common,
    shutdownTimeoutMillis: plan.shutdownTimeoutMillis,
    ...p.batch,
  });
  const backends = {
    traces: [] as string[],
    logs: [] as string[],
    metrics: [] as string[],
  };
  try {
    const spanProcessors: SpanProcessor[] = [];
    for (const p of plan.traces.processors) {
      let processor: SpanProcessor | undefined;
      if (p.kind === "batch" || p.kind === "simple") {
        const exporter = p.exporter.kind === "otlp"
          ? new OtlpHttpSpanExporter(otlpOptions(p.exporter))
          : new ConsoleSpanExporter({ write: options.write });
        processor = p.kind === "batch"
          ? new BatchSpanProcessor(exporter, batchOptions(p))
          : new SimpleSpanProcessor(exporter, common);
        opened.push(processor);
      } else if (p.kind === "user_events") {
        processor = await os.open(
          p,
          (sink) => openUserEventsSpanProcessor(osOptions(p, sink)),
          opened,
        );
      } else {
        processor = await os.open(
          p,
          (sink) =>
            openEtwSpanProcessor({
              ...osOptions(p, sink),
              onUnsupported: "noop",
            }),
          opened,
        );
      }
      if (processor === undefined) continue;
      spanProcessors.push(processor);
      backends.traces.push(describe(p));
    }
    const logProcessors: LogRecordProcessor[] = [];
    for (const p of plan.logs.processors) {
      let processor: LogRecordProcessor | undefined;
      if (p.kind === "batch" || p.kind === "simple") {
        const exporter = p.exporter.kind === "otlp"
          ? new OtlpHttpLogExporter(otlpOptions(p.exporter))
          : new ConsoleLogRecordExporter({ write: options.write });
        processor = p.kind === "batch"
          ? new BatchLogRecordProcessor(exporter, batchOptions(p))
          : new SimpleLogRecordProcessor(exporter, common);
        opened.push(processor);
      } else if (p.kind === "user_events") {
        processor = await os.open(
          p,
          (sink) => openUserEventsProcessor(osOptions(p, sink)),
          opened,
        );
      } else {
        processor = await os.open(
          p,
          (sink) =>
            openEtwProcessor({ ...osOptions(p, sink), onUnsupported: "noop" }),
          opened,
        );
      }
      if (processor === undefined) continue;
      logProcessors.push(processor);
      backends.logs.push(describe(p));
    }
    const readers: MetricReader[] = [];
    for (const r of plan.metrics.readers) {
      const p = r.exporter;
      let exporter: MetricExporter | undefined;
      if (p.kind === "otlp") {
        exporter = new OtlpHttpMetricExporter({
          ...otlpOptions(p),
          ...(p.temporalityPreference === undefined
            ? {}
            : { temporalityPreference: p.temporalityPreference }),
        });
      } else if (p.kind === "console") {
        exporter = new ConsoleMetricExporter({ write: options.write });
      } else if (p.kind === "user_events") {
        exporter = await os.open(
          p,
          (sink) => openUserEventsMetricExporter({ diagnostics: sink }),
          opened,
        );
      } else {
        exporter = await os.open(
          p,
          (sink) => openEtwMetricExporter({ diagnostics: sink }),
          opened,
        );
      }
      if (exporter === undefined) continue;
      const reader = new PeriodicExportingMetricReader(exporter, {
        ...common,
        ...(r.intervalMillis === undefined
          ? {}
          : { exportIntervalMillis: r.intervalMillis }),
        ...(r.timeoutMillis === undefined
          ? {}
          : { exportTimeoutMillis: r.timeoutMillis }),
      });
      readers.push(reader);
      opened.push(reader);
      backends.metrics.push(p.kind);
    }
    if (os.unavailable.length > 0) {
      const none = backends.traces.length + backends.logs.length +
          backends.metrics.length === 0;
      reportDiagnostic(
        diagnostics,
        "@seed/telemetry/auto",
        "warn",
        `${os.kinds.join(" and ")} is not available here, so it was left out (${
          os.unavailable[0]
        }). ${
          none
            ? "Nothing is exported: set OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_TRACES_EXPORTER / OTEL_LOGS_EXPORTER / OTEL_METRICS_EXPORTER (otlp, console, none)"
            : "Set OTEL_TRACES_EXPORTER / OTEL_LOGS_EXPORTER / OTEL_METRICS_EXPORTER to choose back-ends yourself"
        }`,
      );
    }
    const tracerProvider = new TracerProvider({
      ...common,
      resource,
      processors: spanProcessors,
      ...(plan.traces.limits === undefined
        ? {}
        : { limits: plan.traces.limits }),
      ...(plan.traces.sampler === undefined
        ? {}
        : { sampler: plan.traces.sampler }),
      ...(plan.traces.samplerRatio === undefined
        ? {}
        : { samplerRatio: plan.traces.samplerRatio }),
    });
    const loggerProvider = new LoggerProvider({
      ...common,
      resource,
      processors: logProcessors,
      ...(plan.logs.limits === undefined ? {} : { limits: plan.logs.limits }),
    });
    const meterProvider = new MeterProvider({
      ...common,
      resource,
      readers,
      ...(plan.metrics.exemplarFilter === undefined
        ? {}
        : { exemplarFilter: plan.metrics.exemplarFilter }),
    });
    return {
      loggerProvider,
      tracerProvider,
      meterProvider,
      propagator,
      backends,
    };
  } catch (error) {
    await Promise.allSettled(opened.map((c) => c.shutdown()));
    throw error;
  }
}

function describe(p: ProcessorPlan): string {
  return p.kind === "batch" || p.kind === "simple"
    ? exporterName(p.exporter)
    : p.kind;
}

function exporterName(e: ExporterPlan): string {
  return e.kind;
}
