#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# xensim.bats - the Xen stand-in itself (tests/xensim): xensim.so driven
# through the real libxen API by xensim-selftest, against domains made by
# xensim-ctl and guests played by fakeguest.  No daemon is involved.

load helpers
load xensim

CTL=$LIXS_BUILD/tools/xensim-ctl
FG=$LIXS_BUILD/tools/fakeguest

setup() {
	[ -x "$CTL" ] && [ -x "$FG" ] && [ -r "$LIXS_BUILD/xensim.so" ] || {
		echo "xensim not built in $LIXS_BUILD (make all)" >&2
		return 1
	}
	make_test_dir
	export XENSIM_DIR=$T/xen
	BG_PIDS=()
}

teardown() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	common_teardown
}

# xensim-selftest under the stand-in (ASan: xensim.so precedes libasan).
sim() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		LD_PRELOAD=$LIXS_BUILD/xensim.so timeout "$LIXS_WAIT" \
		"$LIXS_BUILD/tools/xensim-selftest" "$@"
}

# Start xensim-selftest ARGS in the background (its own waits are
# bounded), output in $T/bg.N; waits for its first line ("ready", "bound",
# "mapped").  BG_PIDS holds the selftest's own pid.
sim_bg() {
	local out=$T/bg.${#BG_PIDS[@]}
	(
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
		export LD_PRELOAD=$LIXS_BUILD/xensim.so
		exec "$LIXS_BUILD/tools/xensim-selftest" "$@" >"$out" 2>&1
	) &
	BG_PIDS+=($!)
	BG_OUT=$out
	wait_until test -s "$out"
}

@test "xensim: create, list, domid reuse gives a new generation and port" {
	run "$CTL" create 5
	[ "$status" -eq 0 ]
	read -r d gfn1 port1 <<<"$output"
	[ "$d" = 5 ] && [ "$port1" -gt 1 ]
	expect_status 1 "$CTL" create 5
	run "$CTL" show 5
	[ "$status" -eq 0 ]
	[[ $output == "5 gen="*" state=running "*" maps=0 peer=0" ]]
	gen1=$(sed 's/.*gen=\([0-9]*\).*/\1/' <<<"$output")
	expect_status 0 "$CTL" destroy 5
	expect_status 1 "$CTL" show 5
	run "$CTL" create 5
	[ "$status" -eq 0 ]
	read -r d gfn2 port2 <<<"$output"
	[ "$gfn2" != "$gfn1" ] && [ "$port2" != "$port1" ]
	run "$CTL" show 5
	gen2=$(sed 's/.*gen=\([0-9]*\).*/\1/' <<<"$output")
	[ "$gen2" -gt "$gen1" ]
	expect_status 1 "$CTL" create 0
	expect_status 2 "$CTL" frobnicate 5
}

@test "xensim: grant and foreign maps fail as Xen's do" {
	read -r _ gfn _ < <("$CTL" create 5)
	read -r _ gfn7 _ < <("$CTL" create 7 --no-grant)
	run sim map 5
	[ "$status" -eq 0 ] && [ "$output" = mapped ]
	run sim map 7
	[ "$status" -eq 1 ] && [ "$output" = "xengnttab_map_grant_ref: EINVAL" ]
	run sim map 9
	[ "$status" -eq 1 ] && [ "$output" = "xengnttab_map_grant_ref: EINVAL" ]
	run sim fmap 7 "$gfn7"
	[ "$status" -eq 0 ] && [ "$output" = mapped ]
	run sim fmap 7 "$gfn"
	[ "$status" -eq 1 ] && [ "$output" = "xenforeignmemory_map: EINVAL" ]
	run sim fmap 9 "$gfn"
	[ "$status" -eq 1 ] && [ "$output" = "xenforeignmemory_map: ESRCH" ]
	# Every map was undone.
	run "$CTL" maps 5
	[ "$output" = 0 ]
}

@test "xensim: bind_interdomain only to the guest's unbound port" {
	read -r _ _ port < <("$CTL" create 5)
	run sim bind 5 "$port"
	[ "$status" -eq 0 ] && [[ $output == "bound "* ]]
	run sim bind 5 1
	[ "$status" -eq 1 ] && [ "$output" = "xenevtchn_bind_interdomain: EINVAL" ]
	run sim bind 9 "$port"
	[ "$status" -eq 1 ] && [ "$output" = "xenevtchn_bind_interdomain: ESRCH" ]
	# Bound by someone else: not unbound any more.
	sim_bg echo 5 "$port" 1
	grep -qx ready "$BG_OUT"
	run sim bind 5 "$port"
	[ "$status" -eq 1 ] && [ "$output" = "xenevtchn_bind_interdomain: EINVAL" ]
	run "$CTL" show 5
	[[ $output != *" peer=0" ]]
}

@test "xensim: events flow both ways over a guest ring" {
	read -r _ _ port < <("$CTL" create 5)
	sim_bg echo 5 "$port" 4
	run timeout "$LIXS_WAIT" "$FG" -d 5 'READ:abc\0' 'WRITE:data/x\0hello' \
		'DIRECTORY:data\0' --status
	[ "$status" -eq 0 ]
	expect_output <<'EOF'
READ req=1 tx=0 len=4 abc\0
WRITE req=2 tx=0 len=12 data/x\0hello
DIRECTORY req=3 tx=0 len=5 data\0
RING req_cons=69 req_prod=69 rsp_cons=69 rsp_prod=69 features=0 connection=0 error=0
EOF
	# A second run continues on the same ring (indexes persist).
	run timeout "$LIXS_WAIT" "$FG" -d 5 'READ:more\0'
	[ "$status" -eq 0 ] && [ "$output" = 'READ req=1 tx=0 len=5 more\0' ]
	wait "${BG_PIDS[0]}"
	grep -qx 'served 4' "$BG_OUT"
}

@test "xensim: indexes wrap around the ring" {
	read -r _ _ port < <("$CTL" create 5)
	sim_bg echo 5 "$port" 40
	# 40 x 61-byte requests: the indexes pass 1024 twice each way.
	steps=()
	for i in $(seq 1 40); do
		steps+=("WRITE:data/$(printf '%02d' "$i")\\0$(printf 'v%.0s' $(seq 1 37))")
	done
	run timeout "$LIXS_WAIT" "$FG" -d 5 "${steps[@]}" --status
	[ "$status" -eq 0 ]
	[ "$(grep -c '^WRITE req=' <<<"$output")" -eq 40 ]
	[[ $output == *"RING req_cons=2440 req_prod=2440 rsp_cons=2440 rsp_prod=2440 "* ]]
}

@test "xensim: VIRQ_DOM_EXC fires on shutdown, getinfo shows why" {
	"$CTL" create 5 >/dev/null
	sim_bg virq 5
	grep -qx bound "$BG_OUT"
	# Only one binding of a VIRQ per domain.
	run sim virq 1
	[ "$status" -eq 1 ] && [ "$output" = "xenevtchn_bind_virq: EEXIST" ]
	expect_status 0 "$CTL" crash 5
	wait "${BG_PIDS[0]}"
	grep -qx VIRQ_DOM_EXC "$BG_OUT"
	run sim getinfo 5
	[ "$output" = "5 dying=0 shutdown=1 crashed=1 reason=3" ]
	# A shut-down guest does not run any more.
	expect_status 1 "$FG" -d 5 'READ:x\0'
	[[ $output == *"cannot attach"* ]]
	run sim info 5
	[ "$output" = "5 0x30004" ]
	run sim info
	[ "${lines[0]}" = "0 0x30" ] && [ "${#lines[@]}" -eq 2 ]
}

@test "xensim: a destroyed domain stays dying while dom0 maps its ring" {
	read -r _ _ port < <("$CTL" create 5)
	sim_bg map 5 1500
	grep -qx mapped "$BG_OUT"
	run "$CTL" maps 5
	[ "$output" = 1 ]
	expect_status 0 "$CTL" destroy 5
	run sim getinfo 5
	[ "$output" = "5 dying=1 shutdown=0 crashed=0 reason=0" ]
	expect_status 0 "$CTL" wait-gone 5 5
	run sim getinfo 5
	[ "$output" = absent ]
}

@test "xensim: a dom0 process that dies releases its maps and ports" {
	read -r _ _ port < <("$CTL" create 5)
	sim_bg echo 5 "$port" 1
	grep -qx ready "$BG_OUT"
	kill -KILL "${BG_PIDS[0]}"
	wait "${BG_PIDS[0]}" 2>/dev/null || true
	# As the kernel would on exit: the guest's port is unbound again.
	run sim bind 5 "$port"
	[ "$status" -eq 0 ]
	run "$CTL" maps 5
	[ "$output" = 0 ]
	expect_status 0 "$CTL" destroy 5
	expect_status 0 "$CTL" wait-gone 5 1
}

@test "xensim: a handle inherited across fork outlives its opener" {
	"$CTL" create 5 >/dev/null
	# The parent exits at once (as a daemonizing broker's does); the
	# child keeps the VIRQ binding, which a reap must not close.
	sim virq 5 --fork >"$T/virq.out"
	[ "$(cat "$T/virq.out")" = bound ]
	expect_status 0 "$CTL" list
	run sim virq 1
	[ "$output" = "xenevtchn_bind_virq: EEXIST" ]
	expect_status 0 "$CTL" shutdown 5
	wait_until grep -qx VIRQ_DOM_EXC "$T/virq.out"
}

@test "xensim: dom0's kernel ring through /proc/xen/xsd_kva and xsd_port" {
	run "$CTL" dom0-ring-init
	[ "$status" -eq 0 ] && [ "$output" -gt 0 ]
	sim_bg dom0ring 1
	run timeout "$LIXS_WAIT" "$FG" --dom0-ring 'READ:x\0'
	[ "$status" -eq 0 ] && [ "$output" = 'READ req=1 tx=0 len=2 x\0' ]
	wait "${BG_PIDS[0]}"
	grep -qx 'served 1' "$BG_OUT"
}

@test "xensim: fakeguest sees the server mark its ring broken" {
	read -r _ _ port < <("$CTL" create 5)
	sim_bg echo 5 "$port" 1
	run timeout "$LIXS_WAIT" "$FG" -d 5 --bad-index --sleep 300 --status
	[ "$status" -eq 6 ]
	[[ ${lines[0]} == "RING req_cons=0 req_prod=2000 "*" error=2" ]]
	[ "${lines[1]}" = "RING-ERROR 2" ]
}

@test "xensim: fakeguest script mode, bounded waits, usage errors" {
	read -r _ _ port < <("$CTL" create 5)
	sim_bg echo 5 "$port" 3
	printf '%s\n' '# a comment' 'WRITE:a\0b' '--sleep 10' 'READ:with space\0' \
		'--recv 0' 'READ:z\0' >"$T/script"
	run timeout "$LIXS_WAIT" "$FG" -d 5 --script "$T/script"
	[ "$status" -eq 0 ]
	expect_output <<'EOF'
WRITE req=1 tx=0 len=3 a\0b
READ req=2 tx=0 len=11 with space\0
READ req=3 tx=0 len=2 z\0
EOF
	# Nobody answers now: a bounded wait, exit 3.
	run timeout "$LIXS_WAIT" "$FG" -d 5 -t 0.3 'READ:z\0'
	[ "$status" -eq 3 ]
	expect_status 1 "$FG" -d 9 'READ:z\0'
	expect_status 2 "$FG" -d 5 --frob
}

@test "xensim: lixs-broker serves a fake guest through the stand-in" {
	broker_has_xen || skip_because "lixs-broker has no Xen channels"
	xensim_init
	start_daemon_xensim
	xensim_guest 5
	fg 5 'WRITE:data\0v' 'READ:data\0' 'GET_DOMAIN_PATH:5\0'
	[ "$status" -eq 0 ]
	expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
READ req=2 tx=0 len=1 v
GET_DOMAIN_PATH req=3 tx=0 len=16 /local/domain/5\0
EOF
	# dom0's kernel ring is served too.
	run timeout "$LIXS_WAIT" "$FAKEGUEST" --dom0-ring 'READ:/local/domain/5/data\0'
	[ "$status" -eq 0 ] && [ "$output" = 'READ req=1 tx=0 len=1 v' ]
	run "$XENSIM_CTL" show 5
	[[ $output == *" maps=1 peer="[1-9]* ]]
	expect_status 0 "$XENSIM_CTL" destroy 5
	xensim_gone 5
}

@test "xensim: fakeguest watches, transactions and --await against lixs" {
	broker_has_xen || skip_because "lixs-broker has no Xen channels"
	xensim_init
	start_daemon_xensim
	xensim_guest 6
	# The backend (dom0) answers later; the frontend waits for it.
	( sleep 0.3; "$XSRAW" -t 5 'WRITE:/local/domain/6/backend\0ready' >/dev/null ) &
	BG_PIDS+=($!)
	# The commit's watch event comes before its reply, as upstream's.
	fg 6 'WATCH:state\0tok\0' -w 1 'TRANSACTION_START:\0' 'WRITE,t:state\0' \
		'TRANSACTION_END,t:T\0' --await /local/domain/6/backend ready
	[ "$status" -eq 0 ]
	expect_output <<'EOF'
WATCH req=1 tx=0 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=10 state\0tok\0
TRANSACTION_START req=2 tx=0 len=2 1\0
WRITE req=3 tx=1 len=3 OK\0
WATCH_EVENT req=0 tx=0 len=10 state\0tok\0
TRANSACTION_END req=4 tx=1 len=3 OK\0
AWAIT /local/domain/6/backend ready
EOF
}
