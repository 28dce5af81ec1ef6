/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wiretrace.c - the -T wire trace (wiretrace.h).
 *
 * A trace line is built whole and written with one write(2), so lines
 * never interleave; a failed or short write is not retried (a trace that
 * cannot be written must not stall the store, as upstream ignores it).
 */
#include "wiretrace.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "xs_text.h"

/* Room for the prefix, a whole payload and ")\n". */
#define LINE_MAX_LEN (128 + XENSTORE_PAYLOAD_MAX)

static const char *type_name(uint32_t type)
{
	const char *name = xs_type_name(type);

	return name ? name : "**UNKNOWN**";
}

static void put(int fd, const char *s, size_t len)
{
	if (write(fd, s, len) < 0) {
		/* Nothing to do: tracing is best effort. */
	}
}

void wiretrace_set_fd(struct storeproc *sp, int fd)
{
	/* 0-2 are never a trace: a zeroed struct means "off". */
	if (sp->trace_fd > 2)
		close(sp->trace_fd);
	sp->trace_fd = fd > 2 ? fd : -1;
	if (fd >= 0 && fd <= 2)
		close(fd);
	if (sp->trace_fd > 2)
		put(sp->trace_fd, "\n***\n", 5);
}

void wiretrace_put_msg(struct storeproc *sp, const struct conn *c, bool out,
		       const struct xsd_sockmsg *hdr, const void *body)
{
	char line[LINE_MAX_LEN];
	const char *p = body;
	time_t now;
	struct tm tm;
	size_t n, len = hdr->len;
	int k;

	now = time(NULL);
	gmtime_r(&now, &tm);
	k = snprintf(line, sizeof(line), "%s 0x%x %04d%02d%02d %02d:%02d:%02d %s (",
		     out ? "OUT" : "IN", c->id, tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, type_name(hdr->type));
	if (k < 0)
		return;
	n = (size_t)k;
	if (len > XENSTORE_PAYLOAD_MAX)
		len = XENSTORE_PAYLOAD_MAX;
	for (size_t i = 0; i < len; i++)
		line[n++] = p[i] ? p[i] : ' ';
	line[n++] = ')';
	line[n++] = '\n';
	put(sp->trace_fd, line, n);
}

void wiretrace_conn(struct storeproc *sp, const struct conn *c, bool created)
{
	char line[64];
	int k;

	if (sp->trace_fd <= 2)
		return;
	k = snprintf(line, sizeof(line), "%s connection 0x%x\n",
		     created ? "CREATE" : "DESTROY", c->id);
	if (k > 0)
		put(sp->trace_fd, line, (size_t)k);
}
