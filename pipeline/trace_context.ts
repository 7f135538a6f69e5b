/**
 * The trace context carried by spans and log records (W3C Trace Context),
 * and the active-span context carried through async code.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";

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
  return storage.getStore()?.spanContext();
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
  return storage.run(span, fn);
}

/**
 * Parses a W3C `traceparent` header into a remote span context, or returns
 * `undefined` when it is malformed.
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
  return traceState === undefined ? ctx : { ...ctx, traceState };
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
