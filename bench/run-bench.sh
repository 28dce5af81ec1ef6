#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-bench.sh - lixs beside cxenstored, oxenstored and xsfloor (the
# harness's own limit), in one run, with ../shared/peers' xsbench and
# bench/xswatch.
#
#   bench/run-bench.sh BUILD_DIR SHARED_DIR
#
# Every daemon runs as ../shared/peers runs the upstream ones: every domid
# exists and INTRODUCE maps a blank ring (lixs: bench/run-lixs.sh, under
# the Xen stand-in).  Each measurement starts the daemon afresh and stops
# it after; daemons alternate.  Single-client workloads are pinned with
# the daemon to one CPU (see SHARED_DIR/peers/README.md), the others not:
#   rtt        WRITE+READ pairs, one connection                     pinned
#   conc       8 connections, closed loop                           unpinned
#   tx         8 connections, transactions on disjoint keys or on
#              one shared key (-m disjoint / -m overlap)            unpinned
#   watchlat   one watcher, write -> event latency (fanout -k 1)    pinned
#   fanout     K watchers of one node, one write -> K events, with U
#              unrelated watches held open (bench/xswatch)          pinned
#   domcreate  xsbench domcreate -I in steps up to BENCH_DOMS domains:
#              per-domain cost of the last <= 250 domains before each
#              step, requests per domain, RSS of the whole daemon   pinned
#              (lixs: again once its idle rings are unmapped),
#              and at each BENCH_CMARKS mark the last 10 domains are
#              created with libxl's name check (-I -C)
#   ring       lixs only: a fake guest's requests through its ring
#              (tests/xensim fakeguest) beside the unix socket      pinned
#   guests     lixs only: tests/bats/guests.bats' 200-guest run, the
#              broker's and store process's CPU
# rtt, conc, tx, watchlat and ring run BENCH_REPS times (medians), and
# so does domcreate for lixs and xsfloor (each step's figures the median:
# a 250-domain window is about a second, which a shared machine's moment
# can move by a quarter); the rest once (domcreate of the peers, whose
# cost per domain grows, would take minutes more each).  Writes
# results.md (markdown: tables, ratios lixs / each daemon, the commands)
# and domains.svg (per-domain cost and RSS against domains, gnuplot) to
# BENCH_OUT, prints results.md, keeps raw output in
# the work directory it names.
#
# Environment (defaults in brackets):
#   BENCH_DAEMONS    [xsfloor lixs cxenstored oxenstored]
#   BENCH_REPS [3]  BENCH_RTT_N [20000]  BENCH_SECS [3]  BENCH_CPU [0]
#   BENCH_FANOUT_K [1000]  BENCH_FANOUT_R [50]  BENCH_UNRELATED [0 100 100000]
#   BENCH_LAT_R [500]      watch latency rounds
#   BENCH_DOMS [10000]     domcreate -I: largest step for lixs and xsfloor
#   BENCH_PEER_MAX [1000]  ... for cxenstored and oxenstored (their cost
#                          per domain grows: 10,000 would take hours)
#   BENCH_STEPS [100 250 500 1000 2500 5000 10000]
#   BENCH_CMARKS [100 250 1000]  domcreate -I -C marks (among the steps)
#   BENCH_RING_N [20000]   BENCH_GUESTS [1] (0: skip the 200-guest run)
#   BENCH_SETTLE [21]      lixs's RSS again this many seconds after its
#                          largest step, its idle rings unmapped (0: not)
#   BENCH_OUT [<repo>/docs/bench]  BENCH_SMOKE [0] (1: tiny sizes, lixs
#                          and xsfloor only, fails unless every lixs
#                          figure came out, and the settled RSS below
#                          the last step's under --ring-idle 1;
#                          `make bench-smoke`)
set -euo pipefail

[ $# -eq 2 ] || {
	echo "usage: $0 BUILD_DIR SHARED_DIR" >&2
	exit 2
}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$(cd "$1" && pwd)
shared=$(cd "$2" && pwd)
smoke=${BENCH_SMOKE:-0}
if [ "$smoke" = 1 ]; then
	: "${BENCH_DAEMONS:=xsfloor lixs}" "${BENCH_REPS:=1}" "${BENCH_RTT_N:=2000}"
	: "${BENCH_SECS:=1}" "${BENCH_FANOUT_K:=20}" "${BENCH_FANOUT_R:=5}"
	: "${BENCH_UNRELATED:=0 1000}" "${BENCH_LAT_R:=100}" "${BENCH_DOMS:=200}"
	: "${BENCH_STEPS:=100 200}" "${BENCH_CMARKS:=200}" "${BENCH_RING_N:=2000}"
	: "${BENCH_GUESTS:=0}" "${BENCH_OUT:=$build/bench-smoke}" "${BENCH_SETTLE:=3}"
	export LIXS_ARGS="${LIXS_ARGS:---ring-idle 1}"
