/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_perms.c - permission strings as cxenstored 4.17 parses
 * (xs_strings_to_perms) and prints (xs_perm_to_string) them, and who
 * gets what (perm_for_conn).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "perms.h"
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1	/* keeps the embedded NULs */

static int parse_ok(const char *data, size_t len, unsigned int n,
		    const struct perm *want)
{
	struct perm out[8];
	unsigned int count = 99;

	if (perms_parse(data, len, out, 8, &count) != 0 || count != n)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		if (out[i].domid != want[i].domid || out[i].mode != want[i].mode)
			return 0;
	return 1;
}

static int t_parse(void)
{
	const struct perm a[] = { { 0, PERM_NONE } };
	const struct perm b[] = { { 5, PERM_READ }, { 7, PERM_WRITE },
				  { 9, PERM_BOTH } };
	/* strtol base 0, as the daemon: hex, octal, blanks, signs. */
	const struct perm c[] = { { 16, PERM_READ }, { 8, PERM_READ },
				  { 5, PERM_WRITE }, { 0xffffffffu, PERM_BOTH } };
	const struct perm d[] = { { 1, PERM_READ } };	/* truncated long */

	return parse_ok(S("n0\0"), 1, a) &&
	       parse_ok(S("r5\0w7\0b9\0"), 3, b) &&
	       parse_ok(S("r0x10\0r010\0w 5\0b-1\0"), 4, c) &&
	       parse_ok(S("r4294967297\0"), 1, d) &&
	       parse_ok(S(""), 0, NULL);
}

static int t_parse_errors(void)
{
	struct perm out[2];
	unsigned int n;

	return perms_parse(S("x0\0"), out, 2, &n) == EINVAL &&
	       perms_parse(S("R0\0"), out, 2, &n) == EINVAL &&
	       perms_parse(S("r\0"), out, 2, &n) == EINVAL &&
	       perms_parse(S("r0x\0"), out, 2, &n) == EINVAL &&
	       perms_parse(S("r5 \0"), out, 2, &n) == EINVAL &&
	       perms_parse(S("\0"), out, 2, &n) == EINVAL &&
	       perms_parse(S("r0"), out, 2, &n) == EINVAL &&	/* no NUL */
	       perms_parse(S("r0\0w1\0b2\0"), out, 2, &n) == ENOSPC &&
	       /* too many wins over malformed, as upstream counts first */
	       perms_parse(S("x\0x\0x\0"), out, 2, &n) == ENOSPC;
}

static int t_format(void)
{
	const struct perm e[] = { { 0, PERM_NONE }, { 5, PERM_READ },
				  { 7, PERM_WRITE }, { 0xffffffffu, PERM_BOTH },
				  { 0x80000000u, PERM_READ } };
	struct perm_list pl = { 5, e };
	struct buf b = BUF_INIT;
	static const char want[] = "n0\0r5\0w7\0b-1\0r-2147483648";
	int ok = perms_format(&pl, &b) == 0 && b.len == sizeof(want) &&
		 memcmp(b.data, want, sizeof(want)) == 0;

	buf_free(&b);
	return ok;
}

static int t_for(void)
{
	const struct perm e[] = { { 3, PERM_READ }, { 5, PERM_WRITE },
				  { 7, PERM_NONE }, { 5, PERM_BOTH },
				  { 9, PERM_BOTH } };
	struct perm_list pl = { 5, e };
	struct caller owner = { 3, DOMID_NONE, false };
	struct caller d5 = { 5, DOMID_NONE, false };
	struct caller d6 = { 6, DOMID_NONE, false };
	struct caller d7 = { 7, DOMID_NONE, false };
	struct caller dm = { 11, 9, false };	/* device model of 9 */
	struct caller dmo = { 12, 3, false };	/* device model of the owner */
	struct caller d0 = { 0, DOMID_NONE, true };
	struct caller ro0 = { 0, DOMID_NONE, false };
	const struct perm f[] = { { 0xffffffffu, PERM_NONE },
				  { 0xffffffffu, PERM_BOTH } };
	struct perm_list none_target = { 2, f };
	struct perm_list empty = { 0, NULL };

	return perms_for(&owner, &pl) == (PERM_BOTH | PERM_OWNER) &&
	       perms_for(&d5, &pl) == PERM_WRITE &&	/* first match wins */
	       perms_for(&d6, &pl) == PERM_READ &&	/* default: entry 0 */
	       perms_for(&d7, &pl) == PERM_NONE &&
	       perms_for(&dm, &pl) == PERM_BOTH &&	/* via its target */
	       perms_for(&dmo, &pl) == (PERM_BOTH | PERM_OWNER) &&
	       perms_for(&d0, &pl) == (PERM_BOTH | PERM_OWNER) &&
	       perms_for(&ro0, &pl) == PERM_READ &&
	       /* DOMID_NONE as "no target" never matches a -1 entry */
	       perms_for(&d6, &none_target) == PERM_NONE &&
	       perms_for(&d6, &empty) == PERM_NONE;
}

static const struct unit_case tests[] = {
	{ "parse", t_parse },
	{ "parse errors", t_parse_errors },
	{ "format", t_format },
	{ "perms_for", t_for },
};

UNIT_MAIN("perms")
