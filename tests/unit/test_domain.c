/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_domain.c - domains and ring connections in the store process,
 * driven through its own dispatch with a socketpair standing in for the
 * broker: INTRODUCE and RING_RESULT, RELEASE, RESUME, SET_TARGET,
 * DOMAIN_STATE (shutdown, death, clean-up without residue), permissions
 * of unprivileged domains, and the ring's flow control (credit, window,
 * output bound for a guest that never reads).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "ipc_out.h"
#include "journal.h"
#include "journal_io.h"
#include "journal_zip.h"
#include "path.h"
#include "ring_idle.h"
#include "storeproc.h"
#include "unit.h"
#include "wire_text.h"

/* The context is big (ipc buffer inside): static, set up per test. */
static struct storeproc sp;
static struct ipc_link broker_end;	/* our end of the ipc channel */
static int journal_fd = -1;		/* the last IPC_JOURNAL's memfd */
static char flog[65536];		/* control frames the store sent */
static size_t flog_len;

#define S(lit) lit, sizeof(lit) - 1

/* --- a guest on a ring: what the broker would copy in and out ---------- */

struct guest {
	uint32_t ring;
	uint32_t req;
	uint64_t sent;			/* request bytes given to the store */
	uint64_t credit;		/* CONN_CREDIT received */
	uint64_t replied;		/* reply bytes received */
	uint64_t joined;		/* CONN_CREDIT frames carrying replies */
	uint64_t plain;			/* REPLY_DATA frames */
	bool open_batch;		/* REPLY_DATA since the last CONN_CREDIT */
	/* The reply stream, followed: bytes left of the message under way
	 * and how much of the next header was seen (both 0: between two). */
	uint32_t msg_left, hdr_got;
	unsigned char hdr[sizeof(struct xsd_sockmsg)];
	size_t have;
	unsigned char in[1u << 21];
};

#define MAX_GUESTS 4
static struct guest *guests[MAX_GUESTS];
/* Times collect() found a guest's replies with no CONN_CREDIT after them:
 * the broker would hold them back from the guest (broker/ring.c). */
static unsigned int batches_left_open;
/* CONN_CREDIT frames that ended inside a reply: the broker would let the
 * guest have part of it, which a restarted store sends again whole. */
static unsigned int credits_mid_message;

static struct guest *guest_new(uint32_t ring)
{
	struct guest *g = calloc(1, sizeof(*g));

	for (int i = 0; i < MAX_GUESTS; i++)
		if (!guests[i]) {
			guests[i] = g;
			break;
		}
	g->ring = ring;
	return g;
}

static struct guest *guest_of(uint32_t ring)
{
	for (int i = 0; i < MAX_GUESTS; i++)
		if (guests[i] && guests[i]->ring == ring)
			return guests[i];
	return NULL;
}

#define LOG_FRAME(...) \
	(flog_len += (size_t)snprintf(flog + flog_len, sizeof(flog) - flog_len, \
				      __VA_ARGS__))

/* Follow len bytes of g's reply stream from one message to the next. */
static void follow_stream(struct guest *g, const unsigned char *p, uint32_t len)
{
	while (len) {
		uint32_t take;

		if (!g->msg_left && g->hdr_got < sizeof(g->hdr)) {
			struct xsd_sockmsg h;

			take = (uint32_t)sizeof(g->hdr) - g->hdr_got;
			take = take < len ? take : len;
			memcpy(g->hdr + g->hdr_got, p, take);
			g->hdr_got += take;
			if (g->hdr_got == sizeof(g->hdr)) {
				memcpy(&h, g->hdr, sizeof(h));
				g->msg_left = h.len;
				g->hdr_got = h.len ? g->hdr_got : 0;
			}
		} else {
			take = g->msg_left < len ? g->msg_left : len;
			g->msg_left -= take;
			if (!g->msg_left)
				g->hdr_got = 0;
		}
		p += take;
		len -= take;
	}
}

/* Reply bytes from offset off of m's payload, as the broker queues them. */
static void take_reply(struct guest *g, const struct ipc_msg *m, uint32_t off)
{
	uint32_t len = m->hdr.len - off;

	if (!g) {
		LOG_FRAME("REPLY_DATA for %u\n", m->hdr.conn);
		return;
	}
	if (g->have + len <= sizeof(g->in)) {
		memcpy(g->in + g->have, m->payload + off, len);
		g->have += len;
	}
	g->replied += len;
	follow_stream(g, m->payload + off, len);
}

/* Read every frame the store sent to the "broker". */
static void collect(void)
{
	static unsigned char buf[IPC_FRAME_MAX];
	struct ipc_msg m;

	ipc_out_flush(&sp);
	while (ipc_recv(&broker_end, buf, sizeof(buf), IPC_TO_BROKER, &m) == 0) {
		struct guest *g = guest_of(m.hdr.conn);
		struct ipc_ring_map map;
		uint32_t n;

		switch (m.hdr.type) {
		case IPC_REPLY_DATA:
			take_reply(g, &m, 0);
			if (g) {
				g->plain++;
				g->open_batch = true;
			}
			break;
		case IPC_CONN_CREDIT:
			memcpy(&n, m.payload, sizeof(n));
			if (g)
				g->credit += n;
			/* The replies that answered them may ride along (ipc.h). */
			if (m.hdr.len > sizeof(n)) {
				take_reply(g, &m, sizeof(n));
				if (g)
					g->joined++;
			}
			if (g) {
				g->open_batch = false;
				if (g->msg_left || g->hdr_got)
					credits_mid_message++;
			}
			break;
		case IPC_RING_MAP:
			memcpy(&map, m.payload, sizeof(map));
			LOG_FRAME("RING_MAP %u %u %u\n", map.domid, map.port,
				   (unsigned int)map.gfn);
			break;
		case IPC_RING_UNMAP:
			LOG_FRAME("RING_UNMAP %u\n", m.hdr.conn);
			break;
		case IPC_RING_IDLE:
			LOG_FRAME("RING_IDLE %u\n", m.hdr.conn);
			break;
		case IPC_RING_BREAK:
			memcpy(&n, m.payload, sizeof(n));
			LOG_FRAME("RING_BREAK %u %u\n", m.hdr.conn, n);
			break;
		case IPC_JOURNAL:
			if (journal_fd >= 0)
				close(journal_fd);
			journal_fd = m.fd;
			m.fd = -1;
			break;
		default:
			LOG_FRAME("type %u\n", m.hdr.type);
		}
		if (m.fd >= 0)
			close(m.fd);
		ipc_out_flush(&sp);
	}
	/* Not while frames wait in the store's queue: the credit may be there. */
	for (int i = 0; i < MAX_GUESTS && !ipc_out_waiting(&sp); i++)
		if (guests[i] && guests[i]->open_batch)
			batches_left_open++;
}

static const char *frames(void)
{
	static char text[sizeof(flog)];

	collect();
	memcpy(text, flog, flog_len + 1);
	flog_len = 0;
	flog[0] = '\0';
	batches_left_open = 0;
	credits_mid_message = 0;
	return text;
}

/* Hand the store one frame from the "broker", checked as ipc_recv would. */
static int inject(uint32_t type, uint32_t conn, const void *p, uint32_t len)
{
	static unsigned char buf[IPC_FRAME_MAX];
	struct ipc_hdr h = { type, conn, 0, len };
	struct ipc_msg m;
	int err;

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), p, len);
	err = ipc_frame_check(buf, sizeof(h) + len, IPC_TO_STORE, 0, &m);
	if (err) {
		printf("    frame type %u refused: %d\n", type, err);
		return err;
	}
	if (type == IPC_CONN_NEW) {
		struct ipc_conn_new cn;

		memcpy(&cn, p, sizeof(cn));
		domain_ring_announced(&sp, conn, &cn);
		return 0;
	}
	return domain_frame(&sp, &m);
}

