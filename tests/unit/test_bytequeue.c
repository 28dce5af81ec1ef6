/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_bytequeue.c - lib/bytequeue: order kept across appends and drops,
 * an emptied queue keeps or frees its buffer as asked.
 */
#include <string.h>

#include "bytequeue.h"
#include "unit.h"

static int t_order(void)
{
	struct bytequeue q = { 0 };
	int ok = 1;

	ok &= !bq_append(&q, "hello ", 6) && !bq_append(&q, "world", 5) && q.len == 11;
	ok &= !memcmp(q.data, "hello world", 11);
	bq_drop(&q, 6, 0);
	ok &= q.len == 5 && !memcmp(q.data, "world", 5);
	ok &= !bq_append(&q, "!", 1) && q.len == 6 && !memcmp(q.data, "world!", 6);
	ok &= !bq_append(&q, NULL, 0) && q.len == 6;
	bq_drop(&q, 0, 0);
	ok &= q.len == 6;
	bq_free(&q);
	ok &= !q.data && !q.len && !q.cap;
	return ok;
}

static int t_keep(void)
{
	struct bytequeue q = { 0 };
	int ok = 1;

	ok &= !bq_append(&q, "abcd", 4);
	bq_drop(&q, 4, 16);
	/* Small and empty: kept for the next message. */
	ok &= q.data && !q.len && q.cap == 4;
	ok &= !bq_append(&q, "xy", 2) && q.cap == 4 && !memcmp(q.data, "xy", 2);
	bq_drop(&q, 2, 1);
	/* Bigger than asked: freed. */
	ok &= !q.data && !q.len && !q.cap;
	return ok;
}

static const struct unit_case tests[] = {
	{ "append and drop keep the order", t_order },
	{ "an emptied queue keeps a small buffer only", t_keep },
};

UNIT_MAIN("bytequeue")
