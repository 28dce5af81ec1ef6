#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# wire_bytes.bats - exact reply bytes for each implemented message type and
# its common errors, as cxenstored 4.17 sends them.
#
# Every expectation below was recorded from cxenstored 4.17 (Debian
# xen-utils-4.17) on a fresh daemon, one test each, with:
#
#   ../shared/peers/run-peer.sh cxenstored SOCK
#   build/tools/xsraw -S SOCK STEP...        # the steps of the test
#   ../shared/peers/run-peer.sh stop SOCK
#
# which is what `LIXS_PEER=cxenstored bats tests/bats/wire_bytes.bats`
# does: the file passes against cxenstored.  Where lixs answers on purpose
# like newer cxenstored rather than 4.17, for_daemon names both.
# Output format: see tests/tools/xsraw.c (one line per message received,
# \0 = NUL).  cxenstored's initial tree is /, /tool, /tool/xenstored.

load helpers

@test "READ: existing, empty, missing, missing parent, relative" {
	xs 'WRITE:/r/k\0val' 'READ:/r/k\0' 'READ:/tool/xenstored\0' \
		'READ:/r/nope\0' 'READ:/nope/deeper\0' \
		'WRITE:/local/domain/0/rel\0rv' 'READ:rel\0' 'READ:rel/missing\0' \
		'READ:/\0'
	expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
READ req=2 tx=0 len=3 val
READ req=3 tx=0 len=0
ERROR req=4 tx=0 len=7 ENOENT\0
ERROR req=5 tx=0 len=7 ENOENT\0
WRITE req=6 tx=0 len=3 OK\0
READ req=7 tx=0 len=2 rv
ERROR req=8 tx=0 len=7 ENOENT\0
READ req=9 tx=0 len=0
EOF
}

@test "READ: path without its NUL is refused" {
	# cxenstored 4.17 answers with whatever errno was left over (ENOENT
	# on a fresh daemon); later cxenstored and lixs say EINVAL.
	xs 'READ:/tool/xenstored' 'READ:' 'READ:/tool\0xenstored\0'
	expect_output <<EOF
$(for_daemon 'ERROR req=1 tx=0 len=7 EINVAL\0' cxenstored 'ERROR req=1 tx=0 len=7 ENOENT\0')
$(for_daemon 'ERROR req=2 tx=0 len=7 EINVAL\0' cxenstored 'ERROR req=2 tx=0 len=7 ENOENT\0')
$(for_daemon 'ERROR req=3 tx=0 len=7 EINVAL\0' cxenstored 'ERROR req=3 tx=0 len=7 ENOENT\0')
EOF
}

@test "WRITE: embedded NUL, empty value, created parents, overwrite" {
	xs 'WRITE:/w/bin\0a\0b\x01\xff' 'READ:/w/bin\0' \
		'WRITE:/w/empty\0' 'READ:/w/empty\0' \
		'WRITE:/w/p/q/r\0deep' 'READ:/w/p\0' 'READ:/w/p/q\0' \
		'DIRECTORY:/w/p\0' 'READ:/w/p/q/r\0' \
		'WRITE:/w/bin\0new' 'READ:/w/bin\0' 'DIRECTORY:/w\0'
	expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
READ req=2 tx=0 len=5 a\0b\x01\xff
WRITE req=3 tx=0 len=3 OK\0
READ req=4 tx=0 len=0
WRITE req=5 tx=0 len=3 OK\0
READ req=6 tx=0 len=0
READ req=7 tx=0 len=0
DIRECTORY req=8 tx=0 len=2 q\0
READ req=9 tx=0 len=4 deep
WRITE req=10 tx=0 len=3 OK\0
READ req=11 tx=0 len=3 new
DIRECTORY req=12 tx=0 len=12 bin\0empty\0p\0
EOF
}

@test "WRITE: without a value separator or path" {
	xs 'WRITE:/w/nosep' 'WRITE:\0v' 'WRITE:' 'READ:/w/nosep\0'
	expect_output <<'EOF'
ERROR req=1 tx=0 len=7 EINVAL\0
ERROR req=2 tx=0 len=7 EINVAL\0
ERROR req=3 tx=0 len=7 EINVAL\0
ERROR req=4 tx=0 len=7 ENOENT\0
EOF
}

