/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store.c - the store's operations on the committed tree, the special
 * "@..." nodes, and the dispatch of transactional calls to txn.c.
 *
 * Error rules (cxenstored 4.17 get_node()/errno_from_parents()): a node
 * the caller lacks `want` on is EACCES; a missing node is ENOENT only if
 * its nearest existing ancestor grants the caller any bit of `want`,
 * otherwise EACCES, so that existence does not leak.
 *
 * Worked example, domain 5 without any access to /secret (perms "n0"):
 *   READ /secret/x   -> EACCES (missing, and /secret hides it)
 *   READ /secret     -> EACCES
 *   RM   /secret/x   -> EACCES (RM of a missing node is OK only if the
 *                       caller may learn that it is missing)
 */
#include "store_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "path.h"

static const char *const special_name[SPECIAL_COUNT] = {
	[SPECIAL_INTRODUCE] = "@introduceDomain",
	[SPECIAL_RELEASE] = "@releaseDomain",
};

size_t store_parent_len(const char *path, size_t len)
{
	size_t i;

	for (i = len; i > 1; i--)
		if (path[i - 1] == '/')
			return i - 1;
	return 1;
}

int store_inherit_perms(const struct caller *who, const struct pset *parent,
			struct pset *out)
{
	pset_copy(out, parent);
	/* An unprivileged creator owns what it creates, whatever the
	 * parent says; the rest of the list is inherited unchanged. */
	if (!who->priv && pset_set_owner(out, who->domid)) {
		pset_clear(out);
		return ENOMEM;
	}
	return 0;
}

void store_fire(const struct store_event_sink *sink, const char *path,
		bool exact, const struct perm_list *perms,
		const struct perm_list *parent_perms,
		const struct perm_list *old_perms)
{
	struct store_event ev;

	if (!sink || !sink->fire)
		return;
	ev.path = path;
	ev.exact = exact;
	ev.perms = *perms;
	ev.parent_perms = parent_perms;
	ev.old_perms = old_perms;
	sink->fire(sink->ctx, &ev);
}

/* An event about committed node n (its parent's perms stand for "/"'s
 * parent, as upstream's get_parent("/") is "/"). */
static void fire_node(const struct store_event_sink *sink, const char *path,
		      bool exact, const struct node *n,
		      const struct perm_list *old_perms)
{
	const struct node *p = node_parent(n) ? node_parent(n) : n;
	struct perm_list pl = node_perms(n);
	struct perm_list ppl = node_perms(p);

	store_fire(sink, path, exact, &pl, &ppl, old_perms);
}

static int special_index(const char *name)
{
	int i;

	for (i = 0; i < SPECIAL_COUNT; i++)
		if (strcmp(name, special_name[i]) == 0)
			return i;
	return -1;
}

/* A node of 4.17's initial tree: empty, "n0", generation 1. */
static struct node *initial_node(struct store *st, struct node *parent,
				 const char *name)
{
	static const struct perm n0 = { 0, PERM_NONE };
	struct node *n = st->tree.root;
	struct pset ps = { NULL };

	if (parent)
		n = tree_node_new(&st->tree, name, strlen(name), 0);
	if (!n)
		return NULL;
	if (pset_set(&ps, &st->tree, &n0, 1)) {
		if (parent)
			tree_node_drop(&st->tree, n);
		return NULL;
	}
	tree_node_set_perms(&st->tree, n, &ps);
	n->gen = 1;
	if (parent)
		tree_append(&st->tree, parent, n);
	return n;
}

struct store *store_new(void)
{
	static const struct perm n0 = { 0, PERM_NONE };
	struct store *st = calloc(1, sizeof(*st));
	struct node *tool;
	int i;

	if (!st)
		return NULL;
	/* The index hash is keyed by where ASLR put us: enough to keep a
	 * guest from planning collisions, and the node quota bounds the
	 * damage if it does. */
	if (tree_init(&st->tree, (uint32_t)((uintptr_t)st >> 4) ^ 0x9e3779b9u))
		goto fail;
	st->tree.freeze = txn_freeze;
	st->tree.freeze_ctx = &st->tree;
	st->gen = 1;
	if (!initial_node(st, NULL, ""))
		goto fail;
	tool = initial_node(st, st->tree.root, "tool");
	if (!tool || !initial_node(st, tool, "xenstored"))
		goto fail;
	for (i = 0; i < SPECIAL_COUNT; i++)
		if (pset_set(&st->special[i], &st->tree, &n0, 1))
			goto fail;
	return st;

fail:
	for (i = 0; i < SPECIAL_COUNT; i++)
		pset_clear(&st->special[i]);
	tree_fini(&st->tree);
	free(st);
	return NULL;
}

