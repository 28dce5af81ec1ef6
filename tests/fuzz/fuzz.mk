# SPDX-License-Identifier: GPL-2.0-only
#
# tests/fuzz: libFuzzer targets (clang), built with their own copy of the
# code under test in $(B)/fuzz/ (ASan + UBSan + fuzzer instrumentation).
#
#   make fuzz [FUZZ_SECONDS=600]   each target for that long, one after the other
#                                  (FUZZ_PARALLEL=1: all at once; FUZZ_TARGETS=...
#                                  picks some of: ipc store ring path seccomp
#                                  journal)
#   make fuzz-smoke                each for FUZZ_SMOKE_SECONDS (20), all at once;
#                                  part of `make check`
#   make fuzz-build                only build $(B)/fuzz/fuzz_*
#
# Runs start from the checked-in seeds (tests/fuzz/corpus/<target>/),
# copied to a temporary working corpus; a crash leaves its input in
# $(B)/fuzz/artifacts/ and fails the run.

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_PARALLEL      ?= 0
FUZZ_TARGETS       := ipc store ring path seccomp journal
FUZZ_SAN           := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS        := $(WARN) -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
                      -fsanitize=fuzzer-no-link

# Everything a target may need; the linker takes only what it uses.  lib/log.c
# is replaced by tests/fuzz/fuzz_log.c (quiet), broker/ringbuf.c is the one
# broker file that is pure memory work.
FUZZ_LIB_SRC := $(filter-out lib/log.c,$(COMMON_SRC)) $(POLICY_SRC) $(STORE_SRC) \
                seccomp/profile.c broker/ringbuf.c tests/fuzz/fuzz_log.c
FUZZ_LIB_OBJ := $(patsubst %.c,$(B)/fuzz/obj/%.o,$(FUZZ_LIB_SRC))
FUZZ_BIN     := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -I$(B)/gen $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/fuzz/obj/seccomp/profile.o: $(B)/gen/default_profile.inc $(B)/gen/broker_profile.inc

$(B)/fuzz/libfuzzlixs.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/fuzz/fuzz_store: $(B)/fuzz/obj/tests/fuzz/store_harness.o

$(B)/fuzz/fuzz_%: $(B)/fuzz/obj/tests/fuzz/fuzz_%.o $(B)/fuzz/libfuzzlixs.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $(filter %.o,$^) \
		$(filter %.a,$^) $(STORE_LIBS)

fuzz-build: $(FUZZ_BIN)

# $(1): seconds per target; $(2): run the targets concurrently (1) or not.
define fuzz_run
	@set -e; mkdir -p $(B)/fuzz/artifacts $(B)/fuzz/logs; pids=""; \
	for t in $(FUZZ_TARGETS); do \
		work=$$(mktemp -d); cp tests/fuzz/corpus/$$t/* $$work/; \
		( rc=0; $(B)/fuzz/fuzz_$$t -max_total_time=$(1) -print_final_stats=1 \
			-artifact_prefix=$(B)/fuzz/artifacts/$$t- $$work \
			>$(B)/fuzz/logs/$$t.log 2>&1 || rc=$$?; \
		  rm -rf $$work; \
		  if [ $$rc -ne 0 ]; then echo "fuzz: $$t FAILED (exit $$rc):"; \
			tail -40 $(B)/fuzz/logs/$$t.log; exit 1; fi; \
		  echo "fuzz: $$t: $$(grep -E '^#[0-9]+.*DONE' $(B)/fuzz/logs/$$t.log | tail -1)" \
		) & \
		if [ "$(2)" = 1 ]; then pids="$$pids $$!"; else wait $$! || exit 1; fi; \
	done; \
	fail=0; for p in $$pids; do wait $$p || fail=1; done; exit $$fail
endef

fuzz: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_SECONDS),$(FUZZ_PARALLEL))

fuzz-smoke: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS),1)

-include $(shell find $(B)/fuzz/obj -name '*.d' 2>/dev/null)

.PHONY: fuzz fuzz-smoke fuzz-build

# --- valgrind ---------------------------------------------------------------
# The store process sandboxes itself (seccomp, chroot), which valgrind cannot
# run under, so the conformance cases' requests are replayed through its own
# reader and dispatcher by tests/fuzz/replay_cases.c, built normally (no
# sanitizer), with valgrind failing on any error or "definitely lost" block.
REPLAY_OBJ := $(call obj,tests/fuzz/replay_cases.c tests/fuzz/store_harness.c \
                         tests/fuzz/fuzz_log.c)
VALGRIND   ?= valgrind

$(B)/fuzz/replay_cases: $(REPLAY_OBJ) $(B)/libstore.a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(STORE_LIBS)

valgrind: $(B)/fuzz/replay_cases
	@if [ "$(SAN)" = 1 ]; then echo "valgrind: needs a SAN=0 build" >&2; exit 2; fi
	$(VALGRIND) -q --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --error-exitcode=1 \
		$(B)/fuzz/replay_cases $(sort $(wildcard tests/conformance/*.cases))

CHECK_EXTRA += valgrind fuzz-smoke
.PHONY: valgrind
