#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-lixs.sh - start lixs on a unix socket of your choice, the way
# ../shared/peers/run-peer.sh starts the upstream daemons, so that
# benchmarks and manual comparisons treat all of them alike.
#
#   bench/run-lixs.sh SOCKETPATH         start lixs-broker (and its store
#                                        process) serving SOCKETPATH
#   bench/run-lixs.sh stop SOCKETPATH    stop the lixs started for it
#
# Prints "pid=<broker pid>" and "stop=<command>".  Clients reach it with
# XENSTORED_PATH=SOCKETPATH.  State (log, pid file, the read-only socket,
# the simulated Xen host xen/) lives in SOCKETPATH.d/ .
#
# The broker runs under the Xen stand-in (tests/xensim, xensim.so
# preloaded) with every domid present (XENSIM_ALL_DOMAINS=1), as
# ../shared/peers runs the upstream daemons: INTRODUCE of any domid maps a
# blank ring page and binds its port; dom0's kernel ring exists and is idle.
#
# Environment:
#   LIXS_BUILD    build directory holding lixs-broker and xensim.so
#                 (default <repo>/build)
#   XSPEER_CPU    pin the broker, and so its store process, with taskset -c
#   LIXS_ARGS     extra lixs-broker arguments
#   LIXS_XENSIM   0: no stand-in (unix sockets only, INTRODUCE fails)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${LIXS_BUILD:-$here/../build}

usage() {
	echo "usage: $0 {SOCKETPATH | stop SOCKETPATH}" >&2
	exit 2
}

# True while pid $1 runs; a zombie waiting to be reaped counts as gone.
alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

abspath() {
	case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac
}

if [ $# -eq 2 ] && [ "$1" = stop ]; then
	sock=$(abspath "$2")
	state="$sock.d"
	pid=$(cat "$state/broker.pid" 2>/dev/null) || {
		echo "no pid file in $state" >&2
		exit 1
	}
	if kill -TERM "$pid" 2>/dev/null; then
		for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
		if alive "$pid"; then
			echo "pid $pid ignored SIGTERM for 5 s, killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$state/broker.pid" "$sock"
	echo "stopped pid=$pid"
	exit 0
fi
if [ $# -ne 1 ] || [ "$1" = stop ]; then
	usage
fi

sock=$(abspath "$1")
state="$sock.d"
broker="$build/lixs-broker"
[ -x "$broker" ] || {
	echo "no $broker: build it first (make all, or set LIXS_BUILD)" >&2
	exit 1
}
xen=()
if [ "${LIXS_XENSIM:-1}" != 0 ]; then
	if [ ! -r "$build/xensim.so" ] || [ ! -x "$build/tools/xensim-ctl" ]; then
		echo "no $build/xensim.so: build it first (make all)" >&2
		exit 1
	fi
	# An ASan build refuses a library preloaded before libasan otherwise.
	xen=(env LD_PRELOAD="$build/xensim.so" XENSIM_DIR="$state/xen" XENSIM_ALL_DOMAINS=1
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
fi
if [ -e "$state/broker.pid" ] && alive "$(cat "$state/broker.pid")"; then
	echo "lixs is already running for $sock (pid $(cat "$state/broker.pid"))" >&2
	exit 1
fi
mkdir -p "$state"
rm -f "$sock"
if [ ${#xen[@]} -gt 0 ]; then
	# A fresh host each start: no bindings or maps left by a former run.
	rm -rf "$state/xen"
	XENSIM_DIR="$state/xen" "$build/tools/xensim-ctl" dom0-ring-init >/dev/null
fi

pin=()
[ -n "${XSPEER_CPU:-}" ] && pin=(taskset -c "$XSPEER_CPU")
extra=()
[ -n "${LIXS_ARGS:-}" ] && read -r -a extra <<<"$LIXS_ARGS"

setsid "${pin[@]}" "${xen[@]}" "$broker" --no-fork --socket-path "$sock" \
	--socket-ro-path "$state/socket_ro" --pid-file "$state/lixs.pid" \
	"${extra[@]}" </dev/null >"$state/daemon.log" 2>&1 &
pid=$!
echo "$pid" >"$state/broker.pid"

# Ready once a request succeeds, not merely once the socket exists.
ready=
for _ in $(seq 200); do
	alive "$pid" || break
	if [ -S "$sock" ] && XENSTORED_PATH="$sock" timeout 2 xenstore-list / >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.05
done
if [ -z "$ready" ]; then
	echo "lixs failed to start, see $state/daemon.log:" >&2
	tail -n 20 "$state/daemon.log" >&2
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$state/broker.pid"
	exit 1
fi
echo "pid=$pid"
echo "stop=$0 stop $sock   # or: kill $pid"
