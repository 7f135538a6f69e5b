// What the server instrumentation hands its propagator: the default
// (built-in) propagators extract from one shared empty context and build
// their result as a literal; a caller's propagator still gets a fresh,
// writable `{}`; the built-in propagators keep a caller's extra keys.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TracerProvider } from "../../mod.ts";
import { HttpServerInstrumentation } from "../../instrumentation/http_server.ts";
import {
  CompositePropagator,
  type HeaderGetter,
  type PropagationContext,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "../../instrumentation/propagation.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const env = () => undefined;

function begin(http: HttpServerInstrumentation, headers: HeadersInit) {
  const state = http.begin(
    new Request("http://localhost/p", { headers }),
    undefined,
  );
  state.end(new Response(null));
  return state.span;
}

describe("extracting the parent of a server span", () => {
  it("default propagators: parent, trace state, baggage and rejections as before", () => {
    const http = new HttpServerInstrumentation({
      tracerProvider: new TracerProvider({ env }),
      env,
    });
    const plain = begin(http, { traceparent: PARENT });
    assert.equal(plain.traceId, TRACE_ID);
    assert.equal(plain.parentSpanId, "00f067aa0ba902b7");
    assert.equal(plain.parentIsRemote, true);
    assert.equal(plain.traceState, undefined);
    const withState = begin(http, {
      traceparent: PARENT,
      tracestate: "rojo=1, congo=2",
      baggage: "a=1",
    });
    assert.equal(withState.traceState, "rojo=1,congo=2");
    assert.equal(withState.parentSpanId, "00f067aa0ba902b7");
    assert.equal(http.stats.rejectedHeaders, 0);
    // Malformed traceparent: a new trace, one rejection; a bad tracestate
    // with a good traceparent: kept parent, one rejection; bad baggage
    // entries count one each.
    const bad = begin(http, { traceparent: "00-xyz" });
    assert.equal(bad.parentSpanId, undefined);
    assert.notEqual(bad.traceId, TRACE_ID);
    assert.equal(http.stats.rejectedHeaders, 1);
    const badState = begin(http, { traceparent: PARENT, tracestate: "Bad=1" });
    assert.equal(badState.parentSpanId, "00f067aa0ba902b7");
    assert.equal(badState.traceState, undefined);
    assert.equal(http.stats.rejectedHeaders, 2);
    begin(http, { traceparent: "nope", baggage: "ok=1,bad key=2,=3" });
    assert.equal(http.stats.rejectedHeaders, 5);
    // A hostile 100 KB traceparent and a non-hex one.
    begin(http, { traceparent: "0".repeat(100_000) });
    begin(http, { traceparent: PARENT.replace("4bf9", "4BF9") });
    assert.equal(http.stats.rejectedHeaders, 7);
    assert.equal(http.stats.requests, 7);
  });

  it("a caller's propagator gets a fresh writable context each time", () => {
    const seen: PropagationContext[] = [];
    const propagator = {
      fields: ["x-t"],
      extract(_headers: HeaderGetter, context: PropagationContext) {
        seen.push(context);
        assert.equal(Object.isFrozen(context), false);
        (context as { mine?: number }).mine = seen.length; // a sloppy propagator
        return context;
      },
      inject() {},
    };
    const http = new HttpServerInstrumentation({
      tracerProvider: new TracerProvider({ env }),
      propagator,
      env,
    });
    begin(http, {});
    begin(http, {});
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0], seen[1]);
    assert.equal(http.stats.instrumentationErrors, 0);
  });

  it("the built-in propagators keep the keys of a context they are given", () => {
    const headers = new Headers({
      traceparent: PARENT,
      tracestate: "rojo=1",
      baggage: "a=1",
    });
    const start = { rejected: 2, extra: "kept" } as PropagationContext;
    const composite = new CompositePropagator([
      new W3CTraceContextPropagator(),
      new W3CBaggagePropagator(),
    ]);
    const out = composite.extract(headers, start) as PropagationContext & {
      extra?: string;
    };
    assert.equal(out.extra, "kept");
    assert.equal(out.rejected, 2);
    assert.equal(out.spanContext?.traceState, "rojo=1");
    assert.equal(out.baggage?.get("a")?.value, "1");
    assert.deepEqual(start, { rejected: 2, extra: "kept" }, "not mutated");
    const bad = new W3CTraceContextPropagator().extract(
      new Headers({ traceparent: "00-x" }),
      start,
    ) as PropagationContext & { extra?: string };
    assert.deepEqual({ ...bad }, { rejected: 3, extra: "kept" });
    const empty = new W3CTraceContextPropagator().extract(
      new Headers({ traceparent: PARENT }),
      {},
    );
    assert.deepEqual(Object.keys(empty).sort(), ["rejected", "spanContext"]);
  });
});
