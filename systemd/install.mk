# SPDX-License-Identifier: GPL-2.0-only
#
# install.mk - `make install` / `make uninstall`, and libsystemd for the
# broker's sd_notify(READY=1).
#
#   make install [PREFIX=/usr/local] [DESTDIR=] [SYSTEMDUNITDIR=...]
#
# Puts lixs-broker in $(SBINDIR), lixs-storeproc in $(LIBEXECDIR) (where
# the broker looks for it: LIBEXECDIR is compiled in, so a changed PREFIX
# rebuilds the broker), the man pages in $(MANDIR), lixs.service in
# $(SYSTEMDUNITDIR) (inactive until `systemctl enable lixs`), and creates the
# store process's system user when it is missing (not with DESTDIR: a
# staged install is for a package, whose scripts create users).
# NOBUILD=1 installs what $(B) holds without running the build first.

BROKER_LIBS += -lsystemd

SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL        ?= install
LIXS_USER      ?= lixs

INSTALL_MAN8 := docs/lixs-broker.8 docs/lixs-storeproc.8
INSTALL_MAN5 := $(wildcard docs/lixs-seccomp.5)

# The compiled-in LIBEXECDIR: rewritten only when it changes, so that
# `make install PREFIX=/usr` after a plain `make` rebuilds what embeds it.
$(B)/gen/libexecdir: FORCE
	@mkdir -p $(dir $@)
	@echo '$(LIBEXECDIR)' | cmp -s - $@ || echo '$(LIBEXECDIR)' >$@
$(call obj,broker/supervise.c): $(B)/gen/libexecdir

install: $(if $(NOBUILD),,$(B)/lixs-broker $(B)/lixs-storeproc)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0755 $(B)/lixs-broker $(DESTDIR)$(SBINDIR)/lixs-broker
	$(INSTALL) -m 0755 $(B)/lixs-storeproc $(DESTDIR)$(LIBEXECDIR)/lixs-storeproc
	$(INSTALL) -m 0644 $(INSTALL_MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(if $(INSTALL_MAN5),$(INSTALL) -d $(DESTDIR)$(MANDIR)/man5 && \
		$(INSTALL) -m 0644 $(INSTALL_MAN5) $(DESTDIR)$(MANDIR)/man5/)
	sed 's|^ExecStart=/usr/sbin/|ExecStart=$(SBINDIR)/|' systemd/lixs.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/lixs.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/lixs.service
ifeq ($(DESTDIR),)
	@getent passwd $(LIXS_USER) >/dev/null || { \
		echo "install: creating system user $(LIXS_USER)"; \
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin $(LIXS_USER); }
else
	@echo "install: DESTDIR is set, not creating the '$(LIXS_USER)' user;" \
		"the target host needs it: useradd --system --no-create-home" \
		"--shell /usr/sbin/nologin $(LIXS_USER)"
endif

# The user stays: files it may own elsewhere would otherwise be orphaned.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/lixs-broker $(DESTDIR)$(LIBEXECDIR)/lixs-storeproc \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(INSTALL_MAN8))) \
		$(DESTDIR)$(MANDIR)/man5/lixs-seccomp.5 \
		$(DESTDIR)$(SYSTEMDUNITDIR)/lixs.service
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

FORCE:
.PHONY: install uninstall FORCE
