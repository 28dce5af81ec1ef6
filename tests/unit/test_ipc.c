/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ipc.c - the frame codec: the type table, round trips over a real
 * SOCK_SEQPACKET socketpair (fd passing included), and one refused frame
 * per validation rule of ipc_frame_check / ipc_recv / the decoders.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc.h"
#include "unit.h"

struct pair {
	int broker, store;	/* broker's end, store process's end */
};

static struct pair pair_open(void)
{
	int sv[2] = { -1, -1 };

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		perror("socketpair");
	return (struct pair){ sv[0], sv[1] };
}

static void pair_close(struct pair p)
{
	close(p.broker);
	close(p.store);
}

/* Send a frame as a buggy or hostile peer would: any header, any fds. */
static int raw_send(int sock, uint32_t type, uint32_t conn, uint32_t flags, uint32_t hdr_len,
		    const void *payload, size_t n, const int *fds, unsigned int nfds)
{
	struct ipc_hdr h = { type, conn, flags, hdr_len };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} ctl;
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, n } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n ? 2 : 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? errno : 0;
}

/* Receive on `sock` for `dir` and expect `want`; closes any fd received. */
static int recv_expect(int sock, enum ipc_dir dir, int want)
{
	uint8_t buf[IPC_FRAME_MAX];
	struct ipc_msg m;
	int ret = ipc_recv(sock, buf, sizeof(buf), dir, &m);

	if (!ret && m.fd >= 0)
		close(m.fd);
	if (ret != want)
		printf("    got %d (%s), want %d\n", ret, strerror(ret), want);
	return ret == want;
}

/*
 * A raw frame with the write end of a fresh pipe attached `nfds` times:
 * true when it is refused with `want` and no copy of the fd survives
 * (the pipe reads EOF once every write end is closed).
 */
static int refused_and_closed(uint32_t type, uint32_t conn, uint32_t flags,
			      const void *payload, uint32_t len, unsigned int nfds, int want)
{
	struct pair p = pair_open();
	int pfd[2], fds[8], ok;
	char c;

	if (pipe2(pfd, O_NONBLOCK))
		return 0;
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = pfd[1];
	ok = !raw_send(p.store, type, conn, flags, len, payload, len, fds, nfds);
	close(pfd[1]);
	ok = ok && recv_expect(p.broker, IPC_TO_BROKER, want) &&
	     read(pfd[0], &c, 1) == 0;
	close(pfd[0]);
	pair_close(p);
	return ok;
}

/* A raw frame without fds, refused with `want` for direction `dir`. */
static int refused(enum ipc_dir dir, uint32_t type, uint32_t conn, uint32_t flags,
		   uint32_t hdr_len, const void *payload, size_t n, int want)
{
	struct pair p = pair_open();
	int sender = dir == IPC_TO_BROKER ? p.store : p.broker;
	int receiver = dir == IPC_TO_BROKER ? p.broker : p.store;
	int ok = !raw_send(sender, type, conn, flags, hdr_len, payload, n, NULL, 0) &&
		 recv_expect(receiver, dir, want);

	pair_close(p);
	return ok;
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
	struct pair p = pair_open();
	uint8_t buf[IPC_FRAME_MAX];
	struct ipc_msg m;
	struct ipc_hello h;
	int ok = !ipc_send(p.store, IPC_HELLO, 0, &good_hello, sizeof(good_hello), -1) &&
		 !ipc_recv(p.broker, buf, sizeof(buf), IPC_TO_BROKER, &m) &&
		 m.fd == -1 && m.hdr.type == IPC_HELLO && m.hdr.flags == 0 &&
		 !ipc_hello_decode(&m, &h) && h.version == IPC_PROTO_VERSION && h.pid == 1234;

	pair_close(p);
	return ok;
}

