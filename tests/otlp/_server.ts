// A fake OTLP/HTTP collector on loopback (node:http works in Deno and Bun):
// records every request (headers, raw body, gunzipped body, arrival time)
// and answers each one as the test's script says, including faults: a reset
// connection or a request that never gets an answer.

import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { gunzipSync } from "node:zlib";

export interface ReceivedRequest {
  readonly index: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body as sent. */
  readonly raw: Uint8Array;
  /** The body, gunzipped when it was sent with content-encoding gzip. */
  readonly body: Uint8Array;
  /** performance.now() when the whole request had arrived. */
  readonly receivedAt: number;
}

export type Reply =
  | {
    status: number;
    headers?: Record<string, string>;
    body?: Uint8Array | string;
    delayMs?: number;
  }
  | "reset"
  | "stall";

export type Script = (request: ReceivedRequest) => Reply;

export class FakeCollector {
  readonly requests: ReceivedRequest[] = [];
  /** performance.now() just before each reply was written, by request index. */
  readonly repliedAt: number[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #script: Script;

  private constructor(script: Script) {
    this.#script = script;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  static async start(
    script: Script = () => ({ status: 200 }),
  ): Promise<FakeCollector> {
    const collector = new FakeCollector(script);
    await new Promise<void>((resolve) =>
      collector.#server.listen(0, "127.0.0.1", resolve)
    );
    return collector;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  set script(script: Script) {
    this.#script = script;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      const raw = new Uint8Array(Buffer.concat(chunks));
      const gzipped = req.headers["content-encoding"] === "gzip";
      const request: ReceivedRequest = {
        index: this.requests.length,
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        raw,
        body: gzipped ? new Uint8Array(gunzipSync(raw)) : raw,
        receivedAt: performance.now(),
      };
      this.requests.push(request);
      const reply = this.#script(request);
      if (reply === "stall") return;
      if (reply === "reset") {
        req.socket.destroy();
        return;
      }
      const send = () => {
        // Taken before the first byte goes out, so no client can have seen the reply earlier.
        this.repliedAt[request.index] = performance.now();
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? undefined);
      };
      if (reply.delayMs === undefined) send();
      else setTimeout(send, reply.delayMs);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A port on loopback with nothing listening (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
