/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * watch.c - the watch index: registrations kept in a hash map keyed by
 * the watched path, matched against store events by looking up the
 * event path and its ancestors (see watch.h).
 *
 * Worked example: watches on "/" (A), "/a" (B) and "/a/b/c" (C).  An
 * event on "/a/b" looks up "/a/b", "/a" and "/" and fires B then A (or
 * A then B, whichever was registered first); C is never looked at.  An
 * exact event on "/a/b" looks up "/a/b" only and fires nothing.
 */
#include "watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One watched path and every watch on it, whoever owns them. */
struct watch_slot {
	struct watch_slot *next;	/* bucket chain */
	struct watch *first;		/* watches on this path */
	uint32_t hash;
	size_t len;
	char path[];			/* NUL-terminated */
};

struct watch {
	struct watch *slot_prev, *slot_next;	/* on the same path */
	struct watch *own_prev, *own_next;	/* of the same owner */
	struct watch_slot *slot;
	struct watch_owner *owner;
	uint64_t seq;				/* registration order */
	bool relative;
	char token[];
};

#define INITIAL_BUCKETS 64u

/*
 * Seeded FNV-1a, finished with an avalanche.  Incremental, so that one
 * pass over an event path yields the hash of every ancestor.  Not a
 * cryptographic PRF: per-domain watch quotas bound how many entries a
 * guest can place, the seed keeps it from precomputing collisions.
 */
static uint32_t hash_start(uint32_t seed)
{
	return 2166136261u ^ seed;
}

static uint32_t hash_step(uint32_t h, unsigned char c)
{
	return (h ^ c) * 16777619u;
}