static void run_store(void)
{
	do
		collect();
	while (conn_run_pending(&sp));
	collect();
}

static void g_bytes(struct guest *g, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len) {
		uint32_t n = len > IPC_PAYLOAD_MAX ? IPC_PAYLOAD_MAX : (uint32_t)len;

		inject(IPC_CONN_DATA, g->ring, b, n);
		g->sent += n;
		b += n;
		len -= n;
	}
}

static void g_send(struct guest *g, uint32_t type, uint32_t tx,
		   const void *body, size_t len)
{
	unsigned char buf[sizeof(struct xsd_sockmsg) + 8192];

	g_bytes(g, buf, wire_request(buf, type, ++g->req, tx, body, len));
	run_store();
}

static const char *g_drain(struct guest *g)
{
	collect();
	return wire_text(g->in, &g->have);
}

/* --- a local (socket) client, as test_dispatch.c's ------------------------ */

static void client_open(struct client *cl, uint32_t domid, bool priv)
{
	struct caller who = { domid, DOMID_NONE, priv };

	client_connect(&sp, cl, &who, false);
}

static void send_req(struct client *cl, uint32_t type, uint32_t tx,
		     const void *body, size_t len)
{
	client_send(cl, type, tx, body, len);
	conn_event(&sp, cl->c, EPOLLIN);
	run_store();
}

static const char *drain(struct client *cl)
{
	run_store();
	client_recv(cl);
	return wire_text(cl->in, &cl->have);
}

static int expect(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return 1;
	printf("    %s: got:\n%s    want:\n%s", what, got, want);
	return 0;
}

/* --- environment ------------------------------------------------------------ */

static struct store_stats base;

static void env_open(void)
{
	wire_sp_init(&sp);
	sp.lim.path_max = PATH_REL_MAX;
	sp.lim.perm_nb = 5;
	sp.lim.watch_nb = 128;
	sp.lim.transaction = 10;
	domain_table_init(&sp.domains);
	if (ipc_link_pair(&sp.ipc, &broker_end) ||
	    fcntl(broker_end.in, F_SETFL, O_NONBLOCK) || fcntl(broker_end.out, F_SETFL, O_NONBLOCK) ||
	    fcntl(broker_end.fds, F_SETFL, O_NONBLOCK))
		perror("ipc_link_pair");
	flog_len = 0;
	flog[0] = '\0';
	store_get_stats(sp.store, &base);
}

static void env_close(void)
{
	conn_close_all(&sp);
	/* A case that took a snapshot made the journal: ours to free. */
	journal_state_fini(&sp.journal);
	journal_state_init(&sp.journal);
	if (journal_fd >= 0)
		close(journal_fd);
	journal_fd = -1;
	ipc_out_free(&sp);
	domain_table_fini(&sp.domains);
	watch_index_fini(&sp.watches);
	store_free(sp.store);
	buf_free(&sp.path);
	buf_free(&sp.out);
	close(sp.epfd);
	ipc_link_close(&sp.ipc);
	ipc_link_close(&broker_end);
	for (int i = 0; i < MAX_GUESTS; i++) {
		free(guests[i]);
		guests[i] = NULL;
	}
}

/* Turn the n bytes "a|b|c|" into request arguments ('|' -> NUL). */
static size_t nuls(char *out, int n)
{
	for (int i = 0; i < n; i++)
		if (out[i] == '|')
			out[i] = '\0';
	return (size_t)n;
}

/*
 * dom0 (client d0) introduces `domid`; the broker maps it as ring conn
 * `ring`.  Returns the guest, its home made writable for it as libxl
 * does (owner dom0, domid may read and write).
 */
static struct guest *introduce(struct client *d0, uint32_t domid, uint32_t ring)
{
	struct ipc_ring_result res = { domid, 0, ring, 0 };
	char b[64];
	size_t n;

	n = nuls(b, snprintf(b, sizeof(b), "/local/domain/%u|", domid));
	send_req(d0, XS_MKDIR, 0, b, n);
	n = nuls(b, snprintf(b, sizeof(b), "/local/domain/%u|n0|b%u|", domid,
			     domid));
	send_req(d0, XS_SET_PERMS, 0, b, n);
	n = nuls(b, snprintf(b, sizeof(b), "%u|1234|7|", domid));
	send_req(d0, XS_INTRODUCE, 0, b, n);
	inject(IPC_RING_RESULT, 0, &res, sizeof(res));
	run_store();
	return guest_new(ring);
}

/* --- cases ------------------------------------------------------------------ */

static int t_introduce(void)
{
	struct ipc_ring_result fail = { 6, ENOENT, 0, 0 };
	struct ipc_ring_result ok5 = { 5, 0, 200, 0 };
	struct client d0, u;
	struct guest *g;
	int ok = 1;

	env_open();
	client_open(&d0, 0, true);
	client_open(&u, 3, false);
	send_req(&d0, XS_WATCH, 0, S("@introduceDomain\0i\0"));
	send_req(&d0, XS_WATCH, 0, S("/\0root\0"));
	ok &= expect("watch", drain(&d0),
		     "4 1 0 OK|\n15 0 0 @introduceDomain|i|\n"
		     "4 2 0 OK|\n15 0 0 /|root|\n");
	/* The request waits for the broker; the one after it waits too. */
	send_req(&d0, XS_INTRODUCE, 0, S("5\0" "1234\0" "7\0"));
	send_req(&d0, XS_IS_DOMAIN_INTRODUCED, 0, S("5\0"));
	ok &= expect("pending", drain(&d0), "");
	ok &= expect("map", frames(), "RING_MAP 5 7 1234\n");
	inject(IPC_RING_RESULT, 0, &ok5, sizeof(ok5));
	/* Event (exact: not for "/") before the OK, as 4.17. */
	ok &= expect("introduced", drain(&d0),
		     "15 0 0 @introduceDomain|i|\n8 3 0 OK|\n17 4 0 T|\n");
	g = guest_new(200);
	g_send(g, XS_GET_DOMAIN_PATH, 0, S("5\0"));
	ok &= expect("guest", g_drain(g), "10 1 0 /local/domain/5|\n");
	ok &= expect("credit", frames(), "") && g->credit == g->sent;

	/* A mapping failure answers the broker's errno. */
	send_req(&d0, XS_INTRODUCE, 0, S("6\0" "0\0" "9\0"));
	inject(IPC_RING_RESULT, 0, &fail, sizeof(fail));
	send_req(&d0, XS_IS_DOMAIN_INTRODUCED, 0, S("6\0"));
	ok &= expect("fail", drain(&d0), "16 5 0 ENOENT|\n17 6 0 F|\n");
	ok &= expect("fail map", frames(), "RING_MAP 6 9 0\n");
	/* Argument errors, privilege, a second INTRODUCE (reset, no map). */
	send_req(&d0, XS_INTRODUCE, 0, S("6\0" "0\0" "0\0"));
	send_req(&d0, XS_INTRODUCE, 0, S("6\0" "0\0"));
	send_req(&d0, XS_INTRODUCE, 0, S("32752\0" "0\0" "3\0"));
	send_req(&u, XS_INTRODUCE, 0, S("7\0" "0\0" "3\0"));
	ok &= expect("errors", drain(&d0),
		     "16 7 0 EINVAL|\n16 8 0 EINVAL|\n16 9 0 EINVAL|\n");
	ok &= expect("unpriv", drain(&u), "16 1 0 EACCES|\n");
	g_send(g, XS_WATCH, 0, S("/x\0t\0"));
	send_req(&d0, XS_INTRODUCE, 0, S("5\0" "1234\0" "8\0"));
	ok &= expect("again", drain(&d0), "8 10 0 OK|\n");
	ok &= expect("again: no map", frames(), "");
	ok &= expect("watch", g_drain(g), "4 2 0 OK|\n15 0 0 /x|t|\n");
	ok &= sp.watches.used == 2;	/* the guest's watch went, dom0's stay */
	close(d0.fd);
	close(u.fd);
	env_close();
	return ok;
}

