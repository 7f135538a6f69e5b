// The native clock behind nowExactTime (ffi/clock.ts): where it is expected
// to be active, that it reads the same monotonic clock as
// performance.timeOrigin + performance.now() (bracketed by it, no drift,
// never backwards), that it resolves nanoseconds, that a replaced
// performance.now() is still followed, that it can be turned off and on, and
// what hostile arguments and broken adapters get.

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import {
  type ExactTime,
  InMemoryExporter,
  isExactTime,
  LoggerProvider,
  type LogRecordData,
  nativeClockStatus,
  nowExactTime,
  SimpleLogRecordProcessor,
  useNativeClock,
} from "../../mod.ts";
import { buildReader, type ClockGettime } from "../../ffi/clock.ts";
import { TIME_ORIGIN } from "../../pipeline/time.ts";

const ua = typeof navigator === "object" ? navigator.userAgent ?? "" : "";
const isDeno = ua.startsWith("Deno/");
const isBun = ua.startsWith("Bun/");
const linux = (globalThis as { process?: { platform?: string } }).process
  ?.platform === "linux";
/** Deno with FFI granted (the suite runs with -A) or Bun, on Linux. */
const expectNative = linux && (isDeno || isBun);

/** Nanoseconds since the epoch of a pair, as a bigint. */
const ns = (t: ExactTime): bigint =>
  BigInt(t.unixMs) * 1_000_000n + BigInt(t.nanosInMs);
/** performance.timeOrigin + performance.now() in ns (to a quarter µs, a double's resolution). */
const perfNs = (): bigint =>
  BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) *
  1000n;

afterEach(() => {
  useNativeClock(true);
});

describe("the native clock", () => {
  it("is active on Deno (FFI granted) and Bun on Linux, and says why not elsewhere", () => {
    const status = nativeClockStatus();
    assert.equal(typeof status.detail, "string");
    if (expectNative) {
      assert.equal(status.active, true, status.detail);
      assert.match(status.detail, isDeno ? /^deno-ffi / : /^bun-ffi /);
      assert.ok(status.anchorErrorNanos >= 0 && status.anchorErrorNanos < 1e6);
    } else {
      assert.equal(status.active, false);
      assert.match(status.detail, /performance\.now|not available|Linux/);
    }
  });

  it("is bracketed by performance.timeOrigin + performance.now(), before and after 200 ms (no drift), and never goes back", async () => {
    const out: ExactTime = { unixMs: 0, nanosInMs: 0 };
    // The anchor's uncertainty, the µs rounding of the time origin, and a
    // double's resolution of a present-day ms value (0.24 µs).
    const slack = BigInt(nativeClockStatus().anchorErrorNanos) + 2_000n;
    const bracket = () => {
      let previous = 0n;
      for (let i = 0; i < 20_000; i++) {
        const before = perfNs();
        nowExactTime(out);
        const after = perfNs();
        const t = ns(out);
        assert.ok(isExactTime(out.unixMs, out.nanosInMs));
        assert.ok(t >= before - slack, `${t} < ${before} - ${slack}`);
        assert.ok(t <= after + slack, `${t} > ${after} + ${slack}`);
        assert.ok(t >= previous, `went back: ${t} < ${previous}`);
        previous = t;
      }
    };
    bracket();
    await new Promise((resolve) => setTimeout(resolve, 200));
    bracket();
  });

  it("resolves nanoseconds where it is active", () => {
    if (!nativeClockStatus().active) return;
    const out: ExactTime = { unixMs: 0, nanosInMs: 0 };
    let belowMicro = 0;
    for (let i = 0; i < 1000; i++) {
      nowExactTime(out);
      if (out.nanosInMs % 1000 !== 0) belowMicro++;
    }
    assert.ok(belowMicro > 500, `${belowMicro} of 1000 reads below the µs`);
  });

  it("follows a replaced performance.now() while it is replaced", () => {
    const native = performance.now;
    Object.defineProperty(performance, "now", {
      value: () => 1234.5,
      configurable: true,
      writable: true,
    });
    const out: ExactTime = { unixMs: 0, nanosInMs: 0 };
    try {
      nowExactTime(out);
    } finally {
      delete (performance as { now?: unknown }).now;
      if (performance.now !== native) {
        Object.defineProperty(performance, "now", {
          value: native,
          configurable: true,
          writable: true,
        });
      }
    }
    const origin = ns(TIME_ORIGIN);
    assert.equal(ns(out) - origin, 1_234_500_000n);
    nowExactTime(out);
    assert.ok(ns(out) - origin > 0n);
  });

  it("turns off (microseconds from performance.now()) and on again", () => {
    assert.equal(useNativeClock(false), false);
    assert.equal(nativeClockStatus().active, false);
    assert.match(nativeClockStatus().detail, /useNativeClock\(false\)/);
    const out: ExactTime = { unixMs: 0, nanosInMs: 0 };
    for (let i = 0; i < 100; i++) {
      nowExactTime(out);
      assert.equal(out.nanosInMs % 1000, 0);
    }
    assert.equal(useNativeClock(true), expectNative);
    assert.equal(nativeClockStatus().active, expectNative);
    assert.equal(useNativeClock(), expectNative);
  });

  it("gives records observed times in emit order across both clocks", async () => {
    const exporter = new InMemoryExporter<LogRecordData>();
    await using provider = new LoggerProvider({
      env: () => undefined,
      processors: [new SimpleLogRecordProcessor(exporter)],
    });
    const logger = provider.getLogger("clock");
    for (let i = 0; i < 200; i++) {
      if (i === 100) useNativeClock(false);
      logger.emit({ body: i });
    }
    useNativeClock(true);
    await provider.forceFlush();
    let previous = 0n;
    const slack = BigInt(nativeClockStatus().anchorErrorNanos) + 2_000n;
    for (const r of exporter.items) {
      const t = BigInt(r.observedTimeUnixMs) * 1_000_000n +
        BigInt(r.observedTimeNanosInMs);
      assert.ok(t + slack >= previous, `${t} before ${previous}`);
      previous = t;
    }
    assert.equal(exporter.items.length, 200);
  });
});