static int t_conn_new_fd_roundtrip(void)
{
	struct pair p = pair_open();
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, IPC_ACCESS_PRIV, 42, 0, 0, 0 }, got;
	uint8_t buf[IPC_FRAME_MAX];
	struct stat a, b;
	struct ipc_msg m;
	int pfd[2], ok;

	if (pipe(pfd))
		return 0;
	ok = !ipc_send(p.broker, IPC_CONN_NEW, 7, &cn, sizeof(cn), pfd[0]) &&
	     !ipc_recv(p.store, buf, sizeof(buf), IPC_TO_STORE, &m) &&
	     m.hdr.conn == 7 && (m.hdr.flags & IPC_F_FD) && m.fd >= 0 && m.fd != pfd[0] &&
	     !ipc_conn_new_decode(&m, &got) && !memcmp(&cn, &got, sizeof(cn)) &&
	     !fstat(m.fd, &a) && !fstat(pfd[0], &b) &&
	     a.st_ino == b.st_ino && a.st_dev == b.st_dev &&
	     (fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	if (m.fd >= 0)
		close(m.fd);
	close(pfd[0]);
	close(pfd[1]);
	pair_close(p);
	return ok;
}

/* ipc_send_many: in order, whole, one syscall; a bad frame sends none. */
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
	uint8_t buf[IPC_FRAME_MAX];
	struct ipc_msg m;
	unsigned int sent = 99;
	int ok = !ipc_send_many(p.store, f, 3, &sent) && sent == 3;

	ok &= !ipc_recv(p.broker, buf, sizeof(buf), IPC_TO_BROKER, &m) &&
	      m.hdr.type == IPC_REPLY_DATA && m.hdr.len == 5 && !memcmp(m.payload, "hello", 5);
	ok &= !ipc_recv(p.broker, buf, sizeof(buf), IPC_TO_BROKER, &m) &&
	      m.hdr.len == 3 && !memcmp(m.payload, "abc", 3);
	ok &= !ipc_recv(p.broker, buf, sizeof(buf), IPC_TO_BROKER, &m) &&
	      m.hdr.type == IPC_CONN_CREDIT && m.hdr.conn == 9 &&
	      !memcmp(m.payload, &credit, sizeof(credit));
	ok &= ipc_send_many(p.store, bad, 2, &sent) == EINVAL && sent == 0 &&
	      ipc_recv(p.broker, buf, sizeof(buf), IPC_TO_BROKER, &m) == EAGAIN;
	ok &= ipc_send_many(p.store, f, IPC_SEND_MANY_MAX + 1, &sent) == EINVAL;
	pair_close(p);
	return ok;
}

/* The batch is big: one for all the cases below. */
static struct ipc_rx rx;

/* n CONN_DATA frames on conn 1, payload "0", "1", ... */
static int send_numbered(int sock, int from, int n)
{
	for (int i = from; i < from + n; i++) {
		char c = (char)('0' + i % 10);

		if (ipc_send(sock, IPC_CONN_DATA, 1, &c, 1, -1))
			return 0;
	}
	return 1;
}

/* The next n frames from the batch are numbered from `from`. */
static int next_numbered(int sock, int from, int n)
{
	struct ipc_msg m;

	for (int i = from; i < from + n; i++)
		if (ipc_recv_next(sock, &rx, IPC_TO_STORE, &m) || m.hdr.len != 1 ||
		    m.payload[0] != '0' + i % 10)
			return 0;
	return 1;
}

/*
 * Frames come in order across batches; after a batch that emptied the
 * socket one EAGAIN comes unasked (the caller's epoll has the rest), and
 * the next call asks the kernel again.
 */
