/**
 * A Hono middleware: one SERVER span per request with the stable HTTP
 * semantic conventions, `http.route` from Hono's matched route, the span
 * active for the handlers' whole async extent, errors that Hono's `onError`
 * turned into a response recorded on the span. Typed structurally: this
 * module never imports Hono.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { honoMiddleware } from "@seed/telemetry/hono";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using tracerProvider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * const app = new Hono();
 * app.use(honoMiddleware({ tracerProvider }));
 * app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
 * const response = await app.request("http://localhost/users/7");
 * await response.text();
 * await tracerProvider.forceFlush();
 * assert.equal(exporter.items[0].name, "GET /users/:id");
 * assert.equal(exporter.items[0].attributes["http.route"], "/users/:id");
 * ```
 *
 * @module
 */

import {
  HttpServerInstrumentation,
  type HttpServerInstrumentationOptions,
  type HttpServerRequest,
} from "./http_server.ts";

/**
 * The part of Hono's `Context` the middleware uses.
 *
 * @example
 * ```ts
 * import type { HonoContextLike } from "@seed/telemetry/hono";
 * import assert from "node:assert/strict";
 *
 * const c: HonoContextLike = { req: { raw: new Request("http://localhost/") }, res: new Response("ok") };
 * assert.equal(c.req.raw.method, "GET");
 * ```
 */
export interface HonoContextLike {
  /**
   * The request: the raw `Request`, the matched route path, and the index
   * of the handler being run among the matched ones (Hono's `routeIndex`).
   */
  readonly req: {
    readonly raw: Request;
    readonly routePath?: string;
    readonly routeIndex?: number;
  };
  /** The runtime's second handler argument (Bun's server, Deno's info). */
  readonly env?: unknown;
  /** The response; the middleware may replace it (to watch a streamed body). */
  res: Response;
  /** The error Hono's `onError` handled, if any. */
  readonly error?: unknown;
  /**
   * Hono's response factories. The middleware wraps them for the request
   * to learn which response they made from a string or buffer: that
   * response's span ends when the handler returns, and its body is never
   * read (reading it would make the runtime stream a plain body).
   */
  text?: (...args: never[]) => unknown;
  /** Hono's `c.json`: a body from a string (see {@linkcode HonoContextLike.text}). */
  json?: (...args: never[]) => unknown;
  /** Hono's `c.html`: a body from a string, or a promise of one (not tracked). */
  html?: (...args: never[]) => unknown;
  /** Hono's `c.body`: its first argument is the body. */
  body?: (...args: never[]) => unknown;
  /** Hono's `c.newResponse`: its first argument is the body. */
  newResponse?: (...args: never[]) => unknown;
}

/**
 * A Hono middleware function.
 *
 * @example
 * ```ts
 * import type { HonoMiddleware } from "@seed/telemetry/hono";
 * import assert from "node:assert/strict";
 *
 * const noop: HonoMiddleware = async (_c, next) => { await next(); };
 * assert.equal(typeof noop, "function");
 * ```
 */
export type HonoMiddleware = (
  c: HonoContextLike,
  next: () => Promise<void>,
) => Promise<void>;

const STATIC_BODY = Object.freeze({ staticBody: true });

/** Whether a response made from `data` has a body that is not a stream. */
function isStaticBody(data: unknown): boolean {
  if (data === null || data === undefined || typeof data === "string") {
    return true;
  }
  if (typeof data !== "object") return false;
  return data instanceof ArrayBuffer || ArrayBuffer.isView(data) ||
    data instanceof URLSearchParams ||
    (typeof Blob === "function" && data instanceof Blob) ||
    (typeof FormData === "function" && data instanceof FormData);
}

type Factory = (this: unknown, a: unknown, b: unknown, c: unknown) => unknown;
type Wrapper = (a: unknown, b: unknown, c: unknown) => unknown;

/** Whether `response` (a factory's result) counts as made from a static body. */
function staticResult(
  response: unknown,
  data: unknown,
  byData: boolean,
): boolean {
  try {
    return response instanceof Response && (!byData || isStaticBody(data));
  } catch {
    // A hostile body (a Proxy whose prototype trap throws): not known static.
    return false;
  }
}

