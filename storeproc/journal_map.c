/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal_map.c - the journal memfd written through a shared mapping
 * (journal_map.h).
 *
 * No msync anywhere, on purpose: the view maps the memfd's own shmem
 * pages, the very pages the broker's descriptor names.  A store to the
 * view is in the file the moment it is made, for every descriptor and
 * for the pread of the next store process; there is no disk behind it
 * to write back to.  What a killed store process loses is only what it
 * had not stored yet.
 */
#include "journal_map.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void journal_map_init(struct journal_map *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

void journal_map_close(struct journal_map *m)
{
	if (m->p)
		munmap(m->p, m->size);
	if (m->fd >= 0)
		close(m->fd);
	journal_map_init(m);
}

/*
 * Make the file and the view at least `need` bytes: the size doubles
 * (from JOURNAL_MAP_MIN) so appends rarely pay for a syscall.  The new
 * bytes are holes: they cost no memory until written, and read as zero,
 * which is the clean end the replay expects after the last record.
 */
static int grow(struct journal_map *m, size_t need)
{
	size_t size = m->size ? m->size : JOURNAL_MAP_MIN;
	void *p;

	if (need > m->max)
		return EFBIG;
	while (size < need && size < m->max)
		size *= 2;
	if (size > m->max)
		size = m->max;
	/* The file first: a view must not reach past its end (SIGBUS). */
	if (ftruncate(m->fd, (off_t)size))
		return errno;
	if (m->p)
		p = mremap(m->p, m->size, size, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	/* On failure the file may be longer than the view: harmless, the
	 * rest is zeros and the next grow sizes it again. */
	if (p == MAP_FAILED)
		return errno;
	m->p = p;
	m->size = size;
	return 0;
}

int journal_map_new(struct journal_map *m, const void *snap, size_t len,
		    size_t max)
{
	int err;

	journal_map_init(m);
	m->max = max;
	m->fd = memfd_create("lixs-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m->fd < 0)
		return errno;
	/* Room for as much again as the snapshot: the journal is replaced
	 * by a new snapshot at about twice its size (journal_io.c). */
	err = grow(m, len > max / 2 ? len : 2 * len);
	if (err) {
		journal_map_close(m);
		return err;
	}
	memcpy(m->p, snap, len);
	m->len = len;
	return 0;
}

int journal_map_append(struct journal_map *m, const void *rec, size_t n)
{
	const unsigned char *r = rec;
	unsigned char *dst;
	int err;

	if (n <= sizeof(uint32_t))
		return EINVAL;
	if (n > m->size - m->len) {
		err = grow(m, m->len + n);
		if (err)
			return err;
	}
	dst = m->p + m->len;
	/* The check and the body, into bytes that are still zero. */
	memcpy(dst + sizeof(uint32_t), r + sizeof(uint32_t), n - sizeof(uint32_t));
	/*
	 * Then the length, which makes them a record: the fence keeps the
	 * compiler (and a weakly ordered CPU) from storing it before the
	 * rest.  Records are not 4-byte aligned, so the length goes with
	 * memcpy (one store on the architectures Xen runs on), not with an
	 * __atomic_store_n that would need alignment; should it ever be
	 * split, a partly stored length only fails the record's length or
	 * check test at replay, and nothing of it is applied.
	 */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(dst, r, sizeof(uint32_t));
	m->len += n;
	return 0;
}
