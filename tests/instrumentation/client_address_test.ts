// The `clientAddress` option: on by default (real servers record
// client.address), `false` leaves the attribute out and never calls
// `server.requestIP` / reads `info.remoteAddr` / the socket's address;
// anything but a boolean is a clear TypeError. Real Deno.serve / Bun.serve
// servers (node:http under Node), plus hostile second arguments.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { TracerProvider } from "../../mod.ts";
import { HttpServerInstrumentation } from "../../instrumentation/http_server.ts";
import { honoMiddleware } from "../../instrumentation/hono.ts";
import { NodeHttpInstrumentation } from "../../instrumentation/node_http.ts";
import { recordingPipeline, serve, until } from "./_serve.ts";

const HOSTILE_INFOS: readonly unknown[] = [
  // Bun's shape, with a requestIP that throws.
  {
    requestIP() {
      throw new Error("requestIP boom");
    },
  },
  // Deno's shape, with a throwing remoteAddr getter.
  {
    get remoteAddr(): never {
      throw new Error("remoteAddr boom");
    },
  },
  // A Proxy whose every trap throws.
  new Proxy({}, {
    get() {
      throw new Error("trap");
    },
    has() {
      throw new Error("trap");
    },
    getPrototypeOf() {
      throw new Error("trap");
    },
  }),
  // Wrong types where an address is expected.
  { requestIP: () => ({ address: 42 }) },
  { requestIP: () => null },
  { remoteAddr: { hostname: { toString: () => "127.0.0.1" } } },
  null,
  "127.0.0.1",
];

describe("clientAddress option", () => {
  it("records client.address by default and leaves it out with false, on a real server", async () => {
    for (const clientAddress of [undefined, true, false]) {
      const { spans, tracerProvider } = recordingPipeline();
      const http = new HttpServerInstrumentation({
        tracerProvider,
        env: () => undefined,
        ...(clientAddress === undefined ? {} : { clientAddress }),
      });
      await using server = await serve(
        http.handler(() => new Response("ok")),
      );
      const response = await fetch(`${server.url}/a?b=1`);
      assert.equal(await response.text(), "ok");
      await until(() => spans.length === 1);
      const a = spans[0].attributes;
      if (clientAddress === false) {
        assert.equal("client.address" in a, false, "left out");
      } else {
        assert.match(String(a["client.address"]), /^(::ffff:)?127\.0\.0\.1$/);
      }
      // Everything else is still there.
      assert.equal(a["url.path"], "/a");
      assert.equal(a["url.query"], "b=1");
      assert.equal(a["http.response.status_code"], 200);
      assert.equal(http.stats.instrumentationErrors, 0);
    }
  });

  it("with false, never calls server.requestIP or reads info.remoteAddr", () => {
    let calls = 0;
    const bunLike = {
      requestIP: () => {
        calls++;
        return { address: "10.0.0.1", family: "IPv4", port: 1 };
      },
    };
    const denoLike = {
      get remoteAddr() {
        calls++;
        return { hostname: "10.0.0.2", port: 1, transport: "tcp" };
      },
    };
    const off = new HttpServerInstrumentation({
      tracerProvider: new TracerProvider({ env: () => undefined }),
      clientAddress: false,
      env: () => undefined,
    });
    for (const info of [bunLike, denoLike]) {
      const state = off.begin(new Request("http://localhost/x"), info);
      assert.equal("client.address" in state.span.attributes, false);
      state.end(new Response(null));
    }
    assert.equal(calls, 0);
    const on = new HttpServerInstrumentation({
      tracerProvider: new TracerProvider({ env: () => undefined }),
      env: () => undefined,
    });
    const viaBun = on.begin(new Request("http://localhost/x"), bunLike);
    assert.equal(viaBun.span.attributes["client.address"], "10.0.0.1");
    const viaDeno = on.begin(new Request("http://localhost/x"), denoLike);
    assert.equal(viaDeno.span.attributes["client.address"], "10.0.0.2");
    assert.equal(calls, 2);
  });

  it("hostile second arguments: served, counted when reading threw, never thrown; untouched with false", async () => {
    for (const clientAddress of [true, false]) {
      const { spans, tracerProvider } = recordingPipeline();
      const http = new HttpServerInstrumentation({
        tracerProvider,
        clientAddress,
        env: () => undefined,
      });
      const handler = http.handler((request: Request) =>
        new Response(new URL(request.url).pathname)
      );
      for (const info of HOSTILE_INFOS) {
        const response = await (handler as unknown as (
          r: Request,
          i: unknown,
        ) => Promise<Response>)(new Request("http://localhost/h"), info);
        assert.equal(await response.text(), "/h");
      }
      await until(() => spans.length === HOSTILE_INFOS.length);
      for (const span of spans) {
        assert.equal("client.address" in span.attributes, false);
        assert.equal(span.attributes["url.path"], "/h");
      }
      // Three of them throw when read (requestIP, the remoteAddr getter,
      // the Proxy); with false none is read.
      assert.equal(
        http.stats.instrumentationErrors,
        clientAddress ? 3 : 0,
      );
      assert.equal(http.stats.requests, HOSTILE_INFOS.length);
    }
  });

  it("a value that is not a boolean is a TypeError naming the option", () => {
    const tracerProvider = new TracerProvider({ env: () => undefined });
    for (const bad of ["false", 0, 1, null, {}, Symbol("x"), () => false]) {
      assert.throws(
        () =>
          new HttpServerInstrumentation({
            tracerProvider,
            clientAddress: bad as unknown as boolean,
          }),
        (error: unknown) =>
          error instanceof TypeError &&
          /options\.clientAddress must be true or false/.test(error.message),
      );
      assert.throws(
        () =>
          new NodeHttpInstrumentation({
            tracerProvider,
            clientAddress: bad as unknown as boolean,
          }),
        TypeError,
      );
      assert.throws(
        () =>
          honoMiddleware({
            tracerProvider,
            clientAddress: bad as unknown as boolean,
          }),
        TypeError,
      );
    }
  });

  it("node:http: false leaves out the socket's address", async () => {
    for (const clientAddress of [true, false]) {
      const { spans, tracerProvider } = recordingPipeline();
      const node = new NodeHttpInstrumentation({
        tracerProvider,
        clientAddress,
        env: () => undefined,
      });
      const server = createServer(
        node.listener((_req: IncomingMessage, res: ServerResponse) => {
          res.end("ok");
        }),
      );
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const port = (server.address() as AddressInfo).port;
        const response = await fetch(`http://127.0.0.1:${port}/n`);
        assert.equal(await response.text(), "ok");
        await until(() => spans.length === 1);
        const a = spans[0].attributes;
        if (clientAddress) {
          assert.match(String(a["client.address"]), /127\.0\.0\.1$/);
        } else assert.equal("client.address" in a, false);
        assert.equal(a["url.path"], "/n");
      } finally {
        server.closeAllConnections?.();
        await new Promise((r) => server.close(r));
      }
    }
  });
});