void store_free(struct store *st)
{
	int i;

	if (!st)
		return;
	txn_free_all(st);
	free(st->tblock_spare);
	/* Whoever owns the quota table may free it before or after us. */
	tree_set_acct(&st->tree, NULL, NULL);
	/* Their lists lie in the tree's slab. */
	for (i = 0; i < SPECIAL_COUNT; i++)
		pset_clear(&st->special[i]);
	tree_fini(&st->tree);
	buf_free(&st->path);
	free(st);
}

void store_set_quota(struct store *st, struct quota *q)
{
	st->quota = q;
	tree_set_acct(&st->tree, q ? quota_tree_acct : NULL, q);
}

int store_check_record(struct store *st, const struct caller *who,
		       uint32_t owner, size_t size, long grow)
{
	int err = 0;

	if (!st->quota)
		return 0;
	/* 4.17's write_node_raw(): the size limit binds unprivileged
	 * writers, the memory limit unprivileged owners, whoever writes. */
	if (!who->priv)
		err = quota_check_node_size(st->quota, who->domid, size);
	if (!err && grow > 0)
		err = quota_check_memory(st->quota, owner, (size_t)grow);
	return err;
}

/*
 * get_node() on the committed tree: 0 and *out, or the errno by the rules
 * at the top.  Thanks to the walk, the nearest existing ancestor of a
 * missing node costs nothing extra.
 */
static int get_node(struct store *st, const struct caller *who,
		    const char *path, unsigned int want, struct node **out)
{
	size_t len = strlen(path), done;
	struct node *n = tree_walk(&st->tree, path, len, &done);
	struct perm_list pl;

	*out = NULL;
	if (!n)
		return store_invalid_path_errno(st, NULL, who, path, want);
	pl = node_perms(n);
	if (done == len) {
		if ((perms_for(who, &pl) & want) != want)
			return EACCES;
		*out = n;
		return 0;
	}
	return (perms_for(who, &pl) & want) ? ENOENT : EACCES;
}

int store_invalid_path_errno(struct store *st, struct txn *txn,
			     const struct caller *who, const char *path,
			     unsigned int want)
{
	size_t len = strlen(path);
	struct perm_list pl = { 0, NULL };
	const char *p;
	struct node *n;
	bool exists = false;
	int err;

	/* 4.17 asks the parents by name, one get_parent() at a time, so
	 * "/a//b" consults "/a/", then "/a". */
	do {
		len = store_parent_len(path, len);
		/* The parent of a name without a "/" after the first
		 * character ("@x", "/x") is "/". */
		p = len == 1 ? "/" : path;
		if (txn) {
			err = txn_peek_perms(txn, p, len, &exists, &pl);
			if (err)
				return err;
		} else {
			n = tree_lookup(&st->tree, p, len);
			exists = n != NULL;
			if (n)
				pl = node_perms(n);
		}
	} while (!exists && len > 1);
	if (!exists)
		return EACCES;	/* no root: cannot happen */
	return (perms_for(who, &pl) & want) ? EINVAL : EACCES;
}

int store_special_perms(const struct store *st, const char *name,
			struct perm_list *out)
{
	int i = special_index(name);

	if (i < 0)
		return EINVAL;
	*out = pset_list(&st->special[i]);
	return 0;
}

int store_read(struct store *st, struct txn *txn, const struct caller *who,
	       const char *path, const void **val, size_t *len)
{
	struct node *n;
	int err;

	if (txn)
		return txn_read(txn, who, path, val, len);
	err = get_node(st, who, path, PERM_READ, &n);
	if (err)
		return err;
	*val = tree_val_data(&st->tree, n);
	*len = tree_val_len(n);
	return 0;
}

/* The end of the path component starting at path[pos]. */
static size_t seg_end(const char *path, size_t pos, size_t len)
{
	const char *slash = memchr(path + pos, '/', len - pos);

	return slash ? (size_t)(slash - path) : len;
}

/*
 * The quotas a creation below p of the nodes named by path[pos..len)
 * must pass (4.17's create_node(): the node count of an unprivileged
 * creator, then each record written, new nodes and p with its new child
 * name; all or nothing, XSA-414).  0, ENOSPC or EIO.
 */
