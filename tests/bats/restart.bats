#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# restart.bats - a store process that dies loses nothing it acknowledged
# (issue 9, docs/RESTART.md): the broker holds the journal, restarts the
# store process within a second, the new one replays it; a store process
# that dies at start backs off instead of spinning.

load helpers
load xensim

setup() {
	require_lixs "the journal and the restart are lixs's"
	common_setup
}

teardown() {
	common_teardown
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# Kill the store process with SIGKILL; print how many ms until a new one
# answers on a new connection.
crash_store() {
	local old t0
	old=$(store_pid)
	t0=$(now_ms)
	kill -KILL "$old"
	wait_until store_pid_not "$old"
	wait_until daemon_answers "$XENSTORED_PATH"
	echo $(($(now_ms) - t0))
}

# gen ARRAY AWK-PROGRAM: fill ARRAY with the lines the BEGIN block prints
# (bats traces every shell command, so long shell loops are slow).
gen() {
	mapfile -t "$1" < <(awk "BEGIN { $2 }")
}

lines_at_least() {
	[ -e "$2" ] && [ "$(wc -l <"$2")" -ge "$1" ]
}

store_pid_not() {
	local p
	p=$(store_pid) && [ "$p" != "$1" ]
}

@test "acknowledged writes, perms, removals and commits survive kill -9" {
	local steps=() ms
	gen steps 'for (i = 0; i < 200; i++) print "WRITE:/n/" i "\\0value-" i'
	xs "${steps[@]}" 'WRITE:/n/gone\0x' 'RM:/n/gone\0' \
		'SET_PERMS:/n/7\0n5\0r7\0' 'SET_PERMS:/n\0b0\0' \
		'TRANSACTION_START:\0' 'WRITE,t:/tx/a\0in-tx' 'TRANSACTION_END,t:T\0'
	[[ $output == *"TRANSACTION_END req=207 tx="*" OK"* ]]
	ms=$(crash_store)
	echo "restarted in $ms ms"
	[ "$ms" -lt 1000 ]
	gen steps 'for (i = 0; i < 200; i += 37) print "READ:/n/" i "\\0"'
	xs "${steps[@]}" 'READ:/n/gone\0' 'GET_PERMS:/n/7\0' 'GET_PERMS:/n/8\0' \
		'READ:/tx/a\0'
	expect_output <<'EOF2' || { echo "$output" | head; false; }
READ req=1 tx=0 len=7 value-0
READ req=2 tx=0 len=8 value-37
READ req=3 tx=0 len=8 value-74
READ req=4 tx=0 len=9 value-111
READ req=5 tx=0 len=9 value-148
READ req=6 tx=0 len=9 value-185
ERROR req=7 tx=0 len=7 ENOENT\0
GET_PERMS req=8 tx=0 len=6 n5\0r7\0
GET_PERMS req=9 tx=0 len=3 n0\0
READ req=10 tx=0 len=5 in-tx
EOF2
}

@test "writes acknowledged up to the instant of the crash are all there" {
	local steps=() acked ms
	# Paced (2 ms every 20 writes) so that the crash lands mid-stream.
	gen steps 'for (i = 0; i < 20000; i++) {
		print "WRITE:/k/" i "\\0v" i
		if (i % 20 == 0) { print "--sleep"; print 2 }
	}'
	"$XSRAW" -S "$XENSTORED_PATH" -t 5 "${steps[@]}" >"$T/acks" 2>&1 &
	local writer=$!
	# Kill in the middle of the stream, not before or after it.
	wait_until lines_at_least 500 "$T/acks"
	ms=$(crash_store)
	wait "$writer" || true
	acked=$(grep -c '^WRITE .* OK' "$T/acks")
	echo "acknowledged $acked writes; restarted in $ms ms"
	[ "$acked" -ge 500 ]
	# The writer was served on if the kill found it between requests,
	# else closed (docs/RESTART.md, "Connections"); either way it says.
	if [ "$acked" -lt 20000 ]; then
		grep -q 'conn [0-9]*: a unix client had a request or a reply in flight' \
			"$DAEMON_LOG"
	else
		grep -q 'conn [0-9]*: unix client resumed' "$DAEMON_LOG"
	fi
	# Replies come in order: the first $acked writes were acknowledged.
	gen steps "for (i = 0; i < $acked; i++) print \"READ:/k/\" i \"\\\\0\""
	run "$XSRAW" -S "$XENSTORED_PATH" -t 5 "${steps[@]}"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^READ ' <<<"$output")" -eq "$acked" ]
	run ! grep -q ERROR <<<"$output"
}

