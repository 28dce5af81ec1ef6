/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_path.c - path_canonicalize() against cxenstored 4.17's
 * canonicalize() + is_valid_nodename() (and check_watch_path() for "@"
 * names): one table row per rule, lengths at and just past the limit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "path.h"
#include "unit.h"

#define MAX_REL PATH_REL_MAX

static char longbuf[8][4200];

/* prefix + "/" + n chars of 'a' in slot i */
static const char *mklong(int i, const char *prefix, size_t n)
{
	size_t pl = strlen(prefix);

	memcpy(longbuf[i], prefix, pl);
	memset(longbuf[i] + pl, 'a', n);
	longbuf[i][pl + n] = '\0';
	return longbuf[i];
}

struct row {
	uint32_t domid;
	const char *in;
	unsigned int flags;
	int err;
	const char *out;	/* NULL: same as in */
};

static int run_row(const struct row *r)
{
	struct buf b = BUF_INIT;
	int err = path_canonicalize(r->domid, r->in, r->flags, &b);
	const char *want = r->out ? r->out : r->in;
	int ok = err == r->err &&
		 (err == ENOMEM || (b.len == strlen(want) && strcmp(b.data, want) == 0));

	if (!ok)
		printf("     %.60s: got %d \"%.60s\", want %d \"%.60s\"\n", r->in, err,
		       b.data ? b.data : "", r->err, want);
	buf_free(&b);
	return ok;
}

static int t_table(void)
{
	const struct row rows[] = {
		{ 0, "/", 0, 0, NULL },
		{ 0, "/a", 0, 0, NULL },
		{ 0, "/local/domain/0", 0, 0, NULL },
		{ 0, "/A-Z_a-z/0-9@x", 0, 0, NULL },
		{ 0, "/local/domain/", 0, EINVAL, NULL },
		{ 0, "/a/", 0, EINVAL, NULL },
		{ 0, "//", 0, EINVAL, NULL },
		{ 0, "//a", 0, EINVAL, NULL },
		{ 0, "/a//b", 0, EINVAL, NULL },
		{ 0, "/a b", 0, EINVAL, NULL },
		{ 0, "/a.b", 0, EINVAL, NULL },
		{ 0, "/a+b", 0, EINVAL, NULL },
		{ 0, "/a:b", 0, EINVAL, NULL },
		{ 0, "/a\xc3\xa9", 0, EINVAL, NULL },
		{ 0, "/a\tb", 0, EINVAL, NULL },
		{ 5, "x", 0, 0, "/local/domain/5/x" },
		{ 5, "x/y", 0, 0, "/local/domain/5/x/y" },
		{ 7, "", 0, EINVAL, "/local/domain/7/" },
		{ 7, "x/", 0, EINVAL, "/local/domain/7/x/" },
		{ 0, "device", 0, 0, "/local/domain/0/device" },
		{ 32752, "a", 0, 0, "/local/domain/32752/a" },
		{ 0, "@introduceDomain", PATH_ALLOW_SPECIAL, 0, NULL },
		{ 0, "@releaseDomain", PATH_ALLOW_SPECIAL, 0, NULL },
		{ 0, "@any thing/", PATH_ALLOW_SPECIAL, 0, NULL },
		{ 0, "@introduceDomain", 0, EINVAL, NULL },
		{ 3, "@x", 0, EINVAL, NULL },
	};
	int ok = 1;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ok &= run_row(&rows[i]);
	return ok;
}

/* Absolute paths outside /local/domain/N/: "/" + MAX_REL - 1 chars. */
static int t_len_plain(void)
{
	const struct row rows[] = {
		{ 0, mklong(0, "/", MAX_REL - 1), 0, 0, NULL },
		{ 0, mklong(1, "/", MAX_REL), 0, EINVAL, NULL },
	};

	return run_row(&rows[0]) & run_row(&rows[1]);
}

/* Below /local/domain/N/ the limit counts from after the prefix. */
static int t_len_local(void)
{
	const char *p = "/local/domain/12345/";
	const struct row rows[] = {
		{ 0, mklong(0, p, MAX_REL), 0, 0, NULL },
		{ 0, mklong(1, p, MAX_REL + 1), 0, EINVAL, NULL },
		/* A relative path gets the same allowance. */
		{ 9, mklong(2, "", MAX_REL), 0, 0, NULL },
		{ 9, mklong(3, "", MAX_REL + 1), 0, EINVAL, NULL },
		/* Six digits are no domid for %5u: no allowance. */
		{ 0, mklong(4, "/local/domain/123456/", MAX_REL - 21), 0, 0, NULL },
		{ 0, mklong(5, "/local/domain/123456/", MAX_REL - 20), 0, EINVAL, NULL },
		/* A sign counts in the five characters ("-1234" is one). */
		{ 0, mklong(6, "/local/domain/-1234/", MAX_REL), 0, 0, NULL },
	};
	int ok = 1;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct row r = rows[i];
		char want[4200];

		if (r.in == longbuf[2] || r.in == longbuf[3]) {
			snprintf(want, sizeof(want), "/local/domain/9/%s", r.in);
			r.out = want;
		}
		ok &= run_row(&r);
	}
	return ok;
}