static int create_quota(struct store *st, const struct caller *who,
			const struct node *p, const char *path, size_t pos,
			size_t len, size_t vlen)
{
	uint32_t owner = who->priv ? tree_owner(p) : who->domid;
	size_t nperm = node_perm_count(p);
	size_t plen = node_parent(p) ? tree_path_len(p) : 0;
	size_t first = 0, mem = 0, end, i;
	unsigned int k = 0;
	int err;

	if (!st->quota || pos >= len)
		return 0;
	for (i = pos; i < len; i = end + 1, k++)
		end = seg_end(path, i, len);
	if (!who->priv) {
		err = quota_check_create(st->quota, who->domid, k);
		if (err)
			return err;
	}
	for (; pos < len; pos = end + 1) {
		size_t rec = QUOTA_RECORD_HDR + nperm * QUOTA_RECORD_PERM;

		end = seg_end(path, pos, len);
		/* A new inner node's only child is the next name. */
		rec += end < len ? seg_end(path, end + 1, len) - end : vlen;
		if (!first)
			first = end - pos;
		plen += 1 + (end - pos);
		if (!who->priv) {
			err = quota_check_node_size(st->quota, who->domid, rec);
			if (err)
				return err;
		}
		mem += rec + plen;
	}
	err = store_check_record(st, who, tree_owner(p),
				 tree_record_size(&st->tree, p) + first + 1,
				 (long)first + 1);
	if (!err && owner != DOMID_NONE)
		err = quota_check_memory(st->quota, owner, mem);
	return err;
}

/*
 * Create path and its missing ancestors below the deepest existing node,
 * each inheriting its parent's perms, the last one holding val[0..vlen).
 * Everything is allocated before anything is linked, so a failure leaves
 * the tree as it was.
 */
static int create_nodes(struct store *st, const struct caller *who,
			const char *path, const void *val, size_t vlen,
			struct node **out)
{
	size_t len = strlen(path), done, pos, end;
	struct node *p = tree_walk(&st->tree, path, len, &done);
	struct node *head = NULL, *last = NULL, *n = NULL;
	struct pset pp = node_pset(p);	/* borrowed */
	struct val *v = NULL;
	uint64_t gen;
	int err = create_quota(st, who, p, path, done == 1 ? 1 : done + 1, len,
			       vlen);

	if (err)
		return err;
	for (pos = done == 1 ? 1 : done + 1; pos < len; pos = end + 1) {
		const char *slash = memchr(path + pos, '/', len - pos);
		struct pset ps = { NULL };

		end = slash ? (size_t)(slash - path) : len;
		n = tree_node_new(&st->tree, path + pos, end - pos,
				  end == len ? vlen : 0);
		if (!n || store_inherit_perms(who, &pp, &ps)) {
			if (n)
				tree_node_drop(&st->tree, n);
			goto nomem;
		}
		tree_node_set_perms(&st->tree, n, &ps);
		pp = node_pset(n);
		/* Chain the new nodes through their next links until
		 * linked. */
		if (last)
			node_set_next(last, n);
		else
			head = n;
		last = n;
	}
	/* A value too big for the node's own room, and its side table
	 * entry. */
	if (n && !tree_val_fits(n, vlen) &&
	    (tree_reserve_vals(&st->tree, 1) || val_new(val, vlen, &v)))
		goto nomem;
	gen = store_next_gen(st);
	tree_changed(&st->tree, p, TREE_KIDS, gen);
	while (head) {
		n = head;
		head = node_next(n);
		n->gen = (uint32_t)gen;
		tree_append(&st->tree, p, n);
		p = n;
	}
	if (v)
		(void)tree_set_val(&st->tree, p, v);	/* reserved */
	else
		tree_set_bytes(&st->tree, p, val, vlen);
	*out = p;
	return 0;

nomem:
	while (head) {
		n = head;
		head = node_next(n);
		tree_node_drop(&st->tree, n);
	}
	return ENOMEM;
}

