#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# release-cost.sh - what one RELEASE costs a daemon holding N domains.
#
#   bench/release-cost.sh DAEMON N [K]
#
# DAEMON is lixs, cxenstored or oxenstored (../shared/peers/run-peer.sh).
# Creates N domains with `xsbench domcreate -I` (pinned to CPU 0, as
# bench/run-bench.sh runs it), then times K RELEASEs (default 20) sent by
# one xsraw, against K READs sent the same way, twice:
#   - "toolstack first": each domain's nodes removed before its RELEASE,
#     as libxl does on `xl destroy` (/local/domain/D, /vm/UUID, /libxl/D,
#     the vif and vbd backend directories);
#   - "nodes left": RELEASE of a domain whose nodes are all still there,
#     as when a guest dies before the toolstack cleans up.
# Prints ms a RELEASE (the batch's time less the READ batch's, over K).
#
# Environment: LIXS_BUILD (default <repo>/build), LIXS_SHARED (default
# <repo>/../shared), XSBENCH (default: built into a temp dir from
# $LIXS_SHARED/peers).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${LIXS_BUILD:-$here/../build}
shared=${LIXS_SHARED:-$here/../../shared}
[ $# -ge 2 ] || { sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
daemon=$1 n=$2 k=${3:-20}
[ "$n" -gt $((2 * k + 10)) ] || { echo "N must exceed 2K+10" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lixs-release.XXXXXX")
sock=$work/d.sock
trap 'stop; rm -rf "$work"' EXIT
xsbench=${XSBENCH:-}
if [ -z "$xsbench" ]; then
	make -s -C "$shared/peers" O="$work/tools" >/dev/null
	xsbench=$work/tools/xsbench
fi
xsraw=$build/tools/xsraw

stop() {
	case $daemon in
	lixs) LIXS_BUILD=$build "$here/run-lixs.sh" stop "$sock" >/dev/null 2>&1 || true ;;
	*) "$shared/peers/run-peer.sh" stop "$sock" >/dev/null 2>&1 || true ;;
	esac
}

case $daemon in
lixs) LIXS_BUILD=$build XSPEER_CPU=0 "$here/run-lixs.sh" "$sock" >/dev/null ;;
cxenstored | oxenstored) XSPEER_CPU=0 "$shared/peers/run-peer.sh" "$daemon" "$sock" >/dev/null ;;
*) echo "unknown daemon $daemon" >&2; exit 2 ;;
esac
taskset -c 0 "$xsbench" -S "$sock" domcreate -I -n "$n" -b "$n" >/dev/null

# batch STEP...: µs for one xsraw sending them all, pinned.
batch() {
	local t0 t1
	t0=$(date +%s%N)
	taskset -c 0 "$xsraw" -S "$sock" -t 60 "$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}

reads=() rms=() first=() left=()
for ((i = 0; i < k; i++)); do
	d=$((11 + i)) l=$((11 + k + i))
	u=$(printf '%08x-0000-4000-8000-%012x' "$d" "$d")
	reads+=("READ:/local/domain/$l/name\\0")
	rms+=("RM:/local/domain/$d\\0" "RM:/vm/$u\\0" "RM:/libxl/$d\\0"
		"RM:/local/domain/0/backend/vif/$d\\0" "RM:/local/domain/0/backend/vbd/$d\\0")
	first+=("RELEASE:$d\\0")
	left+=("RELEASE:$l\\0")
done
base=$(batch "${reads[@]}")
batch "${rms[@]}" >/dev/null
tf=$(batch "${first[@]}")
tl=$(batch "${left[@]}")
# Within the READs' noise, a difference reads "< 0.01".
awk -v d="$daemon" -v n="$n" -v k="$k" -v b="$base" -v f="$tf" -v l="$tl" '
	function ms(t) { t = (t - b) / k / 1000; return t < 0.01 ? "< 0.01" : sprintf("%.2f", t) }
	BEGIN { printf "%s, %d domains: RELEASE %s ms toolstack first, %s ms nodes left (%d each; %d READs %.2f ms)\n",
		d, n, ms(f), ms(l), k, k, b / 1000 }'
