/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ops_feature.c - GET_FEATURE, SET_FEATURE, GET_QUOTA, SET_QUOTA (Xen
 * 4.21/4.22's message types 23-26; cxenstored 4.17 answers ENOSYS).
 * Semantics are cxenstored 4.22's:
 *
 *   GET_FEATURE ""            the caller's own ring features  => "0\0"
 *   GET_FEATURE "domid\0"     privileged: that domain's       => "0\0"
 *   SET_FEATURE "domid\0v\0"  privileged, before INTRODUCE    => "OK\0"
 *   GET_QUOTA   ""            privileged: the quota names     => "nodes ..."
 *   GET_QUOTA   "name\0"      the global value                => "1000\0"
 *   GET_QUOTA   "domid\0name\0"  the value for that domain    => "1000\0"
 *   SET_QUOTA   "name\0v\0"   set the global value            => "OK\0"
 *   SET_QUOTA   "domid\0name\0v\0"  that domain's own value   => "OK\0"
 *
 * lixs serves no ring feature yet (no reconnect, no error field, no watch
 * depth, no DOMID_ANY), so every feature mask is 0 and SET_FEATURE takes
 * only 0.  A per-domain form names a domain of the domain table (or dom0,
 * which is always there), else ENOENT: the store cannot ask the
 * hypervisor about domains it was not told of, as 4.22 does.  A domain's
 * own quota value (quota.h) replaces the global one for it alone until
 * it is released or dies; GET_QUOTA of a domain answers the value that
 * applies to it.  4.22's order of checks: privilege (EACCES, by the
 * dispatcher), the argument count, the domid (EINVAL, ENOENT), then the
 * name and the value (EINVAL).  "Strings" are NUL-terminated; bytes after
 * the last NUL are ignored; numbers are read as atoi() reads them, as
 * upstream.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "journal_io.h"
#include "log.h"
#include "quota.h"

/* Ring feature bits this store serves (xs_wire.h XENSTORE_SERVER_FEATURE_*). */
#define LIXS_FEATURES 0u

/* 4.22's SOFT_PREFIX: "soft-memory" is the soft memory quota. */
#define SOFT_PREFIX "soft-"

struct quota_name {
	const char *name;	/* 4.22's name */
	size_t off;		/* of the unsigned int in storeproc_limits */
	enum quota_item item;	/* quota.h's, for per-domain values */
};

#define LIM(field) offsetof(struct storeproc_limits, field)

/* 4.22's order, which the name list reply keeps; soft values follow
 * their hard one. */
static const struct quota_name quotas[] = {
	{ "nodes", LIM(entry_nb), QUOTA_NODES },
	{ "watches", LIM(watch_nb), QUOTA_WATCHES },
	{ "outstanding", LIM(outstanding), QUOTA_OUTSTANDING },
	{ "memory", LIM(memory), QUOTA_MEMORY },
	{ SOFT_PREFIX "memory", LIM(memory_soft), QUOTA_MEMORY_SOFT },
	{ "transactions", LIM(transaction), QUOTA_TRANSACTIONS },
	{ "transaction-nodes", LIM(trans_nodes), QUOTA_TXN_NODES },
	{ "node-permissions", LIM(perm_nb), QUOTA_PERMISSIONS },
	{ "path-max", LIM(path_max), QUOTA_PATH_MAX },
	{ "node-size", LIM(entry_size), QUOTA_NODE_SIZE },
};

#define NQUOTAS (sizeof(quotas) / sizeof(quotas[0]))

static const struct quota_name *quota_find(const char *name)
{
	for (size_t i = 0; i < NQUOTAS; i++)
		if (strcmp(name, quotas[i].name) == 0)
			return &quotas[i];
	return NULL;
}

/* The global value of quota `qn`. */
static unsigned int *global_value(struct storeproc *sp,
				  const struct quota_name *qn)
{
	return (unsigned int *)(void *)((char *)&sp->lim + qn->off);
}

/* 4.22's parse_domid(): decimal digits only, at most 65535. */
static int parse_domid(const char *s, unsigned int *domid)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v > 65535)
		return EINVAL;
	*domid = (unsigned int)v;
	return 0;
}

/* The domain a per-domain request names: 0 (*d may be NULL for dom0
 * without a ring), EINVAL for a malformed domid, ENOENT for no domain. */
static int find_domain(struct storeproc *sp, const char *domid_str,
		       const struct domain **d)
{
	unsigned int domid;
	int err = parse_domid(domid_str, &domid);

	if (err)
		return err;
	*d = domain_find(&sp->domains, domid);
	return *d || domid == 0 ? 0 : ENOENT;
}

