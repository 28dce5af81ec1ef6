#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# load.bats - load and faults, bounded in time, local only (issue 9;
# figures in docs/RELIABILITY.md): unix clients and simulated guests
# driven by tests/tools/xsload, a slow reader under a write storm, fd
# exhaustion, a stalled store process, SIGKILL of the store and SIGTERM
# of the broker under load.  Every acknowledged write is checked after
# each run (xsload --acked / --verify).
#
# LIXS_SOAK=1 (the normal-build pass of `make check`) adds the 60-second
# run of 1,000 clients and 500 guests; every pass runs its 8-second
# version.

load helpers
load xensim

XSLOAD=$LIXS_BUILD/tools/xsload

# fds this file needs: 1,000 sockets and 500 event channels in xsload,
# as many client sockets in the store process.
LOAD_NOFILE=4096

setup() {
	xensim_setup
	broker_has_xen || skip_because "broker built without Xen channels"
	[ -x "$XSLOAD" ] || {
		echo "no $XSLOAD: build it first (make all)" >&2
		return 1
	}
	if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $LOAD_NOFILE ]; then
		skip_because "the hard fd limit ($(ulimit -Hn)) is below $LOAD_NOFILE"
	fi
	# The broker and the store process inherit it from here.
	ulimit -n $LOAD_NOFILE
}

teardown() {
	xensim_teardown
}

# Sanitizer builds use more memory and time: RSS bounds are scaled.
rss_scale() {
	if ldd "$LIXS_BUILD/lixs-broker" 2>/dev/null | grep -q libasan; then
		echo 4
	else
		echo 1
	fi
}

# CPU ticks (user + system) pid $1 has used.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# The value of KEY=... in xsload's output line ($output).
field() {
	sed -n "s/.*[[:space:]]$1=\\([0-9]*\\).*/\\1/p" <<<"$output" | head -n 1
}

# Run xsload with `run`; its figures go to the TAP output (as comments).
xsload() {
	run timeout 200 "$XSLOAD" -S "$XENSTORED_PATH" "$@"
	echo "xsload $*"
	echo "$output"
	grep '^XSLOAD' <<<"$output" | sed 's/^/# /' >&3 || true
}

# Every write acknowledged in $T/acked is in the store.
verify_acked() {
	run timeout "$LIXS_WAIT" "$XSLOAD" -S "$XENSTORED_PATH" --verify "$T/acked"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"lost=0"* ]]
}

# The mixed run of $1 seconds: 1,000 unix clients and 500 guests.
mixed_load() {
	xensim_start
	local spid
	spid=$(store_pid)
	# 2 requests a second each: 3,000 a second in all, which leaves the
	# store process time to spare on a 2-CPU machine shared with other
	# work (see RELIABILITY.md on the broker's 2-second stall limit).
	xsload -d "$1" -c 1000 -g 500 -r 2 --timeout 10 --acked "$T/acked" \
		--rss "$DAEMON_PID" --rss "$spid"
	[ "$status" -eq 0 ]
	[ "$(field errors)" -eq 0 ]
	[ "$(field timeouts)" -eq 0 ]
	[ "$(field ops)" -gt $(($1 * 1500)) ]
	# Broker and store process stay small (figures: RELIABILITY.md).
	local scale
	scale=$(rss_scale)
	[ "$(sed -n "s/.*rss_kb\\[$DAEMON_PID\\]=\\([0-9]*\\).*/\\1/p" <<<"$output")" -lt $((64 * 1024 * scale)) ]
	[ "$(sed -n "s/.*rss_kb\\[$spid\\]=\\([0-9]*\\).*/\\1/p" <<<"$output")" -lt $((256 * 1024 * scale)) ]
	# The same store process served it all.
	[ "$(store_pid)" = "$spid" ]
	verify_acked
}

@test "load: 1,000 unix clients and 500 guests for 8 s, no error, nothing lost" {
	mixed_load 8
}

@test "load: 1,000 unix clients and 500 guests for 60 s (LIXS_SOAK)" {
	[ -n "${LIXS_SOAK:-}" ] || skip_because "LIXS_SOAK unset: the normal-build pass of make check runs it"
	mixed_load 60
}

