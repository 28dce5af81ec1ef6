/* SPDX-License-Identifier: GPL-2.0-only */
/* pidfile.c - the pid file init scripts use to find and stop the daemon. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int pidfile_write(const char *path)
{
	/* O_NOFOLLOW: /run is writable by more than us on some hosts. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	int ret = 0;

	if (fd < 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0)
		ret = errno ? errno : EIO;
	if (fd >= 0 && close(fd) && !ret)
		ret = errno;
	if (ret)
		log_err("cannot write pid file %s: %s", path, strerror(ret));
	return ret;
}

void pidfile_remove(const char *path)
{
	if (unlink(path) && errno != ENOENT)
		log_warn("cannot remove pid file %s: %s", path, strerror(errno));
}
