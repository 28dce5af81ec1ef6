#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# helpers.bash - what every lixs bats file loads: start and stop the
# daemon under test, a per-test directory, the raw wire client, and small
# assertions.
#
# Environment:
#   LIXS_BUILD    absolute build directory (lixs-broker, lixs-storeproc,
#                 tools/xsraw); default <repo>/build
#   LIXS_PEER     unset: test lixs.  cxenstored or oxenstored: run the same
#                 files against that upstream daemon (via
#                 $LIXS_SHARED/peers/run-peer.sh); lixs-only tests skip.
#   LIXS_SHARED   the shared/ folder; default <repo>/../shared
#   LIXS_BROKER_ARGS  extra arguments for lixs-broker
#
# Every test gets $T (its own directory), $XENSTORED_PATH (the read-write
# socket, exported for the upstream clients), $LIXS_RO_SOCK and $DAEMON_PID.

bats_require_minimum_version 1.5.0

LIXS_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
LIXS_BUILD=${LIXS_BUILD:-$LIXS_REPO/build}
LIXS_SHARED=${LIXS_SHARED:-$LIXS_REPO/../shared}
LIXS_PEER=${LIXS_PEER:-}
XEN_BIN=${XEN_BIN:-/usr/lib/xen-4.17/bin}
XSRAW=$LIXS_BUILD/tools/xsraw
# Bound for every wait on the daemon, in seconds.
LIXS_WAIT=${LIXS_WAIT:-10}

# Say why a test does not run, in the TAP output and in the test's log.
skip_because() {
	echo "# skipped: $*" >&2
	skip "$*"
}

# The test needs lixs itself (not an upstream peer); $1 says why.
require_lixs() {
	[ -z "$LIXS_PEER" ] || skip_because "$LIXS_PEER: $*"
}

# True while pid $1 runs.  A zombie counts as gone: the daemons are not our
# children, and whoever reaps them may take a while.
proc_alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# Wait up to $2 seconds (default $LIXS_WAIT) until pid $1 is gone.
wait_gone() {
	local i
	for ((i = 0; i < ${2:-$LIXS_WAIT} * 20; i++)); do
		proc_alive "$1" || return 0
		sleep 0.05
	done
	return 1
}

