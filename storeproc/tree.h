/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tree.h - the committed node tree of the store process: compact nodes
 * in one slab (name and small value in the node itself, a link to a
 * shared perms list), children kept in creation order in an intrusive
 * list, plus a hashed name index once a node has many children, so a
 * lookup costs O(path depth).  Nothing here recurses: deep trees (XSA-418) are
 * walked with the parent/sibling links.
 *
 * Internal to store.c and txn.c; the protocol side uses store.h.
 * Generation stamps are the store's business: this file only keeps them
 * where tree_changed() says.
 */
#ifndef LIXS_TREE_H
#define LIXS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "nodemap.h"
#include "perms.h"
#include "slab.h"

/*
 * A value outside a node: a transaction's view of one, or a node's value
 * too big for the node's own room.  Shared by reference: a transaction
 * that read a big value keeps seeing it after someone else replaced it
 * (cxenstored 4.17 does the same with its per-transaction copy) without
 * copying the bytes; a small one it copies (tree_val_ref), which costs
 * less than a second allocation for every node.  A NULL struct val * is
 * the empty value.
 */
struct val {
	uint32_t ref;
	uint32_t len;
	char data[];
};

struct tree;

/*
 * Permission sets.  A set's list is a reference-counted permset, shared
 * by copies (an inherited list costs a node one link) and never changed
 * while shared: pset_set_owner() copies first.  A NULL permset is the
 * empty list.  Every list lies in its tree's node slab, so that a node
 * reaches its own with a 32-bit link as it reaches its neighbours.
 */
struct permset {
	uint32_t ref;
	uint32_t n;		/* >= 1 */
	struct tree *home;	/* whose slab holds it */
	struct perm e[];
};

struct pset {
	struct permset *s;	/* one reference owned, or NULL */
};

/*
 * A reader of a node's live child list (a transaction's view of it).  The
 * tree calls its freeze hook on a node with readers before the node's
 * child list changes or the node is freed; the hook must unlink them all.
 */
struct noderef {
	struct noderef *next, *prev;	/* the node's readers */
	struct node *node;		/* NULL: not registered */
};

/* struct node.flags: what the tree's side tables hold for the node. */
#define NODE_IDX	0x1u	/* a child index (tree.idx) */
#define NODE_REFS	0x2u	/* readers (tree.refs) */
#define NODE_VOUT	0x4u	/* its value is a struct val (tree.vals) */
#define NODE_SEEN	0x8u	/* a transaction holds it (tree.seen) */
#define NODE_JOURNALED	0x10u	/* its state went into the journal since it
				 * was made (store_journal_path) */

/*
 * What a transaction must compare at commit about a node it touched
 * (txn.c's rule): the node itself, not one created again at its path, and
 * when its value, perms or child list last changed.  Nodes keep only one
 * generation, the last change of any kind (what DIRECTORY_PART reports);
 * the three aspect stamps are kept here, from a transaction's first touch
 * until the last transaction holding the node lets go, so a node nobody
 * holds pays nothing for them (a transaction also holds the nearest
 * ancestor of each node it found absent, whose child list stamp tells it
 * the node still is).  Stamps start at the node's generation and are
 * compared for equality only.
 */
struct nodegen {
	struct node *node;	/* NULL once the node is gone */
	uint32_t users;		/* tree_seen() references */
	uint64_t vgen, pgen, kgen;
};

/* tree_changed(): which aspect. */
enum { TREE_VAL, TREE_PERMS, TREE_KIDS };

/* A value's length fits a node's 16 bits: requests and the journal
 * carry values of at most 4096 bytes (XENSTORE_PAYLOAD_MAX). */
#define TREE_VAL_MAX UINT16_MAX

/* The longest perms list: what a journal record may carry (journal.h's
 * JOURNAL_PERMS_MAX); a request's 4,096 bytes hold at most 1,366
 * entries.  A list lies in the node slab, whose SLAB_MAX fits it. */
#define TREE_PERMS_MAX 2048u

/*
 * A link from a node to another node, or to its perms list: the distance
 * from the node to the linked object in SLAB_ALIGN units, or NLINK_NIL.
 * Every node and perms list of a tree lies in its slab's one range of at
 * most 16 GiB (slab.h), so the distance fits, and five links cost a node
 * 20 bytes instead of 40: on a host of thousands of domains that is a
 * tenth of the store's memory.  Use the accessors below, never the
 * fields.
 */
