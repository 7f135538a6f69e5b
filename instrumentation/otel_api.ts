/**
 * The `@opentelemetry/api` bridge: one call registers this library's
 * providers as the global tracer and logger providers of the OpenTelemetry
 * API, a context manager that shares this library's active span in both
 * directions, and the propagator. Code instrumented against the API only
 * (`@hono/otel`, database drivers, …) then emits into this pipeline, and so
 * into user_events, ETW and OTLP.
 *
 * You pass the API modules in (`import * as api from "@opentelemetry/api"`),
 * so this package never imports them: they stay optional peers, and the copy
 * your instrumentation uses is the one registered.
 *
 * With `OTEL_DENO=true`, Deno's built-in OpenTelemetry owns the API's
 * globals; the bridge then reports one diagnostic saying so and what to do.
 *
 * @example
 * ```ts
 * import * as api from "@opentelemetry/api";
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { registerOtelApi } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using tracerProvider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * using _bridge = registerOtelApi({ api, tracerProvider, env: () => undefined });
 * api.trace.getTracer("third-party").startActiveSpan("work", (span) => {
 *   tracerProvider.getTracer("mine").startSpan("child").end(); // sees the API's active span
 *   span.end();
 * });
 * await tracerProvider.forceFlush();
 * const [child, parent] = exporter.items;
 * assert.equal(child.parentSpanId, parent.spanId);
 * assert.equal(parent.scope.name, "third-party");
 * ```
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import {
  activeSpan,
  type AnyValue,
  type Attributes,
  consoleDiagnosticSink,
  type DiagnosticSink,
  type EnvReadOptions,
  type LoggerProvider,
  readBooleanEnv,
  reportDiagnostic,
  Span,
  type SpanContext,
  type SpanContextCarrier,
  type SpanKind,
  type SpanLinkInput,
  type SpanStatusCode,
  type TimeInput,
  type Tracer,
  type TracerProvider,
  withActiveSpan,
} from "../mod.ts";
import { activeBaggage, type Baggage, withBaggage } from "./baggage.ts";
import {
  type HeaderGetter,
  type PropagationContext,
  propagatorFromEnv,
  type TextMapPropagator,
} from "./propagation.ts";

// --- the parts of @opentelemetry/api this bridge uses, typed structurally ---

/**
 * An OpenTelemetry API `Context` (opaque here).
 *
 * @example
 * ```ts
 * import * as api from "@opentelemetry/api";
 * import type { OtelContext } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const ctx: OtelContext = api.ROOT_CONTEXT;
 * assert.equal(typeof ctx.getValue, "function");
 * ```
 */
export interface OtelContext {
  /** Reads a value. */
  getValue(key: symbol): unknown;
  /** Returns a new context with a value set. */
  setValue(key: symbol, value: unknown): OtelContext;
  /** Returns a new context without a value. */
  deleteValue(key: symbol): OtelContext;
}

/**
 * An OpenTelemetry API span context.
 *
 * @example
 * ```ts
 * import type { OtelSpanContext } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const ctx: OtelSpanContext = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 };
 * assert.equal(ctx.traceFlags, 1);
 * ```
 */
export interface OtelSpanContext {
  /** The trace id. */
  traceId: string;
  /** The span id. */
  spanId: string;
  /** The trace flags. */
  traceFlags: number;
  /** Whether it came from another process. */
  isRemote?: boolean;
  /** The trace state (an object with `serialize()`). */
  traceState?: { serialize(): string };
}

/**
 * The API's time input: `[seconds, nanoseconds]`, milliseconds (since the
 * epoch, or since `performance.timeOrigin` when smaller), or a `Date`.
 *
 * @example
 * ```ts
 * import type { OtelTimeInput } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const t: OtelTimeInput = [1704164645, 500_000_000];
 * assert.equal(Array.isArray(t), true);
 * ```
 */
export type OtelTimeInput = [number, number] | number | Date;

/**
 * The API's span, as the bridge implements it.
 *
 * @example
 * ```ts
 * import type { OtelSpan } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const check = (span: OtelSpan) => span.isRecording();
 * assert.equal(typeof check, "function");
 * ```
 */
