/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simhost.h - the simulated Xen host shared by xensim.so (dom0's libxen
 * calls), xensim-ctl (toolstack and hypervisor) and fakeguest (a guest
 * kernel): a domain table, per-domain event channels and ring pages.
 *
 * The host is a directory ($XENSIM_DIR) holding:
 *   host        the table below, mapped MAP_SHARED by every process and
 *               guarded by a robust process-shared mutex (a process killed
 *               while holding it does not wedge the others)
 *   ring-GEN    a guest's ring page (4 KiB), one per domain generation, so
 *               a reused domid never sees its predecessor's page
 *   xsd_kva     dom0's kernel ring page, xsd_port its port in decimal
 *   ev-ID       one FIFO per event channel handle: delivering an event on
 *               a port writes the port number (u32) into its handle's FIFO,
 *               as Linux's /dev/xen/evtchn queues ports for read()
 *
 * Event channels follow Xen's rules (xen/common/event_channel.c): ports
 * are per domain; a guest's store port is allocated unbound for dom0;
 * binding it from dom0 links the pair and marks the new local port
 * pending; closing one end makes the other end unbound; notifying an
 * unbound port is silently dropped.  Delivery follows Linux's evtchn
 * driver: a delivered port is masked until its reader unmasks it, and
 * notifications meanwhile coalesce into one delivery at unmask.
 *
 * Liveness is per handle, not per process, as with a device fd: every
 * handle holds a token, the FIFO ev-ID opened read-write, which stays
 * alive while any process (a forked child too) holds it open.  A process
 * that dies without closing its handles leaves its bindings and maps in
 * the table; sim_reap() closes dom0 bindings and drops maps whose token
 * nobody holds any more, as the kernel would on exit.  Guest ports belong
 * to the simulated guest kernel, not to a fakeguest process.
 *
 * "Every domid exists" (XENSIM_ALL_DOMAINS=1 in the environment of the
 * process that opens the host, for benchmarks, as ../shared/peers' shim
 * does for the upstream daemons): a domid missing from the table is a
 * phantom, an idle running guest whose ring is a blank private page and
 * whose store port any dom0 port may bind; notifications to it are lost.
 * Nothing about phantoms is stored, so they cost nothing until mapped.
 */
#ifndef XENSIM_SIMHOST_H
#define XENSIM_SIMHOST_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define SIM_PAGE 4096u
#define SIM_MAX_DOMS 1024u      /* live domains, dom0 included */
#define SIM_GUEST_PORTS 16u     /* event channel ports of a guest */
#define SIM_DOM0_PORTS 32768u   /* dom0 serves many guests: one per domid */
#define SIM_MAX_MAPPERS 8u      /* processes mapping one domain's ring */
#define SIM_FIRST_RESERVED 0x7ff0u /* DOMID_FIRST_RESERVED */
#define SIM_VIRQ_DOM_EXC 3u

enum sim_port_state {
	SIM_PORT_FREE = 0,
	SIM_PORT_UNBOUND,       /* remote_dom may bind it */
	SIM_PORT_INTERDOMAIN,   /* linked to remote_dom:remote_port */
	SIM_PORT_VIRQ,
};

struct sim_port {
	uint32_t state;         /* enum sim_port_state */
	uint32_t remote_dom;
	uint32_t remote_port;
	uint32_t virq;
	uint32_t pending;       /* notified while masked or unclaimed */
	uint32_t masked;        /* delivered, not yet unmasked */
	uint32_t by_process;    /* bound by a process's handle: reaped with
				 * it; 0 = a (guest) kernel's port */
	uint32_t pad;
	uint64_t handle;        /* receiving handle (FIFO ev-ID), 0 none */
};

/* Domain flags, as XEN_DOMINF_* where Xen has one. */
#define SIM_DOM_DYING    (1u << 0)
#define SIM_DOM_HVM      (1u << 1)
#define SIM_DOM_SHUTDOWN (1u << 2)
#define SIM_DOM_PAUSED   (1u << 3)
#define SIM_DOM_GRANTED  (1u << 16) /* grant ref 1 -> ring, for dom0 */

struct sim_mapper {
	uint64_t owner;         /* token of the mapping handle */
	uint32_t count;
	uint32_t pad;
};