typedef int32_t nlink;
#define NLINK_NIL INT32_MIN

struct node {
	nlink l_parent;
	nlink l_first;			/* children, oldest first */
	/* Siblings; the first child's prev is the last child, so that
	 * appending needs no link of its own to the tail. */
	nlink l_prev, l_next;
	/* The last change's generation, its low 32 bits: what DIRECTORY_PART
	 * reports (a client compares it between two calls) and where a
	 * transaction's stamps start (struct nodegen keeps them whole, so
	 * which transactions conflict does not depend on the width);
	 * store_next_gen() never makes it 0, "no node" to txn.c.  4 bytes
	 * in every node: 4.4 MiB at 10,000 domains. */
	uint32_t gen;
	nlink l_perms;			/* a permset; first entry: owner */
	/* No child count or child-name bytes: a big directory's index
	 * keeps them, a small one's children are counted (tree.c's
	 * kids_of): 8 bytes in every node, most of which are leaves. */
	uint16_t vlen;			/* value bytes, <= TREE_VAL_MAX */
	uint16_t namelen;		/* paths are far shorter (path.h) */
	uint16_t vroom;			/* bytes after the name's NUL */
	uint8_t flags;			/* NODE_* */
	/* NUL-terminated ("" for "/"), then vroom bytes: the value unless
	 * NODE_VOUT. */
	char name[];
};

/* Integer arithmetic, not pointer: the two are distinct objects. */
static inline void *nlink_follow(const void *from, nlink l)
{
	if (l == NLINK_NIL)
		return NULL;
	return (void *)((uintptr_t)from + (uintptr_t)((int64_t)l * SLAB_ALIGN));
}

static inline nlink nlink_to(const void *from, const void *to)
{
	if (!to)
		return NLINK_NIL;
	return (nlink)((intptr_t)((uintptr_t)to - (uintptr_t)from) /
		       (intptr_t)SLAB_ALIGN);
}

static inline struct node *node_parent(const struct node *n)
{
	return nlink_follow(n, n->l_parent);
}

static inline struct node *node_first(const struct node *n)
{
	return nlink_follow(n, n->l_first);
}

static inline struct node *node_prev(const struct node *n)
{
	return nlink_follow(n, n->l_prev);
}

static inline struct node *node_next(const struct node *n)
{
	return nlink_follow(n, n->l_next);
}

static inline void node_set_parent(struct node *n, const struct node *to)
{
	n->l_parent = nlink_to(n, to);
}

static inline void node_set_first(struct node *n, const struct node *to)
{
	n->l_first = nlink_to(n, to);
}

static inline void node_set_prev(struct node *n, const struct node *to)
{
	n->l_prev = nlink_to(n, to);
}

static inline void node_set_next(struct node *n, const struct node *to)
{
	n->l_next = nlink_to(n, to);
}

/* n's perms, borrowed: valid while n keeps them (the node owns one
 * reference; pset_copy() takes another). */
static inline struct pset node_pset(const struct node *n)
{
	struct pset ps = { nlink_follow(n, n->l_perms) };

	return ps;
}

/*
 * Values up to this size are given room in a new node; a bigger one, or
 * one written later that does not fit, is a struct val of its own.  Small
 * enough that a transaction's copy (tree_val_ref) stays cheap; most
 * values ("1", a port, a domid, a backend path) fit.
 */
#define VAL_INLINE_MAX 64u

typedef void tree_freeze_fn(void *ctx, struct node *n);

/*
 * Quota accounting (quota.h's quota_tree_acct): a linked node's record of
 * `bytes` (tree_record_size() plus its path) enters (+1) or leaves (-1)
 * the count of `owner`, its first perm entry.  Every change of a linked
 * node's owner, perms, value or child list goes through this file and
 * reports the record before (-1) and after (+1), so the counts follow the
 * tree exactly.  Nodes without perms count for nobody.
 */
typedef void tree_acct_fn(void *ctx, uint32_t owner, int sign, size_t bytes);

#define TREE_PCACHE 1024u	/* a power of two */