/* A domU: its home, ownership, dom0's nodes, perms limits, events. */
static int t_unprivileged(void)
{
	struct client d0;
	struct guest *g;
	int ok = 1;

	env_open();
	client_open(&d0, 0, true);
	g = introduce(&d0, 5, 200);
	drain(&d0);
	send_req(&d0, XS_WRITE, 0, S("/secret\0s"));
	g_send(g, XS_WRITE, 0, S("data/x\0v"));
	g_send(g, XS_GET_PERMS, 0, S("data/x\0"));
	g_send(g, XS_READ, 0, S("/secret\0"));
	g_send(g, XS_WRITE, 0, S("/secret\0x"));
	g_send(g, XS_WRITE, 0, S("/local/domain/6/x\0x"));
	g_send(g, XS_SET_PERMS, 0, S("data/x\0n7\0"));
	g_send(g, XS_SET_PERMS, 0, S("data/x\0n5\0r1\0r2\0r3\0r4\0r6\0"));
	g_send(g, XS_SET_PERMS, 0, S("data/x\0n5\0r0\0"));
	g_send(g, XS_IS_DOMAIN_INTRODUCED, 0, S("5\0"));
	g_send(g, XS_INTRODUCE, 0, S("9\0" "0\0" "1\0"));
	ok &= expect("domU", g_drain(g),
		     "11 1 0 OK|\n3 2 0 n5|b5|\n16 3 0 EACCES|\n16 4 0 EACCES|\n"
		     "16 5 0 EACCES|\n16 6 0 EPERM|\n16 7 0 ENOSPC|\n"
		     "14 8 0 OK|\n16 9 0 EACCES|\n16 10 0 EACCES|\n");
	/* XSA-115: watch events only where it may read. */
	g_send(g, XS_WATCH, 0, S("/\0all\0"));
	g_send(g, XS_WATCH, 0, S("@introduceDomain\0i\0"));
	drain(&d0);
	g_drain(g);
	send_req(&d0, XS_WRITE, 0, S("/secret\0t"));
	send_req(&d0, XS_WRITE, 0, S("/local/domain/5/data/y\0t"));
	introduce(&d0, 6, 201);
	ok &= expect("filtered", g_drain(g),
		     "15 0 0 /local/domain/5/data/y|all|\n");
	send_req(&d0, XS_SET_PERMS, 0, S("@introduceDomain\0n0\0r5\0"));
	introduce(&d0, 7, 202);
	ok &= expect("special permitted", g_drain(g),
		     "15 0 0 @introduceDomain|i|\n");
	close(d0.fd);
	env_close();
	return ok;
}

static int t_set_target(void)
{
	struct client d0;
	struct guest *dm;
	int ok = 1;

	env_open();
	client_open(&d0, 0, true);
	dm = introduce(&d0, 5, 200);
	introduce(&d0, 6, 201);
	send_req(&d0, XS_WRITE, 0, S("/local/domain/6/dev\0d"));
	send_req(&d0, XS_SET_PERMS, 0, S("/local/domain/6/dev\0n6\0"));
	drain(&d0);
	g_send(dm, XS_READ, 0, S("/local/domain/6/dev\0"));
	send_req(&d0, XS_SET_TARGET, 0, S("5\0" "9\0"));
	send_req(&d0, XS_SET_TARGET, 0, S("5\0"));
	send_req(&d0, XS_SET_TARGET, 0, S("5\0" "6\0"));
	ok &= expect("set", drain(&d0),
		     "16 9 0 ENOENT|\n16 10 0 EINVAL|\n19 11 0 OK|\n");
	g_send(dm, XS_READ, 0, S("/local/domain/6/dev\0"));
	g_send(dm, XS_WRITE, 0, S("/local/domain/6/dev/q\0w"));
	g_send(dm, XS_SET_PERMS, 0, S("/local/domain/6/dev\0n6\0r5\0"));
	ok &= expect("target's rights", g_drain(dm),
		     "16 1 0 EACCES|\n2 2 0 d\n11 3 0 OK|\n14 4 0 OK|\n");
	close(d0.fd);
	env_close();
	return ok;
}

/* Nothing of a dead domain is left: conns, watches, txns, nodes, table. */
static int no_residue(size_t conns, size_t watches)
{
	struct store_stats now;
	int ok;

	store_get_stats(sp.store, &now);
	ok = sp.nconns == conns && now.txns == 0 &&
	     sp.watches.used == watches && sp.domains.count == 0;
	if (!ok)
		printf("    residue: conns %zu txns %zu watches %zu domains %zu\n",
		       sp.nconns, now.txns, sp.watches.used, sp.domains.count);
	return ok;
}

static int t_release(void)
{
	struct client d0;
	struct store_stats st;
	struct guest *g;
	int ok = 1;

	env_open();
	client_open(&d0, 0, true);
	send_req(&d0, XS_WATCH, 0, S("@releaseDomain\0r\0"));
	g = introduce(&d0, 5, 200);
	frames();
	drain(&d0);
	g_send(g, XS_WRITE, 0, S("data/x\0v"));
	g_send(g, XS_WRITE, 0, S("data/y/z\0v"));
	g_send(g, XS_WATCH, 0, S("data\0w\0"));
	g_send(g, XS_TRANSACTION_START, 0, S("\0"));
	g_send(g, XS_WRITE, 1, S("data/t\0v"));
	send_req(&d0, XS_WRITE, 0, S("/local/domain/5/dom0s\0k"));
	ok &= expect("guest", g_drain(g),
		     "11 1 0 OK|\n11 2 0 OK|\n4 3 0 OK|\n15 0 0 data|w|\n"
		     "6 4 0 1|\n11 5 1 OK|\n");
	drain(&d0);
	send_req(&d0, XS_RELEASE, 0, S("0\0"));
	send_req(&d0, XS_RESUME, 0, S("6\0"));
	send_req(&d0, XS_RELEASE, 0, S("5\0"));
	send_req(&d0, XS_RELEASE, 0, S("5\0"));
	send_req(&d0, XS_IS_DOMAIN_INTRODUCED, 0, S("5\0"));
	send_req(&d0, XS_READ, 0, S("/local/domain/5/data\0"));
	send_req(&d0, XS_READ, 0, S("/local/domain/5/dom0s\0"));
	ok &= expect("release", drain(&d0),
		     "16 6 0 EINVAL|\n16 7 0 ENOENT|\n"
		     "15 0 0 @releaseDomain|r|\n9 8 0 OK|\n16 9 0 ENOENT|\n"
		     "17 10 0 F|\n16 11 0 ENOENT|\n2 12 0 k\n");
	ok &= expect("unmap", frames(), "RING_UNMAP 200\n");
	store_get_stats(sp.store, &st);
	/* Left: dom0's /local, /local/domain, /local/domain/5, dom0s. */
	ok &= st.nodes == base.nodes + 4;
	ok &= no_residue(1, 1);
	/* Frames still in flight for the gone ring are dropped. */
	ok &= inject(IPC_CONN_DATA, 200, "x", 1) == 0;
	close(d0.fd);
	env_close();
	return ok;
}