fi
reps=${BENCH_REPS:-3}
rtt_n=${BENCH_RTT_N:-20000}
secs=${BENCH_SECS:-3}
cpu=${BENCH_CPU:-0}
fan_k=${BENCH_FANOUT_K:-1000}
fan_r=${BENCH_FANOUT_R:-50}
read -r -a unrelated <<<"${BENCH_UNRELATED:-0 100 100000}"
lat_r=${BENCH_LAT_R:-500}
doms=${BENCH_DOMS:-10000}
peer_max=${BENCH_PEER_MAX:-1000}
read -r -a steps <<<"${BENCH_STEPS:-100 250 500 1000 2500 5000 10000}"
read -r -a cmarks <<<"${BENCH_CMARKS:-100 250 1000}"
ring_n=${BENCH_RING_N:-20000}
settle=${BENCH_SETTLE:-21}
guests=${BENCH_GUESTS:-1}
out=${BENCH_OUT:-$repo/docs/bench}
read -r -a daemons <<<"${BENCH_DAEMONS:-xsfloor lixs cxenstored oxenstored}"

work=$(mktemp -d "${TMPDIR:-/tmp}/lixs-bench.XXXXXX")
tools=$work/tools
export XSPEER_BUILD=$tools LIXS_BUILD=$build
xsbench=$tools/xsbench
xswatch=$build/tools/xswatch
cmdlog=$work/commands
mkdir -p "$out"
t_start=$(date +%s)

echo "building the peers' tools into $tools" >&2
make -s -C "$shared/peers" O="$tools" >&2
for f in "$xswatch" "$build/xensim.so" "$build/tools/xensim-ctl"; do
	[ -e "$f" ] || {
		echo "no $f: make all first" >&2
		exit 1
	}
done

# glibc's qsort of more than 1 KiB asks for the RAM size once (sysinfo):
# the store process sorts that much for a write seen by > 128 watchers or
# a commit of > 128 nodes, and dies by SIGSYS where its profile lacks the
# call.  Until the built-in profile has it, lixs runs with that profile
# plus "sysinfo errno ENOSYS" (glibc then assumes plenty of RAM).
if ! grep -q '^sysinfo' "$repo/seccomp/default.profile"; then
	{
		cat "$repo/seccomp/default.profile"
		echo "sysinfo errno ENOSYS"
	} >"$work/store.profile"
	export LIXS_ARGS="${LIXS_ARGS:+$LIXS_ARGS }--seccomp-profile $work/store.profile"
	echo "lixs: built-in seccomp profile + sysinfo (bench/run-bench.sh says why)" >&2
	echo "export LIXS_ARGS=\"$LIXS_ARGS\"  # seccomp/default.profile + sysinfo" >>"$cmdlog"
fi

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

# start DAEMON SOCKET PINNED(0|1): start one daemon, or fail.
start() {
	local d=$1 sock=$2 pinned=$3 pin=() envpin=()
	if [ "$pinned" = 1 ]; then
		pin=(taskset -c "$cpu")
		envpin=(env XSPEER_CPU="$cpu")
	fi
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
	lixs) logrun "${envpin[@]}" "$here/run-lixs.sh" "$sock" >/dev/null ;;
	cxenstored | oxenstored)
		logrun "${envpin[@]}" "$shared/peers/run-peer.sh" "$d" "$sock" >/dev/null
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

# The daemon's processes: lixs's broker and its store process.
pids_of() {
	local d=$1 sock=$2 p
	case $d in
	xsfloor) cat "$sock.d/floor.pid" ;;
	lixs)
		p=$(cat "$sock.d/broker.pid")
		echo "$p"
		pgrep -P "$p" || true
		;;
	*) cat "$sock.d/peer.pid" ;;
	esac
}