struct sim_dom {
	uint32_t used;
	uint32_t domid;
	uint64_t gen;           /* unique per creation: domid reuse shows */
	uint32_t flags;
	uint32_t shutdown_reason;
	uint64_t gfn;           /* ring frame */
	uint32_t store_port;    /* guest's xenstore port */
	uint32_t map_fail;      /* the next this many maps of its ring fail
				 * with ENOMEM (xensim-ctl fail-maps) */
	struct sim_mapper maps[SIM_MAX_MAPPERS];
	struct sim_port ports[SIM_GUEST_PORTS];
};

struct sim_host {
	uint32_t magic;
	uint32_t version;
	pthread_mutex_t lock;
	uint64_t next_gen;
	uint64_t next_handle;
	uint32_t xsd_port;      /* dom0 kernel ring port, 0 before init */
	uint32_t dom0_free;     /* no free dom0 port below it: O(1) allocation */
	/* Never used at or above these: scans stop there, so an idle host's
	 * tables are neither walked nor made resident in every process. */
	uint32_t dom0_end;      /* dom0 ports */
	uint32_t doms_end;      /* domain slots */
	uint32_t fail_lists;    /* the next this many domain lists fail with
				 * ENOMEM (xensim-ctl fail-lists) */
	uint32_t pad;
	struct sim_dom doms[SIM_MAX_DOMS];  /* slot 0 is dom0 */
	struct sim_port dom0_ports[SIM_DOM0_PORTS];
};

/*
 * FIFOs this process notified lately, kept open write-only: an open and a
 * close for every notification would cost more than the rest of it.  A
 * writer does not count as a holder of the handle (sim_token_dead asks
 * for a reader), so caching changes no liveness.
 */
#define SIM_FIFO_CACHE 64u
struct sim_fifo {
	uint64_t id;            /* handle token, 0 = empty */
	int fd;
};

/*
 * An event decided under the host lock and written to its FIFO once the
 * lock is released (sim_unlock): on one CPU the woken reader runs at
 * once and its first call takes the lock, so writing under it cost two
 * extra task switches per event, which Xen's atomic hypercall never has.
 */
#define SIM_FIRE_MAX 16u
struct sim_fire {
	uint64_t id;            /* the handle's token */
	uint32_t domid, port;   /* the port it is for, to undo on failure */
};

/* One process's view of the host.  dir is owned (freed by sim_close). */
struct sim {
	struct sim_host *host;
	char *dir;
	int all_domains;        /* XENSIM_ALL_DOMAINS=1: phantoms, see above */
	int pipe_ignored;       /* SIGPIPE was ignored at sim_open: see fire() */
	unsigned fifo_next;     /* next cache slot to reuse */
	struct sim_fifo fifo[SIM_FIFO_CACHE]; /* fds owned, closed by sim_close */
	unsigned nfire;         /* events waiting for sim_unlock */
	struct sim_fire fire[SIM_FIRE_MAX];
};

/*
 * An event channel handle: the ports it binds in domain `domid`, and the
 * FIFO that their events arrive on.  fd is the FIFO's read end (blocking,
 * like /dev/xen/evtchn); closed by sim_evtchn_close.
 */
struct sim_evtchn {
	struct sim *sim;
	uint32_t domid;
	int kernel;             /* a kernel's handle: its ports outlive it */
	uint64_t id;            /* its token */
	int fd;
};

/* Map the host in dir (created and initialised on first use). */
int sim_open(struct sim *sim, const char *dir);
/* Map the host named by $XENSIM_DIR; ENOENT when it is unset. */
int sim_open_env(struct sim *sim);
void sim_close(struct sim *sim);

void sim_lock(struct sim *sim);
void sim_unlock(struct sim *sim);

/* Locked helpers (call with the lock held). */
struct sim_dom *sim_find(struct sim *sim, uint32_t domid);
struct sim_port *sim_port(struct sim *sim, uint32_t domid, uint32_t port);
uint32_t sim_nports(uint32_t domid);
void sim_deliver(struct sim *sim, uint32_t domid, uint32_t port);
/* Called by sim_unlock, the lock released: write the n events sim_deliver
 * decided on (a copy of sim->fire made under the lock). */
