/**
 * The trace context carried by spans and log records (W3C Trace Context),
 * and the active-span context carried through async code.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { normalizeHexId } from "./ids.ts";

/**
 * The identity of a span: what a child span or a log record refers to.
 *
 * @example
 * ```ts
 * import type { SpanContext } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const ctx: SpanContext = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 };
 * assert.equal(ctx.traceFlags & 1, 1);
 * ```
 */
export interface SpanContext {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** W3C trace flags; bit 0 is "sampled". */
  readonly traceFlags: number;
  /** The W3C `tracestate` header value, if any. */
  readonly traceState?: string;
  /** `true` when the context came from another process. */
  readonly isRemote?: boolean;
}

/**
 * W3C trace flag bit 0: the trace is sampled.
 *
 * @example
 * ```ts
 * import { TRACE_FLAG_SAMPLED } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(0x01 & TRACE_FLAG_SAMPLED, 1);
 * ```
 */
export const TRACE_FLAG_SAMPLED = 1;

/**
 * Anything that carries a span context: a span, or a remote parent.
 *
 * @example
 * ```ts
 * import type { SpanContextCarrier } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const carrier: SpanContextCarrier = {
 *   spanContext: () => ({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 }),
 * };
 * assert.equal(carrier.spanContext().spanId, "00f067aa0ba902b7");
 * ```
 */
export interface SpanContextCarrier {
  /** The span's context. */
  spanContext(): SpanContext;
}

const storage = new AsyncLocalStorage<SpanContextCarrier>();
/**
 * Whether withActiveSpan (the only writer of `storage`) ever ran: until then
 * no context holds a span, and the lookups below skip getStore, which costs
 * more than the rest of a metric measurement (exemplars ask on every one).
 */
let everActive = false;

/**
 * The active span (or remote parent) of the current async context, if any.
 *
 * @returns The active carrier.
 *
 * @example
 * ```ts
 * import { activeSpan } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(activeSpan(), undefined);
 * ```
 */
export function activeSpan(): SpanContextCarrier | undefined {
  if (!everActive) return undefined;
  return storage.getStore();
}

/**
 * The span context of the active span, if any.
 *
 * @returns The active span context.
 *
 * @example
 * ```ts
 * import { activeSpanContext } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(activeSpanContext(), undefined);
 * ```
 */
export function activeSpanContext(): SpanContext | undefined {
  if (!everActive) return undefined;
  const carrier = storage.getStore();
  if (carrier === undefined) return undefined;
  try {
    return carrier.spanContext();
  } catch {
    return undefined; // a remote parent whose spanContext() throws: none
  }
}

/**
 * Runs `fn` with `span` as the active span; the span stays active across
 * every `await` inside `fn`, and the previous one is active again after.
 *
 * @param span The span (or remote parent) to make active.
 * @param fn The function to run.
 * @returns What `fn` returns.
 *
 * @example
 * ```ts
 * import { activeSpanContext, withActiveSpan } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const parent = { spanContext: () => ({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 }) };
 * await withActiveSpan(parent, async () => {
 *   await Promise.resolve();
 *   assert.equal(activeSpanContext()?.spanId, "00f067aa0ba902b7");
 * });
 * ```
 */
export function withActiveSpan<T>(span: SpanContextCarrier, fn: () => T): T {
  everActive = true;
  return storage.run(span, fn);
}

/**
 * Parses a W3C `traceparent` header into a remote span context, or returns
 * `undefined` when it is malformed. A `tracestate` that is not valid per
 * {@linkcode isValidTraceState} is left out.
 *
 * @param header The `traceparent` value, e.g. `00-<trace-id>-<span-id>-01`.
 * @param traceState The `tracestate` value, if any.
 * @returns The remote span context.
 *
 * @example
 * ```ts
 * import { parseTraceparent } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const ctx = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * assert.equal(ctx?.isRemote, true);
 * assert.equal(parseTraceparent("garbage"), undefined);
 * ```
 */
export function parseTraceparent(
  header: string,
  traceState?: string,
): SpanContext | undefined {
  if (typeof header !== "string") return undefined;
  const match =
    /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/.exec(
      header.trim(),
    );
  if (
    match === null || match[1] === "ff" ||
    (match[1] === "00" && match[5] !== undefined)
  ) return undefined;
  if (/^0+$/.test(match[2]) || /^0+$/.test(match[3])) return undefined;
  const ctx: SpanContext = {
    traceId: match[2],
    spanId: match[3],
    traceFlags: parseInt(match[4], 16),
    isRemote: true,
  };
  // An invalid trace state is left out (W3C: discard it, keep the parent).
  return isValidTraceState(traceState) ? { ...ctx, traceState } : ctx;
}

/**
 * Formats a span context as a W3C `traceparent` header value.
 *
 * @param ctx The span context.
 * @returns The header value.
 *
 * @example
 * ```ts
 * import { formatTraceparent } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const header = formatTraceparent({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 });
 * assert.equal(header, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * ```
 */