@test "MKDIR: new, existing keeps its value, nested parents" {
	xs 'MKDIR:/m\0' 'READ:/m\0' 'WRITE:/m\0v' 'MKDIR:/m\0' 'READ:/m\0' \
		'MKDIR:/m/n/o\0' 'DIRECTORY:/m\0' 'DIRECTORY:/m/n\0' 'READ:/m/n/o\0'
	expect_output <<'EOF'
MKDIR req=1 tx=0 len=3 OK\0
READ req=2 tx=0 len=0
WRITE req=3 tx=0 len=3 OK\0
MKDIR req=4 tx=0 len=3 OK\0
READ req=5 tx=0 len=1 v
MKDIR req=6 tx=0 len=3 OK\0
DIRECTORY req=7 tx=0 len=2 n\0
DIRECTORY req=8 tx=0 len=2 o\0
READ req=9 tx=0 len=0
EOF
}

@test "RM: subtree, missing node, missing parent, root" {
	xs 'WRITE:/r/a/b\0x' 'WRITE:/r/c\0y' 'WRITE:/keep\0k' \
		'RM:/r\0' 'READ:/r/a/b\0' 'READ:/r\0' 'RM:/r\0' 'RM:/r/x\0' \
		'RM:/\0' 'DIRECTORY:/\0' 'READ:/keep\0'
	expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
WRITE req=2 tx=0 len=3 OK\0
WRITE req=3 tx=0 len=3 OK\0
RM req=4 tx=0 len=3 OK\0
ERROR req=5 tx=0 len=7 ENOENT\0
ERROR req=6 tx=0 len=7 ENOENT\0
RM req=7 tx=0 len=3 OK\0
ERROR req=8 tx=0 len=7 ENOENT\0
ERROR req=9 tx=0 len=7 EINVAL\0
DIRECTORY req=10 tx=0 len=10 tool\0keep\0
READ req=11 tx=0 len=1 k
EOF
}

@test "DIRECTORY: insertion order, empty, missing, re-added child" {
	xs 'DIRECTORY:/\0' 'WRITE:/d/c\0' 'WRITE:/d/a\0' 'WRITE:/d/b\0' \
		'DIRECTORY:/d\0' 'DIRECTORY:/d/a\0' 'DIRECTORY:/nodir\0' \
		'RM:/d/a\0' 'WRITE:/d/a\0' 'DIRECTORY:/d\0' 'DIRECTORY:/\0'
	expect_output <<'EOF'
DIRECTORY req=1 tx=0 len=5 tool\0
WRITE req=2 tx=0 len=3 OK\0
WRITE req=3 tx=0 len=3 OK\0
WRITE req=4 tx=0 len=3 OK\0
DIRECTORY req=5 tx=0 len=6 c\0a\0b\0
DIRECTORY req=6 tx=0 len=0
ERROR req=7 tx=0 len=7 ENOENT\0
RM req=8 tx=0 len=3 OK\0
WRITE req=9 tx=0 len=3 OK\0
DIRECTORY req=10 tx=0 len=6 c\0b\0a\0
DIRECTORY req=11 tx=0 len=7 tool\0d\0
EOF
}

@test "DIRECTORY: a listing over 4096 bytes is E2BIG" {
	# 300 children of 34-35 bytes each: about 10 KiB of names (XSA-72)
	local steps=() i
	for ((i = 0; i < 300; i++)); do
		steps+=("WRITE:/big/child_with_a_long_name_$i\\0")
	done
	xs "${steps[@]}" 'DIRECTORY:/big\0' 'READ:/big\0'
	[ "${#lines[@]}" -eq 302 ]
	[ "${lines[300]}" = 'ERROR req=301 tx=0 len=6 E2BIG\0' ]
	[ "${lines[301]}" = 'READ req=302 tx=0 len=0' ]
}

@test "GET_PERMS: root, initial node, new node, missing" {
	xs 'GET_PERMS:/\0' 'GET_PERMS:/tool/xenstored\0' 'WRITE:/g\0v' \
		'GET_PERMS:/g\0' 'GET_PERMS:/nope\0' 'GET_PERMS:/g'
	expect_output <<EOF
GET_PERMS req=1 tx=0 len=3 n0\0
GET_PERMS req=2 tx=0 len=3 n0\0
WRITE req=3 tx=0 len=3 OK\0
GET_PERMS req=4 tx=0 len=3 n0\0
ERROR req=5 tx=0 len=7 ENOENT\0
$(for_daemon 'ERROR req=6 tx=0 len=7 EINVAL\0' cxenstored 'ERROR req=6 tx=0 len=7 ENOENT\0')
EOF
}

