/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_seccomp_profile.c - the seccomp profile parser (seccomp/profile.c):
 * the built-in profile, the format, and every error naming file and line.
 * Loading a filter is tested end to end in tests/bats/sandbox.bats.
 */
#include <errno.h>
#include <stdbool.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"
#include "unit.h"

/* Every syscall profile_parse() insists on, so a test adds only its lines. */
#define BASE "epoll_wait\nread\nwritev\nrecvmsg\nsendmsg\nwrite\nclose\nbrk\nmmap\nmunmap\nmemfd_create\n" \
	"ftruncate\nexit_group\n"
#define BASE_LINES 13

static struct profile prof;
static char err[PROFILE_ERR_MAX];

static int parse(const char *text)
{
	err[0] = '\0';
	return profile_parse("t.profile", text, strlen(text), &prof, err);
}

/* Parsing fails with EINVAL and the message holds `want`. */
static int fails_with(const char *text, const char *want)
{
	int ret = parse(text);

	if (ret != EINVAL || !strstr(err, want)) {
		printf("  got %d '%s', wanted EINVAL '%s'\n", ret, err, want);
		return 0;
	}
	return 1;
}

static int t_default_profile(void)
{
	int ret = profile_parse("built-in", profile_default_text,
				strlen(profile_default_text), &prof, err);

	if (ret) {
		printf("  %s\n", err);
		return 0;
	}
	/* The budget: no more than 30 syscalls. */
	return prof.action == PROFILE_KILL && prof.n >= BASE_LINES && prof.n <= 30;
}

/*
 * A filter is inherited across execve and filters stack, so the broker's
 * must allow everything the store process's allows, or the store dies on
 * a syscall its own profile grants.
 */
static int t_broker_profile_covers_store(void)
{
	static struct profile store;
	int ret = profile_parse("built-in", profile_default_text,
				strlen(profile_default_text), &store, err);

	if (!ret)
		ret = profile_parse("broker", profile_broker_text,
				    strlen(profile_broker_text), &prof, err);
	if (ret) {
		printf("  %s\n", err);
		return 0;
	}
	if (prof.action != PROFILE_DENY)
		return 0;
	for (unsigned int i = 0; i < store.n; i++) {
		bool found = false;

		for (unsigned int j = 0; j < prof.n && !found; j++)
			found = prof.nr[j] == store.nr[i] && !prof.err[j];
		if (!found && store.nr[i] >= 0) {
			printf("  syscall %d (default.profile line %u) not allowed by broker.profile\n",
			       store.nr[i], store.line[i]);
			return 0;
		}
	}
	return 1;
}

static int t_comments_blanks_crlf(void)
{
	return parse("# a comment\n\n   \t\n" BASE "lseek   # why\r\n\tfcntl\n") == 0 &&
	       prof.n == BASE_LINES + 2 && prof.line[BASE_LINES] == 4 + BASE_LINES &&
	       prof.err[BASE_LINES] == 0;
}

static int t_no_final_newline(void)
{
	return parse(BASE "lseek") == 0 && prof.n == BASE_LINES + 1;
}

static int t_unknown_syscall(void)
{
	return fails_with(BASE "lseek\nno_such_call # x\n",
			  "t.profile:15: unknown syscall 'no_such_call'");
}

static int t_bad_syntax(void)
{
	return fails_with("read write\n" BASE, "t.profile:1: bad syntax") &&
	       fails_with(BASE "lseek;\n", "t.profile:14: bad syntax") &&
	       fails_with(BASE "READ\n", "t.profile:14: bad syntax") &&
	       fails_with(BASE "  -lseek\n", "t.profile:14: bad syntax") &&
	       parse(BASE "lseek#no blank needed before a comment\n") == 0;
}

static int t_duplicate(void)
{
	return fails_with("lseek\n" BASE "lseek\n",
			  "t.profile:15: duplicate syscall 'lseek, first on line 1'");
}

static int t_missing_required(void)
{
	/* Without read, the store process could never hear the broker. */
	return fails_with("epoll_wait\nwritev\nrecvmsg\nsendmsg\nwrite\nclose\nbrk\nmmap\nmunmap\n"
			  "memfd_create\nftruncate\nexit_group\n",
			  "t.profile: lacks a syscall the store process cannot run "
			  "without: 'read'") &&
	       profile_required("read") && profile_required("writev") && profile_required("recvmsg") &&
	       profile_required("exit_group") &&
	       profile_required("ftruncate") &&
	       !profile_required("lseek") && !profile_required("nonsense");
}

