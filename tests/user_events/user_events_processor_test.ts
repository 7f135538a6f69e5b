import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeLibc, type WriteRecord } from "./_fake_libc.ts";
import {
  type DecodedField,
  decodedFieldsToObject,
  decodeEventHeader,
  FfiUnavailableError,
  KERNEL_MAX_EVENT_SIZE,
  openUserEventsProcessor,
  severityToLevel,
  UserEventsProcessor,
  type UserEventsProcessorOptions,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  type Diagnostic,
  LogEmitContext,
  LoggerProvider,
  type LogRecord,
  Resource,
} from "../../mod.ts";

const PATH = "/fake/tracing/user_events_data";
const FIELDS =
  " u8 eventheader_flags; u8 version; u16 id; u16 tag; u8 opcode; u8 level";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TIME = 1704164645678901234n; // exact nanoseconds

function setup(
  options: Partial<UserEventsProcessorOptions> = {},
  fake = new FakeLibc(),
) {
  const diagnostics: Diagnostic[] = [];
  const processor = new UserEventsProcessor(fake, {
    providerName: "myprov",
    userEventsDataPath: PATH,
    diagnostics: (d) => diagnostics.push(d),
    ...options,
  });
  return { fake, processor, diagnostics };
}

const context = new LogEmitContext(
  new Resource({
    "service.name": "checkout",
    "service.instance.id": "i-1",
    "deployment.environment": "prod",
  }),
  { name: "scope" },
);

function decode(fake: FakeLibc, w: WriteRecord) {
  return decodeEventHeader(fake.nameOfIndex(w.index), w.event);
}

function field(fields: readonly DecodedField[], path: string): DecodedField {
  let list = fields;
  let found: DecodedField | undefined;
  for (const part of path.split("/")) {
    found = list.find((f) => f.name === part);
    assert.ok(found, `no field ${path}`);
    list = found.value as DecodedField[];
  }
  return found!;
}

