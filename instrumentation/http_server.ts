/**
 * Request instrumentation for fetch-style servers: `Deno.serve(handler)`,
 * `Bun.serve({ fetch, routes })`, and anything else that calls
 * `(request, infoOrServer) => Response | Promise<Response>`. Each request is
 * a SERVER span with the stable HTTP semantic conventions; the span is active
 * for the handler's whole async extent (so logs inside carry its ids), a
 * streamed body ends it when the stream finishes, errors or is cancelled, and
 * a thrown error is recorded and re-thrown unchanged.
 *
 * Nothing here names a runtime: the client address comes from the handler's
 * second argument, read structurally (`server.requestIP(request)` on Bun,
 * `info.remoteAddr` on Deno).
 *
 * @example One line around a handler
 * ```ts ignore
 * import { BatchSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { OtlpHttpSpanExporter } from "@seed/telemetry/otlp-http";
 * import { instrumentHandler } from "@seed/telemetry/http";
 *
 * const tracerProvider = new TracerProvider({ processors: [new BatchSpanProcessor(new OtlpHttpSpanExporter())] });
 * Deno.serve(instrumentHandler((request) => new Response("hello"), { tracerProvider }));
 * ```
 *
 * @example Bun.serve with route patterns
 * ```ts ignore
 * import { TracerProvider } from "@seed/telemetry";
 * import { HttpServerInstrumentation } from "@seed/telemetry/http";
 *
 * const http = new HttpServerInstrumentation({ tracerProvider: new TracerProvider() });
 * Bun.serve({
 *   routes: http.routes({ "/users/:id": (request) => Response.json({ id: request.params.id }) }),
 *   fetch: http.handler(() => new Response("not found", { status: 404 })),
 * });
 * ```
 *
 * @module
 */

import {
  type AnyValue,
  type Attributes,
  type DiagnosticSink,
  type EnvReadOptions,
  SDK_VERSION,
  type Span,
  SpanKind,
  SpanStatusCode,
  TRACE_FLAG_SAMPLED,
  Tracer,
  withActiveSpan,
} from "../mod.ts";
import {
  type InternalStartSpanOptions,
  START_ADOPT_ATTRIBUTES,
  START_FLAGS,
  START_PARENT_VALID,
} from "../pipeline/trace/tracer_provider.ts";
import {
  captureHeaders,
  emptyUrlOrigin,
  emptyUrlParts,
  errorType,
  headerNames,
  normalizeMethod,
  originalMethod,
  readClientAddressOption,
  redactedFullUrl,
  redactQuery,
  splitUrlCached,
  type UrlOrigin,
  type UrlParts,
} from "./_http.ts";
import type {
  Histogram,
  Meter,
  UpDownCounter,
} from "../pipeline/metrics/mod.ts";
import { withBaggage } from "./baggage.ts";
import { NO_CONTEXT } from "./_no_context.ts";
import {
  type PropagationContext,
  propagatorFromEnv,
  type TextMapPropagator,
} from "./propagation.ts";

/**
 * What the instrumentation needs of a tracer provider (a
 * `TracerProvider` has it).
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import type { TracerSource } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const source: TracerSource = new TracerProvider();
 * assert.equal(typeof source.getTracer, "function");
 * ```
 */
export interface TracerSource {
  /** Returns the tracer of a scope. */
  getTracer(name: string, version?: string): Tracer;
}

/**
 * What the instrumentation needs of a meter provider (a `MeterProvider`
 * from `@seed/telemetry/metrics` has it).
 *
 * @example
 * ```ts
 * import { MeterProvider } from "@seed/telemetry/metrics";
 * import type { MeterSource } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const source: MeterSource = new MeterProvider();
 * assert.equal(typeof source.getMeter, "function");
 * ```
 */
export interface MeterSource {
  /** Returns the meter of a scope. */
  getMeter(name: string, version?: string): Meter;
}

/**
 * The semantic conventions' bucket boundaries of
 * `http.server.request.duration`, in seconds.
 *
 * @example
 * ```ts
 * import { HTTP_DURATION_BUCKETS } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * assert.equal(HTTP_DURATION_BUCKETS[0], 0.005);
 * ```
 */
export const HTTP_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
]);

/** The server metrics' instruments. */
interface ServerMetrics {
  readonly duration: Histogram;
  readonly active: UpDownCounter;
}

