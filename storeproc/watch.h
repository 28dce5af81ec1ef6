/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * watch.h - watch registrations and the index that decides which of them
 * a store event fires.
 *
 * Independent of connections and of the wire: a watch belongs to a
 * struct watch_owner (one per connection, embedded in it), and firing an
 * event hands each permitted (owner, payload) pair to a callback.
 *
 * Matching is cxenstored 4.17's: an event on E fires a watch on W if
 * E == W or E is below W ("/" matches everything, "@..." events too);
 * an exact event (nodes below the root of an RM) only if E == W.  The
 * index is a hash map keyed by watched path; firing looks up E and each
 * of its ancestors, so it costs O(length of E + matching watches) however
 * many other watches exist.
 *
 * Order: the owners in creation order, each owner's watches in the order
 * they were registered (upstream walks its connection list, then each
 * connection's watch list).
 */
#ifndef LIXS_WATCH_H
#define LIXS_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "perms.h"
#include "store.h"

struct watch;
struct watch_slot;

struct watch_owner {
	struct caller who;	/* whose permissions filter the events */
	uint64_t seq;		/* creation order: delivery order of owners */
	uint32_t strip;		/* strlen("/local/domain/<domid>"): cut from
				 * the events of relative watches */
	unsigned int count;	/* watches registered */
	struct watch *first;	/* its watches, oldest first */
	struct watch *last;
};

struct watch_index {
	struct watch_slot **tab;	/* buckets, NULL until the first add */
	size_t size;			/* buckets, a power of two */
	size_t used;			/* watched paths */
	uint32_t seed;			/* keys the hash (guests pick paths) */
	/* Watched paths of each length (by_len[len], len <= longest; owned):
	 * an event looks up only the prefixes of a length some watched path
	 * has, and hashes no further than the longest. */
	uint32_t *by_len;
	size_t longest;			/* 0: nothing watched */
	size_t by_len_cap;
	uint64_t next_seq;		/* registration order */
	/* Scratch reused by watch_fire (owned, freed by watch_index_fini). */
	struct watch **match;
	size_t match_cap;
	size_t *cut;			/* prefix lengths of the event path */
	uint32_t *cut_hash;
	size_t cut_cap;
	struct buf payload;
};

/* Receives one event for one owner: `data` is "<path>\0<token>\0" of
 * `len` bytes, valid only during the call. */
typedef void watch_deliver_fn(void *ctx, struct watch_owner *o,
			      const char *data, size_t len);

void watch_index_init(struct watch_index *wi, uint32_t seed);
/* Frees the index; every owner must have been emptied first. */
void watch_index_fini(struct watch_index *wi);

void watch_owner_init(struct watch_owner *o, const struct caller *who,
		      uint64_t seq);

/*
 * Register a watch on `path` (canonical: absolute, or "@...") with
 * `token`; `relative` says the client named it relative to its home, so
 * its events are reported relative too.  Returns 0 (and *out, may be
 * NULL), EEXIST when `o` has this path and token already, or ENOMEM.
 * Quotas are the caller's business.
 */
int watch_add(struct watch_index *wi, struct watch_owner *o,
	      const char *path, bool relative, const char *token,
	      const struct watch **out);

/* Whether o has a watch on (path, token). */
bool watch_has(const struct watch_index *wi, const struct watch_owner *o,
	       const char *path, const char *token);

/* Remove o's watch on (path, token): 0, or ENOENT. */
int watch_remove(struct watch_index *wi, struct watch_owner *o,
		 const char *path, const char *token);

/* Remove all of o's watches (connection closed). */
void watch_remove_all(struct watch_index *wi, struct watch_owner *o);

/* Call fn for each of o's watches, oldest first: its canonical path,
 * whether it was given relative, its token (the journal, journal_io.c). */
void watch_owner_each(const struct watch_owner *o,
		      void (*fn)(void *ctx, const char *path, bool relative,
				 const char *token),
		      void *ctx);

/* The event a new watch fires at once: its own path (relative if it was
 * given relative) and token, into `out` (reset first).  0 or ENOMEM. */
int watch_initial_payload(const struct watch *w, struct buf *out);
/* Each of o's watches' initial event, built in `scratch`, to fn. */
void watch_owner_fire_each(const struct watch_owner *o, struct buf *scratch,
			   void (*fn)(void *ctx, const char *data, size_t len),
			   void *ctx);

/*
 * Fire `ev` at every matching watch whose owner may see it (4.17's
 * watch_permitted: read access to the old perms, the node or its parent;
 * for "@..." events read access to the special node).  Calls `fn` once
 * per matching watch, in delivery order.  Allocation failures drop
 * events silently, as upstream does.  `fn` must not add or remove
 * watches (the matches are held in the index's scratch array).
 */
void watch_fire(struct watch_index *wi, const struct store_event *ev,
		watch_deliver_fn *fn, void *ctx);

#endif
