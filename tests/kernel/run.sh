#!/usr/bin/env bash
# Runs the real-kernel user_events tests inside the test VM, under Deno, Bun
# and Node 26 (one VM boot each), from the project root. Fails if the VM cannot
# boot (run-in-vm.sh exits 125) instead of skipping.
#   tests/kernel/run.sh                 # all three runtimes
#   tests/kernel/run.sh deno|bun|node   # one
# Node 26 crashes now and then in this VM (tests/kernel/node_abort/README.md),
# which is why tests/run.sh runs the Node step only with SEED_TEST_NODE_KERNEL=1.
# SEED_SHARED: the shared/ directory (default: ../shared next to the checkout).
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SEED_SHARED:-$(cd .. && pwd)/shared}
VM="$SHARED/vm/run-in-vm.sh"
[ -x "$VM" ] || { echo "tests/kernel/run.sh: $VM not found (set SEED_SHARED)" >&2; exit 2; }
runtimes=("${@:-deno bun node}")
# shellcheck disable=SC2206
runtimes=(${runtimes[*]})
status=0
for rt in "${runtimes[@]}"; do
	case $rt in
	deno) cmd=(./node_modules/.bin/deno test -A --no-check tests/kernel/) ;;
	bun) cmd=(./node_modules/.bin/bun test --timeout 120000 tests/kernel/) ;;
	node) cmd=(./node_modules/.bin/node --no-warnings --experimental-ffi --test --test-concurrency=1 tests/kernel/) ;;
	*) echo "unknown runtime $rt" >&2; exit 2 ;;
	esac
	echo "=== $rt: ${cmd[*]} (in the user_events VM)"
	if "$VM" -t 900 -e NO_COLOR=1 -e SEED_SHARED="$SHARED" -- "${cmd[@]}"; then
		echo "=== $rt: ok"
	else
		rc=$?
		note=""
		[ "$rc" = 125 ] && note=": the VM did not boot"
		echo "=== $rt: FAILED (exit $rc$note)"
		status=1
	fi
done
exit $status
