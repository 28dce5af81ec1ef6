#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# restart-dom0-hook.sh - run in dom0 (busybox sh, a background subshell of
# /init) by ../shared/xen-qemu/run.sh --dom0-guest-hook for `make
# xen-restart` (tests/xensim/restart.mk), while every guest runs
# restart-guest-hook.sh.  Once each guest's watch is armed, it writes into
# the guests' homes, kills lixs-storeproc with SIGKILL, requires a new
# store process started within 1 s (by its /proc start time) that answers
# on the socket, writes the node the guests watch and tells them.  It
# prints what happens to the long-lived dom0 unix clients (xl's
# per-domain monitor, xenconsoled), which the broker keeps across the
# restart (docs/RESTART.md, "Connections"), and then, in the background
# while the guests power off, checks that each domain goes away by itself:
# its xl monitor still sees the shutdown.
say() { echo "dom0-restart: $*"; }
# a failure also releases the guests, which otherwise wait for dom0
die() {
	say "FAIL: $*"
	for d in $GUEST_DOMIDS; do xenstore-write /local/domain/$d/data/sync/restarted fail; done
	exit 1
}
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
# one line per process: pid, state, cpu ticks (utime+stime), its
# gntdev/privcmd mappings (a guest page it maps), command line; the broker
# runs as /usr/sbin/xenstored there
procs() {
	for p in $(pidof xl xenconsoled xenstored lixs-storeproc); do
		[ -r /proc/$p/stat ] || continue
		printf '  pid %s state %s cpu %s maps %s: %s\n' "$p" \
			"$(cut -d' ' -f3 /proc/$p/stat)" \
			"$(awk '{ print $14 + $15 }' /proc/$p/stat)" \
			"$(grep -cE 'gntdev|privcmd' /proc/$p/maps)" \
			"$(tr '\0' ' ' </proc/$p/cmdline)"
	done
}
xenstore_fds() { # $1 = pid: its sockets
	ls -l /proc/$1/fd 2>/dev/null | grep -c socket
}

t0=$(date +%s)
for d in $GUEST_DOMIDS; do
	while ! xenstore-exists /local/domain/$d/data/sync/armed 2>/dev/null; do
		[ $(( $(date +%s) - t0 )) -lt 120 ] || die "domain $d never armed its watch"
		sleep 0.1
	done
	xenstore-write /local/domain/$d/data/w/from-dom0 "d0-$d" || die "write into domain $d"
done
mons=$(pidof xl)
say "before the kill (xl monitors: $mons):"
procs
for p in $mons; do say "  xl $p holds $(xenstore_fds $p) socket(s)"; done

old=$(pidof lixs-storeproc)
[ -n "$old" ] || die "no lixs-storeproc"
# one read's latency now: under TCG on a busy host a dom0 process start
# alone can take hundreds of ms, which the answer time below includes
t=$(ms); xenstore-read /local/domain/0/name >/dev/null; say "one xenstore-read before the kill: $(( $(ms) - t )) ms"
mark store-kill
t_kill=$(ms)
kill -9 $old
# A NEW store process must be started within 1 s (its start time in
# /proc, not disturbed by how slowly this loop runs) and answer on the
# socket (within 10 s: that includes the time of this loop's processes).
new=; t_ans=
while [ $(( $(ms) - t_kill )) -le 10000 ]; do
	new=$(pidof lixs-storeproc)
	if [ -n "$new" ] && [ "$new" != "$old" ] &&
	   [ "$(timeout 2 xenstore-read /local/domain/0/name 2>/dev/null)" = Domain-0 ]; then
		t_ans=$(( $(ms) - t_kill )); break
	fi
	sleep 0.01
done
mark store-answers
[ -n "$t_ans" ] || die "no new store process answered within 10 s (old $old, now '$new')"
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
t_start=$(( $(cut -d' ' -f22 /proc/$new/stat) * 1000 / hz - t_kill ))
say "store process $old killed; new store process $new started ${t_start} ms and answered on the socket ${t_ans} ms after the SIGKILL"
[ $t_start -le 1000 ] || die "the new store process started ${t_start} ms after the SIGKILL (more than 1 s)"
for d in $GUEST_DOMIDS; do
	v=$(xenstore-read /local/domain/$d/data/w/from-dom0)
	[ "$v" = "d0-$d" ] || die "domain $d: from-dom0 is '$v' after the restart"
	xenstore-write /local/domain/$d/data/w/after-restart "x-$d" || die "write into domain $d after the restart"
	xenstore-write /local/domain/$d/data/sync/restarted "$t_ans" || die "signal domain $d"
done
sleep 1
say "1 s after the restart:"
procs
for p in $mons; do
	if [ -d /proc/$p ]; then say "  xl monitor $p still exists, holds $(xenstore_fds $p) socket(s)"
	else say "  xl monitor $p has exited"; fi
done
grep -i 'store process\|journal' /run/xenstored.out 2>/dev/null | tail -5 | sed 's/^/  xenstored.out: /'

# Since the broker keeps each unix client's socket and an idle client is
# served on by the new store process (docs/RESTART.md, "Connections"),
# xl's monitor must still see its domain's shutdown and destroy it, and
# xenconsoled must still see @releaseDomain and let the console go: no
# operator step.  Watched in the background, after this hook has
# returned, while /init waits for the guests to go; /init's release check
# fails if a domain stays.
state() { xl list 2>/dev/null | awk -v d="$1" '$2 == d { print $5 }'; }
maps() { for p in $(pidof "$1"); do grep -cE 'gntdev|privcmd' /proc/$p/maps; done; }
waitgone() { # $1 = domid, $2 = ms (each xl list takes 0.1-1 s under TCG)
	t=$(ms); while [ -n "$(state $1)" ] && [ $(( $(ms) - t )) -lt $2 ]; do sleep 0.1; done
	[ -z "$(state $1)" ]
}
(
	for p in $GUESTS; do
		n=${p%=*}; d=${p#*=}
		t=$(date +%s)
		while st=$(state $d) && [ -n "$st" ]; do
			case $st in *s*) break;; esac
			[ $(( $(date +%s) - t )) -lt 120 ] || break
			sleep 0.2
		done
		[ -n "$st" ] && say "domain $n ($d) has shut down ($st) at dom0 uptime $(cut -d' ' -f1 /proc/uptime)"
		if waitgone $d 20000; then
			say "domain $n ($d) is gone at dom0 uptime $(cut -d' ' -f1 /proc/uptime): its xl monitor destroyed it, no operator step"
		else
			say "FAIL: domain $n ($d) still there 20 s after its shutdown ($(state $d)): its xl monitor lost its xenstore connection; gntdev/privcmd mappings: xenconsoled $(maps xenconsoled), broker $(maps xenstored)"
		fi
	done
	say "after the guests: xl processes: '$(pidof xl)'"
) &
exit 0
