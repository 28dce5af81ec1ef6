/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ring.c - ring connections: the table, and the pump that moves bytes
 * between a ring page and ipc frames under the flow-control rules of
 * ipc.h ("Ring connections, end to end").  The broker never looks inside
 * the bytes.
 *
 * Requests: a byte read from the ring (req_cons moved) is held until the
 * store says it answered it (CONN_CREDIT), and never more than
 * IPC_RING_WINDOW is held, so a guest that floods stalls in its own ring;
 * the store is sent what it has not had of them.  Replies are queued,
 * and copied into the ring as the guest makes room once a CONN_CREDIT
 * follows them (the store ends each batch of a ring's replies with one,
 * its count 0 if it answered nothing): a store killed between two frames
 * of a batch leaves no reply in the ring whose request a restarted store
 * would answer again.  CONN_SPACE gives the written bytes back to the
 * store's window, which policy/ enforces, so the queue is bounded.
 *
 * A restarted store process learns every ring again (CONN_NEW, then
 * CONN_GONE for a broken one), then gets the held request bytes again.
 * Reply bytes an earlier store queued still go to the guest but are not
 * reported.
 */
#include "broker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

#include "bytequeue.h"
#include "log.h"
#include "ringbuf.h"

/* An empty held copy keeps its buffer up to this size (a typical request). */
#define HELD_KEEP 256u

/* The ring of a conn id, found by the domid in its low bits. */
static struct ring *find(const struct xen_chan *x, uint32_t conn)
{
	struct ring *r = x->by_domid ? x->by_domid[conn & (RING_DOMIDS - 1)] : NULL;

	return r && r->conn == conn ? r : NULL;
}

/* policy/'s question: a ring the store process was told about? */
static int oracle_ring(void *ctx, uint32_t conn, struct policy_ring *out)
{
	struct broker *b = ctx;
	const struct ring *r = find(&b->xen, conn);

	if (!r || !r->told)
		return ENOENT;
	*out = (struct policy_ring){ r->domid != 0, IPC_RING_WINDOW - r->sent, r->unacked };
	return 0;
}

void ring_insert(struct broker *b, struct ring *r)
{
	struct xen_chan *x = &b->xen;

	/* A fresh id: a generation counter, so a domid mapped again gets a new one. */
	r->conn = RING_CONN_BIT | (++x->gen % RING_GENS) * RING_DOMIDS | r->domid;
	x->by_domid[r->domid] = r;
	if (r->port < EVTCHN_PORTS)  /* always, unless Xen changes its ABI */
		x->by_port[r->port] = r;
}

/* As upstream's "ignored" connection: error field set, served no more. */
static void ring_break(struct ring *r, uint32_t error, const char *why)
{
	log_warn("domain %u: %s; ring connection %u cut off", r->domid, why, r->conn);
	if (r->intf)  /* else unmapped idle, and never mapped again now */
		r->intf->error = error;
	r->broken = true;
	r->tell_gone = true;
	bq_free(&r->out);  /* the held requests stay: the store may still answer some */
	r->done = 0;
}

/* Queued reply bytes into the ring as far as it has room; true when any moved. */
static bool pump_out(struct broker *b, struct ring *r)
{
	uint32_t n, fresh;

	if (!r->done || r->broken || !r->intf)
		return false;
	if (ringbuf_write(r->intf, r->out.data, r->done, &n)) {
		ring_break(r, XENSTORE_ERROR_RINGIDX, "bad reply ring index");
		return false;
	}
	fresh = n > r->stale ? n - r->stale : 0;
	r->stale -= n - fresh;
	r->done -= n;
	bq_drop(&r->out, n, 0);
	/* Reported by halves of the window, not at each reply: a store wake-up
	 * less per request.  It stops sending only with the window full, and
	 * then at least half of it is queued here for the guest to take.
	 * Unsent, the store is gone, and its successor starts afresh. */
	r->written += fresh;
	if (r->written >= IPC_RING_WINDOW / 2 &&
	    store_send(b, IPC_CONN_SPACE, r->conn, &r->written, sizeof(r->written), -1)) {
		r->unacked -= r->written;
		r->written = 0;
	}
	return n > 0;
}

/* Tell the store, in order, what it does not know yet; true when all told. */
static bool pump_tell(struct broker *b, struct ring *r)
{
	struct ipc_conn_new cn = {
		.kind = IPC_KIND_RING, .domid = r->domid, .pid = -1,
		.access = r->domid ? 0 : IPC_ACCESS_PRIV, .ring_pos = r->pos,
	};

	if (!r->told && !store_send(b, IPC_CONN_NEW, r->conn, &cn, sizeof(cn), -1))
		return false;
	r->told = true;
	if (r->tell_gone && !store_send(b, IPC_CONN_GONE, r->conn, NULL, 0, -1))
		return false;
	r->tell_gone = false;
	return true;
}

