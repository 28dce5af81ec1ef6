/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * slab.c - size-class allocator for tree nodes.  See slab.h.
 */
#include "slab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/*
 * Under AddressSanitizer the uncarved rest of a chunk and every freed
 * object are poisoned, so an overrun past a node or a use after its free
 * is still reported although malloc never sees the node.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#endif

#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

int slab_init(struct slab *s)
{
	size_t size = SLAB_RESERVE_MAX;
	void *base = MAP_FAILED;

	memset(s, 0, sizeof(*s));
	/* Address space only: no memory, no commit charge until a chunk
	 * is mapped over it.  A 32-bit process, or one with a tight
	 * RLIMIT_AS, gets what there is. */
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
	memset(s, 0, sizeof(*s));
}

static void **free_head(struct slab *s, size_t size)
{
	return &s->free[size / SLAB_ALIGN - 1];
}

/* Put an object of `size` (a multiple of SLAB_ALIGN) on its free list. */
static void push_free(struct slab *s, void *obj, size_t size)
{
	void **head = free_head(s, size);

	memcpy(obj, head, sizeof(void *));
	*head = obj;
	POISON(obj, size);
}

/* Map the next chunk of the range.  Chunks are contiguous, so an object
 * may span two and no tail is wasted; and being apart from malloc's heap
 * they do not pin the short-lived allocations of requests between them
 * (a transaction's view, a reply), which kept a sixth of the heap free
 * but unreturnable when chunks came from malloc. */
static int map_chunk(struct slab *s)
{
	char *c = s->base + s->mapped;

	if (s->reserved - s->mapped < SLAB_CHUNK)
		return -1;
	if (mmap(c, SLAB_CHUNK, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return -1;
	POISON(c, SLAB_CHUNK);
	s->mapped += SLAB_CHUNK;
	return 0;
}

void *slab_alloc(struct slab *s, size_t size)
{
	void **head, *obj;

	if (size > SLAB_MAX)
		return NULL;
	size = slab_size(size);
	head = free_head(s, size);
	if (*head) {
		obj = *head;
		UNPOISON(obj, size);
		memcpy(head, obj, sizeof(void *));
	} else {
		while (s->mapped - s->carved < size)
			if (map_chunk(s))
				return NULL;
		obj = s->base + s->carved;
		s->carved += size;
		UNPOISON(obj, size);
	}
	memset(obj, 0, size);
	s->live++;
	return obj;
}

void slab_free(struct slab *s, void *obj, size_t size)
{
	if (!obj)
		return;
	s->live--;
	push_free(s, obj, slab_size(size));
}
