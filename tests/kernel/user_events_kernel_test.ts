// Real-kernel tests of the user_events processors. They run inside the
// test VM (shared/vm/run-in-vm.sh sets UEVM_GUEST=1) and skip elsewhere.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, statSync } from "node:fs";
import process from "node:process";
import type { NativeMemory } from "../../ffi/libc.ts";
import { openLibc } from "../../ffi/load_libc.ts";
import {
  type DecodedField,
  decodedFieldsToObject,
  decodeEventHeader,
  UserEventsProcessor,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  type Diagnostic,
  formatRfc3339,
  LogEmitContext,
  LoggerProvider,
  Resource,
  SpanStatusCode,
  TracerProvider,
} from "../../mod.ts";
import {
  clearTrace,
  drainRawEvents,
  eventId,
  type RawEvent,
  RecordingLibc,
  RUNTIME,
  setEnable,
  SKIP,
  statusNames,
  TRACEFS,
  waitFor,
} from "./_tracefs.ts";
import { runAsUser } from "./_setpriv.ts";

/** The child script the permission tests run as another user (tests/kernel/_setpriv.ts). */
const OPEN_CHILD = "tests/kernel/_open_child.ts";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

function ours(events: RawEvent[], name: string): RawEvent[] {
  const id = eventId(name);
  // trace_entry.pid is the writing thread's id (deno test runs tests off the
  // main thread); the tracepoint names carry our pid, so the type suffices.
  return events.filter((e) => e.type === id);
}

/** The kernel's copy equals what we wrote, up to the ring buffer's 4-byte padding. */
/**
 * The ftrace ring reserves each event rounded up to 4 bytes and does not
 * clear the 0-3 bytes past the data: after earlier tests in the same boot
 * they hold stale bytes of older events, so only their count is checked.
 */
function assertSameBytes(kernel: Uint8Array, written: Uint8Array): void {
  assert.ok(
    kernel.length >= written.length && kernel.length - written.length < 4,
    `${kernel.length} vs ${written.length}`,
  );
  assert.deepEqual(kernel.subarray(0, written.length), written);
}