/*
 * Requests: from the ring into the held copy, within the window, then
 * what the store has not had of it, then the ring space given back.  0
 * none read, 1 some, 2 some from a ring that was full (ringbuf_consume).
 */
static int pump_in(struct broker *b, struct ring *r)
{
	uint8_t buf[XENSTORE_RING_SIZE];
	uint32_t n, cons, k, room = IPC_RING_WINDOW - r->held.len;

	if (r->broken || !r->intf)
		return 0;
	if (ringbuf_peek(r->intf, buf, room < sizeof(buf) ? room : sizeof(buf), &n, &cons)) {
		ring_break(r, XENSTORE_ERROR_RINGIDX, "bad request ring index");
		return 0;
	}
	if (bq_append(&r->held, buf, n)) {
		ring_break(r, XENSTORE_ERROR_COMM, "no memory for requests");
		return 0;
	}
	for (; r->sent < r->held.len; r->sent += k) {
		k = r->held.len - r->sent < IPC_PAYLOAD_MAX ? r->held.len - r->sent : IPC_PAYLOAD_MAX;
		if (!store_send(b, IPC_CONN_DATA, r->conn, r->held.data + r->sent, k, -1))
			break;
	}
	return !n ? 0 : ringbuf_consume(r->intf, cons, n) ? 2 : 1;
}

/*
 * Linux's xenbus frontend notifies only when it sees us caught up: after
 * writing a request only if we had consumed all before it, after reading
 * replies only if the reply ring had been full.  So one pass is not
 * enough: bytes added (or room made) while we copied come with no event.
 * Loop until a pass moves nothing; credit and the reply queue bound it.
 */
static void pump(struct broker *b, struct ring *r)
{
	bool kick = false, moved;
	/* A page unmapped idle (park) is mapped again first, even if only a
	 * restarted store's CONN_NEW is due: simple, and restarts are rare.
	 * A ring whose domain ended waits unmapped, quietly, for RING_UNMAP. */
	int in = r->intf || r->broken || r->ended ? 0 : xen_remap(b, r);

	if (in == ESRCH)
		ring_break(r, XENSTORE_ERROR_COMM, "its domid no longer names the domain mapped");
	else if (in && broker_ratelimit(b))
		log_warn("domain %u: ring not mapped again: %s", r->domid, strerror(in));
	/* Tried again at the guest's next event, or at the RING_IDLE that
	 * CONN_SPACE 0 has the store send after a while. */
	if (in && in != ESRCH)
		store_send(b, IPC_CONN_SPACE, r->conn, &(uint32_t){ 0 }, sizeof(uint32_t), -1);
	do {
		moved = pump_out(b, r);
		kick |= moved;
		in = pump_tell(b, r) ? pump_in(b, r) : 0;
		moved |= in != 0;
		/* Room made in a ring that was full: a guest may wait for it. */
		kick |= in == 2;
	} while (moved && !r->broken);
	if (r->tell_gone)
		pump_tell(b, r);
	/* After replies, and after a read from a ring that was full.  4.17
	 * notifies after every read: one notification a request less here
	 * (docs/COMPATIBILITY.md, "Ring notifications"). */
	if (kick)
		xen_notify(b, r);
}

/*
 * IPC_RING_IDLE: the store heard nothing from the guest for a while.
 * Give the page back if nothing is in flight either way and the guest's
 * requests are read to the end: having seen us caught up, it notifies
 * when it writes again (pump maps the page again then).  Only with
 * VIRQ_DOM_EXC, which tells of the death that could free its domid.
 */
static void park(struct broker *b, struct ring *r)
{
	if (r->intf && r->how == RING_GRANT && !r->broken && !r->held.len && !r->out.len &&
	    b->xen.virq_port >= 0 &&
	    __atomic_load_n(&r->intf->req_prod, __ATOMIC_RELAXED) == r->intf->req_cons) {
		bq_free(&r->held);  /* its HELD_KEEP buffer too */
		xen_park(b, r);
	}
}

static void queue_reply(struct ring *r, const uint8_t *p, uint32_t len)
{
	if (r->broken)
		return;  /* sent before the store read our CONN_GONE */
	if (bq_append(&r->out, p, len))
		ring_break(r, XENSTORE_ERROR_COMM, "no memory for replies");
	else
		r->unacked += len;
}