describe("UserEventsProcessor", () => {
  it("registers five tracepoints with the exact EventHeader command and distinct aligned enable words", () => {
    const { fake, processor, diagnostics } = setup();
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(fake.log[0], `open ${PATH} ${1 | 0x80000}`);
    assert.deepEqual(
      fake.registrations.map((r) => r.command),
      [1, 2, 3, 4, 5].map((l) => `myprov_L${l}K1${FIELDS}`),
    );
    for (const r of fake.registrations) {
      assert.equal(r.size, 28);
      assert.equal(r.enableSize, 4);
      assert.equal(r.enableBit, 0);
      assert.equal(r.flags, 0);
      assert.equal(r.enableAddress % 4n, 0n);
    }
    assert.equal(
      new Set(fake.registrations.map((r) => r.enableAddress)).size,
      5,
    );
    assert.deepEqual(processor.tracepoints, [
      "myprov_L1K1",
      "myprov_L2K1",
      "myprov_L3K1",
      "myprov_L4K1",
      "myprov_L5K1",
    ]);
    assert.equal(processor.stats.registered, 5);
    processor.shutdown();
  });

  it("maps severities to levels as the Rust exporter does", () => {
    const expected = [
      0,
      5,
      5,
      5,
      5,
      5,
      5,
      5,
      5,
      4,
      4,
      4,
      4,
      3,
      3,
      3,
      3,
      2,
      2,
      2,
      2,
      1,
      1,
      1,
      1,
      0,
    ];
    assert.deepEqual(expected.map((_, i) => severityToLevel(i)), expected);
    assert.equal(severityToLevel(NaN), 0);
    assert.equal(severityToLevel(9.5), 0);
  });

  it("returns at once without touching the record when the level's word is 0", () => {
    const { fake, processor } = setup();
    const touched: string[] = [];
    const record = new Proxy({ severityNumber: 9, body: "x" } as LogRecord, {
      get(target, key) {
        touched.push(String(key));
        return Reflect.get(target, key);
      },
    });
    processor.onEmit(record, context);
    assert.deepEqual(touched, ["severityNumber"]);
    assert.equal(fake.writes.length, 0);
    assert.equal(processor.stats.notEnabled, 1);
    assert.equal(processor.enabled(9), false);
    fake.enable("myprov_L3K1");
    assert.equal(processor.enabled(9), false);
    assert.equal(processor.enabled(13), true);
    processor.onEmit(record, context);
    assert.equal(processor.stats.notEnabled, 2);
    processor.shutdown();
  });

  it("writes one event per record with the level's write index and the full mapping", () => {
    const { fake, processor } = setup({
      resourceAttributes: ["deployment.environment", "absent"],
    });
    fake.enable("myprov_L2K1");
    processor.onEmit({
      severityNumber: 17,
      severityText: "ERROR",
      timestamp: TIME,
      observedTimestamp: TIME + 1_000_000_000_000n,
      body: "boom",
      eventName: "checkout.failed",
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      attributes: {
        "user.id": "u-1",
        event_id: 20,
        retries: 3,
        ratio: 0.5,
        ok: false,
        big: 2n ** 62n,
        bytes: new Uint8Array([1, 2]),
        list: [1, 2],
        map: { a: 1 },
        empty: null,
        "na;me": "semi",
      },
    }, context);
    assert.equal(fake.writes.length, 1);
    const w = fake.writes[0];
    assert.equal(fake.nameOfIndex(w.index), "myprov_L2K1");
    const event = decode(fake, w);
    assert.equal(event.name, "Log");
    assert.equal(event.level, 2);
    assert.equal(event.opcode, 0);
    assert.equal(event.flags, 7);
    assert.equal(event.keyword, 1n);
    assert.deepEqual(event.fields.map((f) => f.name), [
      "__csver__",
      "PartA",
      "PartC",
      "PartB",
    ]);
    assert.deepEqual(decodedFieldsToObject(event.fields), {
      __csver__: 1024,
      PartA: {
        time: "2024-01-02T03:04:05.678901234Z",
        ext_dt_traceId: TRACE_ID,
        ext_dt_spanId: SPAN_ID,
        ext_cloud_role: "checkout",
        ext_cloud_roleInstance: "i-1",
      },
      PartC: {
        "user.id": "u-1",
        retries: 3,
        ratio: 0.5,
        ok: false,
        big: 2n ** 62n,
        bytes: "",
        list: "",
        map: "",
        empty: "",
        "na_me": "semi",
        "deployment.environment": "prod",
      },
      PartB: {
        _typeName: "Log",
        body: "boom",
        severityNumber: 17,
        severityText: "ERROR",
        eventId: 20,
        name: "checkout.failed",
      },
    });
    // encodings and formats of every value kind
    const kinds = (path: string) => {
      const f = field(event.fields, path);
      return [f.encoding, f.format];
    };
    assert.deepEqual(kinds("__csver__"), [4, 1]);
    assert.deepEqual(kinds("PartC/retries"), [5, 2]);
    assert.deepEqual(kinds("PartC/big"), [5, 2]);
    assert.deepEqual(kinds("PartC/ratio"), [5, 8]);
    assert.deepEqual(kinds("PartC/ok"), [2, 7]);
    assert.deepEqual(kinds("PartC/user.id"), [10, 0]);
    assert.deepEqual(kinds("PartC/bytes"), [10, 0]);
    assert.deepEqual(kinds("PartB/severityNumber"), [3, 2]);
    assert.deepEqual(kinds("PartB/eventId"), [5, 2]);
    assert.deepEqual(kinds("PartA"), [1, 5]);
    assert.deepEqual(kinds("PartB"), [1, 6]);
    assert.equal(processor.stats.written, 1);
    processor.shutdown();
  });

  it("omits PartC, trace context, cloud role and optional PartB fields when absent", () => {
    const { fake, processor } = setup();
    fake.enable("myprov_L5K1");
    const bare = new LogEmitContext(new Resource({}), { name: "s" });
    processor.onEmit({
      severityNumber: 1,
      observedTimestamp: new Date(1e12),
      eventName: "  ",
    }, bare);
    assert.deepEqual(
      decodedFieldsToObject(decode(fake, fake.writes[0]).fields),
      {
        __csver__: 1024,
        PartA: { time: "2001-09-09T01:46:40Z" },
        PartB: { _typeName: "Log", severityNumber: 1 },
      },
    );
    processor.shutdown();
  });

  it("encodes body kinds as the Rust exporter does", () => {
    const { fake, processor } = setup();
    fake.enable("myprov_L4K1");
    const bodies = [
      42,
      1.25,
      true,
      "é\u{1F600}\uD800x",
      new Uint8Array([1]),
      [1],
      { a: 1 },
      -(2 ** 53) + 1,
    ];
    for (const body of bodies) {
      processor.onEmit({ severityNumber: 9, body }, context);
    }
    const got = fake.writes.map((w) =>
      field(decode(fake, w).fields, "PartB/body")
    );
    assert.deepEqual(got.map((f) => f.value), [
      42,
      1.25,
      true,
      "é\u{1F600}\uFFFDx",
      "",
      "",
      "",
      -(2 ** 53) + 1,
    ]);
    assert.deepEqual(got.map((f) => [f.encoding, f.format]), [
      [5, 2],
      [5, 8],
      [2, 7],
      [10, 0],
      [10, 0],
      [10, 0],
      [10, 0],
      [5, 2],
    ]);
    processor.shutdown();
  });

  it("keeps a non-Int event_id attribute in PartC", () => {
    const { fake, processor } = setup();
    fake.enable("myprov_L4K1");
    processor.onEmit(
      { severityNumber: 9, attributes: { event_id: "x" } },
      context,
    );
    const object = decodedFieldsToObject(
      decode(fake, fake.writes[0]).fields,
    ) as Record<string, Record<string, unknown>>;
    assert.deepEqual(object.PartC, { event_id: "x" });
    assert.equal(object.PartB.eventId, undefined);
    processor.shutdown();
  });

  it("caps PartC at 127 members and counts the rest", () => {
    const { fake, processor } = setup();
    fake.enable("myprov_L4K1");
    const attributes: Record<string, number> = {};
    for (let i = 0; i < 200; i++) attributes[`a${i}`] = i;
    const provider = new LoggerProvider({
      processors: [processor],
      limits: { attributeCountLimit: 1000 },
      resource: new Resource({}),
    });
    provider.getLogger("s").emit({ severityNumber: 9, attributes });
    const partC = field(decode(fake, fake.writes[0]).fields, "PartC");
    assert.equal(partC.format, 127);
    assert.equal((partC.value as DecodedField[]).length, 127);
    assert.equal((partC.value as DecodedField[])[126].name, "a126");
    assert.equal(processor.stats.cappedFields, 73);
    processor.shutdown();
  });

  it("keeps every event within perf's 8,184 bytes by default, cutting the longest strings first", () => {
    const { fake, processor } = setup({ resourceAttributes: [] });
    fake.enable("myprov_L4K1");
    // One long body, one long attribute, and short strings after them.
    processor.onEmit({
      severityNumber: 9,
      severityText: "INFO",
      eventName: "checkout.done",
      body: "b".repeat(70000),
      attributes: { long: "é".repeat(3000), short: "kept", n: 1 },
    }, context);
    assert.equal(fake.writes.length, 1);
    const w = fake.writes[0];
    // The budget, less what the cut at a character boundary left free.
    assert.ok(w.event.length <= 8184 && w.event.length >= 8182);
    const o = decodedFieldsToObject(decode(fake, w).fields) as Record<
      string,
      Record<string, unknown>
    >;
    const body = o.PartB.body as string;
    const long = o.PartC.long as string;
    assert.match(body, /^b+$/);
    assert.match(long, /^é+$/);
    // One common length: the body (ASCII) is cut to it exactly, the
    // two-byte attribute at the character boundary at or below it.
    const level = body.length;
    assert.ok(level < 8184 && level > 3000, `${level}`);
    assert.ok(2 * long.length <= level && 2 * long.length > level - 2);
    // Nothing after a cut string is emptied.
    assert.equal(o.PartC.short, "kept");
    assert.equal(o.PartC.n, 1);
    assert.equal(o.PartB._typeName, "Log");
    assert.equal(o.PartB.severityText, "INFO");
    assert.equal(o.PartB.name, "checkout.done");
    assert.equal(o.PartA.ext_cloud_role, "checkout");
    const stats = processor.stats;
    assert.equal(stats.truncatedValues, 2);
    assert.equal(stats.written, 1);
    assert.equal(stats.droppedTooLarge, 0);
    processor.shutdown();
  });

  it("writes an event of exactly maxEventSize bytes uncut, and one byte more cut by one byte", () => {
    const { fake, processor } = setup({ resourceAttributes: [] });
    fake.enable("myprov_L4K1");
    const timestamp = new Date("2026-01-01T00:00:00.002Z");
    const at = (body: string): LogRecord => ({
      severityNumber: 9,
      timestamp,
      body,
    });
    processor.onEmit(at(""), context);
    const base = fake.writes[0].event.length;
    const fill = 8184 - base;
    processor.onEmit(at("x".repeat(fill)), context);
    assert.equal(fake.writes[1].event.length, 8184);
    assert.equal(processor.stats.truncatedValues, 0);
    processor.onEmit(at("x".repeat(fill + 1)), context);
    assert.equal(fake.writes[2].event.length, 8184);
    assert.deepEqual(fake.writes[2].event, fake.writes[1].event);
    assert.equal(processor.stats.truncatedValues, 1);
    processor.shutdown();
  });

  it("takes up to 65,479 bytes with maxEventSize: KERNEL_MAX_EVENT_SIZE, and cuts a string to 65,535 bytes", () => {
    const { fake, processor } = setup({
      resourceAttributes: [],
      maxEventSize: KERNEL_MAX_EVENT_SIZE,
    });
    fake.enable("myprov_L4K1");
    processor.onEmit({ severityNumber: 9, body: "x".repeat(60000) }, context);
    assert.equal(fake.writes.length, 1);
    assert.equal(processor.stats.truncatedValues, 0);
    processor.onEmit({ severityNumber: 9, body: "y".repeat(200000) }, context);
    assert.equal(fake.writes[1].event.length, KERNEL_MAX_EVENT_SIZE);
    assert.equal(processor.stats.truncatedValues, 1);
    assert.equal(processor.stats.written, 2);
    processor.shutdown();
  });

  it("drops and counts an event whose fields do not fit even with every string cut", () => {
    const { fake, processor } = setup({ resourceAttributes: [] });
    fake.enable("myprov_L4K1");
    const attributes: Record<string, number> = {};
    for (let i = 0; i < 100; i++) attributes["k".repeat(90) + i] = i; // ~9.5 KB of names
    processor.onEmit(
      { severityNumber: 9, body: "z".repeat(5000), attributes },
      context,
    );
    assert.equal(fake.writes.length, 0);
    const stats = processor.stats;
    assert.equal(stats.droppedTooLarge, 1);
    assert.equal(stats.truncatedValues, 0);
    assert.equal(stats.emitted, 1);
    processor.shutdown();
  });

  it("rejects a bad maxEventSize or eventNameCallback with an error naming it", () => {
    for (const bad of [0, 511, 65480, 1.5, NaN, Infinity]) {
      assert.throws(
        () => setup({ maxEventSize: bad }),
        (e: Error) => e instanceof RangeError && /maxEventSize/.test(e.message),
      );
    }
    assert.throws(
      () => setup({ maxEventSize: "8184" as unknown as number }),
      (e: Error) => e instanceof TypeError && /maxEventSize/.test(e.message),
    );
    for (const bad of [null, "Log", 42, {}]) {
      assert.throws(
        () => setup({ eventNameCallback: bad as never }),
        (e: Error) =>
          e instanceof TypeError && /eventNameCallback/.test(e.message),
      );
    }
    assert.throws(
      () =>
        new UserEventsSpanProcessor(new FakeLibc(), {
          providerName: "spans",
          userEventsDataPath: PATH,
          eventNameCallback: () => "x",
        }),
      (e: Error) =>
        e instanceof TypeError && /eventNameCallback/.test(e.message),
    );
  });

  it("names events with eventNameCallback, falling back to Log (counted) when it throws or returns garbage", () => {
    const answers: unknown[] = [
      "checkout.done",
      () => {
        throw new Error("boom");
      },
      42,
      "",
      "n".repeat(256),
      { toString: () => "x" },
      "semi;colon",
    ];
    let i = 0;
    const { fake, processor } = setup({
      eventNameCallback: (record) => {
        const a = answers[i++];
        if (typeof a === "function") return a();
        assert.equal(record.severityNumber, 9); // the resolved record
        return a as string;
      },
    });
    fake.enable("myprov_L4K1");
    for (let k = 0; k < answers.length; k++) {
      processor.onEmit({ severityNumber: 9, body: "hi" }, context);
    }
    const names = fake.writes.map((w) => decode(fake, w).name);
    assert.deepEqual(names, [
      "checkout.done",
      "Log",
      "Log",
      "Log",
      "Log",
      "Log",
      "semi_colon",
    ]);
    assert.equal(processor.stats.eventNameFallbacks, 5);
    assert.equal(processor.stats.written, 7);
    processor.shutdown();
  });

  it("puts service.name and service.instance.id in PartA only, even when listed in resourceAttributes", () => {
    const { fake, processor } = setup({
      resourceAttributes: [
        "service.name",
        "service.instance.id",
        "deployment.environment",
      ],
    });
    fake.enable("myprov_L4K1");
    processor.onEmit({ severityNumber: 9, body: "hi" }, context);
    const o = decodedFieldsToObject(
      decode(fake, fake.writes[0]).fields,
    ) as Record<
      string,
      Record<string, unknown>
    >;
    assert.equal(o.PartA.ext_cloud_role, "checkout");
    assert.equal(o.PartA.ext_cloud_roleInstance, "i-1");
    assert.deepEqual(o.PartC, { "deployment.environment": "prod" });
    processor.shutdown();
  });

  it("counts EBADF as a dropped record without a diagnostic, other errors once with one", () => {
    const { fake, processor, diagnostics } = setup();
    fake.enable("myprov_L4K1");
    fake.writeResults = [-9, -14, -14, -34];
    for (let i = 0; i < 5; i++) {
      processor.onEmit({ severityNumber: 9 }, context);
    }
    const s = processor.stats;
    assert.equal(s.droppedNoListener, 1);
    assert.equal(s.droppedWriteError, 2);
    assert.equal(s.droppedTooLarge, 1);
    assert.equal(s.written, 1);
    assert.equal(s.emitted, 5);
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /errno 14/);
    processor.shutdown();
  });

  it("counts records without a valid severity and never writes them", () => {
    const { fake, processor } = setup();
    for (let l = 1; l <= 5; l++) fake.enable(`myprov_L${l}K1`);
    processor.onEmit({ body: "no severity" }, context);
    processor.onEmit({ severityNumber: 0 }, context);
    processor.onEmit({ severityNumber: 25 }, context);
    assert.equal(fake.writes.length, 0);
    assert.equal(processor.stats.droppedNoSeverity, 3);
    assert.equal(processor.enabled(undefined), false);
    processor.shutdown();
  });

  it("unregisters every tracepoint before freeing enable memory and closing the fd; idempotent", async () => {
    const { fake, processor } = setup();
    fake.enable("myprov_L4K1");
    fake.log = [];
    await processor.shutdown();
    const unregs = fake.log.filter((l) => l.startsWith("unreg")).length;
    assert.equal(unregs, 5);
    const lastUnreg = fake.log.findLastIndex((l) => l.startsWith("unreg"));
    const freeWords = fake.log.indexOf("free 32");
    assert.ok(freeWords > lastUnreg, fake.log.join(","));
    assert.equal(fake.log.at(-1), "close 7");
    assert.equal(fake.memories.size, 0);
    assert.equal(fake.registrations.filter((r) => r.active).length, 0);
    fake.log = [];
    processor[Symbol.dispose]();
    await processor.shutdown();
    assert.deepEqual(fake.log, []);
    processor.onEmit({ severityNumber: 9 }, context);
    assert.equal(processor.enabled(9), false);
    assert.equal(fake.writes.length, 0);
    assert.equal(processor.stats.registered, 0);
  });

  it("leaks the enable memory when unregistering fails, with one diagnostic", () => {
    const { fake, processor, diagnostics } = setup();
    fake.unregFailure = 22;
    processor.shutdown();
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /EINVAL/);
    assert.equal(
      [...fake.memories.values()].filter((m) => m.size === 32).length,
      1,
    );
  });

  it("throws at construction for a bad provider name", async () => {
    const fake = new FakeLibc();
    for (const name of ["", "has space", "a:b", "x".repeat(234), "ünï"]) {
      assert.throws(
        () => new UserEventsProcessor(fake, { providerName: name }),
        RangeError,
      );
      await assert.rejects(
        openUserEventsProcessor({ providerName: name }),
        RangeError,
      );
    }
    assert.throws(
      () => new UserEventsProcessor(fake, { providerName: 5 as never }),
      TypeError,
    );
    assert.doesNotThrow(() =>
      new UserEventsProcessor(fake, {
        providerName: "x".repeat(233),
        userEventsDataPath: PATH,
      }).shutdown()
    );
    assert.equal(fake.log.filter((l) => l.startsWith("open")).length, 1);
  });
});

