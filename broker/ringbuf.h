/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ringbuf.h - copying bytes in and out of one xenstore ring page
 * (struct xenstore_domain_interface), trusting nothing the other side
 * wrote.  Pure memory work, no Xen calls, so the unit tests run it on a
 * plain 4 KiB buffer.
 *
 * Every call reads the two indexes it needs exactly once, then a full
 * barrier, then checks their distance: prod - cons > XENSTORE_RING_SIZE is
 * EIO (the caller marks the ring broken, as upstream does); a distance of
 * exactly XENSTORE_RING_SIZE is a full ring and works.
 */
#ifndef LIXS_RINGBUF_H
#define LIXS_RINGBUF_H

#include <stdint.h>
#include <xen/io/xs_wire.h>

/*
 * Copy up to `max` request bytes the guest produced into `buf` without
 * consuming them.  Returns 0 with *n bytes copied and *cons the consumer
 * index they start at (for ringbuf_consume), or EIO.
 */
int ringbuf_peek(struct xenstore_domain_interface *intf, void *buf, uint32_t max,
		 uint32_t *n, uint32_t *cons);

/*
 * Publish that `n` bytes from `cons` (ringbuf_peek's answer) are consumed.
 * Returns 1 when the ring was full just before, else 0: the producer, read
 * again once the consumer is published, is a whole ring ahead of `cons`.
 * A guest that found the ring full waits for our notification, and it may
 * have filled it after ringbuf_peek looked (from a consumer index older
 * than ours), so the count ringbuf_peek saw cannot tell.
 */
int ringbuf_consume(struct xenstore_domain_interface *intf, uint32_t cons, uint32_t n);

/*
 * Copy as much of `buf` (`len` bytes) as fits into the reply ring and
 * publish it.  Returns 0 with *n bytes written (0 when full), or EIO.
 */
int ringbuf_write(struct xenstore_domain_interface *intf, const void *buf, uint32_t len,
		  uint32_t *n);

#endif