/* XSA-322: a new domain with a dead one's domid inherits no access. */
static int t_domid_reuse(void)
{
	struct client d0;
	struct perm_list pl;
	struct guest *g;
	int ok = 1;

	env_open();
	client_open(&d0, 0, true);
	send_req(&d0, XS_WRITE, 0, S("/shared\0s"));
	send_req(&d0, XS_SET_PERMS, 0, S("/shared\0n0\0r5\0w6\0"));
	send_req(&d0, XS_SET_PERMS, 0, S("@releaseDomain\0n5\0r5\0"));
	g = introduce(&d0, 5, 200);
	g_send(g, XS_READ, 0, S("/shared\0"));
	ok &= expect("before", g_drain(g), "2 1 0 s\n");
	send_req(&d0, XS_RELEASE, 0, S("5\0"));
	drain(&d0);
	send_req(&d0, XS_GET_PERMS, 0, S("/shared\0"));
	ok &= expect("stripped", drain(&d0), "3 8 0 n0|w6|\n");
	ok &= store_special_perms(sp.store, "@releaseDomain", &pl) == 0 &&
	      pl.n == 1 && pl.e[0].domid == 0;
	g = introduce(&d0, 5, 201);
	g_send(g, XS_READ, 0, S("/shared\0"));
	ok &= expect("after", g_drain(g), "16 1 0 EACCES|\n");
	close(d0.fd);
	env_close();
	return ok;
}

/*
 * A release changes the perms of nodes other than the dead domain's with
 * no event (4.17's write_node_raw).  The journal is told of each, so the
 * release takes no snapshot, and a replay of the journal gives the store
 * as released: entries gone, deep ones and special nodes' too, the dead
 * domain's own nodes deleted.
 */
static int t_release_journaled(void)
{
	static const char *const paths[] = { "/shared", "/shared/deep", "/shared/deep/er",
					     "/local/domain/5" };
	static const struct caller root = { 0, DOMID_NONE, true };
	struct client d0;
	struct buf jnl = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	struct journal_replay_stats st;
	struct store *replayed = store_new();
	struct perm_list pl;
	off_t end;
	int fd, ok = replayed != NULL;

	env_open();
	sp.sink.fire = journal_sink;	/* as main.c: events reach the journal */
	client_open(&d0, 0, true);
	send_req(&d0, XS_WRITE, 0, S("/shared\0s"));
	send_req(&d0, XS_SET_PERMS, 0, S("/shared\0n0\0r5\0w6\0"));
	send_req(&d0, XS_WRITE, 0, S("/shared/deep/er\0s"));
	send_req(&d0, XS_SET_PERMS, 0, S("/shared/deep/er\0n6\0b5\0"));
	send_req(&d0, XS_SET_PERMS, 0, S("@releaseDomain\0n5\0r5\0"));
	g_send(introduce(&d0, 5, 200), XS_WRITE, 0, S("data/mine\0v"));
	drain(&d0);
	sp.journal.snap_due = true;
	journal_flush(&sp);
	frames();
	fd = journal_fd;	/* the snapshot's memfd, as the broker holds it */
	journal_fd = -1;
	send_req(&d0, XS_RELEASE, 0, S("5\0"));
	ok &= expect("release", drain(&d0), "9 9 0 OK|\n");
	frames();
	ok &= journal_fd < 0;	/* no snapshot came */
	end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	ok &= end > 0 && !buf_reserve(&jnl, (size_t)end) &&
	      pread(fd, jnl.data, (size_t)end, 0) == end;
	jnl.len = ok ? (size_t)end : 0;
	ok &= ok && journal_replay(replayed, jnl.data, jnl.len, &st) == 0 && !st.bad_bytes;
	for (size_t i = 0; ok && i < sizeof(paths) / sizeof(paths[0]); i++) {
		buf_reset(&a);
		buf_reset(&b);
		ok &= !store_get_perms(sp.store, NULL, &root, paths[i], &a) &&
		      !store_get_perms(replayed, NULL, &root, paths[i], &b) &&
		      a.len == b.len && !memcmp(a.data, b.data, a.len) &&
		      !memmem(a.data, a.len, "5\0", 2);
	}
	ok &= store_get_perms(replayed, NULL, &root, "/local/domain/5/data", &a) == ENOENT;
	ok &= !store_special_perms(replayed, "@releaseDomain", &pl) && pl.n == 1 &&
	      pl.e[0].domid == 0;
	if (fd >= 0)
		close(fd);
	buf_free(&jnl);
	buf_free(&a);
	buf_free(&b);
	store_free(replayed);
	close(d0.fd);
	env_close();
	return ok;
}

/* -K: a dead domain's nodes go to dom0 instead. */
static int t_keep_orphans(void)
{
	struct client d0;
	struct guest *g;
	int ok = 1;

	env_open();
	sp.keep_orphans = true;
	client_open(&d0, 0, true);
	g = introduce(&d0, 5, 200);
	g_send(g, XS_WRITE, 0, S("data/x\0v"));
	drain(&d0);
	send_req(&d0, XS_RELEASE, 0, S("5\0"));
	send_req(&d0, XS_GET_PERMS, 0, S("/local/domain/5/data/x\0"));
	/* Given to dom0; the dead domain's own entry goes too. */
	ok &= expect("kept", drain(&d0), "9 4 0 OK|\n3 5 0 n0|\n");
	close(d0.fd);
	env_close();
	return ok;
}

static int t_domain_state(void)
{
	struct ipc_domain_state shut[2] = { { 5, IPC_DOM_SHUTDOWN }, { 6, IPC_DOM_SHUTDOWN } };
	struct ipc_domain_state dying = { 5, IPC_DOM_SHUTDOWN | IPC_DOM_DYING };
	struct ipc_domain_state gone = { 6, IPC_DOM_GONE };
	struct ipc_domain_state stranger = { 9, IPC_DOM_GONE };
	struct client d0;
	struct store_stats st;
	struct guest *g5, *g6;
	int ok = 1;

	env_open();
	client_open(&d0, 0, true);
	send_req(&d0, XS_WATCH, 0, S("@releaseDomain\0r\0"));
	g5 = introduce(&d0, 5, 200);
	g6 = introduce(&d0, 6, 201);
	/* Xen 4.22's per-domain watch: only domain 6's events. */
	send_req(&d0, XS_WATCH, 0, S("@releaseDomain/6\0r6\0"));
	g_send(g5, XS_WRITE, 0, S("data/x\0v"));
	g_send(g5, XS_TRANSACTION_START, 0, S("\0"));
	g_send(g6, XS_WATCH, 0, S("/\0all\0"));
	g_send(g6, XS_WRITE, 0, S("data/y\0v"));
	send_req(&d0, XS_WATCH, 0, S("/local/domain/5/data\0d\0"));
	frames();
	drain(&d0);
	g_drain(g6);
	/* One event for a scan, however many shut down; once each. */
	inject(IPC_DOMAIN_STATE, 0, shut, sizeof(shut));
	run_store();
	ok &= expect("shutdown", drain(&d0),
		     "15 0 0 @releaseDomain/6|r6|\n15 0 0 @releaseDomain|r|\n");
	inject(IPC_DOMAIN_STATE, 0, shut, sizeof(shut));
	run_store();
	ok &= expect("shutdown again", drain(&d0), "");
	send_req(&d0, XS_RESUME, 0, S("5\0"));
	inject(IPC_DOMAIN_STATE, 0, shut, sizeof(shut));
	run_store();
	ok &= expect("resumed", drain(&d0), "18 10 0 OK|\n15 0 0 @releaseDomain|r|\n");
	inject(IPC_DOMAIN_STATE, 0, &stranger, sizeof(stranger));
	inject(IPC_DOMAIN_STATE, 0, &dying, sizeof(dying));
	run_store();
	/* Its nodes go first (one event for the root of each RM), then
	 * the special event. */
	ok &= expect("dying", drain(&d0),
		     "15 0 0 /local/domain/5/data|d|\n15 0 0 @releaseDomain|r|\n");
	ok &= expect("unmap 5", frames(), "RING_UNMAP 200\n");
	/* Domain 6 watches "/" but may not read 5's nodes (XSA-115). */
	ok &= expect("6 saw", g_drain(g6), "");
	inject(IPC_DOMAIN_STATE, 0, &gone, sizeof(gone));
	run_store();
	ok &= expect("gone", drain(&d0),
		     "15 0 0 @releaseDomain|r|\n15 0 0 @releaseDomain/6|r6|\n");
	ok &= expect("unmap 6", frames(), "RING_UNMAP 201\n");
	store_get_stats(sp.store, &st);
	/* /local, /local/domain and the two homes (dom0's) stay. */
	ok &= st.nodes == base.nodes + 4;
	ok &= no_residue(1, 3);
	/* A payload that is not whole entries is the broker's bug. */
	ok &= inject(IPC_DOMAIN_STATE, 0, "123456789abc", 12) == EPROTO;
	close(d0.fd);
	env_close();
	return ok;
}

