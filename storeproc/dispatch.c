/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dispatch.c - the message table, the checks every request passes
 * before its handler, and the reply path (dispatch.h).
 */
#include "dispatch.h"

#include <errno.h>
#include <string.h>

#include "conn.h"
#include "journal_io.h"
#include "log.h"
#include "path.h"
#include "quota.h"
#include "xserr.h"
#include "wiretrace.h"

/* Requests with a transaction id consult it; WATCH and UNWATCH ignore
 * it (4.17's XS_FLAG_NOTID). */
#define RD DF_TXN
#define WR (DF_TXN | DF_MODIFY)

static const struct dispatch_row table[DISPATCH_NTYPES] = {
	[XS_CONTROL]		= { "CONTROL", op_control, DF_PRIV | DF_TXN },
	[XS_DIRECTORY]		= { "DIRECTORY", op_directory, RD },
	[XS_READ]		= { "READ", op_read, RD },
	[XS_GET_PERMS]		= { "GET_PERMS", op_get_perms, RD },
	[XS_WATCH]		= { "WATCH", op_watch, 0 },
	[XS_UNWATCH]		= { "UNWATCH", op_unwatch, 0 },
	[XS_TRANSACTION_START]	= { "TRANSACTION_START", op_transaction_start, RD },
	[XS_TRANSACTION_END]	= { "TRANSACTION_END", op_transaction_end, RD },
	[XS_INTRODUCE]		= { "INTRODUCE", op_introduce, DF_PRIV | WR },
	[XS_RELEASE]		= { "RELEASE", op_release, DF_PRIV | WR },
	[XS_GET_DOMAIN_PATH]	= { "GET_DOMAIN_PATH", op_get_domain_path, RD },
	[XS_WRITE]		= { "WRITE", op_write, WR },
	[XS_MKDIR]		= { "MKDIR", op_mkdir, WR },
	[XS_RM]			= { "RM", op_rm, WR },
	[XS_SET_PERMS]		= { "SET_PERMS", op_set_perms, WR },
	/* Sent by the server only. */
	[XS_WATCH_EVENT]	= { "WATCH_EVENT", NULL, 0 },
	[XS_ERROR]		= { "ERROR", NULL, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { "IS_DOMAIN_INTRODUCED",
				      op_is_domain_introduced, DF_PRIV | RD },
	[XS_RESUME]		= { "RESUME", op_resume, DF_PRIV | WR },
	[XS_SET_TARGET]		= { "SET_TARGET", op_set_target, DF_PRIV | WR },
	/* 20 was XS_RESTRICT, removed upstream: no row, ENOSYS. */
	[XS_RESET_WATCHES]	= { "RESET_WATCHES", op_reset_watches, DF_TXN },
	[XS_DIRECTORY_PART]	= { "DIRECTORY_PART", op_directory_part, RD },
	/* Xen 4.21/4.22's; cxenstored 4.17 answers ENOSYS.  GET_FEATURE
	 * of one's own connection is for everyone. */
	[XS_GET_FEATURE]	= { "GET_FEATURE", op_get_feature, RD },
	[XS_SET_FEATURE]	= { "SET_FEATURE", op_set_feature, DF_PRIV | WR },
	[XS_GET_QUOTA]		= { "GET_QUOTA", op_get_quota, DF_PRIV | RD },
	[XS_SET_QUOTA]		= { "SET_QUOTA", op_set_quota, DF_PRIV | WR },
};

/* Scratch buffers above this size are released after the request. */
#define SCRATCH_KEEP 16384u

const struct dispatch_row *dispatch_row(uint32_t type)
{
	if (type >= DISPATCH_NTYPES || !table[type].name)
		return NULL;
	return &table[type];
}

/* Queue one reply of `type`; each request gets exactly one. */
static void send_reply(struct req *r, uint32_t type, const void *data,
		       size_t len)
{
	static const char nomem[] = "ENOMEM";

	if (r->replied) {
		log_err("internal error: second reply to %s",
			dispatch_row(r->hdr->type)->name);
		return;
	}
	r->replied = true;
	if (len > XENSTORE_PAYLOAD_MAX) {
		data = "E2BIG";
		len = sizeof("E2BIG");
		type = XS_ERROR;
	}
	if (!conn_queue_reply(r->sp, r->conn, r->hdr, type, data, len))
		return;
	/* Without memory for the reply, try the short error instead. */
	if (!conn_queue_reply(r->sp, r->conn, r->hdr, XS_ERROR, nomem,
			      sizeof(nomem)))
		return;
	log_err("conn %u: no memory for a reply; closing it", r->conn->id);
	conn_close(r->sp, r->conn, false);
}

static void reply_error(struct req *r, int err)
{
	const char *name = xserr_name(err);

	send_reply(r, XS_ERROR, name, strlen(name) + 1);
}

void req_reply(struct req *r, const void *data, size_t len)
{
	send_reply(r, r->hdr->type, data, len);
}

void req_defer(struct req *r)
{
	r->replied = true;
	conn_wait(r->conn, r->hdr);
}

void req_ack(struct req *r)
{
	req_reply(r, "OK", sizeof("OK"));
}

const char *req_onearg(const struct req *r)
{
	uint32_t len = r->hdr->len;

	if (!len || memchr(r->body, '\0', len) != r->body + len - 1)
		return NULL;
	return r->body;
}

unsigned int req_count_strings(const struct req *r, size_t *off,
			       unsigned int max)
{
	const char *p = r->body, *end = r->body + r->hdr->len, *nul;
	unsigned int n = 0;

	while (p < end && (nul = memchr(p, '\0', (size_t)(end - p)))) {
		if (n < max)
			off[n] = (size_t)(p - r->body);
		n++;
		p = nul + 1;
	}
	return n;
}

int req_path(struct req *r, const char *in, unsigned int flags)
{
	struct storeproc *sp = r->sp;
	uint32_t domid = r->conn->who.domid;
	/* The caller's own SET_QUOTA value, else -M. */
	unsigned int max = sp->quota ?
		(unsigned int)quota_limit_for(sp->quota, domid, QUOTA_PATH_MAX) :
		sp->lim.path_max;
	int err = path_canonicalize_limit(domid, in, flags, max, &sp->path);
	size_t len;

	/* A path refused for its length is a quota refusal: logged as the
	 * others are.  "@..." names have the protocol's fixed limit. */
	if (err == EINVAL && max && !path_is_special(sp->path.data) &&
	    (len = path_rel_len(sp->path.data)) > max)
		(void)quota_refuse(sp->quota, domid, QUOTA_PATH_MAX, len, err);
	return err;
}

/* The checks before the handler; 0 to run it, else the error to send. */
static int admit(struct req *r, const struct dispatch_row *row)
{
	const struct conn *c = r->conn;

	if (!row || !row->fn)
		return ENOSYS;
	if ((row->flags & DF_PRIV) && !c->who.priv)
		return EACCES;
	if ((row->flags & (DF_PRIV | DF_MODIFY)) && c->rdonly)
		return EACCES;
	if ((row->flags & DF_TXN) && r->hdr->tx_id) {
		r->txn = conn_txn_find(c, r->hdr->tx_id);
		/* One a store restart ended ends with EAGAIN (RESTART.md). */
		if (!r->txn)
			r->txn = journal_txn_stale(r->sp, r->conn, r->hdr->tx_id);
		if (!r->txn)
			return ENOENT;
	}
	return 0;
}

static void scratch_done(struct buf *b)
{
	if (b->cap > SCRATCH_KEEP)
		buf_free(b);
	else
		buf_reset(b);
}

void dispatch_request(struct storeproc *sp, struct conn *c,
		      const struct xsd_sockmsg *hdr, const char *body)
{
	const struct dispatch_row *row = dispatch_row(hdr->type);
	struct req r = { .sp = sp, .conn = c, .hdr = hdr, .body = body };
	int err;

	wiretrace_msg(sp, c, false, hdr, body);
	if (sp->trace)
		log_info("conn %u: %s req %u tx %u len %u", c->id,
			 row ? row->name : "unknown", hdr->req_id, hdr->tx_id,
			 hdr->len);
	else if (log_debug_enabled())
		log_debug("conn %u: %s req %u tx %u len %u", c->id,
			  row ? row->name : "unknown", hdr->req_id, hdr->tx_id,
			  hdr->len);
	err = admit(&r, row);
	if (!err)
		err = row->fn(&r);
	if (err)
		reply_error(&r, err);
	else if (!r.replied) {
		log_err("internal error: %s sent no reply", row->name);
		reply_error(&r, EIO);
	}
	/* The reply is only queued: the change is kept before it leaves. */
	journal_flush_request(sp, c);
	scratch_done(&sp->path);
	scratch_done(&sp->out);
}
