/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * quota.c - per-domain quota counters, the checks against cxenstored
 * 4.17's limits, and the rate-limited refusal log (quota.h).
 *
 * Worked example, domain 5 with -E 1000 owning 999 nodes:
 *   WRITE data/a/b/c (3 new nodes)    -> ENOSPC, nothing created, and
 *     "quota: domain 5 refused nodes (-E/--entry-nb): limit 1000,
 *      999 owned, wanted 3"
 *   WRITE data/x (1 new node)         -> OK, 1000 owned
 *   TS; WRITE data/y; TE T            -> the WRITE is refused (1000 >=
 *     1000) inside the transaction; with 999 owned it is accepted and
 *     the commit is refused (999 + 1 >= 1000), as 4.17 does.
 */
#include "quota.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "storeproc.h"

#define QBUCKETS_MIN 64u
/* Log slot of the soft memory warning, after the quota items. */
#define SLOT_SOFT QUOTA_ITEMS
#define NSLOTS (QUOTA_ITEMS + 1)

struct qdom {
	struct qdom *next;		/* hash chain */
	uint32_t domid;
	unsigned long use[QUOTA_COUNTERS];
	unsigned int own[QUOTA_LIMITS];	/* SET_QUOTA's values, where */
	uint32_t own_set;		/* bit (1 << item) is set */
	/* Refusal log state, from the domain's first refusal on: most
	 * domains are never refused, and on a host of thousands this is
	 * 200 bytes each.  Owned; NULL until then. */
	struct qlog *log;
};

struct qlog {
	uint64_t last_log[NSLOTS];	/* ms; valid when logged[i] */
	unsigned long suppressed[NSLOTS];
	bool logged[NSLOTS];
};

struct quota {
	const struct storeproc_limits *lim;	/* not owned */
	struct qdom **tab;
	uint32_t mask;
	size_t count;
	uint64_t (*now_ms)(void *ctx);
	void *clock_ctx;
	unsigned long nlogged, nsuppressed;
	bool warned_negative;
	bool warned_nomem;
};

static const struct {
	const char *name;
	const char *option;
	size_t off;
	const char *use;	/* what the number in the log line is */
} items[QUOTA_LIMITS] = {
#define LIM(f) offsetof(struct storeproc_limits, f)
	[QUOTA_NODES] = { "nodes", "-E/--entry-nb", LIM(entry_nb), "owned" },
	[QUOTA_WATCHES] = { "watches", "-W/--watch-nb", LIM(watch_nb),
			    "registered" },
	[QUOTA_TRANSACTIONS] = { "transactions", "-t/--transaction",
				 LIM(transaction), "open on the connection" },
	[QUOTA_OUTSTANDING] = { "outstanding", "-Q outstanding=",
				LIM(outstanding), "replies unread; requests wait" },
	[QUOTA_MEMORY] = { "memory", "-Q memory=", LIM(memory), "bytes used" },
	[QUOTA_NODE_SIZE] = { "node-size", "-S/--entry-size", LIM(entry_size),
			      "bytes in the node" },
	[QUOTA_PERMISSIONS] = { "permissions", "-A/--perm-nb", LIM(perm_nb),
				"entries" },
	[QUOTA_PATH_MAX] = { "path-max", "-M/--path-max", LIM(path_max),
			     "characters" },
	[QUOTA_TXN_NODES] = { "transaction-nodes", "-Q transaction-nodes=",
			      LIM(trans_nodes), "nodes touched" },
	[QUOTA_MEMORY_SOFT] = { "soft-memory", "-q memory=", LIM(memory_soft),
				"bytes used" },
#undef LIM
};

static uint64_t monotonic_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct quota *quota_new(const struct storeproc_limits *lim)
{
	struct quota *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->tab = calloc(QBUCKETS_MIN, sizeof(*q->tab));
	if (!q->tab) {
		free(q);
		return NULL;
	}
	q->mask = QBUCKETS_MIN - 1;
	q->lim = lim;
	q->now_ms = monotonic_ms;
	return q;
}

