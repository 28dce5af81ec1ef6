/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * buf.h - a growable byte buffer, the one way the store process builds
 * replies, directory listings and event payloads.
 *
 * Ownership: the struct is the caller's; buf_free() releases the bytes.
 * Appends return 0 or ENOMEM and leave the buffer unchanged on failure.
 */
#ifndef LIXS_BUF_H
#define LIXS_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
/* Appends the string and its terminating NUL. */
int buf_append_str0(struct buf *b, const char *s);
void buf_reset(struct buf *b);	/* len = 0, keeps the memory */
void buf_free(struct buf *b);

#endif
