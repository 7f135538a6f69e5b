/**
 * Request instrumentation for `node:http` / `node:https` servers (Node, and
 * the `node:http` of Deno and Bun): the same SERVER spans, semantic
 * conventions, propagation and counters as `@seed/telemetry/http`, for a
 * `(request, response)` listener. Typed structurally: nothing here imports
 * `node:http`.
 *
 * A fetch-style framework on its Node adapter (Hono on `@hono/node-server`)
 * is instrumented with `@seed/telemetry/http` or `@seed/telemetry/hono` as
 * on Deno and Bun; this module is for plain `node:http` listeners (and
 * frameworks built on them).
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import { instrumentNodeListener } from "@seed/telemetry/node-http";
 * import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
 *
 * const tracerProvider = new TracerProvider();
 * const server = createServer(instrumentNodeListener((_req: IncomingMessage, res: ServerResponse) => {
 *   res.end("hi");
 * }, { tracerProvider }));
 * server.close();
 * ```
 *
 * @module
 */

import {
  HttpServerInstrumentation,
  type HttpServerInstrumentationOptions,
  type HttpServerRequest,
  type HttpServerStats,
} from "./http_server.ts";
import { readClientAddressOption } from "./_http.ts";

/** The parts of `http.IncomingMessage` the instrumentation reads. */
export interface NodeIncomingMessage {
  /** The method, e.g. `"GET"`. */
  readonly method?: string;
  /** The request target: a path (`/a?b`) or, through a proxy, an absolute URL. */
  readonly url?: string;
  /** `"1.1"`, `"1.0"`, `"2.0"`. */
  readonly httpVersion?: string;
  /** Lowercased header names to values (`set-cookie` as an array). */
  readonly headers: Record<string, string | string[] | undefined>;
  /** The connection (`encrypted` on TLS sockets). */
  readonly socket?: {
    readonly remoteAddress?: string;
    readonly localAddress?: string;
    readonly localPort?: number;
    readonly encrypted?: boolean;
  } | null;
}

/** The parts of `http.ServerResponse` the instrumentation reads. */
export interface NodeServerResponse {
  /** The status code sent (or to be sent). */
  readonly statusCode: number;
  /** Whether the whole response was handed to the OS. */
  readonly writableFinished?: boolean;
  /** Adds a listener once (`finish`, `close`). */
  once(event: "finish" | "close", listener: () => void): unknown;
}

/** A `node:http` request listener. */
export type NodeRequestListener<
  Req extends NodeIncomingMessage = NodeIncomingMessage,
  Res extends NodeServerResponse = NodeServerResponse,
> = (request: Req, response: Res) => unknown;

/** Options of {@linkcode NodeHttpInstrumentation.listener}. */
export interface NodeListenerOptions {
  /**
   * The `http.route` of every request the listener serves, if fixed.
   * @default {undefined}
   */
  readonly route?: string;
}

/** `Headers`' `get`/`has` over Node's header object, without copying it. */
class NodeHeaders {
  readonly #headers: Record<string, string | string[] | undefined>;
  constructor(headers: Record<string, string | string[] | undefined>) {
    this.#headers = headers !== null && typeof headers === "object"
      ? headers
      : {};
  }
  get(name: string): string | null {
    const value = this.#headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : String(value);
  }
  has(name: string): boolean {
    return this.#headers[name.toLowerCase()] !== undefined;
  }
}

/** The request as `HttpServerInstrumentation.begin` reads it. */
interface RequestView {
  readonly method: string;
  readonly url: string;
  readonly headers: NodeHeaders;
}

function requestView(request: NodeIncomingMessage): RequestView {
  const headers = new NodeHeaders(request.headers);
  const target = typeof request.url === "string" ? request.url : "/";
  let url = target;
  if (target.startsWith("/")) {
    const socket = request.socket;
    const scheme = socket?.encrypted === true ? "https" : "http";
    let host = headers.get("host");
    if (host === null || host === "") {
      const address = socket?.localAddress ?? "localhost";
      host = `${address.includes(":") ? `[${address}]` : address}:${
        socket?.localPort ?? ""
      }`;
    }
    url = `${scheme}://${host}${target}`;
  }
  return {
    method: typeof request.method === "string" ? request.method : "GET",
    url,
    headers,
  };
}

/**
 * Instruments `node:http` request listeners: one SERVER span per request,
 * active for the listener's whole async extent (logs emitted inside carry
 * its ids), ended when the response finishes (`http.response.status_code`,
 * error status for 5xx) or its connection closes first (no status code).
 * `client.address` is the socket's remote address and
 * `network.protocol.version` the request's HTTP version. A listener that
 * throws has the error recorded and re-thrown unchanged.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { NodeHttpInstrumentation } from "@seed/telemetry/node-http";
 * import assert from "node:assert/strict";
 * import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
 * import type { AddressInfo } from "node:net";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using tracerProvider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * const http = new NodeHttpInstrumentation({ tracerProvider });
 * const server = createServer(http.listener((_req: IncomingMessage, res: ServerResponse) => {
 *   res.statusCode = 204;
 *   res.end();
 * }, { route: "/health" }));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as AddressInfo;
 * await (await fetch(`http://127.0.0.1:${port}/health`)).arrayBuffer();
 * await new Promise((resolve) => server.close(resolve));
 * await tracerProvider.forceFlush();
 * assert.equal(exporter.items[0].name, "GET /health");
 * assert.equal(exporter.items[0].attributes["http.response.status_code"], 204);
 * ```
 */