static uint32_t hash_finish(uint32_t h, size_t len)
{
	h ^= (uint32_t)len;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t hash_path(uint32_t seed, const char *s, size_t len)
{
	uint32_t h = hash_start(seed);

	for (size_t i = 0; i < len; i++)
		h = hash_step(h, (unsigned char)s[i]);
	return hash_finish(h, len);
}

void watch_index_init(struct watch_index *wi, uint32_t seed)
{
	memset(wi, 0, sizeof(*wi));
	wi->seed = seed;
	wi->next_seq = 1;
}

void watch_index_fini(struct watch_index *wi)
{
	for (size_t b = 0; b < wi->size; b++) {
		struct watch_slot *s = wi->tab[b], *next;

		/* Owners should have emptied their slots; free what is left. */
		for (; s; s = next) {
			next = s->next;
			free(s);
		}
	}
	free(wi->tab);
	free(wi->by_len);
	free(wi->match);
	free(wi->cut);
	free(wi->cut_hash);
	buf_free(&wi->payload);
	memset(wi, 0, sizeof(*wi));
}

void watch_owner_init(struct watch_owner *o, const struct caller *who,
		      uint64_t seq)
{
	char home[32];
	int n = snprintf(home, sizeof(home), "/local/domain/%u", who->domid);

	memset(o, 0, sizeof(*o));
	o->who = *who;
	o->seq = seq;
	o->strip = n > 0 ? (uint32_t)n : 0;
}

static struct watch_slot *slot_find(const struct watch_index *wi,
				    const char *path, size_t len,
				    uint32_t hash)
{
	struct watch_slot *s;

	if (!wi->size)
		return NULL;
	for (s = wi->tab[hash & (wi->size - 1)]; s; s = s->next)
		if (s->hash == hash && s->len == len &&
		    memcmp(s->path, path, len) == 0)
			return s;
	return NULL;
}

/* Double the bucket array; on ENOMEM keep the old one (chains grow). */
static void grow(struct watch_index *wi)
{
	size_t nsize = wi->size ? wi->size * 2 : INITIAL_BUCKETS;
	struct watch_slot **ntab = calloc(nsize, sizeof(*ntab));

	if (!ntab)
		return;
	for (size_t b = 0; b < wi->size; b++) {
		struct watch_slot *s = wi->tab[b], *next;

		for (; s; s = next) {
			next = s->next;
			s->next = ntab[s->hash & (nsize - 1)];
			ntab[s->hash & (nsize - 1)] = s;
		}
	}
	free(wi->tab);
	wi->tab = ntab;
	wi->size = nsize;
}

/* by_len room up to index len (0 or ENOMEM). */
static int len_room(struct watch_index *wi, size_t len)
{
	size_t cap = wi->by_len_cap ? wi->by_len_cap : 64;
	uint32_t *v;

	if (len < wi->by_len_cap)
		return 0;
	while (cap <= len)
		cap *= 2;
	v = realloc(wi->by_len, cap * sizeof(*v));
	if (!v)
		return ENOMEM;
	memset(v + wi->by_len_cap, 0, (cap - wi->by_len_cap) * sizeof(*v));
	wi->by_len = v;
	wi->by_len_cap = cap;
	return 0;
}

/* Whether some watched path is len bytes long. */
static bool len_watched(const struct watch_index *wi, size_t len)
{
	return len <= wi->longest && wi->by_len[len];
}

static struct watch_slot *slot_get(struct watch_index *wi, const char *path)
{
	size_t len = strlen(path);
	uint32_t hash = hash_path(wi->seed, path, len);
	struct watch_slot *s = slot_find(wi, path, len, hash);

	if (s)
		return s;
	if (wi->used >= wi->size - wi->size / 4)
		grow(wi);
	if (!wi->size || len_room(wi, len))
		return NULL;
	s = malloc(sizeof(*s) + len + 1);
	if (!s)
		return NULL;
	wi->by_len[len]++;
	if (len > wi->longest)
		wi->longest = len;
	s->first = NULL;
	s->hash = hash;
	s->len = len;
	memcpy(s->path, path, len + 1);
	s->next = wi->tab[hash & (wi->size - 1)];
	wi->tab[hash & (wi->size - 1)] = s;
	wi->used++;
	return s;
}

static void slot_put(struct watch_index *wi, struct watch_slot *s)
{
	struct watch_slot **pp;

	if (s->first)
		return;
	for (pp = &wi->tab[s->hash & (wi->size - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			wi->used--;
			if (!--wi->by_len[s->len] && s->len == wi->longest)
				while (wi->longest && !wi->by_len[wi->longest])
					wi->longest--;
			free(s);
			return;
		}
	}
}

static struct watch *slot_owner_find(const struct watch_slot *s,
				     const struct watch_owner *o,
				     const char *token)
{
	for (struct watch *w = s->first; w; w = w->slot_next)
		if (w->owner == o && strcmp(w->token, token) == 0)
			return w;
	return NULL;
}

int watch_add(struct watch_index *wi, struct watch_owner *o,
	      const char *path, bool relative, const char *token,
	      const struct watch **out)
{
	size_t tlen = strlen(token);
	struct watch_slot *s;
	struct watch *w;

	s = slot_get(wi, path);
	if (!s)
		return ENOMEM;
	if (slot_owner_find(s, o, token))
		return EEXIST;
	w = malloc(sizeof(*w) + tlen + 1);
	if (!w) {
		slot_put(wi, s);
		return ENOMEM;
	}
	memcpy(w->token, token, tlen + 1);
	w->slot = s;
	w->owner = o;
	w->seq = wi->next_seq++;
	w->relative = relative;

	w->slot_prev = NULL;
	w->slot_next = s->first;
	if (s->first)
		s->first->slot_prev = w;
	s->first = w;

	w->own_next = NULL;
	w->own_prev = o->last;
	if (o->last)
		o->last->own_next = w;
	else
		o->first = w;
	o->last = w;
	o->count++;

	if (out)
		*out = w;
	return 0;
}

static void unlink_watch(struct watch_index *wi, struct watch *w)
{
	struct watch_owner *o = w->owner;
	struct watch_slot *s = w->slot;

	if (w->slot_prev)
		w->slot_prev->slot_next = w->slot_next;
	else
		s->first = w->slot_next;
	if (w->slot_next)
		w->slot_next->slot_prev = w->slot_prev;

	if (w->own_prev)
		w->own_prev->own_next = w->own_next;
	else
		o->first = w->own_next;
	if (w->own_next)
		w->own_next->own_prev = w->own_prev;
	else
		o->last = w->own_prev;
	o->count--;

	free(w);
	slot_put(wi, s);
}

static struct watch *find(const struct watch_index *wi,
			  const struct watch_owner *o, const char *path,
			  const char *token)
{
	size_t len = strlen(path);
	struct watch_slot *s;

	s = slot_find(wi, path, len, hash_path(wi->seed, path, len));
	return s ? slot_owner_find(s, o, token) : NULL;
}

bool watch_has(const struct watch_index *wi, const struct watch_owner *o,
	       const char *path, const char *token)
{
	return find(wi, o, path, token) != NULL;
}

int watch_remove(struct watch_index *wi, struct watch_owner *o,
		 const char *path, const char *token)
{
	struct watch *w = find(wi, o, path, token);

	if (!w)
		return ENOENT;
	unlink_watch(wi, w);
	return 0;
}

void watch_remove_all(struct watch_index *wi, struct watch_owner *o)
{
	while (o->first)
		unlink_watch(wi, o->first);
}

/* "<path as the owner sees it>\0<token>\0" for an event on `path`. */
static int build_payload(const struct watch *w, const char *path,
			 struct buf *out)
{
	int err;

	if (w->relative) {
		/* The event is at or below the watch, which is below the
		 * owner's home: cut the home and the "/" after it. */
		path += w->owner->strip;
		if (*path == '/')
			path++;
	}
	buf_reset(out);
	err = buf_append_str0(out, path);
	if (!err)
		err = buf_append_str0(out, w->token);
	return err;
}

void watch_owner_each(const struct watch_owner *o,
		      void (*fn)(void *ctx, const char *path, bool relative,
				 const char *token),
		      void *ctx)
{
	for (const struct watch *w = o->first; w; w = w->own_next)
		fn(ctx, w->slot->path, w->relative, w->token);
}

int watch_initial_payload(const struct watch *w, struct buf *out)
{
	return build_payload(w, w->slot->path, out);
}

void watch_owner_fire_each(const struct watch_owner *o, struct buf *scratch,
			   void (*fn)(void *ctx, const char *data, size_t len),
			   void *ctx)
{
	for (const struct watch *w = o->first; w; w = w->own_next)
		if (!build_payload(w, w->slot->path, scratch))
			fn(ctx, scratch->data, scratch->len);
}

static int add_match(struct watch_index *wi, size_t *n, struct watch *w)
{
	if (*n == wi->match_cap) {
		size_t ncap = wi->match_cap ? wi->match_cap * 2 : 16;
		struct watch **m = realloc(wi->match, ncap * sizeof(*m));

		if (!m)
			return ENOMEM;
		wi->match = m;
		wi->match_cap = ncap;
	}
	wi->match[(*n)++] = w;
	return 0;
}

static int add_slot_matches(struct watch_index *wi, size_t *n,
			    const char *path, size_t len, uint32_t hash)
{
	struct watch_slot *s = slot_find(wi, path, len, hash);

	if (!s)
		return 0;
	for (struct watch *w = s->first; w; w = w->slot_next)
		if (add_match(wi, n, w))
			return ENOMEM;
	return 0;
}

/* Record the length and hash of every proper ancestor "prefix up to a
 * '/'" of path[0..len) that is as long as some watched path, in one pass
 * that stops at the longest; *count of them, and *whole the hash of the
 * whole path, which the same pass gives when len <= longest (the only
 * case it is looked up in). */
static int cut_ancestors(struct watch_index *wi, const char *path,
			 size_t len, size_t *count, uint32_t *whole)
{
	uint32_t h = hash_start(wi->seed);
	size_t n = 0, end = len <= wi->longest ? len : wi->longest + 1;

	for (size_t i = 0; i < end; i++) {
		if (path[i] == '/' && i > 0 && wi->by_len[i]) {
			if (n == wi->cut_cap) {
				size_t ncap = wi->cut_cap ? wi->cut_cap * 2 : 32;
				size_t *c = realloc(wi->cut, ncap * sizeof(*c));
				uint32_t *ch;

				if (!c)
					return ENOMEM;
				wi->cut = c;
				ch = realloc(wi->cut_hash, ncap * sizeof(*ch));
				if (!ch)
					return ENOMEM;
				wi->cut_hash = ch;
				wi->cut_cap = ncap;
			}
			wi->cut[n] = i;
			wi->cut_hash[n++] = hash_finish(h, i);
		}
		h = hash_step(h, (unsigned char)path[i]);
	}
	*count = n;
	*whole = hash_finish(h, len);
	return 0;
}

static int collect(struct watch_index *wi, const struct store_event *ev,
		   size_t *n)
{
	size_t len = strlen(ev->path), ncut, i;
	uint32_t whole;
	int err;

	*n = 0;
	if (!wi->longest)
		return 0;
	if (ev->exact)
		return len_watched(wi, len) ?
		       add_slot_matches(wi, n, ev->path, len,
					hash_path(wi->seed, ev->path, len)) : 0;
	/* One pass hashes the path and its ancestors.  Which list a
	 * match is found first in does not matter: watch_fire sorts. */
	err = cut_ancestors(wi, ev->path, len, &ncut, &whole);
	if (!err && len_watched(wi, len))
		err = add_slot_matches(wi, n, ev->path, len, whole);
	for (i = 0; !err && i < ncut; i++)
		err = add_slot_matches(wi, n, ev->path, wi->cut[i],
				       wi->cut_hash[i]);
	/* "/" is everybody's ancestor, even of "@..." names. */
	if (!err && !(len == 1 && ev->path[0] == '/') && len_watched(wi, 1))
		err = add_slot_matches(wi, n, "/", 1,
				       hash_path(wi->seed, "/", 1));
	return err;
}

static int cmp_delivery(const void *a, const void *b)
{
	const struct watch *x = *(const struct watch *const *)a;
	const struct watch *y = *(const struct watch *const *)b;

	if (x->owner->seq != y->owner->seq)
		return x->owner->seq < y->owner->seq ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool may_read(const struct caller *who, const struct perm_list *pl)
{
	return pl && (perms_for(who, pl) & PERM_READ);
}

static bool permitted(const struct watch_owner *o,
		      const struct store_event *ev)
{
	if (ev->path[0] == '@')
		return may_read(&o->who, &ev->perms);
	return may_read(&o->who, ev->old_perms) ||
	       may_read(&o->who, &ev->perms) ||
	       may_read(&o->who, ev->parent_perms);
}

void watch_fire(struct watch_index *wi, const struct store_event *ev,
		watch_deliver_fn *fn, void *ctx)
{
	const struct watch_owner *cur = NULL;
	bool ok = false;
	size_t n, i;

	/* Without memory to list the matches there is nothing to fire;
	 * upstream drops events on allocation failure too. */
	if (collect(wi, ev, &n) || n == 0)
		return;
	if (n > 1)
		qsort(wi->match, n, sizeof(*wi->match), cmp_delivery);
	for (i = 0; i < n; i++) {
		struct watch *w = wi->match[i];

		if (w->owner != cur) {
			cur = w->owner;
			ok = permitted(cur, ev);
		}
		if (ok && !build_payload(w, ev->path, &wi->payload))
			fn(ctx, w->owner, wi->payload.data, wi->payload.len);
	}
}
