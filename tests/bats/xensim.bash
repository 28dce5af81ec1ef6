#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# xensim.bash - for bats files that run lixs on the simulated Xen host
# (tests/xensim/README.md): load it after helpers.
#
#   xensim_setup                the common setup(): lixs only, a test dir,
#                               xsraw built, no background pids (BG_PIDS)
#   xensim_teardown             the common teardown(): kill BG_PIDS, then
#                               common_teardown
#   xensim_start ARGS           xensim_init, then start_daemon_xensim ARGS
#   xensim_init                 a fresh host in $T/xen (XENSIM_DIR), with
#                               dom0's kernel ring; call after make_test_dir
#   start_daemon_xensim ARGS    start_daemon with xensim.so preloaded
#   xensim_guest DOMID [--no-grant]
#                               create a domain, give it its home directory
#                               as libxl does, INTRODUCE it; sets GUEST_GFN
#                               and GUEST_PORT
#   fg DOMID STEP...            run fakeguest on DOMID (bounded), with `run`
#                               (shadows the job-control builtin, unused in bats)
#   xensim_gone DOMID           the domain disappeared (its ring unmapped)
#
# XENSIM_CTL and FAKEGUEST name the tools.

XENSIM_CTL=$LIXS_BUILD/tools/xensim-ctl
FAKEGUEST=$LIXS_BUILD/tools/fakeguest

# The broker under test has Xen channels (is linked with libxenevtchn).
broker_has_xen() {
	readelf -d "$LIXS_BUILD/lixs-broker" 2>/dev/null | grep -q 'libxenevtchn'
}

xensim_setup() {
	require_lixs "tests the lixs broker's Xen channels"
	make_test_dir
	[ -x "$XSRAW" ] || {
		echo "no $XSRAW: build it first (make all)" >&2
		return 1
	}
	BG_PIDS=()
}

xensim_teardown() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	common_teardown
}

xensim_init() {
	[ -x "$XENSIM_CTL" ] && [ -x "$FAKEGUEST" ] && [ -r "$LIXS_BUILD/xensim.so" ] || {
		echo "xensim not built in $LIXS_BUILD (make all)" >&2
		return 1
	}
	export XENSIM_DIR=$T/xen
	"$XENSIM_CTL" dom0-ring-init >/dev/null
}

# An ASan-built broker accepts a preloaded library before libasan only
# with verify_asan_link_order=0; the store process inherits both.
start_daemon_xensim() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		LD_PRELOAD=$LIXS_BUILD/xensim.so start_daemon "$@"
}

xensim_start() {
	xensim_init
	start_daemon_xensim "$@"
}

xensim_guest() {
	local dom=$1 out
	shift
	out=$("$XENSIM_CTL" create "$dom" "$@") || return 1
	read -r _ GUEST_GFN GUEST_PORT <<<"$out"
	"$XSRAW" -S "$XENSTORED_PATH" -t 5 "MKDIR:/local/domain/$dom\\0" \
		"SET_PERMS:/local/domain/$dom\\0n$dom\\0" \
		"INTRODUCE:$dom\\0$GUEST_GFN\\0$GUEST_PORT\\0" >"$T/introduce.out" || {
		cat "$T/introduce.out" >&2
		return 1
	}
	grep -q '^INTRODUCE .* OK' "$T/introduce.out"
}

fg() {
	local dom=$1
	shift
	run timeout "$LIXS_WAIT" "$FAKEGUEST" -d "$dom" "$@"
}

xensim_gone() {
	"$XENSIM_CTL" wait-gone "$1" "${2:-$LIXS_WAIT}"
}
