#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# sandbox.bats - the store process's confinement (storeproc/sandbox.c,
# seccomp/): what the kernel says about the running process, and what
# happens with a custom, broken or too small seccomp profile.

load helpers

BROKER=$LIXS_BUILD/lixs-broker
STORE_USER=lixs
EMPTY_DIR=/run/lixs/empty

setup_file() {
	[ -n "${LIXS_PEER:-}" ] && return 0
	# `make check` creates the store user (seccomp/seccomp.mk); a
	# direct bats run as root gets it here.
	getent passwd "$STORE_USER" >/dev/null ||
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$STORE_USER"
}

setup() {
	require_lixs "tests the lixs store process's sandbox"
	make_test_dir
	[ -x "$XSRAW" ] || {
		echo "no $XSRAW: build it first (make all)" >&2
		return 1
	}
}

# The broker's one child.
# Field $2 of /proc/$1/status, whitespace squeezed.
status_field() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

# The descriptors of pid $1, one "N -> target" a line, sorted by N.
fd_list() {
	local fd
	for fd in $(ls "/proc/$1/fd" | sort -n); do
		echo "$fd -> $(readlink "/proc/$1/fd/$fd")"
	done
}

fd_count_is() {
	[ "$(ls "/proc/$1/fd" | wc -l)" -eq "$2" ]
}

# Start the broker without sending it a request (a test profile may make
# the first request fatal); wait until it says it serves.
start_quiet() {
	XENSTORED_PATH=$T/sock
	LIXS_RO_SOCK=$T/ro
	export XENSTORED_PATH
	DAEMON_LOG=$T/log
	local args=()
	[ -n "${LIXS_BROKER_ARGS:-}" ] && read -r -a args <<<"$LIXS_BROKER_ARGS"
	(
		exec 3>&- 4>&-
		"$BROKER" -N --socket-path "$XENSTORED_PATH" --socket-ro-path "$LIXS_RO_SOCK" \
			--pid-file "$T/pid" "${args[@]}" "$@" </dev/null >"$DAEMON_LOG" 2>&1 &
		echo $! >"$T/daemon.pid"
	)
	DAEMON_PID=$(cat "$T/daemon.pid")
	wait_until grep -q 'serving on' "$DAEMON_LOG" || {
		cat "$DAEMON_LOG"
		return 1
	}
}

# Run the broker in the foreground until it exits (it must, by itself).
broker_refuses() {
	local args=()
	[ -n "${LIXS_BROKER_ARGS:-}" ] && read -r -a args <<<"$LIXS_BROKER_ARGS"
	run timeout "$LIXS_WAIT" "$BROKER" -N --socket-path "$T/sock" \
		--socket-ro-path "$T/ro" --pid-file "$T/pid" "${args[@]}" "$@"
	echo "$output"
	[ "$status" -eq 1 ]
	# It gave up without ever serving.
	[[ $output == *"the store process did not start; giving up"* ]]
	[[ $output != *"serving on"* ]]
	[ ! -e "$T/sock" ]
}

# The built-in profile minus the lines matching $1, in $T/profile.
profile_without() {
	grep -Ev "$1" "$LIXS_REPO/seccomp/default.profile" >"$T/profile"
}

teardown() {
	common_teardown
}

@test "store process: own uid and gid, no groups, no capabilities, no_new_privs, seccomp" {
	start_daemon
	local sp uid gid
	sp=$(store_pid)
	uid=$(id -u "$STORE_USER")
	gid=$(id -g "$STORE_USER")
	[ "$uid" -ne 0 ]
	[ "$gid" -ne 0 ]
	[ "$(status_field "$sp" Uid)" = "$uid $uid $uid $uid" ]
	[ "$(status_field "$sp" Gid)" = "$gid $gid $gid $gid" ]
	[ -z "$(status_field "$sp" Groups)" ]
	local set
	for set in CapInh CapPrm CapEff CapBnd CapAmb; do
		echo "$set: $(status_field "$sp" $set)"
		[ "$(status_field "$sp" $set)" = 0000000000000000 ]
	done
	[ "$(status_field "$sp" NoNewPrivs)" = 1 ]
	[ "$(status_field "$sp" Seccomp)" = 2 ]
}

