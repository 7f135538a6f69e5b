// HTTP semantic conventions (stable, v1.2x+) shared by the server and client
// instrumentation: method normalisation, URL splitting and redaction, header
// capture. Pure functions over strings; nothing here throws on odd input.

import type { AnyValue } from "../mod.ts";

/**
 * Each known method to itself: `normalizeMethod` answers the literal, one
 * string for every request, so an exporter that remembers the last value
 * by identity (the OTLP encoder's value slots) matches it with a pointer
 * compare.
 */
const KNOWN_METHODS = new Map(
  [
    "CONNECT",
    "DELETE",
    "GET",
    "HEAD",
    "OPTIONS",
    "PATCH",
    "POST",
    "PUT",
    "TRACE",
  ].map((m) => [m, m]),
);

/** The longest `http.request.method_original` kept; longer methods are cut (with a mark). */
export const MAX_METHOD_LENGTH = 64;
/** The longest captured header value kept. */
export const MAX_HEADER_VALUE_LENGTH = 4096;

/** `http.request.method`: a known method, or `_OTHER` (methods are case-sensitive). */
export function normalizeMethod(method: string): string {
  return KNOWN_METHODS.get(method) ?? "_OTHER";
}

/** `http.request.method_original` for an `_OTHER` method, bounded. */
export function originalMethod(method: string): string {
  return method.length <= MAX_METHOD_LENGTH
    ? method
    : method.slice(0, MAX_METHOD_LENGTH) + "...";
}

/** The parts of an absolute URL the conventions name. */
export interface UrlParts {
  scheme: string;
  host: string;
  port: number;
  /** From the first `/` after the authority, without the query; `/` when empty. */
  path: string;
  /** Without the `?`; undefined when there is no query. */
  query: string | undefined;
  /** Whether the authority has userinfo. */
  hasUserinfo: boolean;
}

/**
 * Splits an absolute URL (as `Request.url` gives it) without `new URL`.
 * Returns undefined when the string is not of the form `scheme://authority...`.
 * Native `indexOf` scans and one pass over the port digits: this runs once
 * per request, on the server's hot path.
 */
export function splitUrl(url: string): UrlParts | undefined {
  const out = emptyUrlParts();
  return splitUrlInto(url, out) ? out : undefined;
}

/** A blank {@linkcode UrlParts} for {@linkcode splitUrlInto} to fill (the one shape every caller shares). */
export function emptyUrlParts(): UrlParts {
  return {
    scheme: "",
    host: "",
    port: 0,
    path: "",
    query: undefined,
    hasUserinfo: false,
  };
}

/**
 * {@linkcode splitUrl} into `out` (a caller's reused object, so the server's
 * hot path allocates no parts object per request). Returns false, with
 * `out` unchanged, when the string is not of the form `scheme://authority...`.
 */
export function splitUrlInto(url: string, out: UrlParts): boolean {
  return splitUrlEnd(url, out) >= 0;
}

/**
 * The scheme and authority of the last URL {@linkcode splitUrlCached} split
 * in full: `prefix` is the URL up to the end of its authority (no
 * userinfo), `scheme`, `host` and `port` what it gave.
 */
export interface UrlOrigin {
  prefix: string;
  scheme: string;
  host: string;
  port: number;
}

/** A blank {@linkcode UrlOrigin} (matches no URL). */
export function emptyUrlOrigin(): UrlOrigin {
  return { prefix: "", scheme: "", host: "", port: 0 };
}

/** The longest origin prefix {@linkcode splitUrlCached} keeps. */
const MAX_ORIGIN_PREFIX = 256;

/**
 * {@linkcode splitUrlInto} for a server's requests, which nearly all share
 * one scheme and authority: when `url` starts with the last URL's
 * `origin.prefix` followed by `/`, `?`, `#` or nothing, the scheme, host
 * and port are that URL's (the same strings: an exporter that remembers
 * values by identity matches them by a pointer compare) and only the path
 * and query are looked for; else the URL is split in full and, without
 * userinfo, becomes the origin. The result is splitUrlInto's either way:
 * the prefix holds no `/`, `?` or `#` after its `://`, so a URL that
 * starts with it and has one of them (or its end) next has the same
 * authority end and the same authority.
 */
