/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * domain.c - the domain table and the life of a domain in the store
 * process (domain.h): the broker's ring and domain frames, introduction,
 * shutdown, release and death with cxenstored 4.17's clean-up.
 */
#include "domain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

#include "conn.h"
#include "ipc_out.h"
#include "journal_io.h"
#include "log.h"
#include "perms.h"
#include "quota.h"
#include "storeproc.h"
#include "xserr.h"

#define BUCKET(x) ((x) & (DOMAIN_BUCKETS - 1u))

/* The store acts for the dead domain's clean-up with dom0's rights. */
static const struct caller dom0_priv = { 0, DOMID_NONE, true };

void domain_table_init(struct domain_table *dt)
{
	memset(dt, 0, sizeof(*dt));
	dt->next_gen = 1;
}

void domain_table_fini(struct domain_table *dt)
{
	for (size_t i = 0; i < DOMAIN_BUCKETS; i++) {
		while (dt->by_id[i]) {
			struct domain *d = dt->by_id[i];

			dt->by_id[i] = d->id_next;
			free(d);
		}
		dt->by_ring[i] = NULL;
	}
	dt->count = 0;
}

struct domain *domain_find(const struct domain_table *dt, uint32_t domid)
{
	struct domain *d;

	for (d = dt->by_id[BUCKET(domid)]; d; d = d->id_next)
		if (d->domid == domid)
			return d;
	return NULL;
}

struct domain *domain_get(struct domain_table *dt, uint32_t domid)
{
	struct domain *d = domain_find(dt, domid);

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->domid = domid;
	d->target = DOMID_NONE;
	d->id_next = dt->by_id[BUCKET(domid)];
	dt->by_id[BUCKET(domid)] = d;
	dt->count++;
	return d;
}

struct domain *domain_find_ring(const struct domain_table *dt, uint32_t ring)
{
	struct domain *d;

	if (!ring)
		return NULL;
	for (d = dt->by_ring[BUCKET(ring)]; d; d = d->ring_next)
		if (d->ring == ring)
			return d;
	return NULL;
}

void domain_set_ring(struct domain_table *dt, struct domain *d, uint32_t ring)
{
	if (d->ring) {
		struct domain **pp = &dt->by_ring[BUCKET(d->ring)];

		while (*pp != d)
			pp = &(*pp)->ring_next;
		*pp = d->ring_next;
		d->ring_next = NULL;
	}
	d->ring = ring;
	if (ring) {
		d->ring_next = dt->by_ring[BUCKET(ring)];
		dt->by_ring[BUCKET(ring)] = d;
	}
}

void domain_forget(struct domain_table *dt, struct domain *d)
{
	struct domain **pp = &dt->by_id[BUCKET(d->domid)];

	domain_set_ring(dt, d, 0);
	while (*pp != d)
		pp = &(*pp)->id_next;
	*pp = d->id_next;
	dt->count--;
	free(d);
}

/* --- events and clean-up ---------------------------------------------------- */

void domain_fire_special(struct storeproc *sp, const char *name)
{
	/* 4.17 fires them exact: a watch on "/" does not see them. */
	struct store_event ev = { .path = name, .exact = true };

	if (store_special_perms(sp->store, name, &ev.perms))
		return;
	sp->sink.fire(sp->sink.ctx, &ev);
}

/*
 * Xen 4.22's per-domain special watch: a watch on "@releaseDomain/<domid>"
 * hears only about that domain, with @releaseDomain's permissions.  The
 * event is exact, so a 4.17-style watch on "@releaseDomain" still gets
 * just the one "@releaseDomain" event it always had.
 */
static void fire_release_of(struct storeproc *sp, uint32_t domid)
{
	char name[sizeof("@releaseDomain/4294967295")];
	struct store_event ev = { .path = name, .exact = true };

	snprintf(name, sizeof(name), "@releaseDomain/%u", domid);
	if (store_special_perms(sp->store, "@releaseDomain", &ev.perms))
		return;
	sp->sink.fire(sp->sink.ctx, &ev);
}

/* A node's perms, parsed from their wire form; grown as needed. */
struct perm_scratch {
	struct perm *e;
	unsigned int n, cap;
};

