/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemonize.c - detach from the caller, but let the caller's exit status
 * say whether the daemon came up.
 *
 * The process that was started waits on a pipe until the daemon is
 * serving (exit 0) or dies trying (the pipe closes: exit 1), so init
 * scripts see start-up failures instead of a daemon that vanished.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int daemonize(int *ready_fd)
{
	int p[2], nul;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return errno;
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid > 0) {
		ssize_t n;

		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		/* Reap the middle child, or it lingers where init does not reap. */
		waitpid(pid, NULL, 0);
		_exit(n == 1 ? 0 : 1);
	}
	close(p[0]);
	/* Second fork: the daemon is not a session leader, so never gets a tty. */
	if (setsid() < 0 || (pid = fork()) < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/"))
		_exit(1);
	umask(022);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
		_exit(1);
	if (nul > 2)
		close(nul);
	*ready_fd = p[1];
	return 0;
}

void daemonize_ready(int *ready_fd)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, "", 1) != 1) {
		/* The caller is gone already; nothing to tell. */
	}
	close(*ready_fd);
	*ready_fd = -1;
}
