/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ipc.c - the frame codec and its transport: the type table, round
 * trips over a real ipc_link (a pipe each way for frames, a SOCK_SEQPACKET
 * socketpair for descriptors), one refused frame per validation rule of
 * ipc_frame_check / the receive paths / the decoders, and what the pipes
 * bring of their own: frames cut across reads, descriptors that must meet
 * their own frame, full pipes, writers that go away.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"
#include "unit.h"

struct pair {
	struct ipc_link broker, store;	/* broker's end, store process's end */
};

/*
 * ipc_recv_next keeps an rx per channel direction: `rx` for frames to the
 * store (and for tests that use one direction only), `rx_broker` for
 * frames to the broker; pair_open resets both.
 */
static struct ipc_rx rx, rx_broker;

/*
 * A fresh channel, both ends non-blocking: the store process makes its
 * end so itself (storeproc/main.c), and a test that blocks tells nothing.
 */
static struct pair pair_open(void)
{
	struct pair p;
	int err = ipc_link_pair(&p.broker, &p.store);

	ipc_rx_reset(&rx);
	ipc_rx_reset(&rx_broker);
	if (err) {
		printf("    ipc_link_pair: %s\n", strerror(err));
		return p;
	}
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? p.store.in : i == 1 ? p.store.out : p.store.fds;

		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
			perror("fcntl");
	}
	return p;
}

static void pair_close(struct pair *p)
{
	ipc_link_close(&p->broker);
	ipc_link_close(&p->store);
}

static const struct ipc_link *sender(const struct pair *p, enum ipc_dir dir)
{
	return dir == IPC_TO_BROKER ? &p->store : &p->broker;
}

static const struct ipc_link *receiver(const struct pair *p, enum ipc_dir dir)
{
	return dir == IPC_TO_BROKER ? &p->broker : &p->store;
}

/* Bytes on a pipe as a buggy or hostile peer would write them. */
static int raw_write(int out, const void *buf, size_t n)
{
	ssize_t w = write(out, buf, n);

	return w == (ssize_t)n ? 0 : w < 0 ? errno : EIO;
}

/* A frame with any header: hdr_len need not be n. */
static int raw_frame(int out, uint32_t type, uint32_t conn, uint32_t flags, uint32_t hdr_len,
		     const void *payload, size_t n)
{
	struct ipc_hdr h = { type, conn, flags, hdr_len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, n } };
	ssize_t w = writev(out, iov, n ? 2 : 1);

	return w == (ssize_t)(sizeof(h) + n) ? 0 : w < 0 ? errno : EIO;
}

/* Descriptors on the socket as send_fd puts one there, but any number. */
static int raw_fds(int sock, const int *fds, unsigned int nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} ctl;
	char tag = 'F';
	struct iovec iov = { &tag, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (nfds == 0 || nfds > 8)
		return EINVAL;
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_control = ctl.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? errno : 0;
}

/* Both receive paths, so every rule is checked on each. */
static uint8_t rbuf[IPC_FRAME_MAX];

static const char *const path_name[2] = { "ipc_recv", "ipc_recv_next" };

static int recv_via(int next, const struct ipc_link *l, enum ipc_dir dir, struct ipc_msg *m)
{
	m->fd = -1;
	return next ? ipc_recv_next(l, dir == IPC_TO_BROKER ? &rx_broker : &rx, dir, m)
		    : ipc_recv(l, rbuf, sizeof(rbuf), dir, m);
}

/* Receive on `l` for `dir` and expect `want`; closes any fd received. */
static int recv_expect(int next, const struct ipc_link *l, enum ipc_dir dir, int want)
{
	struct ipc_msg m;
	int ret = recv_via(next, l, dir, &m);

	if (!ret && m.fd >= 0)
		close(m.fd);
	if (ret != want)
		printf("    %s: got %d (%s), want %d\n", path_name[next], ret, strerror(ret), want);
	return ret == want;
}

/* ipc_frame_check on a header saying hdr_len followed by n payload bytes. */
static int checked(enum ipc_dir dir, uint32_t type, uint32_t conn, uint32_t flags,
		   uint32_t hdr_len, const void *payload, size_t n, unsigned int nfds, int want)
{
	static uint8_t frame[IPC_HDR_SIZE + IPC_PAYLOAD_MAX + 64];
	struct ipc_hdr h = { type, conn, flags, hdr_len };
	struct ipc_msg m;
	int ret;

	if (n > sizeof(frame) - IPC_HDR_SIZE)
		return 0;
	memcpy(frame, &h, sizeof(h));
	if (n)
		memcpy(frame + IPC_HDR_SIZE, payload, n);
	ret = ipc_frame_check(frame, IPC_HDR_SIZE + n, dir, nfds, &m);
	if (ret != want)
		printf("    ipc_frame_check: got %d (%s), want %d\n", ret, strerror(ret), want);
	return ret == want;
}

/*
 * A frame without descriptors refused with `want` for direction `dir`:
 * by ipc_frame_check on its bytes, and by both receive paths when a peer
 * writes it to the pipe.
 */
static int refused(enum ipc_dir dir, uint32_t type, uint32_t conn, uint32_t flags,
		   const void *payload, uint32_t len, int want)
{
	int ok = checked(dir, type, conn, flags, len, payload, len, 0, want);

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();

		ipc_rx_reset(&rx);
		ok &= !raw_frame(sender(&p, dir)->out, type, conn, flags, len, payload, len) &&
		      recv_expect(next, receiver(&p, dir), dir, want);
		pair_close(&p);
	}
	return ok;
}

/*
 * A frame with IPC_F_FD towards the broker, the write end of a fresh pipe
 * sent ahead of it `nfds` times in one message: true when both receive
 * paths refuse it with `want` and no copy of the fd survives (the pipe
 * reads EOF once every write end is closed).
 */
static int refused_and_closed(uint32_t type, uint32_t conn, const void *payload, uint32_t len,
			      unsigned int nfds, int want)
{
	int ok = 1;

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		int pfd[2], fds[8];
		char c;

		ipc_rx_reset(&rx);
		if (pipe2(pfd, O_NONBLOCK))
			return 0;
		for (unsigned int i = 0; i < nfds; i++)
			fds[i] = pfd[1];
		ok &= !raw_fds(p.store.fds, fds, nfds) &&
		      !raw_frame(p.store.out, type, conn, IPC_F_FD, len, payload, len);
		close(pfd[1]);
		ok &= recv_expect(next, &p.broker, IPC_TO_BROKER, want) && read(pfd[0], &c, 1) == 0;
		close(pfd[0]);
		pair_close(&p);
	}
	return ok;
}