export interface OtelSpan {
  /** Its context. */
  spanContext(): OtelSpanContext;
  /** Sets an attribute. */
  setAttribute(key: string, value: unknown): this;
  /** Sets attributes. */
  setAttributes(attributes: Record<string, unknown>): this;
  /** Adds an event. */
  addEvent(
    name: string,
    attributesOrTime?: Record<string, unknown> | OtelTimeInput,
    time?: OtelTimeInput,
  ): this;
  /** Adds a link. */
  addLink(
    link: { context: OtelSpanContext; attributes?: Record<string, unknown> },
  ): this;
  /** Adds links. */
  addLinks(
    links: { context: OtelSpanContext; attributes?: Record<string, unknown> }[],
  ): this;
  /** Sets the status. */
  setStatus(status: { code: number; message?: string }): this;
  /** Renames it. */
  updateName(name: string): this;
  /** Ends it. */
  end(endTime?: OtelTimeInput): void;
  /** Whether it records. */
  isRecording(): boolean;
  /** Records an exception. */
  recordException(exception: unknown, time?: OtelTimeInput): void;
}

interface OtelSpanOptions {
  kind?: number;
  attributes?: Record<string, unknown>;
  links?: { context: OtelSpanContext; attributes?: Record<string, unknown> }[];
  startTime?: OtelTimeInput;
  root?: boolean;
}

/**
 * The part of `@opentelemetry/api` (the module) the bridge uses.
 *
 * @example
 * ```ts
 * import * as api from "@opentelemetry/api";
 * import type { OtelApi } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const mod: OtelApi = api;
 * assert.equal(typeof mod.trace.setGlobalTracerProvider, "function");
 * ```
 */
export interface OtelApi {
  /** `api.trace`. */
  readonly trace: {
    setGlobalTracerProvider(provider: unknown): unknown;
    getSpan(context: OtelContext): unknown;
    setSpan(context: OtelContext, span: never): OtelContext;
    deleteSpan(context: OtelContext): OtelContext;
    wrapSpanContext(spanContext: OtelSpanContext): unknown;
    setSpanContext(
      context: OtelContext,
      spanContext: OtelSpanContext,
    ): OtelContext;
    disable(): void;
  };
  /** `api.context`. */
  readonly context: {
    setGlobalContextManager(manager: unknown): unknown;
    active(): OtelContext;
    disable(): void;
  };
  /** `api.propagation`. */
  readonly propagation: {
    setGlobalPropagator(propagator: unknown): unknown;
    getBaggage(context: OtelContext): unknown;
    setBaggage(context: OtelContext, baggage: never): OtelContext;
    createBaggage(
      entries?: Record<string, { value: string; metadata?: unknown }>,
    ): unknown;
    disable(): void;
  };
  /** `api.baggageEntryMetadataFromString`, for baggage properties. */
  readonly baggageEntryMetadataFromString?: (raw: string) => unknown;
  /** `api.ROOT_CONTEXT`. */
  readonly ROOT_CONTEXT: OtelContext;
  /** `api.createTraceState` (API 1.1+). */
  readonly createTraceState?: (raw?: string) => { serialize(): string };
}

/**
 * The part of `@opentelemetry/api-logs` (the module) the bridge uses.
 *
 * @example
 * ```ts
 * import * as logsApi from "@opentelemetry/api-logs";
 * import type { OtelLogsApi } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const mod: OtelLogsApi = logsApi;
 * assert.equal(typeof mod.logs.setGlobalLoggerProvider, "function");
 * ```
 */
export interface OtelLogsApi {
  /** `logsApi.logs`. */
  readonly logs: {
    setGlobalLoggerProvider(provider: never): unknown;
    disable(): void;
  };
}

/**
 * Options of {@linkcode registerOtelApi}.
 *
 * @example
 * ```ts
 * import * as api from "@opentelemetry/api";
 * import { TracerProvider } from "@seed/telemetry";
 * import type { OtelApiBridgeOptions } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const options: OtelApiBridgeOptions = { api, tracerProvider: new TracerProvider() };
 * assert.ok(options.api);
 * ```
 */
