# SPDX-License-Identifier: GPL-2.0-only
#
# tests/xensim: the Xen stand-in (README.md there).
#   $(B)/xensim.so              LD_PRELOAD for the broker (position-independent,
#                               no sanitizer: it is preloaded into ASan binaries)
#   $(B)/tools/xensim-ctl       toolstack/hypervisor side of the simulated host
#   $(B)/tools/fakeguest        a guest kernel's xenbus frontend
#   $(B)/tools/xensim-selftest  checks xensim.so through the real libxen API

XENSIM_SO_SRC := $(addprefix tests/xensim/,simhost.c simevtchn.c xensim.c \
                 xensim_evtchn.c xensim_mem.c xensim_xc.c)
XENSIM_HOST   := $(call obj,tests/xensim/simhost.c tests/xensim/simevtchn.c)
XENSIM_SO_OBJ := $(patsubst %.c,$(B)/pic/%.o,$(XENSIM_SO_SRC))
XENSIM_CFLAGS := $(filter-out -fsanitize=% -fno-sanitize-recover=% -fPIE,$(CFLAGS)) \
                 -fPIC -fvisibility=hidden
XENSIM_LIBS   := -lxenevtchn -lxengnttab -lxenforeignmemory -lxenctrl

# xenctrl.h uses anonymous unions (its headers #error under strict C11).
$(B)/pic/tests/xensim/xensim_xc.o: XENSIM_CFLAGS += -std=gnu11
$(call obj,tests/xensim/selftest.c): CFLAGS += -std=gnu11

EXTRA_BIN += $(B)/xensim.so $(B)/tools/xensim-ctl $(B)/tools/fakeguest \
             $(B)/tools/xensim-selftest

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XENSIM_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/xensim.so: $(XENSIM_SO_OBJ)
	$(CC) $(XENSIM_CFLAGS) -shared -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack \
		-o $@ $^ -ldl

$(B)/tools/xensim-ctl: $(call obj,tests/xensim/xensim-ctl.c) $(XENSIM_HOST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(B)/tools/fakeguest: $(call obj,tests/xensim/fakeguest.c tests/xensim/guestring.c) \
                      $(XENSIM_HOST) $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(B)/tools/xensim-selftest: $(call obj,tests/xensim/selftest.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(XENSIM_LIBS)

-include $(wildcard $(B)/pic/tests/xensim/*.d)
