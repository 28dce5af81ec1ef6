# SPDX-License-Identifier: GPL-2.0-only
#
# bench/: `make bench` (the top Makefile) runs bench/run-bench.sh; this
# fragment builds its own load tool and adds a short smoke of the bench to
# `make check`:
#   $(B)/tools/xswatch   many watches on unrelated paths (bench/xswatch.c)
#   make bench-smoke     every workload of run-bench.sh, tiny sizes, lixs
#                        and xsfloor only (<= 30 s); fails unless each
#                        workload gave a number for lixs; skipped without
#                        $(SHARED)/peers

EXTRA_BIN   += $(B)/tools/xswatch
CHECK_EXTRA += bench-smoke

$(B)/tools/xswatch: $(call obj,bench/xswatch.c) $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

bench-smoke: $(B)/lixs-broker $(B)/lixs-storeproc $(B)/xensim.so \
             $(B)/tools/xensim-ctl $(B)/tools/fakeguest $(B)/tools/xsraw \
             $(B)/tools/xswatch
	@if [ ! -r $(SHARED)/peers/bench/xsbench.c ]; then \
		echo "bench-smoke: SKIP: no $(SHARED)/peers (xsbench)"; exit 0; fi; \
	echo "BENCH_SMOKE=1 bench/run-bench.sh $(abspath $(B)) $(SHARED)"; \
	BENCH_SMOKE=1 bench/run-bench.sh $(abspath $(B)) $(SHARED) >$(B)/bench-smoke.md && \
	echo "bench-smoke: table in $(B)/bench-smoke.md"

.PHONY: bench-smoke