export class NodeHttpInstrumentation {
  readonly #http: HttpServerInstrumentation;
  readonly #clientAddress: boolean;

  /**
   * Creates the instrumentation.
   *
   * @param options The tracer provider, propagator and header allow-lists
   *   (as for `@seed/telemetry/http`).
   * @throws {TypeError} When `tracerProvider` is missing or a header name is invalid.
   */
  constructor(options: HttpServerInstrumentationOptions) {
    this.#http = new HttpServerInstrumentation(options);
    this.#clientAddress = readClientAddressOption(options.clientAddress);
  }

  /** The counters, as of now (the same as `@seed/telemetry/http`'s). */
  get stats(): HttpServerStats {
    return this.#http.stats;
  }

  /**
   * Wraps a request listener. The wrapper passes `this` and both arguments
   * through and returns what the listener returns.
   *
   * @param listener The listener (`http.createServer(listener)`, `server.on("request", listener)`).
   * @param options The route of every request it serves, if fixed.
   * @returns The instrumented listener.
   * @throws {TypeError} When `listener` is not a function.
   */
  listener<
    Req extends NodeIncomingMessage,
    Res extends NodeServerResponse,
  >(
    listener: NodeRequestListener<Req, Res>,
    options: NodeListenerOptions = {},
  ): NodeRequestListener<Req, Res> {
    if (typeof listener !== "function") {
      throw new TypeError(
        "Cannot instrument listener: expected a function (request, response) => void",
      );
    }
    const http = this.#http;
    const clientAddress = this.#clientAddress;
    const route = options.route;
    const call = listener as unknown as NodeRequestListener;
    const wrapped = function (
      this: unknown,
      request: NodeIncomingMessage,
      response: NodeServerResponse,
    ): unknown {
      let state: HttpServerRequest;
      try {
        state = http.begin(
          requestView(request) as unknown as Request,
          undefined,
        );
        if (route !== undefined) state.setRoute(route);
        decorate(state, request, clientAddress);
        watch(state, response);
      } catch {
        return call.call(this, request, response);
      }
      let result: unknown;
      try {
        result = state.run(() => call.call(this, request, response));
      } catch (error) {
        state.fail(error);
        throw error;
      }
      if (
        result !== null && typeof result === "object" &&
        typeof (result as PromiseLike<unknown>).then === "function"
      ) {
        // Recorded on a branch; the caller's promise is returned untouched.
        (result as PromiseLike<unknown>).then(undefined, (error: unknown) => {
          state.recordError(error);
        });
      }
      return result;
    };
    return wrapped as unknown as NodeRequestListener<Req, Res>;
  }
}

/** What only a socket knows: the peer and the HTTP version. */
function decorate(
  state: HttpServerRequest,
  request: NodeIncomingMessage,
  clientAddress: boolean,
) {
  const span = state.span;
  if (clientAddress) {
    const remote = request.socket?.remoteAddress;
    if (typeof remote === "string") {
      span.setAttribute("client.address", remote);
    }
  }
  const version = request.httpVersion;
  if (typeof version === "string" && version !== "") {
    span.setAttribute(
      "network.protocol.version",
      version === "2.0" ? "2" : version,
    );
  }
}

/** Ends the span when the response finishes, or when it closes unfinished. */
function watch(state: HttpServerRequest, response: NodeServerResponse) {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    const status = response.statusCode;
    if (Number.isInteger(status) && status >= 200 && status <= 599) {
      state.end(new Response(null, { status }));
      return;
    }
    // Response rejects statuses outside 200-599: record them by hand.
    if (Number.isInteger(status)) {
      state.span.setAttribute("http.response.status_code", status);
    }
    state.end(undefined);
  };
  response.once("finish", finish);
  response.once("close", () => {
    if (response.writableFinished === true) finish();
    else if (!done) {
      done = true; // the connection went before the response was sent
      state.end(undefined);
    }
  });
}

/**
 * Wraps one `node:http` listener; shorthand for
 * `new NodeHttpInstrumentation(options).listener(listener, options)`.
 *
 * @param listener The listener.
 * @param options The tracer provider, propagator, header allow-lists and route.
 * @returns The instrumented listener.
 * @throws {TypeError} When `tracerProvider` is missing or `listener` is not a function.
 *
 * @example
 * ```ts
 * import { TracerProvider } from "@seed/telemetry";
 * import { instrumentNodeListener } from "@seed/telemetry/node-http";
 * import assert from "node:assert/strict";
 * import type { IncomingMessage, ServerResponse } from "node:http";
 *
 * const listener = instrumentNodeListener((_req: IncomingMessage, res: ServerResponse) => res.end("ok"), {
 *   tracerProvider: new TracerProvider(),
 * });
 * assert.equal(typeof listener, "function");
 * ```
 */
export function instrumentNodeListener<
  Req extends NodeIncomingMessage,
  Res extends NodeServerResponse,
>(
  listener: NodeRequestListener<Req, Res>,
  options: HttpServerInstrumentationOptions & NodeListenerOptions,
): NodeRequestListener<Req, Res> {
  return new NodeHttpInstrumentation(options).listener(listener, options);
}
