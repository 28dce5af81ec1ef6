#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# guest_perms.bats - the unprivileged-domain cases of the conformance
# suite, asked by a guest over its ring on the simulated Xen host
# (tests/xensim) instead of by a unix client posing as a domain: access
# to dom0's nodes, ownership, SET_PERMS limits, SET_TARGET, watch events
# filtered by read permission (XSA-115), domid reuse (XSA-322), quotas.
# Expectations are cxenstored 4.17's.

load helpers
load xensim

setup() {
	xensim_setup || return 1
	xensim_start
}

teardown() {
	xensim_teardown
}

@test "a domU cannot read or write dom0's nodes (EACCES)" {
	xensim_guest 30
	xs 'WRITE:/tool/secret\0s'
	fg 30 'READ:/tool/secret\0' 'WRITE:/tool/secret\0mine' 'DIRECTORY:/tool\0' \
		'GET_PERMS:/tool/secret\0' 'WRITE:/tool/new\0x' 'RM:/tool/secret\0'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	ERROR req=1 tx=0 len=7 EACCES\0
	ERROR req=2 tx=0 len=7 EACCES\0
	ERROR req=3 tx=0 len=7 EACCES\0
	ERROR req=4 tx=0 len=7 EACCES\0
	ERROR req=5 tx=0 len=7 EACCES\0
	ERROR req=6 tx=0 len=7 EACCES\0
	EOF
	xs 'READ:/tool/secret\0'
	[ "$output" = 'READ req=1 tx=0 len=1 s' ]
}

@test "a domU writes its home and owns what it creates, even under dom0's node" {
	xensim_guest 30
	xs 'WRITE:/tool/shared\0' 'SET_PERMS:/tool/shared\0n0\0b30\0'
	fg 30 'WRITE:data/a\0one' 'GET_PERMS:data/a\0' 'WRITE:/tool/shared/m\0x' \
		'GET_PERMS:/tool/shared/m\0' 'READ:data/a\0'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	WRITE req=1 tx=0 len=3 OK\0
	GET_PERMS req=2 tx=0 len=4 n30\0
	WRITE req=3 tx=0 len=3 OK\0
	GET_PERMS req=4 tx=0 len=8 n30\0b30\0
	READ req=5 tx=0 len=3 one
	EOF
}

@test "a domU cannot give its node away (EPERM); more than 5 perms is ENOSPC" {
	xensim_guest 30
	fg 30 'WRITE:data/a\0one' 'SET_PERMS:data/a\0n0\0' \
		'SET_PERMS:data/a\0n30\0r1\0r2\0r3\0r4\0r5\0' \
		'SET_PERMS:data/a\0n30\0r1\0r2\0r3\0r4\0' 'GET_PERMS:data/a\0'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	WRITE req=1 tx=0 len=3 OK\0
	ERROR req=2 tx=0 len=6 EPERM\0
	ERROR req=3 tx=0 len=7 ENOSPC\0
	SET_PERMS req=4 tx=0 len=3 OK\0
	GET_PERMS req=5 tx=0 len=16 n30\0r1\0r2\0r3\0r4\0
	EOF
	grep -q 'quota: domain 30 refused permissions' "$DAEMON_LOG"
}

@test "SET_TARGET gives a device model its target's rights, and only those" {
	xensim_guest 30
	xensim_guest 31
	fg 30 'WRITE:data/vm\0guest'
	[ "$status" -eq 0 ]
	fg 31 'READ:/local/domain/30/data/vm\0'
	[ "$output" = 'ERROR req=1 tx=0 len=7 EACCES\0' ]
	xs 'SET_TARGET:31\030\0'
	[ "$output" = 'SET_TARGET req=1 tx=0 len=3 OK\0' ]
	fg 31 'READ:/local/domain/30/data/vm\0' 'WRITE:/local/domain/30/data/dm\0qemu' \
		'READ:/tool\0'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	READ req=1 tx=0 len=5 guest
	WRITE req=2 tx=0 len=3 OK\0
	ERROR req=3 tx=0 len=7 EACCES\0
	EOF
	# As 4.17: what the device model creates, it owns, even there.
	xs 'GET_PERMS:/local/domain/30/data/dm\0'
	[ "$output" = 'GET_PERMS req=1 tx=0 len=4 n31\0' ]
	# The target gains nothing over its device model.
	fg 30 'READ:/local/domain/31\0' 'READ:data/vm\0'
	[ "${lines[0]}" = 'ERROR req=1 tx=0 len=7 EACCES\0' ]
	[ "${lines[1]}" = 'READ req=2 tx=0 len=5 guest' ]
}

