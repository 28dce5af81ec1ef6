/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipc.c - the broker <-> store process frame codec; see ipc.h.
 *
 * Error values, so that a log line says which rule a frame broke:
 *   EPROTO  the frame is not a frame: short, unknown type, wrong way,
 *           header length disagrees with the bytes, stray control data,
 *           a frame cut short, a descriptor missing or sent wrongly
 *   E2BIG   payload longer than its type allows (or than the buffer)
 *   EINVAL  a field holds a value its type does not allow
 */
#include "ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Descriptors room for one frame, so that "too many" is seen and closed. */
#define IPC_RECV_FDS_MAX 4
/* ipc_send's wait for room for the frame after its descriptor: its polls. */
#define FD_WAIT_SLICE_MS 100

static const struct ipc_type_info ipc_types[] = {
	{ IPC_CONN_NEW, "CONN_NEW", IPC_TO_STORE,
	  sizeof(struct ipc_conn_new), sizeof(struct ipc_conn_new), IPC_F_FD, true },
	{ IPC_CONN_DATA, "CONN_DATA", IPC_TO_STORE, 1, IPC_PAYLOAD_MAX, 0, true },
	{ IPC_CONN_GONE, "CONN_GONE", IPC_TO_STORE, 0, 0, 0, true },
	{ IPC_SHUTDOWN, "SHUTDOWN", IPC_TO_STORE, 0, 0, 0, false },
	{ IPC_RING_RESULT, "RING_RESULT", IPC_TO_STORE,
	  sizeof(struct ipc_ring_result), sizeof(struct ipc_ring_result), 0, false },
	/* Whole entries only; the exact multiple is checked by the decoder. */
	{ IPC_DOMAIN_STATE, "DOMAIN_STATE", IPC_TO_STORE,
	  sizeof(struct ipc_domain_state), IPC_PAYLOAD_MAX, 0, false },
	{ IPC_CONN_SPACE, "CONN_SPACE", IPC_TO_STORE,
	  sizeof(uint32_t), sizeof(uint32_t), 0, true },
	{ IPC_TRACE_FD, "TRACE_FD", IPC_TO_STORE, 0, 0, IPC_F_FD, false },
	{ IPC_JOURNAL_RESTORE, "JOURNAL_RESTORE", IPC_TO_STORE, 0, 0, IPC_F_FD, false },
	{ IPC_HELLO, "HELLO", IPC_TO_BROKER,
	  sizeof(struct ipc_hello), sizeof(struct ipc_hello), 0, false },
	{ IPC_REPLY_DATA, "REPLY_DATA", IPC_TO_BROKER, 1, IPC_PAYLOAD_MAX, 0, true },
	{ IPC_RING_MAP, "RING_MAP", IPC_TO_BROKER,
	  sizeof(struct ipc_ring_map), sizeof(struct ipc_ring_map), 0, false },
	{ IPC_RING_UNMAP, "RING_UNMAP", IPC_TO_BROKER, 0, 0, 0, true },
	/* The count, then the reply bytes that answered them, if any. */
	{ IPC_CONN_CREDIT, "CONN_CREDIT", IPC_TO_BROKER,
	  sizeof(uint32_t), IPC_PAYLOAD_MAX, 0, true },
	{ IPC_JOURNAL, "JOURNAL", IPC_TO_BROKER, 0, 0, IPC_F_FD, false },
	{ IPC_RING_BREAK, "RING_BREAK", IPC_TO_BROKER,
	  sizeof(uint32_t), sizeof(uint32_t), 0, true },
	{ IPC_RING_IDLE, "RING_IDLE", IPC_TO_BROKER, 0, 0, 0, true },
};

#define IPC_NTYPES (sizeof(ipc_types) / sizeof(ipc_types[0]))

const struct ipc_type_info *ipc_type_lookup(uint32_t type)
{
	for (size_t i = 0; i < IPC_NTYPES; i++)
		if (ipc_types[i].type == type)
			return &ipc_types[i];
	return NULL;
}

size_t ipc_type_count(void)
{
	return IPC_NTYPES;
}

const struct ipc_type_info *ipc_type_at(size_t i)
{
	return i < IPC_NTYPES ? &ipc_types[i] : NULL;
}

