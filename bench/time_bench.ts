import { timeCases } from "./_cases.ts";
import { registerDenoBenches } from "./_deno.ts";

registerDenoBenches(await timeCases());