# rss DAEMON SOCKET: "VmRSS RssShmem" in KiB, summed over its processes.
# RssShmem is where the blank ring pages (shared anonymous memory, for
# every daemon) are: on Xen they are the guests' pages.
rss() {
	local p tot=0 shm=0 a b first=1
	for p in $(pids_of "$1" "$2"); do
		a=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || a=0
		b=$(awk '/^RssShmem:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || b=0
		tot=$((tot + ${a:-0}))
		# The ring pages: in lixs the broker's (its first pid); the store
		# process's shared memory is its journal, which stays counted.
		[ "$first" = 1 ] && shm=$((shm + ${b:-0}))
		[ "$1" = lixs ] && first=0
	done
	echo "$tot $shm"
}

# kv KEY TEXT: the value of the last KEY=value in TEXT, or nothing.
kv() {
	grep -o "$1=[0-9.]*" <<<"$2" | tail -n 1 | cut -d= -f2 || true
}

# xsb DAEMON SOCK PINNED ARGS...: xsbench against SOCK.
xsb() {
	local sock=$2 pinned=$3
	shift 3
	local pin=()
	[ "$pinned" = 1 ] && pin=(taskset -c "$cpu")
	printf '%s\n' "${pin[*]:+${pin[*]} }$xsbench -S $sock $*" >>"$cmdlog"
	timeout 3600 "${pin[@]}" "$xsbench" -S "$sock" "$@"
}

# --- the workloads ------------------------------------------------------
# Each: WORKLOAD DAEMON SOCK; prints "key=value ..." results, or nothing.

w_rtt() {
	xsb "$1" "$2" 1 rtt -n "$rtt_n"
}

w_conc() {
	xsb "$1" "$2" 0 conc -c 8 -t "$secs"
}

w_txd() {
	xsb "$1" "$2" 0 tx -c 8 -t "$secs" -m disjoint
}

w_txo() {
	xsb "$1" "$2" 0 tx -c 8 -t "$secs" -m overlap
}

w_lat() {
	[ "$1" = xsfloor ] && return 0	# it fires no watch events
	xsb "$1" "$2" 1 fanout -k 1 -r "$lat_r"
}

# fanout with U unrelated watches held by xswatch (pinned as the rest).
w_fan() {
	local d=$1 sock=$2 u=$3 wpid line o try
	[ "$d" = xsfloor ] && return 0
	if [ "$u" -gt 0 ]; then
		printf '%s\n' "taskset -c $cpu $xswatch -S $sock -n $u -p 1000 &" >>"$cmdlog"
		taskset -c "$cpu" "$xswatch" -S "$sock" -n "$u" -p 1000 >"$sock.xswatch" 2>&1 &
		wpid=$!
		line=
		for _ in $(seq 6000); do
			line=$(grep '^xswatch ' "$sock.xswatch" || true)
			[ -n "$line" ] || ! alive "$wpid" && break
			sleep 0.1
		done
		if [ -z "$line" ]; then
			echo "$d: xswatch -n $u: $(cat "$sock.xswatch")" >>"$work/errors"
			kill "$wpid" 2>/dev/null || true
			return 0
		fi
		echo "unrelated_secs=$(kv secs "$line")"
	fi
	# lixs's broker drops a client it cannot hand over at once (ipc socket
	# full: "store process busy"), which a burst of connects can hit: up
	# to 3 tries, each failure noted.
	for try in 1 2 3; do
		o=$(xsb "$d" "$sock" 1 fanout -k "$fan_k" -r "$fan_r" 2>&1) && break
		echo "$d fanout+$u try $try failed (exit $?): $o" >>"$work/errors"
		o=
	done
	echo "$o"
	[ -z "${wpid:-}" ] || {
		kill "$wpid" 2>/dev/null || true
		wait "$wpid" 2>/dev/null || true
	}
}

# domcreate -I in steps; one line a step: "doms=N ms=C opd=R rss=K shm=S",
# with "cms=C copd=R" at a name-check mark: the step's last 10 domains are
# then created with -C (they add only reads: the store ends up the same),
# and ms/opd are those of the domains before them.
w_dc() {
	local d=$1 sock=$2 max=$doms prev=0 m o c r plain
	case $d in cxenstored | oxenstored) max=$peer_max ;; esac
	echo "doms=0 $(rss "$d" "$sock" | awk '{ print "rss=" $1, "shm=" $2 }')"
	for m in "${steps[@]}"; do
		[ "$m" -le "$max" ] || break
		plain=$m c=
		[[ " ${cmarks[*]} " != *" $m "* ]] || [ "$d" = xsfloor ] ||
			[ $((m - 10)) -le "$prev" ] || plain=$((m - 10))
		o=$(xsb "$d" "$sock" 1 domcreate -I -s $((prev + 1)) -n $((plain - prev)) -b 250) || {
			echo "$d domcreate to $plain failed: $o" >>"$work/errors"
			return 0
		}
		echo "$d domcreate $plain: $o" >>"$work/raw"
		if [ "$plain" != "$m" ]; then
			c=$(xsb "$d" "$sock" 1 domcreate -I -C -s $((plain + 1)) -n 10 -b 10) || {
				echo "$d domcreate -C to $m failed: $c" >>"$work/errors"
				return 0
			}
			echo "$d domcreate -C $m: $c" >>"$work/raw"
			c="cms=$(kv ms_per_dom_mean "$(grep block= <<<"$c" | tail -n 1)") copd=$(kv ops_per_dom "$c")"
		fi
		r=$(rss "$d" "$sock")
		echo "doms=$m ms=$(kv ms_per_dom_mean "$(grep block= <<<"$o" | tail -n 1)")" \
			"opd=$(kv ops_per_dom "$o") rss=${r% *} shm=${r#* } $c"
		prev=$m
	done
	# lixs unmaps a guest's ring idle for 10 to 20 s (--ring-idle's
	# default): the same store, once every ring has idled.
	if [ "$d" = lixs ] && [ "$settle" -gt 0 ]; then
		sleep "$settle"
		r=$(rss "$d" "$sock")
		echo "settled doms=$prev rss=${r% *} shm=${r#* }"
	fi
}

