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

XSDIFF=$LIXS_BUILD/tools/xsdiff
RUN_PEER=$LIXS_SHARED/peers/run-peer.sh

setup() {
	require_lixs "this file compares lixs with cxenstored itself"
	[ -x "$RUN_PEER" ] ||
		skip_because "no $RUN_PEER: cxenstored cannot be started here"
	common_setup
	REF_SOCK=$T/ref
	local out
	# fd 3 is bats' own: a daemon holding it would stall bats.
	out=$("$RUN_PEER" cxenstored "$REF_SOCK" 2>&1 3>&-) || {
		echo "$out" >&2
		return 1
	}
	REF_PID=$(sed -n 's/^pid=//p' <<<"$out")
}

teardown() {
	if [ -n "${REF_PID:-}" ]; then
		"$RUN_PEER" stop "$REF_SOCK" >/dev/null 2>&1 || true
		if grep -q 'Assertion' "$REF_SOCK.d/daemon.log" 2>/dev/null; then
			echo "cxenstored aborted:"
			grep 'Assertion' "$REF_SOCK.d/daemon.log"
		fi
	fi
	common_teardown
}

# Seeds $1.. (LIXS_DIFF_SEEDS of them), STEPS $2 and CONNS $3 each.
diff_seeds() {
	local first=$(( ${LIXS_DIFF_FIRST:-1} + $1 )) n=${LIXS_DIFF_SEEDS:-40} s
	for ((s = first; s < first + n; s++)); do
		run "$XSDIFF" -L "$XENSTORED_PATH" -R "$REF_SOCK" -s "$s" -n "$2" -c "$3"
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
	diff_seeds 0 400 3
}

@test "xsdiff: random requests on 8 connections, the same as cxenstored's" {
	diff_seeds 100000 300 8
}

@test "xsdiff finds a difference: lixs against a daemon that is not the same" {
	# Not cxenstored but a second lixs with another tree: the tool must
	# report it (exit 6), or a pass above would mean nothing.
	"$XSRAW" -S "$XENSTORED_PATH" 'WRITE:/tool/extra\0x' >/dev/null
	local other=$T/other
	(
		exec 3>&- 4>&-
		"$LIXS_BUILD/lixs-broker" -N --socket-path "$other" \
			--pid-file "$T/other.pid" </dev/null >"$T/other.log" 2>&1 &
		echo $! >"$T/other.bpid"
	)
	wait_until daemon_answers "$other"
	run "$XSDIFF" -L "$XENSTORED_PATH" -R "$other" -s 1 -n 5
	kill "$(cat "$T/other.bpid")"
	wait_gone "$(cat "$T/other.bpid")"
	[ "$status" -eq 6 ]
	[[ $output == *"DIFFERENCE at step"* ]]
}
