/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ring.c - the broker's ring copy loops (broker/ringbuf.c) on a
 * plain 4 KiB page: wrap-around, free-running indexes near 2^32, an
 * exactly full ring, indexes more than a ring apart, the credit limit, a
 * ring the guest filled between peek and consume, partial writes into a
 * reply ring with little room.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ringbuf.h"
#include "unit.h"

static union {
	struct xenstore_domain_interface intf;
	uint8_t bytes[4096];
} page;

static struct xenstore_domain_interface *fresh(uint32_t req, uint32_t rsp)
{
	memset(&page, 0, sizeof(page));
	page.intf.req_cons = page.intf.req_prod = req;
	page.intf.rsp_cons = page.intf.rsp_prod = rsp;
	return &page.intf;
}

/* What a guest does: put `len` bytes of `pattern + i` at req_prod. */
static void guest_writes(struct xenstore_domain_interface *in, uint8_t pattern, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		in->req[(in->req_prod + i) % XENSTORE_RING_SIZE] = (char)(pattern + i);
	in->req_prod += len;
}

static int is_pattern(const uint8_t *p, uint8_t pattern, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(pattern + i))
			return 0;
	return 1;
}

static int t_empty(void)
{
	struct xenstore_domain_interface *in = fresh(77, 0);
	uint8_t buf[XENSTORE_RING_SIZE];
	uint32_t n = 9, cons = 0;

	return ringbuf_peek(in, buf, sizeof(buf), &n, &cons) == 0 && n == 0 && cons == 77;
}

static int t_read_consume(void)
{
	struct xenstore_domain_interface *in = fresh(0, 0);
	uint8_t buf[XENSTORE_RING_SIZE];
	uint32_t n, cons;

	guest_writes(in, 1, 100);
	if (ringbuf_peek(in, buf, sizeof(buf), &n, &cons) || n != 100 || !is_pattern(buf, 1, 100))
		return 0;
	/* Peeking consumes nothing: a frame that could not be sent loses no byte. */
	if (in->req_cons != 0)
		return 0;
	ringbuf_consume(in, cons, n);
	return in->req_cons == 100 &&
	       !ringbuf_peek(in, buf, sizeof(buf), &n, &cons) && n == 0;
}

static int t_wrap_around(void)
{
	/* Starts 3 bytes before the end of req[] and before 2^32. */
	struct xenstore_domain_interface *in = fresh(UINT32_MAX - 2, 0);
	uint8_t buf[XENSTORE_RING_SIZE];
	uint32_t n, cons;

	guest_writes(in, 40, 20);
	if (ringbuf_peek(in, buf, sizeof(buf), &n, &cons) || n != 20 || !is_pattern(buf, 40, 20))
		return 0;
	ringbuf_consume(in, cons, n);
	return in->req_cons == 17 && in->req_prod == 17;
}

static int t_exactly_full(void)
{
	struct xenstore_domain_interface *in = fresh(1000, 5000);
	uint8_t buf[XENSTORE_RING_SIZE], rsp[10] = { 0 };
	uint32_t n, cons;

	guest_writes(in, 3, XENSTORE_RING_SIZE);
	if (ringbuf_peek(in, buf, sizeof(buf), &n, &cons) || n != XENSTORE_RING_SIZE ||
	    !is_pattern(buf, 3, XENSTORE_RING_SIZE))
		return 0;
	/* A full reply ring takes nothing, and that is no error. */
	in->rsp_prod = in->rsp_cons + XENSTORE_RING_SIZE;
	return !ringbuf_write(in, rsp, sizeof(rsp), &n) && n == 0 &&
	       in->rsp_prod == 5000 + XENSTORE_RING_SIZE;
}

static int t_bad_indexes(void)
{
	struct xenstore_domain_interface *in = fresh(0, 0);
	uint8_t buf[XENSTORE_RING_SIZE];
	uint32_t n = 0, cons = 0;

	in->req_prod = XENSTORE_RING_SIZE + 1;
	if (ringbuf_peek(in, buf, sizeof(buf), &n, &cons) != EIO)
		return 0;
	/* prod behind cons is a huge unsigned distance. */
	in->req_cons = 10;
	in->req_prod = 9;
	if (ringbuf_peek(in, buf, sizeof(buf), &n, &cons) != EIO)
		return 0;
	in->rsp_cons = 2000;
	in->rsp_prod = 0;
	return ringbuf_write(in, buf, 4, &n) == EIO && in->rsp_prod == 0 &&
	       in->req_cons == 10;
}

