/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal_io.c - the running store process's journal: records appended
 * to a memfd (through its mapping, journal_map.c) before
 * acknowledgements leave, snapshots handed to the broker, replay at
 * start (journal_io.h, docs/RESTART.md).
 */
#include "journal_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "ipc_out.h"
#include "journal.h"
#include "journal_zip.h"
#include "log.h"
#include "quota.h"
#include "storeproc.h"

/* The record buffer is kept between flushes up to this size. */
#define REC_KEEP (64u * 1024)

/* Snapshots are not worth taking for journals smaller than this. */
#define SNAP_MIN_BYTES (256u * 1024)


void journal_state_init(struct journal_state *js)
{
	memset(js, 0, sizeof(*js));
	journal_map_init(&js->map);
}

void journal_state_fini(struct journal_state *js)
{
	if (js->active)
		journal_map_close(&js->map);
	js->active = false;
	buf_free(&js->dirty);
	buf_free(&js->dirty_doms);
	buf_free(&js->rec);
	journal_rings_free(&js->restored);
	journal_clients_fini(&js->clients);
}

void journal_note_domain(struct storeproc *sp, uint32_t domid)
{
	struct journal_state *js = &sp->journal;

	if (js->active && buf_append(&js->dirty_doms, &domid, sizeof(domid))) {
		log_err("journal: no memory to note domain %u; taking a snapshot",
			domid);
		js->snap_due = true;
	}
}

void journal_note_quota(struct storeproc *sp)
{
	/* Before the first snapshot there is nothing to add to: it will
	 * carry the value itself. */
	if (sp->journal.active)
		sp->journal.snap_due = sp->journal.quota_noted = true;
}

void journal_note_conn(struct storeproc *sp, struct conn *c)
{
	if (c->ring)
		journal_note_domain(sp, c->who.domid);
	else
		journal_client_note(sp, c, JC_RESET, NULL, NULL);
}

void journal_note_watch(struct storeproc *sp, struct conn *c, const char *path,
			bool relative, const char *token, bool added)
{
	if (c->ring)
		journal_note_domain(sp, c->who.domid);
	else
		journal_client_note(sp, c, !added ? JC_UNWATCH : relative ?
				    JC_WATCH_RELATIVE : JC_WATCH, path, token);
}

struct watch_ops {
	struct buf *body;
	int err;		/* the first failure; later watches are skipped */
};

static void add_watch_op(void *ctx, const char *path, bool relative,
			 const char *token)
{
	struct watch_ops *wo = ctx;

	if (!wo->err)
		wo->err = journal_op_watch(wo->body, path, relative, token);
}

/* The ring state of domid (a JOURNAL_DOMAIN and its watches) onto body. */
static int ring_ops(struct storeproc *sp, uint32_t domid, struct buf *body)
{
	struct domain *d = domain_find(&sp->domains, domid);
	struct journal_ring *e = journal_rings_find(&sp->journal.restored, domid);
	uint32_t flags, txn_next;
	size_t start = body->len;
	int err;

	if (e && !e->ring) {
		/* Replayed, its ring not back yet: keep what was replayed. */
		err = journal_op_domain(body, domid, e->target, e->flags, e->txn_next);
		for (size_t off = 0; !err && off < e->watches.len;) {
			const char *path = e->watches.data + off + 1;
			const char *token = path + strlen(path) + 1;

			err = journal_op_watch(body, path, e->watches.data[off] == '1',
					       token);
			off = (size_t)(token + strlen(token) + 1 - e->watches.data);
		}
		return err;
	}
	if (!d || !d->introduced)
		return journal_op_domain(body, domid, DOMID_NONE, JOURNAL_DOM_GONE, 0);
	flags = d->shutdown_seen ? JOURNAL_DOM_SHUTDOWN_SEEN : 0;
	txn_next = d->conn ? d->conn->next_txn_id : 0;
	err = journal_op_domain(body, domid, d->target, flags, txn_next);
	if (!err && d->conn) {
		struct watch_ops wo = { body, 0 };

		watch_owner_each(&d->conn->wo, add_watch_op, &wo);
		err = wo.err;
	}
	if (err)
		body->len = start;	/* the domain's operations go whole or not */
	return err;
}

static int add_quota_op(void *ctx, uint32_t domid, enum quota_item item,
			unsigned int val)
{
	return journal_op_quota(ctx, domid, (uint32_t)item, val);
}

