/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_watch.c - the watch index: which watches an event fires (ancestors,
 * "/", exact events, "@..." names), in which order, with which payload
 * (relative watches), filtered by which permissions, and registration
 * bookkeeping (EEXIST, ENOENT, remove all).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "watch.h"
#include "unit.h"

/* What the deliver callback saw, "<owner seq>:<event path>|<token>;"
 * per event: the path is the event's, not the watch's. */
struct seen {
	char text[4096];
	size_t len;
	unsigned int count;
};

static void deliver(void *ctx, struct watch_owner *o, const char *data,
		    size_t len)
{
	struct seen *s = ctx;
	int n = snprintf(s->text + s->len, sizeof(s->text) - s->len, "%llu:",
			 (unsigned long long)o->seq);

	s->len += (size_t)n;
	for (size_t i = 0; i + 1 < len && s->len + 2 < sizeof(s->text); i++)
		s->text[s->len++] = data[i] ? data[i] : '|';
	s->text[s->len++] = ';';
	s->text[s->len] = '\0';
	s->count++;
}

static const struct perm p_n0[] = { { 0, PERM_NONE } };
static const struct perm p_n0_r5[] = { { 0, PERM_NONE }, { 5, PERM_READ } };
static const struct perm p_r0[] = { { 0, PERM_READ } };

static const struct caller dom0 = { 0, DOMID_NONE, true };
static const struct caller dom5 = { 5, DOMID_NONE, false };

/* Fire an event with perms n0 everywhere (dom0 sees it all). */
static const char *fire(struct watch_index *wi, struct seen *s,
			const char *path, bool exact)
{
	struct store_event ev = {
		.path = path, .exact = exact, .perms = { 1, p_n0 },
		.parent_perms = NULL, .old_perms = NULL,
	};

	memset(s, 0, sizeof(*s));
	watch_fire(wi, &ev, deliver, s);
	return s->text;
}

static int expect(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return 1;
	printf("    got  \"%s\"\n    want \"%s\"\n", got, want);
	return 0;
}

/* An empty index (seeded) and one owner, connection 1. */
static void one_owner(struct watch_index *wi, uint32_t seed,
		      struct watch_owner *a, const struct caller *who)
{
	watch_index_init(wi, seed);
	watch_owner_init(a, who, 1);
}

static int t_ancestors_and_order(void)
{
	struct watch_index wi;
	struct watch_owner a, b;
	struct seen s;
	int ok = 1;

	watch_index_init(&wi, 42);
	watch_owner_init(&a, &dom0, 1);
	watch_owner_init(&b, &dom0, 2);
	/* b registers first, but a is the older connection: a goes first. */
	ok &= !watch_add(&wi, &b, "/a", false, "b1", NULL);
	ok &= !watch_add(&wi, &a, "/a/b", false, "a1", NULL);
	ok &= !watch_add(&wi, &a, "/", false, "a2", NULL);
	ok &= !watch_add(&wi, &a, "/ab", false, "a3", NULL);
	ok &= !watch_add(&wi, &a, "/a/b/c", false, "a4", NULL);
	ok &= !watch_add(&wi, &a, "/a", false, "a5", NULL);
	ok &= expect(fire(&wi, &s, "/a/b", false),
		     "1:/a/b|a1;1:/a/b|a2;1:/a/b|a5;2:/a/b|b1;");
	ok &= expect(fire(&wi, &s, "/a/b", true), "1:/a/b|a1;");
	ok &= expect(fire(&wi, &s, "/ab/c", false), "1:/ab/c|a2;1:/ab/c|a3;");
	ok &= expect(fire(&wi, &s, "/", false), "1:/|a2;");
	ok &= expect(fire(&wi, &s, "/x", true), "");
	watch_remove_all(&wi, &a);
	watch_remove_all(&wi, &b);
	ok &= wi.used == 0;
	watch_index_fini(&wi);
	return ok;
}

/* Only prefixes as long as some watched path are looked up, and none
 * longer than the longest: that bound follows removals. */
