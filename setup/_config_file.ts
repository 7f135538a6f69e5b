// The OpenTelemetry declarative configuration file (file_format 1.x), YAML or
// JSON, as a Plan: environment variable substitution as the configuration data
// model defines it, then validation of every key against the subset of the
// schema this library implements. The first problem found is thrown as one
// ConfigurationError naming the file, the key path and what to change; nothing
// is built before the whole file is valid.
//
// This is the only module that imports the YAML parser (the `yaml` package).

import { readFileSync } from "node:fs";
import { parseDocument, visit } from "yaml";
import {
  type AnyValue,
  type EnvSource,
  type PropagatorName,
  readKeyValueListEnv,
  type SamplerName,
} from "../mod.ts";
import { ConfigurationError } from "./errors.ts";
import type {
  BatchPlan,
  ExporterPlan,
  InstrumentationName,
  OsPlan,
  OtlpPlan,
  Plan,
  ProcessorPlan,
  ReaderPlan,
} from "./_plan.ts";

interface LibraryEnv {
  readonly instrumentations: readonly InstrumentationName[];
  readonly shutdownTimeoutMillis: number;
  readonly providerName?: string;
}

/** A scalar after substitution, remembering the variables that were unset. */
class Substituted {
  readonly value: unknown;
  readonly unset: readonly string[];
  constructor(value: unknown, unset: readonly string[]) {
    this.value = value;
    this.unset = unset;
  }
}

const REF = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^\n]*))?$/;

class Context {
  readonly file: string | undefined;
  constructor(file: string | undefined) {
    this.file = file;
  }
  fail(path: string, message: string, cause?: unknown): never {
    const where = this.file === undefined
      ? "Invalid configuration"
      : `Invalid configuration file ${this.file}`;
    throw new ConfigurationError(
      `${where}: ${path === "" ? "" : `${path}: `}${message}`,
      path,
      this.file,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * Substitutes `${VAR}`, `${env:VAR}` and `${VAR:-default}` in one scalar, with
 * `$$` as the escape of `$`, left to right as the data model specifies.
 */
export function substitute(
  input: string,
  env: EnvSource,
  onInvalid: (reference: string) => never,
): { text: string; unset: string[] } {
  const unset: string[] = [];
  const segments = input.split("$$");
  const out = segments.map((segment) =>
    segment.replace(/\$\{([^}]+)\}/g, (reference, inner: string) => {
      const match = REF.exec(inner);
      if (match === null) onInvalid(reference);
      const value = env(match[1]);
      if (value !== undefined && value !== "") return value;
      if (match[2] !== undefined) return match[2];
      if (!unset.includes(match[1])) unset.push(match[1]);
      return "";
    })
  );
  return { text: out.join("$"), unset };
}

/** A plain scalar's type by the YAML 1.2 core schema. */
function coreScalar(text: string): unknown {
  const t = text.trim();
  if (t === "" || t === "~" || /^(null|Null|NULL)$/.test(t)) return null;
  if (/^(true|True|TRUE)$/.test(t)) return true;
  if (/^(false|False|FALSE)$/.test(t)) return false;
  if (/^[-+]?[0-9]+$/.test(t)) return Number(t);
  if (/^0o[0-7]+$/.test(t)) return parseInt(t.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(t)) {
    return Number(t);
  }
  if (/^[-+]?\.(inf|Inf|INF)$/.test(t)) {
    return t.startsWith("-") ? -Infinity : Infinity;
  }
  if (/^\.(nan|NaN|NAN)$/.test(t)) return NaN;
  return t;
}

/** The largest configuration file read, in UTF-16 code units (1 MiB). */
const MAX_CONFIG_FILE_SIZE = 1 << 20;
/** The deepest nesting of flow collections (`[`, `{`) a file may have. */
const MAX_CONFIG_FLOW_DEPTH = 64;

// Real configuration files are a few KiB and about ten levels deep. The YAML
// parser's work grows with nesting (seconds for 2,000 levels of `[` on a
// loaded machine), so a file past these bounds is refused before it is
// parsed: one linear scan, never amplified work at start-up.
function boundText(text: string, ctx: Context): void {
  if (text.length > MAX_CONFIG_FILE_SIZE) {
    ctx.fail(
      "",
      `is ${text.length} characters long, more than the ${MAX_CONFIG_FILE_SIZE} this library reads; remove what the pipeline does not need`,
    );
  }
  let depth = 0;
  let line = 1;
  let quote = 0; // 0, or the char code of the open quote (' or ")
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote !== 0) {
      if (c === 92 && quote === 34) i++; // \ escapes inside "..."
      else if (c === quote) quote = 0;
      continue;
    }
    if (c === 34 || c === 39) quote = c;
    else if (c === 35) comment = true; // #
    else if (c === 91 || c === 123) { // [ {
      if (++depth > MAX_CONFIG_FLOW_DEPTH) {
        ctx.fail(
          "",
          `nests [ and { more than ${MAX_CONFIG_FLOW_DEPTH} levels deep at line ${line}; flatten the value there`,
        );
      }
    } else if ((c === 93 || c === 125) && depth > 0) depth--; // ] }
  }
}

