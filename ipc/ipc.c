/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipc.c - the broker <-> store process frame codec; see ipc.h.
 *
 * Error values, so that a log line says which rule a frame broke:
 *   EPROTO  the frame is not a frame: short, unknown type, wrong way,
 *           header length disagrees with the datagram, stray control data
 *   E2BIG   payload longer than its type allows (or than the buffer)
 *   EINVAL  a field holds a value its type does not allow
 */
#include "ipc.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

int ipc_send_many(int sock, const struct ipc_out_frame *f, unsigned int n,
		  unsigned int *sent)
{
	struct ipc_hdr h[IPC_SEND_MANY_MAX];
	struct iovec iov[IPC_SEND_MANY_MAX][2];
	struct mmsghdr mm[IPC_SEND_MANY_MAX];
	int k;

	*sent = 0;
	if (n > IPC_SEND_MANY_MAX)
		return EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		int err = send_check(f[i].type, f[i].conn, f[i].payload, f[i].len, 0);

		if (err)
			return err;
		h[i] = (struct ipc_hdr){ .type = f[i].type, .conn = f[i].conn, .len = f[i].len };
		iov[i][0] = (struct iovec){ .iov_base = &h[i], .iov_len = sizeof(h[i]) };
		iov[i][1] = (struct iovec){ .iov_base = (void *)f[i].payload, .iov_len = f[i].len };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = iov[i],
						       .msg_iovlen = f[i].len ? 2 : 1 } };
	}
	do
		k = sendmmsg(sock, mm, n, MSG_NOSIGNAL);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return errno == EWOULDBLOCK ? EAGAIN : errno == ECONNRESET ? EPIPE : errno;
	*sent = (unsigned int)k;
	return *sent == n ? 0 : EAGAIN;
}

int ipc_send(int sock, uint32_t type, uint32_t conn, const void *payload,
	     uint32_t len, int fd)
{
	struct ipc_hdr h = {
		.type = type, .conn = conn,
		.flags = fd >= 0 ? IPC_F_FD : 0, .len = len,
	};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;
	int err = send_check(type, conn, payload, len, h.flags);

	if (err)
		return err;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EWOULDBLOCK)
			return EAGAIN;
		return errno == ECONNRESET ? EPIPE : errno;
	}
	/* SEQPACKET sends a record whole or not at all. */
	return (size_t)n == sizeof(h) + len ? 0 : EPROTO;
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
 * A datagram of n bytes (from recvmsg, or one of recvmmsg's): its
 * descriptors taken, its flags and then the frame rules checked
 * (ipc_recv's contract).
 */
static int accept_frame(struct msghdr *mh, const void *buf, size_t n, enum ipc_dir dir,
			struct ipc_msg *msg)
{
	int fds[IPC_RECV_FDS_MAX];
	unsigned int nfds = 0;
	int ret = take_fds(mh, fds, &nfds);

	if (n == 0 && nfds == 0 && !ret)
		return EPIPE;	/* a SEQPACKET peer that closed reads as 0 bytes */
	if (!ret && (mh->msg_flags & MSG_TRUNC))
		ret = E2BIG;
	/* A receiver with no free descriptor gets none and MSG_CTRUNC: the
	 * kernel dropped the fd, the frame is gone with it (EMFILE); some fds
	 * and MSG_CTRUNC is a sender that attached too many (EPROTO). */
	if (!ret && (mh->msg_flags & MSG_CTRUNC))
		ret = nfds ? EPROTO : EMFILE;
	if (!ret)
		ret = ipc_frame_check(buf, n, dir, nfds, msg);
	if (ret) {
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		return ret;
	}
	msg->fd = nfds ? fds[0] : -1;
	return 0;
}

/* A failed receive's errno as ipc_recv reports it (ECONNRESET: again()). */
static int recv_error(int err)
{
	return err == EWOULDBLOCK ? EAGAIN : err;
}

/*
 * Whether to receive again: after EINTR, and after ECONNRESET.  A peer
 * that closed with frames of ours unread is reported so before the frames
 * it sent us, which are still there: a store process's last JOURNAL frame
 * among them.  The error is reported once; then come the frames, then
 * end of file (EPIPE).
 */
static bool again(ssize_t n)
{
	return n < 0 && (errno == EINTR || errno == ECONNRESET);
}

int ipc_recv(int sock, void *buf, size_t bufsz, enum ipc_dir dir,
	     struct ipc_msg *msg)
{
	union ipc_rx_ctl ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = bufsz };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;

	if (bufsz < IPC_FRAME_MAX)
		return EINVAL;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (again(n));
	return n < 0 ? recv_error(errno) : accept_frame(&mh, buf, (size_t)n, dir, msg);
}

int ipc_recv_next(int sock, struct ipc_rx *rx, enum ipc_dir dir, struct ipc_msg *msg)
{
	unsigned int i;
	int n;

	if (rx->next == rx->got) {
		/* The last batch emptied the socket: whatever came since makes
		 * it readable, and the caller's epoll says so.  Asking now would
		 * be a system call that finds nothing, on every request. */
		if (rx->drained) {
			rx->drained = false;
			return EAGAIN;
		}
		for (i = 0; i < IPC_RX_BATCH; i++) {
			struct msghdr *mh = &rx->mm[i].msg_hdr;

			/* Pointed once (a zeroed batch has none); the kernel
			 * rewrites only the control length and the flags. */
			if (!mh->msg_iov) {
				rx->iov[i] = (struct iovec){ rx->buf[i], sizeof(rx->buf[i]) };
				mh->msg_iov = &rx->iov[i];
				mh->msg_iovlen = 1;
				mh->msg_control = rx->ctl[i].buf;
			}
			mh->msg_controllen = sizeof(rx->ctl[i].buf);
		}
		do
			n = recvmmsg(sock, rx->mm, IPC_RX_BATCH, MSG_CMSG_CLOEXEC | MSG_DONTWAIT, NULL);
		while (again(n));
		rx->got = rx->next = 0;
		if (n < 0)
			return recv_error(errno);
		rx->got = (unsigned int)n;
		rx->drained = rx->got < IPC_RX_BATCH;
	}
	i = rx->next++;
	return accept_frame(&rx->mm[i].msg_hdr, rx->buf[i], rx->mm[i].msg_len, dir, msg);
}

void ipc_rx_reset(struct ipc_rx *rx)
{
	for (unsigned int i = rx->next; i < rx->got; i++) {
		int fds[IPC_RECV_FDS_MAX];
		unsigned int nfds = 0;

		take_fds(&rx->mm[i].msg_hdr, fds, &nfds);
		while (nfds)
			close(fds[--nfds]);
	}
	rx->got = rx->next = 0;
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
