// Runtime glue for the instrumentation tests (Hono's adapter pattern): a
// real Deno.serve or Bun.serve on 127.0.0.1, port 0, whichever runtime runs
// the test. Everything else in the tests is runtime-neutral.
import {
  LoggerProvider,
  type LogRecordData,
  type LogRecordProcessor,
  type ReadableSpan,
  Resource,
  type SpanProcessor,
  toLogRecordData,
  TracerProvider,
} from "../../mod.ts";

export const isBun = typeof (globalThis as { Bun?: unknown }).Bun === "object";
export const isDeno = !isBun &&
  typeof (globalThis as { Deno?: unknown }).Deno === "object";
export const isNode = !isBun && !isDeno;

export type TestHandler = (
  request: Request,
  info: unknown,
) => Response | Promise<Response> | undefined | Promise<Response | undefined>;

export interface TestServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

interface BunServer {
  port: number;
  stop(closeActive?: boolean): Promise<void> | void;
}
interface BunLike {
  serve(options: Record<string, unknown>): BunServer;
}
interface DenoServer {
  addr: { port: number };
  shutdown(): Promise<void>;
  finished: Promise<void>;
}
interface DenoLike {
  serve(
    options: Record<string, unknown>,
    handler: TestHandler,
  ): DenoServer;
}

/**
 * Node has no fetch-style server: a small node:http adapter (as
 * @hono/node-server does) turns each request into a `Request` and writes the
 * `Response` back, streaming its body and cancelling it when the client goes.
 */
async function serveNode(
  fetch: TestHandler,
  onError: ((error: unknown) => Response) | undefined,
): Promise<TestServer> {
  const { createServer } = await import("node:http");
  const sockets = new Set<{ destroy(): void }>();
  const server = createServer(async (req, res) => {
    let response: Response | undefined;
    try {
      const method = req.method ?? "GET";
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined) {
          headers.set(k, Array.isArray(v) ? v.join(", ") : v);
        }
      }
      const hasBody = method !== "GET" && method !== "HEAD";
      const body = hasBody
        ? new Uint8Array(
          await new Promise<Buffer>((resolve) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => resolve(Buffer.concat(chunks)));
          }),
        )
        : undefined;
      const request = new Request(`http://${req.headers.host}${req.url}`, {
        method,
        headers,
        body,
      });
      response = await fetch(request, {
        remoteAddr: { hostname: req.socket.remoteAddress },
      }) ?? new Response(null, { status: 500 });
    } catch (error) {
      response = onError?.(error) ?? new Response(null, { status: 500 });
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body === null) {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    res.on("close", () => {
      if (!res.writableFinished) reader.cancel().catch(() => {});
    });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
      res.end();
    } catch {
      res.destroy();
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Starts a real server; `routes` only on Bun. */
export function serve(
  fetch: TestHandler,
  extra: {
    routes?: Record<string, unknown>;
    websocket?: unknown;
    onError?: (error: unknown) => Response;
  } = {},
): Promise<TestServer> {
  if (isBun) {
    const bun = (globalThis as unknown as { Bun: BunLike }).Bun;
    const { onError, ...rest } = extra;
    const server = bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch,
      ...rest,
      ...(onError === undefined ? {} : { error: onError }),
    });
    const close = async () => {
      await server.stop(true);
    };
    return Promise.resolve({
      port: server.port,
      url: `http://127.0.0.1:${server.port}`,
      close,
      [Symbol.asyncDispose]: close,
    });
  }
  if (isNode) return serveNode(fetch, extra.onError);
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  return new Promise((resolve) => {
    const server = deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      ...(extra.onError === undefined ? {} : { onError: extra.onError }),
    }, fetch);
    const close = async () => {
      await server.shutdown();
    };
    resolve({
      port: server.addr.port,
      url: `http://127.0.0.1:${server.addr.port}`,
      close,
      [Symbol.asyncDispose]: close,
    });
  });
}

/** A tracer and logger provider that record every ended span and every record synchronously. */
export function recordingPipeline() {
  const spans: ReadableSpan[] = [];
  const logs: LogRecordData[] = [];
  const spanProcessor: SpanProcessor = {
    onEnd: (span) => void spans.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const logProcessor: LogRecordProcessor = {
    onEmit: (record, context) =>
      void logs.push(toLogRecordData(record, context)),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const resource = new Resource({ "service.name": "test" });
  const env = () => undefined;
  const tracerProvider = new TracerProvider({
    resource,
    processors: [spanProcessor],
    env,
  });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [logProcessor],
    env,
  });
  return { spans, logs, tracerProvider, loggerProvider };
}

/** Waits until `check` is true (bounded). */
export async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
