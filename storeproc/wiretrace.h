/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wiretrace.h - the wire trace of -T/--trace-file, in cxenstored 4.17's
 * format, written to the descriptor the broker hands over (IPC_TRACE_FD):
 *
 *   IN 0x5 20261126 09:30:01 READ (/local/domain/0/name )
 *   OUT 0x5 20261126 09:30:01 READ (Domain-0)
 *   CREATE connection 0x5
 *   DESTROY connection 0x5
 *
 * Where cxenstored prints the connection's address we print its id (as
 * hex, so lines keep their shape); NUL bytes of a payload show as
 * spaces; times are UTC (the store process is chrooted away from the
 * time zone files).  Each (re)opened trace starts with "\n***\n".
 * Replies and watch events are traced when queued, not when written.
 */
#ifndef LIXS_WIRETRACE_H
#define LIXS_WIRETRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "storeproc.h"

struct conn;

/* Take over `fd` (owned from now; -1: tracing off), closing the old one. */
void wiretrace_set_fd(struct storeproc *sp, int fd);

/* One message in (`out` false) or out; `body` holds hdr->len bytes.
 * Only while tracing: call wiretrace_msg. */
void wiretrace_put_msg(struct storeproc *sp, const struct conn *c, bool out,
		       const struct xsd_sockmsg *hdr, const void *body);

/* The check inline: wiretrace_put_msg's line buffer (4 KiB, probed
 * page by page) would otherwise be set up for every message, traced
 * or not. */
static inline void wiretrace_msg(struct storeproc *sp, const struct conn *c,
				 bool out, const struct xsd_sockmsg *hdr,
				 const void *body)
{
	if (sp->trace_fd > 2)
		wiretrace_put_msg(sp, c, out, hdr, body);
}

/* A connection was made (`created`) or closed. */
void wiretrace_conn(struct storeproc *sp, const struct conn *c, bool created);

#endif