/** Parses YAML (or JSON, a subset of it) and substitutes every scalar value. */
function parseText(
  text: string,
  env: EnvSource,
  ctx: Context,
  unsetSeen: string[],
): unknown {
  boundText(text, ctx);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const problem = doc.errors[0];
  if (problem !== undefined) {
    const first = problem.message.split("\n")[0].replace(/:$/, "");
    const at = / at line (\d+), column (\d+)$/.exec(first);
    ctx.fail(
      "",
      `not valid YAML${
        at === null ? "" : ` at line ${at[1]}, column ${at[2]}`
      }: ${at === null ? first : first.slice(0, at.index)}`,
    );
  }
  visit(doc, {
    Scalar(key, node) {
      if (key === "key") return; // mapping keys are never substituted
      const plain = node.type === "PLAIN";
      const raw = plain && typeof node.source === "string"
        ? node.source
        : node.value;
      if (typeof raw !== "string" || !raw.includes("$")) return;
      const { text: out, unset } = substitute(raw, env, (reference) =>
        ctx.fail(
          "",
          `invalid substitution reference ${reference}: write \${NAME}, \${env:NAME} or \${NAME:-default}, NAME being letters, digits and _ not starting with a digit (or $$ for a literal $)`,
        ));
      for (const name of unset) {
        if (!unsetSeen.includes(name)) unsetSeen.push(name);
      }
      node.value = new Substituted(plain ? coreScalar(out) : out, unset);
    },
  });
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // The yaml package's guard against alias expansion bombs.
    return ctx.fail(
      "",
      `cannot be expanded (${
        (error as Error)?.message
      }); use fewer aliases (*name)`,
      error,
    );
  }
}

// --- validation -------------------------------------------------------------

/** Reads one value, unwrapping substitution; remembers unset variables for messages. */
class Reader {
  readonly ctx: Context;
  constructor(ctx: Context) {
    this.ctx = ctx;
  }

  unwrap(value: unknown): { value: unknown; unset: readonly string[] } {
    return value instanceof Substituted
      ? { value: value.value, unset: value.unset }
      : { value, unset: [] };
  }

  typeError(path: string, expected: string, raw: unknown): never {
    const { value, unset } = this.unwrap(raw);
    const got = value === null
      ? "nothing (null)"
      : Array.isArray(value)
      ? "a list"
      : typeof value === "object"
      ? "a mapping"
      : `${typeof value} ${JSON.stringify(value)}`;
    const why = unset.length > 0
      ? ` (the environment variable${unset.length > 1 ? "s" : ""} ${
        unset.join(", ")
      } ${
        unset.length > 1 ? "are" : "is"
      } not set: set it, or give a default as \${${unset[0]}:-value})`
      : "";
    this.ctx.fail(path, `expected ${expected}, got ${got}${why}`);
  }