@test "broker after init: the capabilities, no_new_privs and filter SECURITY.md lists" {
	start_daemon
	# The block between the markers holds "Field: value" lines of /proc/PID/status.
	local fields n=0 field want got
	fields=$(sed -n '/<!-- broker-status:begin -->/,/<!-- broker-status:end -->/p' \
		"$LIXS_REPO/SECURITY.md" | grep -E '^    [A-Za-z_]+: ')
	while read -r field want; do
		field=${field%:}
		got=$(status_field "$DAEMON_PID" "$field")
		echo "$field: SECURITY.md says '$want', the broker has '$got'"
		[ "$got" = "$want" ]
		n=$((n + 1))
	done <<<"$fields"
	[ "$n" -ge 7 ]
	# Kept: kill(5) setgid(6) setuid(7) setpcap(8) sys_chroot(18), nothing else.
	[ "$(status_field "$DAEMON_PID" CapEff)" = 00000000000401e0 ]
	# Still able to start a confined store process after shedding the rest.
	local old
	old=$(store_pid)
	kill -KILL "$old"
	wait_until eval '[ -n "$(store_pid)" ] && [ "$(store_pid)" != "$old" ]'
	xs 'WRITE:/after-restart\0yes'
	[ "$(status_field "$(store_pid)" CapBnd)" = 0000000000000000 ]
	[ "$(status_field "$(store_pid)" Seccomp_filters)" = 2 ]
}

@test "store process: empty root, no files, only its own descriptors, rlimits" {
	start_daemon
	local sp
	sp=$(store_pid)
	[ "$(readlink "/proc/$sp/root")" = "$EMPTY_DIR" ]
	[ "$(readlink "/proc/$sp/cwd")" = "$EMPTY_DIR" ]
	[ -z "$(ls -A "$EMPTY_DIR")" ]
	# Root's, and nobody else may write to it.
	[ "$(stat -c %u "$EMPTY_DIR")" = 0 ]
	[ $((0$(stat -c %a "$EMPTY_DIR") & 022)) -eq 0 ]
	# The answer-check connection of start_daemon is gone once the store
	# process noticed; then: stdin/out/err, the ipc channel (its descriptor
	# socket and two frame pipes, ipc.h), the epoll set, --ring-idle's
	# timer, the journal memfd it handed the broker (docs/RESTART.md).
	wait_until fd_count_is "$sp" 9 || { fd_list "$sp"; false; }
	fd_list "$sp" >"$T/fds"
	cat "$T/fds"
	grep -Eq '^0 -> /dev/null$' "$T/fds"
	grep -Eq "^2 -> $DAEMON_LOG\$" "$T/fds"
	grep -Eq '^3 -> socket:' "$T/fds"
	grep -Eq '^4 -> pipe:' "$T/fds"
	grep -Eq '^5 -> pipe:' "$T/fds"
	grep -Eq '^6 -> anon_inode:\[eventpoll\]$' "$T/fds"
	grep -Eq '^7 -> anon_inode:\[timerfd\]$' "$T/fds"
	grep -Eq '^8 -> /memfd:lixs-journal \(deleted\)$' "$T/fds"
	grep -Eq '^Max processes +0 +0 ' "/proc/$sp/limits"
	grep -Eq '^Max core file size +0 +0 ' "/proc/$sp/limits"
	[ "$(awk '{ print $3 }' "/proc/$sp/stat")" != Z ]
	# Not dumpable: /proc files of the process belong to root.
	[ "$(stat -c %u "/proc/$sp/status")" = 0 ]
	# ...and it still serves, and stops cleanly (no SIGSYS on the way out).
	xs 'WRITE:/sandbox\0ok' 'READ:/sandbox\0'
	[[ $output == *"READ req=2 tx=0 len=2 ok"* ]]
	stop_daemon
	grep -q "store process $sp exited with status 0" "$DAEMON_LOG"
	! grep -q 'seccomp:' "$DAEMON_LOG"
}