# lixs only: one guest (a real xensim domain, 5) on its ring, then the
# unix socket, each with one request in flight.
w_ring() {
	local d=$1 sock=$2 dom gfn port r w u
	[ "$d" = lixs ] || return 0
	export XENSIM_DIR=$sock.d/xen
	read -r dom gfn port < <(logrun "$build/tools/xensim-ctl" create 5) || return 0
	logrun "$build/tools/xsraw" -S "$sock" 'MKDIR:/local/domain/5\0' \
		'SET_PERMS:/local/domain/5\0n5\0' "INTRODUCE:$dom\\0$gfn\\0$port\\0" \
		'WRITE:/local/domain/5/data/x\0v' >/dev/null || return 0
	r=$(logrun taskset -c "$cpu" "$build/tools/fakeguest" -d 5 -t 60 \
		--bench "$ring_n" 'READ:data/x\0' | grep BENCH) || true
	w=$(logrun taskset -c "$cpu" "$build/tools/fakeguest" -d 5 -t 60 \
		--bench "$ring_n" 'WRITE:data/x\0v' | grep BENCH) || true
	u=$(xsb "$d" "$sock" 1 rtt -n "$ring_n") || true
	unset XENSIM_DIR
	echo "ring_read_us=$(kv mean_us "$r") ring_write_us=$(kv mean_us "$w")" \
		"unix_mean_us=$(awk -v o="$(kv ops_per_s "$u")" 'BEGIN { if (o > 0) printf "%.1f", 1e6 / o }')" \
		"unix_read_p50_us=$(kv read_p50_us "$u") unix_write_p50_us=$(kv write_p50_us "$u")"
}

# run WORKLOAD DAEMON PINNED [ARG]: fresh daemon, workload, stop; the
# workload's output is appended to $work/out/WORKLOADARG.DAEMON, one
# repetition after the other.
run() {
	local w=$1 d=$2 pinned=$3 arg=${4:-} sock o
	case $d:$w in
	xsfloor:lat | xsfloor:fan | *:ring) [ "$d:$w" = lixs:ring ] || return 0 ;;
	esac
	sock=$work/$d-$w$arg.sock
	if ! start "$d" "$sock" "$pinned" 2>>"$work/errors"; then
		echo "$d failed to start for $w (see $sock.d/)" >>"$work/errors"
		return 0
	fi
	o=$("w_$w" "$d" "$sock" ${arg:+"$arg"} 2>>"$work/errors") || true
	stop "$d" "$sock" 2>>"$work/errors" || true
	rm -rf "$sock.d/xen"
	echo "$d $w$arg: $o" >>"$work/raw"
	printf '%s\n' "$o" >>"$work/out/$w$arg.$d"
	echo "$w$arg $d: $(tr '\n' ' ' <<<"$o" | cut -c1-150)" >&2
}

mkdir -p "$work/out"
for ((r = 1; r <= reps; r++)); do
	for w in rtt conc txd txo lat ring; do
		pinned=1
		case $w in conc | txd | txo) pinned=0 ;; esac
		for d in "${daemons[@]}"; do run "$w" "$d" "$pinned"; done
	done