void sim_fire_deferred(struct sim *sim, const struct sim_fire *fire, unsigned n);
void sim_virq(struct sim *sim, uint32_t virq);
/* Close one end of a channel (the other end becomes unbound). */
void sim_port_close(struct sim *sim, uint32_t domid, uint32_t port);
/* The lowest free port of domid, 0 if none. */
uint32_t sim_port_alloc(struct sim *sim, uint32_t domid);
/* Nobody holds token id any more. */
int sim_token_dead(struct sim *sim, uint64_t id);
/* Free a dying domain's slot if nobody maps its ring any more. */
void sim_try_finish(struct sim *sim, struct sim_dom *d);
/* domid is a phantom: all_domains, a guest domid, not in the table. */
int sim_phantom(struct sim *sim, uint32_t domid);
/* Path of a domain's ring page, in buf of size len. */
int sim_ring_path(struct sim *sim, const struct sim_dom *d, char *buf, size_t len);

/* Close bindings and maps whose handles nobody holds any more. */
void sim_reap(struct sim *sim);

/*
 * A liveness token: a new FIFO ev-ID opened read-write into *fd (blocking,
 * close-on-exec).  sim_token_close closes and removes it.
 */
int sim_token_open(struct sim *sim, uint64_t *id, int *fd);
void sim_token_close(struct sim *sim, uint64_t id, int fd);

/* Domain table operations (the toolstack's and hypervisor's side). */
int sim_dom_create(struct sim *sim, uint32_t domid, int granted, int hvm,
		   uint64_t *gfn, uint32_t *port);
int sim_dom_shutdown(struct sim *sim, uint32_t domid, uint32_t reason);
int sim_dom_resume(struct sim *sim, uint32_t domid);
/* Sets (on) or clears a SIM_DOM_* flag: PAUSED, or GRANTED (a guest
 * rewriting its grant entry 1: later grant maps fail, live ones stay). */
int sim_dom_set_flag(struct sim *sim, uint32_t domid, uint32_t flag, int on);
/* The next n maps of domid's ring fail with ENOMEM (a host short of memory). */
int sim_dom_fail_maps(struct sim *sim, uint32_t domid, uint32_t n);
/* The next n domain lists (xc_domain_getinfolist/getinfo) fail with ENOMEM. */
void sim_fail_lists(struct sim *sim, uint32_t n);
int sim_dom_destroy(struct sim *sim, uint32_t domid);
int sim_dom0_ring_init(struct sim *sim, uint32_t *port);
/* Live maps of domid's ring (0 when it does not exist). */
unsigned sim_dom_maps(const struct sim_dom *d);

/*
 * Map a domain's ring page into this process, counting the map for the
 * handle whose token is owner.  by_grant: through grant ref 1 (the domain
 * must have granted it); else by frame number gfn.  ESRCH: no such (live)
 * domain; EINVAL: not granted / not its ring frame.
 */
int sim_map_ring(struct sim *sim, uint32_t domid, int by_grant, uint64_t gfn,
		 uint64_t owner, int prot, void **addr, uint64_t *gen);
/* Undo sim_map_ring (gen from it). */
void sim_unmap_ring(struct sim *sim, uint64_t gen, uint64_t owner, void *addr);

/* Event channels. */
int sim_evtchn_open(struct sim *sim, uint32_t domid, int kernel,
		    struct sim_evtchn *ev);
void sim_evtchn_close(struct sim_evtchn *ev);
/* Results: port (> 0) or a negative errno. */
int sim_evtchn_bind_interdomain(struct sim_evtchn *ev, uint32_t rdom, uint32_t rport);
int sim_evtchn_bind_unbound(struct sim_evtchn *ev, uint32_t rdom);
int sim_evtchn_bind_virq(struct sim_evtchn *ev, uint32_t virq);
/* Make ev the receiver of an existing port (a kernel taking its port). */
int sim_evtchn_claim(struct sim_evtchn *ev, uint32_t port);
int sim_evtchn_unbind(struct sim_evtchn *ev, uint32_t port);
int sim_evtchn_notify(struct sim_evtchn *ev, uint32_t port);
int sim_evtchn_unmask(struct sim_evtchn *ev, uint32_t port);

#endif
