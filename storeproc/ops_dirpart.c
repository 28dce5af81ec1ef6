/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ops_dirpart.c - DIRECTORY_PART: a directory listing too big for one
 * reply, in chunks.  libxenstore falls back to it when DIRECTORY answers
 * E2BIG.
 *
 * Request "path\0offset\0" (exactly two NULs in the payload; the offset
 * is read as atoi() reads it).  The offset counts bytes into the list of
 * NUL-terminated child names and may point into a name.  Reply:
 *
 *   "<generation>\0" + as many whole names as fit + "\0" if the list
 *   ends in this chunk
 *
 * e.g. children "tool" and "a": offset 0 => "5\0tool\0a\0\0", offset 2 =>
 * "5\0ol\0a\0\0", offset 7 or more => "5\0\0".  A name is taken while the
 * chunk so far plus its length stays below 4096 - len("<gen>\0") - 1, as
 * cxenstored 4.17 counts, so the reply never exceeds 4096 bytes.  The
 * client restarts from offset 0 when the generation changes between
 * chunks: it changes whenever the node does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "store.h"

int op_directory_part(struct req *r)
{
	struct storeproc *sp = r->sp;
	char reply[XENSTORE_PAYLOAD_MAX];
	size_t off[2], genlen, maxlen, len, start;
	const char *list;
	uint64_t gen;
	int err, n;

	if (req_count_strings(r, off, 2) != 2)
		return EINVAL;
	err = req_path(r, r->body, 0);
	if (!err)
		err = store_directory_gen(sp->store, r->txn, &r->conn->who,
					  sp->path.data, &sp->out, &gen);
	if (err)
		return err;
	/* atoi(): the low 32 bits of what strtol() reads; "-1" is huge. */
	start = (unsigned int)strtol(r->body + off[1], NULL, 10);

	n = snprintf(reply, sizeof(reply), "%" PRIu64, gen);
	genlen = (size_t)n + 1;
	list = sp->out.data;
	if (start >= sp->out.len) {
		reply[genlen] = '\0';
		req_reply(r, reply, genlen + 1);
		return 0;
	}
	maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
	len = 0;
	/* The list ends in a NUL, so strlen() stays inside it. */
	while (len + strlen(list + start + len) < maxlen) {
		len += strlen(list + start + len) + 1;
		if (start + len == sp->out.len)
			break;
	}
	memcpy(reply + genlen, list + start, len);
	if (start + len == sp->out.len)
		reply[genlen + len++] = '\0';
	req_reply(r, reply, genlen + len);
	return 0;
}