export interface OtelApiBridgeOptions extends EnvReadOptions {
  /** The `@opentelemetry/api` module (`import * as api from "@opentelemetry/api"`). */
  readonly api: OtelApi;
  /**
   * The `@opentelemetry/api-logs` module; needed only with `loggerProvider`.
   * @default {none: logs through the API are not bridged}
   */
  readonly logsApi?: OtelLogsApi;
  /**
   * Registered as the API's global tracer provider.
   * @default {none: the tracer provider is not registered}
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Registered as the API's global logger provider (with `logsApi`).
   * @default {none}
   */
  readonly loggerProvider?: LoggerProvider;
  /**
   * Registered as the API's global propagator.
   * @default {propagatorFromEnv(): OTEL_PROPAGATORS, else tracecontext,baggage}
   */
  readonly propagator?: TextMapPropagator;
  /**
   * Whether to register the context manager that shares the active span.
   * @default {true}
   */
  readonly contextManager?: boolean;
  /**
   * Where a global that could not be registered is reported.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

/**
 * What {@linkcode registerOtelApi} registered; `unregister()` (or `using`)
 * disables those globals again.
 *
 * @example
 * ```ts
 * import * as api from "@opentelemetry/api";
 * import { TracerProvider } from "@seed/telemetry";
 * import { registerOtelApi } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const bridge = registerOtelApi({ api, tracerProvider: new TracerProvider(), env: () => undefined });
 * assert.deepEqual(bridge.registered, ["tracerProvider", "contextManager", "propagator"]);
 * bridge.unregister();
 * ```
 */
export interface OtelApiRegistration extends Disposable {
  /** The globals this call registered. */
  readonly registered: readonly (
    | "tracerProvider"
    | "loggerProvider"
    | "contextManager"
    | "propagator"
  )[];
  /** Disables the registered globals (idempotent). */
  unregister(): void;
}

// --- conversions -------------------------------------------------------------

// The API's time inputs are this SDK's TimeInput as they are (the same
// OpenTelemetry JS convention): spans and loggers convert them exactly and
// count an invalid one in the provider's `invalidTimes` (see pipeline/time.ts).
function toTime(input: OtelTimeInput | undefined): TimeInput | undefined {
  return input;
}

function toAttributes(attributes: unknown): Attributes | undefined {
  return attributes !== null && typeof attributes === "object"
    ? attributes as Attributes
    : undefined;
}

function fromOtelContext(ctx: OtelSpanContext): SpanContext {
  let traceState: string | undefined;
  try {
    traceState = ctx.traceState?.serialize();
  } catch {
    traceState = undefined;
  }
  const out: SpanContext = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    traceFlags: ctx.traceFlags,
    isRemote: ctx.isRemote === true,
  };
  return traceState ? { ...out, traceState } : out;
}

/** Our span seen through the API's `Span` interface. */
class BridgedSpan implements OtelSpan {
  readonly inner: Span;
  #api: OtelApi;
  #context: OtelSpanContext | undefined;

