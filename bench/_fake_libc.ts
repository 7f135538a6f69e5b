// A LibcBinding without a kernel, for the user_events cases on any host:
// open and DIAG_IOCSREG succeed, memory is plain ArrayBuffers at fake
// addresses, `write` only counts (and can keep the last event). The enable
// words stay 0 unless `setEnabled(true)`: with 0 the processor runs exactly
// its production disabled path (one Atomics.load per emit).

import type { LibcBinding, NativeMemory } from "../ffi/libc.ts";

const DIAG_IOCSREG = 0xc0082a00;

/** The fake binding. */
export class FakeLibc implements LibcBinding {
  /** Events written. */
  writes = 0;
  /** Bytes of the last event written (index included) when `keepLast`. */
  last: Uint8Array | undefined = undefined;
  /** Copy each written event into `last`. */
  keepLast = false;
  #next = 0x10000n;
  #words: Int32Array | undefined = undefined;
  #index = 0;

  /** Sets or clears every enable word (as if a tracer attached). */
  setEnabled(on: boolean): void {
    this.#words?.fill(0);
    if (on) this.#words?.fill(1, 1, 6);
  }

  open(_path: string, _flags: number): number {
    return 3;
  }
  close(_fd: number): number {
    return 0;
  }
  alloc(size: number): NativeMemory | null {
    const address = this.#next;
    this.#next += BigInt((size + 0xffff) & ~0xffff) + 0x10000n;
    const memory = {
      address,
      size,
      buffer: new ArrayBuffer(size),
      handle: address,
    };
    // The first 32-byte block is the enable words (see _tracepoints.ts).
    if (size === 32 && this.#words === undefined) {
      this.#words = new Int32Array(memory.buffer, 0, 8);
    }
    return memory;
  }
  free(_memory: NativeMemory): void {}
  errno(): number {
    return 0;
  }
  ioctl(_fd: number, request: number, arg: NativeMemory): number {
    if (request === DIAG_IOCSREG) {
      new DataView(arg.buffer).setUint32(24, this.#index++, true);
    }
    return 0;
  }
  write(_fd: number, memory: NativeMemory, length: number): number {
    this.writes++;
    if (this.keepLast) {
      this.last = new Uint8Array(memory.buffer, 0, length).slice();
    }
    return length;
  }
  read(_fd: number, _memory: NativeMemory, _length: number): number {
    return 0;
  }
}

/**
 * The real libc binding with only DIAG_IOCSREG faked and `open` pointed at
 * `/dev/null`: native memory, enable words and `write(2)` are real, so an
 * enabled UserEventsProcessor runs its production encode + FFI write path
 * into /dev/null. The host proxy of the kernel case (no user_events here).
 */
export class DevNullLibc implements LibcBinding {
  readonly #real: LibcBinding;
  #words: Int32Array | undefined = undefined;
  #index = 0;

  /** Wraps an open binding (see ffi/load_libc.ts). */
  constructor(real: LibcBinding) {
    this.#real = real;
  }

  /** Sets every enable word (as if a tracer attached). */
  enableAll(): void {
    this.#words?.fill(1, 1, 6);
  }

  open(_path: string, flags: number): number {
    return this.#real.open("/dev/null", flags);
  }
  close(fd: number): number {
    return this.#real.close(fd);
  }
  alloc(size: number): NativeMemory | null {
    const memory = this.#real.alloc(size);
    if (memory !== null && size === 32 && this.#words === undefined) {
      this.#words = new Int32Array(memory.buffer, 0, 8);
    }
    return memory;
  }
  free(memory: NativeMemory): void {
    this.#real.free(memory);
  }
  errno(): number {
    return this.#real.errno();
  }
  ioctl(_fd: number, request: number, arg: NativeMemory): number {
    if (request === DIAG_IOCSREG) {
      new DataView(arg.buffer).setUint32(24, this.#index++, true);
    }
    return 0;
  }
  write(fd: number, memory: NativeMemory, length: number): number {
    return this.#real.write(fd, memory, length);
  }
  read(fd: number, memory: NativeMemory, length: number): number {
    return this.#real.read(fd, memory, length);
  }
}