/* Same file: the descriptor received is the one that was sent. */
static int same_file(int a, int b)
{
	struct stat sa, sb;

	return a >= 0 && b >= 0 && !fstat(a, &sa) && !fstat(b, &sb) &&
	       sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static const struct ipc_hello good_hello = { IPC_PROTO_VERSION, 1234 };

static int t_table(void)
{
	size_t n = ipc_type_count();

	if (n == 0 || ipc_type_at(n) != NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct ipc_type_info *t = ipc_type_at(i);

		if (!t || !t->name || ipc_type_lookup(t->type) != t ||
		    t->type == IPC_NONE || t->type >= IPC_TYPE_LIMIT ||
		    (t->dir != IPC_TO_STORE && t->dir != IPC_TO_BROKER) ||
		    t->min_len > t->max_len || t->max_len > IPC_PAYLOAD_MAX ||
		    (t->allowed_flags & ~IPC_F_FD))
			return 0;
	}
	return !ipc_type_lookup(IPC_NONE) && !ipc_type_lookup(IPC_TYPE_LIMIT) &&
	       !ipc_type_lookup(63) && !ipc_type_lookup(0xffffffffu);
}

static int t_hello_roundtrip(void)
{
	int ok = 1;

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		struct ipc_msg m;
		struct ipc_hello h;

		ipc_rx_reset(&rx);
		ok &= !ipc_send(&p.store, IPC_HELLO, 0, &good_hello, sizeof(good_hello), -1) &&
		      !recv_via(next, &p.broker, IPC_TO_BROKER, &m) &&
		      m.fd == -1 && m.hdr.type == IPC_HELLO && m.hdr.flags == 0 &&
		      !ipc_hello_decode(&m, &h) && h.version == IPC_PROTO_VERSION && h.pid == 1234;
		pair_close(&p);
	}
	return ok;
}

static int t_conn_new_fd_roundtrip(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, IPC_ACCESS_PRIV, 42, 0, 0, 0 }, got;
	int pfd[2], ok = 1;

	if (pipe(pfd))
		return 0;
	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		struct ipc_msg m;

		ipc_rx_reset(&rx);
		ok &= !ipc_send(&p.broker, IPC_CONN_NEW, 7, &cn, sizeof(cn), pfd[0]) &&
		      !recv_via(next, &p.store, IPC_TO_STORE, &m) &&
		      m.hdr.conn == 7 && (m.hdr.flags & IPC_F_FD) && m.fd >= 0 && m.fd != pfd[0] &&
		      !ipc_conn_new_decode(&m, &got) && !memcmp(&cn, &got, sizeof(cn)) &&
		      same_file(m.fd, pfd[0]) && (fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
		if (m.fd >= 0)
			close(m.fd);
		pair_close(&p);
	}
	close(pfd[0]);
	close(pfd[1]);
	return ok;
}

/* ipc_send_many: in order, whole; a bad frame sends none. */
static int t_send_many(void)
{
	struct pair p = pair_open();
	uint32_t credit = 40;
	const struct ipc_out_frame f[3] = {
		{ IPC_REPLY_DATA, 9, 5, "hello" },
		{ IPC_REPLY_DATA, 9, 3, "abc" },
		{ IPC_CONN_CREDIT, 9, sizeof(credit), &credit },
	};
	const struct ipc_out_frame bad[2] = {
		{ IPC_REPLY_DATA, 9, 1, "x" },
		{ IPC_CONN_CREDIT, 0, sizeof(credit), &credit },	/* no conn */
	};
	struct ipc_msg m;
	unsigned int sent = 99;
	int ok = !ipc_send_many(&p.store, f, 3, &sent) && sent == 3;

	ok &= !ipc_recv(&p.broker, rbuf, sizeof(rbuf), IPC_TO_BROKER, &m) &&
	      m.hdr.type == IPC_REPLY_DATA && m.hdr.len == 5 && !memcmp(m.payload, "hello", 5);
	ok &= !ipc_recv(&p.broker, rbuf, sizeof(rbuf), IPC_TO_BROKER, &m) &&
	      m.hdr.len == 3 && !memcmp(m.payload, "abc", 3);
	ok &= !ipc_recv(&p.broker, rbuf, sizeof(rbuf), IPC_TO_BROKER, &m) &&
	      m.hdr.type == IPC_CONN_CREDIT && m.hdr.conn == 9 &&
	      !memcmp(m.payload, &credit, sizeof(credit));
	ok &= ipc_send_many(&p.store, bad, 2, &sent) == EINVAL && sent == 0 &&
	      ipc_recv(&p.broker, rbuf, sizeof(rbuf), IPC_TO_BROKER, &m) == EAGAIN;
	ok &= ipc_send_many(&p.store, f, IPC_SEND_MANY_MAX + 1, &sent) == EINVAL;
	pair_close(&p);
	return ok;
}

/*
 * Frames of many sizes, told apart: frame i goes on conn i + 1 with
 * mixed_len(i) bytes of a pattern of its own, so a frame lost, doubled,
 * reordered or cut shows.
 */
static uint32_t mixed_len(unsigned int i)
{
	static const uint32_t lens[] = {
		1, IPC_PAYLOAD_MAX, 37, 2999, 512, 4000, 16, 1500, IPC_PAYLOAD_MAX, 3, 2048, 777,
	};

	return lens[i % (sizeof(lens) / sizeof(lens[0]))];
}

static uint8_t mixed_byte(unsigned int i, uint32_t k)
{
	return (uint8_t)(i * 131u + k * 7u + (k >> 8));
}

static int send_mixed(const struct ipc_link *l, unsigned int i, int wait)
{
	static uint8_t buf[IPC_PAYLOAD_MAX];
	uint32_t len = mixed_len(i);
	int err;

	for (uint32_t k = 0; k < len; k++)
		buf[k] = mixed_byte(i, k);
	while ((err = ipc_send(l, IPC_CONN_DATA, i + 1, buf, len, -1)) == EAGAIN && wait) {
		struct pollfd pf = { .fd = l->out, .events = POLLOUT };

		if (poll(&pf, 1, 5000) != 1)
			return ETIMEDOUT;
	}
	return err;
}

static int mixed_ok(const struct ipc_msg *m, unsigned int i)
{
	if (m->hdr.type != IPC_CONN_DATA || m->hdr.conn != i + 1 || m->hdr.flags ||
	    m->hdr.len != mixed_len(i) || m->fd != -1) {
		printf("    frame %u: type %u conn %u len %u, want conn %u len %u\n", i,
		       m->hdr.type, m->hdr.conn, m->hdr.len, i + 1, mixed_len(i));
		return 0;
	}
	for (uint32_t k = 0; k < m->hdr.len; k++)
		if (m->payload[k] != mixed_byte(i, k)) {
			printf("    frame %u: payload byte %u differs\n", i, k);
			return 0;
		}
	return 1;
}

/* n CONN_DATA frames on conn 1, payload "0", "1", ... */
static int send_numbered(const struct ipc_link *l, int from, int n)
{
	for (int i = from; i < from + n; i++) {
		char c = (char)('0' + i % 10);

		if (ipc_send(l, IPC_CONN_DATA, 1, &c, 1, -1))
			return 0;
	}
	return 1;
}

/* The next n frames from rx are numbered from `from`. */
static int next_numbered(const struct ipc_link *l, int from, int n)
{
	struct ipc_msg m;

	for (int i = from; i < from + n; i++)
		if (ipc_recv_next(l, &rx, IPC_TO_STORE, &m) || m.hdr.len != 1 ||
		    m.payload[0] != '0' + i % 10)
			return 0;
	return 1;
}

/*
 * Frames come in order across reads; after a read that emptied the pipe
 * one EAGAIN comes unasked, even with a frame waiting since (the caller's
 * epoll has it), and the next call asks the kernel again.
 */