  constructor(inner: Span, api: OtelApi) {
    this.inner = inner;
    this.#api = api;
  }
  spanContext(): OtelSpanContext {
    if (this.#context !== undefined) return this.#context;
    const s = this.inner;
    const ctx: OtelSpanContext = {
      traceId: s.traceId,
      spanId: s.spanId,
      traceFlags: s.traceFlags,
      isRemote: false,
    };
    if (s.traceState !== undefined && this.#api.createTraceState) {
      ctx.traceState = this.#api.createTraceState(s.traceState);
    }
    return this.#context = ctx;
  }
  setAttribute(key: string, value: unknown): this {
    this.inner.setAttribute(key, value as AnyValue);
    return this;
  }
  setAttributes(attributes: Record<string, unknown>): this {
    const clean = toAttributes(attributes);
    if (clean !== undefined) this.inner.setAttributes(clean);
    return this;
  }
  addEvent(
    name: string,
    attributesOrTime?: Record<string, unknown> | OtelTimeInput,
    time?: OtelTimeInput,
  ): this {
    const isTime = Array.isArray(attributesOrTime) ||
      attributesOrTime instanceof Date || typeof attributesOrTime === "number";
    this.inner.addEvent(
      name,
      isTime ? undefined : toAttributes(attributesOrTime),
      toTime(isTime ? attributesOrTime as OtelTimeInput : time),
    );
    return this;
  }
  addLink(
    link: { context: OtelSpanContext; attributes?: Record<string, unknown> },
  ): this {
    if (link?.context) {
      this.inner.addLink({
        context: fromOtelContext(link.context),
        attributes: toAttributes(link.attributes),
      });
    }
    return this;
  }
  addLinks(
    links: { context: OtelSpanContext; attributes?: Record<string, unknown> }[],
  ): this {
    if (Array.isArray(links)) { for (const link of links) this.addLink(link); }
    return this;
  }
  setStatus(status: { code: number; message?: string }): this {
    if (status !== null && typeof status === "object") {
      this.inner.setStatus({
        code: status.code as SpanStatusCode,
        message: status.message,
      });
    }
    return this;
  }
  updateName(name: string): this {
    this.inner.updateName(name);
    return this;
  }
  end(endTime?: OtelTimeInput): void {
    this.inner.end(toTime(endTime));
  }
  isRecording(): boolean {
    return this.inner.isRecording();
  }
  recordException(exception: unknown, time?: OtelTimeInput): void {
    this.inner.recordException(exception, toTime(time));
  }
}

/** Our tracer seen through the API's `Tracer` interface. */
class BridgedTracer {
  #tracer: Tracer;
  #bridge: Bridge;
  constructor(tracer: Tracer, bridge: Bridge) {
    this.#tracer = tracer;
    this.#bridge = bridge;
  }

  startSpan(
    name: string,
    options: OtelSpanOptions = {},
    context?: OtelContext,
  ): OtelSpan {
    const bridge = this.#bridge;
    const ctx = context ?? bridge.api.context.active();
    const parent = options?.root === true
      ? null
      : bridge.carrierOf(ctx) ?? null;
    let links: SpanLinkInput[] | undefined;
    if (Array.isArray(options?.links)) {
      links = [];
      for (const link of options.links) {
        if (link?.context) {
          links.push({
            context: fromOtelContext(link.context),
            attributes: toAttributes(link.attributes),
          });
        }
      }
    }
    const span = this.#tracer.startSpan(name, {
      kind: (typeof options?.kind === "number" ? options.kind : 0) as SpanKind,
      attributes: toAttributes(options?.attributes),
      links,
      startTime: toTime(options?.startTime),
      parent,
    });
    return bridge.wrap(span);
  }

  startActiveSpan(name: string, ...rest: unknown[]): unknown {
    const fn = rest[rest.length - 1];
    if (typeof fn !== "function") return undefined;
    const options = (rest.length >= 2 ? rest[0] : undefined) as
      | OtelSpanOptions
      | undefined;
    const context = (rest.length >= 3 ? rest[1] : undefined) as
      | OtelContext
      | undefined;
    const api = this.#bridge.api;
    const parentContext = context ?? api.context.active();
    const span = this.startSpan(name, options, parentContext);
    const ctx = api.trace.setSpan(parentContext, span as never);
    return this.#bridge.with(
      ctx,
      () => (fn as (span: OtelSpan) => unknown)(span),
    );
  }
}

/** A carrier for a span context the API holds (a remote parent, a non-recording span). */
class ForeignCarrier implements SpanContextCarrier {
  #ctx: SpanContext;
  constructor(ctx: SpanContext) {
    this.#ctx = ctx;
  }
  spanContext(): SpanContext {
    return this.#ctx;
  }
}

interface Frame {
  readonly context: OtelContext;
  readonly carrier: SpanContextCarrier | undefined;
  /** This library's baggage made from the context's API baggage, if it had any. */
  readonly baggage: Baggage | undefined;
}

/** What the bridge reads of an API `Baggage`. */
interface OtelBaggage {
  getAllEntries(): [string, { value: string; metadata?: unknown }][];
}

class Bridge {
  readonly api: OtelApi;
  readonly frames = new AsyncLocalStorage<Frame>();
  readonly #wrapped = new WeakMap<Span, BridgedSpan>();
  readonly #carriers = new WeakMap<object, SpanContextCarrier>();
  readonly #toOtelBaggage = new WeakMap<Baggage, unknown>();
  readonly #fromOtelBaggage = new WeakMap<object, Baggage>();

