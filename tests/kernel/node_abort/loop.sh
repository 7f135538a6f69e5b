#!/usr/bin/env bash
# Runs one command N times and counts V8 aborts. Meant for inside the test VM:
#   shared/vm/run-in-vm.sh -- tests/kernel/node_abort/loop.sh N LABEL CMD ARGS...
# Prints "LABEL: A aborts (Check failed), S other signals, F other failures / N runs".
set -u
n=$1; label=$2; shift 2
out=tests/kernel/node_abort/out/$label
mkdir -p "$out"
aborts=0; signals=0; fails=0
for i in $(seq 1 "$n"); do
	"$@" >"$out/$i.out" 2>"$out/$i.err" </dev/null
	rc=$?
	if grep -q "Check failed" "$out/$i.err"; then
		aborts=$((aborts + 1)); cp "$out/$i.err" "$out/abort-$i.err"
	elif [ "$rc" -gt 128 ]; then
		signals=$((signals + 1)); cp "$out/$i.err" "$out/signal-$i-rc$rc.err"
	elif [ "$rc" -ne 0 ]; then
		fails=$((fails + 1)); cp "$out/$i.err" "$out/fail-$i-rc$rc.err"
	fi
	rm -f "$out/$i.out" "$out/$i.err"
done
echo "$label: $aborts aborts (Check failed), $signals other signals, $fails other failures / $n runs"
