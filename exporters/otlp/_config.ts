// Resolves OtlpHttpExporterOptions + the environment (through readOtlpEnv,
// the one place that reads it) + defaults into one frozen configuration.
// Bad options throw at construction; bad environment values are reported
// once and replaced by the default. Header values are never printed.

import {
  consoleDiagnosticSink,
  type DiagnosticSink,
  readOtlpEnv,
  reportDiagnostic,
  SDK_NAME,
  SDK_VERSION,
} from "../../pipeline/mod.ts";
import type { OtlpHttpExporterOptions } from "./options.ts";

/**
 * The User-Agent every request carries: the OTLP exporter specification's
 * `OTel-OTLP-Exporter-<language>/<version>` product, then this package's
 * own. Both are RFC 9110 product tokens, so the package name is written
 * without its `@` and `/` (`@seed/telemetry` becomes `seed-telemetry`).
 */
export const USER_AGENT = `OTel-OTLP-Exporter-JavaScript/${SDK_VERSION} ${
  SDK_NAME.replace(/^@/, "").replace(/\//g, "-")
}/${SDK_VERSION}`;

export interface ResolvedRetry {
  readonly maxAttempts: number;
  readonly initialBackoffMillis: number;
  readonly maxBackoffMillis: number;
  readonly backoffMultiplier: number;
  readonly jitter: number;
  readonly maxElapsedMillis: number;
}

export interface ResolvedOtlpConfig {
  /** The URL requests go to. */
  readonly url: string;
  /** The URL without credentials, query or fragment, for messages. */
  readonly displayUrl: string;
  /** Every request header, names lowercase (content-type, user-agent, content-encoding, custom). */
  readonly headers: readonly (readonly [string, string])[];
  readonly timeoutMillis: number;
  readonly compression: "gzip" | "none";
  readonly protocol: "http/protobuf" | "http/json";
  readonly retry: ResolvedRetry;
  readonly maxConcurrentExports: number;
  readonly shutdownTimeoutMillis: number;
  readonly fetch: typeof fetch;
  readonly diagnostics: DiagnosticSink;
}

function checkNumber(
  source: string,
  name: string,
  value: number,
  min: number,
  integer: boolean,
): number {
  if (
    typeof value !== "number" || !(value >= min) || !Number.isFinite(value) ||
    (integer && !Number.isInteger(value))
  ) {
    throw new RangeError(
      `Cannot create ${source} with ${name} ${value}: expected ${
        integer ? "an integer" : "a number"
      } >= ${min}`,
    );
  }
  return value;
}

function parseHttpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:"
      ? url
      : undefined;
  } catch {
    return undefined;
  }
}

function withoutCredentials(url: URL | undefined): URL | undefined {
  return url !== undefined && url.username === "" && url.password === ""
    ? url
    : undefined;
}

