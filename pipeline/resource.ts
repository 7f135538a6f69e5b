/**
 * The Resource: attributes that describe the entity producing telemetry
 * (`service.name`, the SDK, the runtime), shared by every record and span of
 * a provider.
 *
 * @module
 */

import {
  type AnyValue,
  type Attributes,
  AttributeSanitizer,
  setOwn,
} from "./attributes.ts";
import {
  type EnvReadOptions,
  readKeyValueListEnv,
  readStringEnv,
} from "./env.ts";
import { detectRuntime } from "./runtime.ts";

/**
 * The package's name, as `telemetry.sdk.name` reports it.
 *
 * @example
 * ```ts
 * import { SDK_NAME } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SDK_NAME, "@seed/telemetry");
 * ```
 */
export const SDK_NAME = "@seed/telemetry";
/**
 * The package's version, as `telemetry.sdk.version` reports it.
 *
 * @example
 * ```ts
 * import { SDK_VERSION } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.match(SDK_VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const SDK_VERSION = "0.1.0";

/**
 * An immutable set of resource attributes with an optional schema URL.
 *
 * @example Merge two resources
 * ```ts
 * import { Resource } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const base = new Resource({ "service.name": "a", "host.name": "h" });
 * const merged = base.merge(new Resource({ "service.name": "b" }));
 * assert.deepEqual(merged.attributes, { "service.name": "b", "host.name": "h" });
 * ```
 */
export class Resource {
  /** The attributes. */
  readonly attributes: Attributes;
  /** The schema URL, if any. */
  readonly schemaUrl: string | undefined;

  /**
   * Creates a resource.
   *
   * @param attributes The attributes; copied.
   * @param schemaUrl The schema URL, if any.
   */
  constructor(attributes: Attributes, schemaUrl?: string) {
    // The value rules apply (no count or length limit); unreadable values
    // are dropped, so a resource never makes an export fail.
    const clean = new AttributeSanitizer({ attributeCountLimit: Infinity })
      .attributes(attributes) ?? {};
    const copy: Record<string, AnyValue> = {};
    for (const key in clean) setOwn(copy, key, clean[key]);
    this.attributes = Object.freeze(copy);
    this.schemaUrl = typeof schemaUrl === "string" ? schemaUrl : undefined;
  }

  /**
   * Returns a resource with this one's attributes updated by `other`'s
   * (`other` wins on a conflict); `other`'s schema URL wins when set.
   *
   * @param other The resource to merge in.
   * @returns The merged resource.
   */
  merge(other: Resource): Resource {
    return new Resource(
      { ...this.attributes, ...other.attributes },
      other.schemaUrl ?? this.schemaUrl,
    );
  }

  /**
   * The `service.name` attribute as a string, or `undefined`.
   *
   * @returns The service name.
   */
  get serviceName(): string | undefined {
    const value = this.attributes["service.name"];
    return typeof value === "string" ? value : undefined;
  }
}

/**
 * Options of {@linkcode defaultResource}.
 *
 * @example
 * ```ts
 * import { defaultResource, type DefaultResourceOptions } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: DefaultResourceOptions = { serviceName: "api", attributes: { "service.version": "2.0.0" }, env: () => undefined };
 * assert.equal(defaultResource(options).attributes["service.version"], "2.0.0");
 * ```
 */
export interface DefaultResourceOptions extends EnvReadOptions {
  /**
   * `service.name`; wins over `OTEL_SERVICE_NAME`.
   * @default {OTEL_SERVICE_NAME, else "unknown_service:<runtime>"}
   */
  readonly serviceName?: string;
  /**
   * More attributes; they win over everything else.
   * @default {{}}
   */
  readonly attributes?: Attributes;
}

/**
 * Builds the default resource: the SDK's `telemetry.sdk.*` attributes and
 * `process.runtime.name`/`version` (`deno`, `bun` or `node`), then
 * `OTEL_RESOURCE_ATTRIBUTES` (percent-decoded), then `service.name` from
 * `OTEL_SERVICE_NAME`, then the options — each later source wins.
 *
 * `telemetry.sdk.language` is `"nodejs"`, the semantic conventions' value
 * for server-side JavaScript (there is none for Deno or Bun).
 *
 * @param options Where to read the environment, and overrides.
 * @returns The resource.
 *
 * @example
 * ```ts
 * import { defaultResource } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const vars: Record<string, string> = { OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=prod" };
 * const resource = defaultResource({ env: (n) => vars[n], serviceName: "checkout" });
 * assert.equal(resource.attributes["service.name"], "checkout");
 * assert.equal(resource.attributes["deployment.environment.name"], "prod");
 * assert.equal(resource.attributes["telemetry.sdk.name"], "@seed/telemetry");
 * ```
 */
export function defaultResource(
  options: DefaultResourceOptions = {},
): Resource {
  const runtime = detectRuntime();
  const attributes: Record<string, AnyValue> = {
    "service.name": `unknown_service:${runtime.name}`,
    "telemetry.sdk.name": SDK_NAME,
    "telemetry.sdk.language": "nodejs",
    "telemetry.sdk.version": SDK_VERSION,
    "process.runtime.name": runtime.name,
    "process.runtime.version": runtime.version,
  };
  for (
    const [key, value] of readKeyValueListEnv(
      "OTEL_RESOURCE_ATTRIBUTES",
      options,
    )
  ) {
    attributes[key] = value;
  }
  const serviceName = options.serviceName ??
    readStringEnv("OTEL_SERVICE_NAME", options);
  if (serviceName !== undefined) attributes["service.name"] = serviceName;
  const extra = options.attributes;
  if (extra !== undefined) {
    for (const key in extra) {
      if (extra[key] !== undefined) attributes[key] = extra[key];
    }
  }
  return new Resource(attributes);
}