describe("UserEventsProcessor on a real kernel", () => {
  it(
    "registers, follows the enable word, writes decodable events, and unregisters",
    { skip: SKIP },
    async () => {
      const provider = `seed_${RUNTIME}_logs_${process.pid}`;
      const names = [1, 2, 3, 4, 5].map((l) => `${provider}_L${l}K1`);
      const libc = new RecordingLibc(await openLibc());
      const diagnostics: Diagnostic[] = [];
      const processor = new UserEventsProcessor(libc, {
        providerName: provider,
        diagnostics: (d) => diagnostics.push(d),
        resourceAttributes: ["deployment.environment"],
      });
      try {
        assert.deepEqual(diagnostics, []);
        assert.deepEqual(processor.tracepoints, names);
        const listed = statusNames();
        for (const name of names) {
          assert.ok(
            listed.includes(name),
            `${name} not in user_events_status`,
          );
        }
        for (const severity of [1, 5, 9, 13, 17, 21]) {
          assert.equal(
            processor.enabled(severity),
            false,
          );
        }

        const loggerProvider = new LoggerProvider({
          processors: [processor],
          resource: new Resource({
            "service.name": "kernel-test",
            "deployment.environment": "vm",
          }),
        });
        const logger = loggerProvider.getLogger("kernel");
        logger.emit({ severityNumber: 9, body: "before enable" });
        assert.equal(processor.stats.notEnabled, 1);

        clearTrace();
        setEnable(names[3], true);
        assert.ok(
          await waitFor(() => processor.enabled(9)),
          "the kernel did not set the L4 enable word",
        );
        assert.equal(processor.enabled(13), false);

        const time = 1704164645678_901_234n; // exact nanoseconds
        logger.emit({
          severityNumber: 9,
          severityText: "INFO",
          timestamp: time,
          body: "hello kernel é\u{1F600}",
          eventName: "kernel.test",
          traceId: TRACE_ID,
          spanId: SPAN_ID,
          attributes: {
            "user.id": "u-1",
            event_id: 7,
            n: -42,
            ratio: 0.25,
            ok: true,
            list: [1],
          },
        });
        logger.emit({ severityNumber: 10, body: 1.5 });
        logger.emit({ severityNumber: 13, body: "warn: nobody listens" });
        assert.equal(processor.stats.written, 2);
        assert.equal(libc.written.length, 2);

        const events = ours(drainRawEvents(libc), names[3]);
        assert.equal(
          events.length,
          2,
          `found ${events.length} events of ${names[3]}`,
        );
        assertSameBytes(events[0].payload, libc.written[0]);
        assertSameBytes(events[1].payload, libc.written[1]);

        const first = decodeEventHeader(names[3], events[0].payload);
        assert.equal(first.provider, provider);
        assert.equal(first.name, "Log");
        assert.equal(first.level, 4);
        assert.equal(first.keyword, 1n);
        assert.equal(first.opcode, 0);
        assert.equal(first.flags, 7);
        assert.deepEqual(decodedFieldsToObject(first.fields), {
          __csver__: 1024,
          PartA: {
            time: "2024-01-02T03:04:05.678901234Z",
            ext_dt_traceId: TRACE_ID,
            ext_dt_spanId: SPAN_ID,
            ext_cloud_role: "kernel-test",
          },
          PartC: {
            "user.id": "u-1",
            n: -42,
            ratio: 0.25,
            ok: true,
            list: "",
            "deployment.environment": "vm",
          },
          PartB: {
            _typeName: "Log",
            body: "hello kernel é\u{1F600}",
            severityNumber: 9,
            severityText: "INFO",
            eventId: 7,
            name: "kernel.test",
          },
        });
        const second = decodeEventHeader(names[3], events[1].payload);
        const partB = second.fields.find((f) => f.name === "PartB")!
          .value as DecodedField[];
        assert.deepEqual(partB.map((f) => [f.name, f.value]), [
          ["_typeName", "Log"],
          ["body", 1.5],
          ["severityNumber", 10],
        ]);

        setEnable(names[3], false);
        assert.ok(
          await waitFor(() => !processor.enabled(9)),
          "the kernel did not clear the L4 enable word",
        );
        const before = processor.stats;
        logger.emit({ severityNumber: 9, body: "after disable" });
        assert.equal(processor.stats.written, before.written);
        assert.equal(processor.stats.notEnabled, before.notEnabled + 1);
        assert.equal(libc.written.length, 2);
        assert.equal(ours(drainRawEvents(libc), names[3]).length, 0);
      } finally {
        await processor.shutdown();
      }
      // The kernel deletes an event from a work item once its last reference (our
      // registration and fd) is gone, so the status file changes shortly after.
      const gone = await waitFor(() =>
        names.every((name) => !statusNames().includes(name))
      );
      assert.ok(
        gone,
        `still in user_events_status after shutdown: ${
          statusNames().filter((n) => names.includes(n))
        }`,
      );
      assert.equal(processor.stats.registered, 0);
      assert.deepEqual(diagnostics, []);
    },
  );
});