@test "watch events are filtered by read permission (XSA-115)" {
	xensim_guest 30
	# 4.17 sends the event when the node or its parent is readable.
	xs 'WRITE:/tool/w\0' 'SET_PERMS:/tool/w\0n0\0r30\0' 'WRITE:/tool/w/hidden\0' \
		'SET_PERMS:/tool/w/hidden\0n0\0' 'WRITE:/tool/w/hidden/secret\0' \
		'SET_PERMS:/tool/w/hidden/secret\0n0\0'
	"$FAKEGUEST" -d 30 -t 10 'WATCH:/tool/w\0tok\0' -w 3 >"$T/events" 2>&1 &
	BG_PIDS+=($!)
	wait_until grep -q '^WATCH req=1 .* OK' "$T/events"
	xs 'WRITE:/tool/w/hidden/secret\0s2' 'WRITE:/tool/w/public\0p'
	xs 'WRITE:/tool/w/hidden/secret\0s3' 'WRITE:/tool/w/public\0p2'
	wait "${BG_PIDS[0]}"
	grep -v '^WATCH req' "$T/events" >"$T/ev"
	run cat "$T/ev"
	expect_output <<-'EOF'
	WATCH_EVENT req=0 tx=0 len=12 /tool/w\0tok\0
	WATCH_EVENT req=0 tx=0 len=19 /tool/w/public\0tok\0
	WATCH_EVENT req=0 tx=0 len=19 /tool/w/public\0tok\0
	EOF
}

@test "a reused domid does not inherit the old domain's access (XSA-322)" {
	xensim_guest 32
	xs 'WRITE:/tool/acl\0granted' 'SET_PERMS:/tool/acl\0n0\0r32\0'
	fg 32 'READ:/tool/acl\0'
	[ "$output" = 'READ req=1 tx=0 len=7 granted' ]
	"$XENSIM_CTL" destroy 32
	xensim_gone 32
	wait_until grep -q 'domain 32: ring connection .* released' "$DAEMON_LOG"
	xs 'GET_PERMS:/tool/acl\0'
	[ "$output" = 'GET_PERMS req=1 tx=0 len=3 n0\0' ]
	xensim_guest 32
	fg 32 'READ:/tool/acl\0'
	[ "$status" -eq 0 ]
	[ "$output" = 'ERROR req=1 tx=0 len=7 EACCES\0' ]
}

@test "a guest over its node quota gets ENOSPC and a log line; others are not limited" {
	xensim_guest 30
	xensim_guest 31
	xs 'CONTROL:quota\0set\0nodes\04\0'
	# Its home counts: three more nodes are allowed.
	fg 30 'WRITE:data\0' 'WRITE:data/a\0' 'WRITE:data/b\0' 'WRITE:data/c\0' \
		'WRITE:data/a\0overwrite'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	WRITE req=1 tx=0 len=3 OK\0
	WRITE req=2 tx=0 len=3 OK\0
	WRITE req=3 tx=0 len=3 OK\0
	ERROR req=4 tx=0 len=7 ENOSPC\0
	WRITE req=5 tx=0 len=3 OK\0
	EOF
	grep -q 'quota: domain 30 refused nodes' "$DAEMON_LOG"
	fg 31 'WRITE:x\0' 'WRITE:y\0'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = 'WRITE req=2 tx=0 len=3 OK\0' ]
	xs 'WRITE:/tool/a\0' 'WRITE:/tool/b\0' 'WRITE:/tool/c\0' 'WRITE:/tool/d\0'
	[ "${lines[3]}" = 'WRITE req=4 tx=0 len=3 OK\0' ]
}
