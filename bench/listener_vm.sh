#!/usr/bin/env bash
# Opt-in: user_events listener throughput against perf-collect on the same C
# writer load and ring size, and the forwarder's end-to-end rate (writer ->
# listener -> OTLP/HTTP -> a loopback collector process), Deno and Bun in ONE
# boot of the user_events VM (TCG: only ratios within one run mean anything).
#   bench/listener_vm.sh [OUT.jsonl] [N] [BUFFER_KIB] [RATE...]
#   defaults: bench/bin/listener.jsonl 20000 128 0   (RATE 0: as fast as it can)
# bench/report runs it and writes its rows into bench/RESULTS.md.
# Opt-in studies (environment, passed into the VM; see bench/listener_rate.ts):
#   LISTENER_BENCH_SEARCH=2000,16000,3  the highest loss-free paced rate of the
#                                       listener and of perf-collect (bisection)
#   LISTENER_BENCH_VARIANTS=fifo:writer,none:other,fifo:writer:1,off,fifo:writer::idle
#                                       copy-worker priority:placement:wake-up
#                                       shift (or a fraction below 1, e.g. 0.75)
#                                       :main thread (decode, skip: count
#                                       without decoding, idle: drain only
#                                       after the writer), or off (no copy
#                                       worker)
#                                       (a 5th field: KiB of each copy queue
#                                       touched first, e.g. fifo:writer::decode:8192)
#                                       (a 6th: the copy worker's poll timeout
#                                       in ms, e.g. fifo:writer::decode::50)
#   LISTENER_BENCH_SWEEP=150000:10000,20000,40000,60000,80000,120000,160000,0
#                                       (the default) the sustained-rate
#                                       sweep: N events per run at each rate
#                                       (0: max), the listener (copy worker)
#                                       and perf-collect in turn, after the
#                                       rows above; "" skips it
#   LISTENER_BENCH_SWEEP_SECONDS=5      at most this long per paced run
#   LISTENER_BENCH_SWEEP_REPEAT=1       sweeps per runtime (the spread)
#   LISTENER_BENCH_RUNTIMES="deno"      which runtimes run (default "deno bun")
#   RATE... repeated (0 0 0): the variants and perf-collect interleaved
#   LISTENER_BENCH_ONLY=rate            skip the no-worker and forwarder runs
#   LISTENER_BENCH_ONLY=sweep           only the warm-up and the sweep
#   LISTENER_BENCH_WARMUP=0             no unreported warm-up run first
#   LISTENER_BENCH_TIMEOUT=1800         the VM's time limit in s (default 900;
#                                       at host load 10-15 the 6-variant x 3
#                                       series needed ~12 min per runtime)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/bin/listener.jsonl}
n=${2:-20000}
kib=${3:-128}
shift $(($# < 3 ? $# : 3))
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(0)
export LISTENER_BENCH_SWEEP=${LISTENER_BENCH_SWEEP-150000:10000,20000,40000,60000,80000,120000,160000,0}
if [ "${UEVM_GUEST:-}" = 1 ]; then
  : >"$out"
  case " ${LISTENER_BENCH_RUNTIMES:-deno bun} " in *" deno "*)
    ./node_modules/.bin/deno run -A --no-check bench/listener_rate.ts "$n" "$kib" "${rates[@]}" | tee -a "$out" ;;
  esac
  case " ${LISTENER_BENCH_RUNTIMES:-deno bun} " in *" bun "*)
    ./node_modules/.bin/bun run bench/listener_rate.ts "$n" "$kib" "${rates[@]}" | tee -a "$out" ;;
  esac
  exit 0
fi
runner=${UEVM_RUNNER:-${SEED_SHARED:-$(pwd)/../shared}/vm/run-in-vm.sh}
if [ ! -x "$runner" ]; then
  echo "listener_vm.sh: no VM runner at $runner (set SEED_SHARED or UEVM_RUNNER)" >&2
  exit 2
fi
mkdir -p "$(dirname "$out")"
./node_modules/.bin/deno check bench/listener_rate.ts bench/_otlp_sink.ts >/dev/null
# The host's load around the boot (TCG shares the host's 2 noisy cores).
before=$(cat /proc/loadavg)
"$runner" -t "${LISTENER_BENCH_TIMEOUT:-900}" -e SEED_SHARED="${SEED_SHARED:-$(cd .. && pwd)/shared}" -- \
  bash bench/listener_vm.sh "$out" "$n" "$kib" "${rates[@]}"
printf '{"reader":"host-load","before":"%s","after":"%s"}\n' \
  "$(cut -d' ' -f1-3 <<<"$before")" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
