/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ops_txn.c - TRANSACTION_START and TRANSACTION_END.
 *
 * TRANSACTION_START ignores its payload (4.17 does); the reply is the new
 * id as decimal text plus NUL.  TRANSACTION_END takes "T" (commit) or "F"
 * (abort) and the transaction's id in the header; either way the
 * transaction is gone afterwards, also when the commit fails (EAGAIN).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "quota.h"
#include "store.h"

int op_transaction_start(struct req *r)
{
	struct conn *c = r->conn;
	char id_str[16];
	struct txn *txn;
	unsigned long lim;
	uint32_t id;
	int n;

	/* No nesting. */
	if (r->txn)
		return EBUSY;
	/* 4.17 compares the count before this one with ">", per
	 * connection. */
	lim = r->sp->quota ? quota_limit_for(r->sp->quota, c->who.domid,
					     QUOTA_TRANSACTIONS) :
	      r->sp->lim.transaction;
	if (!c->who.priv && lim && c->ntxns > lim)
		return quota_refuse(r->sp->quota, c->who.domid,
				    QUOTA_TRANSACTIONS, c->ntxns, ENOSPC);
	txn = store_txn_start(r->sp->store);
	if (!txn)
		return ENOMEM;
	if (conn_txn_add(c, txn, &id)) {
		store_txn_abort(r->sp->store, txn);
		return ENOMEM;
	}
	quota_add(r->sp->quota, c->who.domid, QUOTA_TRANSACTIONS, 1);
	store_txn_set_domid(txn, c->who.domid);
	if (!c->who.priv)
		store_txn_set_limit(txn, r->sp->quota ?
				    (unsigned int)quota_limit_for(r->sp->quota,
					c->who.domid, QUOTA_TXN_NODES) :
				    r->sp->lim.trans_nodes);
	n = snprintf(id_str, sizeof(id_str), "%u", id);
	req_reply(r, id_str, (size_t)n + 1);
	return 0;
}

int op_transaction_end(struct req *r)
{
	const char *arg = req_onearg(r);
	struct txn *txn;
	int err = 0;

	if (!arg || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return EINVAL;
	if (!r->txn)
		return ENOENT;
	txn = conn_txn_take(r->conn, r->hdr->tx_id);
	r->txn = NULL;
	quota_add(r->sp->quota, r->conn->who.domid, QUOTA_TRANSACTIONS, -1);
	if (arg[0] == 'T')
		err = store_txn_commit(r->sp->store, txn, &r->sp->sink);
	else
		store_txn_abort(r->sp->store, txn);
	if (err)
		return err;
	req_ack(r);
	return 0;
}
