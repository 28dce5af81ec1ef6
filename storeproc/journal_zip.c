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

int journal_zip(struct buf *snap)
{
	struct buf out = BUF_INIT, body = BUF_INIT;
	const unsigned char *p = (const unsigned char *)snap->data;
	size_t off, head;
	ZSTD_CCtx *cctx;
	int err = 0;

	if (snap->len < JOURNAL_HEAD_FIXED)
		return 0;
	head = JOURNAL_HEAD_LEN(journal_get_u32(p + JOURNAL_MAGIC_LEN));
	if (head > snap->len || !(cctx = ZSTD_createCCtx()))
		return head > snap->len ? 0 : ENOMEM;
	err = buf_append(&out, p, head);
	for (off = head; !err && snap->len - off >= JOURNAL_REC_HDR;) {
		uint32_t len = journal_get_u32(p + off) & ~JOURNAL_REC_ZSTD;
		const unsigned char *b = p + off + JOURNAL_REC_HDR;
		size_t n = 0;

		if (len > snap->len - off - JOURNAL_REC_HDR)
			break;  /* cannot be: journal_record() framed it */
		if (len >= JOURNAL_ZIP_MIN && !(journal_get_u32(p + off) & JOURNAL_REC_ZSTD) &&
		    !(err = buf_reserve(&body, ZSTD_compressBound(len)))) {
			n = ZSTD_compressCCtx(cctx, body.data, body.cap, b, len, ZIP_LEVEL);
			if (ZSTD_isError(n) || n >= len)
				n = 0;  /* stored plain */
		}
		if (!err)
			err = n ? journal_record_zipped(&out, body.data, n)
				: buf_append(&out, p + off, JOURNAL_REC_HDR + len);
		off += JOURNAL_REC_HDR + len;
	}
	if (!err)
		err = buf_append(&out, p + off, snap->len - off);
	ZSTD_freeCCtx(cctx);
	buf_free(&body);
	if (err) {
		buf_free(&out);
		return err;
	}
	buf_free(snap);
	*snap = out;
	return 0;
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
