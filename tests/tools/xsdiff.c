/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xsdiff.c - a differential tester: the same seeded random requests to
 * lixs and to a reference daemon (cxenstored 4.17), every reply, watch
 * event and, at the end, the whole tree compared.
 *
 *   xsdiff -L LIXS_SOCKET -R REFERENCE_SOCKET [-s SEED] [-n STEPS]
 *          [-c CONNS] [-t SECONDS] [-v]
 *          [-l LIXS_XENSIM_DIR -r REFERENCE_XENSIM_DIR -g DOMID...]
 *
 * CONNS (default 3) privileged unix connections; with -g, also the ring of
 * each guest DOMID (up to 4), attached on each daemon's own simulated host
 * (tests/xensim: -l and -r name them; the caller creates the domains and
 * INTRODUCEs them to both daemons, tests/bats/differential.bats).
 *
 * Each step sends one request on one of the connections to both daemons,
 * reads each daemon's reply, then sends a sync request (a
 * READ of /xsdiff-sync) on every connection, so that the watch events a
 * step caused arrive, in order, before that sync reply on both.  The
 * step's transcript (every message received, as xsraw prints them) must be
 * the same for both daemons once these are put aside:
 *
 *  - a transaction id is each daemon's own: TRANSACTION_START's reply is
 *    printed as T, and the tx field of a reply as the slot (1-3) the
 *    connection keeps that transaction in;
 *  - DIRECTORY_PART's leading generation is each daemon's own counter
 *    (docs/COMPATIBILITY.md), printed as GEN;
 *  - lixs's conflicts are finer: a commit lixs accepts where the reference
 *    answers EAGAIN makes the two trees differ on purpose, so there every
 *    connection is closed and both trees are reset (as at the start), and
 *    the run goes on.  The opposite is a mismatch.
 *
 * At the end both trees are listed (DIRECTORY, READ, GET_PERMS from /,
 * depth first) and compared.  INTRODUCE, RELEASE and RESUME are left
 * out: they would take a guest's ring away in the middle of a run, and on
 * ../shared/peers' stand-in, where every domid exists and none dies, the
 * reference's answers are the stand-in's (conformance_domains.bats has
 * them, recorded with only dom0 present).  SET_TARGET is in.  Also left
 * out are malformed one-path requests (no NUL, a second string), SET_PERMS
 * of an unknown @name, and a guest's SET_PERMS of a special name: 4.17
 * answers them with whatever errno was left over, and after some sequences
 * aborts on them (assertion `conn->in == NULL' in consider_message);
 * wire_bytes.bats has them.
 * Within a transaction the reference answered EIO in (seen when the
 * transaction's copy of a directory names children deleted outside it;
 * 4.17 then fails the commit with EAGAIN), replies are not compared until
 * it ends; should lixs commit it, the trees are reset as above.  lixs must
 * end it where the reference does: at a TRANSACTION_END of "T" or "F"
 * (any other argument ends it on neither), with OK, EAGAIN, or ENOMEM
 * for a transaction that failed (4.17's trans->fail: an access it could
 * not record, its node quota).
 *
 * Exit status: 0 the same, 1 system error (connect, timeout), 2 usage,
 * 6 a difference (the steps so far and both transcripts are printed).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "guestring.h"
#include "unix_connect.h"
#include "xs_text.h"

#define HDR 16u
#define BODY_MAX 65536u
#define MAX_UNIX 8
#define MAX_GUESTS 4
#define MAX_CONN (MAX_UNIX + MAX_GUESTS)
#define TX_SLOTS 3
/* A tx id neither daemon hands out in a short run. */
#define TX_BOGUS 0x7fff0001u

enum { EXIT_SAME = 0, EXIT_SYS = 1, EXIT_USAGE = 2, EXIT_DIFF = 6 };

/* One connection to one daemon: a unix socket, or a guest's ring. */
struct link {
	int fd;                         /* unix: -1 closed; owned here */
	struct gring *g;                /* a guest's ring (owned), else NULL */
	uint32_t tx[TX_SLOTS + 1];      /* slot -> this daemon's id, 0 free */
};

/* One daemon: its socket, simulated host and connections. */
struct side {
	const char *name, *path;
	const char *xen;                /* its XENSIM_DIR, for guests */
	struct link conn[MAX_CONN];
	char *text;                     /* this step's transcript (open_memstream) */
	size_t text_len;
	FILE *out;
};

/* One generated request, the same for both daemons but for its tx. */
struct req {
	uint32_t type;
	int conn;
	int slot;                       /* 0 none, 1..TX_SLOTS, -1 bogus id */
	uint32_t len;
	uint8_t body[BODY_MAX];
};

/* The whole state of one run. */
struct xsdiff {
	struct side side[2];            /* [0] lixs, [1] the reference */
	int nconn, timeout_ms;          /* unix connections, then guests */
	int nguest;
	uint32_t guest[MAX_GUESTS];     /* their domids */
	bool verbose;
	uint64_t rng;
	uint32_t next_req;
	bool doomed[MAX_CONN][TX_SLOTS + 1];  /* replies there not compared */
	unsigned resets;                /* after a finer-conflict commit */
	unsigned uncompared;            /* replies in a transaction gone EIO */
	FILE *log;                      /* every step, printed on a difference */
	char *log_text;
	size_t log_len;
};

static uint32_t rnd(struct xsdiff *d, uint32_t n)
{
	/* xorshift64*: reproducible from the seed alone. */
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return (uint32_t)((d->rng * 0x2545F4914F6CDD1DULL) >> 33) % n;
}

static const char *pick(struct xsdiff *d, const char *const *v, uint32_t n)
{
	return v[rnd(d, n)];
}

#define PICK(d, v) pick((d), (v), sizeof(v) / sizeof((v)[0]))

/* ---------------------------------------------------------------- wire */

/* A ring is either way "closed" when its indexes go bad (the daemon
 * gave up on it); it is waited on only by its event channel. */
static int ring_send(struct gring *g, const uint8_t *p, size_t n, int timeout_ms)
{
	while (n) {
		long k = gring_write(g, p, n);

		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
		if (n && gring_wait(g, timeout_ms))
			return -1;
	}
	return 0;
}

static int ring_recv(struct gring *g, uint8_t *p, size_t n, int timeout_ms)
{
	while (n) {
		long k = gring_read(g, p, n);

		if (k < 0)
			return 1;
		p += k;
		n -= (size_t)k;
		if (n && k == 0 && gring_wait(g, timeout_ms))
			return -1;
	}
	return 0;
}

static int send_all(const struct link *l, const uint8_t *p, size_t n, int timeout_ms)
{
	if (l->g)
		return ring_send(l->g, p, n, timeout_ms);
	while (n) {
		ssize_t k = send(l->fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read exactly n bytes: 0, 1 on EOF (or reset), -1 on timeout. */
static int recv_all(const struct link *l, uint8_t *p, size_t n, int timeout_ms)
{
	if (l->g)
		return ring_recv(l->g, p, n, timeout_ms);
	while (n) {
		struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
		ssize_t k;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		k = recv(l->fd, p, n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return 1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

struct msg {
	struct xsd_sockmsg h;
	uint8_t body[BODY_MAX + 1];
};

/* 0 a message, 1 EOF, -1 timeout or a length no daemon may send. */
static int recv_msg(const struct link *l, struct msg *m, int timeout_ms)
{
	int r = recv_all(l, (uint8_t *)&m->h, HDR, timeout_ms);

	if (r)
		return r;
	if (m->h.len > BODY_MAX)
		return -1;
	r = recv_all(l, m->body, m->h.len, timeout_ms);
	m->body[m->h.len] = 0;
	return r;
}

/* ---------------------------------------------------------- transcript */

static void side_begin(struct side *s)
{
	free(s->text);
	s->text = NULL;
	s->out = open_memstream(&s->text, &s->text_len);
}

static void side_end(struct side *s)
{
	fclose(s->out);
	s->out = NULL;
}

/* Print m as xsraw does, with this daemon's own numbers put aside. */
static void print_norm(struct side *s, const struct link *l, const struct msg *m)
{
	uint32_t tx = m->h.tx_id;
	const uint8_t *body = m->body;
	uint32_t len = m->h.len;
	int slot;

	for (slot = 1; tx && slot <= TX_SLOTS; slot++) {
		if (l->tx[slot] == tx) {
			tx = (uint32_t)slot;
			break;
		}
	}
	if (m->h.type == XS_DIRECTORY_PART) {
		const uint8_t *nul = memchr(body, 0, len);

		if (nul) {
			fprintf(s->out, "DIRECTORY_PART req=%" PRIu32 " tx=%" PRIu32
				" GEN", m->h.req_id, tx);
			xs_print_escaped(s->out, nul, len - (uint32_t)(nul - body));
			putc('\n', s->out);
			return;
		}
	}
	if (m->h.type == XS_TRANSACTION_START) {
		xs_print_msg(s->out, m->h.type, m->h.req_id, tx, (const uint8_t *)"T", 1);
		return;
	}
	xs_print_msg(s->out, m->h.type, m->h.req_id, tx, body, len);
}

/* ------------------------------------------------------------ requests */

static void put(struct req *r, const void *p, size_t n)
{
	if (r->len + n > sizeof(r->body))
		n = sizeof(r->body) - r->len;
	memcpy(r->body + r->len, p, n);
	r->len += (uint32_t)n;
}

static void put_str(struct req *r, const char *s)
{
	put(r, s, strlen(s) + 1);
}

/* A path: mostly small trees under /d, some relative, some invalid. */
static void gen_path(struct xsdiff *d, char *out, size_t cap)
{
	static const char *const comp[] = { "a", "b", "c" };
	static const char *const odd[] = {
		"/d/", "//d", "/d//a", "/d/a b", "", "/d/\x01", "d/", "/d/a/",
		"/tool/xenstored", "/tool", "/local/domain/0", "/local",
		"@introduceDomain", "@releaseDomain", "@other", "/d/A-_@9",
	};
	uint32_t r = rnd(d, 100), k, i;

	out[0] = 0;
	if (r < 65) {
		snprintf(out, cap, "/d");
		for (k = rnd(d, 4), i = 0; i < k; i++) {
			strncat(out, "/", cap - strlen(out) - 1);
			strncat(out, PICK(d, comp), cap - strlen(out) - 1);
		}
	} else if (r < 78) {
		snprintf(out, cap, "%s", rnd(d, 2) ? "x" : "y");
		if (rnd(d, 2))
			strncat(out, rnd(d, 2) ? "/a" : "/b", cap - strlen(out) - 1);
	} else if (r < 82) {
		snprintf(out, cap, "/");
	} else if (r < 97) {
		snprintf(out, cap, "%s", PICK(d, odd));
	} else {
		/* Around the length limits (3072 absolute, 2048 relative). */
		bool rel = rnd(d, 2);
		size_t n = (rel ? 2040 : 3064) + rnd(d, 16), at;

		if (n >= cap)
			n = cap - 1;
		memset(out, 'p', n);
		out[n] = 0;
		if (!rel)
			memcpy(out, "/d/", 3);
		for (at = rel ? 100 : 103; at < n; at += 100)
			out[at] = '/';
		if (out[n - 1] == '/')
			out[n - 1] = 'q';
	}
}

static void gen_value(struct xsdiff *d, struct req *r, bool oversize)
{
	static const char *const v[] = { "", "v", "0", "1", "value with spaces" };
	uint32_t k = rnd(d, 10), n, i;
	uint8_t b[BODY_MAX];

	if (k < 6) {
		const char *s = PICK(d, v);

		put(r, s, strlen(s));
		return;
	}
	if (k < 9)
		n = 1 + rnd(d, 24);
	else  /* up to (and, when allowed, just past) the 4096-byte payload */
		n = 4096 - r->len - 2 + rnd(d, oversize ? 5 : 3);
	for (i = 0; i < n && i < sizeof(b); i++)
		b[i] = (uint8_t)(k == 9 ? 'z' : rnd(d, 256));
	put(r, b, i);
}

/* A marker type: close the connection on both daemons (not sent). */
#define OP_CLOSE 0xffffffffu

/* Slot s of connection conn holds a transaction open on both daemons. */
static bool slot_open(const struct xsdiff *d, int conn, int s)
{
	return d->side[0].conn[conn].tx[s] && d->side[1].conn[conn].tx[s];
}

static int free_slot(const struct xsdiff *d, int conn)
{
	for (int s = 1; s <= TX_SLOTS; s++)
		if (!slot_open(d, conn, s))
			return s;
	return 0;
}

static int used_slot(struct xsdiff *d, int conn)
{
	int have[TX_SLOTS], n = 0;

	for (int s = 1; s <= TX_SLOTS; s++)
		if (slot_open(d, conn, s))
			have[n++] = s;
	return n ? have[rnd(d, (uint32_t)n)] : 0;
}

static void gen_perms(struct xsdiff *d, struct req *r)
{
	static const char *const e[] = {
		"n0", "r1", "w2", "b3", "n5", "r0", "b0", "w1", "x1", "n",
		"rx", "@foo", "w65535", "n65536", "r-1", "b1 ",
	};
	uint32_t k = 1 + rnd(d, 3);

	while (k--)
		put_str(r, PICK(d, e));
}

static const char *gen_domid(struct xsdiff *d)
{
	static const char *const ids[] = {
		"1", "2", "3", "1", "2", "0", "7", "x", "", "65535", "-1", "1a",
	};

	return PICK(d, ids);
}

static void gen_request(struct xsdiff *d, struct req *r)
{
	static const uint32_t pool[] = {
		XS_READ, XS_READ, XS_READ, XS_WRITE, XS_WRITE, XS_WRITE, XS_WRITE,
		XS_MKDIR, XS_RM, XS_RM, XS_DIRECTORY, XS_DIRECTORY,
		XS_DIRECTORY_PART, XS_GET_PERMS, XS_SET_PERMS, XS_SET_PERMS,
		XS_WATCH, XS_WATCH, XS_UNWATCH, XS_TRANSACTION_START,
		XS_TRANSACTION_START, XS_TRANSACTION_END, XS_TRANSACTION_END,
		XS_RESET_WATCHES, XS_GET_DOMAIN_PATH, XS_IS_DOMAIN_INTRODUCED,
		XS_SET_TARGET, OP_CLOSE, 20 /* RESTRICT, gone */, 27, 100,
	};
	static const char *const tokens[] = { "t1", "t2", "", "tok en" };
	static const char *const ends[] = { "T", "T", "T", "F", "X", "" };
	static const char *const offs[] = { "0", "0", "1", "2", "5", "x", "" };
	char path[3200];
	uint32_t k = rnd(d, 100);

	memset(r, 0, offsetof(struct req, body));
	r->conn = (int)rnd(d, (uint32_t)(d->nconn + d->nguest));
	r->type = pool[rnd(d, sizeof(pool) / sizeof(pool[0]))];
	/* A guest cannot hang up; RESET_WATCHES is its nearest thing. */
	if (r->type == OP_CLOSE && r->conn >= d->nconn)
		r->type = XS_RESET_WATCHES;
	/* In an open transaction now and then, rarely in one neither has. */
	if (k < 35)
		r->slot = used_slot(d, r->conn);
	else if (k < 37)
		r->slot = -1;
	gen_path(d, path, sizeof(path));
	switch (r->type) {
	case XS_READ: case XS_DIRECTORY: case XS_GET_PERMS: case XS_MKDIR: case XS_RM:
		put_str(r, path);
		break;
	case XS_WRITE:
		put_str(r, path);
		/* Past 4,096 bytes a unix client is cut off (both daemons); a
		 * guest's ring would be given up on, ending the run early. */
		gen_value(d, r, r->conn < d->nconn);
		break;
	case XS_DIRECTORY_PART:
		put_str(r, path);
		put_str(r, PICK(d, offs));
		break;
	case XS_SET_PERMS:
		/* 4.17 answers a left-over errno for an unknown @name, and for
		 * a caller (a guest) that may not change a known one. */
		if (path[0] == '@' && (r->conn >= d->nconn ||
				       (strcmp(path, "@introduceDomain") &&
					strcmp(path, "@releaseDomain"))))
			snprintf(path, sizeof(path), "/d");
		put_str(r, path);
		gen_perms(d, r);
		break;
	case XS_WATCH: case XS_UNWATCH:
		put_str(r, path);
		put_str(r, PICK(d, tokens));
		break;
	case XS_TRANSACTION_START:
		put_str(r, "");
		break;
	case XS_TRANSACTION_END:
		if (k < 85)
			r->slot = used_slot(d, r->conn);
		if (rnd(d, 8) == 0)
			put(r, "T", 1);
		else
			put_str(r, PICK(d, ends));
		break;
	case XS_SET_TARGET:
		put_str(r, gen_domid(d));
		put_str(r, gen_domid(d));
		break;
	case XS_GET_DOMAIN_PATH: case XS_IS_DOMAIN_INTRODUCED:
		put_str(r, gen_domid(d));
		break;
	default:  /* RESET_WATCHES, the unknown types, OP_CLOSE */
		break;
	}
}

/* ------------------------------------------------------------- running */

/* A unix connection is closed; a guest's ring stays (a guest cannot hang
 * up), only its transaction slots are forgotten. */
static void link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	memset(l->tx, 0, sizeof(l->tx));
}

static int link_open(struct side *s, struct link *l)
{
	if (l->fd >= 0 || l->g)
		return 0;
	l->fd = unix_connect(s->path);
	if (l->fd < 0) {
		fprintf(stderr, "xsdiff: %s: cannot connect to %s: %s\n", s->name,
			s->path, strerror(-l->fd));
		l->fd = -1;
		return -1;
	}
	return 0;
}

/* What a side answered to a request; m is the caller's.  quiet (set by
 * the caller): the messages before the reply are not printed. */
struct answer {
	struct msg *m;
	bool eof;
	bool quiet;
};

static bool is_error(const struct answer *a, const char *name)
{
	return !a->eof && a->m->h.type == XS_ERROR &&
	       (!name || !strcmp((const char *)a->m->body, name));
}

/*
 * Send one request on link l; print every message before its reply (or
 * EOF, printed), and leave the reply in a->m unprinted.  Returns 0, or -1
 * on a timeout or a system error.
 */
static int exchange(struct xsdiff *d, struct side *s, struct link *l,
		    const struct xsd_sockmsg *h, const uint8_t *body,
		    struct answer *a)
{
	struct msg *m = a->m;
	int r;

	a->eof = false;
	if (link_open(s, l))
		return -1;
	if (send_all(l, (const uint8_t *)h, HDR, d->timeout_ms) ||
	    send_all(l, body, h->len, d->timeout_ms)) {
		/* A daemon that already hung up: what is left to read tells. */
	}
	for (;;) {
		r = recv_msg(l, m, d->timeout_ms);
		if (r < 0) {
			fprintf(stderr, "xsdiff: %s: no reply to request %" PRIu32
				" within %d ms\n", s->name, h->req_id, d->timeout_ms);
			return -1;
		}
		if (r > 0) {
			if (!a->quiet)
				fputs("EOF\n", s->out);
			link_close(l);
			a->eof = true;
			return 0;
		}
		if (m->h.type != XS_WATCH_EVENT && m->h.req_id == h->req_id)
			return 0;
		if (!a->quiet)
			print_norm(s, l, m);
	}
}

static void log_request(struct xsdiff *d, unsigned step, const struct req *r)
{
	const char *name = r->type == OP_CLOSE ? "--close" : xs_type_name(r->type);

	fprintf(d->log, "step %u conn %d: ", step, r->conn + 1);
	if (name)
		fputs(name, d->log);
	else
		fprintf(d->log, "%" PRIu32, r->type);
	if (r->slot)
		fprintf(d->log, ",tx%d", r->slot);
	if (r->type != OP_CLOSE) {
		fputc(':', d->log);
		xs_print_escaped(d->log, r->body, r->len);
	}
	fputc('\n', d->log);
}

static void report(struct xsdiff *d, unsigned step, const char *what)
{
	for (int i = 0; i < 2; i++)
		if (d->side[i].out)
			fflush(d->side[i].out);  /* mid-step: the text so far */
	fflush(d->log);
	fwrite(d->log_text, 1, d->log_len, stdout);
	printf("DIFFERENCE at step %u: %s\n--- %s\n%s--- %s\n%s", step, what,
	       d->side[0].name, d->side[0].text ? d->side[0].text : "",
	       d->side[1].name, d->side[1].text ? d->side[1].text : "");
}

/* Every connection: a step's watch events arrive before the sync reply. */
static int sync_all(struct xsdiff *d)
{
	static const uint8_t sync[] = "/xsdiff-sync";
	static struct msg m;
	struct answer a = { .m = &m };

	for (int c = 0; c < d->nconn + d->nguest; c++) {
		++d->next_req;
		for (int i = 0; i < 2; i++) {
			struct side *s = &d->side[i];
			struct xsd_sockmsg h = { XS_READ, d->next_req, 0, sizeof(sync) };

			if (s->conn[c].fd < 0 && !s->conn[c].g)
				continue;  /* a unix connection closed by the step */
			fprintf(s->out, "(sync conn %d)\n", c + 1);
			if (exchange(d, s, &s->conn[c], &h, sync, &a))
				return -1;  /* run_step reports */
			if (!a.eof)
				print_norm(s, &s->conn[c], a.m);
		}
	}
	return 0;
}

/* After both replies: a transaction's slot taken or given back. */
/* TRANSACTION_END's "T" or "F": any other argument ends nothing (4.17
 * answers EINVAL and keeps the transaction; so does lixs). */
static bool end_arg_ok(const struct req *r)
{
	return r->len == 2 && (r->body[0] == 'T' || r->body[0] == 'F') && !r->body[1];
}

static void track_tx(struct link *l, const struct req *r, int new_slot,
		     const struct answer *a)
{
	if (a->eof)
		return;
	if (r->type == XS_TRANSACTION_START && new_slot &&
	    a->m->h.type == XS_TRANSACTION_START)
		l->tx[new_slot] = (uint32_t)strtoul((const char *)a->m->body, NULL, 10);
	/* 4.17 frees the transaction at an END of "T" or "F" whatever the
	 * commit's outcome: OK, EAGAIN, or ENOMEM for one that failed. */
	if (r->type == XS_TRANSACTION_END && r->slot > 0 && end_arg_ok(r) &&
	    (a->m->h.type == XS_TRANSACTION_END || is_error(a, "EAGAIN") ||
	     is_error(a, "ENOMEM")))
		l->tx[r->slot] = 0;
	/* It ends the connection's transactions too (4.17's do_reset_watches). */
	if (r->type == XS_RESET_WATCHES && a->m->h.type == XS_RESET_WATCHES)
		memset(l->tx, 0, sizeof(l->tx));
}

/*
 * Run one request on both daemons, then sync every connection.
 * 0 the same, 1 the trees differ on purpose, EXIT_DIFF, or -1.
 */
static int run_step(struct xsdiff *d, unsigned step, const struct req *r)
{
	static struct msg m[2];
	struct answer ans[2] = { { .m = &m[0] }, { .m = &m[1] } };
	int new_slot = r->type == XS_TRANSACTION_START ? free_slot(d, r->conn) : 0;
	uint32_t id = ++d->next_req;  /* the same for both */
	bool *doomed = r->slot > 0 ? &d->doomed[r->conn][r->slot] : NULL;
	bool any = doomed && *doomed;

	log_request(d, step, r);
	for (int i = 0; i < 2; i++) {
		struct side *s = &d->side[i];
		struct link *l = &s->conn[r->conn];
		struct xsd_sockmsg h = { r->type, id, 0, r->len };

		side_begin(s);
		if (r->type == OP_CLOSE) {
			link_close(l);
			ans[i].eof = true;
			continue;
		}
		h.tx_id = r->slot > 0 ? l->tx[r->slot] : r->slot < 0 ? TX_BOGUS : 0;
		if (exchange(d, s, l, &h, r->body, &ans[i])) {
			report(d, step, "no reply (see above)");
			return -1;
		}
	}
	/* 4.17's EIO in a transaction: see the header comment. */
	if (doomed && is_error(&ans[1], "EIO") && !is_error(&ans[0], "EIO"))
		any = *doomed = true;
	d->uncompared += any;
	for (int i = 0; i < 2; i++) {
		struct side *s = &d->side[i];
		struct link *l = &s->conn[r->conn];

		if (ans[i].eof)
			continue;
		if (any)
			fprintf(s->out, "reply req=%" PRIu32 " (not compared: a transaction "
				"the reference answered EIO in)\n", id);
		else
			print_norm(s, l, ans[i].m);
		track_tx(l, r, new_slot, &ans[i]);
	}
	if (sync_all(d)) {
		report(d, step, "no reply to a sync (see above)");
		return -1;
	}
	for (int i = 0; i < 2; i++)
		side_end(&d->side[i]);
	for (int c = 0; c < d->nconn + d->nguest; c++) {
		for (int t = 1; t <= TX_SLOTS; t++) {
			d->doomed[c][t] &= slot_open(d, c, t);
		}
	}
	if (d->verbose)
		printf("step %u\n%s", step, d->side[0].text);
	/* Even in a transaction left uncompared, lixs must end it: commit
	 * (the trees reset below) or EAGAIN, as the reference does. */
	if (any && r->type == XS_TRANSACTION_END && end_arg_ok(r) && !ans[0].eof &&
	    ans[0].m->h.type != XS_TRANSACTION_END && !is_error(&ans[0], "EAGAIN") &&
	    !is_error(&ans[0], "ENOMEM")) {
		char what[160];

		snprintf(what, sizeof(what), "lixs did not end a transaction the reference "
			 "answered EIO in (lixs: type %" PRIu32 ", %.40s)", ans[0].m->h.type,
			 ans[0].m->h.type == XS_ERROR ? (const char *)ans[0].m->body : "");
		report(d, step, what);
		return EXIT_DIFF;
	}
	if (r->type == XS_TRANSACTION_END && !ans[0].eof &&
	    ans[0].m->h.type == XS_TRANSACTION_END && is_error(&ans[1], "EAGAIN")) {
		if (d->verbose)
			printf("step %u: lixs committed where %s answered EAGAIN "
			       "(finer conflicts, docs/COMPATIBILITY.md): reset\n",
			       step, d->side[1].name);
		fprintf(d->log, "(lixs committed, %s answered EAGAIN: reset)\n",
			d->side[1].name);
		d->resets++;
		return 1;
	}
	if (strcmp(d->side[0].text, d->side[1].text)) {
		report(d, step, "the replies differ");
		return EXIT_DIFF;
	}
	return 0;
}

/* ---------------------------------------------------------- tree dumps */

/* One request outside the step log (ask: on connection 0); the reply into m. */
static int ask_on(struct xsdiff *d, struct side *s, struct link *l, uint32_t type,
		  const char *body, size_t len, struct msg *m)
{
	struct xsd_sockmsg h = { type, 0, 0, (uint32_t)len };
	struct answer a = { .m = m, .quiet = true };

	return exchange(d, s, l, &h, (const uint8_t *)body, &a) || a.eof ? -1 : 0;
}

static int ask(struct xsdiff *d, struct side *s, uint32_t type, const char *body,
	       size_t len, struct msg *m)
{
	return ask_on(d, s, &s->conn[0], type, body, len, m);
}

/* Depth first from path: "path = value [perms]" a node, children sorted. */
static int dump(struct xsdiff *d, struct side *s, const char *path, unsigned depth)
{
	static struct msg m;
	char *kids, *k;
	uint32_t n;
	int rc = 0;

	if (depth > 40)
		return 0;
	if (ask(d, s, XS_READ, path, strlen(path) + 1, &m))
		return -1;
	fprintf(s->out, "%s = ", path);
	xs_print_escaped(s->out, m.body, m.h.type == XS_READ ? m.h.len : 0);
	if (ask(d, s, XS_GET_PERMS, path, strlen(path) + 1, &m))
		return -1;
	fputs(" [", s->out);
	xs_print_escaped(s->out, m.body, m.h.len);
	fputs("]\n", s->out);
	if (ask(d, s, XS_DIRECTORY, path, strlen(path) + 1, &m) || m.h.type != XS_DIRECTORY)
		return -1;
	n = m.h.len;
	kids = malloc(n + 1);
	if (!kids)
		return -1;
	memcpy(kids, m.body, n);
	kids[n] = 0;
	for (k = kids; k < kids + n && !rc; k += strlen(k) + 1) {
		char child[4096];

		snprintf(child, sizeof(child), "%s%s%s", path,
			 strcmp(path, "/") ? "/" : "", k);
		rc = dump(d, s, child, depth + 1);
	}
	free(kids);
	return rc;
}

/*
 * Both trees back to the initial one (/, /tool, /tool/xenstored, all n0,
 * empty values), whatever earlier runs left: a seed's run depends on the
 * seed alone.  The answers do not matter; compare_trees() checks.
 */
static int reset_trees(struct xsdiff *d)
{
	static const char *const steps[][2] = {
		{ "RM", "/d" }, { "RM", "/local" }, { "WRITE", "/" },
		{ "WRITE", "/tool" }, { "WRITE", "/tool/xenstored" },
		{ "SET_PERMS", "/" }, { "SET_PERMS", "/tool" },
		{ "SET_PERMS", "/tool/xenstored" }, { "SET_PERMS", "@introduceDomain" },
		{ "SET_PERMS", "@releaseDomain" },
	};
	static struct msg m;

	for (int i = 0; i < 2; i++) {
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			char body[64];
			size_t n = strlen(steps[k][1]) + 1;
			uint32_t type;

			memcpy(body, steps[k][1], n);
			if (xs_type_parse(steps[k][0], strlen(steps[k][0]), &type))
				return -1;
			if (type == XS_SET_PERMS) {
				memcpy(body + n, "n0", 3);
				n += 3;
			}
			if (ask(d, &d->side[i], type, body, n, &m))
				return -1;
		}
		/* Each guest's home, as libxl makes it, and a clean connection. */
		for (int g = 0; g < d->nguest; g++) {
			char home[64], perms[16];
			size_t hn = (size_t)snprintf(home, sizeof(home), "/local/domain/%u",
						     d->guest[g]) + 1;
			size_t pn = (size_t)snprintf(perms, sizeof(perms), "n%u", d->guest[g]) + 1;
			char body[96];

			memcpy(body, home, hn);
			memcpy(body + hn, perms, pn);
			if (ask(d, &d->side[i], XS_WRITE, home, hn, &m) ||
			    ask(d, &d->side[i], XS_SET_PERMS, body, hn + pn, &m) ||
			    ask_on(d, &d->side[i], &d->side[i].conn[d->nconn + g],
				   XS_RESET_WATCHES, "", 1, &m))
				return -1;
		}
	}
	return 0;
}

static int compare_trees(struct xsdiff *d, unsigned step, const char *what)
{
	for (int i = 0; i < 2; i++) {
		side_begin(&d->side[i]);
		if (dump(d, &d->side[i], "/", 0)) {
			fprintf(stderr, "xsdiff: %s: listing the tree failed\n",
				d->side[i].name);
			side_end(&d->side[i]);
			return -1;
		}
		side_end(&d->side[i]);
	}
	if (strcmp(d->side[0].text, d->side[1].text)) {
		report(d, step, what);
		return EXIT_DIFF;
	}
	return 0;
}

/* Every connection closed, both trees reset and compared: 0 or an exit. */
static int restart(struct xsdiff *d, unsigned step)
{
	for (int i = 0; i < 2; i++)
		for (int c = 0; c < MAX_CONN; c++)
			link_close(&d->side[i].conn[c]);
	memset(d->doomed, 0, sizeof(d->doomed));
	if (reset_trees(d)) {
		fprintf(stderr, "xsdiff: resetting the trees failed\n");
		return -1;
	}
	return compare_trees(d, step, "the trees differ after resetting them");
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
	fputs("usage: xsdiff -L LIXS_SOCKET -R REFERENCE_SOCKET [-s SEED] [-n STEPS]\n"
	      "              [-c CONNS] [-t SECONDS] [-v]\n"
	      "              [-l LIXS_XENSIM_DIR -r REFERENCE_XENSIM_DIR -g DOMID...]\n"
	      "(see the header comment of tests/tools/xsdiff.c)\n", stderr);
}

int main(int argc, char **argv)
{
	static struct xsdiff d;
	static struct req r;
	unsigned long seed = 1, steps = 500;
	unsigned step;
	int opt, rc = 0;

	d.nconn = 3;
	d.timeout_ms = 5000;
	d.side[0].name = "lixs";
	d.side[1].name = "reference";
	while ((opt = getopt(argc, argv, "L:R:l:r:g:s:n:c:t:vh")) != -1) {
		switch (opt) {
		case 'L': d.side[0].path = optarg; break;
		case 'R': d.side[1].path = optarg; break;
		case 'l': d.side[0].xen = optarg; break;
		case 'r': d.side[1].xen = optarg; break;
		case 'g':
			if (d.nguest == MAX_GUESTS) {
				usage();
				return EXIT_USAGE;
			}
			d.guest[d.nguest++] = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's': seed = strtoul(optarg, NULL, 0); break;
		case 'n': steps = strtoul(optarg, NULL, 0); break;
		case 'c': d.nconn = atoi(optarg); break;
		case 't': d.timeout_ms = atoi(optarg) * 1000; break;
		case 'v': d.verbose = true; break;
		case 'h': usage(); return EXIT_SAME;
		default: usage(); return EXIT_USAGE;
		}
	}
	if (!d.side[0].path || !d.side[1].path || optind != argc ||
	    d.nconn < 1 || d.nconn > MAX_UNIX || d.timeout_ms <= 0 ||
	    (d.nguest && (!d.side[0].xen || !d.side[1].xen))) {
		usage();
		return EXIT_USAGE;
	}
	d.rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (int i = 0; i < 2; i++)
		for (int c = 0; c < MAX_CONN; c++)
			d.side[i].conn[c].fd = -1;
	/* Guests after the unix connections, on each daemon's own host. */
	for (int i = 0; i < 2; i++) {
		for (int g = 0; g < d.nguest; g++) {
			struct link *l = &d.side[i].conn[d.nconn + g];
			int err = ENOMEM;

			l->g = calloc(1, sizeof(*l->g));
			if (!l->g || (err = gring_attach(l->g, d.side[i].xen, d.guest[g], 0))) {
				fprintf(stderr, "xsdiff: %s: domain %u's ring on %s: %s\n",
					d.side[i].name, d.guest[g], d.side[i].xen, strerror(err));
				free(l->g);
				l->g = NULL;
				return EXIT_SYS;
			}
		}
	}
	d.log = open_memstream(&d.log_text, &d.log_len);
	if (!d.log)
		return EXIT_SYS;
	fprintf(d.log, "seed %lu, %d unix connections, %d guests\n", seed, d.nconn,
		d.nguest);
	/* From the initial tree, checked the same on both. */
	rc = restart(&d, 0);
	for (step = 1; step <= steps && rc == 0; step++) {
		gen_request(&d, &r);
		rc = run_step(&d, step, &r);
		if (rc == 1)
			rc = restart(&d, step);
	}
	if (rc == 0)
		rc = compare_trees(&d, step - 1, "the trees differ at the end");
	if (rc == 0)
		printf("seed %lu: %u steps, the same (%u resets after a commit only "
		       "lixs accepted, %u replies not compared after an EIO)\n",
		       seed, step - 1, d.resets, d.uncompared);
	fclose(d.log);
	free(d.log_text);
	for (int i = 0; i < 2; i++) {
		free(d.side[i].text);
		for (int g = 0; g < d.nguest; g++) {
			struct link *l = &d.side[i].conn[d.nconn + g];

			gring_detach(l->g);
			free(l->g);
		}
	}
	return rc < 0 ? EXIT_SYS : rc;
}