struct tree {
	struct node *root;
	struct slab mem;	/* every node's storage (slab.h) */
	/* Lists seen lately, one reference each (tree.c's pset_share). */
	struct permset *pcache[TREE_PCACHE];
	/* Side tables (flags in struct node say who has an entry): child
	 * index (struct kidx *, owned), first reader (struct noderef *),
	 * value (struct val *, one reference owned), aspect stamps (struct
	 * nodegen *, owned by their users). */
	struct nodemap idx, refs, vals, seen;
	/* How many linked nodes, the root aside, name each domid in their
	 * perms (key domid + 1, value the count): a dead domain's clean-up
	 * has nothing to look for when its domid is absent.  names_lost: an
	 * insertion failed, the counts may be short, so trust none. */
	struct nodemap names;
	bool names_lost;
	tree_freeze_fn *freeze;	/* see struct noderef; may be NULL */
	void *freeze_ctx;
	tree_acct_fn *acct;	/* may be NULL; set with tree_set_acct */
	void *acct_ctx;
	uint32_t seed;		/* keys the child index hash */
	size_t nodes;		/* linked nodes, root included */
	size_t psets;		/* permsets in the slab */
	size_t bytes;		/* approximate heap held by linked nodes */
};

/* Values.  val_new: len 0 gives *out = NULL; returns 0 or ENOMEM. */
int val_new(const void *data, size_t len, struct val **out);
struct val *val_get(struct val *v);	/* another reference; NULL-safe */
void val_put(struct val *v);		/* drop one; NULL-safe */
static inline size_t val_len(const struct val *v) { return v ? v->len : 0; }
static inline const void *val_data(const struct val *v)
{
	return v ? v->data : "";
}

/* Permission sets.  A zeroed struct pset is empty and valid.  pset_set
 * (a new list in t's slab; E2BIG over TREE_PERMS_MAX entries) and
 * pset_set_owner (a copy in the same slab, if shared) return 0 or
 * ENOMEM, leaving ps as it was on error.  Every list must be cleared
 * before its tree_fini(). */
static inline unsigned int pset_count(const struct pset *ps)
{
	return ps->s ? ps->s->n : 0;
}
struct perm_list pset_list(const struct pset *ps);  /* valid while ps is */
int pset_set(struct pset *ps, struct tree *t, const struct perm *e,
	     unsigned int n);
int pset_set_owner(struct pset *ps, uint32_t domid);	/* first entry */
void pset_copy(struct pset *dst, const struct pset *src);  /* shares */
void pset_move(struct pset *dst, struct pset *src);	/* src emptied */
void pset_clear(struct pset *ps);
size_t pset_heap_bytes(const struct pset *ps);

/* n's perms as a list, and their count. */
static inline struct perm_list node_perms(const struct node *n)
{
	struct pset ps = node_pset(n);

	return pset_list(&ps);
}

static inline unsigned int node_perm_count(const struct node *n)
{
	struct pset ps = node_pset(n);

	return pset_count(&ps);
}

/* dst shares n's perms (a reference of its own). */
static inline void node_pset_copy(struct pset *dst, const struct node *n)
{
	struct pset ps = node_pset(n);

	pset_copy(dst, &ps);
}

/* A tree holding only "/" (empty value, no perms).  0 or ENOMEM. */
int tree_init(struct tree *t, uint32_t seed);
void tree_fini(struct tree *t);		/* frees every node */

uint32_t tree_hash(const struct tree *t, const char *name, size_t len);

/* A node not yet in the tree (zero generations, empty value and perms)
 * with room for a value of `vlen` bytes if vlen <= VAL_INLINE_MAX, or
 * NULL on ENOMEM.  Freed with tree_node_drop() unless appended. */
struct node *tree_node_new(struct tree *t, const char *name, size_t len,
			   size_t vlen);
void tree_node_drop(struct tree *t, struct node *n);
/* Give n, not yet in the tree or not yet counted (the initial root), the
 * perms ps (moved: ps is emptied).  ps's list must be t's (pset_set with
 * t, or a copy of one of t's): a node's link reaches only its own slab. */
void tree_node_set_perms(struct tree *t, struct node *n, struct pset *ps);

struct node *tree_child(const struct tree *t, const struct node *parent,
			const char *name, size_t len);
/*
 * The deepest existing node on an absolute path; *done = how many bytes
 * of `path` it stands for ("/" = 1).  The node is the path's own node
 * iff *done == len.  NULL (done 0) if path does not start with "/".
 */
