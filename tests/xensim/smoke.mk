# SPDX-License-Identifier: GPL-2.0-only
#
# smoke.mk - `make check` boots real Xen once: the built broker as dom0's
# xenstored in QEMU ($(SHARED)/xen-qemu/run.sh), upstream's empty
# XENSTORED_ARGS, one PV guest (handshake over its real ring, poweroff,
# @releaseDomain, ring released).  `make xen-smoke` (broker/broker.mk) runs
# the full matrix.  Skipped, with the reason printed, when qemu-system-x86
# is neither present nor installable or run.sh is missing.  Several
# minutes under TCG; the first run downloads the Debian kernel and Xen
# packages into $(XEN_SMOKE_WORK).  XEN_SMOKE_CHECK=0 leaves it out.

XEN_SMOKE_CHECK ?= 1
XEN_SMOKE_WORK  ?= $(B)/xen-qemu-work
XEN_QEMU        ?= $(SHARED)/xen-qemu/run.sh

# The start of every real-Xen recipe here and in restart.mk: skip (exit 0,
# the reason printed) without run.sh or QEMU; else dom0's passwd and group
# with the store process's user.
XEN_QEMU_PREP = if [ ! -x "$(XEN_QEMU)" ]; then \
		echo "$@: SKIP: no $(XEN_QEMU)"; exit 0; fi; \
	if ! command -v qemu-system-x86_64 >/dev/null && \
	   ! { [ "$$(id -u)" = 0 ] && apt-get install -y -q qemu-system-x86 >/dev/null 2>&1; }; then \
		echo "$@: SKIP: qemu-system-x86 is not installed and cannot be installed here"; \
		exit 0; fi; \
	mkdir -p $(B)/xen-smoke; \
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nlixs:x:990:990:lixs:/nonexistent:/bin/false\n' >$(B)/xen-smoke/passwd; \
	printf 'root:x:0:\nnogroup:x:65534:\nlixs:x:990:\n' >$(B)/xen-smoke/group

# run.sh's options that put the built lixs in dom0 as xenstored, with
# upstream's empty XENSTORED_ARGS.
XEN_QEMU_LIXS = --xenstored $(abspath $(B))/lixs-broker --xenstored-args "" \
	--extra $(abspath $(B))/lixs-storeproc:/usr/sbin/lixs-storeproc \
	--extra $(abspath $(B))/xen-smoke/passwd:/etc/passwd \
	--extra $(abspath $(B))/xen-smoke/group:/etc/group

ifeq ($(XEN_SMOKE_CHECK),1)
CHECK_EXTRA += xen-smoke-once
endif

xen-smoke-once: $(B)/lixs-broker $(B)/lixs-storeproc
	@$(XEN_QEMU_PREP); \
	echo "xen-smoke-once: real Xen in QEMU, XENSTORED_ARGS=\"\", PV guest"; \
	start=$$(date +%s); \
	$(XEN_QEMU) --workdir $(abspath $(XEN_SMOKE_WORK)) \
		$(XEN_QEMU_LIXS) --dom0-hook $(abspath tests/xensim/smoke-dom0-hook.sh) \
		>$(B)/xen-smoke/once.log 2>&1; rc=$$?; \
	tail -n 15 $(B)/xen-smoke/once.log; \
	echo "xen-smoke-once: exit $$rc after $$(( $$(date +%s) - start )) s (log $(B)/xen-smoke/once.log)"; \
	exit $$rc

.PHONY: xen-smoke-once
