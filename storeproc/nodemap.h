/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nodemap.h - a hash map from a node to a pointer: the tree's side tables
 * for what few nodes have (a child index, transaction readers, a value
 * too big for the node), so that no node carries a pointer for each.
 * Keys are compared by address only; the map owns neither keys nor
 * values.  Internal to tree.c.
 */
#ifndef LIXS_NODEMAP_H
#define LIXS_NODEMAP_H

#include <stddef.h>

struct nodemap_slot {
	const void *key;	/* NULL: free */
	void *val;
};

/* A zeroed struct nodemap is empty and valid. */
struct nodemap {
	struct nodemap_slot *slot;	/* owned; NULL while never used */
	size_t mask;
	size_t used;
};

/* The value of key, NULL if absent. */
void *nodemap_get(const struct nodemap *m, const void *key);
/* Insert or replace (val non-NULL).  Replacing never fails; inserting
 * fails only for want of room nodemap_reserve() did not make: ENOMEM. */
int nodemap_set(struct nodemap *m, const void *key, void *val);
/* Remove key (no-op if absent).  Never shrinks: see nodemap_trim. */
void nodemap_del(struct nodemap *m, const void *key);
/* Room for `more` insertions that cannot fail.  0 or ENOMEM. */
int nodemap_reserve(struct nodemap *m, size_t more);
/* Give back room when mostly empty (undoes reservations). */
void nodemap_trim(struct nodemap *m);
void nodemap_fini(struct nodemap *m);

#endif
