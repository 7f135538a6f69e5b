// The request-instrumentation rows of bench/RESULTS.md (bench/http_server.ts
// --json, one file per runtime), kept apart from _report.ts's other cases.

import { existsSync, readFileSync } from "node:fs";
import type { HttpReport } from "./http_server.ts";

/** The two runtimes' reports, when they ran. */
export function readHttpReports(
  dir: string,
): { label: string; report: HttpReport | undefined }[] {
  return [["Deno", "http_deno.json"], ["Bun", "http_bun.json"]].map((
    [label, file],
  ) => {
    const path = `${dir}/${file}`;
    return {
      label,
      report: existsSync(path)
        ? JSON.parse(readFileSync(path, "utf8")) as HttpReport
        : undefined,
    };
  });
}

/** Budget rows: `| what | measured | goal | verdict |`. */
export function httpBudgetRows(
  reports: { label: string; report: HttpReport | undefined }[],
  verdict: (ok: boolean | undefined) => string,
): string[] {
  return reports.map(({ label, report }) => {
    const r = report?.ratio;
    const ok = r === undefined || !Number.isFinite(r) ? undefined : r <= 1 / 3;
    return `| ${label}: HTTP request instrumentation, CPU per request over the bare app (one span + one log, batched, no network), / @hono/otel + sdk-trace + BatchSpanProcessor | ${
      ok === undefined ? "–" : `${r!.toFixed(2)}x`
    } | ≤ 0.33x | ${verdict(ok)} |`;
  });
}

/** The section: one table per runtime. */
export function httpSection(
  reports: { label: string; report: HttpReport | undefined }[],
): string[] {
  const md: string[] = [];
  md.push(
    "## 8. HTTP server: request instrumentation vs @hono/otel + @opentelemetry/sdk-trace",
  );
  md.push("");
  md.push(
    "`bench/http_server.ts`: the same Hono app (`GET /users/:id`, a JSON body) " +
      "on `Deno.serve` / `Bun.serve` on 127.0.0.1, three server processes: " +
      "**bare** (no telemetry), **ours** (`@seed/telemetry/hono` middleware, one " +
      "`Logger.emit` per request, `BatchSpanProcessor` + `BatchLogRecordProcessor` " +
      "into the OTLP/HTTP protobuf exporters over a `fetch` that answers 200 at once) " +
      "and **theirs** (`@hono/otel` on `@opentelemetry/api`, sdk-trace `TracerProvider` + " +
      "`BatchSpanProcessor`, the `AsyncLocalStorageContextManager` and W3C " +
      "propagators as NodeSDK registers them, one log per request through sdk-logs' " +
      "`BatchLogRecordProcessor`; both exporters run otlp-transformer's protobuf " +
      "serializer, then succeed). Every request carries a sampled `traceparent`. " +
      "Rounds are interleaved (the order rotates by one place every two rounds, forward on even rounds, reversed on odd ones, so every server takes every slot); each reads the server's own " +
      "CPU time (`process.cpuUsage`, user + system) before and after, with both " +
      "pipelines flushed, so it includes exporting the round's spans and logs. " +
      "**cost** = CPU per request minus bare's in the same round, median over rounds; " +
      "**ratio** = ours cost / theirs cost; the brackets give the quartiles over rounds " +
      "(of the paired cost, and of the per-round ratio). Requests/s and latency come from the " +
      "load generator (same runtime, same machine) and carry the machine's noise.",
  );
  md.push("");
  for (const { label, report } of reports) {
    if (report === undefined) {
      md.push(`${label}: not run`, "");
      continue;
    }
    const h = report.host;
    md.push(
      `${label}: ${h.runtime} ${h.version} (${h.engine}); ${report.rounds} rounds x ${
        report.requestsPerRound.toLocaleString("en")
      } requests per variant, ${report.concurrency} in flight, ${
        report.warmup.toLocaleString("en")
      } warm-up requests each; ${report.seconds} s`,
    );
    if (report.ratioQuartiles !== undefined) {
      md.push("");
      md.push(
        `ratio ${report.ratio.toFixed(2)}x, per-round quartiles ${
          report.ratioQuartiles[0].toFixed(2)
        }–${report.ratioQuartiles[1].toFixed(2)}x`,
      );
    }
    md.push("");
    md.push(
      "| variant | CPU µs/request (median round) | cost over bare | / theirs' cost | requests/s | p50 | p99 | spans / logs exported | failed |",
    );
    md.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    const theirs = report.variants.find((v) => v.variant === "theirs");
    for (const v of report.variants) {
      const vs = v.variant === "bare" || theirs === undefined
        ? "–"
        : `${(v.costMicros / theirs.costMicros).toFixed(2)}x`;
      md.push(
        `| ${v.variant} | ${v.cpuMicrosMedian.toFixed(1)} | ${
          v.variant === "bare"
            ? "–"
            : `${v.costMicros.toFixed(1)} µs${
              v.costQuartiles === undefined
                ? ""
                : ` [${v.costQuartiles[0].toFixed(1)}–${
                  v.costQuartiles[1].toFixed(1)
                }]`
            }`
        } | ${vs} | ${v.requestsPerSecond.toFixed(0)} | ${
          v.p50Ms.toFixed(2)
        } ms | ${
          v.p99Ms.toFixed(2)
        } ms | ${v.exportedSpans} / ${v.exportedLogs} | ${v.failed} |`,
      );
    }
    md.push("");
  }
  return md;
}
