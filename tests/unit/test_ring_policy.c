/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ring_policy.c - the policy/ rows for ring frames, against a fake
 * broker (the oracle): a frame for an unknown or unannounced connection,
 * a store that overruns its reply window or credits bytes it was never
 * sent, RING_UNMAP of dom0's ring all end the store process (EPERM);
 * RING_MAP's domain rules, and those of mapping an idle ring again, are
 * answered with an errno instead.
 */
#include <errno.h>
#include <string.h>

#include "ipc.h"
#include "policy.h"
#include "unit.h"

/* The fake broker: ring conn 7 is a guest's, conn 8 is dom0's kernel ring. */
struct fake {
	struct policy_ring ring;
	struct policy_domain dom;
	int dom_err;
};

static int fake_ring(void *ctx, uint32_t conn, struct policy_ring *out)
{
	struct fake *f = ctx;

	if (conn != 7 && conn != 8)
		return ENOENT;
	*out = f->ring;
	out->guest = conn == 7;
	return 0;
}

static int fake_domain(void *ctx, uint32_t domid, struct policy_domain *out)
{
	struct fake *f = ctx;

	(void)domid;
	*out = f->dom;
	return f->dom_err;
}

static struct fake fk;
static const struct policy_oracle oracle = { &fk, fake_ring, fake_domain };

static int check(uint32_t type, uint32_t conn, const void *payload, uint32_t len)
{
	struct policy_state st = { .awaiting_hello = false, .oracle = &oracle };
	uint8_t buf[IPC_FRAME_MAX];
	struct ipc_hdr h = { type, conn, 0, len };
	struct ipc_msg m;

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	if (ipc_frame_check(buf, sizeof(h) + len, IPC_TO_BROKER, 0, &m))
		return -1;
	return policy_check(&st, &m);
}

static int t_reply_window(void)
{
	static uint8_t data[IPC_PAYLOAD_MAX];

	fk.ring = (struct policy_ring){ .credit = IPC_RING_WINDOW,
					.reply_unacked = IPC_RING_WINDOW - 100 };
	return check(IPC_REPLY_DATA, 7, data, 100) == 0 &&
	       check(IPC_REPLY_DATA, 7, data, 101) == EPERM &&
	       check(IPC_REPLY_DATA, 8, data, 10) == 0 &&
	       check(IPC_REPLY_DATA, 9, data, 10) == EPERM;
}

static int t_credit(void)
{
	static uint8_t joined[IPC_PAYLOAD_MAX];
	uint32_t n = 500, more = 501;

	fk.ring = (struct policy_ring){ .credit = IPC_RING_WINDOW - 500,
					.reply_unacked = IPC_RING_WINDOW - 100 };
	memcpy(joined, &n, sizeof(n));
	/* Reply bytes after the count: REPLY_DATA's window. */
	return check(IPC_CONN_CREDIT, 7, &n, sizeof(n)) == 0 &&
	       check(IPC_CONN_CREDIT, 7, &more, sizeof(more)) == EPERM &&
	       check(IPC_CONN_CREDIT, 3, &n, sizeof(n)) == EPERM &&
	       check(IPC_CONN_CREDIT, 7, joined, sizeof(n) + 100) == 0 &&
	       check(IPC_CONN_CREDIT, 7, joined, sizeof(n) + 101) == EPERM &&
	       check(IPC_CONN_CREDIT, 7, joined, sizeof(n) - 1) == -1;
}

static int t_unmap(void)
{
	return check(IPC_RING_UNMAP, 7, NULL, 0) == 0 &&
	       check(IPC_RING_UNMAP, 8, NULL, 0) == EPERM &&
	       check(IPC_RING_UNMAP, 99, NULL, 0) == EPERM;
}

static int t_ring_idle(void)
{
	uint32_t stray = 0;

	return check(IPC_RING_IDLE, 7, NULL, 0) == 0 &&
	       check(IPC_RING_IDLE, 8, NULL, 0) == EPERM &&
	       check(IPC_RING_IDLE, 99, NULL, 0) == EPERM &&
	       check(IPC_RING_IDLE, 7, &stray, sizeof(stray)) == -1;
}

