/**
 * Outgoing `fetch` instrumentation: a wrapper that makes one CLIENT span per
 * request (`http.request.method`, `url.full` redacted, `server.address`,
 * `server.port`, `http.response.status_code`, `error.type`) and injects the
 * active context (`traceparent`, `tracestate`, `baggage`) into the request
 * headers; and an opt-in patch of `globalThis.fetch` with a restore.
 *
 * The span ends when the response headers arrive (or the fetch rejects).
 * Build OTLP exporters before patching the global, or pass them
 * `fetch` explicitly, so that exports are not traced themselves; the patch
 * also skips every URL its `ignore` option matches.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { instrumentFetch } from "@seed/telemetry/fetch";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using tracerProvider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * let seen: string | null = null;
 * const fakeFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
 *   seen = new Headers(init?.headers).get("traceparent");
 *   return new Response("ok");
 * };
 * const tracedFetch = instrumentFetch(fakeFetch, { tracerProvider });
 * await tracedFetch("http://api.example:8080/items?sig=secret");
 * await tracerProvider.forceFlush();
 * const span = exporter.items[0];
 * assert.equal(span.attributes["url.full"], "http://api.example:8080/items?sig=REDACTED");
 * assert.ok(seen!.includes(span.spanId));
 * ```
 *
 * @module
 */