@test "SET_PERMS: valid, inherited by new children, invalid, missing node" {
	xs 'WRITE:/sp\0v' 'SET_PERMS:/sp\0n0\0r5\0' 'GET_PERMS:/sp\0' \
		'WRITE:/sp/child\0c' 'GET_PERMS:/sp/child\0' \
		'SET_PERMS:/sp\0b1\0w2\0' 'GET_PERMS:/sp\0' \
		'SET_PERMS:/sp\0x0\0' 'SET_PERMS:/sp\0n0x\0' 'SET_PERMS:/sp\0' \
		'SET_PERMS:/nope\0n0\0' 'SET_PERMS:/nope/deeper\0n0\0' \
		'GET_PERMS:/sp\0'
	expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
SET_PERMS req=2 tx=0 len=3 OK\0
GET_PERMS req=3 tx=0 len=6 n0\0r5\0
WRITE req=4 tx=0 len=3 OK\0
GET_PERMS req=5 tx=0 len=6 n0\0r5\0
SET_PERMS req=6 tx=0 len=3 OK\0
GET_PERMS req=7 tx=0 len=6 b1\0w2\0
ERROR req=8 tx=0 len=7 EINVAL\0
ERROR req=9 tx=0 len=7 EINVAL\0
ERROR req=10 tx=0 len=7 EINVAL\0
ERROR req=11 tx=0 len=7 ENOENT\0
ERROR req=12 tx=0 len=7 ENOENT\0
GET_PERMS req=13 tx=0 len=6 b1\0w2\0
EOF
}

@test "TRANSACTION: commit, abort, bad argument, unknown id, nested start" {
	xs 'TRANSACTION_START:\0' 'WRITE,t:/tx/a\0in' 'READ,t:/tx/a\0' \
		'TRANSACTION_END,t:T\0' 'READ:/tx/a\0' \
		'TRANSACTION_START:\0' 'WRITE,t:/tx/a\0gone' 'TRANSACTION_END,t:F\0' \
		'READ:/tx/a\0' \
		'TRANSACTION_START:\0' 'TRANSACTION_END,t:X\0' \
		'TRANSACTION_END,t:\0' 'TRANSACTION_END,t:T' \
		'TRANSACTION_END,t:F\0' 'TRANSACTION_END,t:F\0' \
		'TRANSACTION_END:F\0' 'TRANSACTION_END,77:F\0' 'READ,77:/tx/a\0' \
		'TRANSACTION_START:\0' 'TRANSACTION_START,t:\0' \
		'TRANSACTION_START,99:\0' 'TRANSACTION_END,t:F\0'
	expect_output <<'EOF'
TRANSACTION_START req=1 tx=0 len=2 1\0
WRITE req=2 tx=1 len=3 OK\0
READ req=3 tx=1 len=2 in
TRANSACTION_END req=4 tx=1 len=3 OK\0
READ req=5 tx=0 len=2 in
TRANSACTION_START req=6 tx=0 len=2 2\0
WRITE req=7 tx=2 len=3 OK\0
TRANSACTION_END req=8 tx=2 len=3 OK\0
READ req=9 tx=0 len=2 in
TRANSACTION_START req=10 tx=0 len=2 3\0
ERROR req=11 tx=3 len=7 EINVAL\0
ERROR req=12 tx=3 len=7 EINVAL\0
ERROR req=13 tx=3 len=7 EINVAL\0
TRANSACTION_END req=14 tx=3 len=3 OK\0
ERROR req=15 tx=3 len=7 ENOENT\0
ERROR req=16 tx=0 len=7 ENOENT\0
ERROR req=17 tx=77 len=7 ENOENT\0
ERROR req=18 tx=77 len=7 ENOENT\0
TRANSACTION_START req=19 tx=0 len=2 4\0
ERROR req=20 tx=4 len=6 EBUSY\0
ERROR req=21 tx=99 len=7 ENOENT\0
TRANSACTION_END req=22 tx=4 len=3 OK\0
EOF
}

