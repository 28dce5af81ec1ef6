#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# guests.bats - many guests on the simulated Xen host (tests/xensim), each
# doing a libxl-like vif handshake with dom0, then destroyed: every
# @releaseDomain fires, every ring is unmapped, and the store's counters
# (CONTROL memreport, dom0's quota) come back to where they started.

load helpers
load xensim

setup() {
	xensim_setup || return 1
}

teardown() {
	xensim_teardown
}

# The store's counters (CONTROL memreport), one "name value" a line; the
# connection asking is counted each time alike.  Not the memory it holds
# (node-slab, heap-*): a workload may grow that for good (slab chunks,
# malloc's arenas), nor perm-lists, which the tree's cache of lists seen
# lately keeps; every other count must come back.
memreport() {
	"$XSRAW" -S "$XENSTORED_PATH" -t 5 'CONTROL:memreport\0' |
		sed 's/\\x0a/\n/g' | awk -F'[: ]+' '/^[a-z-]+ *:/ { print $1, $2 }' |
		grep -Ev '^(node-slab|node-slab-free|perm-lists|heap-in-use|heap-free) '
}

dom0_quota() {
	"$XSRAW" -S "$XENSTORED_PATH" -t 5 'CONTROL:quota\00\0'
}

# User+system CPU ticks of pid $1 so far.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

same_as() {
	[ "$("$1")" = "$(cat "$2")" ]
}

# Toolstack side of guest $1's vif, as libxl writes it: one transaction,
# the frontend directory owned by the guest (backend may read), the
# backend directory owned by dom0 (the guest may read), both state 1.
vif_steps() {
	local d=$1 fe=/local/domain/$1/device/vif/0 be=/local/domain/0/backend/vif/$1/0
	printf '%s\n' 'TRANSACTION_START:\0' \
		"MKDIR,t:$fe\\0" "SET_PERMS,t:$fe\\0n$d\\0r0\\0" \
		"WRITE,t:$fe/backend\\0$be" "WRITE,t:$fe/backend-id\\00" \
		"WRITE,t:$fe/state\\01" \
		"MKDIR,t:$be\\0" "SET_PERMS,t:$be\\0n0\\0r$d\\0" \
		"WRITE,t:$be/frontend\\0$fe" "WRITE,t:$be/frontend-id\\0$d" \
		"WRITE,t:$be/state\\01" 'TRANSACTION_END,t:T\0'
}

