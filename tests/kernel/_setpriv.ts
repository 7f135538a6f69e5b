// Runs a script of this test suite as another user, under the same runtime,
// through util-linux's setpriv (the kernel tests run as root in the VM):
// the permission tests' child processes. Shared by the listener and the
// user_events processor kernel tests.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import process from "node:process";

/** Who the child runs as. */
export interface SetprivUser {
  /** The uid. @default {65534 (nobody)} */
  readonly uid?: number;
  /** The gid. @default {65534} */
  readonly gid?: number;
  /** Supplementary groups; none when empty. @default {[]} */
  readonly groups?: readonly number[];
}

/**
 * The runtime arguments that run `script` (a path from the project root)
 * with the runtime running this test: `bun run`, `deno run -A --no-check`,
 * or Node 26 with `--experimental-ffi`.
 */
export function runtimeArgs(script: string): string[] {
  const ua = navigator.userAgent;
  if (ua.startsWith("Bun/")) return ["run", script];
  if (ua.startsWith("Deno/")) return ["run", "-A", "--no-check", script];
  return ["--no-warnings", "--experimental-ffi", script];
}

/**
 * Runs `script` as `user` and waits for it. HOME and DENO_DIR point at
 * `/tmp`, which the child can write.
 */
export function runAsUser(
  script: string,
  user: SetprivUser = {},
): SpawnSyncReturns<string> {
  const groups = user.groups ?? [];
  return spawnSync("setpriv", [
    `--reuid=${user.uid ?? 65534}`,
    `--regid=${user.gid ?? 65534}`,
    groups.length === 0 ? "--clear-groups" : `--groups=${groups.join(",")}`,
    "--",
    process.execPath,
    ...runtimeArgs(script),
  ], {
    encoding: "utf8",
    env: {
      ...process.env,
      HOME: "/tmp",
      DENO_DIR: "/tmp/deno-nobody",
      NO_COLOR: "1",
    },
  });
}
