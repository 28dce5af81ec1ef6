/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ops_watch.c - WATCH and UNWATCH, and the sink through which the store's
 * events reach the watch index and from there the connections.
 *
 * Payloads: WATCH and UNWATCH are "path\0token\0": exactly two strings
 * (bytes after the second NUL are ignored, as 4.17 does).  Both ignore
 * the header's tx_id.  RESET_WATCHES ignores its payload (Linux sends
 * "\0", libxenstore nothing).
 */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "path.h"
#include "quota.h"
#include "watch.h"

static void deliver(void *ctx, struct watch_owner *o, const char *data,
		    size_t len)
{
	conn_queue_event(ctx, conn_of_owner(o), data, len);
}

void ops_watch_sink(void *ctx, const struct store_event *ev)
{
	struct storeproc *sp = ctx;

	watch_fire(&sp->watches, ev, deliver, sp);
}

int op_watch(struct req *r)
{
	struct storeproc *sp = r->sp;
	struct conn *c = r->conn;
	const struct watch *w;
	const char *token;
	unsigned long use, lim;
	size_t off[2];
	bool relative;
	int err;

	if (req_count_strings(r, off, 2) != 2)
		return EINVAL;
	token = r->body + off[1];
	relative = r->body[0] != '/' && r->body[0] != '@';
	err = req_path(r, r->body, PATH_ALLOW_SPECIAL);
	if (err)
		return err;
	/* 4.17 reports a duplicate before the quota, which counts the
	 * domain's watches (its connection's without a quota table). */
	use = sp->quota ? quota_use(sp->quota, c->who.domid, QUOTA_WATCHES) :
	      c->wo.count;
	lim = sp->quota ? quota_limit_for(sp->quota, c->who.domid,
					  QUOTA_WATCHES) : sp->lim.watch_nb;
	if (!c->who.priv && lim && use > lim)
		return watch_has(&sp->watches, &c->wo, sp->path.data, token) ?
		       EEXIST : quota_refuse(sp->quota, c->who.domid,
					     QUOTA_WATCHES, use, E2BIG);
	err = watch_add(&sp->watches, &c->wo, sp->path.data, relative, token,
			&w);
	if (err)
		return err;
	/* 4.17 charges a watch's strings to the domain's memory. */
	quota_add(sp->quota, c->who.domid, QUOTA_WATCHES, 1);
	quota_add(sp->quota, c->who.domid, QUOTA_MEMORY,
		  (long)(sp->path.len + strlen(token)));
	c->q_watch_mem += sp->path.len + strlen(token);
	journal_note_watch(sp, c, sp->path.data, relative, token, true);
	req_ack(r);
	/* The event every new watch fires, after the "OK". */
	if (!watch_initial_payload(w, &sp->out))
		conn_queue_event(sp, c, sp->out.data, sp->out.len);
	return 0;
}

int op_unwatch(struct req *r)
{
	size_t off[2];
	int err;

	if (req_count_strings(r, off, 2) != 2)
		return EINVAL;
	/* 4.17 looks up an invalid path too (and finds nothing). */
	err = req_path(r, r->body, PATH_ALLOW_SPECIAL);
	if (err == ENOMEM)
		return err;
	err = watch_remove(&r->sp->watches, &r->conn->wo, r->sp->path.data,
			   r->body + off[1]);
	if (err)
		return err;
	quota_add(r->sp->quota, r->conn->who.domid, QUOTA_WATCHES, -1);
	quota_add(r->sp->quota, r->conn->who.domid, QUOTA_MEMORY,
		  -(long)(r->sp->path.len + strlen(r->body + off[1])));
	r->conn->q_watch_mem -= r->sp->path.len + strlen(r->body + off[1]);
	journal_note_watch(r->sp, r->conn, r->sp->path.data, false, r->body + off[1], false);
	req_ack(r);
	return 0;
}

/*
 * Drop all of the connection's watches and transactions (4.17's
 * do_reset_watches).  Events already queued still go out.  The request
 * may name one of the transactions it ends (XSA-484): nothing here looks
 * at r->txn after the abort.
 */
int op_reset_watches(struct req *r)
{
	conn_quota_drop(r->sp, r->conn);
	watch_remove_all(&r->sp->watches, &r->conn->wo);
	conn_txn_abort_all(r->sp, r->conn);
	r->txn = NULL;
	journal_note_conn(r->sp, r->conn);
	req_ack(r);
	return 0;
}
