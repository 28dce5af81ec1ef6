/* SPDX-License-Identifier: GPL-2.0-only */
/* policy.c - the broker's allow-table and identity table; see policy.h. */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <xen/io/xs_wire.h>

static int check_hello(const struct policy_state *st, const struct ipc_msg *msg)
{
	struct ipc_hello h;

	/* A second HELLO would mean the store process restarted itself. */
	if (!st->awaiting_hello)
		return EPERM;
	return ipc_hello_decode(msg, &h) ? EINVAL : 0;
}

/* conn is a ring connection the store process was told about; EPERM if not. */
static int ring_of(const struct policy_state *st, const struct ipc_msg *msg,
		   struct policy_ring *r)
{
	if (st->awaiting_hello || !st->oracle)
		return EPERM;
	return st->oracle->ring(st->oracle->ctx, msg->hdr.conn, r) ? EPERM : 0;
}

static int check_reply_data(const struct policy_state *st, const struct ipc_msg *msg)
{
	struct policy_ring r;

	if (ring_of(st, msg, &r))
		return EPERM;
	/* The window bounds what the broker queues for a guest that never reads. */
	return msg->hdr.len > IPC_RING_WINDOW - r.reply_unacked ? EPERM : 0;
}

static int check_credit(const struct policy_state *st, const struct ipc_msg *msg)
{
	struct policy_ring r;
	uint32_t n;

	if (ring_of(st, msg, &r))
		return EPERM;
	memcpy(&n, msg->payload, sizeof(n));
	/* Crediting bytes it was never sent would let a guest flood the store
	 * (credit is IPC_RING_WINDOW less the bytes this store process was
	 * sent and has not credited); reply bytes riding along obey
	 * REPLY_DATA's window. */
	return n > IPC_RING_WINDOW - r.credit ||
	       msg->hdr.len - sizeof(n) > IPC_RING_WINDOW - r.reply_unacked ? EPERM : 0;
}

static int check_unmap(const struct policy_state *st, const struct ipc_msg *msg)
{
	struct policy_ring r;

	/* dom0's kernel ring lives as long as the broker. */
	return ring_of(st, msg, &r) || !r.guest ? EPERM : 0;
}

static int check_ring_break(const struct policy_state *st, const struct ipc_msg *msg)
{
	struct policy_ring r;
	uint32_t err;

	if (ring_of(st, msg, &r))
		return EPERM;
	memcpy(&err, msg->payload, sizeof(err));
	/* Only the codes xenstore-ring.txt defines: 0 would break nothing. */
	return err < XENSTORE_ERROR_COMM || err > XENSTORE_ERROR_PROTO ? EINVAL : 0;
}

static int check_ring_map(const struct policy_state *st, const struct ipc_msg *msg)
{
	(void)msg;
	/* The domain rules are answered, not punished: see policy_ring_map. */
	return st->awaiting_hello ? EPERM : 0;
}

static int check_journal(const struct policy_state *st, const struct ipc_msg *msg)
{
	struct stat sb;

	if (st->awaiting_hello || msg->fd < 0)
		return EPERM;
	/* Only shmem files answer F_GET_SEALS (never a socket, pipe or disk
	 * file); of those, a memfd has no name (a tmpfs log file has one). */
	if (fcntl(msg->fd, F_GET_SEALS) < 0 || fstat(msg->fd, &sb) ||
	    !S_ISREG(sb.st_mode) || sb.st_nlink != 0 ||
	    sb.st_size > (off_t)IPC_JOURNAL_MAX)
		return EPERM;
	return 0;
}

int policy_ring_map(const struct policy_state *st, const struct ipc_ring_map *rm,
		    struct policy_domain *d)
{
	int ret;

	if (rm->domid == 0 || rm->domid >= POLICY_DOMID_LIMIT || rm->port == 0)
		return EINVAL;
	if (!st->oracle)
		return ENOSYS;
	ret = st->oracle->domain(st->oracle->ctx, rm->domid, d);
	if (ret)
		return ret;
	if (d->mapped)
		return EEXIST;
	return d->exists && !d->dying ? 0 : ENOENT;
}

int policy_ring_remap(const struct policy_state *st, uint32_t domid,
		      const uint8_t handle[16])
{
	struct policy_domain d;
	int ret;

	if (!st->oracle)
		return ENOSYS;
	ret = st->oracle->domain(st->oracle->ctx, domid, &d);
	if (ret)
		return ret;
	/* Another handle: the domid names another domain now. */
	return d.exists && !d.dying && !memcmp(d.handle, handle, sizeof(d.handle)) ? 0 : ESRCH;
}

