import { userEventsCases, userEventsDisabledCases } from "./_cases.ts";
import { registerDenoBenches } from "./_deno.ts";

registerDenoBenches(await userEventsDisabledCases());
registerDenoBenches(await userEventsCases());
