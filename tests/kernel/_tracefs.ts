// Helpers for the real-kernel tests: tracefs control files and a reader of
// the ftrace ring buffer (per_cpu/cpuN/trace_pipe_raw pages).
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import process from "node:process";
import {
  type LibcBinding,
  type NativeMemory,
  O_NONBLOCK,
  O_RDONLY,
} from "../../ffi/libc.ts";

export const TRACEFS = "/sys/kernel/tracing";
/** The runtime running the test, for provider and file names and per-runtime expectations. */
export const RUNTIME: "bun" | "node" | "deno" =
  navigator.userAgent.startsWith("Bun/")
    ? "bun"
    : navigator.userAgent.startsWith("Node.js/")
    ? "node"
    : "deno";
export const IN_VM = process.env.UEVM_GUEST === "1";
export const SKIP: string | false = IN_VM
  ? false
  : "needs the user_events test VM (run through shared/vm/run-in-vm.sh)";

export function status(): string {
  return readFileSync(`${TRACEFS}/user_events_status`, "utf8");
}

/** Names listed in user_events_status (first token of each line). */
export function statusNames(): string[] {
  return status().split("\n").map((l) => l.split(" ")[0]).filter((n) =>
    n !== ""
  );
}

export function setEnable(name: string, on: boolean): void {
  writeFileSync(`${TRACEFS}/events/user_events/${name}/enable`, on ? "1" : "0");
}

export function clearTrace(): void {
  closeSync(openSync(`${TRACEFS}/trace`, "w"));
}

export function eventId(name: string): number {
  return parseInt(
    readFileSync(`${TRACEFS}/events/user_events/${name}/id`, "utf8"),
    10,
  );
}

export async function waitFor(
  condition: () => boolean,
  ms = 3000,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** One recorded ftrace event. */
export interface RawEvent {
  cpu: number;
  type: number;
  pid: number;
  /** The bytes after the 8-byte trace_entry (what followed write_index), padded to 4 bytes. */
  payload: Uint8Array;
}

/**
 * Drains every CPU's trace_pipe_raw (non-blocking) and parses the ring
 * buffer pages: u64 timestamp, u64 commit, then events with a 4-byte header
 * (type_len:5, time_delta:27).
 */
export function drainRawEvents(libc: LibcBinding): RawEvent[] {
  const out: RawEvent[] = [];
  const memory = libc.alloc(65536)!;
  try {
    const cpus = readdirSync(`${TRACEFS}/per_cpu`).filter((d) =>
      d.startsWith("cpu")
    );
    for (const dir of cpus) {
      const cpu = parseInt(dir.slice(3), 10);
      const fd = libc.open(
        `${TRACEFS}/per_cpu/${dir}/trace_pipe_raw`,
        O_RDONLY | O_NONBLOCK,
      );
      if (fd < 0) {
        throw new Error(`open trace_pipe_raw of ${dir}: errno ${-fd}`);
      }
      try {
        for (;;) {
          const n = libc.read(fd, memory, 65536);
          if (n === -11 || n === 0) break; // EAGAIN: empty
          if (n < 0) {
            throw new Error(`read trace_pipe_raw of ${dir}: errno ${-n}`);
          }
          parsePage(memory, n, cpu, out);
        }
      } finally {
        libc.close(fd);
      }
    }
  } finally {
    libc.free(memory);
  }
  return out;
}

function parsePage(
  memory: NativeMemory,
  n: number,
  cpu: number,
  out: RawEvent[],
): void {
  const bytes = new Uint8Array(memory.buffer, 0, n).slice();
  const view = new DataView(bytes.buffer);
  const commit = Number(view.getBigUint64(8, true) & 0xfffffn);
  let off = 16;
  const end = Math.min(16 + commit, n);
  while (off + 4 <= end) {
    const header = view.getUint32(off, true);
    const typeLen = header & 31;
    off += 4;
    if (typeLen === 29) { // padding
      if (
        header >>> 5 === 0 && off + 4 <= end && view.getUint32(off, true) === 0
      ) break;
      off += view.getUint32(off, true);
    } else if (typeLen === 30 || typeLen === 31) { // time extend / time stamp
      off += 4;
    } else {
      let start: number;
      let stop: number;
      if (typeLen === 0) {
        const length = view.getUint32(off, true);
        start = off + 4;
        stop = off + length;
        off += length;
      } else {
        start = off;
        stop = off + typeLen * 4;
        off = stop;
      }
      if (stop > end || stop - start < 8) {
        throw new Error(`bad ring buffer event at ${start} (end ${end})`);
      }
      out.push({
        cpu,
        type: view.getUint16(start, true),
        pid: view.getInt32(start + 4, true),
        payload: bytes.slice(start + 8, stop),
      });
    }
  }
}

/** Wraps a binding and keeps a copy of every successful write's bytes after the index. */
export class RecordingLibc implements LibcBinding {
  written: Uint8Array[] = [];
  readonly inner: LibcBinding;
  constructor(inner: LibcBinding) {
    this.inner = inner;
  }
  open(path: string, flags: number): number {
    return this.inner.open(path, flags);
  }
  close(fd: number): number {
    return this.inner.close(fd);
  }
  ioctl(fd: number, request: number, arg: NativeMemory): number {
    return this.inner.ioctl(fd, request, arg);
  }
  write(fd: number, memory: NativeMemory, length: number): number {
    const r = this.inner.write(fd, memory, length);
    if (r >= 0) {
      this.written.push(new Uint8Array(memory.buffer, 4, length - 4).slice());
    }
    return r;
  }
  read(fd: number, memory: NativeMemory, length: number): number {
    return this.inner.read(fd, memory, length);
  }
  alloc(size: number): NativeMemory | null {
    return this.inner.alloc(size);
  }
  free(memory: NativeMemory): void {
    this.inner.free(memory);
  }
  errno(): number {
    return this.inner.errno();
  }
}
