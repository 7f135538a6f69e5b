/**
 * The traces entry point: a {@linkcode TracerProvider} owns the resource,
 * span limits, sampler and processors, and hands out {@linkcode Tracer}s.
 * The default sampler is `parentbased_always_on`: every root span is
 * sampled, and a child follows its parent's sampled flag. Unsampled spans
 * still carry context but never reach the processors.
 *
 * @module
 */

import type { Attributes, AttributeSanitizer } from "../attributes.ts";
import {
  ProviderCore,
  readScopeArgs,
  scopeKey,
  scopeOf,
} from "../_dispatch.ts";
import type { EnvReadOptions } from "../env.ts";
import type { DiagnosticSink } from "../diagnostics.ts";
import { readLimitsEnv, readSamplerEnv, type SamplerName } from "../env.ts";
import { randomSpanId, randomTraceId } from "../ids.ts";
import type { SpanProcessor } from "../processor.ts";
import type { Resource } from "../resource.ts";
import type { InstrumentationScope } from "../scope.ts";
import {
  ADOPT_ATTRIBUTES,
  createSpanSharedState,
  Span,
  type SpanCounters,
  type SpanKind,
  type SpanLimits,
  type SpanLinkInput,
  type SpanSharedState,
  trustedSpanInit,
} from "./span.ts";
import type { TimeInput } from "../time.ts";
import {
  activeSpan,
  sanitizeSpanContext,
  type SpanContext,
  type SpanContextCarrier,
  TRACE_FLAG_SAMPLED,
  withActiveSpan,
} from "../trace_context.ts";

/**
 * Options of {@linkcode TracerProvider}.
 *
 * @example
 * ```ts
 * import type { TracerProviderOptions } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: TracerProviderOptions = { limits: { eventCountLimit: 32 } };
 * assert.equal(options.limits?.eventCountLimit, 32);
 * ```
 */
