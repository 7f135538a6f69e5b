// The TypeScript side of the enabled user_events case (bench/kernel.sh):
// registers `bench_L1K1`..`bench_L5K1` through the real UserEventsProcessor
// (libc FFI), enables `bench_L4K1` through tracefs, then times ROUNDS x N
// emits of the fixture record, straight to `onEmit` and through
// `Logger.emit`. Prints one JSON line per variant. Needs a kernel with
// user_events (run it in the VM: bench/kernel.sh).
//
//   deno run -A --no-check bench/kernel_emit.ts N ROUNDS
//   bun run bench/kernel_emit.ts N ROUNDS
//   deno run -A bench/kernel_emit.ts --dump   # one event's bytes, fake libc

import { writeFileSync } from "node:fs";
import { LoggerProvider, Resource } from "../mod.ts";
import {
  openUserEventsProcessor,
  UserEventsProcessor,
} from "../processors/user_events/mod.ts";
import { FakeLibc } from "./_fake_libc.ts";
import { RECORD } from "./_fixtures.ts";
import { hostInfo } from "./_host.ts";

const PROVIDER = "bench";
const ENABLE = `/sys/kernel/tracing/events/user_events/${PROVIDER}_L4K1/enable`;
const noEnv = (): undefined => undefined;

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === "--dump") {
    const libc = new FakeLibc();
    const processor = new UserEventsProcessor(libc, { providerName: PROVIDER });
    libc.setEnabled(true);
    libc.keepLast = true;
    const logger = new LoggerProvider({
      env: noEnv,
      resource: new Resource({ "service.name": "bench" }),
      processors: [processor],
    }).getLogger("bench");
    logger.emit(RECORD);
    const bytes = libc.last!.subarray(4);
    console.log(
      Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
    );
    // The record's time (ms), for the C side (UE_TIME_MS).
    console.log(String(RECORD.timestamp));
    return;
  }
  const n = Number(argv[0] ?? 20000);
  const rounds = Number(argv[1] ?? 5);
  const processor = await openUserEventsProcessor({
    providerName: PROVIDER,
    diagnostics: (d) => console.error(d.message),
  });
  const provider = new LoggerProvider({
    env: noEnv,
    resource: new Resource({ "service.name": "bench" }),
    processors: [processor],
  });
  const logger = provider.getLogger("bench");
  const context = logger.context;
  writeFileSync(ENABLE, "1");
  for (let i = 0; i < 2000 && !processor.enabled(9); i++) {
    await new Promise((r) => setTimeout(r, 1));
  }
  if (!processor.enabled(9)) throw new Error("enable word never set");
  const host = await hostInfo();
  const record = RECORD;
  const variants: [string, () => void][] = [
    ["processor-onEmit", () => {
      for (let i = 0; i < n; i++) processor.onEmit(record, context);
    }],
    ["logger-emit", () => {
      for (let i = 0; i < n; i++) logger.emit(record);
    }],
  ];
  for (const [variant, loop] of variants) {
    const per: number[] = [];
    const before = processor.stats.written;
    for (let r = -1; r < rounds; r++) {
      const t0 = performance.now();
      loop();
      const t1 = performance.now();
      if (r >= 0) per.push((t1 - t0) * 1e6 / n);
    }
    const stats = processor.stats;
    console.log(JSON.stringify({
      runtime: host.runtime,
      version: host.version,
      variant,
      nsPerOp: median(per),
      rounds: per.map((x) => Math.round(x * 10) / 10),
      written: stats.written - before,
      dropped: stats.droppedNoListener + stats.droppedWriteError,
    }));
  }
  writeFileSync(ENABLE, "0");
  await provider.shutdown();
}

await main(
  typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2),
);
