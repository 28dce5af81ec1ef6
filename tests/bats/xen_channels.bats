#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# xen_channels.bats - the broker's Xen channels on the simulated host
# (tests/xensim): guest rings mapped on INTRODUCE, dom0's kernel ring,
# VIRQ_DOM_EXC, a broken ring cut off alone, rings re-announced to a
# restarted store process, and how the broker starts without Xen.

load helpers
load xensim

setup() {
	xensim_setup || return 1
}

teardown() {
	xensim_teardown
}

# Watch $1 on the read-write socket in the background; events go to $T/$2.
watch_bg() {
	"$XSRAW" -S "$XENSTORED_PATH" -t 20 "WATCH:$1\\0tok\\0" -w 50 >"$T/$2" 2>&1 &
	BG_PIDS+=($!)
	wait_until grep -q '^WATCH req' "$T/$2"
}

# At least $2 events for path $1 in file $T/$3 (the first is WATCH's own).
events_at_least() {
	[ "$(grep -c "^WATCH_EVENT .* $1\\\\0tok" "$T/$3")" -ge "$2" ]
}

# The broker unmapped exactly $1 rings on RING_UNMAP.
released() {
	[ "$(grep -c 'ring connection .* released' "$DAEMON_LOG")" -eq "$1" ]
}

# The store process was killed and a new one said HELLO.
restarted() {
	grep -A100 'killed by signal' "$DAEMON_LOG" | grep -q 'store process .* started'
}

@test "a guest introduced by dom0 reads and writes through its ring" {
	xensim_start
	xensim_guest 5
	fg 5 'WRITE:data/x\0hello' 'READ:data/x\0' 'GET_DOMAIN_PATH:5\0'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	WRITE req=1 tx=0 len=3 OK\0
	READ req=2 tx=0 len=5 hello
	GET_DOMAIN_PATH req=3 tx=0 len=16 /local/domain/5\0
	EOF
	xs 'READ:/local/domain/5/data/x\0'
	[ "$output" = 'READ req=1 tx=0 len=5 hello' ]
	grep -q 'domain 5: ring granted' "$DAEMON_LOG"
}

@test "a guest without a grant: mapped by the frame Xen records (HVM), refused otherwise" {
	xensim_start
	# HVM/PVH: the INTRODUCE gfn is mapped only because it is the guest's
	# HVM_PARAM_STORE_PFN.
	xensim_guest 6 --no-grant --hvm
	fg 6 'WRITE:data/y\0via gfn' 'READ:data/y\0'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = 'READ req=2 tx=0 len=7 via gfn' ]
	grep -q 'domain 6: ring foreign-mapped' "$DAEMON_LOG"
	# Another frame of the same guest: never mapped (the store process's
	# word is not enough to make root write into guest memory).
	local out
	out=$("$XENSIM_CTL" create 7 --no-grant --hvm)
	read -r _ gfn port <<<"$out"
	xs "INTRODUCE:7\0$((gfn + 1))\0$port\0"
	[[ $output == "ERROR req=1 tx=0 "* ]]
	# PV without grant entry 1: refused, as cxenstored does.
	out=$("$XENSIM_CTL" create 8 --no-grant)
	read -r _ gfn port <<<"$out"
	xs "INTRODUCE:8\0$gfn\0$port\0"
	[[ $output == "ERROR req=1 tx=0 "* ]]
	! grep -q 'domain [78]: ring' "$DAEMON_LOG"
	# The refusals left domain 6 served.
	fg 6 'READ:data/y\0'
	[ "$status" -eq 0 ]
}

@test "dom0's kernel ring is served as privileged dom0" {
	xensim_start
	run timeout "$LIXS_WAIT" "$FAKEGUEST" --dom0-ring 'WRITE:/tool/k\0v' \
		'GET_PERMS:/tool/k\0'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	WRITE req=1 tx=0 len=3 OK\0
	GET_PERMS req=2 tx=0 len=3 n0\0
	EOF
}