done
for u in "${unrelated[@]}"; do
	for d in "${daemons[@]}"; do run fan "$d" 1 "$u"; done
done
for ((r = 1; r <= reps; r++)); do
	for d in "${daemons[@]}"; do
		case $d in lixs | xsfloor) ;; *) [ "$r" = 1 ] || continue ;; esac
		run dc "$d" 1
	done
done
guest_line=
if [ "$guests" = 1 ] && [[ " ${daemons[*]} " == *" lixs "* ]]; then
	echo "LIXS_BUILD=$build bats tests/bats/guests.bats" >>"$cmdlog"
	guest_line=$(LIXS_BUILD=$build bats "$repo/tests/bats/guests.bats" 2>&1 |
		grep -o '[0-9]* guests: .*' | head -n 1) || true
	echo "guests: $guest_line" >&2
fi

# --- report ---------------------------------------------------------------

# med WORKLOAD DAEMON KEY: median of KEY over the repetitions, or n/a.
med() {
	local f=$work/out/$1.$2 v n
	[ -r "$f" ] || {
		echo n/a
		return
	}
	v=$(grep -o "$3=[0-9.]*" "$f" | cut -d= -f2 | grep . | sort -g) || true
	[ -n "$v" ] || {
		echo n/a
		return
	}
	n=$(wc -l <<<"$v")
	sed -n "$(((n + 1) / 2))p" <<<"$v"
}

ratio() {
	case "$1$2" in
	*n/a*) echo n/a ;;
	*) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }' ;;
	esac
}

# dcv DAEMON DOMS KEY: a domcreate step's value, the median over the
# repetitions that reached the step (of an even number, the middle two's
# mean).  Besides the keys of w_dc's lines, worked out within each
# repetition before the median is taken: norings (rss - shm), grow (rss
# since the repetition's doms=0) and grow_norings.
dcv() {
	local f=$work/out/dc.$1 v
	v=$(awk -v m="$([ "$2" = settled ] && echo settled || echo "doms=$2")" -v k="$3" '
		function val(key,   i) {
			for (i = 2; i <= NF; i++)
				if (index($i, key "=") == 1)
					return substr($i, length(key) + 2)
			return ""
		}
		$1 == "doms=0" { r0 = val("rss"); s0 = val("shm") }
		$1 == m {
			r = val("rss"); s = val("shm"); x = ""
			if (k == "norings") {
				if (r != "" && s != "") x = r - s
			} else if (k == "grow") {
				if (r != "" && r0 != "") x = r - r0
			} else if (k == "grow_norings") {
				if (r != "" && s != "" && r0 != "" && s0 != "")
					x = (r - s) - (r0 - s0)
			} else
				x = val(k)
			if (x != "") print x
		}' "$f" 2>/dev/null | grep -E '^-?[0-9.]+$' | sort -g) || true
	[ -n "$v" ] || {
		echo n/a
		return
	}
	awk '{ a[NR] = $1 } END {
		if (NR % 2) { print a[(NR + 1) / 2]; exit }
		x = (a[NR / 2] + a[NR / 2 + 1]) / 2
		if (x == int(x)) printf "%d\n", x; else printf "%.3f\n", x
	}' <<<"$v"
}

# dcmax DAEMON: the largest step its domcreate reached, or nothing.
dcmax() {
	awk '$1 ~ /^doms=/ { n = substr($1, 6) + 0; if (n > m) m = n } END { if (m) print m }' \
		"$work/out/dc.$1" 2>/dev/null || true
}

others=()
for d in "${daemons[@]}"; do [ "$d" != lixs ] && others+=("$d"); done

# table TITLE-ROW... : header for per-daemon columns and lixs ratios.
thead() {
	local hdr="| $1 |" sep="|---|" d
	for d in "${daemons[@]}"; do
		hdr+=" $d |"
		sep+="---:|"
	done
	for d in "${others[@]}"; do
		hdr+=" lixs ÷ $d |"
		sep+="---:|"
	done
	echo "$hdr"
	echo "$sep"
}

# trow LABEL VALUES-BY-DAEMON (assoc name): one row with ratios.
trow() {
	local label=$1 row d
	local -n vals=$2
	row="| $label |"
	for d in "${daemons[@]}"; do row+=" ${vals[$d]:-n/a} |"; done
	for d in "${others[@]}"; do row+=" $(ratio "${vals[lixs]:-n/a}" "${vals[$d]:-n/a}") |"; done
	echo "$row"
}