static int t_lengths(void)
{
	struct watch_index wi;
	struct watch_owner a;
	struct seen s;
	int ok = 1;

	one_owner(&wi, 7, &a, &dom0);
	ok &= expect(fire(&wi, &s, "/a/bb/c", false), "");
	ok &= !watch_add(&wi, &a, "/a", false, "short", NULL);
	ok &= !watch_add(&wi, &a, "/a/bb", false, "long", NULL);
	ok &= !watch_add(&wi, &a, "/a/bb/c/dddd", false, "longest", NULL);
	ok &= wi.longest == 12;
	ok &= expect(fire(&wi, &s, "/a/bb/c", false),
		     "1:/a/bb/c|short;1:/a/bb/c|long;");
	ok &= expect(fire(&wi, &s, "/a/bb/c/dddd/e", false),
		     "1:/a/bb/c/dddd/e|short;1:/a/bb/c/dddd/e|long;"
		     "1:/a/bb/c/dddd/e|longest;");
	ok &= expect(fire(&wi, &s, "/a/bb", true), "1:/a/bb|long;");
	ok &= !watch_remove(&wi, &a, "/a/bb/c/dddd", "longest");
	ok &= wi.longest == 5;
	ok &= expect(fire(&wi, &s, "/a/bb/c/dddd/e", false),
		     "1:/a/bb/c/dddd/e|short;1:/a/bb/c/dddd/e|long;");
	ok &= !watch_remove(&wi, &a, "/a/bb", "long");
	ok &= wi.longest == 2;
	ok &= expect(fire(&wi, &s, "/a/bb/c", false), "1:/a/bb/c|short;");
	ok &= expect(fire(&wi, &s, "/a/bb", true), "");
	watch_remove_all(&wi, &a);
	ok &= wi.used == 0 && wi.longest == 0;
	watch_index_fini(&wi);
	return ok;
}

static int t_special(void)
{
	struct watch_index wi;
	struct watch_owner a;
	struct seen s;
	int ok = 1;

	one_owner(&wi, 1, &a, &dom0);
	ok &= !watch_add(&wi, &a, "@introduceDomain", false, "i", NULL);
	ok &= !watch_add(&wi, &a, "@intro", false, "x", NULL);
	ok &= !watch_add(&wi, &a, "/", false, "r", NULL);
	/* "/" matches everything, "@intro" is not a prefix of a name. */
	ok &= expect(fire(&wi, &s, "@introduceDomain", false),
		     "1:@introduceDomain|i;1:@introduceDomain|r;");
	watch_remove_all(&wi, &a);
	watch_index_fini(&wi);
	return ok;
}

static int t_relative(void)
{
	struct watch_index wi;
	struct watch_owner a;
	const struct watch *w;
	struct buf b = BUF_INIT;
	struct seen s;
	int ok = 1;

	one_owner(&wi, 7, &a, &dom5);
	ok &= !watch_add(&wi, &a, "/local/domain/5/dev", true, "t", &w);
	ok &= !watch_add(&wi, &a, "/local/domain/5/dev", false, "abs", NULL);
	ok &= !watch_initial_payload(w, &b) &&
	      b.len == sizeof("dev\0t") && memcmp(b.data, "dev\0t", b.len) == 0;
	/* dom5 may read: perms r0 with no entry for 5 gives everyone r. */
	{
		struct store_event ev = {
			.path = "/local/domain/5/dev/x", .perms = { 1, p_r0 },
		};

		memset(&s, 0, sizeof(s));
		watch_fire(&wi, &ev, deliver, &s);
		ok &= expect(s.text, "1:dev/x|t;1:/local/domain/5/dev/x|abs;");
	}
	buf_free(&b);
	watch_remove_all(&wi, &a);
	watch_index_fini(&wi);
	return ok;
}