int ipc_frame_check(const void *buf, size_t n, enum ipc_dir dir,
		    unsigned int nfds, struct ipc_msg *msg)
{
	const struct ipc_type_info *t;
	struct ipc_hdr h;

	if (n < IPC_HDR_SIZE)
		return EPROTO;
	/* The receive buffer need not be aligned for uint32_t. */
	memcpy(&h, buf, sizeof(h));
	t = ipc_type_lookup(h.type);
	if (!t || t->dir != dir)
		return EPROTO;
	if (h.len != n - IPC_HDR_SIZE)
		return EPROTO;
	if (h.len > t->max_len)
		return E2BIG;
	if (h.len < t->min_len)
		return EINVAL;
	if (h.flags & ~t->allowed_flags)
		return EINVAL;
	if (!!(h.flags & IPC_F_FD) != (nfds == 1) || nfds > 1)
		return EINVAL;
	if (t->needs_conn != (h.conn != 0))
		return EINVAL;

	msg->hdr = h;
	msg->payload = (const uint8_t *)buf + IPC_HDR_SIZE;
	msg->fd = -1;
	return 0;
}

/* What the peer would refuse, refused here, so a bug shows at its source. */
static int send_check(uint32_t type, uint32_t conn, const void *payload,
		      uint32_t len, uint32_t flags)
{
	const struct ipc_type_info *t = ipc_type_lookup(type);

	if (len > IPC_PAYLOAD_MAX || (t && len > t->max_len))
		return E2BIG;
	if (!t || len < t->min_len || (len && !payload) ||
	    (flags & ~t->allowed_flags) || t->needs_conn != (conn != 0))
		return EINVAL;
	return 0;
}

int ipc_link_pair(struct ipc_link *a, struct ipc_link *b)
{
	int sv[2] = { -1, -1 }, ab[2] = { -1, -1 }, ba[2] = { -1, -1 };
	int err = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ||
	    pipe2(ab, O_CLOEXEC) || pipe2(ba, O_CLOEXEC))
		err = errno;
	*a = (struct ipc_link){ .in = ba[0], .out = ab[1], .fds = sv[0] };
	*b = (struct ipc_link){ .in = ab[0], .out = ba[1], .fds = sv[1] };
	/* Each end is a file of its own: b's stay blocking until b says. */
	if (!err && (fcntl(a->in, F_SETFL, O_NONBLOCK) || fcntl(a->out, F_SETFL, O_NONBLOCK) ||
		     fcntl(a->fds, F_SETFL, O_NONBLOCK)))
		err = errno;
	if (err) {
		ipc_link_close(a);
		ipc_link_close(b);
	}
	return err;
}

void ipc_link_close(struct ipc_link *l)
{
	int *fd[] = { &l->in, &l->out, &l->fds };

	for (size_t i = 0; i < sizeof(fd) / sizeof(fd[0]); i++) {
		if (*fd[i] >= 0)
			close(*fd[i]);
		*fd[i] = -1;
	}
}

int ipc_send_fd(const struct ipc_link *l, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char tag = 'F';
	struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(l->fds, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? EAGAIN : errno == ECONNRESET ? EPIPE : errno;
	return n == 1 ? 0 : EPROTO;
}

/* Whole frames, `total` bytes <= PIPE_BUF: all of them go, or none. */
static int write_frames(int out, const struct iovec *iov, int niov, size_t total)
{
	ssize_t n;

	do
		n = writev(out, iov, niov);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? EAGAIN : errno;
	return (size_t)n == total ? 0 : EPROTO;
}

int ipc_send_many(const struct ipc_link *l, const struct ipc_out_frame *f, unsigned int n,
		  unsigned int *sent)
{
	struct ipc_hdr h[IPC_SEND_MANY_MAX];
	struct iovec iov[2 * IPC_SEND_MANY_MAX];

	*sent = 0;
	if (n > IPC_SEND_MANY_MAX)
		return EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		int err = send_check(f[i].type, f[i].conn, f[i].payload, f[i].len, 0);

		if (err)
			return err;
		h[i] = (struct ipc_hdr){ .type = f[i].type, .conn = f[i].conn, .len = f[i].len };
	}
	while (*sent < n) {
		unsigned int j = *sent;
		size_t total = 0;
		int niov = 0, err;

		/* As many whole frames as one atomic write holds: at least one. */
		while (j < n && total + IPC_HDR_SIZE + f[j].len <= IPC_FRAME_MAX) {
			iov[niov++] = (struct iovec){ .iov_base = &h[j], .iov_len = IPC_HDR_SIZE };
			if (f[j].len)
				iov[niov++] = (struct iovec){ (void *)f[j].payload, f[j].len };
			total += IPC_HDR_SIZE + f[j++].len;
		}
		err = write_frames(l->out, iov, niov, total);
		if (err)
			return err;
		*sent = j;
	}
	return 0;
}

