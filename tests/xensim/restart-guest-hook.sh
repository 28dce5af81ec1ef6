#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# restart-guest-hook.sh - run by each guest's /init (busybox sh) under
# ../shared/xen-qemu/run.sh --guest-hook for `make xen-restart`
# (tests/xensim/restart.mk).  Every xenstore-* call here goes through the
# guest kernel's xenbus driver and its ring, so this is what a real Linux
# guest sees when dom0 kills lixs-storeproc under it (docs/RESTART.md,
# "Connections"): the ring survives, the tree written before the kill is
# still there, new writes work, and the watch the guest armed before the
# kill (held by the kernel's xenbus, not by a process of dom0) was
# restored and fires for a write dom0 makes after the restart.
# Each call runs under `timeout`: a request in flight at the kill is not
# answered today (RESTART.md, "What is not kept yet"); such a call is
# reported as HUNG and counted, not left to block the guest.
w=data/w
say() { echo "GUEST-RESTART: $*"; }
bad() { say "FAIL: $*"; echo fail >>/tmp/restart.fail; }
# xs TOOL ARGS: a xenstore tool with a 5 s limit (busybox timeout reports a
# kill as 143, coreutils as 124)
xs() {
	timeout 5 "$@"
	rc=$?
	if [ $rc = 124 ] || [ $rc = 143 ]; then
		say "HUNG: $* (killed after 5 s)"
		echo "$*" >>/tmp/restart.hung
	fi
	return $rc
}
up() { cut -d' ' -f1 /proc/uptime; }
: >/tmp/restart.fail; : >/tmp/restart.hung

xs xenstore-write $w/before "b-$DOMID" || bad "write $w/before"
# The watch: no event count limit; its first line is the event every new
# watch fires, so a line in the file means it is armed.
xenstore-watch $w >/tmp/rw.out 2>&1 &
wpid=$!
i=0; while [ ! -s /tmp/rw.out ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ -s /tmp/rw.out ] || bad "watch on $w not armed after 10 s"
xs xenstore-write data/sync/armed 1 || bad "write data/sync/armed"
say "armed at uptime $(up), waiting for dom0 to kill the store process"

# dom0 kills lixs-storeproc now; poll its signal every 0.2 s
t0=$(up); n=0; got=
while [ $n -lt 600 ]; do
	got=$(xs xenstore-read data/sync/restarted 2>/dev/null) && break
	sleep 0.2; n=$((n+1))
done
[ -n "$got" ] || bad "no data/sync/restarted from dom0 after $n polls"
say "dom0 says restarted ($got) at uptime $(up) after $n polls since $t0; hung calls so far: $(wc -l </tmp/restart.hung)"

# what was written before the kill is still there
v=$(xs xenstore-read $w/before); [ "$v" = "b-$DOMID" ] || bad "$w/before is '$v' after the restart"
v=$(xs xenstore-read $w/from-dom0); [ "$v" = "d0-$DOMID" ] || bad "$w/from-dom0 is '$v' after the restart"
# new writes work and read back
xs xenstore-write $w/after "a-$DOMID" || bad "write $w/after after the restart"
v=$(xs xenstore-read $w/after); [ "$v" = "a-$DOMID" ] || bad "$w/after is '$v'"
say "read back before/from-dom0, wrote after: ok"
# the watch armed before the kill fires for dom0's write after the restart
i=0; while ! grep -qx "$w/after-restart" /tmp/rw.out && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
grep -qx "$w/after-restart" /tmp/rw.out || bad "the watch did not fire for dom0's write after the restart"
say "watch events: $(tr '\n' ' ' </tmp/rw.out)"
say "watch fired for $w itself $(grep -cx "$w" /tmp/rw.out) time(s) (1 at arming, 1 more expected at the restore)"
kill $wpid 2>/dev/null
# Transactions: the xenstore-* tools cannot keep one open across calls,
# so a transaction across the restart is not tested here (restart.bats).
h=$(wc -l </tmp/restart.hung)
say "hung calls: $h $(tr '\n' ';' </tmp/restart.hung)"
[ -s /tmp/restart.fail ] && exit 1
say "ok"
exit 0
