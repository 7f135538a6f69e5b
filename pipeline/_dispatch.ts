// Shared plumbing of the two providers: option resolution, processor error
// containment, and fan-out of flush and shutdown.

import {
  consoleDiagnosticSink,
  type DiagnosticSink,
  reportDiagnostic,
} from "./diagnostics.ts";
import { type EnvReadOptions, readBooleanEnv } from "./env.ts";
import { defaultResource, type Resource } from "./resource.ts";
import type { Attributes } from "./attributes.ts";
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