  /** A mapping whose keys must all be in `known`; null/absent reads as {}. */
  object(
    raw: unknown,
    path: string,
    known: readonly string[],
  ): Record<string, unknown> {
    const { value } = this.unwrap(raw);
    if (value === null || value === undefined) return {};
    if (typeof value !== "object" || Array.isArray(value)) {
      this.typeError(path, "a mapping", raw);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!known.includes(key)) {
        this.ctx.fail(
          join(path, key),
          `unknown key; expected one of ${known.join(", ")}`,
        );
      }
    }
    return record;
  }

  /** A component: a mapping with exactly one key among `names`. */
  component(
    raw: unknown,
    path: string,
    names: readonly string[],
    elsewhere: Readonly<Record<string, string>> = {},
  ): [string, unknown] {
    const { value } = this.unwrap(raw);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.typeError(path, `a mapping with one of ${names.join(", ")}`, raw);
    }
    const keys = Object.keys(value as object);
    if (keys.length !== 1) {
      this.ctx.fail(
        path,
        `expected exactly one of ${names.join(", ")}, got ${
          keys.length === 0 ? "none" : keys.join(" and ")
        }`,
      );
    }
    const name = keys[0];
    if (!names.includes(name)) {
      const hint = elsewhere[name];
      this.ctx.fail(
        join(path, name),
        hint === undefined
          ? `unknown component; expected one of ${names.join(", ")}`
          : `${hint}; expected one of ${names.join(", ")}`,
      );
    }
    return [name, (value as Record<string, unknown>)[name]];
  }

  list(raw: unknown, path: string): unknown[] {
    const { value } = this.unwrap(raw);
    if (value === null || value === undefined) return [];
    if (!Array.isArray(value)) this.typeError(path, "a list", raw);
    return value;
  }

  string(raw: unknown, path: string): string | undefined {
    const { value } = this.unwrap(raw);
    if (value === null || value === undefined) return undefined;
    if (typeof value !== "string") this.typeError(path, "a string", raw);
    return value;
  }

  requiredString(raw: unknown, path: string): string {
    const value = this.string(raw, path);
    if (value === undefined) this.typeError(path, "a string", raw ?? null);
    return value;
  }

  integer(raw: unknown, path: string, min = 0): number | undefined {
    const { value } = this.unwrap(raw);
    if (value === null || value === undefined) return undefined;
    if (
      typeof value !== "number" || !Number.isSafeInteger(value) || value < min
    ) {
      this.typeError(path, `an integer >= ${min}`, raw);
    }
    return value;
  }

  number(raw: unknown, path: string): number | undefined {
    const { value } = this.unwrap(raw);
    if (value === null || value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.typeError(path, "a number", raw);
    }
    return value;
  }

  boolean(raw: unknown, path: string): boolean | undefined {
    const { value } = this.unwrap(raw);
    if (value === null || value === undefined) return undefined;
    if (typeof value !== "boolean") this.typeError(path, "true or false", raw);
    return value;
  }

  choice<T extends string>(
    raw: unknown,
    path: string,
    values: readonly T[],
  ): T | undefined {
    const value = this.string(raw, path);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value)) {
      this.typeError(path, `one of ${values.join(", ")}`, raw);
    }
    return value as T;
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

const NOT_PROVIDED = "this component is not provided by @seed/telemetry";
const EXPORTER_ELSEWHERE: Record<string, string> = {
  otlp_grpc:
    `${NOT_PROVIDED} (gRPC needs HTTP/2 trailers fetch does not give); use otlp_http`,
  "otlp_file/development": `${NOT_PROVIDED}; use console or otlp_http`,
  zipkin: `${NOT_PROVIDED}; use otlp_http`,
  prometheus: `${NOT_PROVIDED}; use otlp_http`,
};

// --- the file format ----------------------------------------------------------

const LIMITS_KEYS = ["attribute_value_length_limit", "attribute_count_limit"];

function attributeLimits(r: Reader, raw: unknown, path: string) {
  const o = r.object(raw, path, LIMITS_KEYS);
  const count = r.integer(
    o.attribute_count_limit,
    join(path, "attribute_count_limit"),
  );
  const length = r.integer(
    o.attribute_value_length_limit,
    join(path, "attribute_value_length_limit"),
  );
  return {
    ...(count === undefined ? {} : { attributeCountLimit: count }),
    ...(length === undefined ? {} : { attributeValueLengthLimit: length }),
  };
}