/**
 * Options of {@linkcode HttpServerInstrumentation} and
 * {@linkcode instrumentHandler}.
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import type { HttpServerInstrumentationOptions } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const options: HttpServerInstrumentationOptions = { tracerProvider: new TracerProvider(), requestHeaders: ["x-request-id"] };
 * assert.deepEqual(options.requestHeaders, ["x-request-id"]);
 * ```
 */
export interface HttpServerInstrumentationOptions extends EnvReadOptions {
  /** Where the SERVER spans come from. */
  readonly tracerProvider: TracerSource;
  /**
   * Where the server metrics go: `http.server.request.duration` (histogram,
   * seconds, the semantic conventions' buckets) and
   * `http.server.active_requests` (up-down counter, `{request}`).
   * @default {none: no metrics}
   */
  readonly meterProvider?: MeterSource;
  /**
   * How the parent context and baggage are read from request headers.
   * @default {propagatorFromEnv(): OTEL_PROPAGATORS, else tracecontext,baggage}
   */
  readonly propagator?: TextMapPropagator;
  /**
   * Request headers recorded as `http.request.header.<name>` (allow-list, case-insensitive).
   * @default {[]}
   */
  readonly requestHeaders?: readonly string[];
  /**
   * Response headers recorded as `http.response.header.<name>` (allow-list, case-insensitive).
   * @default {[]}
   */
  readonly responseHeaders?: readonly string[];
  /**
   * Whether spans get `client.address`: `server.requestIP(request)` on Bun,
   * `info.remoteAddr.hostname` on Deno, the socket's remote address on
   * `node:http`. On Bun that call builds a new address object per request
   * and costs about as much as reading the request's headers; set `false`
   * when the address is not wanted (or a proxy's address would be wrong
   * anyway) to leave the attribute out and skip the call.
   * @default {true}
   */
  readonly clientAddress?: boolean;
  /**
   * Where problems of the instrumentation itself are reported.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

/**
 * Counters of a {@linkcode HttpServerInstrumentation}.
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import { HttpServerInstrumentation } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const http = new HttpServerInstrumentation({ tracerProvider: new TracerProvider() });
 * await http.handler((_request: Request) => new Response(null))(new Request("http://localhost/"));
 * assert.equal(http.stats.requests, 1);
 * ```
 */
export interface HttpServerStats {
  /** Requests seen. */
  readonly requests: number;
  /** Handlers that threw or rejected (recorded, then re-thrown). */
  readonly handlerErrors: number;
  /** Responses with a 5xx status. */
  readonly serverErrors: number;
  /** Requests whose method was not a known one (`_OTHER`). */
  readonly otherMethods: number;
  /** Propagation headers (or baggage entries) ignored as malformed or oversized. */
  readonly rejectedHeaders: number;
  /** Response bodies whose stream failed. */
  readonly bodyErrors: number;
  /** Response bodies cancelled before the end (a client that went away). */
  readonly bodiesCancelled: number;
  /** Requests the instrumentation could not describe (served uninstrumented). */
  readonly instrumentationErrors: number;
}

/**
 * Options of {@linkcode HttpServerRequest.end}.
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import { HttpServerInstrumentation, type ResponseEndOptions } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const http = new HttpServerInstrumentation({ tracerProvider: new TracerProvider() });
 * const request = http.begin(new Request("http://localhost/"), undefined);
 * const options: ResponseEndOptions = { staticBody: true };
 * const response = new Response("made from a string");
 * assert.equal(request.end(response, options), response);
 * assert.equal(request.span.ended, true);
 * ```
 */
export interface ResponseEndOptions {
  /**
   * The body is known not to be a stream: it was made from a string, a
   * buffer, a `Blob`, `FormData`, `URLSearchParams`, or there is none. The
   * span then ends at once and `response.body` is never read (reading it
   * makes the runtime stream a plain body). A wrong `true` only ends the
   * span early: the response is sent unchanged.
   * @default {false: the body is read, and a stream ends the span at its end}
   */
  readonly staticBody?: boolean;
}

/**
 * Options of one instrumented handler.
 *
 * @example
 * ```ts
 * import type { HandlerOptions } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const options: HandlerOptions = { route: "/users/:id" };
 * assert.equal(options.route, "/users/:id");
 * ```
 */
export interface HandlerOptions {
  /**
   * The `http.route` of every request this handler serves (a route pattern, never a raw path).
   * @default {none: the span is named by the method alone}
   */
  readonly route?: string;
}

/**
 * A fetch-style request handler: what `Deno.serve` and `Bun.serve({ fetch })`
 * take. The second argument is Deno's `ServeHandlerInfo` or Bun's `Server`.
 *
 * @example
 * ```ts
 * import type { FetchHandler } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const handler: FetchHandler = (request: Request) => new Response(request.method);
 * assert.equal(typeof handler, "function");
 * ```
 */
export type FetchHandler = (
  request: Request,
  ...rest: never[]
) => unknown;

/** The span attributes the duration histogram keeps (besides the method). */
const METRIC_KEYS = [
  "url.scheme",
  "http.response.status_code",
  "http.route",
  "error.type",
  "network.protocol.version",
] as const;

/**
 * Span names `{method} {route}` by method, then route. A name made per
 * request with a template is a new string every time, and (from 13
 * characters on) a V8 rope that the exporter walks again to encode it; a
 * cached name is one flat string per route. Routes are an app's patterns, a
 * small set; `setRoute` is public, so the cache stops growing at
 * {@linkcode MAX_CACHED_NAMES} and names beyond it are made per call.
 */
const SPAN_NAMES = new Map<string, Map<string, string>>();
const MAX_CACHED_NAMES = 1024;
let cachedNames = 0;

function spanName(method: string, route: string): string {
  let byRoute = SPAN_NAMES.get(method);
  if (byRoute === undefined) {
    byRoute = new Map();
    SPAN_NAMES.set(method, byRoute);
  }
  const cached = byRoute.get(route);
  if (cached !== undefined) return cached;
  const name = `${method === "_OTHER" ? "HTTP" : method} ${route}`;
  if (cachedNames >= MAX_CACHED_NAMES) return name;
  cachedNames++;
  // Flatten once (a rope's char read makes V8 flatten it in place).
  name.charCodeAt(name.length - 1);
  byRoute.set(route, name);
  return name;
}

/**
 * Whether `tracer` is exactly this library's `Tracer` (not a subclass, a
 * Proxy or another kind): its `startSpan` reads the options once on entry
 * and keeps none of them, so one options object can serve every call.
 */
function isOwnTracer(tracer: unknown): boolean {
  try {
    return typeof tracer === "object" && tracer !== null &&
      Object.getPrototypeOf(tracer) === Tracer.prototype;
  } catch {
    return false; // a Proxy whose getPrototypeOf trap throws
  }
}

/** The longest value begin() remembers for the next request to share (see #lastClient). */
const MAX_INTERNED = 256;

/** Gives a request its meters (set in HttpServerRequest's static block). */
let attachState: (
  state: HttpServerRequest,
  metrics: ServerMetrics | undefined,
) => void;

interface Counters {
  requests: number;
  handlerErrors: number;
  serverErrors: number;
  otherMethods: number;
  rejectedHeaders: number;
  bodyErrors: number;
  bodiesCancelled: number;
  instrumentationErrors: number;
}

interface ClientInfo {
  requestIP?: (request: Request) => { address?: unknown } | null | undefined;
  remoteAddr?: { hostname?: unknown };
}

function clientAddress(request: Request, info: unknown): string | undefined {
  if (info === null || typeof info !== "object") return undefined;
  const i = info as ClientInfo;
  if (typeof i.requestIP === "function") {
    const address = i.requestIP(request)?.address;
    return typeof address === "string" ? address : undefined;
  }
  const hostname = i.remoteAddr?.hostname;
  return typeof hostname === "string" ? hostname : undefined;
}

/**
 * One request's SERVER span, for adapters that cannot wrap a handler (the
 * Hono middleware): set the route once known, run the handler inside
 * {@linkcode HttpServerRequest.run}, then {@linkcode HttpServerRequest.end}
 * with the response or {@linkcode HttpServerRequest.fail} with the error.
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import { HttpServerInstrumentation } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const http = new HttpServerInstrumentation({ tracerProvider: new TracerProvider() });
 * const request = http.begin(new Request("http://localhost/users/7"), undefined);
 * const response = await request.run(async () => new Response("ok"));
 * request.setRoute("/users/:id");
 * const sent = request.end(response);
 * assert.equal(request.span.name, "GET /users/:id");
 * assert.equal(await sent.text(), "ok");
 * ```
 */
export class HttpServerRequest {
  /** The SERVER span. */
  readonly span: Span;
  #upgrade: boolean | undefined;
  #headers: Headers | undefined;
  #method: string;
  #context: PropagationContext;
  #counters: Counters;
  #responseHeaders: readonly string[];
  #ended = false;
  #metrics: ServerMetrics | undefined;
  #started = 0;
  #activeAttributes: Attributes | undefined;

