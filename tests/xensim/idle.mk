# SPDX-License-Identifier: GPL-2.0-only
#
# idle.mk - `make xen-ring-idle`: the broker's --ring-idle on real Xen 4.17
# in QEMU ($(SHARED)/xen-qemu/run.sh, as xen-smoke-once in smoke.mk), with
# two real Linux guests.  Each arms a watch through its kernel's xenbus and
# goes quiet (idle-guest-hook.sh); dom0 requires the broker to hold no
# grant mapping once they are idle, then writes the watched nodes: the
# events reach the guests through rings mapped again, the guests answer on
# them, and the mappings go again (idle-dom0-hook.sh).  Guests are then
# released as usual.  XEN_RING_IDLE_ARGS adds run.sh options (e.g.
# --guest-type pvh).  Skipped like xen-smoke-once; XEN_SMOKE_CHECK=0
# leaves it out of `make check`.

XEN_RING_IDLE_ARGS ?=
XEN_SMOKE_CHECK    ?= 1

ifeq ($(XEN_SMOKE_CHECK),1)
CHECK_EXTRA += xen-ring-idle
endif

# One QEMU at a time (they share the work dir).
ifneq ($(filter xen-smoke-once xen-restart,$(MAKECMDGOALS)),)
xen-ring-idle: | $(filter xen-smoke-once xen-restart,$(MAKECMDGOALS))
endif

xen-ring-idle: $(B)/lixs-broker $(B)/lixs-storeproc
	@$(XEN_QEMU_PREP); \
	echo "xen-ring-idle: real Xen in QEMU, XENSTORED_ARGS=\"--ring-idle 1\", two guests gone quiet $(XEN_RING_IDLE_ARGS)"; \
	start=$$(date +%s); \
	$(XEN_QEMU) $(XEN_RING_IDLE_ARGS) --workdir $(abspath $(XEN_SMOKE_WORK)) --guests 2 \
		$(XEN_QEMU_LIXS) --xenstored-args "--ring-idle 1" \
		--guest-hook $(abspath tests/xensim/idle-guest-hook.sh) \
		--dom0-guest-hook $(abspath tests/xensim/idle-dom0-hook.sh) \
		--guest-hook-timeout 150 \
		>$(B)/xen-smoke/idle.log 2>&1; rc=$$?; \
	cp $(abspath $(XEN_SMOKE_WORK))/serial-timed.log $(B)/xen-smoke/idle-serial.log; \
	grep -E 'dom0-idle:|GUEST-IDLE:|hook-result|DOM0-FAIL|-OK$$' $(B)/xen-smoke/idle-serial.log; \
	tail -n 12 $(B)/xen-smoke/idle.log; \
	echo "xen-ring-idle: exit $$rc after $$(( $$(date +%s) - start )) s (log $(B)/xen-smoke/idle.log, serial $(B)/xen-smoke/idle-serial.log)"; \
	exit $$rc

.PHONY: xen-ring-idle
