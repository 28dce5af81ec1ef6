/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal_io.h - keeping the journal (journal.h) of the running store
 * process: noting changes, appending a record (journal_map.h) before any
 * reply that acknowledges them leaves, taking snapshots into a fresh
 * memfd that the broker holds, and restoring from the broker's copy at
 * start.
 * docs/RESTART.md tells the whole story.
 */
#ifndef LIXS_JOURNAL_IO_H
#define LIXS_JOURNAL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ipc.h"
#include "journal.h"
#include "journal_clients.h"
#include "journal_map.h"
#include "store.h"

struct storeproc;

struct journal_state {
	bool active;		/* map is ours: false (a zeroed struct) until
				 * the first snapshot is handed over */
	struct journal_map map;	/* our memfd (the broker holds a dup) and
				 * its view; map.len is the journal's size;
				 * owned */
	size_t snap_bytes;	/* the size of the snapshot it began with */
	size_t snap_plain;	/* ... before its records were compressed */
	bool snap_due;		/* take a snapshot at the next flush */
	struct buf dirty;	/* names changed since the last flush, each
				 * with its NUL; owned */
	struct buf dirty_doms;	/* domids (u32) whose ring state changed
				 * since the last flush; owned */
	struct buf rec;		/* the record being built (journal_flush);
				 * owned */
	struct journal_rings restored;	/* ring states replayed at start,
				 * applied as the broker re-announces each
				 * ring; owned */
	struct conn *req;	/* the ring connection whose request is being
				 * flushed (journal_flush_request), else NULL */
	bool quota_noted;	/* journal_note_quota since the last flush */
	struct journal_clients clients;	/* unix clients (journal_clients.h) */
};

/*
 * A restored connection's transaction ids start this far past the last
 * id the journal saw it hand out: ids are journaled with its state, not
 * at every TRANSACTION_START, so the margin covers the transactions
 * started since (docs/RESTART.md).
 */
#define TXN_ID_MARGIN (1u << 20)

void journal_state_init(struct journal_state *js);
void journal_state_fini(struct journal_state *js);

/* The store's event sink: notes the name, then fires watches
 * (ops_watch_sink).  `sp` is the struct storeproc. */
void journal_sink(void *sp, const struct store_event *ev);

/* Node `name` changed with no event fired, which would have told the
 * journal: SET_PERMS of "@introduceDomain" (as 4.17), a dead domain's
 * entries removed from a node's perms (as 4.17's write_node_raw). */
void journal_note_path(struct storeproc *sp, const char *name);

/*
 * Append one record with the committed state of every noted name, and
 * take a snapshot when one is due.  Called after each request and each
 * batch of broker frames, before any reply queued by them is written.
 */
void journal_flush(struct storeproc *sp);

struct conn;

/*
 * journal_flush() after a request of c: when c is a ring and the request
 * changed anything, the record also says that the request ending at
 * c->req_end was applied (JOURNAL_SEEN), so that a restarted store given
 * it again (its reply died with this process) does not apply it twice.
 */
void journal_flush_request(struct storeproc *sp, struct conn *c);

struct domain;
struct txn;

/*
 * What a ring connection holds beside the tree (its domain's target and
 * shutdown-seen flag, its watches, its transaction ids) changed: the
 * next flush journals it (journal_note_conn: RESET_WATCHES on a unix
 * connection).
 */
void journal_note_domain(struct storeproc *sp, uint32_t domid);
void journal_note_conn(struct storeproc *sp, struct conn *c);
/* c's watch on canonical `path` with `token` was added or removed. */
void journal_note_watch(struct storeproc *sp, struct conn *c, const char *path,
			bool relative, const char *token, bool added);

/* Give c a watch it had before the restart, charged to its quota as
 * op_watch() does (firing once if `fire`); take one back. */
void journal_restore_watch(struct storeproc *sp, struct conn *c, const char *path,
			   bool relative, const char *token, bool fire);
void journal_unrestore_watch(struct storeproc *sp, struct conn *c, const char *path,
			     const char *token);

/* A quota value changed (SET_QUOTA, "control quota set"): rare, so the
 * next flush takes a snapshot, which carries every domain's own values
 * and the global limits. */
void journal_note_quota(struct storeproc *sp);

/*
 * The broker re-announced d's ring as connection c after a restart:
 * give it back the target, shutdown-seen flag and watches the journal
 * kept (each restored watch fires once, as a new one does), and start
 * its transaction ids past any it handed out before.
 */
void journal_ring_restore(struct storeproc *sp, struct domain *d,
			  struct conn *c);

/*
 * The broker re-announced ring connection c starting at stream byte
 * `pos` (ipc.h's ring_pos): the requests it gives again that the journal
 * says were applied are answered without applying them (conn.h).
 */
void journal_ring_applied(struct storeproc *sp, struct conn *c, uint64_t pos);

/*
 * A request on c names transaction `id`, which c does not have.  When c
 * is a ring or unix client restored after a restart and `id` may have
 * been open before it, a doomed transaction is opened under that id and returned: the
 * requests in it are served, its TRANSACTION_END answers EAGAIN, so the
 * guest retries it as after a conflict.  Else NULL.
 */
struct txn *journal_txn_stale(struct storeproc *sp, struct conn *c,
			      uint32_t id);

/* IPC_JOURNAL_RESTORE: replay the broker's journal (msg->fd, if any;
 * taken over and closed), then hand the broker a fresh snapshot. */
void journal_restore_frame(struct storeproc *sp, const struct ipc_msg *msg);

#endif
