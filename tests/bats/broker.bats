#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# broker.bats - lixs-broker as a process: pid file, socket modes, clean
# shutdown, restart of a killed store process, command line.

load helpers

BROKER=$LIXS_BUILD/lixs-broker

setup() {
	require_lixs "tests the lixs broker process"
	make_test_dir
	[ -x "$XSRAW" ] || {
		echo "no $XSRAW: build it first (make all)" >&2
		return 1
	}
}

# The store process: the broker's one child, printed as a pid.
@test "pid file holds the broker's pid" {
	start_daemon
	[ -s "$T/pid" ]
	[ "$(tr -d '[:space:]' <"$T/pid")" = "$DAEMON_PID" ]
}

@test "read-write socket has mode 0600" {
	start_daemon
	[ "$(stat -c %a "$XENSTORED_PATH")" = 600 ]
	[ -S "$LIXS_RO_SOCK" ]
}

@test "the store process is a lixs-storeproc child of the broker" {
	start_daemon
	local sp
	sp=$(store_pid)
	[ "$(cat "/proc/$sp/comm")" = lixs-storeproc ]
}

@test "SIGTERM removes sockets and pid file, leaves no store process" {
	start_daemon
	local broker=$DAEMON_PID sp
	sp=$(store_pid)
	kill -TERM "$broker"
	wait_gone "$broker"
	DAEMON_PID=
	wait_gone "$sp"
	[ ! -e "$XENSTORED_PATH" ]
	[ ! -e "$LIXS_RO_SOCK" ]
	[ ! -e "$T/pid" ]
}

@test "a killed store process is logged with its signal and replaced" {
	start_daemon
	xs 'WRITE:/before\0x'
	local old new
	old=$(store_pid)
	kill -KILL "$old"
	wait_gone "$old"
	# the broker says which signal ended it
	wait_until grep -Eiq 'SIGKILL|signal 9|killed' "$DAEMON_LOG"
	# a new store process comes up and serves (data need not survive yet)
	wait_until store_pid
	new=$(store_pid)
	[ "$new" != "$old" ]
	wait_until daemon_answers "$XENSTORED_PATH"
	xs 'WRITE:/after\0y' 'READ:/after\0'
	expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
READ req=2 tx=0 len=1 y
EOF
	proc_alive "$DAEMON_PID"
}

@test "--help exits 0 and lists the options" {
	expect_status 0 "$BROKER" --help
	[[ $output == *--no-fork* ]]
	[[ $output == *--pid-file* ]]
	[[ $output == *--socket-path* ]]
	[[ $output == *--socket-ro-path* ]]
	[[ $output == *--storeproc* ]]
}

@test "an unknown option exits 2" {
	expect_status 2 "$BROKER" --no-such-option
	[ -n "$output" ]
	expect_status 2 "$BROKER" -N unexpected-argument
}

@test "XENSTORED_PATH names the read-write socket" {
	(
		exec 3>&-
		XENSTORED_PATH=$T/envsock "$BROKER" -N --socket-ro-path "$T/ro" \
			--pid-file "$T/pid" </dev/null >"$T/log" 2>&1 &
		echo $! >"$T/daemon.pid"
	)
	DAEMON_PID=$(cat "$T/daemon.pid")
	DAEMON_LOG=$T/log
	wait_until daemon_answers "$T/envsock"
	XS_SOCK=$T/envsock xs 'READ:/\0'
	[ "$output" = 'READ req=1 tx=0 len=0' ]
}
