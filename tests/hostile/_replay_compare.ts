// The compare loop of the replay tests (tests/user_events/replay_test.ts,
// tests/etw/replay_test.ts): each record through a long-lived processor
// (which replays) and through a fresh one (which never does); both must
// write the same events and count the same, and their sanitizers too. An
// event may differ only in its time text, and only for a record without a
// timestamp of its own (0, -5 or none: the observed time).
import assert from "node:assert/strict";
import type { LogRecord } from "../../mod.ts";
import type { AttributeSanitizer } from "../../pipeline/attributes.ts";

/** How one replay test drives its processors (counters `S`) and reads their writes (`W`). */
export interface ReplayArms<W, S extends object> {
  /** The long-lived processor's writes for `record` (this emit's only). */
  readonly live: (record: LogRecord) => readonly W[];
  /** The long-lived processor's counters. */
  readonly liveStats: () => S;
  /** A fresh processor's writes for `record`, and its counters after. */
  readonly fresh: (
    record: LogRecord,
  ) => { writes: readonly W[]; stats: S };
  /** The counters compared (their sum over the fresh processors against the live one's). */
  readonly counters: readonly (keyof S & string)[];
  /**
   * Asserts what must be equal byte for byte in two writes of a record
   * (labelled `label`), and returns whether the rest (the bytes that carry
   * the time) is equal too.
   */
  readonly same: (a: W, b: W, label: string) => boolean;
  /** A write's fields, decoded; its `PartA.time` is left out of the comparison. */
  readonly fields: (w: W) => { PartA: Record<string, unknown> };
  /** The live and the fresh processors' sanitizers (their contexts'). */
  readonly sanitizers: readonly [AttributeSanitizer, AttributeSanitizer];
  /**
   * For records made by `countSeverityReads`: its counter, and how many of
   * the records the live processor must have replayed (read once).
   */
  readonly replayed?: {
    readonly reads: () => number;
    readonly atLeast: number;
  };
}

/** The time text both encoders write: whole seconds, then 0, 3, 6 or 9 fraction digits. */
const RFC3339_UTC =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}(\d{3}(\d{3})?)?)?Z$/;

/** A sanitizer's counters. */
export function sanitizerCounts(
  s: AttributeSanitizer,
): Readonly<Record<string, number>> {
  return {
    invalid: s.invalid,
    converted: s.converted,
    truncated: s.truncated,
    cut: s.cut,
    invalidFields: s.invalidFields,
    invalidTimes: s.invalidTimes,
    invalidTraceContexts: s.invalidTraceContexts,
  };
}

/** Runs `list` through both arms and asserts their writes and counts are the same. */
export function compareReplay<W, S extends object>(
  list: readonly LogRecord[],
  arms: ReplayArms<W, S>,
): void {
  const totals: Record<string, number> = Object.fromEntries(
    arms.counters.map((c) => [c, 0]),
  );
  let replayed = 0;
  for (let i = 0; i < list.length; i++) {
    const record = list[i];
    const readsBefore = arms.replayed?.reads() ?? 0;
    const a = arms.live(record);
    if (
      arms.replayed !== undefined && arms.replayed.reads() === readsBefore + 1
    ) {
      replayed++;
    }
    const { writes: b, stats } = arms.fresh(record);
    assert.equal(a.length, b.length, `record ${i}: writes`);
    if (a.length === 1 && !arms.same(a[0], b[0], `record ${i}`)) {
      // Show the difference decoded; a timestamp-less record (observed
      // time) differs only in its time text.
      const da = arms.fields(a[0]);
      const db = arms.fields(b[0]);
      const ta = da.PartA.time;
      const tb = db.PartA.time;
      da.PartA.time = "now";
      db.PartA.time = "now";
      assert.deepEqual(da, db, `record ${i}: fields`);
      const observed = [0, -5].includes(record.timestamp as number) ||
        record.timestamp === undefined;
      assert.ok(observed, `record ${i}: time ${ta} vs ${tb}`);
      // Two readings of the clock microseconds apart, each a well-formed
      // RFC 3339 UTC time: a corrupt time text must not pass as "observed".
      assert.match(String(ta), RFC3339_UTC, `record ${i}: live time`);
      assert.match(String(tb), RFC3339_UTC, `record ${i}: fresh time`);
      const apart = Math.abs(Date.parse(String(ta)) - Date.parse(String(tb)));
      assert.ok(apart < 60_000, `record ${i}: time ${ta} vs ${tb}`);
    }
    for (const c of arms.counters) totals[c] += stats[c] as number;
  }
  const s = arms.liveStats();
  for (const c of arms.counters) assert.equal(s[c] as number, totals[c], c);
  assert.deepEqual(
    sanitizerCounts(arms.sanitizers[0]),
    sanitizerCounts(arms.sanitizers[1]),
  );
  if (arms.replayed !== undefined) {
    assert.ok(
      replayed >= arms.replayed.atLeast,
      `replayed ${replayed} of ${list.length}, expected at least ${arms.replayed.atLeast}`,
    );
  }
}
