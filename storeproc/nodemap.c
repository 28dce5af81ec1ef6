/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nodemap.c - open addressing, linear probing, load factor <= 1/2,
 * backward-shift deletion (no tombstones).  See nodemap.h.
 */
#include "nodemap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define NODEMAP_MIN 16u
/* nodemap_trim keeps this much (4 KiB): the maps that empty after every
 * transaction (readers, stamps) would otherwise be freed and grown
 * again, rehash by rehash, by each one. */
#define NODEMAP_KEEP 256u

/* Nodes are 8-byte aligned (slab.h): the low bits say nothing, and the
 * multiplication spreads the rest. */
static size_t slot_of(const struct nodemap *m, const void *key)
{
	uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15u;

	return (size_t)(h >> 32 ^ h) & m->mask;
}

static size_t find(const struct nodemap *m, const void *key)
{
	size_t i = slot_of(m, key);

	while (m->slot[i].key && m->slot[i].key != key)
		i = (i + 1) & m->mask;
	return i;
}

void *nodemap_get(const struct nodemap *m, const void *key)
{
	return m->slot ? m->slot[find(m, key)].val : NULL;
}

static int rehash(struct nodemap *m, size_t size)
{
	struct nodemap_slot *old = m->slot, *s;
	size_t n = m->slot ? m->mask + 1 : 0, i;

	s = calloc(size, sizeof(*s));
	if (!s)
		return ENOMEM;
	m->slot = s;
	m->mask = size - 1;
	for (i = 0; i < n; i++)
		if (old[i].key)
			m->slot[find(m, old[i].key)] = old[i];
	free(old);
	return 0;
}

int nodemap_reserve(struct nodemap *m, size_t more)
{
	size_t size = m->slot ? m->mask + 1 : NODEMAP_MIN;

	if (more > SIZE_MAX / 4 - m->used)
		return ENOMEM;
	while ((m->used + more) * 2 > size)
		size *= 2;
	return m->slot && size == m->mask + 1 ? 0 : rehash(m, size);
}

int nodemap_set(struct nodemap *m, const void *key, void *val)
{
	size_t i;

	if (m->slot) {
		i = find(m, key);
		if (m->slot[i].key) {
			m->slot[i].val = val;
			return 0;
		}
	}
	if (nodemap_reserve(m, 1))
		return ENOMEM;
	i = find(m, key);
	m->slot[i].key = key;
	m->slot[i].val = val;
	m->used++;
	return 0;
}

void nodemap_del(struct nodemap *m, const void *key)
{
	size_t i, j, k;

	if (!m->slot)
		return;
	i = find(m, key);
	if (!m->slot[i].key)
		return;
	m->slot[i].key = NULL;
	m->slot[i].val = NULL;
	m->used--;
	/* Pull up entries whose probe run crossed the freed slot. */
	for (j = (i + 1) & m->mask; m->slot[j].key; j = (j + 1) & m->mask) {
		k = slot_of(m, m->slot[j].key);
		if (((j - k) & m->mask) >= ((j - i) & m->mask)) {
			m->slot[i] = m->slot[j];
			m->slot[j].key = NULL;
			m->slot[j].val = NULL;
			i = j;
		}
	}
}

void nodemap_trim(struct nodemap *m)
{
	size_t size;

	if (!m->slot || m->mask + 1 <= NODEMAP_KEEP || m->used * 8 > m->mask + 1)
		return;
	for (size = NODEMAP_KEEP; m->used * 4 > size; size *= 2)
		;
	(void)rehash(m, size);	/* on ENOMEM it keeps its room */
}

void nodemap_fini(struct nodemap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->mask = 0;
	m->used = 0;
}
