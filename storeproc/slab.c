/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * slab.c - the allocator of tree nodes.  See slab.h.
 *
 * Space is counted in units of SLAB_ALIGN bytes, offsets from the range's
 * base in units fit 32 bits.  A free block of n units keeps its size at
 * both ends, so that a block being freed finds the start of a free block
 * before it; a bit a unit (freebits) says whether the unit at an end of
 * a block is free.  The bits are kept right at every block's two ends,
 * the only places ever asked.  Blocks of two units or more are on a
 * doubly linked list of their size; a lone free unit is on none and
 * waits for a neighbour to be freed.
 */
#include "slab.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define UNIT SLAB_ALIGN
#define EXACT_MAX 64u		/* units: one list a size up to 512 bytes */
#define WALK_MAX 16		/* blocks tried in a list of mixed sizes */

/* Each end of a free block: its size in units and a list link (unit
 * offset + 1, 0 for none): the next block at the head, the previous
 * one at the foot.  One word serves both in a one-unit block. */
struct tag {
	uint32_t units;
	uint32_t link;
};

static struct tag *tag_at(struct slab *s, uint32_t off)
{
	return (struct tag *)(void *)(s->base + (size_t)off * UNIT);
}

static bool bit(const struct slab *s, uint32_t off)
{
	return s->freebits[off / 64] >> (off % 64) & 1;
}

static void set_bit(struct slab *s, uint32_t off, bool on)
{
	if (on)
		s->freebits[off / 64] |= (uint64_t)1 << (off % 64);
	else
		s->freebits[off / 64] &= ~((uint64_t)1 << (off % 64));
}

/* Both ends of [off, off + n) marked free or in use. */
static void mark(struct slab *s, uint32_t off, uint32_t n, bool free)
{
	set_bit(s, off, free);
	set_bit(s, off + n - 1, free);
}

/* The list of blocks of n units: exact up to EXACT_MAX, then one a
 * power of two, (2^k, 2^(k+1)], up to the 2^31 units of a range. */
static unsigned int list_of(uint32_t n)
{
	if (n <= EXACT_MAX)
		return n < 2 ? 0 : n - 2;
	return EXACT_MAX - 1 + (32 - (unsigned int)__builtin_clz(n - 1)) - 6;
}

_Static_assert(EXACT_MAX - 1 + (32 - 1) - 6 < SLAB_LISTS,
	       "SLAB_LISTS covers the largest block");

