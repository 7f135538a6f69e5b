/**
 * Checks a {@linkcode ReadableSpan} that this library's tracer did not make
 * (built by hand, or by another SDK) field by field, with the rules the
 * tracer applies at its API boundary, before an encoder reads it.
 *
 * @module
 */

import {
  type AnyValue,
  type Attributes,
  AttributeSanitizer,
  DEFAULT_ATTRIBUTE_COUNT_LIMIT,
} from "../attributes.ts";
import { normalizeHexId } from "../ids.ts";
import { EMPTY_ATTRIBUTES } from "../logs/log_record.ts";
import { Resource } from "../resource.ts";
import type { InstrumentationScope } from "../scope.ts";
import {
  type ReadableSpan,
  Span,
  type SpanEvent,
  SpanKind,
  type SpanLink,
  type SpanStatus,
  SpanStatusCode,
} from "./span.ts";
import {
  isValidTraceFlags,
  isValidTraceState,
  sanitizeSpanContext,
} from "../trace_context.ts";
import { type ExactTime, isExactTime, nowExactTime } from "../time.ts";

/**
 * What a {@linkcode ReadableSpanChecker} dropped or replaced, in total.
 *
 * @example
 * ```ts
 * import { ReadableSpanChecker } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const checker = new ReadableSpanChecker();
 * checker.check(null);
 * assert.equal(checker.stats.invalidSpans, 1);
 * ```
 */
export interface ReadableSpanCheckStats {
  /** Spans dropped whole: not an object, or a trace id or span id that is not hex of the right length (or all zeros), or unreadable. */
  readonly invalidSpans: number;
  /** Spans kept with at least one field replaced or left out (the counters below say which). */
  readonly repairedSpans: number;
  /** Trace flags that were not an integer 0-255 (replaced by 0), and parent span ids that were not valid (left out). */
  readonly invalidTraceContexts: number;
  /** Trace states (of the span or a link) that were not valid W3C trace state: left out. */
  readonly invalidTraceStates: number;
  /** Kinds that were not an integer 0-4: replaced by `INTERNAL`. */
  readonly invalidKinds: number;
  /** Statuses that were not `{ code: 0 | 1 | 2 }`: replaced by `UNSET`; a non-string message is left out. */
  readonly invalidStatuses: number;
  /** Times (start, end, event) that were not an exact (ms, ns within the ms) pair in range: replaced by now; an end before the start becomes the start. */
  readonly invalidTimes: number;
  /** Events that were not objects or could not be read: left out (in the span's `droppedEventsCount`). */
  readonly invalidEvents: number;
  /** Links with an invalid context or that could not be read: left out (in the span's `droppedLinksCount`). */
  readonly invalidLinks: number;
  /** Other fields of the wrong type, or whose reading threw: a name that is not a string, a dropped count that is not a non-negative integer, a resource or scope that is not an object. Replaced by their defaults. */
  readonly invalidFields: number;
  /** Attribute values dropped as not representable (see `AttributeSanitizer.invalid`), plus attributes over the count limit. */
  readonly invalidValues: number;
}

const UNREADABLE: unique symbol = Symbol("unreadable");
const UNSET_STATUS: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const EMPTY_RESOURCE = new Resource({});
const NO_EVENTS: readonly SpanEvent[] = Object.freeze([]);
const NO_LINKS: readonly SpanLink[] = Object.freeze([]);
/** Spans this module built: trusted like the tracer's own. */
const checked = new WeakSet<object>();

/**
 * Tells whether a span needs no check: one made by this library's tracer,
 * or one a {@linkcode ReadableSpanChecker} returned. A brand check: no getter
 * or Proxy trap of `span` runs.
 *
 * @param span The value.
 * @returns `true` when encoders may read it as it is.
 *
 * @example
 * ```ts
 * import { isTrustedSpan, TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * await using provider = new TracerProvider();
 * assert.equal(isTrustedSpan(provider.getTracer("t").startSpan("s")), true);
 * assert.equal(isTrustedSpan({ name: "hand-made" }), false);
 * ```
 */
export function isTrustedSpan(span: unknown): boolean {
  return Span.isSpan(span) ||
    (typeof span === "object" && span !== null && checked.has(span));
}