/**
 * One request's view of Hono's response factories: `text`, `json` and
 * `html` always make a body from a string; `body` and `newResponse` take
 * the body as their first argument. {@linkcode StaticResponses.install}
 * replaces each of `c`'s factories by a wrapper that calls the original
 * (with `c` as `this`, at most three arguments: body or value, status or
 * init, headers; no rest array) and remembers the response when its body
 * is not a stream. A wrapper never changes what the factory returns or
 * throws. The five wrappers share this one object as their state (one
 * allocation for the state instead of one per factory) and are still
 * plain functions, so a handler may destructure them (`const { json } = c`).
 */
class StaticResponses {
  /** The response a wrapped factory made last from a body that is not a stream. */
  last: unknown = undefined;

  /** Wraps `c`'s factories; a frozen or exotic context keeps its own (every response is then looked at). */
  install(c: HonoContextLike): void {
    const ctx = c as unknown as Record<string, Factory | undefined>;
    try {
      const text = ctx.text;
      const json = ctx.json;
      const html = ctx.html;
      const body = ctx.body;
      const newResponse = ctx.newResponse;
      // deno-lint-ignore no-this-alias
      const seen = this;
      const out = ctx as unknown as Record<string, Wrapper>;
      if (typeof text === "function") {
        out.text = (a, b, d) => {
          const r = text.call(c, a, b, d);
          if (staticResult(r, a, false)) seen.last = r;
          return r;
        };
      }
      if (typeof json === "function") {
        out.json = (a, b, d) => {
          const r = json.call(c, a, b, d);
          if (staticResult(r, a, false)) seen.last = r;
          return r;
        };
      }
      if (typeof html === "function") {
        out.html = (a, b, d) => {
          const r = html.call(c, a, b, d);
          if (staticResult(r, a, false)) seen.last = r;
          return r;
        };
      }
      if (typeof body === "function") {
        out.body = (a, b, d) => {
          const r = body.call(c, a, b, d);
          if (staticResult(r, a, true)) seen.last = r;
          return r;
        };
      }
      if (typeof newResponse === "function") {
        out.newResponse = (a, b, d) => {
          const r = newResponse.call(c, a, b, d);
          if (staticResult(r, a, true)) seen.last = r;
          return r;
        };
      }
    } catch {
      // A frozen or exotic context: every response is looked at.
    }
  }
}