/*
 * Every domain's ring state and own quota values, as records onto out (a
 * snapshot's) of about JOURNAL_SNAP_CHUNK, cut between one domain's
 * operations and the next (a domain's WATCHes must be in its DOMAIN's
 * record): 10,000 guests with 128 watches each would pass the replay's
 * bound on one record.
 */
static int rings_record(struct storeproc *sp, struct buf *out)
{
	struct buf body = BUF_INIT;
	int err = quota_each_domain_limit(sp->quota, add_quota_op, &body);

	/* Global limits too: an operator's run-time change outlives the
	 * store process as a domain's own value does. */
	for (unsigned int item = 0; !err && item < QUOTA_LIMITS; item++)
		err = journal_op_quota(&body, JOURNAL_GLOBAL, item,
				       *quota_limit_slot(&sp->lim, (enum quota_item)item));

	for (size_t i = 0; !err && i < DOMAIN_BUCKETS; i++)
		for (struct domain *d = sp->domains.by_id[i]; !err && d; d = d->id_next)
			if (d->introduced && !(err = ring_ops(sp, d->domid, &body)))
				err = journal_record_chunk(out, &body, false);
	for (size_t i = 0; !err && i < sp->journal.restored.n; i++) {
		const struct journal_ring *e = &sp->journal.restored.v[i];
		struct domain *d = domain_find(&sp->domains, e->domid);

		if (!e->client && !e->ring && !(d && d->introduced) &&
		    !(err = ring_ops(sp, e->domid, &body)))
			err = journal_record_chunk(out, &body, false);
	}
	/* What a restored store's list of applied requests needs (conn.h);
	 * a restart's own snapshot does without the lists it restored, as
	 * the broker cuts off a ring whose requests outlive two stores. */
	for (struct conn *c = sp->first; !err && c; c = c->next)
		for (uint32_t i = 0; c->ring && !c->dead && !err && i < c->n_seen; i++)
			err = journal_op_seen(&body, c->id, c->seen[i]);
	if (!err)
		err = journal_clients_ops(sp, &body, out);
	if (!err)
		err = journal_record_chunk(out, &body, true);
	buf_free(&body);
	return err;
}

void journal_note_path(struct storeproc *sp, const char *name)
{
	if (sp->journal.active && buf_append_str0(&sp->journal.dirty, name)) {
		/* The record would be incomplete: a snapshot covers it. */
		log_err("journal: no memory to note %s; taking a snapshot", name);
		sp->journal.snap_due = true;
	}
}

void journal_sink(void *ctx, const struct store_event *ev)
{
	journal_note_path(ctx, ev->path);
	ops_watch_sink(ctx, ev);
}

/* A fresh memfd holding a snapshot of the store, mapped for appends;
 * *plain: its size had no record been compressed. */
static int snapshot_map(struct storeproc *sp, struct journal_map *m, size_t *plain)
{
	struct buf snap = BUF_INIT;
	size_t tree_plain = 0, at;
	int err;

	journal_map_init(m);
	/* The tree's records compressed as they are cut: a store of 10,000
	 * domains never holds its ~20 MB of plain records at once. */
	err = journal_snapshot_zipped(sp->store, &snap, &tree_plain);
	at = snap.len;
	if (!err)
		err = rings_record(sp, &snap);
	*plain = tree_plain + (snap.len - at);
	if (!err)
		err = journal_zip_tail(&snap, at);	/* the rings' records */
	if (!err)
		err = journal_map_new(m, snap.data, snap.len, IPC_JOURNAL_MAX);
	if (!err)
		journal_clients_table(sp, m);
	buf_free(&snap);
	return err;
}

/*
 * Hand the broker a new snapshot.  Only once the frame is in the socket
 * do records go to the new memfd: until then the broker's copy is the
 * old one, and the old one stays complete.
 */
