/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conn.c - per-connection I/O of the store process: reading requests,
 * queueing and writing replies and watch events, closing (conn.h).
 *
 * A turn of the main loop: for each connection epoll reports,
 * conn_event reads what the socket has and puts it on the pending list,
 * and conn_serve_pending serves it at once: it handles up to REQ_BUDGET
 * complete requests, writes out what is queued, and sets what epoll
 * should watch.  A connection with requests left over is served again
 * only at the end of the turn (conn_run_pending, which also frees the
 * closed ones), so one busy client cannot starve the others.
 */
#include "conn.h"
#include "journal_clients.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dispatch.h"
#include "domain.h"
#include "ipc_out.h"
#include "log.h"
#include "quota.h"
#include "ring_idle.h"
#include "wiretrace.h"

#define HDR_SIZE sizeof(struct xsd_sockmsg)
#define REQ_BUDGET 32u		/* requests handled a serve per connection */
#define IOV_BATCH 64		/* messages written per sendmsg */
#define EVTAB_SIZE 256u		/* buckets of the queued-event table */
#define RING_IN_START 256u	/* a ring's first input buffer */
/* A written message with room for at most this much (header included)
 * is kept for the next one (storeproc.h's out_spare): most replies
 * ("OK", a short value, an error name) fit. */
#define OUTMSG_SPARE_MAX 256u

/* One queued message: header and payload as they go on the wire. */
struct outmsg {
	struct outmsg *next;		/* queue order */
	struct outmsg *hprev, *hnext;	/* evtab chain (dedup candidates) */
	uint32_t hash;
	bool dedup;			/* on an evtab chain */
	uint32_t len;			/* header + payload */
	uint32_t room;			/* bytes of data[], >= len */
	uint32_t req_bytes;		/* a reply: its request's size, else 0 */
	unsigned char data[];
};

struct conn_txn {
	struct conn_txn *next;
	uint32_t id;
	struct txn *txn;		/* owned: aborted if still open */
};

static void mark_pending(struct storeproc *sp, struct conn *c)
{
	if (c->on_pending || c->dead)
		return;
	c->on_pending = true;
	c->pnext = sp->pending;
	sp->pending = c;
}

struct conn *conn_of_owner(struct watch_owner *o)
{
	return (struct conn *)((char *)o - offsetof(struct conn, wo));
}

static void link_conn(struct storeproc *sp, struct conn *c)
{
	c->prev = sp->last;
	if (sp->last)
		sp->last->next = c;
	else
		sp->first = c;
	sp->last = c;
	sp->nconns++;
	wiretrace_conn(sp, c, true);
}

struct conn *conn_new_ring(struct storeproc *sp, uint32_t id,
			   const struct caller *who)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		log_err("ring conn %u: out of memory; not served", id);
		return NULL;
	}
	/* No input buffer until the first bytes: a host has thousands of
	 * rings, many idle (an HVM guest without PV drivers never writes
	 * to its own); conn_ring_input makes one, small, and grows it. */
	c->ring = true;
	c->fd = -1;
	c->id = id;
	c->who = *who;
	watch_owner_init(&c->wo, who, ++sp->conn_seq);
	link_conn(sp, c);
	return c;
}

void conn_drop_fd(int fd)
{
	shutdown(fd, SHUT_RDWR);
	close(fd);
}

struct conn *conn_new(struct storeproc *sp, int fd, uint32_t id,
		      const struct caller *who, bool rdonly)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *c;
	int fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_err("conn %u: cannot make its socket non-blocking: %s", id,
			strerror(errno));
		conn_drop_fd(fd);
		return NULL;
	}
	/* The input buffer lives right after the struct. */
	c = calloc(1, sizeof(*c) + CONN_IN_SIZE);
	if (!c) {
		log_err("conn %u: out of memory; dropped", id);
		conn_drop_fd(fd);
		return NULL;
	}
	c->fd = fd;
	c->id = id;
	c->in = (unsigned char *)(c + 1);
	c->in_cap = CONN_IN_SIZE;
	c->who = *who;
	c->rdonly = rdonly;
	c->ep_events = EPOLLIN;
	watch_owner_init(&c->wo, who, ++sp->conn_seq);
	ev.data.ptr = c;
	if (epoll_ctl(sp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_err("conn %u: epoll: %s", id, strerror(errno));
		conn_drop_fd(fd);
		free(c);
		return NULL;
	}
	link_conn(sp, c);
	return c;
}