export function splitUrlCached(
  url: string,
  out: UrlParts,
  origin: UrlOrigin,
): boolean {
  const prefix = origin.prefix;
  const n = prefix.length;
  if (n !== 0 && url.startsWith(prefix)) {
    const length = url.length;
    const c = n < length ? url.charCodeAt(n) : 0x2f;
    if (c === 0x2f || c === 0x3f || c === 0x23) {
      let hash = url.indexOf("#", n);
      if (hash < 0) hash = length;
      let q = url.indexOf("?", n);
      if (q < 0 || q > hash) q = -1;
      const pathEnd = q >= 0 ? q : hash;
      out.scheme = origin.scheme;
      out.host = origin.host;
      out.port = origin.port;
      out.path = n < pathEnd ? url.slice(n, pathEnd) : "/";
      out.query = q >= 0 ? url.slice(q + 1, hash) : undefined;
      out.hasUserinfo = false;
      return true;
    }
  }
  const authEnd = splitUrlEnd(url, out);
  if (authEnd < 0) return false;
  if (!out.hasUserinfo && authEnd <= MAX_ORIGIN_PREFIX) {
    origin.prefix = url.slice(0, authEnd);
    origin.scheme = out.scheme;
    origin.host = out.host;
    origin.port = out.port;
  }
  return true;
}

/** splitUrlInto's work; returns the end of the authority, or -1 (out unchanged). */
function splitUrlEnd(url: string, out: UrlParts): number {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd <= 0 || schemeEnd > 16) return -1;
  let scheme = url.slice(0, schemeEnd);
  // Request.url's scheme is already lowercase (the URL parser made it so).
  // The literals, not the slice: one string for every request.
  if (scheme === "http") scheme = "http";
  else if (scheme === "https") scheme = "https";
  else scheme = scheme.toLowerCase();
  const authStart = schemeEnd + 3;
  const length = url.length;
  let hash = url.indexOf("#", authStart);
  if (hash < 0) hash = length;
  let q = url.indexOf("?", authStart);
  if (q < 0 || q > hash) q = -1;
  let authEnd = url.indexOf("/", authStart);
  if (authEnd < 0 || authEnd > hash) authEnd = hash;
  if (q >= 0 && q < authEnd) authEnd = q;
  // One backward pass over the authority (V8's lastIndexOf is a C++ call):
  // userinfo ends at its last "@"; the port follows the last ":" after it,
  // unless a "]" comes later (an IPv6 literal without a port).
  let at = -1;
  let colon = -1;
  let bracket = false;
  for (let i = authEnd - 1; i >= authStart; i--) {
    const c = url.charCodeAt(i);
    if (c === 0x40) {
      at = i;
      break;
    }
    if (colon < 0 && !bracket) {
      if (c === 0x3a) colon = i;
      else if (c === 0x5d) bracket = true;
    }
  }
  const hasUserinfo = at >= 0;
  const hostStart = hasUserinfo ? at + 1 : authStart;
  let hostEnd = authEnd;
  let port = scheme === "https" || scheme === "wss" ? 443 : 80;
  if (colon >= 0) {
    hostEnd = colon;
    // Digits only, at most 5 of them, at most 65535: else the default.
    const digits = authEnd - colon - 1;
    if (digits > 0 && digits <= 5) {
      let p = 0;
      for (let i = colon + 1; i < authEnd; i++) {
        const d = url.charCodeAt(i) - 48;
        if (d < 0 || d > 9) {
          p = -1;
          break;
        }
        p = p * 10 + d;
      }
      if (p >= 0 && p <= 65535) port = p;
    }
  }
  let host = url.slice(hostStart, hostEnd);
  if (
    host.length >= 2 && host.charCodeAt(0) === 0x5b &&
    host.charCodeAt(host.length - 1) === 0x5d
  ) host = host.slice(1, -1);
  const pathEnd = q >= 0 ? q : hash;
  out.scheme = scheme;
  out.host = host;
  out.port = port;
  out.path = authEnd < pathEnd ? url.slice(authEnd, pathEnd) : "/";
  out.query = q >= 0 ? url.slice(q + 1, hash) : undefined;
  out.hasUserinfo = hasUserinfo;
  return authEnd;
}

