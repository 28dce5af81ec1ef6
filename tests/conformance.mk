# SPDX-License-Identifier: GPL-2.0-only
#
# tests/conformance.mk - issue 4's proof targets (included by the Makefile).
#
#   make compare   the conformance suite against lixs, then the same files
#                  against cxenstored 4.17 from ../shared/peers; both pass
#                  counts end up in the output (docs/COMPATIBILITY.md)
#   make soak      test-xenstore's 60-second random run against lixs
#   make difftest  tests/bats/differential.bats with DIFF_SEEDS seeds a
#                  case (default 1000; `make check` runs 40): lixs and
#                  cxenstored 4.17 under the same random requests

CONFORMANCE_BATS := $(sort $(wildcard tests/bats/conformance_*.bats)) \
		    tests/bats/wire_bytes.bats

compare: all
	LIXS_BUILD=$(abspath $(B)) scripts/run-bats.sh "compare lixs" \
		$(CONFORMANCE_BATS)
	@if [ -x $(SHARED)/peers/run-peer.sh ]; then \
		LIXS_PEER=cxenstored LIXS_SHARED=$(abspath $(SHARED)) \
		LIXS_BUILD=$(abspath $(B)) scripts/run-bats.sh \
		"compare cxenstored" $(CONFORMANCE_BATS); \
	else \
		echo "compare: no $(SHARED)/peers: cxenstored run skipped"; \
	fi

soak: all
	LIXS_SOAK=1 LIXS_BUILD=$(abspath $(B)) scripts/run-bats.sh soak \
		-f 'soak' tests/bats/test_xenstore.bats

DIFF_SEEDS ?= 1000
difftest: all
	LIXS_DIFF_SEEDS=$(DIFF_SEEDS) LIXS_BUILD=$(abspath $(B)) \
		scripts/run-bats.sh difftest tests/bats/differential.bats

.PHONY: compare soak difftest