function resourceOf(
  r: Reader,
  raw: unknown,
  path: string,
): { attributes: Record<string, AnyValue>; schemaUrl?: string } {
  const o = r.object(raw, path, [
    "attributes",
    "attributes_list",
    "schema_url",
    "detection/development",
  ]);
  const attributes: Record<string, AnyValue> = {};
  const list = r.string(o.attributes_list, join(path, "attributes_list"));
  if (list !== undefined) {
    let bad: string | undefined;
    for (
      const [k, v] of readKeyValueListEnv("attributes_list", {
        env: () => list,
        diagnostics: (d) => {
          bad ??= d.message;
        },
      })
    ) attributes[k] = v;
    if (bad !== undefined) {
      r.ctx.fail(
        join(path, "attributes_list"),
        "expected key=value pairs separated by commas, percent-encoded",
      );
    }
  }
  const items = r.list(o.attributes, join(path, "attributes"));
  items.forEach((item, i) => {
    const p = join(join(path, "attributes"), i);
    const a = r.object(item, p, ["name", "value", "type"]);
    const name = r.requiredString(a.name, join(p, "name"));
    const type = r.choice(
      a.type,
      join(p, "type"),
      [
        "string",
        "bool",
        "int",
        "double",
        "string_array",
        "bool_array",
        "int_array",
        "double_array",
      ] as const,
    ) ?? "string";
    const vp = join(p, "value");
    const scalar = (raw: unknown, at: string, t: string): AnyValue => {
      switch (t) {
        case "bool":
          return r.boolean(raw, at) ??
            r.typeError(at, "true or false", raw ?? null);
        case "int":
          return r.integer(raw, at, Number.MIN_SAFE_INTEGER) ??
            r.typeError(at, "an integer", raw ?? null);
        case "double":
          return r.number(raw, at) ?? r.typeError(at, "a number", raw ?? null);
        default: {
          const { value } = r.unwrap(raw);
          // A number or boolean written without quotes is taken as its text.
          if (typeof value === "number" || typeof value === "boolean") {
            return String(value);
          }
          return r.requiredString(raw, at);
        }
      }
    };
    if (type.endsWith("_array")) {
      const base = type.slice(0, -6);
      const values = r.list(a.value, vp);
      attributes[name] = values.map((v, j) => scalar(v, join(vp, j), base));
    } else {
      attributes[name] = scalar(a.value, vp, type);
    }
  });
  const schemaUrl = r.string(o.schema_url, join(path, "schema_url"));
  return schemaUrl === undefined ? { attributes } : { attributes, schemaUrl };
}

function propagatorsOf(
  r: Reader,
  raw: unknown,
  path: string,
): PropagatorName[] {
  const o = r.object(raw, path, ["composite", "composite_list"]);
  const out: PropagatorName[] = [];
  const add = (name: string, at: string) => {
    if (name === "tracecontext" || name === "baggage") {
      if (!out.includes(name)) out.push(name);
    } else if (name !== "none") {
      r.ctx.fail(
        at,
        `propagator ${
          JSON.stringify(name)
        } is not provided by @seed/telemetry; use tracecontext or baggage`,
      );
    }
  };
  r.list(o.composite, join(path, "composite")).forEach((item, i) => {
    const at = join(join(path, "composite"), i);
    const { value } = r.unwrap(item);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      r.typeError(at, "a mapping such as {tracecontext: }", item);
    }
    for (const key of Object.keys(value as object)) {
      r.object((value as Record<string, unknown>)[key], join(at, key), []);
      add(key, join(at, key));
    }
  });
  const list = r.string(o.composite_list, join(path, "composite_list"));
  if (list !== undefined) {
    for (const part of list.split(",")) {
      const name = part.trim();
      if (name !== "") add(name, join(path, "composite_list"));
    }
  }
  return out;
}

const RATIO_SAMPLER = ["ratio"];

function rootSampler(
  r: Reader,
  raw: unknown,
  path: string,
): { kind: "always_on" | "always_off" | "traceidratio"; ratio?: number } {
  const [name, body] = r.component(raw, path, [
    "always_on",
    "always_off",
    "trace_id_ratio_based",
  ], {
    parent_based: "parent_based cannot be nested",
    jaeger_remote: NOT_PROVIDED,
    "rule_based_routing/development": NOT_PROVIDED,
    "probability/development": NOT_PROVIDED,
    "composite/development": NOT_PROVIDED,
  });
  const at = join(path, name);
  if (name === "trace_id_ratio_based") {
    const o = r.object(body, at, RATIO_SAMPLER);
    const ratio = r.number(o.ratio, join(at, "ratio")) ?? 1;
    if (ratio < 0 || ratio > 1) {
      r.typeError(join(at, "ratio"), "a number from 0 to 1", o.ratio);
    }
    return { kind: "traceidratio", ratio };
  }
  r.object(body, at, []);
  return { kind: name as "always_on" | "always_off" };
}