static int t_recv_next_reads(void)
{
	struct pair p = pair_open();
	struct ipc_msg m;
	int ok;

	ipc_rx_reset(&rx);
	ok = send_numbered(&p.broker, 0, 3) && next_numbered(&p.store, 0, 2);
	ok &= send_numbered(&p.broker, 3, 1);  /* after the read took the pipe's three */
	ok &= next_numbered(&p.store, 2, 1) &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN;
	ok &= next_numbered(&p.store, 3, 1) &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN;
	/* A bad frame is refused in its place; the ones after it still come. */
	ok &= send_numbered(&p.broker, 0, 1) &&
	      !raw_frame(p.broker.out, IPC_CONN_DATA, 0, 0, 1, "x", 1) &&
	      send_numbered(&p.broker, 1, 1);
	ok &= next_numbered(&p.store, 0, 1) &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EINVAL &&
	      next_numbered(&p.store, 1, 1);
	close(p.broker.out);
	p.broker.out = -1;
	ok &= ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EPIPE;
	pair_close(&p);
	return ok;
}

/*
 * More than one read's worth, so that reads end inside frames and a
 * frame's beginning must move to the front for its rest.  With a 64 KiB
 * pipe of 4 KiB pages that never happens (a page holds whole frames, a
 * full pipe is exactly one read), so the pipe is made larger here, as a
 * kernel with larger pages would have it; the test counts the frames
 * it saw cut at the buffer's end and wants some.
 */
static int t_recv_next_straddle(void)
{
	enum { N = 120 };  /* about 240 KiB */
	struct pair p = pair_open();
	unsigned int cut = 0, i;
	struct ipc_msg m;
	int ok = fcntl(p.broker.out, F_SETPIPE_SZ, 1 << 20) >= (1 << 20);

	ipc_rx_reset(&rx);
	for (i = 0; ok && i < N; i++)
		ok &= !send_mixed(&p.broker, i, 0);
	for (i = 0; ok && i < N; i++) {
		if (rx.end == IPC_RX_BYTES && rx.start < rx.end && !ipc_rx_buffered(&rx))
			cut++;
		ok &= !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && mixed_ok(&m, i);
	}
	if (ok && !cut)
		printf("    no frame was cut by a read\n");
	ok &= cut > 0 && ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN;
	pair_close(&p);
	return ok;
}

/*
 * The production shape: a writer in another process, a default pipe that
 * fills and empties many times over, the reader waiting for readability
 * after each EAGAIN, EPIPE once the writer is gone and every frame came.
 */
static int t_recv_next_forked_writer(void)
{
	enum { N = 300 };  /* about 500 KiB through a 64 KiB pipe */
	struct pair p = pair_open();
	unsigned int i = 0;
	int ok = 1, err, status;
	pid_t pid;

	ipc_rx_reset(&rx);
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		for (unsigned int k = 0; k < N; k++)
			if (send_mixed(&p.broker, k, 1))
				_exit(1);
		_exit(0);
	}
	ipc_link_close(&p.broker);  /* the child's copy is the only writer left */
	for (;;) {
		struct ipc_msg m;

		err = ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m);
		if (err == EAGAIN) {
			struct pollfd pf = { .fd = p.store.in, .events = POLLIN };

			if (poll(&pf, 1, 5000) != 1) {
				printf("    no frame for 5 s after %u\n", i);
				break;
			}
			continue;
		}
		if (err || i >= N || !mixed_ok(&m, i))
			break;
		i++;
	}
	if (err != EPIPE || i != N)
		printf("    %u of %u frames, then %d (%s)\n", i, N, err, strerror(err));
	ok = err == EPIPE && i == N;
	ok &= waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	pair_close(&p);
	return ok;
}

/*
 * A frame whose bytes come in two writes (as no ipc_send writes them,
 * but a pipe read may still stop anywhere): nothing until its end, then
 * the frame whole, also when its beginning came after another frame.
 */
static int t_recv_next_split_frame(void)
{
	struct pair p = pair_open();
	struct ipc_hdr h = { IPC_CONN_DATA, 4, 0, 100 };
	uint8_t data[100];
	struct ipc_msg m;
	int ok;

	for (size_t k = 0; k < sizeof(data); k++)
		data[k] = (uint8_t)(k * 3 + 1);
	ipc_rx_reset(&rx);
	ok = !raw_write(p.broker.out, &h, sizeof(h)) &&
	     ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	     ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	     !raw_write(p.broker.out, data, sizeof(data)) &&
	     !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) &&
	     m.hdr.conn == 4 && m.hdr.len == sizeof(data) && !memcmp(m.payload, data, sizeof(data));
	ok &= ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN;
	/* A whole frame and the next one's header in one read, its payload later. */
	ok &= send_numbered(&p.broker, 0, 1) && !raw_write(p.broker.out, &h, sizeof(h)) &&
	      next_numbered(&p.store, 0, 1) && !ipc_rx_buffered(&rx) &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	      !raw_write(p.broker.out, data, 60) &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	      !raw_write(p.broker.out, data + 60, 40) &&
	      !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) &&
	      m.hdr.conn == 4 && m.hdr.len == sizeof(data) && !memcmp(m.payload, data, sizeof(data));
	pair_close(&p);
	return ok;
}

/*
 * Descriptors travel beside the pipe, so each must meet its own frame:
 * fd frames among fd-less ones, each direction, each receive path; every
 * fd received is the file sent with that frame.
 */
#define FD_FRAMES 5
static int t_fds_ride_with_frames(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, 0, 1, 0, 0, 0 };
	int pipes[FD_FRAMES][2], ok = 1;
	struct stat st[FD_FRAMES];

	for (int i = 0; i < FD_FRAMES; i++)
		if (pipe(pipes[i]) || fstat(pipes[i][0], &st[i]))
			return 0;
	/* Files told apart, or a wrong match could pass. */
	for (int i = 1; i < FD_FRAMES; i++)
		ok &= st[i].st_ino != st[i - 1].st_ino;
	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		struct ipc_msg m;

		ipc_rx_reset(&rx);
		/* Fd frame i, then i % 3 fd-less frames; then the same the other way. */
		for (int i = 0; i < FD_FRAMES; i++) {
			ok &= !ipc_send(&p.broker, IPC_CONN_NEW, (uint32_t)i + 1, &cn, sizeof(cn),
					pipes[i][0]);
			for (int k = 0; k < i % 3; k++)
				ok &= !ipc_send(&p.broker, IPC_CONN_DATA, 100, "d", 1, -1);
			ok &= !ipc_send(&p.store, IPC_JOURNAL, 0, NULL, 0,
					pipes[FD_FRAMES - 1 - i][1]);
			for (int k = 0; k < (i + 1) % 3; k++)
				ok &= !ipc_send(&p.store, IPC_RING_IDLE, 200, NULL, 0, -1);
		}
		for (int i = 0; i < FD_FRAMES; i++) {
			ok &= !recv_via(next, &p.store, IPC_TO_STORE, &m) &&
			      m.hdr.type == IPC_CONN_NEW && m.hdr.conn == (uint32_t)i + 1 &&
			      same_file(m.fd, pipes[i][0]) && (fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
			if (m.fd >= 0)
				close(m.fd);
			for (int k = 0; k < i % 3; k++) {
				ok &= !recv_via(next, &p.store, IPC_TO_STORE, &m) &&
				      m.hdr.type == IPC_CONN_DATA && m.fd == -1;
				if (m.fd >= 0)
					close(m.fd);
			}
		}
		for (int i = 0; i < FD_FRAMES; i++) {
			ok &= !recv_via(next, &p.broker, IPC_TO_BROKER, &m) &&
			      m.hdr.type == IPC_JOURNAL &&
			      same_file(m.fd, pipes[FD_FRAMES - 1 - i][1]);
			if (m.fd >= 0)
				close(m.fd);
			for (int k = 0; k < (i + 1) % 3; k++) {
				ok &= !recv_via(next, &p.broker, IPC_TO_BROKER, &m) &&
				      m.hdr.type == IPC_RING_IDLE && m.fd == -1;
				if (m.fd >= 0)
					close(m.fd);
			}
		}
		ok &= recv_expect(next, &p.store, IPC_TO_STORE, EAGAIN) &&
		      recv_expect(next, &p.broker, IPC_TO_BROKER, EAGAIN);
		pair_close(&p);
	}
	for (int i = 0; i < FD_FRAMES; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	return ok;
}

