#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# install.bats - `make install` into a staging directory, then the
# distribution's own ways of starting xenstored, run against the installed
# broker in a private mount namespace, so the host's /etc, /run and
# /usr/local are never touched:
#
#   - Debian's /etc/init.d/xen: its xenstored_start function, taken from
#     the script as installed (start-stop-daemon --pidfile, choom, then
#     "xenstore-read -s /" until it answers, then dom0's name);
#   - upstream's launch-xenstore (Debian ships it in /etc/xen/scripts),
#     which reads /etc/default/xencommons;
#
# each with the original LiXS's XENSTORED_ARGS line and with an empty one.
# The LiXS line names --xenbus, so it runs on the Xen stand-in
# (tests/xensim) and dom0's kernel ring is checked too; the empty line runs
# on this host as it is (no Xen: unix sockets only).
#
# In the namespace: /run is an empty tmpfs, /usr/local is the staged
# install (PREFIX=/usr/local, the build's default, so the broker finds
# its store process where it was built to look), /etc/default and
# /var/log/xen are directories of the test.  Where this host refuses to
# lower oom_score_adj (no CAP_SYS_RESOURCE, as in CI containers), a
# stand-in for choom runs the command unchanged, and xencommons sets
# XENSTORED_MAX_OPEN_FDS to the hard limit launch-xenstore cannot raise.

load helpers

LIXS_LINE='-D --xenbus --unix-socket --virq-dom-exc'
BROKER=/usr/local/sbin/lixs-broker

setup_file() {
	export STAGE=$BATS_FILE_TMPDIR/stage
	[ "$(id -u)" -eq 0 ] || return 0
	make -s -C "$LIXS_REPO" B="$LIXS_BUILD" NOBUILD=1 DESTDIR="$STAGE" install \
		>"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/install.log" >&2
		return 1
	}
}

setup() {
	[ "$(id -u)" -eq 0 ] || skip_because "needs root (mount namespaces)"
	unshare -m true 2>/dev/null || skip_because "cannot unshare the mount namespace"
	strings "$LIXS_BUILD/lixs-broker" | grep -qx '/usr/local/libexec/lixs/lixs-storeproc' ||
		skip_because "the broker was built for another PREFIX"
	make_test_dir
	mkdir -p "$T/default" "$T/log" "$T/xenroot"
	printf '#!/bin/sh\nshift 2; c=$1; shift; [ "${1:-}" = -- ] && shift; exec "$c" "$@"\n' \
		>"$T/choom"
	chmod +x "$T/choom"
	FDS_LINE=
	prlimit --nofile="$(cat /proc/sys/fs/nr_open)" true 2>/dev/null ||
		FDS_LINE="XENSTORED_MAX_OPEN_FDS=$(ulimit -Hn)"
}

teardown() {
	[ -n "${T_OWNED:-}" ] && rm -rf "$T"
	return 0
}

# Bash code run first in every namespace: the mounts, and on the way out
# the end of any broker this namespace started (by pid, and only ours).
NS_PRELUDE='
set -eu
mount -t tmpfs -o mode=0755 lixs-run /run
mount --bind "$STAGE/usr/local" /usr/local
mount --bind "$T/default" /etc/default
[ -d /var/log/xen ] && mount --bind "$T/log" /var/log/xen
choom -n -1000 true 2>/dev/null || mount --bind "$T/choom" /usr/bin/choom
ns_cleanup() {
	local me p
	me=$(readlink /proc/self/ns/mnt)
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$me" ] || continue
		case $(readlink "$p/exe" 2>/dev/null) in
		/usr/local/sbin/lixs-broker|/usr/local/libexec/lixs/lixs-storeproc)
			echo "ns_cleanup: killing stray ${p#/proc/}" >&2
			kill -KILL "${p#/proc/}" 2>/dev/null || true ;;
		esac
	done
}
trap ns_cleanup EXIT
# Not our children: a zombie waiting for init to reap it counts as gone.
gone() {
	local i s
	for ((i = 0; i < 100; i++)); do
		s=$(awk "{ print \$3 }" "/proc/$1/stat" 2>/dev/null) || return 0
		[ "$s" = Z ] && return 0
		sleep 0.05
	done
	return 1
}
# The Xen stand-in, for the LiXS line (it names --xenbus).
with_xensim() {
	export XENSIM_DIR=$T/xen
	"$LIXS_BUILD/tools/xensim-ctl" dom0-ring-init >/dev/null
	export LD_PRELOAD=$LIXS_BUILD/xensim.so
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}
# The running broker named by pid file $1 serves; then stop it as init
# would (SIGTERM via start-stop-daemon) and check nothing is left over.
check_and_stop() {
	local pidf=$1 pid store
	xenstore-read -s /
	pid=$(cat "$pidf")
	[ "$(readlink "/proc/$pid/exe")" = /usr/local/sbin/lixs-broker ]
	[ "$(cat "/proc/$pid/comm")" = lixs-broker ]
	store=$(pgrep -P "$pid")
	[ "$(readlink "/proc/$store/exe")" = /usr/local/libexec/lixs/lixs-storeproc ]
	echo "broker $pid store $store"
	start-stop-daemon --stop --quiet --pidfile "$pidf" --exec /usr/local/sbin/lixs-broker \
		--retry TERM/10/KILL/2
	gone "$pid"
	gone "$store"
	[ ! -e /run/xenstored/socket ]
	[ ! -e /run/xenstored/socket_ro ]
	[ ! -e "$pidf" ]
	echo stopped cleanly
}
'

