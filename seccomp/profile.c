/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * profile.c - parse, check and load the store process's seccomp profile
 * (format: docs/lixs-seccomp.5).
 *
 * A profile is an allow-list: one syscall name a line, resolved with
 * libseccomp for the native architecture.  The parser is strict, because
 * an operator's typo must not silently widen or narrow the sandbox: an
 * unknown name, a duplicate, stray words or an unknown directive is an
 * error naming the file and line.
 */
#include "profile.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NAME_MAX_LEN 64
#define STR(x) #x
#define XSTR(x) STR(x)
#define PROFILE_MAX_STR XSTR(PROFILE_MAX_SYSCALLS)

#if defined(__SANITIZE_ADDRESS__)
#define LIXS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIXS_SANITIZED 1
#endif
#endif

/*
 * The built-in profile, generated from seccomp/default.profile by the
 * rule in seccomp/seccomp.mk (a C string literal, one line a line).
 */
const char profile_default_text[] =
#include "default_profile.inc"
	;

/* The same for seccomp/broker.profile. */
const char profile_broker_text[] =
#include "broker_profile.inc"
	;

/*
 * Without these the store process cannot start, greet the broker, stay
 * idle, report a refused syscall or exit: a profile lacking one would
 * die at every start, so it is refused up front instead.  Everything
 * else (reading client sockets, for one) fails later, on first use.
 */
static const char *const required[] = {
#ifdef __NR_epoll_wait
	"epoll_wait",	/* the main loop; glibc's epoll_wait() */
#else
	"epoll_pwait",	/* the same on architectures without epoll_wait */
#endif
	"read",		/* the broker's frames */
	"writev",	/* IPC_HELLO */
	"recvmsg",	/* the journal's memfd, handed to every restarted store */
	"sendmsg",	/* the first snapshot's memfd, and the report to syslog */
	"write",	/* the report of a refused syscall on stderr */
	"close",	/* a frame's stray fd is closed on receipt */
	"brk",		/* malloc */
	"mmap",
	"munmap",
	"memfd_create",	/* the journal's snapshot, taken right at start */
	"ftruncate",	/* sizing it (docs/RESTART.md) */
	"exit_group",	/* IPC_SHUTDOWN, the broker gone */
};

bool profile_required(const char *syscall)
{
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!strcmp(required[i], syscall))
			return true;
	return false;
}

