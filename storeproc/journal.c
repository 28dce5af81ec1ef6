/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal.c - encoding the committed store as journal records and
 * replaying them with every field checked (journal.h).
 *
 * The replay trusts nothing: the journal was written by a store process
 * that has just died, perhaps because it was compromised, so a record
 * is parsed whole and checked before any of it reaches the store.
 */
#include "journal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "journal_zip.h"
#include "log.h"
#include "path.h"
#include "quota.h"

#define OP_HDR 16u

/* Replay acts as dom0's toolstack: it restores, it is not a client. */
static const struct caller journal_who = {
	.domid = 0, .target = DOMID_NONE, .priv = true,
};

static void ignore_event(void *ctx, const struct store_event *ev)
{
	(void)ctx;
	(void)ev;
}

static const struct store_event_sink no_sink = { ignore_event, NULL };

static uint32_t fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

/* LEB128: 7 bits a byte, low first; a u32 takes 1 to 5 bytes. */
#define UV_MAX 5u

static unsigned char *uv_put(unsigned char *p, uint32_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

/* The previous PUT's perms in the body being built, when known. */
static bool same_perms(const struct perm_list *prev, const struct perm *perms,
		       unsigned int nperms)
{
	return prev && prev->n && prev->n == nperms &&
	       memcmp(prev->e, perms, nperms * sizeof(*perms)) == 0;
}

/*
 * One PUT or RM onto `body`, its path's first `shared` bytes (plen in
 * all) those of the body's previous operation with a path, and a PUT's
 * perms coded as "the same" when they equal `prev_perms`, the perms of
 * the body's last PUT (NULL: not known).  The layout is in journal.h
 * (PUT and RM).
 */
static int op_append_coded(struct buf *body, size_t shared,
			   const struct perm_list *prev_perms, enum journal_op op,
			   const char *path, size_t plen, const struct perm *perms,
			   unsigned int nperms, const void *val, size_t vallen)
{
	size_t rest;
	bool same = op == JOURNAL_PUT && same_perms(prev_perms, perms, nperms);
	unsigned char *p;
	int err;

	if (!plen || plen > JOURNAL_PATH_MAX || shared > plen ||
	    nperms > JOURNAL_PERMS_MAX || vallen > JOURNAL_VALUE_MAX ||
	    (op != JOURNAL_PUT && (nperms || vallen)))
		return EINVAL;
	rest = plen - shared;
	/* Room for the longest coding; the body's length is where it ends. */
	err = buf_reserve(body, 1 + UV_MAX * (4 + 2 * (size_t)nperms) + rest + vallen);
	if (err)
		return err;
	p = (unsigned char *)body->data + body->len;
	*p++ = (unsigned char)(op | (same ? JOURNAL_NODE_SAME : 0));
	p = uv_put(p, (uint32_t)shared);
	p = uv_put(p, (uint32_t)rest);
	if (op == JOURNAL_PUT) {
		p = uv_put(p, (uint32_t)vallen);
		if (!same)
			p = uv_put(p, nperms);
		for (unsigned int i = 0; !same && i < nperms; i++) {
			p = uv_put(p, perms[i].domid);
			p = uv_put(p, perms[i].mode);
		}
	}
	memcpy(p, path + shared, rest);
	if (vallen)
		memcpy(p + rest, val, vallen);
	body->len = (size_t)(p + rest + vallen - (unsigned char *)body->data);
	return 0;
}

/* op_append_coded(), the path front-coded against `prev` (NULL: none,
 * or not known) by comparing them. */
static int op_append_after(struct buf *body, const char *prev,
			   const struct perm_list *prev_perms, enum journal_op op,
			   const char *path, const struct perm *perms,
			   unsigned int nperms, const void *val, size_t vallen)
{
	size_t plen = strlen(path);
	size_t shared = prev ? path_common_prefix(prev, strlen(prev), path, plen) : 0;

	return op_append_coded(body, shared, prev_perms, op, path, plen, perms, nperms,
			       val, vallen);
}

int journal_op_append(struct buf *body, enum journal_op op, const char *path,
		      const struct perm *perms, unsigned int nperms,
		      const void *val, size_t vallen)
{
	return op_append_after(body, NULL, NULL, op, path, perms, nperms, val, vallen);
}

int journal_op_domain(struct buf *body, uint32_t domid, uint32_t target,
		      uint32_t flags, uint32_t txn_next)
{
	uint32_t v[5] = { JOURNAL_DOMAIN, domid, target, flags, txn_next };

	return buf_append(body, v, sizeof(v));
}

int journal_op_quota(struct buf *body, uint32_t domid, uint32_t item, uint32_t val)
{
	uint32_t v[4] = { JOURNAL_QUOTA, domid, item, val };

	return buf_append(body, v, sizeof(v));
}

int journal_op_seen(struct buf *body, uint32_t conn, uint64_t pos)
{
	uint32_t v[4] = { JOURNAL_SEEN, conn, (uint32_t)pos, (uint32_t)(pos >> 32) };

	return buf_append(body, v, sizeof(v));
}

int journal_op_client(struct buf *body, uint32_t conn, uint32_t flags,
		      uint32_t txn_next)
{
	uint32_t v[5] = { JOURNAL_CLIENT, conn, 0, flags, txn_next };

	return buf_append(body, v, sizeof(v));
}

int journal_head(struct buf *out, uint32_t nslots)
{
	uint32_t v[2] = { nslots, 0 };
	int err = buf_reserve(out, JOURNAL_HEAD_LEN(nslots));

	if (!err)
		err = buf_append(out, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN);
	if (!err)
		err = buf_append(out, v, sizeof(v));
	if (!err) {
		memset(out->data + out->len, 0, 8u * (size_t)nslots);
		out->len += 8u * (size_t)nslots;
	}
	return err;
}

static int watch_op(struct buf *body, const char *path, uint32_t flags,
		    const char *token)
{
	size_t plen = strlen(path), tlen = strlen(token);
	uint32_t v[4] = { JOURNAL_WATCH, (uint32_t)plen, (uint32_t)tlen, flags };
	int err;

	if (!plen || plen > JOURNAL_PATH_MAX || tlen > JOURNAL_TOKEN_MAX)
		return EINVAL;
	err = buf_reserve(body, sizeof(v) + plen + tlen);
	if (!err)
		err = buf_append(body, v, sizeof(v));
	if (!err)
		err = buf_append(body, path, plen);
	if (!err && tlen)
		err = buf_append(body, token, tlen);
	return err;
}

int journal_op_watch(struct buf *body, const char *path, bool relative,
		     const char *token)
{
	return watch_op(body, path, relative ? JOURNAL_WATCH_RELATIVE : 0, token);
}

int journal_op_unwatch(struct buf *body, const char *path, const char *token)
{
	return watch_op(body, path, JOURNAL_WATCH_REMOVED, token);
}

/* A PUT of `path` as it is now, front-coded against prev (may be NULL). */
static int put_node(struct store *st, const char *prev, const char *path,
		    struct buf *body)
{
	const void *val = NULL;
	size_t vallen = 0;
	struct perm_list pl;
	/* The perms as the tree holds them: no text round trip. */
	int err = path_is_special(path) ? store_special_perms(st, path, &pl) :
		  store_node_perms(st, path, &pl);

	if (!err && !path_is_special(path))
		err = store_read(st, NULL, &journal_who, path, &val, &vallen);
	if (!err)
		err = op_append_after(body, prev, NULL, JOURNAL_PUT, path, pl.e, pl.n, val,
				      vallen);
	return err;
}

/* Perms lists longer than this are not remembered: they are rare, and
 * each such node is simply coded with its own list. */
#define LAST_PERMS_ROOM 4u

/* The perms of the last PUT in the body being built, for coding the next
 * PUT's as "the same": a domain's nodes mostly share one list. */
struct last_perms {
	struct perm room[LAST_PERMS_ROOM];
	struct perm_list pl;	/* pl.n == 0: not known */
};

static void last_perms_set(struct last_perms *lp, const struct perm_list *pl)
{
	lp->pl.e = lp->room;
	lp->pl.n = pl->n <= LAST_PERMS_ROOM ? pl->n : 0;
	if (lp->pl.n)
		memcpy(lp->room, pl->e, pl->n * sizeof(*pl->e));
}

/* What coding one operation of a change record needs of the operations
 * before it in the body. */
struct note {
	struct buf *body;
	const char *prev;	/* the path of the body's last operation with
				 * one; NULL: there is none */
	size_t prev_len;
	bool first;		/* the walk's first node, which follows prev */
	struct last_perms last;	/* the body's last PUT's perms */
	struct store_cursor cur;	/* where the last path was found */
};

/* Within a walk, the walk says how much of each path the one before it
 * shares (it is an ancestor's): no copy and no comparison.  Its first
 * node follows the previous path noted, mostly a sibling's. */
static int note_node(void *ctx, const char *path, size_t pathlen, size_t shared,
		     const struct perm_list *pl, const void *val, size_t vlen)
{
	struct note *nt = ctx;
	int err;

	if (nt->first && nt->prev)
		shared = path_common_prefix(nt->prev, nt->prev_len, path, pathlen);
	nt->first = false;
	err = op_append_coded(nt->body, shared, &nt->last.pl, JOURNAL_PUT, path,
			      pathlen, pl->e, pl->n, val, vlen);
	if (!err)
		last_perms_set(&nt->last, pl);
	return err;
}

/* One path of journal_note_paths(). */
static int note_path(struct store *st, const char *path, struct note *nt)
{
	size_t before = nt->body->len;
	struct perm_list pl;
	int err;

	if (path_is_special(path)) {
		/* Other "@..." events ("@releaseDomain/<domid>") hold no state. */
		if (store_special_perms(st, path, &pl))
			return 0;
		err = put_node(st, nt->prev, path, nt->body);
		nt->last.pl.n = 0;	/* its perms are not remembered */
	} else {
		nt->first = true;
		err = store_journal_path(st, path, &nt->cur, note_node, nt);
		if (err == ENOENT)
			err = op_append_after(nt->body, nt->prev, NULL, JOURNAL_RM, path,
					      NULL, 0, NULL, 0);
	}
	/* Whatever was put or removed last is the path itself. */
	if (!err && nt->body->len != before) {
		nt->prev = path;
		nt->prev_len = strlen(path);
	}
	return err;
}

int journal_note_paths(struct store *st, const char *paths, size_t len,
		       struct buf *body)
{
	struct note nt = { .body = body };
	int err = 0;

	for (size_t off = 0; !err && off < len; off += strlen(paths + off) + 1)
		err = note_path(st, paths + off, &nt);
	return err;
}

static int record_framed(struct buf *out, const void *body, size_t len, uint32_t flag)
{
	uint32_t hdr[2] = { (uint32_t)len | flag, fnv1a(body, len) };
	int err;

	if (len > JOURNAL_REC_MAX)
		return E2BIG;
	err = buf_reserve(out, sizeof(hdr) + len);
	if (err)
		return err;
	buf_append(out, hdr, sizeof(hdr));
	return buf_append(out, body, len);
}

int journal_record(struct buf *out, const void *body, size_t len)
{
	return record_framed(out, body, len, 0);
}

int journal_record_zipped(struct buf *out, const void *zip, size_t len)
{
	return record_framed(out, zip, len, JOURNAL_REC_ZSTD);
}

int journal_record_chunk(struct buf *out, struct buf *body, bool force)
{
	int err = 0;

	if (body->len && (force || body->len >= JOURNAL_SNAP_CHUNK)) {
		err = journal_record(out, body->data, body->len);
		buf_reset(body);
	}
	return err;
}

int journal_record_in_place(struct buf *rec)
{
	uint32_t hdr[2];
	size_t len;

	if (rec->len < JOURNAL_REC_HDR)
		return EINVAL;
	len = rec->len - JOURNAL_REC_HDR;
	if (len > JOURNAL_REC_MAX)
		return E2BIG;
	hdr[0] = (uint32_t)len;
	hdr[1] = fnv1a(rec->data + JOURNAL_REC_HDR, len);
	memcpy(rec->data, hdr, sizeof(hdr));
	return 0;
}

struct snap {
	struct buf *out, body;
	struct journal_zipper *zip;	/* NULL: records stored plain */
	size_t plain;			/* the bytes out would hold, all plain */
	struct last_perms last;
};

/* A full chunk (or, forced, any) becomes a record; the next node is then
 * coded against nothing, as coding does not cross records. */
static int flush_chunk(struct snap *sn, bool force)
{
	int err = 0;

	if (sn->body.len && (force || sn->body.len >= JOURNAL_SNAP_CHUNK)) {
		sn->plain += JOURNAL_REC_HDR + sn->body.len;
		err = sn->zip ? journal_zip_record(sn->zip, sn->out, sn->body.data,
						   sn->body.len) :
				journal_record(sn->out, sn->body.data, sn->body.len);
		buf_reset(&sn->body);
		sn->last.pl.n = 0;
	}
	return err;
}

/* One node of the walk (store_each_node, pre-order): its PUT, its path
 * coded against the node before, into the chunk being built. */
static int snap_node(void *ctx, const char *path, size_t pathlen, size_t shared,
		     const struct perm_list *pl, const void *val, size_t vlen)
{
	struct snap *sn = ctx;
	int err = op_append_coded(&sn->body, sn->body.len ? shared : 0, &sn->last.pl,
				  JOURNAL_PUT, path, pathlen, pl->e, pl->n, val, vlen);

	if (!err)
		last_perms_set(&sn->last, pl);
	return err ? err : flush_chunk(sn, false);
}

static int snapshot(struct store *st, struct buf *out, struct journal_zipper *zip,
		    size_t *plain)
{
	struct snap sn = { .out = out, .body = BUF_INIT, .zip = zip };
	size_t start = out->len;
	int err = journal_head(out, JOURNAL_CLIENT_SLOTS);

	sn.plain = out->len - start;
	/* Walked by the tree's own links: no lookup by path per node. */
	if (!err)
		err = store_each_node(st, snap_node, &sn);
	if (!err)
		err = put_node(st, NULL, "@introduceDomain", &sn.body);
	if (!err)
		err = put_node(st, NULL, "@releaseDomain", &sn.body);
	if (!err)
		err = flush_chunk(&sn, true);
	buf_free(&sn.body);
	if (plain)
		*plain = sn.plain;
	return err;
}

int journal_snapshot(struct store *st, struct buf *out)
{
	return snapshot(st, out, NULL, NULL);
}

int journal_snapshot_zipped(struct store *st, struct buf *out, size_t *plain)
{
	struct journal_zipper zip;
	int err = journal_zipper_init(&zip);

	if (!err)
		err = snapshot(st, out, &zip, plain);
	journal_zipper_fini(&zip);
	return err;
}

/* One operation, parsed; pointers into the record. */
struct jop {
	uint32_t op, nperms;
	const char *path;	/* NUL-terminated copy in the parse scratch */
	const struct perm *perms; /* in the parse's `perms`, nperms of them */
	const void *val;
	uint32_t vallen;
	/* JOURNAL_DOMAIN; JOURNAL_QUOTA: domid, target = item, flags = value;
	 * JOURNAL_SEEN: domid = conn, target = pos_lo, flags = pos_hi */
	uint32_t domid, target, flags, txn_next;
	/* JOURNAL_WATCH (flags too); the token is not NUL-terminated */
	const char *token;
	uint32_t toklen;
};

/*
 * What parsing a record carries from one operation to the next, and its
 * scratch memory.  Reset at each record: coding never crosses records.
 */
struct jparse {
	bool v2;		/* an LIXSJNL2 journal: the old PUT and RM */
	bool v3;		/* an LIXSJNL3 journal: u32 node op words */
	struct buf path;	/* the last path, NUL-terminated */
	struct buf scratch;	/* path canonicalisation */
	struct buf perms;	/* the last PUT's perms (struct perm) */
	struct buf unzipped;	/* a compressed record's body */
	uint32_t nperms;	/* how many; 0: no PUT yet in the record */
};

static void jparse_reset(struct jparse *px)
{
	buf_reset(&px->path);
	px->nperms = 0;
}

/* What a domain's operations may name (Xen's DOMID_FIRST_RESERVED). */
#define DOMID_LIMIT 0x7ff0u
#define DOMID_NONE_J 0xffffffffu

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Is `path` exactly a canonical absolute path or special name? */
static bool path_ok(const char *path, struct buf *scratch)
{
	if (path_canonicalize(0, path, PATH_ALLOW_SPECIAL, scratch))
		return false;
	return strcmp(scratch->data, path) == 0;
}

/*
 * An operation's path: the first `shared` bytes of the record's previous
 * path (pathbuf's, empty at a record's start) and the `rest` bytes at p,
 * NUL-terminated into pathbuf; it must be exactly a canonical path (or
 * special name).  NULL, or why not.
 */
static const char *take_path(const unsigned char *p, uint32_t shared, uint32_t rest,
			     struct jparse *px)
{
	struct buf *pathbuf = &px->path, *scratch = &px->scratch;

	if (shared > (pathbuf->len ? pathbuf->len - 1 : 0))
		return "shares more than the previous path";
	pathbuf->len = shared;
	if (buf_append(pathbuf, p, rest) || buf_append(pathbuf, "", 1))
		return "out of memory";
	if (memchr(pathbuf->data, '\0', shared + rest) || !path_ok(pathbuf->data, scratch))
		return "invalid path";
	return NULL;
}

/* JOURNAL_DOMAIN and JOURNAL_CLIENT (domid = the connection id). */
static const char *parse_domain(const unsigned char *body, size_t len,
				size_t *off, struct jop *op)
{
	if (len - *off < OP_HDR + 4)
		return "truncated operation";
	op->domid = journal_get_u32(body + *off + 4);
	op->target = journal_get_u32(body + *off + 8);
	op->flags = journal_get_u32(body + *off + 12);
	op->txn_next = journal_get_u32(body + *off + 16);
	if (op->op == JOURNAL_CLIENT) {
		/* The broker's socket ids: 1 .. 2^31 - 1 (broker/xen.h). */
		if (!op->domid || op->domid >= 0x80000000u || op->target ||
		    op->flags & ~(JOURNAL_CLIENT_GONE | JOURNAL_CLIENT_RESET))
			return "invalid client";
		*off += OP_HDR + 4;
		return NULL;
	}
	if (op->domid >= DOMID_LIMIT ||
	    (op->target != DOMID_NONE_J && op->target >= DOMID_LIMIT) ||
	    op->flags & ~(JOURNAL_DOM_SHUTDOWN_SEEN | JOURNAL_DOM_GONE))
		return "invalid domain";
	*off += OP_HDR + 4;
	return NULL;
}

/* JOURNAL_QUOTA and JOURNAL_SEEN: three u32 after the op. */
static const char *parse_fixed(const unsigned char *body, size_t len,
			       size_t *off, struct jop *op)
{
	if (len - *off < OP_HDR)
		return "truncated operation";
	op->domid = journal_get_u32(body + *off + 4);
	op->target = journal_get_u32(body + *off + 8);
	op->flags = journal_get_u32(body + *off + 12);
	if (op->op == JOURNAL_SEEN ? !op->domid :
	    ((op->domid >= DOMID_LIMIT && op->domid != JOURNAL_GLOBAL) ||
	     op->target >= QUOTA_LIMITS))
		return op->op == JOURNAL_SEEN ? "invalid ring request" : "invalid quota";
	*off += OP_HDR;
	return NULL;
}

static const char *parse_watch(const unsigned char *body, size_t len,
			       size_t *off, struct jop *op, struct jparse *px)
{
	uint32_t field = journal_get_u32(body + *off + 4);
	uint32_t shared = field >> JOURNAL_SHARED_SHIFT, rest = field & JOURNAL_REST_MASK;
	const char *why;

	op->toklen = journal_get_u32(body + *off + 8);
	op->flags = journal_get_u32(body + *off + 12);
	if (!(shared + rest) || shared + rest > JOURNAL_PATH_MAX ||
	    op->toklen > JOURNAL_TOKEN_MAX ||
	    op->flags & ~(JOURNAL_WATCH_RELATIVE | JOURNAL_WATCH_REMOVED))
		return "field out of bounds";
	if (len - *off - OP_HDR < (size_t)rest + op->toklen)
		return "operation overruns its record";
	why = take_path(body + *off + OP_HDR, shared, rest, px);
	if (why)
		return why;
	op->token = (const char *)body + *off + OP_HDR + rest;
	if (memchr(op->token, '\0', op->toklen))
		return "invalid token";
	*off += OP_HDR + (size_t)rest + op->toklen;
	return NULL;
}

/* The node operations' common checks, once their fields are read and
 * the caller has checked that the path's `rest` bytes at body + at are
 * inside the record. */
static const char *node_checks(const unsigned char *body, size_t at,
			       uint32_t shared, uint32_t rest, struct jop *op,
			       struct jparse *px)
{
	const char *why;

	if (op->op == JOURNAL_PUT ? op->nperms == 0 : op->nperms || op->vallen)
		return "operation with wrong fields";
	why = take_path(body + at, shared, rest, px);
	if (why)
		return why;
	if (op->op == JOURNAL_RM && (path_is_special(px->path.data) ||
				     strcmp(px->path.data, "/") == 0))
		return "invalid path for RM";
	if (path_is_special(px->path.data) && op->vallen)
		return "value for a special node";
	return NULL;
}

static bool fields_ok(uint32_t shared, uint32_t rest, const struct jop *op)
{
	return shared + rest && shared + rest <= JOURNAL_PATH_MAX &&
	       op->nperms <= JOURNAL_PERMS_MAX && op->vallen <= JOURNAL_VALUE_MAX;
}

/* One perms entry, checked, onto the parse's perms. */
static const char *take_perm(struct jparse *px, uint32_t domid, uint32_t mode)
{
	struct perm e = { domid, mode };

	if (mode & ~PERM_BOTH || domid > 0xffff)
		return "invalid permission";
	return buf_append(&px->perms, &e, sizeof(e)) ? "out of memory" : NULL;
}

/* A PUT or RM of an LIXSJNL2 journal: u32 op, u32 shared << 16 | rest,
 * u32 nperms, u32 vallen, path, nperms x { u32 domid, u32 mode }, value. */
static const char *parse_node_v2(const unsigned char *body, size_t len, size_t *off,
				 struct jop *op, struct jparse *px)
{
	size_t at = *off + OP_HDR;
	uint32_t rest, shared;
	const unsigned char *pe;
	const char *why;

	if (len - *off < OP_HDR)
		return "truncated operation";
	rest = journal_get_u32(body + *off + 4);
	shared = rest >> JOURNAL_SHARED_SHIFT;
	rest &= JOURNAL_REST_MASK;
	op->nperms = journal_get_u32(body + *off + 8);
	op->vallen = journal_get_u32(body + *off + 12);
	if (!fields_ok(shared, rest, op))
		return "field out of bounds";
	if (len - at < (size_t)rest + op->nperms * 8u + op->vallen)
		return "operation overruns its record";
	why = node_checks(body, at, shared, rest, op, px);
	pe = body + at + rest;
	if (!why && op->op == JOURNAL_PUT)
		buf_reset(&px->perms);
	for (uint32_t i = 0; i < op->nperms && !why; i++)
		why = take_perm(px, journal_get_u32(pe + i * 8u), journal_get_u32(pe + i * 8u + 4));
	if (why)
		return why;
	op->val = pe + op->nperms * 8u;
	*off = at + rest + (size_t)op->nperms * 8u + op->vallen;
	return NULL;
}

/* A LEB128 u32 at body[*off..len) (at most 5 bytes); false if cut short
 * or too big. */
static bool uv_get(const unsigned char *body, size_t len, size_t *off, uint32_t *v)
{
	uint64_t x = 0;

	for (unsigned int i = 0; i < 5; i++) {
		unsigned char byte;

		if (*off >= len)
			return false;
		byte = body[(*off)++];
		x |= (uint64_t)(byte & 0x7f) << (7 * i);
		if (!(byte & 0x80)) {
			*v = (uint32_t)x;
			return x <= UINT32_MAX;
		}
	}
	return false;
}

/* A PUT or RM (journal.h): its op byte or word (hdr bytes, saying
 * whether its perms are the same as before), LEB128 fields, path,
 * value. */
static const char *parse_node(const unsigned char *body, size_t len, size_t *off,
			      struct jop *op, size_t hdr, bool same,
			      struct jparse *px)
{
	uint32_t shared, rest;
	size_t at = *off + hdr;
	const char *why = NULL;

	op->nperms = op->vallen = 0;
	if (same && op->op != JOURNAL_PUT)
		return "operation with wrong fields";
	if (!uv_get(body, len, &at, &shared) || !uv_get(body, len, &at, &rest))
		return "truncated operation";
	if (op->op == JOURNAL_PUT && !uv_get(body, len, &at, &op->vallen))
		return "truncated operation";
	if (same && !px->nperms)
		return "same perms as no earlier PUT";
	if (same)
		op->nperms = px->nperms;
	else if (op->op == JOURNAL_PUT && !uv_get(body, len, &at, &op->nperms))
		return "truncated operation";
	if (!fields_ok(shared, rest, op))
		return "field out of bounds";
	if (!same && op->op == JOURNAL_PUT) {
		buf_reset(&px->perms);
		for (uint32_t i = 0; i < op->nperms && !why; i++) {
			uint32_t domid, mode;

			if (!uv_get(body, len, &at, &domid) || !uv_get(body, len, &at, &mode))
				return "truncated operation";
			why = take_perm(px, domid, mode);
		}
		if (why)
			return why;
	}
	if (len - at < (size_t)rest + op->vallen)
		return "operation overruns its record";
	why = node_checks(body, at, shared, rest, op, px);
	if (why)
		return why;
	op->val = body + at + rest;
	*off = at + rest + op->vallen;
	return NULL;
}

static bool is_node_op(uint32_t op)
{
	return op == JOURNAL_PUT || op == JOURNAL_RM;
}

/* After a PUT or RM: the record's last perms, and op's view of them. */
static const char *node_parsed(struct jop *op, struct jparse *px,
			       const char *why)
{
	if (!why && op->op == JOURNAL_PUT)
		px->nperms = op->nperms;
	op->perms = (const struct perm *)px->perms.data;
	return why;
}

/*
 * Parse op at body[*off..len); the path is copied NUL-terminated into
 * the parse's path.  NULL on success, else why the record is bad.
 */
static const char *parse_op(const unsigned char *body, size_t len, size_t *off,
			    struct jop *op, struct jparse *px)
{
	unsigned char byte;
	uint32_t word;
	const char *why;

	if (len - *off < 1)
		return "truncated operation";
	byte = body[*off];
	if (!px->v2 && !px->v3 && is_node_op(byte & ~JOURNAL_NODE_SAME)) {
		op->op = byte & ~JOURNAL_NODE_SAME;
		why = parse_node(body, len, off, op, 1, byte & JOURNAL_NODE_SAME, px);
		return node_parsed(op, px, why);
	}
	if (len - *off < sizeof(word))
		return "truncated operation";
	word = journal_get_u32(body + *off);
	op->op = word & 0xffu;
	if (is_node_op(op->op)) {
		/* In an op word: LIXSJNL4 never, LIXSJNL2 without flags,
		 * LIXSJNL3 with JOURNAL_SAME_PERMS only. */
		if ((!px->v2 && !px->v3) || (px->v2 && word != op->op))
			return "unknown operation";
		if (px->v3 && word & ~(0xffu | JOURNAL_SAME_PERMS))
			return "operation with wrong fields";
		why = px->v2 ? parse_node_v2(body, len, off, op, px) :
			       parse_node(body, len, off, op, sizeof(word),
					  word & JOURNAL_SAME_PERMS, px);
		return node_parsed(op, px, why);
	}
	op->op = word;
	if (len - *off < OP_HDR)
		return "truncated operation";
	if (op->op == JOURNAL_DOMAIN || op->op == JOURNAL_CLIENT)
		return parse_domain(body, len, off, op);
	if (op->op == JOURNAL_WATCH)
		return parse_watch(body, len, off, op, px);
	if (op->op == JOURNAL_QUOTA || op->op == JOURNAL_SEEN)
		return parse_fixed(body, len, off, op);
	return "unknown operation";
}

/* A whole record's body: NULL if every operation parses, else why not. */
static const char *check_body(const unsigned char *body, size_t len,
			      struct jparse *px)
{
	size_t off = 0;
	struct jop op;
	bool domain = false;
	bool client = false;

	if (!len)
		return "empty record";
	jparse_reset(px);	/* coding does not cross records */
	while (off < len) {
		const char *why = parse_op(body, len, &off, &op, px);

		if (why)
			return why;
		if (op.op == JOURNAL_DOMAIN || op.op == JOURNAL_CLIENT)
			domain = !(op.flags & JOURNAL_DOM_GONE);
		else if (op.op == JOURNAL_WATCH && !domain)
			return "watch without its domain";
		else if (op.op == JOURNAL_WATCH && op.flags & JOURNAL_WATCH_REMOVED &&
			 !client)
			return "watch removal outside a client";
		if (op.op == JOURNAL_DOMAIN || op.op == JOURNAL_CLIENT)
			client = op.op == JOURNAL_CLIENT;
	}
	return NULL;
}

static int apply_op(struct store *st, const struct jop *op)
{
	int err = 0;

	if (op->op == JOURNAL_RM) {
		err = store_rm(st, NULL, &journal_who, op->path, &no_sink);
		/* Already gone with its parent: the state asked for holds. */
		return err == ENOENT ? 0 : err;
	}
	if (!path_is_special(op->path))
		err = store_write(st, NULL, &journal_who, op->path, op->val,
				  op->vallen, &no_sink);
	if (!err)
		err = store_set_perms(st, NULL, &journal_who, op->path, op->perms,
				      op->nperms, &no_sink);
	return err;
}

struct journal_ring *journal_rings_find(struct journal_rings *r, uint32_t domid)
{
	for (size_t i = 0; i < r->n; i++)
		if (!r->v[i].client && r->v[i].domid == domid)
			return &r->v[i];
	return NULL;
}

struct journal_ring *journal_clients_find(struct journal_rings *r, uint32_t conn)
{
	for (size_t i = 0; conn && i < r->n; i++)
		if (r->v[i].client == conn)
			return &r->v[i];
	return NULL;
}

void journal_rings_forget(struct journal_rings *r, struct journal_ring *e)
{
	if (!e)
		return;
	buf_free(&e->watches);
	*e = r->v[--r->n];
}

void journal_rings_drop(struct journal_rings *r, uint32_t domid)
{
	journal_rings_forget(r, journal_rings_find(r, domid));
}

void journal_rings_free(struct journal_rings *r)
{
	for (size_t i = 0; i < r->n; i++)
		buf_free(&r->v[i].watches);
	free(r->v);
	buf_free(&r->quotas);
	buf_free(&r->seen);
	buf_free(&r->client_states);
	memset(r, 0, sizeof(*r));
}

/* JOURNAL_DOMAIN: domid's entry, reset to the operation's state.
 * JOURNAL_CLIENT: the connection's, its watch list kept unless RESET. */
static int apply_domain(struct journal_rings *r, const struct jop *op,
			struct journal_ring **cur)
{
	bool client = op->op == JOURNAL_CLIENT;
	struct journal_ring *e = client ? journal_clients_find(r, op->domid) :
				 journal_rings_find(r, op->domid);

	*cur = NULL;
	if (op->flags & JOURNAL_DOM_GONE) {
		journal_rings_forget(r, e);
		return 0;
	}
	if (e && client) {
		if (op->flags & JOURNAL_CLIENT_RESET)
			buf_reset(&e->watches);
		e->txn_next = op->txn_next;
		*cur = e;
		return 0;
	}
	if (!e) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 16;
			struct journal_ring *v = realloc(r->v, cap * sizeof(*v));

			if (!v)
				return ENOMEM;
			r->v = v;
			r->cap = cap;
		}
		e = &r->v[r->n++];
		memset(e, 0, sizeof(*e));
	}
	buf_reset(&e->watches);
	e->client = client ? op->domid : 0;
	e->domid = client ? 0 : op->domid;
	e->target = client ? DOMID_NONE_J : op->target;
	e->flags = client ? 0 : op->flags;
	e->txn_next = op->txn_next;
	*cur = e;
	return 0;
}

