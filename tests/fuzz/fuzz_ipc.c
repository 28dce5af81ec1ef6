/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_ipc.c - libFuzzer target for the broker <-> store process frame
 * codec in both directions: ipc_frame_check for frames travelling to the
 * store and to the broker, the fixed payload decoders, the broker's
 * policy checks of store -> broker frames (with fuzzed answers from its
 * ring/domain oracle), a send/receive round trip of every accepted frame
 * over a real ipc_link (pipes, descriptors on the socket beside them),
 * and the input's bytes written raw into the link's pipe, as a broken or
 * hostile peer would, for both receive paths to take apart.
 *
 * Input: 12 configuration bytes (see struct fuzz_cfg), then one frame
 * (for the codec) or a stream of them (for the raw pipe).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "ipc.h"
#include "policy.h"

struct fuzz_cfg {
	uint8_t mode;		/* bit 0 direction, 1 nfds (and an fd ahead of the
				 * raw stream), 2 awaiting hello, 3 oracle present,
				 * 4 ring known, 5 domain known */
	uint8_t dom;		/* bit 0 exists, 1 dying, 2 mapped, 3 guest ring */
	uint8_t pad[2];
	uint32_t credit;
	uint32_t unacked;
};

static int oracle_ring(void *ctx, uint32_t conn, struct policy_ring *out)
{
	const struct fuzz_cfg *cfg = ctx;

	(void)conn;
	if (!(cfg->mode & 0x10))
		return ENOENT;
	out->guest = cfg->dom & 0x8;
	out->credit = cfg->credit;
	out->reply_unacked = cfg->unacked;
	return 0;
}

static int oracle_domain(void *ctx, uint32_t domid, struct policy_domain *out)
{
	const struct fuzz_cfg *cfg = ctx;

	(void)domid;
	if (!(cfg->mode & 0x20))
		return ESRCH;
	memset(out, 0, sizeof(*out));
	out->exists = cfg->dom & 0x1;
	out->dying = cfg->dom & 0x2;
	out->mapped = cfg->dom & 0x4;
	return 0;
}

/*
 * One channel for every input (a fuzzer runs millions: no descriptor may
 * be left behind), emptied after each: [0] the broker's end, [1] the
 * store's, both non-blocking.  The descriptor sent is /dev/null's.
 */
static struct ipc_link ends[2] = { { -1, -1, -1 }, { -1, -1, -1 } };
static int devnull = -1;
static struct ipc_rx rx;
static unsigned char rbuf[IPC_FRAME_MAX];

static void link_once(void)
{
	if (devnull >= 0)
		return;
	FUZZ_ASSERT(ipc_link_pair(&ends[0], &ends[1]) == 0);
	FUZZ_ASSERT(fcntl(ends[1].in, F_SETFL, O_NONBLOCK) == 0);
	FUZZ_ASSERT(fcntl(ends[1].out, F_SETFL, O_NONBLOCK) == 0);
	FUZZ_ASSERT(fcntl(ends[1].fds, F_SETFL, O_NONBLOCK) == 0);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	FUZZ_ASSERT(devnull >= 0);
}

static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	FUZZ_ASSERT(fd >= 0);
	close(fd);
	return fd;
}

static const struct ipc_link *sender(enum ipc_dir dir)
{
	return &ends[dir == IPC_TO_BROKER ? 1 : 0];
}

static const struct ipc_link *receiver(enum ipc_dir dir)
{
	return &ends[dir == IPC_TO_BROKER ? 0 : 1];
}

