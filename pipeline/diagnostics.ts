/**
 * Diagnostics: how the pipeline tells you something went wrong without
 * throwing into your code.
 *
 * Every component that can fail off the caller's stack (a bad environment
 * variable, an export that failed, a kernel that lacks `user_events`) reports
 * one {@linkcode Diagnostic} to a {@linkcode DiagnosticSink}. The default sink
 * writes one line to `console.warn`; pass your own sink in the component's
 * options to route diagnostics elsewhere (or to collect them in tests).
 *
 * @module
 */

/**
 * How serious a diagnostic is.
 *
 * @example
 * ```ts
 * import type { DiagnosticLevel } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const level: DiagnosticLevel = "error";
 * assert.equal(level, "error");
 * ```
 */
export type DiagnosticLevel = "warn" | "error";

/**
 * One diagnostic: which component reported it, what happened, and optionally
 * the error behind it.
 *
 * @example Build a diagnostic by hand
 * ```ts
 * import type { Diagnostic } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const d: Diagnostic = { source: "BatchLogRecordProcessor", level: "warn", message: "Export failed: HTTP 503" };
 * assert.equal(d.level, "warn");
 * ```
 */
export interface Diagnostic {
  /** The component that reports it, e.g. `"BatchLogRecordProcessor"` or `"env"`. */
  readonly source: string;
  /** How serious it is. */
  readonly level: DiagnosticLevel;
  /** What failed, the state, and the fix where there is one. */
  readonly message: string;
  /** The error behind it, if any. */
  readonly cause?: unknown;
}

/**
 * Receives diagnostics. It must not throw; if it does, the error is swallowed
 * so that telemetry never breaks the host application.
 *
 * @example Collect diagnostics in an array
 * ```ts
 * import type { Diagnostic, DiagnosticSink } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const seen: Diagnostic[] = [];
 * const sink: DiagnosticSink = (d) => { seen.push(d); };
 * sink({ source: "test", level: "warn", message: "hello" });
 * assert.equal(seen.length, 1);
 * ```
 */
export type DiagnosticSink = (diagnostic: Diagnostic) => void;

/**
 * The default sink: one line on `console.warn` (or `console.error` for
 * errors), prefixed with `[@seed/telemetry]` and the source.
 *
 * @param diagnostic The diagnostic to print.
 *
 * @example Print a diagnostic
 * ```ts
 * import { consoleDiagnosticSink } from "@seed/telemetry";
 *
 * consoleDiagnosticSink({ source: "example", level: "warn", message: "this is only an example" });
 * ```
 */
export function consoleDiagnosticSink(diagnostic: Diagnostic): void {
  const line = `[@seed/telemetry] ${diagnostic.source}: ${diagnostic.message}`;
  if (diagnostic.level === "error") console.error(line);
  else console.warn(line);
}

/**
 * Delivers a diagnostic to a sink, swallowing anything the sink throws.
 *
 * @param sink Where the diagnostic goes.
 * @param source The component that reports it.
 * @param level How serious it is.
 * @param message What failed, the state, and the fix.
 * @param cause The error behind it, if any.
 *
 * @example Report to a collecting sink
 * ```ts
 * import { reportDiagnostic, type Diagnostic } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const seen: Diagnostic[] = [];
 * reportDiagnostic((d) => seen.push(d), "example", "warn", "something happened");
 * assert.equal(seen[0].message, "something happened");
 * ```
 */
export function reportDiagnostic(
  sink: DiagnosticSink,
  source: string,
  level: DiagnosticLevel,
  message: string,
  cause?: unknown,
): void {
  try {
    sink(
      cause === undefined
        ? { source, level, message }
        : { source, level, message, cause },
    );
  } catch {
    // A diagnostic sink that throws must not take the host application down.
  }
}
