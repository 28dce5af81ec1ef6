/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal.h - the store's committed state as a byte stream that survives
 * the store process: the format, its encoder and its validating replay.
 *
 * A journal is a memfd the broker holds for the store process without
 * reading it (docs/RESTART.md).  Its bytes: the 8-byte magic
 * JOURNAL_MAGIC, the client table, then records.
 *
 * The client table is what the writer knew of its unix clients at the
 * instant it died: u32 nslots (JOURNAL_CLIENT_SLOTS as written, at most
 * that as read), u32 0 (reserved, ignored when read), then nslots x
 * { u32 conn (0: a free slot), u32 state }.  The
 * running store process rewrites entries in place, as a client becomes
 * idle or busy (journal_io.c), so the table belongs to no record and has
 * no check: a restarted store only uses it to decide whether a client
 * the broker kept can be served on, and a wrong entry can cost only that
 * client.  JOURNAL_CLIENT_IDLE says the writer had consumed no byte of
 * an unanswered request from the client and had no reply or event
 * half-written to it.
 *
 * A record is
 *   u32 len, u32 check (FNV-1a of the body), body[len]
 * and a body is a sequence of operations, applied all or nothing.  With
 * JOURNAL_REC_ZSTD set in the length word, the len (the word without
 * that bit) bytes are one zstd frame, with its content size, whose
 * content is the body, and the check is of the stored bytes; only a
 * snapshot's records are stored so (journal_zip.h).  The
 * node operations, which are most of a journal, are compact:
 *   u8 op | JOURNAL_NODE_SAME, then LEB128 numbers (7 bits a byte, low
 *   first, at most 5 bytes): shared, rest, and for a PUT vallen and,
 *   without JOURNAL_NODE_SAME, nperms and nperms x { domid, mode };
 *   then path[rest] (no NUL), value[vallen]
 * JOURNAL_NODE_SAME: the node's perms are those of the record's previous
 * PUT (a domain's nodes mostly share one list); it is refused on a
 * record's first PUT and on an RM.  Every other operation starts with a
 * u32 op word, whose first byte is never a node operation's (its op, or
 * 0 on a big-endian machine).  Journals of the layouts before are read
 * too: in LIXSJNL3 a node operation starts with a u32 op |
 * JOURNAL_SAME_PERMS word instead of the byte; in LIXSJNL2 PUT and RM are
 *   u32 op, u32 shared << 16 | rest, u32 nperms, u32 vallen,
 *   path[rest], nperms x { u32 domid, u32 mode }, value[vallen]
 * JOURNAL_PUT makes the node exist with exactly that value and those
 * perms (a "@..." name: perms only); JOURNAL_RM removes it and its
 * subtree.  Every u32 is native endian: writer and reader are the same
 * binary on the same machine.
 *
 * Paths are front-coded: a PUT, RM or WATCH gives how many path bytes
 * follow (rest; WATCH: the low 16 bits of its pathlen field) and how
 * many leading bytes the path shares with the path of the record's
 * previous operation that has one (shared; WATCH: the high 16 bits),
 * 0 for the first: coding never crosses records.  A snapshot lists
 * nodes in pre-order, so most share all but their own name with the
 * node before.
 *
 * A record's length is stored last (journal_map.c), and the file is
 * sized ahead, so the journal ends at the first record whose length
 * word is 0: when everything from there on is zero bytes, that is its
 * clean end (the unused room, or nothing); when something non-zero
 * follows, it is a record that was being written when its writer died,
 * whose reply therefore never left, and it is rejected as a bad tail.
 *
 * Each record holds final states, never deltas, so replaying one twice
 * or a snapshot followed by records it already contains is harmless.
 *
 * Two more operations keep what a guest's ring connection holds beside
 * the tree (the connection survives a restart, docs/RESTART.md):
 *   JOURNAL_DOMAIN: u32 op, u32 domid, u32 target, u32 flags,
 *                   u32 txn_next
 *     the final state of an introduced domain: its SET_TARGET (or
 *     DOMID_NONE), flags (JOURNAL_DOM_*), the next transaction id of its
 *     ring connection; its watches are exactly the JOURNAL_WATCH
 *     operations that follow it in the same record.
 *   JOURNAL_WATCH:  u32 op, u32 pathlen, u32 toklen, u32 flags,
 *                   path[pathlen], token[toklen]
 *     one watch (canonical path, JOURNAL_WATCH_RELATIVE) of the domain
 *     named by the record's last JOURNAL_DOMAIN.
 *   JOURNAL_CLIENT: u32 op, u32 conn, u32 0, u32 flags, u32 txn_next
 *     what unix connection `conn` holds beside the tree: the next
 *     transaction id; the JOURNAL_WATCH operations after it in the
 *     record are changes to its watch list (JOURNAL_WATCH_REMOVED: one
 *     gone), applied in order onto the list it had, or onto an empty one
 *     with JOURNAL_CLIENT_RESET (snapshots, RESET_WATCHES);
 *     JOURNAL_CLIENT_GONE: the connection is closed, forget it.  Deltas,
 *     not the whole list, because a dom0 client may hold 100,000
 *     watches; replaying them twice still gives the same list.
 *   JOURNAL_SEEN:   u32 op, u32 conn, u32 pos_lo, u32 pos_hi
 *     the request of ring connection `conn` that ends at byte `pos` of
 *     the ring's request stream was applied: its changes are in this
 *     record (snapshots: the last such request of each ring).  A
 *     request the broker gives a restarted store again, because its
 *     reply never left, is then answered without being applied twice.
 */