@test "TRANSACTION: isolation from, and conflict with, another connection" {
	# Connection 1 reads /iso/k in a transaction, connection 2 changes it
	# outside, so the commit must fail with EAGAIN; writes of the failed
	# transaction never show.
	xs 'WRITE:/iso/k\0old' \
		'TRANSACTION_START:\0' 'READ,t:/iso/k\0' 'WRITE,t:/iso/new\0n' \
		--conn 2 'READ:/iso/new\0' 'WRITE:/iso/k\0outside' \
		--conn 1 'READ,t:/iso/k\0' 'TRANSACTION_END,t:T\0' \
		'READ:/iso/k\0' 'READ:/iso/new\0'
	expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
TRANSACTION_START req=2 tx=0 len=2 1\0
READ req=3 tx=1 len=3 old
WRITE req=4 tx=1 len=3 OK\0
ERROR req=1 tx=0 len=7 ENOENT\0
WRITE req=2 tx=0 len=3 OK\0
READ req=5 tx=1 len=3 old
ERROR req=6 tx=1 len=7 EAGAIN\0
READ req=7 tx=0 len=7 outside
ERROR req=8 tx=0 len=7 ENOENT\0
EOF
}

@test "TRANSACTION: watch events fire at commit, not at abort" {
	# Connection 1 watches; connection 2 writes in transactions.  Events
	# are read on connection 1 only at the end, so their order is fixed.
	xs 'WATCH:/te\0W\0' \
		--conn 2 'TRANSACTION_START:\0' 'WRITE,t:/te/aborted\0x' \
		'TRANSACTION_END,t:F\0' \
		'TRANSACTION_START:\0' 'WRITE,t:/te/committed\0y' \
		--conn 1 'READ:/te/committed\0' \
		--conn 2 'TRANSACTION_END,t:T\0' \
		--conn 1 'READ:/te/committed\0'
	expect_output <<'EOF'
WATCH req=1 tx=0 len=3 OK\0
TRANSACTION_START req=1 tx=0 len=2 1\0
WRITE req=2 tx=1 len=3 OK\0
TRANSACTION_END req=3 tx=1 len=3 OK\0
TRANSACTION_START req=4 tx=0 len=2 2\0
WRITE req=5 tx=2 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=6 /te\0W\0
ERROR req=2 tx=0 len=7 ENOENT\0
TRANSACTION_END req=6 tx=2 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=16 /te/committed\0W\0
READ req=3 tx=0 len=1 y
EOF
}

@test "WATCH: fires on register, EEXIST, event below, own events first" {
	# A connection's own events are queued before its reply.
	xs 'WATCH:/w\0tok\0' 'WATCH:/w\0tok\0' 'WATCH:/w\0tok2\0' \
		'WRITE:/w/x/y\0v' 'WATCH:/nonexistent/path\0t\0' \
		'WRITE:/other\0v' 'WRITE:/wx\0v'
	expect_output <<'EOF'
WATCH req=1 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=7 /w\0tok\0
ERROR req=2 tx=0 len=7 EEXIST\0
WATCH req=3 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=8 /w\0tok2\0
WATCH_EVENT req=0 tx=0 len=11 /w/x/y\0tok\0
WATCH_EVENT req=0 tx=0 len=12 /w/x/y\0tok2\0
WRITE req=4 tx=0 len=3 OK\0
WATCH req=5 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=20 /nonexistent/path\0t\0
WRITE req=6 tx=0 len=3 OK\0
WRITE req=7 tx=0 len=3 OK\0
EOF
}

@test "WATCH: events of another connection's writes, MKDIR, SET_PERMS, RM" {
	xs 'WATCH:/v\0T\0' \
		--conn 2 'WRITE:/v/a/b\0v' 'WRITE:/v/a/c\0v' 'MKDIR:/v/a/c\0' \
		'MKDIR:/v/m\0' 'SET_PERMS:/v/a\0n0\0' 'RM:/v\0' \
		--conn 1 -w 6
	expect_output <<'EOF'
WATCH req=1 tx=0 len=3 OK\0
WRITE req=1 tx=0 len=3 OK\0
WRITE req=2 tx=0 len=3 OK\0
MKDIR req=3 tx=0 len=3 OK\0
MKDIR req=4 tx=0 len=3 OK\0
SET_PERMS req=5 tx=0 len=3 OK\0
RM req=6 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=5 /v\0T\0
WATCH_EVENT req=0 tx=0 len=9 /v/a/b\0T\0
WATCH_EVENT req=0 tx=0 len=9 /v/a/c\0T\0
WATCH_EVENT req=0 tx=0 len=7 /v/m\0T\0
WATCH_EVENT req=0 tx=0 len=7 /v/a\0T\0
WATCH_EVENT req=0 tx=0 len=5 /v\0T\0
EOF
}

