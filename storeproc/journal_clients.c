/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal_clients.c - unix clients across a store process restart
 * (journal_clients.h, docs/RESTART.md "Connections").
 *
 * Whether a client can be served on by a new store process depends on
 * one thing outside the journal's records: whether the dead one had read
 * bytes of a request it never answered, or had written part of a message.
 * Nothing outside the process can tell, so the process says it before
 * each read or write, in the client table at the head of the journal
 * memfd: a store into shared memory, which a kill cannot undo.  The
 * entry says busy from just before a read or write until the client has
 * nothing read and unanswered and nothing queued.
 */
#include "journal_clients.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "conn.h"
#include "journal.h"
#include "journal_io.h"
#include "journal_map.h"
#include "log.h"
#include "storeproc.h"
#include "watch.h"

void journal_clients_fini(struct journal_clients *jc)
{
	free(jc->free);
	buf_free(&jc->changes);
	memset(jc, 0, sizeof(*jc));
}

/* Slot `slot` (1-based) of the table in the view p. */
static uint32_t *table_entry(unsigned char *p, uint32_t slot)
{
	return (uint32_t *)(p + JOURNAL_HEAD_FIXED) + 2u * (slot - 1);
}

/*
 * Store one word of an entry.  The order of the stores is what a kill
 * can observe, so the compiler must keep it; nothing else reads the view
 * while this process lives.
 */
