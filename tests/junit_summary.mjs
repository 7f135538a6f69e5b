// Counts the leaf tests of a `deno test --junit-path` report: with
// node:test's describe/it, Deno reports each `describe` as a test and each
// `it` as a step, so a test counts only when no other test is nested in it.
// Prints "<passed> <failed> <skipped>".
import { readFileSync } from "node:fs";

const xml = readFileSync(process.argv[2], "utf8");
const cases = [];
const re = /<testcase name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
for (let m; (m = re.exec(xml));) {
  const body = m[3] ?? "";
  cases.push({
    name: m[1].replaceAll("&gt;", ">").replaceAll("&lt;", "<").replaceAll(
      "&amp;",
      "&",
    ).replaceAll("&quot;", '"'),
    failed: /<failure|<error/.test(body),
    skipped: /<skipped/.test(body),
  });
}
const names = cases.map((c) => c.name);
let passed = 0, failed = 0, skipped = 0;
for (const c of cases) {
  const isParent = names.some((n) => n.startsWith(c.name + " > "));
  if (isParent && !c.failed) continue;
  if (
    isParent && c.failed &&
    cases.some((o) => o.name.startsWith(c.name + " > ") && o.failed)
  ) continue;
  if (c.failed) failed++;
  else if (c.skipped) skipped++;
  else passed++;
}
console.log(`${passed} ${failed} ${skipped}`);