export interface TracerProviderOptions extends EnvReadOptions {
  /**
   * The resource shared by every span.
   * @default {defaultResource(): SDK, runtime, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME}
   */
  readonly resource?: Resource;
  /**
   * The processors, called in order for every span.
   * @default {[]}
   */
  readonly processors?: readonly SpanProcessor[];
  /**
   * Span limits; unset fields come from `OTEL_SPAN_*`, `OTEL_EVENT_*`, `OTEL_LINK_*`, `OTEL_ATTRIBUTE_*`.
   * @default {128 for every count, no length limit}
   */
  readonly limits?: SpanLimits;
  /**
   * Which spans are sampled (the names of `OTEL_TRACES_SAMPLER`).
   * @default {OTEL_TRACES_SAMPLER, else "parentbased_always_on"}
   */
  readonly sampler?: SamplerName;
  /**
   * The ratio of the `traceidratio` samplers, from 0 to 1.
   * @default {OTEL_TRACES_SAMPLER_ARG, else 1}
   */
  readonly samplerRatio?: number;
  /**
   * Turns the SDK off: spans still carry context but reach no processor.
   * @default {OTEL_SDK_DISABLED, else false}
   */
  readonly disabled?: boolean;
  /**
   * Where processor errors and bad environment values are reported.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

/**
 * Options of {@linkcode Tracer.startSpan}.
 *
 * @example
 * ```ts
 * import { SpanKind, type StartSpanOptions } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: StartSpanOptions = { kind: SpanKind.SERVER, attributes: { "http.request.method": "GET" } };
 * assert.equal(options.kind, 1);
 * ```
 */
export interface StartSpanOptions {
  /**
   * The span's kind.
   * @default {SpanKind.INTERNAL}
   */
  readonly kind?: SpanKind;
  /** Initial attributes. */
  readonly attributes?: Attributes;
  /** Links to other spans. */
  readonly links?: readonly SpanLinkInput[];
  /**
   * The start time.
   * @default {now}
   */
  readonly startTime?: TimeInput;
  /**
   * The parent: a span, a (remote) span context, or `null` for a new trace.
   * @default {the active span, if any}
   */
  readonly parent?: SpanContextCarrier | SpanContext | null;
}

/**
 * Options of {@linkcode TracerProvider.getTracer}.
 *
 * @example
 * ```ts
 * import type { TracerOptions } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: TracerOptions = { attributes: { component: "db" } };
 * assert.equal(options.attributes?.component, "db");
 * ```
 */
export interface TracerOptions {
  /** The scope's schema URL. */
  readonly schemaUrl?: string;
  /** The scope's attributes. */
  readonly attributes?: Attributes;
}

/**
 * Counters of a tracer provider.
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * await using provider = new TracerProvider();
 * provider.getTracer("t").startSpan("s").end();
 * assert.equal(provider.stats.spansEnded, 1);
 * ```
 */
export interface TracerProviderStats {
  /** Spans started (sampled or not). */
  readonly spansStarted: number;
  /** Spans ended (sampled or not). */
  readonly spansEnded: number;
  /** Of `spansEnded`, sampled spans that ended after `shutdown()` and so reached no processor. */
  readonly spansEndedAfterShutdown: number;
  /** Errors thrown by processors on the hot path (contained, never rethrown). */
  readonly processorErrors: number;
  /**
   * Times (start, end, event times) out of range or malformed, replaced by
   * now (see `toExactTime`).
   */
  readonly invalidTimes: number;
  /** Attributes (of spans, events and links) dropped by the count limits. */
  readonly attributesOverLimit: number;
  /** Attribute values dropped because they cannot be represented (or reading them threw). */
  readonly invalidValues: number;
  /** Attribute values converted to a representable kind. */
  readonly convertedValues: number;
  /** Strings and bytes cut to the value length limit. */
  readonly truncatedValues: number;
  /** Attribute values cut at `MAX_VALUE_NODES` / `MAX_VALUE_SIZE`. */
  readonly cutValues: number;
  /** Parents and links whose context was invalid (dropped), or whose flags were replaced by 0. */
  readonly invalidTraceContexts: number;
  /** Trace states dropped (not a valid W3C `tracestate`). */
  readonly invalidTraceStates: number;
  /** Span kinds that were not an integer 0-4 (replaced by `INTERNAL`). */
  readonly invalidKinds: number;
  /** Statuses that were not `{ code: 0 | 1 | 2 }` (ignored). */
  readonly invalidStatuses: number;
  /** Links dropped because the link or its context was invalid. */
  readonly invalidLinks: number;
  /** Span API calls whose arguments threw when read (contained). */
  readonly apiErrors: number;
}

/** A resolved sampler: parent-based or not, and the ratio for root spans (1 = always, 0 = never). */
interface Sampling {
  readonly parentBased: boolean;
  readonly ratio: number;
}

const DEFAULT_SAMPLING: Sampling = { parentBased: true, ratio: 1 };

// TraceIdRatioBased: sampled when the trace id's low 52 bits, as a fraction,
// fall below the ratio, so every service given the same ratio agrees.
function sampleRoot(ratio: number, traceId: string): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return parseInt(traceId.slice(19), 16) / 2 ** 52 < ratio;
}

function resolveSampling(sampler: SamplerName, ratio: number): Sampling {
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new RangeError(
      `Cannot create TracerProvider with samplerRatio ${ratio}: expected a number from 0 to 1`,
    );
  }
  const base = sampler.replace("parentbased_", "");
  return {
    parentBased: sampler.startsWith("parentbased_"),
    ratio: base === "always_on" ? 1 : base === "always_off" ? 0 : ratio,
  };
}

/**
 * The valid context of a parent option: a span of this library as it is
 * (it validated itself), anything else through `sanitizeSpanContext`.
 * Never throws; an invalid parent counts and gives `undefined` (a new trace).
 */
function parentContext(
  parent: SpanContextCarrier | SpanContext,
  counters: SpanCounters,
): SpanContext | undefined {
  if (Span.isSpan(parent)) return parent.spanContext();
  try {
    const carrier = parent as SpanContextCarrier;
    return sanitizeSpanContext(
      typeof carrier.spanContext === "function"
        ? carrier.spanContext()
        : parent,
      counters,
    );
  } catch {
    counters.invalidTraceContexts++;
    return undefined;
  }
}

const NO_OPTIONS: StartSpanOptions = Object.freeze({});

/**
 * A {@linkcode StartSpanOptions} key for this library's own instrumentation
 * (internal; not exported from the package). Its value is a bit set of
 * {@linkcode START_ADOPT_ATTRIBUTES} and {@linkcode START_PARENT_VALID}.
 */
