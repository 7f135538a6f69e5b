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
    // The paired rounds in one server process (bench/http_server.ts's
    // runPaired), not the three-process figure: see the section's text.
    const r = report?.paired?.ratio;
    const ok = r === undefined || !Number.isFinite(r) ? undefined : r <= 1 / 3;
    return `| ${label}: HTTP request instrumentation, CPU per request over the bare app (one span + one log, batched, OTLP-encoded, no network), / @hono/otel + sdk-trace + BatchSpanProcessor (paired rounds in one server process) | ${
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
      "on `Deno.serve` / `Bun.serve` on 127.0.0.1, in three variants: " +
      "**bare** (no telemetry), **ours** (`@seed/telemetry/hono` middleware, one " +
      "`Logger.emit` per request, `BatchSpanProcessor` + `BatchLogRecordProcessor` " +
      "into the OTLP/HTTP protobuf exporters over a `fetch` that answers 200 at once) " +
      "and **theirs** (`@hono/otel` on `@opentelemetry/api`, sdk-trace `TracerProvider` + " +
      "`BatchSpanProcessor`, the `AsyncLocalStorageContextManager` and W3C " +
      "propagators as NodeSDK registers them, one log per request through sdk-logs' " +
      "`BatchLogRecordProcessor`; both exporters run otlp-transformer's protobuf " +
      "serializer, then succeed: both sides encode every span and log to OTLP protobuf). " +
      "Ours records more per span than @hono/otel: `client.address` (a `server.requestIP` " +
      "call per request on Bun, `info.remoteAddr` on Deno), `server.address`/`server.port`, " +
      "`url.scheme`, `url.path`, `user_agent.original` and `network.protocol.version`. " +
      "Every request carries a sampled `traceparent`; the load is 8 requests in flight " +
      "over keep-alive `fetch` from a client process of the same runtime.",
  );
  md.push("");
  md.push(
    "**The budget figure (paired)**: bare, ours and theirs served by ONE server " +
      "process, one port each, loaded in alternating rounds (2,000 requests per arm " +
      "per round, the order rotating as below) a fraction of a second apart; each round " +
      "reads that process's CPU time (user + system) before and after, the arm's pipelines " +
      "flushed, so it includes exporting the round's spans and logs. cost = arm − bare " +
      "in the same round; the ratio is the median of the per-round (ours − bare) / " +
      "(theirs − bare), as the other budget rows pair A and B in one process. Between " +
      "processes (the tables below) the same code moved 2-5x between two servers in an " +
      "A/A run, and Bun's ratio read 0.56x in one bench/report run and 0.37-0.40x in two runs of the same code an hour later: a " +
      "process's JIT and heap luck and where the scheduler puts it are in that figure. " +
      "Sharing one process does not favour ours: theirs' garbage (it allocates more) can " +
      "be collected in ours' rounds, and its AsyncLocalStorage context manager stays " +
      "enabled for every arm.",
  );
  md.push("");
  md.push(
    "**The load tables (three processes)**: one server process per variant. " +
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
    const p = report.paired;
    if (p !== undefined) {
      md.push("");
      md.push(
        `paired (one process, load ${p.loadBefore} → ${p.loadAfter}): ${p.rounds} rounds x ${
          p.requestsPerRound.toLocaleString("en")
        } requests per arm, ${p.seconds} s; bare ${
          p.bareMicros.toFixed(1)
        } µs/request; cost over bare: ours ${p.oursCostMicros.toFixed(1)} µs [${
          p.oursCostQuartiles[0].toFixed(1)
        }–${p.oursCostQuartiles[1].toFixed(1)}], theirs ${
          p.theirsCostMicros.toFixed(1)
        } µs [${p.theirsCostQuartiles[0].toFixed(1)}–${
          p.theirsCostQuartiles[1].toFixed(1)
        }]; **ours / theirs ${p.ratio.toFixed(2)}x** (per-round quartiles ${
          p.ratioQuartiles[0].toFixed(2)
        }–${p.ratioQuartiles[1].toFixed(2)}x; ratio of the medians ${
          p.ratioOfMedians.toFixed(2)
        }x)`,
      );
    }
    if (report.ratioQuartiles !== undefined) {
      md.push("");
      md.push(
        `three processes: ratio ${
          report.ratio.toFixed(2)
        }x, per-round quartiles ${report.ratioQuartiles[0].toFixed(2)}–${
          report.ratioQuartiles[1].toFixed(2)
        }x`,
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