@test "WATCH: RM of a subtree fires each watched node, children first" {
	xs 'WRITE:/s/a/b\0v' 'WRITE:/s/a/c\0v' 'WRITE:/s/d\0v' \
		'WATCH:/s/a/b\0B\0' 'WATCH:/s/d\0D\0' 'WATCH:/s/a\0A\0' \
		'WATCH:/s/a/c/zz\0Z\0' 'WATCH:/s\0S\0' -w 1 \
		--conn 2 'RM:/s\0' --conn 1 -w 4
	expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
WRITE req=2 tx=0 len=3 OK\0
WRITE req=3 tx=0 len=3 OK\0
WATCH req=4 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=9 /s/a/b\0B\0
WATCH req=5 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=7 /s/d\0D\0
WATCH req=6 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=7 /s/a\0A\0
WATCH req=7 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=12 /s/a/c/zz\0Z\0
WATCH req=8 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=5 /s\0S\0
RM req=1 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=9 /s/a/b\0B\0
WATCH_EVENT req=0 tx=0 len=7 /s/a\0A\0
WATCH_EVENT req=0 tx=0 len=7 /s/d\0D\0
WATCH_EVENT req=0 tx=0 len=5 /s\0S\0
EOF
}

@test "WATCH: relative paths, special paths, root" {
	xs 'WATCH:rel\0R\0' 'WRITE:rel/x\0v' 'WATCH:@introduceDomain\0I\0' \
		'WATCH:@releaseDomain\0D\0' 'WATCH:/\0ROOT\0' 'WRITE:/q\0v'
	expect_output <<'EOF'
WATCH req=1 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=6 rel\0R\0
WATCH_EVENT req=0 tx=0 len=8 rel/x\0R\0
WRITE req=2 tx=0 len=3 OK\0
WATCH req=3 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=19 @introduceDomain\0I\0
WATCH req=4 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=17 @releaseDomain\0D\0
WATCH req=5 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=7 /\0ROOT\0
WATCH_EVENT req=0 tx=0 len=8 /q\0ROOT\0
WRITE req=6 tx=0 len=3 OK\0
EOF
}

@test "WATCH: malformed requests" {
	xs 'WATCH:/a\0' 'WATCH:/a\0t' 'WATCH:/a\0t\0x\0' 'WATCH:/a/\0t\0' \
		'WATCH://\0t\0' 'WATCH:/a b\0t\0' 'WATCH:\0t\0' 'UNWATCH:/a\0'
	expect_output <<'EOF'
ERROR req=1 tx=0 len=7 EINVAL\0
ERROR req=2 tx=0 len=7 EINVAL\0
ERROR req=3 tx=0 len=7 EINVAL\0
ERROR req=4 tx=0 len=7 EINVAL\0
ERROR req=5 tx=0 len=7 EINVAL\0
ERROR req=6 tx=0 len=7 EINVAL\0
ERROR req=7 tx=0 len=7 EINVAL\0
ERROR req=8 tx=0 len=7 EINVAL\0
EOF
}

@test "UNWATCH: known, unknown, then no more events" {
	xs 'WATCH:/u\0a\0' 'WATCH:/u\0b\0' 'UNWATCH:/u\0b\0' 'UNWATCH:/u\0b\0' \
		'UNWATCH:/zz\0a\0' 'WRITE:/u/x\0v' 'UNWATCH:/u\0a\0' 'WRITE:/u/y\0v'
	expect_output <<'EOF'
WATCH req=1 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=5 /u\0a\0
WATCH req=2 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=5 /u\0b\0
UNWATCH req=3 tx=0 len=3 OK\0
ERROR req=4 tx=0 len=7 ENOENT\0
ERROR req=5 tx=0 len=7 ENOENT\0
WATCH_EVENT req=0 tx=0 len=7 /u/x\0a\0
WRITE req=6 tx=0 len=3 OK\0
UNWATCH req=7 tx=0 len=3 OK\0
WRITE req=8 tx=0 len=3 OK\0
EOF
}

