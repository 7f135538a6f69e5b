/**
 * The error thrown when a native library or one of its functions cannot be
 * used: a missing permission, a missing library, or a failing call.
 *
 * @module
 */

/**
 * A native binding could not be opened or a native call failed while a
 * factory set things up. `code` is the errno (Linux) or Win32 error (Windows)
 * when there is one.
 *
 * @example
 * ```ts
 * import { FfiUnavailableError } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const error = new FfiUnavailableError("Cannot open user_events_data: EACCES (13); grant group write access or run as root", { code: 13 });
 * assert.equal(error.code, 13);
 * assert.equal(error.name, "FfiUnavailableError");
 * ```
 */
export class FfiUnavailableError extends Error {
  /** The errno or Win32 error code, when there is one. */
  readonly code: number | undefined;

  /**
   * Creates the error.
   *
   * @param message What failed, the state, the fix.
   * @param options The code and the cause.
   */
  constructor(
    message: string,
    options: { code?: number; cause?: unknown } = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "FfiUnavailableError";
    this.code = options.code;
  }
}