@test "load: a slow reader with 1,000 watches under a write storm is bounded, others p99 < 100 ms" {
	xensim_start
	local spid
	spid=$(store_pid)
	xsload -d 8 -c 100 -r 10 --slow 1000 --storm-rate 1000 --p99-max 100 \
		--acked "$T/acked" --rss "$spid"
	[ "$status" -eq 0 ]
	[ "$(field errors)" -eq 0 ]
	# The storm filled the slow reader's queue to its bound
	# (CONN_OUT_HARD, 8 MiB) and no further; the kernel's socket
	# buffers hold the rest of what it drained.
	grep -q 'does not read its socket; dropping its watch events' "$DAEMON_LOG"
	[ "$(field slow_bytes)" -gt $((8 * 1024 * 1024)) ]
	[ "$(field slow_bytes)" -lt $((8 * 1024 * 1024 + 2 * 1024 * 1024)) ]
	[ "$(field storm_writes)" -gt 2000 ]
	[ "$(sed -n "s/.*rss_kb\\[$spid\\]=\\([0-9]*\\).*/\\1/p" <<<"$output")" -lt $((128 * 1024 * $(rss_scale))) ]
	verify_acked
}

@test "faults: EMFILE on accept pauses the broker's accepts without spinning; the clients are served after" {
	command -v prlimit >/dev/null || skip_because "no prlimit"
	xensim_start
	# Only the broker runs out: its fds are 0..N with the listeners below 8.
	prlimit --pid "$DAEMON_PID" --nofile=8:$LOAD_NOFILE
	local t0 t1
	t0=$(cpu_ticks "$DAEMON_PID")
	timeout 60 "$XSLOAD" -S "$XENSTORED_PATH" -d 3 -c 50 --timeout 20 \
		--acked "$T/acked" >"$T/xsload.out" 2>&1 &
	local load=$!
	sleep 3
	t1=$(cpu_ticks "$DAEMON_PID")
	# Nothing was accepted meanwhile: xsload is still waiting.
	proc_alive "$load"
	prlimit --pid "$DAEMON_PID" --nofile=$LOAD_NOFILE:$LOAD_NOFILE
	wait "$load"
	cat "$T/xsload.out"
	grep -q 'accept: Too many open files; pausing for 100 ms' "$DAEMON_LOG"
	# Paused, not spinning: well under 0.3 s of CPU in those 3 s.
	echo "broker CPU ticks while out of fds: $((t1 - t0))"
	[ $((t1 - t0)) -lt 30 ]
	grep -q ' errors=0 ' "$T/xsload.out"
	verify_acked
}

@test "faults: a store process out of fds drops only the clients it cannot hold; nothing acknowledged is lost" {
	# The store process inherits 64 fds: it holds about 55 clients.
	ulimit -Sn 64
	xensim_start
	ulimit -Sn $LOAD_NOFILE
	local spid
	spid=$(store_pid)
	xs 'WRITE:/before\0kept'
	xsload -d 4 -c 80 -r 5 --burst --reconnect --timeout 20 --acked "$T/acked"
	# The CONN_NEW whose fd did not fit is dropped with its client (the
	# kernel closed it: that client sees EOF and reconnects); the store
	# process keeps serving everyone else.
	grep -q 'out of file descriptors: a client the broker handed over was dropped' \
		"$DAEMON_LOG"
	! grep -q 'store process [0-9]* exited' "$DAEMON_LOG"
	[ "$(store_pid)" = "$spid" ]
	xs 'READ:/before\0'
	[ "${lines[0]}" = 'READ req=1 tx=0 len=4 kept' ]
	[ -s "$T/acked" ]
	verify_acked
}

@test "faults: a store process stopped for 3 s under light ring traffic delays, loses nothing" {
	xensim_start
	local spid
	spid=$(store_pid)
	timeout 60 "$XSLOAD" -S "$XENSTORED_PATH" -d 8 -c 200 -g 50 --timeout 10 \
		--acked "$T/acked" >"$T/xsload.out" 2>&1 &
	local load=$!
	sleep 2
	local b0 b1
	b0=$(cpu_ticks "$DAEMON_PID")
	kill -STOP "$spid"
	sleep 3
	b1=$(cpu_ticks "$DAEMON_PID")
	kill -CONT "$spid"
	wait "$load"
	cat "$T/xsload.out"
	grep -q ' errors=0 eagain=[0-9]* eof=0 timeouts=0 ' "$T/xsload.out"
	# The stall shows in the latency (p99 >= 1 s), the broker waited
	# without spinning and did not restart anything.
	[ "$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' "$T/xsload.out")" -gt 1000000 ]
	echo "broker CPU ticks during the stall: $((b1 - b0))"
	[ $((b1 - b0)) -lt 50 ]
	[ "$(store_pid)" = "$spid" ]
	verify_acked
}

