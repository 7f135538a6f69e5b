/**
 * Spans: the mutable {@linkcode Span} a tracer hands out, and the
 * {@linkcode ReadableSpan} view processors and exporters read once it has
 * ended.
 *
 * @module
 */

import {
  type AnyValue,
  type Attributes,
  AttributeSanitizer,
  DEFAULT_ATTRIBUTE_COUNT_LIMIT,
  setOwn,
} from "../attributes.ts";
import {
  isValidSpanId,
  isValidTraceId,
  randomSpanId,
  randomTraceId,
} from "../ids.ts";
import { EMPTY_ATTRIBUTES } from "../logs/log_record.ts";
import type { Resource } from "../resource.ts";
import type { InstrumentationScope } from "../scope.ts";
import {
  type ExactTime,
  nowExactTime,
  type TimeInput,
  TimeStatus,
  toExactTime,
} from "../time.ts";
import {
  isValidTraceFlags,
  isValidTraceState,
  sanitizeSpanContext,
  type SpanContext,
  type SpanContextCarrier,
  type TraceContextCounters,
} from "../trace_context.ts";

/**
 * Span kinds, numbered as the OpenTelemetry API numbers them (OTLP adds 1).
 *
 * @example
 * ```ts
 * import { SpanKind } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SpanKind.SERVER, 1);
 * ```
 */
export const SpanKind = {
  INTERNAL: 0,
  SERVER: 1,
  CLIENT: 2,
  PRODUCER: 3,
  CONSUMER: 4,
} as const;

/**
 * A span kind, 0-4.
 *
 * @example
 * ```ts
 * import type { SpanKind } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const kind: SpanKind = 2;
 * assert.equal(kind, 2);
 * ```
 */
export type SpanKind = typeof SpanKind[keyof typeof SpanKind];

/**
 * Span status codes, numbered as in OTLP.
 *
 * @example
 * ```ts
 * import { SpanStatusCode } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SpanStatusCode.ERROR, 2);
 * ```
 */
export const SpanStatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/**
 * A span status code, 0-2.
 *
 * @example
 * ```ts
 * import type { SpanStatusCode } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const code: SpanStatusCode = 1;
 * assert.equal(code, 1);
 * ```
 */
export type SpanStatusCode = typeof SpanStatusCode[keyof typeof SpanStatusCode];

/**
 * A span's status.
 *
 * @example
 * ```ts
 * import { type SpanStatus, SpanStatusCode } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const status: SpanStatus = { code: SpanStatusCode.ERROR, message: "timeout" };
 * assert.equal(status.message, "timeout");
 * ```
 */
export interface SpanStatus {
  /** The code. */
  readonly code: SpanStatusCode;
  /** A description, only kept for `ERROR`. */
  readonly message?: string;
}

/**
 * A timed event within a span.
 *
 * @example
 * ```ts
 * import type { SpanEvent } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const event: SpanEvent = { name: "retry", timeUnixMs: 1_700_000_000_000, timeNanosInMs: 0, attributes: {}, droppedAttributesCount: 0 };
 * assert.equal(event.name, "retry");
 * ```
 */
export interface SpanEvent {
  /** The event's name. */
  readonly name: string;
  /** When it happened: whole milliseconds since the epoch. */
  readonly timeUnixMs: number;
  /** The nanoseconds within {@linkcode SpanEvent.timeUnixMs}, 0-999999. */
  readonly timeNanosInMs: number;
  /** Its attributes. */
  readonly attributes: Attributes;
  /** Attributes dropped by limits or value rules. */
  readonly droppedAttributesCount: number;
}

/**
 * A link from a span to another span's context.
 *
 * @example
 * ```ts
 * import type { SpanLink } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const link: SpanLink = {
 *   traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1,
 *   attributes: {}, droppedAttributesCount: 0,
 * };
 * assert.equal(link.spanId.length, 16);
 * ```
 */
export interface SpanLink {
  /** The linked trace id. */
  readonly traceId: string;
  /** The linked span id. */
  readonly spanId: string;
  /** The linked span's trace flags. */
  readonly traceFlags: number;
  /** The linked span's trace state, if any. */
  readonly traceState?: string;
  /** Attributes of the link. */
  readonly attributes: Attributes;
  /** Attributes dropped by limits or value rules. */
  readonly droppedAttributesCount: number;
}