/** Query parameters whose values the conventions say to redact. */
const SENSITIVE_PARAMS = [
  "AWSAccessKeyId",
  "Signature",
  "sig",
  "X-Goog-Signature",
];

/** A query string with the values of the sensitive parameters replaced by `REDACTED`. */
export function redactQuery(query: string): string {
  let maybe = false;
  for (const name of SENSITIVE_PARAMS) {
    if (query.includes(name)) {
      maybe = true;
      break;
    }
  }
  if (!maybe) return query;
  const parts = query.split("&");
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf("=");
    const name = eq < 0 ? parts[i] : parts[i].slice(0, eq);
    if (eq >= 0 && SENSITIVE_PARAMS.includes(name)) {
      parts[i] = `${name}=REDACTED`;
    }
  }
  return parts.join("&");
}

/**
 * `url.full`: userinfo replaced by `REDACTED:REDACTED`, sensitive query
 * values by `REDACTED`, no fragment. `redactedQuery` is
 * `redactQuery(parts.query)` when the caller has it already.
 */
export function redactedFullUrl(
  url: string,
  parts: UrlParts,
  redactedQuery: string | undefined = parts.query === undefined
    ? undefined
    : redactQuery(parts.query),
): string {
  let out = url;
  const hash = out.indexOf("#");
  if (hash >= 0) out = out.slice(0, hash);
  if (parts.hasUserinfo) {
    const authStart = out.indexOf("://") + 3;
    let authEnd = authStart;
    while (authEnd < out.length) {
      const c = out.charCodeAt(authEnd);
      if (c === 0x2f || c === 0x3f) break; // / ?
      authEnd++;
    }
    const at = out.lastIndexOf("@", authEnd - 1);
    if (at >= authStart) {
      out = out.slice(0, authStart) + "REDACTED:REDACTED" + out.slice(at);
    }
  }
  if (parts.query !== undefined && redactedQuery !== parts.query) {
    const q = out.indexOf("?", out.indexOf("://") + 3);
    out = out.slice(0, q + 1) + redactedQuery;
  }
  return out;
}

/** Lowercased, trimmed header names, with invalid entries dropped. */
export function headerNames(
  names: readonly string[] | undefined,
  option: string,
): string[] {
  if (names === undefined) return [];
  if (!Array.isArray(names)) {
    throw new TypeError(
      `Cannot use ${option}: expected an array of header names`,
    );
  }
  const out: string[] = [];
  for (const name of names) {
    if (
      typeof name !== "string" || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)
    ) {
      throw new TypeError(
        `Cannot use ${option}: ${
          JSON.stringify(String(name))
        } is not a header name`,
      );
    }
    out.push(name.toLowerCase());
  }
  return out;
}

/** Sets `{prefix}.{name}` for each allow-listed header present (value as a one-element array, bounded). */
export function captureHeaders(
  headers: Headers,
  names: readonly string[],
  prefix: string,
  set: (key: string, value: AnyValue) => void,
): void {
  for (let i = 0; i < names.length; i++) {
    const value = headers.get(names[i]);
    if (value === null) continue;
    set(
      `${prefix}.${names[i]}`,
      [
        value.length <= MAX_HEADER_VALUE_LENGTH
          ? value
          : value.slice(0, MAX_HEADER_VALUE_LENGTH),
      ],
    );
  }
}

/** The `error.type` of a thrown value: its constructor's name, else `_OTHER`. */
export function errorType(error: unknown): string {
  try {
    if (error instanceof Error) {
      return error.name || error.constructor?.name || "Error";
    }
    if (error !== null && typeof error === "object") {
      const name = (error as { constructor?: { name?: unknown } }).constructor
        ?.name;
      if (typeof name === "string" && name !== "") return name;
    }
  } catch {
    // A throwing getter: fall through.
  }
  return "_OTHER";
}

/**
 * The `clientAddress` option: `true` when unset.
 *
 * @throws {TypeError} When it is set to anything but a boolean.
 */
export function readClientAddressOption(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== "boolean") {
    throw new TypeError(
      `Cannot create HttpServerInstrumentation: options.clientAddress must be true or false (got ${typeof value})`,
    );
  }
  return value;
}
