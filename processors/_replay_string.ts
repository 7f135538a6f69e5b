/**
 * The string writes of the replays (user_events `replayLogRecord`, ETW
 * `replayEtwLogRecord`): a counted ASCII string (u16 byte count, then the
 * bytes), which the replays skip when the last event had the same string at
 * the same offset.
 *
 * @module
 */

/** The strings of the last event by slot: each string, where its count was written and where it ended. */
export interface StringMemo {
  /** The string of each slot, or `undefined`. */
  readonly memo: (string | undefined)[];
  /** Where each slot's count was written (-1: nothing valid there). */
  readonly memoAt: Int32Array;
  /** The offset after each slot's bytes. */
  readonly memoEnd: Int32Array;
}

/**
 * From this length on, an ASCII string is written with one
 * `TextEncoder.encodeInto` instead of a `charCodeAt` loop: V8 pays 2-5 ns a
 * character in that loop when the string's representation is not known to
 * the JIT (a parameter), against about 100 ns a call of `encodeInto` (25 ns
 * on Bun, whose loop costs 1.3-1.5 ns a character).
 */
export const ENCODE_INTO_FROM = 64;

const utf8 = new TextEncoder();

/**
 * Writes `s` as a counted ASCII string at `p` and remembers it in `slot`;
 * returns the offset after it, or -1 (not ASCII, or past `end`: the full
 * encoder takes over). The replays call it only when the slot does not
 * already hold `s` at `p` from the last event; they make that check inline
 * (`memoAt[slot] === p && memo[slot] === s ? memoEnd[slot] : copyString(…)`),
 * because the JIT does not inline calls into functions as large as theirs
 * and a call per field cost more than the check (measured on Deno 2.9).
 *
 * @param bytes The buffer.
 * @param memo The last event's strings.
 * @param slot The field's slot.
 * @param p Where the count goes.
 * @param s The string.
 * @param end The first offset the event may not use.
 * @returns The offset after the bytes, or -1.
 */
export function copyString(
  bytes: Uint8Array,
  memo: StringMemo,
  slot: number,
  p: number,
  s: string,
  end: number,
): number {
  const n = s.length;
  const start = p + 2;
  if (start + n > end) return -1;
  if (n >= ENCODE_INTO_FROM) {
    // ASCII exactly when every code unit became one byte.
    const r = utf8.encodeInto(s, bytes.subarray(start, start + n));
    if (r.read !== n || r.written !== n) {
      memo.memoAt[slot] = -1;
      return -1;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        memo.memoAt[slot] = -1;
        return -1;
      }
      bytes[start + i] = c;
    }
  }
  bytes[p] = n & 0xff;
  bytes[p + 1] = n >>> 8;
  memo.memo[slot] = s;
  memo.memoAt[slot] = p;
  memo.memoEnd[slot] = start + n;
  return start + n;
}
