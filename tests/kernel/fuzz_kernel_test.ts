// The fuzzed batch on the real kernel: the seeded hostile log records,
// tracer spans and hand-made ReadableSpans of tests/hostile/_fuzz.ts (with
// known good ones among them) written by the user_events processors to real
// tracepoints, collected with Microsoft's perf-collect and decoded with
// perf-decode, a decoder this project did not write. Every event write()
// accepted arrives and reads the same as with decodeEventHeader (name,
// PartA time, string bodies and names); the good ones arrive intact with
// exact times; nothing threw, and the processors' counters add up.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import process from "node:process";
import fc from "fast-check";
import { openLibc } from "../../ffi/load_libc.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
  UserEventsProcessor,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  LoggerProvider,
  type LogRecord,
  type ReadableSpan,
  Resource,
  TracerProvider,
} from "../../mod.ts";
import { RecordingLibc, RUNTIME, SKIP, waitFor } from "./_tracefs.ts";
import {
  perfDecode,
  startPerfCollect,
  stopPerfCollect,
} from "./_perf_tools.ts";
import {
  FUZZ_SEED,
  handMadeSpan,
  materialize,
  recordCase,
  spanCase,
} from "../hostile/_fuzz.ts";
import { parseRfc3339 } from "../time/_time.ts";

const RECORDS = 60;
const SPANS = 20;
const HAND_MADE = 10;
const GOOD = 5;
const GOOD_NS = 1_700_000_013_123_456_789n;

type Obj = Record<string, unknown>;