# cost_rows FIELD MARK...: a row of each daemon's per-domain ms (FIELD of
# its domcreate output) at each mark.
# shellcheck disable=SC2034  # cost: trow reads it through a nameref
cost_rows() {
	local field=$1 m d
	local -A cost
	shift
	for m in "$@"; do
		cost=()
		for d in "${daemons[@]}"; do cost[$d]=$(dcv "$d" "$m" "$field"); done
		trow "$m" cost
	done
}

# floor_rows COSTFIELD OPSFIELD MARK...: that cost ÷ (requests a domain ×
# the daemon's own rtt round trip), a row at each mark.
# shellcheck disable=SC2034  # floor: trow reads it through a nameref
floor_rows() {
	local cf=$1 of=$2 m d c q
	local -A floor
	shift 2
	for m in "$@"; do
		floor=()
		for d in "${daemons[@]}"; do
			c=$(dcv "$d" "$m" "$cf")
			q=$(dcv "$d" "$m" "$of")
			floor[$d]=$(awk -v c="$c" -v q="$q" -v r="${rttus[$d]}" 'BEGIN {
				if (c + 0 > 0 && q + 0 > 0 && r + 0 > 0) printf "%.2f", c * 1000 / (q * r);
				else print "n/a" }')
		done
		trow "$m" floor
	done
}

mib() {
	case $1 in n/a) echo n/a ;; *) awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' ;; esac
}

