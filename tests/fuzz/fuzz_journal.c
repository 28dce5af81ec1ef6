/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_journal.c - libFuzzer target for the store journal's replay
 * (storeproc/journal.c): the bytes a dead, perhaps compromised, store
 * process left in the memfd are handed to its successor, which must
 * survive anything in them.
 *
 * Input: the journal bytes.  With its first byte even, the input is
 * taken as it is (magic included, so most inputs stop at the magic);
 * odd, JOURNAL_MAGIC and an empty client table are put in front of the
 * rest, so the fuzzer works on records.  Properties besides the
 * sanitizers: replay returns 0, EINVAL only without the magic and a
 * whole client table, or ENOMEM; good + spare + bad bytes
 * cover the input; and what a replay built is kept whole by a snapshot: replaying
 * the snapshot of the replayed store into a fresh store gives the same
 * snapshot again, with no bad tail, and so does that snapshot with its
 * records compressed (journal_zip.h), and so does one change record
 * that notes every node (journal_note_paths).  The ring and client states
 * (JOURNAL_DOMAIN, JOURNAL_CLIENT, JOURNAL_WATCH) are collected as the
 * store process does, and must be within bounds, one a domid or
 * connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "journal.h"
#include "journal_zip.h"

/* The client table's size a journal head says it has. */
static uint32_t nslots_of(const struct buf *in)
{
	uint32_t n;

	memcpy(&n, in->data + JOURNAL_MAGIC_LEN, sizeof(n));
	return n;
}

/* snap replayed into a fresh store gives snap again, with no bad tail. */
static void replays_to(const struct buf *in, const struct buf *snap)
{
	struct buf again = { 0 };
	struct journal_replay_stats stats;
	struct store *copy = store_new();

	if (!copy)
		return;
	FUZZ_ASSERT(journal_replay(copy, in->data, in->len, &stats) == 0);
	FUZZ_ASSERT(stats.bad_bytes == 0 && stats.good_bytes == in->len);
	if (!journal_snapshot(copy, &again))
		FUZZ_ASSERT(again.len == snap->len &&
			    memcmp(again.data, snap->data, snap->len) == 0);
	store_free(copy);
	buf_free(&again);
}

/* store_each_node(): every node's path onto the list in ctx. */
static int list_path(void *ctx, const char *path, size_t pathlen, size_t shared,
		     const struct perm_list *perms, const void *val, size_t vlen)
{
	(void)shared;
	(void)perms;
	(void)val;
	(void)vlen;
	return buf_append(ctx, path, pathlen + 1);
}

/*
 * Every node noted as a change, in pre-order (so each path is found from
 * the one before by climbing and descending, and coded against it), then
 * the special nodes: that one record alone rebuilds the store.
 */
static void change_record(struct store *st, const struct buf *snap)
{
	struct buf paths = { 0 }, body = { 0 }, j = { 0 };

	if (!store_each_node(st, list_path, &paths) &&
	    !buf_append_str0(&paths, "@introduceDomain") &&
	    !buf_append_str0(&paths, "@releaseDomain") &&
	    !journal_head(&j, JOURNAL_CLIENT_SLOTS) &&
	    !journal_note_paths(st, paths.data, paths.len, &body) &&
	    !journal_record(&j, body.data, body.len))
		replays_to(&j, snap);
	buf_free(&paths);
	buf_free(&body);
	buf_free(&j);
}

static void roundtrip(struct store *st)
{
	struct buf snap = { 0 }, zipped = { 0 }, streamed = { 0 };
	size_t plain;

	if (journal_snapshot(st, &snap))
		goto out;
	replays_to(&snap, &snap);
	/* The same, its records compressed afterwards, and as the store
	 * process takes them: each compressed as it is cut. */
	if (!buf_append(&zipped, snap.data, snap.len) &&
	    !journal_zip_tail(&zipped, JOURNAL_HEAD_LEN(JOURNAL_CLIENT_SLOTS)))
		replays_to(&zipped, &snap);
	if (!journal_snapshot_zipped(st, &streamed, &plain)) {
		FUZZ_ASSERT(plain == snap.len);
		replays_to(&streamed, &snap);
	}
	change_record(st, &snap);
out:
	buf_free(&snap);
	buf_free(&zipped);
	buf_free(&streamed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_replay_stats stats;
	struct journal_rings rings = { 0 };
	struct buf in = { 0 };
	struct store *st;
	int err;

	if (!size)
		return 0;
	if (data[0] & 1) {
		if (journal_head(&in, 0) ||
		    buf_append(&in, data + 1, size - 1))
			goto out;
	} else if (buf_append(&in, data, size)) {
		goto out;
	}
	st = store_new();
	if (!st)
		goto out;
	err = journal_replay_rings(st, in.data, in.len, &stats, &rings);
	FUZZ_ASSERT(err == 0 || err == EINVAL || err == ENOMEM);
	if (err == EINVAL)
		FUZZ_ASSERT(in.len < JOURNAL_HEAD_FIXED ||
			    memcmp(in.data, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN) != 0 ||
			    nslots_of(&in) > JOURNAL_CLIENT_SLOTS ||
			    in.len < JOURNAL_HEAD_LEN(nslots_of(&in)));
	if (!err) {
		FUZZ_ASSERT(stats.good_bytes + stats.spare_bytes + stats.bad_bytes ==
			    in.len);
		FUZZ_ASSERT(!stats.bad_bytes == !stats.why);
		roundtrip(st);
	}
	/* Every ring state is one a JOURNAL_DOMAIN could carry. */
	for (size_t i = 0; i < rings.n; i++) {
		const struct journal_ring *e = &rings.v[i];

		FUZZ_ASSERT(e->domid < 0x7ff0u && !(e->flags & JOURNAL_DOM_GONE));
		FUZZ_ASSERT(!e->watches.len || e->watches.data[e->watches.len - 1] == '\0');
		/* One entry a domid, one a unix connection. */
		for (size_t j = i + 1; j < rings.n; j++)
			FUZZ_ASSERT(e->client ? rings.v[j].client != e->client :
				    rings.v[j].client || rings.v[j].domid != e->domid);
		FUZZ_ASSERT(e->client < 0x80000000u && (!e->client || !e->domid));
	}
	journal_rings_free(&rings);
	store_free(st);
out:
	buf_free(&in);
	return 0;
}
