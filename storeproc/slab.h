/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * slab.h - a size-class allocator for the tree's nodes.
 *
 * A store of 10,000 domains holds over a million small nodes.  malloc
 * spends an 8-byte header and up to 15 bytes of rounding on each; here a
 * node costs its size rounded up to 8 bytes and nothing else.
 *
 * Every object of a slab lies in one address range reserved at
 * slab_init() (16 GiB where the address space allows, less where it does
 * not) and mapped 64 KiB at a time as the slab fills.  So any two objects
 * are less than 16 GiB apart, and a link between them fits a signed
 * 32-bit count of 8-byte units (tree.h's nlink) instead of a pointer.
 *
 * A freed object goes on the free list of its size and is handed out
 * again to the next request of that size, which is what a store's churn
 * looks like (domains come and go with the same shapes).  Memory is
 * returned only by slab_fini(), as malloc keeps small chunks too.
 *
 * Ownership: the slab owns its range; an object belongs to whoever
 * slab_alloc() returned it to until slab_free().  Callers must free with
 * the size they allocated with.
 */
#ifndef LIXS_STOREPROC_SLAB_H
#define LIXS_STOREPROC_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SLAB_ALIGN 8u
#define SLAB_MAX 4096u			/* largest object */
#define SLAB_CHUNK (64u * 1024u)	/* mapped at a time */
#define SLAB_CLASSES (SLAB_MAX / SLAB_ALIGN)
/* The most address space reserved: 2^31 units of SLAB_ALIGN. */
#define SLAB_RESERVE_MAX ((size_t)1 << 34)
#define SLAB_RESERVE_MIN ((size_t)64 << 20)

struct slab {
	char *base;			/* the reserved range, owned */
	size_t reserved;		/* its bytes */
	size_t mapped;			/* bytes mapped from base on */
	size_t carved;			/* of those, bytes handed out once */
	void *free[SLAB_CLASSES];	/* by (size / SLAB_ALIGN) - 1 */
	size_t live;			/* objects handed out, not freed */
};

/* The size an object of `size` bytes really takes (and may use). */
static inline size_t slab_size(size_t size)
{
	return size ? (size + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1)
		    : SLAB_ALIGN;
}

/* 0, or ENOMEM when not even SLAB_RESERVE_MIN of address space is to
 * be had. */
int slab_init(struct slab *s);
void slab_fini(struct slab *s);		/* unmaps the whole range */

/* A zeroed object of slab_size(size) bytes, 8-byte aligned; NULL when
 * size > SLAB_MAX or the range or memory is exhausted (ENOMEM). */
void *slab_alloc(struct slab *s, size_t size);
void slab_free(struct slab *s, void *obj, size_t size);

/* Bytes mapped, for the statistics. */
static inline size_t slab_bytes(const struct slab *s)
{
	return s->mapped;
}

#endif
