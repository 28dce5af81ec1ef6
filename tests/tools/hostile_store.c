/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostile_store.c - a compromised store process, for the tests that prove
 * the broker does not trust it (tests/bats/hostile_store.bats).
 *
 * The broker runs it with `--storeproc PATH` like lixs-storeproc.  Which
 * attack it makes depends on how often it has been started, so that one
 * broker sees a real store process, then an attacker, then the real one
 * again:
 *
 *   HOSTILE_DIR   directory the test controls (required):
 *                   plan     line N = what the Nth start does (below);
 *                            a missing or empty line means "real"
 *                   starts   one line per start: its pid (written here)
 *                   report   what each start saw: "N: WORDS..." lines
 *   HOSTILE_REAL  the real lixs-storeproc: a "real" start execs it with
 *                 the same arguments, keeping the ipc socket at fd 3
 *
 * Plan words (TARGET: dom0, dom:N, conn:N, or socket = the next unix
 * client the broker hands over; the test connects one after the report
 * says "WAIT socket"):
 *
 *   before HELLO:  short | oversize | hello-version | early-map
 *   after HELLO:   hello2 | badtype | wrongdir | lenmismatch | badflags |
 *                  fd-flag | fd-noflag | fds-many | noconn |
 *                  unmap TARGET | idle TARGET | break TARGET CODE | reply TARGET FRAMES | credit TARGET N |
 *                  credit-reply TARGET FRAMES (CONN_CREDIT 0 with full frames of reply) |
 *                  flood N (valid CONN_CREDIT 0 frames, then RING_UNMAP of
 *                  dom0's ring) | flood-map N (RING_MAP of a domain that
 *                  does not exist, answers never read) |
 *                  map DOMID:PORT... (each answer reported, then exit 0)
 *
 * Every attack waits until the process is 1.1 s old, so its death does
 * not grow the broker's restart backoff.  A start the broker should have
 * ended but did not reports "NOT-ENDED" and exits with status 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

#define ATTACK_AT_MS 1100
#define END_WAIT_MS 5000
#define MAX_RINGS 64

struct hostile {
	const char *dir;
	unsigned int start;           /* 1 for the first start */
	struct timespec born;
	uint8_t buf[IPC_FRAME_MAX];
	struct {
		uint32_t domid, conn;
	} rings[MAX_RINGS];
	unsigned int nrings;
	uint32_t socket_conn;         /* 0: none handed over yet */
};

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

