// The OTLP/HTTP transport shared by the log and span exporters: a bounded
// number of exports in flight, one POST per attempt with its own timeout,
// optional gzip (once per batch), the OTLP retry policy inside one deadline,
// redirects handled by hand (`redirect: "manual"`), partial-success
// decoding, and a shutdown that waits, then aborts.

import { gzip as zlibGzip } from "node:zlib";
import {
  ExportError,
  type ExportResult,
  reportDiagnostic,
} from "../../pipeline/mod.ts";
import { decodePartialSuccessJson } from "../_otlp_json.ts";
import {
  decodePartialSuccess,
  decodeStatusMessage,
} from "../_otlp_response.ts";
import { displayUrl, type ResolvedOtlpConfig } from "./_config.ts";

/** Counters of an OTLP/HTTP exporter, as of the moment they were read. */
export interface OtlpExporterStats {
  /** Calls to `export`. */
  readonly exports: number;
  /** HTTP requests made (first attempts and retries). */
  readonly attempts: number;
  /** Of `attempts`, the retries. */
  readonly retries: number;
  /** Exports that ended in success (including partial success). */
  readonly succeeded: number;
  /** Exports that ended in failure. */
  readonly failed: number;
  /** Items the receiver rejected in partial successes. */
  readonly rejected: number;
  /** Exports in flight now (waiting for a slot included). */
  readonly inFlight: number;
}

/** Statuses the OTLP specification says to retry. */
function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/**
 * Parses `Retry-After`: delay-seconds or an HTTP date.
 *
 * @returns The delay in ms, or `undefined` when absent or invalid.
 */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^[0-9]+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * zlib's level for request bodies: 1, the fastest. A receiver's gunzip is
 * the same for every level, and the OTLP specification leaves the level to
 * the exporter (the Collector's own HTTP client lets users pick one). For a
 * 70 KB batch of 512 records level 1 takes about 0.5 ms against 3.7 ms for
 * zlib's default 6, for a body about 24% larger (27.6 KB against 22.3 KB),
 * on Deno and Bun alike.
 */
const GZIP_OPTIONS = { level: 1 } as const;

/**
 * Gzips a request body with node:zlib's callback form. Node and Bun run most
 * of it on a worker thread (0.4-0.5 ms of a 2.1 ms call stays on the caller's
 * thread, measured on a loaded machine); Deno's does the compression on the
 * caller's thread before it calls back (the sync part of a call equals
 * `gzipSync`), which is why the level is the fastest. CompressionStream
 * pushes the bytes through a web stream on the caller's thread: 9 ms against
 * 2 ms for a 70 KB batch of 512 records at zlib's default level.
 */
function gzip(
  data: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    zlibGzip(data, GZIP_OPTIONS, (error, result) => {
      if (error !== null) reject(error);
      else {
        resolve(
          new Uint8Array(
            result.buffer as ArrayBuffer,
            result.byteOffset,
            result.byteLength,
          ),
        );
      }
    });
  });
}