/*
 * The fds of frames not handed out wait on the socket, not in rx: closing
 * the link closes them, and ipc_rx_reset forgets the frames' bytes.
 */
static int t_recv_next_close_drops_fds(void)
{
	struct pair p = pair_open();
	struct ipc_msg m;
	char c;
	int pipefd[2], ok;

	ipc_rx_reset(&rx);
	if (pipe(pipefd))
		return 0;
	ok = !ipc_send(&p.broker, IPC_TRACE_FD, 0, NULL, 0, pipefd[1]) &&
	     !ipc_send(&p.broker, IPC_TRACE_FD, 0, NULL, 0, pipefd[1]);
	close(pipefd[1]);
	ok &= !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && m.fd >= 0 &&
	      ipc_rx_buffered(&rx);
	if (m.fd >= 0)
		close(m.fd);
	ipc_rx_reset(&rx);
	ok &= !ipc_rx_buffered(&rx) && rx.start == 0 && rx.end == 0;
	pair_close(&p);
	/* Every write end gone: EOF, not a block. */
	ok &= read(pipefd[0], &c, 1) == 0;
	close(pipefd[0]);
	return ok;
}

/*
 * A store process that dies between frames, with the broker's frames
 * unread: both receive paths still hand over all it sent, its last
 * JOURNAL's fd with it, then EPIPE.
 */
static int t_recv_after_peer_gone(void)
{
	int jfd[2], ok = 1;

	if (pipe(jfd))
		return 0;
	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		const uint32_t want[3] = { IPC_HELLO, IPC_JOURNAL, IPC_RING_IDLE };
		struct ipc_msg m;
		int err;

		ipc_rx_reset(&rx);
		ok &= send_numbered(&p.broker, 0, 1) &&	/* never read */
		      !ipc_send(&p.store, IPC_HELLO, 0, &good_hello, sizeof(good_hello), -1) &&
		      !ipc_send(&p.store, IPC_JOURNAL, 0, NULL, 0, jfd[0]) &&
		      !ipc_send(&p.store, IPC_RING_IDLE, 5, NULL, 0, -1);
		ipc_link_close(&p.store);
		for (int i = 0; i < 3; i++) {
			err = recv_via(next, &p.broker, IPC_TO_BROKER, &m);
			ok &= !err && m.hdr.type == want[i] &&
			      (i == 1 ? same_file(m.fd, jfd[0]) : m.fd == -1);
			if (!err && m.fd >= 0)
				close(m.fd);
		}
		/* ipc_recv_next: the read took all; EAGAIN unasked first. */
		if (next)
			ok &= recv_expect(next, &p.broker, IPC_TO_BROKER, EAGAIN);
		ok &= recv_expect(next, &p.broker, IPC_TO_BROKER, EPIPE) &&
		      recv_expect(next, &p.broker, IPC_TO_BROKER, EPIPE);
		pair_close(&p);
	}
	close(jfd[0]);
	close(jfd[1]);
	return ok;
}

/*
 * A writer gone in the middle of a frame: a frame cut short, EPROTO, on
 * both paths, wherever the cut (inside the header, after it, inside the
 * payload).  ipc_recv_next first waits for the rest (EAGAIN).
 */
static int t_writer_gone_mid_frame(void)
{
	struct ipc_hdr h = { IPC_CONN_DATA, 1, 0, 50 };
	uint8_t bytes[IPC_HDR_SIZE + 20] = { 0 };
	const size_t cuts[] = { 8, IPC_HDR_SIZE, IPC_HDR_SIZE + 20 };
	int ok = 1;

	memcpy(bytes, &h, sizeof(h));
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++)
		for (int next = 0; next < 2; next++) {
			struct pair p = pair_open();

			ipc_rx_reset(&rx);
			ok &= send_numbered(&p.broker, 0, 1) &&
			      !raw_write(p.broker.out, bytes, cuts[c]);
			ipc_link_close(&p.broker);
			ok &= recv_expect(next, &p.store, IPC_TO_STORE, 0);
			if (next)
				ok &= recv_expect(next, &p.store, IPC_TO_STORE, EAGAIN);
			ok &= recv_expect(next, &p.store, IPC_TO_STORE, EPROTO);
			pair_close(&p);
		}
	return ok;
}

static int t_shutdown_roundtrip(void)
{
	int ok = 1;

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		struct ipc_msg m;

		ipc_rx_reset(&rx);
		ok &= !ipc_send(&p.broker, IPC_SHUTDOWN, 0, NULL, 0, -1) &&
		      !recv_via(next, &p.store, IPC_TO_STORE, &m) &&
		      m.hdr.type == IPC_SHUTDOWN && m.hdr.len == 0 && m.fd == -1;
		pair_close(&p);
	}
	return ok;
}

static int t_max_payload_roundtrip(void)
{
	static uint8_t data[IPC_PAYLOAD_MAX];
	int ok = IPC_HDR_SIZE + IPC_PAYLOAD_MAX == IPC_FRAME_MAX;

	memset(data, 0xa5, sizeof(data));
	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		struct ipc_msg m;

		ipc_rx_reset(&rx);
		ok &= !ipc_send(&p.broker, IPC_CONN_DATA, 3, data, sizeof(data), -1) &&
		      !recv_via(next, &p.store, IPC_TO_STORE, &m) &&
		      m.hdr.len == IPC_PAYLOAD_MAX && !memcmp(m.payload, data, sizeof(data));
		pair_close(&p);
	}
	return ok;
}

static int t_recv_empty_and_closed(void)
{
	int ok = 1;

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();

		ipc_rx_reset(&rx);
		ok &= recv_expect(next, &p.broker, IPC_TO_BROKER, EAGAIN);
		ipc_link_close(&p.store);
		ok &= recv_expect(next, &p.broker, IPC_TO_BROKER, EPIPE);
		pair_close(&p);
	}
	return ok;
}

static int t_recv_small_buffer(void)
{
	struct pair p = pair_open();
	uint8_t buf[IPC_HDR_SIZE];
	struct ipc_msg m;
	int ok = ipc_recv(&p.broker, buf, sizeof(buf), IPC_TO_BROKER, &m) == EINVAL;

	pair_close(&p);
	return ok;
}

