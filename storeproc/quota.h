/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * quota.h - per-domain quota accounting of the store process: what each
 * domid uses (nodes it owns, watches, transactions, outstanding replies,
 * memory), the checks against cxenstored 4.17's limits with its boundary
 * rules and errors, and the log line every refusal leaves.
 *
 * The usage lives in a domid-keyed hash of its own, independent of the
 * domain table (domain.h): a domid has a record as soon as it owns a
 * node or opens a connection, introduced or not.
 *
 * Who keeps which counter exact:
 *   nodes, node memory   the tree (tree.h's accounting hook, attached by
 *                        store_set_quota()): every linked node counts for
 *                        the owner in its first perm entry, so creation,
 *                        removal, a commit and an owner change by
 *                        SET_PERMS move the counts with the tree itself,
 *                        and a failed operation that changes nothing
 *                        changes no count (XSA-414/415/421/440);
 *   watches, transactions  ops_watch.c / ops_txn.c / conn.c, at the place
 *                        each is added or dropped;
 *   outstanding, output memory  conn.c's output queue.
 * Counters never go below zero: a decrement past it is clamped (and is
 * a bug, logged once).
 *
 * Limits are read from struct storeproc_limits at each check, so CONTROL
 * "quota set" takes effect at once, unless the domain has its own value
 * (SET_QUOTA <domid>, below).  A limit of 0 disables its check.
 * Privileged callers (dom0) are exempt where 4.17 exempts them: every
 * check below takes the caller's or the owner's privilege into account
 * as documented on the function.
 *
 * Diagnosis: each refusal is logged at LOG_WARNING with the domain, the
 * quota's name (4.17's CONTROL name), the option that raises it, the
 * limit and the use, at most once per domain and quota per
 * QUOTA_LOG_WINDOW_MS; the next line says how many were suppressed.
 */
#ifndef LIXS_QUOTA_H
#define LIXS_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct storeproc_limits;
struct quota;

/* The quotas, by 4.17's CONTROL name.  The first QUOTA_COUNTERS have a
 * per-domain counter; the others are checks on one request. */
enum quota_item {
	QUOTA_NODES,		/* "nodes", -E: nodes owned */
	QUOTA_WATCHES,		/* "watches", -W */
	QUOTA_TRANSACTIONS,	/* "transactions", -t: open ones */
	QUOTA_OUTSTANDING,	/* "outstanding", -Q: replies not yet sent */
	QUOTA_MEMORY,		/* "memory", -Q/-q: bytes (node records +
				 * queued output) */
	QUOTA_COUNTERS,
	QUOTA_NODE_SIZE = QUOTA_COUNTERS, /* "node-size", -S */
	QUOTA_PERMISSIONS,	/* "permissions", -A */
	QUOTA_PATH_MAX,		/* "path-max", -M */
	QUOTA_TXN_NODES,	/* "transaction-nodes", -Q */
	QUOTA_ITEMS,
	/* A limit without a refusal of its own: crossing the soft memory
	 * limit (-q memory=) only logs. */
	QUOTA_MEMORY_SOFT = QUOTA_ITEMS,
	QUOTA_LIMITS
};

#define QUOTA_LOG_WINDOW_MS 10000u

/*
 * 4.17's size of a node record, which -S limits: a 24-byte header, 8
 * bytes per perm entry, the value and the child names with their NULs.
 * The memory quota adds the length of the node's path (4.17's key).
 */
#define QUOTA_RECORD_HDR 24u
#define QUOTA_RECORD_PERM 8u

/*
 * A new, empty table reading its limits from `lim` (not owned; must
 * outlive the table).  NULL on ENOMEM.  quota_free(NULL) is a no-op.
 */
struct quota *quota_new(const struct storeproc_limits *lim);
void quota_free(struct quota *q);

/* The name 4.17's CONTROL "quota" uses for `item`, and its option
 * (item < QUOTA_LIMITS). */
const char *quota_name(enum quota_item item);
const char *quota_option(enum quota_item item);
/* The global limit of `item` (< QUOTA_LIMITS; 0: off). */
unsigned long quota_limit(const struct quota *q, enum quota_item item);
/* Where `lim` keeps the global limit of `item` (< QUOTA_LIMITS). */
unsigned int *quota_limit_slot(struct storeproc_limits *lim, enum quota_item item);

/*
 * Per-domain limits (Xen 4.22's SET_QUOTA with a domid).  A domain's own
 * value of `item` replaces the global one for that domain only, in every
 * check of this file and wherever the callers compare themselves; a
 * domain without one follows the global value, including later changes
 * of it (4.22 instead copies the global values into a domain when it
 * first sees it).  Own values live in the usage record, so they outlive
 * the domain's connection and a re-INTRODUCE, and go with
 * quota_domain_reset() (RELEASE, death), as 4.22's live in its struct
 * domain.  Journal snapshots carry them across a store process restart
 * (journal_io.c).
 *
 * quota_limit_for: the limit that applies to `domid` (0: off).
 * quota_set_domain_limit: 0, or ENOMEM (no record could be made), or
 *   EINVAL for an item out of range.
 * quota_has_domain_limit: whether `domid` has its own value of `item`.
 */
