/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perms.h - xenstore permission lists and who a caller is.
 *
 * A permission list's first entry names the owner and the access of
 * everybody not listed; later entries grant or restrict one domain each.
 * Wire form: one NUL-terminated string per entry, "<r|w|b|n><domid>".
 */
#ifndef LIXS_PERMS_H
#define LIXS_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PERM_NONE 0u
#define PERM_READ 1u
#define PERM_WRITE 2u
#define PERM_BOTH (PERM_READ | PERM_WRITE)
/* Internal only, never on the wire: the caller owns the node. */
#define PERM_OWNER 4u

#define DOMID_NONE 0xffffffffu

struct perm {
	uint32_t domid;
	uint32_t mode;		/* PERM_NONE/READ/WRITE/BOTH */
};

/* A view of a permission list; the entries belong to whoever made it. */
struct perm_list {
	unsigned int n;
	const struct perm *e;
};

/* Who is asking: fixed per connection, decides every permission check. */
struct caller {
	uint32_t domid;		/* 0 for dom0's sockets */
	uint32_t target;	/* SET_TARGET target, or DOMID_NONE */
	bool priv;		/* privileged: passes every check */
};

/*
 * Parse `n` NUL-terminated perm strings laid out back to back in
 * data[0..len) (len covers exactly the strings and their NULs) into
 * out[0..max).  Returns 0 and *count, EINVAL on a malformed entry or
 * stray bytes, ENOSPC when there are more than `max` entries.
 */
int perms_parse(const char *data, size_t len, struct perm *out,
		unsigned int max, unsigned int *count);

/* Append the list in wire form to `out` (0 or ENOMEM). */
int perms_format(const struct perm_list *pl, struct buf *out);

/* The PERM_* bits `who` holds on a node with list `pl` (PERM_OWNER
 * included when it owns it); a privileged caller gets everything. */
unsigned int perms_for(const struct caller *who, const struct perm_list *pl);

#endif