export const START_FLAGS: unique symbol = Symbol("seed.startFlags");
/** The span may keep `options.attributes` (built for it, never touched again). */
export const START_ADOPT_ATTRIBUTES = 1;
/**
 * `options.parent` is a plain span context this library's propagator just
 * parsed (lowercase non-zero ids, flags 0-255) that nobody else has seen:
 * its ids are not checked again. A trace state still is.
 */
export const START_PARENT_VALID = 2;

/** What this library's instrumentation passes to `startSpan` (internal). */
export interface InternalStartSpanOptions extends StartSpanOptions {
  readonly [START_FLAGS]?: number;
}

/**
 * Starts spans for one instrumentation scope.
 *
 * @example Parent and child across an await
 * ```ts
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using provider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * const tracer = provider.getTracer("example");
 * await tracer.startActiveSpan("parent", async (parent) => {
 *   await Promise.resolve();
 *   tracer.startSpan("child").end();
 *   parent.end();
 * });
 * await provider.forceFlush();
 * const [child, parent] = exporter.items;
 * assert.equal(child.parentSpanId, parent.spanId);
 * assert.equal(child.traceId, parent.traceId);
 * ```
 */
export class Tracer {
  /** The tracer's scope. */
  readonly scope: InstrumentationScope;
  #shared: SpanSharedState;
  #counters: { started: number };
  #onStart: ((span: Span, parent: SpanContext | undefined) => void) | undefined;
  #sampling: Sampling;

  /**
   * Creates a tracer. Use {@linkcode TracerProvider.getTracer} instead.
   *
   * @param shared What the tracer shares with its spans.
   * @param counters The provider's counters.
   * @param onStart Called with every sampled span when it starts.
   * @param sampling The provider's sampler.
   */
  constructor(
    shared: SpanSharedState,
    counters: { started: number },
    onStart?: (span: Span, parent: SpanContext | undefined) => void,
    sampling: Sampling = DEFAULT_SAMPLING,
  ) {
    this.#shared = shared;
    this.scope = shared.scope;
    this.#counters = counters;
    this.#onStart = onStart;
    this.#sampling = sampling;
  }