static int t_send_refuses(void)
{
	static uint8_t big[IPC_PAYLOAD_MAX + 1];
	const struct ipc_out_frame f = { IPC_HELLO, 0, sizeof(good_hello), &good_hello };
	struct pair p = pair_open();
	unsigned int sent = 9;
	int pfd[2];
	int ok = ipc_send(&p.store, IPC_REPLY_DATA, 1, big, sizeof(big), -1) == E2BIG &&
		 ipc_send(&p.store, 99, 0, NULL, 0, -1) == EINVAL &&
		 ipc_send(&p.store, IPC_HELLO, 0, &good_hello, 4, -1) == EINVAL &&
		 ipc_send(&p.store, IPC_HELLO, 0, &good_hello, sizeof(good_hello), 0) == EINVAL &&
		 ipc_send(&p.store, IPC_HELLO, 9, &good_hello, sizeof(good_hello), -1) == EINVAL;

	/* The broker gone: EPIPE, for frames and for descriptors (SIGPIPE ignored). */
	if (pipe(pfd))
		return 0;
	ipc_link_close(&p.broker);
	ok &= ipc_send(&p.store, IPC_HELLO, 0, &good_hello, sizeof(good_hello), -1) == EPIPE &&
	      ipc_send(&p.store, IPC_JOURNAL, 0, NULL, 0, pfd[0]) == EPIPE &&
	      ipc_send_many(&p.store, &f, 1, &sent) == EPIPE && sent == 0;
	close(pfd[0]);
	close(pfd[1]);
	pair_close(&p);
	return ok;
}

/* Fill the broker -> store pipe with one-page frames, numbered by conn from 1. */
static uint32_t fill_pages(const struct ipc_link *l)
{
	static uint8_t page[IPC_PAYLOAD_MAX];
	uint32_t k;

	for (k = 0; k < 1000; k++)
		if (ipc_send(l, IPC_CONN_DATA, k + 1, page, sizeof(page), -1))
			break;
	return k;
}

/*
 * A full pipe: ipc_send says EAGAIN and sends nothing of the frame, so
 * the reader finds exactly the frames that were sent, whole, and no
 * byte more.  Then the case a write of header and payload apart would
 * get wrong: the last page with room for a header but not for its
 * payload (pipe room is counted in 4 KiB pages, a small write joins the
 * last one if it fits): that frame is refused whole, a smaller one that
 * fits still goes.
 */
static int t_send_full_pipe(void)
{
	static uint8_t big[3980];
	struct pair p = pair_open();
	struct ipc_msg m;
	uint32_t k, v;
	int err = 0, ok;

	for (k = 0; k < 100000; k++) {
		err = ipc_send(&p.store, IPC_REPLY_DATA, 1, &k, sizeof(k), -1);
		if (err)
			break;
	}
	ok = err == EAGAIN && k > 0;
	ok &= ipc_send(&p.store, IPC_REPLY_DATA, 1, big, 3000, -1) == EAGAIN &&
	      ipc_send(&p.store, IPC_REPLY_DATA, 1, &k, sizeof(k), -1) == EAGAIN;
	for (v = 0; ok && v < k; v++)
		ok &= !ipc_recv_next(&p.broker, &rx, IPC_TO_BROKER, &m) &&
		      m.hdr.len == sizeof(v) && !memcmp(m.payload, &v, sizeof(v));
	ok &= rx.start == rx.end &&
	      ipc_recv_next(&p.broker, &rx, IPC_TO_BROKER, &m) == EAGAIN &&
	      ipc_recv_next(&p.broker, &rx, IPC_TO_BROKER, &m) == EAGAIN;
	pair_close(&p);

	/* Full pages, one taken, a 3996-byte frame: 100 bytes free, no page. */
	p = pair_open();
	k = fill_pages(&p.broker);
	ok &= k > 1 && k < 1000 &&
	      !ipc_recv(&p.store, rbuf, sizeof(rbuf), IPC_TO_STORE, &m) && m.hdr.conn == 1 &&
	      !ipc_send(&p.broker, IPC_CONN_DATA, 900, big, sizeof(big), -1);
	err = ipc_send(&p.broker, IPC_CONN_DATA, 901, big, 200, -1);
	ok &= err == EAGAIN && !ipc_send(&p.broker, IPC_CONN_DATA, 902, big, 50, -1);
	for (v = 2; ok && v <= k; v++)
		ok &= !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && m.hdr.conn == v;
	ok &= !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && m.hdr.conn == 900 &&
	      m.hdr.len == sizeof(big);
	ok &= !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && m.hdr.conn == 902 &&
	      m.hdr.len == 50 && rx.start == rx.end;
	pair_close(&p);
	return ok;
}

/*
 * A frame with an fd finds the pipe full: its fd went ahead, so ipc_send
 * waits for room (here a reader in another process takes one frame after
 * 100 ms) and the frame follows its fd, after those queued before it.
 */
static int t_send_fd_waits_for_room(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, 0, 1, 0, 0, 0 };
	struct pair p = pair_open();
	struct ipc_msg m;
	int pfd[2], ok, status;
	uint32_t k = fill_pages(&p.broker);
	pid_t pid;

	ipc_rx_reset(&rx);
	if (pipe(pfd))
		return 0;
	ok = k > 1 && k < 1000;
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		usleep(100 * 1000);
		_exit(read(p.store.in, rbuf, IPC_FRAME_MAX) == IPC_FRAME_MAX ? 0 : 1);
	}
	ok &= !ipc_send(&p.broker, IPC_CONN_NEW, 77, &cn, sizeof(cn), pfd[0]);
	ok &= waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	for (uint32_t i = 2; ok && i <= k; i++)
		ok &= !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && m.hdr.conn == i &&
		      m.hdr.len == IPC_PAYLOAD_MAX;
	ok &= !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && m.hdr.type == IPC_CONN_NEW &&
	      m.hdr.conn == 77 && same_file(m.fd, pfd[0]);
	if (ok && m.fd >= 0)
		close(m.fd);
	close(pfd[0]);
	close(pfd[1]);
	pair_close(&p);
	return ok;
}

/*
 * ipc_send_many on a pipe with room for one page: the first two frames
 * (4032 bytes together) fit it, the third does not; *sent says 2, the
 * reader gets exactly those two after what was queued, and the third
 * goes once there is room.  (Pipe room is counted in 4 KiB pages.)
 */
static int t_send_many_partial(void)
{
	static uint8_t d[3][2000];
	const struct ipc_out_frame f[3] = {
		{ IPC_CONN_DATA, 501, sizeof(d[0]), d[0] },
		{ IPC_CONN_DATA, 502, sizeof(d[1]), d[1] },
		{ IPC_CONN_DATA, 503, sizeof(d[2]), d[2] },
	};
	struct pair p = pair_open();
	unsigned int sent = 99;
	struct ipc_msg m;
	uint32_t k = fill_pages(&p.broker);
	int ok = k > 1 && k < 1000, err;

	ipc_rx_reset(&rx);
	for (int i = 0; i < 3; i++)
		memset(d[i], 'a' + i, sizeof(d[i]));
	/* One frame read frees one page. */
	ok &= !ipc_recv(&p.store, rbuf, sizeof(rbuf), IPC_TO_STORE, &m) && m.hdr.conn == 1;
	err = ipc_send_many(&p.broker, f, 3, &sent);
	if (err != EAGAIN || sent != 2)
		printf("    ipc_send_many: %d (%s), sent %u, want EAGAIN, 2\n", err,
		       strerror(err), sent);
	ok &= err == EAGAIN && sent == 2;
	for (uint32_t i = 2; ok && i <= k; i++)
		ok &= !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && m.hdr.conn == i;
	for (int i = 0; ok && i < 2; i++)
		ok &= !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) &&
		      m.hdr.conn == f[i].conn && m.hdr.len == f[i].len &&
		      !memcmp(m.payload, d[i], sizeof(d[i]));
	ok &= rx.start == rx.end && ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN;
	ok &= !ipc_send_many(&p.broker, f + 2, 1, &sent) && sent == 1 &&
	      !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && m.hdr.conn == 503 &&
	      !memcmp(m.payload, d[2], sizeof(d[2]));
	pair_close(&p);
	return ok;
}

