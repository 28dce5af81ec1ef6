/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store.h - the data model of the store process: the node tree, its
 * permissions and its transactions, as one interface.
 *
 * The protocol side (dispatch.c and the ops_*.c handlers) parses a
 * request, canonicalizes its path with path.h, and calls exactly one of
 * the functions below.  Everything here is independent of connections
 * and the wire: a caller is described by struct caller, a change is
 * reported through struct store_event_sink.
 *
 * Conventions
 * - Paths passed in are canonical and absolute (path_canonicalize() has
 *   accepted them); only store_get_perms/store_set_perms also accept the
 *   special "@..." names.
 * - Return 0 or a positive errno value with upstream's meaning (ENOENT,
 *   EACCES, EINVAL, ENOMEM, ENOSPC, EAGAIN, EPERM, ...), which the caller
 *   sends to the client unchanged.  Nothing here logs a client's error.
 * - `txn` is NULL to act on the committed tree, or a transaction from
 *   store_txn_start() to act on its private view.
 * - Pointers handed out (store_read's value) stay valid until the next
 *   call that modifies the store or ends a transaction; copy them first.
 * - Permission checks follow cxenstored 4.17: a privileged caller passes
 *   every check; otherwise perms_for() decides.
 */
#ifndef LIXS_STORE_H
#define LIXS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "perms.h"

struct store;
struct txn;

/* A change to report to watches (see watch.h). */
struct store_event {
	const char *path;	/* absolute (or "@..." special) name of the node */
	bool exact;		/* true: only watches on exactly `path` match
				 * (nodes strictly below the root of an RM);
				 * false: watches on `path` or any ancestor */
	struct perm_list perms;	/* the node's perms when it changed (a
				 * removed node's last perms); n == 0 when
				 * the node does not exist after a commit */
	const struct perm_list *parent_perms; /* its parent's perms, or NULL */
	const struct perm_list *old_perms;    /* SET_PERMS: perms before, else NULL;
					       * at commit: perms when the
					       * transaction first touched it */
};

/*
 * Who may see an event (cxenstored 4.17's watch_permitted()): a watcher
 * with READ on old_perms, on perms or on parent_perms.  When perms.n == 0
 * (removed by a commit) parent_perms is NULL and old_perms is not.
 */

/*
 * Called once per event, in the order upstream fires them: for a plain
 * operation synchronously before the store function returns; for a
 * transaction in store_txn_commit().  The event and what it points to
 * are valid only during the call.
 */
struct store_event_sink {
	void (*fire)(void *ctx, const struct store_event *ev);
	void *ctx;
};

/*
 * A new store holding cxenstored 4.17's initial tree: "/" and "/tool"
 * and "/tool/xenstored" (empty values, perms "n0"), plus the special
 * nodes "@introduceDomain" and "@releaseDomain" (perms "n0").
 * Returns NULL on ENOMEM.  Freed with store_free().
 */
struct store *store_new(void);
void store_free(struct store *st);

struct quota;

/*
 * Enforce cxenstored 4.17's per-domain quotas (quota.h) and account every
 * node for its owner in `q` (not owned; must outlive the store or be
 * detached with NULL first).  Without it (the default) nothing is
 * limited or counted.  The store's existing nodes are counted at once.
 */
void store_set_quota(struct store *st, struct quota *q);

/* READ: *val and *len = the node's value (may be empty; not NUL-terminated). */
int store_read(struct store *st, struct txn *txn, const struct caller *who,
	       const char *path, const void **val, size_t *len);

/*
 * WRITE: set the value, creating the node and any missing ancestors
 * (empty values).  New nodes inherit their parent's perms; an
 * unprivileged creator becomes the owner.  Fires one event for `path`.
 */
int store_write(struct store *st, struct txn *txn, const struct caller *who,
		const char *path, const void *val, size_t len,
		const struct store_event_sink *sink);

/* MKDIR: like WRITE with an empty value, but an existing node is left
 * alone (0, no event). */
int store_mkdir(struct store *st, struct txn *txn, const struct caller *who,
		const char *path, const struct store_event_sink *sink);

/*
 * RM: remove the node and its subtree.  0 if the node is missing but its
 * parent exists; ENOENT if the parent is missing; EINVAL for "/".
 * Fires one event per removed node, children before parents, the root of
 * the removal non-exact and every node below it exact (cxenstored 4.17).
 * In a transaction, events come at commit in the order the transaction
 * first touched the nodes (so parents first), one per node, as 4.17.
 */
int store_rm(struct store *st, struct txn *txn, const struct caller *who,
	     const char *path, const struct store_event_sink *sink);

/* DIRECTORY: append each child name plus a NUL to `out`, in the order
 * the children were created. */
int store_directory(struct store *st, struct txn *txn,
		    const struct caller *who, const char *path, struct buf *out);

/* The same, also giving the node's generation (changes whenever the node
 * does), for DIRECTORY_PART replies. */
int store_directory_gen(struct store *st, struct txn *txn,
			const struct caller *who, const char *path,
			struct buf *out, uint64_t *gen);

/*
 * Every node of the committed tree in pre-order, children in creation
 * order (journal snapshots): fn gets its absolute path (NUL-terminated,
 * pathlen bytes), perms and value, valid during the call only, and
 * `shared`: how many leading bytes the path is known to share with the
 * path of the walk's previous call (0 for the first), which the walk
 * knows from the tree's shape without comparing them (the journal's
 * front coding).  fn's non-zero return ends the walk and is returned;
 * else 0 or ENOMEM.
 */
typedef int store_node_fn(void *ctx, const char *path, size_t pathlen,
			  size_t shared, const struct perm_list *perms,
			  const void *val, size_t vlen);
int store_each_node(struct store *st, store_node_fn *fn, void *ctx);

/* Whether a node of the tree (the root aside) may name domid in its
 * perms; false only when none does (tree_names_domid). */
bool store_names_domid(const struct store *st, uint32_t domid);

/*
 * Where store_journal_path() last found a node: the next walk starts from
 * the deepest node its path shares with that one (a commit's paths are
 * mostly siblings), not from the root.  Zeroed: nothing found yet.  Valid
 * while the tree does not change (the paths of one journal record); the
 * path is the caller's string, which must live as long.
 */
struct store_cursor {
	const char *path;
	size_t len;
	struct node *node;	/* path's node */
};

/*
 * What the journal records of `path` (absolute) after a change: fn for
 * every node on the path not reported since it was made, root first, and
 * for the node itself whatever it was; each is then marked reported.
 * Ancestors a WRITE made carry perms only this report knows, and an
 * ancestor that changed reported itself (every change fires an event).
 * ENOENT (fn not called) when there is no such node; fn's non-zero
 * return ends it and is returned.  `cur` is where the walk starts from
 * and is set to this path's node (unless the path is "/"); on ENOENT it
 * is left as it was.
 */
int store_journal_path(struct store *st, const char *path,
		       struct store_cursor *cur, store_node_fn *fn, void *ctx);
/* A record with reports was lost: no node counts as reported any more. */
void store_journal_forget(struct store *st);

/* The committed perms of `path` (not "@..."), as the tree holds them:
 * valid until the node next changes.  0, ENOENT or EINVAL. */
int store_node_perms(struct store *st, const char *path, struct perm_list *out);

/* GET_PERMS: append the perms as "<mode><domid>\0" entries to `out`.
 * "@..." names get 4.17's answer: EINVAL, or EACCES without READ on "/". */
int store_get_perms(struct store *st, struct txn *txn,
		    const struct caller *who, const char *path, struct buf *out);

/*
 * SET_PERMS: replace the node's perms with `n` >= 1 entries (the first is
 * the owner and the default).  Needs WRITE and ownership as upstream;
 * an unprivileged caller may not change the owner (EPERM).
 */
int store_set_perms(struct store *st, struct txn *txn,
		    const struct caller *who, const char *path,
		    const struct perm *perms, unsigned int n,
		    const struct store_event_sink *sink);

/*
 * Transactions.  Starting one is O(1).  Requests inside it see its own
 * writes; nobody else sees them until commit.  Commit fails with EAGAIN
 * only when a node the transaction read (its value, perms, existence or
 * child list) was changed by someone else since; disjoint work never
 * conflicts (the exact rule is at the top of txn.c).  Watch events of
 * the transaction fire at commit, through `sink`.  Commit returns 0,
 * EAGAIN, or ENOMEM when an allocation failed inside the transaction (as
 * 4.17).  Commit and abort both free the transaction.
 * store_txn_start returns NULL on ENOMEM.
 */
struct txn *store_txn_start(struct store *st);
int store_txn_commit(struct store *st, struct txn *txn,
		     const struct store_event_sink *sink);
void store_txn_abort(struct store *st, struct txn *txn);

/*
 * Cap the nodes `txn` may touch (4.17's quota_trans_nodes, which applies
 * to unprivileged callers; 0 = no cap, the default).  Past it the
 * request fails with ENOSPC and so does the commit (ENOMEM, as 4.17).
 */
void store_txn_set_limit(struct txn *txn, unsigned int max_nodes);
/* The domain a transaction's refusals are logged for (quota.h). */
void store_txn_set_domid(struct txn *txn, uint32_t domid);
/* Make txn's commit fail with EAGAIN, whatever it did: a transaction
 * open when the store process died (docs/RESTART.md). */
void store_txn_doom(struct txn *txn);

/*
 * The error cxenstored 4.17 sends for a path path_canonicalize() refused
 * (pass its `out`, e.g. "/foo//bar" or "@x" where no special name is
 * allowed), for a request needing `want` (PERM_READ, PERM_WRITE or
 * PERM_WRITE | PERM_OWNER): EINVAL if the nearest existing ancestor
 * grants any of `want`, else EACCES.  Also GET_PERMS of "@..." names.
 */
int store_invalid_path_errno(struct store *st, struct txn *txn,
			     const struct caller *who, const char *path,
			     unsigned int want);

/* The perms of "@introduceDomain" / "@releaseDomain" for filtering their
 * watch events: 0, or EINVAL for any other name.  Valid until the next
 * store_set_perms(). */
int store_special_perms(const struct store *st, const char *name,
			struct perm_list *out);

/* Statistics for CONTROL/memreport and leak tests. */
struct store_stats {
	size_t nodes;		/* committed nodes, "/" included */
	size_t txns;		/* open transactions */
	size_t bytes;		/* approximate heap held by the tree */
	size_t slab_bytes;	/* node storage held (slab.h chunks) */
	size_t slab_free;	/* of it, free or not yet handed out */
	size_t slab_live;	/* nodes in it, unlinked ones included */
	size_t slab_psets;	/* perms lists in it */
};
void store_get_stats(const struct store *st, struct store_stats *out);

#endif