  /**
   * Starts a span. Its parent is `options.parent`, else the active span;
   * it is not made active (see {@linkcode Tracer.startActiveSpan}).
   *
   * @param name The span's name.
   * @param options Kind, attributes, links, start time, parent.
   * @returns The span; call `end()` on it.
   */
  startSpan(name: string, options?: StartSpanOptions): Span {
    this.#counters.started++;
    const counters = this.#shared.counters;
    let opts = options ?? NO_OPTIONS;
    let parentOption: StartSpanOptions["parent"];
    let kind: StartSpanOptions["kind"];
    let startTime: StartSpanOptions["startTime"];
    let attributes: StartSpanOptions["attributes"];
    let links: StartSpanOptions["links"];
    let flags: unknown = 0;
    try {
      if (typeof opts !== "object") throw new TypeError("options");
      parentOption = opts.parent;
      kind = opts.kind;
      startTime = opts.startTime;
      attributes = opts.attributes;
      links = opts.links;
      flags = (opts as InternalStartSpanOptions)[START_FLAGS];
    } catch {
      // Unreadable options: a root-or-active span with defaults.
      counters.apiErrors++;
      opts = NO_OPTIONS;
      parentOption =
        kind =
        startTime =
        attributes =
        links =
        flags =
          undefined;
    }
    const carrier = parentOption === undefined ? activeSpan() : parentOption;
    const parent = carrier === null || carrier === undefined
      ? undefined
      : typeof flags === "number" && (flags & START_PARENT_VALID) !== 0 &&
          (carrier as SpanContext).traceState === undefined
      ? carrier as SpanContext
      : parentContext(carrier, counters);
    const hasParent = parent !== undefined;
    const traceId = hasParent ? parent.traceId : randomTraceId();
    const sampling = this.#sampling;
    const sampled = hasParent && sampling.parentBased
      ? (parent.traceFlags & TRACE_FLAG_SAMPLED) !== 0
      : sampleRoot(sampling.ratio, traceId);
    // One shared init object instead of one per span (the span reads it
    // all on entry; see trustedSpanInit), cleared after so it keeps no
    // name, parent, time, attributes or links alive.
    const init = trustedSpanInit;
    init.name = name;
    init.kind = kind;
    init.traceId = traceId;
    init.spanId = randomSpanId();
    init.traceFlags = sampled ? TRACE_FLAG_SAMPLED : 0;
    init.traceState = hasParent ? parent.traceState : undefined;
    init.parent = parent;
    init.startTime = startTime;
    init.attributes = attributes;
    init.links = links;
    init[ADOPT_ATTRIBUTES] = typeof flags === "number" &&
      (flags & START_ADOPT_ATTRIBUTES) !== 0;
    let span: Span;
    try {
      span = new Span(init, this.#shared);
    } finally {
      init.name = "";
      init.parent = undefined;
      init.startTime = undefined;
      init.attributes = undefined;
      init.links = undefined;
      init.traceState = undefined;
    }
    if (
      this.#onStart !== undefined &&
      (span.traceFlags & TRACE_FLAG_SAMPLED) !== 0
    ) {
      this.#onStart(span, hasParent ? parent : undefined);
    }
    return span;
  }

  /**
   * Starts a span and runs `fn` with it active (across every `await` in
   * `fn`). The span is not ended for you. Without a function it starts
   * nothing, counts `apiErrors` and returns `undefined`.
   *
   * @param name The span's name.
   * @param fn Receives the span; its result is returned.
   * @returns What `fn` returns.
   */
  startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
  /**
   * Starts a span with options and runs `fn` with it active.
   *
   * @param name The span's name.
   * @param options Kind, attributes, links, start time, parent.
   * @param fn Receives the span; its result is returned.
   * @returns What `fn` returns.
   */
  startActiveSpan<T>(
    name: string,
    options: StartSpanOptions,
    fn: (span: Span) => T,
  ): T;
  startActiveSpan<T>(
    name: string,
    optionsOrFn: StartSpanOptions | ((span: Span) => T),
    maybeFn?: (span: Span) => T,
  ): T {
    const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn;
    if (typeof fn !== "function") {
      // Nothing to run: no span either (counted; the API never throws).
      this.#shared.counters.apiErrors++;
      return undefined as T;
    }
    const span = this.startSpan(
      name,
      typeof optionsOrFn === "function" ? undefined : optionsOrFn,
    );
    return withActiveSpan(span, () => fn(span));
  }
}

/**
 * Owns the resource, span limits and processors of traces, and hands out
 * tracers. `await using` (or `shutdown()`) flushes and shuts every processor
 * down.
 *
 * @example
 * ```ts
 * import { BatchSpanProcessor, ConsoleSpanExporter, TracerProvider } from "@seed/telemetry";
 *
 * await using provider = new TracerProvider({ processors: [new BatchSpanProcessor(new ConsoleSpanExporter())] });
 * const span = provider.getTracer("app").startSpan("boot");
 * span.end();
 * ```
 */
export class TracerProvider {
  /** The resource shared by every span. */
  readonly resource: Resource;
  #core: ProviderCore<SpanProcessor>;
  #limits: SpanLimits;
  #tracers = new Map<string, Tracer>();
  #counters = { started: 0, ended: 0, afterShutdown: 0 };
  #template: SpanSharedState;
  #onEnd: (span: Span) => void;
  #onStart: ((span: Span, parent: SpanContext | undefined) => void) | undefined;
  #sampling: Sampling;