@test "--no-domain-init leaves dom0's kernel ring alone" {
	xensim_start --no-domain-init
	run timeout 3 "$FAKEGUEST" -t 1 --dom0-ring 'READ:/tool\0'
	[ "$status" -eq 3 ]
}

@test "INTRODUCE of a domain Xen does not have fails; the store keeps serving" {
	xensim_start
	xs 'INTRODUCE:40\0123\09\0'
	[ "$output" = 'ERROR req=1 tx=0 len=7 ENOENT\0' ]
	xensim_guest 7
	fg 7 'READ:/local/domain/7\0'
	[ "$status" -eq 0 ]
	! grep -q 'killing it' "$DAEMON_LOG"
}

@test "@introduceDomain, shutdown via VIRQ_DOM_EXC, death: @releaseDomain, ring unmapped" {
	xensim_start
	watch_bg @introduceDomain intro
	watch_bg @releaseDomain release
	xensim_guest 8
	wait_until events_at_least @introduceDomain 2 intro
	"$XENSIM_CTL" shutdown 8 poweroff
	wait_until events_at_least @releaseDomain 2 release
	[ "$("$XENSIM_CTL" maps 8)" -eq 1 ]
	"$XENSIM_CTL" destroy 8
	xensim_gone 8
	wait_until grep -q 'domain 8: ring connection .* released' "$DAEMON_LOG"
	xs 'IS_DOMAIN_INTRODUCED:8\0'
	[ "$output" = 'IS_DOMAIN_INTRODUCED req=1 tx=0 len=2 F\0' ]
}

@test "a reused domid is a new domain: introduced and served afresh" {
	xensim_start
	xensim_guest 9
	fg 9 'WRITE:data/old\0x'
	[ "$status" -eq 0 ]
	"$XENSIM_CTL" destroy 9
	xensim_gone 9
	xensim_guest 9
	fg 9 'READ:data/old\0' 'WRITE:data/new\0y'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'ERROR req=1 tx=0 len=7 ENOENT\0' ]
	[ "${lines[1]}" = 'WRITE req=2 tx=0 len=3 OK\0' ]
}

@test "a bad ring index cuts off only that guest" {
	xensim_start
	xensim_guest 10
	xensim_guest 11
	fg 10 'WRITE:data/a\0one' --bad-index --sleep 300 --status
	[ "$status" -eq 6 ]
	[[ $output == *'RING-ERROR 2'* ]]
	wait_until grep -q 'domain 10: bad request ring index' "$DAEMON_LOG"
	fg 11 'WRITE:data/b\0two' 'READ:data/b\0'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = 'READ req=2 tx=0 len=3 two' ]
	xs 'READ:/local/domain/10/data/a\0'
	[ "$output" = 'READ req=1 tx=0 len=3 one' ]
}

@test "a guest that floods and never reads stalls alone" {
	xensim_start
	xensim_guest 13
	xensim_guest 14
	run timeout 20 "$FAKEGUEST" -d 13 -t 2 --no-read --flood 3000 \
		'WRITE:data/f\0xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'
	[ "$status" -eq 0 ]
	fg 14 'WRITE:data/g\0ok' 'READ:data/g\0'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = 'READ req=2 tx=0 len=2 ok' ]
	xs 'READ:/local/domain/13/data/f\0'
	[[ $output == 'READ req=1 tx=0 len=52 xxxx'* ]]
	! grep -q 'killing it' "$DAEMON_LOG"
}

@test "a restarted store process learns the rings again" {
	xensim_start
	xensim_guest 12
	local sp
	sp=$(pgrep -P "$DAEMON_PID")
	kill -KILL "$sp"
	wait_until restarted
	fg 12 'GET_DOMAIN_PATH:12\0'
	[ "$status" -eq 0 ]
	[ "$output" = 'GET_DOMAIN_PATH req=1 tx=0 len=17 /local/domain/12\0' ]
	run timeout "$LIXS_WAIT" "$FAKEGUEST" --dom0-ring 'GET_DOMAIN_PATH:0\0'
	[ "$status" -eq 0 ]
}

