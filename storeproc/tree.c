/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tree.c - the committed node tree: node allocation, the child list and
 * its hashed index, path walks and iterative subtree removal.  See tree.h.
 */
#include "tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"

/*
 * Below KIDX_BUILD children a list scan costs about what hashing does
 * (the names it compares sit side by side in the node slab); above it
 * the index keeps a lookup O(1) however large a directory grows.  It is
 * dropped again under KIDX_DROP (hysteresis against rebuild churn).  A
 * domain's own directories (its home, a backend's, libxl's) stay under
 * 32 children, so they pay no index: on a host of thousands of domains
 * that is about a tenth of the store process's memory.
 */
#define KIDX_BUILD 32u
#define KIDX_DROP 16u
#define KIDX_MIN_SLOTS 16u

/* Open addressing, linear probing, load factor <= 1/2. */
struct kidx {
	uint32_t mask;
	uint32_t used;		/* the directory's children */
	uint32_t childlen;	/* their names and NULs, bytes */
	struct node *slot[];
};

/* A directory's children: how many, and their names' bytes with NULs. */
struct kids {
	uint32_t n;
	uint32_t bytes;
};

static struct kidx *kidx_of(const struct tree *t, const struct node *p);

int val_new(const void *data, size_t len, struct val **out)
{
	struct val *v;

	*out = NULL;
	if (len == 0)
		return 0;
	if (len > UINT32_MAX)
		return ENOMEM;
	v = malloc(sizeof(*v) + len);
	if (!v)
		return ENOMEM;
	v->ref = 1;
	v->len = (uint32_t)len;
	memcpy(v->data, data, len);
	*out = v;
	return 0;
}

struct val *val_get(struct val *v)
{
	if (v)
		v->ref++;
	return v;
}

void val_put(struct val *v)
{
	if (v && --v->ref == 0)
		free(v);
}

static struct permset *permset_get(struct permset *s)
{
	if (s)
		s->ref++;
	return s;
}

_Static_assert(sizeof(struct permset) + TREE_PERMS_MAX * sizeof(struct perm) <=
		       SLAB_MAX,
	       "the longest perms list fits the node slab");

static size_t permset_size(unsigned int n)
{
	return sizeof(struct permset) + n * sizeof(struct perm);
}

static void permset_put(struct permset *s)
{
	struct tree *t;

	if (s && --s->ref == 0) {
		t = s->home;
		t->psets--;
		slab_free(&t->mem, s, permset_size(s->n));
	}
}

static struct permset *permset_new(struct tree *t, const struct perm *e,
				   unsigned int n)
{
	struct permset *s = slab_alloc(&t->mem, permset_size(n));

	if (!s)
		return NULL;
	t->psets++;
	s->ref = 1;
	s->n = n;
	s->home = t;
	memcpy(s->e, e, n * sizeof(*e));
	return s;
}

struct perm_list pset_list(const struct pset *ps)
{
	static const struct perm none;
	struct perm_list pl = { pset_count(ps), ps->s ? ps->s->e : &none };

	return pl;
}

int pset_set(struct pset *ps, struct tree *t, const struct perm *e,
	     unsigned int n)
{
	struct permset *s = NULL;

	if (n > TREE_PERMS_MAX)
		return E2BIG;
	if (n && !(s = permset_new(t, e, n)))
		return ENOMEM;
	pset_clear(ps);
	ps->s = s;
	return 0;
}

int pset_set_owner(struct pset *ps, uint32_t domid)
{
	struct permset *s = ps->s;

	if (!s || s->e[0].domid == domid)
		return 0;
	if (s->ref > 1) {
		/* Shared: the others keep theirs. */
		s = permset_new(s->home, s->e, s->n);
		if (!s)
			return ENOMEM;
		pset_clear(ps);
		ps->s = s;
	}
	s->e[0].domid = domid;
	return 0;
}

