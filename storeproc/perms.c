/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perms.c - parsing, formatting and evaluating xenstore permission lists,
 * with cxenstored 4.17's exact rules (xs_strings_to_perms,
 * xs_perm_to_string, perm_for_conn).
 */
#include "perms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for the mode letter, "-2147483648" and the NUL. */
#define PERM_STR_MAX 16

int perms_parse(const char *data, size_t len, struct perm *out,
		unsigned int max, unsigned int *count)
{
	unsigned int n = 0, i;
	const char *p, *end = data + len;
	char *stop;

	if (len && data[len - 1] != '\0')
		return EINVAL;
	/* Upstream counts the entries (and refuses too many) before it
	 * looks at any of them, so ENOSPC wins over a malformed entry. */
	for (p = data; p < end; p++)
		if (*p == '\0')
			n++;
	if (n > max)
		return ENOSPC;

	for (p = data, i = 0; i < n; i++) {
		uint32_t mode;

		switch (*p) {
		case 'r': mode = PERM_READ; break;
		case 'w': mode = PERM_WRITE; break;
		case 'b': mode = PERM_BOTH; break;
		case 'n': mode = PERM_NONE; break;
		default: return EINVAL;
		}
		p++;
		if (*p == '\0')
			return EINVAL;
		/*
		 * strtol with base 0 as upstream: "0x10", "010", " 5" and
		 * "-1" are all accepted; the long is truncated to the
		 * 32-bit domid the same way upstream's cast does.
		 */
		out[i].domid = (uint32_t)strtol(p, &stop, 0);
		if (*stop != '\0')
			return EINVAL;
		out[i].mode = mode;
		p = stop + 1;
	}
	*count = n;
	return 0;
}

int perms_format(const struct perm_list *pl, struct buf *out)
{
	static const char letter[4] = { 'n', 'r', 'w', 'b' };
	char tmp[PERM_STR_MAX];
	size_t start = out->len;
	unsigned int i;
	int len, err;

	for (i = 0; i < pl->n; i++) {
		/* Upstream prints the domid with "%i": >= 2^31 comes out
		 * negative (e.g. "b-1"). */
		len = snprintf(tmp, sizeof(tmp), "%c%i",
			       letter[pl->e[i].mode & PERM_BOTH],
			       (int)pl->e[i].domid);
		err = buf_append(out, tmp, (size_t)len + 1);
		if (err) {
			out->len = start;
			return err;
		}
	}
	return 0;
}

static bool is_caller(const struct caller *who, uint32_t domid)
{
	return domid == who->domid ||
	       (who->target != DOMID_NONE && domid == who->target);
}

unsigned int perms_for(const struct caller *who, const struct perm_list *pl)
{
	unsigned int i;

	if (who->priv)
		return PERM_BOTH | PERM_OWNER;
	/* An empty list describes a node that is gone: nobody may see it. */
	if (pl->n == 0)
		return PERM_NONE;
	if (is_caller(who, pl->e[0].domid))
		return PERM_BOTH | PERM_OWNER;
	/* The first entry naming the caller (or its target) decides. */
	for (i = 1; i < pl->n; i++)
		if (is_caller(who, pl->e[i].domid))
			return pl->e[i].mode & PERM_BOTH;
	return pl->e[0].mode & PERM_BOTH;
}
