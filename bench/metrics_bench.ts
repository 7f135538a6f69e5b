import { metricsCases } from "./_metrics_cases.ts";
import { registerDenoBenches } from "./_deno.ts";

registerDenoBenches(await metricsCases());
