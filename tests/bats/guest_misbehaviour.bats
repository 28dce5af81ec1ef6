#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# guest_misbehaviour.bats - a misbehaving guest on the simulated Xen host
# (tests/xensim) hurts only itself: after each misdeed another guest and a
# unix client are still served and read back everything committed before.

load helpers
load xensim

BAD=20
GOOD=21

setup() {
	xensim_setup || return 1
	xensim_start
	xensim_guest $BAD
	xensim_guest $GOOD
	# Committed before the misdeed, by each party.
	xs 'WRITE:/tool/before\0unix'
	fg $BAD 'WRITE:data/before\0bad'
	[ "$status" -eq 0 ]
	fg $GOOD 'WRITE:data/before\0good'
	[ "$status" -eq 0 ]
}

teardown() {
	xensim_teardown
}

# The other guest and a unix client are served; what everyone committed
# is there (the bad guest's home only while it lives: $1 = dead after
# its domain was destroyed); the store process was never replaced.
others_fine() {
	local bad='READ req=2 tx=0 len=3 bad'

	[ "${1:-}" != dead ] || bad='ERROR req=2 tx=0 len=7 ENOENT\0'
	fg $GOOD 'WRITE:data/after\0g2' 'READ:data/after\0' 'READ:data/before\0' \
		"READ:/local/domain/$BAD/data/before\\0"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[ "${lines[1]}" = 'READ req=2 tx=0 len=2 g2' ]
	[ "${lines[2]}" = 'READ req=3 tx=0 len=4 good' ]
	# The guests' homes are private to each.
	[ "${lines[3]}" = 'ERROR req=4 tx=0 len=7 EACCES\0' ]
	xs 'READ:/tool/before\0' "READ:/local/domain/$BAD/data/before\\0" \
		"READ:/local/domain/$GOOD/data/after\\0" 'WRITE:/tool/after\0u2'
	expect_output <<-EOF
	READ req=1 tx=0 len=4 unix
	$bad
	READ req=3 tx=0 len=2 g2
	WRITE req=4 tx=0 len=3 OK\0
	EOF
	! grep -q 'killed by signal\|killing it' "$DAEMON_LOG"
}

# Resident set of pid $1 in kB.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# The store's counters.  Not the memory it holds (node-slab, heap-*): a
# workload may grow that for good (slab chunks, malloc's arenas), nor
# perm-lists, which the tree's cache of lists seen lately keeps; every
# other count must come back.
memreport() {
	"$XSRAW" -S "$XENSTORED_PATH" -t 5 'CONTROL:memreport\0' |
		sed 's/\\x0a/\n/g' | awk -F'[: ]+' '/^[a-z-]+ *:/ { print $1, $2 }' |
		grep -Ev '^(node-slab|node-slab-free|perm-lists|heap-in-use|heap-free) '
}

# The store holds $1 open transactions.
open_transactions() {
	[ "$(memreport | awk '$1 == "transactions" { print $2 }')" -eq "$1" ]
}

@test "bad ring indexes: that guest's ring is marked broken (error 2), others served" {
	fg $BAD --bad-index --sleep 300 --status
	[ "$status" -eq 6 ]
	[[ $output == *'RING-ERROR 2'* ]]
	wait_until grep -q "domain $BAD: bad request ring index" "$DAEMON_LOG"
	others_fine
}

@test "oversized message (len 4097): guest cut off, ring error 3 (XENSTORE_ERROR_PROTO) as 4.17" {
	fg $BAD -t 2 --oversize --sleep 300 --status
	[ "$status" -eq 6 ]
	[[ $output == *'RING-ERROR 3'* ]]
	wait_until grep -q 'message of 4097 bytes is too long' "$DAEMON_LOG"
	wait_until grep -q "domain $BAD: the store process found a malformed message" "$DAEMON_LOG"
	# Served no more: the guest sees the error field at once.
	fg $BAD -t 1 'READ:data/before\0'
	[ "$status" -eq 6 ]
	others_fine
}

@test "truncated message then stall: others served while it hangs" {
	"$FAKEGUEST" -d $BAD -t 30 --hdr 11,1,0,100 --raw 'data/x\0ab' --stall \
		>"$T/stall" 2>&1 &
	BG_PIDS+=($!)
	sleep 0.3
	others_fine
	proc_alive "${BG_PIDS[0]}"
}