int store_write(struct store *st, struct txn *txn, const struct caller *who,
		const char *path, const void *val, size_t len,
		const struct store_event_sink *sink)
{
	struct node *n;
	struct val *v;
	int err;

	/* Never from a request (4,096 bytes at most): the tree's bound,
	 * checked before anything is linked, in or out of a transaction. */
	if (len > TREE_VAL_MAX)
		return E2BIG;
	if (txn)
		return txn_write(txn, who, path, val, len);
	err = get_node(st, who, path, PERM_WRITE, &n);
	if (err && err != ENOENT)
		return err;
	if (err) {
		err = create_nodes(st, who, path, val, len, &n);
		if (err)
			return err;
	} else {
		size_t old = tree_record_size(&st->tree, n), olen = tree_val_len(n);

		err = store_check_record(st, who, tree_owner(n),
					 old - olen + len,
					 (long)len - (long)olen);
		if (err)
			return err;
		if (tree_val_fits(n, len)) {
			tree_set_bytes(&st->tree, n, val, len);
		} else {
			if (val_new(val, len, &v) ||
			    tree_set_val(&st->tree, n, v))
				return ENOMEM;
		}
		tree_changed(&st->tree, n, TREE_VAL, store_next_gen(st));
	}
	fire_node(sink, path, false, n, NULL);
	return 0;
}

int store_mkdir(struct store *st, struct txn *txn, const struct caller *who,
		const char *path, const struct store_event_sink *sink)
{
	struct node *n;
	int err;

	if (txn)
		return txn_mkdir(txn, who, path);
	err = get_node(st, who, path, PERM_WRITE, &n);
	if (err != ENOENT)
		return err;	/* 0: it exists, leave it alone */
	err = create_nodes(st, who, path, NULL, 0, &n);
	if (err)
		return err;
	fire_node(sink, path, false, n, NULL);
	return 0;
}

struct rm_ctx {
	const struct store_event_sink *sink;
	const struct node *top;
};

static void rm_visit(void *ctx, const struct node *n, const char *path)
{
	struct rm_ctx *rc = ctx;

	/* Upstream fires while the node and its parent still exist:
	 * nodes below the removed one only to exact watches. */
	fire_node(rc->sink, path, n != rc->top, n, NULL);
}

int store_rm(struct store *st, struct txn *txn, const struct caller *who,
	     const char *path, const struct store_event_sink *sink)
{
	size_t len = strlen(path), done;
	struct rm_ctx rc = { sink, NULL };
	struct node *n, *parent;
	int err;

	if (txn)
		return txn_rm(txn, who, path);
	err = get_node(st, who, path, PERM_WRITE, &n);
	if (err == ENOENT) {
		/* Already gone: fine if the parent exists (no perm check
		 * on the parent, as upstream). */
		tree_walk(&st->tree, path, len, &done);
		return done == store_parent_len(path, len) ? 0 : ENOENT;
	}
	if (err)
		return err;
	if (n == st->tree.root)
		return EINVAL;
	buf_reset(&st->path);
	if (buf_reserve(&st->path, len + tree_subtree_pathmax(n) + 1))
		return ENOMEM;
	buf_append(&st->path, path, len + 1);
	st->path.len = len;
	parent = node_parent(n);
	rc.top = n;
	tree_remove(&st->tree, n, &st->path, rm_visit, &rc);
	tree_changed(&st->tree, parent, TREE_KIDS, store_next_gen(st));
	return 0;
}

int store_directory_gen(struct store *st, struct txn *txn,
			const struct caller *who, const char *path,
			struct buf *out, uint64_t *gen)
{
	size_t start = out->len;
	struct node *n, *c;
	int err;

	if (txn)
		return txn_directory(txn, who, path, out, gen);
	err = get_node(st, who, path, PERM_READ, &n);
	if (err)
		return err;
	for (c = node_first(n); c; c = node_next(c)) {
		if (buf_append(out, c->name, c->namelen + 1)) {
			out->len = start;
			return ENOMEM;
		}
	}
	if (gen) {
		*gen = n->gen;
	}
	return 0;
}

int store_directory(struct store *st, struct txn *txn,
		    const struct caller *who, const char *path, struct buf *out)
{
	return store_directory_gen(st, txn, who, path, out, NULL);
}

int store_get_perms(struct store *st, struct txn *txn,
		    const struct caller *who, const char *path, struct buf *out)
{
	struct perm_list pl;
	struct node *n;
	int err;

	/* 4.17 looks "@..." up as an ordinary (invalid) node name. */
	if (path[0] == '@')
		return store_invalid_path_errno(st, txn, who, path, PERM_READ);
	if (txn)
		return txn_get_perms(txn, who, path, out);
	err = get_node(st, who, path, PERM_READ, &n);
	if (err)
		return err;
	pl = node_perms(n);
	return perms_format(&pl, out);
}

/* n and its subtree; `path` holds n's path and is extended in place.
 * n's path shares `shared` bytes with the node reported before it. */
