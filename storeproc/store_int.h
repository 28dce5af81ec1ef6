/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store_int.h - what store.c (the committed tree's operations) and txn.c
 * (transactions) share.  Not for the protocol side: it uses store.h.
 */
#ifndef LIXS_STORE_INT_H
#define LIXS_STORE_INT_H

#include "quota.h"
#include "store.h"
#include "tree.h"

enum { SPECIAL_INTRODUCE, SPECIAL_RELEASE, SPECIAL_COUNT };

struct store {
	struct tree tree;
	uint64_t gen;		/* last generation handed out */
	struct pset special[SPECIAL_COUNT];
	struct txn *txns;	/* open transactions (txn.c's list) */
	size_t ntxns;
	struct tblock *tblock_spare;	/* a freed transaction's entry block,
					 * kept for the next one; owned */
	struct buf path;	/* scratch: paths of removed nodes */
	struct quota *quota;	/* not owned; NULL: no quotas */
};

/* A fresh generation for one modification (or one commit). */
static inline uint64_t store_next_gen(struct store *st)
{
	/* A node keeps the low 32 bits (tree.h), which must not be 0. */
	if (!(uint32_t)++st->gen)
		++st->gen;
	return st->gen;
}

/* Length of 4.17's get_parent() of path[0..len): "/" for a top-level
 * name, otherwise everything before the last "/" (after the first). */
size_t store_parent_len(const char *path, size_t len);

/* Perms of a node created below a node with `parent` perms by `who`:
 * a copy, owned by an unprivileged creator.  0, or ENOMEM with out empty. */
int store_inherit_perms(const struct caller *who, const struct pset *parent,
			struct pset *out);

/* Node size (-S) and memory (-Q memory) checks of a node write that
 * makes n's record `size` bytes (tree_record_size()), adding `grow`
 * bytes to its owner `owner`: 0, ENOSPC or EIO (logged). */
int store_check_record(struct store *st, const struct caller *who,
		       uint32_t owner, size_t size, long grow);

/* Fire one event (sink may be NULL: nothing to tell). */
void store_fire(const struct store_event_sink *sink, const char *path,
		bool exact, const struct perm_list *perms,
		const struct perm_list *parent_perms,
		const struct perm_list *old_perms);

/* The transaction side of each store.h operation (txn.c).  Paths are
 * NUL-terminated; arguments as in store.h. */
int txn_read(struct txn *x, const struct caller *who, const char *path,
	     const void **val, size_t *len);
int txn_write(struct txn *x, const struct caller *who, const char *path,
	      const void *val, size_t len);
int txn_mkdir(struct txn *x, const struct caller *who, const char *path);
int txn_rm(struct txn *x, const struct caller *who, const char *path);
int txn_directory(struct txn *x, const struct caller *who, const char *path,
		  struct buf *out, uint64_t *gen);
int txn_get_perms(struct txn *x, const struct caller *who, const char *path,
		  struct buf *out);
int txn_set_perms(struct txn *x, const struct caller *who, const char *path,
		  const struct perm *perms, unsigned int n);
/* The view's perms of path[0..len) for an errno decision; records the
 * access as cxenstored does.  *exists false: pl untouched. */
int txn_peek_perms(struct txn *x, const char *path, size_t len,
		   bool *exists, struct perm_list *pl);
/* The tree's freeze hook (struct noderef), ctx the tree. */
void txn_freeze(void *ctx, struct node *n);
/* Free every open transaction (store_free). */
void txn_free_all(struct store *st);

#endif