declare -A rttus
{
	echo "## xsbench: lixs beside the upstream daemons"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs" \
		"($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr)," \
		"$(($(date +%s) - t_start)) s in all.  One run; medians of $reps repetitions" \
		"for rtt, conc, tx, watch latency, ring, and lixs's and xsfloor's domain creation; the rest once."
	echo
	echo "### Requests"
	echo
	thead "workload (unit; better)"
	declare -A v
	for spec in "rtt|rtt ops/s, pinned (higher)|ops_per_s" \
		"conc|conc -c 8 ops/s (higher)|ops_per_s" \
		"txd|tx -m disjoint commits/s (higher)|commits_per_s" \
		"txd|tx -m disjoint conflict rate (lower)|conflict_rate" \
		"txo|tx -m overlap commits/s (higher)|commits_per_s" \
		"txo|tx -m overlap conflict rate (lower)|conflict_rate" \
		"lat|watch event latency p50 µs, pinned (lower)|first_p50_us"; do
		IFS='|' read -r w label key <<<"$spec"
		v=()
		for d in "${daemons[@]}"; do v[$d]=$(med "$w" "$d" "$key"); done
		trow "$label" v
	done
	for u in "${unrelated[@]}"; do
		v=()
		for d in "${daemons[@]}"; do v[$d]=$(med "fan$u" "$d" last_p50_us); done
		trow "fanout -k $fan_k, all $fan_k events µs p50, $u unrelated watches (lower)" v
	done
	echo
	for d in "${daemons[@]}"; do
		o=$(med rtt "$d" ops_per_s)
		rttus[$d]=$(awk -v o="$o" 'BEGIN { if (o > 0) printf "%.2f", 1e6 / o; else print "n/a" }')
	done

	echo "### Domain creation (xsbench domcreate -I), pinned"
	echo
	echo "Per-domain cost: mean ms of the last ≤ 250 domains before each mark" \
		"(lixs and xsfloor: the median of $reps runs, RSS too; the peers: one run)."
	echo "Floor ratio: that cost ÷ (requests per domain × the daemon's own rtt" \
		"round trip above).  RSS: the whole daemon (lixs: broker + store process), MiB;" \
		"\"no rings\": without RssShmem, the blank ring pages that on Xen are the" \
		"guests' memory (lixs: the broker's; the store process's is its mapped restart journal, counted).  Peers stop at $peer_max domains (BENCH_PEER_MAX)."
	echo
	thead "domains: ms per domain"
	marks=(0 "${steps[@]}")
	cost_rows ms "${steps[@]}"
	echo
	thead "domains: floor ratio"
	floor_rows ms opd "${steps[@]}"
	echo
	thead "domains: RSS MiB (no rings)"
	for m in "${marks[@]}"; do
		v=()
		for d in "${daemons[@]}"; do
			a=$(dcv "$d" "$m" rss)
			if [ "$a" = n/a ]; then
				v[$d]=n/a
			else
				v[$d]="$(mib "$a") ($(mib "$(dcv "$d" "$m" norings)"))"
			fi
		done
		# ratios of the totals only
		row="| $m |"
		for d in "${daemons[@]}"; do row+=" ${v[$d]} |"; done
		for d in "${others[@]}"; do
			row+=" $(ratio "$(dcv lixs "$m" rss)" "$(dcv "$d" "$m" rss)") |"
		done
		echo "$row"
	done
	echo
	echo "RSS growth per domain, KiB (total, no rings), from empty to the largest step" \
		"(each repetition's own growth, then the median):"
	echo
	for d in "${daemons[@]}"; do
		n=$(dcmax "$d")
		[ "${n:-0}" -gt 0 ] || continue
		g=$(dcv "$d" "$n" grow)
		gn=$(dcv "$d" "$n" grow_norings)
		a1=$(dcv "$d" "$n" rss)
		n1=$(dcv "$d" "$n" norings)
		[[ "$g$gn$a1$n1" != *n/a* ]] || continue
		echo "- $d to $n domains: $(awk -v g="$g" -v n="$n" 'BEGIN { printf "%.1f", g / n }')" \
			"($(awk -v g="$gn" -v n="$n" 'BEGIN { printf "%.1f", g / n }'))" \
			"KiB/domain; $(mib "$a1") MiB ($(mib "$n1") MiB) at $n"
		g=$(dcv "$d" settled grow)
		gn=$(dcv "$d" settled grow_norings)
		a1=$(dcv "$d" settled rss)
		n1=$(dcv "$d" settled norings)
		[[ "$g$gn$a1$n1" != *n/a* ]] || continue
		echo "- $d to $n domains, $settle s later, every guest ring idled and unmapped" \
			"(\`--ring-idle\`): $(awk -v g="$g" -v n="$n" 'BEGIN { printf "%.1f", g / n }')" \
			"($(awk -v g="$gn" -v n="$n" 'BEGIN { printf "%.1f", g / n }'))" \
			"KiB/domain; $(mib "$a1") MiB ($(mib "$n1") MiB)"
	done
	echo
	echo "### Domain creation with libxl's name check (domcreate -I -C), pinned"
	echo
	echo "Mean ms per domain of the last 10 domains before each mark, created with"
	echo "-C in the runs above (the domains before them without; lixs: the median of $reps runs)."
	echo
	thead "domains: ms per domain"
	cost_rows cms "${cmarks[@]}"
	echo
	thead "domains: floor ratio with -C"
	floor_rows cms copd "${cmarks[@]}"
	echo
	if [[ " ${daemons[*]} " == *" lixs "* ]]; then
		echo "### lixs: guest ring beside the unix socket, pinned"
		echo
		echo "One request in flight; fakeguest --bench $ring_n through domain 5's ring" \
			"(tests/xensim), xsbench rtt -n $ring_n on the unix socket; medians, µs."
		echo
		echo "| path | READ | WRITE | mean of both |"
		echo "|---|---:|---:|---:|"
		rr=$(med ring lixs ring_read_us)
		rw=$(med ring lixs ring_write_us)
		rm_=$(awk -v a="$rr" -v b="$rw" 'BEGIN { if (a > 0 && b > 0) printf "%.1f", (a + b) / 2; else print "n/a" }')
		um=$(med ring lixs unix_mean_us)
		echo "| guest ring (mean) | $rr | $rw | $rm_ |"
		echo "| unix socket (p50) | $(med ring lixs unix_read_p50_us) | $(med ring lixs unix_write_p50_us) | |"
		echo "| unix socket (mean) | | | $um |"
		echo "| ring ÷ unix (means) | | | $(ratio "$rm_" "$um") |"
		echo
		[ -z "$guest_line" ] || {
			gb=$(grep -o 'broker [0-9]*' <<<"$guest_line" | cut -d' ' -f2)
			gs=$(grep -o 'store [0-9]*' <<<"$guest_line" | cut -d' ' -f2)
			echo "tests/bats/guests.bats (CPU ticks of 10 ms): $guest_line; the broker's" \
				"share of lixs's CPU: $(awk -v b="${gb:-0}" -v s="${gs:-0}" 'BEGIN {
				if (b + s > 0) printf "%.0f %%", 100 * b / (b + s); else print "n/a" }')"
			echo
		}
	fi
	echo "Commands (one repetition; \$W = the work directory, \$B = the build):"
	echo
	echo '```'
	echo "make -C ../shared/peers O=\$W/tools"
	awk '!seen[$0]++' "$cmdlog" | sed -e "s|$work|\$W|g" -e "s|$build|\$B|g" \
		-e "s|$shared|../shared|g" -e "s|$repo/||g" | sed -E 's/-s [0-9]+ -n [0-9]+/-s S -n N/' |
		awk '!seen[$0]++' | head -n 150
	echo '```'
	if [ -s "$work/errors" ]; then
		echo
		echo "Errors (first 20 lines of \$W/errors):"
		echo
		sed -e "s|$work|\$W|g" -e 's/^/    /' "$work/errors" | head -n 20
	fi
} >"$out/results.md"

