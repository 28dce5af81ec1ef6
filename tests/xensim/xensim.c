/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xensim.c - xensim.so's process context, and dom0's xenfs files:
 * open() of /proc/xen/xsd_kva and /proc/xen/xsd_port is sent to the
 * simulated host's files, so the broker's plain open()+mmap() and
 * open()+read() work unchanged.  Everything else passes through.
 *
 * Only the open family is caught: a caller using fopen() would reach
 * glibc's internal open and miss the redirection (the broker uses open).
 */
/* The fortified headers define open() inline; this file must define the
 * real symbol. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim.h"

typedef int (*openat_fn)(int, const char *, int, ...);

/* The .so's single context: one host mapping per process. */
static struct {
	pthread_mutex_t lock;
	int tried;
	int rc;
	struct sim sim;
	openat_fn real_openat;  /* libc's, found on first open */
} ctx = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct sim *xensim_host(int *rc)
{
	pthread_mutex_lock(&ctx.lock);
	if (!ctx.tried) {
		ctx.rc = sim_open_env(&ctx.sim);
		ctx.tried = 1;
	}
	pthread_mutex_unlock(&ctx.lock);
	*rc = ctx.rc;
	return ctx.rc ? NULL : &ctx.sim;
}

/* The host's file for a xenfs path, or NULL to pass the path through. */
static const char *redirect(const char *path, char *buf, size_t len)
{
	const char *dir = getenv("XENSIM_DIR");
	const char *leaf;

	if (!path || !dir || !*dir || strncmp(path, "/proc/xen/", 10) != 0)
		return NULL;
	leaf = path + 10;
	if (strcmp(leaf, "xsd_kva") != 0 && strcmp(leaf, "xsd_port") != 0)
		return NULL;
	if (snprintf(buf, len, "%s/%s", dir, leaf) >= (int)len)
		return NULL;
	return buf;
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	char buf[4096];
	const char *to = redirect(path, buf, sizeof(buf));
	openat_fn real = __atomic_load_n(&ctx.real_openat, __ATOMIC_ACQUIRE);

	if (!real) {
		real = (openat_fn)dlsym(RTLD_NEXT, "openat");
		__atomic_store_n(&ctx.real_openat, real, __ATOMIC_RELEASE);
	}
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	/* xenfs files cannot be created; keep the caller's flags otherwise. */
	if (to)
		return real(AT_FDCWD, to, flags & ~(O_CREAT | O_TRUNC | O_EXCL), 0);
	return real(dirfd, path, flags, mode);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

XSIM_API int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

XSIM_API int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

/* What _FORTIFY_SOURCE builds call when the flags are not constant. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

XSIM_API int __open_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags, 0);
}

XSIM_API int __openat_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags, 0);
}

/* On LP64 the *64 variants are the same calls (O_LARGEFILE is implied). */
XSIM_API int open64(const char *path, int flags, ...) __attribute__((alias("open")));
XSIM_API int openat64(int dirfd, const char *path, int flags, ...)
	__attribute__((alias("openat")));
XSIM_API int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));
XSIM_API int __openat64_2(int dirfd, const char *path, int flags)
	__attribute__((alias("__openat_2")));