/* More than PIPE_BUF in one call: several writes, every frame, in order. */
static int t_send_many_over_pipe_buf(void)
{
	static uint8_t d[IPC_SEND_MANY_MAX][IPC_PAYLOAD_MAX];
	const uint32_t lens[IPC_SEND_MANY_MAX] = {
		IPC_PAYLOAD_MAX, 1, 2000, 2000, 100, 3000, 16, IPC_PAYLOAD_MAX, 500, 1200,
	};
	struct ipc_out_frame f[IPC_SEND_MANY_MAX];
	size_t total = 0;
	int ok = 1;

	for (unsigned int i = 0; i < IPC_SEND_MANY_MAX; i++) {
		memset(d[i], 'A' + (int)i, lens[i]);
		f[i] = (struct ipc_out_frame){ IPC_REPLY_DATA, 10 + i, lens[i], d[i] };
		total += IPC_HDR_SIZE + lens[i];
	}
	ok &= total > PIPE_BUF;
	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		unsigned int sent = 0;
		struct ipc_msg m;

		ipc_rx_reset(&rx);
		ok &= !ipc_send_many(&p.store, f, IPC_SEND_MANY_MAX, &sent) &&
		      sent == IPC_SEND_MANY_MAX;
		for (unsigned int i = 0; ok && i < IPC_SEND_MANY_MAX; i++)
			ok &= !recv_via(next, &p.broker, IPC_TO_BROKER, &m) &&
			      m.hdr.conn == 10 + i && m.hdr.len == lens[i] &&
			      !memcmp(m.payload, d[i], lens[i]);
		ok &= recv_expect(next, &p.broker, IPC_TO_BROKER, EAGAIN);
		pair_close(&p);
	}
	return ok;
}

/* ipc_rx_buffered: whole frames read and not yet handed out, no more. */
static int t_rx_buffered(void)
{
	static struct ipc_rx fresh;
	struct ipc_hdr h = { IPC_CONN_DATA, 1, 0, 10 };
	struct ipc_hdr huge = { IPC_CONN_DATA, 1, 0, IPC_PAYLOAD_MAX + 1 };
	struct pair p = pair_open();
	struct ipc_msg m;
	int ok = !ipc_rx_buffered(&fresh);

	ipc_rx_reset(&rx);
	ok &= !ipc_rx_buffered(&rx);
	ok &= send_numbered(&p.broker, 0, 2) && next_numbered(&p.store, 0, 1) &&
	      ipc_rx_buffered(&rx) && next_numbered(&p.store, 1, 1) && !ipc_rx_buffered(&rx) &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN;  /* the unasked one */
	/* A header and half its payload, read: not whole. */
	ok &= !raw_write(p.broker.out, &h, sizeof(h)) && !raw_write(p.broker.out, "01234", 5) &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	      rx.end - rx.start == sizeof(h) + 5 && !ipc_rx_buffered(&rx) &&
	      !raw_write(p.broker.out, "56789", 5) && !ipc_rx_buffered(&rx) &&
	      !ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) && m.hdr.len == 10 &&
	      !ipc_rx_buffered(&rx);
	/* A length past the limit is whole enough to be refused. */
	ok &= ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	      !raw_write(p.broker.out, &huge, sizeof(huge)) &&
	      ipc_recv_next(&p.store, &rx, IPC_TO_STORE, &m) == E2BIG && ipc_rx_buffered(&rx) &&
	      rx.start <= rx.end;
	pair_close(&p);
	return ok;
}

/*
 * The frame's descriptor found no room in the receiver: EMFILE, that
 * frame lost (its fd closed by the kernel), the next one still comes.
 */
static int t_recv_fd_no_room(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, 0, 1, 0, 0, 0 };
	struct rlimit old, low;
	int ok = 1;

	if (getrlimit(RLIMIT_NOFILE, &old))
		return 0;
	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		int pfd[2], spare;
		char c;

		ipc_rx_reset(&rx);
		if (pipe2(pfd, O_NONBLOCK))
			return 0;
		ok &= !ipc_send(&p.broker, IPC_CONN_NEW, 1, &cn, sizeof(cn), pfd[1]) &&
		      send_numbered(&p.broker, 0, 1);
		close(pfd[1]);
		/* Every descriptor below the limit in use. */
		spare = dup(0);
		low = old;
		low.rlim_cur = (rlim_t)spare + 1;
		ok &= spare >= 0 && !setrlimit(RLIMIT_NOFILE, &low);
		ok &= recv_expect(next, &p.store, IPC_TO_STORE, EMFILE);
		ok &= !setrlimit(RLIMIT_NOFILE, &old);
		if (next)
			ok &= next_numbered(&p.store, 0, 1);
		else
			ok &= recv_expect(next, &p.store, IPC_TO_STORE, 0);
		ok &= read(pfd[0], &c, 1) == 0;
		close(spare);
		close(pfd[0]);
		pair_close(&p);
	}
	return ok;
}

static int t_short_frame(void)
{
	uint32_t half[2] = { IPC_HELLO, 0 };
	struct ipc_msg m;
	/* The codec: fewer bytes than a header. */
	int ok = ipc_frame_check(half, sizeof(half), IPC_TO_BROKER, 0, &m) == EPROTO;

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();

		/* ipc_recv takes a frame as written whole; ipc_recv_next waits. */
		ipc_rx_reset(&rx);
		ok &= !raw_write(p.store.out, half, sizeof(half)) &&
		      recv_expect(next, &p.broker, IPC_TO_BROKER, next ? EAGAIN : EPROTO);
		pair_close(&p);
	}
	return ok;
}

static int t_unknown_type(void)
{
	return refused(IPC_TO_BROKER, 127, 0, 0, NULL, 0, EPROTO) &&
	       refused(IPC_TO_BROKER, IPC_NONE, 0, 0, NULL, 0, EPROTO);
}

static int t_wrong_direction(void)
{
	return refused(IPC_TO_STORE, IPC_HELLO, 0, 0, &good_hello, sizeof(good_hello), EPROTO) &&
	       refused(IPC_TO_BROKER, IPC_SHUTDOWN, 0, 0, NULL, 0, EPROTO);
}

/*
 * The codec refuses a header whose length disagrees with the bytes it is
 * given.  On a pipe the header's length is what delimits the frame: a
 * shorter one ends the frame early (here under HELLO's size), a longer one
 * is a frame cut short (t_writer_gone_mid_frame).
 */
static int t_len_mismatch(void)
{
	int ok = checked(IPC_TO_BROKER, IPC_HELLO, 0, 0, sizeof(good_hello) + 1, &good_hello,
			 sizeof(good_hello), 0, EPROTO) &&
		 checked(IPC_TO_BROKER, IPC_HELLO, 0, 0, 4, &good_hello, sizeof(good_hello), 0,
			 EPROTO);

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();

		ipc_rx_reset(&rx);
		ok &= !raw_frame(p.store.out, IPC_HELLO, 0, 0, 4, &good_hello, sizeof(good_hello)) &&
		      recv_expect(next, &p.broker, IPC_TO_BROKER, EINVAL);
		pair_close(&p);
	}
	return ok;
}