# Poll `$@` until it succeeds, for at most $LIXS_WAIT seconds.
wait_until() {
	local i
	for ((i = 0; i < LIXS_WAIT * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# A request succeeds on socket $1.
daemon_answers() {
	local out
	out=$("$XSRAW" -S "$1" -t 1 'DIRECTORY:/\0') || return 1
	[[ $out == DIRECTORY* ]]
}

# The test's own directory.  Socket paths must stay below 108 bytes, so
# fall back to a short one when bats' own is long.
make_test_dir() {
	if [ -n "${BATS_TEST_TMPDIR:-}" ] && [ ${#BATS_TEST_TMPDIR} -lt 70 ]; then
		T=$BATS_TEST_TMPDIR
		T_OWNED=
	else
		T=$(mktemp -d "${TMPDIR:-/tmp}/lixs-bats.XXXXXX")
		T_OWNED=1
	fi
	mkdir -p "$T"
}

# Start the daemon under test in the background, not as our child (so
# bats does not wait for it), and wait until it answers.
# Sets DAEMON_PID.  Extra arguments go to lixs-broker.
start_daemon() {
	XENSTORED_PATH=$T/sock
	LIXS_RO_SOCK=$T/ro
	export XENSTORED_PATH
	if [ -n "$LIXS_PEER" ]; then
		local out
		# fd 3 is bats' own: a daemon holding it would stall bats.
		out=$("$LIXS_SHARED/peers/run-peer.sh" "$LIXS_PEER" \
			"$XENSTORED_PATH" 2>&1 3>&-) || {
			echo "$out" >&2
			return 1
		}
		DAEMON_PID=$(sed -n 's/^pid=//p' <<<"$out")
		DAEMON_LOG=$XENSTORED_PATH.d/daemon.log
	else
		[ -x "$LIXS_BUILD/lixs-broker" ] || {
			echo "no $LIXS_BUILD/lixs-broker: build first (make all)" >&2
			return 1
		}
		DAEMON_LOG=$T/log
		local args=()
		[ -n "${LIXS_BROKER_ARGS:-}" ] && read -r -a args <<<"$LIXS_BROKER_ARGS"
		# The subshell exits at once, so the broker is reparented; its
		# output goes to the log, never to bats' descriptors.
		(
			exec 3>&- 4>&-
			"$LIXS_BUILD/lixs-broker" -N --socket-path "$XENSTORED_PATH" \
				--socket-ro-path "$LIXS_RO_SOCK" --pid-file "$T/pid" \
				"${args[@]}" "$@" </dev/null >"$DAEMON_LOG" 2>&1 &
			echo $! >"$T/daemon.pid"
		)
		DAEMON_PID=$(cat "$T/daemon.pid")
	fi
	[ -n "$DAEMON_PID" ] || return 1
	if ! wait_until daemon_answers "$XENSTORED_PATH"; then
		echo "daemon (pid $DAEMON_PID) does not answer on $XENSTORED_PATH; log:" >&2
		tail -n 30 "$DAEMON_LOG" >&2
		return 1
	fi
}

# Stop the daemon by pid: SIGTERM, a bounded wait, then insist.  Fails
# (after killing it for good) when it did not exit in time.
stop_daemon() {
	local pid=${DAEMON_PID:-}
	DAEMON_PID=
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_gone "$pid"; then
		echo "daemon pid $pid ignored SIGTERM for ${LIXS_WAIT}s" >&2
		kill -KILL "$pid" 2>/dev/null || true
		return 1
	fi
	if [ -n "$LIXS_PEER" ]; then
		rm -f "$XENSTORED_PATH" "$XENSTORED_PATH.d/peer.pid"
	fi
}

# Default per-test setup and teardown; files with other needs define their
# own and call these.
common_setup() {
	make_test_dir
	[ -x "$XSRAW" ] || {
		echo "no $XSRAW: build it first (make all)" >&2
		return 1
	}
	start_daemon
}

common_teardown() {
	local rc=0
	stop_daemon || rc=1
	if [ -n "${DAEMON_LOG:-}" ] && [ -s "$DAEMON_LOG" ]; then
		# On an ASan/UBSan build a report fails the test even when the
		# broker restarted the store process and the clients noticed
		# nothing.
		if grep -Eq 'Sanitizer|runtime error:' "$DAEMON_LOG"; then
			echo "sanitizer report in $DAEMON_LOG:"
			grep -E -A30 'Sanitizer|runtime error:' "$DAEMON_LOG" | head -n 60
			rc=1
		fi
		# A store process killed by its seccomp filter is a bug unless
		# the test provoked it (SECCOMP_KILL_EXPECTED=1).
		if [ -z "${SECCOMP_KILL_EXPECTED:-}" ] && grep -q 'seccomp:' "$DAEMON_LOG"; then
			echo "seccomp kill in $DAEMON_LOG:"
			grep 'seccomp:' "$DAEMON_LOG"
			rc=1
		fi
		# Shown by bats only when the test failed.
		echo "--- daemon log ($DAEMON_LOG):"
		tail -n 20 "$DAEMON_LOG"
	fi
	[ -n "${T_OWNED:-}" ] && rm -rf "$T"
	return $rc
}

# The pid of the broker's one store process (fails if there is not exactly one).
store_pid() {
	local pids
	pids=$(pgrep -P "$DAEMON_PID" 2>/dev/null) || return 1
	[ "$(wc -l <<<"$pids")" -eq 1 ] || return 1
	echo "$pids"
}

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# Run xsraw on the read-write socket with `run`; it must exit 0.
xs() {
	xs_status 0 "$@"
}

# The same, expecting exit status $1 (3 timeout, 4 EOF: see xsraw.c).
xs_status() {
	local want=$1
	shift
	run "$XSRAW" -S "${XS_SOCK:-$XENSTORED_PATH}" -t 5 "$@"
	if [ "$status" -ne "$want" ]; then
		echo "xsraw exited $status, expected $want; output:"
		echo "$output"
		return 1
	fi
}

# $output must equal stdin, line for line; show a diff when it does not.
expect_output() {
	local want
	want=$(cat)
	if [ "$output" != "$want" ]; then
		echo "--- expected / +++ got:"
		diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$output") || true
		return 1
	fi
}

# Run a command (bounded by timeout) and expect status $1.
expect_status() {
	local want=$1
	shift
	run timeout "$LIXS_WAIT" "$@"
	if [ "$status" -ne "$want" ]; then
		echo "expected status $want, got $status from: $*"
		echo "$output"
		return 1
	fi
}

# Pick the expectation for the daemon under test: lixs's unless the peer
# in $LIXS_PEER is named with its own, e.g.
#   for_daemon 'ERROR ... EINVAL\0' cxenstored 'ERROR ... ENOENT\0'
for_daemon() {
	local lixs=$1
	shift
	while [ $# -ge 2 ]; do
		if [ "$1" = "$LIXS_PEER" ]; then
			printf '%s\n' "$2"
			return
		fi
		shift 2
	done
	printf '%s\n' "$lixs"
}