function samplerOf(
  r: Reader,
  raw: unknown,
  path: string,
): { sampler: SamplerName; ratio?: number } {
  const { value } = r.unwrap(raw);
  if (value === null || value === undefined) {
    return { sampler: "parentbased_always_on" };
  }
  const names = [
    "always_on",
    "always_off",
    "trace_id_ratio_based",
    "parent_based",
  ];
  const [name, body] = r.component(raw, path, names, {
    jaeger_remote: NOT_PROVIDED,
    "rule_based_routing/development": NOT_PROVIDED,
    "probability/development": NOT_PROVIDED,
    "composite/development": NOT_PROVIDED,
  });
  if (name !== "parent_based") {
    const root = rootSampler(r, raw, path);
    return root.ratio === undefined
      ? { sampler: root.kind }
      : { sampler: root.kind, ratio: root.ratio };
  }
  const at = join(path, "parent_based");
  const o = r.object(body, at, [
    "root",
    "remote_parent_sampled",
    "remote_parent_not_sampled",
    "local_parent_sampled",
    "local_parent_not_sampled",
  ]);
  const root = o.root === undefined || r.unwrap(o.root).value === null
    ? { kind: "always_on" as const }
    : rootSampler(r, o.root, join(at, "root"));
  const defaults: Record<string, string> = {
    remote_parent_sampled: "always_on",
    remote_parent_not_sampled: "always_off",
    local_parent_sampled: "always_on",
    local_parent_not_sampled: "always_off",
  };
  for (const [key, expected] of Object.entries(defaults)) {
    if (o[key] === undefined || r.unwrap(o[key]).value === null) continue;
    const child = rootSampler(r, o[key], join(at, key));
    if (child.kind !== expected) {
      r.ctx.fail(
        join(at, key),
        `only ${expected} (the default) is supported here; remove the key or set it to ${expected}`,
      );
    }
  }
  const sampler = `parentbased_${root.kind}` as SamplerName;
  return root.ratio === undefined
    ? { sampler }
    : { sampler, ratio: root.ratio };
}

function otlpOf(
  r: Reader,
  raw: unknown,
  path: string,
  metrics: boolean,
): OtlpPlan {
  const keys = [
    "endpoint",
    "headers",
    "headers_list",
    "compression",
    "timeout",
    "encoding",
    "tls",
  ];
  if (metrics) {
    keys.push("temporality_preference", "default_histogram_aggregation");
  }
  const o = r.object(raw, path, keys);
  const tls = r.object(o.tls, join(path, "tls"), [
    "ca_file",
    "key_file",
    "cert_file",
    "insecure",
  ]);
  for (const [k, v] of Object.entries(tls)) {
    if (r.unwrap(v).value !== null) {
      r.ctx.fail(
        join(join(path, "tls"), k),
        "TLS files are not supported by the fetch-based exporter; configure the runtime's trust store (e.g. DENO_CERT, NODE_EXTRA_CA_CERTS) and remove this key",
      );
    }
  }
  const headers: Record<string, string> = {};
  const list = r.string(o.headers_list, join(path, "headers_list"));
  if (list !== undefined) {
    for (
      const [k, v] of readKeyValueListEnv("headers_list", {
        env: () => list,
        diagnostics: () => {},
      })
    ) {
      headers[k] = v;
    }
  }
  r.list(o.headers, join(path, "headers")).forEach((item, i) => {
    const at = join(join(path, "headers"), i);
    const h = r.object(item, at, ["name", "value"]);
    headers[r.requiredString(h.name, join(at, "name"))] = r.requiredString(
      h.value,
      join(at, "value"),
    );
  });
  const endpoint = r.string(o.endpoint, join(path, "endpoint"));
  if (endpoint !== undefined) {
    try {
      new URL(endpoint);
    } catch {
      r.typeError(
        join(path, "endpoint"),
        "an absolute http(s) URL",
        o.endpoint,
      );
    }
  }
  const compression = r.choice(
    o.compression,
    join(path, "compression"),
    ["gzip", "none"] as const,
  );
  const timeout = r.integer(o.timeout, join(path, "timeout"));
  const encoding = r.choice(
    o.encoding,
    join(path, "encoding"),
    ["protobuf", "json"] as const,
  );
  const plan: {
    -readonly [K in keyof OtlpPlan]: OtlpPlan[K];
  } = { kind: "otlp" };
  if (endpoint !== undefined) plan.endpoint = endpoint;
  if (Object.keys(headers).length > 0) plan.headers = headers;
  if (compression !== undefined) plan.compression = compression;
  if (timeout !== undefined) plan.timeoutMillis = timeout;
  if (encoding !== undefined) {
    plan.protocol = encoding === "json" ? "http/json" : "http/protobuf";
  }
  if (metrics) {
    const t = r.choice(
      o.temporality_preference,
      join(path, "temporality_preference"),
      [
        "cumulative",
        "delta",
        "low_memory",
      ] as const,
    );
    if (t !== undefined) {
      plan.temporalityPreference = t === "low_memory" ? "lowmemory" : t;
    }
    r.choice(
      o.default_histogram_aggregation,
      join(path, "default_histogram_aggregation"),
      [
        "explicit_bucket_histogram",
      ] as const,
    );
  }
  return plan;
}