/**
 * A link as a caller gives it.
 *
 * @example
 * ```ts
 * import type { SpanLinkInput } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const link: SpanLinkInput = {
 *   context: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 },
 *   attributes: { reason: "batch" },
 * };
 * assert.equal(link.attributes?.reason, "batch");
 * ```
 */
export interface SpanLinkInput {
  /** The linked span's context. */
  readonly context: SpanContext;
  /** Attributes of the link. */
  readonly attributes?: Attributes;
}

/**
 * What processors and exporters read of a span. Once `ended` is `true` it
 * never changes again.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using provider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * provider.getTracer("example").startSpan("work").end();
 * await provider.forceFlush();
 * const span: ReadableSpan = exporter.items[0];
 * assert.equal(span.name, "work");
 * assert.equal(span.ended, true);
 * ```
 */
export interface ReadableSpan {
  /** The span's name. */
  readonly name: string;
  /** Its kind (API numbering, 0-4). */
  readonly kind: SpanKind;
  /** Its trace id. */
  readonly traceId: string;
  /** Its span id. */
  readonly spanId: string;
  /** Its W3C trace flags. */
  readonly traceFlags: number;
  /** Its W3C trace state, if any. */
  readonly traceState: string | undefined;
  /** The parent's span id, if it has a parent. */
  readonly parentSpanId: string | undefined;
  /** Whether the parent came from another process. */
  readonly parentIsRemote: boolean;
  /** Start time: whole milliseconds since the epoch. */
  readonly startTimeUnixMs: number;
  /** The nanoseconds within {@linkcode ReadableSpan.startTimeUnixMs}, 0-999999. */
  readonly startTimeNanosInMs: number;
  /** End time: whole milliseconds since the epoch; 0 until it ends. */
  readonly endTimeUnixMs: number;
  /** The nanoseconds within {@linkcode ReadableSpan.endTimeUnixMs}, 0-999999; 0 until it ends. */
  readonly endTimeNanosInMs: number;
  /** Its attributes. */
  readonly attributes: Attributes;
  /** Attributes dropped by limits or value rules. */
  readonly droppedAttributesCount: number;
  /** Its events. */
  readonly events: readonly SpanEvent[];
  /** Events dropped by the event count limit. */
  readonly droppedEventsCount: number;
  /** Its links. */
  readonly links: readonly SpanLink[];
  /** Links dropped by the link count limit or because they were invalid. */
  readonly droppedLinksCount: number;
  /** Its status. */
  readonly status: SpanStatus;
  /** The resource of the provider that made it. */
  readonly resource: Resource;
  /** The scope of the tracer that made it. */
  readonly scope: InstrumentationScope;
  /** Whether it has ended. */
  readonly ended: boolean;
}

/**
 * Span limits: attribute limits plus event and link limits, as the
 * OpenTelemetry specification defines them.
 *
 * @example
 * ```ts
 * import type { SpanLimits } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const limits: SpanLimits = { eventCountLimit: 16 };
 * assert.equal(limits.eventCountLimit, 16);
 * ```
 */
export interface SpanLimits {
  /**
   * The most attributes a span keeps.
   * @default {128}
   */
  readonly attributeCountLimit?: number;
  /**
   * The longest string or byte array an attribute value keeps.
   * @default {Infinity}
   */
  readonly attributeValueLengthLimit?: number;
  /**
   * The most events a span keeps.
   * @default {128}
   */
  readonly eventCountLimit?: number;
  /**
   * The most links a span keeps.
   * @default {128}
   */
  readonly linkCountLimit?: number;
  /**
   * The most attributes an event keeps.
   * @default {128}
   */
  readonly eventAttributeCountLimit?: number;
  /**
   * The most attributes a link keeps.
   * @default {128}
   */
  readonly linkAttributeCountLimit?: number;
}

