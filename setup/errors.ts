/**
 * The error of an invalid configuration.
 *
 * @module
 */

/**
 * An invalid configuration file (or programmatic configuration): unreadable,
 * not valid YAML or JSON, an unknown key, a value of the wrong type, or a
 * component this library does not provide. Nothing was built when it is
 * thrown: there is never a half-configured pipeline.
 *
 * @example Catch it and read what to change
 * ```ts
 * import { configure, ConfigurationError } from "@seed/telemetry/setup";
 * import assert from "node:assert/strict";
 *
 * const error = await configure({ config: { file_format: "1.0", tracer_provider: { procesors: [] } }, signals: false })
 *   .catch((e) => e);
 * assert.ok(error instanceof ConfigurationError);
 * assert.equal(error.path, "tracer_provider.procesors");
 * ```
 */
export class ConfigurationError extends Error {
  /** The key path of the offending value, e.g. `tracer_provider.processors[0].batch`; `""` for the whole file. */
  readonly path: string;
  /** The configuration file, when there is one. */
  readonly file: string | undefined;

  /**
   * Creates the error.
   *
   * @param message What is wrong and what to change.
   * @param path The key path.
   * @param file The file, if any.
   * @param options The cause, if any.
   */
  constructor(
    message: string,
    path: string,
    file?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ConfigurationError";
    this.path = path;
    this.file = file;
  }
}