describe("UserEventsProcessor failure modes", () => {
  const cases: [string, number, RegExp][] = [
    ["ENOENT (no user_events)", -2, /ENOENT \(2\).*CONFIG_USER_EVENTS/],
    [
      "EACCES",
      -13,
      /EACCES \(13\); grant group write access \(e\.g\. chgrp tracers \/fake\/tracing .*chmod g\+w .*\) or run as root/,
    ],
  ];
  for (const [what, result, pattern] of cases) {
    it(`is a counted no-op with one diagnostic on open ${what}`, () => {
      const fake = new FakeLibc();
      fake.openResult = result;
      const { processor, diagnostics } = setup({}, fake);
      assert.equal(diagnostics.length, 1);
      assert.match(diagnostics[0].message, pattern);
      assert.match(diagnostics[0].message, /UserEventsProcessor disabled/);
      processor.onEmit({ severityNumber: 9 }, context);
      assert.equal(processor.stats.notEnabled, 1);
      assert.equal(processor.enabled(9), false);
      assert.deepEqual(processor.tracepoints, []);
      processor.shutdown();
      assert.equal(fake.memories.size, 0);
      assert.ok(!fake.log.some((l) => l.startsWith("close")));
    });
  }

  it("is a no-op with one diagnostic when every registration fails, and closes the fd", () => {
    const fake = new FakeLibc();
    for (let l = 1; l <= 5; l++) fake.regFailures.set(`myprov_L${l}K1`, 22);
    const { processor, diagnostics } = setup({}, fake);
    assert.equal(diagnostics.length, 1);
    assert.match(
      diagnostics[0].message,
      /Cannot register .*myprov_L1K1: EINVAL \(22\)/,
    );
    assert.equal(fake.memories.size, 0);
    assert.equal(fake.log.at(-1), "close 7");
    processor.onEmit({ severityNumber: 9 }, context);
    assert.equal(processor.stats.notEnabled, 1);
  });

  it("keeps the levels that registered when some fail, with one diagnostic", () => {
    const fake = new FakeLibc();
    fake.regFailures.set("myprov_L5K1", 98);
    const { processor, diagnostics } = setup({}, fake);
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /myprov_L5K1: EADDRINUSE \(98\)/);
    fake.enable("myprov_L4K1");
    processor.onEmit({ severityNumber: 9 }, context);
    processor.onEmit({ severityNumber: 1 }, context);
    assert.equal(fake.writes.length, 1);
    assert.equal(processor.stats.registered, 4);
    processor.shutdown();
    assert.equal(fake.log.filter((l) => l.startsWith("unreg")).length, 4);
  });

  it("is a no-op with the loader's message when FFI is unavailable", () => {
    const diagnostics: Diagnostic[] = [];
    const error = new FfiUnavailableError(
      "Cannot load libc: FFI permission not granted; run deno with --allow-ffi (or -A)",
    );
    const processor = new UserEventsProcessor(error, {
      providerName: "p",
      diagnostics: (d) => diagnostics.push(d),
    });
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /--allow-ffi.*disabled/);
    processor.onEmit({ severityNumber: 9 }, context);
    assert.equal(processor.stats.notEnabled, 1);
    processor.shutdown();
  });

  it("is a no-op when native memory cannot be allocated", () => {
    const fake = new FakeLibc();
    fake.allocFailAt = 1;
    const { processor, diagnostics } = setup({}, fake);
    assert.match(diagnostics[0].message, /ENOMEM/);
    assert.equal(fake.memories.size, 0);
    assert.equal(fake.log.at(-1), "close 7");
    processor.shutdown();
  });

  it("shares one fd between processors of one binding and closes it after the last shutdown", () => {
    const fake = new FakeLibc();
    const { processor } = setup({}, fake);
    const spans = new UserEventsSpanProcessor(fake, {
      providerName: "myprov",
      userEventsDataPath: PATH,
    });
    assert.equal(fake.log.filter((l) => l.startsWith("open")).length, 1);
    assert.equal(
      fake.registrations.filter((r) => r.name === "myprov_L4K1").map((r) =>
        r.writeIndex
      ).reduce((a, b) => a === b ? a : -1),
      3,
    );
    processor.shutdown();
    assert.ok(!fake.log.includes("close 7"));
    spans.shutdown();
    assert.equal(fake.log.at(-1), "close 7");
  });
});