  constructor(api: OtelApi) {
    this.api = api;
  }

  wrap(span: Span): BridgedSpan {
    let wrapped = this.#wrapped.get(span);
    if (wrapped === undefined) {
      wrapped = new BridgedSpan(span, this.api);
      this.#wrapped.set(span, wrapped);
    }
    return wrapped;
  }

  /** A span context as the API's type, trace state included. */
  toOtel(sc: SpanContext): OtelSpanContext {
    const otel: OtelSpanContext = {
      traceId: sc.traceId,
      spanId: sc.spanId,
      traceFlags: sc.traceFlags,
      isRemote: sc.isRemote === true,
    };
    if (sc.traceState !== undefined && this.api.createTraceState) {
      otel.traceState = this.api.createTraceState(sc.traceState);
    }
    return otel;
  }

  /** This library's carrier for the span an API context holds. */
  carrierOf(ctx: OtelContext): SpanContextCarrier | undefined {
    const span = this.api.trace.getSpan(ctx) as
      | { spanContext?: () => OtelSpanContext }
      | undefined;
    if (span === undefined || span === null) return undefined;
    if (span instanceof BridgedSpan) return span.inner;
    let carrier = this.#carriers.get(span);
    if (carrier === undefined && typeof span.spanContext === "function") {
      carrier = new ForeignCarrier(fromOtelContext(span.spanContext()));
      this.#carriers.set(span, carrier);
    }
    return carrier;
  }

  /** This library's baggage as an API `Baggage` (one conversion per baggage). */
  otelBaggage(baggage: Baggage): unknown {
    let otel = this.#toOtelBaggage.get(baggage);
    if (otel === undefined) {
      const api = this.api;
      const entries: Record<string, { value: string; metadata?: unknown }> = {};
      for (const [key, entry] of baggage) {
        entries[key] = entry.metadata !== undefined &&
            api.baggageEntryMetadataFromString !== undefined
          ? {
            value: entry.value,
            metadata: api.baggageEntryMetadataFromString(entry.metadata),
          }
          : { value: entry.value };
      }
      otel = api.propagation.createBaggage(entries);
      this.#toOtelBaggage.set(baggage, otel);
      if (otel !== null && typeof otel === "object") {
        this.#fromOtelBaggage.set(otel, baggage);
      }
    }
    return otel;
  }

  /** An API `Baggage` as this library's baggage, or undefined when it is not one. */
  ourBaggage(otel: unknown): Baggage | undefined {
    if (otel === null || typeof otel !== "object") return undefined;
    let baggage = this.#fromOtelBaggage.get(otel);
    if (baggage !== undefined) return baggage;
    const all = (otel as Partial<OtelBaggage>).getAllEntries;
    if (typeof all !== "function") return undefined;
    const map = new Map<string, { value: string; metadata?: string }>();
    for (const [key, entry] of all.call(otel)) {
      if (typeof key !== "string" || typeof entry?.value !== "string") {
        continue;
      }
      let metadata: unknown;
      try {
        metadata = entry.metadata === undefined
          ? undefined
          : String(entry.metadata);
      } catch {
        metadata = undefined;
      }
      map.set(
        key,
        typeof metadata === "string" && metadata !== ""
          ? { value: entry.value, metadata }
          : { value: entry.value },
      );
    }
    baggage = map;
    this.#fromOtelBaggage.set(otel, baggage);
    return baggage;
  }

  /**
   * The API's view of the active context: its own frame, with this
   * library's active span (and baggage) if that is newer.
   */
  active(): OtelContext {
    const frame = this.frames.getStore();
    const ours = activeSpan();
    let ctx = frame?.context ?? this.api.ROOT_CONTEXT;
    if (ours !== (frame?.carrier)) {
      if (ours === undefined) ctx = this.api.trace.deleteSpan(ctx);
      else {
        const span = ours instanceof Span
          ? this.wrap(ours)
          : this.api.trace.wrapSpanContext(this.toOtel(ours.spanContext()));
        ctx = this.api.trace.setSpan(ctx, span as never);
      }
    }
    const baggage = activeBaggage();
    if (baggage !== undefined && baggage !== frame?.baggage) {
      // Baggage set by this library (an incoming request's) after the
      // API's frame: code on the API sees it through getBaggage.
      ctx = this.api.propagation.setBaggage(
        ctx,
        this.otelBaggage(baggage) as never,
      );
    }
    return ctx;
  }

