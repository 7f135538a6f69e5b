// Reading OTLP/HTTP protobuf responses: the `partial_success` of an
// Export*ServiceResponse and the message of a `google.rpc.Status`.

/** What a 2xx response's `partial_success` said. */
export interface PartialSuccess {
  /** `rejected_log_records` / `rejected_spans`. */
  readonly rejected: number;
  /** `error_message`, or "". */
  readonly message: string;
}

const decoder = new TextDecoder();

/** Reads a varint at `state.pos`; returns it as a number (exact below 2^53). */
function readVarint(bytes: Uint8Array, state: { pos: number }): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (state.pos >= bytes.length) throw new RangeError("truncated varint");
    const b = bytes[state.pos++];
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
  throw new RangeError("varint longer than 10 bytes");
}

/** Skips a field of wire type `wt`; returns false when the type is unknown. */
function skipField(
  bytes: Uint8Array,
  state: { pos: number },
  wt: number,
): void {
  switch (wt) {
    case 0:
      readVarint(bytes, state);
      return;
    case 1:
      state.pos += 8;
      break;
    case 2: {
      const n = readVarint(bytes, state);
      state.pos += n;
      break;
    }
    case 5:
      state.pos += 4;
      break;
    default:
      throw new RangeError(`unsupported wire type ${wt}`);
  }
  if (state.pos > bytes.length) throw new RangeError("truncated field");
}

/**
 * Decodes the `partial_success` (field 1) of an `ExportLogsServiceResponse`
 * or `ExportTraceServiceResponse`.
 *
 * @returns It, or `undefined` when the response has none.
 * @throws {RangeError} When the bytes are not a valid message.
 */
export function decodePartialSuccess(
  bytes: Uint8Array,
): PartialSuccess | undefined {
  const state = { pos: 0 };
  let found: PartialSuccess | undefined;
  while (state.pos < bytes.length) {
    const tag = readVarint(bytes, state);
    if (tag === 0x0a) {
      const n = readVarint(bytes, state);
      const end = state.pos + n;
      if (end > bytes.length) throw new RangeError("truncated partial_success");
      let rejected = 0;
      let message = "";
      while (state.pos < end) {
        const t = readVarint(bytes, state);
        if (t === 0x08) rejected = readVarint(bytes, state);
        else if (t === 0x12) {
          const n = readVarint(bytes, state);
          message = decoder.decode(bytes.subarray(state.pos, state.pos + n));
          state.pos += n;
        } else skipField(bytes, state, t & 7);
      }
      state.pos = end;
      // A negative int64 is not a count; treat it as none.
      found = {
        rejected: rejected > Number.MAX_SAFE_INTEGER ? 0 : rejected,
        message,
      };
    } else {
      skipField(bytes, state, tag & 7);
    }
  }
  return found;
}

/**
 * Decodes the `message` (field 2) of a `google.rpc.Status`, the body OTLP/HTTP
 * servers send with an error status.
 *
 * @returns The message, or `undefined` when absent or unreadable.
 */
export function decodeStatusMessage(bytes: Uint8Array): string | undefined {
  try {
    const state = { pos: 0 };
    let message: string | undefined;
    while (state.pos < bytes.length) {
      const tag = readVarint(bytes, state);
      if (tag === 0x12) {
        const n = readVarint(bytes, state);
        if (state.pos + n > bytes.length) return undefined;
        message = decoder.decode(bytes.subarray(state.pos, state.pos + n));
        state.pos += n;
      } else {
        skipField(bytes, state, tag & 7);
      }
    }
    return message;
  } catch {
    return undefined;
  }
}
