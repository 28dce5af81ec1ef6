/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ringbuf.c - the reader and writer of a xenstore ring page; see
 * ringbuf.h.  The guest can change any byte of the page at any time, so
 * each index is loaded once into a local and only the locals are used.
 */
#include "ringbuf.h"

#include <errno.h>
#include <string.h>

#define RING_MASK(i) ((i) & (XENSTORE_RING_SIZE - 1))

static int snapshot(const uint32_t *consp, const uint32_t *prodp, uint32_t *cons,
		    uint32_t *prod)
{
	*cons = __atomic_load_n(consp, __ATOMIC_RELAXED);
	*prod = __atomic_load_n(prodp, __ATOMIC_RELAXED);
	/* The data must not be read (or overwritten) before the indexes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return *prod - *cons > XENSTORE_RING_SIZE ? EIO : 0;
}

int ringbuf_peek(struct xenstore_domain_interface *intf, void *buf, uint32_t max,
		 uint32_t *n, uint32_t *cons)
{
	uint32_t c, p, len, first;
	int ret = snapshot(&intf->req_cons, &intf->req_prod, &c, &p);

	if (ret)
		return ret;
	len = p - c < max ? p - c : max;
	first = XENSTORE_RING_SIZE - RING_MASK(c);
	if (first > len)
		first = len;
	memcpy(buf, intf->req + RING_MASK(c), first);
	memcpy((uint8_t *)buf + first, intf->req, len - first);
	*n = len;
	*cons = c;
	return 0;
}

int ringbuf_consume(struct xenstore_domain_interface *intf, uint32_t cons, uint32_t n)
{
	/* Our copy is complete before the guest may reuse the space. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&intf->req_cons, cons + n, __ATOMIC_RELAXED);
	/* ...and published before we look at req_prod again (the guest only
	 * notifies when it saw us caught up: the caller must re-check). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&intf->req_prod, __ATOMIC_RELAXED) - cons >= XENSTORE_RING_SIZE;
}

int ringbuf_write(struct xenstore_domain_interface *intf, const void *buf, uint32_t len,
		  uint32_t *n)
{
	uint32_t c, p, room, first;
	int ret = snapshot(&intf->rsp_cons, &intf->rsp_prod, &c, &p);

	if (ret)
		return ret;
	room = XENSTORE_RING_SIZE - (p - c);
	if (room > len)
		room = len;
	first = XENSTORE_RING_SIZE - RING_MASK(p);
	if (first > room)
		first = room;
	memcpy(intf->rsp + RING_MASK(p), buf, first);
	memcpy(intf->rsp, (const uint8_t *)buf + first, room - first);
	/* The bytes are in place before the guest can see the new index. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&intf->rsp_prod, p + room, __ATOMIC_RELAXED);
	/* Published before rsp_cons is read again (see ringbuf_consume). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*n = room;
	return 0;
}