describe("UserEventsProcessor levels on a real kernel", () => {
  it(
    "routes each severity range to its own tracepoint",
    { skip: SKIP },
    async () => {
      const provider = `seed_${RUNTIME}_levels_${process.pid}`;
      const names = [1, 2, 3, 4, 5].map((l) => `${provider}_L${l}K1`);
      const libc = new RecordingLibc(await openLibc());
      const processor = new UserEventsProcessor(libc, {
        providerName: provider,
      });
      const context = new LogEmitContext(new Resource({}), { name: "levels" });
      try {
        clearTrace();
        for (const name of names) setEnable(name, true);
        assert.ok(
          await waitFor(() =>
            [1, 5, 9, 13, 17, 21].every((s) => processor.enabled(s))
          ),
        );
        // severity → expected level: TRACE/DEBUG 5, INFO 4, WARN 3, ERROR 2, FATAL 1
        const cases: [number, number][] = [
          [1, 5],
          [8, 5],
          [9, 4],
          [13, 3],
          [17, 2],
          [21, 1],
          [24, 1],
        ];
        for (const [severity] of cases) {
          processor.onEmit(
            { severityNumber: severity, body: `s${severity}` },
            context,
          );
        }
        assert.equal(processor.stats.written, cases.length);
        const events = drainRawEvents(libc);
        for (const [severity, level] of cases) {
          const found = ours(events, names[level - 1])
            .map((e) => decodeEventHeader(names[level - 1], e.payload))
            .filter((e) => decodedFieldsToObject(e.fields).PartB !== undefined)
            .map((e) =>
              decodedFieldsToObject(e.fields).PartB as Record<string, unknown>
            )
            .filter((b) => b.severityNumber === severity);
          assert.equal(
            found.length,
            1,
            `severity ${severity} on ${names[level - 1]}`,
          );
          assert.equal(found[0].body, `s${severity}`);
        }
        for (const name of names) setEnable(name, false);
      } finally {
        await processor.shutdown();
      }
    },
  );
});

describe("UserEventsSpanProcessor on a real kernel", () => {
  it(
    "writes ended spans that decode field by field",
    { skip: SKIP },
    async () => {
      const provider = `seed_${RUNTIME}_spans_${process.pid}`;
      const name = `${provider}_L4K1`;
      const libc = new RecordingLibc(await openLibc());
      const diagnostics: Diagnostic[] = [];
      const processor = new UserEventsSpanProcessor(libc, {
        providerName: provider,
        diagnostics: (d) => diagnostics.push(d),
      });
      try {
        assert.deepEqual(diagnostics, []);
        assert.ok(statusNames().includes(name));
        assert.equal(processor.enabled(), false);
        const tracerProvider = new TracerProvider({
          processors: [processor],
          resource: new Resource({ "service.name": "svc" }),
        });
        const tracer = tracerProvider.getTracer("kernel");
        tracer.startSpan("skipped").end();
        assert.equal(processor.stats.notEnabled, 1);

        clearTrace();
        setEnable(name, true);
        assert.ok(
          await waitFor(() => processor.enabled()),
          "the kernel did not set the enable word",
        );
        const span = tracer.startSpan("GET /items", {
          kind: 1,
          attributes: {
            "http.request.method": "GET",
            "http.response.status_code": 500,
            "app.tier": "gold",
          },
          links: [{
            context: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 },
          }],
        });
        span.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
        span.end();
        assert.equal(processor.stats.written, 1);

        const events = ours(drainRawEvents(libc), name);
        assert.equal(events.length, 1);
        assertSameBytes(events[0].payload, libc.written[0]);
        const event = decodeEventHeader(name, events[0].payload);
        assert.equal(event.name, "Span");
        assert.equal(event.level, 4);
        const object = decodedFieldsToObject(event.fields) as Record<
          string,
          Record<string, unknown>
        >;
        assert.equal(object.__csver__ as unknown, 1024);
        assert.equal(object.PartA.ext_dt_spanId, span.spanId);
        assert.equal(object.PartA.ext_dt_traceId, span.traceId);
        assert.equal(object.PartA.ext_cloud_role, "svc");
        assert.deepEqual(object.PartB, {
          _typeName: "Span",
          name: "GET /items",
          startTime: formatRfc3339(
            span.startTimeUnixMs,
            span.startTimeNanosInMs,
          ),
          success: false,
          kind: 1,
          links: `[{"toTraceId":"${TRACE_ID}","toSpanId":"${SPAN_ID}"}]`,
          httpMethod: "GET",
          httpStatusCode: 500,
        });
        assert.deepEqual(object.PartC, { "app.tier": "gold" });
        setEnable(name, false);
        assert.ok(await waitFor(() => !processor.enabled()));
      } finally {
        await processor.shutdown();
      }
      assert.ok(
        await waitFor(() => !statusNames().includes(name)),
        `${name} still in user_events_status after shutdown`,
      );
    },
  );
});

