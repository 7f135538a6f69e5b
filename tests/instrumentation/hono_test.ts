import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { streamText } from "hono/streaming";
import { SpanStatusCode } from "../../mod.ts";
import { HttpServerInstrumentation } from "../../instrumentation/http_server.ts";
import { honoMiddleware } from "../../instrumentation/hono.ts";
import { recordingPipeline, serve, until } from "./_serve.ts";

describe("honoMiddleware on a real server", () => {
  it("names spans by Hono routes, records handled errors, streams and 404s, and correlates logs", async () => {
    const { spans, logs, tracerProvider, loggerProvider } = recordingPipeline();
    const logger = loggerProvider.getLogger("app");
    const http = new HttpServerInstrumentation({ tracerProvider });
    const app = new Hono();
    app.use(honoMiddleware(http));
    app.onError((_error, c) => c.text("error", 500));
    app.get("/users/:id", async (c) => {
      await new Promise((r) => setTimeout(r, 1));
      logger.emit({ severityNumber: 9, body: `user ${c.req.param("id")}` });
      return c.json({ id: c.req.param("id") });
    });
    app.get("/boom", () => {
      throw new Error("handler failed");
    });
    app.get("/stream", (c) =>
      streamText(c, async (s) => {
        await s.write("a");
        await s.sleep(10);
        await s.write("b");
      }));
    await using server = await serve((request, info) =>
      app.fetch(request, info)
    );
    assert.equal(
      await (await fetch(`${server.url}/users/7`)).text(),
      '{"id":"7"}',
    );
    const boom = await fetch(`${server.url}/boom`);
    assert.equal(boom.status, 500);
    await boom.text();
    assert.equal(await (await fetch(`${server.url}/stream`)).text(), "ab");
    const missing = await fetch(`${server.url}/nope`);
    assert.equal(missing.status, 404);
    await missing.text();
    await until(() => spans.length === 4);
    assert.deepEqual(spans.map((s) => s.name), [
      "GET /users/:id",
      "GET /boom",
      "GET /stream",
      "GET",
    ]);
    const [user, failed, streamed, notFound] = spans;
    assert.equal(user.attributes["http.route"], "/users/:id");
    assert.equal(user.attributes["url.path"], "/users/7");
    assert.match(String(user.attributes["client.address"]), /127\.0\.0\.1/);
    assert.equal(logs[0].spanId, user.spanId);
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.equal(failed.attributes["error.type"], "Error");
    assert.equal(failed.attributes["http.response.status_code"], 500);
    assert.equal(
      failed.events[0].attributes["exception.message"],
      "handler failed",
    );
    assert.equal(streamed.attributes["http.response.status_code"], 200);
    assert.equal(notFound.attributes["http.route"], undefined);
    assert.equal(notFound.attributes["http.response.status_code"], 404);
    assert.equal(http.stats.handlerErrors, 1);
  });
});
