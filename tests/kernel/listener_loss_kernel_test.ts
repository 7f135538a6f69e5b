// Real-kernel test of the listener's loss accounting (receivers/user_events):
// a reader that does not drain while a writer overflows a one-page ring
// makes the kernel drop samples and, once the reader frees space and the
// writer writes again, report them in a PERF_RECORD_LOST record. The
// listener's count from those records must equal the kernel's exact count
// (read() on every fd, at close). perf-collect, stopped with SIGSTOP over
// the same burst on the same tracepoint and ring size, is the independent
// witness: it keeps the same events, so the kernel dropped as many for it.
// Runs inside the test VM (UEVM_GUEST=1) and skips elsewhere.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import {
  type ListenedEvent,
  openUserEventsListener,
} from "../../receivers/user_events/mod.ts";
import {
  buildCWriter,
  perfDecode,
  startPerfCollect,
  stopPerfCollect,
} from "./_perf_tools.ts";
import { RUNTIME, SKIP } from "./_tracefs.ts";

const C_WRITER = `/tmp/seed_loss_writer_${process.pid}`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Writes `n` events of `provider`_L5K1 from the C writer, pinned to CPU 0
 * (so every sample goes to CPU 0's rings), while this thread waits: no
 * drain happens meanwhile.
 */
function writeOnCpu0(provider: string, n: number): void {
  const r = spawnSync("taskset", ["-c", "0", C_WRITER, provider, String(n)], {
    encoding: "utf8",
    timeout: 60000,
  });
  assert.equal(r.status, 0, `writer: ${r.status} ${r.stderr}`);
  assert.match(r.stdout, new RegExp(`written ${n}`));
}

describe("UserEventsListener loss accounting on a real kernel", () => {
  it(
    "an overflowed one-page ring: the listener's PERF_RECORD_LOST sum equals the kernel's exact count, events + lost = written, and a stalled perf-collect on the same ring size kept the same events",
    { skip: SKIP, timeout: 180000 },
    async () => {
      buildCWriter(C_WRITER);
      const provider = `seedloss_${RUNTIME}_${process.pid}`;
      const file = `/tmp/seedloss_${process.pid}.data`;
      const burst = 300;
      const after = 10;
      const collector = await startPerfCollect(file, [`${provider}_L5K1`], 4);
      let stopped = false;
      let collecting = true;
      try {
        using listener = await openUserEventsListener({
          providers: [provider],
          levels: [5],
          bufferKiB: 4,
          // Nothing copies the ring out while the writer runs.
          copyThread: false,
          holdBackMs: 0,
        });
        const events: number[] = [];
        const onEvent = (e: ListenedEvent) => {
          events.push(Number(e.event.fields[0]?.value));
        };
        // The writer waits for the enable bit, set by now by both readers.
        process.kill(collector.child.pid!, "SIGSTOP");
        stopped = true;
        writeOnCpu0(provider, burst);
        const beforeDrain = listener.stats;
        assert.equal(beforeDrain.lostRecords, 0);
        // Free the ring, then let the kernel report what it dropped: it
        // writes the LOST record in front of the next sample that fits.
        listener.drain(onEvent);
        const kept = events.length;
        assert.ok(kept > 0 && kept < burst, `kept ${kept} of ${burst}`);
        process.kill(collector.child.pid!, "SIGCONT");
        stopped = false;
        await sleep(1000); // perf-collect empties its ring
        writeOnCpu0(provider, after);
        listener.drain(onEvent);
        const running = listener.stats;
        const stats = listener.close(onEvent);
        await stopPerfCollect(collector);
        collecting = false;
        const decoded = perfDecode(file);
        const theirs = decoded.filter((e) => e.n?.startsWith(`${provider}:`));
        const theirCounts = theirs.map((e) => Number(e.count));
        console.log(
          `loss test (${RUNTIME}): listener kept ${kept} of ${burst}, read ${events.length}, LOST records ${running.lostRecords} sum ${running.lost}, exact ${stats.lost}; perf-collect captured ${theirs.length}`,
        );
        const written = burst + after;
        // The listener: every event read or counted lost, the LOST records
        // seen while running, their sum equal to the kernel's exact count.
        assert.ok(running.lostRecords >= 1, JSON.stringify(running));
        assert.equal(running.lost, burst - kept, JSON.stringify(running));
        assert.equal(stats.lost, running.lost, JSON.stringify(stats));
        assert.equal(stats.events, events.length);
        assert.equal(events.length + stats.lost, written);
        // Read in order, with one gap: the events that did not fit.
        assert.deepEqual(events.slice(0, kept), [...Array(kept).keys()]);
        assert.deepEqual(
          events.slice(kept),
          [...Array(after).keys()],
          "the second burst, whole",
        );
        // perf-collect, SIGSTOPped over the same burst with the same ring
        // size and the same sample layout (120 bytes here: 34 fit in 4 KiB,
        // where 112-byte samples would fit 36), kept exactly the events the
        // listener kept: so the kernel dropped as many for it as the
        // listener reports. (perf-decode prints samples only, not the LOST
        // records perf-collect saved.)
        assert.deepEqual(theirCounts, events, "the same events, in order");
        assert.equal(written - theirs.length, stats.lost);
      } finally {
        // A failure above: end perf-collect without waiting on it (a child
        // Deno signalled may never report its exit).
        if (stopped) process.kill(collector.child.pid!, "SIGCONT");
        if (collecting) collector.child.kill("SIGKILL");
      }
    },
  );
});
