/**
 * W3C Baggage: the entries a request carries across services, and the
 * active baggage of the current async context (beside the active span).
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";

/**
 * One baggage entry: a value and the raw `;`-separated properties, if any.
 *
 * @example
 * ```ts
 * import type { BaggageEntry } from "@seed/telemetry/propagation";
 * import assert from "node:assert/strict";
 *
 * const entry: BaggageEntry = { value: "gold", metadata: "ttl=60" };
 * assert.equal(entry.value, "gold");
 * ```
 */
export interface BaggageEntry {
  /** The value, percent-decoded. */
  readonly value: string;
  /** The properties after the value (`;`-separated, as received), if any. */
  readonly metadata?: string;
}

/**
 * Baggage: entries by key, in the order received.
 *
 * @example
 * ```ts
 * import type { Baggage } from "@seed/telemetry/propagation";
 * import assert from "node:assert/strict";
 *
 * const baggage: Baggage = new Map([["tenant", { value: "acme" }]]);
 * assert.equal(baggage.get("tenant")?.value, "acme");
 * ```
 */
export type Baggage = ReadonlyMap<string, BaggageEntry>;

const storage = new AsyncLocalStorage<Baggage>();

/**
 * The baggage of the current async context, if any.
 *
 * @returns The active baggage.
 *
 * @example
 * ```ts
 * import { activeBaggage } from "@seed/telemetry/propagation";
 * import assert from "node:assert/strict";
 *
 * assert.equal(activeBaggage(), undefined);
 * ```
 */
export function activeBaggage(): Baggage | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` with `baggage` active, across every `await` inside it.
 *
 * @param baggage The baggage.
 * @param fn The function to run.
 * @returns What `fn` returns.
 *
 * @example
 * ```ts
 * import { activeBaggage, withBaggage } from "@seed/telemetry/propagation";
 * import assert from "node:assert/strict";
 *
 * await withBaggage(new Map([["tenant", { value: "acme" }]]), async () => {
 *   await Promise.resolve();
 *   assert.equal(activeBaggage()?.get("tenant")?.value, "acme");
 * });
 * ```
 */
export function withBaggage<T>(baggage: Baggage, fn: () => T): T {
  return storage.run(baggage, fn);
}
