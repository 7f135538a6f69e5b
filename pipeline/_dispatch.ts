// Shared plumbing of the two providers: option resolution, processor error
// containment, and fan-out of flush and shutdown.

import {
  consoleDiagnosticSink,
  type DiagnosticSink,
  reportDiagnostic,
} from "./diagnostics.ts";
import { type EnvReadOptions, readBooleanEnv } from "./env.ts";
import { defaultResource, type Resource } from "./resource.ts";
import { type Attributes, AttributeSanitizer } from "./attributes.ts";
import type { InstrumentationScope } from "./scope.ts";

export interface ProviderBaseOptions extends EnvReadOptions {
  readonly resource?: Resource;
  readonly disabled?: boolean;
}

export interface Flushable {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** What every provider keeps: resource, diagnostics, state, processor error accounting. */
export class ProviderCore<P extends Flushable> {
  readonly resource: Resource;
  readonly diagnostics: DiagnosticSink;
  readonly disabled: boolean;
  readonly processors: readonly P[];
  readonly source: string;
  shutDown = false;
  processorErrors = 0;
  /** Provider API calls (getTracer, getLogger) whose arguments could not be read. */
  apiErrors = 0;
  /** Records emitted after shutdown (logs). */
  afterShutdown = 0;
  /** Records that were not objects (logs). */
  invalidRecords = 0;
  #reported = new Set<P>();
  #shutdownPromise: Promise<void> | undefined;

  constructor(
    source: string,
    options: ProviderBaseOptions,
    processors: readonly P[] | undefined,
  ) {
    this.source = source;
    this.diagnostics = options.diagnostics ?? consoleDiagnosticSink;
    this.disabled = options.disabled ??
      readBooleanEnv("OTEL_SDK_DISABLED", options);
    this.resource = options.resource ?? defaultResource(options);
    const list = processors ?? [];
    for (let i = 0; i < list.length; i++) {
      if (list[i] === null || typeof list[i] !== "object") {
        throw new TypeError(
          `Cannot create ${source}: processors[${i}] is not a processor`,
        );
      }
    }
    this.processors = Object.freeze(list.slice());
  }

  /** Counts an error a processor threw on the hot path; reports the first one per processor. */
  processorThrew(processor: P, error: unknown): void {
    this.processorErrors++;
    if (this.#reported.has(processor)) return;
    this.#reported.add(processor);
    reportDiagnostic(
      this.diagnostics,
      this.source,
      "error",
      `Processor ${
        processor.constructor?.name ?? "?"
      } threw on the hot path (processors must not throw); further errors from it are only counted`,
      error,
    );
  }

  async #each(method: "forceFlush" | "shutdown"): Promise<void> {
    const results = await Promise.allSettled(
      this.processors.map((p) => p[method]()),
    );
    const errors = [];
    for (const result of results) {
      if (result.status === "rejected") errors.push(result.reason);
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(
        errors,
        `${this.source}.${method}: ${errors.length} processors failed`,
      );
    }
  }

  forceFlush(): Promise<void> {
    return this.#each("forceFlush");
  }

  shutdown(): Promise<void> {
    this.shutDown = true;
    return this.#shutdownPromise ??= this.#each("shutdown");
  }
}

export function scopeKey(
  name: string,
  version: string | undefined,
  schemaUrl: string | undefined,
): string {
  return `${name}\u0000${version ?? ""}\u0000${schemaUrl ?? ""}`;
}

/** The arguments of `getTracer` / `getLogger`, read once without throwing. */
export interface ScopeArgs {
  readonly name: string;
  readonly version: string | undefined;
  readonly schemaUrl: string | undefined;
  /** Whether something could not be read or was not a string (then left out). */
  readonly invalid: boolean;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * Reads `getTracer` / `getLogger` arguments: a name that is not a string
 * becomes `String(name)` (or "" when that throws), a version or schema URL
 * that is not a string is left out.
 */
export function readScopeArgs(
  name: unknown,
  version: unknown,
  options: unknown,
): ScopeArgs {
  let invalid = false;
  let scopeName = "";
  if (typeof name === "string") scopeName = name;
  else {
    try {
      scopeName = String(name);
    } catch {
      invalid = true;
    }
  }
  const scopeVersion = optionalString(version);
  if (version !== undefined && scopeVersion === undefined) invalid = true;
  let schemaUrl: string | undefined;
  if (options !== undefined && options !== null) {
    try {
      const raw = (options as { schemaUrl?: unknown }).schemaUrl;
      schemaUrl = optionalString(raw);
      if (raw !== undefined && schemaUrl === undefined) invalid = true;
    } catch {
      invalid = true;
    }
  }
  return { name: scopeName, version: scopeVersion, schemaUrl, invalid };
}

/** Builds a scope from read arguments; its attributes follow the value rules. */
export function scopeOf(
  args: ScopeArgs,
  options: unknown,
): InstrumentationScope {
  let attributes: Attributes | undefined;
  if (options !== undefined && options !== null) {
    try {
      const raw = (options as { attributes?: unknown }).attributes;
      if (raw !== undefined) {
        attributes = new AttributeSanitizer().attributes(raw as Attributes);
      }
    } catch {
      // left out
    }
  }
  return makeScope(args.name, args.version, {
    schemaUrl: args.schemaUrl,
    attributes,
  });
}

/** Builds an instrumentation scope, leaving out the fields that were not given. */
export function makeScope(
  name: string,
  version: string | undefined,
  options: { readonly schemaUrl?: string; readonly attributes?: Attributes },
): InstrumentationScope {
  const scope: {
    name: string;
    version?: string;
    schemaUrl?: string;
    attributes?: Attributes;
  } = { name: String(name) };
  if (version !== undefined) scope.version = version;
  if (options.schemaUrl !== undefined) scope.schemaUrl = options.schemaUrl;
  if (options.attributes !== undefined) scope.attributes = options.attributes;
  return scope;
}