@test "200 guests: libxl-like vif handshake, destroyed, zero residue" {
	xensim_init
	start_daemon_xensim
	local first=301 n=200 last d g gfn port steps=() pids=() sp t0 b0 s0 backend
	last=$((first + n - 1))
	sp=$(pgrep -P "$DAEMON_PID")
	# What libxl finds on a running host, then the baseline.
	xs 'MKDIR:/local/domain/0/backend/vif\0'
	memreport >"$T/mem.before"
	dom0_quota >"$T/quota.before"
	grep -q '^nodes [0-9]' "$T/mem.before"
	grep -q "^CONTROL .*Domain 0" "$T/quota.before" || { cat "$T/quota.before"; false; }
	"$XSRAW" -S "$XENSTORED_PATH" -t 120 'WATCH:@releaseDomain\0tok\0' \
		-w $((n + 1)) >"$T/release" 2>&1 &
	BG_PIDS+=($!)
	wait_until grep -q '^WATCH_EVENT .*@releaseDomain' "$T/release"
	b0=$(cpu_ticks "$DAEMON_PID")
	s0=$(cpu_ticks "$sp")
	t0=$(date +%s%N)

	# Domains built and introduced as libxl does (home directory first).
	for ((d = first; d <= last; d++)); do
		read -r _ gfn port < <("$XENSIM_CTL" create "$d")
		steps+=("MKDIR:/local/domain/$d\\0" "SET_PERMS:/local/domain/$d\\0n$d\\0"
			"INTRODUCE:$d\\0$gfn\\0$port\\0")
	done
	xs "${steps[@]}"
	[ "$(grep -c '^INTRODUCE .* OK' <<<"$output")" -eq "$n" ]
	steps=()
	for ((d = first; d <= last; d++)); do
		mapfile -t -O "${#steps[@]}" steps < <(vif_steps "$d")
	done
	run "$XSRAW" -S "$XENSTORED_PATH" -t 10 "${steps[@]}"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^TRANSACTION_END .* OK' <<<"$output")" -eq "$n" ]

	# dom0's backend driver on its kernel ring: for each vif, wait for
	# the frontend to be connected, then say connected too.
	# Guests notify as Linux does (only when they saw the server caught
	# up), so this also proves the broker re-checks the indexes.
	steps=()
	for ((d = first; d <= last; d++)); do
		steps+=(--await "/local/domain/$d/device/vif/0/state" 4
			"WRITE:/local/domain/0/backend/vif/$d/0/state\\04")
	done
	timeout 60 "$FAKEGUEST" --dom0-ring -t 30 "${steps[@]}" >"$T/backend" 2>&1 &
	backend=$!
	# The guests' frontends, in groups running in parallel.
	for ((g = first; g <= last; g += 50)); do
		pids=()
		for ((d = g; d < g + 50 && d <= last; d++)); do
			timeout 60 "$FAKEGUEST" -d "$d" -t 30 \
				--await "/local/domain/0/backend/vif/$d/0/state" 1 \
				'WRITE:device/vif/0/state\03' 'WRITE:device/vif/0/state\04' \
				--await "/local/domain/0/backend/vif/$d/0/state" 4 \
				'READ:device/vif/0/backend-id\0' >"$T/fg.$d" 2>&1 &
			pids[d]=$!
		done
		for d in "${!pids[@]}"; do
			wait "${pids[d]}" || {
				echo "guest $d:"
				cat "$T/fg.$d"
				wait "$backend" || true
				tail -n 3 "$T/backend"
				"$FAKEGUEST" -d "$d" -t 1 --status || true
				"$FAKEGUEST" --dom0-ring -t 1 --status || true
				false
			}
		done
	done
	wait "$backend" || { cat "$T/backend"; false; }
	[ "$(grep -c '^AWAIT' "$T/backend")" -eq "$n" ]
	for ((d = first; d <= last; d++)); do
		[ "$(grep -c "^AWAIT /local/domain/0/backend/vif/$d/0/state [14]" "$T/fg.$d")" -eq 2 ] ||
			{ cat "$T/fg.$d"; false; }
		grep -q '^READ req=[0-9]* tx=0 len=1 0$' "$T/fg.$d"
	done

	# Destroyed: each death is a @releaseDomain, each ring unmapped.
	for ((d = first; d <= last; d++)); do
		"$XENSIM_CTL" destroy "$d"
	done
	for ((d = first; d <= last; d++)); do
		xensim_gone "$d"
	done
	wait "${BG_PIDS[0]}"
	[ "$(grep -c '^WATCH_EVENT .*@releaseDomain\\0tok' "$T/release")" -eq $((n + 1)) ]
	[ "$(grep -c 'ring connection .* released' "$DAEMON_LOG")" -eq "$n" ]
	[ -z "$("$XENSIM_CTL" list | awk -v f="$first" '$1 >= f')" ]
	echo "# $n guests: $((($(date +%s%N) - t0) / 1000000)) ms," \
		"CPU ticks broker $(($(cpu_ticks "$DAEMON_PID") - b0))" \
		"store $(($(cpu_ticks "$sp") - s0))" >&3

	# libxl's cleanup: the guest's directories go.
	steps=()
	for ((d = first; d <= last; d++)); do
		steps+=("RM:/local/domain/$d\\0" "RM:/local/domain/0/backend/vif/$d\\0")
	done
	run "$XSRAW" -S "$XENSTORED_PATH" -t 10 "${steps[@]}"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^RM .* OK' <<<"$output")" -eq $((2 * n)) ] ||
		{ grep -v '^RM .* OK' <<<"$output" | head; false; }
	for ((d = first; d <= last; d += 37)); do
		xs "IS_DOMAIN_INTRODUCED:$d\\0" "CONTROL:quota\\0$d\\0"
		[ "${lines[0]}" = 'IS_DOMAIN_INTRODUCED req=1 tx=0 len=2 F\0' ]
		[ "${lines[1]}" = 'ERROR req=2 tx=0 len=7 ENOENT\0' ] || { echo "$output"; false; }
	done
	wait_until same_as memreport "$T/mem.before" ||
		diff -u "$T/mem.before" <(memreport)
	[ "$(dom0_quota)" = "$(cat "$T/quota.before")" ]
}