void quota_free(struct quota *q)
{
	if (!q)
		return;
	for (uint32_t i = 0; i <= q->mask; i++) {
		while (q->tab[i]) {
			struct qdom *d = q->tab[i];

			q->tab[i] = d->next;
			free(d->log);
			free(d);
		}
	}
	free(q->tab);
	free(q);
}

void quota_set_clock(struct quota *q, uint64_t (*now_ms)(void *ctx),
		     void *ctx)
{
	q->now_ms = now_ms ? now_ms : monotonic_ms;
	q->clock_ctx = ctx;
}

void quota_log_stats(const struct quota *q, unsigned long *logged,
		     unsigned long *suppressed)
{
	*logged = q ? q->nlogged : 0;
	*suppressed = q ? q->nsuppressed : 0;
}

const char *quota_name(enum quota_item item)
{
	return item < QUOTA_LIMITS ? items[item].name : "?";
}

const char *quota_option(enum quota_item item)
{
	return item < QUOTA_LIMITS ? items[item].option : "?";
}

unsigned long quota_limit(const struct quota *q, enum quota_item item)
{
	if (!q || item >= QUOTA_LIMITS)
		return 0;
	return *(const unsigned int *)(const void *)
		((const char *)q->lim + items[item].off);
}

unsigned int *quota_limit_slot(struct storeproc_limits *lim, enum quota_item item)
{
	return (unsigned int *)(void *)((char *)lim + items[item].off);
}

/* --- the table ------------------------------------------------------- */

static uint32_t slot_of(const struct quota *q, uint32_t domid)
{
	/* Domids are small and dense: a multiplicative spread is enough,
	 * and a guest cannot choose its domid. */
	return (domid * 2654435761u) & q->mask;
}

static struct qdom *find(const struct quota *q, uint32_t domid)
{
	struct qdom *d;

	for (d = q->tab[slot_of(q, domid)]; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

static void grow(struct quota *q)
{
	uint32_t size = (q->mask + 1) * 2, old = q->mask + 1;
	struct qdom **tab = calloc(size, sizeof(*tab)), **otab = q->tab;

	if (!tab)
		return;		/* longer chains, still correct */
	q->tab = tab;
	q->mask = size - 1;
	for (uint32_t i = 0; i < old; i++) {
		while (otab[i]) {
			struct qdom *d = otab[i];
			uint32_t s = slot_of(q, d->domid);

			otab[i] = d->next;
			d->next = tab[s];
			tab[s] = d;
		}
	}
	free(otab);
}

static struct qdom *get(struct quota *q, uint32_t domid)
{
	struct qdom *d = find(q, domid);
	uint32_t s;

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d) {
		if (!q->warned_nomem)
			log_err("quota: out of memory; usage of domain %u is not counted",
				domid);
		q->warned_nomem = true;
		return NULL;
	}
	d->domid = domid;
	s = slot_of(q, domid);
	d->next = q->tab[s];
	q->tab[s] = d;
	if (++q->count > 2 * (size_t)(q->mask + 1))
		grow(q);
	return d;
}

void quota_add(struct quota *q, uint32_t domid, enum quota_item item,
	       long delta)
{
	struct qdom *d;
	unsigned long dec;

	if (!q || item >= QUOTA_COUNTERS || !delta)
		return;
	d = delta > 0 ? get(q, domid) : find(q, domid);
	if (!d) {
		if (delta < 0 && !q->warned_negative) {
			log_err("internal error: quota %s of domain %u drops below zero",
				items[item].name, domid);
			q->warned_negative = true;
		}
		return;
	}
	if (delta > 0) {
		d->use[item] += (unsigned long)delta;
		return;
	}
	dec = (unsigned long)-(delta + 1) + 1;
	if (dec > d->use[item]) {
		if (!q->warned_negative)
			log_err("internal error: quota %s of domain %u drops below zero",
				items[item].name, domid);
		q->warned_negative = true;
		dec = d->use[item];
	}
	d->use[item] -= dec;
}

bool quota_went_negative(const struct quota *q)
{
	return q && q->warned_negative;
}

unsigned long quota_use(const struct quota *q, uint32_t domid,
			enum quota_item item)
{
	const struct qdom *d;

	if (!q || item >= QUOTA_COUNTERS)
		return 0;
	d = find(q, domid);
	return d ? d->use[item] : 0;
}

unsigned long quota_limit_for(const struct quota *q, uint32_t domid,
			      enum quota_item item)
{
	const struct qdom *d;