/* --- output ------------------------------------------------------------ */

static uint32_t payload_hash(uint32_t seed, const char *p, size_t len)
{
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static void evtab_unlink(struct conn *c, struct outmsg *m)
{
	if (!m->dedup)
		return;
	if (m->hprev)
		m->hprev->hnext = m->hnext;
	else
		c->evtab[m->hash % EVTAB_SIZE] = m->hnext;
	if (m->hnext)
		m->hnext->hprev = m->hprev;
	m->dedup = false;
}

static struct outmsg *outmsg_new(struct storeproc *sp, uint32_t type,
				 uint32_t req_id, uint32_t tx_id,
				 const void *data, size_t len)
{
	struct xsd_sockmsg h = {
		.type = type, .req_id = req_id, .tx_id = tx_id,
		.len = (uint32_t)len,
	};
	size_t need = HDR_SIZE + len;
	struct outmsg *m = sp->out_spare;

	if (m && m->room >= need) {
		sp->out_spare = NULL;
	} else {
		m = malloc(offsetof(struct outmsg, data) + need);
		if (!m)
			return NULL;
		m->room = (uint32_t)need;
	}
	m->next = m->hprev = m->hnext = NULL;
	m->hash = 0;
	m->dedup = false;
	m->req_bytes = 0;
	m->len = (uint32_t)(HDR_SIZE + len);
	memcpy(m->data, &h, HDR_SIZE);
	if (len)
		memcpy(m->data + HDR_SIZE, data, len);
	return m;
}

/* A small message is kept for the next one, the roomier of it and the
 * one kept so far (one at most: a client answered one request at a time
 * needs no more, and replies of varying length then all fit); the rest
 * are freed. */
static void outmsg_free(struct storeproc *sp, struct outmsg *m)
{
	struct outmsg *drop = m;

	if (m->room <= OUTMSG_SPARE_MAX &&
	    (!sp->out_spare || sp->out_spare->room < m->room)) {
		drop = sp->out_spare;
		sp->out_spare = m;
	}
	free(drop);
}

/* A reply (not a watch event): what 4.17's outstanding quota counts. */
static bool is_reply(const struct outmsg *m)
{
	struct xsd_sockmsg h;

	memcpy(&h, m->data, HDR_SIZE);
	return h.type != XS_WATCH_EVENT;
}

/*
 * Queued output counts for the receiving domain's memory quota, queued
 * replies for its outstanding quota, as 4.17's send_reply() and
 * send_event() charge them.  The counts follow c's at the end of each
 * turn of c (and at its close), not at each message.
 */
static void quota_sync(struct storeproc *sp, struct conn *c)
{
	quota_add(sp->quota, c->who.domid, QUOTA_OUTSTANDING,
		  (long)c->outstanding - (long)c->q_outstanding);
	quota_add(sp->quota, c->who.domid, QUOTA_MEMORY,
		  (long)c->out_bytes - (long)c->q_memory);
	c->q_outstanding = c->outstanding;
	c->q_memory = c->out_bytes;
}

/* 4.17 stops reading a domain's ring while it has this many replies
 * waiting (-Q outstanding); dom0 is exempt. */
static bool outstanding_full(const struct storeproc *sp, const struct conn *c)
{
	unsigned long lim;

	/* Checked before every request: the privileged skip the look-up. */
	if (!sp->quota || c->who.priv)
		return false;
	lim = quota_limit_for(sp->quota, c->who.domid, QUOTA_OUTSTANDING);
	return lim && c->outstanding >= lim;
}

static void enqueue(struct storeproc *sp, struct conn *c, struct outmsg *m)
{
	if (is_reply(m))
		c->outstanding++;
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	c->out_bytes += m->len;
	mark_pending(sp, c);
	wiretrace_msg(sp, c, true, (const struct xsd_sockmsg *)m->data, m->data + HDR_SIZE);
}

static void dequeue_head(struct storeproc *sp, struct conn *c)
{
	struct outmsg *m = c->out_head;

	if (is_reply(m))
		c->outstanding--;
	/* Sent or dropped: either way the broker may forget the request. */
	c->credit_owed += m->req_bytes;
	c->out_head = m->next;
	if (!c->out_head)
		c->out_tail = NULL;
	c->out_off = 0;
	c->out_bytes -= m->len;
	evtab_unlink(c, m);
	outmsg_free(sp, m);
}

static void drop_output(struct storeproc *sp, struct conn *c)
{
	while (c->out_head)
		dequeue_head(sp, c);
	free(c->evtab);
	c->evtab = NULL;
}

int conn_queue_reply(struct storeproc *sp, struct conn *c,
		     const struct xsd_sockmsg *req, uint32_t type,
		     const void *data, size_t len)
{
	struct outmsg *m;

	if (c->dead)
		return 0;
	m = outmsg_new(sp, type, req->req_id, req->tx_id, data, len);
	if (!m)
		return ENOMEM;
	if (c->ring)
		m->req_bytes = (uint32_t)(HDR_SIZE + req->len);
	enqueue(sp, c, m);
	return 0;
}

/* A queued event with this payload, not yet completely written. */
static bool already_queued(const struct conn *c, uint32_t hash,
			   const char *data, size_t len)
{
	for (const struct outmsg *m = c->evtab[hash % EVTAB_SIZE]; m; m = m->hnext)
		if (m->hash == hash && m->len == HDR_SIZE + len &&
		    memcmp(m->data + HDR_SIZE, data, len) == 0)
			return true;
	return false;
}

void conn_queue_event(struct storeproc *sp, struct conn *c,
		      const char *data, size_t len)
{
	bool dedup = data[0] != '@';	/* special events always go out */
	uint32_t hash = 0;
	struct outmsg *m;

	if (c->dead || len > XENSTORE_PAYLOAD_MAX)
		return;
	if (c->out_bytes + HDR_SIZE + len > CONN_OUT_HARD) {
		if (!c->warned_drop)
			log_warn("conn %u does not read its socket; dropping its watch events",
				 c->id);
		c->warned_drop = true;
		return;
	}
	if (dedup) {
		if (!c->evtab) {
			c->evtab = calloc(EVTAB_SIZE, sizeof(*c->evtab));
			if (!c->evtab)
				return;
		}
		hash = payload_hash(sp->watches.seed, data, len);
		if (already_queued(c, hash, data, len))
			return;
	}
	m = outmsg_new(sp, XS_WATCH_EVENT, 0, 0, data, len);
	if (!m)
		return;
	if (dedup) {
		struct outmsg **head = &c->evtab[hash % EVTAB_SIZE];

		m->hash = hash;
		m->dedup = true;
		m->hnext = *head;
		if (*head)
			(*head)->hprev = m;
		*head = m;
	}
	enqueue(sp, c, m);
}

/* Write what the socket takes: 0 (all written, or it is full) or the
 * errno that ends the connection. */
static int flush(struct storeproc *sp, struct conn *c)
{
	while (c->out_head) {
		struct iovec iov[IOV_BATCH];
		struct msghdr mh = { .msg_iov = iov };
		size_t off = c->out_off;
		struct outmsg *m;
		ssize_t n;
		int i = 0;

		for (m = c->out_head; m && i < IOV_BATCH; m = m->next, off = 0) {
			iov[i].iov_base = m->data + off;
			iov[i++].iov_len = m->len - off;
		}
		mh.msg_iovlen = (size_t)i;
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return errno;
		}
		while (n > 0) {
			size_t rest = c->out_head->len - c->out_off;

			if ((size_t)n < rest) {
				c->out_off += (size_t)n;
				break;
			}
			n -= (ssize_t)rest;
			dequeue_head(sp, c);
		}
	}
	return 0;
}

