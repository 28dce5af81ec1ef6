/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bytequeue.c - see bytequeue.h.
 */
#include "bytequeue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bq_append(struct bytequeue *q, const void *p, uint32_t n)
{
	if (!n)
		return 0;
	if (q->cap - q->len < n) {
		/* Exact growth: most queues hold one message, then empty. */
		uint8_t *d = realloc(q->data, (size_t)q->len + n);

		if (!d)
			return ENOMEM;
		q->data = d;
		q->cap = q->len + n;
	}
	memcpy(q->data + q->len, p, n);
	q->len += n;
	return 0;
}

void bq_drop(struct bytequeue *q, uint32_t n, uint32_t keep)
{
	if (!n)
		return;
	q->len -= n;
	memmove(q->data, q->data + n, q->len);
	if (!q->len && q->cap > keep)
		bq_free(q);
}

void bq_free(struct bytequeue *q)
{
	free(q->data);
	q->data = NULL;
	q->len = q->cap = 0;
}