/* CONN_GONE: the connection goes, the domain stays until it dies; the
 * broker keeps the broken ring mapped until RING_UNMAP. */
static int t_conn_gone(void)
{
	struct ipc_domain_state gone = { 5, IPC_DOM_GONE };
	struct ipc_conn_new cn = { IPC_KIND_RING, 0, IPC_ACCESS_PRIV, -1, 0, 0, 0 };
	struct client d0;
	struct guest *g, *k;
	int ok = 1;

	env_open();
	client_open(&d0, 0, true);
	send_req(&d0, XS_WATCH, 0, S("@releaseDomain\0r\0"));
	g = introduce(&d0, 5, 200);
	g_send(g, XS_WATCH, 0, S("data\0w\0"));
	drain(&d0);
	frames();
	inject(IPC_CONN_GONE, 200, NULL, 0);
	run_store();
	ok &= sp.watches.used == 1 && sp.nconns == 1;
	send_req(&d0, XS_IS_DOMAIN_INTRODUCED, 0, S("5\0"));
	ok &= expect("still introduced", drain(&d0), "17 5 0 T|\n");
	inject(IPC_DOMAIN_STATE, 0, &gone, sizeof(gone));
	run_store();
	ok &= expect("death", drain(&d0), "15 0 0 @releaseDomain|r|\n");
	ok &= expect("unmap", frames(), "RING_UNMAP 200\n");
	ok &= no_residue(1, 1);

	/* dom0's kernel ring: privileged, relative paths against dom0. */
	inject(IPC_CONN_NEW, 300, &cn, sizeof(cn));
	k = guest_new(300);
	k->req = 0;
	g_send(k, XS_WRITE, 0, S("kernel\0k"));
	g_send(k, XS_READ, 0, S("/local/domain/0/kernel\0"));
	g_send(k, XS_INTRODUCE, 0, S("0\0" "0\0" "1\0"));
	ok &= expect("dom0 ring", g_drain(k), "11 1 0 OK|\n2 2 0 k\n8 3 0 OK|\n");
	close(d0.fd);
	env_close();
	return ok;
}

/* One --ring-idle sweep, due now; what it sent. */
static const char *sweep(void)
{
	ring_idle_sweep(&sp);
	return frames();
}

/*
 * --ring-idle: a guest's ring with no traffic for a whole period and
 * nothing waiting either way is told idle once; traffic either way (a
 * request, a watch event, CONN_SPACE, whose 0 is the broker asking to be
 * told again) makes it busy; dom0's kernel ring is never told.
 */
static int t_ring_idle(void)
{
	struct ipc_conn_new cn = { IPC_KIND_RING, 0, IPC_ACCESS_PRIV, -1, 0, 0, 0 };
	uint32_t zero = 0;
	struct client d0;
	struct guest *g;
	int ok = 1;

	env_open();
	sp.ring_idle_fd = -1;  /* no timer: each sweep() is one period */
	client_open(&d0, 0, true);
	inject(IPC_CONN_NEW, 300, &cn, sizeof(cn));
	g = introduce(&d0, 5, 200);
	g_send(g, XS_WATCH, 0, S("data\0w\0"));
	g_drain(g);
	frames();
	ok &= expect("busy", sweep(), "");
	ok &= expect("idle", sweep(), "RING_IDLE 200\n");
	ok &= expect("told once", sweep(), "");
	/* A watch event for it: told again only after a whole quiet period. */
	send_req(&d0, XS_WRITE, 0, S("/local/domain/5/data\0x"));
	drain(&d0);
	ok &= expect("event", g_drain(g), "15 0 0 data|w|\n");
	ok &= expect("after the event", sweep(), "");
	ok &= expect("idle again", sweep(), "RING_IDLE 200\n");
	inject(IPC_CONN_SPACE, 200, &zero, sizeof(zero));
	run_store();
	ok &= expect("CONN_SPACE 0", sweep(), "");
	ok &= expect("told again", sweep(), "RING_IDLE 200\n");
	/* Half a request header: the broker holds it, we wait for the rest. */
	g_bytes(g, "\1\0\0\0", 4);
	run_store();
	ok &= expect("part", sweep(), "") && expect("waiting", sweep(), "");
	ok &= expect("still waiting", sweep(), "");
	close(d0.fd);
	env_close();
	return ok;
}

/*
 * A guest's request: its reply and the credit for it leave in one frame
 * (CONN_CREDIT with the reply after the count), so the broker wakes once;
 * a watch event, which answers no request, leaves with a credit of 0,
 * without which the broker would not let the guest have it (ipc.h).
 */
static int t_reply_joins_credit(void)
{
	struct client d0;
	struct guest *g;
	int ok = 1;

	env_open();
	client_open(&d0, 0, true);
	g = introduce(&d0, 5, 200);
	g_send(g, XS_WRITE, 0, S("data\0ok"));
	g_drain(g);
	g->joined = 0;
	g->credit = 0;
	g_send(g, XS_READ, 0, S("data\0"));
	ok &= expect("read", g_drain(g), "2 2 0 ok\n");
	ok &= g->joined == 1 && g->credit == sizeof(struct xsd_sockmsg) + 5;
	g->plain = 0;
	g_send(g, XS_WATCH, 0, S("data\0w\0"));
	ok &= expect("watch", g_drain(g), "4 3 0 OK|\n15 0 0 data|w|\n");
	/* The WATCH's reply and its first event, written together, joined
	 * its credit: one frame. */
	ok &= g->joined == 2 && g->plain == 0;
	send_req(&d0, XS_WRITE, 0, S("/local/domain/5/data\0x"));
	drain(&d0);
	/* An event answers no request of the guest's: a credit of 0. */
	g->credit = 0;
	ok &= expect("event", g_drain(g), "15 0 0 data|w|\n") &&
	      g->joined == 3 && g->plain == 0 && g->credit == 0;
	ok &= batches_left_open == 0 && credits_mid_message == 0;
	close(d0.fd);
	env_close();
	return ok;
}

