/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * slab.h - the allocator of the tree's nodes.
 *
 * A store of 10,000 domains holds over a million small nodes.  malloc
 * spends an 8-byte header and up to 15 bytes of rounding on each; here a
 * node costs its size rounded up to 8 bytes and nothing else (a bitmap
 * of one bit per 8 bytes marks free space: 1.6 %).
 *
 * Every object lies in one address range reserved at slab_init() (16 GiB
 * on a 64-bit system, less where the address space is short) and mapped
 * 64 KiB at a time as the slab fills.  So any two objects are less than
 * 16 GiB apart, and a link between them fits a signed 32-bit count of
 * 8-byte units (tree.h's nlink) instead of a pointer.
 *
 * Freed space is merged with free neighbours and reused for any size, as
 * malloc's is: what the slab holds stays near the most that was ever
 * live, whatever mix of sizes comes and goes.  (Free lists kept apart by
 * exact size would not: a guest stepping its nodes through many sizes
 * within its quota would make the store hold each size's peak at once.)
 * Free blocks sit on lists by size: one list a size up to 512 bytes, one
 * a power of two above.  Like malloc, the slab keeps what it mapped;
 * freed space at the end goes back to the uncarved rest.
 *
 * Ownership: the slab owns its range; an object belongs to whoever
 * slab_alloc() returned it to until slab_free().  Callers free with the
 * size they allocated with.
 */
#ifndef LIXS_STOREPROC_SLAB_H
#define LIXS_STOREPROC_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SLAB_ALIGN 8u
/* The largest object: a perms list of tree.h's TREE_PERMS_MAX entries
 * (16,400 bytes); nodes stay far below it. */
#define SLAB_MAX (17u * 1024u)
#define SLAB_CHUNK (64u * 1024u)	/* mapped at a time */
/* The most address space reserved: 2^31 units of SLAB_ALIGN, or a
 * quarter of a 32-bit address space. */
#if UINTPTR_MAX > 0xffffffffu
#define SLAB_RESERVE_MAX ((size_t)1 << 34)
#else
#define SLAB_RESERVE_MAX ((size_t)1 << 30)
#endif
#define SLAB_RESERVE_MIN ((size_t)64 << 20)
#define SLAB_LISTS 89			/* see slab.c's list_of() */
#define SLAB_QUARANTINE 64		/* sanitizer builds only */

/* Built with AddressSanitizer (gcc's macro, clang's feature test). */
#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif

struct slab {
	char *base;			/* the reserved range, owned */
	size_t reserved;		/* its bytes */
	size_t mapped;			/* bytes mapped from base on */
	size_t carved;			/* bytes ever handed out, less a
					 * free end given back */
	uint64_t *freebits;		/* a bit per 8 bytes of [0, mapped):
					 * set at each end of a free block;
					 * owned */
	uint32_t heads[SLAB_LISTS];	/* free lists: unit offset + 1, 0 */
	uint64_t nonempty[(SLAB_LISTS + 63) / 64];
	size_t live;			/* objects handed out, not freed */
	size_t free_bytes;		/* in free blocks below carved */
#ifdef SLAB_ASAN
	/* Freed objects wait here before their space is reused, so that
	 * AddressSanitizer still sees a use after free. */
	struct { void *obj; size_t size; } quarantine[SLAB_QUARANTINE];
	unsigned int q_next, q_len;
#endif
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
