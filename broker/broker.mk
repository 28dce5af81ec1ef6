# SPDX-License-Identifier: GPL-2.0-only
# broker.mk - lixs-broker's Xen channels: the real Xen libraries (tests
# preload tests/xensim over them), GNU C for the one file that includes
# xenctrl.h (its headers refuse strict ISO C), and the ring copy loops
# linked into their unit test without the rest of the broker.

BROKER_LIBS += -lxenevtchn -lxengnttab -lxenforeignmemory -lxenctrl

$(call obj,broker/domains.c): CFLAGS += -std=gnu11

$(B)/tests/test_ring: $(call obj,broker/ringbuf.c)

# Real Xen 4.17 in QEMU ($(SHARED)/xen-qemu/README.md): the built broker as
# dom0's xenstored, with upstream's empty XENSTORED_ARGS and with the LiXS
# line, each with a PV and a PVH guest.  dom0 gets a passwd with the store
# process's user, as a package install would make.  About a minute a run (a
# download the first time); `make check` runs one of the four
# (tests/xensim/smoke.mk).
XEN_QEMU ?= $(SHARED)/xen-qemu/run.sh
XEN_SMOKE_ARGS ?=
xen-smoke: $(B)/lixs-broker $(B)/lixs-storeproc
	@mkdir -p $(B)/xen-smoke
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nlixs:x:990:990:lixs:/nonexistent:/bin/false\n' >$(B)/xen-smoke/passwd
	printf 'root:x:0:\nnogroup:x:65534:\nlixs:x:990:\n' >$(B)/xen-smoke/group
	set -e; for type in pv pvh; do \
	for args in "" "-D --xenbus --unix-socket --virq-dom-exc"; do \
		echo "xen-smoke: $$type guest, XENSTORED_ARGS=\"$$args\""; \
		$(XEN_QEMU) $(XEN_SMOKE_ARGS) --guest-type $$type \
			--xenstored $(abspath $(B))/lixs-broker \
			--xenstored-args "$$args" \
			--dom0-hook $(abspath tests/xensim/smoke-dom0-hook.sh) \
			--extra $(abspath $(B))/lixs-storeproc:/usr/sbin/lixs-storeproc \
			--extra $(abspath $(B))/xen-smoke/passwd:/etc/passwd \
			--extra $(abspath $(B))/xen-smoke/group:/etc/group; \
	done; done

.PHONY: xen-smoke

# The broker is the audited trusted base: at most 1,500 lines of C that
# are neither blank nor only a comment (SECURITY.md).  `make check` fails
# beyond that; `make broker-sloc` prints the count per file.
BROKER_SLOC_MAX ?= 1500
broker-sloc:
	@total=0; for f in broker/*.c broker/*.h; do \
		n=$$(grep -cvE '^[[:space:]]*($$|//|/\*|\*)' $$f); \
		printf '%6d %s\n' $$n $$f; total=$$((total + n)); done; \
	printf '%6d total (budget %d)\n' $$total $(BROKER_SLOC_MAX); \
	[ $$total -le $(BROKER_SLOC_MAX) ] || { \
		echo "broker-sloc: over budget: move logic to storeproc/, ipc/ or policy/" >&2; exit 1; }

CHECK_EXTRA += broker-sloc
.PHONY: broker-sloc
