// Where a server's JS time goes, by part of the request path: reads the CPU
// profiles that `SEED_HTTP_PROFILE=DIR bun|deno bench/http_server.ts` writes
// (one per server: Bun's --cpu-prof files, Deno's http-VARIANT.cpuprofile)
// and splits each one's samples into the parts below.
//
//   deno run -A bench/http_profile.ts DIR
//
// A sample goes to the part of the innermost frame on its stack that names
// one (so `new Response` inside the handler is Hono's, even when our
// middleware is further out). Shares are of the profile's own samples: the
// sampling rate differs between processes (JSC samples only while the
// thread runs JS), so compare shares within one profile and read the
// absolute cost from bench/http_server.ts's CPU figures.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

/** The parts, tried in this order on each frame (first match names it). */
const PARTS: readonly (readonly [RegExp, string])[] = [
  [/^(requestIP|clientAddress) /, "client.address (server.requestIP)"],
  [
    /instrumentation\/propagation\.ts|W3CTraceContextPropagator|W3CBaggagePropagator|CompositePropagator|propagation\/|parseTraceParent/,
    "propagation extract",
  ],
  [
    /^header hono\/dist\/request\.js|^\(anon\) hono\/dist\/request\.js:72/,
    "request headers (theirs: c.req.header())",
  ],
  [
    /pipeline\/_batcher\.ts|exporters\/|BatchSpanProcessorBase|BatchLogRecordProcessorBase|otlp-transformer|^export bench\/_http_server/,
    "batch + OTLP encode",
  ],
  [
    /^emit |pipeline\/logs\/|Logger\.mjs|LogRecordImpl|sdk-logs/,
    "log emit",
  ],
  [
    /^startSpan |^startActiveSpan |^Span \S*span\.ts|SpanImpl|pipeline\/ids\.ts|sdk-trace\/.*Tracer|Sampler/,
    "span start",
  ],
  [
    /^begin instrumentation|instrumentation\/_http\.ts/,
    "request attributes (req.headers, url, literal)",
  ],
  [
    /^done instrumentation|^end instrumentation|#finish|^end \S*Span\.mjs|^end \S*span\.ts|routeOf|setRoute|^onEnd |MultiSpanProcessor/,
    "span end (route, status, processor)",
  ],
  [
    /^run node:async_hooks|AsyncLocalStorage|context-async-hooks/,
    "context (AsyncLocalStorage)",
  ],
  [
    /instrumentation\/hono\.ts|@hono\/otel/,
    "middleware glue",
  ],
  [
    /^(cpu|flush|fetch) bench\/_http_server|^log bench/,
    "bench (/__cpu, arm fetch)",
  ],
  [
    /hono\/dist|^Response |^stringify |^bound match/,
    "Hono, handler, Response",
  ],
];

/** The frame as the parts' patterns read it: `name path:line`. */
function frameKey(node: ProfileNode): string {
  const f = node.callFrame;
  const url = f.url.replace(/^.*\/(node_modules|wt\/[^/]+)\//, "")
    .replace(
      /^file:\/\/.*?\/(bench|instrumentation|pipeline|exporters)\//,
      "$1/",
    );
  return `${f.functionName || "(anon)"} ${url}:${f.lineNumber}`;
}

/**
 * Splits a profile's samples into the parts.
 *
 * @param profile A `.cpuprofile` (Chrome DevTools format).
 * @returns Samples per part, and the total.
 */
export function splitProfile(
  profile: Profile,
): { total: number; parts: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const partOf = new Map<number, string>();
  const name = (id: number): string => {
    let part = partOf.get(id);
    if (part !== undefined) return part;
    const key = frameKey(byId.get(id)!);
    part = PARTS.find(([re]) => re.test(key))?.[1];
    if (part === undefined) {
      const up = parent.get(id);
      part = up === undefined ? "other" : name(up);
    }
    partOf.set(id, part);
    return part;
  };
  const parts = new Map<string, number>();
  for (const id of profile.samples) {
    const part = name(id);
    parts.set(part, (parts.get(part) ?? 0) + 1);
  }
  return { total: profile.samples.length, parts };
}

if (import.meta.main) {
  const dir = process.argv[process.argv.length - 1];
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))
    .sort();
  if (files.length === 0) {
    console.error("usage: http_profile.ts DIR (with .cpuprofile files)");
    process.exit(2);
  }
  for (const file of files) {
    const { total, parts } = splitProfile(
      JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile,
    );
    // Bun names its files by pid: tell the servers apart by what they ran.
    const variant = (parts.get("request headers (theirs: c.req.header())") ??
        0) > 0
      ? "theirs"
      : (parts.get("request attributes (req.headers, url, literal)") ?? 0) > 0
      ? "ours"
      : "bare";
    console.log(`${file} (${variant}): ${total} samples`);
    for (const [part, n] of [...parts].sort((a, b) => b[1] - a[1])) {
      console.log(
        `  ${(100 * n / total).toFixed(1).padStart(5)}%  ${
          String(n).padStart(6)
        }  ${part}`,
      );
    }
  }
}
