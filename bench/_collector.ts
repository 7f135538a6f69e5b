// The loopback collector of the end-to-end OTLP case (bench/otlp_e2e.ts):
// a separate process (Deno.serve, Bun.serve, else node:http) that accepts
// OTLP/HTTP protobuf log requests, gunzips them when asked, counts the log
// records in each (a walk over the protobuf fields, not a full decode) and
// answers 200 with an empty ExportLogsServiceResponse. GET /stats returns
// and resets the counters. Prints its port on stdout.
//
//   deno run -A bench/_collector.ts

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

let requests = 0;
let records = 0;
let bytes = 0;
let malformed = 0;

/** Reads a varint at `p`; returns [value, next offset]. */
function varint(b: Uint8Array, p: number): [number, number] {
  let v = 0;
  let shift = 1;
  for (;;) {
    const c = b[p++];
    v += (c & 0x7f) * shift;
    if (c < 0x80) return [v, p];
    shift *= 128;
  }
}

/** Counts the length-delimited fields `field` in b[start, end). */
function each(
  b: Uint8Array,
  start: number,
  end: number,
  field: number,
  fn: (s: number, e: number) => void,
): void {
  let p = start;
  while (p < end) {
    const [key, q] = varint(b, p);
    p = q;
    const type = key & 7;
    if (type === 0) p = varint(b, p)[1];
    else if (type === 1) p += 8;
    else if (type === 5) p += 4;
    else if (type === 2) {
      const [n, r] = varint(b, p);
      if (key >>> 3 === field) fn(r, r + n);
      p = r + n;
    } else throw new RangeError(`wire type ${type}`);
  }
  if (p !== end) throw new RangeError("truncated");
}

function countRecords(body: Uint8Array): number {
  let n = 0;
  // ExportLogsServiceRequest.resource_logs (1) → ResourceLogs.scope_logs (2)
  // → ScopeLogs.log_records (2).
  each(
    body,
    0,
    body.length,
    1,
    (rs, re) =>
      each(body, rs, re, 2, (ss, se) =>
        each(body, ss, se, 2, () => {
          n++;
        })),
  );
  return n;
}

function handle(body: Uint8Array, encoding: string | null): void {
  bytes += body.length;
  requests++;
  try {
    records += countRecords(encoding === "gzip" ? gunzipSync(body) : body);
  } catch {
    malformed++;
  }
}

function stats(): string {
  const text = JSON.stringify({ requests, records, bytes, malformed });
  requests =
    records =
    bytes =
    malformed =
      0;
  return text;
}

// The runtime's own server where there is one (Deno.serve, Bun.serve: the
// collector must not be what limits the figures), node:http elsewhere.
const g = globalThis as {
  Deno?: {
    serve(
      o: {
        port: number;
        hostname: string;
        onListen(a: { port: number }): void;
      },
      h: (r: Request) => Promise<Response>,
    ): unknown;
  };
  Bun?: {
    serve(o: {
      port: number;
      hostname: string;
      fetch(r: Request): Promise<Response>;
    }): { port: number };
  };
};
const answer = async (req: Request): Promise<Response> => {
  if (req.method === "GET") {
    return new Response(stats(), {
      headers: { "content-type": "application/json" },
    });
  }
  handle(
    new Uint8Array(await req.arrayBuffer()),
    req.headers.get("content-encoding"),
  );
  return new Response(null, {
    status: 200,
    headers: { "content-type": "application/x-protobuf" },
  });
};
if (g.Deno !== undefined) {
  g.Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(port),
  }, answer);
} else if (g.Bun !== undefined) {
  console.log(
    g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: answer }).port,
  );
} else {
  const server = createServer((req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(stats());
      return;
    }
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      const e = req.headers["content-encoding"];
      handle(
        new Uint8Array(Buffer.concat(chunks)),
        typeof e === "string" ? e : null,
      );
      res.writeHead(200, { "content-type": "application/x-protobuf" });
      res.end();
    });
  });
  server.listen(0, "127.0.0.1", () => {
    console.log((server.address() as AddressInfo).port);
  });
}
