/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal_map.h - a journal memfd (journal.h) written through a shared
 * mapping: records are appended with stores to memory, not with a
 * syscall each, and each becomes valid at one instant
 * (docs/RESTART.md, "What is written, and when").
 *
 * The file is sized ahead with ftruncate; what lies past the records is
 * zero bytes, which the replay takes as the journal's clean end.
 */
#ifndef LIXS_JOURNAL_MAP_H
#define LIXS_JOURNAL_MAP_H

#include <stddef.h>

/* The first size of a journal file; it doubles from there. */
#define JOURNAL_MAP_MIN (1u << 20)

struct journal_map {
	int fd;			/* the memfd, or -1; owned */
	unsigned char *p;	/* MAP_SHARED view of all its size bytes; owned */
	size_t size;		/* the file's size (= the view's) */
	size_t len;		/* bytes in use: the magic and whole records */
	size_t max;		/* never grown beyond this many bytes */
};

/* A map holding nothing (fd -1), which journal_map_close() accepts. */
void journal_map_init(struct journal_map *m);

/*
 * A fresh memfd holding `snap` (a whole snapshot, magic first) and room
 * to append, at most `max` bytes in all (IPC_JOURNAL_MAX).  0, EFBIG
 * when the snapshot does not fit, or the errno of a failed syscall.
 */
int journal_map_new(struct journal_map *m, const void *snap, size_t len,
		    size_t max);

/*
 * Append the framed record rec[0..n) (journal_record(): its u32 length
 * first).  Everything but that length is stored first, the length last,
 * so a process killed at any instant leaves either a zero length (the
 * clean end) or the whole record.  0, EFBIG when the file would grow
 * beyond max, or the errno of ftruncate/mremap (nothing appended).
 */
int journal_map_append(struct journal_map *m, const void *rec, size_t n);

/* Unmap and close; m is then as after journal_map_init(). */
void journal_map_close(struct journal_map *m);

#endif