	if (!q || item >= QUOTA_LIMITS)
		return 0;
	d = find(q, domid);
	if (d && (d->own_set & (1u << item)))
		return d->own[item];
	return quota_limit(q, item);
}

bool quota_has_domain_limit(const struct quota *q, uint32_t domid,
			    enum quota_item item)
{
	const struct qdom *d;

	if (!q || item >= QUOTA_LIMITS)
		return false;
	d = find(q, domid);
	return d && (d->own_set & (1u << item));
}

int quota_set_domain_limit(struct quota *q, uint32_t domid,
			   enum quota_item item, unsigned int val)
{
	struct qdom *d;

	if (!q || item >= QUOTA_LIMITS)
		return EINVAL;
	d = get(q, domid);
	if (!d)
		return ENOMEM;
	d->own[item] = val;
	d->own_set |= 1u << item;
	return 0;
}

int quota_each_domain_limit(const struct quota *q,
			    int (*fn)(void *ctx, uint32_t domid, enum quota_item item,
				      unsigned int val),
			    void *ctx)
{
	int err = 0;

	for (size_t i = 0; q && !err && i <= q->mask; i++)
		for (const struct qdom *d = q->tab[i]; d && !err; d = d->next)
			for (unsigned int item = 0; item < QUOTA_LIMITS && !err; item++)
				if (d->own_set & (1u << item))
					err = fn(ctx, d->domid, (enum quota_item)item,
						 d->own[item]);
	return err;
}

void quota_tree_acct(void *ctx, uint32_t owner, int sign, size_t bytes)
{
	struct quota *q = ctx;

	quota_add(q, owner, QUOTA_NODES, sign);
	quota_add(q, owner, QUOTA_MEMORY, sign * (long)bytes);
}

bool quota_domain_reset(struct quota *q, uint32_t domid)
{
	struct qdom *d;
	unsigned long nodes, node_mem;
	bool own;

	if (!q || !(d = find(q, domid)))
		return false;
	own = d->own_set != 0;
	nodes = d->use[QUOTA_NODES];
	/* Node memory cannot be told apart from output memory here; with
	 * nodes left the memory is kept too (the next accounting of those
	 * nodes needs it), else everything goes. */
	node_mem = nodes ? d->use[QUOTA_MEMORY] : 0;
	if (nodes)
		log_warn("quota: domain %u is gone but still owns %lu nodes; "
			 "they stay counted", domid, nodes);
	memset(d->use, 0, sizeof(d->use));
	d->own_set = 0;
	free(d->log);
	d->log = NULL;
	d->use[QUOTA_NODES] = nodes;
	d->use[QUOTA_MEMORY] = node_mem;
	return own;
}

/* --- refusals -------------------------------------------------------- */

/* Whether slot `slot` of d may log now; counts a suppressed line if not.
 * *before: how many were suppressed since the last line. */
static bool may_log(struct quota *q, struct qdom *d, unsigned int slot,
		    unsigned long *before)
{
	uint64_t now = q->now_ms(q->clock_ctx);
	struct qlog *l = d->log;

	if (!l && !(l = d->log = calloc(1, sizeof(*l)))) {
		/* No memory to limit the rate with: the line goes out. */
		*before = 0;
		q->nlogged++;
		return true;
	}
	if (l->logged[slot] && now - l->last_log[slot] < QUOTA_LOG_WINDOW_MS) {
		l->suppressed[slot]++;
		q->nsuppressed++;
		return false;
	}
	*before = l->suppressed[slot];
	l->suppressed[slot] = 0;
	l->logged[slot] = true;
	l->last_log[slot] = now;
	q->nlogged++;
	return true;
}

static void refuse_log(struct quota *q, uint32_t domid, enum quota_item item,
		       unsigned long use, const char *extra)
{
	struct qdom *d = get(q, domid);
	unsigned long before = 0;
	char more[64] = "";

	if (d && !may_log(q, d, item, &before))
		return;
	if (before)
		snprintf(more, sizeof(more), " (%lu more refused since the last report)",
			 before);
	log_warn("quota: domain %u refused %s (%s%s): limit %lu, %lu %s%s%s",
		 domid, items[item].name, items[item].option,
		 quota_has_domain_limit(q, domid, item) ?
		 ", its own SET_QUOTA value" : "",
		 quota_limit_for(q, domid, item), use, items[item].use, extra,
		 more);
}

int quota_refuse(struct quota *q, uint32_t domid, enum quota_item item,
		 unsigned long use, int err)
{
	if (q && item < QUOTA_ITEMS)
		refuse_log(q, domid, item, use, "");
	return err;
}

/* --- checks ---------------------------------------------------------- */

int quota_check_create(struct quota *q, uint32_t domid, unsigned int n_new)
{
	unsigned long lim = quota_limit_for(q, domid, QUOTA_NODES), use;
	char extra[32];

	if (!lim)
		return 0;
	use = quota_use(q, domid, QUOTA_NODES);
	if (use + n_new <= lim)
		return 0;
	snprintf(extra, sizeof(extra), ", wanted %u", n_new);
	refuse_log(q, domid, QUOTA_NODES, use, extra);
	return ENOSPC;
}

int quota_check_create_txn(struct quota *q, uint32_t domid)
{
	unsigned long lim = quota_limit_for(q, domid, QUOTA_NODES), use;

	if (!lim)
		return 0;
	use = quota_use(q, domid, QUOTA_NODES);
	return use >= lim ? quota_refuse(q, domid, QUOTA_NODES, use, ENOSPC) : 0;
}

int quota_check_commit(struct quota *q, uint32_t domid, long delta)
{
	unsigned long lim = quota_limit_for(q, domid, QUOTA_NODES), use;
	long after;
	char extra[48];

	if (!lim || domid == 0)
		return 0;
	use = quota_use(q, domid, QUOTA_NODES);
	after = (long)use + delta;
	if (after < (long)lim)
		return 0;
	snprintf(extra, sizeof(extra), ", a commit adding %ld", delta);
	refuse_log(q, domid, QUOTA_NODES, use, extra);
	return ENOSPC;
}

int quota_check_node_size(struct quota *q, uint32_t domid, size_t size)
{
	unsigned long lim = quota_limit_for(q, domid, QUOTA_NODE_SIZE);

	if (!lim || size < lim)
		return 0;
	return quota_refuse(q, domid, QUOTA_NODE_SIZE, size, ENOSPC);
}

int quota_check_memory(struct quota *q, uint32_t owner, size_t bytes)
{
	unsigned long hard = quota_limit_for(q, owner, QUOTA_MEMORY), soft, use;
	unsigned long before = 0;
	struct qdom *d;
	char extra[48];

	if (!q || owner == 0)
		return 0;
	soft = quota_limit_for(q, owner, QUOTA_MEMORY_SOFT);
	use = quota_use(q, owner, QUOTA_MEMORY);
	if (hard && use + bytes >= hard) {
		snprintf(extra, sizeof(extra), ", wanted %zu more", bytes);
		refuse_log(q, owner, QUOTA_MEMORY, use, extra);
		return EIO;
	}
	if (soft && use + bytes >= soft && (d = get(q, owner)) &&
	    may_log(q, d, SLOT_SOFT, &before))
		log_warn("quota: domain %u exceeds the soft memory quota (-q memory=): "
			 "limit %lu, in use %lu", owner, soft, use + bytes);
	return 0;
}

/* --- report ---------------------------------------------------------- */

int quota_report_domain(const struct quota *q, uint32_t domid,
			struct buf *out)
{
	static const enum quota_item order[] = {
		QUOTA_NODES, QUOTA_WATCHES, QUOTA_TRANSACTIONS,
		QUOTA_OUTSTANDING, QUOTA_MEMORY,
	};
	char line[64];
	int n = snprintf(line, sizeof(line), "Domain %u:\n", domid);

	if (buf_append(out, line, (size_t)n))
		return ENOMEM;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		n = snprintf(line, sizeof(line), "%-16s: %8lu\n",
			     items[order[i]].name,
			     quota_use(q, domid, order[i]));
		if (buf_append(out, line, (size_t)n))
			return ENOMEM;
	}
	return 0;
}
