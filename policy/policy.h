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

/* What the broker knows about one of its ring connections. */
struct policy_ring {
	bool guest;               /* a guest's ring, not dom0's kernel ring */
	uint32_t credit;          /* request bytes the store may still be sent */
	uint32_t reply_unacked;   /* reply bytes it sent that CONN_SPACE has not returned */
};

/* The hypervisor's view of one domain, for RING_MAP. */
struct policy_domain {
	bool exists, dying;
	bool mapped;              /* the broker serves its ring already */
	uint8_t handle[16];       /* Xen's domain handle, to tell a reused domid */
};

/* Read-only questions the ring rows ask the broker. */
struct policy_oracle {
	void *ctx;
	/* 0 with *out filled when conn is an announced ring connection, else ENOENT. */
	int (*ring)(void *ctx, uint32_t conn, struct policy_ring *out);
	/* 0 with *out filled, or an errno value when the hypervisor cannot say. */
	int (*domain)(void *ctx, uint32_t domid, struct policy_domain *out);
};

/* What the broker knows about the store process when a frame arrives. */
struct policy_state {
	bool awaiting_hello;      /* spawned, IPC_HELLO not yet received */
	const struct policy_oracle *oracle;  /* NULL: no ring connections exist */
};

/* DOMID_FIRST_RESERVED: domids from here on are never guests. */
#define POLICY_DOMID_LIMIT 0x7ff0u

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

/*
 * RING_MAP's domain rules, after policy_check allowed the frame: 0 when
 * the broker may map (*d says what Xen said), else the errno its
 * RING_RESULT carries.  A refusal does not end the store process: any
 * privileged client can INTRODUCE any domid, so a bad one is the
 * client's mistake, not the store's.
 */
int policy_ring_map(const struct policy_state *st, const struct ipc_ring_map *rm,
		    struct policy_domain *d);

/*
 * Mapping an idle ring's page again (IPC_RING_IDLE), asked after the
 * grant is mapped (a mapped grant keeps its domain from going away), and
 * only for a ring no VIRQ_DOM_EXC scan saw end: 0 while domid still
 * names the domain first mapped (same handle, alive, not dying), ESRCH
 * when it does not, or the oracle's errno.
 */
int policy_ring_remap(const struct policy_state *st, uint32_t domid,
		      const uint8_t handle[16]);

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
