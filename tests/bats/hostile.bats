#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# hostile.bats - malformed and abusive clients.  Each gets what cxenstored
# 4.17 gives it (an error reply, or the end of that one connection), and
# afterwards another client still reads back everything written before.
#
# What cxenstored 4.17 does, checked with ../shared/peers/run-peer.sh and
# tests/tools/xsraw: a header with len > 4096 ends the connection without a
# reply (whatever follows); a partial message just waits for the rest; an
# unknown type gets ERROR ENOSYS; a client that never reads is served into
# its buffer and stalls only itself.

load helpers

# The nodes written before each test and read back after it: name, value.
NODES=(/h/n0 zero /h/n1 one /h/sub/n2 two /h/empty '' /h/bin 'a\0b\xff')

setup() {
	common_setup
	local steps=() i
	for ((i = 0; i < ${#NODES[@]}; i += 2)); do
		steps+=("WRITE:${NODES[i]}\\0${NODES[i + 1]}")
	done
	xs "${steps[@]}"
}

# A fresh connection reads back every node of NODES, and the daemon that
# started the test is still the one serving.
check_nodes() {
	local steps=() want="" i n=1 v
	for ((i = 0; i < ${#NODES[@]}; i += 2)); do
		steps+=("READ:${NODES[i]}\\0")
		v=${NODES[i + 1]}
		# xsraw prints 0xff as \xff and NUL as \0, as written above
		want+="READ req=$n tx=0 len=$(printf "${v//\\0/\\x00}" | wc -c)${v:+ $v}"$'\n'
		n=$((n + 1))
	done
	xs "${steps[@]}"
	[ "$output" = "${want%$'\n'}" ] || {
		echo "read back:"
		echo "$output"
		echo "expected:"
		echo "$want"
		return 1
	}
	proc_alive "$DAEMON_PID"
}

@test "header with len 4097 ends that connection, nothing else" {
	xs --hdr 2,1,0,4097 --expect-close
	[ "$output" = EOF ]
	# Header and body in one write: the daemon may close as soon as it has
	# seen the header, and a second write would then race that close.
	xs --raw '\x0b\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x10\x00\x00/h/n0\0overwritten' \
		--expect-close
	[ "$output" = EOF ]
	check_nodes
}

@test "header with len 0xffffffff ends that connection" {
	xs --hdr 2,1,0,0xffffffff --expect-close
	[ "$output" = EOF ]
	xs --hdr 0xffffffff,0xffffffff,0xffffffff,0xffffffff --expect-close
	[ "$output" = EOF ]
	check_nodes
}

@test "payload of exactly 4096 bytes is accepted" {
	local value
	value=$(head -c 4091 /dev/zero | tr '\0' x)
	xs --hdr 11,1,0,4096 --raw "/big\\0$value" --recv 1 'READ:/big\0'
	[ "${lines[0]}" = 'WRITE req=1 tx=0 len=3 OK\0' ]
	[ "${lines[1]}" = "READ req=1 tx=0 len=4091 $value" ]
	check_nodes
}

@test "truncated header, then close" {
	xs --hex 0200000001000000 --close
	[ "$output" = "" ]
	xs --hex 02 --close
	check_nodes
}

@test "truncated header gets no reply and no close" {
	run "$XSRAW" -S "$XENSTORED_PATH" -t 1 --hex 020000000100 --expect-close
	[ "$status" -eq 3 ]
	[ "$output" = "xsraw: timed out" ]
	check_nodes
}

@test "header sent byte by byte, then the body in two halves" {
	xs --hex 02 --sleep 50 --hex 00 --sleep 50 --hex 0000 --sleep 50 \
		--hex 0700000000000000 --sleep 50 --hex 06000000 --sleep 50 \
		--raw '/h/' --sleep 50 --raw 'n1\0' --recv 1 'READ:/h/n0\0'
	expect_output <<'EOF'
READ req=7 tx=0 len=3 one
READ req=1 tx=0 len=4 zero
EOF
	check_nodes
}

@test "unknown types get ENOSYS and the connection goes on" {
	xs '99:\0' '20:\0' '15:/h/n0\0t\0' '16:EINVAL\0' '65535:' \
		--hdr 0xffffffff,9,0,0 --recv 1 'READ:/h/n1\0'
	expect_output <<'EOF'
ERROR req=1 tx=0 len=7 ENOSYS\0
ERROR req=2 tx=0 len=7 ENOSYS\0
ERROR req=3 tx=0 len=7 ENOSYS\0
ERROR req=4 tx=0 len=7 ENOSYS\0
ERROR req=5 tx=0 len=7 ENOSYS\0
ERROR req=9 tx=0 len=7 ENOSYS\0
READ req=6 tx=0 len=3 one
EOF
	check_nodes
}

@test "path without NUL gets an error and the connection goes on" {
	xs 'READ:/h/n0' 'RM:/h/n0' 'MKDIR:/h/n9' 'READ:/h/n1\0'
	[ "${#lines[@]}" -eq 4 ]
	local i err
	for i in 1 2 3; do
		# cxenstored 4.17 reports whatever errno was left over (ENOENT,
		# ENOMEM, ...); later cxenstored and lixs say EINVAL.
		err=$(for_daemon EINVAL cxenstored 'E[A-Z]+')
		[[ ${lines[i - 1]} =~ ^ERROR\ req=$i\ tx=0\ len=[0-9]+\ $err\\0$ ]] || {
			echo "line $i: ${lines[i - 1]}"
			return 1
		}
	done
	[ "${lines[3]}" = 'READ req=4 tx=0 len=3 one' ]
	check_nodes
}

@test "client closes mid-request: header sent, half the body, close" {
	xs --hdr 11,1,0,20 --raw '/h/n0\0half' --close
	[ "$output" = "" ]
	xs --hdr 13,1,0,6 --raw '/h/' --close
	check_nodes
}

@test "pipelined requests are all answered, in order" {
	xs --flood 50 'READ:/h/n1\0' --recv 50
	[ "${#lines[@]}" -eq 50 ]
	[ "${lines[0]}" = 'READ req=1 tx=0 len=3 one' ]
	[ "${lines[49]}" = 'READ req=50 tx=0 len=3 one' ]
	check_nodes
}

@test "many connections vanish mid-header" {
	local i
	for ((i = 0; i < 50; i++)); do
		"$XSRAW" -S "$XENSTORED_PATH" --hex 0b000000 --close
	done
	check_nodes
}

@test "a client that writes and never reads stalls only itself" {
	# The flooder sends requests without reading replies until the
	# daemon stops reading it (or it sent them all), then holds on.
	(
		exec 3>&-
		"$XSRAW" -S "$XENSTORED_PATH" -t 20 \
			--flood 100000 'WRITE:/h/flood\0xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' \
			--sleep 3000 >"$T/flood.out" 2>&1
		echo "rc=$?" >>"$T/flood.out"
	) &
	local flooder=$!
	sleep 1
	# served while the flooder holds its connection
	check_nodes
	xs 'WRITE:/h/other\0fine' 'READ:/h/other\0'
	wait "$flooder"
	# it sent everything or was stalled (0), or the daemon dropped it (4)
	grep -Eq '^rc=(0|4)$' "$T/flood.out" || {
		cat "$T/flood.out"
		return 1
	}
	check_nodes
}
