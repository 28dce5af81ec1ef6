/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal_io.c - the running store process's journal: records appended
 * to a memfd before acknowledgements leave, snapshots handed to the
 * broker, replay at start (journal_io.h, docs/RESTART.md).
 */
#include "journal_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "storeproc.h"

/* Snapshots are not worth taking for journals smaller than this. */
#define SNAP_MIN_BYTES (256u * 1024)

void journal_state_init(struct journal_state *js)
{
	memset(js, 0, sizeof(*js));
	js->fd = -1;
}

void journal_state_fini(struct journal_state *js)
{
	if (js->active)
		close(js->fd);
	js->active = false;
	js->fd = -1;
	buf_free(&js->dirty);
}

void journal_sink(void *ctx, const struct store_event *ev)
{
	struct storeproc *sp = ctx;

	if (sp->journal.active && buf_append_str0(&sp->journal.dirty, ev->path)) {
		/* The record would be incomplete: a snapshot covers it. */
		log_err("journal: no memory to note %s; taking a snapshot", ev->path);
		sp->journal.snap_due = true;
	}
	ops_watch_sink(ctx, ev);
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t k = write(fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? errno : EIO;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A fresh memfd holding a snapshot of the store, and its size. */
static int snapshot_fd(struct storeproc *sp, int *fdp, size_t *size)
{
	struct buf snap = BUF_INIT;
	int fd, err = journal_snapshot(sp->store, &snap);

	if (!err && snap.len > IPC_JOURNAL_MAX)
		err = EFBIG;
	fd = err ? -1 : memfd_create("lixs-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (!err && fd < 0)
		err = errno;
	if (!err)
		err = write_all(fd, snap.data, snap.len);
	if (err && fd >= 0)
		close(fd);
	*fdp = err ? -1 : fd;
	*size = snap.len;
	buf_free(&snap);
	return err;
}

/*
 * Hand the broker a new snapshot.  Only once the frame is in the socket
 * do records go to the new memfd: until then the broker's copy is the
 * old one, and the old one stays complete.
 */
static void take_snapshot(struct storeproc *sp)
{
	struct journal_state *js = &sp->journal;
	size_t size;
	int fd, err = snapshot_fd(sp, &fd, &size);

	if (!err)
		err = ipc_send(sp->ipc_fd, IPC_JOURNAL, 0, NULL, 0, fd);
	if (err) {
		if (fd >= 0)
			close(fd);
		/* EAGAIN: the socket is full; the next flush tries again. */
		if (err != EAGAIN)
			log_err("journal: cannot hand over a snapshot: %s", strerror(err));
		js->snap_due = true;
		return;
	}
	if (js->active)
		close(js->fd);
	js->active = true;
	js->fd = fd;
	js->bytes = js->snap_bytes = size;
	js->snap_due = false;
	log_debug("journal: snapshot of %zu bytes handed to the broker", size);
}

void journal_flush(struct storeproc *sp)
{
	struct journal_state *js = &sp->journal;
	struct buf body = BUF_INIT, rec = BUF_INIT;
	int err = 0;

	if (!js->active) {
		/* Nothing to append to before the first snapshot is out. */
		buf_reset(&js->dirty);
		if (js->snap_due)
			take_snapshot(sp);
		return;
	}
	for (size_t off = 0; !err && off < js->dirty.len;) {
		const char *name = js->dirty.data + off;

		err = journal_note_path(sp->store, name, &body);
		off += strlen(name) + 1;
	}
	buf_reset(&js->dirty);
	if (!err && body.len)
		err = journal_record(&rec, body.data, body.len);
	if (!err && rec.len)
		err = write_all(js->fd, rec.data, rec.len);
	if (err) {
		/* The change stands in memory; only a snapshot saves it now. */
		log_err("journal: cannot append a record: %s; taking a snapshot",
			strerror(err));
		js->snap_due = true;
	} else {
		js->bytes += rec.len;
	}
	buf_free(&body);
	buf_free(&rec);
	/* A released or dead domain leaves the perms of other nodes without
	 * firing events (4.17's write_node_raw); only a snapshot keeps that. */
	if (sp->domains.count < js->domains_seen)
		js->snap_due = true;
	js->domains_seen = sp->domains.count;
	if (js->bytes > 2 * js->snap_bytes && js->bytes > SNAP_MIN_BYTES)
		js->snap_due = true;
	if (js->snap_due)
		take_snapshot(sp);
}

/* The whole of the broker's memfd, read from offset 0. */
static int read_journal(int fd, struct buf *out)
{
	off_t end = lseek(fd, 0, SEEK_END);
	size_t got = 0;
	int err;

	if (end < 0)
		return errno;
	if ((unsigned long long)end > IPC_JOURNAL_MAX)
		return EFBIG;
	err = buf_reserve(out, (size_t)end);
	while (!err && got < (size_t)end) {
		ssize_t k = pread(fd, out->data + got, (size_t)end - got, (off_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;	/* shrunk under us: replay what is there */
		got += (size_t)k;
	}
	out->len = got;
	return err;
}

void journal_restore_frame(struct storeproc *sp, const struct ipc_msg *msg)
{
	struct journal_replay_stats st;
	struct buf data = BUF_INIT;
	int err;

	if (msg->fd >= 0) {
		err = read_journal(msg->fd, &data);
		close(msg->fd);
		if (!err)
			err = journal_replay(sp->store, data.data, data.len, &st);
		if (err)
			log_err("journal: cannot restore: %s; starting empty",
				strerror(err));
		else if (st.bad_bytes)
			log_err("journal: restored %zu records (%zu operations); "
				"rejected the last %zu bytes: %s", st.records,
				st.ops, st.bad_bytes, st.why);
		else
			log_info("journal: restored %zu records (%zu operations)",
				 st.records, st.ops);
		buf_free(&data);
	}
	/* From here on everything committed is journaled. */
	sp->journal.snap_due = true;
	take_snapshot(sp);
	if (!sp->journal.active)
		log_err("journal: no snapshot handed over; changes are not kept "
			"across a restart until one is");
}
