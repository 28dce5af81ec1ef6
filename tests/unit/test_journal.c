/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_journal.c - the journal format: snapshots and change records
 * replay to the same store; truncated, corrupted and hostile journals
 * are rejected from the first bad record on, without crashing; a mapped
 * journal's zero tail is its clean end, and a record torn anywhere in
 * its write order is never applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal.h"
#include "journal_zip.h"
#include "journal_map.h"
#include "policy.h"
#include "store.h"
#include "unit.h"

static const struct caller dom0 = { 0, DOMID_NONE, true };
static const struct caller dom5 = { 5, DOMID_NONE, false };

/* Records the names a change touched, as the store process's sink does. */
static struct buf noted;

static void note(void *ctx, const struct store_event *ev)
{
	(void)ctx;
	buf_append_str0(&noted, ev->path);
}

static const struct store_event_sink sink = { note, NULL };

static int wr(struct store *st, const struct caller *who, const char *path,
	      const char *val)
{
	return store_write(st, NULL, who, path, val, strlen(val), &sink);
}

/* Each of paths[0..n) written with val, as dom0; 1 if all succeed. */
static int wr_all(struct store *st, const char *const *paths, size_t n, const char *val)
{
	int ok = 1;

	for (size_t i = 0; ok && i < n; i++)
		ok = !wr(st, &dom0, paths[i], val);
	return ok;
}

/* The journal of the changes noted since the last call, as one record. */
static int flush_noted(struct store *st, struct buf *j)
{
	struct buf body = BUF_INIT;
	int err = 0;

	err = journal_note_paths(st, noted.data, noted.len, &body);
	buf_reset(&noted);
	if (!err && body.len)
		err = journal_record(j, body.data, body.len);
	buf_free(&body);
	return err;
}

/* Two stores hold the same nodes, values, perms and child order. */
static int same(struct store *a, struct store *b)
{
	struct buf sa = BUF_INIT, sb = BUF_INIT;
	int ok = !journal_snapshot(a, &sa) && !journal_snapshot(b, &sb) &&
		 sa.len == sb.len && memcmp(sa.data, sb.data, sa.len) == 0;

	buf_free(&sa);
	buf_free(&sb);
	return ok;
}

static struct store *sample(void)
{
	struct store *st = store_new();
	struct perm p[2] = { { 5, PERM_NONE }, { 0, PERM_READ } };
	struct perm sp[1] = { { 0, PERM_READ } };

	if (!st)
		return NULL;
	wr(st, &dom0, "/local/domain/5", "");
	store_set_perms(st, NULL, &dom0, "/local/domain/5", p, 2, &sink);
	wr(st, &dom5, "/local/domain/5/device/vif/0/state", "4");
	wr(st, &dom0, "/vm/abc", "hello\0world");
	wr(st, &dom0, "/a", "1");
	wr(st, &dom0, "/b", "2");
	wr(st, &dom0, "/a/z", "3");
	store_set_perms(st, NULL, &dom0, "@releaseDomain", sp, 1, &sink);
	buf_reset(&noted);
	return st;
}

static int replay_into_new(const struct buf *j, struct store **out,
			   struct journal_replay_stats *stats)
{
	*out = store_new();
	return *out ? journal_replay(*out, j->data, j->len, stats) : -1;
}

