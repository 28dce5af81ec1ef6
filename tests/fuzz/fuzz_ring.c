/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_ring.c - libFuzzer target for the broker's ring copy functions
 * (broker/ringbuf.c) on a plain 4 KiB page: a hostile guest may write any
 * value to any of the four indexes between the broker's calls, and the
 * broker's reads are bounded by the credit the store process granted.
 * Every result is checked against a byte-for-byte model of the ring.
 *
 * Input: 16 bytes of initial indexes (req_cons, req_prod, rsp_cons,
 * rsp_prod), then operations, one opcode byte each:
 *   0-3  the guest sets that index to the next 4 bytes
 *   4    the guest fills the request ring with the next 2 bytes' pattern
 *   5    the broker peeks up to min(credit, next 2 bytes) and consumes
 *        some of it (next byte: 0 none, 255 all)
 *   6    the broker writes next-2-bytes reply bytes
 *   7    the store grants the next 2 bytes of credit
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ringbuf.h"

#define PAGE 4096u
#define RSZ XENSTORE_RING_SIZE

struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, size_t bytes)
{
	uint32_t v = 0;

	for (size_t i = 0; i < bytes; i++) {
		v |= (uint32_t)(in->n ? *in->p : 0) << (8 * i);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

static void do_peek(struct xenstore_domain_interface *intf, uint32_t *credit,
		    struct input *in)
{
	static uint8_t buf[65536];
	uint32_t want = take(in, 2), frac = take(in, 1);
	uint32_t c0 = intf->req_cons, p0 = intf->req_prod, n = 0, cons = 0;
	uint32_t max = want < *credit ? want : *credit;
	int err;

	if (max > sizeof(buf))
		max = sizeof(buf);
	err = ringbuf_peek(intf, buf, max, &n, &cons);
	if (p0 - c0 > RSZ) {
		FUZZ_ASSERT(err == EIO);
		return;
	}
	FUZZ_ASSERT(err == 0 && cons == c0);
	FUZZ_ASSERT(n == (p0 - c0 < max ? p0 - c0 : max));
	for (uint32_t i = 0; i < n; i++)
		FUZZ_ASSERT(buf[i] == (uint8_t)intf->req[(c0 + i) & (RSZ - 1)]);
	n = (uint32_t)((uint64_t)n * frac / 255);
	/* The producer did not move since the peek: full is p0 - c0 == RSZ. */
	FUZZ_ASSERT(ringbuf_consume(intf, cons, n) == (p0 - c0 == RSZ));
	FUZZ_ASSERT(intf->req_cons == c0 + n && intf->req_prod == p0);
	*credit -= n;
}

static void do_write(struct xenstore_domain_interface *intf, struct input *in)
{
	static uint8_t buf[2 * RSZ], before[RSZ];
	uint32_t len = take(in, 2) % sizeof(buf);
	uint32_t c0 = intf->rsp_cons, p0 = intf->rsp_prod, n = 0, room;
	int err;

	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + len);
	memcpy(before, intf->rsp, RSZ);
	err = ringbuf_write(intf, buf, len, &n);
	if (p0 - c0 > RSZ) {
		FUZZ_ASSERT(err == EIO && intf->rsp_prod == p0);
		FUZZ_ASSERT(memcmp(before, intf->rsp, RSZ) == 0);
		return;
	}
	room = RSZ - (p0 - c0);
	FUZZ_ASSERT(err == 0 && n == (len < room ? len : room));
	FUZZ_ASSERT(intf->rsp_prod == p0 + n && intf->rsp_cons == c0);
	/* The new bytes, and nothing outside them, changed. */
	for (uint32_t i = 0; i < n; i++)
		before[(p0 + i) & (RSZ - 1)] = buf[i];
	FUZZ_ASSERT(memcmp(before, intf->rsp, RSZ) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct xenstore_domain_interface *intf;
	uint32_t credit = 65536;
	uint8_t *page;

	if (size < 16)
		return 0;
	/* Exactly one page: ASan catches any access past it. */
	page = aligned_alloc(PAGE, PAGE);
	if (!page)
		return 0;
	memset(page, 0, PAGE);
	intf = (struct xenstore_domain_interface *)page;
	intf->req_cons = take(&in, 4);
	intf->req_prod = take(&in, 4);
	intf->rsp_cons = take(&in, 4);
	intf->rsp_prod = take(&in, 4);
	while (in.n) {
		uint8_t op = (uint8_t)take(&in, 1);

		switch (op & 7) {
		case 0: intf->req_cons = take(&in, 4); break;
		case 1: intf->req_prod = take(&in, 4); break;
		case 2: intf->rsp_cons = take(&in, 4); break;
		case 3: intf->rsp_prod = take(&in, 4); break;
		case 4: {
			uint32_t pat = take(&in, 2);

			for (uint32_t i = 0; i < RSZ; i++)
				intf->req[i] = (char)(pat + i * 7);
			break;
		}
		case 5: do_peek(intf, &credit, &in); break;
		case 6: do_write(intf, &in); break;
		default: credit += take(&in, 2); break;
		}
	}
	free(page);
	return 0;
}
