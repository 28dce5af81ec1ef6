#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# hostile_store.bats - a compromised store process (tests/tools/hostile_store)
# against the broker on the simulated Xen host: malformed frames, requests
# policy/ refuses, RING_MAP requests it answers with an errno, floods.  For
# each: the broker refuses it and logs the rule, no ring is mapped or
# unmapped for it, the guests' rings and the unix sockets are served
# afterwards, and the real store process is back (new pid, confined).
# The forbidden-syscall case (the real store process under a profile
# without `read`) is in sandbox.bats.

load helpers
load xensim

HOSTILE=$LIXS_BUILD/tools/hostile_store

setup_file() {
	[ -n "${LIXS_PEER:-}" ] && return 0
	# The real store process, started after each attack, needs its user.
	getent passwd lixs >/dev/null ||
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin lixs
}

setup() {
	require_lixs "tests the lixs broker against a hostile store process"
	broker_has_xen || skip_because "broker built without Xen channels"
	make_test_dir
	[ -x "$XSRAW" ] && [ -x "$HOSTILE" ] || {
		echo "no $XSRAW or $HOSTILE: build first (make all)" >&2
		return 1
	}
	export HOSTILE_DIR=$T/hostile HOSTILE_REAL=$LIXS_BUILD/lixs-storeproc
	mkdir -p "$HOSTILE_DIR"
	: >"$HOSTILE_DIR/report"
	xensim_init
	# Start 1 is the real store process (no plan yet).
	start_daemon_xensim --storeproc "$HOSTILE"
	xensim_guest 5
	fg 5 'WRITE:data/x\0before'
	[ "$status" -eq 0 ]
}

teardown() {
	common_teardown
}

# The pid of start $1 of the store process.
start_pid() {
	sed -n "${1}p" "$HOSTILE_DIR/starts"
}

starts_at_least() {
	[ "$(wc -l <"$HOSTILE_DIR/starts")" -ge "$1" ]
}

# Kill the running (real) store process; the next starts follow the plan
# given as arguments, one attack each, then the real one again.  Waits
# until that real one answers; $ATTACK_FIRST is the first attack's start.
attack() {
	local sp n=$#
	{
		echo real
		printf '%s\n' "$@"
	} >"$HOSTILE_DIR/plan"
	ATTACK_FIRST=$(($(wc -l <"$HOSTILE_DIR/starts") + 1))
	sp=$(pgrep -P "$DAEMON_PID")
	kill -KILL "$sp"
	# Each attack takes ~1.2 s (see hostile_store.c).
	LIXS_WAIT=$((n * 2 + 10)) wait_until starts_at_least $((ATTACK_FIRST + n))
	wait_until daemon_answers "$XENSTORED_PATH"
}

# Guest 5 writes while the store process is stopped, so the request
# reaches it and the broker holds a copy; then attack "$@".  The guest's
# fakeguest runs on in the background as $GUEST_PID, its output in
# $T/fg.out.
held_request_then_attack() {
	kill -STOP "$(pgrep -P "$DAEMON_PID")"
	timeout "$LIXS_WAIT" "$FAKEGUEST" -d 5 -t 4 'WRITE:data/y\0v' >"$T/fg.out" 2>&1 &
	GUEST_PID=$!
	sleep 0.5
	attack "$@"
}

# Start $1 (a number) was ended by the broker with this log line tail.
ended_for() {
	local pid
	pid=$(start_pid "$1")
	grep -q "store process $pid $2; killing it" "$DAEMON_LOG" || {
		echo "start $1 (pid $pid): no '$2' in the log:"
		grep "store process $pid" "$DAEMON_LOG"
		return 1
	}
	! grep -q "^$1: NOT-ENDED" "$HOSTILE_DIR/report"
}

