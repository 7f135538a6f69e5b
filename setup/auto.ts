/**
 * Zero-code setup: import this module first and telemetry is configured
 * from the environment, or from the file `OTEL_CONFIG_FILE` names.
 *
 * ```sh
 * bun --preload @seed/telemetry/auto server.ts  # after: bunx jsr add @seed/telemetry
 * deno run -A --preload=jsr:@seed/telemetry/auto server.ts
 * node --import @seed/telemetry/auto server.js
 * ```
 *
 * or `import "@seed/telemetry/auto";` as the first line of the server. The
 * providers are exported for code that wants them; the handlers given to
 * `Deno.serve` and `Bun.serve` make SERVER spans (the `http`
 * instrumentation, on by default); queued records are flushed when the
 * process exits and on SIGTERM/SIGINT, within `SEED_TELEMETRY_SHUTDOWN_TIMEOUT`
 * ms. Importing it twice (two copies of the package) configures once.
 *
 * Bad variables never throw here: each is reported once and its default
 * applies. An invalid configuration file does: the import rejects with a
 * {@linkcode ConfigurationError}, so a server never starts with a file
 * half-applied.
 *
 * @example Use the providers the import built
 * ```ts
 * import { loggerProvider, telemetry } from "@seed/telemetry/auto";
 * import assert from "node:assert/strict";
 *
 * loggerProvider.getLogger("app").emit({ severityNumber: 9, body: "ready" });
 * assert.equal(telemetry.loggerProvider, loggerProvider);
 * ```
 *
 * @module
 */

import type { LoggerProvider, TracerProvider } from "../mod.ts";
import type { MeterProvider } from "../pipeline/metrics/mod.ts";
import type {
  FetchHandler,
  HandlerOptions,
} from "../instrumentation/http_server.ts";
import { configure, type Telemetry } from "./mod.ts";

export { ConfigurationError } from "./errors.ts";
export type { Telemetry } from "./mod.ts";

const KEY = Symbol.for("@seed/telemetry/auto");

function once(): Promise<Telemetry> {
  const holder = globalThis as { [KEY]?: Promise<Telemetry> };
  return holder[KEY] ??= configure();
}

/**
 * The telemetry this import configured.
 *
 * @example
 * ```ts
 * import { telemetry } from "@seed/telemetry/auto";
 * import assert from "node:assert/strict";
 *
 * assert.ok(["environment", "options"].includes(telemetry.source) || telemetry.source.length > 0);
 * ```
 */
export const telemetry: Telemetry = await once();

/**
 * The logger provider this import built.
 *
 * @example
 * ```ts
 * import { loggerProvider } from "@seed/telemetry/auto";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof loggerProvider.getLogger, "function");
 * ```
 */
export const loggerProvider: LoggerProvider = telemetry.loggerProvider;

/**
 * The tracer provider this import built.
 *
 * @example
 * ```ts
 * import { tracerProvider } from "@seed/telemetry/auto";
 * import assert from "node:assert/strict";
 *
 * const span = tracerProvider.getTracer("app").startSpan("work");
 * span.end();
 * assert.equal(span.name, "work");
 * ```
 */
export const tracerProvider: TracerProvider = telemetry.tracerProvider;

/**
 * The meter provider this import built.
 *
 * @example
 * ```ts
 * import { meterProvider } from "@seed/telemetry/auto";
 * import assert from "node:assert/strict";
 *
 * meterProvider.getMeter("app").createCounter("jobs").add(1);
 * assert.equal(typeof meterProvider.forceFlush, "function");
 * ```
 */
export const meterProvider: MeterProvider = telemetry.meterProvider;

/**
 * Wraps a fetch-style handler so that each request is a SERVER span; for
 * servers the `http` instrumentation does not reach (a handler given to
 * `Deno.serve` or `Bun.serve` is already instrumented).
 *
 * @param handler The handler.
 * @param options The route (`http.route`).
 * @returns The instrumented handler.
 *
 * @example
 * ```ts
 * import { instrument } from "@seed/telemetry/auto";
 * import assert from "node:assert/strict";
 *
 * const handler = instrument((_request: Request) => new Response("ok"), { route: "/health" });
 * const response = await handler(new Request("http://localhost/health"));
 * assert.equal(await response.text(), "ok");
 * ```
 */
export function instrument<H extends FetchHandler>(
  handler: H,
  options?: HandlerOptions,
): H {
  return telemetry.instrument(handler, options);
}
