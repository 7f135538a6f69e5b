// The OTLP/HTTP transport shared by the log and span exporters: a bounded
// number of exports in flight, one POST per attempt with its own timeout,
// optional gzip (once per batch), the OTLP retry policy, partial-success
// decoding, and a shutdown that waits, then aborts.

import {
  ExportError,
  type ExportResult,
  reportDiagnostic,
} from "../../pipeline/mod.ts";
import { decodePartialSuccessJson } from "../_otlp_json.ts";
import { decodePartialSuccess, decodeStatusMessage } from "../_otlp_proto.ts";
import type { ResolvedOtlpConfig } from "./_config.ts";

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

async function gzip(
  data: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function errorOf(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
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
    this.#rejectedField = source.includes("Log") ? "log records" : "spans";
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
      const { retry, compression } = this.config;
      const payload = compression === "gzip" ? await gzip(body) : body;
      const started = performance.now();
      let last: Attempt & { kind: "retry" } = {
        kind: "retry",
        error: new Error("no attempt made"),
      };
      for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
        if (signal.aborted) {
          return this.#aborted(signal, attempt - 1, last.error);
        }
        if (attempt > 1) this.#retries++;
        this.#attempts++;
        const outcome = await this.#attempt(payload, signal);
        if (outcome.kind === "done") return outcome.result;
        last = outcome;
        if (signal.aborted) return this.#aborted(signal, attempt, last.error);
        if (attempt === retry.maxAttempts) break;
        const delay = outcome.retryAfterMillis ?? this.#backoff(attempt);
        if (performance.now() - started + delay > retry.maxElapsedMillis) {
          return this.#givingUp(
            attempt,
            last,
            `the next attempt (in ${
              Math.round(delay)
            } ms) would end past retry.maxElapsedMillis ${retry.maxElapsedMillis}`,
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
  ): Promise<Attempt> {
    const { timeoutMillis, headers, url, displayUrl, protocol } = this.config;
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
    try {
      const response = await this.config.fetch(url, {
        method: "POST",
        headers: headers as [string, string][],
        body: payload,
        signal: controller.signal,
      });
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
            `Export to ${displayUrl} timed out after ${timeoutMillis} ms`,
            {
              retryable: true,
              cause: error,
            },
          ),
        };
      }
      const cause = this.#redact(error);
      return {
        kind: "retry",
        error: new ExportError(
          `Export to ${displayUrl} failed: ${cause.message}`,
          { retryable: true, cause },
        ),
      };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** A runtime's network error, with the full URL (its query may hold a token) replaced by the display URL. */
  #redact(error: unknown): Error {
    const e = errorOf(error);
    const { url, displayUrl } = this.config;
    if (url === displayUrl) return e;
    const leaks = (text: string | undefined) =>
      text !== undefined && text.includes(url);
    let deep = false;
    let cause: unknown = e.cause;
    for (let i = 0; i < 4 && cause instanceof Error; i++, cause = cause.cause) {
      if (leaks(cause.message) || leaks(cause.stack)) deep = true;
    }
    if (!deep && !leaks(e.message) && !leaks(e.stack)) return e;
    const redacted = new Error(e.message.split(url).join(displayUrl));
    redacted.name = e.name;
    return redacted;
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