static int t_snapshot_roundtrip(void)
{
	struct store *a = sample(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	int ok = !journal_snapshot(a, &j) && !replay_into_new(&j, &b, &s) &&
		 s.bad_bytes == 0 && s.records >= 1 && same(a, b);

	store_free(a);
	store_free(b);
	buf_free(&j);
	return ok;
}

/*
 * Paths are front-coded: 60 nodes under one deep directory take far less
 * than their full paths would (each shares all but its name with the
 * one before), and come back whole, also across SNAP_CHUNK records.
 */
static int t_front_coding(void)
{
	struct store *a = store_new(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	char path[64];
	size_t full = 0;
	int ok = a != NULL;

	for (int i = 0; ok && i < 60; i++) {
		snprintf(path, sizeof(path), "/local/domain/123/device/vif/0/key-%02d", i);
		full += strlen(path);
		ok = !wr(a, &dom0, path, "1");
	}
	ok = ok && !journal_snapshot(a, &j) && !replay_into_new(&j, &b, &s) &&
	     s.bad_bytes == 0 && same(a, b);
	/* Without coding the 60 paths alone would be `full` bytes. */
	if (ok && j.len - JOURNAL_HEAD_LEN(JOURNAL_CLIENT_SLOTS) >= full) {
		printf("  snapshot %zu bytes, paths alone %zu\n", j.len, full);
		ok = 0;
	}
	store_free(a);
	store_free(b);
	buf_free(&j);
	return ok;
}

/*
 * A domain's nodes mostly share one perms list: a PUT whose perms equal
 * the previous PUT's says so in one bit.  1,000 nodes of one owner take
 * 6 bytes each in a snapshot (op byte, three one-byte fields, the one
 * name byte front coding leaves, a 1-byte value); with their perms
 * written out each would take 11.
 */
static int t_same_perms_compact(void)
{
	struct store *a = store_new(), *b = NULL;
	struct perm own[2] = { { 5, PERM_NONE }, { 0, PERM_READ } };
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	char path[32];
	size_t body;
	int ok = a && !wr(a, &dom0, "/d", "");

	for (int i = 0; ok && i < 1000; i++) {
		snprintf(path, sizeof(path), "/d/%04d", i);
		ok = !wr(a, &dom0, path, "v") &&
		     !store_set_perms(a, NULL, &dom0, path, own, 2, &sink);
	}
	ok = ok && !journal_snapshot(a, &j) && !replay_into_new(&j, &b, &s) &&
	     s.bad_bytes == 0 && same(a, b);
	body = j.len - JOURNAL_HEAD_LEN(JOURNAL_CLIENT_SLOTS);
	if (ok && body >= 7 * 1000) {
		printf("  snapshot of 1000 nodes: %zu bytes\n", body);
		ok = 0;
	}
	store_free(a);
	store_free(b);
	buf_free(&j);
	return ok;
}

/* The perms a node has, as GET_PERMS text. */
static int perms_equal(struct store *a, struct store *b, const char *path)
{
	struct buf pa = BUF_INIT, pb = BUF_INIT;
	int ok = !store_get_perms(a, NULL, &dom0, path, &pa) &&
		 !store_get_perms(b, NULL, &dom0, path, &pb) && pa.len == pb.len &&
		 !memcmp(pa.data, pb.data, pa.len);

	if (!ok)
		printf("  perms of %s differ\n", path);
	buf_free(&pa);
	buf_free(&pb);
	return ok;
}

/*
 * Perms coded against the previous PUT come back exactly, in snapshots
 * and in change records: lists that alternate, repeat, are longer than
 * the coder remembers (5 entries), and follow an RM in the same record.
 */
static int t_perms_coding_roundtrip(void)
{
	static const char *const paths[] = {
		"/p/a", "/p/b", "/p/c", "/p/d", "/p/e", "/p/f", "/p/g", "/p/h",
	};
	struct perm one[1] = { { 3, PERM_READ } };
	struct perm two[2] = { { 4, PERM_NONE }, { 7, PERM_BOTH } };
	struct perm five[5] = { { 9, PERM_WRITE }, { 1, PERM_READ }, { 2, PERM_NONE },
				{ 3, PERM_BOTH }, { 4, PERM_READ } };
	const struct perm *lists[] = { one, one, two, five, five, one, two, two };
	const unsigned int counts[] = { 1, 1, 2, 5, 5, 1, 2, 2 };
	struct store *a = store_new(), *b = NULL, *c = NULL;
	struct buf j = BUF_INIT, rec = BUF_INIT;
	struct journal_replay_stats s;
	int ok = a && !wr(a, &dom0, "/p", "") && !wr(a, &dom0, "/gone", "x");

	for (size_t i = 0; ok && i < sizeof(paths) / sizeof(paths[0]); i++)
		ok = !wr(a, &dom0, paths[i], "v") &&
		     !store_set_perms(a, NULL, &dom0, paths[i], lists[i], counts[i], &sink);
	ok = ok && !journal_snapshot(a, &j) && !replay_into_new(&j, &b, &s) &&
	     s.bad_bytes == 0;
	for (size_t i = 0; ok && i < sizeof(paths) / sizeof(paths[0]); i++)
		ok = perms_equal(a, b, paths[i]);
	/* One change record: an RM, then nodes whose perms repeat. */
	buf_reset(&noted);
	ok = ok && !store_rm(a, NULL, &dom0, "/gone", &sink) &&
	     !wr(a, &dom0, "/q/r/s", "1") &&
	     !store_set_perms(a, NULL, &dom0, "/q/r/s", five, 5, &sink) &&
	     !store_set_perms(a, NULL, &dom0, "/q/r", five, 5, &sink) &&
	     !flush_noted(a, &rec) && !buf_append(&j, rec.data, rec.len) &&
	     !replay_into_new(&j, &c, &s) && s.bad_bytes == 0 && same(a, c) &&
	     perms_equal(a, c, "/q/r") && perms_equal(a, c, "/q/r/s");
	store_free(a);
	store_free(b);
	store_free(c);
	buf_free(&j);
	buf_free(&rec);
	return ok;
}

/* Journals of the layouts before (LIXSJNL2, LIXSJNL3) are still
 * restored: a store process crashed after an upgrade is replaced by the
 * new binary, with the old one's journal.  An LIXSJNL2 PUT: */
static void v2_put(struct buf *b, uint32_t shared, const char *rest,
		   const struct perm *perms, uint32_t nperms, const char *val)
{
	uint32_t hdr[4] = { JOURNAL_PUT, shared << JOURNAL_SHARED_SHIFT | (uint32_t)strlen(rest),
			    nperms, (uint32_t)strlen(val) };

	buf_append(b, hdr, sizeof(hdr));
	buf_append(b, rest, strlen(rest));
	buf_append(b, perms, nperms * sizeof(*perms));
	buf_append(b, val, strlen(val));
}

/* A journal of an old layout (`magic`) whose first record, `good`,
 * holds /, /vm and /vm/x = "hello" with perms n5 r0, and whose second,
 * `bad`, is refused for `why`. */
static int old_layout(const char *magic, const struct buf *good,
		      const struct buf *bad, const char *why)
{
	uint32_t table[2] = { 0, 0 };
	struct buf j = BUF_INIT, pb = BUF_INIT;
	struct store *b = NULL;
	struct journal_replay_stats s;
	const void *v;
	size_t len;
	int ok;

	buf_append(&j, magic, JOURNAL_MAGIC_LEN);
	buf_append(&j, table, sizeof(table));
	journal_record(&j, good->data, good->len);
	ok = !replay_into_new(&j, &b, &s) && s.bad_bytes == 0 && s.ops == 3 &&
	     !store_read(b, NULL, &dom0, "/vm/x", &v, &len) && len == 5 &&
	     !memcmp(v, "hello", 5) && !store_get_perms(b, NULL, &dom0, "/vm/x", &pb) &&
	     pb.len == 6 && !memcmp(pb.data, "n5\0r0\0", 6);
	store_free(b);
	b = NULL;
	journal_record(&j, bad->data, bad->len);
	ok = ok && !replay_into_new(&j, &b, &s) && s.records == 1 && s.why &&
	     strstr(s.why, why);
	store_free(b);
	buf_free(&j);
	buf_free(&pb);
	return ok;
}

/* An LIXSJNL2 journal is still restored. */
static int t_reads_v2(void)
{
	struct perm own[2] = { { 5, PERM_NONE }, { 0, PERM_READ } };
	struct perm root[1] = { { 0, PERM_NONE } };
	uint32_t flagged = JOURNAL_PUT | JOURNAL_SAME_PERMS;
	struct buf good = BUF_INIT, bad = BUF_INIT;
	int ok;

	v2_put(&good, 0, "/", root, 1, "");
	v2_put(&good, 1, "vm", own, 2, "");
	v2_put(&good, 3, "/x", own, 2, "hello");
	/* A later layout's flag bits mean nothing in this one. */
	buf_append(&bad, &flagged, sizeof(flagged));
	buf_append(&bad, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	ok = old_layout(JOURNAL_MAGIC_V2, &good, &bad, "unknown operation");
	buf_free(&good);
	buf_free(&bad);
	return ok;
}

/* LEB128 numbers, 7 bits a byte, low first. */
static void put_uv(struct buf *b, uint32_t v)
{
	unsigned char byte;

	do {
		byte = (unsigned char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		v >>= 7;
		buf_append(b, &byte, 1);
	} while (byte & 0x80);
}

/* An LIXSJNL3 node operation: u32 op word, `n` LEB128 fields, then
 * `tail` (path and value). */
static void v3_node(struct buf *b, uint32_t word, const uint32_t *field,
		    unsigned int n, const char *tail)
{
	buf_append(b, &word, sizeof(word));
	for (unsigned int i = 0; i < n; i++)
		put_uv(b, field[i]);
	buf_append(b, tail, strlen(tail));
}

/* An LIXSJNL3 journal (node operations with a u32 op word) is still
 * restored, and its undefined flag bits are refused. */
static int t_reads_v3(void)
{
	const uint32_t root[] = { 0, 1, 0, 1, 0, PERM_NONE };
	const uint32_t vm[] = { 1, 2, 0, 2, 5, PERM_NONE, 0, PERM_READ };
	const uint32_t x[] = { 3, 2, 5 };	/* shared, rest, vallen */
	struct buf good = BUF_INIT, bad = BUF_INIT;
	int ok;

	v3_node(&good, JOURNAL_PUT, root, 6, "/");
	v3_node(&good, JOURNAL_PUT, vm, 8, "vm");
	v3_node(&good, JOURNAL_PUT | JOURNAL_SAME_PERMS, x, 3, "/xhello");
	v3_node(&bad, JOURNAL_PUT | 0x200, root, 6, "/");
	ok = old_layout(JOURNAL_MAGIC_V3, &good, &bad, "wrong fields");
	buf_free(&good);
	buf_free(&bad);
	return ok;
}

/* Count the PUT operations of a record body (OP_HDR-sized headers). */
static unsigned int puts_in(const struct buf *j, size_t from)
{
	struct store *st = store_new();
	struct journal_replay_stats s;
	struct buf one = BUF_INIT;
	unsigned int n = 0;

	/* Replay the one record alone: each PUT is one operation. */
	if (st && !journal_head(&one, 0) && !buf_append(&one, j->data + from, j->len - from) &&
	    !journal_replay(st, one.data, one.len, &s) && !s.bad_bytes)
		n = (unsigned int)s.ops;
	store_free(st);
	buf_free(&one);
	return n;
}

/* A WRITE's record holds the ancestors it made (only this record knows
 * their perms) and not the ones already journaled: a second write under
 * the same parent is one PUT; the journal still replays to the store. */
static int t_ancestors_once(void)
{
	struct store *a = store_new(), *b = NULL;
	struct buf j = BUF_INIT, before = BUF_INIT;
	struct journal_replay_stats s;
	size_t mark;
	unsigned int first, second, deeper;
	/* Anything noted so far is in the snapshot.  The snapshot marks
	 * nothing, so the first write reports "/" as well. */
	int ok = a && !journal_snapshot(a, &j) && !flush_noted(a, &before);

	buf_free(&before);
	mark = j.len;
	ok = ok && !wr(a, &dom0, "/p/q/r", "1") && !flush_noted(a, &j);
	first = puts_in(&j, mark);
	mark = j.len;
	ok = ok && !wr(a, &dom0, "/p/q/s", "2") && !flush_noted(a, &j);
	second = puts_in(&j, mark);
	mark = j.len;
	ok = ok && !wr(a, &dom0, "/p/q/t/u/v", "3") && !flush_noted(a, &j);
	deeper = puts_in(&j, mark);
	if (ok && (first != 4 || second != 1 || deeper != 3)) {
		printf("  PUTs: %u, %u, %u (want 4, 1, 3)\n", first, second, deeper);
		ok = 0;
	}
	ok = ok && !replay_into_new(&j, &b, &s) && !s.bad_bytes && same(a, b);
	store_free(a);
	store_free(b);
	buf_free(&j);
	return ok;
}

/* A record framed in place is the record journal_record() makes. */
static int t_record_in_place(void)
{
	static const uint32_t zero[2];
	struct buf a = BUF_INIT, b = BUF_INIT, tiny = BUF_INIT;
	struct perm p = { 0, PERM_READ };
	int ok = !buf_append(&b, zero, JOURNAL_REC_HDR) &&
		 !journal_op_append(&b, JOURNAL_PUT, "/x", &p, 1, "v", 1) &&
		 !journal_record(&a, b.data + JOURNAL_REC_HDR, b.len - JOURNAL_REC_HDR) &&
		 !journal_record_in_place(&b) && a.len == b.len &&
		 !memcmp(a.data, b.data, a.len) &&
		 !buf_append(&tiny, "abc", 3) && journal_record_in_place(&tiny) == EINVAL;

	buf_free(&a);
	buf_free(&b);
	buf_free(&tiny);
	return ok;
}

/* A snapshot followed by change records, as a running store writes it. */
static int t_records_after_snapshot(void)
{
	struct store *a = sample(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	struct perm p[1] = { { 7, PERM_BOTH } };
	int ok = !journal_snapshot(a, &j);

	/* Ancestors created by an unprivileged writer belong to it. */
	ok = ok && !wr(a, &dom5, "/local/domain/5/data/x/y", "v") && !flush_noted(a, &j);
	ok = ok && !store_rm(a, NULL, &dom0, "/a", &sink) && !flush_noted(a, &j);
	ok = ok && !store_set_perms(a, NULL, &dom0, "/b", p, 1, &sink) &&
	     !flush_noted(a, &j);
	ok = ok && !wr(a, &dom0, "/a", "again") && !flush_noted(a, &j);
	ok = ok && !replay_into_new(&j, &b, &s) && s.bad_bytes == 0 && same(a, b);
	store_free(a);
	store_free(b);
	buf_free(&j);
	return ok;
}

/* A transaction's changes arrive at commit, and become one record. */
static int t_commit_record(void)
{
	struct store *a = sample(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	struct txn *t;
	int ok = !journal_snapshot(a, &j) && (t = store_txn_start(a)) != NULL;

	ok = ok && !store_write(a, t, &dom0, "/t/1", "x", 1, &sink) &&
	     !store_rm(a, t, &dom0, "/vm", &sink);
	ok = ok && noted.len == 0 && !store_txn_commit(a, t, &sink) &&
	     !flush_noted(a, &j);
	ok = ok && !replay_into_new(&j, &b, &s) && s.records == 2 && same(a, b);
	store_free(a);
	store_free(b);
	buf_free(&j);
	return ok;
}

/*
 * A change record codes each path against the one before it, across the
 * paths of a commit and the events after it (a special node's perms, a
 * removal): 30 siblings take far less than their full paths, and all
 * comes back whole.
 */
static int t_change_record_coded(void)
{
	static const char dir[] = "/local/domain/7/device/vbd/51712";
	struct perm ip[1] = { { 0, PERM_READ } };
	struct store *a = sample(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	char path[64];
	size_t full = 0, before;
	struct txn *t;
	int ok = a && !wr(a, &dom0, "/local/domain/7/old", "o") &&
		 !journal_snapshot(a, &j) && (t = store_txn_start(a)) != NULL;

	buf_reset(&noted);
	before = j.len;
	for (int i = 0; ok && i < 30; i++) {
		snprintf(path, sizeof(path), "%s/key-%02d", dir, i);
		full += strlen(path);
		ok = !store_write(a, t, &dom0, path, "1", 1, &sink);
	}
	ok = ok && !store_rm(a, t, &dom0, "/local/domain/7/old", &sink) &&
	     !store_txn_commit(a, t, &sink) &&
	     !store_set_perms(a, NULL, &dom0, "@introduceDomain", ip, 1, &sink) &&
	     /* which fires no event: the journal is told (journal_io.c) */
	     !buf_append_str0(&noted, "@introduceDomain") &&
	     !wr(a, &dom0, "/local/domain/7/device/vbd/51712/after", "2") &&
	     !flush_noted(a, &j);
	ok = ok && !replay_into_new(&j, &b, &s) && s.bad_bytes == 0 &&
	     s.records == 2 && same(a, b);
	if (ok && j.len - before >= full / 2) {
		printf("  change record %zu bytes, 30 paths alone %zu\n", j.len - before, full);
		ok = 0;
	}
	store_free(a);
	store_free(b);
	buf_free(&j);
	return ok;
}

/*
 * Each path of a change record is found from where the one before was
 * (store_cursor): down, up to an ancestor, across to another subtree,
 * into a name that extends the last one.  Every value differs, so a walk
 * that found another node than its path's would put the wrong value.
 */
static int t_change_record_walks(void)
{
	static const char *const order[] = {
		"/a/b/c/d", "/a", "/x/y", "/a/b/c/e", "/a/b", "/a/bb/c", "/a/bb",
		"/a/b/c/d", "/x", "/x/y/z", "/ab", "/a/b/cd", "/a/b/c",
	};
	struct store *a = store_new(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	char val[16];
	size_t before;
	int ok = a != NULL;

	ok = ok && wr_all(a, order, sizeof(order) / sizeof(order[0]), "old");
	ok = ok && !journal_snapshot(a, &j);
	before = j.len;
	for (size_t i = 0; ok && i < sizeof(order) / sizeof(order[0]); i++) {
		snprintf(val, sizeof(val), "new-%zu", i);
		ok = !wr(a, &dom0, order[i], val);
	}
	ok = ok && !flush_noted(a, &j) && j.len > before &&
	     !replay_into_new(&j, &b, &s) && s.bad_bytes == 0 && same(a, b);
	store_free(a);
	store_free(b);
	buf_free(&j);
	return ok;
}

/*
 * A snapshot compressed as it is cut replays to the same store as the
 * plain one, and says how big the plain one is.  The tree's names share
 * prefixes in every way the walk's coding must get right: a sibling
 * after one with a subtree, names that extend their elder's ("a",
 * "ab"), and enough nodes for several compressed records.
 */
static int t_zipped_snapshot(void)
{
	static const char *const names[] = {
		"/a/b/c/d", "/a/b/c", "/a/bb", "/a/b2/x", "/a/b", "/ab", "/a/st/x",
		"/a/state", "/a/store", "/a/s", "/a/sta/y/z", "/abc", "/b",
	};
	struct store *a = sample(), *b = NULL;
	struct buf plain = BUF_INIT, zipped = BUF_INIT;
	struct journal_replay_stats s;
	char path[64];
	size_t plain_len = 0;
	int ok = a != NULL;

	ok = ok && wr_all(a, names, sizeof(names) / sizeof(names[0]), "v");
	for (int i = 0; ok && i < 3000; i++) {
		snprintf(path, sizeof(path), "/local/domain/%d/device/vif/%d/state", i, i % 3);
		ok = !wr(a, &dom0, path, i % 2 ? "4" : "1");
	}
	ok = ok && !journal_snapshot(a, &plain) &&
	     !journal_snapshot_zipped(a, &zipped, &plain_len) &&
	     plain_len == plain.len && zipped.len < plain.len / 4 &&
	     !replay_into_new(&zipped, &b, &s) && s.bad_bytes == 0 && s.zipped >= 2 &&
	     same(a, b);
	store_free(a);
	store_free(b);
	buf_free(&plain);
	buf_free(&zipped);
	return ok;
}

static int zeros(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

/* Cut anywhere: what precedes the cut replays, nothing crashes. */
static int t_truncated(void)
{
	struct store *a = sample(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	size_t before;
	int ok = !journal_snapshot(a, &j);

	before = j.len;
	ok = ok && !wr(a, &dom0, "/late", "value") && !flush_noted(a, &j);
	for (size_t n = 0; ok && n <= j.len; n++) {
		struct buf cut = { j.data, n, n };
		int err = replay_into_new(&cut, &b, &s);
		/* Clean cuts: after the magic, the snapshot (one record,
		 * small as it is), the last record; a cut leaving only
		 * zero bytes after one of them is clean too. */
		size_t good = n == j.len ? n : n >= before ? before :
			      JOURNAL_HEAD_LEN(JOURNAL_CLIENT_SLOTS);

		if (n < JOURNAL_HEAD_LEN(JOURNAL_CLIENT_SLOTS))
			ok = err != 0;
		else
			ok = !err && s.good_bytes == good &&
			     s.good_bytes + s.spare_bytes + s.bad_bytes == n &&
			     (s.bad_bytes == 0) == zeros(j.data + good, n - good);
		if (ok && n >= before && n < j.len) {
			const void *v;
			size_t len;

			/* The last record is torn: its node is not there. */
			ok = store_read(b, NULL, &dom0, "/late", &v, &len) != 0;
		}
		store_free(b);
	}
	store_free(a);
	buf_free(&j);
	return ok;
}

/* Every single byte flipped: replay survives, a bad record is refused. */
static int t_flipped_bytes(void)
{
	struct store *a = sample(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	int ok = !journal_snapshot(a, &j);

	for (size_t i = 0; ok && i < j.len; i++) {
		int err;

		j.data[i] ^= 0x5a;
		err = replay_into_new(&j, &b, &s);
		/* The magic and the table's size are checked; the rest of
		 * the client table is not (journal.h): it only decides
		 * which clients are served on. */
		if (i < JOURNAL_MAGIC_LEN + 4)
			ok = err != 0;
		else if (i < JOURNAL_HEAD_LEN(JOURNAL_CLIENT_SLOTS))
			ok = !err && !s.bad_bytes;
		else
			ok = !err && s.bad_bytes > 0 && s.why != NULL;
		store_free(b);
		j.data[i] ^= 0x5a;
	}
	store_free(a);
	buf_free(&j);
	return ok;
}

/* A journal whose checks match but whose fields lie (a hostile writer). */
static int hostile(const void *body, size_t len, const char *why)
{
	struct buf j = BUF_INIT;
	struct store *b = NULL;
	struct journal_replay_stats s;
	int ok = !journal_head(&j, 0) &&
		 !journal_record(&j, body, len) &&
		 !replay_into_new(&j, &b, &s) && s.records == 0 && s.bad_bytes &&
		 s.why && strstr(s.why, why);

	if (!ok)
		printf("  wanted '%s', got '%s'\n", why, s.why ? s.why : "");
	store_free(b);
	buf_free(&j);
	return ok;
}

/* A node operation as a hostile writer may lay it out: the op byte,
 * then `n` LEB128 fields, then `tail` (path and value). */
static int raw_node(struct buf *b, unsigned char op, const uint32_t *field,
		    unsigned int n, const char *tail)
{
	buf_append(b, &op, 1);
	for (unsigned int i = 0; i < n; i++)
		put_uv(b, field[i]);
	return buf_append(b, tail, strlen(tail));
}

static int t_hostile_fields(void)
{
	struct perm p = { 0, PERM_READ }, bad = { 0, 9 }, far = { 70000, PERM_READ };
	struct buf b = BUF_INIT;
	/* shared, rest, vallen, nperms, { domid, mode } */
	const uint32_t big[] = { 0, 0xffffffffu, 0, 1, 0, 1 };
	const uint32_t shr4[] = { 4, 1, 0, 1, 0, 1 };
	const uint32_t shr1[] = { 1, 1, 0, 1, 0, 1 };
	const uint32_t same[] = { 0, 2, 0 };	/* no nperms: the same perms */
	const uint32_t rm[] = { 0, 2 };
	const unsigned char cut[] = { 0x80 }, huge[] = { 0xff, 0xff, 0xff, 0xff, 0x7f };
	const unsigned char six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
	unsigned char word = JOURNAL_PUT;
	uint32_t unk[4] = { 99, 1, 0, 0 };
	uint32_t dom[5] = { JOURNAL_DOMAIN, 0x7ff0u, DOMID_NONE, 0, 1 };
	uint32_t domflags[5] = { JOURNAL_DOMAIN, 5, DOMID_NONE, 8, 1 };
	int ok = 1;

#define CASE(stmt, why) \
	do { buf_reset(&b); stmt; ok = ok && hostile(b.data, b.len, why); } while (0)
	CASE(journal_op_append(&b, JOURNAL_PUT, "/x//y", &p, 1, "v", 1), "invalid path");
	CASE(journal_op_append(&b, JOURNAL_PUT, "x", &p, 1, "v", 1), "invalid path");
	CASE(journal_op_append(&b, JOURNAL_PUT, "/x", &bad, 1, "v", 1), "permission");
	CASE(journal_op_append(&b, JOURNAL_PUT, "/x", &far, 1, "v", 1), "permission");
	CASE(journal_op_append(&b, JOURNAL_PUT, "/x", NULL, 0, "v", 1), "wrong fields");
	CASE(journal_op_append(&b, JOURNAL_RM, "/", NULL, 0, NULL, 0), "RM");
	CASE(journal_op_append(&b, JOURNAL_PUT, "@releaseDomain", &p, 1, "v", 1),
	     "special");
	CASE(raw_node(&b, JOURNAL_PUT, big, 6, "/x"), "out of bounds");
	CASE(buf_append(&b, unk, sizeof(unk)), "unknown operation");
	/* LEB128 fields cut short, too big for a u32, or over 5 bytes. */
	CASE((buf_append(&b, &word, 1), buf_append(&b, cut, 1)), "truncated operation");
	CASE((buf_append(&b, &word, 1), buf_append(&b, huge, 5)), "truncated operation");
	CASE((buf_append(&b, &word, 1), buf_append(&b, six, 6)), "truncated operation");
	CASE(buf_append(&b, &word, 1), "truncated operation");
	CASE(raw_node(&b, JOURNAL_PUT, big, 2, ""), "truncated operation");
	/* "The same perms" with no PUT before it in the record, and on an
	 * RM (an op byte has no other flag bits; t_reads_v3 refuses
	 * LIXSJNL3's undefined ones). */
	CASE(raw_node(&b, JOURNAL_PUT | JOURNAL_NODE_SAME, same, 3, "/x"),
	     "same perms as no earlier PUT");
	CASE((journal_op_append(&b, JOURNAL_PUT, "/ok", &p, 1, "v", 1),
	      raw_node(&b, JOURNAL_RM | JOURNAL_NODE_SAME, rm, 2, "/x")), "wrong fields");
	CASE(raw_node(&b, JOURNAL_PUT, shr4, 6, "/x"), "shares more than the previous path");
	CASE(buf_append(&b, dom, sizeof(dom)), "invalid domain");
	CASE(buf_append(&b, domflags, sizeof(domflags)), "invalid domain");
	CASE(buf_append(&b, dom, 16), "truncated operation");
	CASE(journal_op_watch(&b, "/w", false, "t"), "watch without its domain");
	CASE((journal_op_domain(&b, 5, DOMID_NONE, 0, 1),
	      journal_op_watch(&b, "w", false, "t")), "invalid path");
	CASE((journal_op_domain(&b, 5, DOMID_NONE, 0, 1),
	      journal_op_watch(&b, "/w", false, "t#k"), b.data[b.len - 2] = '\0'),
	     "invalid token");
	CASE((journal_op_domain(&b, 5, DOMID_NONE, JOURNAL_DOM_GONE, 1),
	      journal_op_watch(&b, "/w", false, "t")), "watch without its domain");
	/* Front coding: sharing more than the previous path has, or anything
	 * at all as a record's first path. */
	CASE((journal_op_append(&b, JOURNAL_PUT, "/ok", &p, 1, "v", 1),
	      raw_node(&b, JOURNAL_PUT, shr4, 6, "x")), "shares more than the previous path");
	CASE(raw_node(&b, JOURNAL_PUT, shr1, 6, "x"), "shares more than the previous path");
	/* A good operation, then a path with a NUL inside (its value is
	 * empty, so the path ends the body). */
	CASE((journal_op_append(&b, JOURNAL_PUT, "/ok", &p, 1, "v", 1),
	      journal_op_append(&b, JOURNAL_PUT, "/a#b", &p, 1, "", 0),
	      b.data[b.len - 2] = '\0'), "invalid path");
	/* The path and value must be inside the record. */
	CASE((journal_op_append(&b, JOURNAL_PUT, "/ok", &p, 1, "value", 5), b.len -= 1),
	     "overruns its record");
#undef CASE
	buf_free(&b);
	return ok;
}

/* Ring states: the last JOURNAL_DOMAIN of a domid wins, with exactly its
 * watches; JOURNAL_DOM_GONE forgets it; plain replay ignores them. */
static int t_rings(void)
{
	struct buf j = BUF_INIT, b = BUF_INIT;
	struct journal_rings r = { 0 };
	struct journal_replay_stats s;
	struct journal_ring *e;
	struct store *st = store_new(), *st2 = store_new();
	int ok = st && st2 && !journal_head(&j, 0);

	ok = ok && !journal_op_domain(&b, 5, 6, JOURNAL_DOM_SHUTDOWN_SEEN, 7) &&
	     !journal_op_watch(&b, "/local/domain/5/data", true, "tok") &&
	     !journal_op_domain(&b, 9, DOMID_NONE, 0, 1) &&
	     !journal_record(&j, b.data, b.len);
	buf_reset(&b);
	ok = ok && !journal_op_domain(&b, 5, 6, 0, 12) &&
	     !journal_op_watch(&b, "@releaseDomain", false, "") &&
	     !journal_op_domain(&b, 9, DOMID_NONE, JOURNAL_DOM_GONE, 0) &&
	     !journal_record(&j, b.data, b.len);
	ok = ok && !journal_replay_rings(st, j.data, j.len, &s, &r) && !s.bad_bytes &&
	     s.records == 2 && r.n == 1 && (e = journal_rings_find(&r, 5)) &&
	     e->target == 6 && e->flags == 0 && e->txn_next == 12 &&
	     e->watches.len == sizeof("0@releaseDomain") + 1 &&
	     memcmp(e->watches.data, "0@releaseDomain\0\0", e->watches.len) == 0 &&
	     !journal_rings_find(&r, 9);
	ok = ok && !journal_replay(st2, j.data, j.len, &s) && s.records == 2;
	journal_rings_free(&r);
	store_free(st);
	store_free(st2);
	buf_free(&b);
	buf_free(&j);
	return ok;
}

/* Unix clients: the table's used entries are collected; a CLIENT's
 * watch changes apply onto its list in order (RESET empties it, GONE
 * forgets the client); a client and a domain of the same number are
 * two entries; a removal outside a client and a client id that is no
 * socket's are refused. */
static int t_clients(void)
{
	struct buf j = BUF_INIT, b = BUF_INIT;
	struct journal_rings r = { 0 };
	struct journal_replay_stats s;
	struct journal_ring *e;
	struct store *st = store_new();
	uint32_t slot[2] = { 7, JOURNAL_CLIENT_IDLE }, got[2] = { 0, 0 };
	int ok = st && !journal_head(&j, 4);

	/* Slot 3 of 4 holds client 7, idle; the others are free. */
	memcpy(j.data + JOURNAL_HEAD_FIXED + 2 * 8, slot, sizeof(slot));
	ok = ok && !journal_op_client(&b, 7, JOURNAL_CLIENT_RESET, 40) &&
	     !journal_op_watch(&b, "/a", false, "t1") &&
	     !journal_op_watch(&b, "/b", true, "t2") &&
	     !journal_op_client(&b, 8, 0, 1) &&
	     !journal_op_watch(&b, "/c", false, "t3") &&
	     !journal_op_domain(&b, 7, DOMID_NONE, 0, 3) &&
	     !journal_record(&j, b.data, b.len);
	buf_reset(&b);
	ok = ok && !journal_op_client(&b, 7, 0, 41) &&
	     !journal_op_unwatch(&b, "/a", "t1") &&
	     !journal_op_client(&b, 8, JOURNAL_CLIENT_GONE, 0) &&
	     !journal_record(&j, b.data, b.len);
	ok = ok && !journal_replay_rings(st, j.data, j.len, &s, &r) && !s.bad_bytes &&
	     s.records == 2 && r.n == 2 && (e = journal_clients_find(&r, 7)) &&
	     e->txn_next == 41 && e->domid == 0 &&
	     e->watches.len == sizeof("0/a\0t1\0" "1/b\0t2\0" "-/a\0t1") &&
	     memcmp(e->watches.data, "0/a\0t1\0" "1/b\0t2\0" "-/a\0t1\0", e->watches.len) == 0 &&
	     !journal_clients_find(&r, 8) && journal_rings_find(&r, 7) &&
	     r.client_states.len == sizeof(got);
	if (ok)
		memcpy(got, r.client_states.data, sizeof(got));
	ok = ok && got[0] == 7 && got[1] == JOURNAL_CLIENT_IDLE;
	journal_rings_free(&r);
	store_free(st);
	buf_reset(&b);
	ok = ok && !journal_op_domain(&b, 5, DOMID_NONE, 0, 1) &&
	     !journal_op_unwatch(&b, "/a", "t") && hostile(b.data, b.len, "outside a client");
	buf_reset(&b);
	ok = ok && !journal_op_client(&b, 0x80000001u, 0, 1) &&
	     hostile(b.data, b.len, "invalid client");
	buf_free(&b);
	buf_free(&j);
	return ok;
}

/* A bad record stops the replay: later good ones are not applied. */
static int t_stops_at_bad_record(void)
{
	struct store *a = sample(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	size_t mid;
	const void *v;
	size_t len;
	int ok = !journal_snapshot(a, &j);

	ok = ok && !wr(a, &dom0, "/one", "1") && !flush_noted(a, &j);
	mid = j.len;
	ok = ok && !wr(a, &dom0, "/two", "2") && !flush_noted(a, &j);
	ok = ok && !wr(a, &dom0, "/three", "3") && !flush_noted(a, &j);
	/* Any byte of the body: the check covers it. */
	j.data[mid + JOURNAL_REC_HDR + 2] ^= 1;
	ok = ok && !replay_into_new(&j, &b, &s) && s.good_bytes == mid &&
	     !store_read(b, NULL, &dom0, "/one", &v, &len) &&
	     store_read(b, NULL, &dom0, "/two", &v, &len) == ENOENT &&
	     store_read(b, NULL, &dom0, "/three", &v, &len) == ENOENT;
	store_free(a);
	store_free(b);
	buf_free(&j);
	return ok;
}

/* Events that are no state ("@releaseDomain/<domid>") add nothing. */
static int t_stateless_special(void)
{
	struct store *st = store_new();
	struct buf body = BUF_INIT;
	int ok = st && !journal_note_paths(st, "@releaseDomain/5", 17, &body) &&
		 body.len == 0 && !journal_note_paths(st, "@releaseDomain", 15, &body) &&
		 body.len > 0;

	store_free(st);
	buf_free(&body);
	return ok;
}

static int t_no_magic(void)
{
	struct store *b = store_new();
	struct journal_replay_stats s;
	int ok = journal_replay(b, "NOTAJOURNAL", 11, &s) == EINVAL &&
		 journal_replay(b, "", 0, &s) == EINVAL;

	store_free(b);
	return ok;
}

static int has(struct store *st, const char *path)
{
	const void *v;
	size_t len;

	return store_read(st, NULL, &dom0, path, &v, &len) == 0;
}

/* A journal as the store process's mapping leaves it: records, then the
 * file's unused room, zero bytes.  That is a clean end; a zero length
 * followed by anything else is an unfinished record, rejected. */
static int t_zero_tail(void)
{
	struct store *a = sample(), *b = NULL;
	struct buf j = BUF_INIT;
	struct journal_replay_stats s;
	size_t end;
	int ok = !journal_snapshot(a, &j) && !wr(a, &dom0, "/late", "v") &&
		 !flush_noted(a, &j);

	end = j.len;
	for (size_t pad = 1; ok && pad <= 2 * JOURNAL_REC_HDR; pad++) {
		j.len = end;
		ok = !buf_append(&j, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", pad) &&
		     !replay_into_new(&j, &b, &s) && s.good_bytes == end &&
		     s.spare_bytes == pad && !s.bad_bytes && !s.why && s.records == 2 &&
		     same(a, b);
		store_free(b);
		b = NULL;
	}
	/* Room as a mapped journal has it; then one stray byte far in. */
	j.len = end;
	ok = ok && !buf_reserve(&j, 65536);
	if (ok) {
		memset(j.data + end, 0, 65536);
		j.len = end + 65536;
	}
	ok = ok && !replay_into_new(&j, &b, &s) && s.spare_bytes == 65536 &&
	     !s.bad_bytes && same(a, b);
	store_free(b);
	b = NULL;
	if (ok)
		j.data[end + 40000] = 1;
	ok = ok && !replay_into_new(&j, &b, &s) && s.good_bytes == end &&
	     !s.spare_bytes && s.bad_bytes == 65536 && s.why &&
	     strstr(s.why, "unfinished") && s.records == 2 && has(b, "/late");
	store_free(b);
	store_free(a);
	buf_free(&j);
	return ok;
}

/*
 * The last record torn at every point of journal_map_append()'s order:
 * its check and body bytes one by one (in either order), its length
 * last.  Until the length is there, the record is never applied and the
 * ones before stand; only the untouched state is a clean end.
 */
static int t_torn_write_order(void)
{
	struct store *a = sample(), *b = NULL;
	struct buf j = BUF_INIT, rec = BUF_INIT, torn = BUF_INIT;
	struct journal_replay_stats s;
	size_t end, body;
	int ok = !journal_snapshot(a, &j) && !wr(a, &dom0, "/one", "1") &&
		 !flush_noted(a, &j);

	end = j.len;
	ok = ok && !wr(a, &dom0, "/two/deep", "2") && !flush_noted(a, &rec);
	body = rec.len - JOURNAL_REC_HDR;
	for (int check = 0; ok && check < 2; check++) {
		for (size_t k = 0; ok && k <= body; k++) {
			buf_reset(&torn);
			ok = !buf_append(&torn, j.data, end) &&
			     !buf_reserve(&torn, rec.len + 64);
			if (!ok)
				break;
			memset(torn.data + end, 0, rec.len + 64);
			if (check)
				memcpy(torn.data + end + 4, rec.data + 4, 4);
			memcpy(torn.data + end + JOURNAL_REC_HDR,
			       rec.data + JOURNAL_REC_HDR, k);
			torn.len = end + rec.len + 64;
			ok = !replay_into_new(&torn, &b, &s) && s.good_bytes == end &&
			     s.records == 2 && has(b, "/one") && !has(b, "/two") &&
			     (s.bad_bytes == 0) == (!check && !k) &&
			     (s.spare_bytes == 0) == (check || k);
			store_free(b);
			b = NULL;
		}
	}
	/* The length stored: the record is whole. */
	if (ok)
		memcpy(torn.data + end, rec.data, 4);
	ok = ok && !replay_into_new(&torn, &b, &s) && s.records == 3 &&
	     !s.bad_bytes && s.spare_bytes == 64 && same(a, b);
	store_free(b);
	store_free(a);
	buf_free(&j);
	buf_free(&rec);
	buf_free(&torn);
	return ok;
}

/* The whole of fd, read as the next store process reads it. */
static int read_fd(int fd, struct buf *out)
{
	off_t end = lseek(fd, 0, SEEK_END);

	buf_reset(out);
	if (end < 0 || buf_reserve(out, (size_t)end) ||
	    pread(fd, out->data, (size_t)end, 0) != end)
		return -1;
	out->len = (size_t)end;
	return 0;
}

/*
 * The real writer: a snapshot in a sparse file sized ahead, records
 * stored through the mapping and seen through another descriptor (the
 * broker's) without msync, the file grown and remapped when they
 * outgrow it, never beyond its maximum; the broker's policy accepts it.
 */
static int t_mapped_journal(void)
{
	struct store *a = sample(), *b = NULL;
	struct buf snap = BUF_INIT, rec = BUF_INIT, in = BUF_INIT;
	struct journal_replay_stats s;
	struct journal_map m;
	struct policy_state ps = { .awaiting_hello = false };
	struct ipc_msg msg = { { IPC_JOURNAL, 0, IPC_F_FD, 0 }, NULL, -1 };
	const size_t max = 2 * JOURNAL_MAP_MIN;
	char val[4000], name[32];
	struct stat sb;
	int dup_fd = -1, err = 0, ok;
	size_t n = 0, len = 0;

	memset(val, 'v', sizeof(val));
	journal_map_init(&m);
	ok = !journal_snapshot(a, &snap) && !journal_map_new(&m, snap.data, snap.len, max);
	ok = ok && (dup_fd = dup(m.fd)) >= 0 && !fstat(dup_fd, &sb) &&
	     sb.st_size == JOURNAL_MAP_MIN && (size_t)sb.st_blocks * 512 < JOURNAL_MAP_MIN;
	msg.fd = dup_fd;
	ok = ok && policy_check(&ps, &msg) == 0;
	/* One record a write, until the file may grow no more. */
	while (ok && !err) {
		snprintf(name, sizeof(name), "/big/%zu", n);
		buf_reset(&rec);
		ok = !store_write(a, NULL, &dom0, name, val, sizeof(val), &sink) &&
		     !flush_noted(a, &rec);
		len = m.len;
		err = ok ? journal_map_append(&m, rec.data, rec.len) : 0;
		if (!err)
			n++;
	}
	ok = ok && err == EFBIG && m.len == len && m.size == max &&
	     n > JOURNAL_MAP_MIN / sizeof(val) && !fstat(dup_fd, &sb) &&
	     (size_t)sb.st_size == max && policy_check(&ps, &msg) == 0;
	/* Through the other descriptor: everything but the refused one. */
	ok = ok && !read_fd(dup_fd, &in) && !replay_into_new(&in, &b, &s) &&
	     s.good_bytes == len && s.spare_bytes == max - len && !s.bad_bytes &&
	     s.records == n + 1;
	snprintf(name, sizeof(name), "/big/%zu", n - 1);
	ok = ok && has(b, name) && has(b, "/vm/abc");
	snprintf(name, sizeof(name), "/big/%zu", n);
	ok = ok && !has(b, name);
	journal_map_close(&m);
	ok = ok && m.fd == -1 && !m.p;
	if (dup_fd >= 0)
		close(dup_fd);
	store_free(a);
	store_free(b);
	buf_free(&snap);
	buf_free(&rec);
	buf_free(&in);
	return ok;
}

/*
 * journal_map_append()'s order itself: a record placed so that its
 * length word ends one page and the rest starts the next, the first
 * page made read-only in a child.  The child dies storing the length;
 * the file must hold the check and body already, and a zero length.
 */
static int t_append_order(void)
{
	struct store *a = sample();
	struct buf snap = BUF_INIT, rec = BUF_INIT, in = BUF_INIT;
	struct journal_replay_stats s;
	struct store *b = NULL;
	struct journal_map m;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), off;
	int status = 0, ok;
	pid_t pid;

	journal_map_init(&m);
	ok = !journal_snapshot(a, &snap);
	/* 4 bytes before a page boundary past the snapshot: the length
	 * goes to the page made read-only below, the body past it. */
	off = (snap.len / page + 2) * page - 4;
	ok = ok && !journal_map_new(&m, snap.data, snap.len, JOURNAL_MAP_MIN) &&
	     !wr(a, &dom0, "/torn", "t") && !flush_noted(a, &rec);
	if (!ok)
		goto out;
	m.len = off;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		if (mprotect(m.p + off + 4 - page, page, PROT_READ) == 0)
			journal_map_append(&m, rec.data, rec.len);
		_exit(0);
	}
	ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	     WTERMSIG(status) == SIGSEGV && !read_fd(m.fd, &in) &&
	     zeros(in.data + off, 4) &&
	     memcmp(in.data + off + 4, rec.data + 4, rec.len - 4) == 0;
	ok = ok && !replay_into_new(&in, &b, &s) && s.good_bytes == snap.len &&
	     s.why && strstr(s.why, "unfinished") && !has(b, "/torn");
	store_free(b);
	b = NULL;
	/* Not killed, the same append ends with the length. */
	ok = ok && !journal_map_append(&m, rec.data, rec.len) && m.len == off + rec.len &&
	     !read_fd(m.fd, &in) && memcmp(in.data + off, rec.data, rec.len) == 0;
out:
	journal_map_close(&m);
	store_free(a);
	buf_free(&snap);
	buf_free(&rec);
	buf_free(&in);
	return ok;
}

/* The broker's IPC_JOURNAL row: a memfd, after HELLO, and nothing else. */
static int t_policy_row(void)
{
	struct policy_state st = { .awaiting_hello = false };
	struct ipc_msg m = { { IPC_JOURNAL, 0, IPC_F_FD, 0 }, NULL, -1 };
	int p[2], mfd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING), ok;
	char shm[64];

	if (mfd < 0 || pipe(p))
		return 0;
	m.fd = mfd;
	ok = policy_check(&st, &m) == 0;
	m.fd = p[0];
	ok = ok && policy_check(&st, &m) == EPERM;
	m.fd = -1;
	ok = ok && policy_check(&st, &m) == EPERM;
	/* A named tmpfs file answers F_GET_SEALS too, but is no memfd. */
	snprintf(shm, sizeof(shm), "/dev/shm/lixs-test-journal.%d", (int)getpid());
	m.fd = open(shm, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (m.fd >= 0) {
		ok = ok && policy_check(&st, &m) == EPERM;
		close(m.fd);
		unlink(shm);
	}
	m.fd = mfd;
	st.awaiting_hello = true;
	ok = ok && policy_check(&st, &m) == EPERM;
	close(mfd);
	close(p[0]);
	close(p[1]);
	return ok;
}

/* The offset of snapshot j's first compressed record, or 0. */
static size_t first_zipped(const struct buf *j)
{
	uint32_t nslots, len;
	size_t off;

	memcpy(&nslots, j->data + JOURNAL_MAGIC_LEN, sizeof(nslots));
	for (off = JOURNAL_HEAD_LEN(nslots); off + JOURNAL_REC_HDR <= j->len;) {
		memcpy(&len, j->data + off, sizeof(len));
		if (!len)
			break;
		if (len & JOURNAL_REC_ZSTD)
			return off;
		off += JOURNAL_REC_HDR + len;
	}
	return 0;
}

/*
 * A snapshot's records compressed (journal_zip.h): 500 alike domains take
 * far less, replay to the same store, and a compressed record whose bytes
 * are not what zstd wrote (its check fixed up, as a compromised store
 * could) ends the replay there as a bad tail.  LIXSJNL4 journals are read.
 */
static int t_zipped(void)
{
	struct store *a = store_new(), *b = NULL;
	struct buf plain = BUF_INIT, z = BUF_INIT;
	struct journal_replay_stats s;
	char path[96];
	uint32_t hdr[2], fnv = 2166136261u;
	size_t off = 0, head;
	int ok = a != NULL;

	for (int d = 1; ok && d <= 500; d++) {
		snprintf(path, sizeof(path), "/local/domain/%d/device/vif/0/state", d);
		ok &= wr(a, &dom0, path, "4") == 0;
		snprintf(path, sizeof(path), "/local/domain/%d/device/vif/0/backend", d);
		ok &= wr(a, &dom0, path, "/local/domain/0/backend/vif/1/0") == 0;
	}
	head = JOURNAL_HEAD_LEN(JOURNAL_CLIENT_SLOTS);
	ok &= !journal_snapshot(a, &plain) && !buf_append(&z, plain.data, plain.len) &&
	      !journal_zip_tail(&z, head);
	/* The records, not the head (the client table), shrink. */
	ok &= plain.len > head && (z.len - head) * 4 < plain.len - head &&
	      (off = first_zipped(&z)) != 0;
	ok &= !replay_into_new(&z, &b, &s) && s.bad_bytes == 0 && s.good_bytes == z.len &&
	      same(a, b);
	store_free(b);
	b = NULL;
	/* One byte changed, the check made to match: in the middle of the
	 * frame (the body comes out other than written) and in its magic
	 * (no zstd frame at all). */
	memcpy(hdr, z.data + off, sizeof(hdr));
	for (int pass = 0; ok && pass < 2; pass++) {
		size_t n = hdr[0] & ~JOURNAL_REC_ZSTD;

		z.data[off + JOURNAL_REC_HDR + (pass ? 0 : n / 2)] ^= 0x55;
		fnv = 2166136261u;
		for (size_t k = 0; k < n; k++)
			fnv = (fnv ^ (unsigned char)z.data[off + JOURNAL_REC_HDR + k]) * 16777619u;
		memcpy(z.data + off + 4, &fnv, sizeof(fnv));
		ok &= !replay_into_new(&z, &b, &s) && s.bad_bytes == z.len - off && s.why &&
		      (!pass || !strcmp(s.why, "bad compressed record"));
		store_free(b);
		b = NULL;
	}
	/* The layout before, LIXSJNL4, is this one without compressed records. */
	memcpy(plain.data, JOURNAL_MAGIC_V4, JOURNAL_MAGIC_LEN);
	ok &= !replay_into_new(&plain, &b, &s) && s.bad_bytes == 0 && same(a, b);
	store_free(a);
	store_free(b);
	buf_free(&plain);
	buf_free(&z);
	return ok;
}

static const struct unit_case tests[] = {
	{ "a snapshot's records compressed: smaller, the same store, damage stops it", t_zipped },
	{ "a record framed in place is journal_record()'s", t_record_in_place },
	{ "paths are front-coded, and come back whole", t_front_coding },
	{ "a PUT with the previous PUT's perms says so in one bit", t_same_perms_compact },
	{ "perms coded against the previous PUT come back exactly", t_perms_coding_roundtrip },
	{ "an LIXSJNL2 journal is still restored", t_reads_v2 },
	{ "an LIXSJNL3 journal is still restored", t_reads_v3 },
	{ "a WRITE journals the ancestors it made, once", t_ancestors_once },
	{ "broker policy for IPC_JOURNAL", t_policy_row },
	{ "snapshot replays to the same store", t_snapshot_roundtrip },
	{ "change records after a snapshot", t_records_after_snapshot },
	{ "a commit is one record", t_commit_record },
	{ "a change record codes each path against the one before", t_change_record_coded },
	{ "a change record finds each path from the one before", t_change_record_walks },
	{ "a snapshot compressed as it is cut replays the same", t_zipped_snapshot },
	{ "truncated at every byte", t_truncated },
	{ "every byte flipped", t_flipped_bytes },
	{ "zero tail is the clean end", t_zero_tail },
	{ "a record torn at every point of its write order", t_torn_write_order },
	{ "mapped journal: sparse, grown, seen through a dup", t_mapped_journal },
	{ "mapped append stores its length last", t_append_order },
	{ "hostile fields with matching checks", t_hostile_fields },
	{ "replay stops at the first bad record", t_stops_at_bad_record },
	{ "ring states: last wins, gone forgets", t_rings },
	{ "client states: the table, watch changes in order, gone forgets", t_clients },
	{ "no magic, no journal", t_no_magic },
	{ "special events without state", t_stateless_special },
};

UNIT_MAIN("journal")