#ifndef LIXS_JOURNAL_H
#define LIXS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "perms.h"
#include "store.h"

#define JOURNAL_MAGIC "LIXSJNL5"
#define JOURNAL_MAGIC_V4 "LIXSJNL4"	/* read too: never a compressed record */
#define JOURNAL_MAGIC_V3 "LIXSJNL3"	/* read too: u32 node op words */
#define JOURNAL_MAGIC_V2 "LIXSJNL2"	/* read too: PUT and RM as below */
#define JOURNAL_MAGIC_LEN 8u
#define JOURNAL_REC_HDR 8u
#define JOURNAL_REC_ZSTD 0x80000000u	/* in a record's length word: see above */
#define JOURNAL_HEAD_FIXED 16u		/* magic, nslots, reserved */
#define JOURNAL_CLIENT_SLOTS 4096u
#define JOURNAL_HEAD_LEN(nslots) (JOURNAL_HEAD_FIXED + 8u * (size_t)(nslots))

/* A u32 of the journal at any alignment, in the byte order it was
 * written in: only this host's store processes read it. */
static inline uint32_t journal_get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A client table entry's state. */
enum journal_client_state {
	JOURNAL_CLIENT_FREE = 0,
	JOURNAL_CLIENT_IDLE = 1,
	JOURNAL_CLIENT_BUSY = 2,
};
#define JOURNAL_SHARED_SHIFT 16u	/* pathlen: shared << 16 | rest */
#define JOURNAL_NODE_SAME 0x80u		/* PUT: the perms of the record's last PUT */
#define JOURNAL_SAME_PERMS 0x100u	/* the same in an LIXSJNL3 op word */
#define JOURNAL_REST_MASK 0xffffu

enum journal_op {
	JOURNAL_PUT = 1,
	JOURNAL_RM = 2,
	JOURNAL_DOMAIN = 3,
	JOURNAL_WATCH = 4,
	JOURNAL_QUOTA = 5,	/* a domain's own SET_QUOTA value, or with domid
				 * JOURNAL_GLOBAL a global limit (snapshots) */
	JOURNAL_SEEN = 6,	/* a ring request applied (see above) */
	JOURNAL_CLIENT = 7,	/* a unix connection's state (see above) */
};

#define JOURNAL_DOM_SHUTDOWN_SEEN 1u	/* @releaseDomain fired for it */
#define JOURNAL_DOM_GONE 2u		/* no longer introduced */
#define JOURNAL_WATCH_RELATIVE 1u	/* events reported relative */
#define JOURNAL_WATCH_REMOVED 2u	/* a client's watch went (deltas) */
#define JOURNAL_CLIENT_GONE JOURNAL_DOM_GONE
#define JOURNAL_CLIENT_RESET 4u		/* its watch list starts empty */
#define JOURNAL_TOKEN_MAX 4096u
#define JOURNAL_GLOBAL 0xffffffffu	/* JOURNAL_QUOTA's domid of a global limit */

/* Bounds the replay enforces on every field. */
#define JOURNAL_PATH_MAX 4096u
#define JOURNAL_VALUE_MAX 4096u
#define JOURNAL_PERMS_MAX 2048u
#define JOURNAL_REC_MAX (16u * 1024 * 1024)
/* A snapshot's records are framed at about this size, far below
 * JOURNAL_REC_MAX however big the store, and each is cheap to check. */
#define JOURNAL_SNAP_CHUNK 65536u

/*
 * Append one operation to the body being built in `body` (0 or ENOMEM;
 * EINVAL for a field out of bounds).  `perms`/`val` may be NULL when
 * their count is 0.
 */
int journal_op_append(struct buf *body, enum journal_op op, const char *path,
		      const struct perm *perms, unsigned int nperms,
		      const void *val, size_t vallen);

/* Append a JOURNAL_DOMAIN / JOURNAL_WATCH operation (0, ENOMEM, EINVAL). */
int journal_op_domain(struct buf *body, uint32_t domid, uint32_t target,
		      uint32_t flags, uint32_t txn_next);
int journal_op_watch(struct buf *body, const char *path, bool relative,
		     const char *token);
/* JOURNAL_CLIENT, and a client's watch going (JOURNAL_WATCH_REMOVED). */
int journal_op_client(struct buf *body, uint32_t conn, uint32_t flags,
		      uint32_t txn_next);
int journal_op_unwatch(struct buf *body, const char *path, const char *token);
/* The magic and an empty client table of nslots (0 or ENOMEM). */
int journal_head(struct buf *out, uint32_t nslots);
/* domid's own value `val` of quota item `item` (quota.h's enum). */
int journal_op_quota(struct buf *body, uint32_t domid, uint32_t item, uint32_t val);
/* Ring connection conn's request ending at stream byte pos was applied. */
int journal_op_seen(struct buf *body, uint32_t conn, uint64_t pos);