function routeOf(c: HonoContextLike): string | undefined {
  try {
    const route = routeFor(c.req);
    return typeof route === "string" && route !== "*" && route !== "/*"
      ? route
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Hono's request keeps its router match behind one symbol-keyed getter
 * (`GET_MATCH_RESULT`, which `hono/route`'s `routePath(c)` reads), while
 * its deprecated `routePath` getter maps every matched route into a new
 * array to pick one, on each call. The key is looked for once per request
 * prototype (the one symbol getter without a setter or description) and
 * trusted only after it gave the same route as `routePath` did; a
 * prototype without one, a disagreement, an odd shape or a throw reads
 * `routePath` as before. `null`: this prototype reads `routePath`.
 */
const matchKeys = new WeakMap<object, symbol | null>();
let lastPrototype: object | null = null;
let lastKey: symbol | null = null;
/** Requests that could not confirm a found key yet (no route matched); then it is not used. */
let unconfirmed = 0;
const MAX_UNCONFIRMED = 64;

/** The request's route: through the match result where trusted, else `routePath`. */
function routeFor(req: HonoContextLike["req"]): unknown {
  const proto = Object.getPrototypeOf(req) as object | null;
  let key: symbol | null | undefined;
  if (proto === lastPrototype) key = lastKey;
  else if (proto !== null && (key = matchKeys.get(proto)) !== undefined) {
    lastPrototype = proto;
    lastKey = key;
  }
  if (key === undefined) return learnMatchKey(req, proto);
  if (key !== null) {
    let route: string | undefined;
    try {
      route = routeFromMatch(req, key);
    } catch {
      // A getter that throws on this request: ask routePath.
    }
    if (route !== undefined) return route;
  }
  return req.routePath;
}

/** `match[0][routeIndex][0][1].path`, each step checked; undefined when any is not there. */
function routeFromMatch(
  req: HonoContextLike["req"],
  key: symbol,
): string | undefined {
  const index = req.routeIndex;
  if (typeof index !== "number") return undefined;
  const match = (req as unknown as Record<symbol, unknown>)[key];
  if (!Array.isArray(match)) return undefined;
  const handlers: unknown = match[0];
  if (!Array.isArray(handlers)) return undefined;
  const entry: unknown = handlers[index];
  if (!Array.isArray(entry)) return undefined;
  const pair: unknown = entry[0];
  if (!Array.isArray(pair)) return undefined;
  const route: unknown = pair[1];
  if (typeof route !== "object" || route === null) return undefined;
  const path = (route as { path?: unknown }).path;
  return typeof path === "string" ? path : undefined;
}

/** Looks for the key on `proto`, confirms it against `routePath`, and answers `routePath`. */
function learnMatchKey(
  req: HonoContextLike["req"],
  proto: object | null,
): unknown {
  const fallback = req.routePath;
  if (proto === null) return fallback;
  let found: symbol | undefined;
  let candidates = 0;
  for (const symbol of Object.getOwnPropertySymbols(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, symbol);
    if (
      d !== undefined && typeof d.get === "function" && d.set === undefined &&
      symbol.description === undefined
    ) {
      found = symbol;
      candidates++;
    }
  }
  let key: symbol | null | undefined = null;
  if (candidates === 1) {
    let route: string | undefined;
    let threw = false;
    try {
      route = routeFromMatch(req, found!);
    } catch {
      threw = true; // a getter that throws: not one to read per request
    }
    if (threw) key = null;
    else if (route !== undefined && typeof fallback === "string") {
      key = route === fallback ? found! : null;
    } else if (++unconfirmed < MAX_UNCONFIRMED) key = undefined; // ask again
  }
  if (key !== undefined) {
    matchKeys.set(proto, key);
    lastPrototype = proto;
    lastKey = key;
  }
  return fallback;
}

/**
 * Creates the middleware. Pass the options of an
 * {@linkcode HttpServerInstrumentation}, or one you already have (to share
 * its counters with other handlers).
 *
 * @param options The tracer provider, propagator and header allow-lists, or an instrumentation.
 * @returns The middleware; register it first (`app.use(...)`).
 * @throws {TypeError} When `tracerProvider` is missing.
 *
 * @example Errors turned into responses by Hono are still recorded
 * ```ts
 * import { Hono } from "hono";
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { HttpServerInstrumentation } from "@seed/telemetry/http";
 * import { honoMiddleware } from "@seed/telemetry/hono";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using tracerProvider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * const http = new HttpServerInstrumentation({ tracerProvider });
 * const app = new Hono();
 * app.use(honoMiddleware(http));
 * app.get("/boom", () => { throw new RangeError("no"); });
 * app.onError((error, c) => c.text(error.message, 500));
 * const response = await app.request("http://localhost/boom");
 * assert.equal(await response.text(), "no"); // the span ends once the body is sent
 * await tracerProvider.forceFlush();
 * assert.equal(exporter.items[0].attributes["error.type"], "RangeError");
 * assert.equal(http.stats.handlerErrors, 1);
 * ```
 */
export function honoMiddleware(
  options: HttpServerInstrumentationOptions | HttpServerInstrumentation,
): HonoMiddleware {
  const http = options instanceof HttpServerInstrumentation
    ? options
    : new HttpServerInstrumentation(options);
  return (c, next) => {
    let state: HttpServerRequest;
    try {
      state = http.begin(c.req.raw, c.env);
    } catch {
      return next();
    }
    const seen = new StaticResponses();
    seen.install(c);
    let ran: Promise<void>;
    try {
      ran = state.run(next);
    } catch (error) {
      failed(c, state, error);
      return Promise.reject(error);
    }
    return Promise.resolve(ran).then(() => done(c, state, seen), (error) => {
      failed(c, state, error);
      throw error;
    });
  };
}

function failed(
  c: HonoContextLike,
  state: HttpServerRequest,
  error: unknown,
): void {
  const route = routeOf(c);
  if (route !== undefined) state.setRoute(route);
  state.fail(error);
}

function done(
  c: HonoContextLike,
  state: HttpServerRequest,
  seen: StaticResponses,
): void {
  const route = routeOf(c);
  if (route !== undefined) state.setRoute(route);
  if (c.error !== undefined) state.recordError(c.error);
  const response = c.res;
  const sent = state.end(
    response,
    response === seen.last ? STATIC_BODY : undefined,
  );
  if (sent !== response) c.res = sent;
}
