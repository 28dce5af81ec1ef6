/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store_harness.c - the store process driven without its main loop, for
 * the fuzz target and the valgrind replay (see store_harness.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "fuzz.h"
#include "ipc_out.h"
#include "path.h"
#include "quota.h"
#include "store_harness.h"
#include "storeproc.h"

#define NSOCK 4
#define SOCK_PRIV2 3
#define RING6_ID 10u
#define GUEST_ID0 100u

/* The harness's own state; reset for every input. */
struct harness {
	struct ipc_link broker;		/* the broker's end of the ipc channel */
	int cfd[NSOCK];			/* our end of each socket client, or -1 */
	uint32_t guest_ring;		/* newest mapped guest ring id, or 0 */
	uint32_t next_ring;
	uint32_t credit6, credit_guest;
	bool broken;			/* the store would have exited */
	size_t reply_bytes;		/* replies and events received */
};

static struct storeproc sp;
static struct harness hs;
static unsigned char frame[IPC_FRAME_MAX];

static void env_open(void)
{
	memset(&sp, 0, sizeof(sp));
	memset(&hs, 0, sizeof(hs));
	sp.lim = (struct storeproc_limits){
		.entry_nb = 1000, .entry_size = 2048, .watch_nb = 128,
		.transaction = 10, .perm_nb = 5, .path_max = PATH_REL_MAX,
		.outstanding = 20, .trans_nodes = 1024,
		.memory = 2 * 1024 * 1024 + 512 * 1024,
		.memory_soft = 2 * 1024 * 1024, .watch_event_s = 20,
	};
	FUZZ_ASSERT(ipc_link_pair(&sp.ipc, &hs.broker) == 0);
	FUZZ_ASSERT(fcntl(hs.broker.in, F_SETFL, O_NONBLOCK) == 0);
	sp.trace_fd = -1;
	sp.epfd = epoll_create1(EPOLL_CLOEXEC);
	sp.store = store_new();
	sp.quota = quota_new(&sp.lim);
	FUZZ_ASSERT(sp.epfd >= 0 && sp.store && sp.quota);
	store_set_quota(sp.store, sp.quota);
	watch_index_init(&sp.watches, 1);
	domain_table_init(&sp.domains);
	sp.sink.fire = ops_watch_sink;
	sp.sink.ctx = &sp;
	for (int i = 0; i < NSOCK; i++)
		hs.cfd[i] = -1;
	hs.next_ring = GUEST_ID0;
}

static void env_close(void)
{
	conn_close_all(&sp);
	ipc_out_flush(&sp);
	ipc_out_free(&sp);
	domain_table_fini(&sp.domains);
	watch_index_fini(&sp.watches);
	store_free(sp.store);
	quota_free(sp.quota);
	buf_free(&sp.path);
	buf_free(&sp.out);
	close(sp.epfd);
	ipc_link_close(&sp.ipc);
	ipc_link_close(&hs.broker);
	for (int i = 0; i < NSOCK; i++)
		if (hs.cfd[i] >= 0)
			close(hs.cfd[i]);
}

static struct conn *find_conn(uint32_t id)
{
	for (struct conn *c = sp.first; c; c = c->next)
		if (c->id == id && !c->dead)
			return c;
	return NULL;
}

/* A frame as the broker's ipc_recv would have handed it over. */
static int broker_frame(uint32_t type, uint32_t conn, const void *payload,
			uint32_t len)
{
	struct ipc_msg m = {
		.hdr = { type, conn, 0, len }, .payload = payload, .fd = -1,
	};

	return domain_frame(&sp, &m);
}

static void run_pending(void)
{
	for (int i = 0; i < 64 && conn_run_pending(&sp); i++)
		;
	ipc_out_flush(&sp);
}

/* Read what the store sent the broker and answer it. */
static bool serve_broker(void)
{
	struct ipc_msg m;
	bool any = false;

	while (!hs.broken &&
	       ipc_recv(&hs.broker, frame, sizeof(frame), IPC_TO_BROKER, &m) == 0) {
		uint32_t n;

		any = true;
		if (m.fd >= 0)
			close(m.fd);
		switch (m.hdr.type) {
		case IPC_REPLY_DATA:
			/* The guest read it all at once. */
			n = m.hdr.len;
			hs.reply_bytes += n;
			if (broker_frame(IPC_CONN_SPACE, m.hdr.conn, &n, sizeof(n)))
				hs.broken = true;
			break;
		case IPC_CONN_CREDIT:
			memcpy(&n, m.payload, sizeof(n));
			if (m.hdr.conn == RING6_ID)
				hs.credit6 += n;
			else if (m.hdr.conn == hs.guest_ring)
				hs.credit_guest += n;
			/* Reply bytes after the count: as REPLY_DATA (ipc.h). */
			n = m.hdr.len - (uint32_t)sizeof(n);
			hs.reply_bytes += n;
			if (n && broker_frame(IPC_CONN_SPACE, m.hdr.conn, &n, sizeof(n)))
				hs.broken = true;
			break;
		case IPC_RING_MAP: {
			struct ipc_ring_map rm;
			struct ipc_ring_result res = { 0 };

			memcpy(&rm, m.payload, sizeof(rm));
			res.domid = rm.domid;
			/* Every eighth map fails, as a dead guest's would. */
			if ((hs.next_ring & 7) == 7) {
				res.err = ESRCH;
				hs.next_ring++;
			} else {
				res.conn = hs.next_ring++;
				hs.guest_ring = res.conn;
				hs.credit_guest = IPC_RING_WINDOW;
			}
			if (broker_frame(IPC_RING_RESULT, 0, &res, sizeof(res)))
				hs.broken = true;
			break;
		}
		default:
			break;
		}
	}
	return any;
}

static void drain_clients(void)
{
	unsigned char sink[16384];

	ssize_t n;

	for (int i = 0; i < NSOCK; i++)
		while (hs.cfd[i] >= 0 &&
		       (n = recv(hs.cfd[i], sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			hs.reply_bytes += (size_t)n;
}

static void settle(void)
{
	for (int i = 0; i < 16; i++) {
		run_pending();
		drain_clients();
		for (struct conn *c = sp.first; c; c = c->next)
			if (!c->ring && !c->dead)
				conn_event(&sp, c, EPOLLIN | EPOLLOUT);
		run_pending();
		if (!serve_broker())
			break;
	}
}

static struct conn *sock_conn(int which)
{
	static const struct caller who[NSOCK] = {
		{ 0, DOMID_NONE, true },
		{ 0, DOMID_NONE, true },	/* socket_ro: privileged, read-only */
		{ 5, DOMID_NONE, false },
		{ 0, DOMID_NONE, true },
	};
	struct conn *c = find_conn(1u + (uint32_t)which);
	int sv[2];

	if (c)
		return c;
	if (hs.cfd[which] >= 0)
		close(hs.cfd[which]);
	hs.cfd[which] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv))
		return NULL;
	hs.cfd[which] = sv[1];
	return conn_new(&sp, sv[0], 1u + (uint32_t)which, &who[which], which == 1);
}

static void feed_socket(int which, const uint8_t *p, size_t n, bool hangup)
{
	struct conn *c = sock_conn(which);
	size_t off = 0;

	if (!c)
		return;
	while (off < n) {
		ssize_t w = send(hs.cfd[which], p + off, n - off, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		off += (size_t)w;
		/* Let the store read it in as many bites as it takes, as
		 * epoll would go on reporting it. */
		for (int i = 0; i < 8; i++) {
			int unread = 0;

			c = find_conn(1u + (uint32_t)which);
			if (!c)
				return;
			conn_event(&sp, c, EPOLLIN);
			settle();
			if (ioctl(hs.cfd[which], TIOCOUTQ, &unread) || unread <= 0)
				break;
		}
	}
	if (hangup) {
		shutdown(hs.cfd[which], SHUT_WR);
		c = find_conn(1u + (uint32_t)which);
		if (c)
			conn_event(&sp, c, EPOLLIN | EPOLLHUP);
	}
	settle();
}

static void feed_ring(uint32_t id, uint32_t *credit, const uint8_t *p, size_t n,
		      bool hangup)
{
	while (n && *credit && !hs.broken) {
		uint32_t chunk = n < IPC_PAYLOAD_MAX ? (uint32_t)n : IPC_PAYLOAD_MAX;

		if (chunk > *credit)
			chunk = *credit;
		if (broker_frame(IPC_CONN_DATA, id, p, chunk))
			hs.broken = true;
		*credit -= chunk;
		p += chunk;
		n -= chunk;
		settle();
	}
	if (hangup && !hs.broken) {
		/* A broken ring: the broker cuts the connection off. */
		if (broker_frame(IPC_CONN_GONE, id, NULL, 0))
			hs.broken = true;
	}
	settle();
}

static void ring6(void)
{
	struct ipc_conn_new cn = { IPC_KIND_RING, 6, 0, -1, 0, 0, 0 };

	if (find_conn(RING6_ID))
		return;
	domain_ring_announced(&sp, RING6_ID, &cn);
	hs.credit6 = IPC_RING_WINDOW;
}

/* Raw bytes as a frame from the broker, handled as main.c's ipc_input. */
static void feed_frame(const uint8_t *p, size_t n)
{
	struct ipc_msg m;

	if (n > sizeof(frame))
		return;
	memcpy(frame, p, n);
	if (ipc_frame_check(frame, n, IPC_TO_STORE, 0, &m))
		return;
	switch (m.hdr.type) {
	case IPC_CONN_DATA:
		/* Only within the credit the store granted (else EPROTO,
		 * and the store exits: the broker broke its policy). */
		if (m.hdr.conn == RING6_ID || m.hdr.conn == hs.guest_ring)
			return;
		/* fall through */
	case IPC_CONN_SPACE:
	case IPC_CONN_GONE:
	case IPC_RING_RESULT:
	case IPC_DOMAIN_STATE:
		if (domain_frame(&sp, &m))
			hs.broken = true;
		break;
	default:
		break;
	}
	settle();
}

/* The domids named by the nodes of a walk, the root aside; capped. */
struct named {
	uint32_t domid[64];
	size_t n;
	bool full;
};

static int note_named(void *ctx, const char *path, size_t pathlen, size_t shared,
		      const struct perm_list *pl, const void *val, size_t vlen)
{
	struct named *nd = ctx;

	(void)path;
	(void)shared;
	(void)val;
	(void)vlen;
	for (unsigned int i = 0; pathlen > 1 && i < pl->n; i++) {
		size_t j = 0;

		/* The direction that matters, for every entry: never "none". */
		FUZZ_ASSERT(store_names_domid(sp.store, pl->e[i].domid));
		while (j < nd->n && nd->domid[j] != pl->e[i].domid)
			j++;
		if (j < nd->n)
			continue;
		if (nd->n == sizeof(nd->domid) / sizeof(nd->domid[0]))
			nd->full = true;
		else
			nd->domid[nd->n++] = pl->e[i].domid;
	}
	return 0;
}

void harness_check_names(void)
{
	/* Domids the harness's clients act for, and a few a request may name. */
	static const uint32_t probe[] = { 0, 1, 5, 6, 7, 0x7fef, 0xffff, 0xffffffffu };
	struct named nd = { .n = 0 };

	FUZZ_ASSERT(store_each_node(sp.store, note_named, &nd) == 0);
	/* The other direction, for a few: a count left over says "named". */
	for (size_t i = 0; !nd.full && i < sizeof(probe) / sizeof(probe[0]); i++) {
		bool named = false;

		for (size_t j = 0; j < nd.n; j++)
			named |= nd.domid[j] == probe[i];
		FUZZ_ASSERT(store_names_domid(sp.store, probe[i]) == named);
	}
}

void harness_open(void)
{
	env_open();
}

void harness_close(void)
{
	env_close();
}

bool harness_broken(void)
{
	return hs.broken;
}

size_t harness_reply_bytes(void)
{
	return hs.reply_bytes;
}

void harness_feed(enum harness_conn which, const uint8_t *p, size_t n,
		  bool hangup)
{
	if (hs.broken)
		return;
	switch (which) {
	case HARNESS_PRIV:
	case HARNESS_RDONLY:
	case HARNESS_DOMU:
		feed_socket((int)which, p, n, hangup);
		break;
	case HARNESS_PRIV2:
		feed_socket(SOCK_PRIV2, p, n, hangup);
		break;
	case HARNESS_RING6:
		ring6();
		feed_ring(RING6_ID, &hs.credit6, p, n, hangup);
		break;
	case HARNESS_GUEST:
		if (hs.guest_ring && find_conn(hs.guest_ring))
			feed_ring(hs.guest_ring, &hs.credit_guest, p, n, hangup);
		break;
	default:
		feed_frame(p, n);
		break;
	}
}