function errorOf(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** A URL's printable form (no user info, query or fragment); `"?"` when it does not parse. */
function displayOf(url: string): string {
  try {
    return displayUrl(new URL(url));
  } catch {
    return "?";
  }
}

/** The most redirects (307/308 to the same origin) one attempt follows. */
export const MAX_REDIRECTS = 3;

/** Text of an unknown value that never throws (a hostile `toString` or getter). */
function safeText(read: () => unknown): string | undefined {
  try {
    const value = read();
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The messages of an error and of its `cause` chain, joined by ": ", each
 * once (a runtime often repeats its cause in its own message), with a
 * system error code (Bun's `code: "ECONNREFUSED"`) when the text lacks it.
 */
export function describeError(error: unknown, maxDepth = 5): string {
  const parts: string[] = [];
  let current: unknown = error;
  const seen = new Set<unknown>();
  for (let depth = 0; depth < maxDepth; depth++) {
    if (current === undefined || current === null || seen.has(current)) break;
    seen.add(current);
    const isObject = typeof current === "object";
    const message = isObject
      ? safeText(() => (current as { message?: unknown }).message)
      : safeText(() => String(current));
    if (message !== undefined && message !== "") {
      const text = message.length > 300 ? message.slice(0, 300) + "…" : message;
      if (!parts.some((p) => p.includes(text))) parts.push(text);
    }
    if (!isObject) break;
    const code = safeText(() => (current as { code?: unknown }).code);
    if (code !== undefined && !parts.some((p) => p.includes(code))) {
      parts.push(code);
    }
    try {
      current = (current as { cause?: unknown }).cause;
    } catch {
      break;
    }
  }
  return parts.length === 0 ? "unknown error" : parts.join(": ");
}

/**
 * Waits `ms` (at least, by `performance.now()`), or until `signal` aborts.
 *
 * @returns `true` when the time passed, `false` when aborted.
 */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  const until = performance.now() + ms;
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const tick = () => {
      const left = until - performance.now();
      if (left > 0) {
        timer = setTimeout(tick, Math.ceil(left));
        return;
      }
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    timer = setTimeout(tick, Math.ceil(ms));
  });
}

interface Waiter {
  resolve: (ok: boolean) => void;
}

type Attempt =
  | { kind: "done"; result: ExportResult }
  | { kind: "retry"; error: Error; status?: number; retryAfterMillis?: number };

export class OtlpHttpTransport {
  readonly config: ResolvedOtlpConfig;
  readonly #source: string;
  readonly #rejectedField: string;
  #closed = false;
  #shutdownPromise: Promise<void> | undefined;
  readonly #stop = new AbortController();
  readonly #inFlight = new Set<Promise<ExportResult>>();
  #active = 0;
  readonly #waiters: Waiter[] = [];
  #exports = 0;
  #attempts = 0;
  #retries = 0;
  #succeeded = 0;
  #failed = 0;
  #rejected = 0;

  constructor(source: string, config: ResolvedOtlpConfig) {
    this.#source = source;
    this.config = config;
    this.#rejectedField = source.includes("Log")
      ? "log records"
      : source.includes("Metric")
      ? "data points"
      : "spans";
  }

  get stats(): OtlpExporterStats {
    return {
      exports: this.#exports,
      attempts: this.#attempts,
      retries: this.#retries,
      succeeded: this.#succeeded,
      failed: this.#failed,
      rejected: this.#rejected,
      inFlight: this.#inFlight.size,
    };
  }

  /** Sends one encoded batch; never rejects. */
  send(
    body: Uint8Array<ArrayBuffer>,
    signal: AbortSignal,
  ): Promise<ExportResult> {
    this.#exports++;
    if (this.#closed) {
      this.#failed++;
      return Promise.resolve({
        code: "failure",
        retryable: false,
        error: new ExportError(`${this.#source} is shut down: export refused`, {
          retryable: false,
        }),
      });
    }
    const promise = this.#run(body, signal).then((result) => {
      if (result.code === "success") this.#succeeded++;
      else this.#failed++;
      return result;
    });
    this.#inFlight.add(promise);
    promise.finally(() => this.#inFlight.delete(promise));
    return promise;
  }

  #acquire(signal: AbortSignal): Promise<boolean> {
    if (this.#active < this.config.maxConcurrentExports) {
      this.#active++;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        resolve: (ok) => {
          signal.removeEventListener("abort", onAbort);
          resolve(ok);
        },
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next.resolve(true); // the slot passes on
    else this.#active--;
  }

  async #run(
    body: Uint8Array<ArrayBuffer>,
    processorSignal: AbortSignal,
  ): Promise<ExportResult> {
    // Aborted by the processor's signal or by shutdown, whichever comes
    // first. Linked by hand: AbortSignal.any registers every export on the
    // long-lived shutdown signal through weak references (~10 us per
    // export on Deno, and work for the GC).
    const stop = this.#stop.signal;
    const controller = new AbortController();
    const fromProcessor = () => controller.abort(processorSignal.reason);
    const fromStop = () => controller.abort(stop.reason);
    if (processorSignal.aborted) fromProcessor();
    else if (stop.aborted) fromStop();
    else {
      processorSignal.addEventListener("abort", fromProcessor, { once: true });
      stop.addEventListener("abort", fromStop, { once: true });
    }
    try {
      return await this.#runLinked(body, controller.signal);
    } finally {
      processorSignal.removeEventListener("abort", fromProcessor);
      stop.removeEventListener("abort", fromStop);
    }
  }

  async #runLinked(
    body: Uint8Array<ArrayBuffer>,
    signal: AbortSignal,
  ): Promise<ExportResult> {
    if (!(await this.#acquire(signal))) {
      return this.#aborted(signal, 0, undefined);
    }
    try {
      const { retry, compression, timeoutMillis } = this.config;
      let payload = body;
      if (compression === "gzip") {
        try {
          payload = await gzip(body);
        } catch (error) {
          return {
            code: "failure",
            retryable: false,
            error: new ExportError(
              `${this.#source} could not gzip the request body: ${
                errorOf(error).message
              }`,
              { retryable: false },
            ),
          };
        }
      }
      // One deadline for the export, retries and waits included: each
      // attempt's timeout is cut to what is left of it, so no attempt runs
      // past it (0: one attempt with its full timeout, no retries).
      const deadline = performance.now() + retry.maxElapsedMillis;
      let last: Attempt & { kind: "retry" } = {
        kind: "retry",
        error: new Error("no attempt made"),
      };
      for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
        if (signal.aborted) {
          return this.#aborted(signal, attempt - 1, last.error);
        }
        let timeout = timeoutMillis;
        if (attempt > 1 || retry.maxElapsedMillis > 0) {
          const left = Math.floor(deadline - performance.now());
          if (left < 1) {
            return this.#givingUp(
              attempt - 1,
              last,
              `no time left of retry.maxElapsedMillis ${retry.maxElapsedMillis} for another attempt`,
            );
          }
          if (left < timeout) timeout = left;
        }
        if (attempt > 1) this.#retries++;
        this.#attempts++;
        const outcome = await this.#attempt(payload, signal, timeout);
        if (outcome.kind === "done") return outcome.result;
        last = outcome;
        if (signal.aborted) return this.#aborted(signal, attempt, last.error);
        if (attempt === retry.maxAttempts) break;
        const delay = outcome.retryAfterMillis ?? this.#backoff(attempt);
        if (performance.now() + delay >= deadline) {
          return this.#givingUp(
            attempt,
            last,
            `the next attempt (in ${
              Math.round(delay)
            } ms) would start past retry.maxElapsedMillis ${retry.maxElapsedMillis}`,
          );
        }
        if (!(await sleep(delay, signal))) {
          return this.#aborted(signal, attempt, last.error);
        }
      }
      return this.#givingUp(
        retry.maxAttempts,
        last,
        `retry.maxAttempts ${retry.maxAttempts} reached`,
      );
    } catch (error) {
      // Only an encoding or compression bug gets here.
      return { code: "failure", retryable: false, error: errorOf(error) };
    } finally {
      this.#release();
    }
  }

  #backoff(attempt: number): number {
    const {
      initialBackoffMillis,
      maxBackoffMillis,
      backoffMultiplier,
      jitter,
    } = this.config.retry;
    const base = Math.min(
      maxBackoffMillis,
      initialBackoffMillis * backoffMultiplier ** (attempt - 1),
    );
    const spread = base * jitter * (2 * Math.random() - 1);
    return Math.max(0, Math.min(maxBackoffMillis, base + spread));
  }

  #aborted(
    signal: AbortSignal,
    attempts: number,
    last: Error | undefined,
  ): ExportResult {
    const reason = errorOf(signal.reason ?? "aborted");
    const cause = last ?? reason;
    return {
      code: "failure",
      retryable: true,
      error: new ExportError(
        `Export to ${this.config.displayUrl} aborted after ${attempts} attempt(s): ${reason.message}${
          last !== undefined && last !== reason
            ? ` (last error: ${last.message})`
            : ""
        }`,
        { retryable: true, cause },
      ),
    };
  }

  #givingUp(
    attempts: number,
    last: Attempt & { kind: "retry" },
    why: string,
  ): ExportResult {
    return {
      code: "failure",
      retryable: true,
      error: new ExportError(
        `Export to ${this.config.displayUrl} failed after ${attempts} attempt(s): ${last.error.message}; ${why}`,
        { status: last.status, retryable: true, cause: last.error },
      ),
    };
  }

  async #attempt(
    payload: Uint8Array<ArrayBuffer>,
    signal: AbortSignal,
    timeoutMillis: number,
  ): Promise<Attempt> {
    const { headers, displayUrl, protocol } = this.config;
    const controller = new AbortController();
    let timedOut = false;
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(
        new DOMException(
          `Request timed out after ${timeoutMillis} ms`,
          "TimeoutError",
        ),
      );
    }, timeoutMillis);
    // The URL of this hop: the endpoint, or where a same-origin 307/308 sent us.
    let url = this.config.url;
    try {
      let response: Response;
      for (let hop = 0;; hop++) {
        response = await this.config.fetch(url, {
          method: "POST",
          headers: headers as [string, string][],
          body: payload,
          signal: controller.signal,
          // Never let fetch follow a redirect: it would turn 301/302/303
          // into a body-less GET that answers 200, and send our headers to
          // whatever origin the Location names.
          redirect: "manual",
        });
        const redirect = this.#redirect(response, url, hop);
        if (redirect === undefined) break;
        await response.body?.cancel().catch(() => {});
        if (typeof redirect === "string") {
          return {
            kind: "done",
            result: this.#notFollowed(redirect, response.status),
          };
        }
        url = redirect.href;
      }
      const status = response.status;
      if (status >= 200 && status < 300) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        return {
          kind: "done",
          result: this.#success(
            bytes,
            response.headers.get("content-type"),
            protocol,
          ),
        };
      }
      if (isRetryableStatus(status)) {
        const retryAfterMillis = parseRetryAfter(
          response.headers.get("retry-after"),
        );
        await response.body?.cancel().catch(() => {});
        return {
          kind: "retry",
          status,
          retryAfterMillis,
          error: new ExportError(
            `Export to ${displayUrl} failed: HTTP ${status}`,
            { status, retryable: true },
          ),
        };
      }
      // Not retryable: read the server's google.rpc.Status message, if any.
      let detail: string | undefined;
      try {
        const bytes = new Uint8Array(await response.arrayBuffer());
        detail = this.#statusMessage(
          bytes,
          response.headers.get("content-type"),
        );
      } catch {
        detail = undefined;
      }
      return {
        kind: "done",
        result: {
          code: "failure",
          retryable: false,
          error: new ExportError(
            `Export to ${displayUrl} failed: HTTP ${status}${
              detail ? ` (${detail})` : ""
            }; not retrying`,
            { status, retryable: false },
          ),
        },
      };
    } catch (error) {
      if (timedOut) {
        return {
          kind: "retry",
          error: new ExportError(
            `Export to ${displayUrl} timed out after ${timeoutMillis} ms${
              timeoutMillis < this.config.timeoutMillis
                ? ` (timeoutMillis ${this.config.timeoutMillis}, cut to what was left of retry.maxElapsedMillis)`
                : ""
            }`,
            { retryable: true },
          ),
        };
      }
      const reason = this.#redact(describeError(error), url);
      return {
        kind: "retry",
        error: new ExportError(
          `Export to ${displayUrl} failed: ${reason}`,
          { retryable: true, cause: this.#redactedError(error, reason) },
        ),
      };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * What to do with a response: `undefined` when it is not a redirect, the
   * URL of the next hop for a 307 or 308 to the same origin (within
   * MAX_REDIRECTS), else why it is not followed.
   */
  #redirect(
    response: Response,
    url: string,
    hop: number,
  ): URL | string | undefined {
    const status = response.status;
    if (response.type === "opaqueredirect" || status === 0) {
      // What a browser-like fetch hands back for redirect: "manual".
      return "a redirect whose status and Location the runtime hides (opaque redirect)";
    }
    if (response.redirected) {
      // A fetch passed in options that follows redirects anyway.
      return `a redirect (to ${
        displayOf(response.url)
      }) that the fetch in use followed although asked not to`;
    }
    if (status < 300 || status > 399) return undefined;
    const location = response.headers.get("location");
    if (location === null || location === "") {
      return `HTTP ${status} without a Location`;
    }
    let target: URL;
    try {
      target = new URL(location, url);
    } catch {
      return `HTTP ${status} with an invalid Location`;
    }
    const where = `HTTP ${status} redirect to ${displayUrl(target)}`;
    if (status !== 307 && status !== 308) {
      return `${where}; only 307 and 308 (which keep the method and body) are followed`;
    }
    if (target.origin !== new URL(this.config.url).origin) {
      return `${where}, another origin; not followed, so that the configured headers never reach it`;
    }
    if (target.username !== "" || target.password !== "") {
      return `${where}, with credentials in the Location; not followed`;
    }
    if (target.href === url) return `${where}, the URL itself`;
    if (hop >= MAX_REDIRECTS) {
      return `${where}, more than ${MAX_REDIRECTS} redirects in a row`;
    }
    return target;
  }

  #notFollowed(why: string, status: number): ExportResult {
    return {
      code: "failure",
      retryable: false,
      error: new ExportError(
        `Export to ${this.config.displayUrl} failed: ${why}; the batch was not delivered, set the endpoint to the final URL`,
        { status: status === 0 ? undefined : status, retryable: false },
      ),
    };
  }

  /**
   * A runtime's error text with every URL this export used replaced by its
   * display form (a query may hold a token) and every configured header
   * value cut out.
   */
  #redact(text: string, hopUrl: string): string {
    const { url, headers } = this.config;
    let out = text;
    for (const u of hopUrl === url ? [url] : [url, hopUrl]) {
      const shown = displayOf(u);
      if (u !== shown) out = out.split(u).join(shown);
    }
    for (const [, value] of headers) {
      if (value.length >= 4 && out.includes(value)) {
        out = out.split(value).join("[redacted]");
      }
    }
    return out;
  }

  /** The error to hand on as `cause`: the runtime's own when it holds nothing to redact, else a copy with the redacted text. */
  #redactedError(error: unknown, redacted: string): Error {
    const e = errorOf(error);
    if (redacted === describeError(error)) return e;
    const copy = new Error(redacted);
    copy.name = safeText(() => e.name) ?? "Error";
    return copy;
  }

  #success(
    bytes: Uint8Array,
    contentType: string | null,
    protocol: string,
  ): ExportResult {
    if (bytes.length === 0) return { code: "success" };
    const json = contentType !== null
      ? contentType.includes("json")
      : protocol === "http/json";
    let partial: { rejected: number; message: string } | undefined;
    try {
      partial = json
        ? decodePartialSuccessJson(new TextDecoder().decode(bytes))
        : decodePartialSuccess(bytes);
    } catch {
      partial = undefined; // an unreadable success body is still a success
    }
    if (
      partial === undefined ||
      (partial.rejected === 0 && partial.message === "")
    ) return { code: "success" };
    this.#rejected += partial.rejected;
    if (partial.rejected === 0) {
      reportDiagnostic(
        this.config.diagnostics,
        this.#source,
        "warn",
        `Receiver at ${this.config.displayUrl} accepted the batch with a warning: ${partial.message}`,
      );
      return { code: "success", message: partial.message };
    }
    return partial.message === ""
      ? {
        code: "success",
        rejected: partial.rejected,
        message: `${partial.rejected} ${this.#rejectedField} rejected`,
      }
      : {
        code: "success",
        rejected: partial.rejected,
        message: partial.message,
      };
  }

  #statusMessage(
    bytes: Uint8Array,
    contentType: string | null,
  ): string | undefined {
    if (bytes.length === 0) return undefined;
    let message: string | undefined;
    if (contentType !== null && contentType.includes("json")) {
      try {
        const parsed = JSON.parse(new TextDecoder().decode(bytes)) as {
          message?: unknown;
        };
        message = typeof parsed?.message === "string"
          ? parsed.message
          : undefined;
      } catch {
        message = undefined;
      }
    } else if (contentType !== null && contentType.includes("protobuf")) {
      message = decodeStatusMessage(bytes);
    }
    if (message === undefined || message === "") return undefined;
    return message.length > 200 ? message.slice(0, 200) + "…" : message;
  }

  /** Waits for every export in flight. */
  async forceFlush(): Promise<void> {
    await Promise.all(this.#inFlight);
  }

  /** Refuses new exports, waits up to shutdownTimeoutMillis for those in flight, then aborts them. */
  shutdown(): Promise<void> {
    return this.#shutdownPromise ??= this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight.size > 0) {
      const timeout = new AbortController();
      const settled = Promise.all(this.#inFlight).then(() => true);
      const waited = await Promise.race([
        settled,
        sleep(this.config.shutdownTimeoutMillis, timeout.signal).then(() =>
          false
        ),
      ]);
      timeout.abort();
      if (waited !== true) {
        this.#stop.abort(
          new DOMException(
            `${this.#source} shut down with exports in flight after ${this.config.shutdownTimeoutMillis} ms`,
            "AbortError",
          ),
        );
        await Promise.all(this.#inFlight);
      }
    }
    this.#stop.abort(
      new DOMException(`${this.#source} is shut down`, "AbortError"),
    );
  }
}
