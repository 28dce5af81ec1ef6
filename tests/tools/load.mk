# SPDX-License-Identifier: GPL-2.0-only
#
# tests/tools/load.mk - xsload, the load and fault generator of
# tests/bats/load.bats: unix clients and simulated guests (tests/xensim's
# guest ring and host table) in one process.  Its explicit rule takes
# precedence over the generic $(B)/tools/% one, which would leave out the
# guest side.

XSLOAD_OBJ := $(call obj,tests/tools/xsload.c tests/xensim/guestring.c \
                         tests/xensim/simhost.c tests/xensim/simevtchn.c)

$(call obj,tests/tools/xsload.c): CPPFLAGS += -Itests/xensim

EXTRA_BIN += $(B)/tools/xsload

$(B)/tools/xsload: $(XSLOAD_OBJ) $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# xsdiff (tests/bats/differential.bats) drives guests' rings the same way.
XSDIFF_OBJ := $(call obj,tests/tools/xsdiff.c tests/xensim/guestring.c \
                         tests/xensim/simhost.c tests/xensim/simevtchn.c)

$(call obj,tests/tools/xsdiff.c): CPPFLAGS += -Itests/xensim

$(B)/tools/xsdiff: $(XSDIFF_OBJ) $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^
