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
   * @param bytes Where the record is (a copy out of the ring).
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
}

/**
 * Records copied out of one ring and not parsed yet: a growable byte queue.
 * Copying out and storing `data_tail` at once frees the ring for the kernel
 * in the time of a memcpy, whatever decoding the records costs later.
 */
export class StagedRecords {
  /** The staged bytes are `bytes[start, end)`, whole records. */
  bytes: Uint8Array;
  /** A view over {@linkcode StagedRecords.bytes}. */
  view: DataView;
  /** The first unparsed byte. */
  start = 0;
  /** One past the last staged byte. */
  end = 0;
  /** The most bytes it may hold. */
  readonly limit: number;

  /**
   * Creates an empty queue.
   *
   * @param initial Bytes to allocate first.
   * @param limit The most bytes it may grow to (at least {@linkcode MAX_RECORD}).
   */
  constructor(initial: number, limit: number) {
    this.limit = Math.max(limit, MAX_RECORD + 1);
    this.bytes = new Uint8Array(Math.min(Math.max(initial, 4096), this.limit));
    this.view = new DataView(this.bytes.buffer);
  }

  /**
   * Makes room for `n` more bytes if it can (moving the unparsed bytes to
   * the front, then growing up to the limit).
   *
   * @param n Bytes wanted.
   * @returns The bytes free after `end` (may be less than `n`).
   */
  reserve(n: number): number {
    if (this.start === this.end) this.start = this.end = 0;
    let free = this.bytes.length - this.end;
    if (free >= n) return free;
    if (this.start > 0) {
      this.bytes.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      free = this.bytes.length - this.end;
      if (free >= n) return free;
    }
    if (this.bytes.length < this.limit) {
      let size = this.bytes.length * 2;
      while (size - this.end < n && size < this.limit) size *= 2;
      const bytes = new Uint8Array(Math.min(size, this.limit));
      bytes.set(this.bytes.subarray(0, this.end));
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer);
    }
    return this.bytes.length - this.end;
  }
}

// The ring's head, checked against its tail. Impossible pointers (a head
// not on an 8-byte boundary, behind the tail, or more than the ring ahead of
// it) call onCorrupt and empty the ring: the result is then `tail`, as for a
// ring with nothing to read.
function unreadHead(
  ring: RingView,
  tail: number,
  onCorrupt: () => void,
): number {
  const head = Number(Atomics.load(ring.control, 0));
  if (head === tail) return tail;
  if (head % 8 !== 0 || head - tail > ring.size || head < tail) {
    onCorrupt();
    Atomics.store(ring.control, 1, BigInt(head));
    return tail;
  }
  return head;
}

// Bytes of the whole records in [tail, head) that fit in `room`, so that the
// tail stays on a record boundary; `-1 - n` when the scan stopped after n
// bytes at a record whose size is impossible (the caller drops the rest).
function scanWholeRecords(
  ring: RingView,
  tail: number,
  head: number,
  room: number,
): number {
  const mask = ring.size - 1;
  const view = ring.view;
  let n = 0;
  while (tail + n < head) {
    const recordSize = view.getUint16(((tail + n) & mask) + 6, true);
    if (
      recordSize < 8 || recordSize % 8 !== 0 || recordSize > head - tail - n
    ) {
      return -1 - n;
    }
    if (n + recordSize > room) break;
    n += recordSize;
  }
  return n;
}

/**
 * Copies the whole records between `data_tail` and `data_head` (as many as
 * `staged` has room for) to the end of `staged`, then stores the new
 * `data_tail` (release). Records left behind stay in the ring for the next
 * call; if the ring then fills, the kernel drops and counts them.
 *
 * @param ring The ring.
 * @param staged Where the records go.
 * @param onCorrupt Called when the ring is not a valid record stream (its
 * contents from there on are dropped).
 * @returns Bytes copied.
 */
export function stageRing(
  ring: RingView,
  staged: StagedRecords,
  onCorrupt: () => void,
): number {
  const control = ring.control;
  const tail = Number(control[1]);
  const head = unreadHead(ring, tail, onCorrupt);
  if (head === tail) return 0;
  const size = ring.size;
  const mask = size - 1;
  const scanned = scanWholeRecords(
    ring,
    tail,
    head,
    staged.reserve(head - tail),
  );
  const corrupt = scanned < 0;
  const n = corrupt ? -1 - scanned : scanned;
  if (n > 0) {
    const offset = tail & mask;
    const data = ring.data;
    const first = Math.min(n, size - offset);
    staged.bytes.set(data.subarray(offset, offset + first), staged.end);
    if (first < n) {
      staged.bytes.set(data.subarray(0, n - first), staged.end + first);
    }
    staged.end += n;
  }
  if (corrupt) onCorrupt();
  Atomics.store(control, 1, BigInt(corrupt ? head : tail + n));
  return n;
}