# --- the plot ---------------------------------------------------------------

plotted=
if command -v gnuplot >/dev/null; then
	plots1=() plots2=()
	for d in "${daemons[@]}"; do
		# One line a step of the medians: domains, ms, requests, RSS.
		for m in "${steps[@]}"; do
			x=$(dcv "$d" "$m" ms)
			[ "$x" = n/a ] || echo "$m $x $(dcv "$d" "$m" opd) $(dcv "$d" "$m" rss)"
		done | sed 's/n\/a/NaN/g' >"$work/$d.dat"
		[ -s "$work/$d.dat" ] || continue
		plots1+=("'$work/$d.dat' using 1:2 with linespoints title '$d'")
		plots2+=("'$work/$d.dat' using 1:(\$4 / 1024) with linespoints title '$d'")
	done
	if [ ${#plots1[@]} -gt 0 ]; then
		{
			echo "set terminal svg size 900,420 dynamic font 'sans,11'"
			echo "set output '$out/domains.svg'"
			echo "set multiplot layout 1,2"
			echo "set logscale x; set grid; set key top left"
			echo "set xlabel 'domains (xsbench domcreate -I)'"
			echo "set ylabel 'ms per domain'; set logscale y"
			echo "set title 'per-domain creation cost'"
			(IFS=,; echo "plot ${plots1[*]}")
			echo "unset logscale y; set ylabel 'RSS MiB (whole daemon)'"
			echo "set title 'RSS'"
			(IFS=,; echo "plot ${plots2[*]}")
			echo "unset multiplot"
		} >"$work/plot.gp"
		gnuplot "$work/plot.gp" 2>>"$work/errors" && plotted=1
	fi
fi
[ -n "$plotted" ] || echo "no plot (gnuplot missing or no data)" >&2

cat "$out/results.md"
echo "results: $out/results.md${plotted:+, plot $out/domains.svg}; raw: $work" >&2

# --- the smoke's verdict: every lixs figure must be there -------------------

if [ "$smoke" = 1 ]; then
	bad=
	for spec in rtt:ops_per_s conc:ops_per_s txd:commits_per_s txo:commits_per_s \
		lat:first_p50_us ring:ring_read_us ring:unix_mean_us; do
		x=$(med "${spec%%:*}" lixs "${spec#*:}")
		[[ "$x" =~ ^[0-9.]+$ ]] || bad+=" ${spec}"
	done
	for u in "${unrelated[@]}"; do
		x=$(med "fan$u" lixs last_p50_us)
		[[ "$x" =~ ^[0-9.]+$ ]] || bad+=" fanout+$u"
	done
	for m in "${steps[@]}"; do
		for k in ms opd rss; do
			x=$(dcv lixs "$m" "$k")
			[[ "$x" =~ ^[0-9.]+$ ]] || bad+=" domcreate$m:$k"
		done
	done
	for m in "${cmarks[@]}"; do
		x=$(dcv lixs "$m" cms)
		[[ "$x" =~ ^[0-9.]+$ ]] || bad+=" namecheck$m"
	done
	# Once idle, the rings' pages are gone from the broker's RSS.
	x=$(dcv lixs settled rss)
	y=$(dcv lixs "${steps[-1]}" rss)
	[[ "$x" =~ ^[0-9.]+$ ]] && [[ "$y" =~ ^[0-9.]+$ ]] && [ "${x%.*}" -lt "${y%.*}" ] ||
		bad+=" settled($x<$y)"
	if [ -n "$bad" ]; then
		echo "bench-smoke: FAIL: no lixs figure for:$bad (see $work)" >&2
		exit 1
	fi
	echo "bench-smoke: every lixs figure present, $(($(date +%s) - t_start)) s" >&2
	rm -rf "$work"
fi