static int t_credit_limit(void)
{
	struct xenstore_domain_interface *in = fresh(500, 0);
	uint8_t buf[XENSTORE_RING_SIZE];
	uint32_t n, cons;

	guest_writes(in, 9, 100);
	/* The broker asks for no more than the store's credit: 30 bytes. */
	if (ringbuf_peek(in, buf, 30, &n, &cons) || n != 30 || !is_pattern(buf, 9, 30))
		return 0;
	ringbuf_consume(in, cons, n);
	if (ringbuf_peek(in, buf, 0, &n, &cons) || n != 0 || in->req_cons != 530)
		return 0;
	return !ringbuf_peek(in, buf, sizeof(buf), &n, &cons) && n == 70 &&
	       is_pattern(buf, 9 + 30, 70);
}

/*
 * The guest fills the ring between the broker's peek and its consume,
 * from the consumer index it read before (the stall xsdiff found): the
 * peek saw 100 bytes, not a full ring, yet the guest now waits for room,
 * so consuming must say the ring was full.  Near 2^32, and a consume of a
 * ring that was never full says so.
 */
static int t_full_after_peek(void)
{
	struct xenstore_domain_interface *in = fresh(UINT32_MAX - 50, 0);
	uint8_t buf[XENSTORE_RING_SIZE];
	uint32_t n, cons;

	guest_writes(in, 1, 100);
	if (ringbuf_peek(in, buf, sizeof(buf), &n, &cons) || n != 100)
		return 0;
	guest_writes(in, 2, XENSTORE_RING_SIZE - 100);
	if (ringbuf_consume(in, cons, n) != 1)
		return 0;
	/* Now 924 bytes are in: not full, and consuming them says so. */
	if (ringbuf_peek(in, buf, sizeof(buf), &n, &cons) || n != XENSTORE_RING_SIZE - 100 ||
	    !is_pattern(buf, 2, n))
		return 0;
	return ringbuf_consume(in, cons, n) == 0 && in->req_cons == in->req_prod;
}

static int t_write_partial_and_wrap(void)
{
	struct xenstore_domain_interface *in = fresh(0, UINT32_MAX - 4);
	uint8_t src[XENSTORE_RING_SIZE];
	uint32_t n;

	for (uint32_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7);
	/* 1000 bytes still unread by the guest: only 24 fit. */
	in->rsp_prod = in->rsp_cons + 1000;
	if (ringbuf_write(in, src, 100, &n) || n != 24 || in->rsp_prod != in->rsp_cons + 1024)
		return 0;
	/* The guest reads everything; the next write wraps the array's end. */
	in->rsp_cons = in->rsp_prod;
	if (ringbuf_write(in, src, 50, &n) || n != 50)
		return 0;
	for (uint32_t i = 0; i < 50; i++)
		if ((uint8_t)in->rsp[(in->rsp_cons + i) % XENSTORE_RING_SIZE] != src[i])
			return 0;
	return in->rsp_prod == in->rsp_cons + 50;
}

static const struct unit_case tests[] = {
	{ "empty ring: nothing read, cons reported", t_empty },
	{ "peek copies without consuming; consume publishes req_cons", t_read_consume },
	{ "wrap-around at the array's end and at 2^32", t_wrap_around },
	{ "exactly full rings work (1024 bytes read, 0 written)", t_exactly_full },
	{ "prod - cons > 1024 or prod behind cons: EIO, nothing moved", t_bad_indexes },
	{ "never more than the credit is read", t_credit_limit },
	{ "consume says the ring was full when the guest filled it after the peek",
	  t_full_after_peek },
	{ "replies: partial write into little room, wrap-around", t_write_partial_and_wrap },
};

UNIT_MAIN("ring")