@test "custom profile without fcntl: the first client kills the store process, the log names fcntl, it is restarted" {
	# fcntl makes each client socket handed over non-blocking.
	profile_without '^fcntl '
	SECCOMP_KILL_EXPECTED=1
	start_quiet --seccomp-profile "$T/profile"
	local sp
	sp=$(store_pid)
	# Each store process dies taking the client over, and so does each one
	# restarted with the same profile (the broker keeps the client for the
	# next): no reply.
	run "$XSRAW" -S "$XENSTORED_PATH" -t 1 'DIRECTORY:/\0'
	[ "$status" -eq 3 ] || [ "$status" -eq 4 ]
	wait_until grep -q "store process $sp killed by signal SIGSYS" "$DAEMON_LOG"
	grep -Eq "seccomp: syscall fcntl \([0-9]+\) is not in the profile" "$DAEMON_LOG"
	# Restarted, with the same profile; the broker kept running.
	wait_until grep -q 'restarting the store process' "$DAEMON_LOG"
	wait_until eval '[ "$(grep -c "store process [0-9]* started" "$DAEMON_LOG")" -ge 2 ]'
	proc_alive "$DAEMON_PID"
	# The client gone (the broker drops its copy at the hang-up), the next
	# store process has nothing to take over, and serves on.
	local sp2
	wait_until eval 'sp2=$(store_pid) && [ "$sp2" != "$sp" ] && sleep 0.5 && proc_alive "$sp2"'
	[ "$(status_field "$sp2" Seccomp)" = 2 ]
}

@test "custom profile: the built-in one as a file works, @action log lets a missing syscall run" {
	start_daemon --seccomp-profile "$LIXS_REPO/seccomp/default.profile"
	xs 'WRITE:/p\0v' 'READ:/p\0'
	[[ $output == *"READ req=2 tx=0 len=1 v"* ]]
	stop_daemon

	profile_without '^fcntl '
	echo '@action log   # developing a profile' >>"$T/profile"
	start_daemon --seccomp-profile "$T/profile"
	grep -q 'seccomp profile is in log mode' "$DAEMON_LOG"
	xs 'READ:/p\0'
	local sp
	sp=$(store_pid)
	[ "$(status_field "$sp" Seccomp)" = 2 ]
	! grep -q 'SIGSYS' "$DAEMON_LOG"
}

@test "a profile without a required syscall is refused at start, naming it" {
	profile_without '^read '
	broker_refuses --seccomp-profile "$T/profile"
	[[ $output == *"$T/profile: lacks a syscall the store process cannot run without: 'read'"* ]]
	[[ $output == *"store process "*" exited with status 1"* ]]
}

@test "a malformed profile is refused at start with its line number" {
	printf '%s\n' '# line 1' 'epoll_wait' 'readd  # typo' >"$T/profile"
	broker_refuses --seccomp-profile "$T/profile"
	[[ $output == *"$T/profile:3: unknown syscall 'readd'"* ]]

	printf '%s\n' 'epoll_wait read' >"$T/profile"
	broker_refuses --seccomp-profile "$T/profile"
	[[ $output == *"$T/profile:1: bad syntax"* ]]

	broker_refuses --seccomp-profile "$T/no-such-file"
	[[ $output == *"$T/no-such-file: No such file or directory"* ]]
}

@test "a store user that does not exist is a clear error at start" {
	broker_refuses --store-user lixs-no-such-user
	[[ $output == *"store user 'lixs-no-such-user' does not exist"* ]]
	broker_refuses --store-user root
	[[ $output == *"store user 'root' has uid or gid 0"* ]]
}

@test "--store-user picks the store process's user" {
	start_daemon --store-user nobody
	local sp
	sp=$(store_pid)
	[ "$(status_field "$sp" Uid)" = "65534 65534 65534 65534" ]
	xs 'DIRECTORY:/\0'
}

@test "a write that fires 128 watches (a guest's quota) does not kill the store process" {
	start_daemon
	local sp args=() i
	sp=$(store_pid)
	# Sorting that many events makes glibc's qsort() call sysinfo().
	for i in $(seq 128); do
		args+=("WATCH:/many\0t$i\0")
	done
	xs "${args[@]}" 'WRITE:/many\0v' 'READ:/many\0'
	[[ $output == *"READ"*"v"* ]]
	[ "$(store_pid)" = "$sp" ]
	! grep -q 'SIGSYS' "$DAEMON_LOG"
}