static int fail(char *err, const char *name, unsigned int line, const char *what,
		const char *arg)
{
	if (line)
		snprintf(err, PROFILE_ERR_MAX, "%s:%u: %s%s%s%s", name, line, what,
			 arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	else
		snprintf(err, PROFILE_ERR_MAX, "%s: %s%s%s%s", name, what,
			 arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	return EINVAL;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static const char *skip_blank(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* Copy the word at [s, end) into buf; returns its end, or NULL if too long. */
static const char *word(const char *s, const char *end, char *buf, bool directive)
{
	size_t n = 0;

	while (s < end && (is_name_char(*s) || (directive && *s == '-'))) {
		if (n + 1 >= NAME_MAX_LEN)
			return NULL;
		buf[n++] = *s++;
	}
	buf[n] = '\0';
	return s;
}

/* Only blanks and a comment may follow the last word of a line. */
static bool rest_is_comment(const char *s, const char *end)
{
	s = skip_blank(s, end);
	return s == end || *s == '#';
}

static int directive(const char *name, unsigned int line, const char *s,
		     const char *end, struct profile *p, unsigned int *action_line,
		     char *err)
{
	char key[NAME_MAX_LEN], val[NAME_MAX_LEN];

	s = word(s, end, key, true);
	if (!s || strcmp(key, "action"))
		return fail(err, name, line, "unknown directive; known: @action", NULL);
	s = skip_blank(s, end);
	s = word(s, end, val, true);
	if (!s || !*val || !rest_is_comment(s, end))
		return fail(err, name, line, "bad syntax: expected '@action kill|log|deny'",
			    NULL);
	if (*action_line) {
		char prev[32];

		snprintf(prev, sizeof(prev), "(first on line %u)", *action_line);
		return fail(err, name, line, "@action given twice", prev);
	}
	if (!strcmp(val, "kill"))
		p->action = PROFILE_KILL;
	else if (!strcmp(val, "log"))
		p->action = PROFILE_LOG;
	else if (!strcmp(val, "deny"))
		p->action = PROFILE_DENY;
	else
		return fail(err, name, line, "unknown @action (kill, log or deny)", val);
	*action_line = line;
	return 0;
}

/* "EACCES" -> EACCES; 0 for a name glibc does not know. */
static int errno_by_name(const char *ename)
{
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcmp(n, ename))
			return e;
	}
	return 0;
}

static int add_syscall(const char *name, unsigned int line, const char *sys,
		       int errval, struct profile *p, char *err)
{
	int nr = seccomp_syscall_resolve_name(sys);

	if (nr == __NR_SCMP_ERROR)
		return fail(err, name, line, "unknown syscall", sys);
	for (unsigned int i = 0; i < p->n; i++) {
		if (p->nr[i] == nr) {
			char prev[NAME_MAX_LEN + 32];

			snprintf(prev, sizeof(prev), "%s, first on line %u", sys, p->line[i]);
			return fail(err, name, line, "duplicate syscall", prev);
		}
	}
	if (p->n >= PROFILE_MAX_SYSCALLS)
		return fail(err, name, line,
			    "too many syscalls (more than " PROFILE_MAX_STR ")", NULL);
	p->nr[p->n] = nr;
	p->err[p->n] = errval;
	p->line[p->n++] = line;
	return 0;
}

/* An upper-case word (an errno name) at [s, end) into buf; its end or NULL. */
static const char *errno_word(const char *s, const char *end, char *buf)
{
	size_t n = 0;

	while (s < end && ((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) {
		if (n + 1 >= NAME_MAX_LEN)
			return NULL;
		buf[n++] = *s++;
	}
	buf[n] = '\0';
	return n ? s : NULL;
}

/* What may follow a syscall name: nothing, or "errno ENAME"; then a comment. */
static int parse_suffix(const char *name, unsigned int line, const char *s,
			const char *end, int *errval, char *err)
{
	char kw[NAME_MAX_LEN], ename[NAME_MAX_LEN];
	const char *k = skip_blank(s, end), *v, *e;

	*errval = 0;
	if (rest_is_comment(s, end))
		return 0;
	v = word(k, end, kw, false);
	if (k == s || !v || strcmp(kw, "errno"))
		return fail(err, name, line, "bad syntax: expected a syscall name, "
			    "then an optional 'errno ENAME' and # comment", NULL);
	e = errno_word(skip_blank(v, end), end, ename);
	if (!e || skip_blank(v, end) == v || !rest_is_comment(e, end))
		return fail(err, name, line, "bad syntax: expected 'errno' and an error "
			    "name, e.g. 'socket errno EACCES'", NULL);
	*errval = errno_by_name(ename);
	return *errval ? 0 : fail(err, name, line, "unknown error name", ename);
}

static int parse_line(const char *name, unsigned int line, const char *s,
		      const char *end, struct profile *p, unsigned int *action_line,
		      char *err)
{
	char sys[NAME_MAX_LEN];
	const char *e;
	int errval, ret;

	s = skip_blank(s, end);
	if (s == end || *s == '#')
		return 0;
	if (*s == '@')
		return directive(name, line, s + 1, end, p, action_line, err);
	e = word(s, end, sys, false);
	if (!e)
		return fail(err, name, line, "bad syntax: syscall name too long", NULL);
	if (e == s)
		return fail(err, name, line,
			    "bad syntax: expected a syscall name, then an optional # comment",
			    NULL);
	ret = parse_suffix(name, line, e, end, &errval, err);
	return ret ? ret : add_syscall(name, line, sys, errval, p, err);
}

/* Listed as allowed: a required syscall refused with an errno is no use. */
static bool allowed(const struct profile *p, int nr)
{
	for (unsigned int i = 0; i < p->n; i++)
		if (p->nr[i] == nr)
			return !p->err[i];
	return false;
}

int profile_parse(const char *name, const char *text, size_t len,
		  struct profile *p, char *err)
{
	const char *s = text, *end = text + len;
	unsigned int line = 0, action_line = 0;
	int ret;

	*p = (struct profile){ .action = PROFILE_KILL };
	if (memchr(text, '\0', len))
		return fail(err, name, 0, "holds a NUL byte: not a profile", NULL);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;

		line++;
		/* A profile written on Windows is still readable. */
		ret = parse_line(name, line, s,
				 eol > s && eol[-1] == '\r' ? eol - 1 : eol,
				 p, &action_line, err);
		if (ret)
			return ret;
		s = nl ? nl + 1 : end;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!allowed(p, seccomp_syscall_resolve_name(required[i])))
			return fail(err, name, 0,
				    "lacks a syscall the store process cannot run without:",
				    required[i]);
	return 0;
}

int profile_read(const char *path, struct profile *p, char *err)
{
	/* Static: 64 KiB is too big for the stack, and this runs once. */
	static char buf[PROFILE_FILE_MAX + 1];
	size_t len = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = errno;
		snprintf(err, PROFILE_ERR_MAX, "%s: %s", path, strerror(ret));
		return ret;
	}
	while ((n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = errno;
			snprintf(err, PROFILE_ERR_MAX, "%s: %s", path, strerror(ret));
			break;
		}
		len += (size_t)n;
		if (len > PROFILE_FILE_MAX) {
			ret = fail(err, path, 0, "larger than 64 KiB: not a profile", NULL);
			break;
		}
	}
	close(fd);
	return ret ? ret : profile_parse(path, buf, len, p, err);
}

static int load_fail(char *err, const char *what, int rc)
{
	/* libseccomp returns negative errno values. */
	int e = rc < 0 ? -rc : EINVAL;

	snprintf(err, PROFILE_ERR_MAX, "seccomp: %s: %s", what, strerror(e));
	return e;
}

int profile_load(const struct profile *p, char *err)
{
	uint32_t dflt = p->action == PROFILE_LOG  ? SCMP_ACT_LOG :
			p->action == PROFILE_DENY ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_TRAP;
	scmp_filter_ctx ctx;
	int rc = 0;

	/* seccomp_init() allows the native architecture only. */
	ctx = seccomp_init(dflt);
	if (!ctx)
		return load_fail(err, "seccomp_init", -ENOMEM);
	/* A syscall of another ABI must not slip past a list of numbers. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!rc)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	/* Every syscall of both processes runs the filters (the store runs
	 * the broker's too): a binary tree, not a list of ~100 compares. */
	if (!rc)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	/* A refusal that kills nothing must still leave a trace (the audit log). */
	if (!rc && p->action == PROFILE_DENY)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (rc) {
		seccomp_release(ctx);
		return load_fail(err, "filter attributes", rc);
	}
	for (unsigned int i = 0; i < p->n; i++) {
		/* A name that exists elsewhere, not here, has nothing to allow. */
		if (p->nr[i] < 0)
			continue;
		rc = seccomp_rule_add(ctx, p->err[i] ? SCMP_ACT_ERRNO((uint32_t)p->err[i])
						     : SCMP_ACT_ALLOW, p->nr[i], 0);
		if (rc) {
			seccomp_release(ctx);
			return load_fail(err, "adding a rule", rc);
		}
	}
#ifdef LIXS_SANITIZED
	/* The sanitizer runtime's own needs (make asan builds only); ptrace
	 * and the rest last, for LeakSanitizer's exit-time check, which only the broker
	 * (the PROFILE_DENY profile) keeps on once confined. */
	static const char *const sanitizer_extra[] = {
		"madvise", "gettid", "sched_yield", "sigaltstack",
		"ptrace", "open", "getdents", "tgkill",
	};
	size_t n_extra = sizeof(sanitizer_extra) / sizeof(sanitizer_extra[0]);

	for (size_t i = 0; i < n_extra - 4 * (p->action != PROFILE_DENY); i++) {
		int nr = seccomp_syscall_resolve_name(sanitizer_extra[i]);
		bool in_profile = false;

		for (unsigned int j = 0; j < p->n; j++)
			in_profile |= p->nr[j] == nr;
		if (in_profile)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc) {
			seccomp_release(ctx);
			return load_fail(err, "adding a sanitizer rule", rc);
		}
	}
#endif
	if (seccomp_arch_exist(ctx, seccomp_arch_native())) {
		seccomp_release(ctx);
		return load_fail(err, "the filter is not for the native architecture", -EINVAL);
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc ? load_fail(err, "seccomp_load", rc) : 0;
}
