// Test doubles shared by the pipeline tests: a manual scheduler and a
// scriptable exporter.

import type {
  BatchScheduler,
  Diagnostic,
  Exporter,
  ExportResult,
} from "../../mod.ts";

export interface FakeTimer {
  fn: () => void;
  ms: number;
  cancelled: boolean;
}

/** A scheduler whose timers run only when the test says so. */
export class ManualScheduler implements BatchScheduler {
  timers: FakeTimer[] = [];
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { fn, ms, cancelled: false };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    (handle as FakeTimer).cancelled = true;
  }
  /** Live timers. */
  pending(): FakeTimer[] {
    return this.timers.filter((t) => !t.cancelled);
  }
  /** Runs every live timer with the given delay (all delays when omitted). */
  fire(ms?: number): number {
    const due = this.pending().filter((t) => ms === undefined || t.ms === ms);
    for (const t of due) {
      t.cancelled = true;
      t.fn();
    }
    return due.length;
  }
}

type Script = (
  batch: readonly unknown[],
  signal: AbortSignal,
) => Promise<ExportResult>;

/** An exporter whose behaviour each test scripts; records every call. */
export class ScriptedExporter<T> implements Exporter<T> {
  calls: (readonly T[])[] = [];
  signals: AbortSignal[] = [];
  shutdownCalls = 0;
  script: Script = () => Promise.resolve({ code: "success" });
  export(batch: readonly T[], signal: AbortSignal): Promise<ExportResult> {
    this.calls.push(batch.slice());
    this.signals.push(signal);
    return this.script(batch, signal);
  }
  shutdown(): Promise<void> {
    this.shutdownCalls++;
    return Promise.resolve();
  }
}

/** A promise with its resolver, for exports the test completes by hand. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((r) => setTimeout(r, 0));
  }
}

/** A diagnostics sink that keeps everything. */
export function collect(): {
  sink: (d: Diagnostic) => void;
  seen: Diagnostic[];
} {
  const seen: Diagnostic[] = [];
  return { sink: (d) => seen.push(d), seen };
}

/** An environment made of a plain object. */
export function envOf(
  vars: Record<string, string>,
): (name: string) => string | undefined {
  return (name) => vars[name];
}