  /**
   * Wraps a started span. Use {@linkcode HttpServerInstrumentation.begin}.
   *
   * @param span The SERVER span.
   * @param method The normalised method.
   * @param context The extracted propagation context (for its baggage).
   * @param counters The instrumentation's counters.
   * @param responseHeaders Response headers to capture.
   * @param headers The request's headers, for {@linkcode HttpServerRequest.upgrade} (read only when asked).
   */
  constructor(
    span: Span,
    method: string,
    context: PropagationContext,
    counters: Counters,
    responseHeaders: readonly string[],
    headers?: Headers,
  ) {
    this.span = span;
    this.#headers = headers;
    this.#method = method;
    this.#context = context;
    this.#counters = counters;
    this.#responseHeaders = responseHeaders;
  }

  /**
   * Whether the request asked for a protocol upgrade (an `upgrade` header).
   * Read from the request's headers when first asked (on Bun, when the
   * handler returned nothing), not on every request.
   */
  get upgrade(): boolean {
    let upgrade = this.#upgrade;
    if (upgrade === undefined) {
      upgrade = false;
      try {
        upgrade = (this.#headers?.get("upgrade") ?? null) !== null;
      } catch {
        this.#counters.instrumentationErrors++;
      }
      this.#upgrade = upgrade;
      this.#headers = undefined;
    }
    return upgrade;
  }
  set upgrade(value: boolean) {
    this.#upgrade = value === true;
    this.#headers = undefined;
  }

  static {
    attachState = (state, metrics) => {
      if (metrics === undefined) return;
      const attributes = state.span.attributes;
      const active: Record<string, AnyValue> = {
        "http.request.method": attributes["http.request.method"] as AnyValue,
      };
      const scheme = attributes["url.scheme"];
      if (scheme !== undefined) active["url.scheme"] = scheme as AnyValue;
      state.#metrics = metrics;
      state.#activeAttributes = active as Attributes;
      state.#started = performance.now();
      metrics.active.add(1, active as Attributes);
    };
  }

  /** Ends the span and records the request's metrics, once. */
  #finish(): void {
    const span = this.span;
    if (span.ended) return;
    span.end();
    const metrics = this.#metrics;
    if (metrics === undefined) return;
    this.#metrics = undefined;
    try {
      metrics.active.add(-1, this.#activeAttributes);
      const a = span.attributes;
      const out: Record<string, AnyValue> = {
        "http.request.method": a["http.request.method"] as AnyValue,
      };
      for (const key of METRIC_KEYS) {
        const value = a[key];
        if (value !== undefined) out[key] = value as AnyValue;
      }
      metrics.duration.record(
        (performance.now() - this.#started) / 1000,
        out as Attributes,
      );
    } catch {
      this.#counters.instrumentationErrors++;
    }
  }

  /**
   * Sets `http.route` and names the span `{method} {route}`.
   *
   * @param route The matched route pattern.
   */
  setRoute(route: string): void {
    if (typeof route !== "string" || route === "") return;
    this.span.setAttribute("http.route", route);
    this.span.updateName(spanName(this.#method, route));
  }

  /**
   * Runs `fn` with the span (and the request's baggage) active.
   *
   * @param fn The handler call.
   * @returns What `fn` returns.
   */
  run<T>(fn: () => T): T {
    const baggage = this.#context.baggage;
    return baggage === undefined
      ? withActiveSpan(this.span, fn)
      : withActiveSpan(this.span, () => withBaggage(baggage, fn));
  }

  /**
   * Records a thrown error (an `exception` event, status error,
   * `error.type`) and ends the span. Re-throw the error yourself.
   *
   * @param error What the handler threw.
   */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.recordError(error);
    this.#ended = true;
    this.#finish();
  }

  /**
   * Records a handled error (an `exception` event, status error,
   * `error.type`) without ending the span: for frameworks that turn a
   * thrown error into a response themselves (Hono's `onError`).
   *
   * @param error What the handler threw.
   */
  recordError(error: unknown): void {
    if (this.#ended) return;
    this.#counters.handlerErrors++;
    const span = this.span;
    try {
      span.recordException(error);
      span.setAttribute("error.type", errorType(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
    } catch {
      this.#counters.instrumentationErrors++;
    }
  }

  /**
   * Records the response and ends the span: now, or (for a body stream)
   * when the stream finishes, errors or is cancelled. A `101` (WebSocket
   * upgrade) ends it at once; so does `undefined`, what Bun's `fetch`
   * returns after `server.upgrade()`.
   *
   * Reading `response.body` turns a string or buffer body into a stream,
   * which takes `Deno.serve` and `Bun.serve` off their fast path for plain
   * bodies; an adapter that knows how the response was made (the Hono
   * middleware does) passes `{ staticBody: true }` so that the span ends
   * now and the body is left untouched.
   *
   * @param response The handler's result.
   * @param options `staticBody: true` when the body is known not to be a stream (made from a string, a buffer, a `Blob`, `FormData`, `URLSearchParams` or nothing). Default `{}`: the body is looked at.
   * @returns The response to send: the same one, or one whose body ends the span.
   */
  end<R>(response: R, options?: ResponseEndOptions): R {
    if (this.#ended) return response;
    this.#ended = true;
    const span = this.span;
    if (!(response instanceof Response)) {
      // Bun's fetch returns undefined once server.upgrade() took the request.
      if (response === undefined && this.upgrade) {
        span.setAttribute("http.response.status_code", 101);
      }
      this.#finish();
      return response;
    }
    const status = response.status;
    span.setAttribute("http.response.status_code", status);
    if (this.#responseHeaders.length > 0) {
      try {
        captureHeaders(
          response.headers,
          this.#responseHeaders,
          "http.response.header",
          (k, v) => span.setAttribute(k, v),
        );
      } catch {
        this.#counters.instrumentationErrors++;
      }
    }
    if (status >= 500) {
      this.#counters.serverErrors++;
      if (span.attributes["error.type"] === undefined) {
        span.setAttribute("error.type", String(status));
      }
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    let staticBody = false;
    try {
      staticBody = options?.staticBody === true;
    } catch {
      this.#counters.instrumentationErrors++;
    }
    if (staticBody) {
      this.#finish();
      return response;
    }
    const body = status === 101 ? null : response.body;
    if (
      body === null ||
      ((span.traceFlags & TRACE_FLAG_SAMPLED) === 0 &&
        this.#metrics === undefined)
    ) {
      this.#finish();
      return response;
    }
    return new Response(this.#watch(body), {
      status,
      statusText: response.statusText,
      headers: response.headers,
    }) as R;
  }

  #watch(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const span = this.span;
    const counters = this.#counters;
    const finish = () => this.#finish();
    const reader = body.getReader();
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        return reader.read().then((chunk) => {
          if (chunk.done) {
            controller.close();
            finish();
          } else controller.enqueue(chunk.value);
        }, (error: unknown) => {
          counters.bodyErrors++;
          span.recordException(error);
          span.setAttribute("error.type", errorType(error));
          span.setStatus({ code: SpanStatusCode.ERROR });
          finish();
          controller.error(error);
        });
      },
      cancel(reason) {
        if (!span.ended) counters.bodiesCancelled++;
        finish();
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }
}

/**
 * Instruments fetch-style handlers: one SERVER span per request, with
 * `http.request.method` (`_OTHER` plus `http.request.method_original` for an
 * unknown method), `url.full` (credentials and the conventions' sensitive
 * query parameters redacted), `url.path`, `url.query`, `url.scheme`,
 * `server.address`, `server.port`, `client.address`, `user_agent.original`,
 * `network.protocol.version`, `http.route` (when known),
 * `http.response.status_code` and `error.type`. A 5xx or a thrown error sets
 * the status to error. Hostile requests (malformed `traceparent`, huge
 * headers, odd methods) are served normally and counted in
 * {@linkcode HttpServerInstrumentation.stats}.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { HttpServerInstrumentation } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using tracerProvider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * const http = new HttpServerInstrumentation({ tracerProvider });
 * const handler = http.handler((_request: Request) => new Response(null, { status: 204 }), { route: "/health" });
 * await handler(new Request("http://localhost:8000/health?full=1"));
 * await tracerProvider.forceFlush();
 * assert.equal(exporter.items[0].name, "GET /health");
 * assert.equal(exporter.items[0].attributes["http.response.status_code"], 204);
 * assert.equal(exporter.items[0].attributes["url.query"], "full=1");
 * ```
 */
export class HttpServerInstrumentation {
  #tracer: Tracer;
  #propagator: TextMapPropagator;
  /** What begin() hands the propagator to extract into: NO_CONTEXT for the default one. */
  #emptyContext: PropagationContext | undefined;
  #startFlags: number;
  /**
   * The options of every `startSpan` call, reused when the tracer is this
   * library's (it reads them once, on entry, and keeps none of them); a
   * tracer of another kind gets a fresh object per call.
   */
  #startOptions:
    | {
      -readonly [K in keyof InternalStartSpanOptions]:
        InternalStartSpanOptions[K];
    }
    | undefined;
  /** The URL parts of the request being begun (read at once, kept by nothing). */
  #parts: UrlParts = emptyUrlParts();
  /** The last request's scheme and authority (scheme, host and port strings shared while they repeat). */
  #origin: UrlOrigin = emptyUrlOrigin();
  /**
   * The last request's `client.address` and `user_agent.original`. A request whose value equals the last one's
   * gets that string instead of its own copy: consecutive requests mostly
   * carry the same ones, and the OTLP encoder, which meets a batch's spans
   * long after they were made (out of the CPU's caches), then matches the
   * value it remembered by a pointer compare instead of reading the
   * characters of a string of each request (see _proto_writer.ts's value
   * slots). The compare runs here while both strings are fresh. Values of
   * MAX_INTERNED characters or more are not held on to. (`server.address`
   * and `url.scheme` are shared through #origin.)
   */
  #lastClient = "";
  #lastUserAgent = "";
  #requestHeaders: readonly string[];
  #responseHeaders: readonly string[];
  #clientAddress: boolean;
  #metrics: ServerMetrics | undefined;
  #counters: Counters = {
    requests: 0,
    handlerErrors: 0,
    serverErrors: 0,
    otherMethods: 0,
    rejectedHeaders: 0,
    bodyErrors: 0,
    bodiesCancelled: 0,
    instrumentationErrors: 0,
  };

  /**
   * Creates the instrumentation.
   *
   * @param options The tracer provider, propagator and header allow-lists.
   * @throws {TypeError} When `tracerProvider` is missing or a header name is invalid.
   */
  constructor(options: HttpServerInstrumentationOptions) {
    if (
      options === null || typeof options !== "object" ||
      typeof options.tracerProvider?.getTracer !== "function"
    ) {
      throw new TypeError(
        "Cannot create HttpServerInstrumentation: options.tracerProvider is required (a TracerProvider)",
      );
    }
    this.#tracer = options.tracerProvider.getTracer(
      "@seed/telemetry/http",
      SDK_VERSION,
    );
    this.#clientAddress = readClientAddressOption(options.clientAddress);
    this.#propagator = options.propagator ?? propagatorFromEnv(options);
    this.#emptyContext = options.propagator === undefined
      ? NO_CONTEXT
      : undefined;
    // The attributes object of begin() is built for its span alone, and
    // the built-in propagators' span contexts are fresh and valid by
    // construction: the span keeps the one and does not check the ids of
    // the other again. A caller's propagator is checked as any parent is.
    this.#startFlags = START_ADOPT_ATTRIBUTES |
      (options.propagator === undefined ? START_PARENT_VALID : 0);
    this.#startOptions = isOwnTracer(this.#tracer)
      ? {
        kind: SpanKind.SERVER,
        attributes: undefined,
        parent: null,
        [START_FLAGS]: this.#startFlags,
      }
      : undefined;
    const meterProvider = options.meterProvider;
    if (meterProvider !== undefined) {
      if (
        meterProvider === null || typeof meterProvider !== "object" ||
        typeof meterProvider.getMeter !== "function"
      ) {
        throw new TypeError(
          "Cannot create HttpServerInstrumentation: options.meterProvider must be a MeterProvider (from @seed/telemetry/metrics)",
        );
      }
      const meter = meterProvider.getMeter("@seed/telemetry/http", SDK_VERSION);
      this.#metrics = {
        duration: meter.createHistogram("http.server.request.duration", {
          unit: "s",
          description: "Duration of HTTP server requests.",
          advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS },
        }),
        active: meter.createUpDownCounter("http.server.active_requests", {
          unit: "{request}",
          description: "Number of active HTTP server requests.",
          valueType: "int",
        }),
      };
    }
    this.#requestHeaders = headerNames(
      options.requestHeaders,
      "requestHeaders",
    );
    this.#responseHeaders = headerNames(
      options.responseHeaders,
      "responseHeaders",
    );
  }

  /** The counters, as of now. */
  get stats(): HttpServerStats {
    return { ...this.#counters };
  }

  /** The attributes of a request that begin()'s full literal leaves out, in the order they had. */
  #addRest(
    attributes: Record<string, AnyValue>,
    method: string,
    rawMethod: string,
    client: string | undefined,
    userAgent: string | null,
  ): void {
    if (method === "_OTHER") {
      this.#counters.otherMethods++;
      attributes["http.request.method_original"] = originalMethod(rawMethod);
    }
    if (client !== undefined) attributes["client.address"] = client;
    if (userAgent !== null) attributes["user_agent.original"] = userAgent;
  }

  /**
   * Starts the SERVER span of one request (the parent comes from its
   * headers). For adapters; {@linkcode HttpServerInstrumentation.handler}
   * does this for you.
   *
   * @param request The request.
   * @param info The handler's second argument (Deno's info, Bun's server), for `client.address`.
   * @returns The request's span handle.
   */
  begin(request: Request, info: unknown): HttpServerRequest {
    const counters = this.#counters;
    counters.requests++;
    const rawMethod = request.method;
    const method = normalizeMethod(rawMethod);
    const url = request.url;
    // One `get` per header needed: Deno's `Headers` answers a `get` from
    // the request alone, while `has`, iteration or a missing-name scan
    // copy every header first.
    const headers = request.headers;
    let client: string | undefined;
    if (this.#clientAddress) {
      try {
        client = clientAddress(request, info);
      } catch {
        counters.instrumentationErrors++;
      }
    }
    if (client !== undefined) {
      if (client === this.#lastClient) client = this.#lastClient;
      else if (client.length < MAX_INTERNED) this.#lastClient = client;
    }
    let userAgent = headers.get("user-agent");
    if (userAgent !== null) {
      if (userAgent === this.#lastUserAgent) userAgent = this.#lastUserAgent;
      else if (userAgent.length < MAX_INTERNED) {
        this.#lastUserAgent = userAgent;
      }
    }
    const parts = this.#parts;
    let attributes: Record<string, AnyValue>;
    if (splitUrlCached(url, parts, this.#origin)) {
      const query = parts.query;
      const redacted = query === undefined ? undefined : redactQuery(query);
      const full = redactedFullUrl(url, parts, redacted);
      // Bun.serve and Deno.serve speak HTTP/1.1 over cleartext; over TLS
      // the version (1.1 or 2) is not exposed to the handler.
      const cleartext = parts.scheme === "http";
      // The keys a request usually has, in one literal: V8 and JSC then
      // make the object with its final shape at once instead of growing it
      // key by key (each added key a shape transition, and past the
      // literal's slack a new, larger property store).
      if (
        redacted === undefined && cleartext && method !== "_OTHER" &&
        client !== undefined && userAgent !== null
      ) {
        attributes = {
          "http.request.method": method,
          "url.scheme": parts.scheme,
          "url.path": parts.path,
          "url.full": full,
          "server.address": parts.host,
          "server.port": parts.port,
          "network.protocol.version": "1.1",
          "client.address": client,
          "user_agent.original": userAgent,
        };
      } else {
        attributes = {
          "http.request.method": method,
          "url.scheme": parts.scheme,
          "url.path": parts.path,
          "url.full": full,
          "server.address": parts.host,
          "server.port": parts.port,
        };
        if (redacted !== undefined) attributes["url.query"] = redacted;
        if (cleartext) attributes["network.protocol.version"] = "1.1";
        this.#addRest(attributes, method, rawMethod, client, userAgent);
      }
    } else {
      attributes = { "http.request.method": method };
      this.#addRest(attributes, method, rawMethod, client, userAgent);
    }
    const requestHeaders = this.#requestHeaders;
    if (requestHeaders.length > 0) {
      captureHeaders(headers, requestHeaders, "http.request.header", (k, v) => {
        attributes[k] = v;
      });
    }
    const context = this.#propagator.extract(
      headers,
      this.#emptyContext ?? {},
    );
    if (context.rejected !== undefined) {
      counters.rejectedHeaders += context.rejected;
    }
    const name = method === "_OTHER" ? "HTTP" : method;
    const parent = context.spanContext ?? null;
    let span: Span;
    const reused = this.#startOptions;
    if (reused !== undefined) {
      reused.attributes = attributes as Attributes;
      reused.parent = parent;
      try {
        span = this.#tracer.startSpan(name, reused);
      } finally {
        reused.attributes = undefined;
        reused.parent = null;
      }
    } else {
      span = this.#tracer.startSpan(name, {
        kind: SpanKind.SERVER,
        attributes: attributes as Attributes,
        parent,
        [START_FLAGS]: this.#startFlags,
      } as InternalStartSpanOptions);
    }
    const state = new HttpServerRequest(
      span,
      method,
      context,
      counters,
      this.#responseHeaders,
      headers,
    );
    attachState(state, this.#metrics);
    return state;
  }

  /**
   * Wraps a fetch-style handler (`Deno.serve(handler)`,
   * `Bun.serve({ fetch })`). The wrapper has the handler's type, passes every
   * argument and `this` through, and returns what the handler returns (a
   * response with a body is re-wrapped so that the body's end ends the span).
   *
   * @param handler The handler.
   * @param options The route of every request it serves, if fixed.
   * @returns The instrumented handler.
   */
  handler<H extends FetchHandler>(handler: H, options: HandlerOptions = {}): H {
    if (typeof handler !== "function") {
      throw new TypeError(
        "Cannot instrument handler: expected a function (request, info) => Response",
      );
    }
    const route = options.route;
    const counters = this.#counters;
    const begin = (request: Request, info: unknown) =>
      this.begin(request, info);
    const wrapped = function (
      this: unknown,
      request: Request,
      ...rest: never[]
    ): unknown {
      let state: HttpServerRequest;
      try {
        state = begin(request, rest[0]);
        if (route !== undefined) state.setRoute(route);
      } catch {
        counters.instrumentationErrors++;
        return handler.call(this, request, ...rest);
      }
      let result: unknown;
      try {
        result = state.run(() => handler.call(this, request, ...rest));
      } catch (error) {
        state.fail(error);
        throw error;
      }
      if (
        result !== null && typeof result === "object" &&
        typeof (result as PromiseLike<unknown>).then === "function"
      ) {
        return (result as PromiseLike<unknown>).then(
          (response) => state.end(response),
          (error: unknown) => {
            state.fail(error);
            throw error;
          },
        );
      }
      return state.end(result);
    };
    return wrapped as unknown as H;
  }

  /**
   * Wraps every handler of a `Bun.serve({ routes })` table: each pattern
   * becomes the `http.route` of its requests. Method tables
   * (`{ GET, POST }`) are wrapped per method; static `Response` values are
   * served by Bun without calling JavaScript, so they stay as they are
   * (and make no span).
   *
   * @param routes The routes table.
   * @returns The same table shape with instrumented handlers.
   */
  routes<R extends Record<string, unknown>>(routes: R): R {
    const out: Record<string, unknown> = {};
    for (const pattern of Object.keys(routes)) {
      const value = routes[pattern];
      if (typeof value === "function") {
        out[pattern] = this.handler(value as FetchHandler, { route: pattern });
      } else if (
        value !== null && typeof value === "object" &&
        !(value instanceof Response)
      ) {
        const methods: Record<string, unknown> = {};
        for (const method of Object.keys(value)) {
          const h = (value as Record<string, unknown>)[method];
          methods[method] = typeof h === "function"
            ? this.handler(h as FetchHandler, { route: pattern })
            : h;
        }
        out[pattern] = methods;
      } else {
        out[pattern] = value;
      }
    }
    return out as R;
  }
}

/**
 * Wraps one fetch-style handler; shorthand for
 * `new HttpServerInstrumentation(options).handler(handler)`.
 *
 * @param handler The handler.
 * @param options The tracer provider, propagator, header allow-lists and route.
 * @returns The instrumented handler, of the same type.
 * @throws {TypeError} When `tracerProvider` is missing or `handler` is not a function.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { instrumentHandler } from "@seed/telemetry/http";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using tracerProvider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * const handler = instrumentHandler((_request: Request) => new Response("boom", { status: 503 }), { tracerProvider });
 * const response = await handler(new Request("http://localhost/"));
 * assert.equal(await response.text(), "boom"); // a body ends the span once it is sent
 * await tracerProvider.forceFlush();
 * assert.equal(exporter.items[0].status.code, 2);
 * assert.equal(exporter.items[0].attributes["error.type"], "503");
 * ```
 */
export function instrumentHandler<H extends FetchHandler>(
  handler: H,
  options: HttpServerInstrumentationOptions & HandlerOptions,
): H {
  return new HttpServerInstrumentation(options).handler(handler, options);
}