/** The URL without user info, query or fragment: safe to print. */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function validHeaderValue(value: string): boolean {
  // What fetch accepts (bytes, no CR, LF or NUL), checked here so that fetch
  // never throws an error that might quote the value.
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

export function resolveOtlpConfig(
  source: string,
  signal: "logs" | "traces" | "metrics",
  options: OtlpHttpExporterOptions,
): ResolvedOtlpConfig {
  const diagnostics = options.diagnostics ?? consoleDiagnosticSink;
  const env = readOtlpEnv(signal, { env: options.env, diagnostics });
  const path = `v1/${signal}`;

  // Endpoint: option as is > signal variable as is > base variable + path > default.
  let url: URL | undefined;
  if (options.endpoint !== undefined) {
    url = parseHttpUrl(options.endpoint);
    if (url === undefined) {
      throw new TypeError(
        `Cannot create ${source} with this endpoint: expected an http or https URL`,
      );
    }
    if (url.username !== "" || url.password !== "") {
      throw new TypeError(
        `Cannot create ${source} with endpoint ${
          displayUrl(url)
        }: fetch refuses URLs with credentials; send them in headers`,
      );
    }
  }
  if (url === undefined && env.signalEndpoint !== undefined) {
    url = withoutCredentials(parseHttpUrl(env.signalEndpoint));
    if (url === undefined) {
      reportDiagnostic(
        diagnostics,
        source,
        "warn",
        `Ignoring OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT: expected an http or https URL without credentials; using the next setting`,
      );
    }
  }
  if (url === undefined && env.baseEndpoint !== undefined) {
    const base = withoutCredentials(parseHttpUrl(env.baseEndpoint));
    if (base === undefined) {
      reportDiagnostic(
        diagnostics,
        source,
        "warn",
        "Ignoring OTEL_EXPORTER_OTLP_ENDPOINT: expected an http or https URL without credentials; using the default endpoint",
      );
    } else {
      base.pathname = base.pathname.endsWith("/")
        ? base.pathname + path
        : `${base.pathname}/${path}`;
      url = base;
    }
  }
  url ??= new URL(`http://localhost:4318/${path}`);

  let protocol: "http/protobuf" | "http/json";
  if (options.protocol !== undefined) {
    if (
      options.protocol !== "http/protobuf" && options.protocol !== "http/json"
    ) {
      throw new TypeError(
        `Cannot create ${source} with protocol ${
          JSON.stringify(options.protocol)
        }: expected "http/protobuf" or "http/json" (gRPC is not supported)`,
      );
    }
    protocol = options.protocol;
  } else if (env.protocol === "grpc") {
    reportDiagnostic(
      diagnostics,
      source,
      "warn",
      "OTEL_EXPORTER_OTLP_PROTOCOL asks for grpc, which this OTLP/HTTP exporter does not speak; using http/protobuf",
    );
    protocol = "http/protobuf";
  } else {
    protocol = env.protocol ?? "http/protobuf";
  }

  const compression = options.compression ?? env.compression ?? "none";
  if (compression !== "gzip" && compression !== "none") {
    throw new TypeError(
      `Cannot create ${source} with compression ${
        JSON.stringify(compression)
      }: expected "gzip" or "none"`,
    );
  }

  let timeoutMillis: number;
  if (options.timeoutMillis !== undefined) {
    timeoutMillis = checkNumber(
      source,
      "timeoutMillis",
      options.timeoutMillis,
      1,
      true,
    );
  } else if (env.timeoutMillis !== undefined && env.timeoutMillis < 1) {
    reportDiagnostic(
      diagnostics,
      source,
      "warn",
      "Ignoring an OTLP timeout of 0 from the environment; using 10000 ms",
    );
    timeoutMillis = 10000;
  } else {
    timeoutMillis = env.timeoutMillis ?? 10000;
  }

  // Headers: environment entries, then options; later names win (case-insensitive).
  const merged = new Map<string, string>();
  for (const [name, value] of env.headers) {
    if (!HEADER_NAME.test(name) || !validHeaderValue(value)) {
      reportDiagnostic(
        diagnostics,
        source,
        "warn",
        `Ignoring header ${
          JSON.stringify(name)
        } from the environment: invalid name or value; skipping it`,
      );
      continue;
    }
    merged.set(name.toLowerCase(), value);
  }
  if (options.headers !== undefined) {
    for (const name of Object.keys(options.headers)) {
      const value = options.headers[name];
      if (
        typeof value !== "string" || !HEADER_NAME.test(name) ||
        !validHeaderValue(value)
      ) {
        throw new TypeError(
          `Cannot create ${source} with header ${
            JSON.stringify(name)
          }: invalid name or value`,
        );
      }
      merged.set(name.toLowerCase(), value);
    }
  }
  const headers: [string, string][] = [
    [
      "content-type",
      protocol === "http/json" ? "application/json" : "application/x-protobuf",
    ],
    ["user-agent", USER_AGENT],
  ];
  if (compression === "gzip") headers.push(["content-encoding", "gzip"]);
  for (const [name, value] of merged) {
    if (
      name === "content-type" || name === "content-encoding" ||
      name === "content-length"
    ) continue;
    const i = headers.findIndex((h) => h[0] === name);
    if (i >= 0) headers[i] = [name, value];
    else headers.push([name, value]);
  }

  const r = options.retry ?? {};
  const retry: ResolvedRetry = {
    maxAttempts: checkNumber(
      source,
      "retry.maxAttempts",
      r.maxAttempts ?? 5,
      1,
      true,
    ),
    initialBackoffMillis: checkNumber(
      source,
      "retry.initialBackoffMillis",
      r.initialBackoffMillis ?? 1000,
      0,
      false,
    ),
    maxBackoffMillis: checkNumber(
      source,
      "retry.maxBackoffMillis",
      r.maxBackoffMillis ?? 5000,
      0,
      false,
    ),
    backoffMultiplier: checkNumber(
      source,
      "retry.backoffMultiplier",
      r.backoffMultiplier ?? 1.5,
      1,
      false,
    ),
    jitter: checkNumber(source, "retry.jitter", r.jitter ?? 0.2, 0, false),
    maxElapsedMillis: checkNumber(
      source,
      "retry.maxElapsedMillis",
      r.maxElapsedMillis ?? 30000,
      0,
      false,
    ),
  };
  if (retry.jitter > 1) {
    throw new RangeError(
      `Cannot create ${source} with retry.jitter ${retry.jitter}: expected a number in [0, 1]`,
    );
  }

  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== "function") {
    throw new TypeError(
      `Cannot create ${source} without fetch: this runtime has no global fetch; pass options.fetch`,
    );
  }

  return Object.freeze({
    url: url.href,
    displayUrl: displayUrl(url),
    headers: Object.freeze(headers),
    timeoutMillis,
    compression,
    protocol,
    retry: Object.freeze(retry),
    maxConcurrentExports: checkNumber(
      source,
      "maxConcurrentExports",
      options.maxConcurrentExports ?? 4,
      1,
      true,
    ),
    shutdownTimeoutMillis: checkNumber(
      source,
      "shutdownTimeoutMillis",
      options.shutdownTimeoutMillis ?? 10000,
      0,
      true,
    ),
    fetch: fetchFn,
    diagnostics,
  });
}
