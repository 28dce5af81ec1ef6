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
 *                 the same arguments, keeping the ipc channel at fds 3-5
 *
 * The channel (ipc.h): fd 5 the pipe our frames go to, fd 4 the pipe the
 * broker's come from, fd 3 a SOCK_SEQPACKET socket for descriptors only
 * (one byte and SCM_RIGHTS, sent just before the frame with IPC_F_FD).
 * Raw frames are written to fd 5 whole, with no check, on purpose.
 *
 * Plan words (TARGET: dom0, dom:N, conn:N, or socket = the next unix
 * client the broker hands over; the test connects one after the report
 * says "WAIT socket"):
 *
 *   before HELLO:  short (8 bytes of a header, then fd 5 closed) |
 *                  oversize (a header claiming IPC_PAYLOAD_MAX + 1 bytes) |
 *                  hello-long (HELLO with 4 bytes more than its type allows) |
 *                  hello-version | early-map
 *   after HELLO:   hello2 | badtype | wrongdir |
 *                  cut (REPLY_DATA claiming 100 bytes, 10 follow, fd 5 closed) |
 *                  badflags | noconn |
 *                  fd-flag (IPC_F_FD on CONN_CREDIT, its fd sent ahead) |
 *                  fd-missing (JOURNAL with IPC_F_FD, nothing sent on fd 3) |
 *                  fd-empty (JOURNAL, a message with no descriptor ahead) |
 *                  fd-long (JOURNAL, its fd ahead in a 2-byte message) |
 *                  fd-zero (JOURNAL, 4 fds ahead in a message of 0 bytes) |
 *                  fds-two (JOURNAL, 2 descriptors in the message ahead) |
 *                  fds-many (JOURNAL, 8 descriptors in the message ahead) |
 *                  fd-noflag (the write end of a pipe sent on fd 3, then a
 *                  valid CONN_CREDIT without IPC_F_FD: reports "BAIT queued"
 *                  if the broker neither closed nor holds it, "BAIT closed"
 *                  or "BAIT held" if it took it) |
 *                  trickle (CONN_CREDIT 0 then RING_UNMAP of dom0's ring,
 *                  one byte a write, 10 ms apart) |
 *                  unmap TARGET | idle TARGET | break TARGET CODE | reply TARGET FRAMES | credit TARGET N |
 *                  credit-reply TARGET FRAMES (CONN_CREDIT 0 with full frames of reply) |
 *                  flood N (valid CONN_CREDIT 0 frames, then RING_UNMAP of
 *                  dom0's ring) | flood-map N (RING_MAP of a domain that
 *                  does not exist, answers never read) |
 *                  map DOMID:PORT... (each answer reported, then exit 0)
 *
 * Every descriptor sent to the broker, but fd-noflag's, is a memfd named
 * "hostile-bait", so that one the broker kept shows in /proc/PID/fd.
 *
 * Every attack waits until the process is 1.1 s old, so its death does
 * not grow the broker's restart backoff.  A start the broker should have
 * ended but did not reports "NOT-ENDED" and exits with status 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

#define ATTACK_AT_MS 1100
#define END_WAIT_MS 5000
#define MAX_RINGS 64
#define TRICKLE_MS 10

/* Our end of the channel, where the broker put it. */
static const struct ipc_link chan = { LIXS_IPC_IN_FD, LIXS_IPC_OUT_FD, LIXS_IPC_FD };

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

/* Bytes onto our frame pipe, as they are: no check, on purpose. */
static void write_raw(const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = write(LIXS_IPC_OUT_FD, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		b += n;
		len -= (size_t)n;
	}
}

/* A message of `bytes` bytes (1 for a proper one) with up to 8 descriptors
 * on the descriptor socket, ahead of the frame it is meant for. */
static void send_fds(const int *fds, unsigned int nfds, size_t bytes)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(8 * sizeof(int))];
	} ctl;
	char tag[8] = "FFFFFFFF";
	struct iovec iov = { .iov_base = tag, .iov_len = bytes };
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

/* One frame with any header, in one write; `len` is what the header
 * claims, `real_len` how many bytes follow it ('x' without a payload). */
static void send_frame(uint32_t type, uint32_t conn, uint32_t flags, uint32_t len,
		       const void *payload, size_t real_len)
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
	write_raw(frame, IPC_HDR_SIZE + real_len);
}

/* A well-formed frame, one byte a write, TRICKLE_MS apart. */
static void trickle_frame(uint32_t type, uint32_t conn, const void *payload, uint32_t len)
{
	uint8_t frame[IPC_HDR_SIZE + 16];
	struct ipc_hdr hdr = { type, conn, 0, len };
	struct timespec gap = { 0, TRICKLE_MS * 1000000L };

	if (len > sizeof(frame) - IPC_HDR_SIZE)
		return;
	memcpy(frame, &hdr, sizeof(hdr));
	if (len)
		memcpy(frame + IPC_HDR_SIZE, payload, len);
	for (size_t i = 0; i < IPC_HDR_SIZE + len; i++) {
		write_raw(frame + i, 1);
		nanosleep(&gap, NULL);
	}
}

