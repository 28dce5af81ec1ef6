/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_path.c - libFuzzer target for the store process's path and
 * permission string parsing (storeproc/path.c, perms.c), with the
 * properties every accepted string must have: a canonical path is
 * absolute (or "@..." when allowed), has no empty component or trailing
 * slash, and canonicalizes to itself; a parsed permission list formats
 * to wire text that parses back to the same list; perms_for never grants
 * an unprivileged caller more than the list says.
 *
 * Input: flag byte (bit 0: PATH_ALLOW_SPECIAL, bit 1: a small path-max
 * quota, bit 2: caller privileged), 4-byte domid, then the string(s).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "path.h"
#include "perms.h"

#define MAX_PERMS 16

static void check_path(uint32_t domid, unsigned int flags, unsigned int max_rel,
		       const uint8_t *p, size_t n)
{
	struct buf out = { 0 }, again = { 0 };
	char *in = malloc(n + 1);
	int err;

	if (!in)
		return;
	memcpy(in, p, n);
	in[n] = '\0';
	err = path_canonicalize_limit(domid, in, flags, max_rel, &out);
	FUZZ_ASSERT(err == 0 || err == EINVAL || err == ENOMEM);
	if (err == 0) {
		FUZZ_ASSERT(out.data && strlen(out.data) == out.len);
		if (out.data[0] == '@') {
			FUZZ_ASSERT(flags & PATH_ALLOW_SPECIAL);
			FUZZ_ASSERT(path_is_special(out.data));
		} else {
			FUZZ_ASSERT(out.data[0] == '/');
			FUZZ_ASSERT(!strstr(out.data, "//"));
			FUZZ_ASSERT(out.len == 1 || out.data[out.len - 1] != '/');
		}
		/* Canonical is a fixed point, for any caller. */
		err = path_canonicalize_limit(domid ^ 1, out.data, flags, PATH_REL_MAX,
					      &again);
		FUZZ_ASSERT(err == 0 && again.len == out.len &&
			    memcmp(again.data, out.data, out.len) == 0);
	}
	buf_free(&again);
	buf_free(&out);
	free(in);
}

static void check_perms(uint32_t domid, bool priv, const uint8_t *p, size_t n)
{
	struct perm pe[MAX_PERMS], back[MAX_PERMS];
	unsigned int count = 0, count2 = 0, got;
	struct buf wire = { 0 };
	char *data = malloc(n ? n : 1);
	int err;

	if (!data)
		return;
	memcpy(data, p, n);
	err = perms_parse(data, n, pe, MAX_PERMS, &count);
	FUZZ_ASSERT(err == 0 || err == EINVAL || err == ENOSPC);
	if (err == 0) {
		struct perm_list pl = { count, pe };
		struct caller who = { domid, DOMID_NONE, priv };

		FUZZ_ASSERT(count <= MAX_PERMS);
		for (unsigned int i = 0; i < count; i++)
			FUZZ_ASSERT(pe[i].mode <= PERM_BOTH);
		FUZZ_ASSERT(perms_format(&pl, &wire) == 0);
		/* An empty list formats to nothing (wire.data may be NULL). */
		FUZZ_ASSERT(wire.len || count == 0);
		err = wire.len ? perms_parse(wire.data, wire.len, back, MAX_PERMS,
					     &count2) : 0;
		FUZZ_ASSERT(err == 0 && count2 == count);
		for (unsigned int i = 0; i < count; i++)
			FUZZ_ASSERT(back[i].domid == pe[i].domid &&
				    back[i].mode == pe[i].mode);
		got = perms_for(&who, &pl);
		if (!priv && count && pe[0].domid != domid) {
			/* Not the owner: at most the union of its own entries
			 * and the owner's default (entry 0). */
			unsigned int allowed = pe[0].mode;

			for (unsigned int i = 1; i < count; i++)
				if (pe[i].domid == domid)
					allowed |= pe[i].mode;
			FUZZ_ASSERT(!(got & PERM_OWNER));
			FUZZ_ASSERT(!(got & ~allowed));
		}
	}
	buf_free(&wire);
	free(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int flags, max_rel;
	uint32_t domid;

	if (size < 5)
		return 0;
	flags = data[0] & 1 ? PATH_ALLOW_SPECIAL : 0;
	max_rel = data[0] & 2 ? 16 : PATH_REL_MAX;
	memcpy(&domid, data + 1, sizeof(domid));
	check_path(domid, flags, max_rel, data + 5, size - 5);
	check_perms(domid, data[0] & 4, data + 5, size - 5);
	return 0;
}