/*
 * A ring's output: REPLY_DATA frames, packed across messages, while the
 * broker holds less than IPC_RING_WINDOW unacknowledged bytes of it.  A
 * message is begun only if all of it fits the window: the credit that
 * ends the batch (ring_grant) lets the guest have every byte before it,
 * and a store killed after it must not have sent part of a reply whose
 * request a restarted one answers again (broker/ring.c).  A message is
 * at most CONN_MSG_MAX, well under the half window CONN_SPACE gives back.
 * 0, or ENOMEM when a frame could not even be queued.
 */
static int flush_ring(struct storeproc *sp, struct conn *c)
{
	unsigned char frame[IPC_PAYLOAD_MAX];
	size_t window = IPC_RING_WINDOW - c->unacked;

	while (c->out_head) {
		size_t n = 0;
		int err;

		while (c->out_head && n < sizeof(frame)) {
			struct outmsg *m = c->out_head;
			size_t take = m->len - c->out_off;

			if (!c->out_off && m->len > window - n)
				break;
			if (take > sizeof(frame) - n)
				take = sizeof(frame) - n;
			memcpy(frame + n, m->data + c->out_off, take);
			n += take;
			c->out_off += take;
			if (c->out_off == m->len)
				dequeue_head(sp, c);
		}
		if (!n)
			break;
		err = ipc_out_send(sp, IPC_REPLY_DATA, c->id, frame, (uint32_t)n);
		if (err)
			return err;
		window -= n;
		c->unacked += (uint32_t)n;
		c->uncredited = true;
		c->idle = RING_BUSY;
	}
	return 0;
}

