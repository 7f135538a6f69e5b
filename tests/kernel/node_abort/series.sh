#!/usr/bin/env bash
# On the host, from the project root: boots the VM again and again until
# UNTIL (UTC, HH:MM), each boot running flags.sh with VARIANTS for at most
# BOOT seconds (default 1500), under nice -n 19, with CPUS vCPUs. Output of
# every boot is appended to tests/kernel/node_abort/out/series-NAME.log; the
# per-run log is out/flagsNAME/runs.log (written inside the VM).
#   tests/kernel/node_abort/series.sh NAME CPUS UNTIL VARIANT...
#   tests/kernel/node_abort/series.sh -2cpu 2 22:30 base= js= &
#   tests/kernel/node_abort/series.sh -1cpu 1 22:30 base= &
set -u
name=$1 cpus=$2 until=$3; shift 3
boot=${SERIES_BOOT:-1500}
vm=${SEED_SHARED:-../shared}/vm/run-in-vm.sh
out=tests/kernel/node_abort/out
mkdir -p "$out"
end=$(date -u -d "today $until" +%s)
n=0
while :; do
	left=$(( end - $(date +%s) ))
	# a round of two variants can take 150 s on a busy host: keep that margin
	[ "$left" -lt 300 ] && break
	len=$(( left - 240 < boot ? left - 240 : boot ))
	n=$((n + 1))
	echo "=== boot $n $(date -u +%T) ($cpus vCPU, $len s, load $(cut -d' ' -f1-3 /proc/loadavg))" >>"$out/series$name.log"
	nice -n 19 "$vm" -c "$cpus" -t $((len + 200)) -e FLAGS_OUT_SUFFIX="$name" -e FLAGS_SECONDS="$len" \
		-- tests/kernel/node_abort/flags.sh 100000 "$@" >>"$out/series$name.log" 2>&1
	echo "=== boot $n exit $? $(date -u +%T) (load $(cut -d' ' -f1-3 /proc/loadavg))" >>"$out/series$name.log"
done