/* JOURNAL_QUOTA and JOURNAL_SEEN: kept for the caller, which owns the
 * quota table and the connections. */
static int apply_kept(struct journal_rings *r, const struct jop *op)
{
	uint32_t v[3] = { op->domid, op->target, op->flags };

	return buf_append(op->op == JOURNAL_SEEN ? &r->seen : &r->quotas, v, sizeof(v));
}

static int apply_watch(struct journal_ring *e, const struct jop *op)
{
	char rel = op->flags & JOURNAL_WATCH_REMOVED ? '-' :
		   op->flags & JOURNAL_WATCH_RELATIVE ? '1' : '0';
	int err = buf_append(&e->watches, &rel, 1);

	if (!err)
		err = buf_append_str0(&e->watches, op->path);
	if (!err)
		err = buf_append(&e->watches, op->token, op->toklen);
	if (!err)
		err = buf_append(&e->watches, "", 1);
	return err;
}

static int apply_body(struct store *st, const unsigned char *body, size_t len,
		      struct jparse *px, size_t *nops, struct journal_rings *rings)
{
	struct journal_ring *cur = NULL;
	size_t off = 0;
	struct jop op;
	int err = 0;

	jparse_reset(px);
	while (!err && off < len) {
		if (parse_op(body, len, &off, &op, px))
			return EINVAL;	/* check_body passed it: cannot happen */
		op.path = px->path.data;
		if (op.op == JOURNAL_DOMAIN || op.op == JOURNAL_CLIENT)
			err = rings ? apply_domain(rings, &op, &cur) : 0;
		else if (op.op == JOURNAL_QUOTA || op.op == JOURNAL_SEEN)
			err = rings ? apply_kept(rings, &op) : 0;
		else if (op.op == JOURNAL_WATCH)
			err = cur ? apply_watch(cur, &op) : 0;
		else
			err = apply_op(st, &op);
		if (!err)
			(*nops)++;
	}
	return err;
}