static void take_snapshot(struct storeproc *sp)
{
	struct journal_state *js = &sp->journal;
	struct journal_map m;
	size_t plain;
	int err;

	/* Never ahead of frames queued while the socket was full: a queued
	 * CONN_CREDIT must reach the broker before a snapshot that no
	 * longer lists the requests it grants (conn.h, `seen`), or a store
	 * dying in between has them given and applied again.  The main
	 * loop flushes the queue; a flush that finds it empty takes it. */
	if (ipc_out_waiting(sp)) {
		js->snap_due = true;
		return;
	}
	err = snapshot_map(sp, &m, &plain);
	if (!err)
		err = ipc_send(&sp->ipc, IPC_JOURNAL, 0, NULL, 0, m.fd);
	if (err) {
		journal_map_close(&m);
		/* EAGAIN: the pipe is full; the next flush tries again. */
		if (err != EAGAIN)
			log_err("journal: cannot hand over a snapshot: %s", strerror(err));
		/* Its memfd went ahead of a frame that did not follow: the next
		 * descriptor the broker took would be the wrong one.  So no
		 * other is sent (the socket is closed) and the process ends; the
		 * broker still holds the journal, which has every record. */
		if (err == ETIMEDOUT) {
			close(sp->ipc.fds);
			sp->ipc.fds = -1;
			sp->quit = true;
			sp->exit_code = 1;
		}
		js->snap_due = true;
		return;
	}
	if (js->active)
		journal_map_close(&js->map);
	js->active = true;
	js->map = m;
	js->snap_bytes = m.len;
	js->snap_plain = plain;
	js->snap_due = false;
	log_debug("journal: snapshot of %zu bytes handed to the broker", m.len);
}

/* What was noted since the last flush, as one record in the map. */
static void append_record(struct storeproc *sp)
{
	static const uint32_t no_hdr[2];
	struct journal_state *js = &sp->journal;
	struct buf *rec = &js->rec;
	bool changed;
	int err;

	/* One buffer for every record, its header framed in place: no
	 * allocation and no copy a modifying request but the map's. */
	buf_reset(rec);
	err = buf_append(rec, no_hdr, JOURNAL_REC_HDR);
	if (!err)
		err = journal_note_paths(sp->store, js->dirty.data, js->dirty.len, rec);
	buf_reset(&js->dirty);
	for (size_t off = 0; !err && off < js->dirty_doms.len; off += sizeof(uint32_t)) {
		uint32_t domid;
		bool seen = false;

		memcpy(&domid, js->dirty_doms.data + off, sizeof(domid));
		for (size_t o = 0; o < off && !seen; o += sizeof(uint32_t))
			seen = memcmp(js->dirty_doms.data + o, &domid, sizeof(domid)) == 0;
		if (!seen)
			err = ring_ops(sp, domid, rec);
	}
	buf_reset(&js->dirty_doms);
	/* Last: their watch paths are not front-coded against the PUTs. */
	if (!err)
		err = journal_clients_flush(sp, rec);
	buf_reset(&js->clients.changes);
	changed = rec->len > JOURNAL_REC_HDR;
	if (js->req && (changed || js->quota_noted)) {
		if (conn_note_applied(js->req))
			log_err("journal: conn %u: no memory to note an applied request; "
				"a snapshot before its reply would lose it", js->req->id);
		if (!err && changed)
			err = journal_op_seen(rec, js->req->id, js->req->req_end);
	}
	js->quota_noted = false;
	if (!err && changed)
		err = journal_record_in_place(rec);
	if (!err && changed)
		err = journal_map_append(&js->map, rec->data, rec->len);
	if (err) {
		/* The change stands in memory; only a snapshot saves it now.
		 * The nodes the lost record reported must be reported again
		 * by the next record that passes through them. */
		log_err("journal: cannot append a record: %s; taking a snapshot",
			strerror(err));
		store_journal_forget(sp->store);
		js->snap_due = true;
	}
	if (rec->cap > REC_KEEP)
		buf_free(rec);
}

void journal_flush(struct storeproc *sp)
{
	struct journal_state *js = &sp->journal;

	if (!js->active) {
		/* Nothing to append to before the first snapshot is out. */
		buf_reset(&js->dirty);
		buf_reset(&js->dirty_doms);
		buf_reset(&js->clients.changes);
		js->quota_noted = false;
		if (js->snap_due)
			take_snapshot(sp);
		return;
	}
	/* Most flushes find nothing noted (every READ's, and the main
	 * loop's after each event): they need no record to be built. */
	if (js->dirty.len || js->dirty_doms.len || js->clients.changes.len ||
	    js->quota_noted)
		append_record(sp);
	/* Records since the snapshot of half its plain size: the journal
	 * stays within half the tree's bytes beyond the compressed snapshot,
	 * and a change's record is still paid for by few snapshot bytes. */
	if (js->map.len - js->snap_bytes > js->snap_plain / 2 && js->map.len > SNAP_MIN_BYTES)
		js->snap_due = true;
	if (js->snap_due)
		take_snapshot(sp);
}

