/**
 * `tail`: print the EventHeader events of one or more providers live, as
 * they are written, human-readable or as JSON lines. Listening turns the
 * selected levels on in every process that writes them (so `--level 5`
 * switches verbose logging on, live); Ctrl-C (SIGINT) or SIGTERM stops,
 * restores the enable state and prints a summary of counts and losses.
 *
 * ```sh
 * deno run -A jsr:@seed/telemetry/user-events/tail MyProvider --level 4
 * bun receivers/user_events/tail.ts MyProvider --json --event Log
 * ```
 *
 * Options: `--level N` (levels 1…N, default 5), `--event NAME` (only events
 * of that name; repeatable), `--json`, `--keyword K` (hex, default 1),
 * `--buffer-kib N` (per-CPU ring, default 128), `--duration S` (stop after
 * S seconds).
 *
 * @example Parse a command line
 * ```ts
 * import { parseTailArgs } from "@seed/telemetry/user-events/tail";
 * import assert from "node:assert/strict";
 *
 * const args = parseTailArgs(["MyProvider", "--level", "3", "--json"]);
 * assert.deepEqual(args.levels, [1, 2, 3]);
 * assert.equal(args.json, true);
 * ```
 *
 * @module
 */

import process from "node:process";
import type { DecodedField } from "../../processors/user_events/decode_event_header.ts";
import {
  type ListenedEvent,
  openUserEventsListener,
  type UserEventsListenerStats,
} from "./listener.ts";

/**
 * A parsed `tail` command line.
 *
 * @example
 * ```ts
 * import type { TailArgs } from "@seed/telemetry/user-events/tail";
 * import assert from "node:assert/strict";
 *
 * const args: TailArgs = { providers: ["p"], levels: [1, 2], keywords: [1], events: [], json: false, bufferKiB: 128, durationMs: undefined };
 * assert.equal(args.providers[0], "p");
 * ```
 */
export interface TailArgs {
  /** Provider names. */
  readonly providers: readonly string[];
  /** Levels listened to. */
  readonly levels: readonly number[];
  /** Keywords listened to. */
  readonly keywords: readonly number[];
  /** Event names to print; all when empty. */
  readonly events: readonly string[];
  /** JSON lines instead of text. */
  readonly json: boolean;
  /** Ring size per CPU, in KiB. */
  readonly bufferKiB: number;
  /** Stop after this many ms, if set. */
  readonly durationMs: number | undefined;
}

/** The usage text. */
export const TAIL_USAGE: string =
  "usage: tail PROVIDER... [--level N] [--event NAME]... [--json] [--keyword HEX] [--buffer-kib N] [--duration SECONDS]";

/**
 * Parses `tail`'s arguments.
 *
 * @param argv The arguments after the script.
 * @returns The parsed arguments.
 * @throws {RangeError} On an unknown option or a bad value, naming it.
 *
 * @example
 * ```ts
 * import { parseTailArgs } from "@seed/telemetry/user-events/tail";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseTailArgs(["p", "--level", "9"]), /--level 9/);
 * ```
 */
export function parseTailArgs(argv: readonly string[]): TailArgs {
  const providers: string[] = [];
  const events: string[] = [];
  let level = 5;
  let keyword = 1;
  let json = false;
  let bufferKiB = 128;
  let durationMs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = String(argv[i]);
    const value = () => {
      if (i + 1 >= argv.length) {
        throw new RangeError(`${arg} needs a value; ${TAIL_USAGE}`);
      }
      return String(argv[++i]);
    };
    switch (arg) {
      case "--level": {
        const v = value();
        level = Number(v);
        if (!/^[1-5]$/.test(v)) {
          throw new RangeError(
            `Cannot use --level ${v}: expected 1 (critical) to 5 (verbose)`,
          );
        }
        break;
      }
      case "--event":
        events.push(value());
        break;
      case "--json":
        json = true;
        break;
      case "--keyword": {
        const v = value();
        keyword = parseInt(v, 16);
        if (!/^[0-9a-fA-F]{1,13}$/.test(v)) {
          throw new RangeError(
            `Cannot use --keyword ${v}: expected hex digits`,
          );
        }
        break;
      }
      case "--buffer-kib": {
        const v = value();
        bufferKiB = Number(v);
        if (!/^\d{1,7}$/.test(v)) {
          throw new RangeError(
            `Cannot use --buffer-kib ${v}: expected a power of two such as 128`,
          );
        }
        break;
      }
      case "--duration": {
        const v = value();
        const s = Number(v);
        if (!(s > 0 && s <= 86400 * 365)) {
          throw new RangeError(
            `Cannot use --duration ${v}: expected seconds > 0`,
          );
        }
        durationMs = Math.round(s * 1000);
        break;
      }
      case "-h":
      case "--help":
        throw new RangeError(TAIL_USAGE);
      default:
        if (arg.startsWith("-")) {
          throw new RangeError(`Unknown option ${arg}; ${TAIL_USAGE}`);
        }
        providers.push(arg);
    }
  }
  if (providers.length === 0) {
    throw new RangeError(`No provider given; ${TAIL_USAGE}`);
  }
  const levels: number[] = [];
  for (let l = 1; l <= level; l++) levels.push(l);
  return {
    providers,
    levels,
    keywords: [keyword],
    events,
    json,
    bufferKiB,
    durationMs,
  };
}

function plain(fields: readonly DecodedField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = f.encoding === 1
      ? (f.array
        ? (f.value as readonly DecodedField[][]).map(plain)
        : plain(f.value as readonly DecodedField[]))
      : f.value;
    Object.defineProperty(out, f.name, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) {
    let hex = "";
    for (const b of value) hex += b.toString(16).padStart(2, "0");
    return hex;
  }
  return value;
}

