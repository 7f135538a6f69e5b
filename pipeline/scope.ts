/**
 * The InstrumentationScope: which library (or part of an application)
 * produced a record or span.
 *
 * @module
 */

import type { Attributes } from "./attributes.ts";

/**
 * An instrumentation scope: a name, and optionally a version, schema URL and
 * attributes.
 *
 * @example
 * ```ts
 * import type { InstrumentationScope } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const scope: InstrumentationScope = { name: "my-lib", version: "1.2.3" };
 * assert.equal(scope.name, "my-lib");
 * ```
 */
export interface InstrumentationScope {
  /** The scope's name, e.g. the library's package name. */
  readonly name: string;
  /** The scope's version. */
  readonly version?: string;
  /** The schema URL of the telemetry it produces. */
  readonly schemaUrl?: string;
  /** Attributes of the scope. */
  readonly attributes?: Attributes;
}