static int parse_wire_perms(const struct buf *wire, struct perm_scratch *ps)
{
	unsigned int cnt = 0;

	for (size_t i = 0; i < wire->len; i++)
		cnt += wire->data[i] == '\0';
	if (cnt > ps->cap) {
		struct perm *e = realloc(ps->e, cnt * sizeof(*e));

		if (!e)
			return ENOMEM;
		ps->e = e;
		ps->cap = cnt;
	}
	return perms_parse(wire->data, wire->len, ps->e, ps->cap, &ps->n);
}

/*
 * One node met by the clean-up walk for dead domain `domid`: true if it
 * was deleted (its subtree with it).  As 4.17: nodes it owns are deleted
 * (fired as RMs), or with -K given to dom0.  Beyond 4.17 (which only
 * ignores them, XSA-322): its entries in other nodes' lists are removed,
 * so a new domain that gets the same domid inherits no access; 4.17's
 * test of the node's age against the domain's is not possible here, as
 * the store cannot ask the hypervisor which domains exist.
 */
static bool clean_node(struct storeproc *sp, uint32_t domid, const char *path,
		       struct perm_scratch *ps)
{
	unsigned int j, n = 1;
	bool change = false;

	if (ps->e[0].domid == domid) {
		if (!sp->keep_orphans) {
			if (store_rm(sp->store, NULL, &dom0_priv, path, &sp->sink))
				log_err("cannot delete orphaned node %s", path);
			return true;
		}
		ps->e[0].domid = 0;
		change = true;
	}
	for (j = 1; j < ps->n; j++) {
		if (ps->e[j].domid == domid)
			change = true;
		else
			ps->e[n++] = ps->e[j];
	}
	/* As 4.17's write_node_raw(): no watch event, so the journal is
	 * told of the node itself. */
	if (change && store_set_perms(sp->store, NULL, &dom0_priv, path, ps->e, n,
				      NULL))
		log_err("cannot remove dead domain %u from the perms of %s",
			domid, path);
	if (change)
		journal_note_path(sp, path);
	return false;
}

/* The nodes whose perms name a dead domain, gathered before any changes. */
struct named_nodes {
	uint32_t domid;
	struct buf paths;	/* NUL-terminated, in pre-order */
};

static int gather_named(void *ctx, const char *path, size_t pathlen, size_t shared,
			const struct perm_list *pl, const void *val, size_t vlen)
{
	struct named_nodes *nn = ctx;

	(void)shared;
	(void)val;
	(void)vlen;
	if (pathlen == 1)
		return 0;	/* "/" is never cleaned */
	for (unsigned int j = 0; j < pl->n; j++)
		if (pl->e[j].domid == nn->domid)
			return buf_append(&nn->paths, path, pathlen + 1);
	return 0;
}

/*
 * clean_node() on every node but "/" whose perms name domid.  If none
 * does, no walk; else a walk of the whole tree, as 4.17's
 * domain_tree_remove(), by the tree's own links and reading each node's
 * list in place, with no lookup by path.  The changes come after it, on
 * the nodes it gathered, in pre-order, so that a node deleted takes its
 * gathered descendants with it.
 */
static void clean_tree(struct storeproc *sp, uint32_t domid)
{
	struct named_nodes nn = { domid, BUF_INIT };
	struct buf perms = BUF_INIT;
	struct perm_scratch ps = { NULL, 0, 0 };

	/* The toolstack mostly removes a domain's nodes before it goes:
	 * then nothing names it, and there is no walk at all. */
	if (!store_names_domid(sp->store, domid))
		return;
	if (store_each_node(sp->store, gather_named, &nn))
		log_err("out of memory cleaning up after dead domain %u", domid);
	for (size_t off = 0; off < nn.paths.len;) {
		const char *path = nn.paths.data + off;

		off += strlen(path) + 1;
		buf_reset(&perms);
		/* ENOENT: deleted with an ancestor the dead domain owned. */
		if (store_get_perms(sp->store, NULL, &dom0_priv, path, &perms) ||
		    parse_wire_perms(&perms, &ps) || !ps.n)
			continue;
		clean_node(sp, domid, path, &ps);
	}
	free(ps.e);
	buf_free(&perms);
	buf_free(&nn.paths);
}

/* 4.17's remove_domid_from_perm() on the special nodes: the dead domain's
 * entries go, ownership falls back to dom0. */
