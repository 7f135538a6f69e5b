// A loopback OTLP/HTTP collector for bench/listener_rate.ts, in its own
// process: decodes every /v1/logs request with protobufjs (not the
// library's encoder's twin) and counts the log records; GET /count answers
// {"requests", "logRecords", "decodeMs"} (decodeMs: this process's time
// in gunzip + protobufjs, the collector's share of an export's round trip).
// Prints "port N" once listening.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import { gunzipSync } from "node:zlib";
import { LogsRequest } from "../tests/otlp/_decoder.ts";

let requests = 0;
let logRecords = 0;
let decodeMs = 0;
const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/count") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ requests, logRecords, decodeMs }));
    return;
  }
  const chunks: Uint8Array[] = [];
  req.on("data", (c: Uint8Array) => chunks.push(c));
  req.on("end", () => {
    requests++;
    const t = performance.now();
    let body: Uint8Array = Buffer.concat(chunks);
    if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
    if (req.url === "/v1/logs") {
      // deno-lint-ignore no-explicit-any
      const message = LogsRequest.decode(body) as any;
      for (const rl of message.resourceLogs ?? []) {
        for (const sl of rl.scopeLogs ?? []) {
          logRecords += (sl.logRecords ?? []).length;
        }
      }
    }
    decodeMs += performance.now() - t;
    res.writeHead(200, { "content-type": "application/x-protobuf" });
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => {
  console.log(`port ${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => process.exit(0));
