#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# differential.bats - lixs and cxenstored 4.17 side by side under the same
# seeded random requests (tests/tools/xsdiff.c): every reply, every watch
# event and the final tree must be the same, bar the differences
# docs/COMPATIBILITY.md lists.
#
#   LIXS_DIFF_SEEDS   seeds per case (default 40; `make difftest`: 1000)
#   LIXS_DIFF_FIRST   the first seed (default 1)
#
# A failure prints the seed and every step up to the difference; run
#   build/tools/xsdiff -L LIXS_SOCKET -R CXENSTORED_SOCKET -s SEED -n STEPS -v
# on any pair of daemons to see it again (each run starts by resetting
# both trees, so a seed's run depends on the seed alone).

load helpers
load xensim

XSDIFF=$LIXS_BUILD/tools/xsdiff
RUN_PEER=$LIXS_SHARED/peers/run-peer.sh
RUN_CX_XENSIM=$LIXS_REPO/tests/xensim/run-cxenstored.sh

setup() {
	require_lixs "this file compares lixs with cxenstored itself"
	[ -x "$RUN_PEER" ] ||
		skip_because "no $RUN_PEER: cxenstored cannot be started here"
	make_test_dir
	REF_SOCK=$T/ref
	REF_STOP=
	XSDIFF_GUESTS=()
}

teardown() {
	if [ -n "$REF_STOP" ]; then
		"$REF_STOP" stop "$REF_SOCK" >/dev/null 2>&1 || true
		if grep -q 'Assertion' "$REF_SOCK.d/daemon.log" 2>/dev/null; then
			echo "cxenstored aborted:"
			grep 'Assertion' "$REF_SOCK.d/daemon.log"
		fi
	fi
	common_teardown
}

# Start the reference with script $1 (run-peer.sh needs "cxenstored" first).
# REF_STOP is set first: teardown stops whatever did start.
start_reference() {
	local out
	REF_STOP=$1
	# fd 3 is bats' own: a daemon holding it would stall bats.
	out=$("$@" "$REF_SOCK" 2>&1 3>&-) || {
		echo "$out" >&2
		return 1
	}
}

# Both daemons on a plain host: every client a privileged unix one.
start_pair_unix() {
	start_daemon
	start_reference "$RUN_PEER" cxenstored
}

# Both on simulated Xen hosts of their own (lixs: $T/xen, the reference:
# $REF_SOCK.d/xen), domains $@ created on each and INTRODUCEd by each.
start_pair_guests() {
	local dom out gfn port
	broker_has_xen || skip_because "lixs-broker built without Xen channels"
	[ -x "$XEN_BIN/xenstored" ] || skip_because "no $XEN_BIN/xenstored (xen-utils-4.17)"
	xensim_start
	start_reference "$RUN_CX_XENSIM"
	for dom in "$@"; do
		xensim_guest "$dom"
		out=$(XENSIM_DIR=$REF_SOCK.d/xen "$XENSIM_CTL" create "$dom") || return 1
		read -r _ gfn port <<<"$out"
		"$XSRAW" -S "$REF_SOCK" -t 5 "INTRODUCE:$dom\0$gfn\0$port\0" | grep -q OK
		XSDIFF_GUESTS+=(-g "$dom")
	done
	XSDIFF_GUESTS+=(-l "$XENSIM_DIR" -r "$REF_SOCK.d/xen")
}

# Seeds $1.. (LIXS_DIFF_SEEDS of them), STEPS $2 and CONNS $3 each.
diff_seeds() {
	local first=$(( ${LIXS_DIFF_FIRST:-1} + $1 )) n=${LIXS_DIFF_SEEDS:-40} s
	for ((s = first; s < first + n; s++)); do
		run "$XSDIFF" -L "$XENSTORED_PATH" -R "$REF_SOCK" -s "$s" -n "$2" -c "$3" \
			"${XSDIFF_GUESTS[@]}"
		if [ "$status" -ne 0 ]; then
			echo "xsdiff -s $s -n $2 -c $3 exited $status:"
			echo "$output" | tail -n 60
			return 1
		fi
		[[ $output == *", the same ("* ]] || {
			echo "seed $s: no verdict: $output"
			return 1
		}
	done
	# Both daemons still serve: neither died on the way.
	daemon_answers "$XENSTORED_PATH"
	daemon_answers "$REF_SOCK"
}

@test "xsdiff: random requests on 3 connections, the same as cxenstored's" {
	start_pair_unix
	diff_seeds 0 400 3
}

@test "xsdiff: random requests on 8 connections, the same as cxenstored's" {
	start_pair_unix
	diff_seeds 100000 300 8
}

@test "xsdiff: 2 unix connections and 2 guests' rings, the same as cxenstored's" {
	# Unprivileged callers: permission checks, watch events filtered by
	# them, SET_TARGET; cxenstored serves its guests through the same
	# stand-in (tests/xensim/run-cxenstored.sh).
	start_pair_guests 1 2
	diff_seeds 200000 400 2
}

# A second lixs on $T/other with extra broker arguments $@; its pid is
# stopped by teardown (REF_STOP) like a reference's.
start_other_lixs() {
	(
		exec 3>&- 4>&-
		"$LIXS_BUILD/lixs-broker" -N --socket-path "$REF_SOCK" \
			--pid-file "$T/other.pid" "$@" </dev/null >"$T/other.log" 2>&1 &
		echo $! >"$REF_SOCK.bpid"
	)
	REF_STOP=stop_other_lixs
	wait_until daemon_answers "$REF_SOCK"
}

stop_other_lixs() {
	kill "$(cat "$2.bpid")" 2>/dev/null
	wait_gone "$(cat "$2.bpid")"
}

@test "xsdiff finds a difference: lixs against a daemon that is not the same" {
	# Not cxenstored but a second lixs that answers otherwise: the tool
	# must report it (exit 6), or a pass above would mean nothing.  Its
	# paths are limited to 100 characters, so the long paths get another
	# reply (the replies differ); with an extra node it is the tree.
	start_daemon
	start_other_lixs --path-max 100
	run "$XSDIFF" -L "$XENSTORED_PATH" -R "$REF_SOCK" -s 1 -n 400
	[ "$status" -eq 6 ]
	[[ $output == *"DIFFERENCE at step"*": the replies differ"* ]]
	"$XSRAW" -S "$XENSTORED_PATH" 'WRITE:/tool/extra\0x' >/dev/null
	run "$XSDIFF" -L "$XENSTORED_PATH" -R "$REF_SOCK" -s 1 -n 5
	[ "$status" -eq 6 ]
	[[ $output == *"DIFFERENCE at step 0: the trees differ after resetting them"* ]]
}