static int flush_any(struct storeproc *sp, struct conn *c)
{
	if (c->ring)
		return flush_ring(sp, c);
	/* A message may be cut by a kill: the client cannot be resumed. */
	if (c->out_head)
		journal_client_mark(sp, c, true);
	return flush(sp, c);
}

/* --- closing ------------------------------------------------------------ */

void conn_close(struct storeproc *sp, struct conn *c, bool flush_first)
{
	if (c->dead)
		return;
	if (flush_first)
		(void)flush_any(sp, c);
	/* Exiting with nothing of c's half done: the next store serves on. */
	if (sp->quit && !c->ring && !c->in_len && !c->out_head && !c->waiting)
		journal_client_mark(sp, c, false);
	conn_quota_drop(sp, c);
	watch_remove_all(&sp->watches, &c->wo);
	conn_txn_abort_all(sp, c);
	drop_output(sp, c);
	quota_sync(sp, c);
	domain_conn_closed(sp, c);
	if (c->fd >= 0) {
		epoll_ctl(sp->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		/* The broker holds a copy of the socket (broker/clients.c):
		 * only a shutdown ends the connection.  Not when this process
		 * exits: the next one may serve the client on. */
		if (!sp->quit) {
			shutdown(c->fd, SHUT_RDWR);
			journal_client_close(sp, c);
		}
		close(c->fd);
	}
	c->fd = -1;
	log_debug("conn %u closed", c->id);
	wiretrace_conn(sp, c, false);

	if (c->prev)
		c->prev->next = c->next;
	else
		sp->first = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		sp->last = c->prev;
	sp->nconns--;

	c->dead = true;
	c->next = NULL;
	c->dnext = sp->dead;
	sp->dead = c;
}

static void free_dead(struct storeproc *sp)
{
	struct conn **pp = &sp->pending;

	/* A connection closed while serving may have queued itself again. */
	while (*pp) {
		if ((*pp)->dead)
			*pp = (*pp)->pnext;
		else
			pp = &(*pp)->pnext;
	}
	while (sp->dead) {
		struct conn *c = sp->dead;

		sp->dead = c->dnext;
		if (c->in != (unsigned char *)(c + 1))
			free(c->in);
		free(c->applied);
		free(c->seen);
		free(c);
	}
}

void conn_close_all(struct storeproc *sp)
{
	while (sp->first)
		conn_close(sp, sp->first, true);
	sp->pending = sp->later = NULL;
	free_dead(sp);
	free(sp->out_spare);
	sp->out_spare = NULL;
}

/* --- input -------------------------------------------------------------- */

static bool can_read(const struct conn *c)
{
	return !c->eof && c->in_len < c->in_cap &&
	       c->out_bytes <= CONN_OUT_SOFT;
}

static void read_some(struct conn *c)
{
	ssize_t n;

	do
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		c->in_len += (size_t)n;
	else if (n == 0)
		c->eof = true;
	else if (errno != EAGAIN && errno != EWOULDBLOCK) {
		log_debug("conn %u: read: %s", c->id, strerror(errno));
		c->eof = true;
	}
}

void conn_event(struct storeproc *sp, struct conn *c, uint32_t events)
{
	if (c->dead)
		return;
	if (can_read(c) && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		/* From the first byte read until it is answered. */
		journal_client_mark(sp, c, true);
		read_some(c);
	}
	else if (events & EPOLLERR)
		c->eof = true;
	else if ((events & EPOLLHUP) && !(events & EPOLLOUT))
		/* Gone both ways while we were not reading it. */
		c->eof = true;
	mark_pending(sp, c);
}

/*
 * Was the ring request ending at stream byte `end` applied before a
 * restart (conn.h's `applied`)?  The list is dropped once passed.
 */
static bool applied_before(struct conn *c, uint64_t end)
{
	bool hit = false;

	for (size_t i = 0; i < c->n_applied; i++)
		hit |= c->applied[i] == end;
	if (end >= c->applied[c->n_applied - 1]) {
		free(c->applied);
		c->applied = NULL;
		c->n_applied = 0;
	}
	return hit;
}

/*
 * Its change is in the restored tree; only the reply died.  Every request
 * that journals a change answers "OK" when it succeeds (WRITE, MKDIR, RM,
 * SET_PERMS, WATCH, UNWATCH, TRANSACTION_END, the domain requests).
 */
static void answer_applied(struct storeproc *sp, struct conn *c,
			   const struct xsd_sockmsg *h)
{
	log_info("conn %u: request %u (type %u) was applied before the restart; "
		 "answering it", c->id, h->req_id, h->type);
	if (conn_queue_reply(sp, c, h, h->type, "OK", sizeof("OK"))) {
		log_err("conn %u: no memory for a reply; closing it", c->id);
		conn_close(sp, c, false);
	}
}

/*
 * Handle complete requests from the input buffer.  Returns true if
 * complete requests are left over for a later serve (budget spent or
 * output over its bound); false if none (or c was closed).
 */
static bool handle_requests(struct storeproc *sp, struct conn *c)
{
	unsigned int budget = REQ_BUDGET;
	size_t off = 0;
	bool more = false;

	while (!c->dead && !c->waiting) {
		struct xsd_sockmsg h;

		if (c->in_len - off < HDR_SIZE)
			break;
		memcpy(&h, c->in + off, HDR_SIZE);
		if (h.len > XENSTORE_PAYLOAD_MAX) {
			uint32_t code = XENSTORE_ERROR_PROTO;

			log_warn("conn %u: message of %u bytes is too long; closing it",
				 c->id, h.len);
			/* 4.17 tells the guest why in its ring's error field. */
			if (c->ring)
				(void)ipc_out_send(sp, IPC_RING_BREAK, c->id, &code, sizeof(code));
			conn_close(sp, c, false);
			return false;
		}
		if (c->in_len - off < HDR_SIZE + h.len)
			break;
		if (!budget || c->out_bytes > CONN_OUT_SOFT) {
			more = true;
			break;
		}
		if (outstanding_full(sp, c)) {
			(void)quota_refuse(sp->quota, c->who.domid,
					   QUOTA_OUTSTANDING, c->outstanding, 0);
			more = true;
			break;
		}
		budget--;
		c->req_end = c->in_pos + off + HDR_SIZE + h.len;
		if (c->n_applied && applied_before(c, c->req_end))
			answer_applied(sp, c, &h);
		else
			dispatch_request(sp, c, &h, (const char *)c->in + off + HDR_SIZE);
		off += HDR_SIZE + h.len;
	}
	if (c->dead)
		return false;
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
		c->in_pos += off;
	}
	return more;
}

