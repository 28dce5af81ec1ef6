#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# quota_domain.bats - Xen 4.22's per-domain GET_QUOTA/SET_QUOTA asked
# over real guest rings on the simulated Xen host (tests/xensim): who may
# ask (dom0 only), the errors for unknown domains and bad names or
# values, a domain's own value binding that domain alone and ending with
# its release; and the log line of a path-max (-M) refusal.
# cxenstored 4.17 answers ENOSYS to both messages (COMPATIBILITY.md).

load helpers
load xensim

setup() {
	xensim_setup || return 1
	xensim_start
}

teardown() {
	xensim_teardown
}

@test "a domU may not get or set quotas (EACCES)" {
	xensim_guest 30
	fg 30 'GET_QUOTA:' 'GET_QUOTA:nodes\0' 'GET_QUOTA:30\0nodes\0' \
		'SET_QUOTA:nodes\0005\0' 'SET_QUOTA:30\0nodes\0005\0'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	ERROR req=1 tx=0 len=7 EACCES\0
	ERROR req=2 tx=0 len=7 EACCES\0
	ERROR req=3 tx=0 len=7 EACCES\0
	ERROR req=4 tx=0 len=7 EACCES\0
	ERROR req=5 tx=0 len=7 EACCES\0
	EOF
	xs 'GET_QUOTA:nodes\0' 'GET_QUOTA:30\0nodes\0'
	expect_output <<-'EOF'
	GET_QUOTA req=1 tx=0 len=5 1000\0
	GET_QUOTA req=2 tx=0 len=5 1000\0
	EOF
}

@test "per-domain quota errors: ENOENT for an unknown domain, EINVAL for bad input" {
	xensim_guest 30
	xs 'SET_QUOTA:41\0nodes\0005\0' 'GET_QUOTA:41\0nodes\0' \
		'SET_QUOTA:41\0nosuch\0005\0' 'SET_QUOTA:x\0nodes\0005\0' \
		'SET_QUOTA:65536\0nodes\0005\0' 'SET_QUOTA:30\0nosuch\0005\0' \
		'SET_QUOTA:30\0soft-nodes\0005\0' 'SET_QUOTA:30\0nodes\0-1\0' \
		'GET_QUOTA:30\0nosuch\0' 'SET_QUOTA:30\0nodes\0005\0x\0' \
		'GET_QUOTA:30\0nodes\0'
	expect_output <<-'EOF'
	ERROR req=1 tx=0 len=7 ENOENT\0
	ERROR req=2 tx=0 len=7 ENOENT\0
	ERROR req=3 tx=0 len=7 ENOENT\0
	ERROR req=4 tx=0 len=7 EINVAL\0
	ERROR req=5 tx=0 len=7 EINVAL\0
	ERROR req=6 tx=0 len=7 EINVAL\0
	ERROR req=7 tx=0 len=7 EINVAL\0
	ERROR req=8 tx=0 len=7 EINVAL\0
	ERROR req=9 tx=0 len=7 EINVAL\0
	ERROR req=10 tx=0 len=7 EINVAL\0
	GET_QUOTA req=11 tx=0 len=5 1000\0
	EOF
}

@test "a domain's own node quota binds it alone, is logged as its own, ends at RELEASE" {
	xensim_guest 30
	local gfn=$GUEST_GFN port=$GUEST_PORT
	xensim_guest 31
	xs 'SET_QUOTA:30\0nodes\0003\0' 'GET_QUOTA:30\0nodes\0' \
		'GET_QUOTA:31\0nodes\0' 'GET_QUOTA:nodes\0'
	expect_output <<-'EOF'
	SET_QUOTA req=1 tx=0 len=3 OK\0
	GET_QUOTA req=2 tx=0 len=2 3\0
	GET_QUOTA req=3 tx=0 len=5 1000\0
	GET_QUOTA req=4 tx=0 len=5 1000\0
	EOF
	# The home counts: two more nodes fit.
	fg 30 'WRITE:a\0' 'WRITE:b\0' 'WRITE:c\0'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	WRITE req=1 tx=0 len=3 OK\0
	WRITE req=2 tx=0 len=3 OK\0
	ERROR req=3 tx=0 len=7 ENOSPC\0
	EOF
	grep -q 'quota: domain 30 refused nodes (-E/--entry-nb, its own SET_QUOTA value): limit 3, 3 owned' \
		"$DAEMON_LOG"
	fg 31 'WRITE:a\0' 'WRITE:b\0' 'WRITE:c\0'
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = 'WRITE req=3 tx=0 len=3 OK\0' ]
	# Still there for the next connection of the domain, and after a
	# re-INTRODUCE (which resets its connection).
	fg 30 'WRITE:c\0'
	[ "$output" = 'ERROR req=1 tx=0 len=7 ENOSPC\0' ]
	xs "INTRODUCE:30\\0$gfn\\0$port\\0" 'GET_QUOTA:30\0nodes\0'
	expect_output <<-'EOF'
	INTRODUCE req=1 tx=0 len=3 OK\0
	GET_QUOTA req=2 tx=0 len=2 3\0
	EOF
	fg 30 'WRITE:c\0'
	[ "$output" = 'ERROR req=1 tx=0 len=7 ENOSPC\0' ]
	# Released: unknown, then a new incarnation has the global value.
	xs 'RELEASE:30\0' 'GET_QUOTA:30\0nodes\0'
	expect_output <<-'EOF'
	RELEASE req=1 tx=0 len=3 OK\0
	ERROR req=2 tx=0 len=7 ENOENT\0
	EOF
	xs "INTRODUCE:30\\0$gfn\\0$port\\0" 'GET_QUOTA:30\0nodes\0'
	expect_output <<-'EOF'
	INTRODUCE req=1 tx=0 len=3 OK\0
	GET_QUOTA req=2 tx=0 len=5 1000\0
	EOF
}

@test "a path refused by -M is logged with domain, limit and length" {
	xensim_guest 30
	xs 'SET_QUOTA:path-max\00010\0'
	fg 30 'WRITE:0123456789\0' 'WRITE:0123456789a\0'
	[ "$status" -eq 0 ]
	expect_output <<-'EOF'
	WRITE req=1 tx=0 len=3 OK\0
	ERROR req=2 tx=0 len=7 EINVAL\0
	EOF
	grep -q 'quota: domain 30 refused path-max (-M/--path-max): limit 10, 11 characters' \
		"$DAEMON_LOG"
	# A path invalid for another reason is not a quota refusal.
	fg 30 'WRITE:a//b\0'
	[ "$output" = 'ERROR req=1 tx=0 len=7 EINVAL\0' ]
	[ "$(grep -c 'refused path-max' "$DAEMON_LOG")" -eq 1 ]
}