void pset_copy(struct pset *dst, const struct pset *src)
{
	struct permset *s = permset_get(src->s);

	pset_clear(dst);
	dst->s = s;
}

void pset_move(struct pset *dst, struct pset *src)
{
	pset_clear(dst);
	*dst = *src;
	src->s = NULL;
}

void pset_clear(struct pset *ps)
{
	permset_put(ps->s);
	ps->s = NULL;
}

static bool pset_equal(const struct pset *a, const struct pset *b)
{
	unsigned int n = pset_count(a);

	return a->s == b->s || (n == pset_count(b) &&
				!memcmp(a->s->e, b->s->e, n * sizeof(*a->s->e)));
}

/* What the statistics charge a node for its perms: the lists a node
 * held on the heap before they were shared, so that the figure reads as
 * it always did and stays the same from link to unlink. */
size_t pset_heap_bytes(const struct pset *ps)
{
	unsigned int n = pset_count(ps);

	return n > 2 ? n * sizeof(struct perm) : 0;
}

/*
 * Nodes share one copy of equal perms lists: a domain's hundred nodes
 * mostly carry two or three lists between them.  Inherited perms are
 * shared by pset_copy() already; lists that arrive on their own (SET_PERMS,
 * an unprivileged creator's, a journal's replay) are matched here against
 * a small cache of lists seen lately, which holds one reference to each
 * entry.  A miss costs nothing but the sharing.
 */
static uint32_t pset_hash(const struct pset *ps)
{
	const struct permset *s = ps->s;
	uint32_t h = 2166136261u, i;

	for (i = 0; i < s->n; i++) {
		h = (h ^ s->e[i].domid) * 16777619u;
		h = (h ^ s->e[i].mode) * 16777619u;
	}
	return (h ^ (h >> 15)) & (TREE_PCACHE - 1);
}

static void pset_share(struct tree *t, struct pset *ps)
{
	struct permset **slot;

	if (!ps->s)
		return;
	slot = &t->pcache[pset_hash(ps)];
	if (*slot == ps->s)
		return;
	if (*slot && pset_equal(&(struct pset){ *slot }, ps)) {
		pset_clear(ps);
		ps->s = permset_get(*slot);
		return;
	}
	permset_put(*slot);
	*slot = permset_get(ps->s);
}

/* One step: a word mixed into the state by a multiply and a shift
 * (each invertible, so no two words collide at one step). */
static uint64_t hash_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdu;
	return h ^ (h >> 32);
}

/* Keyed by the seed; eight bytes a step, since transactions hash whole
 * paths (byte-at-a-time FNV-1a cost about four instructions a byte),
 * then murmur3's 64-bit finalizer to spread the bits the mask keeps.
 * Not a cryptographic PRF: quotas bound a guest's entries, the seed
 * keeps it from precomputing collisions. */