/**
 * Parses staged records up to `until` (a byte position in `staged` on a
 * record boundary), advancing `staged.start`.
 *
 * @param staged The records.
 * @param until Where to stop.
 * @param sink Receives the records.
 * @param maxRecords Stop after this many records.
 * @returns Records parsed.
 */
export function parseStaged(
  staged: StagedRecords,
  until: number,
  sink: RecordSink,
  maxRecords: number,
): number {
  const bytes = staged.bytes;
  const view = staged.view;
  let at = staged.start;
  let count = 0;
  while (at < until && count < maxRecords) {
    const type = view.getUint32(at, true);
    const recordSize = view.getUint16(at + 6, true);
    if (type === PERF_RECORD_SAMPLE) {
      sink.sample(bytes, view, at, recordSize);
    } else if (type === PERF_RECORD_LOST && recordSize >= 24) {
      sink.lost(
        view.getUint32(at + 16, true) +
          view.getUint32(at + 20, true) * 4294967296,
      );
    }
    at += recordSize;
    count++;
  }
  staged.start = at;
  return count;
}

/**
 * Copies the whole records between `src`'s `data_tail` and `data_head` that
 * fit into `dst` (a ring laid out the same way, e.g. over a
 * `SharedArrayBuffer`), publishes them with a release store of `dst`'s
 * `data_head`, then frees them in `src` with a release store of its
 * `data_tail`. The copy worker's one job.
 *
 * @param src The kernel's ring.
 * @param dst The queue the main thread reads (its `data_tail` is the reader's).
 * @param onCorrupt Called when `src` is not a valid record stream (its
 * contents from there on are dropped).
 * @returns Bytes copied.
 */
export function copyRing(
  src: RingView,
  dst: RingView,
  onCorrupt: () => void,
): number {
  const control = src.control;
  const tail = Number(control[1]);
  const head = unreadHead(src, tail, onCorrupt);
  if (head === tail) return 0;
  const size = src.size;
  const dHead = Number(dst.control[0]);
  const room = dst.size - 8 - (dHead - Number(Atomics.load(dst.control, 1)));
  const mask = size - 1;
  // The kernel publishes data_head only after whole records, so when
  // everything fits it is one memcpy, with no per-record work: this runs on
  // a thread whose JavaScript may still be interpreted (a cold JIT is 10-100x
  // slower under emulation), and the reader checks each record when it
  // stages the queue anyway. Only a queue without room for everything needs
  // the scan, to stop on a record boundary.
  let n = head - tail;
  let corrupt = false;
  if (n > room) {
    const scanned = scanWholeRecords(src, tail, head, room);
    corrupt = scanned < 0;
    n = corrupt ? -1 - scanned : scanned;
  }
  // Up to two pieces out of src, each landing in up to two pieces of dst.
  let done = 0;
  const dMask = dst.size - 1;
  while (done < n) {
    const from = (tail + done) & mask;
    const to = (dHead + done) & dMask;
    const piece = Math.min(n - done, size - from, dst.size - to);
    dst.data.set(src.data.subarray(from, from + piece), to);
    done += piece;
  }
  if (n > 0) Atomics.store(dst.control, 0, BigInt(dHead + n));
  if (corrupt) onCorrupt();
  Atomics.store(control, 1, BigInt(corrupt ? head : tail + n));
  return n;
}

/**
 * Lays out a perf-ring-shaped queue in `buffer` (a control page, then a
 * power-of-two data area) and wraps it.
 *
 * @param buffer `pageSize + 2^n` bytes, zeroed.
 * @param pageSize The page size.
 * @returns The view.
 */
export function queueView(
  buffer: ArrayBuffer | SharedArrayBuffer,
  pageSize: number,
): RingView {
  const control = new BigUint64Array(buffer, 1024, 4);
  control[2] = BigInt(pageSize);
  control[3] = BigInt(buffer.byteLength - pageSize);
  return new RingView(buffer as ArrayBuffer, pageSize);
}