# Nothing a hostile start asked for changed the rings; the broker, its
# guests, dom0's ring and the unix socket are served by a real store
# process that came back after the attacks.
served_after() {
	proc_alive "$DAEMON_PID"
	local sp last
	sp=$(pgrep -P "$DAEMON_PID")
	last=$(tail -n 1 "$HOSTILE_DIR/starts")
	[ "$sp" = "$last" ]
	[ "$(sort -u "$HOSTILE_DIR/starts" | wc -l)" -eq "$(wc -l <"$HOSTILE_DIR/starts")" ]
	# The real one: confined as lixs-storeproc confines itself.
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$sp/status"
	[ "$("$XENSIM_CTL" maps 5)" -eq 1 ]
	# The restarted store has a fresh tree: give guest 5 its home again.
	xs 'MKDIR:/local/domain/5\0' 'SET_PERMS:/local/domain/5\0n5\0' \
		'WRITE:/local/domain/5/after\0ok' 'SET_PERMS:/local/domain/5/after\0n5\0'
	fg 5 'READ:/local/domain/5/after\0' 'WRITE:data/y\0guest'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'READ req=1 tx=0 len=2 ok' ]
	xs 'READ:/local/domain/5/data/y\0'
	[ "$output" = 'READ req=1 tx=0 len=5 guest' ]
	run timeout "$LIXS_WAIT" "$FAKEGUEST" --dom0-ring 'READ:/local/domain/5/after\0'
	[ "$status" -eq 0 ]
	[ "$output" = 'READ req=1 tx=0 len=2 ok' ]
}

# Its descriptors, less the journal memfd it holds for the store process
# (one at most, handed over whenever a store process has written one) and
# the Xen stand-in's event FIFOs (tests/xensim keeps a peer's open once it
# notified it: the library's, not the broker's).
broker_fds() {
	local fd target n=0
	for fd in "/proc/$DAEMON_PID"/fd/*; do
		target=$(readlink "$fd")
		[[ $target == /memfd:lixs-journal* || $target == */xen/ev-* ]] || n=$((n + 1))
	done
	echo "$n"
}

