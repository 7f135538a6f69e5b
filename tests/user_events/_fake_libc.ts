// A recording fake LibcBinding: fake addresses over ArrayBuffers, a kernel
// model of DIAG_IOCSREG/DIAG_IOCSUNREG, and every call logged in order.
import type { LibcBinding, NativeMemory } from "../../ffi/libc.ts";

export const REG = 0xc0082a00;
export const UNREG = 0x40082a02;

export interface Registration {
  command: string;
  name: string;
  enableAddress: bigint;
  enableSize: number;
  enableBit: number;
  flags: number;
  size: number;
  writeIndex: number;
  active: boolean;
}

export interface WriteRecord {
  fd: number;
  index: number;
  /** Event bytes after the 4-byte index. */
  event: Uint8Array;
}

export class FakeLibc implements LibcBinding {
  log: string[] = [];
  memories = new Map<bigint, NativeMemory>();
  registrations: Registration[] = [];
  writes: WriteRecord[] = [];
  /** Result of open (an fd or -errno). */
  openResult = 7;
  /** Per tracepoint name, an errno the registration fails with. */
  regFailures = new Map<string, number>();
  unregFailure = 0;
  /** Next write results (-errno or undefined = success). */
  writeResults: number[] = [];
  allocFailAt = -1;
  #next = 0x10000n;
  #allocs = 0;
  #nextIndex = 0;

  open(path: string, flags: number): number {
    this.log.push(`open ${path} ${flags}`);
    return this.openResult;
  }
  close(fd: number): number {
    this.log.push(`close ${fd}`);
    return 0;
  }
  alloc(size: number): NativeMemory | null {
    if (this.#allocs++ === this.allocFailAt) return null;
    const address = this.#next;
    this.#next += BigInt((size + 0xffff) & ~0xffff) + 0x10000n;
    const memory = {
      address,
      size,
      buffer: new ArrayBuffer(size),
      handle: address,
    };
    this.memories.set(address, memory);
    this.log.push(`alloc ${size}`);
    return memory;
  }
  free(memory: NativeMemory): void {
    if (!this.memories.delete(memory.address)) {
      throw new Error("double free or foreign memory");
    }
    this.log.push(`free ${memory.size}`);
  }
  errno(): number {
    return 0;
  }
  /** The memory holding an address, and the offset in it. */
  resolve(address: bigint): [NativeMemory, number] {
    for (const m of this.memories.values()) {
      if (address >= m.address && address < m.address + BigInt(m.size)) {
        return [m, Number(address - m.address)];
      }
    }
    throw new Error(`fault at 0x${address.toString(16)}`);
  }
  ioctl(fd: number, request: number, arg: NativeMemory): number {
    if (fd !== this.openResult) return -9;
    const v = new DataView(arg.buffer);
    if (request === REG) {
      const [m, off] = this.resolve(v.getBigUint64(16, true));
      const bytes = new Uint8Array(m.buffer, off);
      const end = bytes.indexOf(0);
      const command = new TextDecoder().decode(bytes.subarray(0, end));
      const name = command.split(" ")[0];
      this.log.push(`reg ${name}`);
      const failure = this.regFailures.get(name);
      if (failure !== undefined) return -failure;
      const enableAddress = v.getBigUint64(8, true);
      if (
        this.registrations.some((r) =>
          r.active && r.enableAddress === enableAddress
        )
      ) return -98;
      const existing = this.registrations.find((r) => r.name === name);
      const writeIndex = existing?.writeIndex ?? this.#nextIndex++;
      this.registrations.push({
        command,
        name,
        enableAddress,
        enableSize: v.getUint8(5),
        enableBit: v.getUint8(4),
        flags: v.getUint16(6, true),
        size: v.getUint32(0, true),
        writeIndex,
        active: true,
      });
      v.setUint32(24, writeIndex, true);
      return 0;
    }
    if (request === UNREG) {
      const address = v.getBigUint64(8, true);
      const reg = this.registrations.find((r) =>
        r.active && r.enableAddress === address
      );
      this.log.push(`unreg ${reg?.name ?? "?"}`);
      if (this.unregFailure !== 0) return -this.unregFailure;
      if (reg === undefined || v.getUint32(0, true) !== 16) return -22;
      reg.active = false;
      this.setWord(reg, 0);
      return 0;
    }
    return -25;
  }
  write(fd: number, memory: NativeMemory, length: number): number {
    const bytes = new Uint8Array(memory.buffer, 0, length);
    const index = new DataView(memory.buffer).getInt32(0, true);
    this.log.push(`write ${length}`);
    const result = this.writeResults.shift();
    if (result !== undefined && result < 0) return result;
    this.writes.push({ fd, index, event: bytes.slice(4) });
    return length;
  }
  read(): number {
    return -9;
  }
  setWord(reg: Registration, value: number): void {
    const [m, off] = this.resolve(reg.enableAddress);
    new DataView(m.buffer).setUint32(off, value, true);
  }
  /** What a tracer attaching (1) or detaching (0) does to the enable word. */
  enable(name: string, on = true): void {
    for (const reg of this.registrations) {
      if (reg.active && reg.name === name) {
        this.setWord(reg, on ? 1 << reg.enableBit : 0);
      }
    }
  }
  nameOfIndex(index: number): string {
    return this.registrations.find((r) => r.writeIndex === index)!.name;
  }
}