static void strip_special(struct storeproc *sp, uint32_t domid)
{
	static const char *const names[] = { "@introduceDomain", "@releaseDomain" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct perm_list pl;
		struct perm *e;
		unsigned int n = 1;
		bool change;

		if (store_special_perms(sp->store, names[i], &pl) || !pl.n)
			continue;
		change = pl.e[0].domid == domid;
		for (unsigned int j = 1; j < pl.n; j++)
			change |= pl.e[j].domid == domid;
		if (!change)
			continue;
		e = malloc(pl.n * sizeof(*e));
		if (!e) {
			log_err("out of memory stripping domain %u from %s", domid,
				names[i]);
			continue;
		}
		e[0] = pl.e[0];
		if (e[0].domid == domid)
			e[0].domid = 0;
		for (unsigned int j = 1; j < pl.n; j++)
			if (pl.e[j].domid != domid)
				e[n++] = pl.e[j];
		(void)store_set_perms(sp->store, NULL, &dom0_priv, names[i], e, n,
				      NULL);
		journal_note_path(sp, names[i]);	/* no event fired */
		free(e);
	}
}

void domain_release(struct storeproc *sp, struct domain *d)
{
	uint32_t domid = d->domid;

	journal_note_domain(sp, domid);
	if (d->conn)
		conn_close(sp, d->conn, false);
	if (d->ring)
		(void)ipc_out_send(sp, IPC_RING_UNMAP, d->ring, NULL, 0);
	domain_forget(&sp->domains, d);
	clean_tree(sp, domid);
	strip_special(sp, domid);
	/* A reused domid starts with a clean slate (XSA-483); its own
	 * limits, if it had any, go from the journal too. */
	if (quota_domain_reset(sp->quota, domid))
		journal_note_quota(sp);
	log_debug("domain %u released", domid);
	domain_fire_special(sp, "@releaseDomain");
	fire_release_of(sp, domid);
}

void domain_conn_closed(struct storeproc *sp, struct conn *c)
{
	struct domain_table *dt = &sp->domains;

	if (c->ring) {
		struct domain *d = domain_find(dt, c->who.domid);

		if (d && d->conn == c)
			d->conn = NULL;
	}
	/* Rare (a client gone while its INTRODUCE waits): a scan is fine. */
	if (c->waiting)
		for (size_t i = 0; i < DOMAIN_BUCKETS; i++)
			for (struct domain *d = dt->by_id[i]; d; d = d->id_next)
				if (d->intro_waiter == c)
					d->intro_waiter = NULL;
}

/* --- the broker's frames ---------------------------------------------------- */

static void reply_error(struct storeproc *sp, struct conn *c, int err)
{
	const char *name = xserr_name(err);

	conn_wait_done(sp, c, XS_ERROR, name, strlen(name) + 1);
}

void domain_ring_result(struct storeproc *sp, const struct ipc_ring_result *res)
{
	struct domain *d = domain_find(&sp->domains, res->domid);
	struct conn *waiter, *c = NULL;
	int err = (int)res->err;

	if (!d || !d->intro_pending) {
		log_warn("RING_RESULT for domain %u, which no INTRODUCE waits for",
			 res->domid);
		if (!err && res->conn)
			(void)ipc_out_send(sp, IPC_RING_UNMAP, res->conn, NULL, 0);
		return;
	}
	waiter = d->intro_waiter;
	d->intro_pending = false;
	d->intro_waiter = NULL;
	if (!err && !res->conn)
		err = EIO;
	if (!err) {
		struct caller who = { d->domid, d->target, false };

		c = conn_new_ring(sp, res->conn, &who);
		if (!c) {
			(void)ipc_out_send(sp, IPC_RING_UNMAP, res->conn, NULL, 0);
			err = ENOMEM;
		}
	}
	if (err) {
		log_info("INTRODUCE of domain %u failed: %s", res->domid,
			 strerror(err));
		domain_forget(&sp->domains, d);
		if (waiter)
			reply_error(sp, waiter, err);
		return;
	}
	d->introduced = true;
	d->shutdown_seen = false;
	d->generation = sp->domains.next_gen++;
	d->conn = c;
	domain_set_ring(&sp->domains, d, res->conn);
	journal_note_domain(sp, d->domid);	/* a reused domid starts afresh */
	log_debug("domain %u introduced on ring conn %u", d->domid, res->conn);
	domain_fire_special(sp, "@introduceDomain");
	if (waiter)
		conn_wait_done(sp, waiter, XS_INTRODUCE, "OK", sizeof("OK"));
}