int journal_replay(struct store *st, const void *data, size_t len,
		   struct journal_replay_stats *stats)
{
	return journal_replay_rings(st, data, len, stats, NULL);
}

int journal_replay_rings(struct store *st, const void *data, size_t len,
			 struct journal_replay_stats *stats,
			 struct journal_rings *rings)
{
	const unsigned char *p = data;
	struct jparse px = { .path = BUF_INIT, .scratch = BUF_INIT, .perms = BUF_INIT,
			     .unzipped = BUF_INIT };
	uint32_t nslots = len >= JOURNAL_HEAD_FIXED ? journal_get_u32(p + JOURNAL_MAGIC_LEN) : 0;
	size_t off = JOURNAL_HEAD_LEN(nslots);
	int err = 0;

	memset(stats, 0, sizeof(*stats));
	/* LIXSJNL2 and 3, the layouts before, are read too: a store process
	 * crashed after an upgrade is replaced by the new binary, with the
	 * old one's journal. */
	px.v2 = len >= JOURNAL_HEAD_FIXED && !memcmp(p, JOURNAL_MAGIC_V2, JOURNAL_MAGIC_LEN);
	px.v3 = len >= JOURNAL_HEAD_FIXED && !memcmp(p, JOURNAL_MAGIC_V3, JOURNAL_MAGIC_LEN);
	if (len < JOURNAL_HEAD_FIXED ||
	    (memcmp(p, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN) &&
	     memcmp(p, JOURNAL_MAGIC_V4, JOURNAL_MAGIC_LEN) && !px.v2 && !px.v3) ||
	    nslots > JOURNAL_CLIENT_SLOTS || len < off) {
		stats->bad_bytes = len;
		stats->why = "no journal magic and client table";
		return EINVAL;
	}
	/* The table only says what may be resumed: any value is harmless. */
	for (uint32_t i = 0; rings && i < nslots && !err; i++)
		if (journal_get_u32(p + JOURNAL_HEAD_FIXED + 8u * i))
			err = buf_append(&rings->client_states, p + JOURNAL_HEAD_FIXED + 8u * i, 8);
	stats->good_bytes = off;
	while (!err && off < len) {
		uint32_t rlen, check;
		const unsigned char *body;
		size_t blen;
		bool zipped;

		if (len - off < JOURNAL_REC_HDR || !journal_get_u32(p + off)) {
			/* No length (yet): the end of the records (journal.h). */
			if (all_zero(p + off, len - off))
				stats->spare_bytes = len - off;
			else if (len - off < JOURNAL_REC_HDR)
				stats->why = "truncated record header";
			else
				stats->why = "unfinished record (no length)";
			break;
		}
		rlen = journal_get_u32(p + off) & ~JOURNAL_REC_ZSTD;
		check = journal_get_u32(p + off + 4);
		if (rlen > JOURNAL_REC_MAX || len - off - JOURNAL_REC_HDR < rlen) {
			stats->why = "truncated or oversized record";
			break;
		}
		if (fnv1a(p + off + JOURNAL_REC_HDR, rlen) != check) {
			stats->why = "record check mismatch";
			break;
		}
		body = p + off + JOURNAL_REC_HDR;
		blen = rlen;
		zipped = journal_get_u32(p + off) & JOURNAL_REC_ZSTD;
		if (zipped) {
			err = journal_unzip(body, rlen, &px.unzipped);
			if (err == EINVAL) {
				stats->why = "bad compressed record";
				err = 0;
			}
			if (err || stats->why)
				break;
			body = (const unsigned char *)px.unzipped.data;
			blen = px.unzipped.len;
		}
		stats->why = check_body(body, blen, &px);
		if (stats->why)
			break;
		err = apply_body(st, body, blen, &px, &stats->ops, rings);
		if (err == ENOMEM)
			break;
		if (err) {
			/* The store refused a well-formed operation: stop here. */
			stats->why = "operation refused by the store";
			err = 0;
			break;
		}
		off += JOURNAL_REC_HDR + rlen;
		stats->records++;
		stats->zipped += zipped;
		stats->good_bytes = off;
	}
	stats->bad_bytes = len - stats->good_bytes - stats->spare_bytes;
	buf_free(&px.path);
	buf_free(&px.scratch);
	buf_free(&px.perms);
	buf_free(&px.unzipped);
	return err;
}