/* Requests split anywhere across CONN_DATA frames; a bad header ends the
 * connection (not the domain); the broker overrunning its credit too. */
static int t_ring_input(void)
{
	struct client d0;
	struct guest *g;
	struct xsd_sockmsg h = { XS_READ, 1, 0, 6 };
	unsigned char buf[64];
	int ok = 1;

	env_open();
	client_open(&d0, 0, true);
	g = introduce(&d0, 5, 200);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), "data\0", 5);
	h.len = 5;
	memcpy(buf, &h, sizeof(h));
	g_send(g, XS_WRITE, 0, S("data\0ok"));
	g_drain(g);
	frames();
	for (size_t i = 0; i < sizeof(h) + 5; i++)
		g_bytes(g, buf + i, 1);
	run_store();
	ok &= expect("split", g_drain(g), "2 1 0 ok\n");
	h.len = 4097;
	memcpy(buf, &h, sizeof(h));
	g_bytes(g, buf, sizeof(h));
	run_store();
	ok &= sp.nconns == 1 && domain_find(&sp.domains, 5)->conn == NULL;
	/* 4.17's XENSTORE_ERROR_PROTO for the ring's error field; no unmap. */
	ok &= expect("break, no unmap", frames(), "RING_BREAK 200 3\n");
	ok &= inject(IPC_CONN_DATA, 200, "x", 1) == 0;
	send_req(&d0, XS_RELEASE, 0, S("5\0"));
	ok &= expect("unmap", frames(), "RING_UNMAP 200\n");
	close(d0.fd);
	env_close();
	return ok;
}

/*
 * A second INTRODUCE resets the guest's connection (4.17's
 * domain_conn_reset): requests it has sent but the store has not handled
 * yet are dropped, also when they are only waiting for the end of the
 * turn after the ring's budget ran out, and the broker gets credit for
 * them as consumed.
 */
static int t_reset_drops_queued(void)
{
	struct xsd_sockmsg h = { XS_GET_DOMAIN_PATH, 0, 0, 2 };
	unsigned char buf[40 * (sizeof(h) + 2)];
	struct client d0;
	struct guest *g;
	size_t n = 0;
	int ok = 1, answered;

	env_open();
	client_open(&d0, 0, true);
	g = introduce(&d0, 5, 200);
	g_drain(g);
	drain(&d0);
	frames();
	for (int i = 0; i < 40; i++) {
		h.req_id = (uint32_t)i + 1;
		memcpy(buf + n, &h, sizeof(h));
		memcpy(buf + n + sizeof(h), "5", 2);
		n += sizeof(h) + 2;
	}
	g->req = 40;
	/* One turn: the ring's 40 requests, then dom0's INTRODUCE again. */
	g_bytes(g, buf, n);
	conn_serve_pending(&sp);
	client_send(&d0, XS_INTRODUCE, 0, S("5\0" "1234\0" "7\0"));
	conn_event(&sp, d0.c, EPOLLIN);
	conn_serve_pending(&sp);
	run_store();
	answered = wire_lines(g_drain(g));
	if (answered < 1 || answered >= 40)
		printf("    %d of 40 answered before the reset\n", answered);
	ok &= answered >= 1 && answered < 40;
	ok &= expect("reset", drain(&d0), "8 4 0 OK|\n");
	ok &= g->credit == g->sent;
	/* The connection goes on. */
	g_send(g, XS_GET_DOMAIN_PATH, 0, S("5\0"));
	ok &= expect("after", g_drain(g), "10 41 0 /local/domain/5|\n");
	close(d0.fd);
	env_close();
	return ok;
}

/*
 * Flow control: the broker sends only what it has credit for; a guest
 * that never reads gets IPC_RING_WINDOW reply bytes and no more, its
 * queue stops at the output bound, credit stops, and once it reads
 * (CONN_SPACE) things move again.
 */
static int t_flow_control(void)
{
	static char value[4000];
	struct client d0;
	struct guest *g;
	struct conn *c;
	uint64_t stalled;
	int ok = 1, rounds = 0;

	env_open();
	client_open(&d0, 0, true);
	g = introduce(&d0, 5, 200);
	c = domain_find(&sp.domains, 5)->conn;
	memset(value, 'v', sizeof(value));
	memcpy(value, "big\0", 4);
	g_send(g, XS_WRITE, 0, value, sizeof(value));
	/* As the broker would: send while there is credit. */
	for (;;) {
		uint64_t credit = IPC_RING_WINDOW + g->credit - g->sent;
		struct xsd_sockmsg h = { XS_READ, 0, 0, 4 };
		unsigned char buf[IPC_PAYLOAD_MAX];
		size_t n = 0;

		while (n + sizeof(h) + 4 <= sizeof(buf) &&
		       n + sizeof(h) + 4 <= credit) {
			h.req_id = ++g->req;
			memcpy(buf + n, &h, sizeof(h));
			memcpy(buf + n + sizeof(h), "big\0", 4);
			n += sizeof(h) + 4;
		}
		if (!n || ++rounds > 10000)
			break;
		g_bytes(g, buf, n);
		run_store();
	}
	ok &= rounds < 10000;
	/* Whole replies only: the window is full but for less than one. */
	ok &= g->replied <= IPC_RING_WINDOW && g->replied > IPC_RING_WINDOW - CONN_MSG_MAX;
	ok &= c->out_bytes > CONN_OUT_SOFT &&
	      c->out_bytes <= CONN_OUT_SOFT + CONN_MSG_MAX;
	ok &= c->in_len <= IPC_RING_WINDOW;
	if (!ok)
		printf("    replied %llu out %zu in %zu rounds %d\n",
		       (unsigned long long)g->replied, c->out_bytes, c->in_len,
		       rounds);
	/* Others are served meanwhile. */
	drain(&d0);
	send_req(&d0, XS_READ, 0, S("/tool\0"));
	ok &= expect("others", drain(&d0), "2 4 0 \n");
	/* The guest reads everything it has: more flows, credit resumes. */
	stalled = g->credit;
	for (int i = 0; i < 5000 && (c->out_bytes || c->unacked); i++) {
		uint32_t n = c->unacked;

		inject(IPC_CONN_SPACE, 200, &n, sizeof(n));
		run_store();
		g->have = 0;
	}
	ok &= g->credit > stalled && c->out_bytes == 0;
	/* Every batch of replies, stalled or not, ended with a credit (of 0
	 * while the output was over its bound): the broker let the guest
	 * have them all. */
	ok &= batches_left_open == 0 && !g->open_batch;
	/* The window filled up: still, every credit came between replies. */
	ok &= credits_mid_message == 0;
	if (!ok)
		printf("    credit %llu stalled %llu out %zu unacked %u open %u mid %u\n",
		       (unsigned long long)g->credit, (unsigned long long)stalled,
		       c->out_bytes, c->unacked, batches_left_open, credits_mid_message);
	close(d0.fd);
	env_close();
	return ok;
}

