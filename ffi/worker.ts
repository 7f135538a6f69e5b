/**
 * Starts a module worker the same way on Deno, Bun and Node: Deno and Bun
 * have the web's `Worker`; Node has `node:worker_threads`, whose workers
 * get a `parentPort` instead of the web's `onmessage`/`postMessage`
 * globals. On Node a small bootstrap installs those two globals over
 * `parentPort` before it imports the module, so one worker module serves
 * all three runtimes.
 *
 * @module
 */

import { nodeProcess } from "./node_ffi.ts";

/** The part of the web `Worker` interface the library uses. */
export interface ModuleWorker {
  /** Sends a message (structured clone; `SharedArrayBuffer`s are shared). */
  postMessage(message: unknown): void;
  /** Receives the worker's messages as `{ data }`. */
  onmessage: ((message: { data: unknown }) => void) | null;
  /** Receives an uncaught error of the worker. */
  onerror:
    | ((error: { message?: string; preventDefault?(): void }) => void)
    | null;
  /** Stops the worker at once. */
  terminate(): void;
}

interface NodeWorker {
  postMessage(message: unknown): void;
  on(event: string, listener: (value: unknown) => void): void;
  terminate(): unknown;
  unref(): void;
}

interface NodeWorkerThreads {
  Worker: new (
    code: string,
    options: { eval: boolean; workerData: unknown },
  ) => NodeWorker;
}

// Runs in the Node worker (CommonJS, so `require` exists): the web's
// worker globals over parentPort; messages that arrive before the module
// set its onmessage are delivered once it has loaded (and its entry, if
// any, has run).
const NODE_BOOTSTRAP = `
const { parentPort, workerData } = require("node:worker_threads");
const early = [];
globalThis.postMessage = (message) => parentPort.postMessage(message);
parentPort.on("message", (data) => {
  if (typeof globalThis.onmessage === "function") globalThis.onmessage({ data });
  else early.push(data);
});
import(workerData.url).then((module) => {
  if (workerData.entry !== null) module[workerData.entry]();
  for (const data of early.splice(0)) globalThis.onmessage?.({ data });
}).catch((error) => {
  parentPort.postMessage("error " + (error && error.message || String(error)));
});
`;

/**
 * The module a web worker starts with when the worker module has an entry
 * function: it imports the module and calls the entry. The module itself
 * then does nothing when imported, so the main thread may import it too
 * (which puts it in the package's module graph: JSR's npm packages hold
 * only the modules imported from an export, transpiled to .js).
 */
function entryBootstrap(url: string, entry: string): string {
  return "data:text/javascript," +
    encodeURIComponent(
      `import { ${entry} } from ${JSON.stringify(url)};\n${entry}();\n`,
    );
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Whether {@linkcode startModuleWorker} can start a worker here.
 *
 * @returns `true` with a web `Worker` or Node's `worker_threads`.
 *
 * @example
 * ```ts
 * import { canStartModuleWorker } from "./worker.ts";
 *
 * console.log(canStartModuleWorker());
 * ```
 */
export function canStartModuleWorker(): boolean {
  return typeof Worker === "function" || nodeWorkerThreads() !== undefined;
}

function nodeWorkerThreads(): NodeWorkerThreads | undefined {
  const proc = nodeProcess();
  if (proc === undefined || typeof proc.getBuiltinModule !== "function") {
    return undefined;
  }
  try {
    const mod = proc.getBuiltinModule("node:worker_threads") as
      | NodeWorkerThreads
      | undefined;
    return typeof mod?.Worker === "function" ? mod : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the ES module at `url` in a worker thread.
 *
 * With `entry`, the worker imports the module and calls its export of that
 * name (no arguments): the module can then be imported anywhere without
 * side effects, and pass its own `import.meta.url` as `url`, which stays
 * right when a registry rewrites `.ts` files to `.js` (JSR's npm layer
 * renames the files but not a `new URL("./x.ts", import.meta.url)`).
 *
 * @param url The module's URL (`new URL("./x.ts", import.meta.url).href`).
 * @param entry The name of the module's export to call in the worker, or
 * undefined to only import the module.
 * @returns The worker.
 * @throws {Error} When the runtime has no workers, the worker cannot be
 * created, or `entry` is not an identifier.
 *
 * @example
 * ```ts ignore
 * import { startModuleWorker } from "./worker.ts";
 *
 * const worker = startModuleWorker(new URL("./job.ts", import.meta.url).href);
 * worker.onmessage = (m) => console.log(m.data);
 * worker.postMessage("go");
 * ```
 */
export function startModuleWorker(url: string, entry?: string): ModuleWorker {
  if (entry !== undefined && !IDENTIFIER.test(entry)) {
    throw new Error(
      `Cannot start a worker with entry ${
        JSON.stringify(entry)
      }: pass the name of an exported function`,
    );
  }
  if (typeof Worker === "function") {
    return new Worker(
      entry === undefined ? url : entryBootstrap(url, entry),
      { type: "module" },
    ) as unknown as ModuleWorker;
  }
  const threads = nodeWorkerThreads();
  if (threads === undefined) {
    throw new Error(
      "Cannot start a worker: this runtime has neither Worker nor node:worker_threads",
    );
  }
  const worker = new threads.Worker(NODE_BOOTSTRAP, {
    eval: true,
    workerData: { url, entry: entry ?? null },
  });
  const adapter: ModuleWorker = {
    postMessage: (message) => worker.postMessage(message),
    onmessage: null,
    onerror: null,
    terminate: () => {
      worker.terminate();
    },
  };
  worker.on("message", (data) => adapter.onmessage?.({ data }));
  worker.on("error", (error) =>
    adapter.onerror?.({
      message: error instanceof Error ? error.message : String(error),
    }));
  return adapter;
}