static void send_hello(uint32_t version)
{
	struct ipc_hello hello = { version, (uint32_t)getpid() };

	send_frame(IPC_HELLO, 0, 0, sizeof(hello), &hello, sizeof(hello));
}

/* Read what the broker sends for up to `ms`; false when it hung up. */
static bool take_frames(struct hostile *h, long ms)
{
	struct pollfd pfd = { .fd = LIXS_IPC_IN_FD, .events = POLLIN };
	struct ipc_conn_new cn;
	struct ipc_ring_result rr;
	struct ipc_msg m;
	int ret;

	if (ms < 0 || poll(&pfd, 1, (int)ms) != 1)
		return true;
	ret = ipc_recv(&chan, h->buf, sizeof(h->buf), IPC_TO_STORE, &m);
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

/* Whether the broker (our parent) has a descriptor open on inode `ino`:
 * 1 yes, 0 no, -1 cannot tell. */
static int broker_holds(ino_t ino)
{
	char dir[64], path[384], target[64], want[64];
	struct dirent *e;
	int found = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)getppid());
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)ino);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found |= !strcmp(target, want);
	}
	closedir(d);
	return found;
}

/*
 * fd-noflag: the write end of a pipe went to the descriptor socket with a
 * frame that has no IPC_F_FD.  The broker must leave it queued there (it
 * goes with the socket when the broker closes it): had it received it and
 * closed it, our read end would see the pipe hang up; had it kept it, it
 * would be in its /proc/PID/fd.  Not a bad frame: not ended, so NOT-ENDED.
 */
