// Registers shared cases with `deno bench` (group + baseline), so the
// per-area bench/*_bench.ts files stay one line each. `deno bench` reports
// time per call; one call runs `ops` operations (see the case name's unit in
// bench/RESULTS.md, where the figures are divided by `ops`).

import type { BenchCase } from "./_cases.ts";

/** Registers every case with `Deno.bench`. */
export function registerDenoBenches(cases: readonly BenchCase[]): void {
  for (const c of cases) {
    Deno.bench({
      name: c.ops === 1 ? c.name : `${c.name} [x${c.ops}]`,
      group: c.group,
      baseline: c.baseline,
      fn: c.fn,
    });
  }
}