static int t_oversize(void)
{
	static uint8_t big[IPC_PAYLOAD_MAX + 64];
	const uint32_t lens[] = { IPC_PAYLOAD_MAX + 1, 0xffffffffu };
	int ok;

	/* The codec: over the frame limit, and over the type's own bound. */
	ok = checked(IPC_TO_BROKER, IPC_REPLY_DATA, 1, 0, IPC_PAYLOAD_MAX + 1, big,
		     IPC_PAYLOAD_MAX + 1, 0, E2BIG) &&
	     refused(IPC_TO_BROKER, IPC_HELLO, 0, 0, big, 12, E2BIG);
	/* A header over the limit is refused before any payload is waited for. */
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (int next = 0; next < 2; next++) {
			struct pair p = pair_open();

			ipc_rx_reset(&rx);
			ok &= !raw_frame(p.store.out, IPC_REPLY_DATA, 1, 0, lens[i], big, 100) &&
			      recv_expect(next, &p.broker, IPC_TO_BROKER, E2BIG);
			/* ... and rx not moved past what was read, by that length. */
			ok &= rx_broker.start <= rx_broker.end;
			pair_close(&p);
		}
	return ok;
}

static int t_undersize(void)
{
	return refused(IPC_TO_BROKER, IPC_HELLO, 0, 0, &good_hello, 4, EINVAL) &&
	       refused(IPC_TO_BROKER, IPC_REPLY_DATA, 1, 0, NULL, 0, EINVAL);
}

static int t_bad_flags(void)
{
	return refused(IPC_TO_BROKER, IPC_HELLO, 0, 0x2, &good_hello, sizeof(good_hello),
		       EINVAL) &&
	       refused_and_closed(IPC_HELLO, 0, &good_hello, sizeof(good_hello), 1, EINVAL);
}

/*
 * IPC_F_FD with no fd: the codec says EINVAL; on the link the receiver
 * finds no descriptor waiting on the socket, EPROTO, also when the one
 * before it was taken by an earlier frame.
 */
static int t_fd_flag_without_fd(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, IPC_ACCESS_PRIV, 1, 0, 0, 0 };
	int ok = checked(IPC_TO_STORE, IPC_CONN_NEW, 1, IPC_F_FD, sizeof(cn), &cn, sizeof(cn), 0,
			 EINVAL);

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();

		ipc_rx_reset(&rx);
		ok &= !raw_frame(p.broker.out, IPC_CONN_NEW, 1, IPC_F_FD, sizeof(cn), &cn,
				 sizeof(cn)) &&
		      recv_expect(next, &p.store, IPC_TO_STORE, EPROTO);
		pair_close(&p);

		p = pair_open();
		ipc_rx_reset(&rx);
		ok &= !ipc_send(&p.broker, IPC_CONN_NEW, 1, &cn, sizeof(cn), p.broker.in) &&
		      !raw_frame(p.broker.out, IPC_CONN_NEW, 2, IPC_F_FD, sizeof(cn), &cn,
				 sizeof(cn)) &&
		      recv_expect(next, &p.store, IPC_TO_STORE, 0) &&
		      recv_expect(next, &p.store, IPC_TO_STORE, EPROTO);
		pair_close(&p);

		/* The end ipc_link_pair leaves blocking: still EPROTO, not a wait
		 * for an fd that never comes (SIGALRM ends the run if it does). */
		if (ipc_link_pair(&p.broker, &p.store))
			return 0;
		ipc_rx_reset(&rx);
		alarm(10);
		ok &= !raw_frame(p.broker.out, IPC_CONN_NEW, 1, IPC_F_FD, sizeof(cn), &cn,
				 sizeof(cn)) &&
		      recv_expect(next, &p.store, IPC_TO_STORE, EPROTO);
		alarm(0);
		pair_close(&p);
	}
	return ok;
}

/*
 * An fd without IPC_F_FD: the codec says EINVAL.  On the link the fd
 * waits on the socket where the frame cannot see it; whatever the frame
 * gets, it is not that fd as a socket connection, and the fd is not kept
 * once the link is closed.
 */
static int t_fd_without_fd_flag(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, IPC_ACCESS_PRIV, 1, 0, 0, 0 }, out;
	int ok = checked(IPC_TO_STORE, IPC_CONN_NEW, 1, 0, sizeof(cn), &cn, sizeof(cn), 1, EINVAL);

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		struct ipc_msg m;
		int pfd[2], ret;
		char c;

		ipc_rx_reset(&rx);
		if (pipe2(pfd, O_NONBLOCK))
			return 0;
		ok &= !raw_fds(p.broker.fds, &pfd[1], 1) &&
		      !raw_frame(p.broker.out, IPC_CONN_NEW, 1, 0, sizeof(cn), &cn, sizeof(cn));
		close(pfd[1]);
		/* The frame claims no descriptor, so none is taken: the stray one
		 * stays on the socket (its pipe not at end of file), and the
		 * decoder refuses a socket CONN_NEW that came without one. */
		ret = recv_via(next, &p.store, IPC_TO_STORE, &m);
		ok &= ret == 0 && m.fd == -1 && ipc_conn_new_decode(&m, &out) == EINVAL;
		if (!ret && m.fd >= 0)
			close(m.fd);
		ok &= read(pfd[0], &c, 1) < 0 && errno == EAGAIN;
		/* Closing the channel drops it. */
		pair_close(&p);
		ok &= read(pfd[0], &c, 1) == 0;
		close(pfd[0]);
	}
	return ok;
}

static int t_too_many_fds(void)
{
	/* Two fit the receive buffer and are refused; eight overflow it. */
	return refused_and_closed(IPC_HELLO, 0, &good_hello, sizeof(good_hello), 2, EINVAL) &&
	       refused_and_closed(IPC_HELLO, 0, &good_hello, sizeof(good_hello), 8, EPROTO);
}

static int t_conn_id_rule(void)
{
	uint8_t data[4] = { 1, 2, 3, 4 };

	return refused(IPC_TO_BROKER, IPC_HELLO, 5, 0, &good_hello, sizeof(good_hello), EINVAL) &&
	       refused(IPC_TO_BROKER, IPC_REPLY_DATA, 0, 0, data, sizeof(data), EINVAL) &&
	       refused(IPC_TO_STORE, IPC_CONN_GONE, 0, 0, NULL, 0, EINVAL);
}

/* A decoded-looking message that skipped ipc_frame_check. */
static struct ipc_msg fake_msg(uint32_t type, uint32_t flags, const void *payload, uint32_t len)
{
	return (struct ipc_msg){ { type, type == IPC_CONN_NEW, flags, len }, payload, -1 };
}

static int t_decode_size_mismatch(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, IPC_ACCESS_PRIV, 1, 0, 0, 0 }, cout;
	struct ipc_hello hout;
	struct ipc_msg hm = fake_msg(IPC_HELLO, 0, &good_hello, sizeof(good_hello) - 1);
	struct ipc_msg cm = fake_msg(IPC_CONN_NEW, IPC_F_FD, &cn, sizeof(cn) - 4);
	struct ipc_msg wrong = fake_msg(IPC_SHUTDOWN, 0, &good_hello, sizeof(good_hello));

	return ipc_hello_decode(&hm, &hout) == EINVAL &&
	       ipc_conn_new_decode(&cm, &cout) == EINVAL &&
	       ipc_hello_decode(&wrong, &hout) == EINVAL;
}