static _Noreturn void await_bait(struct hostile *h, int bait, ino_t ino)
{
	struct timespec t;
	int held;

	clock_gettime(CLOCK_MONOTONIC, &t);
	while (ms_since(&t) < END_WAIT_MS) {
		struct pollfd p = { .fd = bait, .events = POLLIN };

		if (poll(&p, 1, 0) == 1) {
			report(h, "BAIT closed");
			_exit(4);
		}
		if (!take_frames(h, 50))
			_exit(0);
	}
	held = broker_holds(ino);
	report(h, "BAIT %s", held < 0 ? "unknown" : held ? "held" : "queued");
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
		send_frame(IPC_RING_MAP, 0, 0, sizeof(rm), &rm, sizeof(rm));
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
	/* Memfds, as a journal is: only what is wrong about the frame or its
	 * descriptors is wrong. */
	for (int i = 0; i < 8; i++)
		fds[i] = memfd_create("hostile-bait", MFD_CLOEXEC);
	if (!strcmp(w[0], "hello2")) {
		send_hello(IPC_PROTO_VERSION);
	} else if (!strcmp(w[0], "badtype")) {
		send_frame(99, 0, 0, 0, NULL, 0);
	} else if (!strcmp(w[0], "wrongdir")) {
		struct ipc_conn_new cn = { IPC_KIND_RING, 0, IPC_ACCESS_PRIV, -1, 0, 0, 0 };

		send_frame(IPC_CONN_NEW, 1, 0, sizeof(cn), &cn, sizeof(cn));
	} else if (!strcmp(w[0], "cut")) {
		/* The header claims 100 bytes, 10 follow, and no more ever will. */
		send_frame(IPC_REPLY_DATA, target_conn(h, "dom0"), 0, 100, NULL, 10);
		close(LIXS_IPC_OUT_FD);
	} else if (!strcmp(w[0], "badflags")) {
		send_frame(IPC_CONN_CREDIT, target_conn(h, "dom0"), 0x80, 4, &zero, 4);
	} else if (!strcmp(w[0], "noconn")) {
		send_frame(IPC_REPLY_DATA, 0, 0, 4, "oops", 4);
	} else if (!strcmp(w[0], "fd-flag")) {
		send_fds(fds, 1, 1);
		send_frame(IPC_CONN_CREDIT, target_conn(h, "dom0"), IPC_F_FD, 4, &zero, 4);
	} else if (!strcmp(w[0], "fd-missing")) {
		send_frame(IPC_JOURNAL, 0, IPC_F_FD, 0, NULL, 0);
	} else if (!strcmp(w[0], "fd-empty")) {
		send_fds(NULL, 0, 1);
		send_frame(IPC_JOURNAL, 0, IPC_F_FD, 0, NULL, 0);
	} else if (!strcmp(w[0], "fd-long")) {
		send_fds(fds, 1, 2);
		send_frame(IPC_JOURNAL, 0, IPC_F_FD, 0, NULL, 0);
	} else if (!strcmp(w[0], "fd-zero")) {
		send_fds(fds, 4, 0);
		send_frame(IPC_JOURNAL, 0, IPC_F_FD, 0, NULL, 0);
	} else if (!strcmp(w[0], "fds-two")) {
		send_fds(fds, 2, 1);
		send_frame(IPC_JOURNAL, 0, IPC_F_FD, 0, NULL, 0);
	} else if (!strcmp(w[0], "fds-many")) {
		send_fds(fds, 8, 1);
		send_frame(IPC_JOURNAL, 0, IPC_F_FD, 0, NULL, 0);
	} else if (!strcmp(w[0], "fd-noflag")) {
		int p[2];
		struct stat st;

		if (pipe2(p, O_CLOEXEC) || fstat(p[0], &st)) {
			report(h, "cannot make a pipe: %s", strerror(errno));
			_exit(2);
		}
		send_fds(&p[1], 1, 1);
		close(p[1]);
		send_frame(IPC_CONN_CREDIT, target_conn(h, "dom0"), 0, 4, &zero, 4);
		report(h, "SENT %s", w[0]);
		await_bait(h, p[0], st.st_ino);
	} else if (!strcmp(w[0], "trickle")) {
		uint32_t dom0 = target_conn(h, "dom0");

		trickle_frame(IPC_CONN_CREDIT, dom0, &zero, 4);
		trickle_frame(IPC_RING_UNMAP, dom0, NULL, 0);
	} else if (!strcmp(w[0], "unmap")) {
		send_frame(IPC_RING_UNMAP, conn, 0, 0, NULL, 0);
	} else if (!strcmp(w[0], "idle")) {
		send_frame(IPC_RING_IDLE, conn, 0, 0, NULL, 0);
	} else if (!strcmp(w[0], "break")) {
		send_frame(IPC_RING_BREAK, conn, 0, 4, &arg, 4);
	} else if (!strcmp(w[0], "credit")) {
		send_frame(IPC_CONN_CREDIT, conn, 0, 4, &arg, 4);
	} else if (!strcmp(w[0], "reply") || !strcmp(w[0], "credit-reply")) {
		/* Never reads CONN_SPACE: the window (IPC_RING_WINDOW) fills
		 * after 16 full frames of IPC_PAYLOAD_MAX bytes.
		 * credit-reply: a count of 0, then IPC_PAYLOAD_MAX - 4 bytes of reply. */
		static uint8_t joined[IPC_PAYLOAD_MAX];
		bool credit = w[0][0] == 'c';

		memset(joined, 'x', sizeof(joined));
		if (credit)
			memset(joined, 0, sizeof(uint32_t));
		for (uint32_t i = 0; i < arg; i++)
			send_frame(credit ? IPC_CONN_CREDIT : IPC_REPLY_DATA, conn, 0,
				   IPC_PAYLOAD_MAX, joined, IPC_PAYLOAD_MAX);
	} else if (!strcmp(w[0], "flood")) {
		uint32_t dom0 = target_conn(h, "dom0");

		for (uint32_t i = 0; i < count; i++)
			send_frame(IPC_CONN_CREDIT, dom0, 0, 4, &zero, 4);
		report(h, "FLOODED %u", count);
		send_frame(IPC_RING_UNMAP, dom0, 0, 0, NULL, 0);
	} else if (!strcmp(w[0], "flood-map")) {
		/* Blocks once both pipes are full (the broker's answers unread,
		 * so it stops reading ours); the broker must end it. */
		for (uint32_t i = 0; i < count; i++)
			send_frame(IPC_RING_MAP, 0, 0, sizeof(rm), &rm, sizeof(rm));
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
	/* Not killed by writing to a pipe the broker closed: ended by it, or
	 * NOT-ENDED.  (Set after the exec above: an ignored signal stays so.) */
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(words[0], "short") || !strcmp(words[0], "oversize") ||
	    !strcmp(words[0], "hello-long") || !strcmp(words[0], "hello-version") ||
	    !strcmp(words[0], "early-map")) {
		struct ipc_ring_map rm = { 5, 1, 0 };
		struct {
			struct ipc_hello hello;
			uint32_t more;
		} longer = { { IPC_PROTO_VERSION, (uint32_t)getpid() }, 0 };

		take_until(&h, ATTACK_AT_MS);
		if (!strcmp(words[0], "short")) {
			/* Half a HELLO header, and the writer gone. */
			write_raw("\x40\0\0\0\0\0\0", 8);
			close(LIXS_IPC_OUT_FD);
		} else if (!strcmp(words[0], "oversize")) {
			send_frame(IPC_REPLY_DATA, 1, 0, IPC_PAYLOAD_MAX + 1, NULL,
				   IPC_PAYLOAD_MAX + 1);
		} else if (!strcmp(words[0], "hello-long")) {
			send_frame(IPC_HELLO, 0, 0, sizeof(longer), &longer, sizeof(longer));
		} else if (!strcmp(words[0], "hello-version")) {
			send_hello(IPC_PROTO_VERSION + 1);
		} else {
			send_frame(IPC_RING_MAP, 0, 0, sizeof(rm), &rm, sizeof(rm));
		}
		report(&h, "SENT %s", words[0]);
		await_end(&h);
	}
	send_hello(IPC_PROTO_VERSION);
	report(&h, "HELLO");
	take_until(&h, ATTACK_AT_MS);
	attack_serving(&h, words, n);
}
