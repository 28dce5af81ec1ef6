/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * path.c - turning a client's path into the canonical absolute form and
 * deciding whether it is valid, by cxenstored 4.17's rules
 * (canonicalize, is_valid_nodename, check_watch_path).
 */
#include "path.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define LOCAL_DOMAIN "/local/domain/"
#define LOCAL_DOMAIN_LEN (sizeof(LOCAL_DOMAIN) - 1)

/* The node name alphabet: A-Z a-z 0-9 - / _ @, as a table: every
 * request's path is checked byte by byte. */
static const bool valid_char[256] = {
	['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true,
	['-'] = true, ['/'] = true, ['_'] = true, ['@'] = true,
};

/*
 * Length of a leading "/local/domain/<domid>/", else 0.  Upstream finds it
 * with sscanf("%5u/%n"): at most five characters for the number, a sign
 * included, and at least one digit.  Whitespace, which %u would skip, is
 * not a valid character anyway, so it cannot change the verdict.
 */
static size_t local_prefix_len(const char *s)
{
	const char *p, *q;

	if (strncmp(s, LOCAL_DOMAIN, LOCAL_DOMAIN_LEN) != 0)
		return 0;
	p = q = s + LOCAL_DOMAIN_LEN;
	if (*q == '-' || *q == '+')
		q++;
	if (!(*q >= '0' && *q <= '9'))
		return 0;
	while (q - p < 5 && *q >= '0' && *q <= '9')
		q++;
	if (*q != '/')
		return 0;
	return (size_t)(q + 1 - s);
}

static bool valid_nodename(const char *s, size_t len, unsigned int max_rel)
{
	size_t i;

	if (len == 0 || s[0] != '/')
		return false;
	if (len > 1 && s[len - 1] == '/')
		return false;
	/* The prefix only matters to a path longer than the limit. */
	if (len > max_rel && len > local_prefix_len(s) + max_rel)
		return false;
	/* s[len] is the NUL: the pair test needs no bound. */
	for (i = 0; i < len; i++) {
		if (!valid_char[(unsigned char)s[i]])
			return false;
		if (s[i] == '/' && s[i + 1] == '/')
			return false;
	}
	return true;
}

/*
 * "/local/domain/<domid>" into out (room for LOCAL_DOMAIN and 10 digits),
 * not NUL-terminated; its length.  Not snprintf: a guest's relative path
 * costs it on every request, and formatting took 770 instructions of a
 * ring READ's 4,000.
 */
static size_t domain_home(uint32_t domid, char *out)
{
	char digits[10];
	size_t n = 0, len = LOCAL_DOMAIN_LEN;

	do
		digits[n++] = (char)('0' + domid % 10);
	while ((domid /= 10));
	memcpy(out, LOCAL_DOMAIN, len);
	while (n)
		out[len++] = digits[--n];
	return len;
}

int path_canonicalize_limit(uint32_t domid, const char *in,
			    unsigned int flags, unsigned int max_rel,
			    struct buf *out)
{
	char prefix[sizeof(LOCAL_DOMAIN) + 12];
	size_t inlen = strlen(in), n;
	int err;

	if (max_rel > PATH_REL_MAX || max_rel == 0)
		max_rel = PATH_REL_MAX;
	buf_reset(out);
	if (in[0] != '/' && in[0] != '@') {
		n = domain_home(domid, prefix);
		prefix[n++] = '/';
		err = buf_append(out, prefix, n);
		if (err)
			return err;
	}
	err = buf_append(out, in, inlen + 1);
	if (err)
		return err;
	out->len--;	/* keep the NUL, exclude it from len */

	if (in[0] == '@') {
		/* Watch paths: any bytes, only the length is limited. */
		if (!(flags & PATH_ALLOW_SPECIAL) || inlen > PATH_REL_MAX)
			return EINVAL;
		return 0;
	}
	return valid_nodename(out->data, out->len, max_rel) ? 0 : EINVAL;
}

int path_canonicalize(uint32_t domid, const char *in, unsigned int flags,
		      struct buf *out)
{
	return path_canonicalize_limit(domid, in, flags, PATH_REL_MAX, out);
}

size_t path_rel_len(const char *abs)
{
	return strlen(abs) - local_prefix_len(abs);
}

bool path_is_special(const char *path)
{
	return path[0] == '@';
}

int path_domain_home(uint32_t domid, struct buf *out)
{
	char tmp[sizeof(LOCAL_DOMAIN) + 12];
	size_t n = domain_home(domid, tmp);
	int err;

	tmp[n++] = '\0';
	buf_reset(out);
	err = buf_append(out, tmp, n);
	if (err)
		return err;
	out->len--;	/* keep the NUL, exclude it from len */
	return 0;
}

size_t path_common_prefix(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, i = 0;

	/* A word at a time: the journal compares each path of a record with
	 * the one before, which mostly share all but the last name. */
	for (; i + sizeof(uint64_t) <= n; i += sizeof(uint64_t)) {
		uint64_t x, y;

		memcpy(&x, a + i, sizeof(x));
		memcpy(&y, b + i, sizeof(y));
		if (x != y)
			break;
	}
	while (i < n && a[i] == b[i])
		i++;
	return i;
}
