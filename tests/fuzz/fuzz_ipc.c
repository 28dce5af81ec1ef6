/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_ipc.c - libFuzzer target for the broker <-> store process frame
 * codec in both directions: ipc_frame_check for frames travelling to the
 * store and to the broker, the fixed payload decoders, the broker's
 * policy checks of store -> broker frames (with fuzzed answers from its
 * ring/domain oracle), and a send/receive round trip of every accepted
 * frame over a real SEQPACKET socketpair.
 *
 * Input: 12 configuration bytes (see struct fuzz_cfg), then one datagram.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "ipc.h"
#include "policy.h"

struct fuzz_cfg {
	uint8_t mode;		/* bit 0 direction, 1 nfds, 2 awaiting hello,
				 * 3 oracle present, 4 ring known, 5 domain known */
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
 * and so must a second copy through ipc_recv_next, after which the batch
 * is empty.
 */
static void round_trip(const struct ipc_msg *msg, enum ipc_dir dir)
{
	static unsigned char rbuf[IPC_FRAME_MAX];
	static struct ipc_rx rx;
	struct ipc_msg back;
	int sv[2], fd = -1, err;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return;
	if (msg->hdr.flags & IPC_F_FD)
		fd = sv[0];
	for (int i = 0; i < 2; i++) {
		err = ipc_send(sv[0], msg->hdr.type, msg->hdr.conn, msg->payload,
			       msg->hdr.len, fd);
		FUZZ_ASSERT(err == 0);
	}
	err = ipc_recv(sv[1], rbuf, sizeof(rbuf), dir, &back);
	FUZZ_ASSERT(err == 0);
	same_frame(&back, msg);
	ipc_rx_reset(&rx);
	err = ipc_recv_next(sv[1], &rx, dir, &back);
	FUZZ_ASSERT(err == 0);
	same_frame(&back, msg);
	FUZZ_ASSERT(ipc_recv_next(sv[1], &rx, dir, &back) == EAGAIN);
	close(sv[0]);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_cfg cfg;
	struct ipc_msg msg;
	enum ipc_dir dir;
	unsigned int nfds;
	uint8_t *frame;
	size_t n;
	int err;

	if (size < sizeof(cfg))
		return 0;
	memcpy(&cfg, data, sizeof(cfg));
	n = size - sizeof(cfg);
	/* A copy of exactly n bytes, so ASan sees any read past the datagram. */
	frame = malloc(n ? n : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + sizeof(cfg), n);
	dir = cfg.mode & 1 ? IPC_TO_BROKER : IPC_TO_STORE;
	nfds = cfg.mode & 2 ? 1 : 0;

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
	return 0;
}
