/**
 * The perf ring buffer reader (`shared/docs/perf-ring.md` §3-4): the
 * `perf_event_attr` the listener opens with, and the parser of the records
 * between `data_tail` and `data_head` of one mapped ring. Pure: it works on
 * any `ArrayBuffer` laid out like a mapping, so host tests feed it bytes.
 *
 * @module
 */

/** `PERF_TYPE_TRACEPOINT`. */
export const PERF_TYPE_TRACEPOINT = 2;
/** `PERF_ATTR_SIZE_VER3`: the smallest size with `clockid`. */
export const PERF_ATTR_SIZE = 96;
/** `IDENTIFIER | RAW | CPU | TIME | TID`. */
export const SAMPLE_TYPE = 0x10486;
/** `PERF_FORMAT_ID | PERF_FORMAT_LOST`. */
export const READ_FORMAT = 0x14;
/** `disabled | watermark | use_clockid`. */
export const ATTR_FLAGS = 0x02004001;
/** `CLOCK_MONOTONIC`. */
export const CLOCK_MONOTONIC = 1;
/** `CLOCK_REALTIME`. */
export const CLOCK_REALTIME = 0;
/** `PERF_FLAG_FD_CLOEXEC`. */
export const PERF_FLAG_FD_CLOEXEC = 8;
/** `PERF_EVENT_IOC_ENABLE`. */
export const PERF_EVENT_IOC_ENABLE = 0x2400;
/** `PERF_EVENT_IOC_DISABLE`. */
export const PERF_EVENT_IOC_DISABLE = 0x2401;
/** `PERF_EVENT_IOC_SET_OUTPUT`. */
export const PERF_EVENT_IOC_SET_OUTPUT = 0x2405;
/** `PERF_RECORD_LOST`. */
export const PERF_RECORD_LOST = 2;
/** `PERF_RECORD_SAMPLE`. */
export const PERF_RECORD_SAMPLE = 9;
/** The largest record perf writes (its `size` is a u16). */
export const MAX_RECORD = 65535;

/**
 * Writes the 96-byte `perf_event_attr` of one user_events tracepoint.
 *
 * @param view Zeroed memory of at least 96 bytes.
 * @param tracepointId The tracefs id.
 * @param wakeupBytes Wake-up watermark in bytes.
 */
export function writePerfAttr(
  view: DataView,
  tracepointId: number,
  wakeupBytes: number,
): void {
  for (let i = 0; i < PERF_ATTR_SIZE; i++) view.setUint8(i, 0);
  view.setUint32(0, PERF_TYPE_TRACEPOINT, true);
  view.setUint32(4, PERF_ATTR_SIZE, true);
  view.setBigUint64(8, BigInt(tracepointId), true);
  view.setBigUint64(16, 1n, true); // sample_period: every event
  view.setBigUint64(24, BigInt(SAMPLE_TYPE), true);
  view.setBigUint64(32, BigInt(READ_FORMAT), true);
  view.setBigUint64(40, BigInt(ATTR_FLAGS), true);
  view.setUint32(48, wakeupBytes, true);
  view.setInt32(92, CLOCK_MONOTONIC, true);
}

/** One mapped ring: the control words and the data area. */
export class RingView {
  /** `[data_head, data_tail, data_offset, data_size]`. */
  readonly control: BigUint64Array;
  /** The data area. */
  readonly data: Uint8Array;
  /** A view over the data area. */
  readonly view: DataView;
  /** Bytes in the data area (a power of two). */
  readonly size: number;

  /**
   * Wraps a mapping.
   *
   * @param buffer The mapping: control page, then data pages.
   * @param pageSize The page size.
   * @throws {RangeError} When the control page does not describe the mapping.
   */
  constructor(buffer: ArrayBuffer, pageSize: number) {
    this.control = new BigUint64Array(buffer, 1024, 4);
    const offset = Number(this.control[2]);
    const size = Number(this.control[3]);
    if (
      offset !== pageSize || size !== buffer.byteLength - pageSize ||
      (size & (size - 1)) !== 0 || size === 0
    ) {
      throw new RangeError(
        `Cannot read perf ring: data_offset ${offset} and data_size ${size} do not match a mapping of ${buffer.byteLength} bytes with ${pageSize}-byte pages`,
      );
    }
    this.data = new Uint8Array(buffer, offset, size);
    this.view = new DataView(buffer, offset, size);
    this.size = size;
  }
}

/** What the ring parser hands over. */
export interface RecordSink {
  /**
   * One `PERF_RECORD_SAMPLE`.
   *
   * @param bytes Where the record is (the ring or a scratch copy).
   * @param view A view over the same bytes.
   * @param start The record's first byte (its header).
   * @param size The record's size.
   */
  sample(bytes: Uint8Array, view: DataView, start: number, size: number): void;
  /**
   * One `PERF_RECORD_LOST`.
   *
   * @param lost The samples it reports as dropped.
   */
  lost(lost: number): void;
  /** The ring held something that is not a valid record stream. */
  corrupt(): void;
}

/**
 * Parses every record between `data_tail` and `data_head`, then stores the
 * new `data_tail` (release). A record whose body wraps around the end of the
 * data area is copied into `scratch` first.
 *
 * @param ring The ring.
 * @param sink Receives the records.
 * @param scratch At least {@linkcode MAX_RECORD} bytes.
 * @param scratchView A view over `scratch`.
 * @returns Bytes consumed.
 */
export function drainRing(
  ring: RingView,
  sink: RecordSink,
  scratch: Uint8Array,
  scratchView: DataView,
): number {
  const control = ring.control;
  const head = Number(Atomics.load(control, 0));
  const start = Number(control[1]);
  let tail = start;
  const size = ring.size;
  const mask = size - 1;
  const data = ring.data;
  const view = ring.view;
  if (head % 8 !== 0 || head - tail > size || head < tail) {
    sink.corrupt();
    Atomics.store(control, 1, BigInt(head));
    return head - start;
  }
  while (tail < head) {
    const offset = tail & mask;
    const type = view.getUint32(offset, true);
    const recordSize = view.getUint16(offset + 6, true);
    if (recordSize < 8 || recordSize % 8 !== 0 || recordSize > head - tail) {
      sink.corrupt();
      tail = head;
      break;
    }
    if (type === PERF_RECORD_SAMPLE) {
      if (offset + recordSize <= size) {
        sink.sample(data, view, offset, recordSize);
      } else {
        const first = size - offset;
        scratch.set(data.subarray(offset, size), 0);
        scratch.set(data.subarray(0, recordSize - first), first);
        sink.sample(scratch, scratchView, 0, recordSize);
      }
    } else if (type === PERF_RECORD_LOST && recordSize >= 24) {
      // id @8, lost @16: only the low bytes can wrap apart from the header.
      const at = (tail + 16) & mask;
      sink.lost(
        view.getUint32(at, true) + view.getUint32((at + 4) & mask, true) *
            4294967296,
      );
    }
    tail += recordSize;
  }
  Atomics.store(control, 1, BigInt(tail));
  return tail - start;
}
