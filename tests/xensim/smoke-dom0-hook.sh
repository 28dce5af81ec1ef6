#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# smoke-dom0-hook.sh - sourced by ../shared/xen-qemu/run.sh in dom0 (busybox
# sh) after a guest was introduced, served over its ring and released:
# the broker and its store process are confined on real Xen as SECURITY.md
# says, and no syscall the Xen paths made was refused by the broker's filter.
bpid=$(cat /run/xenstored.pid 2>/dev/null)
[ -n "$bpid" ] && [ -d "/proc/$bpid" ] || bpid=$(pidof lixs-broker)
[ -n "$bpid" ] || fail "lixs-broker is not running"
field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
echo "dom0-hook: broker $bpid: CapEff $(field "$bpid" CapEff) CapBnd $(field "$bpid" CapBnd) NoNewPrivs $(field "$bpid" NoNewPrivs) Seccomp $(field "$bpid" Seccomp)"
[ "$(field "$bpid" Seccomp)" = 2 ] || fail "the broker has no seccomp filter"
[ "$(field "$bpid" CapEff)" = 00000000000401e0 ] || fail "the broker kept other capabilities"
[ "$(field "$bpid" CapBnd)" = 00000000000401e0 ] || fail "the broker's bounding set is not reduced"
spid=$(pidof lixs-storeproc)
[ -n "$spid" ] || fail "no lixs-storeproc"
echo "dom0-hook: store $spid: Uid $(field "$spid" Uid) CapBnd $(field "$spid" CapBnd) Seccomp $(field "$spid" Seccomp)"
[ "$(field "$spid" Seccomp)" = 2 ] || fail "the store process has no seccomp filter"
[ "$(field "$spid" CapBnd)" = 0000000000000000 ] || fail "the store process kept capabilities"
# A refused syscall leaves an audit record (SECCOMP_FILTER_FLAG_LOG).
if dmesg | grep 'type=1326' | grep -q 'comm="lixs-'; then
	dmesg | grep 'type=1326' | tail -5
	fail "a lixs process made a syscall its filter refused"
fi
echo "dom0-hook: no refused syscall in dmesg"
