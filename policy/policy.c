/* SPDX-License-Identifier: GPL-2.0-only */
/* policy.c - the broker's allow-table and identity table; see policy.h. */
#include "policy.h"

#include <errno.h>

static int check_hello(const struct policy_state *st, const struct ipc_msg *msg)
{
	struct ipc_hello h;

	/* A second HELLO would mean the store process restarted itself. */
	if (!st->awaiting_hello)
		return EPERM;
	return ipc_hello_decode(msg, &h) ? EINVAL : 0;
}

static int check_no_rings(const struct policy_state *st, const struct ipc_msg *msg)
{
	(void)msg;
	/*
	 * The connection id must name one of the broker's live ring
	 * connections.  Until ring support lands there are none, so the
	 * answer is always no.
	 */
	(void)st;
	return EPERM;
}

static const struct policy_row policy_rows[] = {
	{ IPC_HELLO,
	  "the broker is waiting for this store process to start; "
	  "version == IPC_PROTO_VERSION",
	  "start serving: create the sockets (first start) or resume accepting",
	  check_hello },
	{ IPC_REPLY_DATA,
	  "conn names a live ring connection of this broker (reserved: "
	  "refused until ring connections exist)",
	  "copy the bytes into that connection's ring and notify its event channel",
	  check_no_rings },
	{ IPC_RING_MAP,
	  "domid exists, is not dom0, is not mapped yet, is not dying "
	  "(reserved: refused until ring connections exist)",
	  "map the guest's ring page and bind its event channel",
	  check_no_rings },
	{ IPC_RING_UNMAP,
	  "conn names a live guest ring connection (reserved: refused until "
	  "ring connections exist)",
	  "unmap that ring and unbind its event channel",
	  check_no_rings },
	{ IPC_CONN_CREDIT,
	  "conn names a live ring connection (reserved: refused until ring "
	  "connections exist)",
	  "read up to that many more request bytes from its ring",
	  check_no_rings },
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