/**
 * Validates spans this library did not make, one field at a time, the way
 * the tracer validates what its callers give it: ids must be hex of the
 * right length and not all zeros (uppercase is lowercased; otherwise the
 * span is dropped, as it cannot be identified); trace flags an integer
 * 0-255 (else 0); trace state valid W3C (else left out); kind an integer
 * 0-4 (else `INTERNAL`); status `{ code: 0 | 1 | 2 }` (else `UNSET`);
 * times an exact in-range pair (else now; an end before the start becomes
 * the start); attributes, event and link attributes through the value rules
 * and bounds of {@linkcode AttributeSanitizer}; at most 128 events and 128
 * links (the rest counted in the span's dropped counts); a resource that is
 * not a `Resource` is rebuilt from its attributes (once per object).
 * Never throws; every replacement is counted in
 * {@linkcode ReadableSpanChecker.stats}. The tracer's own spans pass
 * through unchanged, with one brand check.
 *
 * @example A hand-made span with a bad kind and an uppercase trace id
 * ```ts
 * import { ReadableSpanChecker, type ReadableSpan } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const checker = new ReadableSpanChecker();
 * const span = checker.check({
 *   name: "hand-made", kind: "server", traceId: "4BF92F3577B34DA6A3CE929D0E0E4736",
 *   spanId: "00f067aa0ba902b7", traceFlags: 1,
 *   startTimeUnixMs: 1_700_000_000_000, startTimeNanosInMs: 0,
 *   endTimeUnixMs: 1_700_000_000_001, endTimeNanosInMs: 5,
 * } as unknown as ReadableSpan);
 * assert.equal(span?.kind, 0);
 * assert.equal(span?.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
 * assert.equal(checker.stats.invalidKinds, 1);
 * assert.equal(checker.stats.repairedSpans, 1);
 * ```
 */