static void store_word(uint32_t *w, uint32_t v)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(w, v, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static uint32_t *entry_of(struct storeproc *sp, const struct conn *c)
{
	return sp->journal.active && c->slot ? table_entry(sp->journal.map.p, c->slot) : NULL;
}

/* Forget the restored entries of clients the broker did not give back
 * (they hung up while no store process was there). */
static void sweep(struct storeproc *sp)
{
	struct journal_rings *r = &sp->journal.restored;

	sp->journal.clients.swept = true;
	for (size_t i = r->n; i-- > 0;)
		if (r->v[i].client && !r->v[i].ring)
			journal_rings_forget(r, &r->v[i]);
	buf_free(&r->client_states);
}

void journal_client_open(struct storeproc *sp, struct conn *c, bool resumed)
{
	struct journal_clients *jc = &sp->journal.clients;
	uint32_t *e;

	/* Every client given back comes before the first new one. */
	if (!resumed && !jc->swept)
		sweep(sp);
	if (!jc->free) {
		jc->free = malloc(JOURNAL_CLIENT_SLOTS * sizeof(*jc->free));
		if (!jc->free) {
			log_err("conn %u: no memory for the client table; it will not "
				"outlive this store process", c->id);
			return;
		}
		/* Popped from the end: slot 1 first. */
		for (uint32_t i = 0; i < JOURNAL_CLIENT_SLOTS; i++)
			jc->free[i] = JOURNAL_CLIENT_SLOTS - i;
		jc->nfree = JOURNAL_CLIENT_SLOTS;
	}
	if (!jc->nfree) {
		log_debug("conn %u: client table full; it will not outlive this store "
			  "process", c->id);
		return;
	}
	c->slot = jc->free[--jc->nfree];
	c->slot_state = JOURNAL_CLIENT_IDLE;
	e = entry_of(sp, c);
	if (e) {
		store_word(&e[0], c->id);
		store_word(&e[1], JOURNAL_CLIENT_IDLE);
	}
}

void journal_client_mark(struct storeproc *sp, struct conn *c, bool busy)
{
	uint8_t want = busy ? JOURNAL_CLIENT_BUSY : JOURNAL_CLIENT_IDLE;
	uint32_t *e;

	if (!c->slot || c->slot_state == want)
		return;
	c->slot_state = want;
	e = entry_of(sp, c);
	if (e)
		store_word(&e[1], want);
}

void journal_client_close(struct storeproc *sp, struct conn *c)
{
	struct journal_clients *jc = &sp->journal.clients;
	uint32_t *e = entry_of(sp, c);

	if (e) {
		store_word(&e[1], JOURNAL_CLIENT_FREE);
		store_word(&e[0], 0);
	}
	if (c->slot)
		jc->free[jc->nfree++] = c->slot;
	c->slot = 0;
	if (c->journaled)
		journal_client_note(sp, c, JC_GONE, NULL, NULL);
}

void journal_client_note(struct storeproc *sp, struct conn *c,
			 enum journal_client_change kind, const char *path,
			 const char *token)
{
	struct journal_state *js = &sp->journal;
	struct buf *b = &js->clients.changes;
	uint32_t head[2] = { c->id, c->next_txn_id };
	char k = (char)kind;

	/* Before the first snapshot there is nothing to add to: it will
	 * carry the connection's state itself. */
	if (!js->active)
		return;
	if (buf_append(b, head, sizeof(head)) || buf_append(b, &k, 1) ||
	    buf_append_str0(b, path ? path : "") || buf_append_str0(b, token ? token : "")) {
		log_err("journal: conn %u: no memory to note a watch; taking a snapshot",
			c->id);
		js->snap_due = true;
		return;
	}
	c->journaled = kind != JC_GONE;
}

int journal_clients_flush(struct storeproc *sp, struct buf *rec)
{
	struct buf *b = &sp->journal.clients.changes;
	int err = 0;

	for (size_t off = 0; !err && off < b->len;) {
		uint32_t head[2];
		char kind = b->data[off + sizeof(head)];
		const char *path = b->data + off + sizeof(head) + 1;
		const char *token = path + strlen(path) + 1;
		uint32_t flags = kind == JC_GONE ? JOURNAL_CLIENT_GONE :
				 kind == JC_RESET ? JOURNAL_CLIENT_RESET : 0;

		memcpy(head, b->data + off, sizeof(head));
		off = (size_t)(token + strlen(token) + 1 - b->data);
		err = journal_op_client(rec, head[0], flags, head[1]);
		if (!err && (kind == JC_WATCH || kind == JC_WATCH_RELATIVE))
			err = journal_op_watch(rec, path, kind == JC_WATCH_RELATIVE, token);
		else if (!err && kind == JC_UNWATCH)
			err = journal_op_unwatch(rec, path, token);
	}
	buf_reset(b);
	return err;
}

/* Where a snapshot's client operations go: `body`, framed into `out` as
 * a record whenever it reaches JOURNAL_SNAP_CHUNK (dom0's clients have
 * no watch quota); the list of client `conn` then goes on
 * in the next one (a CLIENT without RESET appends). */
struct chunker {
	struct buf *body, *out;
	uint32_t conn, txn_next;
	int err;
};

static void chunk_full(struct chunker *ck)
{
	if (ck->err)
		return;
	ck->err = journal_record_chunk(ck->out, ck->body, false);
	if (!ck->err && !ck->body->len)
		ck->err = journal_op_client(ck->body, ck->conn, 0, ck->txn_next);
}

static void add_watch_op(void *ctx, const char *path, bool relative, const char *token)
{
	struct chunker *ck = ctx;

	if (!ck->err)
		ck->err = journal_op_watch(ck->body, path, relative, token);
	chunk_full(ck);
}

/* A restored entry's list, as replayed (journal.h's struct journal_ring). */
static void replayed_ops(const struct journal_ring *e, struct chunker *ck)
{
	ck->err = journal_op_client(ck->body, e->client, JOURNAL_CLIENT_RESET, e->txn_next);
	for (size_t off = 0; !ck->err && off < e->watches.len;) {
		char kind = e->watches.data[off];
		const char *path = e->watches.data + off + 1;
		const char *token = path + strlen(path) + 1;

		ck->err = kind == '-' ? journal_op_unwatch(ck->body, path, token) :
			  journal_op_watch(ck->body, path, kind == '1', token);
		off = (size_t)(token + strlen(token) + 1 - e->watches.data);
		chunk_full(ck);
	}
}

int journal_clients_ops(struct storeproc *sp, struct buf *body, struct buf *out)
{
	const struct journal_rings *r = &sp->journal.restored;
	struct chunker ck = { body, out, 0, 0, 0 };

	for (struct conn *c = sp->first; !ck.err && c; c = c->next) {
		if (c->ring || c->dead)
			continue;
		ck.conn = c->id;
		ck.txn_next = c->next_txn_id;
		ck.err = journal_op_client(body, c->id, JOURNAL_CLIENT_RESET, c->next_txn_id);
		if (!ck.err)
			watch_owner_each(&c->wo, add_watch_op, &ck);
		c->journaled = !ck.err;
	}
	for (size_t i = 0; !ck.err && i < r->n; i++) {
		if (!r->v[i].client || r->v[i].ring)
			continue;
		ck.conn = r->v[i].client;
		ck.txn_next = r->v[i].txn_next;
		replayed_ops(&r->v[i], &ck);
	}
	return ck.err;
}

void journal_clients_table(struct storeproc *sp, struct journal_map *m)
{
	for (struct conn *c = sp->first; c; c = c->next) {
		uint32_t *e;

		if (c->ring || c->dead || !c->slot)
			continue;
		e = table_entry(m->p, c->slot);
		e[0] = c->id;
		e[1] = c->slot_state;
	}
}

void journal_clients_clear_table(int fd, const void *data, size_t len)
{
	uint32_t nslots;
	unsigned char *p;

	if (len < JOURNAL_HEAD_FIXED)
		return;
	memcpy(&nslots, (const unsigned char *)data + JOURNAL_MAGIC_LEN, sizeof(nslots));
	if (!nslots || nslots > JOURNAL_CLIENT_SLOTS || len < JOURNAL_HEAD_LEN(nslots))
		return;
	p = mmap(NULL, JOURNAL_HEAD_LEN(nslots), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		log_err("journal: cannot clear the old client table: %s", strerror(errno));
		return;
	}
	memset(p + JOURNAL_HEAD_FIXED, 0, 8u * (size_t)nslots);
	munmap(p, JOURNAL_HEAD_LEN(nslots));
}

/* The state the dead store process left for connection id. */
static uint32_t state_left(const struct journal_rings *r, uint32_t id)
{
	uint32_t v[2], state = JOURNAL_CLIENT_FREE;

	for (size_t off = 0; off + sizeof(v) <= r->client_states.len; off += sizeof(v)) {
		memcpy(v, r->client_states.data + off, sizeof(v));
		if (v[0] == id)
			state = v[1];
	}
	return state;
}

struct fire_ctx {
	struct storeproc *sp;
	struct conn *c;
};

static void fire_once(void *ctx, const char *data, size_t len)
{
	struct fire_ctx *f = ctx;

	conn_queue_event(f->sp, f->c, data, len);
}

bool journal_client_resume(struct storeproc *sp, struct conn *c)
{
	struct journal_rings *r = &sp->journal.restored;
	struct journal_ring *e = journal_clients_find(r, c->id);
	uint32_t state = state_left(r, c->id);
	struct fire_ctx f = { sp, c };

	if (state != JOURNAL_CLIENT_IDLE) {
		log_warn("conn %u: a unix client %s when the store process died; "
			 "closing it", c->id, state == JOURNAL_CLIENT_BUSY ?
			 "had a request or a reply in flight" :
			 "was not in the journal's client table");
		/* The snapshot taken at start holds its entry: GONE at close. */
		c->journaled = e != NULL;
		journal_rings_forget(r, e);
		return false;
	}
	for (size_t off = 0; e && off < e->watches.len;) {
		char kind = e->watches.data[off];
		const char *path = e->watches.data + off + 1;
		const char *token = path + strlen(path) + 1;

		if (kind == '-')
			journal_unrestore_watch(sp, c, path, token);
		else
			journal_restore_watch(sp, c, path, kind == '1', token, false);
		off = (size_t)(token + strlen(token) + 1 - e->watches.data);
	}
	/* Ids it may still hold end with EAGAIN (journal_txn_stale). */
	c->txn_stale_below = (e ? e->txn_next : 0) + TXN_ID_MARGIN;
	if (c->txn_stale_below < TXN_ID_MARGIN)
		c->txn_stale_below = 1;
	c->next_txn_id = c->txn_stale_below;
	if (e) {
		buf_free(&e->watches);
		e->ring = c->id;
	}
	/* Its new ids, kept before any is handed out: a second crash must
	 * not start them again at the same place. */
	journal_client_note(sp, c, JC_TXN, NULL, NULL);
	/* Each fires once, as a new watch does: the client re-reads. */
	watch_owner_fire_each(&c->wo, &sp->out, fire_once, &f);
	log_info("journal: conn %u: unix client resumed with %u watch(es)", c->id,
		 c->wo.count);
	return true;
}
