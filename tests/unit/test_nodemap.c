/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_nodemap.c - the tree's side tables: insert, replace, delete with
 * backward shift (every survivor still found), reservations, trimming.
 */
#include <stdint.h>
#include <stdlib.h>

#include "nodemap.h"
#include "unit.h"

#define N 5000

/* Keys as the tree's are: distinct 16-byte aligned addresses. */
static char keys[N][16] __attribute__((aligned(16)));

static int t_set_get_del(void)
{
	struct nodemap m = { 0 };
	int ok = nodemap_get(&m, keys[0]) == NULL;
	size_t i;

	for (i = 0; i < N; i++)
		ok &= nodemap_set(&m, keys[i], keys[(i + 1) % N]) == 0;
	ok &= m.used == N && (m.mask + 1) >= 2 * N;
	for (i = 0; i < N; i++)
		ok &= nodemap_get(&m, keys[i]) == keys[(i + 1) % N];
	/* Replacing keeps the count. */
	ok &= nodemap_set(&m, keys[7], keys[7]) == 0 && m.used == N &&
	      nodemap_get(&m, keys[7]) == keys[7];
	for (i = 0; i < N; i += 2)
		nodemap_del(&m, keys[i]);
	nodemap_del(&m, keys[0]);	/* absent: nothing */
	ok &= m.used == N / 2;
	for (i = 0; i < N; i++)
		ok &= nodemap_get(&m, keys[i]) ==
		      (i % 2 ? (i == 7 ? keys[7] : keys[(i + 1) % N]) : NULL);
	nodemap_fini(&m);
	return ok;
}

static int t_reserve_trim(void)
{
	struct nodemap m = { 0 };
	struct nodemap_slot *slot;
	int ok = nodemap_reserve(&m, 1000) == 0;
	size_t i;

	slot = m.slot;
	/* Reserved room: the 1000 insertions do not move the table. */
	for (i = 0; i < 1000; i++)
		ok &= nodemap_set(&m, keys[i], keys[i]) == 0;
	ok &= m.slot == slot && nodemap_reserve(&m, 0) == 0 && m.slot == slot;
	ok &= m.mask + 1 == 2048;
	for (i = 0; i < 995; i++)
		nodemap_del(&m, keys[i]);
	nodemap_trim(&m);
	/* Down to what it keeps, not below. */
	ok &= m.mask + 1 == 256 && m.used == 5;
	for (i = 995; i < 1000; i++)
		ok &= nodemap_get(&m, keys[i]) == keys[i];
	for (; i > 995; i--)
		nodemap_del(&m, keys[i - 1]);
	nodemap_trim(&m);
	ok &= m.used == 0 && m.mask + 1 == 256 &&
	      nodemap_get(&m, keys[999]) == NULL;
	nodemap_fini(&m);
	return ok;
}

static const struct unit_case tests[] = {
	{ "set, get, replace, delete 5000 keys", t_set_get_del },
	{ "reserve, trim", t_reserve_trim },
};

UNIT_MAIN("nodemap")