/* Nothing of one input left for the next: pipe bytes, fds on the socket, rx. */
static void drain(const struct ipc_link *l)
{
	for (;;) {
		ssize_t n = read(l->in, rbuf, sizeof(rbuf));

		if (n <= 0) {
			FUZZ_ASSERT(n < 0 && errno == EAGAIN);
			break;
		}
	}
	for (;;) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * 4)];
		} ctl;
		char tag;
		struct iovec iov = { &tag, 1 };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};

		if (recvmsg(l->fds, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
	ipc_rx_reset(&rx);
}

static void same_frame(const struct ipc_msg *back, const struct ipc_msg *msg)
{
	FUZZ_ASSERT(memcmp(&back->hdr, &msg->hdr, sizeof(back->hdr)) == 0);
	FUZZ_ASSERT(memcmp(back->payload, msg->payload, msg->hdr.len) == 0);
	FUZZ_ASSERT((back->fd >= 0) == !!(msg->hdr.flags & IPC_F_FD));
	if (back->fd >= 0)
		close(back->fd);
}

/*
 * An accepted frame must survive ipc_send and then ipc_recv unchanged,
 * and so must a second copy through ipc_recv_next, after which nothing
 * is left (EAGAIN, the pipe and the socket empty).
 */
static void round_trip(const struct ipc_msg *msg, enum ipc_dir dir)
{
	const struct ipc_link *tx = sender(dir), *rl = receiver(dir);
	struct ipc_msg back;
	int fd = msg->hdr.flags & IPC_F_FD ? devnull : -1, err;
	char c;

	for (int i = 0; i < 2; i++) {
		err = ipc_send(tx, msg->hdr.type, msg->hdr.conn, msg->payload, msg->hdr.len, fd);
		FUZZ_ASSERT(err == 0);
	}
	err = ipc_recv(rl, rbuf, sizeof(rbuf), dir, &back);
	FUZZ_ASSERT(err == 0);
	same_frame(&back, msg);
	ipc_rx_reset(&rx);
	err = ipc_recv_next(rl, &rx, dir, &back);
	FUZZ_ASSERT(err == 0);
	same_frame(&back, msg);
	FUZZ_ASSERT(ipc_recv_next(rl, &rx, dir, &back) == EAGAIN);
	FUZZ_ASSERT(read(rl->in, &c, 1) < 0 && errno == EAGAIN);
	FUZZ_ASSERT(recv(rl->fds, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN);
	ipc_rx_reset(&rx);
}

/*
 * What a receiver must make of the bytes at off: the frame their header
 * delimits, refused on the header alone if longer than any frame, taking
 * the descriptor waiting on the socket if it says IPC_F_FD (none left:
 * EPROTO), else as ipc_frame_check rules.  Less than a whole frame:
 * ipc_recv_next waits (EAGAIN), ipc_recv says it was cut short (EPROTO;
 * EAGAIN when nothing at all is there).  *len: bytes taken, 0 for none.
 */
static int expect_frame(const uint8_t *bytes, size_t n, size_t off, enum ipc_dir dir,
			bool next, bool *fd_left, size_t *len)
{
	size_t left = n - off;
	struct ipc_msg m;
	struct ipc_hdr h;

	*len = 0;
	if (left < IPC_HDR_SIZE)
		return next || left == 0 ? EAGAIN : EPROTO;
	memcpy(&h, bytes + off, sizeof(h));
	if (h.len > IPC_PAYLOAD_MAX)
		return E2BIG;
	if (left - IPC_HDR_SIZE < h.len)
		return next ? EAGAIN : EPROTO;
	*len = IPC_HDR_SIZE + h.len;
	if (!(h.flags & IPC_F_FD))
		return ipc_frame_check(bytes + off, *len, dir, 0, &m);
	if (!*fd_left)
		return EPROTO;
	*fd_left = false;
	return ipc_frame_check(bytes + off, *len, dir, 1, &m);
}

/*
 * The input's bytes written straight into the pipe (one write, so at most
 * PIPE_BUF of them), an fd ahead of them if the configuration says so:
 * each receive path hands out exactly the frames in them, in order, each
 * one passing ipc_frame_check, and refuses the rest as expect_frame says,
 * up to the first error that leaves the stream out of step.
 */
static void raw_stream(const uint8_t *bytes, size_t n, enum ipc_dir dir, bool with_fd)
{
	const struct ipc_link *tx = sender(dir), *rl = receiver(dir);

	if (n > IPC_FRAME_MAX)
		n = IPC_FRAME_MAX;
	for (int next = 0; next < 2; next++) {
		bool fd_left = with_fd;
		size_t off = 0, len;

		if (with_fd)
			FUZZ_ASSERT(ipc_send_fd(tx, devnull) == 0);
		FUZZ_ASSERT(write(tx->out, bytes, n) == (ssize_t)n);
		ipc_rx_reset(&rx);
		for (;;) {
			int want = expect_frame(bytes, n, off, dir, next, &fd_left, &len);
			struct ipc_msg m = { .fd = -1 };
			struct ipc_msg again;
			int err = next ? ipc_recv_next(rl, &rx, dir, &m)
				       : ipc_recv(rl, rbuf, sizeof(rbuf), dir, &m);

			FUZZ_ASSERT(err == want);
			if (!err) {
				FUZZ_ASSERT(IPC_HDR_SIZE + m.hdr.len == len);
				FUZZ_ASSERT(memcmp(&m.hdr, bytes + off, sizeof(m.hdr)) == 0);
				FUZZ_ASSERT(memcmp(m.payload, bytes + off + IPC_HDR_SIZE,
						   m.hdr.len) == 0);
				FUZZ_ASSERT((m.fd >= 0) == !!(m.hdr.flags & IPC_F_FD));
				FUZZ_ASSERT(ipc_frame_check(m.payload - IPC_HDR_SIZE, len, dir,
							    m.fd >= 0, &again) == 0);
				if (m.fd >= 0)
					close(m.fd);
			}
			/* A frame refused in its place is behind us (both paths read
			 * exactly its bytes); a stream that ends, or that its
			 * header cannot delimit, ends here. */
			if (!len)
				break;
			off += len;
		}
		drain(rl);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_cfg cfg;
	struct ipc_msg msg;
	enum ipc_dir dir;
	unsigned int nfds;
	uint8_t *frame;
	size_t n;
	int err, fd_floor;

	if (size < sizeof(cfg))
		return 0;
	memcpy(&cfg, data, sizeof(cfg));
	n = size - sizeof(cfg);
	/* A copy of exactly n bytes, so ASan sees any read past the frame. */
	frame = malloc(n ? n : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + sizeof(cfg), n);
	dir = cfg.mode & 1 ? IPC_TO_BROKER : IPC_TO_STORE;
	nfds = cfg.mode & 2 ? 1 : 0;
	link_once();
	fd_floor = lowest_free_fd();
	raw_stream(frame, n, dir, nfds);

	err = ipc_frame_check(frame, n, dir, nfds, &msg);
	FUZZ_ASSERT(err == 0 || err == EINVAL || err == EPROTO || err == E2BIG);
	if (err == 0) {
		const struct ipc_type_info *ti = ipc_type_lookup(msg.hdr.type);
		struct ipc_conn_new cn;
		struct ipc_hello hello;

		FUZZ_ASSERT(ti && ti->dir == dir);
		FUZZ_ASSERT(msg.hdr.len == n - IPC_HDR_SIZE);
		FUZZ_ASSERT(msg.hdr.len >= ti->min_len && msg.hdr.len <= ti->max_len);
		FUZZ_ASSERT(msg.payload == frame + IPC_HDR_SIZE && msg.fd == -1);
		FUZZ_ASSERT(!(msg.hdr.flags & ~ti->allowed_flags));
		FUZZ_ASSERT(!!(msg.hdr.flags & IPC_F_FD) == (nfds == 1));
		FUZZ_ASSERT(!ti->needs_conn || msg.hdr.conn != 0);
		if (ipc_conn_new_decode(&msg, &cn) == 0)
			FUZZ_ASSERT(msg.hdr.type == IPC_CONN_NEW && cn.domid <= 0xffff);
		if (ipc_hello_decode(&msg, &hello) == 0)
			FUZZ_ASSERT(msg.hdr.type == IPC_HELLO &&
				    hello.version == IPC_PROTO_VERSION);
		if (dir == IPC_TO_BROKER) {
			struct policy_oracle oracle = {
				&cfg, oracle_ring, oracle_domain,
			};
			struct policy_state st = {
				.awaiting_hello = cfg.mode & 4,
				.oracle = cfg.mode & 8 ? &oracle : NULL,
			};

			err = policy_check(&st, &msg);
			FUZZ_ASSERT(err == 0 || err == EPERM || err == EINVAL ||
				    err == EPROTO);
		}
		round_trip(&msg, dir);
	}
	free(frame);
	/* Every descriptor this input opened is closed again (measured within
	 * the input: libFuzzer's own come and go between inputs). */
	FUZZ_ASSERT(lowest_free_fd() == fd_floor);
	return 0;
}
