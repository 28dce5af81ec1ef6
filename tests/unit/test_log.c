/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_log.c - lib/log: a stderr line leaves in one write, whole or cut
 * to LOG_LINE_MAX and marked, so the broker's and the store process's
 * lines on one stream never cut into each other.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

/*
 * Log through fn with stderr a SOCK_SEQPACKET socket, which keeps each
 * write() a message of its own; the first message lands in got.
 */
static ssize_t first_write(void (*fn)(void), char *got, size_t size)
{
	int sv[2], saved = dup(STDERR_FILENO);
	ssize_t n = -1;

	if (saved < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		return -1;
	if (dup2(sv[1], STDERR_FILENO) >= 0) {
		fn();
		n = recv(sv[0], got, size, MSG_DONTWAIT);
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(sv[0]);
	close(sv[1]);
	return n;
}

static void log_short(void)
{
	log_open("lixs-test", false, 0);
	log_info("domain %u: ring granted, port %d", 7u, 24);
}

static int t_one_write(void)
{
	static const char want[] = "lixs-test: info: domain 7: ring granted, port 24\n";
	char got[LOG_LINE_MAX + 64];
	ssize_t n = first_write(log_short, got, sizeof(got));

	return n == (ssize_t)strlen(want) && !memcmp(got, want, strlen(want));
}

static void log_long(void)
{
	static char path[2 * LOG_LINE_MAX];

	memset(path, 'a', sizeof(path) - 1);
	log_open("lixs-test", false, 0);
	log_err("cannot write %s", path);
}

static int t_cut(void)
{
	char got[2 * LOG_LINE_MAX];
	ssize_t n = first_write(log_long, got, sizeof(got));

	return n == LOG_LINE_MAX - 1 && !memcmp(got, "lixs-test: error: cannot write aaa", 34) &&
	       !memcmp(got + n - 5, "a...\n", 5);
}

static const struct unit_case tests[] = {
	{ "a line leaves in one write", t_one_write },
	{ "a line too long is cut, marked, and still one write", t_cut },
};

UNIT_MAIN("log")