static void set_nonempty(struct slab *s, unsigned int i, bool on)
{
	if (on)
		s->nonempty[i / 64] |= (uint64_t)1 << (i % 64);
	else
		s->nonempty[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* The first non-empty list at or after i, or SLAB_LISTS. */
static unsigned int next_nonempty(const struct slab *s, unsigned int i)
{
	for (; i < SLAB_LISTS; i = (i / 64 + 1) * 64) {
		uint64_t w = s->nonempty[i / 64] >> (i % 64);

		if (w)
			return i + (unsigned int)__builtin_ctzll(w);
	}
	return SLAB_LISTS;
}

/* A block's foot, where its previous neighbour on the list is kept. */
static struct tag *foot(struct slab *s, uint32_t off)
{
	return tag_at(s, off + tag_at(s, off)->units - 1);
}

static void list_push(struct slab *s, uint32_t off, uint32_t n)
{
	unsigned int i = list_of(n);
	struct tag *head = tag_at(s, off);

	UNPOISON(head, UNIT);
	UNPOISON(tag_at(s, off + n - 1), UNIT);
	head->units = n;
	head->link = 0;
	tag_at(s, off + n - 1)->units = n;
	mark(s, off, n, true);
	s->free_bytes += (size_t)n * UNIT;
	if (n < 2)
		return;
	head->link = s->heads[i];
	tag_at(s, off + n - 1)->link = 0;
	if (s->heads[i])
		foot(s, s->heads[i] - 1)->link = off + 1;
	s->heads[i] = off + 1;
	set_nonempty(s, i, true);
}

static void list_unlink(struct slab *s, uint32_t off)
{
	uint32_t n = tag_at(s, off)->units;
	uint32_t next = tag_at(s, off)->link, prev;
	unsigned int i = list_of(n);

	s->free_bytes -= (size_t)n * UNIT;
	if (n < 2)
		return;
	prev = foot(s, off)->link;
	if (prev)
		tag_at(s, prev - 1)->link = next;
	else
		s->heads[i] = next;
	if (next)
		foot(s, next - 1)->link = prev;
	if (!s->heads[i])
		set_nonempty(s, i, false);
}

int slab_init(struct slab *s)
{
	size_t size = SLAB_RESERVE_MAX;
	void *base = MAP_FAILED;

	memset(s, 0, sizeof(*s));
	/* Address space only: no memory, no commit charge until a chunk
	 * is mapped over it.  A process with a tight RLIMIT_AS gets what
	 * there is. */
	for (; size >= SLAB_RESERVE_MIN; size /= 2) {
		base = mmap(NULL, size, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (base != MAP_FAILED)
			break;
	}
	if (base == MAP_FAILED)
		return ENOMEM;
	s->base = base;
	s->reserved = size;
	return 0;
}

void slab_fini(struct slab *s)
{
	if (s->base) {
		UNPOISON(s->base, s->mapped);
		munmap(s->base, s->reserved);
	}
	free(s->freebits);
	memset(s, 0, sizeof(*s));
}

/* Map the next chunk of the range, and grow the bitmap to cover it.
 * Chunks are contiguous, so a block may span two.  Being apart from
 * malloc's heap, they do not pin the short-lived allocations of requests
 * (a transaction's view, a reply) between them. */
static int map_chunk(struct slab *s)
{
	size_t words = (s->mapped + SLAB_CHUNK) / UNIT / 64;
	char *c = s->base + s->mapped;
	uint64_t *bits;

	if (s->reserved - s->mapped < SLAB_CHUNK)
		return -1;
	bits = realloc(s->freebits, words * sizeof(*bits));
	if (!bits)
		return -1;
	s->freebits = bits;
	memset(bits + s->mapped / UNIT / 64, 0, SLAB_CHUNK / UNIT / 64 *
	       sizeof(*bits));
	if (mmap(c, SLAB_CHUNK, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
		/* A failed fixed mapping may have taken the reservation
		 * away underneath: put it back, so that no other mapping
		 * lands where the next try will map. */
		(void)mmap(c, SLAB_CHUNK, PROT_NONE, MAP_PRIVATE |
			   MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		return -1;
	}
	POISON(c, SLAB_CHUNK);
	s->mapped += SLAB_CHUNK;
	return 0;
}

/* A free block of at least n units, taken off its list, or none. */
static bool take_free(struct slab *s, uint32_t n, uint32_t *off)
{
	unsigned int i = list_of(n);

	if (n > EXACT_MAX) {
		/* Mixed sizes: try a few of the list's blocks. */
		uint32_t at = s->heads[i];

		for (int k = 0; at && k < WALK_MAX; k++) {
			if (tag_at(s, at - 1)->units >= n) {
				*off = at - 1;
				list_unlink(s, *off);
				return true;
			}
			at = tag_at(s, at - 1)->link;
		}
		i++;
	}
	/* Every block on a later list is big enough. */
	i = next_nonempty(s, i);
	if (i == SLAB_LISTS)
		return false;
	*off = s->heads[i] - 1;
	list_unlink(s, *off);
	return true;
}

void *slab_alloc(struct slab *s, size_t size)
{
	uint32_t n, off, have;
	void *obj;

	if (size > SLAB_MAX)
		return NULL;
	size = slab_size(size);
	n = (uint32_t)(size / UNIT);
	if (take_free(s, n, &off)) {
		have = tag_at(s, off)->units;
		if (have > n)
			list_push(s, off + n, have - n);
	} else {
		while (s->mapped - s->carved < size)
			if (map_chunk(s))
				return NULL;
		off = (uint32_t)(s->carved / UNIT);
		s->carved += size;
	}
	mark(s, off, n, false);
	obj = tag_at(s, off);
	UNPOISON(obj, size);
	memset(obj, 0, size);
	s->live++;
	return obj;
}

/* Give [off, off + n) back, merged with the free blocks around it; at
 * the end of what was carved, to the uncarved rest. */
static void release(struct slab *s, uint32_t off, uint32_t n)
{
	uint32_t end = off + n;

	/* The tags of free blocks are never poisoned: readable here. */
	if ((size_t)end * UNIT < s->carved && bit(s, end)) {
		n += tag_at(s, end)->units;
		list_unlink(s, end);
	}
	if (off > 0 && bit(s, off - 1)) {
		uint32_t before = tag_at(s, off - 1)->units;

		off -= before;
		n += before;
		list_unlink(s, off);
	}
	POISON(tag_at(s, off), (size_t)n * UNIT);
	if ((size_t)(off + n) * UNIT == s->carved)
		s->carved = (size_t)off * UNIT;
	else
		list_push(s, off, n);	/* unpoisons its tags */
}

void slab_free(struct slab *s, void *obj, size_t size)
{
	if (!obj)
		return;
	s->live--;
	size = slab_size(size);
#ifdef SLAB_ASAN
	POISON(obj, size);
	if (s->q_len == SLAB_QUARANTINE) {
		void *old = s->quarantine[s->q_next].obj;
		size_t osize = s->quarantine[s->q_next].size;

		s->q_len--;
		release(s, (uint32_t)(((char *)old - s->base) / UNIT),
			(uint32_t)(osize / UNIT));
	}
	s->quarantine[s->q_next].obj = obj;
	s->quarantine[s->q_next].size = size;
	s->q_next = (s->q_next + 1) % SLAB_QUARANTINE;
	s->q_len++;
#else
	release(s, (uint32_t)(((char *)obj - s->base) / UNIT),
		(uint32_t)(size / UNIT));
#endif
}