static void set_epoll(struct storeproc *sp, struct conn *c)
{
	struct epoll_event ev = { .events = 0, .data.ptr = c };

	if (c->ring)
		return;
	if (can_read(c))
		ev.events |= EPOLLIN;
	if (c->out_head)
		ev.events |= EPOLLOUT;
	if (ev.events == c->ep_events)
		return;
	if (epoll_ctl(sp->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		log_err("conn %u: epoll: %s", c->id, strerror(errno));
		conn_close(sp, c, false);
		return;
	}
	c->ep_events = ev.events;
}

/*
 * Give the broker back the request bytes consumed, so it reads more of
 * the ring; not while the output is over its bound, so a guest that
 * never reads its replies stalls in its own ring.  Replies sent are
 * followed by a credit all the same, of 0 if need be: the broker lets
 * the guest have them only then (ipc.h).  A big buffer grown for a
 * burst is given back once drained.
 */
static void ring_grant(struct storeproc *sp, struct conn *c)
{
	uint32_t n = c->out_bytes <= CONN_OUT_SOFT ? c->credit_owed : 0;
	bool sent = (n || c->uncredited) &&
		    !ipc_out_send(sp, IPC_CONN_CREDIT, c->id, &n, sizeof(n));

	if (sent)
		c->uncredited = false;
	if (sent && n) {
		uint64_t granted = c->in_pos + c->in_len - (c->broker_held - n);
		uint32_t keep = 0;

		c->credit_owed = 0;
		c->broker_held -= n;
		/* The broker no longer holds those requests: never given again. */
		for (uint32_t i = 0; i < c->n_seen; i++)
			if (c->seen[i] > granted)
				c->seen[keep++] = c->seen[i];
		c->n_seen = keep;
	}
	if (c->in_cap > CONN_IN_SIZE && c->in_len <= CONN_MSG_MAX) {
		unsigned char *p = realloc(c->in, CONN_MSG_MAX);

		if (p) {
			c->in = p;
			c->in_cap = CONN_MSG_MAX;
		}
	}
}

/* Serve c once; true if it has more to do at its next serve. */
static bool serve(struct storeproc *sp, struct conn *c)
{
	bool more = handle_requests(sp, c);
	int err;

	if (c->dead)
		return false;
	/* A ring's replies and the credit for them leave together: a store
	 * killed in between would have the broker give a restarted one a
	 * request whose reply the guest already has (ipc.h). */
	if (c->ring)
		ipc_out_cork(sp);
	err = flush_any(sp, c);
	if (err) {
		ipc_out_uncork(sp);
		log_debug("conn %u: write: %s", c->id, strerror(err));
		conn_close(sp, c, false);
		return false;
	}
	quota_sync(sp, c);
	if (c->ring)
		ring_grant(sp, c);
	ipc_out_uncork(sp);
	if (c->eof && !more && !c->waiting) {
		/* Everything it sent is answered; write what fits and go
		 * (upstream's destroy_conn flushes without blocking, too). */
		conn_close(sp, c, true);
		return false;
	}
	/* Nothing read and unanswered, nothing queued: resumable. */
	if (!c->ring && !c->in_len && !c->out_head && !c->waiting)
		journal_client_mark(sp, c, false);
	set_epoll(sp, c);
	/* Held back by the budget, or by output that has drained since:
	 * go on at the next serve.  Still over the bound (or the outstanding
	 * quota): EPOLLOUT (or the ring's CONN_SPACE) brings it back. */
	return more && !c->dead && c->out_bytes <= CONN_OUT_SOFT &&
	       !outstanding_full(sp, c);
}

/* Serve the pending list once.  A connection with requests left over
 * goes back on it, or, with `later`, on sp->later. */
static void serve_pass(struct storeproc *sp, bool later)
{
	struct conn *list = sp->pending;

	sp->pending = NULL;
	while (list) {
		struct conn *c = list;
		bool more;

		list = c->pnext;
		c->pnext = NULL;
		/* on_pending stays set while serving, so that its own
		 * replies do not queue it a second time. */
		c->serving = true;
		more = !c->dead && serve(sp, c);
		c->serving = false;
		if (more && later) {
			c->pnext = sp->later;	/* still on_pending */
			sp->later = c;
			continue;
		}
		c->on_pending = false;
		if (more)
			mark_pending(sp, c);
	}
}

void conn_serve_pending(struct storeproc *sp)
{
	serve_pass(sp, true);
}

bool conn_run_pending(struct storeproc *sp)
{
	while (sp->later) {
		struct conn *c = sp->later;

		sp->later = c->pnext;
		c->pnext = sp->pending;
		sp->pending = c;
	}
	for (int pass = 0; pass < 2 && sp->pending; pass++)
		serve_pass(sp, false);
	free_dead(sp);
	return sp->pending != NULL;
}

/* --- rings, waiting requests, reset ------------------------------------------ */

int conn_note_applied(struct conn *c)
{
	if (c->n_seen == c->cap_seen) {
		uint32_t cap = c->cap_seen ? 2 * c->cap_seen : 4;
		uint64_t *v = realloc(c->seen, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		c->seen = v;
		c->cap_seen = cap;
	}
	c->seen[c->n_seen++] = c->req_end;
	return 0;
}

int conn_ring_input(struct storeproc *sp, struct conn *c, const void *data,
		    size_t len)
{
	size_t need = c->in_len + len;

	if (c->dead)
		return 0;
	/* The broker holds what it sent until it is granted back: never
	 * more than the window. */
	if (c->broker_held + len > IPC_RING_WINDOW) {
		log_err("ring conn %u: the broker sent beyond its credit; ending it",
			c->id);
		conn_close(sp, c, false);
		return EPROTO;
	}
	if (need > c->in_cap) {
		size_t cap = c->in_cap ? c->in_cap * 2 : RING_IN_START;
		unsigned char *p;

		if (cap < need)
			cap = need;
		if (cap > IPC_RING_WINDOW)
			cap = IPC_RING_WINDOW;
		p = realloc(c->in, cap);
		if (!p) {
			log_err("ring conn %u: out of memory; ending it", c->id);
			conn_close(sp, c, false);
			return 0;
		}
		c->in = p;
		c->in_cap = cap;
	}
	memcpy(c->in + c->in_len, data, len);
	c->in_len = need;
	c->broker_held += (uint32_t)len;
	c->idle = RING_BUSY;
	mark_pending(sp, c);
	return 0;
}

void conn_ring_space(struct storeproc *sp, struct conn *c, uint32_t n)
{
	if (c->dead)
		return;
	if (n > c->unacked) {
		log_err("ring conn %u: the broker acknowledged %u bytes of %u sent",
			c->id, n, c->unacked);
		n = c->unacked;
	}
	c->unacked -= n;
	/* Busy: the guest took replies, or (0) the broker could not map an
	 * idle ring again and wants a RING_IDLE later to try again. */
	c->idle = RING_BUSY;
	mark_pending(sp, c);
}

void conn_wait(struct conn *c, const struct xsd_sockmsg *hdr)
{
	c->waiting = true;
	c->wait_hdr = *hdr;
}

void conn_wait_done(struct storeproc *sp, struct conn *c, uint32_t type,
		    const void *data, size_t len)
{
	if (c->dead || !c->waiting)
		return;
	c->waiting = false;
	if (conn_queue_reply(sp, c, &c->wait_hdr, type, data, len)) {
		log_err("conn %u: no memory for a reply; closing it", c->id);
		conn_close(sp, c, false);
	}
}

void conn_reset(struct storeproc *sp, struct conn *c)
{
	struct outmsg *keep = c->out_head;
	size_t keep_off = c->out_off;

	conn_quota_drop(sp, c);
	watch_remove_all(&sp->watches, &c->wo);
	conn_txn_abort_all(sp, c);
	/* A message partly out already must end whole on the wire. */
	if (keep && keep_off) {
		evtab_unlink(c, keep);
		c->out_head = keep->next;
		if (!c->out_head)
			c->out_tail = NULL;
		c->out_bytes -= keep->len;
		keep->next = NULL;
	} else {
		keep = NULL;
	}
	drop_output(sp, c);
	if (keep) {
		c->out_head = c->out_tail = keep;
		c->out_bytes = keep->len;
		c->out_off = keep_off;
	}
	/* Unread input is dropped unless c is handling it right now (it
	 * introduced itself); dropped bytes count as consumed. */
	if (!c->serving) {
		c->credit_owed += (uint32_t)c->in_len;
		c->in_pos += c->in_len;
		c->in_len = 0;
	}
	quota_sync(sp, c);
	mark_pending(sp, c);
}

/* --- transactions --------------------------------------------------------- */

struct txn *conn_txn_find(const struct conn *c, uint32_t id)
{
	for (const struct conn_txn *t = c->txns; t; t = t->next)
		if (t->id == id)
			return t->txn;
	return NULL;
}

int conn_txn_add(struct conn *c, struct txn *txn, uint32_t *id)
{
	struct conn_txn *t = malloc(sizeof(*t));

	if (!t)
		return ENOMEM;
	/* 4.17: count up per connection, skipping 0 and ids in use. */
	do
		t->id = c->next_txn_id++;
	while (t->id == 0 || conn_txn_find(c, t->id));
	t->txn = txn;
	t->next = c->txns;
	c->txns = t;
	c->ntxns++;
	*id = t->id;
	return 0;
}

void conn_quota_drop(struct storeproc *sp, struct conn *c)
{
	quota_add(sp->quota, c->who.domid, QUOTA_WATCHES, -(long)c->wo.count);
	quota_add(sp->quota, c->who.domid, QUOTA_TRANSACTIONS,
		  -(long)c->ntxns);
	quota_add(sp->quota, c->who.domid, QUOTA_MEMORY,
		  -(long)c->q_watch_mem);
	c->q_watch_mem = 0;
}

void conn_txn_abort_all(struct storeproc *sp, struct conn *c)
{
	while (c->txns) {
		struct conn_txn *t = c->txns;

		c->txns = t->next;
		store_txn_abort(sp->store, t->txn);
		free(t);
	}
	c->ntxns = 0;
}

struct txn *conn_txn_take(struct conn *c, uint32_t id)
{
	for (struct conn_txn **pp = &c->txns; *pp; pp = &(*pp)->next) {
		struct conn_txn *t = *pp;

		if (t->id == id) {
			struct txn *txn = t->txn;

			*pp = t->next;
			free(t);
			c->ntxns--;
			return txn;
		}
	}
	return NULL;
}