static int each_node(struct store *st, const struct node *n, struct buf *path,
		     size_t shared, store_node_fn *fn, void *ctx)
{
	size_t base = path->len, sep = base > 1;
	struct perm_list pl = node_perms(n);
	int err;

	/* Siblings lie far apart in a store of many domains (each was made
	 * with its own domain): the first child is fetched while this node
	 * is coded, the next sibling while a child's subtree is.  A prefetch
	 * of NULL does nothing. */
	__builtin_prefetch(node_first(n));
	err = fn(ctx, path->data, path->len, shared, &pl, tree_val_data(&st->tree, n),
		 tree_val_len(n));

	/* The node before the first child is n itself, whose whole path
	 * the child's starts with.  The node before a later child is its
	 * elder sibling or in its subtree: their paths share n's, the '/'
	 * and as much of the two names as is alike ('/' is in no name). */
	for (const struct node *k = node_first(n), *elder = NULL; !err && k;
	     elder = k, k = node_next(k)) {
		shared = base;
		if (elder)
			shared += sep + path_common_prefix(k->name, k->namelen, elder->name,
							   elder->namelen);
		path->len = base;
		err = buf_reserve(path, sep + (size_t)k->namelen + 1);
		if (!err) {
			char *end = path->data + base;

			if (sep)
				*end++ = '/';
			memcpy(end, k->name, (size_t)k->namelen + 1);
			path->len = base + sep + k->namelen;	/* the NUL stays after */
			__builtin_prefetch(node_next(k));
			err = each_node(st, k, path, shared, fn, ctx);
		}
	}
	path->len = base;
	path->data[base] = '\0';
	return err;
}

bool store_names_domid(const struct store *st, uint32_t domid)
{
	return tree_names_domid(&st->tree, domid);
}

int store_each_node(struct store *st, store_node_fn *fn, void *ctx)
{
	struct buf path = BUF_INIT;
	int err = buf_append(&path, "/", 2);

	if (!err) {
		path.len = 1;
		err = each_node(st, st->tree.root, &path, 0, fn, ctx);
	}
	buf_free(&path);
	return err;
}

/* `shared`: the length of the path reported before in this walk, every
 * one of which is an ancestor's, so a prefix of this one; 0: none. */
static int report(struct store *st, struct node *n, const char *path, size_t len,
		  size_t shared, store_node_fn *fn, void *ctx)
{
	struct perm_list pl = node_perms(n);
	int err = fn(ctx, path, len, shared, &pl, tree_val_data(&st->tree, n),
		     tree_val_len(n));

	if (!err)
		n->flags |= NODE_JOURNALED;
	return err;
}

static void unmark(struct node *n)
{
	n->flags &= ~NODE_JOURNALED;
	for (struct node *k = node_first(n); k; k = node_next(k))
		unmark(k);
}

void store_journal_forget(struct store *st)
{
	unmark(st->tree.root);
}

/* The deepest node on `path` (len bytes, absolute), walked down from the
 * deepest node it shares with the cursor's path; *done as tree_walk's. */
static struct node *walk_near(struct store *st, const struct store_cursor *cur,
			      const char *path, size_t len, size_t *done)
{
	struct node *from;
	size_t same, at;

	if (!cur->node || len == 0 || path[0] != '/')
		return tree_walk(&st->tree, path, len, done);
	same = path_common_prefix(path, len, cur->path, cur->len);
	/* The longest shared prefix that is a node's path in both: it ends
	 * where each path has a '/' or ends (at 0: the root). */
	for (at = same; at; at--)
		if ((at == len || path[at] == '/') &&
		    (at == cur->len || cur->path[at] == '/'))
			break;
	/* Up from the cursor's node, once for each name after it. */
	from = cur->node;
	for (size_t i = at; from && i < cur->len; i++)
		if (cur->path[i] == '/')
			from = node_parent(from);
	if (!from)
		return tree_walk(&st->tree, path, len, done);
	return tree_walk_from(&st->tree, from, path, len, at, done);
}

int store_journal_path(struct store *st, const char *path,
		       struct store_cursor *cur, store_node_fn *fn, void *ctx)
{
	size_t len = strlen(path), done, start = 1, reported = 0;
	struct node *n = walk_near(st, cur, path, len, &done), *a;
	char *prefix;
	int err = 0;

