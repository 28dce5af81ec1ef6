#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-bench.sh - lixs beside cxenstored, oxenstored and xsfloor (the
# harness's own limit), in one run, with ../shared/peers' xsbench.
#
#   bench/run-bench.sh BUILD_DIR SHARED_DIR
#
# Workloads (see SHARED_DIR/peers/README.md for why pinning matters):
#   rtt   sequential WRITE+READ pairs on one connection, client and daemon
#         pinned to CPU 0 (taskset -c 0; XSPEER_CPU=0 for the peers)
#   conc  8 connections, closed loop, nothing pinned
# Each (workload, daemon) runs BENCH_REPS times, daemons alternating, on a
# freshly started daemon; the table shows the median ops/s and lixs's
# ratio to each other daemon.  Raw xsbench lines and daemon logs stay in
# the work directory printed at the end.
#
# Environment: BENCH_REPS (3), BENCH_RTT_N (20000 pairs), BENCH_SECS (3,
# conc duration), BENCH_DAEMONS ("xsfloor lixs cxenstored oxenstored"),
# BENCH_CPU (0, the CPU for pinned runs).
set -euo pipefail

[ $# -eq 2 ] || {
	echo "usage: $0 BUILD_DIR SHARED_DIR" >&2
	exit 2
}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "$1" && pwd)
shared=$(cd "$2" && pwd)
reps=${BENCH_REPS:-3}
rtt_n=${BENCH_RTT_N:-20000}
secs=${BENCH_SECS:-3}
cpu=${BENCH_CPU:-0}
read -r -a daemons <<<"${BENCH_DAEMONS:-xsfloor lixs cxenstored oxenstored}"

work=$(mktemp -d "${TMPDIR:-/tmp}/lixs-bench.XXXXXX")
tools=$work/tools
export XSPEER_BUILD=$tools LIXS_BUILD=$build
xsbench=$tools/xsbench
cmdlog=$work/commands

echo "building the peers' tools into $tools" >&2
make -s -C "$shared/peers" O="$tools" >&2

# Log a command to the command list, then run it.
logrun() {
	printf '%s\n' "$*" >>"$cmdlog"
	"$@"
}

alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# start DAEMON SOCKET PINNED(0|1): start one daemon, echo nothing, or fail.
start() {
	local d=$1 sock=$2 pinned=$3 pin=()
	[ "$pinned" = 1 ] && pin=(taskset -c "$cpu")
	case $d in
	xsfloor)
		mkdir -p "$sock.d"
		printf '%s\n' "${pin[*]:+${pin[*]} }$tools/xsfloor $sock &" >>"$cmdlog"
		setsid "${pin[@]}" "$tools/xsfloor" "$sock" </dev/null \
			>"$sock.d/daemon.log" 2>&1 &
		echo $! >"$sock.d/floor.pid"
		for _ in $(seq 100); do [ -S "$sock" ] && return 0; sleep 0.05; done
		return 1
		;;
	lixs)
		if [ "$pinned" = 1 ]; then
			logrun env XSPEER_CPU="$cpu" "$here/run-lixs.sh" "$sock" >/dev/null
		else
			logrun "$here/run-lixs.sh" "$sock" >/dev/null
		fi
		;;
	cxenstored | oxenstored)
		if [ "$pinned" = 1 ]; then
			logrun env XSPEER_CPU="$cpu" "$shared/peers/run-peer.sh" "$d" "$sock" >/dev/null
		else
			logrun "$shared/peers/run-peer.sh" "$d" "$sock" >/dev/null
		fi
		;;
	*)
		echo "unknown daemon $d" >&2
		return 1
		;;
	esac
}

stop() {
	local d=$1 sock=$2 pid
	case $d in
	xsfloor)
		pid=$(cat "$sock.d/floor.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
		rm -f "$sock"
		;;
	lixs) "$here/run-lixs.sh" stop "$sock" >/dev/null ;;
	*) "$shared/peers/run-peer.sh" stop "$sock" >/dev/null ;;
	esac
}

# measure WORKLOAD DAEMON REP: one run; prints ops/s or "fail".
measure() {
	local w=$1 d=$2 rep=$3 sock out pinned=0
	sock=$work/$d-$w.sock
	[ "$w" = rtt ] && pinned=1
	if ! start "$d" "$sock" "$pinned" 2>>"$work/errors"; then
		echo "$d failed to start for $w (see $sock.d/)" >>"$work/errors"
		echo fail
		return
	fi
	if [ "$w" = rtt ]; then
		out=$(logrun taskset -c "$cpu" "$xsbench" -S "$sock" rtt -n "$rtt_n" 2>&1) || out="fail: $out"
	else
		out=$(logrun "$xsbench" -S "$sock" conc -c 8 -t "$secs" 2>&1) || out="fail: $out"
	fi
	stop "$d" "$sock" 2>>"$work/errors" || true
	echo "$d $w rep=$rep $out" >>"$work/raw"
	sed -n 's/.*ops_per_s=\([0-9]*\).*/\1/p' <<<"$out" | grep . || echo fail
}

median() {
	local v
	v=$(printf '%s\n' "$@" | grep -E '^[0-9]+$' | sort -n) || true
	[ -n "$v" ] || {
		echo n/a
		return
	}
	local n
	n=$(wc -l <<<"$v")
	sed -n "$(((n + 1) / 2))p" <<<"$v"
}

ratio() {
	case "$1$2" in
	*n/a*) echo n/a ;;
	*) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }' ;;
	esac
}

declare -A result
for w in rtt conc; do
	declare -A runs=()
	for ((r = 1; r <= reps; r++)); do
		for d in "${daemons[@]}"; do
			v=$(measure "$w" "$d" "$r")
			echo "$w $d rep $r: $v ops/s" >&2
			runs[$d]+="$v "
		done
	done
	for d in "${daemons[@]}"; do
		# shellcheck disable=SC2086
		result[$w,$d]=$(median ${runs[$d]})
	done
	unset runs
done

# --- report -----------------------------------------------------------------

others=()
for d in "${daemons[@]}"; do [ "$d" != lixs ] && others+=("$d"); done

echo "## xsbench: lixs beside the upstream daemons"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr)"
echo "median of $reps runs; rtt: $rtt_n write+read pairs, pinned to CPU $cpu;" \
	"conc: 8 connections for $secs s, unpinned"
echo
hdr="| workload |"
sep="|---|"
for d in "${daemons[@]}"; do
	hdr+=" $d ops/s |"
	sep+="---:|"
done
for d in "${others[@]}"; do
	hdr+=" lixs ÷ $d |"
	sep+="---:|"
done
echo "$hdr"
echo "$sep"
for w in rtt conc; do
	row="| $w |"
	for d in "${daemons[@]}"; do row+=" ${result[$w,$d]} |"; done
	for d in "${others[@]}"; do
		row+=" $(ratio "${result[$w,lixs]:-n/a}" "${result[$w,$d]}") |"
	done
	echo "$row"
done
echo
echo "Commands (one repetition; \$W = $work):"
echo
echo '```'
echo "make -C $shared/peers O=\$W/tools"
awk '!seen[$0]++' "$cmdlog" | sed "s|$work|\$W|g"
echo '```'
if [ -s "$work/errors" ]; then
	echo
	echo "Errors (see $work):"
	sed 's/^/    /' "$work/errors" | head -n 20
fi
echo
echo "raw results: $work/raw" >&2
