#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# record.sh - turn a conformance case list into a bats file whose expected
# replies are cxenstored 4.17's, recorded now.
#
#   tests/conformance/record.sh AREA.cases > tests/bats/conformance_AREA.bats
#
# Needs a build (LIXS_BUILD, default build/: lixs-broker and tools/xsraw)
# and ../shared/peers (LIXS_SHARED).  Every case runs on a fresh daemon:
# cxenstored through run-peer.sh, and lixs, so that the recording also
# says where lixs differs.  A case file is bash; each line is one of
#
#   same NAME [-s STATUS] [-g] STEP...
#   differ NAME REASON [-s STATUS] [-g] STEP...
#   lixs_only NAME REASON STEP...
#
# STEPs are xsraw's (tests/tools/xsraw.c); STATUS is xsraw's expected
# exit status (default 0); -g replaces DIRECTORY_PART's generation number
# by GEN (norm_gen below) in what is compared.  `same` expects cxenstored's bytes from both
# daemons; a lixs mismatch is reported on stderr (fix lixs, or make the
# case a `differ`).  `differ` is an intentional difference: the bats
# case expects each daemon's own bytes, and REASON goes into its name.
# `lixs_only` is for what cxenstored does not answer the same way twice
# (a stale errno): lixs's bytes are recorded, other daemons skip it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${LIXS_BUILD:-$repo/build}
shared=${LIXS_SHARED:-$repo/../shared}
xsraw=$build/tools/xsraw
work=$(mktemp -d "${TMPDIR:-/tmp}/lixs-rec.XXXXXX")
trap 'rm -rf "$work"' EXIT
mismatches=0

[ $# -eq 1 ] || { echo "usage: $0 FILE.cases" >&2; exit 2; }
[ -x "$xsraw" ] && [ -x "$build/lixs-broker" ] || {
	echo "build first: no $xsraw or $build/lixs-broker" >&2
	exit 1
}

# DIRECTORY_PART replies with the generation replaced by GEN and len
# adjusted: the number is each daemon's own counter.  Also emitted into
# every generated file that uses it.
norm_gen_src='norm_gen() {
	local line re="^(DIRECTORY_PART req=[0-9]+ tx=[0-9]+ len=)([0-9]+) ([0-9]+)(.*)$"
	while IFS= read -r line; do
		if [[ $line =~ $re ]]; then
			line="${BASH_REMATCH[1]}$((BASH_REMATCH[2] - ${#BASH_REMATCH[3]})) GEN${BASH_REMATCH[4]}"
		fi
		printf "%s\n" "$line"
	done
}'
eval "$norm_gen_src"

# run_on DAEMON STATUS STEP...: print xsraw's output on a fresh daemon.
run_on() {
	local daemon=$1 want=$2 sock=$work/s rc=0 out pid
	shift 2
	rm -rf "$sock" "$sock.d" "$work/pid"
	if [ "$daemon" = cxenstored ]; then
		"$shared/peers/run-peer.sh" cxenstored "$sock" >/dev/null
	else
		"$build/lixs-broker" -N --socket-path "$sock" \
			--socket-ro-path "$work/ro" --pid-file "$work/pid" \
			</dev/null >"$work/log" 2>&1 &
		local up=
		for _ in $(seq 200); do
			if "$xsraw" -S "$sock" -t 1 'DIRECTORY:/\0' >/dev/null 2>&1; then
				up=1
				break
			fi
			sleep 0.05
		done
		[ -n "$up" ] || { echo "lixs did not start:" >&2; cat "$work/log" >&2; exit 1; }
	fi
	out=$("$xsraw" -S "$sock" -t 5 "$@") || rc=$?
	if [ "$daemon" = cxenstored ]; then
		"$shared/peers/run-peer.sh" stop "$sock" >/dev/null
	else
		pid=$(cat "$work/pid")
		kill "$pid"
		while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
	fi
	[ "$rc" -eq "$want" ] || echo "# $daemon: xsraw exited $rc, not $want" >&2
	printf '%s\n' "$out"
}

