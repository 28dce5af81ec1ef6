/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * txn.c - transactions: what a transaction read, its private changes
 * over the committed tree, conflict detection and commit.
 *
 * Model.  A transaction keeps one entry per node path it touched (read,
 * checked, created, changed or removed), in first-touch order, found by a
 * hash of the path.  First touch records the committed node's identity
 * (a held struct nodegen, tree.h, or "absent" with the nearest committed
 * ancestor's nodegen, held too) and its value, perms and
 * child list stamps, and freezes value and perms for the transaction: as
 * in cxenstored 4.17, a transaction keeps seeing what it first saw.  The
 * transaction's own changes live in the entry (value, perms, existence)
 * and in its parent's entry (children appended, committed children
 * hidden).  Starting a transaction allocates one small struct.
 *
 * What counts as read of the committed node (checked at commit):
 *   existence  - always: every touched node, including missing ones and
 *                the ancestors consulted to choose ENOENT or EACCES;
 *   value      - READ, and WRITE of an existing node (4.17 reads it
 *                first);
 *   perms      - every permission check on the node, and the nearest
 *                existing ancestor whose perms a created node inherits
 *                or whose perms decided ENOENT/EACCES;
 *   child list - DIRECTORY, and every node of a subtree removed by RM.
 * Aspects the transaction itself replaced before reading them are not
 * read.  A parent that only gained or lost children through the
 * transaction is not read beyond its existence: its child-list changes
 * are a delta merged into whatever the committed list is at commit.
 *
 * The rule.  Commit fails with EAGAIN iff, for some touched node, the
 * committed node's existence or identity (removed and created again
 * counts) differs from first touch, or an aspect it read has a newer
 * generation.  Examples:
 *   TS; READ /a; (other: WRITE /a); WRITE /a; TE   -> EAGAIN ("ta err")
 *   TS; READ /a; WRITE /a; TE                      -> OK ("ta rmw")
 *   TS; WRITE /p/x; (other: WRITE /p/y); TE        -> OK (delta merge)
 *   TS; WRITE /p/n/x; (other: WRITE /p/n/y); TE    -> EAGAIN when /p/n
 *       was missing: both created it
 *   TS; RM /a; (other: WRITE /a/new); TE           -> EAGAIN
 * 4.17 checks the whole node of everything touched, so it also fails
 * when a parent gained a child or an ancestor's value changed; lixs
 * commits those.  Every way the committed tree can diverge from what the
 * commit would assume (a created node now existing, a removed subtree
 * having grown) is a conflict by this rule, so applying never meets a
 * surprise; it still checks, and refuses rather than corrupt.
 *
 * A view's child list is the committed list as first seen, minus hidden
 * plus appended names.  The committed list is read live (no copy at first
 * touch: /local/domain may be long) until someone is about to change it;
 * then the tree's freeze hook hands each such view a copy (txn_freeze).
 * A child the view has not touched yet is looked up in the committed tree,
 * as 4.17 does, so the list may still name a child removed since, and
 * miss one created since.  The list then behaves as 4.17's copy of it,
 * which DIRECTORY shows: creating a child it still names appends the
 * name again, RM takes out the first occurrence; an RM of a child it
 * does not name completes (4.17: EIO, leaving its RM half done).  A
 * transaction that lists such a parent read a changed child list and
 * cannot commit; one that does not commits only the nodes its view
 * holds, each once (t_prepare).
 *
 * Events, as 4.17: at most one per touched node, in first-touch order
 * (so RM inside a transaction reports parents before children), a
 * non-exact one winning over an exact one, fired once the whole commit
 * is applied (4.17 interleaves firing with applying, which only shows in
 * which parent perms a watcher is checked against).  A node created and
 * removed inside the transaction has no event: 4.17 queues one that no
 * watcher is permitted to see.
 */
#include "store_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Aspects of the committed node read (tent.rd). */
#define R_VALUE		0x1u
#define R_PERMS		0x2u
#define R_CHILDREN	0x4u

/* The transaction's view of the node (tent.fl). */
#define T_EXISTS	0x01u	/* exists in the view */
#define T_BASE		0x02u	/* view children start from the committed list */
#define T_OWNVAL	0x04u	/* val was written by the transaction */
#define T_OWNPERMS	0x08u	/* perms were set by the transaction */
#define T_DELETED	0x10u	/* the committed incarnation is removed */
#define T_CHANGED	0x20u	/* something to apply at commit */
#define T_FIRE		0x40u	/* an event is queued */
#define T_EXACT		0x80u	/* ... for exact watches only */
#define T_FROZEN	0x100u	/* T_BASE list copied into `frozen` */
#define T_NOMEM		0x200u	/* ... but the copy failed: commit fails */
#define T_MADE		0x400u	/* commit: a node to create is allocated
				 * (in `node`) */
#define T_LINKED	0x800u	/* commit: ... and appended to its parent */

#define TAB_MIN 16u

/* Child names, each malloc'ed and NUL-terminated. */
struct names {
	uint32_t n, cap;
	char **v;
};

/* Children a view appended, in order: their entries, whose paths end
 * in the names (t_name); the entries are the transaction's, not owned. */
struct kids {
	uint32_t n, cap;
	struct tent **v;
};