describe("the native clock: hostile input", () => {
  it("refuses a useNativeClock argument that is not a boolean, naming it, without calling into it", () => {
    const toStringThrows = {
      toString() {
        throw new Error("toString called");
      },
    };
    const proxy = new Proxy({}, {
      get() {
        throw new Error("trap called");
      },
      getPrototypeOf() {
        throw new Error("trap called");
      },
    });
    for (
      const bad of [
        null,
        1,
        0,
        "true",
        "",
        toStringThrows,
        proxy,
        Symbol("x"),
        [],
        () => true,
        1n,
        NaN,
      ]
    ) {
      assert.throws(
        () => useNativeClock(bad as unknown as boolean),
        (error: unknown) =>
          error instanceof TypeError &&
          /useNativeClock\(.*\): expected true or false/.test(error.message) &&
          !/called/.test(error.message),
      );
    }
    assert.equal(nativeClockStatus().active, expectNative);
  });

  const fake = (
    call: ClockGettime["call"],
    timespec = new ArrayBuffer(16),
  ): ClockGettime => ({ call, pointer: 0, timespec, library: "fake" });

  it("rejects an adapter whose call fails, throws, writes another layout or another clock", () => {
    assert.match(
      buildReader(fake(() => -1)) as string,
      /clock_gettime\(CLOCK_MONOTONIC\) failed/,
    );
    assert.match(
      buildReader(fake(() => {
        throw new Error("boom");
      })) as string,
      /boom/,
    );
    const big = new ArrayBuffer(16);
    const words = new Int32Array(big);
    // A big-endian or 32-bit layout: a high word set, nanoseconds out of range.
    assert.match(
      buildReader(fake(() => {
        words[0] = 0;
        words[1] = 5;
        return 0;
      }, big)) as string,
      /unexpected struct timespec/,
    );
    assert.match(
      buildReader(fake(() => {
        words[1] = 0;
        words[2] = 1e9;
        return 0;
      }, big)) as string,
      /unexpected struct timespec/,
    );
    // A clock that stands still: the anchor holds at first, then the check
    // a moment later finds it behind performance.now() by more than 1 ms
    // only if time passed; a clock 10 s ahead on the check read is caught.
    let reads = 0;
    assert.match(
      buildReader(fake(() => {
        reads++;
        words[0] = reads > 16 ? 10 : 0;
        words[1] = 0;
        words[2] = 0;
        return 0;
      }, big)) as string,
      /disagrees with performance\.now\(\)/,
    );
  });

  it("builds a working reader from a fake adapter over performance.now() itself", () => {
    const words = new Int32Array(4);
    const built = buildReader(fake(() => {
      const t = performance.now() * 1e6; // ns since the origin, as a monotonic clock
      words[0] = Math.floor(t / 1e9);
      words[1] = 0;
      words[2] = Math.floor(t - words[0] * 1e9);
      words[3] = 0;
      return 0;
    }, words.buffer));
    assert.notEqual(typeof built, "string", String(built));
    const { read } = built as Exclude<typeof built, string>;
    const out: ExactTime = { unixMs: 0, nanosInMs: 0 };
    const before = perfNs();
    read(out);
    const after = perfNs();
    assert.ok(ns(out) >= before - 1_000_000n && ns(out) <= after + 1_000_000n);
  });
});
