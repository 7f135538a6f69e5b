/**
 * Options of the OTLP/HTTP exporters.
 *
 * @module
 */

import type { DiagnosticSink, EnvReadOptions } from "../../pipeline/mod.ts";

/**
 * The retry policy: the OTLP specification's retryable outcomes (HTTP 429,
 * 502, 503, 504 and network errors, including a request that timed out) are
 * retried with exponential backoff and jitter, or after the server's
 * `Retry-After`, until an attempt succeeds, `maxAttempts` is reached, the
 * next wait would end past `maxElapsedMillis`, or the processor's signal
 * aborts. Other 4xx and 5xx statuses are never retried.
 *
 * @example Fast retries for a local collector
 * ```ts
 * import type { OtlpRetryOptions } from "@seed/telemetry/otlp-http";
 * import assert from "node:assert/strict";
 *
 * const retry: OtlpRetryOptions = { maxAttempts: 3, initialBackoffMillis: 100, maxBackoffMillis: 400 };
 * assert.equal(retry.maxAttempts, 3);
 * ```
 */
export interface OtlpRetryOptions {
  /**
   * The most attempts per export, the first one included; 1 disables retries.
   * @default {5}
   */
  readonly maxAttempts?: number;
  /**
   * The wait before the first retry, in ms.
   * @default {1000}
   */
  readonly initialBackoffMillis?: number;
  /**
   * The longest computed wait between attempts, in ms (a server's
   * `Retry-After` may ask for longer and is honoured).
   * @default {5000}
   */
  readonly maxBackoffMillis?: number;
  /**
   * The factor by which each wait grows.
   * @default {1.5}
   */
  readonly backoffMultiplier?: number;
  /**
   * The random spread of each computed wait, as a fraction: a wait `w`
   * becomes a uniform pick in `[w·(1-jitter), w·(1+jitter)]`, capped at
   * `maxBackoffMillis`.
   * @default {0.2}
   */
  readonly jitter?: number;
  /**
   * The longest one export may take with its retries and waits, in ms. It is
   * a deadline, not a hint: each attempt's timeout (`timeoutMillis`) is cut
   * to what is left of it, so no attempt runs past it, and a retry whose
   * wait would end at or past it is not made. `0` means one attempt with its
   * full `timeoutMillis` and no retries. (The processor's
   * `exportTimeoutMillis` still aborts the export when it is shorter.)
   * @default {30000}
   */
  readonly maxElapsedMillis?: number;
}

/**
 * Options of {@linkcode OtlpHttpLogExporter} and
 * {@linkcode OtlpHttpSpanExporter}. Each unset field falls back to its
 * `OTEL_EXPORTER_OTLP_*` variable (the signal-specific one first), then to
 * the default; an option always wins over a variable.
 *
 * @example
 * ```ts
 * import type { OtlpHttpExporterOptions } from "@seed/telemetry/otlp-http";
 * import assert from "node:assert/strict";
 *
 * const options: OtlpHttpExporterOptions = {
 *   endpoint: "https://collector.example:4318/v1/logs",
 *   headers: { authorization: "Bearer secret" },
 *   compression: "gzip",
 * };
 * assert.equal(options.compression, "gzip");
 * ```
 */
export interface OtlpHttpExporterOptions extends EnvReadOptions {
  /**
   * The full URL batches are POSTed to, used as is. Without it:
   * `OTEL_EXPORTER_OTLP_{LOGS,TRACES}_ENDPOINT` as is, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/logs` or `/v1/traces` appended
   * to its path, else the default.
   *
   * Redirects are never followed silently (requests use
   * `redirect: "manual"`): a 307 or 308 whose `Location` is on the same
   * origin (scheme, host and port) is followed, with the same method, body
   * and headers, up to 3 times in a row; any other redirect (301, 302, 303,
   * other 3xx, a 307/308 to another origin, an opaque redirect) fails the
   * export without a retry, with an error naming the status and the
   * `Location` (without its query), and the batch is counted as failed.
   * Configured headers are never sent to another origin.
   * @default {"http://localhost:4318/v1/logs" or "http://localhost:4318/v1/traces"}
   */
  readonly endpoint?: string;
  /**
   * Extra request headers; they win over `OTEL_EXPORTER_OTLP_*_HEADERS`
   * entries of the same name (case-insensitive), and may replace the
   * `User-Agent` (`OTel-OTLP-Exporter-JavaScript/<version> seed-telemetry/<version>`); `Content-Type`,
   * `Content-Encoding` and `Content-Length` are set by the exporter. Values
   * never appear in diagnostics or errors.
   * @default {{}}
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * How long one HTTP request (one attempt, its redirects included) may take
   * before it is aborted (and retried), in ms; cut to what is left of
   * `retry.maxElapsedMillis`.
   * @default {10000}
   */
  readonly timeoutMillis?: number;
  /**
   * Request body compression. `"gzip"` compresses at zlib's fastest level
   * (1), off the event loop: any gzip receiver reads it, and it costs about
   * a seventh of zlib's default level for a body about a quarter larger.
   * @default {"none"}
   */
  readonly compression?: "gzip" | "none";
  /**
   * The encoding: binary protobuf or OTLP/JSON. (`grpc` from the environment
   * is reported and replaced by `http/protobuf`.)
   * @default {"http/protobuf"}
   */
  readonly protocol?: "http/protobuf" | "http/json";
  /**
   * The retry policy.
   * @default {{}}
   */
  readonly retry?: OtlpRetryOptions;
  /**
   * The most exports of this exporter in flight at once; more wait for a
   * slot (bounded by the processor's signal).
   * @default {4}
   */
  readonly maxConcurrentExports?: number;
  /**
   * How long the exporter's own `shutdown()` waits for exports in flight
   * before it aborts them, in ms. Behind a batching processor, the
   * processor's `shutdownTimeoutMillis` bounds the whole shutdown (its queue
   * and this exporter's): it aborts its exports at its deadline.
   * @default {10000}
   */
  readonly shutdownTimeoutMillis?: number;
  /**
   * The `fetch` to use (tests and proxies pass their own).
   * @default {globalThis.fetch}
   */
  readonly fetch?: typeof fetch;
  /**
   * Where bad environment values and partial-success messages are reported.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}