static const struct policy_row policy_rows[] = {
	{ IPC_HELLO,
	  "the broker is waiting for this store process to start; "
	  "version == IPC_PROTO_VERSION",
	  "start serving: create the sockets (first start) or resume accepting",
	  check_hello },
	{ IPC_REPLY_DATA,
	  "conn names a ring connection the store was told about; its "
	  "unacknowledged reply bytes stay within IPC_RING_WINDOW",
	  "queue the bytes, copy them into that ring as it has room, notify the guest",
	  check_reply_data },
	{ IPC_RING_MAP,
	  "sent after HELLO; then (answered with RING_RESULT err, the store is not "
	  "ended) domid in 1..0x7fef, port non-zero, the domain exists "
	  "(xc_domain_getinfolist), is not dying, is not mapped yet",
	  "map grant ref GNTTAB_RESERVED_XENSTORE of domid (else, for HVM/PVH, a "
	  "foreign map of gfn only if it is the domain's HVM_PARAM_STORE_PFN), "
	  "bind its port, reset the ring, write connection = 0, notify",
	  check_ring_map },
	{ IPC_RING_UNMAP,
	  "conn names a guest's ring connection the store was told about "
	  "(never dom0's kernel ring)",
	  "unbind its event channel, unmap its page, forget it",
	  check_unmap },
	{ IPC_CONN_CREDIT,
	  "conn names a ring connection the store was told about; it answers "
	  "no more request bytes than it was sent and has not answered yet; "
	  "reply bytes after the count stay within REPLY_DATA's window",
	  "forget that many held request bytes; copy up to that many more "
	  "from its ring; reply bytes after the count as REPLY_DATA",
	  check_credit },
	{ IPC_JOURNAL,
	  "sent after HELLO with one fd that is a memfd (fcntl F_GET_SEALS "
	  "succeeds; fstat: a regular file with no link, of at most "
	  "IPC_JOURNAL_MAX bytes)",
	  "hold the fd, never reading or mapping it, instead of the one held "
	  "before (closed); pass it to the next store process with "
	  "JOURNAL_RESTORE",
	  check_journal },
	{ IPC_RING_BREAK,
	  "conn names a ring connection the store was told about (dom0's too); "
	  "the payload is one of XENSTORE_ERROR_COMM, _RINGIDX, _PROTO",
	  "write that code to the ring's error field and stop serving it, as "
	  "4.17's ignored connection; answer CONN_GONE; unmapped only by RING_UNMAP",
	  check_ring_break },
	{ IPC_RING_IDLE,
	  "conn names a guest's ring connection the store was told about "
	  "(never dom0's kernel ring); empty",
	  "only if its page is a grant, nothing is held or queued for it, its "
	  "request ring is read to the end and VIRQ_DOM_EXC is watched: unmap "
	  "the page, keep the event channel bound; map it again at the guest's "
	  "next event or the next frame for it, unless a VIRQ_DOM_EXC scan saw "
	  "its domain end, checked with policy_ring_remap after mapping (the map "
	  "pins the domain)",
	  /* Whether it is idle enough the broker sees for itself (ring.c): a
	   * store asking too often costs only remaps. */
	  check_unmap },
};

#define POLICY_NROWS (sizeof(policy_rows) / sizeof(policy_rows[0]))

const struct policy_row *policy_lookup(uint32_t type)
{
	for (size_t i = 0; i < POLICY_NROWS; i++)
		if (policy_rows[i].type == type)
			return &policy_rows[i];
	return NULL;
}

size_t policy_row_count(void)
{
	return POLICY_NROWS;
}

const struct policy_row *policy_row_at(size_t i)
{
	return i < POLICY_NROWS ? &policy_rows[i] : NULL;
}

int policy_check(const struct policy_state *st, const struct ipc_msg *msg)
{
	const struct policy_row *row = policy_lookup(msg->hdr.type);

	return row ? row->check(st, msg) : EINVAL;
}

/*
 * Both sockets are dom0's: the read-write one is the toolstack's, the
 * read-only one lets unprivileged-by-intent local tools read and watch.
 */
static const struct policy_identity policy_identities[POLICY_SOCK_COUNT] = {
	{ POLICY_SOCK_RW, "read-write", 0, IPC_ACCESS_PRIV },
	{ POLICY_SOCK_RO, "read-only", 0, IPC_ACCESS_PRIV | IPC_ACCESS_RDONLY },
};

const struct policy_identity *policy_identity(enum policy_listener sock)
{
	if ((unsigned int)sock >= POLICY_SOCK_COUNT)
		return NULL;
	return &policy_identities[sock];
}
