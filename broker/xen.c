/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen.c - the broker's Xen handles: one event channel handle for every
 * port, the grant and foreign-memory handles that map guest ring pages,
 * dom0's kernel ring from xenfs, and the dispatch of pending events.
 *
 * What cxenstored 4.17 does, and so do we: dom0's ring is the page behind
 * /proc/xen/xsd_kva, its port (a port of dom0 itself) is bound with
 * bind_interdomain(0, port); a guest's page is grant ref 1 of that guest;
 * on introduction the indexes are reset and `connection` is set to 0.
 * 4.17 advertises no server_features, so neither do we.
 */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xen/grant_table.h>
#include <xen/io/xs_wire.h>
#include <xen/xen.h>

#include "log.h"

#define XSD_PORT "/proc/xen/xsd_port"
#define XSD_KVA "/proc/xen/xsd_kva"
#define PAGE 4096u

void xen_notify(struct broker *b, const struct ring *r)
{
	if (xenevtchn_notify(b->xen.xce, r->port))
		log_warn("domain %u: notify port %u: %s", r->domid, r->port, strerror(errno));
}

/* dom0's kernel ring: xenfs gives the page and a port of dom0's own. */
static int dom0_ring(struct broker *b)
{
	char txt[16] = "";
	unsigned long port = 0;
	struct ring *r = NULL;
	void *page;
	int fd = open(XSD_PORT, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd >= 0 && read(fd, txt, sizeof(txt) - 1) > 0)
		port = strtoul(txt, NULL, 10);
	if (fd >= 0)
		close(fd);
	fd = open(XSD_KVA, O_RDWR | O_CLOEXEC);
	page = fd < 0 ? MAP_FAILED : mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (port && port <= UINT32_MAX && page != MAP_FAILED)
		rc = xenevtchn_bind_interdomain(b->xen.xce, 0, (evtchn_port_t)port);
	/* Fatal, so nothing is given back. */
	if (rc < 0 || !(r = calloc(1, sizeof(*r))))
		return log_err("cannot serve dom0's ring (%s, port '%.8s'): %s", XSD_KVA,
			       txt, strerror(errno)), 1;
	r->intf = page;
	r->how = RING_KVA;
	r->port = (uint32_t)rc;
	ring_insert(b, r);
	r->intf->connection = XENSTORE_CONNECTED;
	xen_notify(b, r);
	log_info("dom0's xenbus ring on port %lu (local %d)", port, rc);
	return 0;
}

/* Every handle; 0 or errno. */
static int open_handles(struct broker *b)
{
	struct xen_chan *x = &b->xen;
	int fd, rc;

	if (!x->xce && !(x->xce = xenevtchn_open(NULL, 0)))
		return errno;
	fd = xenevtchn_fd(x->xce);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) ||
	    !(x->xgt = xengnttab_open(NULL, 0)))
		return errno;
	/* One grant a domain, as upstream. */
	xengnttab_set_max_grants(x->xgt, DOMID_FIRST_RESERVED);
	/* Only the fallback for a guest without a grant needs it. */
	if (!(x->fmem = xenforeignmemory_open(NULL, 0)))
		log_debug("no foreign memory mapping (%s): grant maps only", strerror(errno));
	if ((rc = domains_open(b)) || (rc = broker_watch(b, fd, TAG_EVTCHN, EPOLLIN)))
		return rc;
	/* One ring a domid at most; untouched entries cost no memory. */
	x->by_domid = calloc(RING_DOMIDS, sizeof(*x->by_domid));
	x->by_port = calloc(EVTCHN_PORTS, sizeof(*x->by_port));
	if (!x->by_domid || !x->by_port)
		return ENOMEM;
	if ((b->chan & CHAN_VIRQ) && (x->virq_port = xenevtchn_bind_virq(x->xce, VIRQ_DOM_EXC)) < 0)
		return errno;
	return 0;
}

