// Copies the headline of bench/RESULTS.md (run facts, the seed's table and
// the budgets table) into README.md between the bench markers, so the README
// always shows numbers from one generated run. Called by bench/report.
import { readFileSync, writeFileSync } from "node:fs";

const [resultsPath = "bench/RESULTS.md", readmePath = "README.md"] = Deno.args;
const results = readFileSync(resultsPath, "utf8");
const readme = readFileSync(readmePath, "utf8");

/** The lines of a `## heading` section up to the next `## `. */
function section(heading: string): string[] {
  const lines = results.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`## ${heading}`));
  if (start < 0) {
    throw new Error(`${resultsPath} has no section "## ${heading}"`);
  }
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith("## "));
  return end < 0 ? rest : rest.slice(0, end);
}

/** The first markdown table in some lines. */
function firstTable(lines: string[]): string {
  const start = lines.findIndex((l) => l.startsWith("|"));
  if (start < 0) throw new Error("no table found");
  const end = lines.findIndex((l, i) => i > start && !l.startsWith("|"));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

const facts = results.split("\n").filter((l) =>
  /^- (Run:|Machine load|Deno:|Bun:|Node:)/.test(l)
).join("\n");
const block = [
  "<!-- bench:start -->",
  "### Measured (copied from `bench/RESULTS.md` by `bench/report`; one run, noisy shared 2-core machine)",
  "",
  facts,
  "",
  "One record (a body plus three attributes), the same encode work in each variant:",
  "",
  firstTable(section("1. Sync Processor vs async Exporter")),
  "",
  "Budgets of the hot path and peers side by side (`@opentelemetry/sdk-logs`, `sdk-trace`, `otlp-transformer`):",
  "",
  firstTable(section("Budgets and goals")),
  "",
  "Rows that say *paired rounds in one process* time TypeScript and C alternately, a few ms apart, in one process (`bench/encode_vs_c.ts`, C through FFI, its bytes checked against ours first): the median of the per-round ratios, their spread [min–max] and quartiles, and the number of rounds. The batch rows against the peer pair its pipeline with ours the same way (`bench/batch_noop_ab.ts`), and the counter.add / histogram.record rows sdk-metrics' calls with ours (`bench/metrics_record_ab.ts`).",
  "",
  "Every table, with allocations and all variants: [`bench/RESULTS.md`](bench/RESULTS.md). Reproduce with `npm ci && bash bench/report` (about 17 minutes here, plus 1-5 for the paired runs bench/kernel.sh now makes in the VM; `--no-vm` skips the VM steps, about 9).",
  "<!-- bench:end -->",
].join("\n");

const re = /<!-- bench:start -->[\s\S]*?<!-- bench:end -->/;
if (!re.test(readme)) {
  throw new Error(
    `${readmePath} has no <!-- bench:start --> ... <!-- bench:end --> block`,
  );
}
writeFileSync(readmePath, readme.replace(re, block));
console.log(`updated ${readmePath} from ${resultsPath}`);