export function formatTraceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${
    (ctx.traceFlags & 0xff).toString(16).padStart(2, "0")
  }`;
}

/**
 * Tells whether a value is a valid W3C `tracestate` header value: at most 32
 * comma-separated list members (empty members and optional spaces or tabs
 * around them allowed), each `key=value` with a key of 1-256 characters from
 * `a-z 0-9 _ - * /` starting with a letter or digit (or the multi-tenant form
 * `tenant@system`, tenant 1-241 and system 1-14 characters, system starting
 * with a letter), no key twice, and a value of 1-256 printable ASCII
 * characters other than `,` and `=` that does not end with a space.
 *
 * @param value The value.
 * @returns `true` when it is a valid trace state.
 *
 * @example
 * ```ts
 * import { isValidTraceState } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidTraceState("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"), true);
 * assert.equal(isValidTraceState("Bad Key=1"), false);
 * assert.equal(isValidTraceState(42), false);
 * ```
 */
export function isValidTraceState(value: unknown): value is string {
  if (typeof value !== "string") return false;
  if (value.length > MAX_TRACE_STATE_LENGTH) return false;
  const members = value.split(",");
  let count = 0;
  const keys: string[] = [];
  for (let i = 0; i < members.length; i++) {
    const member = members[i].replace(/^[ \t]+|[ \t]+$/g, "");
    if (member === "") continue;
    if (++count > 32) return false;
    const eq = member.indexOf("=");
    if (eq <= 0) return false;
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (!TRACE_STATE_KEY.test(key) || !TRACE_STATE_VALUE.test(val)) {
      return false;
    }
    if (keys.includes(key)) return false;
    keys.push(key);
  }
  return true;
}

// 32 members of at most 256 + 1 + 256 characters, with the separators.
const MAX_TRACE_STATE_LENGTH = 32 * 513 + 31 * 3;
const TRACE_STATE_KEY =
  /^(?:[a-z0-9][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})$/;
const TRACE_STATE_VALUE =
  /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Counts of what {@linkcode sanitizeSpanContext} dropped or replaced.
 *
 * @example
 * ```ts
 * import type { TraceContextCounters } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const counters: TraceContextCounters = { invalidTraceContexts: 0, invalidTraceStates: 0 };
 * assert.equal(counters.invalidTraceContexts, 0);
 * ```
 */
export interface TraceContextCounters {
  /** Contexts dropped (an id that is not hex of the right length, all zeros, a throwing read) or whose flags were not an integer 0-255 (replaced by 0). */
  invalidTraceContexts: number;
  /** Trace states dropped (not a string, or not valid per {@linkcode isValidTraceState}). */
  invalidTraceStates: number;
}

/**
 * Validates a span context as given by a caller, once, at the API boundary:
 * ids must be hex of the right length (32 digits for the trace id, 16 for
 * the span id) and not all zeros, and are lowercased; `traceFlags` must be an
 * integer 0-255 (else it becomes 0, counted); a `traceState` that is not
 * valid per {@linkcode isValidTraceState} is left out (counted); `isRemote`
 * is `true` only when it is `true`. Never throws: a context whose reading
 * throws is dropped. Returns the same object when it is already valid.
 *
 * @param ctx What the caller gave.
 * @param counters Counts what is dropped or replaced.
 * @returns The valid context, or `undefined` when the ids are invalid.
 *
 * @example
 * ```ts
 * import { sanitizeSpanContext } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const counters = { invalidTraceContexts: 0, invalidTraceStates: 0 };
 * const ctx = sanitizeSpanContext(
 *   { traceId: "4BF92F3577B34DA6A3CE929D0E0E4736", spanId: "00f067aa0ba902b7", traceFlags: 1, traceState: 7 },
 *   counters,
 * );
 * assert.equal(ctx?.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
 * assert.equal(ctx?.traceState, undefined);
 * assert.equal(counters.invalidTraceStates, 1);
 * ```
 */
export function sanitizeSpanContext(
  ctx: unknown,
  counters: TraceContextCounters,
): SpanContext | undefined {
  try {
    if (ctx === null || typeof ctx !== "object") {
      counters.invalidTraceContexts++;
      return undefined;
    }
    const c = ctx as SpanContext;
    const rawTraceId = c.traceId;
    const rawSpanId = c.spanId;
    const rawFlags = c.traceFlags;
    const rawState = c.traceState;
    const rawRemote = c.isRemote;
    const traceId = normalizeHexId(rawTraceId, 32);
    const spanId = normalizeHexId(rawSpanId, 16);
    if (traceId === undefined || spanId === undefined) {
      counters.invalidTraceContexts++;
      return undefined;
    }
    let traceFlags = rawFlags;
    if (!isValidTraceFlags(traceFlags)) {
      counters.invalidTraceContexts++;
      traceFlags = 0;
    }
    let traceState: string | undefined = rawState;
    if (traceState !== undefined && !isValidTraceState(traceState)) {
      counters.invalidTraceStates++;
      traceState = undefined;
    }
    const isRemote = rawRemote === true;
    if (
      traceId === rawTraceId && spanId === rawSpanId &&
      traceFlags === rawFlags && traceState === rawState &&
      (rawRemote === undefined || rawRemote === isRemote) &&
      isPlain(ctx)
    ) return c;
    const out: {
      traceId: string;
      spanId: string;
      traceFlags: number;
      traceState?: string;
      isRemote?: boolean;
    } = { traceId, spanId, traceFlags };
    if (traceState !== undefined) out.traceState = traceState;
    if (isRemote) out.isRemote = true;
    return out;
  } catch {
    counters.invalidTraceContexts++;
    return undefined;
  }
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Tells whether a value is valid W3C trace flags: an integer 0-255.
 *
 * @param value The value.
 * @returns `true` for integers 0-255.
 *
 * @example
 * ```ts
 * import { isValidTraceFlags } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidTraceFlags(1), true);
 * assert.equal(isValidTraceFlags(256), false);
 * assert.equal(isValidTraceFlags("1"), false);
 * ```
 */
export function isValidTraceFlags(value: unknown): value is number {
  return typeof value === "number" && (value & 0xff) === value;
}