static int t_recv_next_batches(void)
{
	struct pair p = pair_open();
	struct ipc_msg m;
	int ok;

	ipc_rx_reset(&rx);
	ok = send_numbered(p.broker, 0, 3) && next_numbered(p.store, 0, 2);
	ok &= send_numbered(p.broker, 3, 1);  /* after the batch was taken */
	ok &= next_numbered(p.store, 2, 1) &&
	      ipc_recv_next(p.store, &rx, IPC_TO_STORE, &m) == EAGAIN && rx.got == 3;
	ok &= next_numbered(p.store, 3, 1) &&
	      ipc_recv_next(p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	      ipc_recv_next(p.store, &rx, IPC_TO_STORE, &m) == EAGAIN;
	/* More than a batch: a full one does not claim the socket empty. */
	ok &= send_numbered(p.broker, 0, IPC_RX_BATCH + 3) &&
	      next_numbered(p.store, 0, IPC_RX_BATCH + 3) && rx.got == 3 &&
	      ipc_recv_next(p.store, &rx, IPC_TO_STORE, &m) == EAGAIN;
	/* A bad frame is refused in its place; the ones after it still come. */
	ok &= send_numbered(p.broker, 0, 1) &&
	      !raw_send(p.broker, IPC_CONN_DATA, 0, 0, 1, "x", 1, NULL, 0) &&
	      send_numbered(p.broker, 1, 1);
	ok &= next_numbered(p.store, 0, 1) &&
	      ipc_recv_next(p.store, &rx, IPC_TO_STORE, &m) == EINVAL &&
	      next_numbered(p.store, 1, 1);
	close(p.broker);
	ok &= ipc_recv_next(p.store, &rx, IPC_TO_STORE, &m) == EAGAIN &&
	      ipc_recv_next(p.store, &rx, IPC_TO_STORE, &m) == EPIPE;
	close(p.store);
	return ok;
}

/*
 * A store process that dies with the broker's frames unread: the kernel
 * says ECONNRESET before the frames it had sent (its last JOURNAL, say).
 * Both receive paths still hand them all over, then EPIPE.
 */
static int t_recv_after_reset(void)
{
	int ok = 1;

	for (int next = 0; next < 2; next++) {
		struct pair p = pair_open();
		uint8_t buf[IPC_FRAME_MAX];
		struct ipc_msg m;
		int err;

		ipc_rx_reset(&rx);
		ok &= send_numbered(p.broker, 0, 1) &&	/* never read */
		      !ipc_send(p.store, IPC_HELLO, 0, &(struct ipc_hello){ IPC_PROTO_VERSION, 7 },
				sizeof(struct ipc_hello), -1) &&
		      !ipc_send(p.store, IPC_RING_IDLE, 5, NULL, 0, -1);
		close(p.store);
		for (int i = 0; i < 2; i++) {
			err = next ? ipc_recv_next(p.broker, &rx, IPC_TO_BROKER, &m)
				   : ipc_recv(p.broker, buf, sizeof(buf), IPC_TO_BROKER, &m);
			ok &= !err && m.hdr.type == (i ? IPC_RING_IDLE : IPC_HELLO);
		}
		err = next ? ipc_recv_next(p.broker, &rx, IPC_TO_BROKER, &m)
			   : ipc_recv(p.broker, buf, sizeof(buf), IPC_TO_BROKER, &m);
		ok &= err == EPIPE;
		close(p.broker);
	}
	return ok;
}

/* A descriptor in a frame never handed out is closed by ipc_rx_reset. */
static int t_recv_next_reset_closes(void)
{
	struct pair p = pair_open();
	struct ipc_msg m;
	char c;
	int pipefd[2], ok;

	ipc_rx_reset(&rx);
	if (pipe(pipefd))
		return 0;
	ok = !ipc_send(p.broker, IPC_TRACE_FD, 0, NULL, 0, pipefd[1]) &&
	     !ipc_send(p.broker, IPC_TRACE_FD, 0, NULL, 0, pipefd[1]);
	close(pipefd[1]);
	ok &= !ipc_recv_next(p.store, &rx, IPC_TO_STORE, &m) && m.fd >= 0;
	close(m.fd);
	ipc_rx_reset(&rx);
	/* Every write end gone: EOF, not a block. */
	ok &= read(pipefd[0], &c, 1) == 0 && rx.got == 0 && rx.next == 0;
	close(pipefd[0]);
	pair_close(p);
	return ok;
}

static int t_shutdown_roundtrip(void)
{
	struct pair p = pair_open();
	uint8_t buf[IPC_FRAME_MAX];
	struct ipc_msg m;
	int ok = !ipc_send(p.broker, IPC_SHUTDOWN, 0, NULL, 0, -1) &&
		 !ipc_recv(p.store, buf, sizeof(buf), IPC_TO_STORE, &m) &&
		 m.hdr.type == IPC_SHUTDOWN && m.hdr.len == 0 && m.fd == -1;

	pair_close(p);
	return ok;
}

static int t_max_payload_roundtrip(void)
{
	static uint8_t data[IPC_PAYLOAD_MAX];
	struct pair p = pair_open();
	uint8_t buf[IPC_FRAME_MAX];
	struct ipc_msg m;
	int ok;

	memset(data, 0xa5, sizeof(data));
	ok = !ipc_send(p.broker, IPC_CONN_DATA, 3, data, sizeof(data), -1) &&
	     !ipc_recv(p.store, buf, sizeof(buf), IPC_TO_STORE, &m) &&
	     m.hdr.len == IPC_PAYLOAD_MAX && !memcmp(m.payload, data, sizeof(data));
	pair_close(p);
	return ok;
}

static int t_recv_empty_and_closed(void)
{
	struct pair p = pair_open();
	int ok = recv_expect(p.broker, IPC_TO_BROKER, EAGAIN);

	close(p.store);
	ok = ok && recv_expect(p.broker, IPC_TO_BROKER, EPIPE);
	close(p.broker);
	return ok;
}

static int t_recv_small_buffer(void)
{
	struct pair p = pair_open();
	uint8_t buf[IPC_HDR_SIZE];
	struct ipc_msg m;
	int ok = ipc_recv(p.broker, buf, sizeof(buf), IPC_TO_BROKER, &m) == EINVAL;

	pair_close(p);
	return ok;
}

static int t_send_refuses(void)
{
	static uint8_t big[IPC_PAYLOAD_MAX + 1];
	struct pair p = pair_open();
	int ok = ipc_send(p.store, IPC_REPLY_DATA, 1, big, sizeof(big), -1) == E2BIG &&
		 ipc_send(p.store, 99, 0, NULL, 0, -1) == EINVAL &&
		 ipc_send(p.store, IPC_HELLO, 0, &good_hello, 4, -1) == EINVAL &&
		 ipc_send(p.store, IPC_HELLO, 0, &good_hello, sizeof(good_hello), 0) == EINVAL &&
		 ipc_send(p.store, IPC_HELLO, 9, &good_hello, sizeof(good_hello), -1) == EINVAL;

	close(p.broker);
	ok = ok && ipc_send(p.store, IPC_HELLO, 0, &good_hello, sizeof(good_hello), -1) == EPIPE;
	close(p.store);
	return ok;
}

static int t_short_frame(void)
{
	struct pair p = pair_open();
	uint32_t half[2] = { IPC_HELLO, 0 };
	int ok = send(p.store, half, sizeof(half), 0) == (ssize_t)sizeof(half) &&
		 recv_expect(p.broker, IPC_TO_BROKER, EPROTO);

	pair_close(p);
	return ok;
}

static int t_unknown_type(void)
{
	return refused(IPC_TO_BROKER, 127, 0, 0, 0, NULL, 0, EPROTO) &&
	       refused(IPC_TO_BROKER, IPC_NONE, 0, 0, 0, NULL, 0, EPROTO);
}

static int t_wrong_direction(void)
{
	return refused(IPC_TO_STORE, IPC_HELLO, 0, 0, sizeof(good_hello), &good_hello,
		       sizeof(good_hello), EPROTO) &&
	       refused(IPC_TO_BROKER, IPC_SHUTDOWN, 0, 0, 0, NULL, 0, EPROTO);
}

static int t_len_mismatch(void)
{
	return refused(IPC_TO_BROKER, IPC_HELLO, 0, 0, sizeof(good_hello) + 1, &good_hello,
		       sizeof(good_hello), EPROTO) &&
	       refused(IPC_TO_BROKER, IPC_HELLO, 0, 0, 4, &good_hello, sizeof(good_hello), EPROTO);
}

static int t_oversize(void)
{
	static uint8_t big[IPC_PAYLOAD_MAX + 64];
	uint8_t frame[IPC_HDR_SIZE + sizeof(big)];
	struct ipc_hdr h = { IPC_REPLY_DATA, 1, 0, IPC_PAYLOAD_MAX + 1 };
	struct ipc_msg m;

	/* Over the wire the datagram does not fit the buffer ... */
	if (!refused(IPC_TO_BROKER, IPC_REPLY_DATA, 1, 0, IPC_PAYLOAD_MAX + 1, big,
		     IPC_PAYLOAD_MAX + 1, E2BIG))
		return 0;
	/* ... and a bigger buffer still meets the per-type bound. */
	memcpy(frame, &h, sizeof(h));
	return ipc_frame_check(frame, IPC_HDR_SIZE + IPC_PAYLOAD_MAX + 1, IPC_TO_BROKER,
			       0, &m) == E2BIG &&
	       refused(IPC_TO_BROKER, IPC_HELLO, 0, 0, 12, big, 12, E2BIG);
}

static int t_undersize(void)
{
	return refused(IPC_TO_BROKER, IPC_HELLO, 0, 0, 4, &good_hello, 4, EINVAL) &&
	       refused(IPC_TO_BROKER, IPC_REPLY_DATA, 1, 0, 0, NULL, 0, EINVAL);
}

static int t_bad_flags(void)
{
	return refused(IPC_TO_BROKER, IPC_HELLO, 0, 0x2, sizeof(good_hello), &good_hello,
		       sizeof(good_hello), EINVAL) &&
	       refused_and_closed(IPC_HELLO, 0, IPC_F_FD, &good_hello, sizeof(good_hello),
				  1, EINVAL);
}

static int t_fd_flag_without_fd(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, IPC_ACCESS_PRIV, 1, 0, 0, 0 };

	return refused(IPC_TO_STORE, IPC_CONN_NEW, 1, IPC_F_FD, sizeof(cn), &cn,
		       sizeof(cn), EINVAL);
}