static int t_len_special(void)
{
	const struct row rows[] = {
		{ 0, mklong(0, "@", MAX_REL - 1), PATH_ALLOW_SPECIAL, 0, NULL },
		{ 0, mklong(1, "@", MAX_REL), PATH_ALLOW_SPECIAL, EINVAL, NULL },
	};

	return run_row(&rows[0]) & run_row(&rows[1]);
}

static int t_quota_limit(void)
{
	struct buf b = BUF_INIT;
	/* The limit counts the leading "/" outside /local/domain/N/. */
	int ok = path_canonicalize_limit(0, "/abc", 0, 4, &b) == 0 &&
		 path_canonicalize_limit(0, "/abcd", 0, 4, &b) == EINVAL &&
		 path_canonicalize_limit(3, "abcd", 0, 4, &b) == 0 &&
		 /* clamped to PATH_REL_MAX */
		 path_canonicalize_limit(0, mklong(0, "/", MAX_REL), 0, 99999, &b) == EINVAL &&
		 /* 0: the quota is off, the protocol's limit remains */
		 path_canonicalize_limit(0, "/abcd", 0, 0, &b) == 0 &&
		 path_canonicalize_limit(0, mklong(0, "/", MAX_REL - 1), 0, 0, &b) == 0 &&
		 path_canonicalize_limit(0, mklong(0, "/", MAX_REL), 0, 0, &b) == EINVAL;

	buf_free(&b);
	return ok;
}

/* What the path-max quota measures, as the refusal log reports it. */
static int t_rel_len(void)
{
	return path_rel_len("/") == 1 && path_rel_len("/abc") == 4 &&
	       path_rel_len("/local/domain/3/abc") == 3 &&
	       path_rel_len("/local/domain/12345/a") == 1 &&
	       /* six digits: not a domain prefix for 4.17's %5u */
	       path_rel_len("/local/domain/123456/a") == 22 &&
	       path_rel_len("/local/domain/3") == 15 &&
	       path_rel_len("/local/domain/x/a") == 17;
}

static int t_home_and_special(void)
{
	struct buf b = BUF_INIT;
	int ok = path_domain_home(42, &b) == 0 && strcmp(b.data, "/local/domain/42") == 0 &&
		 b.len == 16 && path_is_special("@x") && !path_is_special("/x");

	buf_free(&b);
	return ok;
}

/* Word-at-a-time: lengths around a word, a difference in the second
 * word or at its last byte, and the shorter string a prefix. */
static int t_common_prefix(void)
{
	static const char a[] = "/local/domain/12/device/vif/0/state";
	char b[sizeof(a)];
	int ok = 1;

	for (size_t len = 0; ok && len < sizeof(a); len++) {
		memcpy(b, a, sizeof(a));
		ok = path_common_prefix(a, len, b, len) == len &&
		     path_common_prefix(a, sizeof(a) - 1, b, len) == len &&
		     path_common_prefix(a, len, b, sizeof(a) - 1) == len;
		if (ok && len < sizeof(a) - 1) {
			b[len] = 'X';
			ok = path_common_prefix(a, sizeof(a) - 1, b, sizeof(a) - 1) == len;
		}
		if (!ok)
			printf("  differs at %zu\n", len);
	}
	return ok && path_common_prefix("/a", 2, "/b", 2) == 1 &&
	       path_common_prefix("", 0, "/b", 2) == 0;
}

static const struct unit_case tests[] = {
	{ "valid/invalid table", t_table },
	{ "length limit, plain path", t_len_plain },
	{ "length limit below /local/domain/N/", t_len_local },
	{ "length limit of @ names", t_len_special },
	{ "path-max quota", t_quota_limit },
	{ "path-max measure (path_rel_len)", t_rel_len },
	{ "domain home, special names", t_home_and_special },
	{ "common prefix, a word at a time", t_common_prefix },
};

UNIT_MAIN("path")
