/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.h - what the broker lets the store process ask of it, and who
 * counts as privileged.
 *
 * Two small tables a reviewer can audit in one sitting:
 *
 *  - one row per store -> broker ipc type: what the broker checks before
 *    it acts and what privileged action it then takes.  A frame whose
 *    check fails ends the store process (DESIGN: the broker trusts no
 *    byte of it);
 *  - one row per listening socket: the identity (domid, access bits) the
 *    broker gives every client accepted on it.  SO_PEERCRED is recorded
 *    for the logs but grants nothing: both sockets are mode 0600, so only
 *    local root reaches them, as with cxenstored.
 */
#ifndef LIXS_POLICY_H
#define LIXS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

/* What the broker knows about the store process when a frame arrives. */
struct policy_state {
	bool awaiting_hello;      /* spawned, IPC_HELLO not yet received */
};

struct policy_row {
	uint32_t type;            /* a store -> broker enum ipc_type */
	const char *checks;       /* what is verified, for logs and docs */
	const char *action;       /* the privileged action taken when allowed */
	/* 0 when allowed, EPERM when refused, EINVAL for a bad payload. */
	int (*check)(const struct policy_state *st, const struct ipc_msg *msg);
};

/* The row for `type`, or NULL: the store process may not send it. */
const struct policy_row *policy_lookup(uint32_t type);
size_t policy_row_count(void);
const struct policy_row *policy_row_at(size_t i);

/*
 * Check a frame that ipc_recv() accepted for IPC_TO_BROKER against its
 * row.  Returns 0, EPERM (not allowed now) or EINVAL (no row, or a
 * payload that does not decode).  Any non-zero answer ends the store process.
 */
int policy_check(const struct policy_state *st, const struct ipc_msg *msg);

/* The listening sockets, and the identity each gives its clients. */
enum policy_listener {
	POLICY_SOCK_RW = 0,       /* the socket libxenstore opens by default */
	POLICY_SOCK_RO = 1,       /* socket_ro: may read and watch only */
	POLICY_SOCK_COUNT
};

struct policy_identity {
	enum policy_listener sock;
	const char *name;         /* "read-write" / "read-only", for logs */
	uint32_t domid;
	uint32_t access;          /* IPC_ACCESS_* */
};

/* The identity for clients of `sock`; NULL for an out-of-range value. */
const struct policy_identity *policy_identity(enum policy_listener sock);

#endif