# The steps as the bats file writes them: single-quoted words.
quote_steps() {
	local s line="" w
	for s in "$@"; do
		[[ $s != *"'"* ]] || { echo "a step holds a quote: $s" >&2; exit 1; }
		w="'$s'"
		if [ ${#line} -gt 0 ] && [ $((${#line} + ${#w})) -gt 64 ]; then
			printf '%s \\\n\t\t' "$line"
			line=""
		fi
		line+="${line:+ }$w"
	done
	printf '%s' "$line"
}

emit() {	# emit NAME REASON STATUS NORM STEP...
	local name=$1 reason=$2 status=$3 norm=$4 cx lx
	shift 4
	cx=$(run_on cxenstored "$status" "$@")
	lx=$(run_on lixs "$status" "$@")
	local call="xs"
	[ "$status" -eq 0 ] || call="xs_status $status"
	if [ "$norm" = 1 ]; then
		cx=$(norm_gen <<<"$cx")
		lx=$(norm_gen <<<"$lx")
	fi
	if [ -z "$reason" ]; then
		if [ "$cx" != "$lx" ]; then
			echo "MISMATCH in case '$name':" >&2
			diff <(echo "$cx") <(echo "$lx") >&2 || true
			mismatches=$((mismatches + 1))
		fi
		printf '@test "%s" {\n\t%s %s\n' "$name" "$call" "$(quote_steps "$@")"
		[ "$norm" = 0 ] || printf '\toutput=$(norm_gen <<<"$output")\n'
		printf "\texpect_output <<'EOF'\n%s\nEOF\n}\n\n" "$cx"
	else
		[ "$cx" != "$lx" ] || echo "note: '$name' is a differ but both agree" >&2
		printf '@test "%s [differs: %s]" {\n\t%s %s\n' "$name" "$reason" \
			"$call" "$(quote_steps "$@")"
		[ "$norm" = 0 ] || printf '\toutput=$(norm_gen <<<"$output")\n'
		printf '\tif [ "$LIXS_PEER" = cxenstored ]; then\n'
		printf "\t\texpect_output <<'EOF'\n%s\nEOF\n" "$cx"
		printf '\telse\n'
		printf "\t\texpect_output <<'EOF'\n%s\nEOF\n\tfi\n}\n\n" "$lx"
	fi
}

same() {
	local name=$1 status=0 norm=0
	shift
	if [ "${1:-}" = -s ]; then status=$2; shift 2; fi
	if [ "${1:-}" = -g ]; then norm=1; shift; fi
	emit "$name" "" "$status" "$norm" "$@"
}

differ() {
	local name=$1 reason=$2 status=0 norm=0
	shift 2
	if [ "${1:-}" = -s ]; then status=$2; shift 2; fi
	if [ "${1:-}" = -g ]; then norm=1; shift; fi
	emit "$name" "$reason" "$status" "$norm" "$@"
}

lixs_only() {
	local name=$1 reason=$2 lx
	shift 2
	lx=$(run_on lixs 0 "$@")
	printf '@test "%s [lixs only: %s]" {\n' "$name" "$reason"
	printf '\trequire_lixs "%s"\n' "$reason"
	printf '\txs %s\n' "$(quote_steps "$@")"
	printf "\texpect_output <<'EOF'\n%s\nEOF\n}\n\n" "$lx"
}

src=$1
area=$(basename "$src" .cases)
title=$(sed -n 's/^# title: //p' "$src")
cat <<EOF
#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# conformance_$area.bats - ${title:-conformance cases} (issue 4).
#
# GENERATED by tests/conformance/record.sh from tests/conformance/$area.cases;
# edit the cases, not this file.  Every expectation was recorded from
# cxenstored 4.17 (Debian xen-utils-4.17), one fresh daemon per case, with
#
#   tests/conformance/record.sh tests/conformance/$area.cases \\
#       > tests/bats/conformance_$area.bats
#
# (which runs ../shared/peers/run-peer.sh cxenstored SOCK and
# build/tools/xsraw -S SOCK STEP... for each case).  A "[differs: ...]"
# case is an intentional difference (docs/COMPATIBILITY.md): it expects
# cxenstored's bytes under LIXS_PEER=cxenstored and lixs's otherwise.

load helpers

EOF
if grep -q -- ' -g ' "$1"; then printf '%s\n\n' "$norm_gen_src"; fi
# shellcheck source=/dev/null
. "$src"
if [ "$mismatches" -ne 0 ]; then
	echo "$mismatches case(s) where lixs differs from cxenstored" >&2
	exit 1
fi
