/* SPDX-License-Identifier: GPL-2.0-only */
/* journal_zip.c - see journal_zip.h. */
#include "journal_zip.h"

#include <errno.h>
#include <string.h>
#include <zstd.h>

#include "journal.h"

/* zstd's fastest level: a snapshot holds the store process up while it
 * is taken, and its records are alike enough for it. */
#define ZIP_LEVEL 1

int journal_zipper_init(struct journal_zipper *z)
{
	z->room = (struct buf)BUF_INIT;
	z->cctx = ZSTD_createCCtx();
	return z->cctx ? 0 : ENOMEM;
}

void journal_zipper_fini(struct journal_zipper *z)
{
	ZSTD_freeCCtx(z->cctx);
	z->cctx = NULL;
	buf_free(&z->room);
}

int journal_zip_record(struct journal_zipper *z, struct buf *out,
		       const void *body, size_t len)
{
	size_t n = 0;
	int err;

	if (len > JOURNAL_REC_MAX)
		return E2BIG;
	if (len >= JOURNAL_ZIP_MIN) {
		err = buf_reserve(&z->room, ZSTD_compressBound(len));
		if (err)
			return err;
		n = ZSTD_compressCCtx(z->cctx, z->room.data, z->room.cap, body, len,
				      ZIP_LEVEL);
		if (ZSTD_isError(n) || n >= len)
			n = 0;	/* stored plain */
	}
	return n ? journal_record_zipped(out, z->room.data, n) :
		   journal_record(out, body, len);
}

int journal_zip_tail(struct buf *snap, size_t from)
{
	struct buf tail = BUF_INIT;
	const unsigned char *p = (const unsigned char *)snap->data;
	struct journal_zipper z;
	size_t off;
	int err = journal_zipper_init(&z);

	for (off = from; !err && snap->len - off >= JOURNAL_REC_HDR;) {
		uint32_t word = journal_get_u32(p + off), len = word & ~JOURNAL_REC_ZSTD;

		if (len > snap->len - off - JOURNAL_REC_HDR)
			break;  /* cannot be: journal_record() framed it */
		/* Records already compressed, or too small to be, as they are. */
		if ((word & JOURNAL_REC_ZSTD) || len < JOURNAL_ZIP_MIN)
			err = buf_append(&tail, p + off, JOURNAL_REC_HDR + len);
		else
			err = journal_zip_record(&z, &tail, p + off + JOURNAL_REC_HDR, len);
		off += JOURNAL_REC_HDR + len;
	}
	if (!err && off < snap->len)
		err = buf_append(&tail, p + off, snap->len - off);
	journal_zipper_fini(&z);
	/* The tail is never longer than it was: it fits where it was. */
	if (!err && tail.len)
		memcpy(snap->data + from, tail.data, tail.len);
	if (!err)
		snap->len = from + tail.len;
	buf_free(&tail);
	return err;
}

int journal_unzip(const void *zip, size_t len, struct buf *out)
{
	unsigned long long size = ZSTD_getFrameContentSize(zip, len);
	size_t n;
	int err;

	buf_reset(out);
	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
	    size > JOURNAL_REC_MAX || ZSTD_findFrameCompressedSize(zip, len) != len)
		return EINVAL;
	if ((err = buf_reserve(out, (size_t)size ? (size_t)size : 1)))
		return err;
	n = ZSTD_decompress(out->data, (size_t)size, zip, len);
	if (ZSTD_isError(n) || n != size)
		return EINVAL;
	out->len = n;
	return 0;
}
