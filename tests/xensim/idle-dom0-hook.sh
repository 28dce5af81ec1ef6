#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# idle-dom0-hook.sh - run in dom0 (busybox sh, a background subshell of
# /init) by ../shared/xen-qemu/run.sh --dom0-guest-hook for `make
# xen-ring-idle` (tests/xensim/idle.mk), while every guest runs
# idle-guest-hook.sh.  With the broker run as `--ring-idle 1`: once every
# guest armed its watch and went quiet, the broker holds no grant mapping
# (/dev/xen/gntdev in its /proc/PID/maps); dom0's write then reaches each
# guest's watch through a ring mapped again, the guests answer on it, and
# the mappings go again once they are idle; a last write lets them end.
say() { echo "dom0-idle: $*"; }
die() { say "FAIL: $*"; exit 1; }
bpid=$(cat /run/xenstored.pid 2>/dev/null)
[ -n "$bpid" ] && [ -d "/proc/$bpid" ] || bpid=$(pidof xenstored)
[ -n "$bpid" ] || die "no broker"
gmaps() { grep -c /dev/xen/gntdev "/proc/$bpid/maps"; }
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$bpid/status"; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds, polled every 0.1 s
wait_for() {
	n=$(($1 * 10)); shift
	while ! "$@"; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1
		sleep 0.1
	done
}
none_mapped() { [ "$(gmaps)" = 0 ]; }

for d in $GUEST_DOMIDS; do
	wait_for 60 xenstore-read /local/domain/$d/data/sync/armed >/dev/null 2>&1 ||
		die "domain $d did not arm its watch"
done
say "watches armed; broker $bpid maps $(gmaps) guest page(s), VmRSS $(rss) kB"
wait_for 30 none_mapped || die "the broker still maps $(gmaps) guest page(s) after 30 s idle"
say "idle: broker maps $(gmaps) guest pages, VmRSS $(rss) kB"
for d in $GUEST_DOMIDS; do
	xenstore-write /local/domain/$d/data/w/ping "p-$d" || die "write domain $d's data/w/ping"
done
for d in $GUEST_DOMIDS; do
	wait_for 60 xenstore-read /local/domain/$d/data/sync/pong >/dev/null 2>&1 ||
		die "domain $d got no watch event through its unmapped ring, or could not answer"
	v=$(xenstore-read /local/domain/$d/data/sync/pong)
	[ "$v" = "p-$d" ] || die "domain $d answered '$v'"
done
say "every guest got its event and answered (broker maps $(gmaps) guest page(s) now)"
wait_for 30 none_mapped || die "the broker still maps $(gmaps) guest page(s) after the answers"
say "idle again: broker maps $(gmaps) guest pages"
for d in $GUEST_DOMIDS; do
	xenstore-write /local/domain/$d/data/w/done 1 || die "write domain $d's data/w/done"
done
say "ok"
exit 0
