/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bytequeue.h - a queue of bytes: appended at the tail, dropped from the
 * head.  The broker keeps two a ring (replies waiting for room in the
 * ring, requests the store process has not answered yet); both are short
 * (a message or two), so dropping moves the rest down.
 */
#ifndef LIXS_BYTEQUEUE_H
#define LIXS_BYTEQUEUE_H

#include <stdint.h>

/* A zeroed struct is an empty queue.  data is owned (bq_free). */
struct bytequeue {
	uint8_t *data;
	uint32_t len, cap;
};

/* Append n bytes of p: 0, or ENOMEM (the queue is unchanged). */
int bq_append(struct bytequeue *q, const void *p, uint32_t n);

/* Drop the first n (<= len) bytes; an emptied queue keeps its buffer
 * only if it is at most `keep` bytes. */
void bq_drop(struct bytequeue *q, uint32_t n, uint32_t keep);

void bq_free(struct bytequeue *q);

#endif