	if (!n || done != len || path[0] != '/')
		return ENOENT;
	/* Not the root: its path "/" ends in the '/' the climb counts. */
	if (len > 1)
		*cur = (struct store_cursor){ path, len, n };
	/* Usually every ancestor was reported already: then only n is, by
	 * the path as given, without a copy or a second walk down (a
	 * modifying request's cost, paid on every WRITE). */
	for (a = node_parent(n); a && (a->flags & NODE_JOURNALED); a = node_parent(a))
		;
	if (!a)
		return report(st, n, path, len, 0, fn, ctx);
	prefix = malloc(len + 1);
	if (!prefix)
		return ENOMEM;
	memcpy(prefix, path, len + 1);
	/* Root first, down the path: a node made with this path (a WRITE
	 * makes missing ancestors) was never reported. */
	n = st->tree.root;
	if (!(n->flags & NODE_JOURNALED)) {
		err = report(st, n, "/", 1, 0, fn, ctx);
		reported = 1;
	}
	while (!err && start < len) {
		size_t end = start;

		while (end < len && path[end] != '/')
			end++;
		n = tree_child(&st->tree, n, path + start, end - start);
		if (!n)
			break;	/* cannot happen: the walk found the whole path */
		prefix[end] = '\0';
		if (end == len || !(n->flags & NODE_JOURNALED)) {
			err = report(st, n, prefix, end, reported, fn, ctx);
			reported = end;
		}
		prefix[end] = path[end];
		start = end + 1;
	}
	free(prefix);
	return err;
}

int store_node_perms(struct store *st, const char *path, struct perm_list *out)
{
	size_t len = strlen(path), done;
	struct node *n;

	if (path[0] == '@')
		return EINVAL;
	n = tree_walk(&st->tree, path, len, &done);
	if (!n || done != len)
		return ENOENT;
	*out = node_perms(n);
	return 0;
}

/* 4.17 set_perms_special(): not transactional, no event. */
static int set_perms_special(struct store *st, const struct caller *who,
			     const char *name, const struct perm *perms,
			     unsigned int n)
{
	const unsigned int need = PERM_WRITE | PERM_OWNER;
	struct perm_list pl;
	int i = special_index(name);

	if (i < 0)
		return EINVAL;
	pl = pset_list(&st->special[i]);
	if ((perms_for(who, &pl) & need) != need)
		return EACCES;
	return pset_set(&st->special[i], &st->tree, perms, n);
}

int store_set_perms(struct store *st, struct txn *txn,
		    const struct caller *who, const char *path,
		    const struct perm *perms, unsigned int n,
		    const struct store_event_sink *sink)
{
	struct pset ps = { 0 }, old;
	struct perm_list opl;
	struct node *node;
	size_t size;
	long dperm;
	int err;

	if (n == 0)
		return EINVAL;
	if (path[0] == '@')
		return set_perms_special(st, who, path, perms, n);
	if (txn)
		return txn_set_perms(txn, who, path, perms, n);
	err = get_node(st, who, path, PERM_WRITE | PERM_OWNER, &node);
	if (err)
		return err;
	if (!who->priv && perms[0].domid != node_perms(node).e[0].domid)
		return EPERM;
	/* The owner may change (dom0 only): then the whole record moves. */
	dperm = ((long)n - (long)node_perm_count(node)) * (long)QUOTA_RECORD_PERM;
	size = (size_t)((long)tree_record_size(&st->tree, node) + dperm);
	err = store_check_record(st, who, perms[0].domid, size,
				 perms[0].domid == tree_owner(node) ? dperm :
				 (long)(size + tree_path_len(node)));
	if (err)
		return err;
	err = pset_set(&ps, &st->tree, perms, n);
	if (err)
		return err;
	/* Keep the old list alive for the event's old_perms (a shared
	 * reference: the tree's accounting must see the old owner go). */
	old = (struct pset){ 0 };
	node_pset_copy(&old, node);
	tree_set_perms(&st->tree, node, &ps);
	tree_changed(&st->tree, node, TREE_PERMS, store_next_gen(st));
	opl = pset_list(&old);
	fire_node(sink, path, false, node, &opl);
	pset_clear(&old);
	return 0;
}

void store_get_stats(const struct store *st, struct store_stats *out)
{
	out->nodes = st->tree.nodes;
	out->txns = st->ntxns;
	out->bytes = st->tree.bytes;
	out->slab_bytes = slab_bytes(&st->tree.mem);
	out->slab_free = st->tree.mem.free_bytes + st->tree.mem.mapped -
			 st->tree.mem.carved;
	/* The slab's objects are nodes and the perms lists they share. */
	out->slab_psets = st->tree.psets;
	out->slab_live = st->tree.mem.live - st->tree.psets;
}