@test "without Xen: defaulted channels serve the sockets, -x is fatal" {
	[ ! -e /proc/xen/xsd_port ] || skip_because "this host has Xen"
	start_daemon
	grep -q 'no Xen here' "$DAEMON_LOG"
	stop_daemon
	run timeout "$LIXS_WAIT" "$LIXS_BUILD/lixs-broker" -N -x --socket-path "$T/s2" \
		--socket-ro-path "$T/r2"
	[ "$status" -eq 1 ]
	[[ $output == *'cannot open the Xen devices'* ]]
	[ ! -e "$T/s2" ]
}

@test "-u alone serves no rings: INTRODUCE is answered ENOSYS" {
	xensim_start -u
	xs 'INTRODUCE:5\0123\09\0'
	[ "$output" = 'ERROR req=1 tx=0 len=7 ENOSYS\0' ]
	run timeout 3 "$FAKEGUEST" -t 1 --dom0-ring 'READ:/\0'
	[ "$status" -eq 3 ]
}

@test "100 guests at once: each served on its own ring, all released, no mapping left" {
	xensim_start
	local d steps=() pids=()
	for ((d = 101; d <= 200; d++)); do
		xensim_guest "$d"
	done
	for ((d = 101; d <= 200; d++)); do
		timeout "$LIXS_WAIT" "$FAKEGUEST" -d "$d" "WRITE:data/n\\0v$d" >"$T/fg.$d" &
		pids+=($!)
		steps+=("READ:/local/domain/$d/data/n\\0")
	done
	for d in "${pids[@]}"; do
		wait "$d"
	done
	xs "${steps[@]}"
	for ((d = 101; d <= 200; d++)); do
		[ "${lines[d - 101]}" = "READ req=$((d - 100)) tx=0 len=4 v$d" ]
	done
	for ((d = 101; d <= 200; d++)); do
		"$XENSIM_CTL" destroy "$d"
	done
	for ((d = 101; d <= 200; d++)); do
		xensim_gone "$d"
	done
	wait_until released 100
}

# Live maps of domain $1's ring equal $2.
maps_are() {
	[ "$("$XENSIM_CTL" maps "$1")" -eq "$2" ]
}

@test "--ring-idle: an idle guest's ring is unmapped, mapped again by its next request or a watch event" {
	xensim_start --ring-idle 1
	xensim_guest 15
	fg 15 'WRITE:data/x\0kept' 'WATCH:/local/domain/15/w\0tok\0' -w 1
	[ "$status" -eq 0 ]
	maps_are 15 1
	# Unmapped one to two seconds later: the guest's page is no longer held.
	wait_until maps_are 15 0
	# The guest's next request comes with an event: mapped again, served.
	fg 15 'READ:data/x\0'
	[ "$status" -eq 0 ]
	[ "$output" = 'READ req=1 tx=0 len=4 kept' ]
	maps_are 15 1
	wait_until maps_are 15 0
	# A watch event for an unmapped ring maps it first.
	xs 'WRITE:/local/domain/15/w\0v'
	fg 15 -w 1
	[ "$status" -eq 0 ]
	[ "$output" = 'WATCH_EVENT req=0 tx=0 len=23 /local/domain/15/w\0tok\0' ]
	# dom0's kernel ring is never unmapped; the daemon kept running.
	run timeout "$LIXS_WAIT" "$FAKEGUEST" --dom0-ring 'READ:/local/domain/15/data/x\0'
	[ "$status" -eq 0 ]
	! grep -q 'cut off' "$DAEMON_LOG"
}