void domain_ring_announced(struct storeproc *sp, uint32_t ring,
			   const struct ipc_conn_new *cn)
{
	struct domain *d = domain_get(&sp->domains, cn->domid);
	struct caller who;
	struct conn *c;

	if (!d) {
		log_err("ring conn %u: out of memory; not served", ring);
		return;
	}
	if (d->conn) {
		log_warn("domain %u: a second ring (conn %u); the first is dropped",
			 cn->domid, ring);
		conn_close(sp, d->conn, false);
	}
	who.domid = cn->domid;
	who.target = d->target;
	who.priv = cn->access & IPC_ACCESS_PRIV;
	c = conn_new_ring(sp, ring, &who);
	if (!c) {
		if (!d->introduced)
			domain_forget(&sp->domains, d);
		return;
	}
	c->rdonly = cn->access & IPC_ACCESS_RDONLY;
	if (!d->introduced)
		d->generation = sp->domains.next_gen++;
	d->introduced = true;
	d->conn = c;
	domain_set_ring(&sp->domains, d, ring);
	/* After a restart: its target, flags and watches, and which of the
	 * requests given again were applied (journal_io.h). */
	journal_ring_restore(sp, d, c);
	journal_ring_applied(sp, c, cn->ring_pos);
	log_debug("ring conn %u: domain %u%s", ring, cn->domid,
		  who.priv ? " privileged" : "");
}

void domain_ring_gone(struct storeproc *sp, uint32_t ring)
{
	struct domain *d = domain_find_ring(&sp->domains, ring);

	if (!d) {
		log_debug("CONN_GONE for conn %u, which is no ring", ring);
		return;
	}
	/* The broker keeps the broken ring until RING_UNMAP, and the
	 * domain stays introduced: its death is still reported. */
	if (d->conn)
		conn_close(sp, d->conn, false);
}

void domain_state_change(struct storeproc *sp,
			 const struct ipc_domain_state *st, size_t n)
{
	bool notify = false, released = false;

	for (size_t i = 0; i < n; i++) {
		struct domain *d = domain_find(&sp->domains, st[i].domid);

		/* dom0 never goes away under its own store. */
		if (!d || !d->introduced || d->domid == 0)
			continue;
		if (st[i].flags & (IPC_DOM_DYING | IPC_DOM_GONE)) {
			domain_release(sp, d);
			released = true;
		} else if ((st[i].flags & IPC_DOM_SHUTDOWN) && !d->shutdown_seen) {
			d->shutdown_seen = true;
			journal_note_domain(sp, d->domid);
			notify = true;
			fire_release_of(sp, d->domid);
		}
	}
	/* One event a scan; a release already fired its own. */
	if (notify && !released)
		domain_fire_special(sp, "@releaseDomain");
}

/* The store's live connection on ring `ring`, or NULL. */
static struct conn *ring_conn(struct storeproc *sp, uint32_t ring)
{
	struct domain *d = domain_find_ring(&sp->domains, ring);

	return d && d->conn && !d->conn->dead ? d->conn : NULL;
}

int domain_frame(struct storeproc *sp, const struct ipc_msg *msg)
{
	uint32_t len = msg->hdr.len, conn = msg->hdr.conn;
	struct ipc_ring_result res;
	struct conn *c;
	uint32_t n;

	switch (msg->hdr.type) {
	case IPC_CONN_DATA:
		c = ring_conn(sp, conn);
		if (c)
			(void)conn_ring_input(sp, c, msg->payload, len);
		return 0;
	case IPC_CONN_SPACE:
		memcpy(&n, msg->payload, sizeof(n));
		c = ring_conn(sp, conn);
		if (c)
			conn_ring_space(sp, c, n);
		return 0;
	case IPC_CONN_GONE:
		domain_ring_gone(sp, conn);
		return 0;
	case IPC_RING_RESULT:
		memcpy(&res, msg->payload, sizeof(res));
		if (res.pad || (res.err && res.conn) || res.err > 4095)
			return EPROTO;
		domain_ring_result(sp, &res);
		return 0;
	case IPC_DOMAIN_STATE: {
		struct ipc_domain_state st[IPC_PAYLOAD_MAX / sizeof(struct ipc_domain_state)];

		if (len % sizeof(st[0]))
			return EPROTO;
		memcpy(st, msg->payload, len);
		domain_state_change(sp, st, len / sizeof(st[0]));
		return 0;
	}
	default:
		return EPROTO;
	}
}
