/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ops_node.c - the node requests: READ, WRITE, MKDIR, RM, DIRECTORY,
 * GET_PERMS, SET_PERMS.  Each parses its arguments exactly as cxenstored
 * 4.17 does, canonicalizes the path and makes one store.h call.
 *
 * Payloads (every string NUL-terminated unless said otherwise):
 *   READ, MKDIR, RM, DIRECTORY, GET_PERMS   path, its NUL the last byte
 *   WRITE       path, then the value: raw bytes to the end, NULs allowed
 *   SET_PERMS   path, then one or more "<r|w|b|n><domid>" entries
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "journal_io.h"
#include "path.h"
#include "perms.h"
#include "quota.h"
#include "store.h"

/* The single path argument, canonicalized into sp->path. */
static int one_path(struct req *r)
{
	const char *arg = req_onearg(r);

	if (!arg)
		return EINVAL;
	return req_path(r, arg, 0);
}

int op_read(struct req *r)
{
	const void *val;
	size_t len;
	int err = one_path(r);

	if (!err)
		err = store_read(r->sp->store, r->txn, &r->conn->who,
				 r->sp->path.data, &val, &len);
	if (err)
		return err;
	req_reply(r, val, len);
	return 0;
}

int op_write(struct req *r)
{
	const char *nul = memchr(r->body, '\0', r->hdr->len);
	size_t plen;
	int err;

	/* Only the first NUL matters: the value may hold more, and need
	 * not be scanned. */
	if (!nul)
		return EINVAL;
	plen = (size_t)(nul - r->body) + 1;
	err = req_path(r, r->body, 0);
	if (!err)
		err = store_write(r->sp->store, r->txn, &r->conn->who,
				  r->sp->path.data, r->body + plen,
				  r->hdr->len - plen, &r->sp->sink);
	if (err)
		return err;
	req_ack(r);
	return 0;
}

int op_mkdir(struct req *r)
{
	int err = one_path(r);

	if (!err)
		err = store_mkdir(r->sp->store, r->txn, &r->conn->who,
				  r->sp->path.data, &r->sp->sink);
	if (err)
		return err;
	req_ack(r);
	return 0;
}

int op_rm(struct req *r)
{
	int err = one_path(r);

	if (!err)
		err = store_rm(r->sp->store, r->txn, &r->conn->who,
			       r->sp->path.data, &r->sp->sink);
	if (err)
		return err;
	req_ack(r);
	return 0;
}

int op_directory(struct req *r)
{
	int err = one_path(r);

	if (!err)
		err = store_directory(r->sp->store, r->txn, &r->conn->who,
				      r->sp->path.data, &r->sp->out);
	if (err)
		return err;
	req_reply(r, r->sp->out.data, r->sp->out.len);
	return 0;
}

int op_get_perms(struct req *r)
{
	/* 4.17 reads "@..." names through the node path: EINVAL. */
	int err = one_path(r);

	if (!err)
		err = store_get_perms(r->sp->store, r->txn, &r->conn->who,
				      r->sp->path.data, &r->sp->out);
	if (err)
		return err;
	req_reply(r, r->sp->out.data, r->sp->out.len);
	return 0;
}

/*
 * 4.17's order: fewer than two strings => EINVAL; an unprivileged caller
 * naming more than -A entries => ENOSPC; a malformed entry => EINVAL; an
 * owner no domain can ever be => ENOENT; only then the path.  Bytes
 * after the last NUL are ignored.
 */
int op_set_perms(struct req *r)
{
	const char *body = r->body, *last;
	unsigned long lim;
	unsigned int n, count;
	struct perm *perms;
	size_t off[2];
	int err;

	n = req_count_strings(r, off, 2);
	if (n < 2)
		return EINVAL;
	n--;
	lim = r->sp->quota ? quota_limit_for(r->sp->quota, r->conn->who.domid,
					     QUOTA_PERMISSIONS) :
	      r->sp->lim.perm_nb;
	if (!r->conn->who.priv && lim && n > lim)
		return quota_refuse(r->sp->quota, r->conn->who.domid,
				    QUOTA_PERMISSIONS, n, ENOSPC);
	last = memrchr(body, '\0', r->hdr->len);
	perms = malloc(n * sizeof(*perms));
	if (!perms)
		return ENOMEM;
	err = perms_parse(body + off[1], (size_t)(last + 1 - (body + off[1])),
			  perms, n, &count);
	/* 4.17 asks Xen about the owner; a reserved or out-of-range domid
	 * (-1 and 65536 read as such) is absent on every host.  Other domids
	 * are taken: docs/COMPATIBILITY.md, "Perms naming unknown domains". */
	if (!err && count && perms[0].domid >= DOMAIN_ID_RESERVED)
		err = ENOENT;
	if (!err)
		err = req_path(r, body, PATH_ALLOW_SPECIAL);
	if (!err)
		err = store_set_perms(r->sp->store, r->txn, &r->conn->who,
				      r->sp->path.data, perms, count,
				      &r->sp->sink);
	free(perms);
	if (err)
		return err;
	if (path_is_special(r->sp->path.data))
		journal_note_path(r->sp, r->sp->path.data);
	req_ack(r);
	return 0;
}
