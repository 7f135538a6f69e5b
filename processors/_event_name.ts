/**
 * The event-name callback of the OS log processors (the Rust contrib
 * exporters' `EventNameCallback`), called so that it never throws into the
 * caller.
 *
 * @module
 */

import type { LogRecordData } from "../pipeline/logs/log_record.ts";

/** The longest event name a callback may return (longer ones fall back to the default). */
export const MAX_EVENT_NAME_LENGTH = 255;

/**
 * The name `callback` gives `record`, or `undefined` when it throws or
 * returns anything but a string of 1-255 characters (the caller then uses
 * its default name and counts the fallback).
 *
 * @param callback The user's callback.
 * @param record The resolved record.
 * @returns The name, or `undefined`.
 */
export function eventNameFrom(
  callback: (record: LogRecordData) => string,
  record: LogRecordData,
): string | undefined {
  let name: unknown;
  try {
    name = callback(record);
  } catch {
    return undefined;
  }
  return typeof name === "string" && name.length > 0 &&
      name.length <= MAX_EVENT_NAME_LENGTH
    ? name
    : undefined;
}
