// splitUrl (instrumentation/_http.ts) is a hand scanner that runs on every
// request. It must give what the WHATWG URL parser gives for every URL the
// parser accepts (Request.url is always such a URL), and never throw on
// anything else.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  emptyUrlOrigin,
  emptyUrlParts,
  redactedFullUrl,
  splitUrl,
  splitUrlCached,
} from "../../instrumentation/_http.ts";
import { prng32 } from "../time/_time.ts";

const PIECES = [
  "http",
  "https",
  "HTTP",
  "wss",
  "://",
  ":",
  "@",
  "[::1]",
  "[2001:db8::7]",
  "user",
  "user:pw",
  "127.0.0.1",
  "example.com",
  "80",
  "443",
  "8080",
  "65535",
  "65536",
  "0",
  "/",
  "/users/7",
  "?",
  "a=1",
  "&",
  "sig=x",
  "#",
  "frag",
  "%20",
  "é",
];

/** What the URL parser says, in splitUrl's terms. */
function viaUrl(href: string) {
  const u = new URL(href);
  const scheme = u.protocol.slice(0, -1);
  const host = u.hostname.startsWith("[")
    ? u.hostname.slice(1, -1)
    : u.hostname;
  const port = u.port !== ""
    ? Number(u.port)
    : scheme === "https" || scheme === "wss"
    ? 443
    : 80;
  return {
    scheme,
    host,
    port,
    path: u.pathname === "" ? "/" : u.pathname,
    query: u.search === "" ? undefined : u.search.slice(1),
    hasUserinfo: u.username !== "" || u.password !== "",
  };
}

describe("splitUrl", () => {
  it("agrees with the URL parser on 20,000 serialised URLs built from hostile pieces", () => {
    const next = prng32(10);
    let compared = 0;
    for (let n = 0; n < 20_000; n++) {
      let raw = ["http://", "https://", "wss://"][next() % 3];
      const pieces = 1 + (next() % 8);
      for (let i = 0; i < pieces; i++) raw += PIECES[next() % PIECES.length];
      let href: string;
      try {
        href = new URL(raw).href;
      } catch {
        assert.doesNotThrow(() => splitUrl(raw), raw);
        continue;
      }
      // A bare "?" or "#" serialises as such; the URL API reports "" for both.
      if (/\?(#|$)/.test(href)) continue;
      const parts = splitUrl(href);
      assert.ok(parts !== undefined, href);
      const want = viaUrl(href);
      // An empty userinfo ("http://@host/") is dropped by the serialiser.
      assert.deepEqual({ ...parts }, want, href);
      const full = redactedFullUrl(href, parts);
      assert.equal(full.includes("#"), false, href);
      if (want.hasUserinfo) assert.match(full, /^\w+:\/\/REDACTED:REDACTED@/);
      compared++;
    }
    assert.ok(compared > 5_000, `only ${compared} URLs compared`);
  });
  it("reads ports as decimal digits only, and keeps the default otherwise", () => {
    assert.equal(splitUrl("http://h:8080/")?.port, 8080);
    assert.equal(splitUrl("http://h:65535/")?.port, 65535);
    for (const odd of ["1e3", "0x50", " 80", "65536", "123456", "-1", ""]) {
      const parts = splitUrl(`http://h:${odd}/p`);
      assert.equal(parts?.port, 80, odd);
      assert.equal(parts?.host, "h", odd);
    }
    assert.equal(splitUrl("https://[::1]/")?.port, 443);
    assert.equal(splitUrl("https://[::1]/")?.host, "::1");
    assert.equal(splitUrl("http://u:p@[::1]:81/")?.port, 81);
  });
  it("returns undefined for strings that are not scheme://..., and never throws", () => {
    for (
      const bad of ["", "/", "no-scheme", "://x", "averyveryverylongscheme://x"]
    ) {
      assert.equal(splitUrl(bad), undefined, bad);
    }
    const next = prng32(11);
    for (let n = 0; n < 5_000; n++) {
      let s = "";
      for (let i = 0; i < 1 + (next() % 10); i++) {
        s += PIECES[next() % PIECES.length];
      }
      assert.doesNotThrow(() => splitUrl(s), s);
    }
    const huge = "http://h/" + "a".repeat(1 << 20);
    assert.equal(splitUrl(huge)?.path.length, (1 << 20) + 1);
  });
});

describe("splitUrlCached", () => {
  it("gives splitUrl's parts on every URL of a stream that mostly shares an origin", () => {
    // One origin object across the stream, as a server keeps it: hits
    // (same prefix, then "/", "?", "#" or the end), near misses (the
    // prefix followed by more authority), userinfo (never cached) and
    // hostile strings.
    const next = prng32(11);
    const origins = [
      "http://127.0.0.1:4000",
      "http://127.0.0.1:40001",
      "http://127.0.0.1",
      "https://example.com",
      "https://example.com:443",
      "http://u:p@127.0.0.1:4000",
      "http://[::1]:8080",
      "http://[::1]",
      "wss://h",
      "http://",
      "nonsense",
    ];
    const tails = [
      "",
      "/",
      "/users/7",
      "?a=1",
      "#f",
      "/p?sig=x#f",
      "x/",
      ":9/",
      "@h/",
      "/é",
    ];
    const origin = emptyUrlOrigin();
    const parts = emptyUrlParts();
    for (let n = 0; n < 20_000; n++) {
      const o = next() % 4 === 0
        ? origins[next() % origins.length]
        : origins[0];
      const url = o + tails[next() % tails.length] +
        tails[next() % tails.length];
      const expected = splitUrl(url);
      const ok = splitUrlCached(url, parts, origin);
      assert.equal(ok, expected !== undefined, url);
      if (expected !== undefined) assert.deepEqual({ ...parts }, expected, url);
    }
  });

  it("shares the scheme and host strings while the origin repeats, never with userinfo", () => {
    const origin = emptyUrlOrigin();
    const parts = emptyUrlParts();
    assert.ok(splitUrlCached("http://127.0.0.1:4000/a", parts, origin));
    assert.equal(origin.prefix, "http://127.0.0.1:4000");
    const host = parts.host;
    assert.ok(splitUrlCached("http://127.0.0.1:4000/b?q=1", parts, origin));
    assert.equal(parts.host, host);
    assert.equal(parts.path, "/b");
    assert.equal(parts.query, "q=1");
    assert.ok(splitUrlCached("http://u:p@127.0.0.1:4000/c", parts, origin));
    assert.equal(parts.hasUserinfo, true);
    assert.equal(origin.prefix, "http://127.0.0.1:4000");
    assert.ok(!splitUrlCached("nonsense", parts, origin));
    assert.equal(origin.prefix, "http://127.0.0.1:4000");
  });
});
