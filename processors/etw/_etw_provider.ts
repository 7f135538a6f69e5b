/**
 * One registered ETW provider: its id, traits, REGHANDLE and long-lived
 * arena (event descriptor, data descriptors, traits, metadata and payload
 * regions, address taken once). Shared by the log and span processors.
 *
 * @module
 */

import type { Advapi32Binding } from "../../ffi/advapi32.ts";
import { FfiUnavailableError } from "../../ffi/errors.ts";
import {
  DataDescriptorType,
  encodeProviderTraits,
  EVENT_DATA_DESCRIPTOR_SIZE,
  EVENT_PROVIDER_SET_TRAITS,
  formatGuid,
  MAX_METADATA_SIZE,
  parseGuid,
  providerIdFromName,
  TraceLoggingWriter,
  writeDataDescriptor,
  writeEventDescriptor,
} from "../_tracelogging.ts";

/** The keyword every event uses (0x1, "uncategorised", as the OpenTelemetry ETW exporters). */
export const KEYWORD = 1;
const KEYWORD_BIG = 1n;
const DEFAULT_MAX_EVENT_SIZE = 65000;

/**
 * How often the encoding path asks `EventProviderEnabled` while the answer
 * for a level is "enabled": once per this many events of that level (see
 * {@linkcode EtwProvider.enabledForWrite}). So after the last session stops
 * listening (or lowers its level, or drops keyword 1), at most
 * `ENABLED_RECHECK - 1` = 15 more events of each level are encoded, and
 * EventWriteTransfer discards them (it filters by the sessions' level and
 * keyword itself). A "not enabled" answer is never reused: an event after a
 * session starts is encoded at once.
 */
export const ENABLED_RECHECK = 16;
const PAYLOAD_CAPACITY = 65536;

/** Validates the provider name (1-233 printable ASCII characters). */
export function checkProviderName(name: unknown): string {
  if (typeof name !== "string" || !/^[\x20-\x7e]{1,233}$/.test(name)) {
    throw new RangeError(
      `Cannot use providerName ${
        JSON.stringify(name)
      }: expected 1-233 printable ASCII characters`,
    );
  }
  return name;
}

/** Validates `maxEventSize`. */
export function checkMaxEventSize(value: number | undefined): number {
  const v = value ?? DEFAULT_MAX_EVENT_SIZE;
  if (!Number.isInteger(v) || v < 2048 || v > 65535) {
    throw new RangeError(
      `Cannot use maxEventSize ${v}: expected an integer from 2048 to 65535`,
    );
  }
  return v;
}

/** A registered provider. */
export class EtwProvider {
  readonly name: string;
  readonly id: string;
  readonly traitsStatus: number;
  readonly writer: TraceLoggingWriter;
  readonly #binding: Advapi32Binding;
  readonly #arena: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;
  readonly #descriptor: Uint8Array<ArrayBuffer>;
  readonly #data: Uint8Array<ArrayBuffer>;
  readonly #force: boolean;
  /**
   * The level of the last "enabled" answer, and how many more events of it
   * may be encoded on that answer without asking again (0: ask). One level,
   * not a table: two fields cost less per emit than a typed array's load
   * and store, and a processor's records mostly repeat their level.
   */
  #trustedLevel = -1;
  #trustedLeft = 0;
  #handle: bigint;
  #open = true;