/* One touched node. */
struct tent {
	struct tent *hnext;	/* hash chain */
	struct tent *onext;	/* first-touch order */
	uint32_t hash;
	uint16_t fl;
	uint8_t rd;
	/* The committed node whose live child list the view shows, until
	 * someone changes that list: then its copy is in `frozen`. */
	struct node *base;
	struct noderef ref;
	struct names frozen;
	/* The committed node at first touch (NULL: absent), its
	 * generation then (0: absent) and its aspect stamps then. */
	struct nodegen *seen;
	uint64_t cgen;
	uint64_t vgen, pgen, kgen;
	/* Absent at first touch: its nearest committed ancestor then and
	 * that one's child list stamp; while both hold, it is still absent
	 * (t_check), with no walk from the root. */
	struct nodegen *anc;
	uint64_t akgen;
	/* Commit: the node t_prepare made for it (T_MADE), then the node
	 * t_apply changed, which t_fire reports. */
	struct node *node;
	uint64_t mgen;		/* the transaction's last change */
	struct val *val;	/* view value (reference owned) */
	struct pset perms;	/* T_OWNPERMS: the view's perms */
	struct pset operms;	/* committed perms at first touch */
	struct kids added;	/* children appended to the view */
	struct names removed;	/* committed children hidden from the view */
	size_t len;
	char path[];
};

/* Entries are carved from blocks the transaction owns and frees with
 * it (an entry lives as long as its transaction): a commit touches
 * dozens, and one malloc a block costs less than one each. */
#define TBLOCK_SIZE 4096u
struct tblock {
	struct tblock *next;
	size_t used, size;
	uint64_t room[];	/* entries, each rounded up to 8 bytes */
};

/* The RM walk's stack: a node of the view and where its children are. */
struct frame {
	struct tent *t;
	const struct node *c;	/* next live committed child */
	uint32_t fi;		/* next frozen committed child */
	uint32_t ai;		/* next appended child */
	size_t plen;		/* length of t's path */
};

struct txn {
	struct store *st;
	struct txn *prev, *next;	/* the store's open transactions */
	struct tent **tab;
	uint32_t mask;
	uint32_t count;
	uint32_t limit;		/* most entries allowed, 0: any number */
	uint32_t domid;		/* whose refusals these are (quota.h) */
	struct tent *first, **last;
	struct tblock *blocks;	/* the entries' memory, newest first; owned */
	/* The entries t_get gave last, newest first: a request asks for the
	 * same paths again (a WRITE of a new node its parent twice and
	 * itself twice), and comparing costs less than hashing. */
	struct tent *recent[2];
	bool failed;		/* the view is incomplete: commit fails */
	bool doomed;		/* commit answers EAGAIN (store_txn_doom) */
	struct buf path;	/* scratch */
	struct frame *stack;
	size_t cap;
};

/* --- names --------------------------------------------------------------- */

static bool names_find(const struct names *ns, const char *s, size_t len,
		       uint32_t *at)
{
	uint32_t i;

	for (i = 0; i < ns->n; i++) {
		if (strncmp(ns->v[i], s, len) == 0 && ns->v[i][len] == '\0') {
			*at = i;
			return true;
		}
	}
	return false;
}

