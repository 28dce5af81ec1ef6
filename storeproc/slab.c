/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * slab.c - size-class allocator for tree nodes.  See slab.h.
 */
#include "slab.h"

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

void slab_init(struct slab *s)
{
	memset(s, 0, sizeof(*s));
}

void slab_fini(struct slab *s)
{
	size_t i;

	for (i = 0; i < s->nchunks; i++) {
		UNPOISON(s->chunks[i], SLAB_CHUNK);
		munmap(s->chunks[i], SLAB_CHUNK);
	}
	free(s->chunks);
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

/* A fresh chunk becomes the carving one; the old one's tail, if any, is
 * not wasted but goes to the free list of its size. */
static int new_chunk(struct slab *s)
{
	char *c;

	if (s->nchunks == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **cs = realloc(s->chunks, cap * sizeof(*cs));

		if (!cs)
			return -1;
		s->chunks = cs;
		s->cap = cap;
	}
	/* Not from malloc: chunks mapped on their own do not pin the
	 * short-lived allocations of the requests (a transaction's view,
	 * a reply) in the heap between them, which kept a sixth of the heap
	 * free but unreturnable. */
	c = mmap(NULL, SLAB_CHUNK, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return -1;
	POISON(c, SLAB_CHUNK);
	s->chunks[s->nchunks++] = c;
	if (s->left >= SLAB_ALIGN) {
		UNPOISON(s->cur, sizeof(void *));
		push_free(s, s->cur, s->left);
	}
	s->cur = c;
	s->left = SLAB_CHUNK;
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
		if (s->left < size && new_chunk(s))
			return NULL;
		obj = s->cur;
		s->cur += size;
		s->left -= size;
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