function exporterOf(
  r: Reader,
  raw: unknown,
  path: string,
): ExporterPlan {
  const [name, body] = r.component(
    raw,
    path,
    ["otlp_http", "console"],
    EXPORTER_ELSEWHERE,
  );
  if (name === "console") {
    r.object(body, join(path, name), []);
    return { kind: "console" };
  }
  return otlpOf(r, body, join(path, name), false);
}

function osOf(
  r: Reader,
  kind: "user_events" | "etw",
  raw: unknown,
  path: string,
): OsPlan {
  const o = r.object(raw, path, [
    "provider_name",
    "resource_attributes",
    "max_event_size",
  ]);
  const providerName = r.string(o.provider_name, join(path, "provider_name"));
  if (
    providerName !== undefined &&
    (kind === "user_events"
      ? !/^[A-Za-z0-9_]{1,233}$/.test(providerName)
      : !/^[\x20-\x7e]{1,233}$/.test(providerName))
  ) {
    r.typeError(
      join(path, "provider_name"),
      kind === "user_events"
        ? "1-233 ASCII letters, digits or _"
        : "1-233 printable ASCII characters",
      o.provider_name,
    );
  }
  const resourceAttributes = r.list(
    o.resource_attributes,
    join(path, "resource_attributes"),
  )
    .map((v, i) =>
      r.requiredString(v, join(join(path, "resource_attributes"), i))
    );
  const maxEventSize = r.integer(
    o.max_event_size,
    join(path, "max_event_size"),
    512,
  );
  return {
    kind,
    ...(providerName === undefined ? {} : { providerName }),
    ...(resourceAttributes.length === 0 ? {} : { resourceAttributes }),
    ...(maxEventSize === undefined ? {} : { maxEventSize }),
  };
}

function processorsOf(r: Reader, raw: unknown, path: string): ProcessorPlan[] {
  return r.list(raw, path).map((item, i): ProcessorPlan => {
    const at = join(path, i);
    const [name, body] = r.component(item, at, [
      "batch",
      "simple",
      "user_events",
      "etw",
    ]);
    const p = join(at, name);
    if (name === "user_events" || name === "etw") return osOf(r, name, body, p);
    const keys = name === "batch"
      ? [
        "exporter",
        "schedule_delay",
        "export_timeout",
        "max_queue_size",
        "max_export_batch_size",
      ]
      : ["exporter"];
    const o = r.object(body, p, keys);
    if (o.exporter === undefined || r.unwrap(o.exporter).value === null) {
      r.ctx.fail(
        join(p, "exporter"),
        "missing; add an exporter such as otlp_http: or console:",
      );
    }
    const exporter = exporterOf(r, o.exporter, join(p, "exporter"));
    if (name === "simple") return { kind: "simple", exporter };
    const batch: { -readonly [K in keyof BatchPlan]: BatchPlan[K] } = {};
    const delay = r.integer(o.schedule_delay, join(p, "schedule_delay"));
    if (delay !== undefined) batch.scheduledDelayMillis = delay;
    const timeout = r.integer(o.export_timeout, join(p, "export_timeout"));
    if (timeout !== undefined) batch.exportTimeoutMillis = timeout;
    const queue = r.integer(o.max_queue_size, join(p, "max_queue_size"), 1);
    if (queue !== undefined) batch.maxQueueSize = queue;
    const size = r.integer(
      o.max_export_batch_size,
      join(p, "max_export_batch_size"),
      1,
    );
    if (size !== undefined) batch.maxExportBatchSize = size;
    if ((size ?? 512) > (queue ?? 2048)) {
      r.ctx.fail(
        join(p, "max_export_batch_size"),
        `must not exceed max_queue_size (${queue ?? 2048})`,
      );
    }
    return { kind: "batch", exporter, batch };
  });
}