@test "--ring-idle: a guest whose grant is gone when its idle ring is needed again stalls alone" {
	xensim_start --ring-idle 1
	xensim_guest 16
	xensim_guest 17
	fg 16 'WATCH:/local/domain/16/w\0tok\0' -w 1
	[ "$status" -eq 0 ]
	fg 17 'WRITE:data/y\0still'
	[ "$status" -eq 0 ]
	wait_until maps_are 16 0
	"$XENSIM_CTL" revoke-grant 16
	xs 'WRITE:/local/domain/16/w\0v'
	# Its own doing: its ring waits unmapped (tried again now and then),
	# nothing is cut off.
	wait_until grep -q 'domain 16: ring not mapped again: ' "$DAEMON_LOG"
	maps_are 16 0
	! grep -q 'cut off' "$DAEMON_LOG"
	# Everyone else is served, the guest's data kept.
	fg 17 'READ:data/y\0'
	[ "$status" -eq 0 ]
	[ "$output" = 'READ req=1 tx=0 len=5 still' ]
	xs 'GET_DOMAIN_PATH:16\0'
	[ "$output" = 'GET_DOMAIN_PATH req=1 tx=0 len=17 /local/domain/16\0' ]
}

@test "--ring-idle: without VIRQ_DOM_EXC (-x -u) rings stay mapped" {
	# The broker would not see a domain die, and a page it holds pins its
	# domain: its domid cannot name another while the ring lives.
	xensim_start -x -u --ring-idle 1
	xensim_guest 18
	fg 18 'WRITE:data/x\0y'
	[ "$status" -eq 0 ]
	sleep 2.5
	maps_are 18 1
}

@test "--ring-idle: a domain destroyed while its ring was unmapped is released, its domid served afresh" {
	xensim_start --ring-idle 1
	xensim_guest 19
	fg 19 'WATCH:/local/domain/19/w\0tok\0' -w 1
	[ "$status" -eq 0 ]
	wait_until maps_are 19 0
	# Nothing maps its ring: the domain goes at once, and is released.
	"$XENSIM_CTL" destroy 19
	xensim_gone 19
	wait_until grep -q 'domain 19: ring connection .* released' "$DAEMON_LOG"
	xensim_guest 19
	fg 19 'READ:/local/domain/19\0'
	[ "$status" -eq 0 ]
	# The old domain's watch is gone with it: the new one gets no event.
	xs 'WRITE:/local/domain/19/w\0v'
	run timeout 10 "$FAKEGUEST" -d 19 -t 2 -w 1
	[ "$status" -eq 3 ]
	! grep -q 'cut off' "$DAEMON_LOG"
}

@test "--ring-idle: a page that cannot be mapped again for now is retried, nothing lost" {
	xensim_start --ring-idle 1
	xensim_guest 20
	fg 20 'WATCH:/local/domain/20/w\0tok\0' -w 1
	[ "$status" -eq 0 ]
	wait_until maps_are 20 0
	# The next two maps fail (ENOMEM): the event waits, and CONN_SPACE 0
	# has the store send RING_IDLE again a period or two later.
	"$XENSIM_CTL" fail-maps 20 2
	xs 'WRITE:/local/domain/20/w\0v'
	sleep 0.5
	maps_are 20 0
	fg 20 -t 8 -w 1
	[ "$status" -eq 0 ]
	[ "$output" = 'WATCH_EVENT req=0 tx=0 len=23 /local/domain/20/w\0tok\0' ]
	fg 20 'READ:/local/domain/20/w\0'
	[ "$output" = 'READ req=1 tx=0 len=1 v' ]
	! grep -q 'cut off' "$DAEMON_LOG"
}