@test "faults: a store process stopped for 3 s under heavy ring traffic: the broker waits, the same store carries on, nothing lost" {
	xensim_start
	local spid
	spid=$(store_pid)
	timeout 60 "$XSLOAD" -S "$XENSTORED_PATH" -d 6 -c 10 -g 500 -r 5 --reconnect \
		--timeout 5 --acked "$T/acked" >"$T/xsload.out" 2>&1 &
	local load=$!
	sleep 2
	kill -STOP "$spid"
	sleep 3
	kill -CONT "$spid" 2>/dev/null || true
	wait "$load" || true
	cat "$T/xsload.out"
	# The broker's limit (broker/supervise.c STORE_STALL_MS) is 10 s: a
	# store stopped (or starved of CPU) for 3 s is waited for, not
	# killed.  hostile_store.bats shows one that never reads being ended.
	! grep -q "reads no frames" "$DAEMON_LOG"
	[ "$(store_pid)" = "$spid" ]
	grep -q ' errors=0 ' "$T/xsload.out"
	verify_acked
}

@test "faults: SIGKILL of the store process under load loses no acknowledged write, and no guest's request" {
	xensim_start
	local spid
	spid=$(store_pid)
	timeout 60 "$XSLOAD" -S "$XENSTORED_PATH" -d 6 -c 200 -g 50 --reconnect --timeout 10 \
		--acked "$T/acked" >"$T/xsload.out" 2>&1 &
	local load=$!
	sleep 2
	# Stopped first, so that guests' requests are surely in flight.
	kill -STOP "$spid"
	sleep 0.5
	kill -KILL "$spid"
	wait "$load"
	cat "$T/xsload.out"
	# The broker keeps unix clients (RESTART.md): each one idle at the
	# kill is served on, any other is closed (logged) and reconnects; a
	# guest's request in flight is given to the next store process and
	# answered: no client waits for ever (timeouts=0).
	grep -q ' errors=0 ' "$T/xsload.out"
	grep -q ' timeouts=0 ' "$T/xsload.out"
	local resumed closed eof
	resumed=$(grep -c 'unix client resumed' "$DAEMON_LOG" || true)
	closed=$(grep -c 'a unix client \(had a request\|was not in\)' "$DAEMON_LOG" || true)
	eof=$(sed -n 's/.* eof=\([0-9]*\).*/\1/p' "$T/xsload.out")
	echo "unix clients served on: $resumed; closed: $closed; EOFs seen: $eof"
	[ $((resumed + closed)) -eq 200 ] && [ "$resumed" -gt 0 ]
	[ "$eof" -eq "$closed" ]
	[ "$(store_pid)" != "$spid" ]
	verify_acked
}

@test "faults: SIGTERM of the broker under load: both processes exit in time, sockets removed" {
	xensim_start
	local spid
	spid=$(store_pid)
	timeout 60 "$XSLOAD" -S "$XENSTORED_PATH" -d 6 -c 200 -g 50 --timeout 3 \
		>"$T/xsload.out" 2>&1 &
	local load=$!
	sleep 2
	kill -TERM "$DAEMON_PID"
	wait_gone "$DAEMON_PID" 5
	wait_gone "$spid" 5
	DAEMON_PID=
	[ ! -e "$XENSTORED_PATH" ]
	[ ! -e "$LIXS_RO_SOCK" ]
	# The load generator sees its connections closed, not a hang.
	run wait "$load"
	cat "$T/xsload.out"
	grep -q 'connection closed by the daemon' "$T/xsload.out"
	! grep -Eq 'Sanitizer|runtime error:' "$DAEMON_LOG"
}

@test "1,000 clients connecting at once are all handed over: the broker waits for room, drops none" {
	xensim_start
	local spid
	spid=$(store_pid)
	xsload -d 3 -c 1000 -r 2 --burst --timeout 20 --acked "$T/acked"
	[ "$status" -eq 0 ]
	[ "$(field errors)" = 0 ]
	[ "$(field clients)" = 1000 ]
	! grep -q 'dropped a client' "$DAEMON_LOG"
	[ "$(store_pid)" = "$spid" ]
	verify_acked
}