@test "the journal survives two crashes in a row and snapshots" {
	local steps=()
	# Enough to make the store hand over a snapshot more than once.
	gen steps 'for (i = 0; i < 3000; i++) printf "WRITE:/big/%d\\0%0200d\n", i, i'
	xs "${steps[@]}"
	crash_store >/dev/null
	xs 'WRITE:/second\0life'
	crash_store >/dev/null
	xs 'READ:/second\0' 'READ:/big/2999\0'
	[[ ${lines[0]} == 'READ req=1 tx=0 len=4 life' ]]
	[[ ${lines[1]} == 'READ req=2 tx=0 len=200 '*2999 ]]
	grep -q 'journal: restored' "$DAEMON_LOG"
	# The snapshots' records were stored compressed, and read back so.
	grep -q 'journal: restored [0-9]* records ([1-9][0-9]* compressed' "$DAEMON_LOG"
	run ! grep -q 'rejected the last' "$DAEMON_LOG"
}

@test "an idle unix client is served on after the crash: its watch fires once, its transaction ends with EAGAIN" {
	"$XSRAW" -S "$XENSTORED_PATH" -t 10 'WATCH:/w\0tok\0' 'TRANSACTION_START:\0' \
		--sleep 1500 'WRITE,t:/w/in-tx\0x' 'TRANSACTION_END,t:T\0' \
		'WRITE:/w/after\0y' 'READ:/w/in-tx\0' >"$T/out" 2>&1 &
	local client=$!
	wait_until grep -q '^TRANSACTION_START' "$T/out"
	crash_store >/dev/null
	wait "$client"
	cat "$T/out"
	# Registration, the restore, the write after: three events, in order.
	[ "$(grep -c '^WATCH_EVENT req=0 tx=0 len=7 /w\\0tok\\0$' "$T/out")" -eq 2 ]
	grep -q '^WRITE req=3 tx=[1-9][0-9]* len=3 OK' "$T/out"
	grep -q '^ERROR req=4 tx=[1-9][0-9]* len=7 EAGAIN' "$T/out"
	grep -q '^WRITE req=5 tx=0 len=3 OK' "$T/out"
	grep -q '^WATCH_EVENT req=0 tx=0 len=13 /w/after\\0tok\\0$' "$T/out"
	grep -q '^ERROR req=6 tx=0 len=7 ENOENT' "$T/out"
	grep -q 'conn [0-9]*: unix client resumed with 1 watch' "$DAEMON_LOG"
}

@test "a unix client whose request was half read at the crash is closed, and the log says why" {
	# A header announcing 10 bytes, and no body: the store process has
	# read part of a request it can never answer.
	"$XSRAW" -S "$XENSTORED_PATH" -t 10 'WRITE:/a\0b' --hdr 11,7,0,10 --expect-close \
		>"$T/out" 2>&1 &
	local client=$!
	wait_until grep -q OK "$T/out"
	sleep 0.3
	crash_store >/dev/null
	wait "$client"
	grep -qx EOF "$T/out"
	grep -q 'conn [0-9]*: a unix client had a request or a reply in flight' "$DAEMON_LOG"
	xs 'READ:/a\0'
	[ "$output" = 'READ req=1 tx=0 len=1 b' ]
}

@test "libxenstore's xenstore-watch keeps watching across the crash, without spinning" {
	(
		exec 3>&-
		timeout 30 xenstore-watch /v >"$T/watch.out" 2>&1
	) &
	local t0 t1 pid
	wait_until grep -qx /v "$T/watch.out"
	pid=$(pgrep -f 'xenstore-watch /v' | head -1)
	crash_store >/dev/null
	expect_status 0 xenstore-write /v/after 1
	wait_until grep -qx /v/after "$T/watch.out"
	# Still there, and asleep (before this, it read EOF at full CPU).
	t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	sleep 1
	t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	echo "xenstore-watch CPU ticks in 1 s: $((t1 - t0))"
	[ $((t1 - t0)) -lt 10 ]
	cat "$T/watch.out"
	kill "$pid"
}