static int names_add(struct names *ns, const char *s, size_t len)
{
	char *copy;

	if (ns->n == ns->cap) {
		uint32_t cap = ns->cap ? ns->cap * 2 : 4;
		char **v = realloc(ns->v, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return ENOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	ns->v[ns->n++] = copy;
	return 0;
}

/* --- appended children ------------------------------------------------- */

/* The name of p's child c: the last part of c's path. */
static const char *t_name(const struct tent *p, const struct tent *c,
			  size_t *len)
{
	size_t off = p->len + (p->len > 1);

	*len = c->len - off;
	return c->path + off;
}

static int kids_add(struct kids *ks, struct tent *c)
{
	if (ks->n == ks->cap) {
		uint32_t cap = ks->cap ? ks->cap * 2 : 4;
		struct tent **v = realloc(ks->v, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		ks->v = v;
		ks->cap = cap;
	}
	ks->v[ks->n++] = c;
	return 0;
}

/* Take the first of p's appended children named name[0..len) out. */
static void kids_del(struct tent *p, const char *name, size_t len)
{
	struct kids *ks = &p->added;
	size_t nlen;

	for (uint32_t i = 0; i < ks->n; i++) {
		const char *s = t_name(p, ks->v[i], &nlen);

		if (nlen == len && memcmp(s, name, len) == 0) {
			memmove(&ks->v[i], &ks->v[i + 1],
				(ks->n - i - 1) * sizeof(ks->v[0]));
			ks->n--;
			return;
		}
	}
}

static void kids_clear(struct kids *ks)
{
	free(ks->v);
	*ks = (struct kids){ 0 };
}

static void names_clear(struct names *ns)
{
	while (ns->n)
		free(ns->v[--ns->n]);
	free(ns->v);
	ns->v = NULL;
	ns->cap = 0;
}

/* --- entries --------------------------------------------------------------- */

static void tent_free(struct tree *tr, struct tent *t)
{
	tree_unref(tr, &t->ref);
	tree_unseen(tr, t->seen);
	tree_unseen(tr, t->anc);
	names_clear(&t->frozen);
	val_put(t->val);
	pset_clear(&t->perms);
	pset_clear(&t->operms);
	kids_clear(&t->added);
	names_clear(&t->removed);
}

/* A zeroed entry with room for a path of len bytes and its NUL. */
static struct tent *t_alloc(struct txn *x, size_t len)
{
	size_t need = (sizeof(struct tent) + len + 1 + 7) & ~(size_t)7;
	struct tblock *b = x->blocks;
	struct tent *t;

	if (!b || b->size - b->used < need) {
		size_t size = need > TBLOCK_SIZE ? need : TBLOCK_SIZE;

		if (size == TBLOCK_SIZE && x->st->tblock_spare) {
			b = x->st->tblock_spare;
			x->st->tblock_spare = NULL;
		} else if (!(b = malloc(sizeof(*b) + size))) {
			return NULL;
		}
		b->next = x->blocks;
		b->used = 0;
		b->size = size;
		x->blocks = b;
	}
	t = (struct tent *)(void *)((unsigned char *)b->room + b->used);
	b->used += need;
	memset(t, 0, need);
	return t;
}

static struct tent *t_find(const struct txn *x, const char *path, size_t len,
			   uint32_t h)
{
	struct tent *t;

	if (!x->tab)
		return NULL;
	for (t = x->tab[h & x->mask]; t; t = t->hnext)
		if (t->hash == h && t->len == len &&
		    memcmp(t->path, path, len) == 0)
			return t;
	return NULL;
}

static int t_grow(struct txn *x)
{
	uint32_t size = x->tab ? (x->mask + 1) * 2 : TAB_MIN, i;
	struct tent **tab = calloc(size, sizeof(*tab)), *t;

	if (!tab)
		return ENOMEM;
	for (t = x->first; t; t = t->onext) {
		i = t->hash & (size - 1);
		t->hnext = tab[i];
		tab[i] = t;
	}
	free(x->tab);
	x->tab = tab;
	x->mask = size - 1;
	return 0;
}

static bool t_is(const struct tent *t, const char *path, size_t len)
{
	return t && t->len == len && memcmp(t->path, path, len) == 0;
}

/* The recent entry of path[0..len), else NULL. */
static struct tent *t_recent(const struct txn *x, const char *path, size_t len)
{
	for (unsigned int i = 0; i < 2; i++)
		if (t_is(x->recent[i], path, len))
			return x->recent[i];
	return NULL;
}

/* An entry absent at first touch whose nearest committed ancestor is
 * there with the child list it had then: so the entry is still absent. */
static bool t_still_absent(const struct tent *t)
{
	return !t->cgen && t->anc && t->anc->node && t->anc->kgen == t->akgen;
}

static struct tent *t_note(struct txn *x, struct tent *t)
{
	if (x->recent[0] != t) {
		x->recent[1] = x->recent[0];
		x->recent[0] = t;
	}
	return t;
}

/*
 * The committed node at path[0..len) (*found), else its nearest
 * committed ancestor (NULL for a path not under "/"): from a recent
 * entry for its parent when there is one (a request's path is often a
 * sibling's or a child's of the last one's), else by a walk from "/".
 */
static struct node *t_committed(const struct txn *x, const char *path,
				size_t len, bool *found)
{
	size_t plen = store_parent_len(path, len), done;
	const struct tent *p = len > 1 ? t_recent(x, path, plen) : NULL;
	struct node *n;

	if (p && p->seen && p->seen->node) {
		size_t off = plen + (plen > 1);

		n = tree_child(&x->st->tree, p->seen->node, path + off, len - off);
		*found = n != NULL;
		return n ? n : p->seen->node;
	}
	/* The parent is still absent: so is its child, under the same
	 * ancestor. */
	if (p && t_still_absent(p)) {
		*found = false;
		return p->anc->node;
	}
	n = tree_walk(&x->st->tree, path, len, &done);
	*found = n && done == len;
	return n;
}

/* The entry of path[0..len), touching the node first if need be. */
static int t_get(struct txn *x, const char *path, size_t len,
		 struct tent **out)
{
	uint32_t h;
	struct tent *t;
	struct node *n;
	bool found;

	t = t_recent(x, path, len);
	if (!t) {
		h = tree_hash(&x->st->tree, path, len);
		t = t_find(x, path, len, h);
	}
	if (t) {
		*out = t_note(x, t);
		return 0;
	}
	if (x->limit && x->count >= x->limit) {
		x->failed = true;
		return quota_refuse(x->st->quota, x->domid, QUOTA_TXN_NODES,
				    x->count, ENOSPC);
	}
	if ((!x->tab || x->count > x->mask) && t_grow(x))
		return ENOMEM;
	t = t_alloc(x, len);
	if (!t)
		return ENOMEM;
	memcpy(t->path, path, len);
	t->len = len;
	t->hash = h;
	/* On ENOMEM below, t's room stays in its block until the
	 * transaction ends, unlisted. */
	n = t_committed(x, path, len, &found);
	if (n && !found) {
		t->anc = tree_seen(&x->st->tree, n);
		if (!t->anc)
			return ENOMEM;
		t->akgen = t->anc->kgen;
	} else if (n) {
		node_pset_copy(&t->operms, n);
		t->seen = tree_seen(&x->st->tree, n);
		if (!t->seen || tree_val_ref(&x->st->tree, n, &t->val) ||
		    tree_ref(&x->st->tree, n, &t->ref)) {
			tree_unseen(&x->st->tree, t->seen);
			val_put(t->val);
			pset_clear(&t->operms);
			return ENOMEM;
		}
		t->fl = T_EXISTS | T_BASE;
		t->base = n;
		t->cgen = n->gen;
		t->vgen = t->seen->vgen;
		t->pgen = t->seen->pgen;
		t->kgen = t->seen->kgen;
	}
	t->hnext = x->tab[h & x->mask];
	x->tab[h & x->mask] = t;
	*x->last = t;
	x->last = &t->onext;
	x->count++;
	*out = t_note(x, t);
	return 0;
}

/* Note that the transaction's outcome depends on these aspects of the
 * committed incarnation, unless its view no longer shows them. */
static void t_read(struct tent *t, unsigned int rd)
{
	if (!t->cgen || (t->fl & T_DELETED))
		return;
	if (t->fl & T_OWNVAL)
		rd &= ~R_VALUE;
	if (t->fl & T_OWNPERMS)
		rd &= ~R_PERMS;
	if (!(t->fl & T_BASE))
		rd &= ~R_CHILDREN;
	t->rd |= rd;
}

static const struct pset *t_pset(const struct tent *t)
{
	return (t->fl & T_OWNPERMS) ? &t->perms : &t->operms;
}

static struct perm_list t_perms(const struct tent *t)
{
	return pset_list(t_pset(t));
}

static void t_changed(struct txn *x, struct tent *t)
{
	t->fl |= T_CHANGED;
	t->mgen = store_next_gen(x->st);
}

static void t_queue(struct tent *t, bool exact)
{
	if (!(t->fl & T_FIRE))
		t->fl |= T_FIRE | (exact ? T_EXACT : 0);
	else if (!exact)
		t->fl &= ~T_EXACT;
}

/* 4.17 fails the whole transaction when it cannot record an access. */
static int t_result(struct txn *x, int err)
{
	if (err == ENOMEM)
		x->failed = true;
	return err;
}

/*
 * The nearest ancestor of path[0..*len) existing in the view, found by
 * name one get_parent() at a time (touching each, as 4.17's ask_parents()
 * and construct_node() read them); *len becomes its length.
 */
static int t_ancestor(struct txn *x, const char *path, size_t *len,
		      struct tent **out)
{
	int err;

	do {
		*len = store_parent_len(path, *len);
		err = t_get(x, path, *len, out);
		if (err)
			return err;
	} while (!((*out)->fl & T_EXISTS) && *len > 1);
	/* "/" cannot be removed, so this is only a bug's way out. */
	return ((*out)->fl & T_EXISTS) ? 0 : EINVAL;
}

/* 4.17's errno_from_parents() over the view: the nearest existing
 * ancestor's perms decide whether `err` may be told. */
static int t_errno_from_parents(struct txn *x, const struct caller *who,
				const char *path, size_t len,
				unsigned int want, int err)
{
	struct perm_list pl;
	struct tent *t;
	int e = t_ancestor(x, path, &len, &t);

	if (e)
		return e;
	t_read(t, R_PERMS);
	pl = t_perms(t);
	return (perms_for(who, &pl) & want) ? err : EACCES;
}

/* get_node() over the view; on success records `rd` as read. */
static int t_get_node(struct txn *x, const struct caller *who,
		      const char *path, size_t len, unsigned int want,
		      unsigned int rd, struct tent **out)
{
	struct perm_list pl;
	struct tent *t;
	int err;

	*out = NULL;
	if (path[0] != '/')
		return store_invalid_path_errno(x->st, x, who, path, want);
	err = t_get(x, path, len, &t);
	if (err)
		return err;
	if (t->fl & T_EXISTS) {
		t_read(t, R_PERMS);
		pl = t_perms(t);
		if ((perms_for(who, &pl) & want) == want) {
			t_read(t, rd);
			*out = t;
			return 0;
		}
		err = EACCES;
	} else {
		err = ENOENT;
	}
	return t_errno_from_parents(x, who, path, len, want, err);
}

int txn_peek_perms(struct txn *x, const char *path, size_t len,
		   bool *exists, struct perm_list *pl)
{
	struct tent *t;
	int err = t_get(x, path, len, &t);

	if (err)
		return t_result(x, err);
	*exists = t->fl & T_EXISTS;
	if (*exists) {
		t_read(t, R_PERMS);
		*pl = t_perms(t);
	}
	return 0;
}

/* --- operations ------------------------------------------------------------ */

int txn_read(struct txn *x, const struct caller *who, const char *path,
	     const void **val, size_t *len)
{
	struct tent *t;
	int err = t_get_node(x, who, path, strlen(path), PERM_READ, R_VALUE,
			     &t);

	if (err)
		return t_result(x, err);
	*val = val_data(t->val);
	*len = val_len(t->val);
	return 0;
}

/* Make c, missing in the view, a new child `name` of p holding v
 * (consumed on success). */
static int t_make(struct txn *x, const struct caller *who, struct tent *p,
		  struct tent *c, struct val *v)
{
	struct pset ps = { 0 };

	if (store_inherit_perms(who, t_pset(p), &ps))
		return ENOMEM;
	if (kids_add(&p->added, c)) {
		pset_clear(&ps);
		return ENOMEM;
	}
	t_changed(x, p);
	pset_move(&c->perms, &ps);
	val_put(c->val);
	c->val = v;
	c->fl &= T_DELETED | T_FIRE | T_EXACT;
	c->fl |= T_EXISTS | T_OWNVAL | T_OWNPERMS;
	t_changed(x, c);
	return 0;
}

static size_t t_record(const struct tent *t);

/*
 * The node size quota (-S) on a record of `size` bytes the view is about
 * to hold, for an unprivileged writer.  As 4.17's write_node(), a refusal
 * also fails the transaction: what it wrote before cannot be taken back
 * (XSA-415).
 */
static int t_size_quota(struct txn *x, const struct caller *who, size_t size)
{
	int err;

	if (who->priv || !x->st->quota)
		return 0;
	err = quota_check_node_size(x->st->quota, who->domid, size);
	if (err)
		x->failed = true;
	return err;
}

/*
 * The quotas of t_create(), in 4.17's bottom-up order: the node count
 * (the committed one: the commit checks the total), then each new
 * record, the deepest first, then the parent's with its new child name.
 */
static int t_create_quota(struct txn *x, const struct caller *who,
			  const struct tent *p, const char *path, size_t pos,
			  size_t len, size_t vlen)
{
	size_t rec0 = QUOTA_RECORD_HDR + pset_count(t_pset(p)) *
		      QUOTA_RECORD_PERM;
	size_t end = len, start;
	int err;

	if (who->priv || !x->st->quota || pos >= len)
		return 0;
	err = quota_check_create_txn(x->st->quota, who->domid);
	if (!err)
		err = t_size_quota(x, who, rec0 + vlen);
	/* Upwards: the new node above path[start..end) holds its name. */
	for (;;) {
		if (err)
			return err;
		for (start = end; start > pos && path[start - 1] != '/'; start--)
			;
		if (start <= pos)
			break;
		err = t_size_quota(x, who, rec0 + (end - start) + 1);
		end = start - 1;
	}
	return t_size_quota(x, who, t_record(p) + (end - start) + 1);
}

/*
 * 4.17's construct_node(): create path and its missing ancestors (all
 * touched already by t_get_node's walk), top-down, the last one holding
 * v (consumed).
 */
static int t_create(struct txn *x, const struct caller *who,
		    const char *path, size_t len, struct val *v,
		    struct tent **out)
{
	size_t plen = len, pos, end;
	struct tent *p, *c;
	int err = t_ancestor(x, path, &plen, &p);

	if (err)
		goto fail;
	t_read(p, R_PERMS);
	err = t_create_quota(x, who, p, path, plen == 1 ? 1 : plen + 1, len,
			     val_len(v));
	if (err)
		goto fail;
	for (pos = plen == 1 ? 1 : plen + 1; pos < len; pos = end + 1) {
		const char *slash = memchr(path + pos, '/', len - pos);

		end = slash ? (size_t)(slash - path) : len;
		err = t_get(x, path, end, &c);
		if (err)
			goto fail;
		err = t_make(x, who, p, c, end == len ? v : NULL);
		if (err)
			goto fail;
		p = c;
	}
	*out = p;
	return 0;

fail:
	/* t_make consumes v only on success, and only in the last step. */
	val_put(v);
	return err;
}

int txn_write(struct txn *x, const struct caller *who, const char *path,
	      const void *val, size_t len)
{
	size_t plen = strlen(path);
	struct tent *t;
	struct val *v;
	int err = t_get_node(x, who, path, plen, PERM_WRITE, R_VALUE, &t);

	if (err && err != ENOENT)
		return t_result(x, err);
	/* (t_record() walks the child list: only when it is needed.) */
	if (!err && !who->priv && x->st->quota) {
		err = t_size_quota(x, who, t_record(t) - val_len(t->val) + len);
		if (err)
			return err;
	}
	if (val_new(val, len, &v))
		return t_result(x, ENOMEM);
	if (err) {
		err = t_create(x, who, path, plen, v, &t);
		if (err)
			return t_result(x, err);
	} else {
		val_put(t->val);
		t->val = v;
		t->fl |= T_OWNVAL;
		t_changed(x, t);
	}
	t_queue(t, false);
	return 0;
}

int txn_mkdir(struct txn *x, const struct caller *who, const char *path)
{
	size_t plen = strlen(path);
	struct tent *t;
	int err = t_get_node(x, who, path, plen, PERM_WRITE, 0, &t);

	if (err != ENOENT)
		return t_result(x, err);
	err = t_create(x, who, path, plen, NULL, &t);
	if (err)
		return t_result(x, err);
	t_queue(t, false);
	return 0;
}

/* Remove t from the view (its children are gone already). */
static void t_delete(struct txn *x, struct tent *t, bool exact)
{
	val_put(t->val);
	t->val = NULL;
	pset_clear(&t->perms);
	kids_clear(&t->added);
	names_clear(&t->removed);
	tree_unref(&x->st->tree, &t->ref);
	t->base = NULL;
	names_clear(&t->frozen);
	if (t->cgen)
		t->fl |= T_DELETED;
	t->fl &= ~(T_EXISTS | T_BASE | T_OWNVAL | T_OWNPERMS | T_FROZEN);
	t_changed(x, t);
	t_queue(t, exact);
}

static void frame_init(struct frame *f, struct tent *t)
{
	f->t = t;
	f->c = t->base ? node_first(t->base) : NULL;
	f->fi = 0;
	f->ai = 0;
}

static int push(struct txn *x, size_t *depth, struct tent *t, size_t plen)
{
	struct frame *f;

	if (*depth == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;

		f = realloc(x->stack, cap * sizeof(*f));
		if (!f)
			return ENOMEM;
		x->stack = f;
		x->cap = cap;
	}
	f = &x->stack[(*depth)++];
	frame_init(f, t);
	f->plen = plen;
	t_read(t, R_CHILDREN);
	return 0;
}

/* The next child name of f's node in the view, or false. */
static bool next_child(struct frame *f, const char **name, size_t *len)
{
	const struct names *fz = &f->t->frozen;
	uint32_t i;

	while (f->fi < fz->n) {
		const char *c = fz->v[f->fi++];

		if (!names_find(&f->t->removed, c, strlen(c), &i)) {
			*name = c;
			*len = strlen(c);
			return true;
		}
	}
	while (f->c) {
		const struct node *c = f->c;

		f->c = node_next(c);
		if (!names_find(&f->t->removed, c->name, c->namelen, &i)) {
			*name = c->name;
			*len = c->namelen;
			return true;
		}
	}
	if (f->ai < f->t->added.n) {
		*name = t_name(f->t, f->t->added.v[f->ai++], len);
		return true;
	}
	return false;
}

/* 4.17's record size of t's node in the view (tree_record_size()). */
static size_t t_record(const struct tent *t)
{
	size_t size = QUOTA_RECORD_HDR +
		      pset_count(t_pset(t)) * QUOTA_RECORD_PERM +
		      val_len(t->val), len;
	struct frame f = { 0 };
	const char *name;

	frame_init(&f, (struct tent *)(uintptr_t)t);
	while (next_child(&f, &name, &len))
		size += len + 1;
	return size;
}

/*
 * Remove top's subtree from the view: touched in pre-order as 4.17's
 * walk reads it, removed in post-order.  Iterative: trees may be deep.
 */
static int t_rm_walk(struct txn *x, struct tent *top)
{
	size_t depth = 0, clen;
	struct frame *f;
	const char *name;
	struct tent *c;
	int err;

	buf_reset(&x->path);
	if (buf_append(&x->path, top->path, top->len + 1))
		return ENOMEM;
	err = push(x, &depth, top, top->len);
	while (!err && depth) {
		f = &x->stack[depth - 1];
		if (!next_child(f, &name, &clen)) {
			t_delete(x, f->t, f->t != top);
			depth--;
			continue;
		}
		x->path.len = f->plen;
		if ((f->plen > 1 && buf_append(&x->path, "/", 1)) ||
		    buf_append(&x->path, name, clen)) {
			err = ENOMEM;
			break;
		}
		err = t_get(x, x->path.data, x->path.len, &c);
		if (!err && (c->fl & T_EXISTS))
			err = push(x, &depth, c, x->path.len);
	}
	return err;
}

/* Whether the committed list the view of t starts from names `name`. */
static bool t_base_has(const struct txn *x, const struct tent *t,
		       const char *name, size_t len)
{
	uint32_t i;

	if (!(t->fl & T_BASE))
		return false;
	if (t->fl & T_FROZEN)
		return names_find(&t->frozen, name, len, &i);
	return t->base && tree_child(&x->st->tree, t->base, name, len);
}

/*
 * Take `name` out of the view's child list of p, as 4.17's delete_child()
 * does: its first occurrence.  That is the committed entry unless hidden
 * already, else an appended one.  A name the list does not hold (p's list
 * was frozen before the child was created elsewhere) is nothing to take
 * out; 4.17 answers EIO there, lixs completes the RM.
 */
static int t_unlist(const struct txn *x, struct tent *p, const char *name,
		    size_t len)
{
	uint32_t i;

	if (t_base_has(x, p, name, len) && !names_find(&p->removed, name, len, &i))
		return names_add(&p->removed, name, len);
	kids_del(p, name, len);
	return 0;
}

int txn_rm(struct txn *x, const struct caller *who, const char *path)
{
	size_t len = strlen(path), plen = store_parent_len(path, len);
	const char *name = path + plen + (plen > 1);
	struct tent *t, *p;
	int err = t_get_node(x, who, path, len, PERM_WRITE, 0, &t);

	if (err == ENOENT) {
		err = t_get(x, path, plen, &p);
		if (err)
			return t_result(x, err);
		return (p->fl & T_EXISTS) ? 0 : ENOENT;
	}
	if (err)
		return t_result(x, err);
	if (len == 1)
		return EINVAL;
	err = t_get(x, path, plen, &p);
	if (err)
		return t_result(x, err);
	if (!(p->fl & T_EXISTS))
		return EINVAL;	/* as 4.17's rm_node() */
	err = t_rm_walk(x, t);
	if (err)
		return t_result(x, err);
	err = t_unlist(x, p, name, len - (size_t)(name - path));
	if (err)
		return t_result(x, err);
	t_changed(x, p);
	return 0;
}

int txn_directory(struct txn *x, const struct caller *who, const char *path,
		  struct buf *out, uint64_t *gen)
{
	size_t start = out->len;
	struct frame f = { 0 };
	const char *name;
	struct tent *t;
	size_t len;
	int err = t_get_node(x, who, path, strlen(path), PERM_READ,
			     R_CHILDREN, &t);

	if (err)
		return t_result(x, err);
	frame_init(&f, t);
	while (next_child(&f, &name, &len)) {
		if (buf_append(out, name, len + 1)) {
			out->len = start;
			return ENOMEM;
		}
	}
	if (gen) {
		*gen = t->mgen;
		if (!(t->fl & T_CHANGED))
			*gen = t->cgen;
	}
	return 0;
}

int txn_get_perms(struct txn *x, const struct caller *who, const char *path,
		  struct buf *out)
{
	struct perm_list pl;
	struct tent *t;
	int err = t_get_node(x, who, path, strlen(path), PERM_READ, 0, &t);

	if (err)
		return t_result(x, err);
	pl = t_perms(t);
	return perms_format(&pl, out);
}

int txn_set_perms(struct txn *x, const struct caller *who, const char *path,
		  const struct perm *perms, unsigned int n)
{
	struct perm_list pl;
	struct tent *t;
	int err = t_get_node(x, who, path, strlen(path),
			     PERM_WRITE | PERM_OWNER, R_PERMS, &t);

	if (err)
		return t_result(x, err);
	pl = t_perms(t);
	if (!who->priv && perms[0].domid != pl.e[0].domid)
		return EPERM;
	if (!who->priv && x->st->quota) {
		err = t_size_quota(x, who, t_record(t) +
				   ((size_t)n - pl.n) * QUOTA_RECORD_PERM);
		if (err)
			return err;
	}
	err = pset_set(&t->perms, &x->st->tree, perms, n);
	if (err)
		return t_result(x, err);
	t->fl |= T_OWNPERMS;
	t_changed(x, t);
	t_queue(t, false);
	return 0;
}

/*
 * The tree's freeze hook: n's child list is about to change (or n to go)
 * under views that still read it live; give each its own copy of the list
 * as it was, which is the list the view first saw.
 */
void txn_freeze(void *ctx, struct node *n)
{
	struct tree *tr = ctx;
	const struct node *c;
	struct noderef *r;
	struct tent *t;

	while ((r = tree_refs(tr, n))) {
		t = (struct tent *)(void *)((char *)r -
					    offsetof(struct tent, ref));
		for (c = node_first(n); c; c = node_next(c)) {
			if (names_add(&t->frozen, c->name, c->namelen)) {
				t->fl |= T_NOMEM;
				break;
			}
		}
		t->fl |= T_FROZEN;
		t->base = NULL;
		tree_unref(tr, &t->ref);
	}
}

/* --- start, commit, abort ------------------------------------------------ */

struct txn *store_txn_start(struct store *st)
{
	struct txn *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->st = st;
	x->last = &x->first;
	x->next = st->txns;
	if (st->txns)
		st->txns->prev = x;
	st->txns = x;
	st->ntxns++;
	return x;
}

static void txn_free(struct txn *x)
{
	struct store *st = x->st;
	struct tent *t;

	if (x->prev)
		x->prev->next = x->next;
	else
		st->txns = x->next;
	if (x->next)
		x->next->prev = x->prev;
	st->ntxns--;
	while ((t = x->first)) {
		x->first = t->onext;
		tent_free(&st->tree, t);
	}
	while (x->blocks) {
		struct tblock *b = x->blocks;

		x->blocks = b->next;
		if (!st->tblock_spare && b->size == TBLOCK_SIZE)
			st->tblock_spare = b;
		else
			free(b);
	}
	free(x->tab);
	free(x->stack);
	buf_free(&x->path);
	free(x);
}

void store_txn_set_limit(struct txn *x, unsigned int max_nodes)
{
	x->limit = max_nodes;
}

void store_txn_set_domid(struct txn *x, uint32_t domid)
{
	x->domid = domid;
}

void txn_free_all(struct store *st)
{
	while (st->txns)
		txn_free(st->txns);
}

void store_txn_doom(struct txn *x)
{
	x->doomed = true;
}

void store_txn_abort(struct store *st, struct txn *x)
{
	(void)st;
	txn_free(x);
}

/* The rule at the top of this file: 0, EAGAIN, or ENOMEM when the view
 * could not be kept complete.  No walk from the root for a node that was
 * there (a node never moves: alive, it is at its path) nor, usually, for
 * one that was not (t_get's `anc`). */
static int t_check(const struct txn *x)
{
	const struct tent *t;

	if (x->failed)
		return ENOMEM;
	for (t = x->first; t; t = t->onext) {
		if (t->fl & T_NOMEM)
			return ENOMEM;
		if (!t->cgen) {
			if (!t_still_absent(t) &&
			    tree_lookup(&x->st->tree, t->path, t->len))
				return EAGAIN;
			continue;
		}
		if (!t->seen->node)
			return EAGAIN;
		if (((t->rd & R_VALUE) && t->seen->vgen != t->vgen) ||
		    ((t->rd & R_PERMS) && t->seen->pgen != t->pgen) ||
		    ((t->rd & R_CHILDREN) && t->seen->kgen != t->kgen))
			return EAGAIN;
	}
	return 0;
}

static int by_path_len(const void *a, const void *b)
{
	const struct tent *ta = *(struct tent *const *)a;
	const struct tent *tb = *(struct tent *const *)b;

	return (ta->len > tb->len) - (ta->len < tb->len);
}

/* Parents before children: by path length.  Insertion for the few
 * entries of a usual commit (qsort's calls cost more there). */
static void t_sort(struct tent **v, size_t n)
{
	if (n > 64) {
		qsort(v, n, sizeof(*v), by_path_len);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		struct tent *t = v[i];
		size_t j = i;

		for (; j && v[j - 1]->len > t->len; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/* Drop the node t_prepare made for c, not in the tree: c is then as if
 * none was made (and `node` may name a committed one, t_apply). */
static void t_unmake(struct tree *tr, struct tent *c)
{
	tree_node_drop(tr, c->node);
	c->node = NULL;
	c->fl &= (uint16_t)~T_MADE;
}

/* The same for every child of a list that t_prepare made a node for. */
static void t_drop_made(struct tree *tr, struct kids *ks)
{
	for (uint32_t j = 0; j < ks->n; j++) {
		struct tent *c = ks->v[j];

		if ((c->fl & T_MADE) && !(c->fl & T_LINKED))
			t_unmake(tr, c);
	}
}

/*
 * Everything that can fail, before anything changes: the changed entries
 * sorted so parents come before children, and a node (T_MADE, in `node`)
 * for each child the views append.  The lists may name a child twice, or
 * one the view no longer holds (see txn_rm): each node of the view is
 * made once, and no other.
 */
static int t_prepare(struct txn *x, struct tent ***chg, size_t *nchg)
{
	struct tree *tr = &x->st->tree;
	size_t n = 0, nv = 0, i;
	struct tent *t, **v = NULL, *c;
	uint32_t j;

	for (t = x->first; t; t = t->onext) {
		if (!(t->fl & T_CHANGED))
			continue;
		n++;
		/* A value written may not fit its node's room: then it
		 * takes a side table entry, which t_apply cannot fail on. */
		if ((t->fl & T_OWNVAL) && t->val)
			nv++;
	}
	if (tree_reserve_vals(tr, nv))
		return ENOMEM;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return ENOMEM;
	for (t = x->first, i = 0; t; t = t->onext)
		if (t->fl & T_CHANGED)
			v[i++] = t;
	t_sort(v, n);
	for (i = 0; i < n; i++) {
		if (!(v[i]->fl & T_EXISTS))
			continue;
		for (j = 0; j < v[i]->added.n; j++) {
			const char *name;
			size_t len;

			c = v[i]->added.v[j];
			if (!(c->fl & T_EXISTS) || (c->fl & T_MADE))
				continue;
			name = t_name(v[i], c, &len);
			c->node = tree_node_new(tr, name, len, val_len(c->val));
			if (!c->node)
				goto nomem;
			c->fl |= T_MADE;
		}
	}
	*chg = v;
	*nchg = n;
	return 0;

nomem:
	for (i = 0; i < n; i++)
		t_drop_made(tr, &v[i]->added);
	free(v);
	return ENOMEM;
}

/* The committed node t's view stands for while t_apply runs: the one
 * made for it, the one it first saw, else (a node some other writer
 * made meanwhile, t_apply's "exists at commit") whatever is there. */
static struct node *t_node(const struct tree *tr, const struct tent *t)
{
	if (t->fl & T_MADE)
		return t->node;
	if (t->seen && t->seen->node && !(t->fl & T_DELETED))
		return t->seen->node;
	return tree_lookup(tr, t->path, t->len);
}

static void t_apply(struct txn *x, struct tent **v, size_t n)
{
	struct tree *tr = &x->st->tree;
	uint64_t gen = store_next_gen(x->st);
	struct node *node, *parent;
	size_t i;
	uint32_t j;

	/* Removals first, parents before children (whose nodes then go
	 * with their parent's subtree, and their nodegens with them). */
	for (i = 0; i < n; i++) {
		if (!(v[i]->fl & T_DELETED) || !v[i]->seen)
			continue;
		node = v[i]->seen->node;
		if (!node)
			continue;
		parent = node_parent(node);
		if (!parent)
			continue;	/* "/" is never removed */
		tree_remove(tr, node, NULL, NULL, NULL);
		tree_changed(tr, parent, TREE_KIDS, gen);
	}
	/* Then what exists in the view, parents first, so each node
	 * created from its parent's appended children is there to fill. */
	for (i = 0; i < n; i++) {
		struct tent *t = v[i];

		if (!(t->fl & T_EXISTS))
			continue;
		node = t_node(tr, t);
		t->node = node;
		if (!node) {
			log_err("txn: commit found no node for %s", t->path);
			t_drop_made(tr, &t->added);
			continue;
		}
		if (t->fl & T_OWNVAL) {
			/* t_prepare reserved its side table entry. */
			(void)tree_set_val(tr, node, t->val);
			t->val = NULL;
			tree_changed(tr, node, TREE_VAL, gen);
		}
		if (t->fl & T_OWNPERMS) {
			tree_set_perms(tr, node, &t->perms);
			tree_changed(tr, node, TREE_PERMS, gen);
		}
		for (j = 0; j < t->added.n; j++) {
			struct tent *c = t->added.v[j];

			if (!(c->fl & T_MADE) || (c->fl & T_LINKED))
				continue;
			if (tree_child(tr, node, c->node->name, c->node->namelen)) {
				log_err("txn: %s exists at commit", c->path);
				t_unmake(tr, c);
				continue;
			}
			c->node->gen = gen;
			tree_append(tr, node, c->node);
			c->fl |= T_LINKED;
			tree_changed(tr, node, TREE_KIDS, gen);
		}
	}
}

static void t_fire(struct txn *x, const struct store_event_sink *sink)
{
	const struct perm_list none = { 0, NULL };
	struct perm_list pl, ppl, opl;
	const struct tent *t;
	const struct node *n, *pn;

	for (t = x->first; t; t = t->onext) {
		if (!(t->fl & T_FIRE))
			continue;
		/* t_apply found the nodes of the view; what it did not
		 * visit is looked up. */
		n = (t->fl & T_EXISTS) && t->node ? t->node :
		    tree_lookup(&x->st->tree, t->path, t->len);
		/* Created and removed again: 4.17 queues it, but nobody
		 * passes its permission check, not even dom0. */
		if (!n && !pset_count(&t->operms))
			continue;
		pl = n ? node_perms(n) : none;
		pn = n && node_parent(n) ? node_parent(n) : n;
		ppl = pn ? node_perms(pn) : none;
		opl = pset_list(&t->operms);
		store_fire(sink, t->path, t->fl & T_EXACT, &pl,
			   n ? &ppl : NULL, opl.n ? &opl : NULL);
	}
}

/* A domain's node count change by a commit. */
struct qdelta {
	uint32_t domid;
	long delta;
};

static int qdelta_add(struct qdelta **v, size_t *n, uint32_t domid,
		      long delta)
{
	struct qdelta *nv;
	size_t i;

	if (domid == DOMID_NONE)
		return 0;
	for (i = 0; i < *n; i++) {
		if ((*v)[i].domid == domid) {
			(*v)[i].delta += delta;
			return 0;
		}
	}
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return ENOMEM;
	nv[*n].domid = domid;
	nv[*n].delta = delta;
	*v = nv;
	(*n)++;
	return 0;
}

static uint32_t pset_owner(const struct pset *ps)
{
	return pset_count(ps) ? pset_list(ps).e[0].domid : DOMID_NONE;
}

/*
 * 4.17's transaction_fix_domains() before the commit: each domain whose
 * node count the transaction changes (created, removed, given away; a
 * net change of 0 included) must stay below -E.  Counted from the view
 * against the committed counts; the tree's accounting makes the real
 * change when t_apply() runs.  A count that would go negative because
 * someone else removed the nodes first is no error: the conflict check
 * that follows answers EAGAIN (XSA-440).
 */
static int t_commit_quota(const struct txn *x)
{
	struct qdelta *v = NULL;
	const struct tent *t;
	size_t n = 0, i;
	int err = 0;

	if (!x->st->quota)
		return 0;
	for (t = x->first; t && !err; t = t->onext) {
		uint32_t o1 = pset_owner(&t->operms), o2 = pset_owner(t_pset(t));
		bool exists = t->fl & T_EXISTS, gone = t->fl & T_DELETED;

		if (!(t->fl & T_CHANGED))
			continue;
		if (t->cgen && (gone || (exists && o1 != o2)))
			err = qdelta_add(&v, &n, o1, -1);
		if (!err && exists && (!t->cgen || gone || o1 != o2))
			err = qdelta_add(&v, &n, o2, 1);
	}
	for (i = 0; i < n && !err; i++)
		err = quota_check_commit(x->st->quota, v[i].domid, v[i].delta);
	free(v);
	return err;
}

int store_txn_commit(struct store *st, struct txn *x,
		     const struct store_event_sink *sink)
{
	struct tent **chg = NULL;
	size_t nchg = 0;
	int err = 0;

	struct tent *t;

	(void)st;
	/* 4.17's order: a failed transaction, the node quota, conflicts.
	 * A doomed one never commits: it stands for one a crash ended. */
	err = x->failed ? ENOMEM : x->doomed ? EAGAIN : t_commit_quota(x);
	if (!err)
		err = t_check(x);
	if (!err)
		err = t_prepare(x, &chg, &nchg);
	if (!err) {
		/* Its own views need no copies of what it changes. */
		for (t = x->first; t; t = t->onext)
			tree_unref(&st->tree, &t->ref);
		t_apply(x, chg, nchg);
		t_fire(x, sink);
	}
	free(chg);
	txn_free(x);
	return err;
}