/* A full ipc pipe: frames wait in the queue, none lost, none reordered. */
static int t_ipc_queue(void)
{
	static unsigned char buf[IPC_FRAME_MAX];
	struct ipc_msg m;
	uint32_t sent = 0, got = 0;
	int ok = 1;

	env_open();
	while (sent < 100000 && !ipc_out_waiting(&sp)) {
		sent++;
		ipc_out_send(&sp, IPC_CONN_CREDIT, 7, &sent, sizeof(sent));
	}
	/* As many again behind the first that had to wait. */
	for (uint32_t j = sent; j > 0; j--) {
		sent++;
		ipc_out_send(&sp, IPC_CONN_CREDIT, 7, &sent, sizeof(sent));
	}
	ok &= ipc_out_waiting(&sp) && sent < 200000;
	for (int round = 0; round < 1000 && got < sent; round++) {
		while (ipc_recv(&broker_end, buf, sizeof(buf), IPC_TO_BROKER, &m) == 0) {
			uint32_t n;

			memcpy(&n, m.payload, sizeof(n));
			ok &= n == got + 1;
			got++;
		}
		ipc_out_flush(&sp);
	}
	ok &= got == sent && !ipc_out_waiting(&sp) && sp.ipcq_bytes == 0;
	if (!ok)
		printf("    sent %u got %u\n", sent, got);
	env_close();
	return ok;
}

/*
 * A snapshot goes to the broker behind the frames queued while the ipc
 * socket was full, never ahead of them: those may be credits for
 * requests the snapshot no longer lists as applied.
 */
static int t_snapshot_behind_queue(void)
{
	static unsigned char buf[IPC_FRAME_MAX];
	struct ipc_msg m;
	uint32_t sent = 0, got = 0;
	int ok = 1, early = 0, journals = 0;

	env_open();
	while (sent < 100000 && !ipc_out_waiting(&sp)) {
		sent++;
		ipc_out_send(&sp, IPC_CONN_CREDIT, 7, &sent, sizeof(sent));
	}
	for (int j = 0; j < 10; j++) {
		sent++;
		ipc_out_send(&sp, IPC_CONN_CREDIT, 7, &sent, sizeof(sent));
	}
	/* Room for a few frames, not for the whole queue. */
	for (int j = 0; j < 3; j++)
		ok &= ipc_recv(&broker_end, buf, sizeof(buf), IPC_TO_BROKER, &m) == 0;
	got = 3;
	sp.journal.snap_due = true;
	for (int round = 0; round < 1000 && (got < sent || !journals); round++) {
		journal_flush(&sp);	/* the main loop's, after each event */
		while (ipc_recv(&broker_end, buf, sizeof(buf), IPC_TO_BROKER, &m) == 0) {
			if (m.hdr.type == IPC_JOURNAL) {
				journals++;
				early += got < sent;
				close(m.fd);
				continue;
			}
			got++;
		}
		ipc_out_flush(&sp);
	}
	if (!ok || early || journals != 1 || got != sent)
		printf("    sent %u got %u, %d snapshots, %d early\n", sent, got,
		       journals, early);
	ok &= got == sent && journals == 1 && !early;
	env_close();
	return ok;
}

/*
 * A restarted store given a ring's unanswered requests again (ipc.h,
 * ring_pos): one whose change the journal holds (JOURNAL_SEEN at its end)
 * is answered "OK" without being applied twice; later ones are applied.
 */
static int t_ring_replay(void)
{
	static const char *const dirs[] = { "/local", "/local/domain",
					    "/local/domain/5", "/local/domain/5/data" };
	struct perm own5 = { 5, PERM_NONE };
	struct ipc_conn_new cn = { IPC_KIND_RING, 5, 0, -1, 0, 0, 1000 };
	unsigned char req[64];
	struct buf body = BUF_INIT, jnl = BUF_INIT;
	struct journal_replay_stats st;
	struct guest *g;
	size_t len;
	int ok = 1;

	env_open();
	/* The first request the broker gives again: WRITE data/a "again". */
	len = wire_request(req, XS_WRITE, 1, 0, S("data/a\0again"));
	for (size_t i = 0; i < 4; i++)
		journal_op_append(&body, JOURNAL_PUT, dirs[i], &own5, 1, NULL, 0);
	journal_op_append(&body, JOURNAL_PUT, "/local/domain/5/data/a", &own5, 1,
			  "kept", 4);
	journal_op_seen(&body, 300, 1000 + len);
	/* Another ring's, and this ring's before ring_pos: no bearing. */
	journal_op_seen(&body, 301, 1000 + 2 * len);
	journal_op_seen(&body, 300, 1000);
	journal_head(&jnl, 0);
	journal_record(&jnl, body.data, body.len);
	ok &= journal_replay_rings(sp.store, jnl.data, jnl.len, &st,
				   &sp.journal.restored) == 0 && !st.bad_bytes;
	inject(IPC_CONN_NEW, 300, &cn, sizeof(cn));
	g = guest_new(300);
	ok &= sp.domains.count && domain_find(&sp.domains, 5)->conn->n_applied == 1;
	g_bytes(g, req, len);
	g->req = 1;
	run_store();
	g_send(g, XS_READ, 0, S("data/a\0"));
	/* Not applied: the tree keeps the journaled value. */
	ok &= expect("answered", g_drain(g), "11 1 0 OK|\n2 2 0 kept\n");
	ok &= domain_find(&sp.domains, 5)->conn->n_applied == 0;
	/* The same request again, past the list: applied as any. */
	g_send(g, XS_WRITE, 0, S("data/a\0again"));
	g_send(g, XS_READ, 0, S("data/a\0"));
	ok &= expect("applied", g_drain(g), "11 3 0 OK|\n2 4 0 again\n");
	/* Every answered byte went back to the broker as credit. */
	ok &= g->credit == g->sent;
	buf_free(&body);
	buf_free(&jnl);
	journal_rings_free(&sp.journal.restored);
	env_close();
	return ok;
}

/* The snapshot a restore takes, handed to the "broker", read into jnl. */
static int snapshot_read(struct buf *jnl)
{
	struct ipc_msg none = { .fd = -1 };
	off_t end;

	journal_restore_frame(&sp, &none);
	collect();
	end = journal_fd >= 0 ? lseek(journal_fd, 0, SEEK_END) : -1;
	if (end <= 0 || buf_reserve(jnl, (size_t)end) ||
	    pread(journal_fd, jnl->data, (size_t)end, 0) != end)
		return 0;
	jnl->len = (size_t)end;
	return 1;
}

/*
 * A snapshot carries every applied request of a ring that the broker
 * still holds (JOURNAL_SEEN), not only the last: several pipelined
 * requests may all wait for their replies when a snapshot replaces the
 * journal.  Once their bytes are granted back they are dropped.
 */
static int t_seen_in_snapshot(void)
{
	struct ipc_conn_new cn = { IPC_KIND_RING, 5, 0, -1, 0, 0, 0 };
	struct journal_rings r = { 0 };
	struct journal_replay_stats st;
	struct buf jnl = BUF_INIT;
	struct store *copy = store_new();
	uint32_t want[9] = { 300, 5, 0, 300, 10, 0, 300, 15, 0 };
	struct guest *g;
	struct conn *c;
	int ok = copy != NULL;

	env_open();
	inject(IPC_CONN_NEW, 300, &cn, sizeof(cn));
	g = guest_new(300);
	c = domain_find(&sp.domains, 5)->conn;
	/* Ends within the first request the guest sends below. */
	for (uint64_t e = 5; e <= 15; e += 5) {
		c->req_end = e;
		ok &= !conn_note_applied(c);
	}
	ok &= snapshot_read(&jnl);
	ok &= !journal_replay_rings(copy, jnl.data, jnl.len, &st, &r) && !st.bad_bytes &&
	      r.seen.len == sizeof(want) && !memcmp(r.seen.data, want, sizeof(want));
	/* A request answered and granted back: the list is emptied. */
	g_send(g, XS_WRITE, 0, S("data\0x"));
	ok &= c->n_seen == 0 && g->credit == g->sent;
	journal_rings_free(&r);
	store_free(copy);
	buf_free(&jnl);
	journal_state_fini(&sp.journal);
	journal_state_init(&sp.journal);
	close(journal_fd);
	journal_fd = -1;
	env_close();
	return ok;
}

