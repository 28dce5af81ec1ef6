# SPDX-License-Identifier: GPL-2.0-only
#
# seccomp.mk - the store process's sandbox: libseccomp and libcap-ng,
# the profile parser/loader, and the default profile compiled in from
# seccomp/default.profile (so the store process needs no file at run time).

STORE_LIBS += -lseccomp -lcap-ng

SECCOMP_OBJ := $(call obj,seccomp/profile.c)

# Each profile as a C string literal, one line a line.
$(B)/gen/%_profile.inc: seccomp/%.profile seccomp/seccomp.mk
	@mkdir -p $(dir $@)
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $< >$@.tmp
	mv $@.tmp $@

$(SECCOMP_OBJ): $(B)/gen/default_profile.inc $(B)/gen/broker_profile.inc
$(SECCOMP_OBJ): CPPFLAGS += -I$(B)/gen

$(B)/lixs-storeproc: $(SECCOMP_OBJ)
$(B)/tests/test_seccomp_profile: $(SECCOMP_OBJ)

# The store process runs as this user by default; `make check` runs the
# suite as root with the sandbox on, so the user must exist.
STORE_USER ?= lixs
store-user:
	@getent passwd $(STORE_USER) >/dev/null || \
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin $(STORE_USER)

CHECK_EXTRA += store-user
.PHONY: store-user

# The broker confines itself once it serves (seccomp/broker_confine.c),
# with the same parser and loader and its own built-in profile.
BROKER_LIBS += -lseccomp -lcap-ng
BROKER_CONFINE_OBJ := $(call obj,seccomp/broker_confine.c)
$(B)/lixs-broker: $(SECCOMP_OBJ) $(BROKER_CONFINE_OBJ)
