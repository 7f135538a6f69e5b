// HttpServerInstrumentation.begin builds a request's attributes in one
// literal when it has every usual key (cleartext, a known method, no query,
// a client address and a user agent), and key by key otherwise. Both ways
// must give the same attributes, keys and key order (the export order) for
// the same request, and each missing piece must leave its key out.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TracerProvider } from "../../mod.ts";
import { HttpServerInstrumentation } from "../../instrumentation/http_server.ts";

const provider = new TracerProvider({ env: () => undefined });
const info = { remoteAddr: { hostname: "192.0.2.7" } };

function attributesOf(
  request: Request,
  second: unknown = info,
  clientAddress = true,
): Record<string, unknown> {
  const http = new HttpServerInstrumentation({
    tracerProvider: provider,
    clientAddress,
  });
  const state = http.begin(request, second);
  return { ...state.span.attributes };
}

const UA = { "user-agent": "probe/1.0" };

describe("HttpServerInstrumentation.begin's attributes", () => {
  it("gives every usual key, in the export order, from the one literal", () => {
    const a = attributesOf(
      new Request("http://example.test:8080/users/7", { headers: UA }),
    );
    assert.deepEqual(Object.entries(a), [
      ["http.request.method", "GET"],
      ["url.scheme", "http"],
      ["url.path", "/users/7"],
      ["url.full", "http://example.test:8080/users/7"],
      ["server.address", "example.test"],
      ["server.port", 8080],
      ["network.protocol.version", "1.1"],
      ["client.address", "192.0.2.7"],
      ["user_agent.original", "probe/1.0"],
    ]);
  });

  it("leaves out each missing piece, keeping the others in the same order", () => {
    const base = "http://example.test:8080/p";
    const full = [
      "http.request.method",
      "url.scheme",
      "url.path",
      "url.full",
      "server.address",
      "server.port",
      "network.protocol.version",
      "client.address",
      "user_agent.original",
    ];
    const without = (...gone: string[]) =>
      full.filter((k) => !gone.includes(k));
    // No user agent.
    assert.deepEqual(
      Object.keys(attributesOf(new Request(base))),
      without("user_agent.original"),
    );
    // No client address: option off, no usable second argument, a hostile one.
    assert.deepEqual(
      Object.keys(
        attributesOf(new Request(base, { headers: UA }), info, false),
      ),
      without("client.address"),
    );
    assert.deepEqual(
      Object.keys(attributesOf(new Request(base, { headers: UA }), null)),
      without("client.address"),
    );
    const hostile = {
      get remoteAddr(): never {
        throw new Error("hostile");
      },
    };
    assert.deepEqual(
      Object.keys(attributesOf(new Request(base, { headers: UA }), hostile)),
      without("client.address"),
    );
    // TLS: no protocol version.
    const tls = attributesOf(
      new Request("https://example.test/p", { headers: UA }),
    );
    assert.deepEqual(Object.keys(tls), without("network.protocol.version"));
    assert.equal(tls["server.port"], 443);
    // A query: url.query after server.port, redacted in url.full too.
    const q = attributesOf(
      new Request(`${base}?a=1&sig=secret`, { headers: UA }),
    );
    assert.deepEqual(Object.keys(q), [
      ...full.slice(0, 6),
      "url.query",
      ...full.slice(6),
    ]);
    assert.equal(q["url.query"], "a=1&sig=REDACTED");
    assert.equal(q["url.full"], `${base}?a=1&sig=REDACTED`);
    // An unknown method: _OTHER, then the original after the version.
    const other = attributesOf(
      new Request(base, { method: "PURGE", headers: UA }),
    );
    assert.deepEqual(Object.keys(other), [
      ...full.slice(0, 7),
      "http.request.method_original",
      ...full.slice(7),
    ]);
    assert.equal(other["http.request.method"], "_OTHER");
    assert.equal(other["http.request.method_original"], "PURGE");
  });

  it("gives the same attributes for the same request on both paths", () => {
    // The literal (every piece there) and the key-by-key path (one piece
    // missing, then added back by hand) must agree on every value.
    const fast = attributesOf(
      new Request("http://h.test/x", { headers: UA }),
    );
    const slow = attributesOf(new Request("http://h.test/x"));
    assert.deepEqual({ ...slow, "user_agent.original": "probe/1.0" }, fast);
  });

  it("takes a 100 KB user agent through the literal unchanged", () => {
    const huge = "u".repeat(100_000);
    const a = attributesOf(
      new Request("http://h.test/x", { headers: { "user-agent": huge } }),
    );
    assert.equal(a["url.full"], "http://h.test/x");
    assert.equal(typeof a["user_agent.original"], "string");
    assert.equal((a["user_agent.original"] as string).length, 100_000);
  });
});

describe("HttpServerInstrumentation.begin across requests", () => {
  it("gives each request its own values while one instance shares repeated ones (origin, client, user agent)", () => {
    // One instance, so the last request's origin, client address and user
    // agent are remembered: every request must still read as if alone,
    // including hostile ones (a 100 KB user agent, a 1 KB method, a path
    // with bytes that are not UTF-8, another host or port; userinfo, which
    // Node's Request refuses, is in url_parts_test's splitUrlCached cases).
    const http = new HttpServerInstrumentation({ tracerProvider: provider });
    const big = "b".repeat(100 * 1024);
    const cases: [string, RequestInit, string][] = [
      ["http://example.test:8080/users/1", { headers: UA }, "192.0.2.7"],
      ["http://example.test:8080/users/2?x=1", { headers: UA }, "192.0.2.7"],
      ["http://example.test:8080/%FF%FE/p", { headers: UA }, "192.0.2.8"],
      [
        "http://example.test:8081/users/3",
        { headers: { "user-agent": big } },
        "192.0.2.8",
      ],
      [
        "http://example.test:8081/users/4",
        { headers: { "user-agent": big } },
        "192.0.2.7",
      ],
      ["http://other.test/users/6", { method: "M".repeat(1024) }, "192.0.2.7"],
      ["http://example.test:8080/users/7", { headers: UA }, "192.0.2.7"],
      ["https://example.test:8080/users/8#f", { headers: UA }, "192.0.2.7"],
    ];
    for (const [url, init, client] of cases) {
      const request = new Request(url, init);
      const second = { remoteAddr: { hostname: client } };
      const shared = { ...http.begin(request, second).span.attributes };
      const alone = attributesOf(request.clone(), second);
      assert.deepEqual(Object.entries(shared), Object.entries(alone), url);
    }
    // Bun's Request constructor turns an unknown method into GET; Deno and
    // Node keep it.
    const kept = new Request("http://x/", { method: "M".repeat(1024) }).method;
    assert.equal(http.stats.otherMethods, kept === "GET" ? 0 : 1);
  });
});
