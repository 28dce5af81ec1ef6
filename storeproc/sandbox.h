/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sandbox.h - confine the store process before it reads any client byte:
 * an empty root, its own user, no capabilities, tight rlimits, no new
 * privileges, only the descriptors it serves, and a seccomp filter.
 */
#ifndef LIXS_SANDBOX_H
#define LIXS_SANDBOX_H

#include <stdbool.h>

#include "ipc.h"

/* The directory the store process is chrooted to; created when missing. */
#ifndef LIXS_EMPTY_DIR
#define LIXS_EMPTY_DIR "/run/lixs/empty"
#endif
#define LIXS_STORE_USER "lixs"

/* From the command line; strings are borrowed from argv. */
struct sandbox_opts {
	const char *user;            /* --store-user; NULL: LIXS_STORE_USER */
	const char *profile;         /* --seccomp-profile; NULL: built in */
	bool to_syslog;              /* logging goes to syslog (--syslog) */
	int verbosity;               /* for re-opening the log */
};

/*
 * Enter the sandbox, in this fixed order: read the profile, look up the
 * user, close every descriptor but 0-2, the channel's, `epfd` and `timer_fd`
 * (--ring-idle's; -1: none), re-open
 * syslog, install the SIGSYS reporter (seccomp/profile.h: a refused
 * syscall is named, then fatal), chroot to LIXS_EMPTY_DIR, switch user
 * (supplementary groups dropped), drop every capability set, set
 * rlimits, re-arm the parent death signal, no new privileges, not
 * dumpable, load the filter.
 * Returns 0, or 1 after logging which step failed: the caller must then
 * exit, never serve unconfined.
 */
int sandbox_enter(const struct sandbox_opts *o, const struct ipc_link *ipc, int epfd,
		  int timer_fd);

#endif
