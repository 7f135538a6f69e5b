// The runtime edge of the `http` instrumentation: wraps the handlers given to
// Deno.serve and Bun.serve (fetch and routes) so that every request is a
// SERVER span without touching the server's code. Handlers already wrapped by
// Telemetry.instrument() are left alone.

import type { DiagnosticSink } from "../mod.ts";
import { reportDiagnostic } from "../mod.ts";
import type {
  FetchHandler,
  HttpServerInstrumentation,
} from "../instrumentation/http_server.ts";

/** Marks a handler that already makes SERVER spans. */
export const INSTRUMENTED_HANDLER: unique symbol = Symbol.for(
  "@seed/telemetry/setup.instrumented",
);

type AnyFunction = (...args: unknown[]) => unknown;

function wrap(http: HttpServerInstrumentation, handler: unknown): unknown {
  if (typeof handler !== "function") return handler;
  if (Object.hasOwn(handler, INSTRUMENTED_HANDLER)) return handler;
  const wrapped = http.handler(handler as FetchHandler);
  Object.defineProperty(wrapped, INSTRUMENTED_HANDLER, { value: true });
  return wrapped;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object";
}

function denoArgs(http: HttpServerInstrumentation, args: unknown[]): unknown[] {
  const out = args.slice();
  if (typeof out[0] === "function") out[0] = wrap(http, out[0]);
  else if (typeof out[1] === "function") out[1] = wrap(http, out[1]);
  else if (isObject(out[0]) && typeof out[0].handler === "function") {
    out[0] = { ...out[0], handler: wrap(http, out[0].handler) };
  }
  return out;
}

function bunArgs(http: HttpServerInstrumentation, args: unknown[]): unknown[] {
  const options = args[0];
  if (!isObject(options)) return args;
  const copy: Record<string, unknown> = { ...options };
  if (typeof copy.fetch === "function") copy.fetch = wrap(http, copy.fetch);
  if (isObject(copy.routes)) copy.routes = http.routes(copy.routes);
  return [copy, ...args.slice(1)];
}

/**
 * Patches Deno.serve and Bun.serve, whichever exist; returns the undo. A
 * failure to wrap one call's arguments serves that call uninstrumented.
 */
export function patchServe(
  http: HttpServerInstrumentation,
  diagnostics: DiagnosticSink,
): () => void {
  const undo: (() => void)[] = [];
  const g = globalThis as {
    Deno?: { serve?: AnyFunction };
    Bun?: { serve?: AnyFunction };
  };
  const targets: [{ serve?: AnyFunction } | undefined, typeof denoArgs][] = [
    [g.Deno, denoArgs],
    [g.Bun, bunArgs],
  ];
  for (const [host, rewrite] of targets) {
    const original = host?.serve;
    if (host === undefined || typeof original !== "function") continue;
    let reported = false;
    const serve = function (this: unknown, ...args: unknown[]): unknown {
      let rewritten = args;
      try {
        rewritten = rewrite(http, args);
      } catch (error) {
        if (!reported) {
          reported = true;
          reportDiagnostic(
            diagnostics,
            "@seed/telemetry/auto",
            "warn",
            "Could not instrument a serve() call's handler; that server runs without SERVER spans",
            error,
          );
        }
      }
      return original.apply(this, rewritten);
    };
    try {
      host.serve = serve;
    } catch (error) {
      reportDiagnostic(
        diagnostics,
        "@seed/telemetry/auto",
        "warn",
        "Could not patch serve(); wrap your handler with telemetry.instrument(handler) instead",
        error,
      );
      continue;
    }
    undo.push(() => {
      if (host.serve === serve) host.serve = original;
    });
  }
  return () => {
    for (const u of undo) u();
    undo.length = 0;
  };
}