static int t_fd_without_fd_flag(void)
{
	struct ipc_conn_new cn = { IPC_KIND_SOCKET, 0, IPC_ACCESS_PRIV, 1, 0, 0, 0 };
	struct pair p = pair_open();
	int pfd[2], ok;
	char c;

	/* Towards the store this time, with the pipe trick inline. */
	if (pipe2(pfd, O_NONBLOCK))
		return 0;
	ok = !raw_send(p.broker, IPC_CONN_NEW, 1, 0, sizeof(cn), &cn, sizeof(cn), &pfd[1], 1);
	close(pfd[1]);
	ok = ok && recv_expect(p.store, IPC_TO_STORE, EINVAL) && read(pfd[0], &c, 1) == 0;
	close(pfd[0]);
	pair_close(p);
	return ok;
}

static int t_too_many_fds(void)
{
	/* Two fit the receive buffer and are refused; eight overflow it. */
	return refused_and_closed(IPC_HELLO, 0, IPC_F_FD, &good_hello, sizeof(good_hello),
				  2, EINVAL) &&
	       refused_and_closed(IPC_HELLO, 0, IPC_F_FD, &good_hello, sizeof(good_hello),
				  8, EPROTO);
}

static int t_conn_id_rule(void)
{
	uint8_t data[4] = { 1, 2, 3, 4 };

	return refused(IPC_TO_BROKER, IPC_HELLO, 5, 0, sizeof(good_hello), &good_hello,
		       sizeof(good_hello), EINVAL) &&
	       refused(IPC_TO_BROKER, IPC_REPLY_DATA, 0, 0, sizeof(data), data,
		       sizeof(data), EINVAL) &&
	       refused(IPC_TO_STORE, IPC_CONN_GONE, 0, 0, 0, NULL, 0, EINVAL);
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

static const struct unit_case tests[] = {
	{ "send_many: frames in order, whole; a bad one sends none", t_send_many },
	{ "type table is consistent", t_table },
	{ "HELLO round trip", t_hello_roundtrip },
	{ "CONN_NEW round trip with fd", t_conn_new_fd_roundtrip },
	{ "SHUTDOWN round trip (empty payload)", t_shutdown_roundtrip },
	{ "CONN_DATA round trip at IPC_PAYLOAD_MAX", t_max_payload_roundtrip },
	{ "recv: EAGAIN when empty, EPIPE when closed", t_recv_empty_and_closed },
	{ "recv: buffer under IPC_FRAME_MAX refused", t_recv_small_buffer },
	{ "recv_next: order across batches, EAGAIN unasked after an emptying one", t_recv_next_batches },
	{ "recv_next: ipc_rx_reset closes the fds of frames not handed out", t_recv_next_reset_closes },
	{ "recv, recv_next: a peer gone with our frames unread: its frames, then EPIPE", t_recv_after_reset },
	{ "send: oversize, unknown type, bad len/fd/conn, EPIPE", t_send_refuses },
	{ "short frame", t_short_frame },
	{ "unknown type", t_unknown_type },
	{ "wrong direction", t_wrong_direction },
	{ "header len disagrees with datagram", t_len_mismatch },
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

UNIT_MAIN("ipc")