static int t_errno_lines(void)
{
	if (parse(BASE "socket errno EACCES  # refused, not fatal\n") ||
	    prof.err[BASE_LINES] != EACCES)
		return 0;
	return fails_with(BASE "socket errno EWHAT\n", "t.profile:14: unknown error name 'EWHAT'") &&
	       fails_with(BASE "socket errno\n", "t.profile:14: bad syntax") &&
	       fails_with(BASE "socket errno EACCES more\n", "t.profile:14: bad syntax") &&
	       fails_with(BASE "socket errnoEACCES\n", "t.profile:14: bad syntax") &&
	       /* A required syscall that only fails is as good as missing. */
	       fails_with("read errno EPERM\nepoll_wait\nwritev\nrecvmsg\nsendmsg\nwrite\nclose\nbrk\n"
			  "mmap\nmunmap\nmemfd_create\nftruncate\nexit_group\n",
			  "cannot run without: 'read'");
}

static int t_action(void)
{
	if (parse("@action log  # developing\n" BASE) || prof.action != PROFILE_LOG)
		return 0;
	if (parse(BASE "@action kill\n") || prof.action != PROFILE_KILL)
		return 0;
	if (parse("@action deny\n" BASE) || prof.action != PROFILE_DENY)
		return 0;
	return fails_with("@action log\n@action kill\n" BASE,
			  "t.profile:2: @action given twice '(first on line 1)'") &&
	       fails_with("@action maybe\n" BASE,
			  "t.profile:1: unknown @action (kill, log or deny) 'maybe'") &&
	       fails_with("@include x\n" BASE, "t.profile:1: unknown directive") &&
	       fails_with("@action\n" BASE, "t.profile:1: bad syntax");
}

static int t_not_text(void)
{
	static const char nul[] = BASE "lseek\0write\n";

	return profile_parse("t.profile", nul, sizeof(nul) - 1, &prof, err) == EINVAL &&
	       strstr(err, "NUL byte");
}

static int t_too_many(void)
{
	/* BASE plus distinct real names until one past the limit. */
	static char text[PROFILE_MAX_SYSCALLS * 40];
	size_t len = strlen(BASE);
	unsigned int lines = BASE_LINES, want_line = 0;
	char want[PROFILE_ERR_MAX];

	memcpy(text, BASE, len + 1);
	for (int nr = 0; nr < 1024 && lines <= PROFILE_MAX_SYSCALLS; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(seccomp_arch_native(), nr);
		char probe[64];

		if (name && !strstr(BASE, name) && strlen(name) < 40) {
			snprintf(probe, sizeof(probe), "%s\n", name);
			memcpy(text + len, probe, strlen(probe) + 1);
			len += strlen(probe);
			want_line = ++lines;
		}
		free(name);
	}
	if (lines <= PROFILE_MAX_SYSCALLS)
		return 1;  /* an architecture with fewer syscalls: nothing to test */
	snprintf(want, sizeof(want), "t.profile:%u: too many syscalls (more than %d)",
		 want_line, PROFILE_MAX_SYSCALLS);
	return fails_with(text, want);
}

static int t_other_arch_name(void)
{
	/* A name libseccomp knows but this architecture lacks is accepted
	 * (so one profile serves several architectures) and allows nothing. */
#if defined(__x86_64__)
	return parse(BASE "socketcall\n") == 0 && prof.nr[BASE_LINES] < 0;
#else
	return 1;
#endif
}

static int t_read_file(void)
{
	char path[] = "/tmp/lixs-test-profile.XXXXXX";
	int fd = mkstemp(path), ok;

	if (fd < 0)
		return 0;
	ok = write(fd, BASE "lseek\nbogus_call\n", sizeof(BASE "lseek\nbogus_call\n") - 1) > 0;
	close(fd);
	ok = ok && profile_read(path, &prof, err) == EINVAL && strstr(err, path) &&
	     strstr(err, ":15: unknown syscall 'bogus_call'");
	unlink(path);
	return ok && profile_read("/nonexistent/lixs.profile", &prof, err) == ENOENT &&
	       strstr(err, "/nonexistent/lixs.profile");
}

static const struct unit_case tests[] = {
	{ "the built-in profile parses, <= 30 syscalls", t_default_profile },
	{ "broker.profile allows all that default.profile does", t_broker_profile_covers_store },
	{ "comments, blank lines, CRLF", t_comments_blanks_crlf },
	{ "last line without newline", t_no_final_newline },
	{ "unknown syscall names file and line", t_unknown_syscall },
	{ "bad syntax names the line", t_bad_syntax },
	{ "duplicate names both lines", t_duplicate },
	{ "a missing required syscall is named", t_missing_required },
	{ "NAME errno ENAME", t_errno_lines },
	{ "@action kill|log|deny, once", t_action },
	{ "NUL byte refused", t_not_text },
	{ "more than 128 syscalls refused", t_too_many },
	{ "names of other architectures", t_other_arch_name },
	{ "profile_read: file errors name the file", t_read_file },
};

UNIT_MAIN("seccomp_profile")