describe("user_events permissions on a real kernel", () => {
  it("is a no-op with one EACCES diagnostic for a non-root user", {
    skip: SKIP,
  }, () => {
    const result = runAsUser(OPEN_CHILD);
    assert.equal(result.status, 0, `child failed: ${result.stderr}`);
    const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    assert.equal(report.messages.length, 1, JSON.stringify(report.messages));
    assert.match(
      report.messages[0],
      /EACCES \(13\); grant group write access .*chmod g\+w .*user_events_data\) or run as root/,
    );
    assert.equal(report.stats.notEnabled, 1);
    assert.equal(report.stats.registered, 0);
    assert.deepEqual(report.tracepoints, []);
  });
});

describe("UserEventsProcessor races on a real kernel", () => {
  it(
    "counts EBADF when the listener detaches between the check and the write",
    { skip: SKIP },
    async () => {
      const provider = `seed_${RUNTIME}_race_${process.pid}`;
      const name = `${provider}_L2K1`;
      // Detaches the tracer right before each write: the enable word was set
      // when onEmit checked it, the kernel has no probe when the write arrives.
      class DetachingLibc extends RecordingLibc {
        override write(
          fd: number,
          memory: NativeMemory,
          length: number,
        ): number {
          setEnable(name, false);
          return super.write(fd, memory, length);
        }
      }
      const libc = new DetachingLibc(await openLibc());
      const diagnostics: Diagnostic[] = [];
      const processor = new UserEventsProcessor(libc, {
        providerName: provider,
        diagnostics: (d) => diagnostics.push(d),
      });
      try {
        setEnable(name, true);
        assert.ok(await waitFor(() => processor.enabled(17)));
        processor.onEmit(
          { severityNumber: 17, body: "raced" },
          new LogEmitContext(new Resource({}), { name: "race" }),
        );
        const stats = processor.stats;
        assert.equal(stats.droppedNoListener, 1, JSON.stringify(stats));
        assert.equal(stats.written, 0);
        assert.equal(stats.droppedWriteError, 0);
        assert.deepEqual(diagnostics, []);
      } finally {
        await processor.shutdown();
      }
    },
  );
});

describe("user_events group permissions on a real kernel", () => {
  it(
    "registers as a non-root user once the tracing group has x on tracefs and w on user_events_data",
    { skip: SKIP },
    () => {
      const data = `${TRACEFS}/user_events_data`;
      const dirStat = statSync(TRACEFS);
      const dataStat = statSync(data);
      const gid = 4242;
      try {
        chownSync(TRACEFS, dirStat.uid, gid);
        chmodSync(TRACEFS, dirStat.mode | 0o010);
        chownSync(data, dataStat.uid, gid);
        chmodSync(data, dataStat.mode | 0o020);
        const result = runAsUser(OPEN_CHILD, {
          gid,
          groups: [gid],
        });
        assert.equal(result.status, 0, `child failed: ${result.stderr}`);
        const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
        assert.deepEqual(report.messages, []);
        assert.deepEqual(
          report.tracepoints,
          [1, 2, 3, 4, 5].map((l) => `seed_nonroot_L${l}K1`),
        );
        assert.equal(report.stats.registered, 5);
        assert.equal(report.stats.notEnabled, 1);
      } finally {
        chownSync(TRACEFS, dirStat.uid, dirStat.gid);
        chmodSync(TRACEFS, dirStat.mode & 0o7777);
        chownSync(data, dataStat.uid, dataStat.gid);
        chmodSync(data, dataStat.mode & 0o7777);
      }
    },
  );
});
