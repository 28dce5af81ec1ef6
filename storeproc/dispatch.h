/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dispatch.h - the xenstore message table and the interface between it
 * and the per-message handlers (ops_*.c).
 *
 * One row per message type of xs_wire.h: name, handler, flags.  For
 * every request dispatch_request() decides, in cxenstored 4.17's order:
 * no handler => ENOSYS; privileged-only and the caller is not => EACCES;
 * modifying (or privileged) on a read-only connection => EACCES; the
 * header's tx_id names no open transaction of this connection => ENOENT
 * (for rows that may run in a transaction; the others ignore tx_id);
 * then the handler.  Every request gets exactly one reply, with the
 * request's req_id and tx_id echoed, errors as XS_ERROR "<ENAME>\0".
 */
#ifndef LIXS_DISPATCH_H
#define LIXS_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "storeproc.h"

/* Message types newer than the installed (4.17) xs_wire.h knows; values
 * from Xen 4.21/4.22's.  The table has a row for each. */
#ifndef XS_GET_FEATURE
#define XS_GET_FEATURE 23
#define XS_SET_FEATURE 24
#define XS_GET_QUOTA 25
#define XS_SET_QUOTA 26
#endif
#define DISPATCH_NTYPES (XS_SET_QUOTA + 1)

struct conn;

#define DF_PRIV 0x1u	/* privileged callers only */
#define DF_MODIFY 0x2u	/* changes the store: refused on read-only conns */
#define DF_TXN 0x4u	/* may run in a transaction: tx_id is looked up */

/* One request being handled; lives for the duration of the handler. */
struct req {
	struct storeproc *sp;
	struct conn *conn;
	const struct xsd_sockmsg *hdr;
	const char *body;	/* hdr->len bytes, in the connection's buffer */
	struct txn *txn;	/* the request's transaction, or NULL */
	bool replied;
};

/* A handler returns 0 after req_reply()/req_ack(), or an errno value
 * that becomes the ERROR reply. */
typedef int op_fn(struct req *r);

struct dispatch_row {
	const char *name;
	op_fn *fn;		/* NULL: ENOSYS */
	unsigned int flags;	/* DF_* */
};

/* The row of `type`, or NULL for a number outside the table. */
const struct dispatch_row *dispatch_row(uint32_t type);

/* Handle one complete request of connection c: body is hdr->len bytes. */
void dispatch_request(struct storeproc *sp, struct conn *c,
		      const struct xsd_sockmsg *hdr, const char *body);

/* Reply with `len` bytes (over XENSTORE_PAYLOAD_MAX: ERROR E2BIG), of
 * the request's own type. */
void req_reply(struct req *r, const void *data, size_t len);
/* Reply "OK\0". */
void req_ack(struct req *r);
/* No reply now: the request waits for the broker, and so do the
 * connection's later ones, until conn_wait_done() answers it. */
void req_defer(struct req *r);

/* Argument helpers, 4.17's onearg()/get_strings():
 * req_onearg: the payload if it is one string whose NUL is its last
 * byte, else NULL.  req_count_strings: how many NUL-terminated strings
 * the payload holds (bytes after the last NUL do not count); the first
 * `max` start offsets go to off[]. */
const char *req_onearg(const struct req *r);
unsigned int req_count_strings(const struct req *r, size_t *off,
			       unsigned int max);

/* Canonicalize client path `in` for this connection into sp->path (see
 * path.h; PATH_ALLOW_SPECIAL in flags for "@..." names).  0 or EINVAL/
 * ENOMEM; on EINVAL sp->path still holds the absolute name. */
int req_path(struct req *r, const char *in, unsigned int flags);

/* The store's callbacks report events here: watches fire (ops_watch.c). */
void ops_watch_sink(void *sp, const struct store_event *ev);

/* Handlers (ops_node.c, ops_txn.c, ops_watch.c, ops_domain.c). */
op_fn op_read, op_write, op_mkdir, op_rm, op_directory, op_get_perms,
	op_set_perms;
op_fn op_transaction_start, op_transaction_end;
op_fn op_watch, op_unwatch, op_reset_watches;
op_fn op_get_domain_path, op_is_domain_introduced;
op_fn op_introduce, op_release, op_resume, op_set_target;
op_fn op_control;			/* ops_control.c */
op_fn op_directory_part;		/* ops_dirpart.c */
op_fn op_get_feature, op_set_feature, op_get_quota, op_set_quota; /* ops_feature.c */

#endif
