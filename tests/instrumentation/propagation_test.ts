import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseTraceparent, readPropagatorsEnv } from "../../mod.ts";
import { prng32 } from "../time/_time.ts";
import {
  CompositePropagator,
  formatBaggage,
  type HeaderGetter,
  parseBaggage,
  parseTracestate,
  propagatorFromEnv,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "../../instrumentation/propagation.ts";

const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("W3CTraceContextPropagator", () => {
  const p = new W3CTraceContextPropagator();
  it("extracts a valid traceparent as a remote, sampled context and injects it back", () => {
    const ctx = p.extract(new Headers({ traceparent: TP }), {});
    assert.deepEqual(ctx.spanContext, {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
      isRemote: true,
    });
    const out = new Headers();
    p.inject(out, ctx);
    assert.equal(out.get("traceparent"), TP);
    assert.equal(out.get("tracestate"), null);
  });
  it("rejects malformed, all-zero, uppercase, version ff and oversized values and counts each", () => {
    for (
      const bad of [
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        TP.toUpperCase(),
        "ff" + TP.slice(2),
        TP + "-extra",
        "cc" + TP.slice(2) + "-" + "x".repeat(600),
        `${TP}, ${TP}`, // two traceparent headers joined
      ]
    ) {
      const ctx = p.extract(new Headers({ traceparent: bad }), {});
      assert.equal(ctx.spanContext, undefined, bad.slice(0, 60));
      assert.equal(ctx.rejected, 1);
    }
    // A later version with extra fields is accepted (forward compatibility).
    assert.ok(
      p.extract(new Headers({ traceparent: "cc" + TP.slice(2) + "-what" }), {})
        .spanContext,
    );
  });
  it("keeps the parent but drops a tracestate that is malformed, too long or has too many members", () => {
    const members = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",");
    for (
      const state of [
        "UP=1",
        "a=1,a=2",
        "a=" + "x".repeat(600),
        members,
        "a=b=c",
      ]
    ) {
      const ctx = p.extract(
        new Headers({ traceparent: TP, tracestate: state }),
        {},
      );
      assert.equal(ctx.spanContext?.spanId, "00f067aa0ba902b7");
      assert.equal(ctx.spanContext?.traceState, undefined, state.slice(0, 30));
      assert.equal(ctx.rejected, 1);
    }
    assert.equal(
      parseTracestate("a=1,  ,vendor@sys=x y"),
      "a=1,vendor@sys=x y",
    );
  });
  it("never throws on a hostile carrier", () => {
    const hostile: HeaderGetter = {
      get() {
        throw new Error("boom");
      },
    };
    assert.equal(p.extract(hostile, {}).rejected, 1);
    const notString = { get: () => 42 as unknown as string };
    assert.deepEqual(p.extract(notString, {}), {});
    p.inject({
      set() {
        throw new Error("read-only");
      },
    }, {
      spanContext: {
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "00f067aa0ba902b7",
        traceFlags: 1,
      },
    });
    const out = new Headers();
    p.inject(out, {
      spanContext: { traceId: "nope", spanId: "x", traceFlags: 1 },
    });
    assert.equal(out.get("traceparent"), null);
  });
});

describe("W3CBaggagePropagator", () => {
  const p = new W3CBaggagePropagator();
  it("round-trips entries with percent-encoding and properties", () => {
    const ctx = p.extract(
      new Headers({
        baggage: " user = alice%2Cbob ;ttl=1 , team=a%20b, emoji=%F0%9F%98%80",
      }),
      {},
    );
    assert.deepEqual([...ctx.baggage!], [
      ["user", { value: "alice,bob", metadata: "ttl=1" }],
      ["team", { value: "a b" }],
      ["emoji", { value: "😀" }],
    ]);
    const out = new Headers();
    p.inject(out, ctx);
    assert.equal(
      out.get("baggage"),
      "user=alice%2Cbob;ttl=1,team=a%20b,emoji=%F0%9F%98%80",
    );
  });
  it("skips and counts malformed entries and those past the limits", () => {
    assert.equal(parseBaggage("a=%E0%A4%A,b=1").rejected, 1); // broken percent-encoding
    assert.equal(parseBaggage("noequals,b=1").rejected, 1);
    const many = Array.from({ length: 200 }, (_, i) => `k${i}=v`).join(",");
    const parsed = parseBaggage(many);
    assert.equal(parsed.baggage.size, 180);
    assert.equal(parsed.rejected, 20);
    const huge = parseBaggage("a=1," + "b=" + "x".repeat(10_000));
    assert.equal(huge.baggage.size, 1);
    assert.equal(huge.rejected, 1);
    const long = parseBaggage("a=" + "x".repeat(5000) + ",b=2");
    assert.deepEqual([...long.baggage.keys()], ["b"]);
  });
  it("formats within the limits and survives a hostile map", () => {
    const big = new Map(
      Array.from(
        { length: 300 },
        (_, i) => [`k${i}`, { value: "v".repeat(100) }],
      ),
    );
    const header = formatBaggage(big);
    assert.ok(header.length <= 8192);
    assert.ok(header.split(",").length <= 180);
    const hostile = new Map([["ok", { value: "1" }]]);
    hostile.set("bad key", { value: "x" });
    Object.defineProperty(hostile, Symbol.iterator, {
      value: function* () {
        yield ["ok", { value: "1" }];
        throw new Error("iterator boom");
      },
    });
    assert.equal(formatBaggage(hostile), "ok=1");
  });
});