@test "RESET_WATCHES drops the connection's watches and transactions" {
	# Linux sends it at boot; libxenstore sends no payload, Linux "\0".
	xs 'WATCH:/a\0t\0' 'TRANSACTION_START:\0' 'RESET_WATCHES:\0' \
		'WRITE:/a\0v' 'UNWATCH:/a\0t\0' 'TRANSACTION_END,1:F\0' \
		'RESET_WATCHES:'
	expect_output <<'EOF'
WATCH req=1 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=5 /a\0t\0
TRANSACTION_START req=2 tx=0 len=2 1\0
RESET_WATCHES req=3 tx=0 len=3 OK\0
WRITE req=4 tx=0 len=3 OK\0
ERROR req=5 tx=0 len=7 ENOENT\0
ERROR req=6 tx=1 len=7 ENOENT\0
RESET_WATCHES req=7 tx=0 len=3 OK\0
EOF
}

@test "GET_DOMAIN_PATH and IS_DOMAIN_INTRODUCED" {
	xs 'GET_DOMAIN_PATH:0\0' 'GET_DOMAIN_PATH:7\0' 'GET_DOMAIN_PATH:7' \
		'IS_DOMAIN_INTRODUCED:0\0' 'IS_DOMAIN_INTRODUCED:7\0'
	expect_output <<'EOF'
GET_DOMAIN_PATH req=1 tx=0 len=16 /local/domain/0\0
GET_DOMAIN_PATH req=2 tx=0 len=16 /local/domain/7\0
ERROR req=3 tx=0 len=7 EINVAL\0
IS_DOMAIN_INTRODUCED req=4 tx=0 len=2 T\0
IS_DOMAIN_INTRODUCED req=5 tx=0 len=2 F\0
EOF
}

@test "unknown and server-only types get ENOSYS, connection stays" {
	xs '99:\0' '20:\0' '15:/a\0t\0' '16:EINVAL\0' '99:' '65535:' \
		'READ:/tool/xenstored\0'
	expect_output <<'EOF'
ERROR req=1 tx=0 len=7 ENOSYS\0
ERROR req=2 tx=0 len=7 ENOSYS\0
ERROR req=3 tx=0 len=7 ENOSYS\0
ERROR req=4 tx=0 len=7 ENOSYS\0
ERROR req=5 tx=0 len=7 ENOSYS\0
ERROR req=6 tx=0 len=7 ENOSYS\0
READ req=7 tx=0 len=0
EOF
}

@test "path errors: //, trailing /, bad characters, empty, @ in data ops" {
	xs 'READ://\0' 'READ://tool\0' 'READ:/tool/\0' 'READ:/to ol\0' \
		'READ:/to*ol\0' 'READ:/local/domain/\0' 'WRITE:/local/domain/\0v' \
		'WRITE:/a//b\0v' 'WRITE:/a/\0v' 'WRITE:/a b\0v' 'MKDIR:/a/\0' \
		'RM:/a/\0' 'READ:\0' 'WRITE:\0v' 'READ:@foo\0' 'WRITE:@foo\0v' \
		'DIRECTORY:/tool/\0' 'DIRECTORY:/\0'
	expect_output <<'EOF'
ERROR req=1 tx=0 len=7 EINVAL\0
ERROR req=2 tx=0 len=7 EINVAL\0
ERROR req=3 tx=0 len=7 EINVAL\0
ERROR req=4 tx=0 len=7 EINVAL\0
ERROR req=5 tx=0 len=7 EINVAL\0
ERROR req=6 tx=0 len=7 EINVAL\0
ERROR req=7 tx=0 len=7 EINVAL\0
ERROR req=8 tx=0 len=7 EINVAL\0
ERROR req=9 tx=0 len=7 EINVAL\0
ERROR req=10 tx=0 len=7 EINVAL\0
ERROR req=11 tx=0 len=7 EINVAL\0
ERROR req=12 tx=0 len=7 EINVAL\0
ERROR req=13 tx=0 len=7 EINVAL\0
ERROR req=14 tx=0 len=7 EINVAL\0
ERROR req=15 tx=0 len=7 EINVAL\0
ERROR req=16 tx=0 len=7 EINVAL\0
ERROR req=17 tx=0 len=7 EINVAL\0
DIRECTORY req=18 tx=0 len=5 tool\0
EOF
}

@test "req_id and tx_id are echoed verbatim" {
	xs 'READ,0,4294967295:/tool/xenstored\0' 'READ,0,0:/tool/xenstored\0' \
		'READ,0,12345:/nope\0'
	expect_output <<'EOF'
READ req=4294967295 tx=0 len=0
READ req=0 tx=0 len=0
ERROR req=12345 tx=0 len=7 ENOENT\0
EOF
}