@test "a store process that dies at start backs off, then recovers" {
	local wrapper=$T/storeproc
	stop_daemon
	cat >"$wrapper" <<EOF2
#!/bin/sh
[ -e "$T/fail" ] && exit 1
exec "$LIXS_BUILD/lixs-storeproc" "\$@"
EOF2
	chmod +x "$wrapper"
	start_daemon --storeproc "$wrapper"
	xs 'WRITE:/kept\0yes'
	touch "$T/fail"
	kill -KILL "$(store_pid)"
	sleep 2.5
	# 0, 250, 500, 1000 ms (then 2000): a handful of attempts, logged.
	local delays starts
	delays=$(sed -n 's/.*restarting the store process in \([0-9]*\) ms.*/\1/p' \
		"$DAEMON_LOG" | tr '\n' ' ')
	starts=$(grep -c 'exited with status 1' "$DAEMON_LOG")
	echo "delays: $delays; failed starts: $starts"
	[[ $delays == "250 500 1000 "* ]]
	[ "$starts" -ge 3 ] && [ "$starts" -le 6 ]
	rm "$T/fail"
	wait_until daemon_answers "$XENSTORED_PATH"
	xs 'READ:/kept\0'
	[ "$output" = 'READ req=1 tx=0 len=3 yes' ]
}

# Restart the daemon on the simulated Xen host with guest 5 introduced.
with_guest() {
	broker_has_xen || skip_because "broker built without Xen channels"
	stop_daemon
	xensim_init
	start_daemon_xensim
	xensim_guest 5
}

@test "xensim: a guest's ring survives the crash and finds its writes" {
	with_guest
	fg 5 'WRITE:data/x\0from-guest' 'SET_PERMS:data/x\0n5\0r0\0'
	[ "$status" -eq 0 ]
	crash_store >/dev/null
	# The same ring, not a new introduction: the broker kept it.
	fg 5 'READ:data/x\0' 'GET_PERMS:data/x\0'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'READ req=1 tx=0 len=10 from-guest' ]
	[ "${lines[1]}" = 'GET_PERMS req=2 tx=0 len=6 n5\0r0\0' ]
}

@test "xensim: a released domain stays out of other nodes' perms after a crash" {
	with_guest
	xs 'WRITE:/p\0x' 'SET_PERMS:/p\0n0\0r5\0' 'RELEASE:5\0'
	[[ ${lines[2]} == 'RELEASE req=3 tx=0 len=3 OK\0' ]]
	crash_store >/dev/null
	xs 'GET_PERMS:/p\0' 'IS_DOMAIN_INTRODUCED:5\0'
	[ "${lines[0]}" = 'GET_PERMS req=1 tx=0 len=3 n0\0' ]
	[ "${lines[1]}" = 'IS_DOMAIN_INTRODUCED req=2 tx=0 len=2 F\0' ]
}

@test "xensim: a released domain's own quota does not come back after a crash" {
	with_guest
	# The quota goes with the domain and fires no event; the release
	# takes a snapshot for it.  (Its perms entries in other nodes, which
	# the release notes to the journal instead, are the test above.)
	xs 'SET_QUOTA:5\0nodes\0003\0' 'RELEASE:5\0'
	[[ ${lines[1]} == 'RELEASE req=2 tx=0 len=3 OK\0' ]]
	crash_store >/dev/null
	xs "INTRODUCE:5\\0$GUEST_GFN\\0$GUEST_PORT\\0" 'GET_QUOTA:5\0nodes\0' 'GET_QUOTA:nodes\0'
	[[ ${lines[0]} == 'INTRODUCE req=1 tx=0 len=3 OK\0' ]]
	# A new domain 5 has no quota of its own: it reads the global one.
	[ "${lines[1]#GET_QUOTA req=2 }" = "${lines[2]#GET_QUOTA req=3 }" ]
}

