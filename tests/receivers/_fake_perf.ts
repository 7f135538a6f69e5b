// A fake PerfBinding: rings are plain ArrayBuffers laid out like perf's
// mappings; tests append records to them as the kernel would.
import type { NativeMemory } from "../../ffi/libc.ts";
import type { MappedMemory, PerfBinding } from "../../ffi/perf.ts";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

export interface OpenCall {
  fd: number;
  cpu: number;
  pid: number;
  groupFd: number;
  flags: number;
  attr: Uint8Array;
}

export class FakePerf implements PerfBinding {
  page = 4096;
  log: string[] = [];
  opens: OpenCall[] = [];
  /** errno perf_event_open fails with (0: succeed). */
  openErrno = 0;
  mmapErrno = 0;
  /** Exact lost counts read() reports, by fd. */
  lostByFd = new Map<number, number>();
  rings = new Map<number, ArrayBuffer>();
  ringOfCpu = new Map<number, ArrayBuffer>();
  memories = new Set<NativeMemory>();
  #next = 100;
  #address = 0x10000n;

  perfEventOpen(
    attr: NativeMemory,
    pid: number,
    cpu: number,
    groupFd: number,
    flags: number,
  ): number {
    if (this.openErrno !== 0) return -this.openErrno;
    const fd = this.#next++;
    this.opens.push({
      fd,
      cpu,
      pid,
      groupFd,
      flags,
      attr: new Uint8Array(attr.buffer.slice(0, 96)),
    });
    this.log.push(`open ${fd} cpu${cpu}`);
    return fd;
  }
  mmap(fd: number, length: number): MappedMemory | number {
    if (this.mmapErrno !== 0) return -this.mmapErrno;
    const buffer = new ArrayBuffer(length);
    const control = new BigUint64Array(buffer, 1024, 4);
    control[2] = BigInt(this.page);
    control[3] = BigInt(length - this.page);
    this.rings.set(fd, buffer);
    const cpu = this.opens.find((o) => o.fd === fd)!.cpu;
    this.ringOfCpu.set(cpu, buffer);
    this.log.push(`mmap ${fd} ${length}`);
    return { address: 0n, size: length, buffer, handle: fd };
  }
  munmap(memory: MappedMemory): number {
    this.log.push(`munmap ${memory.handle}`);
    return 0;
  }
  ioctl(fd: number, request: number, arg: bigint): number {
    this.log.push(`ioctl ${fd} 0x${request.toString(16)} ${arg}`);
    return 0;
  }
  read(fd: number, memory: NativeMemory, length: number): number {
    const v = new DataView(memory.buffer);
    v.setBigUint64(0, 0n, true);
    v.setBigUint64(8, BigInt(fd), true);
    v.setBigUint64(16, BigInt(this.lostByFd.get(fd) ?? 0), true);
    return Math.min(length, 24);
  }
  close(fd: number): number {
    this.log.push(`close ${fd}`);
    return 0;
  }
  /** What CLOCK_MONOTONIC reads. */
  monotonic = 1_000_000_000n;
  clockNanos(clockid: number): bigint {
    return clockid === 0 ? 1_700_000_000_000_000_000n : this.monotonic;
  }
  pageSize(): number {
    return this.page;
  }
  alloc(size: number): NativeMemory | null {
    const m = {
      address: this.#address += 0x10000n,
      size,
      buffer: new ArrayBuffer(size),
      handle: null,
    };
    this.memories.add(m);
    return m;
  }
  free(memory: NativeMemory): void {
    if (!this.memories.delete(memory)) throw new Error("double free");
  }

  /** Records dropped because the ring had no room, by CPU (as the kernel counts). */
  dropped = new Map<number, number>();

  /**
   * Appends a record to CPU `cpu`'s ring, wrapping as the kernel does; as
   * the kernel, drops it (and counts it) when it does not fit between
   * `data_head` and `data_tail`.
   */
  push(cpu: number, record: Uint8Array): boolean {
    const buffer = this.ringOfCpu.get(cpu)!;
    const control = new BigUint64Array(buffer, 1024, 4);
    const size = Number(control[3]);
    const data = new Uint8Array(buffer, this.page, size);
    let head = Number(control[0]);
    if (head + record.length - Number(Atomics.load(control, 1)) > size - 8) {
      this.dropped.set(cpu, (this.dropped.get(cpu) ?? 0) + 1);
      return false;
    }
    for (const byte of record) data[head++ & (size - 1)] = byte;
    Atomics.store(control, 0, BigInt(head));
    return true;
  }
  /** Bytes the reader has not consumed yet on a CPU's ring. */
  unread(cpu: number): number {
    const control = new BigUint64Array(this.ringOfCpu.get(cpu)!, 1024, 4);
    return Number(control[0] - control[1]);
  }
  /** Bytes of a CPU's ring a record may take (its data area, less 8). */
  room(cpu: number): number {
    const control = new BigUint64Array(this.ringOfCpu.get(cpu)!, 1024, 4);
    return Number(control[3]) - 8 - this.unread(cpu);
  }
}

export interface SampleFields {
  id?: number;
  pid?: number;
  tid?: number;
  time: bigint;
  cpu: number;
  type: number;
  event: Uint8Array;
  /** Stale bytes in the padding. */
  pad?: number;
}

/** A PERF_RECORD_SAMPLE with sample_type 0x10486, as perf-ring.md 4.2 lays it out. */
export function sample(f: SampleFields): Uint8Array {
  const rawSize = Math.ceil((8 + f.event.length + 4) / 8) * 8 - 4;
  const size = 44 + rawSize;
  const out = new Uint8Array(size).fill(f.pad ?? 0);
  const v = new DataView(out.buffer);
  v.setUint32(0, 9, true);
  v.setUint16(4, 1, true);
  v.setUint16(6, size, true);
  v.setBigUint64(8, BigInt(f.id ?? 1), true);
  v.setUint32(16, f.pid ?? 80, true);
  v.setUint32(20, f.tid ?? 80, true);
  v.setBigUint64(24, f.time, true);
  v.setUint32(32, f.cpu, true);
  v.setUint32(36, 0, true);
  v.setUint32(40, rawSize, true);
  v.setUint16(44, f.type, true);
  v.setUint8(46, 0);
  v.setUint8(47, 0);
  v.setInt32(48, f.tid ?? 80, true);
  out.set(f.event, 52);
  return out;
}

/** A PERF_RECORD_LOST. */
export function lostRecord(lost: number): Uint8Array {
  const out = new Uint8Array(24);
  const v = new DataView(out.buffer);
  v.setUint32(0, 2, true);
  v.setUint16(6, 24, true);
  v.setBigUint64(8, 1n, true);
  v.setBigUint64(16, BigInt(lost), true);
  return out;
}

/** A tracefs tree with the given tracepoint ids. */
export function fakeTracefs(ids: Record<string, number>): string {
  const root = mkdtempSync(`${tmpdir()}/seed-tracefs-`);
  writeFileSync(`${root}/user_events_status`, "");
  for (const [name, id] of Object.entries(ids)) {
    mkdirSync(`${root}/events/user_events/${name}`, { recursive: true });
    writeFileSync(`${root}/events/user_events/${name}/id`, `${id}\n`);
  }
  return root;
}

export function hexBytes(hex: string): Uint8Array {
  const clean = hex.replace(/[^0-9a-f]/gi, "");
  return new Uint8Array(clean.match(/../g)!.map((h) => parseInt(h, 16)));
}