# The descriptors the hostile starts sent (memfds named hostile-bait)
# that the broker holds: none, ever.
bait_held() {
	local fd n=0
	for fd in "/proc/$DAEMON_PID"/fd/*; do
		[[ $(readlink "$fd") != *hostile-bait* ]] || n=$((n + 1))
	done
	echo "$n"
}

# Frames go on a pipe (fd 5 of the store process), descriptors ahead of
# them on a socket (fd 3): each case says what the hostile start wrote.
@test "malformed frames: each ends the store process, named in the log; no descriptor kept" {
	local fds
	fds=$(broker_fds)
	attack short oversize hello-long hello-version badtype wrongdir cut badflags noconn \
		fd-flag fd-missing fd-empty fd-long fds-two fds-many fd-zero
	local f=$ATTACK_FIRST
	# 8 bytes of a header, then its frame pipe closed: the frame is cut short.
	ended_for $((f + 0)) 'sent a bad frame (EPROTO)'
	# A header claiming IPC_PAYLOAD_MAX + 1 bytes (which follow): no frame is that large.
	ended_for $((f + 1)) 'sent a bad frame (E2BIG)'
	ended_for $((f + 2)) 'sent a bad frame (E2BIG)'    # HELLO 4 bytes longer than its type
	ended_for $((f + 3)) 'sent a bad frame (EINVAL)'   # HELLO of another version
	ended_for $((f + 4)) 'sent a bad frame (EPROTO)'   # unknown type
	ended_for $((f + 5)) 'sent a bad frame (EPROTO)'   # CONN_NEW: wrong direction
	# REPLY_DATA whose header claims 100 bytes; 10 follow, then the pipe is closed.
	ended_for $((f + 6)) 'sent a bad frame (EPROTO)'
	ended_for $((f + 7)) 'sent a bad frame (EINVAL)'   # unknown flag
	ended_for $((f + 8)) 'sent a bad frame (EINVAL)'   # conn 0 where one is needed
	# IPC_F_FD on CONN_CREDIT, a type without fds (its memfd sent ahead).
	ended_for $((f + 9)) 'sent a bad frame (EINVAL)'
	# JOURNAL with IPC_F_FD, and nothing sent ahead on the descriptor socket.
	ended_for $((f + 10)) 'sent a bad frame (EPROTO)'
	# JOURNAL with IPC_F_FD; the message ahead of it carries no descriptor.
	ended_for $((f + 11)) 'sent a bad frame (EINVAL)'
	# JOURNAL with IPC_F_FD; its memfd ahead, in a message of 2 bytes, not 1.
	ended_for $((f + 12)) 'sent a bad frame (EPROTO)'
	# JOURNAL with IPC_F_FD; two memfds in the one message ahead of it.
	ended_for $((f + 13)) 'sent a bad frame (EINVAL)'
	# JOURNAL with IPC_F_FD; eight memfds ahead: more than the broker takes.
	ended_for $((f + 14)) 'sent a bad frame (EPROTO)'
	# JOURNAL with IPC_F_FD; four memfds ahead in a message of 0 bytes,
	# which must be taken to be closed like any other.
	ended_for $((f + 15)) 'sent a bad frame (EPROTO)'
	served_after
	# The descriptors that came with bad frames were closed, not kept.
	wait_until eval '[ "$(broker_fds)" -eq "$fds" ]' || {
		ls -l "/proc/$DAEMON_PID/fd"
		false
	}
	[ "$(bait_held)" -eq 0 ]
}

@test "a descriptor sent with a frame without IPC_F_FD is left on the socket; the frame is served" {
	# The write end of a pipe goes to the descriptor socket, then a valid
	# CONN_CREDIT 0 without IPC_F_FD.  The broker must not take it: the
	# start sees the pipe still open after 5 s and not in the broker's
	# /proc/PID/fd ("BAIT queued"), and is not ended (it ends itself).
	local fds
	fds=$(broker_fds)
	attack fd-noflag
	local f=$ATTACK_FIRST r=$HOSTILE_DIR/report
	cat "$r"
	grep -q "^$f: SENT fd-noflag\$" "$r"
	grep -q "^$f: BAIT queued\$" "$r"
	grep -q "^$f: NOT-ENDED\$" "$r"
	grep -q "store process $(start_pid "$f") exited with status 3" "$DAEMON_LOG"
	! grep -q "store process $(start_pid "$f") sent" "$DAEMON_LOG"
	served_after
	wait_until eval '[ "$(broker_fds)" -eq "$fds" ]' || {
		ls -l "/proc/$DAEMON_PID/fd"
		false
	}
}

@test "frames written a byte at a time are read whole and in step" {
	# CONN_CREDIT 0 then RING_UNMAP of dom0's ring, one byte a write, 10 ms
	# apart: the broker waits for each frame's rest, takes the first and
	# refuses the second by its type (not as a bad frame).
	attack trickle
	ended_for "$ATTACK_FIRST" 'sent a refused RING_UNMAP frame'
	! grep -q 'sent a bad frame' "$DAEMON_LOG"
	served_after
}

@test "HELLO twice and RING_MAP before HELLO are refused; the store process is ended" {
	attack hello2 early-map
	ended_for "$ATTACK_FIRST" 'sent a refused HELLO frame'
	ended_for $((ATTACK_FIRST + 1)) 'sent a refused RING_MAP frame'
	# The early RING_MAP named guest 5, which stays mapped once.
	served_after
}

@test "RING_MAP outside policy is answered with an errno; nothing is mapped; the store is not ended" {
	local out port6
	out=$("$XENSIM_CTL" create 6)
	read -r _ _ port6 <<<"$out"
	attack "map 40:1 0:1 32752:1 4294967295:1 6:0 5:$GUEST_PORT 6:$((port6 + 50))"
	local f=$ATTACK_FIRST r=$HOSTILE_DIR/report
	cat "$r"
	grep -q "^$f: RESULT domid=40 err=ENOENT conn=0\$" "$r"         # never created
	grep -q "^$f: RESULT domid=0 err=EINVAL conn=0\$" "$r"          # dom0
	grep -q "^$f: RESULT domid=32752 err=EINVAL conn=0\$" "$r"      # DOMID_SELF
	grep -q "^$f: RESULT domid=4294967295 err=EINVAL conn=0\$" "$r" # out of range
	grep -q "^$f: RESULT domid=6 err=EINVAL conn=0\$" "$r"          # port 0
	grep -q "^$f: RESULT domid=5 err=EEXIST conn=0\$" "$r"          # mapped already
	# Domain 6 exists but the port is not its xenstore port: the page the
	# broker mapped first is unmapped again, no event channel is left bound.
	[ "$(grep -c "^$f: RESULT domid=6 err=E[A-Z]* conn=0\$" "$r")" -eq 2 ]
	grep -q "^$f: DONE" "$r"
	[ "$("$XENSIM_CTL" maps 6)" -eq 0 ]
	[[ $("$XENSIM_CTL" show 6) == *' maps=0 peer=0' ]]
	! "$XENSIM_CTL" show 40
	grep -q 'domain 40: ring not mapped' "$DAEMON_LOG"
	# Seven refusals, one warning: the rest fall in its 10 s rate limit.
	[ "$(grep -c 'ring not mapped' "$DAEMON_LOG")" -eq 1 ]
	# Answered, not punished: it ended itself.
	! grep -q 'killing it' "$DAEMON_LOG"
	grep -q "store process $(start_pid "$f") exited with status 0" "$DAEMON_LOG"
	served_after
}

@test "RING_UNMAP of dom0's ring, of an unknown conn, of a unix client is refused" {
	local plan=("unmap dom0" "unmap conn:999999" "unmap socket")
	{
		echo real
		printf '%s\n' "${plan[@]}"
	} >"$HOSTILE_DIR/plan"
	local f=$(($(wc -l <"$HOSTILE_DIR/starts") + 1))
	kill -KILL "$(pgrep -P "$DAEMON_PID")"
	# The third attack waits for a client to be handed over.
	LIXS_WAIT=20 wait_until grep -q "^$((f + 2)): WAIT socket" "$HOSTILE_DIR/report"
	run timeout "$LIXS_WAIT" "$XSRAW" -S "$XENSTORED_PATH" -t 5 'DIRECTORY:/\0'
	wait_until starts_at_least $((f + 3))
	wait_until daemon_answers "$XENSTORED_PATH"
	cat "$HOSTILE_DIR/report"
	grep -q "^$f: TARGET dom0 conn=[1-9]" "$HOSTILE_DIR/report"
	grep -q "^$((f + 2)): TARGET socket conn=[1-9]" "$HOSTILE_DIR/report"
	ended_for "$f" 'sent a refused RING_UNMAP frame'
	ended_for $((f + 1)) 'sent a refused RING_UNMAP frame'
	ended_for $((f + 2)) 'sent a refused RING_UNMAP frame'
	! grep -q 'released' "$DAEMON_LOG"
	served_after
}

@test "RING_IDLE of dom0's ring or of an unknown conn is refused" {
	attack "idle dom0" "idle conn:999999"
	local f=$ATTACK_FIRST
	ended_for "$f" 'sent a refused RING_IDLE frame'
	ended_for $((f + 1)) 'sent a refused RING_IDLE frame'
	served_after
}

@test "RING_IDLE while a guest's request is held unmaps nothing: the request is not lost" {
	# The next store process, hostile, says the ring is idle and dies.
	held_request_then_attack 'idle dom:5'
	# The broker kept the page and the held request, so the request still
	# counts as in flight at two store deaths (unmapping would have lost it).
	wait_until grep -q 'domain 5: its request was in flight at two store process deaths' \
		"$DAEMON_LOG"
	wait "$GUEST_PID" || true
	[ "$("$XENSIM_CTL" maps 5)" -eq 1 ]
}

@test "RING_BREAK of an unknown conn or with a code xenstore-ring.txt does not define: refused" {
	attack "break conn:999999 3" "break dom:5 0" "break dom:5 4"
	local f=$ATTACK_FIRST
	ended_for "$f" 'sent a refused RING_BREAK frame'
	ended_for $((f + 1)) 'sent a bad frame (EINVAL)'
	ended_for $((f + 2)) 'sent a bad frame (EINVAL)'
	! grep -q 'found a malformed message' "$DAEMON_LOG"
	served_after
}

@test "REPLY_DATA beyond the window or for an unknown conn, CONN_CREDIT beyond what was sent: refused" {
	# Guest 7 never reads: the store's reply window to it fills up.
	# 16 frames of IPC_PAYLOAD_MAX (4,080) bytes fit IPC_RING_WINDOW
	# (65,280 <= 65,536); the 17th does not.
	xensim_guest 7
	attack "reply dom:7 17" "reply conn:999999 1" "credit dom:5 1" "credit dom0 4294967295"
	local f=$ATTACK_FIRST
	ended_for "$f" 'sent a refused REPLY_DATA frame'
	ended_for $((f + 1)) 'sent a refused REPLY_DATA frame'
	ended_for $((f + 2)) 'sent a refused CONN_CREDIT frame'
	ended_for $((f + 3)) 'sent a refused CONN_CREDIT frame'
	# Exactly one refusal a start: the 16 frames that fit the window were taken.
	[ "$(grep -c 'sent a refused' "$DAEMON_LOG")" -eq 4 ]
	[ "$("$XENSIM_CTL" maps 7)" -eq 1 ]
	served_after
}

@test "CONN_CREDIT carrying reply bytes beyond the window: refused" {
	# Guest 7 never reads; 16 frames of 4 + 4,076 bytes fit the window
	# (65,216 reply bytes): a start sending 16 is left alone (it ends
	# itself, NOT-ENDED); each start has a fresh window, so the next
	# one's 17th is refused.
	xensim_guest 7
	attack "credit-reply dom:7 16" "credit-reply dom:7 17"
	local f=$ATTACK_FIRST
	grep -q "^$f: NOT-ENDED" "$HOSTILE_DIR/report"
	ended_for $((f + 1)) 'sent a refused CONN_CREDIT frame'
	[ "$(grep -c 'sent a refused' "$DAEMON_LOG")" -eq 1 ]
	[ "$("$XENSIM_CTL" maps 7)" -eq 1 ]
	served_after
}

@test "reply bytes with no CONN_CREDIT after them never reach the guest; the next store process starts clean" {
	# A start sends guest 5 a reply frame of 4,080 bytes of 'x' and no
	# credit, as a store killed between the two writes of a large reply
	# and its credit would (ipc.h); the frame itself is allowed
	# (NOT-ENDED).  The broker holds such bytes until a credit follows and
	# drops them when that store process is gone: guest 5's next request,
	# in served_after, gets its own reply, not 'x' bytes before it.
	attack "reply dom:5 1"
	grep -q "^$ATTACK_FIRST: NOT-ENDED" "$HOSTILE_DIR/report"
	! grep -q 'sent a refused' "$DAEMON_LOG"
	served_after
}

@test "a flood of valid frames is served to the end; a store that stops reading is ended" {
	attack "flood 20000" "flood-map 100000"
	local f=$ATTACK_FIRST
	grep -q "^$f: FLOODED 20000" "$HOSTILE_DIR/report"
	ended_for "$f" 'sent a refused RING_UNMAP frame'
	[ "$(grep -c 'sent a refused' "$DAEMON_LOG")" -eq 1 ]
	# Answers to its RING_MAP requests pile up unread in the broker's
	# frame pipe: the broker waits a bounded time, then ends it rather
	# than stall the rings.
	ended_for $((f + 1)) 'reads no frames for [0-9]* ms'
	! "$XENSIM_CTL" show 28672
	served_after
}

@test "a guest request that outlives two store processes cuts off that guest's ring, no one else's" {
	xensim_guest 6
	# Then a second store process dies without answering it: a request
	# that kills every store it reaches must not keep xenstore down.
	held_request_then_attack 'map 40:1'
	wait_until grep -q 'domain 5: its request was in flight at two store process deaths; ring connection [0-9]* cut off' "$DAEMON_LOG"
	# Never answered; the ring's error field says why (XENSTORE_ERROR_COMM).
	run wait "$GUEST_PID"
	cat "$T/fg.out"
	[ "$status" -ne 0 ]
	! grep -q '^WRITE' "$T/fg.out"
	fg 5 --status
	[ "$status" -eq 6 ]
	[[ $output == *'RING-ERROR 1'* ]]
	# Everyone else is served by the real store process.
	fg 6 'WRITE:data/z\0six' 'READ:data/z\0'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = 'READ req=2 tx=0 len=3 six' ]
	xs 'READ:/local/domain/5/data/x\0'
	[ "$output" = 'READ req=1 tx=0 len=6 before' ]
}
