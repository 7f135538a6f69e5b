/**
 * What both OS span encoders (EventHeader for user_events, TraceLogging for
 * ETW) put into `PartB` besides the fixed fields: the well-known span
 * attributes under their Common Schema names, and the parent id rule.
 *
 * The keys are the current OpenTelemetry semantic conventions, as the Rust
 * contrib's `opentelemetry-user-events-trace` maps them (its integration
 * tests set `rpc.system.name` and `rpc.response.status_code` and read
 * `rpcSystem` / `rpcGrpcStatusCode`).
 *
 * @module
 */

/** `[attribute key, PartB field name]`, in the order the fields are written. */
export const SPAN_PART_B_ATTRIBUTES: readonly (readonly [string, string])[] =
  Object.freeze([
    Object.freeze(["db.system.name", "dbSystem"] as const),
    Object.freeze(["db.namespace", "dbName"] as const),
    Object.freeze(["db.query.text", "dbStatement"] as const),
    Object.freeze(["http.request.method", "httpMethod"] as const),
    Object.freeze(["url.full", "httpUrl"] as const),
    Object.freeze(["http.response.status_code", "httpStatusCode"] as const),
    Object.freeze(["messaging.system", "messagingSystem"] as const),
    Object.freeze(
      ["messaging.destination.name", "messagingDestination"] as const,
    ),
    Object.freeze(["messaging.url", "messagingUrl"] as const),
    Object.freeze(["rpc.system.name", "rpcSystem"] as const),
    Object.freeze(["rpc.response.status_code", "rpcGrpcStatusCode"] as const),
  ]);

/** Attribute key → PartB field name (a null-prototype object). */
export const SPAN_PART_B_NAMES: Readonly<Record<string, string>> = Object
  .freeze(
    Object.assign(
      Object.create(null),
      Object.fromEntries(SPAN_PART_B_ATTRIBUTES),
    ),
  );

/**
 * Whether `id` is a valid span id: 16 lowercase hex digits, not all zero
 * (only then is `PartB.parentId` written).
 *
 * @param id The parent span id, if any.
 * @returns `true` when it is valid.
 */
export function isValidSpanId(id: unknown): id is string {
  if (typeof id !== "string" || id.length !== 16) return false;
  let nonZero = false;
  for (let i = 0; i < 16; i++) {
    const c = id.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (c !== 0x30) nonZero = true;
    } else if (c >= 0x61 && c <= 0x66) nonZero = true;
    else return false;
  }
  return nonZero;
}

/** Resource keys that go to `PartA` (cloud role and instance) and never to `PartC`. */
export function withoutPartAKeys(keys: readonly string[]): string[] {
  return keys.filter((k) =>
    k !== "service.name" && k !== "service.instance.id"
  );
}
