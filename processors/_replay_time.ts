/**
 * The PartA time of both log replays (user_events `replayLogRecord` in
 * `_eventheader.ts`, ETW `etw/_etw_replay.ts`): a counted RFC 3339 string
 * (u16 byte count, then `YYYY-MM-DDTHH:MM:SS[.fff[fff[fff]]]Z`), the text
 * the full encoders write (`addTime`, TraceLogging `rfc3339`).
 *
 * What the last event of a shape left in the buffer is reused: the whole
 * text when the time is the same whole millisecond (records within one
 * millisecond of a `Date.now()`-style timestamp, common at high rates, and
 * every record of bench/encode_vs_c.ts), else the date and time of day of
 * the same second. Both replays write the rest inline, with
 * only a new second's text here: the JIT does not inline calls into
 * functions as large as theirs, and one call per record for the whole time
 * cost Bun 3-9% of a replayed user_events emit whose time changes every
 * record (bench old/new in one process, paired rounds).
 *
 * @module
 */

/** The `YYYY-MM-DDTHH:MM:SS` text of one second, wherever a format keeps it (user_events: the EventBuffer, whose full encoder shares it). */
export interface SecondText {
  /** The second since the epoch whose text is in `secondText` (NaN: none). */
  second: number;
  /** Its 19 ASCII bytes. */
  readonly secondText: Uint8Array;
}

/**
 * What the last event of a log shape left of its time in the buffer, as
 * fields of the shape itself (one load less per record than an object of
 * its own).
 */
export interface LogTimeMemo {
  /** Where the time's count was written (-1: nothing valid there). */
  timeAt: number;
  /** The first millisecond of the second whose date text is at `timeAt + 2` (NaN: none). */
  timeSecondMs: number;
  /**
   * The whole millisecond whose text (count to "Z") is at `timeAt`, ending
   * at `timeEnd`; NaN for none or a finer time (a clock reading seldom
   * repeats, so its text is not kept).
   */
  timeMs: number;
  timeEnd: number;
}

/**
 * Writes the `YYYY-MM-DDTHH:MM:SS` of `unixMs` (whole milliseconds at or
 * after the epoch) after the count at `p`, from `text` when it holds that
 * second, and remembers in `memo` that it is there; the replays call it
 * when the last event did not leave that second's text at `p`.
 *
 * @param bytes The buffer.
 * @param memo The shape.
 * @param text Where the last second's text is kept.
 * @param p Where the time's count goes (the text follows it).
 * @param unixMs Whole milliseconds since the epoch.
 * @returns The milliseconds into the second.
 */
export function writeSecondText(
  bytes: Uint8Array,
  memo: LogTimeMemo,
  text: SecondText,
  p: number,
  unixMs: number,
): number {
  const second = Math.floor(unixMs / 1000);
  const digits = text.secondText;
  if (second !== text.second) {
    const iso = new Date(second * 1000).toISOString();
    for (let i = 0; i < 19; i++) digits[i] = iso.charCodeAt(i);
    text.second = second;
  }
  bytes.set(digits, p + 2);
  memo.timeAt = p;
  memo.timeSecondMs = second * 1000;
  return unixMs - second * 1000;
}
