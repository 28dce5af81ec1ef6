/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tracefile.c - -T/--trace-file: the wire trace cxenstored writes.
 *
 * The store process writes the trace but has no filesystem, so the
 * broker opens the file (as root, mode 0600 and appending, as 4.17) and
 * hands the descriptor over with IPC_TRACE_FD after every HELLO.  SIGHUP
 * opens the path again, so that a log rotation that moved the file away
 * gets a fresh one, and hands the new descriptor over.
 */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void tracefile_open(struct broker *b)
{
	int fd;

	if (!b->o.tracefile)
		return;
	/* Root opens it: no symlink to follow, no FIFO to block on. */
	fd = open(b->o.tracefile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY |
		  O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0) {
		/* As 4.17: a missing trace is no reason to leave the host without xenstore. */
		log_err("cannot open the trace file %s: %s", b->o.tracefile, strerror(errno));
		return;
	}
	if (b->trace_fd >= 0) {
		close(b->trace_fd);
		log_info("trace file %s reopened", b->o.tracefile);
	}
	b->trace_fd = fd;
	tracefile_send(b);  /* a store process that is up gets the new one */
}

void tracefile_send(struct broker *b)
{
	/* store_send ends a store process that cannot take it: a descriptor
	 * sent without its frame would ride with the next one. */
	if (b->trace_fd >= 0 && store_ready(b) &&
	    !store_send(b, IPC_TRACE_FD, 0, NULL, 0, b->trace_fd))
		log_warn("cannot hand the trace file to the store process");
}
