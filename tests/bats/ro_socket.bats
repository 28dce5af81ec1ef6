#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# ro_socket.bats - the read-only socket: reading and watching work, every
# modifying request is refused with EACCES and changes nothing.
#
# cxenstored 4.17 has no read-only socket any more, so these tests run
# against lixs only.

load helpers

setup() {
	require_lixs "no read-only socket upstream since 4.16"
	common_setup
	xs 'WRITE:/ro/a\0va' 'WRITE:/ro/b/c\0vc' 'SET_PERMS:/ro/a\0n0\0r3\0'
}

# xsraw on the read-only socket
xs_ro() {
	XS_SOCK=$LIXS_RO_SOCK xs "$@"
}

# The state written in setup, seen through the read-write socket.
check_unchanged() {
	xs 'DIRECTORY:/ro\0' 'READ:/ro/a\0' 'GET_PERMS:/ro/a\0' 'READ:/ro/b/c\0' \
		'DIRECTORY:/ro/b\0' 'GET_PERMS:/ro/b\0' 'DIRECTORY:/\0'
	expect_output <<'EOF'
DIRECTORY req=1 tx=0 len=4 a\0b\0
READ req=2 tx=0 len=2 va
GET_PERMS req=3 tx=0 len=6 n0\0r3\0
READ req=4 tx=0 len=2 vc
DIRECTORY req=5 tx=0 len=2 c\0
GET_PERMS req=6 tx=0 len=3 n0\0
DIRECTORY req=7 tx=0 len=8 tool\0ro\0
EOF
}

@test "read-only socket exists next to the read-write one" {
	[ -S "$LIXS_RO_SOCK" ]
	[ -S "$XENSTORED_PATH" ]
}

@test "READ, DIRECTORY, GET_PERMS work on the read-only socket" {
	xs_ro 'READ:/ro/a\0' 'DIRECTORY:/ro\0' 'GET_PERMS:/ro/a\0' \
		'READ:/ro/nope\0' 'GET_DOMAIN_PATH:0\0'
	expect_output <<'EOF'
READ req=1 tx=0 len=2 va
DIRECTORY req=2 tx=0 len=4 a\0b\0
GET_PERMS req=3 tx=0 len=6 n0\0r3\0
ERROR req=4 tx=0 len=7 ENOENT\0
GET_DOMAIN_PATH req=5 tx=0 len=16 /local/domain/0\0
EOF
}

@test "WATCH on the read-only socket sees writes made on the read-write one" {
	# a background reader holds the watch while the writes happen
	(
		exec 3>&-
		"$XSRAW" -S "$LIXS_RO_SOCK" -t 5 'WATCH:/ro\0R\0' -w 2 \
			>"$T/watch.out" 2>&1
		echo "rc=$?" >>"$T/watch.out"
	) &
	local watcher=$!
	wait_until grep -q WATCH_EVENT "$T/watch.out"
	xs 'WRITE:/ro/b/new\0x'
	wait "$watcher"
	run cat "$T/watch.out"
	expect_output <<'EOF'
WATCH req=1 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=6 /ro\0R\0
WATCH_EVENT req=0 tx=0 len=12 /ro/b/new\0R\0
rc=0
EOF
	xs_ro 'UNWATCH:/ro\0R\0'
	expect_output <<'EOF'
ERROR req=1 tx=0 len=7 ENOENT\0
EOF
}

@test "WRITE, MKDIR, RM, SET_PERMS on the read-only socket: EACCES" {
	xs_ro 'WRITE:/ro/a\0changed' 'WRITE:/ro/new\0x' 'MKDIR:/ro/dir\0' \
		'RM:/ro/b\0' 'RM:/ro/a\0' 'SET_PERMS:/ro/a\0n0\0' \
		'SET_PERMS:/ro/b\0b7\0' 'READ:/ro/a\0'
	expect_output <<'EOF'
ERROR req=1 tx=0 len=7 EACCES\0
ERROR req=2 tx=0 len=7 EACCES\0
ERROR req=3 tx=0 len=7 EACCES\0
ERROR req=4 tx=0 len=7 EACCES\0
ERROR req=5 tx=0 len=7 EACCES\0
ERROR req=6 tx=0 len=7 EACCES\0
ERROR req=7 tx=0 len=7 EACCES\0
READ req=8 tx=0 len=2 va
EOF
	check_unchanged
}

@test "upstream clients on the read-only socket: read works, write fails" {
	XENSTORED_PATH=$LIXS_RO_SOCK expect_status 0 xenstore-read /ro/b/c
	[ "$output" = vc ]
	XENSTORED_PATH=$LIXS_RO_SOCK expect_status 0 xenstore-ls /ro
	expect_output <<'EOF'
a = "va"
b = ""
 c = "vc"
EOF
	XENSTORED_PATH=$LIXS_RO_SOCK expect_status 1 xenstore-write /ro/a x
	XENSTORED_PATH=$LIXS_RO_SOCK expect_status 1 xenstore-rm /ro/b
	XENSTORED_PATH=$LIXS_RO_SOCK expect_status 1 xenstore-chmod /ro/a n0
	check_unchanged
}
