/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conn.h - one client connection of the store process: the resumable
 * request reader, the output queue (replies and watch events, in order),
 * its transactions, and its life cycle.
 *
 * Input: bytes are read into a fixed buffer; a request is handed to
 * dispatch_request() only when its header and whole body are there.  A
 * header with len > XENSTORE_PAYLOAD_MAX ends the connection at once,
 * without a reply and dropping queued output, as cxenstored 4.17's
 * handle_input()/ignore_connection() do.
 *
 * Output: one queue a connection.  A connection whose queue holds more
 * than CONN_OUT_SOFT bytes is not read until it drains, so a client that
 * never reads stalls only itself; watch events beyond CONN_OUT_HARD are
 * dropped (upstream drops them at the memory quota).  A watch event
 * identical to one still queued is dropped, as upstream's send_event().
 *
 * Rings (guests, dom0's kernel) use the same reader and queue; only the
 * transport differs (ipc.h, "Ring connections, end to end"): input comes
 * in CONN_DATA frames within the credit the store grants back as it
 * consumes requests (none while the output is over CONN_OUT_SOFT), output
 * leaves in REPLY_DATA frames, at most IPC_RING_WINDOW bytes unacknowledged.
 */
#ifndef LIXS_CONN_H
#define LIXS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "perms.h"
#include "storeproc.h"
#include "watch.h"

#define CONN_MSG_MAX (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)
#define CONN_IN_SIZE (2 * CONN_MSG_MAX)
#define CONN_OUT_SOFT (1u << 20)
#define CONN_OUT_HARD (8u << 20)

struct outmsg;
struct conn_txn;

struct conn {
	struct conn *prev, *next;	/* storeproc's list, oldest first */
	struct conn *pnext;		/* storeproc's pending or later list */
	struct conn *dnext;		/* storeproc's dead list */
	bool on_pending;		/* on either of those lists */
	bool serving;			/* its requests are being handled */
	bool dead;			/* closed; freed at the end of the turn */
	bool eof;			/* the peer will send nothing more */
	bool rdonly;			/* modifying requests get EACCES */
	bool warned_drop;		/* logged dropping events once */
	/* A ring (guest or dom0 kernel): no fd, bytes travel over ipc as
	 * CONN_DATA in, REPLY_DATA out (conn_ring_* below). */
	bool ring;
	/* A request waits for the broker (INTRODUCE): later requests wait
	 * too, so replies stay in order.  wait_hdr is its header. */
	bool waiting;
	struct xsd_sockmsg wait_hdr;

	int fd;				/* owned; -1 once closed */
	uint32_t id;			/* the broker's connection id */
	uint32_t ep_events;		/* what epoll watches now */
	struct caller who;
	struct watch_owner wo;		/* its watches */

	/* Input: in[0..in_len) read, not yet handled; in_cap bytes of room
	 * (sockets: CONN_IN_SIZE after the struct; rings: none until the
	 * first bytes, then grown on demand up to IPC_RING_WINDOW, all the
	 * broker may send unconsumed). */
	size_t in_len;
	size_t in_cap;
	unsigned char *in;

	/* Rings: reply bytes sent, not yet acknowledged by CONN_SPACE (at
	 * most IPC_RING_WINDOW); request bytes answered (their reply sent to
	 * the broker) or dropped, not yet granted back with CONN_CREDIT; and
	 * request bytes the broker sent and holds, not yet granted back. */
	uint32_t unacked;
	uint32_t credit_owed;
	uint32_t broker_held;
	uint8_t idle;			/* enum ring_idle_state (ring_idle.h) */
	/* Rings: REPLY_DATA sent since the last CONN_CREDIT, which the
	 * broker waits for before the guest sees them (broker/ring.c). */
	bool uncredited;
	/* Rings: where in[0] and the request being handled end in the ring's
	 * request stream (ipc.h's ring_pos); and where the requests whose
	 * change was journaled end (journal_io.c's JOURNAL_SEEN), those not
	 * yet granted back to the broker (which would give them to a
	 * restarted store again), oldest first: each snapshot carries them
	 * all.  At most what IPC_RING_WINDOW holds; owned. */
	uint64_t in_pos, req_end;
	uint64_t *seen;
	uint32_t n_seen, cap_seen;
	/* Rings restored after a restart: the ends of requests the journal
	 * says were applied, which the broker gives again because their
	 * replies never left; answered "OK" instead of applied twice.  Owned;
	 * freed once the stream is past the last. */
	uint64_t *applied;
	size_t n_applied;

	/* Output queue; out_off bytes of the head are already written. */
	struct outmsg *out_head, *out_tail;
	size_t out_off;
	size_t out_bytes;		/* queued, not yet written */
	unsigned int outstanding;	/* replies queued, not yet written */
	/* What the domain's quota counts hold of the two above (synced at
	 * the end of each turn of c, and when it closes). */
	unsigned int q_outstanding;
	size_t q_memory;
	size_t q_watch_mem;		/* its watches' path and token bytes */
	struct outmsg **evtab;		/* queued events by hash (dedup) */

	/* Open transactions, newest first, and 4.17's id counter. */
	struct conn_txn *txns;
	unsigned int ntxns;
	uint32_t next_txn_id;

	/* Unix clients (journal_clients.h): the journal client table slot
	 * (1-based; 0: none) and what its entry says; whether the journal
	 * may hold its state (its close is then journaled); and, resumed
	 * after a restart, the ids below which an unknown transaction may
	 * have been open (0: none). */
	uint32_t slot;
	uint8_t slot_state;
	bool journaled;
	uint32_t txn_stale_below;
};

/* End a client socket this process will not serve: the broker holds a
 * copy (broker/clients.c), so a close alone would leave the client
 * waiting; shut down, it sees EOF. */
void conn_drop_fd(int fd);

/*
 * A connection for socket `fd` (consumed: on failure it is dropped),
 * acting as `who`, registered with epoll and appended to sp's list.
 * Returns NULL on failure (logged).
 */
struct conn *conn_new(struct storeproc *sp, int fd, uint32_t id,
		      const struct caller *who, bool rdonly);

/*
 * A ring connection with the broker's id `id`, acting as `who`, appended
 * to sp's list (no fd, nothing for epoll).  NULL on ENOMEM (logged).
 */
struct conn *conn_new_ring(struct storeproc *sp, uint32_t id,
			   const struct caller *who);

/* CONN_DATA: `len` request bytes arrived for ring c.  0, or EPROTO when
 * the broker sent more than the credit it was given (c is closed). */
int conn_ring_input(struct storeproc *sp, struct conn *c, const void *data,
		    size_t len);

/* CONN_SPACE: the guest consumed n reply bytes of ring c. */
void conn_ring_space(struct storeproc *sp, struct conn *c, uint32_t n);

/*
 * The request `hdr` of c waits for the broker: no reply now, and c
 * handles no further request until conn_wait_done() queues the reply
 * (type XS_ERROR for an error) with the saved header.
 */
void conn_wait(struct conn *c, const struct xsd_sockmsg *hdr);
void conn_wait_done(struct storeproc *sp, struct conn *c, uint32_t type,
		    const void *data, size_t len);

/* 4.17's domain_conn_reset() for a second INTRODUCE: drop c's watches,
 * transactions, unread input and output not yet begun. */
void conn_reset(struct storeproc *sp, struct conn *c);

/* epoll reported `events` for c. */
void conn_event(struct storeproc *sp, struct conn *c, uint32_t events);

/* Serve every connection on the pending list once (handle buffered
 * requests, flush output), after an epoll event; one with requests left
 * over waits for the end of the turn.  Closed connections stay
 * allocated, so the rest of an epoll batch may still point at them. */
void conn_serve_pending(struct storeproc *sp);

/* The end of a turn: serve what is pending and left over, then free
 * the closed connections.  True if some connection still has work, so
 * the caller should poll without blocking. */
bool conn_run_pending(struct storeproc *sp);

/*
 * Close c now: its watches go, its transactions are aborted, its fd is
 * closed; with `flush`, queued output is first written as far as the
 * socket takes it without blocking, else it is dropped.  The struct is
 * freed at the end of the turn (conn_run_pending), so callers may still
 * look at c->dead.
 */
void conn_close(struct storeproc *sp, struct conn *c, bool flush);

/* Close every connection (flushing what can be written without
 * blocking) and free them all; at exit. */
void conn_close_all(struct storeproc *sp);

/*
 * Queue the reply to request `req` (its req_id and tx_id echoed) with
 * message type `type` and `len` <= XENSTORE_PAYLOAD_MAX payload bytes.
 * Returns 0 or ENOMEM.
 */
int conn_queue_reply(struct storeproc *sp, struct conn *c,
		     const struct xsd_sockmsg *req, uint32_t type,
		     const void *data, size_t len);

/* Queue a watch event (payload "<path>\0<token>\0"); silently dropped if
 * too long, a duplicate of one still queued, or over CONN_OUT_HARD. */
void conn_queue_event(struct storeproc *sp, struct conn *c,
		      const char *data, size_t len);

/* The connection a watch owner is embedded in. */
struct conn *conn_of_owner(struct watch_owner *o);

/* Transactions of a connection.  conn_txn_find: NULL if `id` is not
 * open; conn_txn_add: picks the id as 4.17 does (per connection,
 * counting up, never 0 nor one in use), 0 or ENOMEM; conn_txn_take:
 * removes it and hands it back (the caller commits or aborts it). */
struct txn *conn_txn_find(const struct conn *c, uint32_t id);
int conn_txn_add(struct conn *c, struct txn *txn, uint32_t *id);
struct txn *conn_txn_take(struct conn *c, uint32_t id);
/* Abort and forget every open transaction of c (the id counter goes on). */
void conn_txn_abort_all(struct storeproc *sp, struct conn *c);

/* Ring c's request being handled (ending at c->req_end) was applied and
 * journaled: remember its end until the broker is granted its bytes
 * back.  0 or ENOMEM. */
int conn_note_applied(struct conn *c);

/* c's watches and transactions are about to go all at once: take them
 * off its domain's quota counts (quota.h). */
void conn_quota_drop(struct storeproc *sp, struct conn *c);

#endif
