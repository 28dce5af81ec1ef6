#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# conformance_domains.bats - issue 4 conformance cases whose answer in
# cxenstored 4.17 depends on which domains the hypervisor reports: run on
# a host where only dom0 exists (the peers' stand-in with
# XSFAKE_DOMAINS=dom0), where the default stand-in reports every domid as
# an existing domain.
#
# Written by hand (the stand-in's setting is per daemon, not per request,
# so tests/conformance/record.sh cannot produce it).  The cxenstored
# expectations were recorded from cxenstored 4.17 with
#
#   XSFAKE_DOMAINS=dom0 ../shared/peers/run-peer.sh cxenstored SOCK
#   build/tools/xsraw -S SOCK STEP...
#
# and the file passes with LIXS_PEER=cxenstored (make compare).  lixs
# ignores XSFAKE_DOMAINS: its store process never asks the hypervisor.

load helpers

setup() {
	make_test_dir
	[ -x "$XSRAW" ] || {
		echo "no $XSRAW: build it first (make all)" >&2
		return 1
	}
	XSFAKE_DOMAINS=dom0 start_daemon
}

# 4.17 asks the hypervisor about the owner (first) entry: ENOENT when no
# such domain exists; other entries naming one are kept but ignored.
# lixs accepts both: libxl writes /local/domain/<new> with its new
# domain as owner before INTRODUCE, and the store process, which has no
# hypervisor access, cannot tell that domain from one that does not exist
# (docs/COMPATIBILITY.md, "Perms naming unknown domains").
@test "SET_PERMS naming a domain that does not exist [differs: the store cannot ask the hypervisor; libxl names a new domain before INTRODUCE]" {
	xs 'WRITE:/p\0' 'SET_PERMS:/p\0n5\0' 'SET_PERMS:/p\0n0\0r5\0' \
		'GET_PERMS:/p\0' 'MKDIR:/local/domain/77\0' \
		'SET_PERMS:/local/domain/77\0n77\0' 'GET_PERMS:/local/domain/77\0'
	if [ "$LIXS_PEER" = cxenstored ]; then
		expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
ERROR req=2 tx=0 len=7 ENOENT\0
SET_PERMS req=3 tx=0 len=3 OK\0
GET_PERMS req=4 tx=0 len=6 n0\0r5\0
MKDIR req=5 tx=0 len=3 OK\0
ERROR req=6 tx=0 len=7 ENOENT\0
GET_PERMS req=7 tx=0 len=3 n0\0
EOF
	else
		expect_output <<'EOF'
WRITE req=1 tx=0 len=3 OK\0
SET_PERMS req=2 tx=0 len=3 OK\0
SET_PERMS req=3 tx=0 len=3 OK\0
GET_PERMS req=4 tx=0 len=6 n0\0r5\0
MKDIR req=5 tx=0 len=3 OK\0
SET_PERMS req=6 tx=0 len=3 OK\0
GET_PERMS req=7 tx=0 len=4 n77\0
EOF
	fi
}