int ipc_send(const struct ipc_link *l, uint32_t type, uint32_t conn, const void *payload,
	     uint32_t len, int fd)
{
	struct ipc_hdr h = {
		.type = type, .conn = conn,
		.flags = fd >= 0 ? IPC_F_FD : 0, .len = len,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	int err = send_check(type, conn, payload, len, h.flags);

	if (!err && fd >= 0)
		err = ipc_send_fd(l, fd);
	if (err)
		return err;  /* nothing sent */
	err = write_frames(l->out, iov, len ? 2 : 1, sizeof(h) + len);
	/* Its descriptor went ahead: this frame must follow it, before any
	 * other.  Waited for up to a deadline, which a signal or a pipe that
	 * looked writable but was not does not move. */
	if (fd >= 0 && err == EAGAIN) {
		struct timespec now, end;

		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += IPC_FD_WAIT_MS / 1000;
		do {
			struct pollfd p = { .fd = l->out, .events = POLLOUT };

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > end.tv_sec ||
			    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
				return ETIMEDOUT;
			poll(&p, 1, FD_WAIT_SLICE_MS);
			err = write_frames(l->out, iov, len ? 2 : 1, sizeof(h) + len);
		} while (err == EAGAIN);
	}
	return err;
}

/* Collect every fd in the control data; EPROTO for anything but SCM_RIGHTS. */
static int take_fds(struct msghdr *mh, int *fds, unsigned int *nfds)
{
	int ret = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			ret = EPROTO;
			continue;
		}
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < IPC_RECV_FDS_MAX)
				fds[(*nfds)++] = fd;
			else
				close(fd);	/* cannot happen: the buffer holds no more */
		}
	}
	return ret;
}

/*
 * The descriptors sent ahead of an IPC_F_FD frame (send_fd).  None
 * waiting is a peer that sent the frame without them (EPROTO); no room
 * for them here is EMFILE (the kernel dropped them and set MSG_CTRUNC).
 */
static int recv_fds(int sock, int *fds, unsigned int *nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * IPC_RECV_FDS_MAX)];
	} ctl;
	char tag;
	struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;
	int ret;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return EPROTO;
	/* Taken from any message, even a wrong one (an empty one can carry
	 * descriptors too), so that the caller closes them. */
	ret = take_fds(&mh, fds, nfds);
	if (!ret && (n != 1 || (mh.msg_flags & MSG_TRUNC)))
		ret = EPROTO;
	if (!ret && (mh.msg_flags & MSG_CTRUNC))
		ret = *nfds ? EPROTO : EMFILE;
	return ret;
}

/* A whole frame read off the pipe: its descriptor fetched, then checked. */
static int deliver(const struct ipc_link *l, const uint8_t *frame, size_t n, enum ipc_dir dir,
		   struct ipc_msg *msg)
{
	int fds[IPC_RECV_FDS_MAX];
	unsigned int nfds = 0;
	struct ipc_hdr h;
	int ret = 0;

	memcpy(&h, frame, sizeof(h));
	if (h.flags & IPC_F_FD)
		ret = recv_fds(l->fds, fds, &nfds);
	if (!ret)
		ret = ipc_frame_check(frame, n, dir, nfds, msg);
	if (ret) {
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		return ret;
	}
	msg->fd = nfds ? fds[0] : -1;
	return 0;
}

static ssize_t read_retry(int fd, void *buf, size_t n)
{
	ssize_t got;

	do
		got = read(fd, buf, n);
	while (got < 0 && errno == EINTR);
	return got;
}

int ipc_recv(const struct ipc_link *l, void *buf, size_t bufsz, enum ipc_dir dir,
	     struct ipc_msg *msg)
{
	struct ipc_hdr h;
	ssize_t n;