describe("propagatorFromEnv", () => {
  it("defaults to tracecontext and baggage, honours OTEL_PROPAGATORS and reports what it cannot provide", () => {
    const diagnostics: string[] = [];
    const sink = (d: { message: string }) => void diagnostics.push(d.message);
    assert.deepEqual(propagatorFromEnv({ env: () => undefined }).fields, [
      "traceparent",
      "tracestate",
      "baggage",
    ]);
    assert.deepEqual(propagatorFromEnv({ env: () => "none" }).fields, []);
    const p = propagatorFromEnv({
      env: () => "b3, tracecontext, weird, tracecontext",
      diagnostics: sink,
    });
    assert.deepEqual(p.fields, ["traceparent", "tracestate"]);
    assert.equal(diagnostics.length, 2);
    assert.match(diagnostics[0], /"b3".*not provided/);
    assert.match(diagnostics[1], /"weird".*unknown/);
    assert.deepEqual(readPropagatorsEnv({ env: () => "baggage,none" }), []);
  });
  it("runs a composite's propagators in order and contains one that throws", () => {
    const throwing = {
      fields: ["x"],
      extract() {
        throw new Error("no");
      },
      inject() {
        throw new Error("no");
      },
    };
    const p = new CompositePropagator([
      throwing,
      new W3CTraceContextPropagator(),
    ]);
    const ctx = p.extract(new Headers({ traceparent: TP }), {});
    assert.equal(ctx.rejected, 1);
    assert.equal(ctx.spanContext?.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    const out = new Headers();
    p.inject(out, ctx);
    assert.equal(out.get("traceparent"), TP);
    assert.throws(() => new CompositePropagator([null as never]), TypeError);
  });
});

describe("W3CTraceContextPropagator's 55-character fast path", () => {
  // The propagator parses version-00 values itself (no regular
  // expression); every other form goes to parseTraceparent. Mutating a
  // valid value one character at a time, and at random, must give exactly
  // what parseTraceparent gives.
  const p = new W3CTraceContextPropagator();
  // Non-ASCII characters whose low byte is a hex digit (U+0130, U+0161,
  // U+FF10) must not pass for one.
  const ALPHABET = "0123456789abcdefABCDEF-xg \t\u00e9\ud800\u0130\u0161\uff10";
  const expected = (value: string) => parseTraceparent(value);
  const extracted = (value: string) =>
    p.extract({ get: (name) => name === "traceparent" ? value : null }, {})
      .spanContext;
  it("agrees with parseTraceparent on every one-character mutation of a valid value", () => {
    let checked = 0;
    for (let i = 0; i < TP.length; i++) {
      for (const c of ALPHABET) {
        const value = TP.slice(0, i) + c + TP.slice(i + 1);
        assert.deepEqual(extracted(value), expected(value), value);
        checked++;
      }
    }
    assert.equal(checked, TP.length * [...ALPHABET].length);
  });
  it("agrees with parseTraceparent on random values, lengths 53-57, and on all flags", () => {
    const next = prng32(1010);
    for (let n = 0; n < 20_000; n++) {
      const length = 53 + (next() % 5);
      let value = "";
      for (let i = 0; i < length; i++) {
        // Mostly valid characters in the valid places, so many values parse.
        value += i === 2 || i === 35 || i === 52
          ? (next() % 50 === 0 ? "x" : "-")
          : ALPHABET[next() % (next() % 4 === 0 ? ALPHABET.length : 16)];
      }
      if (next() % 3 === 0) value = "00" + value.slice(2);
      assert.deepEqual(
        extracted(value),
        expected(value),
        JSON.stringify(value),
      );
    }
    for (let flags = 0; flags < 256; flags++) {
      const value = TP.slice(0, 53) + flags.toString(16).padStart(2, "0");
      assert.equal(extracted(value)?.traceFlags, flags);
    }
  });
});
