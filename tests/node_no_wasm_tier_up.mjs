// Preloaded into every Node process of the Node kernel step in the VM
// (tests/run.sh: NODE_OPTIONS="--import=.../tests/node_no_wasm_tier_up.mjs"),
// so that WebAssembly compiled there stays in Liftoff and never asks for a
// tier-up. Under the VM's TCG emulation, V8 now and then aborts in
// Runtime_WasmTriggerTierUp (tests/kernel/node_abort/README.md). The
// type-stripped copy removes Node's type stripper, the big wasm user, but
// fetch still compiles undici's llhttp to WebAssembly (15 Liftoff functions
// and 1 TurboFan tier-up for 200 requests on the host). V8 flags are refused
// in NODE_OPTIONS, and the tests start child processes with their own
// command lines, so the flag is set here. The tiering budget is read when a
// module is instantiated, and llhttp is instantiated on the first fetch,
// after this runs: with this budget a Liftoff function would have to run
// about 2e9 budget units (loop iterations and returns) before it asks.
import { setFlagsFromString } from "node:v8";

setFlagsFromString("--wasm-tiering-budget=2000000000");