# Run bash code $1 in a fresh private mount namespace (bounded), with `run`.
in_ns() {
	run timeout 60 env STAGE="$STAGE" T="$T" LIXS_BUILD="$LIXS_BUILD" \
		unshare --mount --propagation private bash -c "$NS_PRELUDE$1"
	echo "$output"
	[ "$status" -eq 0 ]
}

# Debian's xenstored_start, from its init script, with the variables the
# script sets before it (ROOT points at a directory without
# xen-init-dom0, so the script's own fallback writes dom0's name).
DEBIAN_START='
ROOT=$T/xenroot
eval "$(grep -E "^(XENSTORED_DIR|XENSTORED_PIDFILE|CXENSTORED|OXENSTORED)=" /etc/init.d/xen)"
. /etc/default/xen
log_progress_msg() { :; }
log_failure_msg() { echo "init: $*" >&2; }
eval "$(sed -n "/^xenstored_start()/,/^}/p" /etc/init.d/xen)"
set +e
xenstored_start
rc=$?
set -e
[ "$rc" -eq 0 ]
[ "$(xenstore-read /local/domain/0/name)" = Domain-0 ]
'

@test "install: make install puts every file in place, uninstall removes them" {
	local d=$T/inst
	run make -s -C "$LIXS_REPO" B="$LIXS_BUILD" NOBUILD=1 DESTDIR="$d" PREFIX=/opt/lx install
	[ "$status" -eq 0 ]
	[[ $output == *"not creating the 'lixs' user"* ]]
	[ -x "$d/opt/lx/sbin/lixs-broker" ]
	[ -x "$d/opt/lx/libexec/lixs/lixs-storeproc" ]
	[ -r "$d/opt/lx/share/man/man8/lixs-broker.8" ]
	[ -r "$d/opt/lx/share/man/man8/lixs-storeproc.8" ]
	grep -qx 'ExecStart=/opt/lx/sbin/lixs-broker -N $XENSTORED_ARGS' \
		"$d/opt/lx/lib/systemd/system/lixs.service"
	run make -s -C "$LIXS_REPO" B="$LIXS_BUILD" NOBUILD=1 DESTDIR="$d" PREFIX=/opt/lx uninstall
	[ "$status" -eq 0 ]
	run find "$d" -type f
	[ -z "$output" ]
}

@test "install: the man pages render without warnings" {
	local p
	for p in "$STAGE"/usr/local/share/man/man*/*; do
		run bash -c "MANWIDTH=80 man --warnings -l '$p' 2>&1 >/dev/null"
		[ -z "$output" ] || { echo "$p: $output"; false; }
	done
}

@test "install: systemd-analyze verify passes on the installed unit" {
	command -v systemd-analyze >/dev/null || skip_because "no systemd-analyze"
	in_ns 'systemd-analyze verify /usr/local/lib/systemd/system/lixs.service'
}

@test "debian init: xenstored_start with the LiXS line (Xen stand-in)" {
	printf 'XENSTORED=%s\nXENSTORED_ARGS="%s"\n' "$BROKER" "$LIXS_LINE" >"$T/default/xen"
	in_ns "with_xensim
$DEBIAN_START
\"\$LIXS_BUILD/tools/fakeguest\" --dom0-ring \"READ:/local/domain/0/name\\0\"
check_and_stop /run/xenstore.pid"
	[[ $output == *"READ req=1 tx=0 len=8 Domain-0"* ]]
	[[ $output == *"stopped cleanly"* ]]
}

@test "debian init: xenstored_start with an empty XENSTORED_ARGS" {
	printf 'XENSTORED=%s\nXENSTORED_ARGS=\n' "$BROKER" >"$T/default/xen"
	in_ns "$DEBIAN_START
check_and_stop /run/xenstore.pid"
	[[ $output == *"stopped cleanly"* ]]
}

@test "launch-xenstore with the LiXS line (Xen stand-in)" {
	printf 'XENSTORED=%s\nXENSTORED_ARGS="%s"\n%s\n' "$BROKER" "$LIXS_LINE" "$FDS_LINE" \
		>"$T/default/xencommons"
	in_ns 'with_xensim
bash /etc/xen/scripts/launch-xenstore
xenstore-write /local/domain/0/name Domain-0
"$LIXS_BUILD/tools/fakeguest" --dom0-ring "READ:/local/domain/0/name\0"
check_and_stop /run/xen/xenstored.pid'
	[[ $output == *"READ req=1 tx=0 len=8 Domain-0"* ]]
	[[ $output == *"stopped cleanly"* ]]
}

@test "launch-xenstore with an empty XENSTORED_ARGS and XENSTORED_TRACE" {
	[ -d /var/log/xen ] || skip_because "no /var/log/xen on this host to stand in for"
	printf 'XENSTORED=%s\nXENSTORED_ARGS=\nXENSTORED_TRACE=yes\n%s\n' "$BROKER" "$FDS_LINE" \
		>"$T/default/xencommons"
	in_ns 'bash /etc/xen/scripts/launch-xenstore
xenstore-write /lixs/traced yes
check_and_stop /run/xen/xenstored.pid'
	[[ $output == *"stopped cleanly"* ]]
	grep -q '^IN 0x[0-9a-f]* [0-9]\{8\} [0-9:]\{8\} WRITE (/lixs/traced yes)$' \
		"$T/log/xenstored-trace.log"
}
