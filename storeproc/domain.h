/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * domain.h - the store process's table of domains, and what happens to a
 * domain over its life: introduction (INTRODUCE answered by the broker's
 * RING_RESULT, or a ring re-announced by CONN_NEW), shutdown, release and
 * death, as cxenstored 4.17's xenstored_domain.c does them.
 *
 * A domain is in the table from its INTRODUCE (pending until the broker
 * answers) until RELEASE or its death; dom0 is always introduced (4.17
 * introduces it at start) and gets a record once its kernel ring shows up.
 * Lookups by domid and by the broker's ring connection id are O(1).
 * Quota use is not kept here: quota.h counts it per domid, introduced
 * or not, and its counts fall to zero as a dead domain's nodes,
 * watches and transactions go.
 *
 * Two ids, two lives: `ring` is the broker's connection id of the mapped
 * ring (non-zero until RING_UNMAP; a ring the broker cut off, CONN_GONE,
 * stays mapped until then), `conn` the store's connection reading it
 * (NULL once either side ended it for misbehaviour, as 4.17's
 * ignore_connection(): the domain stays introduced, its death is still
 * reported, and the guest stalls as no credit is granted any more).
 */
#ifndef LIXS_DOMAIN_H
#define LIXS_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

struct conn;
struct storeproc;

struct domain {
	struct domain *id_next;		/* chain of the by-domid table */
	struct domain *ring_next;	/* chain of the by-ring table */
	uint32_t domid;
	uint32_t target;		/* SET_TARGET, or DOMID_NONE */
	uint32_t ring;			/* broker's ring conn id, 0: none */
	struct conn *conn;		/* the store's conn on it, or NULL */
	uint64_t generation;		/* new for every introduction, so a
					 * reused domid is a new domain */
	bool introduced;
	bool shutdown_seen;		/* @releaseDomain fired for its
					 * shutdown; RESUME clears it */
	/* INTRODUCE waiting for RING_RESULT: the asking connection (NULL
	 * when it went away meanwhile). */
	bool intro_pending;
	struct conn *intro_waiter;
};

#define DOMAIN_BUCKETS 1024u		/* power of two; domids < 0x7ff0 */

struct domain_table {
	struct domain *by_id[DOMAIN_BUCKETS];
	struct domain *by_ring[DOMAIN_BUCKETS];
	size_t count;
	uint64_t next_gen;
};

/* Xen's DOMID_FIRST_RESERVED (DOMID_SELF is 0x7ff0). */
#define DOMAIN_ID_RESERVED 0x7ff0u

void domain_table_init(struct domain_table *dt);
/* Frees every record (at exit; connections are closed first). */
void domain_table_fini(struct domain_table *dt);

struct domain *domain_find(const struct domain_table *dt, uint32_t domid);
/* The record for domid, made (not introduced) if missing; NULL: ENOMEM. */
struct domain *domain_get(struct domain_table *dt, uint32_t domid);
struct domain *domain_find_ring(const struct domain_table *dt, uint32_t ring);
/* Set (ring != 0) or clear (0) d's broker connection id. */
void domain_set_ring(struct domain_table *dt, struct domain *d, uint32_t ring);
/* Drop the record (frees d). */
void domain_forget(struct domain_table *dt, struct domain *d);

/* --- life cycle (storeproc-level: they fire events, send frames) --- */

/* The broker answered RING_MAP: finish the pending INTRODUCE. */
void domain_ring_result(struct storeproc *sp, const struct ipc_ring_result *res);

/* CONN_NEW {kind RING}: dom0's kernel ring, or a guest ring the broker
 * re-announces after a store restart (no @introduceDomain then). */
void domain_ring_announced(struct storeproc *sp, uint32_t ring,
			   const struct ipc_conn_new *cn);

/* CONN_GONE: the broker cut off ring `ring` (bad index): the store's
 * connection goes; RING_UNMAP still follows at RELEASE or death. */
void domain_ring_gone(struct storeproc *sp, uint32_t ring);

/* DOMAIN_STATE: n entries from one VIRQ_DOM_EXC scan. */
void domain_state_change(struct storeproc *sp,
			 const struct ipc_domain_state *st, size_t n);

/*
 * A ring or domain frame from the broker (CONN_DATA, CONN_SPACE,
 * CONN_GONE, RING_RESULT, DOMAIN_STATE), already checked by
 * ipc_frame_check.  0, or EPROTO for a payload no broker sends (a bug
 * there: the caller ends the store process).  Frames for rings the store
 * no longer serves are dropped (they may have crossed a close).
 */
int domain_frame(struct storeproc *sp, const struct ipc_msg *msg);

/*
 * RELEASE or death: end its connection, unmap its ring (when the broker
 * still serves it), delete the nodes it owns (or give them to dom0 with
 * -K), remove its entries from every other node's perms and the special
 * nodes' (domid reuse), fire @releaseDomain, and forget it.  d is freed.
 */
void domain_release(struct storeproc *sp, struct domain *d);

/* Connection c is closing: forget it wherever a domain refers to it. */
void domain_conn_closed(struct storeproc *sp, struct conn *c);

/* Fire "@introduceDomain" / "@releaseDomain" (exact, filtered by the
 * special node's perms as 4.17's check_perms_special). */
void domain_fire_special(struct storeproc *sp, const char *name);

#endif