struct node *tree_walk(const struct tree *t, const char *path, size_t len,
		       size_t *done);
/* The same from `from`, the node of path[0..at) where path[at] is the
 * '/' before the next name (the root: at 0); *done is then at least at
 * (1 for the root). */
struct node *tree_walk_from(const struct tree *t, struct node *from,
			    const char *path, size_t len, size_t at, size_t *done);
struct node *tree_lookup(const struct tree *t, const char *path, size_t len);

/* Make `child` (from tree_node_new) the youngest child of `parent`.
 * Cannot fail: if the index cannot grow, lookups fall back to the list. */
void tree_append(struct tree *t, struct node *parent, struct node *child);

/*
 * Remove `top` and its subtree, children before parents and in creation
 * order (cxenstored 4.17's rm order), calling visit() for each node just
 * before it is freed.  If visit is non-NULL, `path` holds top's absolute
 * path on entry (it is extended in place; tree_subtree_pathmax() says how
 * much room to reserve first).  Returns the number of nodes freed.
 */
typedef void tree_visit_fn(void *ctx, const struct node *n, const char *path);
size_t tree_remove(struct tree *t, struct node *top, struct buf *path,
		   tree_visit_fn *visit, void *ctx);
size_t tree_subtree_pathmax(const struct node *top);

/* Register (0 or ENOMEM) / unregister (no-op if not registered) a reader
 * of n's live child list; the first of n's readers, or NULL. */
int tree_ref(struct tree *t, struct node *n, struct noderef *r);
void tree_unref(struct tree *t, struct noderef *r);
struct noderef *tree_refs(const struct tree *t, const struct node *n);

/* n's aspect stamps, for a transaction's first touch: a new reference
 * (NULL on ENOMEM), let go with tree_unseen(). */
struct nodegen *tree_seen(struct tree *t, struct node *n);
void tree_unseen(struct tree *t, struct nodegen *g);	/* NULL-safe */
/* n's `aspect` changed at generation gen: n->gen and any stamps. */
void tree_changed(const struct tree *t, struct node *n, int aspect,
		  uint64_t gen);

/* strlen of a linked node's path ("/" is 1). */
size_t tree_path_len(const struct node *n);
/* cxenstored 4.17's record size of n (what -S limits): header, perms,
 * value, child names. */
size_t tree_record_size(const struct tree *t, const struct node *n);
/* n's owner (first perm entry), DOMID_NONE without perms. */
uint32_t tree_owner(const struct node *n);

/* Attach (acct non-NULL: every linked node is reported +1 now) or detach
 * the accounting hook. */
void tree_set_acct(struct tree *t, tree_acct_fn *acct, void *ctx);

/* n's value; the bytes stay valid until n's value changes or n goes. */
const void *tree_val_data(const struct tree *t, const struct node *n);
static inline size_t tree_val_len(const struct node *n) { return n->vlen; }
/* n's value as a struct val a transaction may keep: another reference,
 * or a copy of a value held in the node.  0 or ENOMEM. */
int tree_val_ref(const struct tree *t, const struct node *n,
		 struct val **out);
/* Whether a value of len bytes fits n's own room (tree_set_bytes). */
static inline bool tree_val_fits(const struct node *n, size_t len)
{
	return len <= n->vroom;
}

/* Replace the value (reference consumed; copied into the node if it
 * fits), the value by bytes that tree_val_fits(), or perms (moved),
 * keeping the byte count right.  tree_set_val fails (ENOMEM, v dropped,
 * the old value kept) only when a value that does not fit needs a side
 * table entry that tree_reserve_vals() did not make room for, or (E2BIG)
 * when v is over TREE_VAL_MAX, which no request or journal record can
 * carry. */
int tree_set_val(struct tree *t, struct node *n, struct val *v);
int tree_reserve_vals(struct tree *t, size_t n);
void tree_set_bytes(struct tree *t, struct node *n, const void *data,
		    size_t len);
void tree_set_perms(struct tree *t, struct node *n, struct pset *ps);

/* Whether a linked node other than the root may name domid in its perms
 * (owner or entry).  False only when none does. */
bool tree_names_domid(const struct tree *t, uint32_t domid);

#endif
