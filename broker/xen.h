/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen.h - the broker's Xen channels: the handles and dom0's kernel ring
 * (xen.c), ring connections and their byte pumps (ring.c), and the
 * VIRQ_DOM_EXC domain scan (domains.c).
 *
 * A ring connection lives from its mapping (dom0's at start, a guest's on
 * IPC_RING_MAP) to its IPC_RING_UNMAP; only the store process ends a
 * guest's.  A ring found broken is kept mapped but no longer served, as
 * upstream keeps an "ignored" domain until it dies.  A guest's page may
 * be unmapped while the connection lives on (IPC_RING_IDLE, ring.c):
 * then intf is NULL until the page is mapped again.
 */
#ifndef LIXS_BROKER_XEN_H
#define LIXS_BROKER_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include "bytequeue.h"
#include "ipc.h"
#include "policy.h"

struct broker;
struct xenstore_domain_interface;

/*
 * A ring's conn id is RING_CONN_BIT | generation * RING_DOMIDS | domid, so
 * the domid finds the ring in O(1); socket ids stay below RING_CONN_BIT.
 */
#define RING_CONN_BIT 0x80000000u
#define RING_DOMIDS 0x8000u             /* above every domid (DOMID_FIRST_RESERVED) */
#define RING_GENS (RING_CONN_BIT / RING_DOMIDS)
#define EVTCHN_PORTS (1u << 17)         /* Xen's most (the FIFO ABI's) */

/* One ring connection; owned by struct xen_chan (freed on RING_UNMAP). */
struct ring {
	uint32_t conn, domid, port;      /* port: the local event channel port */
	struct xenstore_domain_interface *intf;  /* the mapped page; NULL: idle */
	enum { RING_KVA, RING_GRANT, RING_FOREIGN } how;
	bool told;                       /* the store knows it, else owes a CONN_NEW */
	/* broken: bad index, error field set, not served; tell_gone: owes a
	 * CONN_GONE; ended: a completed scan saw its domain dying or gone, or
	 * its domid naming another (sticky: never served or mapped again) */
	bool broken, tell_gone, ended;
	uint8_t handle[16];              /* the domain's handle at map time */
	uint32_t dom_flags, scan_flags;  /* IPC_DOM_*: last told; found by this scan */
	/* Request bytes read from the ring and not yet answered (CONN_CREDIT),
	 * at most IPC_RING_WINDOW; `sent` of them went to this store process
	 * (a restarted one gets them all again).  held[0] is byte `pos` of the
	 * ring's request stream; replay_end: where the bytes given again end. */
	struct bytequeue held;
	uint32_t sent;
	uint64_t pos, replay_end;
	uint32_t unacked;                /* its reply bytes not yet returned by CONN_SPACE */
	uint32_t written;                /* of which in the ring, not yet returned */
	uint32_t stale;                  /* queued bytes from an earlier store process */
	/* Reply bytes waiting for room; the first `done` came before the last
	 * CONN_CREDIT and may go to the guest, the rest wait for the next. */
	struct bytequeue out;
	uint32_t done;
};

/* Part of struct broker: every Xen resource the broker holds. */
struct xen_chan {
	struct xenevtchn_handle *xce;    /* NULL: no Xen channels */
	struct xengntdev_handle *xgt;
	struct xenforeignmemory_handle *fmem;  /* NULL: no foreign-map fallback */
	struct xc_interface_core *xch;
	void *scan_buf;                  /* domains.c's getinfolist batch */
	int virq_port;                   /* -1: VIRQ_DOM_EXC not bound */
	struct ring **by_domid;          /* RING_DOMIDS entries */
	struct ring **by_port;           /* EVTCHN_PORTS entries, by local port */
	uint32_t gen;                    /* of the last ring conn id */
	struct policy_oracle oracle;     /* what policy/ asks about rings and domains */
};

/* xen.c: 0, or 1 when a Xen channel that was asked for cannot be had. */
int xen_open(struct broker *b);
void xen_events(struct broker *b);
void xen_notify(struct broker *b, const struct ring *r);
/* domains.c: gfn is the store frame Xen records for domid (HVM/PVH). */
bool domains_store_pfn_is(struct broker *b, uint32_t domid, uint64_t gfn);

/* Map domid's page (grant, else foreign map of gfn) and bind; 0 or errno. */
int xen_map_guest(struct broker *b, struct ring *r, uint64_t gfn, uint32_t remote_port);
/* Unbind and unmap; the caller frees r next (r->intf dangles till then). */
void xen_unmap(struct broker *b, struct ring *r);
/* An idle guest's granted page (IPC_RING_IDLE): unmapped, r->intf NULL,
 * unless the unmap fails.  xen_remap maps it again (never for r->ended):
 * 0, ESRCH when the domid no longer names the domain first mapped
 * (policy_ring_remap), or the grant map's errno. */
void xen_park(struct broker *b, struct ring *r);
int xen_remap(struct broker *b, struct ring *r);

/* ring.c */
void ring_insert(struct broker *b, struct ring *r);  /* gives it a fresh conn id */
void ring_frame(struct broker *b, const struct ipc_msg *m);  /* policy_check allowed it */
void ring_event(struct broker *b, uint32_t port);
void ring_store_ready(struct broker *b);   /* a store process said HELLO */

/* domains.c */
int domains_open(struct broker *b);
void domains_scan(struct broker *b);
int domains_query(void *ctx, uint32_t domid, struct policy_domain *out);

#endif
