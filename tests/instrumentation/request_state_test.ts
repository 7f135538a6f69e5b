// HttpServerRequest reads the `upgrade` header only when asked (Bun's
// fetch returning nothing after server.upgrade()), not on every request;
// the WebSocket test in http_server_test.ts covers the real upgrade.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TracerProvider } from "../../mod.ts";
import { HttpServerInstrumentation } from "../../instrumentation/http_server.ts";

function counted(headers: Record<string, string>) {
  const request = new Request("http://localhost/", { headers });
  const names: string[] = [];
  const h = request.headers;
  const get = h.get.bind(h);
  Object.defineProperty(h, "get", {
    value: (name: string) => {
      names.push(name);
      if (name === "upgrade" && headers["x-throw"] !== undefined) {
        throw new Error("hostile");
      }
      return get(name);
    },
  });
  return { request, names };
}

describe("HttpServerRequest.upgrade", () => {
  const http = new HttpServerInstrumentation({
    tracerProvider: new TracerProvider({ env: () => undefined }),
    env: () => undefined,
  });
  it("is not read for a response, and is read once when asked", () => {
    const plain = counted({ "user-agent": "t" });
    const state = http.begin(plain.request, undefined);
    state.end(new Response("ok"), { staticBody: true });
    assert.equal(plain.names.includes("upgrade"), false, plain.names.join());
    assert.equal(state.upgrade, false);
    assert.equal(plain.names.filter((n) => n === "upgrade").length, 1);
    assert.equal(state.upgrade, false);
    assert.equal(plain.names.filter((n) => n === "upgrade").length, 1);
  });
  it("ends an upgraded request (the handler returned nothing) with status 101", () => {
    const ws = counted({ upgrade: "websocket", connection: "upgrade" });
    const state = http.begin(ws.request, undefined);
    assert.equal(state.end(undefined), undefined);
    assert.equal(state.span.ended, true);
    assert.equal(state.span.attributes["http.response.status_code"], 101);
    assert.equal(state.upgrade, true);
  });
  it("can be set, and a throwing header read is counted as false", () => {
    const set = http.begin(counted({}).request, undefined);
    set.upgrade = true;
    assert.equal(set.upgrade, true);
    const before = http.stats.instrumentationErrors;
    const hostile = counted({ upgrade: "websocket", "x-throw": "1" });
    const state = http.begin(hostile.request, undefined);
    assert.equal(state.end(undefined), undefined);
    assert.equal(state.upgrade, false);
    assert.equal(state.span.attributes["http.response.status_code"], undefined);
    assert.equal(http.stats.instrumentationErrors, before + 1);
  });
});