@test "xensim: a guest's watches survive the crash, each fires once at the restore" {
	with_guest
	# The first initial event comes before the second reply, then -w 1.
	fg 5 'WATCH:data\0rel\0' 'WATCH:/local/domain/5/abs\0abs\0' -w 1
	[ "$status" -eq 0 ]
	[ "$(grep -c WATCH_EVENT <<<"$output")" -eq 2 ]
	crash_store >/dev/null
	# The ring comes back with its watches, each firing once (a Linux
	# guest and libxenstore re-read on any event).
	fg 5 -w 2
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == 'WATCH_EVENT req=0 tx=0 len='*' data\0rel\0' ]]
	[[ ${lines[1]} == 'WATCH_EVENT req=0 tx=0 len='*' /local/domain/5/abs\0abs\0' ]]
	grep -q 'journal: domain 5: ring restored with 2 watches' "$DAEMON_LOG"
	# They fire on writes, relative still relative.
	xs 'WRITE:/local/domain/5/data/x\0v' 'WRITE:/local/domain/5/abs\0w'
	fg 5 -w 2
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == 'WATCH_EVENT req=0 tx=0 len='*' data/x\0rel\0' ]]
	[[ ${lines[1]} == 'WATCH_EVENT req=0 tx=0 len='*' /local/domain/5/abs\0abs\0' ]]
	# They are the connection's own: UNWATCH finds them, and a second
	# crash keeps what is left.
	fg 5 'UNWATCH:/local/domain/5/abs\0abs\0'
	[ "${lines[0]}" = 'UNWATCH req=1 tx=0 len=3 OK\0' ]
	crash_store >/dev/null
	grep -q 'journal: domain 5: ring restored with 1 watches' "$DAEMON_LOG"
	fg 5 -w 1
	[[ ${lines[0]} == 'WATCH_EVENT req=0 tx=0 len='*' data\0rel\0' ]]
}

@test "xensim: SET_PERMS of @introduceDomain survives the crash" {
	with_guest
	# Special nodes' perms fire no event: the journal must still keep them.
	xs 'SET_PERMS:@introduceDomain\0n0\0r5\0'
	[ "${lines[0]}" = 'SET_PERMS req=1 tx=0 len=3 OK\0' ]
	crash_store >/dev/null
	fg 5 'WATCH:@introduceDomain\0intro\0' -w 1
	[ "$status" -eq 0 ]
	local out
	out=$("$XENSIM_CTL" create 6) || return 1
	read -r _ gfn port <<<"$out"
	xs "INTRODUCE:6\\0$gfn\\0$port\\0"
	[ "${lines[0]}" = 'INTRODUCE req=1 tx=0 len=3 OK\0' ]
	# Domain 5 may read @introduceDomain, so the introduction reaches it.
	fg 5 -w 1
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == 'WATCH_EVENT req=0 tx=0 len='*' @introduceDomain\0intro\0' ]]
}

@test "xensim: SET_TARGET survives the crash" {
	with_guest
	local out
	out=$("$XENSIM_CTL" create 6) || return 1
	read -r _ gfn port <<<"$out"
	xs "INTRODUCE:6\\0$gfn\\0$port\\0" 'WRITE:/t6\0for-6' 'SET_PERMS:/t6\0n6\0' \
		'SET_TARGET:5\0006\0'
	[ "${lines[3]}" = 'SET_TARGET req=4 tx=0 len=3 OK\0' ]
	fg 5 'READ:/t6\0'
	[ "${lines[0]}" = 'READ req=1 tx=0 len=5 for-6' ]
	crash_store >/dev/null
	fg 5 'READ:/t6\0'
	[ "${lines[0]}" = 'READ req=1 tx=0 len=5 for-6' ]
	# Domain 6 itself has no target: it still cannot read 5's home.
	xs 'WRITE:/local/domain/5/own\0x' 'SET_PERMS:/local/domain/5/own\0n5\0'
	fg 6 'READ:/local/domain/5/own\0'
	[ "${lines[0]}" = 'ERROR req=1 tx=0 len=7 EACCES\0' ]
}

@test "xensim: a transaction open at the crash ends with EAGAIN, and is not applied" {
	with_guest
	fg 5 'WRITE:data/a\0before' 'TRANSACTION_START:\0'
	[ "$status" -eq 0 ]
	local id
	id=$(sed -n 's/^TRANSACTION_START req=2 tx=0 len=[0-9]* \([0-9]*\)\\0$/\1/p' <<<"${lines[1]}")
	[ -n "$id" ]
	crash_store >/dev/null
	# Served inside the doomed transaction, then EAGAIN at its end.
	fg 5 "READ,$id:data/a\\0" "WRITE,$id:data/b\\0in-tx" "TRANSACTION_END,$id:T\\0"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "READ req=1 tx=$id len=6 before" ]
	[ "${lines[1]}" = "WRITE req=2 tx=$id len=3 OK\\0" ]
	[ "${lines[2]}" = "ERROR req=3 tx=$id len=7 EAGAIN\\0" ]
	grep -q "journal: domain 5: transaction $id was open before the restart" "$DAEMON_LOG"
	xs 'READ:/local/domain/5/data/b\0'
	[ "${lines[0]}" = 'ERROR req=1 tx=0 len=7 ENOENT\0' ]
	# The retry gets a new id and commits.
	fg 5 'TRANSACTION_START:\0' 'WRITE,t:data/b\0retried' 'TRANSACTION_END,t:T\0'
	[ "$status" -eq 0 ]
	[[ ${lines[0]} != *" $id\\0" ]]
	[[ ${lines[2]} == 'TRANSACTION_END req=3 tx='*' len=3 OK\0' ]]
	xs 'READ:/local/domain/5/data/b\0'
	[ "${lines[0]}" = 'READ req=1 tx=0 len=7 retried' ]
	# A unix client's unknown transaction stays ENOENT.
	xs "READ,$id:/local/domain/5/data/a\\0"
	[ "${lines[0]}" = "ERROR req=1 tx=$id len=7 ENOENT\\0" ]
}