function readersOf(r: Reader, raw: unknown, path: string): ReaderPlan[] {
  return r.list(raw, path).map((item, i): ReaderPlan => {
    const at = join(path, i);
    const [, body] = r.component(item, at, ["periodic"], {
      pull: `${NOT_PROVIDED} (no pull exporters); use periodic`,
    });
    const p = join(at, "periodic");
    const o = r.object(body, p, [
      "interval",
      "timeout",
      "exporter",
      "cardinality_limits",
      "producers",
    ]);
    if (r.list(o.producers, join(p, "producers")).length > 0) {
      r.ctx.fail(join(p, "producers"), `${NOT_PROVIDED}; remove it`);
    }
    if (
      o.cardinality_limits !== undefined &&
      r.unwrap(o.cardinality_limits).value !== null
    ) {
      r.ctx.fail(
        join(p, "cardinality_limits"),
        "not supported yet; remove it (the limit is 2000 series per stream)",
      );
    }
    if (o.exporter === undefined || r.unwrap(o.exporter).value === null) {
      r.ctx.fail(
        join(p, "exporter"),
        "missing; add an exporter such as otlp_http: or console:",
      );
    }
    const ep = join(p, "exporter");
    const [name, ebody] = r.component(o.exporter, ep, [
      "otlp_http",
      "console",
      "user_events",
      "etw",
    ], EXPORTER_ELSEWHERE);
    let exporter: ReaderPlan["exporter"];
    if (name === "otlp_http") exporter = otlpOf(r, ebody, join(ep, name), true);
    else if (name === "console") {
      r.object(ebody, join(ep, name), []);
      exporter = { kind: "console" };
    } else {
      r.object(ebody, join(ep, name), []);
      exporter = { kind: name as "user_events" | "etw" };
    }
    const interval = r.integer(o.interval, join(p, "interval"), 1);
    const timeout = r.integer(o.timeout, join(p, "timeout"));
    return {
      exporter,
      ...(interval === undefined ? {} : { intervalMillis: interval }),
      ...(timeout === undefined ? {} : { timeoutMillis: timeout }),
    };
  });
}

const TOP_KEYS = [
  "file_format",
  "disabled",
  "log_level",
  "resource",
  "attribute_limits",
  "propagator",
  "tracer_provider",
  "meter_provider",
  "logger_provider",
  "instrumentation/development",
];

/** Turns a parsed configuration (the data model) into a Plan. */
export function planFromConfigObject(
  config: unknown,
  file: string | undefined,
  env: EnvSource,
  library: LibraryEnv,
): Plan {
  try {
    return planFrom(config, file, env, library);
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    // A value that cannot be read (a throwing getter, a revoked Proxy).
    return new Context(file).fail(
      "",
      `cannot be read (${
        (error as Error)?.message ?? String(error)
      }); pass plain data`,
      error,
    );
  }
}

