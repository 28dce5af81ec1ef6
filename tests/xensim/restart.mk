# SPDX-License-Identifier: GPL-2.0-only
#
# restart.mk - `make xen-restart`: issue 9's store process restart on real
# Xen 4.17 in QEMU ($(SHARED)/xen-qemu/run.sh, as xen-smoke-once in
# smoke.mk), with a real Linux guest.  The guest arms a watch through its
# kernel's xenbus (restart-guest-hook.sh); dom0 kills lixs-storeproc with
# SIGKILL while the guest runs (restart-dom0-hook.sh), requires a new one
# answering within 1 s, and the guest then reads what was written before,
# writes, and sees its watch fire for dom0's write after the restart.  The
# guest's release is then checked as usual (@releaseDomain, no zombie,
# home removed) with no operator step: xl's monitor and xenconsoled keep
# their unix connections and watches across the restart (docs/RESTART.md),
# so the monitor destroys its domain by itself.
# XEN_RESTART_ARGS adds run.sh options (e.g. --guest-type pvh).  Skipped
# like xen-smoke-once; XEN_SMOKE_CHECK=0 leaves it out of `make check`.
# Takes a little longer than xen-smoke-once (the hooks).

XEN_RESTART_ARGS ?=
XEN_SMOKE_CHECK  ?= 1

ifeq ($(XEN_SMOKE_CHECK),1)
CHECK_EXTRA += xen-restart
endif

# One QEMU at a time (they share the work dir; `make -j check` would
# otherwise start both): after xen-smoke-once when both are asked for.
ifneq ($(filter xen-smoke-once,$(MAKECMDGOALS)),)
xen-restart: | xen-smoke-once
endif

xen-restart: $(B)/lixs-broker $(B)/lixs-storeproc
	@$(XEN_QEMU_PREP); \
	echo "xen-restart: real Xen in QEMU, XENSTORED_ARGS=\"\", kill -9 of the store process under a running guest $(XEN_RESTART_ARGS)"; \
	start=$$(date +%s); \
	$(XEN_QEMU) $(XEN_RESTART_ARGS) --workdir $(abspath $(XEN_SMOKE_WORK)) \
		$(XEN_QEMU_LIXS) \
		--guest-hook $(abspath tests/xensim/restart-guest-hook.sh) \
		--dom0-guest-hook $(abspath tests/xensim/restart-dom0-hook.sh) \
		--guest-hook-timeout 120 \
		>$(B)/xen-smoke/restart.log 2>&1; rc=$$?; \
	cp $(abspath $(XEN_SMOKE_WORK))/serial-timed.log $(B)/xen-smoke/restart-serial.log; \
	grep -E 'dom0-restart:|  pid [0-9]+ state|GUEST-RESTART:|hook-result|DOM0-FAIL|MARK store|-OK$$' \
		$(B)/xen-smoke/restart-serial.log | grep -v '^\[ *[0-9.]*\] smoke[0-9]*| GUEST-RESTART'; \
	grep -E '^\[ *[0-9.]*\] smoke[0-9]*\| GUEST-RESTART' $(B)/xen-smoke/restart-serial.log; \
	tail -n 17 $(B)/xen-smoke/restart.log; \
	echo "xen-restart: exit $$rc after $$(( $$(date +%s) - start )) s (log $(B)/xen-smoke/restart.log, serial $(B)/xen-smoke/restart-serial.log)"; \
	exit $$rc

.PHONY: xen-restart