/* Reply with `v` as decimal text and its NUL. */
static void reply_uint(struct req *r, unsigned int v)
{
	char s[16];
	int n = snprintf(s, sizeof(s), "%u", v);

	req_reply(r, s, (size_t)n + 1);
}

/* The NUL-terminated strings of the payload: how many, the first `max`
 * of them in argv[]. */
static unsigned int get_args(const struct req *r, const char **argv,
			     unsigned int max)
{
	size_t off[3];
	unsigned int n = req_count_strings(r, off, max);

	for (unsigned int i = 0; i < n && i < max; i++)
		argv[i] = r->body + off[i];
	return n;
}

int op_get_feature(struct req *r)
{
	const char *argv[1];
	unsigned int n = get_args(r, argv, 1);
	const struct domain *d;
	int err;

	if (n == 0) {
		reply_uint(r, LIXS_FEATURES);
		return 0;
	}
	if (!r->conn->who.priv)
		return EACCES;
	if (n > 1)
		return EINVAL;
	err = find_domain(r->sp, argv[0], &d);
	if (err)
		return err;
	reply_uint(r, LIXS_FEATURES);
	return 0;
}

int op_set_feature(struct req *r)
{
	const char *argv[2];
	const struct domain *d;
	unsigned int v;
	int err;

	if (get_args(r, argv, 2) != 2)
		return EINVAL;
	err = find_domain(r->sp, argv[0], &d);
	if (err)
		return err;
	/* Features are agreed before the guest starts using its ring. */
	if (!d || d->introduced)
		return EBUSY;
	v = (unsigned int)(int)strtol(argv[1], NULL, 10);
	if (v & ~LIXS_FEATURES)
		return EINVAL;
	req_ack(r);
	return 0;
}

int op_get_quota(struct req *r)
{
	struct storeproc *sp = r->sp;
	const struct quota_name *qn;
	const char *argv[2];
	unsigned int n = get_args(r, argv, 2), domid = 0;
	int err = 0;

	if (n > 2)
		return EINVAL;
	if (n == 0) {
		for (size_t i = 0; !err && i < NQUOTAS; i++) {
			if (i)
				err = buf_append(&sp->out, " ", 1);
			if (!err)
				err = buf_append(&sp->out, quotas[i].name,
						 strlen(quotas[i].name));
		}
		if (!err)
			err = buf_append(&sp->out, "", 1);
		if (err)
			return err;
		req_reply(r, sp->out.data, sp->out.len);
		return 0;
	}
	if (n == 2) {
		const struct domain *d;

		err = find_domain(sp, argv[0], &d);
		if (err)
			return err;
		domid = d ? d->domid : 0;
		argv[0] = argv[1];
	}
	qn = quota_find(argv[0]);
	if (!qn)
		return EINVAL;
	if (n == 2 && sp->quota)
		reply_uint(r, (unsigned int)quota_limit_for(sp->quota, domid,
							    qn->item));
	else
		reply_uint(r, *global_value(sp, qn));
	return 0;
}

int op_set_quota(struct req *r)
{
	struct storeproc *sp = r->sp;
	const struct domain *d = NULL;
	const struct quota_name *qn;
	const char *argv[3];
	unsigned int n = get_args(r, argv, 3), val, a = 0;
	int err;

	if (n < 2 || n > 3)
		return EINVAL;
	if (n == 3) {
		err = find_domain(sp, argv[0], &d);
		if (err)
			return err;
		a = 1;
	}
	qn = quota_find(argv[a]);
	/* atoi(): the low 32 bits of what strtol() reads; -1 is 4.22's
	 * "disabled" marker, which no quota may be set to. */
	val = (unsigned int)(int)strtol(argv[a + 1], NULL, 10);
	if (!qn || val == UINT_MAX)
		return EINVAL;
	if (n == 2) {
		*global_value(sp, qn) = val;
		journal_note_quota(sp);
		log_info("quota %s set to %u by conn %u", qn->name, val,
			 r->conn->id);
	} else {
		uint32_t domid = d ? d->domid : 0;

		/* Without a quota table (unit tests) nothing is checked. */
		err = sp->quota ? quota_set_domain_limit(sp->quota, domid,
							 qn->item, val) : 0;
		if (err)
			return err;
		journal_note_quota(sp);
		log_info("quota %s of domain %u set to %u by conn %u", qn->name,
			 domid, val, r->conn->id);
	}
	req_ack(r);
	return 0;
}