static int t_permissions(void)
{
	struct watch_index wi;
	struct watch_owner a, p;
	struct perm_list n0 = { 1, p_n0 }, r5 = { 2, p_n0_r5 };
	struct store_event ev = { .path = "/secret", .perms = n0 };
	struct seen s;
	int ok = 1;

	watch_index_init(&wi, 3);
	watch_owner_init(&a, &dom5, 1);
	watch_owner_init(&p, &dom0, 2);
	ok &= !watch_add(&wi, &a, "/", false, "u", NULL);
	ok &= !watch_add(&wi, &p, "/", false, "p", NULL);

	memset(&s, 0, sizeof(s));
	watch_fire(&wi, &ev, deliver, &s);
	ok &= expect(s.text, "2:/secret|p;");
	/* Readable node, readable parent, readable old perms: each enough. */
	ev.perms = r5;
	memset(&s, 0, sizeof(s));
	watch_fire(&wi, &ev, deliver, &s);
	ok &= s.count == 2;
	ev.perms = n0;
	ev.parent_perms = &r5;
	memset(&s, 0, sizeof(s));
	watch_fire(&wi, &ev, deliver, &s);
	ok &= s.count == 2;
	ev.parent_perms = NULL;
	ev.old_perms = &r5;
	memset(&s, 0, sizeof(s));
	watch_fire(&wi, &ev, deliver, &s);
	ok &= s.count == 2;
	/* Special events: the special node's perms alone decide. */
	ev.path = "@releaseDomain";
	ev.perms = n0;
	memset(&s, 0, sizeof(s));
	watch_fire(&wi, &ev, deliver, &s);
	ok &= expect(s.text, "2:@releaseDomain|p;");

	watch_remove_all(&wi, &a);
	watch_remove_all(&wi, &p);
	watch_index_fini(&wi);
	return ok;
}

static int t_registration(void)
{
	struct watch_index wi;
	struct watch_owner a, b;
	struct seen s;
	int ok = 1;

	watch_index_init(&wi, 9);
	watch_owner_init(&a, &dom0, 1);
	watch_owner_init(&b, &dom0, 2);
	ok &= !watch_add(&wi, &a, "/x", false, "t", NULL);
	ok &= watch_add(&wi, &a, "/x", true, "t", NULL) == EEXIST;
	ok &= !watch_add(&wi, &a, "/x", false, "u", NULL);
	ok &= !watch_add(&wi, &b, "/x", false, "t", NULL);
	ok &= a.count == 2 && b.count == 1;
	ok &= watch_has(&wi, &a, "/x", "u") && !watch_has(&wi, &a, "/x", "v");
	ok &= watch_remove(&wi, &a, "/x", "v") == ENOENT;
	ok &= watch_remove(&wi, &a, "/y", "t") == ENOENT;
	ok &= !watch_remove(&wi, &a, "/x", "t");
	ok &= watch_remove(&wi, &a, "/x", "t") == ENOENT;
	ok &= expect(fire(&wi, &s, "/x", false), "1:/x|u;2:/x|t;");
	watch_remove_all(&wi, &b);
	ok &= expect(fire(&wi, &s, "/x", false), "1:/x|u;");
	watch_remove_all(&wi, &a);
	ok &= a.count == 0 && wi.used == 0;
	ok &= expect(fire(&wi, &s, "/x", false), "");
	watch_index_fini(&wi);
	return ok;
}

/* Many unrelated watches (forcing the table to grow) change nothing. */
static int t_many(void)
{
	struct watch_index wi;
	struct watch_owner a;
	char path[64];
	struct seen s;
	int ok = 1;

	one_owner(&wi, 5, &a, &dom0);
	for (int i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "/n%d/m", i);
		ok &= !watch_add(&wi, &a, path, false, "t", NULL);
	}
	ok &= expect(fire(&wi, &s, "/n4242/m/deep/er", false),
		     "1:/n4242/m/deep/er|t;");
	ok &= expect(fire(&wi, &s, "/n4242", false), "");
	ok &= wi.used == 5000;
	watch_remove_all(&wi, &a);
	ok &= wi.used == 0;
	watch_index_fini(&wi);
	return ok;
}

static const struct unit_case tests[] = {
	{ "ancestors, \"/\", exact events, delivery order", t_ancestors_and_order },
	{ "lookups only at watched lengths, up to the longest", t_lengths },
	{ "@ events match their own name and \"/\"", t_special },
	{ "relative watches: initial event and payloads", t_relative },
	{ "read permission filter (node, parent, old perms, special)", t_permissions },
	{ "EEXIST, ENOENT, remove one, remove all", t_registration },
	{ "5000 unrelated watches", t_many },
};

UNIT_MAIN("watch")
