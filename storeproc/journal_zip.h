/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal_zip.h - a snapshot's records stored zstd-compressed
 * (journal.h's JOURNAL_REC_ZSTD), and their bodies read back.
 *
 * A snapshot is the whole tree again, most of a journal's bytes; its
 * records are cut at JOURNAL_SNAP_CHUNK, and the nodes of one domain
 * repeat the names, values and perms of the next (xsbench's domain
 * creation: 16 times smaller).  The records appended after it stay
 * plain: each is small, and a request's reply waits for it.
 */
#ifndef LIXS_JOURNAL_ZIP_H
#define LIXS_JOURNAL_ZIP_H

#include <stddef.h>

#include "buf.h"

/* Records of at least this many body bytes are compressed. */
#define JOURNAL_ZIP_MIN 4096u

/* A compression context kept across a snapshot's records. */
struct journal_zipper {
	struct ZSTD_CCtx_s *cctx;
	struct buf room;	/* one compressed body */
};

/* 0 or ENOMEM; journal_zipper_fini() is safe after either. */
int journal_zipper_init(struct journal_zipper *z);
void journal_zipper_fini(struct journal_zipper *z);

/*
 * Frame body[0..len) as one record onto `out`: compressed when it has
 * JOURNAL_ZIP_MIN bytes or more and compressing makes it smaller, else
 * plain.  0, ENOMEM or E2BIG.
 */
int journal_zip_record(struct journal_zipper *z, struct buf *out,
		       const void *body, size_t len);

/*
 * Rewrite the records of `snap` from offset `from` (where one starts) on,
 * in place, storing each plain record body of JOURNAL_ZIP_MIN bytes or
 * more compressed where that is smaller; the bytes before `from` stay as
 * they are, uncopied.  0 or ENOMEM (snap is then unchanged).
 */
int journal_zip_tail(struct buf *snap, size_t from);

/*
 * The body a compressed record holds (its stored bytes zip[0..len)),
 * into `out` (reset first).  0; EINVAL when the bytes are not one zstd
 * frame that gives its content size, at most JOURNAL_REC_MAX, and holds
 * exactly that many bytes; ENOMEM.
 */
int journal_unzip(const void *zip, size_t len, struct buf *out);

#endif