describe(`fuzz (seed ${FUZZ_SEED}) on a real kernel, read back with perf-decode`, () => {
  it(
    "every accepted event arrives and reads as decodeEventHeader reads it; the good ones intact",
    { skip: SKIP, timeout: 180_000 },
    async () => {
      const logProvider = `seed_${RUNTIME}_fuzz_${process.pid}`;
      const spanProvider = `seed_${RUNTIME}_fuzzs_${process.pid}`;
      const file = `tests/kernel/.perf-fuzz-${RUNTIME}-${process.pid}.data`;
      const libc = new RecordingLibc(await openLibc());
      const logs = new UserEventsProcessor(libc, {
        providerName: logProvider,
        diagnostics: () => {},
      });
      const spans = new UserEventsSpanProcessor(libc, {
        providerName: spanProvider,
        diagnostics: () => {},
      });
      const tracepoints = [
        ...[1, 2, 3, 4, 5].map((l) => `user_events:${logProvider}_L${l}K1`),
        `user_events:${spanProvider}_L4K1`,
      ];
      const collector = await startPerfCollect(file, tracepoints, 1024);
      /** Each accepted write: its tracepoint and our decoder's reading. */
      const ours: { name: string; fields: Obj }[] = [];
      try {
        assert.ok(
          await waitFor(
            () =>
              [1, 9, 13, 17, 21].every((s) => logs.enabled(s)) &&
              spans.enabled(),
            15000,
          ),
          `perf-collect did not enable the tracepoints: ${collector.stderr}`,
        );
        const logger = new LoggerProvider({
          resource: new Resource({ "service.name": "fuzz" }),
          processors: [logs],
          diagnostics: () => {},
        }).getLogger("fuzz");
        const tracer = new TracerProvider({
          resource: new Resource({ "service.name": "fuzz" }),
          processors: [spans],
          diagnostics: () => {},
        }).getTracer("fuzz");

        // The same arbitraries and seed as the host fuzz test.
        const records = fc.sample(recordCase, {
          seed: FUZZ_SEED,
          numRuns: RECORDS,
        });
        const scripts = fc.sample(spanCase, {
          seed: FUZZ_SEED,
          numRuns: SPANS,
        });
        const made = fc.sample(handMadeSpan, {
          seed: FUZZ_SEED,
          numRuns: HAND_MADE,
        });
        let good = 0;
        const emitGood = () => {
          const t = GOOD_NS + BigInt(good) * 1_001n;
          logger.emit({
            severityNumber: 9,
            body: `good-${good}`,
            attributes: { good },
            timestamp: t,
          });
          const span = tracer.startSpan(`good-${good}`, { startTime: t });
          span.end(t + 1000n);
          good++;
        };
        records.forEach((c, i) => {
          if (i % (RECORDS / GOOD) === 0) emitGood();
          const r = materialize(c).record;
          assert.doesNotThrow(() => logger.emit(r as LogRecord));
        });
        for (const lazy of scripts) {
          const c = materialize(lazy);
          assert.doesNotThrow(() => {
            const options: Obj = { kind: c.kind };
            if (c.attributes !== undefined) options.attributes = c.attributes;
            if (c.links !== undefined) options.links = c.links;
            if (c.start.kind !== "absent") options.startTime = c.start.input;
            const span = tracer.startSpan(c.name as string, options as never);
            for (const o of c.ops) {
              if (o.op === "setAttributes") {
                span.setAttributes(o.attributes as never);
              }
              if (o.op === "addEvent") {
                span.addEvent(
                  o.name as string,
                  o.attributes as never,
                  o.time.input as never,
                );
              }
              if (o.op === "setStatus") span.setStatus(o.status as never);
              if (o.op === "updateName") span.updateName(o.name as string);
            }
            span.end(c.end.input as never);
          });
        }
        for (const lazy of made) {
          assert.doesNotThrow(() =>
            spans.onEnd(materialize(lazy) as ReadableSpan)
          );
        }

        // Counters add up; no encoder failed.
        const ls = logs.stats;
        assert.equal(ls.droppedEncodeError, 0);
        assert.equal(ls.droppedWriteError, 0);
        assert.equal(
          ls.notEnabled + ls.written + ls.droppedNoSeverity +
            ls.droppedNoListener +
            ls.droppedTooLarge,
          ls.emitted,
        );
        const ss = spans.stats;
        assert.equal(ss.droppedEncodeError + ss.droppedWriteError, 0);
        assert.equal(
          ss.written + ss.droppedInvalidSpan + ss.droppedTooLarge,
          ss.emitted,
        );
        assert.equal(libc.written.length, ls.written + ss.written);

        for (const bytes of libc.written) {
          // The write index is not recorded: the header's level says which
          // tracepoint it went to (decodeEventHeader checks they agree).
          const event = decodeEventHeader(
            `${logProvider}_L${bytes[7]}K1`,
            bytes,
          );
          ours.push({
            name: event.name,
            fields: decodedFieldsToObject(event.fields) as Obj,
          });
        }
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await stopPerfCollect(collector);
        await logs.shutdown();
        await spans.shutdown();
      }
      try {
        const theirs = perfDecode(file).filter((e) =>
          e.n.startsWith(`${logProvider}:`) ||
          e.n.startsWith(`${spanProvider}:`)
        );
        // Every accepted event arrived (each is under perf's 8,184 bytes).
        assert.equal(
          theirs.length,
          ours.length,
          `perf-decode read ${theirs.length} of ${ours.length}`,
        );
        const key = (name: string, f: Obj) => {
          const a = f.PartA as Obj;
          const b = f.PartB as Obj;
          return JSON.stringify([
            name,
            a?.time,
            typeof b?.body === "string" ? b.body : null,
            typeof b?.name === "string" ? b.name : null,
            b?.startTime ?? null,
          ]);
        };
        const mine = ours.map((o) => key(o.name, o.fields)).sort();
        const perf = theirs.map((e) =>
          key(e.n.slice(e.n.indexOf(":") + 1), e as Obj)
        ).sort();
        assert.deepEqual(perf, mine);
        console.log(
          `fuzz on the kernel: ${theirs.length} events read by perf-decode, equal to decodeEventHeader's`,
        );
        // Every PartA time is RFC 3339 with 0/3/6/9 true digits.
        for (const e of theirs) parseRfc3339((e.PartA as Obj).time);
        // The good ones, exact.
        for (let k = 0; k < GOOD; k++) {
          const t = GOOD_NS + BigInt(k) * 1_001n;
          const log = theirs.find((e) =>
            (e.PartB as Obj)?.body === `good-${k}`
          );
          assert.ok(log, `good-${k} log`);
          assert.equal(parseRfc3339((log.PartA as Obj).time), t);
          assert.equal(Number((log.PartC as Obj).good), k);
          const span = theirs.find((e) =>
            (e.PartB as Obj)?.name === `good-${k}`
          );
          assert.ok(span, `good-${k} span`);
          assert.equal(parseRfc3339((span.PartB as Obj).startTime), t);
          assert.equal(parseRfc3339((span.PartA as Obj).time), t + 1000n);
        }
      } finally {
        rmSync(file, { force: true });
      }
    },
  );
});
