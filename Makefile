# SPDX-License-Identifier: GPL-2.0-only
#
# lixs - a privilege-separated xenstore daemon.
#
#   make run      build, then run lixs in the foreground on a local socket
#   make check    install missing Debian packages, build, run every test
#   make bench    lixs beside cxenstored/oxenstored (../shared/peers)
#
# Everything is built below $(B) (default build/); `make check` also
# builds an ASan+UBSan copy in build-asan/ and runs the suite on it.

# `make` alone builds everything: the fragments included below define
# targets of their own, which would otherwise become the default.
.DEFAULT_GOAL := all

VERSION   := 0.1.0
B         ?= build
SHARED    ?= ../shared
PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/lixs
MANDIR    ?= $(PREFIX)/share/man

CC        ?= gcc
SAN       ?= 0
OPT       ?= -O2

WARN      := -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 \
             -Wstrict-prototypes -Wmissing-prototypes -Wvla
HARDEN    := -fstack-protector-strong -fstack-clash-protection -fPIE
LDHARDEN  := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack
ifeq ($(SAN),1)
  OPT     := -O1 -fno-omit-frame-pointer
  HARDEN  += -fsanitize=address,undefined -fno-sanitize-recover=all
  LDHARDEN += -fsanitize=address,undefined
else
  HARDEN  += -D_FORTIFY_SOURCE=3
endif

CPPFLAGS  += -D_GNU_SOURCE -DLIXS_VERSION='"$(VERSION)"' \
             -DLIXS_LIBEXECDIR='"$(LIBEXECDIR)"' \
             -Ilib -Iipc -Ipolicy -Iseccomp -Istoreproc -Ibroker -Itests/unit
CFLAGS    ?= -g
CFLAGS    += $(WARN) $(OPT) $(HARDEN)
LDFLAGS   += $(LDHARDEN)

COMMON_SRC := $(wildcard lib/*.c) $(wildcard ipc/*.c)
POLICY_SRC := $(wildcard policy/*.c)
BROKER_SRC := $(wildcard broker/*.c)
STORE_SRC  := $(filter-out storeproc/main.c,$(wildcard storeproc/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
COMMON_OBJ := $(call obj,$(COMMON_SRC))
POLICY_OBJ := $(call obj,$(POLICY_SRC))
BROKER_OBJ := $(call obj,$(BROKER_SRC))
STORE_OBJ  := $(call obj,$(STORE_SRC))

BROKER_LIBS :=
# zstd: a snapshot's journal records (storeproc/journal_zip.c).
STORE_LIBS  := -lzstd

# Module fragments (seccomp/seccomp.mk, tests/xensim/xensim.mk, ...) may add
# to BROKER_LIBS/STORE_LIBS, EXTRA_BIN (built by `all`) and CHECK_EXTRA
# (targets `make check` runs after the unit tests and before bats).
EXTRA_BIN   :=
CHECK_EXTRA :=
include $(sort $(wildcard */*.mk tests/*/*.mk))

UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
TOOL_BIN := $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRC))

all: $(B)/lixs-broker $(B)/lixs-storeproc $(TOOL_BIN) $(EXTRA_BIN)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libcommon.a: $(COMMON_OBJ) $(POLICY_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/libstore.a: $(STORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/lixs-broker: $(BROKER_OBJ) $(B)/libcommon.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(BROKER_LIBS)

$(B)/lixs-storeproc: $(call obj,storeproc/main.c) $(B)/libstore.a $(B)/libcommon.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(STORE_LIBS)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(B)/libstore.a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(STORE_LIBS)

$(B)/tools/%: $(B)/obj/tests/tools/%.o $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# --- dependencies -----------------------------------------------------------

deps:
	@scripts/install-deps.sh build

deps-check:
	@scripts/install-deps.sh check

# --- running ----------------------------------------------------------------

RUN_DIR ?= $(B)/run
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(RUN_DIR)
	@echo "lixs: serving on $(abspath $(RUN_DIR))/socket (Ctrl-C stops it); in another shell:"
	@echo "    XENSTORED_PATH=$(abspath $(RUN_DIR))/socket xenstore-ls /"
	$(B)/lixs-broker --no-fork \
		--socket-path $(abspath $(RUN_DIR))/socket \
		--socket-ro-path $(abspath $(RUN_DIR))/socket_ro \
		--pid-file $(abspath $(RUN_DIR))/lixs.pid

# --- tests ------------------------------------------------------------------

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "unit: $$t"; $$t; done

# The normal build also runs test-xenstore's 60-second random soak
# (LIXS_SOAK=1); the slower ASan pass keeps its 10-second run.
bats: all
	LIXS_SOAK=1 LIXS_BUILD=$(abspath $(B)) scripts/run-bats.sh bats tests/bats

# The whole suite again on an ASan+UBSan build of both processes.
asan:
	$(MAKE) --no-print-directory B=build-asan SAN=1 all unit
	LIXS_BUILD=$(abspath build-asan) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 scripts/run-bats.sh bats-asan tests/bats

check: deps-check
	@$(MAKE) --no-print-directory all unit $(CHECK_EXTRA)
	@$(MAKE) --no-print-directory bats
	@$(MAKE) --no-print-directory asan

bench: deps-check all
	bench/run-bench.sh $(abspath $(B)) $(SHARED)

clean:
	rm -rf $(B) build-asan

.SECONDARY:

.PHONY: all deps deps-check run unit bats asan check bench clean
