#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# clients.bats - the upstream command line clients (xenstore-utils) against
# the daemon: what ../shared/peers/verify.sh checks, and their exact output.

load helpers

@test "xenstore-write then xenstore-read, several keys" {
	expect_status 0 xenstore-write /v/a hello /v/b/c world
	expect_status 0 xenstore-read /v/a /v/b/c
	expect_output <<'EOF'
hello
world
EOF
	expect_status 0 xenstore-read -p /v/a
	[ "$output" = "/v/a: hello" ]
	expect_status 0 xenstore-read /v/b
	[ "$output" = "" ]
}

@test "xenstore-read of a missing node fails" {
	expect_status 1 xenstore-read /nope
	[[ $output == *"couldn't read path /nope"* ]]
}

@test "xenstore-write of an empty value and of binary via -R" {
	expect_status 0 xenstore-write /e ''
	expect_status 0 xenstore-read /e
	[ "$output" = "" ]
	# xenstore-write -R does not unescape; the default does.
	expect_status 0 xenstore-write /bin 'a\x01b'
	xs 'READ:/bin\0'
	[ "$output" = 'READ req=1 tx=0 len=3 a\x01b' ]
	expect_status 0 xenstore-read /bin
	[ "$output" = 'a\001b' ]
	expect_status 0 xenstore-write -R /raw 'a\x01b'
	xs 'READ:/raw\0'
	[ "$output" = 'READ req=1 tx=0 len=6 a\\x01b' ]
}

@test "xenstore-ls: tree, -f full paths, missing path" {
	expect_status 0 xenstore-write /v/a hello /v/b/c world
	expect_status 0 xenstore-ls /v
	expect_output <<'EOF'
a = "hello"
b = ""
 c = "world"
EOF
	expect_status 0 xenstore-ls
	expect_output <<'EOF'
tool = ""
 xenstored = ""
v = ""
 a = "hello"
 b = ""
  c = "world"
EOF
	expect_status 0 xenstore-ls -f /v
	expect_output <<'EOF'
/v/a = "hello"
/v/b = ""
/v/b/c = "world"
EOF
	expect_status 1 xenstore-ls /nope
	[[ $output == *"xs_directory (/nope): No such file or directory"* ]]
}

@test "xenstore-ls escapes values" {
	xs 'WRITE:/bin\0a\0b\x01\n\\"c'
	expect_status 0 xenstore-ls /
	expect_output <<'EOF'
tool = ""
 xenstored = ""
bin = "a\000b\001\n\\"c"
EOF
}

@test "xenstore-chmod and xenstore-ls -p" {
	expect_status 0 xenstore-write /v/a hello /v/b/c world
	expect_status 0 xenstore-chmod /v/a n0 r5
	expect_status 0 xenstore-ls -p /v
	expect_output <<'EOF'
a = "hello"  . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r5)
b = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
 c = "world" . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
EOF
	expect_status 0 xenstore-chmod -r /v n0 b3
	expect_status 0 xenstore-ls -p /v
	expect_output <<'EOF'
a = "hello"  . . . . . . . . . . . . . . . . . . . . . . . .  (n0,b3)
b = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,b3)
 c = "world" . . . . . . . . . . . . . . . . . . . . . . . .  (n0,b3)
EOF
	expect_status 1 xenstore-chmod /nope n0
	expect_status 1 xenstore-chmod /v/a x0
}

@test "xenstore-list: insertion order, -p, missing path" {
	expect_status 0 xenstore-write /l/c 1 /l/a 2 /l/b 3
	expect_status 0 xenstore-list /l
	expect_output <<'EOF'
c
a
b
EOF
	expect_status 0 xenstore-list -p /l
	expect_output <<'EOF'
/l/c
/l/a
/l/b
EOF
	expect_status 1 xenstore-list /nope
}

@test "xenstore-exists" {
	expect_status 0 xenstore-write /v/b/c world
	expect_status 0 xenstore-exists /v/b/c
	expect_status 0 xenstore-exists /v/b
	expect_status 1 xenstore-exists /v/zz
	expect_status 1 xenstore-exists /zz/zz
}

@test "xenstore-rm: subtree, missing node, missing parent, -t" {
	expect_status 0 xenstore-write /v/a hello /v/b/c world
	expect_status 0 xenstore-rm /v/b
	expect_status 1 xenstore-exists /v/b/c
	expect_status 1 xenstore-exists /v/b
	expect_status 0 xenstore-rm /v/zz
	expect_status 1 xenstore-rm /zz/zz
	# -t also removes parents left empty
	expect_status 0 xenstore-rm -t /v/a
	expect_status 1 xenstore-exists /v
	expect_status 0 xenstore-ls /
	expect_output <<'EOF'
tool = ""
 xenstored = ""
EOF
}

@test "xenstore-watch sees registration and writes below" {
	(
		exec 3>&-
		timeout 5 xenstore-watch -n 3 /v/w >"$T/watch.out" 2>&1
		echo "rc=$?" >>"$T/watch.out"
	) &
	local watcher=$!
	# the watch is in place once its registration event was printed
	wait_until grep -qx /v/w "$T/watch.out"
	expect_status 0 xenstore-write /v/w/x 1
	expect_status 0 xenstore-write /v/w/y 2
	wait "$watcher"
	run cat "$T/watch.out"
	expect_output <<'EOF'
/v/w
/v/w/x
/v/w/y
rc=0
EOF
}
