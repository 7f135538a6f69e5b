// The span replay on a real kernel: runs of spans of one shape (written as
// data only after the first) and shape changes, read back from the kernel's
// trace buffer, must equal byte for byte what the full encoder writes for
// each span alone, and decode field by field. Runs inside the test VM
// (shared/vm/run-in-vm.sh); skips elsewhere.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { openLibc } from "../../ffi/load_libc.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  formatRfc3339,
  type ReadableSpan,
  Resource,
  SpanStatusCode,
  TracerProvider,
} from "../../mod.ts";
import { encodeSpan, EventBuffer } from "../../processors/_eventheader.ts";
import {
  clearTrace,
  drainRawEvents,
  eventId,
  RecordingLibc,
  RUNTIME,
  setEnable,
  SKIP,
  statusNames,
  waitFor,
} from "./_tracefs.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

describe("UserEventsSpanProcessor replay on a real kernel", () => {
  it(
    "spans of a repeated shape reach the kernel as the full encoder writes them",
    {
      skip: SKIP,
    },
    async () => {
      const provider = `seed_${RUNTIME}_span_replay_${process.pid}`;
      const name = `${provider}_L4K1`;
      const libc = new RecordingLibc(await openLibc());
      const processor = new UserEventsSpanProcessor(libc, {
        providerName: provider,
        diagnostics: () => {},
      });
      const ended: ReadableSpan[] = [];
      try {
        assert.ok(statusNames().includes(name));
        const tracer = new TracerProvider({
          processors: [processor, {
            onEnd: (s: ReadableSpan) => void ended.push(s),
            forceFlush: () => Promise.resolve(),
            shutdown: () => Promise.resolve(),
          }],
          resource: new Resource({ "service.name": "svc" }),
        }).getTracer("kernel");
        clearTrace();
        setEnable(name, true);
        assert.ok(await waitFor(() => processor.enabled()));
        for (let i = 0; i < 60; i++) {
          const span = tracer.startSpan(i % 20 < 15 ? "GET /items/:id" : "db", {
            kind: i % 20 < 15 ? 1 : 3,
            attributes: i % 20 < 15
              ? {
                "http.request.method": "GET",
                "url.full": `http://h/items/${i}`,
                "http.response.status_code": 200 + (i % 3),
                "app.tier": i % 2 === 0 ? "gold" : "silver",
              }
              : { "db.system.name": "postgresql", rows: i },
            links: i % 20 >= 10 && i % 20 < 15
              ? [{
                context: {
                  traceId: TRACE_ID,
                  spanId: (0x1000 + i).toString(16).padStart(16, "0"),
                  traceFlags: 1,
                },
              }]
              : [],
          });
          if (i % 20 === 17) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
          }
          span.end();
        }
        assert.equal(processor.stats.written, 60);
        const id = eventId(name);
        const events = drainRawEvents(libc).filter((e) => e.type === id);
        assert.equal(events.length, 60);
        // The per-CPU buffers are read one after the other: the events of a
        // thread that moved between CPUs come out of order. Each is matched
        // to its span by the span id it carries.
        const seen = new Set<number>();
        for (const event of events) {
          const kernel = event.payload;
          const o = decodedFieldsToObject(
            decodeEventHeader(name, kernel).fields,
          );
          const spanId = (o.PartA as Record<string, unknown>).ext_dt_spanId;
          const i = ended.findIndex((s) => s.spanId === spanId);
          assert.ok(i >= 0 && !seen.has(i), `span id ${spanId}`);
          seen.add(i);
          // What the full encoder writes for this span alone.
          const fresh = new EventBuffer();
          const n = encodeSpan(fresh, ended[i], { resourceAttributes: [] });
          const expected = fresh.bytes.slice(4, n);
          // The ftrace ring reserves each event rounded up to 4 bytes and
          // does not clear the 0-3 bytes past the data: they hold whatever
          // an earlier event left in the reused page (CI's Bun run saw
          // them non-zero), so only their count is checked.
          assert.ok(kernel.length - expected.length < 4, `span ${i}: length`);
          assert.deepEqual(
            kernel.subarray(0, expected.length),
            expected,
            `span ${i}`,
          );
          assert.deepEqual(libc.written[i], expected, `span ${i}: written`);
          const b = o.PartB as Record<string, unknown>;
          assert.equal(b.name, ended[i].name);
          assert.equal(
            b.startTime,
            formatRfc3339(
              ended[i].startTimeUnixMs,
              ended[i].startTimeNanosInMs,
            ),
          );
        }
        assert.equal(seen.size, 60);
        setEnable(name, false);
      } finally {
        await processor.shutdown();
      }
    },
  );
});