import {
  type AnyValue,
  type Attributes,
  consoleDiagnosticSink,
  type DiagnosticSink,
  type EnvReadOptions,
  reportDiagnostic,
  SDK_VERSION,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from "../mod.ts";
import {
  captureHeaders,
  errorType,
  headerNames,
  normalizeMethod,
  originalMethod,
  redactedFullUrl,
  splitUrl,
} from "./_http.ts";
import { activeBaggage } from "./baggage.ts";
import {
  type InternalStartSpanOptions,
  START_ADOPT_ATTRIBUTES,
  START_FLAGS,
} from "../pipeline/trace/tracer_provider.ts";
import type { TracerSource } from "./http_server.ts";
import { propagatorFromEnv, type TextMapPropagator } from "./propagation.ts";

/**
 * Options of {@linkcode instrumentFetch} and {@linkcode patchGlobalFetch}.
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import type { FetchInstrumentationOptions } from "@seed/telemetry/fetch";
 * import assert from "node:assert/strict";
 *
 * const options: FetchInstrumentationOptions = { tracerProvider: new TracerProvider(), ignore: (url) => url.includes("/v1/") };
 * assert.equal(options.ignore?.("http://collector:4318/v1/traces"), true);
 * ```
 */
export interface FetchInstrumentationOptions extends EnvReadOptions {
  /** Where the CLIENT spans come from. */
  readonly tracerProvider: TracerSource;
  /**
   * How the active context is written into request headers.
   * @default {propagatorFromEnv(): OTEL_PROPAGATORS, else tracecontext,baggage}
   */
  readonly propagator?: TextMapPropagator;
  /**
   * URLs fetched without a span or injected headers (return `true` to skip).
   * @default {none}
   */
  readonly ignore?: (url: string) => boolean;
  /**
   * Request headers recorded as `http.request.header.<name>`.
   * @default {[]}
   */
  readonly requestHeaders?: readonly string[];
  /**
   * Response headers recorded as `http.response.header.<name>`.
   * @default {[]}
   */
  readonly responseHeaders?: readonly string[];
  /**
   * Where problems of the instrumentation itself are reported.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

/**
 * The `fetch` signature the wrapper takes and returns.
 *
 * @example
 * ```ts
 * import type { FetchFunction } from "@seed/telemetry/fetch";
 * import assert from "node:assert/strict";
 *
 * const f: FetchFunction = (input, init) => fetch(input, init);
 * assert.equal(typeof f, "function");
 * ```
 */
export type FetchFunction = (
  input: RequestInfo | URL,
  init?: RequestInit,
) => Promise<Response>;

const INSTRUMENTED: unique symbol = Symbol.for("@seed/telemetry/fetch");

function urlOf(input: RequestInfo | URL): string {
  if (typeof input === "string") return input;
  if (input instanceof URL) return input.href;
  if (input instanceof Request) return input.url;
  return String(input);
}

function resolve(url: string): string {
  if (url.includes("://")) return url;
  try {
    return new URL(
      url,
      (globalThis as { location?: { href?: string } }).location?.href,
    ).href;
  } catch {
    return url;
  }
}

/**
 * Wraps a `fetch` function: each call is a CLIENT span, child of the active
 * span, and carries the context headers. Errors of the instrumentation never
 * reach the caller; what the fetch resolves or rejects with is passed
 * through unchanged.
 *
 * @param fetchFn The fetch to wrap.
 * @param options The tracer provider, propagator and allow-lists.
 * @returns The instrumented fetch.
 * @throws {TypeError} When `fetchFn` is not a function or `tracerProvider` is missing.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { instrumentFetch } from "@seed/telemetry/fetch";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using tracerProvider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * const failing = instrumentFetch(() => Promise.reject(new TypeError("connection refused")), { tracerProvider });
 * await assert.rejects(failing("http://127.0.0.1:1/"), TypeError);
 * await tracerProvider.forceFlush();
 * assert.equal(exporter.items[0].attributes["error.type"], "TypeError");
 * ```
 */
export function instrumentFetch(
  fetchFn: FetchFunction,
  options: FetchInstrumentationOptions,
): FetchFunction {
  if (typeof fetchFn !== "function") {
    throw new TypeError("Cannot instrument fetch: fetchFn is not a function");
  }
  if (
    options === null || typeof options !== "object" ||
    typeof options.tracerProvider?.getTracer !== "function"
  ) {
    throw new TypeError(
      "Cannot instrument fetch: options.tracerProvider is required (a TracerProvider)",
    );
  }
  const tracer: Tracer = options.tracerProvider.getTracer(
    "@seed/telemetry/fetch",
    SDK_VERSION,
  );
  const propagator = options.propagator ?? propagatorFromEnv(options);
  const ignore = options.ignore;
  const requestHeaders = headerNames(options.requestHeaders, "requestHeaders");
  const responseHeaders = headerNames(
    options.responseHeaders,
    "responseHeaders",
  );
  const diagnostics = options.diagnostics ?? consoleDiagnosticSink;
  let reported = false;

  const traced = function (
    input: RequestInfo | URL,
    init?: RequestInit,
  ): Promise<Response> {
    let span;
    let callInput: RequestInfo | URL = input;
    let callInit: RequestInit | undefined = init;
    try {
      const url = resolve(urlOf(input));
      if (ignore !== undefined && ignore(url)) return fetchFn(input, init);
      const rawMethod = init?.method ??
        (input instanceof Request ? input.method : "GET");
      const upper = String(rawMethod).toUpperCase();
      const method = normalizeMethod(upper);
      const attributes: Record<string, AnyValue> = {
        "http.request.method": method,
      };
      if (method === "_OTHER") {
        attributes["http.request.method_original"] = originalMethod(
          String(rawMethod),
        );
      }
      const parts = splitUrl(url);
      if (parts !== undefined) {
        attributes["url.full"] = redactedFullUrl(url, parts);
        attributes["server.address"] = parts.host;
        attributes["server.port"] = parts.port;
      }
      let headers: Headers;
      if (input instanceof Request && init?.headers === undefined) {
        const request = new Request(input, init);
        headers = request.headers;
        callInput = request;
        callInit = undefined;
      } else {
        headers = new Headers(init?.headers);
        callInit = { ...init, headers };
      }
      if (requestHeaders.length > 0) {
        captureHeaders(
          headers,
          requestHeaders,
          "http.request.header",
          (k, v) => {
            attributes[k] = v;
          },
        );
      }
      // The attributes object is built for this span alone: it keeps it.
      span = tracer.startSpan(method === "_OTHER" ? "HTTP" : method, {
        kind: SpanKind.CLIENT,
        attributes: attributes as Attributes,
        [START_FLAGS]: START_ADOPT_ATTRIBUTES,
      } as InternalStartSpanOptions);
      const baggage = activeBaggage();
      propagator.inject(
        headers,
        baggage === undefined
          ? { spanContext: span.spanContext() }
          : { spanContext: span.spanContext(), baggage },
      );
    } catch (error) {
      if (!reported) {
        reported = true;
        reportDiagnostic(
          diagnostics,
          "instrumentFetch",
          "warn",
          "Cannot describe a fetch call; it was sent uninstrumented (reported once)",
          error,
        );
      }
      span?.end();
      return fetchFn(input, init);
    }
    const s = span;
    return fetchFn(callInput, callInit).then((response) => {
      try {
        const status = response.status;
        s.setAttribute("http.response.status_code", status);
        if (status >= 400) {
          s.setAttribute("error.type", String(status));
          s.setStatus({ code: SpanStatusCode.ERROR });
        }
        if (responseHeaders.length > 0) {
          captureHeaders(
            response.headers,
            responseHeaders,
            "http.response.header",
            (k, v) => s.setAttribute(k, v),
          );
        }
      } catch {
        // An odd response object: the span keeps what it has.
      }
      s.end();
      return response;
    }, (error: unknown) => {
      s.recordException(error);
      s.setAttribute("error.type", errorType(error));
      s.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      s.end();
      throw error;
    });
  };
  Object.defineProperty(traced, INSTRUMENTED, {
    value: fetchFn,
    configurable: true,
  });
  return traced;
}

/**
 * Undoes {@linkcode patchGlobalFetch}.
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import { type FetchPatch, patchGlobalFetch } from "@seed/telemetry/fetch";
 * import assert from "node:assert/strict";
 *
 * const before = globalThis.fetch;
 * const patch: FetchPatch = patchGlobalFetch({ tracerProvider: new TracerProvider() });
 * patch.restore();
 * assert.equal(globalThis.fetch, before);
 * ```
 */
export interface FetchPatch extends Disposable {
  /** Puts the previous `globalThis.fetch` back (once; later calls do nothing). */
  restore(): void;
}

/**
 * Replaces `globalThis.fetch` with an instrumented one (opt-in). Returns a
 * handle whose `restore()` (or `using`) puts the original back. Patching an
 * already patched fetch does nothing and reports one diagnostic.
 *
 * @param options The tracer provider, propagator, allow-lists and `ignore`.
 * @returns The patch handle.
 * @throws {TypeError} When there is no global fetch or `tracerProvider` is missing.
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import { patchGlobalFetch } from "@seed/telemetry/fetch";
 * import assert from "node:assert/strict";
 *
 * const original = globalThis.fetch;
 * {
 *   using _patch = patchGlobalFetch({ tracerProvider: new TracerProvider() });
 *   assert.notEqual(globalThis.fetch, original);
 * }
 * assert.equal(globalThis.fetch, original);
 * ```
 */
export function patchGlobalFetch(
  options: FetchInstrumentationOptions,
): FetchPatch {
  const original = globalThis.fetch;
  if (typeof original !== "function") {
    throw new TypeError(
      "Cannot patch fetch: this runtime has no globalThis.fetch",
    );
  }
  if (Object.hasOwn(original, INSTRUMENTED)) {
    reportDiagnostic(
      options?.diagnostics ?? consoleDiagnosticSink,
      "patchGlobalFetch",
      "warn",
      "globalThis.fetch is already instrumented; leaving it as it is (restore the earlier patch first)",
    );
    return { restore() {}, [Symbol.dispose]() {} };
  }
  const traced = instrumentFetch(original.bind(globalThis), options);
  Object.defineProperty(traced, INSTRUMENTED, { value: original });
  globalThis.fetch = traced as typeof fetch;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (globalThis.fetch === (traced as unknown)) globalThis.fetch = original;
    else {
      reportDiagnostic(
        options.diagnostics ?? consoleDiagnosticSink,
        "patchGlobalFetch",
        "warn",
        "globalThis.fetch was replaced after patchGlobalFetch; not restoring over the newer one",
      );
    }
  };
  return { restore, [Symbol.dispose]: restore };
}