__attribute__((format(printf, 2, 3)))
static void report(const struct hostile *h, const char *fmt, ...)
{
	char path[4096];
	FILE *f;
	va_list ap;

	snprintf(path, sizeof(path), "%s/report", h->dir);
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%u: ", h->start);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

/* Record this start and return its number (1-based). */
static unsigned int count_start(const char *dir)
{
	char path[4096], line[64];
	unsigned int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/starts", dir);
	f = fopen(path, "a+");
	if (!f)
		return 0;
	fprintf(f, "%d\n", (int)getpid());
	fflush(f);
	rewind(f);
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

/* Line `n` of the plan into `line`; empty when there is none. */
static void plan_line(const char *dir, unsigned int n, char *line, size_t size)
{
	char path[4096];
	FILE *f;

	line[0] = '\0';
	snprintf(path, sizeof(path), "%s/plan", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	for (unsigned int i = 1; fgets(line, (int)size, f); i++)
		if (i == n)
			break;
	if (feof(f))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	fclose(f);
}

/* Any datagram, with up to 8 descriptors: no check, on purpose. */
static void send_raw(const void *p, size_t len, const int *fds, unsigned int nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(8 * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	sendmsg(LIXS_IPC_FD, &mh, MSG_NOSIGNAL);
}

/* One frame with any header; `len` is what the header claims. */
static void send_frame(uint32_t type, uint32_t conn, uint32_t flags, uint32_t len,
		       const void *payload, size_t real_len, const int *fds, unsigned int nfds)
{
	static uint8_t frame[IPC_HDR_SIZE + 2 * IPC_PAYLOAD_MAX];
	struct ipc_hdr hdr = { type, conn, flags, len };

	if (real_len > sizeof(frame) - IPC_HDR_SIZE)
		real_len = sizeof(frame) - IPC_HDR_SIZE;
	memcpy(frame, &hdr, sizeof(hdr));
	if (payload)
		memcpy(frame + IPC_HDR_SIZE, payload, real_len);
	else
		memset(frame + IPC_HDR_SIZE, 'x', real_len);
	send_raw(frame, IPC_HDR_SIZE + real_len, fds, nfds);
}

static void send_hello(uint32_t version)
{
	struct ipc_hello hello = { version, (uint32_t)getpid() };

	send_frame(IPC_HELLO, 0, 0, sizeof(hello), &hello, sizeof(hello), NULL, 0);
}

/* Read what the broker sends for up to `ms`; false when it hung up. */
static bool take_frames(struct hostile *h, long ms)
{
	struct pollfd pfd = { .fd = LIXS_IPC_FD, .events = POLLIN };
	struct ipc_conn_new cn;
	struct ipc_ring_result rr;
	struct ipc_msg m;
	int ret;

	if (ms < 0 || poll(&pfd, 1, (int)ms) != 1)
		return true;
	ret = ipc_recv(LIXS_IPC_FD, h->buf, sizeof(h->buf), IPC_TO_STORE, &m);
	if (ret == EAGAIN)
		return true;
	if (ret)
		return false;
	if (m.fd >= 0)
		close(m.fd);
	if (m.hdr.type == IPC_CONN_NEW && !ipc_conn_new_decode(&m, &cn)) {
		if (cn.kind == IPC_KIND_SOCKET && !h->socket_conn)
			h->socket_conn = m.hdr.conn;
		if (cn.kind == IPC_KIND_RING && h->nrings < MAX_RINGS) {
			h->rings[h->nrings].domid = cn.domid;
			h->rings[h->nrings++].conn = m.hdr.conn;
		}
	} else if (m.hdr.type == IPC_RING_RESULT && m.hdr.len == sizeof(rr)) {
		memcpy(&rr, m.payload, sizeof(rr));
		report(h, "RESULT domid=%u err=%s conn=%u", rr.domid,
		       rr.err ? strerrorname_np((int)rr.err) : "0", rr.conn);
	}
	return true;
}

/* Keep reading until `ms` since birth. */
static void take_until(struct hostile *h, long ms)
{
	long left;

	while ((left = ms - ms_since(&h->born)) > 0)
		if (!take_frames(h, left))
			return;
}

/* The conn id TARGET names; 0 when unknown. */
static uint32_t target_conn(struct hostile *h, const char *t)
{
	unsigned long v;

	if (!t)
		return 0;
	if (!strcmp(t, "socket")) {
		report(h, "WAIT socket");
		while (!h->socket_conn && ms_since(&h->born) < ATTACK_AT_MS + END_WAIT_MS)
			if (!take_frames(h, 100))
				return 0;
		return h->socket_conn;
	}
	if (!strncmp(t, "conn:", 5))
		return (uint32_t)strtoul(t + 5, NULL, 0);
	v = !strcmp(t, "dom0") ? 0 : !strncmp(t, "dom:", 4) ? strtoul(t + 4, NULL, 0) : ~0ul;
	for (unsigned int i = 0; i < h->nrings; i++)
		if (h->rings[i].domid == v)
			return h->rings[i].conn;
	return 0;
}

/* After a frame the broker must refuse: it should end us now. */
static _Noreturn void await_end(struct hostile *h)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	while (ms_since(&t) < END_WAIT_MS)
		if (!take_frames(h, END_WAIT_MS - ms_since(&t)))
			_exit(0);
	report(h, "NOT-ENDED");
	_exit(3);
}

static void attack_maps(struct hostile *h, char **words, int n)
{
	for (int i = 1; i < n; i++) {
		struct ipc_ring_map rm = { 0 };
		char *colon = strchr(words[i], ':');

		rm.domid = (uint32_t)strtoul(words[i], NULL, 0);
		rm.port = colon ? (uint32_t)strtoul(colon + 1, NULL, 0) : 1;
		send_frame(IPC_RING_MAP, 0, 0, sizeof(rm), &rm, sizeof(rm), NULL, 0);
		/* Answers come in order: one a request. */
		for (int k = 0; k < 50; k++)
			take_frames(h, 20);
	}
	report(h, "DONE");
	_exit(0);
}

/* Attacks made after a proper HELLO. */
static _Noreturn void attack_serving(struct hostile *h, char **w, int n)
{
	bool flood = !strncmp(w[0], "flood", 5);
	uint32_t zero = 0, conn = 0, count = n > 1 ? (uint32_t)strtoul(w[1], NULL, 0) : 0;
	uint32_t arg = n > 2 ? (uint32_t)strtoul(w[2], NULL, 0) : 1;
	struct ipc_ring_map rm = { 0x7000, 1, 0 };
	int fds[8];

	if (n > 1 && !flood && strcmp(w[0], "map")) {
		conn = target_conn(h, w[1]);
		report(h, "TARGET %s conn=%u", w[1], conn);
	}
	for (int i = 0; i < 8; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!strcmp(w[0], "hello2")) {
		send_hello(IPC_PROTO_VERSION);
	} else if (!strcmp(w[0], "badtype")) {
		send_frame(99, 0, 0, 0, NULL, 0, NULL, 0);
	} else if (!strcmp(w[0], "wrongdir")) {
		struct ipc_conn_new cn = { IPC_KIND_RING, 0, IPC_ACCESS_PRIV, -1, 0, 0, 0 };

		send_frame(IPC_CONN_NEW, 1, 0, sizeof(cn), &cn, sizeof(cn), NULL, 0);
	} else if (!strcmp(w[0], "lenmismatch")) {
		send_frame(IPC_REPLY_DATA, target_conn(h, "dom0"), 0, 100, NULL, 10, NULL, 0);
	} else if (!strcmp(w[0], "badflags")) {
		send_frame(IPC_CONN_CREDIT, target_conn(h, "dom0"), 0x80, 4, &zero, 4, NULL, 0);
	} else if (!strcmp(w[0], "fd-flag")) {
		send_frame(IPC_CONN_CREDIT, target_conn(h, "dom0"), IPC_F_FD, 4, &zero, 4, fds, 1);
	} else if (!strcmp(w[0], "fd-noflag")) {
		send_frame(IPC_CONN_CREDIT, target_conn(h, "dom0"), 0, 4, &zero, 4, fds, 1);
	} else if (!strcmp(w[0], "fds-many")) {
		send_frame(IPC_CONN_CREDIT, target_conn(h, "dom0"), IPC_F_FD, 4, &zero, 4, fds, 8);
	} else if (!strcmp(w[0], "noconn")) {
		send_frame(IPC_REPLY_DATA, 0, 0, 4, "oops", 4, NULL, 0);
	} else if (!strcmp(w[0], "unmap")) {
		send_frame(IPC_RING_UNMAP, conn, 0, 0, NULL, 0, NULL, 0);
	} else if (!strcmp(w[0], "idle")) {
		send_frame(IPC_RING_IDLE, conn, 0, 0, NULL, 0, NULL, 0);
	} else if (!strcmp(w[0], "break")) {
		send_frame(IPC_RING_BREAK, conn, 0, 4, &arg, 4, NULL, 0);
	} else if (!strcmp(w[0], "credit")) {
		send_frame(IPC_CONN_CREDIT, conn, 0, 4, &arg, 4, NULL, 0);
	} else if (!strcmp(w[0], "reply") || !strcmp(w[0], "credit-reply")) {
		/* Never reads CONN_SPACE: the window fills after 8 full frames.
		 * credit-reply: a count of 0, then 8,188 bytes of reply. */
		static uint8_t joined[IPC_PAYLOAD_MAX];
		bool credit = w[0][0] == 'c';

		memset(joined, 'x', sizeof(joined));
		if (credit)
			memset(joined, 0, sizeof(uint32_t));
		for (uint32_t i = 0; i < arg; i++)
			send_frame(credit ? IPC_CONN_CREDIT : IPC_REPLY_DATA, conn, 0,
				   IPC_PAYLOAD_MAX, joined, IPC_PAYLOAD_MAX, NULL, 0);
	} else if (!strcmp(w[0], "flood")) {
		uint32_t dom0 = target_conn(h, "dom0");

		for (uint32_t i = 0; i < count; i++)
			send_frame(IPC_CONN_CREDIT, dom0, 0, 4, &zero, 4, NULL, 0);
		report(h, "FLOODED %u", count);
		send_frame(IPC_RING_UNMAP, dom0, 0, 0, NULL, 0, NULL, 0);
	} else if (!strcmp(w[0], "flood-map")) {
		/* Blocks once both socket buffers are full; the broker must end it. */
		for (uint32_t i = 0; i < count; i++)
			send_frame(IPC_RING_MAP, 0, 0, sizeof(rm), &rm, sizeof(rm), NULL, 0);
	} else if (!strcmp(w[0], "map")) {
		attack_maps(h, w, n);
	} else {
		report(h, "UNKNOWN %s", w[0]);
		_exit(2);
	}
	report(h, "SENT %s", w[0]);
	await_end(h);
}

int main(int argc, char **argv)
{
	struct hostile h = { .dir = getenv("HOSTILE_DIR") };
	const char *real = getenv("HOSTILE_REAL");
	char line[1024], *words[32], *save = NULL;
	int n = 0;

	(void)argc;
	clock_gettime(CLOCK_MONOTONIC, &h.born);
	if (!h.dir || !real) {
		fprintf(stderr, "hostile_store: set HOSTILE_DIR and HOSTILE_REAL\n");
		return 2;
	}
	h.start = count_start(h.dir);
	plan_line(h.dir, h.start, line, sizeof(line));
	for (char *w = strtok_r(line, " \t", &save); w && n < 32; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	if (!n || !strcmp(words[0], "real")) {
		argv[0] = (char *)real;
		execv(real, argv);
		report(&h, "cannot run %s: %s", real, strerror(errno));
		return 127;
	}
	report(&h, "ATTACK %s pid=%d", words[0], (int)getpid());
	if (!strcmp(words[0], "short") || !strcmp(words[0], "oversize") ||
	    !strcmp(words[0], "hello-version") || !strcmp(words[0], "early-map")) {
		struct ipc_ring_map rm = { 5, 1, 0 };

		take_until(&h, ATTACK_AT_MS);
		if (!strcmp(words[0], "short"))
			send_raw("\x40\0\0\0\0\0\0", 8, NULL, 0);
		else if (!strcmp(words[0], "oversize"))
			send_frame(IPC_REPLY_DATA, 1, 0, IPC_PAYLOAD_MAX + 100, NULL,
				   IPC_PAYLOAD_MAX + 100, NULL, 0);
		else if (!strcmp(words[0], "hello-version"))
			send_hello(IPC_PROTO_VERSION + 1);
		else
			send_frame(IPC_RING_MAP, 0, 0, sizeof(rm), &rm, sizeof(rm), NULL, 0);
		report(&h, "SENT %s", words[0]);
		await_end(&h);
	}
	send_hello(IPC_PROTO_VERSION);
	report(&h, "HELLO");
	take_until(&h, ATTACK_AT_MS);
	attack_serving(&h, words, n);
}