unsigned long quota_limit_for(const struct quota *q, uint32_t domid,
			      enum quota_item item);
int quota_set_domain_limit(struct quota *q, uint32_t domid,
			   enum quota_item item, unsigned int val);
bool quota_has_domain_limit(const struct quota *q, uint32_t domid,
			    enum quota_item item);
/* Call fn for every own value of every domain (a journal snapshot);
 * stops at, and returns, fn's first non-zero return. */
int quota_each_domain_limit(const struct quota *q,
			    int (*fn)(void *ctx, uint32_t domid, enum quota_item item,
				      unsigned int val),
			    void *ctx);

/*
 * Counters (item < QUOTA_COUNTERS).  quota_add applies a signed delta
 * (clamped at 0) and is a no-op on a NULL table or when no memory is
 * left for a new record (logged; the count is then low, never high).
 * quota_use is 0 for a domid without a record.
 */
void quota_add(struct quota *q, uint32_t domid, enum quota_item item,
	       long delta);
/* Whether a counter was ever asked to drop below zero: an internal
 * error, logged once; the unit tests check that counting stays exact. */
bool quota_went_negative(const struct quota *q);
unsigned long quota_use(const struct quota *q, uint32_t domid,
			enum quota_item item);

/*
 * The tree's accounting hook (tree.h's tree_acct_fn; ctx is the struct
 * quota): a node record of `bytes` (path included) enters (sign +1) or
 * leaves (-1) the count of `owner`.
 */
void quota_tree_acct(void *ctx, uint32_t owner, int sign, size_t bytes);

/*
 * Log a refusal of `item` for `domid` at use `use` (rate-limited as
 * above; the limit logged is quota_limit_for(domid)) and return `err`,
 * so a check reads
 *     return quota_refuse(q, domid, QUOTA_NODES, use, ENOSPC);
 * Safe with a NULL table (returns err, logs nothing).
 */
int quota_refuse(struct quota *q, uint32_t domid, enum quota_item item,
		 unsigned long use, int err);

/* --- the checks, with 4.17's boundaries; 0 or the error (logged) ---- */

/* Creating `n_new` nodes outside a transaction, caller unprivileged:
 * 4.17 refuses a node when the count before it is >= -E, so the whole
 * creation fails (ENOSPC, nothing created) unless use + n_new <= -E. */
int quota_check_create(struct quota *q, uint32_t domid, unsigned int n_new);

/* The same inside a transaction: 4.17 compares the committed count
 * only (use >= -E: ENOSPC); the commit checks the total. */
int quota_check_create_txn(struct quota *q, uint32_t domid);

/* Committing a transaction that changes `domid`'s node count by
 * `delta`: 4.17 refuses (ENOSPC) when the result is >= -E, for any
 * domid but 0, whoever commits. */
int quota_check_commit(struct quota *q, uint32_t domid, long delta);

/* A node record of `size` bytes (QUOTA_RECORD_*, no path) written by an
 * unprivileged caller: ENOSPC when size >= -S (4.17's ">="). */
int quota_check_node_size(struct quota *q, uint32_t domid, size_t size);

/* Memory: a node write adding `bytes` to unprivileged owner `owner`
 * (domid != 0): EIO (4.17's write_node_raw answer) when its use plus
 * bytes reaches the hard -Q memory limit.  Crossing the soft -q limit
 * only logs (once per window). */
int quota_check_memory(struct quota *q, uint32_t owner, size_t bytes);

/*
 * The watch (-W, E2BIG when the domain's count before the new one is
 * > limit), transaction (-t, ENOSPC when the connection's count before
 * is > limit), permissions (-A, ENOSPC when n > limit) and outstanding
 * (-Q outstanding, the connection is not served while it has >= limit
 * replies queued) quotas are single comparisons made where the request
 * is handled (ops_watch.c, ops_txn.c, ops_node.c, conn.c), which report
 * refusals with quota_refuse().
 */

/*
 * A domid is gone (RELEASE, death): its next incarnation starts from
 * zero (XSA-483).  Clears every counter, its own limits and the log
 * state; the node
 * count is kept only if the tree still holds nodes it owns (it is exact;
 * domain_release() deletes them or gives them to dom0 first), which is
 * logged.  Call after the domain's connection is closed.  True if it had
 * limits of its own (the journal keeps those: it must hear they went).
 */
bool quota_domain_reset(struct quota *q, uint32_t domid);

/*
 * CONTROL "quota <domid>": append 4.17's usage report to `out`,
 *     "Domain <domid>:\n" then "%-16s: %8d\n" for nodes, watches,
 *     transactions, outstanding and memory,
 * without a terminating NUL (the caller adds it).  0 or ENOMEM.
 */
int quota_report_domain(const struct quota *q, uint32_t domid,
			struct buf *out);

/* For tests: a clock in milliseconds instead of CLOCK_MONOTONIC, and how
 * many refusal lines were logged and suppressed so far. */
void quota_set_clock(struct quota *q, uint64_t (*now_ms)(void *ctx),
		     void *ctx);
void quota_log_stats(const struct quota *q, unsigned long *logged,
		     unsigned long *suppressed);

#endif