static int conn_new_decodes(struct ipc_conn_new cn, uint32_t flags)
{
	struct ipc_msg m = fake_msg(IPC_CONN_NEW, flags, &cn, sizeof(cn));
	struct ipc_conn_new out;

	return ipc_conn_new_decode(&m, &out);
}

static int t_conn_new_ranges(void)
{
	struct ipc_conn_new ok = { IPC_KIND_SOCKET, 0x7ff4, IPC_ACCESS_PRIV | IPC_ACCESS_RDONLY,
				   -1, 0, 0, 0 };
	struct ipc_conn_new c;

	if (conn_new_decodes(ok, IPC_F_FD))
		return 0;
	c = ok, c.domid = 0xffff;
	if (conn_new_decodes(c, IPC_F_FD))
		return 0;
	c = ok, c.domid = 0x10000;
	if (conn_new_decodes(c, IPC_F_FD) != EINVAL)
		return 0;
	c = ok, c.kind = 3;
	if (conn_new_decodes(c, IPC_F_FD) != EINVAL)
		return 0;
	c = ok, c.access = 0x4;
	if (conn_new_decodes(c, IPC_F_FD) != EINVAL)
		return 0;
	c = ok, c.pid = -2;
	if (conn_new_decodes(c, IPC_F_FD) != EINVAL)
		return 0;
	/* A socket connection is its fd; a ring connection has none. */
	if (conn_new_decodes(ok, 0) != EINVAL)
		return 0;
	c = ok, c.kind = IPC_KIND_RING;
	return conn_new_decodes(c, 0) == 0 && conn_new_decodes(c, IPC_F_FD) == EINVAL;
}

static int t_hello_ranges(void)
{
	struct ipc_hello h = good_hello, out;
	struct ipc_msg m = fake_msg(IPC_HELLO, 0, &h, sizeof(h));

	h.version = IPC_PROTO_VERSION + 1;
	if (ipc_hello_decode(&m, &out) != EPROTO)
		return 0;
	h.version = IPC_PROTO_VERSION;
	h.pid = 0;
	if (ipc_hello_decode(&m, &out) != EINVAL)
		return 0;
	h.pid = 0x80000000u;
	return ipc_hello_decode(&m, &out) == EINVAL;
}

/*
 * A full descriptor socket: a frame with an fd is refused whole, EAGAIN,
 * and nothing of it reaches the pipe (a frame written without its fd
 * would take the next frame's descriptor at the other end).
 */
static int t_send_fd_socket_full(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, IPC_ACCESS_PRIV, 1, 0, 0, 0 };
	struct pair p = pair_open();
	int fd = open("/dev/null", O_RDONLY), n = 0, ret, ok;
	char c;

	while (fd >= 0 && n < 100000 && ipc_send_fd(&p.broker, fd) == 0)
		n++;
	ret = ipc_send(&p.broker, IPC_CONN_NEW, 1, &cn, sizeof(cn), fd);
	/* EAGAIN for the socket's queue; a root-less run may meet the limit
	 * on descriptors in flight first. */
	ok = fd >= 0 && n > 0 && n < 100000 && (ret == EAGAIN || ret == ETOOMANYREFS);
	ok &= read(p.store.in, &c, 1) < 0 && errno == EAGAIN;
	if (!ok)
		printf("    %d fds queued, send %s\n", n, strerror(ret));
	if (fd >= 0)
		close(fd);
	pair_close(&p);
	return ok;
}

static const struct unit_case tests[] = {
	{ "send_many: frames in order, whole; a bad one sends none", t_send_many },
	{ "send_many: over PIPE_BUF in one call, all in order", t_send_many_over_pipe_buf },
	{ "send_many: pipe full part way, *sent says which went", t_send_many_partial },
	{ "send: full pipe, EAGAIN and nothing of the frame sent", t_send_full_pipe },
	{ "send: full descriptor socket, EAGAIN and no frame without its fd", t_send_fd_socket_full },
	{ "send: a frame with an fd waits for room after its fd", t_send_fd_waits_for_room },
	{ "type table is consistent", t_table },
	{ "HELLO round trip", t_hello_roundtrip },
	{ "CONN_NEW round trip with fd", t_conn_new_fd_roundtrip },
	{ "fds ride with their own frames, both ways, among fd-less ones", t_fds_ride_with_frames },
	{ "SHUTDOWN round trip (empty payload)", t_shutdown_roundtrip },
	{ "CONN_DATA round trip at IPC_PAYLOAD_MAX", t_max_payload_roundtrip },
	{ "recv: EAGAIN when empty, EPIPE when closed", t_recv_empty_and_closed },
	{ "recv: buffer under IPC_FRAME_MAX refused", t_recv_small_buffer },
	{ "recv_next: order across reads, EAGAIN unasked after an emptying one", t_recv_next_reads },
	{ "recv_next: frames cut by the buffer's end come whole, in order", t_recv_next_straddle },
	{ "recv_next: a forked writer's 500 KiB, in order, then EPIPE", t_recv_next_forked_writer },
	{ "recv_next: a frame in two writes: EAGAIN, then whole", t_recv_next_split_frame },
	{ "recv_next: rx_buffered only for a whole frame not handed out", t_rx_buffered },
	{ "recv_next: closing the link closes the fds of frames not handed out",
	  t_recv_next_close_drops_fds },
	{ "recv, recv_next: a peer gone between frames: all its frames, then EPIPE",
	  t_recv_after_peer_gone },
	{ "recv, recv_next: a writer gone mid-frame: EPROTO", t_writer_gone_mid_frame },
	{ "recv, recv_next: no room for the fd: EMFILE, the next frame comes", t_recv_fd_no_room },
	{ "send: oversize, unknown type, bad len/fd/conn, EPIPE", t_send_refuses },
	{ "short frame", t_short_frame },
	{ "unknown type", t_unknown_type },
	{ "wrong direction", t_wrong_direction },
	{ "header len disagrees with the frame", t_len_mismatch },
	{ "oversize payload", t_oversize },
	{ "undersize payload", t_undersize },
	{ "unknown or disallowed flags (fd closed)", t_bad_flags },
	{ "IPC_F_FD without an fd", t_fd_flag_without_fd },
	{ "fd without IPC_F_FD (fd closed)", t_fd_without_fd_flag },
	{ "more than one fd (all closed)", t_too_many_fds },
	{ "conn id rule", t_conn_id_rule },
	{ "decode: size or type mismatch", t_decode_size_mismatch },
	{ "decode CONN_NEW: kind, access, domid, pid, fd", t_conn_new_ranges },
	{ "decode HELLO: version, pid", t_hello_ranges },
};

int main(void)
{
	/* A pipe whose reader is gone raises SIGPIPE in its writer: the two
	 * daemons ignore it (broker/main.c, storeproc/main.c) and get EPIPE,
	 * which is what these tests check. */
	signal(SIGPIPE, SIG_IGN);
	return unit_run("ipc", tests, sizeof(tests) / sizeof(tests[0]));
}