/**
 * Counts of what the span API dropped or replaced at its boundary (one
 * object per provider; see `TracerProvider.stats`).
 *
 * @example
 * ```ts
 * import { createSpanCounters } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(createSpanCounters().invalidKinds, 0);
 * ```
 */
export interface SpanCounters extends TraceContextCounters {
  /** Span kinds that were not an integer 0-4, replaced by `INTERNAL`. */
  invalidKinds: number;
  /** `setStatus` calls whose status was not `{ code: 0 | 1 | 2 }`: ignored. */
  invalidStatuses: number;
  /** Links dropped because the link or its context was invalid (also in the span's `droppedLinksCount`). */
  invalidLinks: number;
  /** Span API calls whose arguments threw when read (getters, `toString`, Proxy traps): contained, the call kept what it could. */
  apiErrors: number;
  /** Times (start, end, event times) out of range or malformed, replaced by now (see `toExactTime`). */
  invalidTimes: number;
}

/**
 * New zeroed {@linkcode SpanCounters}.
 *
 * @returns The counters.
 *
 * @example
 * ```ts
 * import { createSpanCounters } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(createSpanCounters().apiErrors, 0);
 * ```
 */
export function createSpanCounters(): SpanCounters {
  return {
    invalidTraceContexts: 0,
    invalidTraceStates: 0,
    invalidKinds: 0,
    invalidStatuses: 0,
    invalidLinks: 0,
    apiErrors: 0,
    invalidTimes: 0,
  };
}

/**
 * What a tracer shares with every span it makes (internal plumbing,
 * exported for processors' tests).
 *
 * @example
 * ```ts
 * import type { SpanSharedState } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const check = (state: SpanSharedState) => state.scope.name;
 * assert.equal(typeof check, "function");
 * ```
 */
export interface SpanSharedState {
  /** The provider's resource. */
  readonly resource: Resource;
  /** The tracer's scope. */
  readonly scope: InstrumentationScope;
  /** Applies span attribute limits. */
  readonly sanitizer: AttributeSanitizer;
  /** Applies event attribute limits. */
  readonly eventSanitizer: AttributeSanitizer;
  /** Applies link attribute limits. */
  readonly linkSanitizer: AttributeSanitizer;
  /** The most events a span keeps. */
  readonly eventCountLimit: number;
  /** The most links a span keeps. */
  readonly linkCountLimit: number;
  /** Where spans count what they drop (shared by a provider's tracers). */
  readonly counters: SpanCounters;
  /** Called once when a span ends. */
  onEnd(span: Span): void;
}

/**
 * Creates the state a tracer shares with its spans.
 *
 * @param resource The provider's resource.
 * @param scope The tracer's scope.
 * @param limits The span limits.
 * @param onEnd Called once when a span ends.
 * @param counters Where spans count what they drop.
 * @param shareWith Another state whose sanitizers and counters this one shares (a provider's tracers share them).
 * @returns The shared state.
 * @throws {RangeError} When a limit is negative or not an integer.
 *
 * @example
 * ```ts
 * import { createSpanSharedState, Resource } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const state = createSpanSharedState(new Resource({}), { name: "t" }, { eventCountLimit: 4 }, () => {});
 * assert.equal(state.eventCountLimit, 4);
 * ```
 */
export function createSpanSharedState(
  resource: Resource,
  scope: InstrumentationScope,
  limits: SpanLimits,
  onEnd: (span: Span) => void,
  counters: SpanCounters = createSpanCounters(),
  shareWith?: SpanSharedState,
): SpanSharedState {
  const count = (name: string, value: number | undefined): number => {
    const v = value ?? DEFAULT_ATTRIBUTE_COUNT_LIMIT;
    if (!(v >= 0) || (v !== Infinity && !Number.isInteger(v))) {
      throw new RangeError(
        `Cannot use ${name} ${v}: expected a non-negative integer or Infinity`,
      );
    }
    return v;
  };
  if (shareWith !== undefined) {
    return {
      resource,
      scope,
      sanitizer: shareWith.sanitizer,
      eventSanitizer: shareWith.eventSanitizer,
      linkSanitizer: shareWith.linkSanitizer,
      eventCountLimit: shareWith.eventCountLimit,
      linkCountLimit: shareWith.linkCountLimit,
      counters: shareWith.counters,
      onEnd,
    };
  }
  return {
    resource,
    scope,
    sanitizer: new AttributeSanitizer(limits),
    eventSanitizer: new AttributeSanitizer({
      attributeCountLimit: limits.eventAttributeCountLimit,
      attributeValueLengthLimit: limits.attributeValueLengthLimit,
    }),
    linkSanitizer: new AttributeSanitizer({
      attributeCountLimit: limits.linkAttributeCountLimit,
      attributeValueLengthLimit: limits.attributeValueLengthLimit,
    }),
    eventCountLimit: count("eventCountLimit", limits.eventCountLimit),
    linkCountLimit: count("linkCountLimit", limits.linkCountLimit),
    counters,
    onEnd,
  };
}

