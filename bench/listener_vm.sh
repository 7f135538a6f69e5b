#!/usr/bin/env bash
# Opt-in, not part of bench/report: user_events listener throughput against
# perf-collect on the same C writer load and ring size, in ONE boot of the
# user_events VM (TCG: only the ratio within one run means anything).
#   bench/listener_vm.sh [N] [BUFFER_KIB]     defaults 20000 128
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
kib=${2:-128}
if [ "${UEVM_GUEST:-}" = 1 ]; then
  ./node_modules/.bin/deno run -A --no-check bench/listener_rate.ts "$n" "$kib" 1
  ./node_modules/.bin/bun run bench/listener_rate.ts "$n" "$kib" 1
  exit 0
fi
runner=${UEVM_RUNNER:-$(pwd)/../shared/vm/run-in-vm.sh}
exec "$runner" -t 900 -e SEED_SHARED="${SEED_SHARED:-$(cd .. && pwd)/shared}" -- bash bench/listener_vm.sh "$n" "$kib"