int xen_open(struct broker *b)
{
	int fd, ret;

	b->xen.virq_port = -1;
	if (!(b->chan & (CHAN_XENBUS | CHAN_VIRQ)))
		return 0;
	if (!b->o.channels) {
		/* No channel named: a host without Xen still serves its sockets. */
		fd = open(XSD_PORT, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		if (fd < 0 || !(b->xen.xce = xenevtchn_open(NULL, 0))) {
			log_warn("no Xen here (%s): serving the unix sockets only", strerror(errno));
			b->chan = CHAN_UNIX;
			return 0;
		}
	}
	if ((ret = open_handles(b)))
		return log_err("cannot open the Xen devices: %s", strerror(ret)), 1;
	return (b->chan & CHAN_XENBUS) && !b->o.no_domain_init ? dom0_ring(b) : 0;
}

int xen_map_guest(struct broker *b, struct ring *r, uint64_t gfn, uint32_t remote_port)
{
	struct xen_chan *x = &b->xen;
	xen_pfn_t pfn = (xen_pfn_t)gfn;
	int rc, err;

	r->how = RING_GRANT;
	r->intf = xengnttab_map_grant_ref(x->xgt, r->domid, GNTTAB_RESERVED_XENSTORE,
					  PROT_READ | PROT_WRITE);
	/*
	 * The fallback maps only the frame Xen itself records for the guest's
	 * store (HVM/PVH): the gfn comes from the store process, and a
	 * compromised one must not steer root's writes into any other page.
	 * A PV guest without grant entry 1 is refused, as cxenstored does.
	 */
	if (!r->intf && x->fmem && domains_store_pfn_is(b, r->domid, gfn)) {
		log_debug("domain %u: no grant (%s), mapping gfn %#llx", r->domid,
			  strerror(errno), (unsigned long long)gfn);
		r->how = RING_FOREIGN;
		/* No err array: a page that fails fails the whole call. */
		r->intf = xenforeignmemory_map(x->fmem, r->domid, PROT_READ | PROT_WRITE, 1,
					       &pfn, NULL);
	}
	if (!r->intf)
		return errno ? errno : EIO;
	rc = xenevtchn_bind_interdomain(x->xce, r->domid, remote_port);
	if (rc < 0) {
		err = errno;
		xen_unmap(b, r);  /* r->port is still 0: nothing to unbind */
		return err;
	}
	r->port = (uint32_t)rc;
	/* As 4.17's INTRODUCE: whatever was in the ring before is dropped. */
	r->intf->req_cons = r->intf->req_prod = 0;
	r->intf->rsp_cons = r->intf->rsp_prod = 0;
	r->intf->connection = XENSTORE_CONNECTED;
	xen_notify(b, r);
	return 0;
}

void xen_unmap(struct broker *b, struct ring *r)
{
	struct xen_chan *x = &b->xen;

	if (r->port && xenevtchn_unbind(x->xce, r->port))
		log_warn("domain %u: unbind port %u: %s", r->domid, r->port, strerror(errno));
	if (r->how == RING_KVA)
		munmap(r->intf, PAGE);
	else if (r->how == RING_FOREIGN)
		xenforeignmemory_unmap(x->fmem, r->intf, 1);
	else if (r->intf)  /* else unmapped idle */
		xen_park(b, r);
}

void xen_park(struct broker *b, struct ring *r)
{
	/* One that fails stays mapped: better than a grant leaked. */
	if (xengnttab_unmap(b->xen.xgt, r->intf, 1))
		log_warn("domain %u: grant unmap: %s", r->domid, strerror(errno));
	else
		r->intf = NULL;
}

int xen_remap(struct broker *b, struct ring *r)
{
	void *page = xengnttab_map_grant_ref(b->xen.xgt, r->domid, GNTTAB_RESERVED_XENSTORE,
					     PROT_READ | PROT_WRITE);
	/* Asked once mapped: a domain whose grant we map cannot go away. */
	int err = !page ? (errno ? errno : EIO) :
		  policy_ring_remap(&b->pst, r->domid, r->handle);

	if (page && err)
		xengnttab_unmap(b->xen.xgt, page, 1);
	r->intf = err ? NULL : page;
	return err;
}

/*
 * One port a turn: epoll reports the fd again while ports are queued, and
 * a read that finds none would be a system call on every request.
 */
void xen_events(struct broker *b)
{
	xenevtchn_port_or_error_t port = xenevtchn_pending(b->xen.xce);

	if (port < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_err("event channel: %s", strerror(errno));
		return;
	}
	/* Unmask first: a notify that comes while we work is not lost. */
	if (xenevtchn_unmask(b->xen.xce, (evtchn_port_t)port))
		log_warn("unmask port %d: %s", port, strerror(errno));
	if (port == b->xen.virq_port)
		domains_scan(b);
	else
		ring_event(b, (uint32_t)port);
}