@test "xensim: a domain's own quota (SET_QUOTA with a domid) survives the crash, and still applies" {
	with_guest
	xs 'SET_QUOTA:5\0nodes\0003\0' 'SET_QUOTA:0\0watches\00077\0' 'GET_QUOTA:5\0nodes\0'
	[ "${lines[2]}" = 'GET_QUOTA req=3 tx=0 len=2 3\0' ]
	crash_store >/dev/null
	xs 'GET_QUOTA:5\0nodes\0' 'GET_QUOTA:0\0watches\0' 'GET_QUOTA:nodes\0'
	[ "${lines[0]}" = 'GET_QUOTA req=1 tx=0 len=2 3\0' ]
	[ "${lines[1]}" = 'GET_QUOTA req=2 tx=0 len=3 77\0' ]
	# The global value is untouched by either.
	[ "${lines[2]}" != 'GET_QUOTA req=3 tx=0 len=2 3\0' ]
	# And it is enforced after the restart: domain 5 owns two nodes
	# (its home and data/), so one more fits under 3, the next does not.
	fg 5 'WRITE:data/q1\0a' 'WRITE:data/q2\0b'
	echo "$output"
	[ "${lines[0]}" = 'WRITE req=1 tx=0 len=3 OK\0' ]
	[ "${lines[1]}" = 'ERROR req=2 tx=0 len=7 ENOSPC\0' ]
	grep -q 'refused nodes (-E/--entry-nb, its own SET_QUOTA value): limit 3' "$DAEMON_LOG"
}

@test "xensim: a guest request in flight at the crash is answered by the next store process" {
	with_guest
	fg 5 'WRITE:data/a\0before'
	[ "$status" -eq 0 ]
	# Stopped, the store process cannot answer: the broker forwards the
	# guest's WRITE into its socket and keeps a copy.
	local sp
	sp=$(store_pid)
	kill -STOP "$sp"
	timeout "$LIXS_WAIT" "$FAKEGUEST" -d 5 'WRITE:data/a\0during' 'READ:data/a\0' \
		>"$T/fg.out" 2>&1 &
	local guest=$!
	sleep 0.5
	kill -KILL "$sp"
	wait "$guest"
	cat "$T/fg.out"
	[ "$(sed -n 1p "$T/fg.out")" = 'WRITE req=1 tx=0 len=3 OK\0' ]
	[ "$(sed -n 2p "$T/fg.out")" = 'READ req=2 tx=0 len=6 during' ]
	xs 'READ:/local/domain/5/data/a\0'
	[ "${lines[0]}" = 'READ req=1 tx=0 len=6 during' ]
}

@test "global quotas changed at run time survive the crash" {
	xs 'SET_QUOTA:nodes\0004321\0' 'CONTROL:quota\0set\0watches\0077\0' \
		'CONTROL:quota-soft\0set\0memory\0054321\0'
	[ "${lines[1]}" = 'CONTROL req=2 tx=0 len=3 OK\0' ]
	crash_store >/dev/null
	xs 'GET_QUOTA:nodes\0' 'GET_QUOTA:watches\0' 'CONTROL:quota-soft\0'
	[ "${lines[0]}" = 'GET_QUOTA req=1 tx=0 len=5 4321\0' ]
	[ "${lines[1]}" = 'GET_QUOTA req=2 tx=0 len=3 77\0' ]
	[[ ${lines[2]} == *'memory           :    54321 '* ]]
}