/**
 * Options of {@linkcode Span}'s constructor.
 *
 * @example
 * ```ts
 * import type { SpanInit } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const init: SpanInit = { name: "s", traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 };
 * assert.equal(init.name, "s");
 * ```
 */
export interface SpanInit {
  /** The span's name. */
  readonly name: string;
  /**
   * Its kind.
   * @default {SpanKind.INTERNAL}
   */
  readonly kind?: SpanKind;
  /** Its trace id, inherited from the parent or new. */
  readonly traceId: string;
  /** Its span id. */
  readonly spanId: string;
  /** Its trace flags. */
  readonly traceFlags: number;
  /** Its trace state, inherited from the parent. */
  readonly traceState?: string;
  /** The parent's context, if any. */
  readonly parent?: SpanContext;
  /**
   * The start time (an invalid one is replaced by now, counted).
   * @default {now}
   */
  readonly startTime?: TimeInput;
  /** Initial attributes. */
  readonly attributes?: Attributes;
  /** Links given at creation. */
  readonly links?: readonly SpanLinkInput[];
}

const UNSET_STATUS: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });

/**
 * Marks a {@linkcode SpanInit} that a `Tracer` built from validated parts, so
 * the span does not check its ids and parent again (internal).
 */
export const TRUSTED_SPAN_INIT: unique symbol = Symbol("seed.trustedSpanInit");

/**
 * Marks a trusted {@linkcode SpanInit} whose `attributes` object the span
 * may keep as its own (internal): the caller built it for this span and
 * never touches it again. The span still checks it once (values, count and
 * size limits, as `setAttributes` would), but keeps it instead of copying
 * it key by key.
 */
export const ADOPT_ATTRIBUTES: unique symbol = Symbol("seed.adoptAttributes");

/** Tells whether a value is a span kind: an integer 0-4. */
function isSpanKind(kind: unknown): kind is SpanKind {
  return typeof kind === "number" && kind >= 0 && kind <= 4 &&
    (kind | 0) === kind;
}

/** A string for a name: itself, else `String(value)`; `undefined` when that throws. */
function nameOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch {
    return undefined;
  }
}

/**
 * A span in progress: set attributes, add events and links, set the status,
 * then `end()` it exactly once. Calls after `end()` are ignored. Spans are
 * made by a `Tracer`.
 *
 * @example
 * ```ts
 * import { SpanStatusCode, TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * await using provider = new TracerProvider();
 * const span = provider.getTracer("example").startSpan("checkout");
 * span.setAttribute("cart.items", 3);
 * span.addEvent("payment.authorized");
 * span.setStatus({ code: SpanStatusCode.OK });
 * span.end();
 * assert.equal(span.attributes["cart.items"], 3);
 * assert.equal(span.ended, true);
 * ```
 */
export class Span implements ReadableSpan, SpanContextCarrier {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  readonly traceState: string | undefined;
  readonly parentSpanId: string | undefined;
  readonly parentIsRemote: boolean;
  readonly kind: SpanKind;
  readonly startTimeUnixMs: number;
  readonly startTimeNanosInMs: number;
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  #name: string;
  #ended = false;
  #endTimeUnixMs = 0;
  #endTimeNanosInMs = 0;
  #attributes: Record<string, AnyValue>;
  #attributeCount = 0;
  #droppedAttributesCount = 0;
  #events: SpanEvent[] | undefined;
  #droppedEventsCount = 0;
  #links: SpanLink[] | undefined;
  #droppedLinksCount = 0;
  #status: SpanStatus = UNSET_STATUS;
  #shared: SpanSharedState;
  #context: SpanContext | undefined;

