// The empty propagation context that the server instrumentation hands its
// default propagator (internal). The built-in propagators see it by
// identity and build their result as one literal instead of copying the
// context they were given: nothing is in it to copy, and it has no keys a
// caller's propagator could have added. Frozen, and given to built-in
// propagators only (a caller's propagator gets a fresh `{}`, as before).

import type { PropagationContext } from "./propagation.ts";

/** The empty context, by identity. */
export const NO_CONTEXT: PropagationContext = Object.freeze({});