static int t_ring_break(void)
{
	uint32_t proto = 3, comm = 1, none = 0, big = 4;

	return check(IPC_RING_BREAK, 7, &proto, sizeof(proto)) == 0 &&
	       check(IPC_RING_BREAK, 7, &comm, sizeof(comm)) == 0 &&
	       check(IPC_RING_BREAK, 7, &none, sizeof(none)) == EINVAL &&
	       check(IPC_RING_BREAK, 7, &big, sizeof(big)) == EINVAL &&
	       check(IPC_RING_BREAK, 99, &proto, sizeof(proto)) == EPERM;
}

static int t_no_rings_before_hello(void)
{
	struct policy_state st = { .awaiting_hello = true, .oracle = &oracle };
	struct ipc_ring_map rm = { 5, 9, 0x1234 };
	uint8_t buf[IPC_FRAME_MAX];
	struct ipc_hdr h = { IPC_RING_MAP, 0, 0, sizeof(rm) };
	struct ipc_msg m;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &rm, sizeof(rm));
	return !ipc_frame_check(buf, sizeof(h) + sizeof(rm), IPC_TO_BROKER, 0, &m) &&
	       policy_check(&st, &m) == EPERM && check(IPC_RING_MAP, 0, &rm, sizeof(rm)) == 0;
}

static int map(uint32_t domid, uint32_t port)
{
	struct policy_state st = { .awaiting_hello = false, .oracle = &oracle };
	struct ipc_ring_map rm = { domid, port, 0x1234 };
	struct policy_domain d;

	return policy_ring_map(&st, &rm, &d);
}

static int t_ring_map_domain_rules(void)
{
	struct policy_state none = { .awaiting_hello = false };
	struct ipc_ring_map rm = { 5, 9, 0 };
	struct policy_domain d;
	int ok;

	fk.dom_err = 0;
	fk.dom = (struct policy_domain){ .exists = true };
	ok = map(5, 9) == 0 && map(0, 9) == EINVAL && map(0x7ff0, 9) == EINVAL &&
	     map(5, 0) == EINVAL;
	fk.dom.dying = true;
	ok = ok && map(5, 9) == ENOENT;
	fk.dom = (struct policy_domain){ .exists = false };
	ok = ok && map(5, 9) == ENOENT;
	fk.dom = (struct policy_domain){ .exists = true, .mapped = true };
	ok = ok && map(5, 9) == EEXIST;
	fk.dom_err = EACCES;
	ok = ok && map(5, 9) == EACCES;
	fk.dom_err = 0;
	return ok && policy_ring_map(&none, &rm, &d) == ENOSYS;
}

static int remap(const uint8_t *handle)
{
	struct policy_state st = { .awaiting_hello = false, .oracle = &oracle };

	return policy_ring_remap(&st, 5, handle);
}

static int t_ring_remap(void)
{
	struct policy_state none = { .awaiting_hello = false };
	uint8_t h[16] = { 0xab, 0xcd }, other[16] = { 0xab, 0xce };
	int ok;

	fk.dom_err = 0;
	fk.dom = (struct policy_domain){ .exists = true, .mapped = true };
	memcpy(fk.dom.handle, h, sizeof(h));
	/* Mapped already (it is this ring's domain) is no reason to refuse. */
	ok = remap(h) == 0;
	ok = ok && remap(other) == ESRCH;
	fk.dom.dying = true;
	ok = ok && remap(h) == ESRCH;
	fk.dom = (struct policy_domain){ .exists = false };
	memcpy(fk.dom.handle, h, sizeof(h));
	ok = ok && remap(h) == ESRCH;
	fk.dom.exists = true;
	fk.dom_err = EACCES;
	ok = ok && remap(h) == EACCES;
	fk.dom_err = 0;
	return ok && policy_ring_remap(&none, 5, h) == ENOSYS;
}

static const struct unit_case tests[] = {
	{ "REPLY_DATA: known ring, within the reply window", t_reply_window },
	{ "CONN_CREDIT: never more than was sent; joined replies within the window", t_credit },
	{ "RING_UNMAP: a guest's ring only, never dom0's", t_unmap },
	{ "RING_IDLE: a guest's ring only, never dom0's, no payload", t_ring_idle },
	{ "mapping an idle ring again: only its own live domain", t_ring_remap },
	{ "RING_BREAK: a known ring, a code xenstore-ring.txt defines", t_ring_break },
	{ "RING_MAP refused before HELLO, allowed after", t_no_rings_before_hello },
	{ "RING_MAP domain rules answered with an errno", t_ring_map_domain_rules },
};

UNIT_MAIN("ring policy")