export class ReadableSpanChecker {
  #invalidSpans = 0;
  #repairedSpans = 0;
  #invalidTraceContexts = 0;
  #invalidTraceStates = 0;
  #invalidKinds = 0;
  #invalidStatuses = 0;
  #invalidTimes = 0;
  #invalidEvents = 0;
  #invalidLinks = 0;
  #invalidFields = 0;
  #repaired = false;
  readonly #sanitizer = new AttributeSanitizer();
  /** For other SDKs' resources and scopes: the value rules, no count limit. */
  readonly #resourceSanitizer = new AttributeSanitizer({
    attributeCountLimit: Infinity,
  });
  readonly #resources = new WeakMap<object, Resource>();
  readonly #scopes = new WeakMap<object, InstrumentationScope>();
  readonly #time: ExactTime = { unixMs: 0, nanosInMs: 0 };
  readonly #contextCounters = {
    invalidTraceContexts: 0,
    invalidTraceStates: 0,
  };

  /** Spans repaired so far (the cheap read of `stats.repairedSpans`). */
  get repairedCount(): number {
    return this.#repairedSpans;
  }

  /** The counters, as of now. */
  get stats(): ReadableSpanCheckStats {
    const s = this.#sanitizer;
    return {
      invalidSpans: this.#invalidSpans,
      repairedSpans: this.#repairedSpans,
      invalidTraceContexts: this.#invalidTraceContexts,
      invalidTraceStates: this.#invalidTraceStates +
        this.#contextCounters.invalidTraceStates,
      invalidKinds: this.#invalidKinds,
      invalidStatuses: this.#invalidStatuses,
      invalidTimes: this.#invalidTimes,
      invalidEvents: this.#invalidEvents,
      invalidLinks: this.#invalidLinks,
      invalidFields: this.#invalidFields,
      invalidValues: s.invalid + s.overLimit + this.#resourceSanitizer.invalid,
    };
  }

  /**
   * Returns a span encoders can read safely: `span` itself when this
   * library made it, else a checked copy, or `undefined` (counted in
   * `invalidSpans`) when it cannot be identified. Never throws.
   *
   * @param span What the caller handed over.
   * @returns The span to encode, or `undefined` to drop it.
   */
  check(span: ReadableSpan | null | undefined): ReadableSpan | undefined {
    if (isTrustedSpan(span)) return span as ReadableSpan;
    try {
      return this.#copy(span);
    } catch {
      // Only reachable through a hostile object that defeats the per-field
      // guards (e.g. a revoked Proxy met by `typeof` checks): drop it.
      this.#invalidSpans++;
      return undefined;
    }
  }

  #copy(span: unknown): ReadableSpan | undefined {
    if (span === null || typeof span !== "object") {
      this.#invalidSpans++;
      return undefined;
    }
    this.#repaired = false;
    const o = span as Record<string, unknown>;
    const rawTraceId = this.#read(o, "traceId");
    const rawSpanId = this.#read(o, "spanId");
    const traceId = normalizeHexId(rawTraceId, 32);
    const spanId = normalizeHexId(rawSpanId, 16);
    if (traceId === undefined || spanId === undefined) {
      this.#invalidSpans++;
      return undefined;
    }
    if (traceId !== rawTraceId || spanId !== rawSpanId) this.#repaired = true;
    let traceFlags = this.#read(o, "traceFlags");
    if (!isValidTraceFlags(traceFlags)) {
      this.#invalidTraceContexts++;
      this.#repaired = true;
      traceFlags = 0;
    }
    let traceState = this.#read(o, "traceState");
    if (traceState !== undefined && !isValidTraceState(traceState)) {
      this.#invalidTraceStates++;
      this.#repaired = true;
      traceState = undefined;
    }
    let parentSpanId: string | undefined;
    const rawParent = this.#read(o, "parentSpanId");
    if (rawParent !== undefined && rawParent !== "") {
      parentSpanId = normalizeHexId(rawParent, 16);
      if (parentSpanId !== rawParent) {
        if (parentSpanId === undefined) this.#invalidTraceContexts++;
        this.#repaired = true;
      }
    }
    const parentIsRemote = parentSpanId !== undefined &&
      this.#read(o, "parentIsRemote") === true;
    const name = this.#string(this.#read(o, "name"));
    let kind = this.#read(o, "kind");
    if (
      typeof kind !== "number" || !(kind >= 0 && kind <= 4) ||
      (kind | 0) !== kind
    ) {
      if (kind !== undefined) {
        this.#invalidKinds++;
        this.#repaired = true;
      }
      kind = SpanKind.INTERNAL;
    }
    const start = this.#timeOf(o, "startTimeUnixMs", "startTimeNanosInMs");
    const end = this.#timeOf(o, "endTimeUnixMs", "endTimeNanosInMs");
    let endMs = end[0];
    let endNanos = end[1];
    if (endMs < start[0] || (endMs === start[0] && endNanos < start[1])) {
      endMs = start[0];
      endNanos = start[1];
      this.#invalidTimes++;
      this.#repaired = true;
    }
    const sanitizer = this.#sanitizer;
    const rawAttributes = this.#read(o, "attributes");
    const attributes = this.#attributes(rawAttributes);
    const droppedAttributesCount = this.#count(o, "droppedAttributesCount") +
      sanitizer.lastDropped;
    const [events, droppedEvents] = this.#events(this.#read(o, "events"));
    const [links, droppedLinks] = this.#links(this.#read(o, "links"));
    const out: ReadableSpan = {
      name,
      kind: kind as SpanKind,
      traceId,
      spanId,
      traceFlags: traceFlags as number,
      traceState: traceState as string | undefined,
      parentSpanId,
      parentIsRemote,
      startTimeUnixMs: start[0],
      startTimeNanosInMs: start[1],
      endTimeUnixMs: endMs,
      endTimeNanosInMs: endNanos,
      attributes,
      droppedAttributesCount,
      events,
      droppedEventsCount: this.#count(o, "droppedEventsCount") + droppedEvents,
      links,
      droppedLinksCount: this.#count(o, "droppedLinksCount") + droppedLinks,
      status: this.#status(this.#read(o, "status")),
      resource: this.#resource(this.#read(o, "resource")),
      scope: this.#scope(this.#read(o, "scope")),
      ended: true,
    };
    Object.freeze(out);
    checked.add(out);
    if (this.#repaired) this.#repairedSpans++;
    return out;
  }

  /** `o[key]`, or UNREADABLE (counted) when reading it throws. */
  #read(o: object, key: string): unknown {
    try {
      return (o as Record<string, unknown>)[key];
    } catch {
      this.#invalidFields++;
      this.#repaired = true;
      return UNREADABLE;
    }
  }

  #string(value: unknown): string {
    if (typeof value === "string") return value;
    if (value !== UNREADABLE) {
      this.#invalidFields++;
      this.#repaired = true;
    }
    return "";
  }

  /** A dropped count: a non-negative integer (up to 2^32 - 1), else 0. */
  #count(o: object, key: string): number {
    const v = this.#read(o, key);
    if (v === undefined) return 0;
    if (typeof v === "number" && v >= 0 && v <= 0xffffffff && v % 1 === 0) {
      return v;
    }
    if (v !== UNREADABLE) {
      this.#invalidFields++;
      this.#repaired = true;
    }
    return 0;
  }

  /** An exact (ms, ns) pair from two fields, or now (counted). */
  #timeOf(o: object, msKey: string, nanosKey: string): [number, number] {
    const ms = this.#read(o, msKey);
    const nanos = this.#read(o, nanosKey);
    if (
      typeof ms === "number" && typeof nanos === "number" &&
      isExactTime(ms, nanos)
    ) {
      return [ms as number, nanos as number];
    }
    this.#invalidTimes++;
    this.#repaired = true;
    const t = this.#time;
    nowExactTime(t);
    return [t.unixMs, t.nanosInMs];
  }

  #attributes(value: unknown): Attributes {
    if (value === UNREADABLE) {
      this.#sanitizer.lastDropped = 0;
      return EMPTY_ATTRIBUTES;
    }
    const clean = this.#sanitizer.attributes(value as Attributes);
    if (clean === undefined) {
      if (value !== undefined) this.#repaired = true;
      return EMPTY_ATTRIBUTES;
    }
    if (clean !== value) this.#repaired = true;
    // Always a frozen copy: the caller's object may change (or a Proxy
    // answer differently) after the check.
    return copyOf(clean);
  }

  /** At most 128 events: [kept, dropped]. */
  #events(value: unknown): [readonly SpanEvent[], number] {
    if (value === undefined) return [NO_EVENTS, 0];
    const items = this.#items(value);
    if (items === undefined) {
      this.#invalidEvents++;
      this.#repaired = true;
      return [NO_EVENTS, 0];
    }
    const [list, length] = items;
    const out: SpanEvent[] = [];
    let dropped = Math.max(0, length - DEFAULT_ATTRIBUTE_COUNT_LIMIT);
    if (dropped > 0) this.#repaired = true;
    const n = Math.min(length, DEFAULT_ATTRIBUTE_COUNT_LIMIT);
    for (let i = 0; i < n; i++) {
      const e = this.#read(list, String(i));
      if (e === null || typeof e !== "object") {
        this.#invalidEvents++;
        this.#repaired = true;
        dropped++;
        continue;
      }
      const [ms, nanos] = this.#timeOf(e, "timeUnixMs", "timeNanosInMs");
      const attributes = this.#attributes(this.#read(e, "attributes"));
      const lastDropped = this.#sanitizer.lastDropped;
      out.push(Object.freeze({
        name: this.#string(this.#read(e, "name")),
        timeUnixMs: ms,
        timeNanosInMs: nanos,
        attributes,
        droppedAttributesCount: this.#count(e, "droppedAttributesCount") +
          lastDropped,
      }));
    }
    return [out.length === 0 ? NO_EVENTS : Object.freeze(out), dropped];
  }

  /** At most 128 links with valid contexts: [kept, dropped]. */
  #links(value: unknown): [readonly SpanLink[], number] {
    if (value === undefined) return [NO_LINKS, 0];
    const items = this.#items(value);
    if (items === undefined) {
      this.#invalidLinks++;
      this.#repaired = true;
      return [NO_LINKS, 0];
    }
    const [list, length] = items;
    const out: SpanLink[] = [];
    let dropped = Math.max(0, length - DEFAULT_ATTRIBUTE_COUNT_LIMIT);
    if (dropped > 0) this.#repaired = true;
    const n = Math.min(length, DEFAULT_ATTRIBUTE_COUNT_LIMIT);
    const counters = this.#contextCounters;
    for (let i = 0; i < n; i++) {
      const l = this.#read(list, String(i));
      const before = counters.invalidTraceContexts;
      const ctx = l !== null && typeof l === "object"
        ? sanitizeSpanContext(l, counters)
        : undefined;
      if (ctx === undefined) {
        counters.invalidTraceContexts = before;
        this.#invalidLinks++;
        this.#repaired = true;
        dropped++;
        continue;
      }
      if (counters.invalidTraceContexts !== before) {
        this.#invalidTraceContexts++; // flags replaced by 0
        counters.invalidTraceContexts = before;
      }
      if (ctx !== l) this.#repaired = true;
      const attributes = this.#attributes(
        this.#read(l as object, "attributes"),
      );
      const lastDropped = this.#sanitizer.lastDropped;
      out.push(Object.freeze({
        traceId: ctx.traceId,
        spanId: ctx.spanId,
        traceFlags: ctx.traceFlags,
        ...(ctx.traceState === undefined ? {} : { traceState: ctx.traceState }),
        attributes,
        droppedAttributesCount:
          this.#count(l as object, "droppedAttributesCount") +
          lastDropped,
      }));
    }
    return [out.length === 0 ? NO_LINKS : Object.freeze(out), dropped];
  }

  /** An array-like's [object, length], or undefined when it is not one. */
  #items(value: unknown): [object, number] | undefined {
    if (value === UNREADABLE || value === null || typeof value !== "object") {
      return undefined;
    }
    const length = this.#read(value, "length");
    if (
      typeof length !== "number" || !(length >= 0) || length % 1 !== 0 ||
      length > Number.MAX_SAFE_INTEGER
    ) return undefined;
    return [value, length];
  }

  #status(value: unknown): SpanStatus {
    if (value === undefined) return UNSET_STATUS;
    if (value === null || typeof value !== "object") {
      if (value !== UNREADABLE) this.#invalidStatuses++;
      this.#repaired = true;
      return UNSET_STATUS;
    }
    const code = this.#read(value, "code");
    if (code === SpanStatusCode.UNSET) return UNSET_STATUS;
    if (code === SpanStatusCode.OK) return { code: SpanStatusCode.OK };
    if (code !== SpanStatusCode.ERROR) {
      if (code !== UNREADABLE) this.#invalidStatuses++;
      this.#repaired = true;
      return UNSET_STATUS;
    }
    const message = this.#read(value, "message");
    if (message === undefined) return { code: SpanStatusCode.ERROR };
    if (typeof message === "string") {
      return { code: SpanStatusCode.ERROR, message };
    }
    if (message !== UNREADABLE) this.#invalidStatuses++;
    this.#repaired = true;
    return { code: SpanStatusCode.ERROR };
  }

  #resource(value: unknown): Resource {
    try {
      if (value instanceof Resource) return value;
    } catch {
      // A Proxy whose getPrototypeOf trap throws: not a Resource.
    }
    if (value === null || typeof value !== "object") {
      if (value !== UNREADABLE) this.#invalidFields++;
      this.#repaired = true;
      return EMPTY_RESOURCE;
    }
    const seen = this.#resources.get(value);
    if (seen !== undefined) return seen;
    // Another SDK's resource: its attributes through the value rules.
    const attributes = this.#read(value, "attributes");
    const schemaUrl = this.#read(value, "schemaUrl");
    const clean = attributes === UNREADABLE
      ? undefined
      : this.#resourceSanitizer.attributes(attributes as Attributes);
    if (this.#resourceSanitizer.lastDropped > 0) this.#repaired = true;
    const resource = new Resource(
      clean ?? {},
      typeof schemaUrl === "string" ? schemaUrl : undefined,
    );
    this.#resources.set(value, resource);
    return resource;
  }

  #scope(value: unknown): InstrumentationScope {
    if (value === null || typeof value !== "object") {
      if (value !== UNREADABLE) this.#invalidFields++;
      this.#repaired = true;
      return EMPTY_SCOPE;
    }
    const seen = this.#scopes.get(value);
    if (seen !== undefined) return seen;
    const name = this.#read(value, "name");
    const version = this.#read(value, "version");
    const schemaUrl = this.#read(value, "schemaUrl");
    const attributes = this.#read(value, "attributes");
    const scope: {
      name: string;
      version?: string;
      schemaUrl?: string;
      attributes?: Attributes;
    } = { name: typeof name === "string" ? name : "" };
    if (typeof version === "string") scope.version = version;
    if (typeof schemaUrl === "string") scope.schemaUrl = schemaUrl;
    if (attributes !== undefined && attributes !== UNREADABLE) {
      const clean = this.#resourceSanitizer.attributes(
        attributes as Attributes,
      );
      if (this.#resourceSanitizer.lastDropped > 0) this.#repaired = true;
      if (clean !== undefined) scope.attributes = copyOf(clean);
    }
    Object.freeze(scope);
    this.#scopes.set(value, scope);
    return scope;
  }
}

const EMPTY_SCOPE: InstrumentationScope = Object.freeze({ name: "" });

function copyOf(attributes: Attributes): Attributes {
  const out: Record<string, AnyValue> = {};
  for (const key of Object.keys(attributes)) {
    Object.defineProperty(out, key, {
      value: attributes[key],
      enumerable: true,
      writable: false,
    });
  }
  return Object.freeze(out);
}