/*
 * Append the committed state of each path of paths[0..len) (NUL-ended
 * strings, one after another) to `body`: a PUT of it and of every
 * ancestor not reported since it was made (root first) when it exists,
 * else an RM.  Each path is coded against the one before: a commit's
 * paths are mostly siblings.  0, ENOMEM, or EINVAL for a field out of
 * the journal's bounds.
 */
int journal_note_paths(struct store *st, const char *paths, size_t len,
		       struct buf *body);

/* Frame `body` as a record onto `out` (0, ENOMEM, E2BIG). */
int journal_record(struct buf *out, const void *body, size_t len);
/* The same for a body compressed into zip[0..len) (JOURNAL_REC_ZSTD). */
int journal_record_zipped(struct buf *out, const void *zip, size_t len);

/* A snapshot's chunking: once `body` holds JOURNAL_SNAP_CHUNK bytes (or,
 * `force`d, any), frame it as a record onto `out` and empty it; the
 * caller sees body->len == 0 when it was.  0, ENOMEM, E2BIG. */
int journal_record_chunk(struct buf *out, struct buf *body, bool force);

/* Frame in place the record in `rec`: its body follows JOURNAL_REC_HDR
 * bytes the caller left at the start (0, EINVAL, E2BIG). */
int journal_record_in_place(struct buf *rec);

/*
 * A whole snapshot of `st` (magic, an empty client table of
 * JOURNAL_CLIENT_SLOTS, then records of every node in pre-order and the
 * special nodes' perms) into `out`.  0 or ENOMEM.
 */
int journal_snapshot(struct store *st, struct buf *out);
/* The same with each record body compressed as it fills (journal_zip.h),
 * never all of it plain at once; *plain gets the bytes the snapshot
 * would have held uncompressed.  0 or ENOMEM. */
int journal_snapshot_zipped(struct store *st, struct buf *out, size_t *plain);

/* What journal_replay() did. */
struct journal_replay_stats {
	size_t records;		/* records applied */
	size_t zipped;		/* of which stored compressed */
	size_t ops;		/* operations applied */
	size_t good_bytes;	/* bytes up to the end of the last good record */
	size_t spare_bytes;	/* the zero bytes after it, when all are */
	size_t bad_bytes;	/* the rejected tail (0 when all was good);
				 * good + spare + bad = the length replayed */
	const char *why;	/* why the tail was rejected, or NULL */
};

/* A domain's ring state as the journal left it (JOURNAL_DOMAIN), or a
 * unix connection's (JOURNAL_CLIENT: client is its id, domid 0). */
struct journal_ring {
	uint32_t client;
	uint32_t domid, target, flags, txn_next;
	struct buf watches;	/* each: '0' a watch, '1' a relative one,
				 * '-' one removed (clients' deltas); path,
				 * NUL, token, NUL; owned */
	/* Set by journal_io.c once the ring is back: its connection id,
	 * and the first transaction id handed out after the restart. */
	uint32_t ring, txn_base;
};

/* The ring states a replay collected, one a domid.  Owned arrays. */
struct journal_rings {
	struct journal_ring *v;
	size_t n, cap;
	/* JOURNAL_QUOTA operations replayed, in order: (domid, item, value)
	 * triples of uint32_t, for the caller to apply; owned. */
	struct buf quotas;
	/* JOURNAL_SEEN operations replayed, in order: (conn, pos_lo, pos_hi)
	 * triples of uint32_t; owned. */
	struct buf seen;
	/* The client table's used entries: (conn, state) pairs of uint32_t;
	 * owned. */
	struct buf client_states;
};

/* The entry for domid's ring, or NULL. */
struct journal_ring *journal_rings_find(struct journal_rings *r, uint32_t domid);
/* The entry for unix connection `conn`, or NULL. */
struct journal_ring *journal_clients_find(struct journal_rings *r, uint32_t conn);
/* Forget an entry (r's own; NULL: nothing). */
void journal_rings_forget(struct journal_rings *r, struct journal_ring *e);
/* Forget domid's entry (nothing if there is none). */
void journal_rings_drop(struct journal_rings *r, uint32_t domid);
void journal_rings_free(struct journal_rings *r);

/*
 * Check and apply the journal data[0..len) to `st` (normally a fresh
 * store), record by record.  A record is applied only when it is whole,
 * its check matches and every operation in it is well-formed; the first
 * one that is not ends the replay and the rest is reported as a bad
 * tail.  Returns 0 (even with a bad tail: what came before stands),
 * EINVAL when not even the magic is there, or ENOMEM.
 */
int journal_replay(struct store *st, const void *data, size_t len,
		   struct journal_replay_stats *stats);

/* The same, collecting the ring states into `rings` (may be NULL: they
 * are checked and ignored; the caller frees it with journal_rings_free). */
int journal_replay_rings(struct store *st, const void *data, size_t len,
			 struct journal_replay_stats *stats,
			 struct journal_rings *rings);

#endif
