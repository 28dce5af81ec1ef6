/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * profile.h - the store process's seccomp profile: parse one (the
 * built-in default or a --seccomp-profile FILE), check that it keeps what
 * the store process cannot run without, and load it with libseccomp.
 *
 * The format is documented in docs/lixs-seccomp.5: one syscall name a
 * line (allowed), or `NAME errno ENAME` (refused with that error instead
 * of killing), `#` comments, and the directive `@action kill|log|deny`.
 */
#ifndef LIXS_SECCOMP_PROFILE_H
#define LIXS_SECCOMP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

/* What happens to a syscall the profile does not list. */
enum profile_action {
	PROFILE_KILL,   /* report the syscall, then die by SIGSYS (default) */
	PROFILE_LOG,    /* the kernel logs it and lets it run: for developing */
	PROFILE_DENY,   /* the kernel logs it and it fails with EPERM (the broker's) */
};

#define PROFILE_MAX_SYSCALLS 128
#define PROFILE_FILE_MAX 65536    /* bytes; a bigger file is refused */
#define PROFILE_ERR_MAX 320       /* room for "FILE:LINE: message" */

struct profile {
	enum profile_action action;
	unsigned int n;
	/* Native syscall numbers as libseccomp resolves them; negative
	 * for names that exist, but not on this architecture. */
	int nr[PROFILE_MAX_SYSCALLS];
	int err[PROFILE_MAX_SYSCALLS];   /* 0: allowed; else fails with this errno */
	unsigned int line[PROFILE_MAX_SYSCALLS];  /* where each was listed */
};

/* The built-in profiles' texts, NUL-terminated: the store process's
 * (seccomp/default.profile) and the broker's own (seccomp/broker.profile). */
extern const char profile_default_text[];
extern const char profile_broker_text[];

/*
 * Parse `len` bytes of profile text; `name` (a file name, or "built-in")
 * prefixes every error.  Returns 0 with *p filled, or EINVAL with `err`
 * (PROFILE_ERR_MAX bytes, caller's) saying "NAME:LINE: what is wrong", or
 * "NAME: ..." for a required syscall that is missing.
 */
int profile_parse(const char *name, const char *text, size_t len,
		  struct profile *p, char *err);

/*
 * Read and parse the file at `path`.  Returns 0, EINVAL as profile_parse
 * (also for a file over PROFILE_FILE_MAX bytes or holding a NUL byte), or
 * the errno of open/read; `err` says what failed either way.
 */
int profile_read(const char *path, struct profile *p, char *err);

/* Whether `syscall` (a name) is one the store process cannot run without. */
bool profile_required(const char *syscall);

/*
 * Install the profile as this process's seccomp filter for the native
 * architecture only (a syscall of another ABI, e.g. x32 or i386 on
 * x86_64, kills the process).  Sets PR_SET_NO_NEW_PRIVS.  A syscall the
 * profile does not list raises SIGSYS (PROFILE_KILL: the caller's
 * handler reports it, then the process dies) or is logged by the kernel
 * (PROFILE_LOG).  Returns 0 or an errno value, with `err` filled.
 */
int profile_load(const struct profile *p, char *err);

#endif