uint32_t tree_hash(const struct tree *t, const char *name, size_t len)
{
	uint64_t h = (0x9e3779b97f4a7c15u ^ t->seed) + len, w = 0;
	size_t i = 0;

	for (; len - i >= 8; i += 8) {
		memcpy(&w, name + i, sizeof(w));
		h = hash_mix(h, w);
	}
	if (i < len) {
		w = 0;
		for (unsigned int k = 0; i + k < len; k++)
			w |= (uint64_t)(unsigned char)name[i + k] << (8 * k);
		h = hash_mix(h, w);
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* The value room after n's name. */
static char *vroom(const struct node *n)
{
	return (char *)(uintptr_t)n->name + n->namelen + 1;
}

static struct val *vout(const struct tree *t, const struct node *n)
{
	return nodemap_get(&t->vals, n);
}

/* The heap n's value takes beyond the node's own allocation. */
static size_t vout_bytes(const struct node *n)
{
	return (n->flags & NODE_VOUT) ? sizeof(struct val) + n->vlen : 0;
}

static size_t node_bytes(const struct node *n)
{
	struct pset ps = node_pset(n);

	return offsetof(struct node, name) + n->namelen + 1 + n->vroom +
	       vout_bytes(n) + pset_heap_bytes(&ps);
}

/* n takes ps's reference (ps is emptied) and drops its own.  Both lie
 * in the tree's slab, so the distance fits a link (tree.h). */
static void node_take_perms(struct node *n, struct pset *ps)
{
	struct pset old = node_pset(n);

	pset_clear(&old);
	n->l_perms = nlink_to(n, ps->s);
	ps->s = NULL;
}

/*
 * From p's index if it has one; otherwise counted, which stays cheap:
 * without an index p has at most KIDX_BUILD children (more only if
 * building one ran out of memory), their headers side by side in the
 * slab.
 */
static struct kids kids_of(const struct tree *t, const struct node *p)
{
	const struct kidx *x = kidx_of(t, p);
	struct kids k = { 0, 0 };
	const struct node *c;

	if (x) {
		k.n = x->used;
		k.bytes = x->childlen;
		return k;
	}
	for (c = node_first(p); c; c = node_next(c)) {
		k.n++;
		k.bytes += c->namelen + 1u;
	}
	return k;
}

/* n's record with children's names of kidbytes. */
static size_t record_size(const struct node *n, size_t kidbytes)
{
	return QUOTA_RECORD_HDR + node_perm_count(n) * QUOTA_RECORD_PERM +
	       n->vlen + kidbytes;
}

size_t tree_record_size(const struct tree *t, const struct node *n)
{
	return record_size(n, node_first(n) ? kids_of(t, n).bytes : 0);
}

const void *tree_val_data(const struct tree *t, const struct node *n)
{
	return (n->flags & NODE_VOUT) ? vout(t, n)->data : vroom(n);
}

int tree_val_ref(const struct tree *t, const struct node *n,
		 struct val **out)
{
	if (n->flags & NODE_VOUT) {
		*out = val_get(vout(t, n));
		return 0;
	}
	return val_new(vroom(n), n->vlen, out);
}

uint32_t tree_owner(const struct node *n)
{
	return node_perm_count(n) ? node_perms(n).e[0].domid : DOMID_NONE;
}

/* Not stored: 4 bytes in every node for a walk of a few ancestors when
 * a record is counted (tree_remove keeps its own as it walks). */
size_t tree_path_len(const struct node *n)
{
	const struct node *p;
	size_t len = 0;

	for (p = node_parent(n); p; n = p, p = node_parent(p))
		len += 1 + n->namelen;
	return len ? len : 1;
}

/* n entering (+1) or leaving (-1) the counts of the domids its perms
 * name, one for each entry; only linked nodes count, the root aside. */
static void names_count(struct tree *t, const struct node *n, int sign)
{
	struct perm_list pl;

	if (n == t->root || !node_parent(n))
		return;
	pl = node_perms(n);
	for (unsigned int i = 0; i < pl.n; i++) {
		const void *key = (const void *)((uintptr_t)pl.e[i].domid + 1);
		uintptr_t c = (uintptr_t)nodemap_get(&t->names, key);

		if (sign > 0 && nodemap_set(&t->names, key, (void *)(c + 1)))
			t->names_lost = true;
		else if (sign < 0 && c > 1)
			(void)nodemap_set(&t->names, key, (void *)(c - 1));
		else if (sign < 0)
			nodemap_del(&t->names, key);
	}
}

bool tree_names_domid(const struct tree *t, uint32_t domid)
{
	return t->names_lost ||
	       nodemap_get(&t->names, (const void *)((uintptr_t)domid + 1)) != NULL;
}

/* Report n's record, its path pathlen long and its children's names
 * kidbytes, entering (+1) or leaving (-1) its owner's count; only linked
 * nodes count. */
static void acct_kids(const struct tree *t, const struct node *n, int sign,
		      size_t pathlen, size_t kidbytes)
{
	uint32_t owner;

	if (!t->acct || (n != t->root && !node_parent(n)))
		return;
	owner = tree_owner(n);
	if (owner != DOMID_NONE)
		t->acct(t->acct_ctx, owner, sign,
			record_size(n, kidbytes) + pathlen);
}

static void acct_len(const struct tree *t, const struct node *n, int sign,
		     size_t pathlen)
{
	if (t->acct)
		acct_kids(t, n, sign, pathlen,
			  node_first(n) ? kids_of(t, n).bytes : 0);
}

/* n's path length for acct_len, worked out once for a leave and
 * re-enter pair; 0 when nothing is counted. */
static size_t acct_path(const struct tree *t, const struct node *n)
{
	return t->acct ? tree_path_len(n) : 0;
}

static void acct(const struct tree *t, const struct node *n, int sign)
{
	acct_len(t, n, sign, acct_path(t, n));
}

void tree_set_acct(struct tree *t, tree_acct_fn *fn, void *ctx)
{
	const struct node *n = t->root;

	t->acct = fn;
	t->acct_ctx = ctx;
	if (!fn)
		return;
	/* Stackless pre-order walk over everything linked. */
	while (n) {
		acct(t, n, 1);
		if (node_first(n)) {
			n = node_first(n);
			continue;
		}
		while (n && !node_next(n))
			n = node_parent(n);
		if (n)
			n = node_next(n);
	}
}

/* The bytes n's slab object spans (the size it was allocated with). */
static size_t node_alloc_size(const struct node *n)
{
	return offsetof(struct node, name) + n->namelen + 1 + n->vroom;
}

struct node *tree_node_new(struct tree *t, const char *name, size_t len,
			   size_t vlen)
{
	size_t room = vlen <= VAL_INLINE_MAX ? vlen : 0, size;
	struct node *n;

	if (len > UINT16_MAX)
		return NULL;
	/* The slab rounds up to 8 bytes: the rest is room for a value
	 * written later, for nothing. */
	size = offsetof(struct node, name) + len + 1 + room;
	room += slab_size(size) - size;
	n = slab_alloc(&t->mem, size);
	if (!n)
		return NULL;
	memcpy(n->name, name, len);
	n->namelen = (uint16_t)len;
	n->vroom = (uint16_t)room;
	n->l_parent = n->l_first = n->l_prev = n->l_next = NLINK_NIL;
	n->l_perms = NLINK_NIL;
	return n;
}

void tree_node_drop(struct tree *t, struct node *n)
{
	if (n->flags & NODE_VOUT) {
		val_put(vout(t, n));
		nodemap_del(&t->vals, n);
	}
	if (n->flags & NODE_IDX) {
		free(nodemap_get(&t->idx, n));
		nodemap_del(&t->idx, n);
	}
	/* Readers were unlinked by the freeze hook; this is belt and
	 * braces against a dangling key. */
	if (n->flags & NODE_REFS)
		nodemap_del(&t->refs, n);
	/* Its holders will see it gone, not confused with a successor
	 * that may get the same address. */
	if (n->flags & NODE_SEEN) {
		struct nodegen *g = nodemap_get(&t->seen, n);

		g->node = NULL;
		nodemap_del(&t->seen, n);
	}
	node_take_perms(n, &(struct pset){ NULL });
	slab_free(&t->mem, n, node_alloc_size(n));
}

void tree_node_set_perms(struct tree *t, struct node *n, struct pset *ps)
{
	(void)t;	/* ps's list is t's: see tree.h */
	node_take_perms(n, ps);
}

int tree_init(struct tree *t, uint32_t seed)
{
	memset(t, 0, sizeof(*t));
	if (slab_init(&t->mem))
		return ENOMEM;
	t->seed = seed;
	t->root = tree_node_new(t, "", 0, 0);
	if (!t->root)
		return ENOMEM;
	t->nodes = 1;
	t->bytes = node_bytes(t->root);
	return 0;
}

void tree_fini(struct tree *t)
{
	unsigned int i;

	if (t->root)
		tree_remove(t, t->root, NULL, NULL, NULL);
	t->root = NULL;
	nodemap_fini(&t->idx);
	nodemap_fini(&t->refs);
	nodemap_fini(&t->vals);
	nodemap_fini(&t->seen);
	nodemap_fini(&t->names);
	/* The lists live in the slab too: put them first. */
	for (i = 0; i < TREE_PCACHE; i++)
		permset_put(t->pcache[i]);
	slab_fini(&t->mem);
}

/* --- child index ---------------------------------------------------- */

/* Not stored: 4 bytes in every node for a few hashes an insertion. */
static uint32_t node_hash(const struct tree *t, const struct node *n)
{
	return tree_hash(t, n->name, n->namelen);
}

static void kidx_put(const struct tree *t, struct kidx *x, struct node *n)
{
	uint32_t i = node_hash(t, n) & x->mask;

	while (x->slot[i])
		i = (i + 1) & x->mask;
	x->slot[i] = n;
	x->used++;
	x->childlen += n->namelen + 1u;
}

static struct kidx *kidx_of(const struct tree *t, const struct node *p)
{
	return (p->flags & NODE_IDX) ? nodemap_get(&t->idx, p) : NULL;
}

static void kidx_drop(struct tree *t, struct node *p)
{
	free(kidx_of(t, p));
	nodemap_del(&t->idx, p);
	p->flags &= ~NODE_IDX;
}

/* (Re)build p's index from its list of nkids children; on ENOMEM p
 * simply has none. */
static void kidx_build(struct tree *t, struct node *p, uint32_t nkids)
{
	uint32_t slots = KIDX_MIN_SLOTS;
	struct kidx *x;
	struct node *c;

	/* Load at most 1/2 with room for one more, not room for growth
	 * to come: an indexed directory may stop growing at any size. */
	while (slots < 2 * nkids + 2 && slots < (1u << 31))
		slots *= 2;
	x = calloc(1, sizeof(*x) + slots * sizeof(x->slot[0]));
	free(kidx_of(t, p));
	if (!x || nodemap_set(&t->idx, p, x)) {
		free(x);
		nodemap_del(&t->idx, p);
		p->flags &= ~NODE_IDX;
		return;
	}
	p->flags |= NODE_IDX;
	x->mask = slots - 1;
	for (c = node_first(p); c; c = node_next(c))
		kidx_put(t, x, c);
}

static void kidx_del(const struct tree *t, struct kidx *x,
		     const struct node *n)
{
	uint32_t i = node_hash(t, n) & x->mask, j, k;

	while (x->slot[i] != n)
		i = (i + 1) & x->mask;
	x->slot[i] = NULL;
	x->used--;
	x->childlen -= n->namelen + 1u;
	/* Backward-shift deletion: pull up entries whose probe run
	 * crossed the freed slot, so no tombstones are needed. */
	for (j = (i + 1) & x->mask; x->slot[j]; j = (j + 1) & x->mask) {
		k = node_hash(t, x->slot[j]) & x->mask;
		if (((j - k) & x->mask) >= ((j - i) & x->mask)) {
			x->slot[i] = x->slot[j];
			x->slot[j] = NULL;
			i = j;
		}
	}
}

struct node *tree_child(const struct tree *t, const struct node *parent,
			const char *name, size_t len)
{
	const struct kidx *x = kidx_of(t, parent);
	struct node *c;

	if (x) {
		uint32_t h = tree_hash(t, name, len), i = h & x->mask;

		for (; (c = x->slot[i]); i = (i + 1) & x->mask)
			if (c->namelen == len &&
			    memcmp(c->name, name, len) == 0)
				return c;
		return NULL;
	}
	for (c = node_first(parent); c; c = node_next(c))
		if (c->namelen == len && memcmp(c->name, name, len) == 0)
			return c;
	return NULL;
}

struct node *tree_walk(const struct tree *t, const char *path, size_t len,
		       size_t *done)
{
	*done = 0;
	if (len == 0 || path[0] != '/')
		return NULL;
	return tree_walk_from(t, t->root, path, len, 0, done);
}

struct node *tree_walk_from(const struct tree *t, struct node *from,
			    const char *path, size_t len, size_t at, size_t *done)
{
	struct node *n = from, *c;
	size_t pos = at + 1, end;

	*done = at ? at : 1;
	while (pos < len) {
		const char *slash = memchr(path + pos, '/', len - pos);

		end = slash ? (size_t)(slash - path) : len;
		c = tree_child(t, n, path + pos, end - pos);
		if (!c)
			break;
		n = c;
		*done = end;
		pos = end + 1;
	}
	return n;
}

struct node *tree_lookup(const struct tree *t, const char *path, size_t len)
{
	size_t done;
	struct node *n = tree_walk(t, path, len, &done);

	return done == len ? n : NULL;
}

struct noderef *tree_refs(const struct tree *t, const struct node *n)
{
	return (n->flags & NODE_REFS) ? nodemap_get(&t->refs, n) : NULL;
}

int tree_ref(struct tree *t, struct node *n, struct noderef *r)
{
	struct noderef *head = tree_refs(t, n);

	/* Replacing the head of a present key cannot fail. */
	if (nodemap_set(&t->refs, n, r))
		return ENOMEM;
	n->flags |= NODE_REFS;
	r->next = head;
	r->prev = NULL;
	r->node = n;
	if (head)
		head->prev = r;
	return 0;
}

void tree_unref(struct tree *t, struct noderef *r)
{
	struct node *n = r->node;

	if (!n)
		return;
	if (r->prev) {
		r->prev->next = r->next;
	} else if (r->next) {
		(void)nodemap_set(&t->refs, n, r->next);	/* replaces */
	} else {
		nodemap_del(&t->refs, n);
		n->flags &= ~NODE_REFS;
		/* Transactions come and go: give back a burst's room. */
		nodemap_trim(&t->refs);
	}
	if (r->next)
		r->next->prev = r->prev;
	r->next = NULL;
	r->prev = NULL;
	r->node = NULL;
}

struct nodegen *tree_seen(struct tree *t, struct node *n)
{
	struct nodegen *g;

	if (n->flags & NODE_SEEN) {
		g = nodemap_get(&t->seen, n);
		g->users++;
		return g;
	}
	g = malloc(sizeof(*g));
	if (!g)
		return NULL;
	if (nodemap_set(&t->seen, n, g)) {
		free(g);
		return NULL;
	}
	g->node = n;
	g->users = 1;
	g->vgen = g->pgen = g->kgen = n->gen;
	n->flags |= NODE_SEEN;
	return g;
}

void tree_unseen(struct tree *t, struct nodegen *g)
{
	if (!g || --g->users)
		return;
	if (g->node) {
		nodemap_del(&t->seen, g->node);
		g->node->flags &= ~NODE_SEEN;
		nodemap_trim(&t->seen);
	}
	free(g);
}

void tree_changed(const struct tree *t, struct node *n, int aspect,
		  uint64_t gen)
{
	struct nodegen *g;

	n->gen = (uint32_t)gen;
	if (!(n->flags & NODE_SEEN))
		return;
	g = nodemap_get(&t->seen, n);
	if (aspect == TREE_VAL)
		g->vgen = gen;
	else if (aspect == TREE_PERMS)
		g->pgen = gen;
	else
		g->kgen = gen;
}

/* n's child list is about to change, or n to go. */
static void freeze(struct tree *t, struct node *n)
{
	if ((n->flags & NODE_REFS) && t->freeze)
		t->freeze(t->freeze_ctx, n);
}

/* n's perms, swapped for the tree's shared copy of an equal list. */
static void node_share_perms(struct tree *t, struct node *n)
{
	struct pset ps = node_pset(n);	/* n's own reference, lent */

	pset_share(t, &ps);
	n->l_perms = NLINK_NIL;		/* the reference is ps's now */
	node_take_perms(n, &ps);
}

void tree_append(struct tree *t, struct node *parent, struct node *child)
{
	size_t plen = acct_path(t, parent);
	/* Counted once: the parent's record before and after. */
	struct kids k = kids_of(t, parent);
	struct kidx *x;

	freeze(t, parent);
	acct_kids(t, parent, -1, plen, k.bytes);
	node_share_perms(t, child);
	node_set_parent(child, parent);
	node_set_next(child, NULL);
	if (node_first(parent)) {
		node_set_prev(child, node_prev(node_first(parent)));
		node_set_next(node_prev(child), child);
		node_set_prev(node_first(parent), child);
	} else {
		node_set_prev(child, child);
		node_set_first(parent, child);
	}
	k.n++;
	k.bytes += child->namelen + 1u;
	x = kidx_of(t, parent);
	if (x) {
		if ((x->used + 1) * 2 > x->mask + 1)
			kidx_build(t, parent, k.n);
		else
			kidx_put(t, x, child);
	} else if (k.n > KIDX_BUILD) {
		kidx_build(t, parent, k.n);
	}
	t->nodes++;
	t->bytes += node_bytes(child);
	acct_kids(t, parent, 1, plen, k.bytes);
	acct_len(t, child, 1,
		 (node_parent(parent) ? plen : 0) + 1 + child->namelen);
	names_count(t, child, 1);
}

/* Take n out of its parent's list and index (n keeps its own children). */
static void unlink_child(struct tree *t, struct node *n)
{
	struct node *p = node_parent(n);
	struct kidx *x = kidx_of(t, p);

	/* The first child's prev is the last child (tree.h). */
	if (n == node_first(p))
		node_set_first(p, node_next(n));
	else
		node_set_next(node_prev(n), node_next(n));
	if (node_next(n))
		node_set_prev(node_next(n), node_prev(n));
	else if (node_first(p))
		node_set_prev(node_first(p), node_prev(n));
	if (x) {
		if (x->used - 1 < KIDX_DROP)
			kidx_drop(t, p);
		else
			kidx_del(t, x, n);
	}
	node_set_parent(n, NULL);
	node_set_prev(n, NULL);
	node_set_next(n, NULL);
}

size_t tree_subtree_pathmax(const struct node *top)
{
	const struct node *n = top;
	size_t cur = 0, max = 0;

	/* Stackless pre-order walk; cur = length below top of n's path. */
	for (;;) {
		if (node_first(n)) {
			n = node_first(n);
			cur += 1 + n->namelen;
		} else {
			while (n != top && !node_next(n)) {
				cur -= 1 + n->namelen;
				n = node_parent(n);
			}
			if (n == top)
				break;
			cur -= 1 + n->namelen;
			n = node_next(n);
			cur += 1 + n->namelen;
		}
		if (cur > max)
			max = cur;
	}
	return max;
}

size_t tree_remove(struct tree *t, struct node *top, struct buf *path,
		   tree_visit_fn *visit, void *ctx)
{
	struct node *n = top, *p;
	size_t count = 0;
	/* n's path length below top, and what it adds to. */
	size_t toplen = acct_path(t, top), below = 0;
	size_t base = node_parent(top) ? toplen : 0;

	if (node_parent(top))
		freeze(t, node_parent(top));
	freeze(t, top);
	/* Each node's record leaves its count when the walk first reaches
	 * it, while its children, whose names the record holds, are
	 * still there to be counted (kids_of). */
	acct_len(t, top, -1, toplen);
	names_count(t, top, -1);
	for (;;) {
		/* Down to the oldest leaf, extending the path; every node
		 * is frozen before its first child goes. */
		while (node_first(n)) {
			n = node_first(n);
			below += 1 + n->namelen;
			freeze(t, n);
			acct_len(t, n, -1, base + below);
			names_count(t, n, -1);
			if (visit) {
				/* Room was reserved by the caller. */
				if (path->len > 1)
					path->data[path->len++] = '/';
				memcpy(path->data + path->len, n->name,
				       n->namelen + 1);
				path->len += n->namelen;
			}
		}
		/* Visited while still linked: its parent is still there. */
		if (visit)
			visit(ctx, n, path->data);
		t->bytes -= node_bytes(n);
		t->nodes--;
		count++;
		if (n == top)
			break;
		/* p goes too: skip its index, it dies with p. */
		p = node_parent(n);
		node_set_first(p, node_next(n));
		if (node_next(n))
			node_set_prev(node_next(n), node_prev(n));
		below -= 1 + n->namelen;
		if (visit) {
			path->len -= n->namelen;
			if (path->len > 1)
				path->len--;
			path->data[path->len] = '\0';
		}
		tree_node_drop(t, n);
		n = p;
	}
	if (node_parent(top)) {
		size_t plen;

		p = node_parent(top);
		plen = acct_path(t, p);
		acct_len(t, p, -1, plen);
		unlink_child(t, top);
		acct_len(t, p, 1, plen);
	}
	if (top == t->root)
		t->root = NULL;
	tree_node_drop(t, top);
	return count;
}

/* Drop n's value, the tree's count included (acct is the caller's);
 * keep_entry: its side table entry is about to be replaced. */
static void val_drop(struct tree *t, struct node *n, bool keep_entry)
{
	t->bytes -= vout_bytes(n);
	if (n->flags & NODE_VOUT) {
		val_put(vout(t, n));
		if (!keep_entry)
			nodemap_del(&t->vals, n);
	}
	n->flags &= ~NODE_VOUT;
	n->vlen = 0;
}

int tree_reserve_vals(struct tree *t, size_t n)
{
	return nodemap_reserve(&t->vals, n);
}

int tree_set_val(struct tree *t, struct node *n, struct val *v)
{
	bool out = v && !tree_val_fits(n, v->len);
	size_t plen;

	if (v && v->len > TREE_VAL_MAX) {
		val_put(v);
		return E2BIG;
	}
	/* Only a new side table entry can fail: before anything changes. */
	if (out && !(n->flags & NODE_VOUT) && nodemap_set(&t->vals, n, v)) {
		val_put(v);
		return ENOMEM;
	}
	plen = acct_path(t, n);
	acct_len(t, n, -1, plen);
	val_drop(t, n, out);
	if (out) {
		(void)nodemap_set(&t->vals, n, v);	/* present: replaces */
		n->flags |= NODE_VOUT;
		n->vlen = (uint16_t)v->len;
	} else if (v) {
		memcpy(vroom(n), v->data, v->len);
		n->vlen = (uint16_t)v->len;
		val_put(v);
	}
	t->bytes += vout_bytes(n);
	acct_len(t, n, 1, plen);
	return 0;
}

void tree_set_bytes(struct tree *t, struct node *n, const void *data,
		    size_t len)
{
	size_t plen = acct_path(t, n);

	acct_len(t, n, -1, plen);
	val_drop(t, n, false);
	if (len)
		memcpy(vroom(n), data, len);
	n->vlen = (uint16_t)len;
	acct_len(t, n, 1, plen);
}

/* An owner change moves the node's count from one domain to the other
 * (4.17's SET_PERMS domain_entry_dec/inc). */
void tree_set_perms(struct tree *t, struct node *n, struct pset *ps)
{
	size_t plen = acct_path(t, n);

	acct_len(t, n, -1, plen);
	names_count(t, n, -1);
	t->bytes -= node_bytes(n);
	pset_share(t, ps);
	node_take_perms(n, ps);
	t->bytes += node_bytes(n);
	names_count(t, n, 1);
	acct_len(t, n, 1, plen);
}
