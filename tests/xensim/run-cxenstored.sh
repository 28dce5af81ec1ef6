#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-cxenstored.sh - start cxenstored 4.17 on the simulated Xen host
# (tests/xensim), so that simulated guests can talk to it through their
# rings as they talk to lixs: the reference for tests/bats/differential.bats.
#
#   tests/xensim/run-cxenstored.sh SOCKETPATH        start it
#   tests/xensim/run-cxenstored.sh stop SOCKETPATH   stop it
#
# Prints "pid=<pid>".  The host is SOCKETPATH.d/xen (XENSIM_DIR for
# xensim-ctl and fakeguest), fresh at each start, with every domid present
# (XENSIM_ALL_DOMAINS=1), as bench/run-lixs.sh runs lixs.
#
# xensim.so is all it needs, as the broker: libxenctrl, libxenevtchn,
# libxengnttab and /proc/xen/xsd_kva and xsd_port become the simulated
# host's.  cxenstored takes its socket and run directory from
# XENSTORED_PATH and XENSTORED_RUNDIR.
#
# Environment: LIXS_BUILD (default <repo>/build: xensim.so, xensim-ctl),
# XEN_BIN (default /usr/lib/xen-4.17/bin).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${LIXS_BUILD:-$repo/build}
xen_bin=${XEN_BIN:-/usr/lib/xen-4.17/bin}

usage() {
	echo "usage: $0 {SOCKETPATH | stop SOCKETPATH}" >&2
	exit 2
}

abspath() {
	case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac
}

if [ $# -eq 2 ] && [ "$1" = stop ]; then
	state="$(abspath "$2").d"
	pid=$(cat "$state/peer.pid" 2>/dev/null) || {
		echo "no pid file in $state" >&2
		exit 1
	}
	if kill "$pid" 2>/dev/null; then
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
	fi
	rm -f "$state/peer.pid" "$(abspath "$2")"
	echo "stopped pid=$pid"
	exit 0
fi
[ $# -eq 1 ] && [ "$1" != stop ] || usage

sock=$(abspath "$1")
state="$sock.d"
for f in "$build/xensim.so" "$build/tools/xensim-ctl" "$xen_bin/xenstored"; do
	[ -e "$f" ] || { echo "no $f" >&2; exit 1; }
done

mkdir -p "$state"
rm -rf "$state/xen" "$sock"
XENSIM_DIR="$state/xen" "$build/tools/xensim-ctl" dom0-ring-init >/dev/null

LD_PRELOAD="$build/xensim.so" XENSIM_DIR="$state/xen" XENSIM_ALL_DOMAINS=1 \
	XENSTORED_RUNDIR="$state" XENSTORED_PATH="$sock" \
	setsid "$xen_bin/xenstored" --no-fork </dev/null >"$state/daemon.log" 2>&1 &
pid=$!
echo "$pid" >"$state/peer.pid"
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
if ! kill -0 "$pid" 2>/dev/null || [ ! -S "$sock" ]; then
	echo "cxenstored failed to start, see $state/daemon.log:" >&2
	tail -n 20 "$state/daemon.log" >&2
	exit 1
fi
echo "pid=$pid"
