/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * path.h - xenstore path validation and canonical form.
 */
#ifndef LIXS_PATH_H
#define LIXS_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* Accept "@..." special names (WATCH, UNWATCH, GET_PERMS, SET_PERMS). */
#define PATH_ALLOW_SPECIAL 0x1u

/* XENSTORE_REL_PATH_MAX: the default (and largest) path-max quota, and
 * the length limit of "@..." names. */
#define PATH_REL_MAX 2048u

/*
 * Turn the client's path `in` into the canonical absolute path in `out`
 * (buf_reset first, NUL-terminated, out->len excludes the NUL): relative
 * paths are taken below "/local/domain/<domid>".  Validates characters,
 * "//", trailing "/" and length exactly as cxenstored 4.17 does.
 * Returns 0, EINVAL (invalid), or ENOMEM.  On EINVAL `out` still holds
 * the absolute (prefixed) name, for store_invalid_path_errno().
 * The length limit is PATH_REL_MAX characters after a leading
 * "/local/domain/<domid>/" (any domid), as 4.17's is_valid_nodename().
 */
int path_canonicalize(uint32_t domid, const char *in, unsigned int flags,
		      struct buf *out);

/* The same with the path-max quota (-M) `max_rel` instead of
 * PATH_REL_MAX; values above PATH_REL_MAX are clamped as upstream does,
 * and 0 (the quota turned off) is PATH_REL_MAX, the protocol's limit. */
int path_canonicalize_limit(uint32_t domid, const char *in,
			    unsigned int flags, unsigned int max_rel,
			    struct buf *out);

/*
 * The length of the absolute path `abs` that the path-max quota
 * measures: what follows a leading "/local/domain/<domid>/" (any domid,
 * found as 4.17 finds it), else the whole path.  After EINVAL from
 * path_canonicalize_limit(), path_rel_len(out->data) > max_rel says the
 * length alone refuses the path (whatever else is wrong with it).
 */
size_t path_rel_len(const char *abs);

bool path_is_special(const char *path);

/* How many leading bytes a[0..alen) and b[0..blen) have in common. */
size_t path_common_prefix(const char *a, size_t alen, const char *b, size_t blen);

/* The home directory of a domain: "/local/domain/<domid>" into `out`. */
int path_domain_home(uint32_t domid, struct buf *out);

#endif
