/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * slab.h - a size-class allocator for the tree's nodes.
 *
 * A store of 10,000 domains holds over a million small nodes.  malloc
 * spends an 8-byte header and up to 15 bytes of rounding on each; here a
 * node costs its size rounded up to 8 bytes and nothing else.  Objects
 * are carved from 64 KiB chunks; a freed one goes on the free list of its
 * size and is handed out again to the next request of that size, which
 * is what a store's churn looks like (domains come and go with the same
 * shapes).  Chunks are returned only by slab_fini(), as malloc keeps
 * small chunks too.
 *
 * Ownership: the slab owns its chunks; an object belongs to whoever
 * slab_alloc() returned it to until slab_free().  Callers must free with
 * the size they allocated with.
 */
#ifndef LIXS_STOREPROC_SLAB_H
#define LIXS_STOREPROC_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SLAB_ALIGN 8u
#define SLAB_MAX 4096u			/* largest object */
#define SLAB_CHUNK (64u * 1024u)
#define SLAB_CLASSES (SLAB_MAX / SLAB_ALIGN)

struct slab {
	char **chunks;			/* owned, each SLAB_CHUNK bytes */
	size_t nchunks, cap;
	char *cur;			/* uncarved rest of the newest chunk */
	size_t left;
	void *free[SLAB_CLASSES];	/* by (size / SLAB_ALIGN) - 1 */
	size_t live;			/* objects handed out, not freed */
};

/* The size an object of `size` bytes really takes (and may use). */
static inline size_t slab_size(size_t size)
{
	return size ? (size + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1)
		    : SLAB_ALIGN;
}

void slab_init(struct slab *s);
void slab_fini(struct slab *s);		/* frees every chunk */

/* A zeroed object of slab_size(size) bytes, 8-byte aligned; NULL when
 * size > SLAB_MAX or on ENOMEM. */
void *slab_alloc(struct slab *s, size_t size);
void slab_free(struct slab *s, void *obj, size_t size);

/* Chunk bytes held, for the statistics. */
static inline size_t slab_bytes(const struct slab *s)
{
	return s->nchunks * (size_t)SLAB_CHUNK;
}

#endif