  with<T>(ctx: OtelContext, fn: () => T): T {
    const carrier = this.carrierOf(ctx);
    let baggage: Baggage | undefined;
    try {
      baggage = this.ourBaggage(this.api.propagation.getBaggage(ctx));
    } catch {
      baggage = undefined; // a hostile baggage object: keep ours as it is
    }
    const frame: Frame = { context: ctx, carrier, baggage };
    // Running with an undefined store clears this library's active span,
    // as an API context without a span means "no active span".
    const run = baggage === undefined || baggage === activeBaggage()
      ? fn
      : () => withBaggage(baggage, fn);
    return this.frames.run(
      frame,
      () => withActiveSpan(carrier as SpanContextCarrier, run),
    );
  }
}

class BridgedContextManager {
  #bridge: Bridge;
  constructor(bridge: Bridge) {
    this.#bridge = bridge;
  }
  active(): OtelContext {
    return this.#bridge.active();
  }
  with<A extends unknown[], R>(
    context: OtelContext,
    fn: (...args: A) => R,
    thisArg?: unknown,
    ...args: A
  ): R {
    return this.#bridge.with(context, () => fn.call(thisArg, ...args));
  }
  bind<T>(context: OtelContext, target: T): T {
    if (typeof target !== "function") return target;
    // deno-lint-ignore no-this-alias
    const manager = this;
    const bound = function (this: unknown, ...args: unknown[]) {
      return manager.with(
        context,
        () => (target as (...a: unknown[]) => unknown).apply(this, args),
      );
    };
    return bound as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

class BridgedTracerProvider {
  #provider: TracerProvider;
  #bridge: Bridge;
  constructor(provider: TracerProvider, bridge: Bridge) {
    this.#provider = provider;
    this.#bridge = bridge;
  }
  getTracer(
    name: string,
    version?: string,
    options?: { schemaUrl?: string },
  ): BridgedTracer {
    return new BridgedTracer(
      this.#provider.getTracer(String(name), version, {
        schemaUrl: options?.schemaUrl,
      }),
      this.#bridge,
    );
  }
}

interface OtelLogRecord {
  timestamp?: OtelTimeInput;
  observedTimestamp?: OtelTimeInput;
  severityNumber?: number;
  severityText?: string;
  body?: unknown;
  attributes?: Record<string, unknown>;
  context?: OtelContext;
  eventName?: string;
}

class BridgedLoggerProvider {
  #provider: LoggerProvider;
  #bridge: Bridge;
  constructor(provider: LoggerProvider, bridge: Bridge) {
    this.#provider = provider;
    this.#bridge = bridge;
  }
  getLogger(name: string, version?: string, options?: { schemaUrl?: string }) {
    const logger = this.#provider.getLogger(String(name), version, {
      schemaUrl: options?.schemaUrl,
    });
    const bridge = this.#bridge;
    return {
      emit(record: OtelLogRecord): void {
        if (record === null || typeof record !== "object") return;
        let trace: SpanContext | undefined;
        if (record.context !== undefined) {
          trace = bridge.carrierOf(record.context)?.spanContext();
        }
        logger.emit({
          timestamp: toTime(record.timestamp),
          observedTimestamp: toTime(record.observedTimestamp),
          severityNumber: record.severityNumber,
          severityText: record.severityText,
          body: record.body as AnyValue,
          attributes: toAttributes(record.attributes),
          eventName: record.eventName,
          ...(trace === undefined ? {} : {
            traceId: trace.traceId,
            spanId: trace.spanId,
            traceFlags: trace.traceFlags,
          }),
        });
      },
      enabled(
        options?: { severityNumber?: number; eventName?: string },
      ): boolean {
        return logger.enabled(options?.severityNumber, options?.eventName);
      },
    };
  }
}