  /**
   * Creates a span. Use `Tracer.startSpan` instead unless you are writing a
   * tracer.
   *
   * @param init The span's identity and initial data.
   * @param shared What its tracer shares with it.
   */
  constructor(init: SpanInit, shared: SpanSharedState) {
    this.#shared = shared;
    const counters = shared.counters;
    // Every field is read before any of them is looked at: looking may run
    // a caller's code (a name's toString, a start time's getter, an
    // attribute getter), and a tracer hands every span the same init
    // object (see trustedSpanInit), which a span started from inside that
    // code refills.
    const trusted = (init as TrustedSpanInit)[TRUSTED_SPAN_INIT] === true;
    const adopt = trusted &&
      (init as TrustedSpanInit)[ADOPT_ATTRIBUTES] === true;
    const rawName = init.name;
    const kind = init.kind;
    let parent = init.parent;
    const traceId = init.traceId;
    const spanId = init.spanId;
    const flags = init.traceFlags;
    const state = init.traceState;
    const startTime = init.startTime;
    const attributes = init.attributes;
    const links = init.links;
    this.#name = nameOf(rawName) ?? "";
    if (kind === undefined) this.kind = SpanKind.INTERNAL;
    else if (isSpanKind(kind)) this.kind = kind;
    else {
      counters.invalidKinds++;
      this.kind = SpanKind.INTERNAL;
    }
    if (trusted) {
      this.traceId = traceId;
      this.spanId = spanId;
      this.traceFlags = flags;
      this.traceState = state;
    } else {
      // Built by hand: check what a tracer would have checked.
      if (parent !== undefined) parent = sanitizeSpanContext(parent, counters);
      const idsValid = isValidTraceId(traceId) && isValidSpanId(spanId);
      if (!idsValid || !isValidTraceFlags(flags)) {
        counters.invalidTraceContexts++;
      }
      this.traceId = idsValid ? traceId : parent?.traceId ?? randomTraceId();
      this.spanId = idsValid ? spanId : randomSpanId();
      this.traceFlags = isValidTraceFlags(flags) ? flags : 0;
      if (state !== undefined && !isValidTraceState(state)) {
        counters.invalidTraceStates++;
        this.traceState = undefined;
      } else this.traceState = state;
    }
    this.parentSpanId = parent?.spanId;
    this.parentIsRemote = parent?.isRemote === true;
    const t = scratch;
    readTimeOrNow(startTime, t, shared.counters);
    this.startTimeUnixMs = t.unixMs;
    this.startTimeNanosInMs = t.nanosInMs;
    this.resource = shared.resource;
    this.scope = shared.scope;
    if (attributes !== undefined && adopt) {
      this.#attributes = this.#adopt(attributes);
    } else {
      this.#attributes = {};
      if (attributes !== undefined) this.setAttributes(attributes);
    }
    if (links !== undefined && links !== null) {
      try {
        if (typeof links !== "object") throw new TypeError("links");
        for (const link of links) this.addLink(link);
      } catch {
        counters.apiErrors++;
      }
    }
  }

