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