function rfc3339(unixNanos: bigint): string {
  const ms = unixNanos / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  const fraction = (unixNanos % 1_000_000_000n).toString().padStart(9, "0");
  return iso.slice(0, 19) + "." + fraction + "Z";
}

const LEVEL_NAMES = ["", "CRIT", "ERROR", "WARN", "INFO", "VERB"];

/**
 * Formats one event as `tail` prints it.
 *
 * @param e The event.
 * @param json JSON line instead of text.
 * @returns One line, without the newline.
 *
 * @example
 * ```ts
 * import { formatTailLine } from "@seed/telemetry/user-events/tail";
 * import assert from "node:assert/strict";
 *
 * const line = formatTailLine({
 *   tracepoint: "p_L4K1", cpu: 0, pid: 7, tid: 7, monotonicNanos: 1n, unixNanos: 1700000000000000001n,
 *   event: { provider: "p", name: "Log", level: 4, fields: [] } as never,
 * }, false);
 * assert.equal(line, "2023-11-14T22:13:20.000000001Z INFO  p:Log cpu=0 pid=7 tid=7 {}");
 * ```
 */
export function formatTailLine(e: ListenedEvent, json: boolean): string {
  const fields = plain(e.event.fields);
  if (json) {
    return JSON.stringify({
      time: rfc3339(e.unixNanos),
      provider: e.event.provider,
      name: e.event.name,
      level: e.event.level,
      keyword: "0x" + e.event.keyword.toString(16),
      cpu: e.cpu,
      pid: e.pid,
      tid: e.tid,
      ...(e.event.activityId === undefined
        ? {}
        : { activityId: e.event.activityId }),
      fields,
    }, jsonValue);
  }
  const level = LEVEL_NAMES[e.event.level] ?? `L${e.event.level}`;
  return `${rfc3339(e.unixNanos)} ${
    level.padEnd(5)
  } ${e.event.provider}:${e.event.name} cpu=${e.cpu} pid=${e.pid} tid=${e.tid} ${
    JSON.stringify(fields, jsonValue)
  }`;
}

/**
 * Formats the summary `tail` prints on exit.
 *
 * @param printed Events printed.
 * @param stats The listener's final counters.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { formatTailSummary } from "@seed/telemetry/user-events/tail";
 * import assert from "node:assert/strict";
 *
 * const s = {
 *   samples: 3, events: 3, malformed: 0, unknown: 0, lost: 2, lostRecords: 1, corrupt: 0, drains: 5,
 *   backlogBytes: 0, copyThread: true, copyThreads: 2, copyThreadPriority: "fifo" as const, ringHighWaterBytes: 240, longestCopyGapMs: 25, backlogFullCopies: 0,
 *   copyThreadState: "running" as const, copyThreadError: undefined, heldBack: 0, outOfOrder: 0, firstError: undefined,
 * };
 * assert.equal(formatTailSummary(3, s), "tail: 3 printed, 3 events, 2 lost, 0 malformed, 0 unknown, 0 corrupt");
 * ```
 */
export function formatTailSummary(
  printed: number,
  stats: UserEventsListenerStats,
): string {
  let line =
    `tail: ${printed} printed, ${stats.events} events, ${stats.lost} lost, ${stats.malformed} malformed, ${stats.unknown} unknown, ${stats.corrupt} corrupt`;
  if (stats.firstError !== undefined) {
    line += ` (first malformed: ${stats.firstError})`;
  }
  if (stats.copyThreadError !== undefined) {
    line += ` (${stats.copyThreadError})`;
  }
  return line;
}

/**
 * Runs `tail` until SIGINT, SIGTERM or `--duration`.
 *
 * @param argv The arguments after the script.
 * @param write Where lines go (stdout by default).
 * @returns The exit status: 0, 1 when the listener cannot start, 2 on bad arguments.
 *
 * @example
 * ```ts
 * import { runTail } from "@seed/telemetry/user-events/tail";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await runTail(["--json"], () => {}), 2); // no provider
 * ```
 */
export async function runTail(
  argv: readonly string[],
  write: (line: string) => void = (line) => process.stdout.write(line + "\n"),
): Promise<number> {
  let args: TailArgs;
  try {
    args = parseTailArgs(argv);
  } catch (error) {
    process.stderr.write(`tail: ${(error as Error).message}\n`);
    return 2;
  }
  let listener;
  try {
    listener = await openUserEventsListener({
      providers: args.providers,
      levels: args.levels,
      keywords: args.keywords,
      bufferKiB: args.bufferKiB,
    });
  } catch (error) {
    process.stderr.write(`tail: ${(error as Error).message}\n`);
    return 1;
  }
  const names = new Set(args.events);
  let printed = 0;
  const print = (e: ListenedEvent) => {
    if (names.size > 0 && !names.has(e.event.name)) return;
    write(formatTailLine(e, args.json));
    printed++;
  };
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const timer = args.durationMs === undefined
    ? undefined
    : setTimeout(stop, args.durationMs);
  process.stderr.write(
    `tail: listening to ${
      listener.tracepoints.join(", ")
    } on ${listener.cpus.length} CPUs (Ctrl-C to stop)\n`,
  );
  try {
    await listener.run(print, { signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
  const stats = listener.close(print);
  process.stderr.write(formatTailSummary(printed, stats) + "\n");
  // The handlers go only now, so a second signal during close cannot kill
  // tail before it restored the enable state.
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  return 0;
}

if (import.meta.main) {
  process.exit(await runTail(process.argv.slice(2)));
}