@test "flood: the flooding guest's requests all land, others served meanwhile" {
	timeout 30 "$FAKEGUEST" -d $BAD -t 5 --flood 2000 'WRITE:data/f\0flood' \
		>"$T/flood" 2>&1 &
	BG_PIDS+=($!)
	others_fine
	wait "${BG_PIDS[0]}"
	# All 2000 were taken in (the broker's window is larger than the
	# flood); their replies wait for the guest to read them.
	[ ! -s "$T/flood" ]
	fg $BAD --recv 2000 'READ:data/f\0'
	[ "$status" -eq 0 ] || { echo "$output" | tail -n 3; "$FAKEGUEST" -d $BAD -t 1 --status; false; }
	[ "$(grep -c '^WRITE req=[0-9]* tx=0 len=3 OK' <<<"$output")" -eq 2000 ]
	[ "${lines[-1]}" = 'READ req=1 tx=0 len=5 flood' ]
}

@test "never reading replies: its replies are bounded, broker and store do not grow" {
	local big sp b0 s0 b1 s1
	sp=$(pgrep -P "$DAEMON_PID")
	big=$(printf 'x%.0s' {1..3000})
	# A 3 kB request wraps the ring.
	fg $BAD "WRITE:data/big\\0$big"
	[ "$status" -eq 0 ]
	# Warm up: the first stall allocates the queues once.
	run timeout 30 "$FAKEGUEST" -d $BAD -t 1 --no-read --flood 1000 'READ:data/big\0'
	[ "$status" -eq 0 ]
	b0=$(rss_kb "$DAEMON_PID")
	s0=$(rss_kb "$sp")
	# 3 MB of replies if they were all kept.
	run timeout 30 "$FAKEGUEST" -d $BAD -t 1 --no-read --flood 1000 'READ:data/big\0'
	[ "$status" -eq 0 ]
	b1=$(rss_kb "$DAEMON_PID")
	s1=$(rss_kb "$sp")
	echo "VmRSS kB broker $b0 -> $b1, store $s0 -> $s1"
	echo "# VmRSS kB broker $b0 -> $b1, store $s0 -> $s1" >&3
	# ASan's allocator grows by megabytes on its own: there only the
	# store's queue counter below is checked.
	if ! nm -D "$LIXS_BUILD/lixs-broker" 2>/dev/null | grep -q __asan_init; then
		[ $((b1 - b0)) -lt 512 ]
		[ $((s1 - s0)) -lt 512 ]
	fi
	others_fine
	[ "$(memreport | awk '$1 == "queued-bytes" { print $2 }')" -lt 1048576 ]
}

@test "dying mid-request: the half message dies with the domain" {
	fg $BAD --hdr 11,1,0,100 --raw 'data/x\0ab' --die
	[ "$status" -eq 0 ]
	others_fine
	"$XENSIM_CTL" destroy $BAD
	xensim_gone $BAD
	wait_until grep -q "domain $BAD: ring connection .* released" "$DAEMON_LOG"
	# As 4.17: the nodes the domain owned went with it.
	xs "READ:/local/domain/$BAD/data/x\\0" "READ:/local/domain/$BAD\\0"
	[ "${lines[0]}" = 'ERROR req=1 tx=0 len=7 ENOENT\0' ]
	[ "${lines[1]}" = 'ERROR req=2 tx=0 len=7 ENOENT\0' ]
	others_fine dead
}

@test "dying mid-transaction: the transaction is gone, nothing of it committed" {
	# dom0's node the guest may write: it outlives the guest.
	xs "MKDIR:/tool/g$BAD\\0" "SET_PERMS:/tool/g$BAD\\0n0\\0b$BAD\\0"
	fg $BAD 'TRANSACTION_START:\0' "WRITE,t:/tool/g$BAD/x\\0in-tx" \
		'WRITE,t:data/before\0changed' --die
	[ "$status" -eq 0 ]
	open_transactions 1
	xs "READ:/tool/g$BAD/x\\0"
	[ "$output" = 'ERROR req=1 tx=0 len=7 ENOENT\0' ]
	"$XENSIM_CTL" destroy $BAD
	xensim_gone $BAD
	wait_until grep -q "domain $BAD: ring connection .* released" "$DAEMON_LOG"
	wait_until open_transactions 0
	open_transactions 0
	xs "READ:/tool/g$BAD/x\\0" "DIRECTORY:/tool/g$BAD\\0"
	[ "${lines[0]}" = 'ERROR req=1 tx=0 len=7 ENOENT\0' ]
	[ "${lines[1]}" = 'DIRECTORY req=2 tx=0 len=0' ]
	others_fine dead
}
