/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_slab.c - the node slab (storeproc/slab.c) and the 32-bit node
 * links that rely on it (storeproc/tree.h's nlink).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slab.h"
#include "tree.h"
#include "unit.h"

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Nothing live, and (outside sanitizer builds, whose quarantine keeps
 * the last frees) all space is the uncarved rest again. */
static int given_back(const struct slab *s)
{
#ifdef SLAB_ASAN
	return s->live == 0;
#else
	return s->live == 0 && s->carved == 0 && s->free_bytes == 0;
#endif
}

/* Sizes round to 8 bytes; objects come zeroed, aligned, inside the
 * range; a freed one is handed out again for its size (in a sanitizer
 * build only after SLAB_QUARANTINE later frees). */
static int t_sizes_reuse(void)
{
	struct slab s;
	unsigned char *a, *b, *c, *d;
	int ok = 1;

	ok &= slab_init(&s) == 0;
	ok &= s.reserved >= SLAB_RESERVE_MIN && s.reserved <= SLAB_RESERVE_MAX;
	ok &= slab_size(0) == 8 && slab_size(1) == 8 && slab_size(8) == 8 &&
	      slab_size(9) == 16 && slab_size(4095) == 4096;
	a = slab_alloc(&s, 13);
	b = slab_alloc(&s, 13);
	ok &= a && b && b == a + 16;
	ok &= ((uintptr_t)a & 7) == 0 && all_zero(a, 16);
	ok &= (char *)a >= s.base && (char *)b + 16 <= s.base + s.mapped;
	memset(a, 0xa5, 16);
	slab_free(&s, a, 13);
	ok &= s.live == 1;
	c = slab_alloc(&s, 24);		/* another size: not a's slot */
	ok &= c && c != a;
	d = slab_alloc(&s, 16);		/* a's size: a again, zeroed */
#ifdef SLAB_ASAN
	ok &= d && d != a && all_zero(d, 16);	/* a waits in quarantine */
#else
	ok &= d == a && all_zero(d, 16);
#endif
	ok &= slab_alloc(&s, SLAB_MAX + 1) == NULL;
	ok &= slab_alloc(&s, SLAB_MAX) != NULL;
	ok &= s.live == 4;
	slab_fini(&s);
	return ok;
}

/* Many chunks' worth of the biggest objects: each keeps its own bytes
 * (no overlap across chunk boundaries) and the slab maps only what it
 * carved, 64 KiB at a time. */
static int t_across_chunks(void)
{
	enum { N = 100 };
	unsigned char *obj[N];
	struct slab s;
	int ok = 1;

	ok &= slab_init(&s) == 0;
	for (int i = 0; i < N; i++) {
		obj[i] = slab_alloc(&s, 4000);	/* 4000: not a chunk divisor */
		ok &= obj[i] != NULL;
		if (obj[i])
			memset(obj[i], i, 4000);
	}
	for (int i = 0; i < N && ok; i++)
		for (int j = 0; j < 4000; j++)
			if (obj[i][j] != (unsigned char)i) {
				ok = 0;
				break;
			}
	ok &= s.mapped % SLAB_CHUNK == 0 && s.mapped >= s.carved &&
	      s.mapped - s.carved < SLAB_CHUNK && s.carved == N * 4000u;
	for (int i = 0; i < N; i++)
		slab_free(&s, obj[i], 4000);
	/* Merged one by one into a block that ends where carving does. */
	ok &= given_back(&s);
	slab_fini(&s);
	return ok;
}

/* Freed space serves other sizes: freeing the middle of three blocks
 * and then its neighbours leaves one block, which a bigger request
 * takes whole. */
static int t_merge(void)
{
	struct slab s;
	char *a, *b, *c, *d, *big;
	int ok = slab_init(&s) == 0;

	a = slab_alloc(&s, 64);
	b = slab_alloc(&s, 64);
	c = slab_alloc(&s, 64);
	d = slab_alloc(&s, 64);		/* keeps a-c off the carving end */
	ok &= a && b == a + 64 && c == b + 64 && d == c + 64;
#ifndef SLAB_ASAN
	slab_free(&s, b, 64);
	slab_free(&s, a, 64);
	slab_free(&s, c, 64);
	ok &= s.free_bytes == 192;
	big = slab_alloc(&s, 190);	/* rounds to 192 */
	ok &= big == a && s.free_bytes == 0;
	/* Freeing the last block gives the carving end back, and the
	 * free block before it with it. */
	slab_free(&s, big, 190);
	slab_free(&s, d, 64);
	ok &= s.carved == 0 && s.free_bytes == 0;
	/* A split leaves the rest on its list: 64 bytes of a 192-byte
	 * block, then 128 more from the rest. */
	a = slab_alloc(&s, 192);
	d = slab_alloc(&s, 8);
	slab_free(&s, a, 192);
	b = slab_alloc(&s, 64);
	c = slab_alloc(&s, 128);
	ok &= b == a && c == a + 64 && s.free_bytes == 0;
#else
	(void)big;
	printf("  (ASan build: freed blocks wait in quarantine; merging "
	       "checked by the normal build)\n");
#endif
	slab_fini(&s);
	return ok;
}

/* A guest stepping its nodes through many sizes (1,000 at a time, freed
 * before the next size) must not make the slab hold every size's peak:
 * what it holds stays near the largest round. */
static int t_no_retention(void)
{
	enum { N = 1000 };
	static void *obj[N];
	struct slab s;
	size_t peak = 0;
	int ok = slab_init(&s) == 0;

	for (size_t size = 56; size <= 2104 && ok; size += 8) {
		for (int i = 0; i < N; i++) {
			obj[i] = slab_alloc(&s, size);
			ok &= obj[i] != NULL;
		}
		if (s.carved > peak)
			peak = s.carved;
		for (int i = 0; i < N; i++)
			slab_free(&s, obj[i], size);
	}
	/* 257 sizes; held by size each, 1,000 of each would be 277 MB. */
	ok &= s.mapped <= 2104 * N + 2 * SLAB_QUARANTINE * 2104 + SLAB_CHUNK;
	ok &= peak <= s.mapped;
	slab_fini(&s);
	return ok;
}

/* Random sizes allocated and freed in random order: every object keeps
 * its own bytes, and freeing everything gives all the space back. */
static int t_random(void)
{
	enum { SLOTS = 2000, STEPS = 200000 };
	static unsigned char *obj[SLOTS];
	static size_t len[SLOTS];
	struct slab s;
	unsigned int seed = 12345;
	int ok = slab_init(&s) == 0;

	for (int step = 0; step < STEPS && ok; step++) {
		unsigned int k = (seed = seed * 1103515245u + 12345u) >> 8;
		unsigned int i = k % SLOTS;

		if (obj[i]) {
			for (size_t j = 0; j < len[i]; j++)
				if (obj[i][j] != (unsigned char)i) {
					ok = 0;
					break;
				}
			slab_free(&s, obj[i], len[i]);
			obj[i] = NULL;
			continue;
		}
		len[i] = 1 + (k >> 11) % (k & 0x40 ? SLAB_MAX : 200);
		obj[i] = slab_alloc(&s, len[i]);
		ok &= obj[i] != NULL && all_zero(obj[i], len[i]);
		if (obj[i])
			memset(obj[i], (int)i, len[i]);
	}
	for (int i = 0; i < SLOTS; i++)
		if (obj[i]) {
			slab_free(&s, obj[i], len[i]);
			obj[i] = NULL;
		}
	ok &= given_back(&s);
	slab_fini(&s);
	return ok;
}

/* A link is a distance in 8-byte units, both ways, up to the 16 GiB a
 * slab's range may span; NLINK_NIL is NULL.  Pure arithmetic on
 * addresses: nothing is dereferenced. */
static int t_links(void)
{
#if UINTPTR_MAX <= 0xffffffffu
	printf("  skipped: a 32-bit address space has no 16 GiB distances\n");
	return 1;
#else
	const uintptr_t base = (uintptr_t)1 << 36;
	const uintptr_t far = SLAB_RESERVE_MAX - SLAB_ALIGN;
	const struct node *lo = (const struct node *)base;
	const struct node *hi = (const struct node *)(base + far);
	const struct node *next = (const struct node *)(base + 8);
	int ok = 1;

	ok &= nlink_to(lo, NULL) == NLINK_NIL && !nlink_follow(lo, NLINK_NIL);
	ok &= nlink_to(lo, lo) == 0 && nlink_follow(lo, 0) == lo;
	ok &= nlink_to(lo, next) == 1 && nlink_to(next, lo) == -1;
	ok &= nlink_follow(lo, nlink_to(lo, hi)) == hi;
	ok &= nlink_follow(hi, nlink_to(hi, lo)) == lo;
	ok &= nlink_to(lo, hi) == INT32_MAX && nlink_to(hi, lo) == -INT32_MAX;
	return ok;
#endif
}

/* The tree's own nodes, linked through a slab: a directory of 3,000
 * children spread over many chunks keeps its order both ways. */
static int t_tree_links(void)
{
	struct tree t;
	struct node *kid, *c;
	char name[16];
	int ok = 1, i;

	ok &= tree_init(&t, 1) == 0;
	for (i = 0; i < 5000 && ok; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		kid = tree_node_new(&t, name, strlen(name), 0);
		ok &= kid != NULL;
		if (kid)
			tree_append(&t, t.root, kid);
	}
	ok &= t.mem.mapped > 2 * SLAB_CHUNK;
	i = 0;
	for (c = node_first(t.root); c && ok; c = node_next(c), i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ok &= !strcmp(c->name, name) && node_parent(c) == t.root;
	}
	ok &= i == 5000;
	/* Backwards: the first child's prev is the last. */
	c = node_prev(node_first(t.root));
	for (i = 4999; c && i >= 0 && ok; i--) {
		snprintf(name, sizeof(name), "n%d", i);
		ok &= !strcmp(c->name, name);
		c = c == node_first(t.root) ? NULL : node_prev(c);
	}
	ok &= i == -1;
	ok &= tree_child(&t, t.root, "n4999", 5) != NULL;
	tree_fini(&t);
	return ok;
}

static const struct unit_case tests[] = {
	{ "sizes, zeroing, reuse by size", t_sizes_reuse },
	{ "objects across chunk boundaries", t_across_chunks },
	{ "freed neighbours merge, serve other sizes, split", t_merge },
	{ "stepping through 257 sizes holds one size's worth", t_no_retention },
	{ "200,000 random allocations and frees", t_random },
	{ "links: distances both ways, 16 GiB apart", t_links },
	{ "a tree's links through the slab", t_tree_links },
};

UNIT_MAIN("slab")
