// A recording fake of the advapi32 binding: it hands out fake addresses per
// ArrayBuffer and, on EventWriteTransfer, resolves the data descriptors back
// to the bytes they point at (copied at call time, as ETW would read them).
import type { Advapi32Binding } from "../../ffi/advapi32.ts";

export interface RecordedWrite {
  handle: bigint;
  descriptor: Uint8Array;
  activityId: Uint8Array | null;
  relatedId: Uint8Array | null;
  count: number;
  /** The raw 16-byte data descriptors. */
  rawDescriptors: Uint8Array;
  /** What each descriptor points at. */
  blobs: { address: number; size: number; type: number; bytes: Uint8Array }[];
}

export class FakeAdvapi32 implements Advapi32Binding {
  readonly runtime = "fake";
  calls: string[] = [];
  enabledAnswer = 0;
  registerStatus = 0;
  traitsStatus = 0;
  writeStatus = 0;
  handle = 0xdeadbeefn;
  registeredIds: Uint8Array[] = [];
  traits: {
    handle: bigint;
    infoClass: number;
    bytes: Uint8Array;
    length: number;
  }[] = [];
  enabledQueries: { handle: bigint; level: number; keyword: bigint }[] = [];
  /**
   * A listening session, as ETW filters for it: when set, EventProviderEnabled
   * answers from it (instead of `enabledAnswer`), and a write whose
   * descriptor's level and keyword it wants counts in `delivered` (the
   * other writes are encoded work that EventWriteTransfer discards).
   */
  session: { level: number; keywords: bigint } | undefined = undefined;
  delivered = 0;
  writes: RecordedWrite[] = [];
  unregistered: bigint[] = [];
  #regions: { buffer: ArrayBufferLike; base: number }[] = [];
  #next = 0x0000025000000000;

  eventRegister(providerId: Uint8Array, handleOut: BigUint64Array): number {
    this.calls.push("EventRegister");
    this.registeredIds.push(providerId.slice());
    if (this.registerStatus !== 0) return this.registerStatus;
    handleOut[0] = this.handle;
    return 0;
  }
  eventSetInformation(
    handle: bigint,
    infoClass: number,
    info: Uint8Array,
    length: number,
  ): number {
    this.calls.push("EventSetInformation");
    this.traits.push({
      handle,
      infoClass,
      bytes: info.slice(0, length),
      length,
    });
    return this.traitsStatus;
  }
  eventProviderEnabled(handle: bigint, level: number, keyword: bigint): number {
    this.calls.push("EventProviderEnabled");
    this.enabledQueries.push({ handle, level, keyword });
    const session = this.session;
    if (session !== undefined) return this.#wants(session, level, keyword);
    return this.enabledAnswer;
  }
  #wants(
    session: { level: number; keywords: bigint },
    level: number,
    keyword: bigint,
  ): number {
    return level <= session.level && (keyword & session.keywords) !== 0n
      ? 1
      : 0;
  }
  eventEnabled(_handle: bigint, _descriptor: Uint8Array): number {
    this.calls.push("EventEnabled");
    return this.enabledAnswer;
  }
  eventWriteTransfer(
    handle: bigint,
    descriptor: Uint8Array,
    activityId: Uint8Array | null,
    relatedId: Uint8Array | null,
    count: number,
    data: Uint8Array,
  ): number {
    this.calls.push("EventWriteTransfer");
    const session = this.session;
    if (session !== undefined) {
      const d = new DataView(descriptor.buffer, descriptor.byteOffset, 16);
      const level = d.getUint8(4);
      const keyword = d.getBigUint64(8, true);
      this.delivered += this.#wants(session, level, keyword);
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const blobs = [];
    for (let i = 0; i < count; i++) {
      const address = Number(view.getBigUint64(16 * i, true));
      const size = view.getUint32(16 * i + 8, true);
      const type = view.getUint8(16 * i + 12);
      const reserved = view.getUint8(16 * i + 13) |
        view.getUint16(16 * i + 14, true);
      if (reserved !== 0) {
        throw new Error(`descriptor ${i}: reserved bytes not zero`);
      }
      blobs.push({ address, size, type, bytes: this.read(address, size) });
    }
    this.writes.push({
      handle,
      descriptor: descriptor.slice(0, 16),
      activityId: activityId?.slice() ?? null,
      relatedId: relatedId?.slice() ?? null,
      count,
      rawDescriptors: data.slice(0, 16 * count),
      blobs,
    });
    return this.writeStatus;
  }
  eventUnregister(handle: bigint): number {
    this.calls.push("EventUnregister");
    this.unregistered.push(handle);
    return 0;
  }
  addressOf(buffer: Uint8Array): number {
    let region = this.#regions.find((r) => r.buffer === buffer.buffer);
    if (region === undefined) {
      region = { buffer: buffer.buffer, base: this.#next };
      this.#regions.push(region);
      this.#next += 0x1000000;
    }
    return region.base + buffer.byteOffset;
  }
  close(): void {
    this.calls.push("close");
  }
  /** Reads `size` bytes at a fake address. */
  read(address: number, size: number): Uint8Array {
    for (const r of this.#regions) {
      if (address >= r.base && address + size <= r.base + r.buffer.byteLength) {
        return new Uint8Array(r.buffer as ArrayBuffer, address - r.base, size)
          .slice();
      }
    }
    throw new Error(
      `address 0x${
        address.toString(16)
      } (+${size}) is not in a buffer given to addressOf`,
    );
  }
}

/**
 * A recorded EventWriteTransfer call in bench/etw_encode_lib.c's etw_dump()
 * layout: the EVENT_DESCRIPTOR, then per data descriptor its type, its size
 * as a little-endian u32 and the bytes it points at.
 */
export function etwDumpLayout(write: RecordedWrite): Uint8Array {
  const parts: number[] = [...write.descriptor];
  for (const b of write.blobs) {
    parts.push(b.type, b.size & 255, (b.size >> 8) & 255, 0, 0, ...b.bytes);
  }
  return Uint8Array.from(parts);
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

export function bytes(spaced: string): Uint8Array {
  const parts = spaced.trim().split(/\s+/).filter((p) => p !== "");
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}