function planFrom(
  config: unknown,
  file: string | undefined,
  _env: EnvSource,
  library: LibraryEnv,
): Plan {
  const ctx = new Context(file);
  const r = new Reader(ctx);
  const top = r.object(config, "", TOP_KEYS);
  if (config === null || config === undefined) {
    ctx.fail("", 'the file is empty; it needs at least file_format: "1.0"');
  }
  const format = r.unwrap(top.file_format).value;
  if (format === undefined || format === null) {
    ctx.fail("file_format", 'missing; add file_format: "1.0"');
  }
  const formatText = typeof format === "number" ? String(format) : format;
  if (typeof formatText !== "string" || !/^1(\.\d+)?$/.test(formatText)) {
    r.typeError(
      "file_format",
      '"1.0" (this library reads file format 1.x)',
      top.file_format,
    );
  }
  const disabled = r.boolean(top.disabled, "disabled") ?? false;
  r.choice(
    top.log_level,
    "log_level",
    ["trace", "debug", "info", "warn", "error", "fatal"] as const,
  );
  r.object(
    top["instrumentation/development"],
    "instrumentation/development",
    [
      "general",
      "js",
      "cpp",
      "dotnet",
      "erlang",
      "go",
      "java",
      "php",
      "python",
      "ruby",
      "rust",
      "swift",
    ],
  );
  const general = attributeLimits(r, top.attribute_limits, "attribute_limits");
  const resource = resourceOf(r, top.resource, "resource");
  const propagators = top.propagator === undefined
    ? []
    : propagatorsOf(r, top.propagator, "propagator");

  const tp = r.object(top.tracer_provider, "tracer_provider", [
    "processors",
    "limits",
    "sampler",
    "tracer_configurator/development",
  ]);
  const tl = r.object(tp.limits, "tracer_provider.limits", [
    ...LIMITS_KEYS,
    "event_count_limit",
    "link_count_limit",
    "event_attribute_count_limit",
    "link_attribute_count_limit",
  ]);
  const spanLimits: Record<string, number> = { ...general };
  const limitNames: Record<string, string> = {
    attribute_count_limit: "attributeCountLimit",
    attribute_value_length_limit: "attributeValueLengthLimit",
    event_count_limit: "eventCountLimit",
    link_count_limit: "linkCountLimit",
    event_attribute_count_limit: "eventAttributeCountLimit",
    link_attribute_count_limit: "linkAttributeCountLimit",
  };
  for (const [key, name] of Object.entries(limitNames)) {
    const v = r.integer(tl[key], join("tracer_provider.limits", key));
    if (v !== undefined) spanLimits[name] = v;
  }
  const sampling = samplerOf(r, tp.sampler, "tracer_provider.sampler");
  const spanProcessors = processorsOf(
    r,
    tp.processors,
    "tracer_provider.processors",
  );

  const lp = r.object(top.logger_provider, "logger_provider", [
    "processors",
    "limits",
    "logger_configurator/development",
  ]);
  const logLimits = {
    ...general,
    ...attributeLimits(r, lp.limits, "logger_provider.limits"),
  };
  const logProcessors = processorsOf(
    r,
    lp.processors,
    "logger_provider.processors",
  );

  const mp = r.object(top.meter_provider, "meter_provider", [
    "readers",
    "views",
    "exemplar_filter",
    "meter_configurator/development",
  ]);
  if (r.list(mp.views, "meter_provider.views").length > 0) {
    ctx.fail(
      "meter_provider.views",
      "views are not supported in the configuration file yet; remove them and pass views to MeterProvider in code",
    );
  }
  const exemplarFilter = r.choice(
    mp.exemplar_filter,
    "meter_provider.exemplar_filter",
    [
      "trace_based",
      "always_on",
      "always_off",
    ] as const,
  );
  const readers = readersOf(r, mp.readers, "meter_provider.readers");

  return {
    source: file ?? "options",
    disabled,
    componentEnv: () => undefined,
    resource,
    propagators,
    traces: {
      processors: spanProcessors,
      limits: spanLimits,
      sampler: sampling.sampler,
      ...(sampling.ratio === undefined ? {} : { samplerRatio: sampling.ratio }),
    },
    logs: { processors: logProcessors, limits: logLimits },
    metrics: {
      readers,
      ...(exemplarFilter === undefined ? {} : { exemplarFilter }),
    },
    ...library,
  };
}

/** Reads, substitutes and validates a configuration file. */
export function planFromConfigFile(
  file: string,
  env: EnvSource,
  library: LibraryEnv,
): Plan {
  const ctx = new Context(file);
  if (!/\.(ya?ml|json)$/i.test(file)) {
    ctx.fail("", "expected a .yaml, .yml or .json file (OTEL_CONFIG_FILE)");
  }
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    ctx.fail(
      "",
      `cannot be read (${
        (error as { code?: string })?.code ?? (error as Error)?.message
      }); check OTEL_CONFIG_FILE and the permissions (Deno needs --allow-read)`,
      error,
    );
  }
  if (/\.json$/i.test(file)) {
    try {
      JSON.parse(text);
    } catch (error) {
      ctx.fail("", `not valid JSON: ${(error as Error).message}`, error);
    }
  }
  const unset: string[] = [];
  const plan = planFromConfigObject(
    parseText(text, env, ctx, unset),
    file,
    env,
    library,
  );
  if (unset.length === 0) return plan;
  return {
    ...plan,
    warnings: [
      `${file}: the environment variable${unset.length > 1 ? "s" : ""} ${
        unset.join(", ")
      } ${unset.length > 1 ? "are" : "is"} not set, so the values that use ${
        unset.length > 1 ? "them" : "it"
      } are empty and their defaults apply; set ${
        unset.length > 1 ? "them" : "it"
      }, or write \${NAME:-default} in the file`,
    ],
  };
}