  constructor(
    binding: Advapi32Binding,
    name: string,
    group: string | undefined,
    maxEventSize: number,
    force: boolean,
  ) {
    this.name = name;
    const providerId = providerIdFromName(name);
    this.id = formatGuid(providerId);
    const traits = encodeProviderTraits(
      name,
      group === undefined ? undefined : parseGuid(group),
    );
    // Layout: [0,16) EVENT_DESCRIPTOR · [16,64) 3 EVENT_DATA_DESCRIPTORs ·
    // [64, …) traits · metadata region · payload region. One ArrayBuffer made
    // with `new ArrayBuffer`, so its backing store is off-heap and never moves.
    const traitsAt = 64;
    const metaAt = (traitsAt + traits.length + 7) & ~7;
    const payAt = metaAt + MAX_METADATA_SIZE;
    const arena = new Uint8Array(new ArrayBuffer(payAt + PAYLOAD_CAPACITY));
    arena.set(traits, traitsAt);
    this.#arena = arena;
    this.#view = new DataView(arena.buffer);
    this.#descriptor = arena.subarray(0, 16);
    this.#data = arena.subarray(16, 16 + 3 * EVENT_DATA_DESCRIPTOR_SIZE);
    this.writer = new TraceLoggingWriter(
      arena,
      metaAt,
      MAX_METADATA_SIZE,
      payAt,
      PAYLOAD_CAPACITY,
      maxEventSize - traits.length,
    );
    const base = binding.addressOf(arena);
    writeEventDescriptor(this.#view, 0, 5, 0, KEYWORD);
    writeDataDescriptor(
      this.#view,
      16,
      base + traitsAt,
      traits.length,
      DataDescriptorType.PROVIDER_TRAITS,
    );
    writeDataDescriptor(
      this.#view,
      32,
      base + metaAt,
      0,
      DataDescriptorType.EVENT_METADATA,
    );
    writeDataDescriptor(
      this.#view,
      48,
      base + payAt,
      0,
      DataDescriptorType.DATA,
    );
    this.#binding = binding;
    this.#force = force;

    const handleOut = new BigUint64Array(1);
    const status = binding.eventRegister(providerId, handleOut);
    if (status !== 0) {
      throw new FfiUnavailableError(
        `Cannot register ETW provider ${name} {${this.id}}: EventRegister returned Win32 error ${status}; ` +
          `a process can register about 1,024 providers`,
        { code: status },
      );
    }
    this.#handle = handleOut[0];
    // Ignored on failure, like every TraceLogging implementation (Windows 7
    // RTM lacks it); the traits also travel in data descriptor 0.
    this.traitsStatus = binding.eventSetInformation(
      this.#handle,
      EVENT_PROVIDER_SET_TRAITS,
      arena.subarray(traitsAt, traitsAt + traits.length),
      traits.length,
    );
  }

  /** The REGHANDLE (0n after unregistering). */
  get handle(): bigint {
    return this.#handle;
  }

  /**
   * Whether a session wants events of this level with keyword 1: asks
   * `EventProviderEnabled` every time (and refreshes what
   * {@linkcode EtwProvider.enabledForWrite} reuses).
   */
  enabled(level: number): boolean {
    if (!this.#open) return false;
    if (this.#force) return true;
    const on =
      this.#binding.eventProviderEnabled(this.#handle, level, KEYWORD_BIG) !==
        0;
    if (on) {
      this.#trustedLevel = level;
      this.#trustedLeft = ENABLED_RECHECK - 1;
    } else if (level === this.#trustedLevel) this.#trustedLeft = 0;
    return on;
  }

  /**
   * {@linkcode EtwProvider.enabled} for an event about to be encoded and
   * written: an "enabled" answer is reused for the next
   * `ENABLED_RECHECK - 1` events of the level. A C TraceLogging provider
   * reads the level from memory (its enable callback stores it); this
   * binding registers no callback (ETW would call it on its own thread).
   * Reusing "enabled" cannot lose an event
   * (EventWriteTransfer filters by session level and keyword itself); its
   * only cost is the encoding of at most 15 events per level nobody reads.
   */
  enabledForWrite(level: number): boolean {
    if (level === this.#trustedLevel) {
      const left = this.#trustedLeft;
      if (left > 0) {
        this.#trustedLeft = left - 1;
        return true;
      }
    }
    return this.enabled(level);
  }

  /**
   * Writes the event the writer holds (after `finish()` succeeded).
   *
   * @returns The Win32 code of EventWriteTransfer.
   */
  /**
   * {@linkcode EtwProvider.write} for a log event replayed over the last
   * event's metadata (`etw/_etw_replay.ts`): that event's write left the
   * opcode (0) and the metadata size in the descriptors, so only the level
   * and the payload size are set.
   *
   * @param level The event's level.
   * @param payloadLength The payload's size.
   * @returns The Win32 code of EventWriteTransfer.
   */
  writeReplayed(level: number, payloadLength: number): number {
    const view = this.#view;
    view.setUint8(4, level);
    view.setUint32(48 + 8, payloadLength, true);
    return this.#binding.eventWriteTransfer(
      this.#handle,
      this.#descriptor,
      null,
      null,
      3,
      this.#data,
    );
  }

  write(level: number, opcode: number): number {
    const view = this.#view;
    view.setUint8(5, opcode);
    view.setUint32(32 + 8, this.writer.metadataLength, true);
    return this.writeReplayed(level, this.writer.payloadLength);
  }

  /** Unregisters once; later calls return 0. The arena stays referenced by this object. */
  unregister(): number {
    if (!this.#open) return 0;
    this.#open = false;
    this.#trustedLeft = 0;
    const status = this.#binding.eventUnregister(this.#handle);
    this.#handle = 0n;
    return status;
  }
}