  /**
   * The attributes of an {@linkcode ADOPT_ATTRIBUTES} init: the object
   * itself when the sanitizer finds it valid (the common case: one pass of
   * type checks instead of a `setAttribute` per key), else its sanitized
   * copy, with the drops counted as `setAttributes` counts them.
   */
  #adopt(attributes: Attributes): Record<string, AnyValue> {
    const sanitizer = this.#shared.sanitizer;
    const clean = sanitizer.attributes(attributes) as
      | Record<string, AnyValue>
      | undefined;
    this.#droppedAttributesCount += sanitizer.lastDropped;
    if (clean === undefined) return {};
    let count = 0;
    for (const key in clean) if (Object.hasOwn(clean, key)) count++;
    this.#attributeCount = count;
    return clean;
  }

  /**
   * Tells whether a value is a span made by this library (a brand check:
   * no getter or Proxy trap of `value` runs).
   *
   * @param value The value.
   * @returns `true` for a {@linkcode Span}.
   */
  static isSpan(value: unknown): value is Span {
    return typeof value === "object" && value !== null && #name in value;
  }

  /** The span's name. */
  get name(): string {
    return this.#name;
  }
  /** End time: whole milliseconds since the epoch; 0 until it ends. */
  get endTimeUnixMs(): number {
    return this.#endTimeUnixMs;
  }
  /** The nanoseconds within {@linkcode Span.endTimeUnixMs}; 0 until it ends. */
  get endTimeNanosInMs(): number {
    return this.#endTimeNanosInMs;
  }
  /** Whether it has ended. */
  get ended(): boolean {
    return this.#ended;
  }
  /** Its attributes. */
  get attributes(): Attributes {
    return this.#attributeCount === 0 ? EMPTY_ATTRIBUTES : this.#attributes;
  }
  /** Attributes dropped by limits or value rules. */
  get droppedAttributesCount(): number {
    return this.#droppedAttributesCount;
  }
  /** Its events. */
  get events(): readonly SpanEvent[] {
    return this.#events ?? NO_EVENTS;
  }
  /** Events dropped by the event count limit. */
  get droppedEventsCount(): number {
    return this.#droppedEventsCount;
  }
  /** Its links. */
  get links(): readonly SpanLink[] {
    return this.#links ?? NO_LINKS;
  }
  /** Links dropped by the link count limit or because they were invalid. */
  get droppedLinksCount(): number {
    return this.#droppedLinksCount;
  }
  /** Its status. */
  get status(): SpanStatus {
    return this.#status;
  }

  /**
   * The span's context, for children, log records and propagation.
   *
   * @returns The span context.
   */
  spanContext(): SpanContext {
    return this.#context ??= this.traceState === undefined
      ? {
        traceId: this.traceId,
        spanId: this.spanId,
        traceFlags: this.traceFlags,
      }
      : {
        traceId: this.traceId,
        spanId: this.spanId,
        traceFlags: this.traceFlags,
        traceState: this.traceState,
      };
  }

  /**
   * Whether the span still records (it has not ended).
   *
   * @returns `true` until `end()`.
   */
  isRecording(): boolean {
    return !this.#ended;
  }

  /**
   * Sets one attribute; `undefined` removes nothing and is ignored. Over the
   * count limit, new keys are dropped and counted. Never throws.
   *
   * @param key The attribute's key.
   * @param value Its value.
   * @returns This span.
   */
  setAttribute(key: string, value: AnyValue): this {
    if (this.#ended || value === undefined) return this;
    const name = nameOf(key);
    if (name === undefined) {
      this.#shared.counters.apiErrors++;
      this.#droppedAttributesCount++;
      return this;
    }
    const sanitizer = this.#shared.sanitizer;
    const clean = sanitizer.attributeValue(value);
    if (clean === undefined) {
      this.#droppedAttributesCount++;
      return this;
    }
    if (!Object.hasOwn(this.#attributes, name)) {
      if (this.#attributeCount >= sanitizer.attributeCountLimit) {
        this.#droppedAttributesCount++;
        sanitizer.overLimit++;
        return this;
      }
      this.#attributeCount++;
    }
    setOwn(this.#attributes, name, clean);
    return this;
  }

  /**
   * Sets several attributes. Never throws: an attribute whose reading
   * throws is dropped and counted.
   *
   * @param attributes The attributes.
   * @returns This span.
   */
  setAttributes(attributes: Attributes): this {
    if (
      this.#ended || attributes === null ||
      typeof attributes !== "object"
    ) return this;
    try {
      for (const key in attributes) {
        let value: AnyValue;
        try {
          if (!Object.hasOwn(attributes, key)) continue;
          value = attributes[key];
        } catch {
          this.#shared.counters.apiErrors++;
          this.#droppedAttributesCount++;
          continue;
        }
        this.setAttribute(key, value);
      }
    } catch {
      this.#shared.counters.apiErrors++;
    }
    return this;
  }

  /**
   * Adds an event; over the event count limit it is dropped and counted.
   * Never throws.
   *
   * @param name The event's name.
   * @param attributes Its attributes.
   * @param time When it happened; defaults to now.
   * @returns This span.
   */
  addEvent(name: string, attributes?: Attributes, time?: TimeInput): this {
    if (this.#ended) return this;
    const events = this.#events ??= [];
    if (events.length >= this.#shared.eventCountLimit) {
      this.#droppedEventsCount++;
      return this;
    }
    let eventName = nameOf(name);
    if (eventName === undefined) {
      this.#shared.counters.apiErrors++;
      eventName = "";
    }
    const sanitizer = this.#shared.eventSanitizer;
    const clean = sanitizer.attributes(attributes) ?? EMPTY_ATTRIBUTES;
    const t = scratch;
    readTimeOrNow(time, t, this.#shared.counters);
    events.push({
      name: eventName,
      timeUnixMs: t.unixMs,
      timeNanosInMs: t.nanosInMs,
      attributes: clean,
      droppedAttributesCount: sanitizer.lastDropped,
    });
    return this;
  }

  /**
   * Adds a link; over the link count limit, or with an invalid context, it
   * is dropped and counted. Never throws.
   *
   * @param link The linked context and attributes.
   * @returns This span.
   */
  addLink(link: SpanLinkInput): this {
    if (this.#ended) return this;
    const links = this.#links ??= [];
    if (links.length >= this.#shared.linkCountLimit) {
      this.#droppedLinksCount++;
      return this;
    }
    const counters = this.#shared.counters;
    let ctx: SpanContext | undefined;
    let attributes: Attributes | undefined;
    try {
      if (link !== null && typeof link === "object") {
        ctx = sanitizeSpanContext(link.context, counters);
        attributes = link.attributes;
      }
    } catch {
      counters.apiErrors++;
      ctx = undefined;
    }
    if (ctx === undefined) {
      counters.invalidLinks++;
      this.#droppedLinksCount++;
      return this;
    }
    const sanitizer = this.#shared.linkSanitizer;
    const clean = sanitizer.attributes(attributes) ?? EMPTY_ATTRIBUTES;
    links.push({
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      traceFlags: ctx.traceFlags,
      ...(ctx.traceState === undefined ? {} : { traceState: ctx.traceState }),
      attributes: clean,
      droppedAttributesCount: sanitizer.lastDropped,
    });
    return this;
  }

  /**
   * Sets the status. `OK` is final; a message is kept only with `ERROR`.
   * A status that is not an object with `code` 0, 1 or 2 is ignored and
   * counted. Never throws.
   *
   * @param status The status.
   * @returns This span.
   */
  setStatus(status: SpanStatus): this {
    if (
      this.#ended || this.#status.code === SpanStatusCode.OK
    ) return this;
    let code: unknown;
    let message: unknown;
    try {
      if (status !== null && typeof status === "object") {
        code = status.code;
        message = code === SpanStatusCode.ERROR ? status.message : undefined;
      }
    } catch {
      this.#shared.counters.apiErrors++;
      return this;
    }
    if (code === SpanStatusCode.ERROR) {
      this.#status = typeof message === "string"
        ? { code: SpanStatusCode.ERROR, message }
        : { code: SpanStatusCode.ERROR };
    } else if (code === SpanStatusCode.OK) {
      this.#status = { code: SpanStatusCode.OK };
    } else if (code !== SpanStatusCode.UNSET) {
      this.#shared.counters.invalidStatuses++;
    }
    return this;
  }

  /**
   * Renames the span. A name whose `toString` throws is ignored and counted.
   * Never throws.
   *
   * @param name The new name.
   * @returns This span.
   */
  updateName(name: string): this {
    if (this.#ended) return this;
    const next = nameOf(name);
    if (next === undefined) this.#shared.counters.apiErrors++;
    else this.#name = next;
    return this;
  }

  /**
   * Records an exception as an `exception` event with the semantic
   * conventions' attributes. It does not change the status. Never throws: a
   * field whose reading throws is left out.
   *
   * @param exception The error (or any thrown value).
   * @param time When it happened; defaults to now.
   * @returns This span.
   */
  recordException(exception: unknown, time?: TimeInput): this {
    if (this.#ended) return this;
    const attributes: Record<string, AnyValue> = {};
    let failed = false;
    const read = (key: string, get: () => unknown): void => {
      try {
        const value = get();
        if (typeof value === "string") attributes[key] = value;
      } catch {
        failed = true;
      }
    };
    let isError = false;
    try {
      isError = exception instanceof Error;
    } catch {
      failed = true;
    }
    if (isError) {
      const error = exception as Error;
      read("exception.type", () => error.name);
      read("exception.message", () => error.message);
      read("exception.stacktrace", () => error.stack);
    } else {
      read("exception.message", () => String(exception));
    }
    if (failed) this.#shared.counters.apiErrors++;
    return this.addEvent("exception", attributes, time);
  }

  /**
   * Ends the span (once; later calls are ignored) and hands it to the
   * tracer's processors, synchronously. Never throws.
   *
   * @param endTime The end time; defaults to now (an invalid one is replaced
   *   by now, counted). An end time before the start is replaced by the
   *   start time.
   */
  end(endTime?: TimeInput): void {
    if (this.#ended) return;
    const t = scratch;
    readTimeOrNow(endTime, t, this.#shared.counters);
    const startMs = this.startTimeUnixMs;
    if (
      t.unixMs < startMs ||
      (t.unixMs === startMs && t.nanosInMs < this.startTimeNanosInMs)
    ) {
      this.#endTimeUnixMs = startMs;
      this.#endTimeNanosInMs = this.startTimeNanosInMs;
    } else {
      this.#endTimeUnixMs = t.unixMs;
      this.#endTimeNanosInMs = t.nanosInMs;
    }
    this.#ended = true;
    try {
      this.#shared.onEnd(this);
    } catch {
      this.#shared.counters.apiErrors++;
    }
  }

  /** Ends the span, so `using span = tracer.startSpan(...)` ends it at scope exit. */
  [Symbol.dispose](): void {
    this.end();
  }
}

/** The destination of every time conversion of a span (no allocation per call). */
const scratch: ExactTime = { unixMs: 0, nanosInMs: 0 };

/** Reads `input` into `out`, or now when it is absent or invalid (counted). */
function readTimeOrNow(
  input: TimeInput | undefined,
  out: ExactTime,
  counters: SpanCounters,
): void {
  let status: TimeStatus;
  try {
    status = toExactTime(input, out);
  } catch {
    status = TimeStatus.INVALID; // a Proxy or a Date subclass that throws
  }
  if (status === TimeStatus.VALID) return;
  if (status === TimeStatus.INVALID) counters.invalidTimes++;
  nowExactTime(out);
}

interface TrustedSpanInit extends SpanInit {
  readonly [TRUSTED_SPAN_INIT]?: true;
  readonly [ADOPT_ATTRIBUTES]?: boolean;
}

/** A {@linkcode SpanInit} a tracer fills in place (internal). */
export type MutableTrustedSpanInit =
  & {
    -readonly [K in keyof SpanInit]: SpanInit[K];
  }
  & { [TRUSTED_SPAN_INIT]: true; [ADOPT_ATTRIBUTES]: boolean };

/**
 * The one init object a tracer fills for every span it starts (internal;
 * not exported from the package): a span reads every field of its init
 * before anything else, so the object is free again once the constructor
 * is past its first lines, and a span started from a caller's code inside
 * a constructor refills it safely. The tracer clears its object fields
 * after each span so that it keeps nothing alive.
 */
export const trustedSpanInit: MutableTrustedSpanInit = {
  name: "",
  kind: undefined,
  traceId: "",
  spanId: "",
  traceFlags: 0,
  traceState: undefined,
  parent: undefined,
  startTime: undefined,
  attributes: undefined,
  links: undefined,
  [TRUSTED_SPAN_INIT]: true,
  [ADOPT_ATTRIBUTES]: false,
};

const NO_EVENTS: readonly SpanEvent[] = Object.freeze([]);
const NO_LINKS: readonly SpanLink[] = Object.freeze([]);