  /**
   * Creates a provider.
   *
   * @param options Resource, processors, limits, environment.
   * @throws {TypeError} When a processor is not an object.
   * @throws {RangeError} When a limit is negative or not an integer, or the sampler ratio is outside [0, 1].
   */
  constructor(options: TracerProviderOptions = {}) {
    const core = new ProviderCore(
      "TracerProvider",
      options,
      options.processors,
    );
    this.#core = core;
    this.resource = core.resource;
    const env = readLimitsEnv("traces", options);
    const limits = options.limits ?? {};
    this.#limits = {
      attributeCountLimit: limits.attributeCountLimit ??
        env.attributeCountLimit,
      attributeValueLengthLimit: limits.attributeValueLengthLimit ??
        env.attributeValueLengthLimit,
      eventCountLimit: limits.eventCountLimit ?? env.eventCountLimit,
      linkCountLimit: limits.linkCountLimit ?? env.linkCountLimit,
      eventAttributeCountLimit: limits.eventAttributeCountLimit ??
        env.eventAttributeCountLimit,
      linkAttributeCountLimit: limits.linkAttributeCountLimit ??
        env.linkAttributeCountLimit,
    };
    const samplerEnv = readSamplerEnv(options);
    this.#sampling = resolveSampling(
      options.sampler ?? samplerEnv.sampler ?? "parentbased_always_on",
      options.samplerRatio ?? samplerEnv.ratio ?? 1,
    );
    // Validate once, up front, so a bad limit fails here and not at getTracer;
    // every tracer shares this state's sanitizers and counters.
    this.#template = createSpanSharedState(
      this.resource,
      { name: "" },
      this.#limits,
      () => {},
    );
    const processors = core.disabled ? [] : core.processors;
    const counters = this.#counters;
    this.#onEnd = (span: Span) => {
      counters.ended++;
      if ((span.traceFlags & TRACE_FLAG_SAMPLED) === 0) return;
      if (core.shutDown) {
        counters.afterShutdown++;
        return;
      }
      for (let i = 0; i < processors.length; i++) {
        try {
          processors[i].onEnd(span);
        } catch (error) {
          core.processorThrew(processors[i], error);
        }
      }
    };
    const starters = processors.filter((p) => typeof p.onStart === "function");
    if (starters.length > 0) {
      this.#onStart = (span: Span, parent: SpanContext | undefined) => {
        if (core.shutDown) return;
        for (let i = 0; i < starters.length; i++) {
          try {
            starters[i].onStart!(span, parent);
          } catch (error) {
            core.processorThrew(starters[i], error);
          }
        }
      };
    }
  }

  /** Whether the SDK is disabled (option or `OTEL_SDK_DISABLED`). */
  get disabled(): boolean {
    return this.#core.disabled;
  }

  /** The counters, as of now. */
  get stats(): TracerProviderStats {
    const t = this.#template;
    const s = [t.sanitizer, t.eventSanitizer, t.linkSanitizer];
    const sum = (f: (x: AttributeSanitizer) => number) =>
      f(s[0]) + f(s[1]) + f(s[2]);
    const c = t.counters;
    return {
      spansStarted: this.#counters.started,
      spansEnded: this.#counters.ended,
      spansEndedAfterShutdown: this.#counters.afterShutdown,
      processorErrors: this.#core.processorErrors,
      invalidTimes: c.invalidTimes,
      attributesOverLimit: sum((x) => x.overLimit),
      invalidValues: sum((x) => x.invalid),
      convertedValues: sum((x) => x.converted),
      truncatedValues: sum((x) => x.truncated),
      cutValues: sum((x) => x.cut),
      invalidTraceContexts: c.invalidTraceContexts,
      invalidTraceStates: c.invalidTraceStates,
      invalidKinds: c.invalidKinds,
      invalidStatuses: c.invalidStatuses,
      invalidLinks: c.invalidLinks,
      apiErrors: c.apiErrors + this.#core.apiErrors,
    };
  }

  /**
   * Returns the tracer of one instrumentation scope (the same object for the
   * same name, version and schema URL).
   *
   * @param name The scope's name.
   * @param version The scope's version.
   * @param options The scope's schema URL and attributes.
   * @returns The tracer.
   */
  getTracer(
    name: string,
    version?: string,
    options?: TracerOptions,
  ): Tracer {
    const args = readScopeArgs(name, version, options);
    if (args.invalid) this.#core.apiErrors++;
    const key = scopeKey(args.name, args.version, args.schemaUrl);
    let tracer = this.#tracers.get(key);
    if (tracer === undefined) {
      const scope = scopeOf(args, options);
      tracer = new Tracer(
        createSpanSharedState(
          this.resource,
          scope,
          this.#limits,
          this.#onEnd,
          undefined,
          this.#template,
        ),
        this.#counters,
        this.#onStart,
        this.#sampling,
      );
      this.#tracers.set(key, tracer);
    }
    return tracer;
  }

  /**
   * Flushes every processor.
   *
   * @returns Resolves when all are flushed.
   * @throws {Error} What a processor's `forceFlush` rejected with.
   */
  forceFlush(): Promise<void> {
    return this.#core.forceFlush();
  }

  /**
   * Stops delivering spans, then flushes and shuts down every processor.
   * Idempotent.
   *
   * @returns Resolves when all are shut down.
   * @throws {Error} What a processor's `shutdown` rejected with.
   */
  shutdown(): Promise<void> {
    return this.#core.shutdown();
  }

  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