static void map_request(struct broker *b, const struct ipc_msg *m)
{
	struct ipc_ring_map rm;
	struct ipc_ring_result res = { 0 };
	struct policy_domain d;
	struct ring *r = NULL;
	int err;

	memcpy(&rm, m->payload, sizeof(rm));
	res.domid = rm.domid;
	err = policy_ring_map(&b->pst, &rm, &d);
	if (!err && !(r = calloc(1, sizeof(*r))))
		err = ENOMEM;
	if (!err) {
		r->domid = rm.domid;
		memcpy(r->handle, d.handle, sizeof(r->handle));
		err = xen_map_guest(b, r, rm.gfn, rm.port);
	}
	if (err) {
		free(r);
		/* Answered, not punished (policy/): a store asking in a loop must
		 * not flood the log either. */
		if (broker_ratelimit(b))
			log_warn("domain %u: ring not mapped: %s", rm.domid, strerror(err));
		res.err = (uint32_t)err;
		store_send(b, IPC_RING_RESULT, 0, &res, sizeof(res), -1);
		return;
	}
	ring_insert(b, r);
	log_info("domain %u: ring %s, port %u, connection %u", r->domid,
		 r->how == RING_GRANT ? "granted" : "foreign-mapped", r->port, r->conn);
	res.conn = r->conn;
	/* Unsent, the store is gone: its successor hears of the ring by CONN_NEW. */
	r->told = store_send(b, IPC_RING_RESULT, 0, &res, sizeof(res), -1);
	pump(b, r);
}

void ring_frame(struct broker *b, const struct ipc_msg *m)
{
	struct ring *r = find(&b->xen, m->hdr.conn);
	uint32_t n;

	if (m->hdr.type == IPC_RING_MAP) {
		map_request(b, m);
		return;
	}
	if (!r)
		return;  /* policy_check let no such frame through */
	if (m->hdr.type == IPC_RING_UNMAP) {
		log_info("domain %u: ring connection %u released", r->domid, r->conn);
		xen_unmap(b, r);
		b->xen.by_domid[r->domid] = NULL;
		if (r->port < EVTCHN_PORTS)
			b->xen.by_port[r->port] = NULL;
		bq_free(&r->out);
		bq_free(&r->held);
		free(r);
		return;
	}
	if (m->hdr.type == IPC_CONN_CREDIT) {
		memcpy(&n, m->payload, sizeof(n));
		bq_drop(&r->held, n, HELD_KEEP);  /* idle rings keep a small buffer */
		r->sent -= n;
		r->pos += n;
		queue_reply(r, m->payload + sizeof(n), m->hdr.len - (uint32_t)sizeof(n));
		r->done = r->out.len;
	} else if (m->hdr.type == IPC_REPLY_DATA) {
		queue_reply(r, m->payload, m->hdr.len);
	} else if (m->hdr.type == IPC_RING_BREAK) {
		memcpy(&n, m->payload, sizeof(n));
		ring_break(r, n, "the store process found a malformed message");
	}
	pump(b, r);
	if (m->hdr.type == IPC_RING_IDLE)
		park(b, r);
}

void ring_event(struct broker *b, uint32_t port)
{
	struct ring *r = port < EVTCHN_PORTS ? b->xen.by_port[port] : NULL;

	if (r)  /* else an event that raced RING_UNMAP */
		pump(b, r);
}

void ring_store_ready(struct broker *b)
{
	struct xen_chan *x = &b->xen;

	x->oracle = (struct policy_oracle){ b, oracle_ring, domains_query };
	b->pst.oracle = &x->oracle;
	for (uint32_t d = 0; x->by_domid && d < RING_DOMIDS; d++) {
		struct ring *r = x->by_domid[d];

		if (!r)
			continue;
		/* Bytes already given again and still unanswered: that store
		 * died on them too (ipc.h). */
		if (r->held.len && r->pos < r->replay_end && !r->broken)
			ring_break(r, XENSTORE_ERROR_COMM,
				   "its request was in flight at two store process deaths");
		r->replay_end = r->pos + r->held.len;
		r->sent = 0;  /* it gets what is held again, after CONN_NEW */
		r->told = false;
		r->tell_gone = r->broken;
		r->unacked = r->written = r->dom_flags = 0;
		r->stale = r->out.len = r->done;  /* a batch the dead store left unfinished: gone */
		pump(b, r);
	}
	if (x->virq_port >= 0)
		domains_scan(b);
}