/*
 * A unix client's watches go into a snapshot in records of about 64 KiB,
 * as the tree's nodes do (the replay bounds a record at 16 MiB, and dom0
 * has no watch quota): 20,000 watches come back whole from several.
 */
static int t_client_watches_chunked(void)
{
	struct caller dom0 = { 0, DOMID_NONE, true };
	struct journal_rings r = { 0 };
	struct journal_replay_stats st;
	struct buf jnl = BUF_INIT;
	struct store *copy = store_new();
	struct journal_ring *e;
	struct conn *c;
	char path[64], token[64];
	size_t n = 0;
	int sv[2], ok = copy != NULL;

	env_open();
	ok &= !socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	c = ok ? conn_new(&sp, sv[0], 77, &dom0, false) : NULL;
	ok &= c != NULL;
	for (int i = 0; ok && i < 20000; i++) {
		snprintf(path, sizeof(path), "/unrelated/%d", i);
		snprintf(token, sizeof(token), "token-of-watch-number-%d", i);
		ok &= !watch_add(&sp.watches, &c->wo, path, false, token, NULL);
	}
	ok &= snapshot_read(&jnl);
	ok &= !journal_replay_rings(copy, jnl.data, jnl.len, &st, &r) && !st.bad_bytes &&
	      st.records > 4 && (e = journal_clients_find(&r, 77)) != NULL;
	for (size_t off = 0; ok && off < e->watches.len; n++)
		off += strlen(e->watches.data + off) + 1, off += strlen(e->watches.data + off) + 1;
	if (ok && n != 20000) {
		printf("    %zu watches came back in %zu records\n", n, st.records);
		ok = 0;
	}
	watch_remove_all(&sp.watches, &c->wo);
	journal_rings_free(&r);
	store_free(copy);
	buf_free(&jnl);
	close(sv[1]);
	env_close();
	return ok;
}

/*
 * The rings' operations of a snapshot are framed in records of about
 * 64 KiB too, between one domain's operations and the next: 300 guests
 * with 128 watches each (5 MiB of WATCH operations; 10,000 guests would
 * pass the replay's 16 MiB bound on one record) come back whole, from
 * records none of which is bigger than a chunk and one domain's share.
 * They are guests the restart restored whose rings are not back yet,
 * which a snapshot keeps as it found them.
 */
static int t_ring_watches_chunked(void)
{
	struct journal_rings *rs = &sp.journal.restored, r = { 0 };
	struct journal_replay_stats st;
	struct buf jnl = BUF_INIT, body = BUF_INIT;
	struct store *copy = store_new();
	char path[128], token[64];
	size_t biggest = 0, watches = 0, zipped = 0;
	uint32_t nslots;
	int ok = copy != NULL;

	env_open();
	rs->v = calloc(300, sizeof(*rs->v));
	ok &= rs->v != NULL;
	rs->n = rs->cap = ok ? 300 : 0;
	for (uint32_t i = 0; ok && i < 300; i++) {
		struct journal_ring *e = &rs->v[i];

		e->domid = i + 1;
		e->target = DOMID_NONE;
		e->txn_next = 1;
		for (int w = 0; ok && w < 128; w++) {
			snprintf(path, sizeof(path),
				 "/local/domain/%u/device/vbd/%d/a-rather-long-key-name", i + 1, w);
			snprintf(token, sizeof(token), "token-%u-%d", i + 1, w);
			ok &= !buf_append(&e->watches, "0", 1) &&
			      !buf_append_str0(&e->watches, path) &&
			      !buf_append_str0(&e->watches, token);
		}
	}
	ok &= snapshot_read(&jnl) && jnl.len > JOURNAL_HEAD_FIXED;
	memcpy(&nslots, jnl.data + JOURNAL_MAGIC_LEN, sizeof(nslots));
	for (size_t off = JOURNAL_HEAD_LEN(nslots); ok && off + JOURNAL_REC_HDR <= jnl.len;) {
		uint32_t len;
		size_t plain;

		memcpy(&len, jnl.data + off, sizeof(len));
		if (!len)
			break;
		plain = len & ~JOURNAL_REC_ZSTD;
		if (len & JOURNAL_REC_ZSTD) {
			/* The bound is on what a record holds, not what it stores. */
			ok &= !journal_unzip(jnl.data + off + JOURNAL_REC_HDR, plain, &body);
			plain = body.len;
			zipped++;
		}
		if (plain > biggest)
			biggest = plain;
		off += JOURNAL_REC_HDR + (len & ~JOURNAL_REC_ZSTD);
	}
	ok &= !journal_replay_rings(copy, jnl.data, jnl.len, &st, &r) && !st.bad_bytes;
	for (size_t i = 0; ok && i < r.n; i++)
		for (size_t off = 0; off < r.v[i].watches.len; watches++)
			off += strlen(r.v[i].watches.data + off) + 1,
			off += strlen(r.v[i].watches.data + off) + 1;
	if (ok && (r.n != 300 || watches != 300 * 128 || biggest > JOURNAL_SNAP_CHUNK + 32768 ||
		   !zipped)) {
		printf("    %zu guests, %zu watches back; biggest record %zu bytes, %zu compressed\n",
		       r.n, watches, biggest, zipped);
		ok = 0;
	}
	buf_free(&body);
	journal_rings_free(&r);
	store_free(copy);
	buf_free(&jnl);
	env_close();
	return ok;
}

static const struct unit_case tests[] = {
	{ "INTRODUCE waits for RING_RESULT, @introduceDomain, errors", t_introduce },
	{ "unprivileged domain: home, owner, EACCES/EPERM/ENOSPC, events", t_unprivileged },
	{ "SET_TARGET gives a device model its target's rights", t_set_target },
	{ "RELEASE: unmap, @releaseDomain, owned nodes deleted, no residue", t_release },
	{ "RELEASE with -K gives orphans to dom0", t_keep_orphans },
	{ "RELEASE is journaled without a snapshot, and replays", t_release_journaled },
	{ "domid reuse: a dead domain's ACL entries are removed", t_domid_reuse },
	{ "DOMAIN_STATE: shutdown once, RESUME, death and clean-up", t_domain_state },
	{ "CONN_GONE keeps the domain; dom0's kernel ring", t_conn_gone },
	{ "ring input: split requests, bad header, stale frames", t_ring_input },
	{ "ring flow control: window, output bound, credit", t_flow_control },
	{ "a second INTRODUCE drops a ring's requests left for the turn's end", t_reset_drops_queued },
	{ "a ring request's reply and its credit leave in one frame", t_reply_joins_credit },
	{ "--ring-idle: a ring at rest a whole period told idle once", t_ring_idle },
	{ "ipc output queue keeps order when the socket is full", t_ipc_queue },
	{ "a snapshot waits behind the ipc frames queued before it", t_snapshot_behind_queue },
	{ "a ring's requests given again after a restart: applied ones answered", t_ring_replay },
	{ "a snapshot carries every applied ring request not yet granted back", t_seen_in_snapshot },
	{ "a unix client's 20,000 watches go into a snapshot in 64 KiB records", t_client_watches_chunked },
	{ "300 guests' 128 watches each go into a snapshot in 64 KiB records", t_ring_watches_chunked },
};

UNIT_MAIN("domain")