	if (bufsz < IPC_FRAME_MAX)
		return EINVAL;
	n = read_retry(l->in, buf, IPC_HDR_SIZE);
	if (n <= 0)
		return n == 0 ? EPIPE : errno == EWOULDBLOCK ? EAGAIN : errno;
	if ((size_t)n < IPC_HDR_SIZE)
		return EPROTO;
	memcpy(&h, buf, sizeof(h));
	if (h.len > IPC_PAYLOAD_MAX)
		return E2BIG;
	/* A frame is written whole, so all of it is there. */
	if (h.len && read_retry(l->in, (uint8_t *)buf + IPC_HDR_SIZE, h.len) != (ssize_t)h.len)
		return EPROTO;
	return deliver(l, buf, IPC_HDR_SIZE + h.len, dir, msg);
}

/* A whole frame (or a length past the limit, whole enough to refuse) at start. */
static bool whole_frame(const struct ipc_rx *rx)
{
	struct ipc_hdr h;

	if (rx->end - rx->start < IPC_HDR_SIZE)
		return false;
	memcpy(&h, rx->buf + rx->start, sizeof(h));
	return h.len > IPC_PAYLOAD_MAX || rx->end - rx->start - IPC_HDR_SIZE >= h.len;
}

bool ipc_rx_buffered(struct ipc_rx *rx)
{
	/* No: the caller goes back to its epoll, which says when more comes,
	 * so the next call must read instead of owing it an EAGAIN. */
	if (!whole_frame(rx)) {
		rx->drained = false;
		return false;
	}
	return true;
}

int ipc_recv_next(const struct ipc_link *l, struct ipc_rx *rx, enum ipc_dir dir,
		  struct ipc_msg *msg)
{
	struct ipc_hdr h;
	const uint8_t *frame;

	while (!whole_frame(rx)) {
		size_t room;
		ssize_t n;

		/* The last read emptied the pipe: whatever came since makes it
		 * readable, and the caller's epoll says so.  Asking now would be
		 * a system call that finds nothing, on every request. */
		if (rx->drained) {
			rx->drained = false;
			return EAGAIN;
		}
		/* A frame's beginning moves to the front, for its rest. */
		memmove(rx->buf, rx->buf + rx->start, rx->end - rx->start);
		rx->end -= rx->start;
		rx->start = 0;
		room = sizeof(rx->buf) - rx->end;
		n = read_retry(l->in, rx->buf + rx->end, room);
		if (n < 0)
			return errno == EWOULDBLOCK ? EAGAIN : errno;
		if (n == 0)
			return rx->end ? EPROTO : EPIPE;
		rx->end += (uint32_t)n;
		rx->drained = (size_t)n < room;
	}
	memcpy(&h, rx->buf + rx->start, sizeof(h));
	if (h.len > IPC_PAYLOAD_MAX)
		return E2BIG;
	frame = rx->buf + rx->start;
	rx->start += (uint32_t)IPC_HDR_SIZE + h.len;
	return deliver(l, frame, IPC_HDR_SIZE + h.len, dir, msg);
}

void ipc_rx_reset(struct ipc_rx *rx)
{
	rx->start = rx->end = 0;
	rx->drained = false;
}

int ipc_conn_new_decode(const struct ipc_msg *msg, struct ipc_conn_new *out)
{
	struct ipc_conn_new c;
	bool has_fd = msg->hdr.flags & IPC_F_FD;

	if (msg->hdr.type != IPC_CONN_NEW || msg->hdr.len != sizeof(c))
		return EINVAL;
	memcpy(&c, msg->payload, sizeof(c));
	/* A socket connection is its fd; a ring connection has none. */
	if (c.kind == IPC_KIND_SOCKET ? !has_fd : c.kind != IPC_KIND_RING || has_fd)
		return EINVAL;
	if (c.access & ~(IPC_ACCESS_PRIV | IPC_ACCESS_RDONLY))
		return EINVAL;
	if (c.domid > 0xffff || c.pid < -1 || (c.kind == IPC_KIND_SOCKET && c.ring_pos > IPC_SOCKET_RESUMED))
		return EINVAL;
	*out = c;
	return 0;
}

int ipc_hello_decode(const struct ipc_msg *msg, struct ipc_hello *out)
{
	struct ipc_hello h;

	if (msg->hdr.type != IPC_HELLO || msg->hdr.len != sizeof(h))
		return EINVAL;
	memcpy(&h, msg->payload, sizeof(h));
	if (h.version != IPC_PROTO_VERSION)
		return EPROTO;
	if (h.pid == 0 || h.pid > INT_MAX)
		return EINVAL;
	*out = h;
	return 0;
}
