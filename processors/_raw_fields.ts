/**
 * The fields of a log record as the OS replays read them
 * (`_eventheader.ts` `replayLogRecord`, `etw/_etw_replay.ts`): one object
 * per caller, filled from the record as given (`_replay_raw.ts`) or from a
 * snapshot, and handed over whole (a call with one argument per field cost
 * V8 about 10% of a replayed emit).
 *
 * @module
 */

import type { Attributes } from "../pipeline/attributes.ts";
import type { Resource } from "../pipeline/resource.ts";
import type { ExactTime } from "../pipeline/time.ts";

/** A record's fields as a replay needs them; one reusable object per caller (no allocation per emit). */
export class RawLogFields {
  /** The PartA time: the timestamp, else now. */
  readonly time: ExactTime = { unixMs: 0, nanosInMs: 0 };
  /** The valid, lowercase trace id, or `undefined` (then `spanId` is too). */
  traceId: string | undefined = undefined;
  /** The valid, lowercase span id, or `undefined`. */
  spanId: string | undefined = undefined;
  /** The attributes as given (a plain object), or `undefined`. */
  attributes: Attributes | undefined = undefined;
  /** The body as given. */
  body: unknown = undefined;
  /** The severity text (a string), or `undefined`. */
  severityText: string | undefined = undefined;
  /** The context's resource. */
  resource: Resource | undefined = undefined;
  /**
   * The attribute limits: the sanitizer's (which never change), or
   * {@linkcode NO_LIMITS} for sanitized data. The user_events replay keeps
   * int32 bounds per limits object, so that an unchanged one costs it an
   * identity test instead of double compares.
   */
  limits: ReplayLimits = NO_LIMITS;
}

/** The two attribute limits a replay checks (an AttributeSanitizer has them). */
export interface ReplayLimits {
  readonly attributeCountLimit: number;
  readonly attributeValueLengthLimit: number;
}

/** The limits of data already sanitized: none. */
export const NO_LIMITS: ReplayLimits = Object.freeze({
  attributeCountLimit: Infinity,
  attributeValueLengthLimit: Infinity,
});