@test "--ring-idle: 10 guests waking at random around the idle period lose nothing" {
	xensim_start --ring-idle 1
	local d i n writes=3 pids=() zeros sleeps=(250 800 1300 1900 2400 2900)
	for ((d = 21; d <= 30; d++)); do
		xensim_guest "$d"
		fg "$d" "WATCH:/local/domain/$d/w\\0tok\\0" -w 1
		[ "$status" -eq 0 ]
	done
	# Each guest: requests with pauses of 0.25-2.9 s, so its ring is
	# unmapped between some of them and not others.
	for ((d = 21; d <= 30; d++)); do
		for ((i = 1; i <= 6; i++)); do
			echo "--sleep ${sleeps[(d * 7 + i * 5) % 6]}"
			echo "WRITE:data/k\\0v$i"
			echo "READ:data/k\\0"
		done >"$T/script.$d"
		timeout 40 "$FAKEGUEST" -d "$d" -t 20 --script "$T/script.$d" >"$T/out.$d" 2>&1 &
		pids+=($!)
	done
	# Meanwhile the rings' mappings are sampled (some must go), and dom0
	# writes what each guest watches, 3.3 s apart.
	for ((i = 0; i < 60; i++)); do
		for ((d = 21; d <= 30; d++)); do
			"$XENSIM_CTL" maps "$d"
		done
		sleep 0.2
	done >"$T/maps" &
	pids+=($!)
	for ((i = 1; i <= writes; i++)); do
		sleep 3.3
		for ((d = 21; d <= 30; d++)); do
			"$XSRAW" -S "$XENSTORED_PATH" -t 5 "WRITE:/local/domain/$d/w\\0x$i" >/dev/null
		done
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	zeros=$(grep -cx 0 "$T/maps" || true)
	echo "samples of an unmapped ring: $zeros of $(wc -l <"$T/maps")"
	[ "$zeros" -gt 0 ]
	for ((d = 21; d <= 30; d++)); do
		# Every reply came, in order, with the value just written.
		[ "$(grep -c '^WRITE req=.* OK' "$T/out.$d")" -eq 6 ]
		for ((i = 1; i <= 6; i++)); do
			grep -q "^READ req=$((2 * i)) tx=0 len=2 v$i\$" "$T/out.$d"
		done
		# Every event came: those the script printed, then the rest.
		n=$(grep -c '^WATCH_EVENT' "$T/out.$d" || true)
		if [ "$n" -lt "$writes" ]; then
			fg "$d" -w $((writes - n))
			[ "$status" -eq 0 ]
		fi
	done
	! grep -q 'cut off' "$DAEMON_LOG"
}

@test "--ring-idle: rings unmapped idle are mapped again for a restarted store process, and go again" {
	xensim_start --ring-idle 1
	xensim_guest 31
	fg 31 'WATCH:/local/domain/31/w\0tok\0' -w 1
	[ "$status" -eq 0 ]
	wait_until maps_are 31 0
	kill -KILL "$(pgrep -P "$DAEMON_PID")"
	wait_until restarted
	# The new store process knows nothing of the unmapping: the broker
	# mapped the page again to announce the ring, and the new store
	# tells it idle again one to two periods later.
	wait_until maps_are 31 1
	wait_until maps_are 31 0
	xs 'WRITE:/local/domain/31/w\0v'
	fg 31 -w 1
	[ "$status" -eq 0 ]
	[ "$output" = 'WATCH_EVENT req=0 tx=0 len=23 /local/domain/31/w\0tok\0' ]
	! grep -q 'cut off' "$DAEMON_LOG"
}

@test "--ring-idle: a domain scan that fails ends no idle guest's ring" {
	xensim_start --ring-idle 1
	xensim_guest 32
	xensim_guest 33
	fg 32 'WATCH:/local/domain/32/w\0tok\0' -w 1
	[ "$status" -eq 0 ]
	wait_until maps_are 32 0
	# The scan that 33's shutdown raises fails: it proves nothing about 32.
	"$XENSIM_CTL" fail-lists 1
	"$XENSIM_CTL" shutdown 33
	wait_until grep -q 'cannot list domains' "$DAEMON_LOG"
	xs 'WRITE:/local/domain/32/w\0v'
	fg 32 -w 1
	[ "$status" -eq 0 ]
	[ "$output" = 'WATCH_EVENT req=0 tx=0 len=23 /local/domain/32/w\0tok\0' ]
	! grep -q 'cut off' "$DAEMON_LOG"
}
