#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# idle-guest-hook.sh - run by each guest's /init (busybox sh) under
# ../shared/xen-qemu/run.sh --guest-hook for `make xen-ring-idle`
# (tests/xensim/idle.mk).  The guest arms a watch through its kernel's
# xenbus and then makes no request at all, so that the broker (run with
# --ring-idle 1) unmaps its ring; dom0 then writes the watched node.  The
# watch event can only arrive if the broker mapped the ring again; the
# guest's answer is a request on the ring it mapped again.
w=data/w
say() { echo "GUEST-IDLE: $*"; }
bad() { say "FAIL: $*"; exit 1; }

xenstore-watch $w >/tmp/w.out 2>&1 &
wpid=$!
i=0; while [ ! -s /tmp/w.out ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ -s /tmp/w.out ] || bad "watch on $w not armed after 10 s"
timeout 5 xenstore-write data/sync/armed 1 || bad "write data/sync/armed"
say "armed; idle from now on, waiting for the watch on $w"
# await NODE: no request while waiting, only the watcher's file is polled
await() {
	i=0; while ! grep -qx "$w/$1" /tmp/w.out && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done
	grep -qx "$w/$1" /tmp/w.out || bad "no watch event for $w/$1 after 90 s"
	say "watch fired for $w/$1 after $i polls"
}
await ping
v=$(timeout 5 xenstore-read $w/ping) || bad "read $w/ping"
timeout 5 xenstore-write data/sync/pong "$v" || bad "write data/sync/pong"
await done
say "watch events: $(tr '\n' ' ' </tmp/w.out)"
kill $wpid 2>/dev/null
say "ok"
exit 0