class BridgedPropagator {
  #propagator: TextMapPropagator;
  #api: OtelApi;
  constructor(propagator: TextMapPropagator, api: OtelApi) {
    this.#propagator = propagator;
    this.#api = api;
  }
  fields(): string[] {
    return [...this.#propagator.fields];
  }
  inject(
    context: OtelContext,
    carrier: unknown,
    setter: { set(carrier: unknown, key: string, value: string): void },
  ): void {
    const api = this.#api;
    const span = api.trace.getSpan(context) as {
      spanContext?: () => OtelSpanContext;
    } | undefined;
    const out: { spanContext?: SpanContext; baggage?: Baggage } = {};
    if (span && typeof span.spanContext === "function") {
      out.spanContext = fromOtelContext(span.spanContext());
    }
    const baggage = api.propagation.getBaggage(context) as
      | {
        getAllEntries(): [
          string,
          { value: string; metadata?: { toString(): string } },
        ][];
      }
      | undefined;
    if (baggage && typeof baggage.getAllEntries === "function") {
      const map = new Map<string, { value: string; metadata?: string }>();
      for (const [key, entry] of baggage.getAllEntries()) {
        const metadata = entry.metadata?.toString();
        map.set(
          key,
          metadata ? { value: entry.value, metadata } : { value: entry.value },
        );
      }
      out.baggage = map;
    }
    this.#propagator.inject({ set: (k, v) => setter.set(carrier, k, v) }, out);
  }
  extract(
    context: OtelContext,
    carrier: unknown,
    getter: {
      get(carrier: unknown, key: string): string | string[] | undefined;
    },
  ): OtelContext {
    const headers: HeaderGetter = {
      get(name: string): string | null {
        const v = getter.get(carrier, name);
        return Array.isArray(v)
          ? v.join(", ")
          : typeof v === "string"
          ? v
          : null;
      },
    };
    const found: PropagationContext = this.#propagator.extract(headers, {});
    const api = this.#api;
    let ctx = context;
    const sc = found.spanContext;
    if (sc !== undefined) {
      const otel: OtelSpanContext = {
        traceId: sc.traceId,
        spanId: sc.spanId,
        traceFlags: sc.traceFlags,
        isRemote: true,
      };
      if (sc.traceState !== undefined && api.createTraceState) {
        otel.traceState = api.createTraceState(sc.traceState);
      }
      ctx = api.trace.setSpanContext(ctx, otel);
    }
    if (found.baggage !== undefined && found.baggage.size > 0) {
      const entries: Record<string, { value: string; metadata?: unknown }> = {};
      for (const [key, entry] of found.baggage) {
        entries[key] = entry.metadata !== undefined &&
            api.baggageEntryMetadataFromString !== undefined
          ? {
            value: entry.value,
            metadata: api.baggageEntryMetadataFromString(entry.metadata),
          }
          : { value: entry.value };
      }
      ctx = api.propagation.setBaggage(
        ctx,
        api.propagation.createBaggage(entries) as never,
      );
    }
    return ctx;
  }
}

/**
 * Registers this library with the OpenTelemetry API: the tracer provider,
 * the logger provider (with `logsApi`), a context manager sharing the active
 * span both ways, and the propagator. A global the API refuses (another one
 * is registered, or Deno's built-in OpenTelemetry owns it with
 * `OTEL_DENO=true`) is reported in one diagnostic naming the fix, and left
 * out of `registered`.
 *
 * @param options The API modules and what to register.
 * @returns The registration; `unregister()` or `using` undoes it.
 * @throws {TypeError} When `options.api` is not the `@opentelemetry/api` module.
 *
 * @example Logs through the API carry the API's active span
 * ```ts
 * import * as api from "@opentelemetry/api";
 * import * as logsApi from "@opentelemetry/api-logs";
 * import { InMemoryExporter, LoggerProvider, type LogRecordData, SimpleLogRecordProcessor, TracerProvider } from "@seed/telemetry";
 * import { registerOtelApi } from "@seed/telemetry/otel-api";
 * import assert from "node:assert/strict";
 *
 * const logs = new InMemoryExporter<LogRecordData>();
 * await using loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(logs)] });
 * await using tracerProvider = new TracerProvider();
 * using _bridge = registerOtelApi({ api, logsApi, tracerProvider, loggerProvider, env: () => undefined });
 * api.trace.getTracer("lib").startActiveSpan("op", (span) => {
 *   logsApi.logs.getLogger("lib").emit({ severityNumber: 9, body: "inside" });
 *   span.end();
 *   assert.equal(span.spanContext().spanId.length, 16);
 * });
 * await loggerProvider.forceFlush();
 * assert.equal(logs.items[0].body, "inside");
 * assert.equal(logs.items[0].traceId?.length, 32);
 * ```
 */
export function registerOtelApi(
  options: OtelApiBridgeOptions,
): OtelApiRegistration {
  const api = options?.api;
  if (
    api === null || typeof api !== "object" ||
    typeof api.trace?.setGlobalTracerProvider !== "function" ||
    typeof api.context?.setGlobalContextManager !== "function"
  ) {
    throw new TypeError(
      'Cannot register with the OpenTelemetry API: options.api must be the module (import * as api from "@opentelemetry/api")',
    );
  }
  if (options.loggerProvider !== undefined && options.logsApi === undefined) {
    throw new TypeError(
      'Cannot register loggerProvider without options.logsApi (import * as logsApi from "@opentelemetry/api-logs")',
    );
  }
  const diagnostics = options.diagnostics ?? consoleDiagnosticSink;
  const denoOwns = readBooleanEnv("OTEL_DENO", options);
  const bridge = new Bridge(api);
  const registered:
    ("tracerProvider" | "loggerProvider" | "contextManager" | "propagator")[] =
      [];
  const refused: string[] = [];
  const attempt = (
    name: "tracerProvider" | "loggerProvider" | "contextManager" | "propagator",
    register: () => unknown,
  ) => {
    let ok: unknown;
    try {
      ok = register();
    } catch {
      ok = false;
    }
    if (ok === false) refused.push(name);
    else registered.push(name);
  };
  if (options.tracerProvider !== undefined) {
    const provider = new BridgedTracerProvider(options.tracerProvider, bridge);
    attempt(
      "tracerProvider",
      () => api.trace.setGlobalTracerProvider(provider),
    );
  }
  if (options.loggerProvider !== undefined && options.logsApi !== undefined) {
    const provider = new BridgedLoggerProvider(options.loggerProvider, bridge);
    const logsApi = options.logsApi;
    attempt(
      "loggerProvider",
      () => logsApi.logs.setGlobalLoggerProvider(provider as never),
    );
  }
  if (options.contextManager !== false) {
    attempt(
      "contextManager",
      () =>
        api.context.setGlobalContextManager(new BridgedContextManager(bridge)),
    );
  }
  const propagator = new BridgedPropagator(
    options.propagator ?? propagatorFromEnv(options),
    api,
  );
  attempt("propagator", () => api.propagation.setGlobalPropagator(propagator));
  if (denoOwns || refused.length > 0) {
    reportDiagnostic(
      diagnostics,
      "registerOtelApi",
      "warn",
      denoOwns
        ? `Deno's built-in OpenTelemetry (OTEL_DENO=true) owns the @opentelemetry/api globals${
          refused.length > 0 ? ` (refused: ${refused.join(", ")})` : ""
        }, so instrumentation written against the API goes to Deno's exporter, not to @seed/telemetry; unset OTEL_DENO to route it into this pipeline`
        : `The OpenTelemetry API refused ${
          refused.join(", ")
        }: another one is registered; call its disable() (e.g. api.trace.disable()) before registerOtelApi`,
    );
  }
  let done = false;
  const unregister = () => {
    if (done) return;
    done = true;
    for (const name of registered) {
      try {
        if (name === "tracerProvider") api.trace.disable();
        else if (name === "contextManager") api.context.disable();
        else if (name === "propagator") api.propagation.disable();
        else options.logsApi?.logs.disable();
      } catch {
        // A disable that throws leaves that global as it is.
      }
    }
  };
  return { registered, unregister, [Symbol.dispose]: unregister };
}