void journal_flush_request(struct storeproc *sp, struct conn *c)
{
	sp->journal.req = c->ring ? c : NULL;
	journal_flush(sp);
	sp->journal.req = NULL;
}

/* The whole of the broker's memfd, read from offset 0. */
static int read_journal(int fd, struct buf *out)
{
	off_t end = lseek(fd, 0, SEEK_END);
	size_t got = 0;
	int err;

	if (end < 0)
		return errno;
	if ((unsigned long long)end > IPC_JOURNAL_MAX)
		return EFBIG;
	err = buf_reserve(out, (size_t)end);
	while (!err && got < (size_t)end) {
		ssize_t k = pread(fd, out->data + got, (size_t)end - got, (off_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;	/* shrunk under us: replay what is there */
		got += (size_t)k;
	}
	out->len = got;
	return err;
}

/* Domains' own quota values, as the replay found them (last one wins). */
static void restore_quotas(struct storeproc *sp)
{
	struct buf *qv = &sp->journal.restored.quotas;

	for (size_t off = 0; off + 3 * sizeof(uint32_t) <= qv->len;
	     off += 3 * sizeof(uint32_t)) {
		uint32_t v[3];

		memcpy(v, qv->data + off, sizeof(v));
		if (v[0] == JOURNAL_GLOBAL) {
			*quota_limit_slot(&sp->lim, (enum quota_item)v[1]) = v[2];
			continue;
		}
		if (quota_set_domain_limit(sp->quota, v[0], (enum quota_item)v[1], v[2]))
			log_err("journal: cannot restore domain %u's quota %u", v[0], v[1]);
	}
	buf_free(qv);
}

void journal_restore_frame(struct storeproc *sp, const struct ipc_msg *msg)
{
	struct journal_replay_stats st;
	struct buf data = BUF_INIT;
	int err;

	if (msg->fd >= 0) {
		err = read_journal(msg->fd, &data);
		if (!err)
			journal_clients_clear_table(msg->fd, data.data, data.len);
		close(msg->fd);
		if (!err)
			err = journal_replay_rings(sp->store, data.data, data.len, &st,
						   &sp->journal.restored);
		if (err)
			log_err("journal: cannot restore: %s; starting empty",
				strerror(err));
		else if (st.bad_bytes)
			log_err("journal: restored %zu records (%zu compressed, %zu operations); "
				"rejected the last %zu bytes: %s", st.records, st.zipped,
				st.ops, st.bad_bytes, st.why);
		else
			log_info("journal: restored %zu records (%zu compressed, %zu operations)",
				 st.records, st.zipped, st.ops);
		buf_free(&data);
		restore_quotas(sp);
		/* What happens to the clients, said where operators look first. */
		log_info("restarted: unix clients left idle are served on; any other "
			 "is closed and logged (docs/RESTART.md)");
	}
	/* From here on everything committed is journaled. */
	sp->journal.snap_due = true;
	take_snapshot(sp);
	if (!sp->journal.active)
		log_err("journal: no snapshot handed over; changes are not kept "
			"across a restart until one is");
}

void journal_restore_watch(struct storeproc *sp, struct conn *c, const char *path,
			   bool relative, const char *token, bool fire)
{
	struct buf ev = BUF_INIT;
	const struct watch *w;
	int err = watch_add(&sp->watches, &c->wo, path, relative, token, &w);

	if (err) {
		if (err != EEXIST)
			log_err("journal: domain %u: cannot restore its watch on %s: %s",
				c->who.domid, path, strerror(err));
		return;
	}
	quota_add(sp->quota, c->who.domid, QUOTA_WATCHES, 1);
	quota_add(sp->quota, c->who.domid, QUOTA_MEMORY,
		  (long)(strlen(path) + strlen(token)));
	c->q_watch_mem += strlen(path) + strlen(token);
	/* It fires once, as a new watch does: the guest re-reads. */
	if (fire && !watch_initial_payload(w, &ev))
		conn_queue_event(sp, c, ev.data, ev.len);
	buf_free(&ev);
}

void journal_unrestore_watch(struct storeproc *sp, struct conn *c, const char *path,
			     const char *token)
{
	if (watch_remove(&sp->watches, &c->wo, path, token))
		return;
	quota_add(sp->quota, c->who.domid, QUOTA_WATCHES, -1);
	quota_add(sp->quota, c->who.domid, QUOTA_MEMORY, -(long)(strlen(path) + strlen(token)));
	c->q_watch_mem -= strlen(path) + strlen(token);
}

void journal_ring_restore(struct storeproc *sp, struct domain *d, struct conn *c)
{
	struct journal_ring *e = journal_rings_find(&sp->journal.restored, d->domid);
	size_t n = 0;

	if (!e || e->ring)
		return;
	d->target = e->target;
	c->who.target = e->target;
	c->wo.who.target = e->target;
	d->shutdown_seen = e->flags & JOURNAL_DOM_SHUTDOWN_SEEN;
	for (size_t off = 0; off < e->watches.len; n++) {
		const char *path = e->watches.data + off + 1;
		const char *token = path + strlen(path) + 1;

		journal_restore_watch(sp, c, path, e->watches.data[off] == '1', token, true);
		off = (size_t)(token + strlen(token) + 1 - e->watches.data);
	}
	buf_free(&e->watches);
	e->ring = c->id;
	e->txn_base = e->txn_next + TXN_ID_MARGIN;
	if (e->txn_base < e->txn_next)
		e->txn_base = 1;	/* wrapped: ids start again low */
	c->next_txn_id = e->txn_base;
	log_info("journal: domain %u: ring restored with %zu watches%s%s", d->domid, n,
		 d->target != DOMID_NONE ? ", its target" : "",
		 d->shutdown_seen ? ", shutdown seen" : "");
	journal_note_domain(sp, d->domid);
}

void journal_ring_applied(struct storeproc *sp, struct conn *c, uint64_t pos)
{
	const struct buf *seen = &sp->journal.restored.seen;
	size_t n = 0;

	c->in_pos = pos;
	for (size_t off = 0; off + 3 * sizeof(uint32_t) <= seen->len;
	     off += 3 * sizeof(uint32_t)) {
		uint32_t v[3];
		uint64_t end;
		uint64_t *grown;

		memcpy(v, seen->data + off, sizeof(v));
		end = (uint64_t)v[2] << 32 | v[1];
		/* Answered requests (at or before pos) are not given again. */
		if (v[0] != c->id || end <= pos)
			continue;
		grown = realloc(c->applied, (n + 1) * sizeof(*grown));
		if (!grown) {
			log_err("journal: conn %u: no memory for its applied requests", c->id);
			break;
		}
		c->applied = grown;
		c->applied[n++] = end;
	}
	c->n_applied = n;
	if (n)
		log_info("journal: conn %u: %zu request(s) applied before the restart "
			 "may come again; they will be answered, not applied", c->id, n);
}

struct txn *journal_txn_stale(struct storeproc *sp, struct conn *c, uint32_t id)
{
	struct journal_ring *e;
	unsigned long lim;
	uint32_t next;
	struct txn *txn;

	if (!id)
		return NULL;
	if (c->ring) {
		e = journal_rings_find(&sp->journal.restored, c->who.domid);
		if (!e || e->ring != c->id || id >= e->txn_base)
			return NULL;
	} else if (id >= c->txn_stale_below) {
		return NULL;
	}
	/* It counts as one of the domain's transactions, as a new one would. */
	lim = sp->quota ? quota_limit_for(sp->quota, c->who.domid, QUOTA_TRANSACTIONS) :
	      sp->lim.transaction;
	if (!c->who.priv && lim && c->ntxns > lim)
		return NULL;
	txn = store_txn_start(sp->store);
	if (!txn)
		return NULL;
	/* conn_txn_add picks c->next_txn_id when it is free: make it id. */
	next = c->next_txn_id;
	c->next_txn_id = id;
	if (conn_txn_add(c, txn, &id)) {
		c->next_txn_id = next;
		store_txn_abort(sp->store, txn);
		return NULL;
	}
	c->next_txn_id = next;
	quota_add(sp->quota, c->who.domid, QUOTA_TRANSACTIONS, 1);
	store_txn_set_domid(txn, c->who.domid);
	if (!c->who.priv)
		store_txn_set_limit(txn, sp->quota ?
				    (unsigned int)quota_limit_for(sp->quota, c->who.domid,
								  QUOTA_TXN_NODES) :
				    sp->lim.trans_nodes);
	store_txn_doom(txn);
	log_info("journal: %s %u: transaction %u was open before the restart; "
		 "it will end with EAGAIN", c->ring ? "domain" : "conn",
		 c->ring ? c->who.domid : c->id, id);
	return txn;
}
