/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * domains.c - what the hypervisor says about domains: the VIRQ_DOM_EXC
 * scan that tells the store process which mapped domains shut down, are
 * dying or are gone, and the single-domain query RING_MAP's policy asks.
 *
 * The scan asks for all domains in batches of SCAN_BATCH (one hypercall
 * on any host with fewer domains), never once per domain as 4.17 does.
 * Xen 4.17 has no unique domain id, so a reused domid is told by the
 * domain handle recorded at map time, and by a domain that was dying or
 * gone and is now alive: either counts as gone.
 *
 * The only file that includes xenctrl.h, whose headers need GNU C
 * (broker.mk compiles it with -std=gnu11).
 */
#include "broker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

#include "log.h"

#define SCAN_BATCH 1024
#define STATES_MAX (IPC_PAYLOAD_MAX / sizeof(struct ipc_domain_state))

int domains_open(struct broker *b)
{
	b->xen.xch = xc_interface_open(NULL, NULL, 0);
	if (!b->xen.xch)
		return errno ? errno : ENODEV;
	b->xen.scan_buf = calloc(SCAN_BATCH, sizeof(xc_domaininfo_t));
	return b->xen.scan_buf ? 0 : ENOMEM;
}

int domains_query(void *ctx, uint32_t domid, struct policy_domain *out)
{
	struct broker *b = ctx;
	xc_domaininfo_t info;
	int n;

	if (!b->xen.xch)
		return ENOSYS;
	n = xc_domain_getinfolist(b->xen.xch, domid, 1, &info);
	if (n < 0)
		return errno ? errno : EIO;
	out->exists = n == 1 && info.domain == domid;
	out->dying = out->exists && (info.flags & XEN_DOMINF_dying);
	out->mapped = domid < DOMID_FIRST_RESERVED && b->xen.by_domid[domid];
	memcpy(out->handle, info.handle, sizeof(out->handle));
	return 0;
}

static uint32_t state_of(const struct ring *r, const xc_domaininfo_t *info)
{
	if (memcmp(info->handle, r->handle, sizeof(r->handle)) ||
	    (r->ended && !(info->flags & XEN_DOMINF_dying)))
		return IPC_DOM_GONE;  /* the domid now names another domain */
	return (info->flags & XEN_DOMINF_shutdown ? IPC_DOM_SHUTDOWN : 0) |
	       (info->flags & XEN_DOMINF_dying ? IPC_DOM_DYING : 0);
}

void domains_scan(struct broker *b)
{
	struct xen_chan *x = &b->xen;
	xc_domaininfo_t *info = x->scan_buf;
	struct ipc_domain_state st[STATES_MAX];
	uint32_t first = 0, n = 0;
	int got;

	for (uint32_t d = 0; d < RING_DOMIDS; d++)
		if (x->by_domid[d])
			x->by_domid[d]->scan_flags = IPC_DOM_GONE;
	do {
		got = xc_domain_getinfolist(x->xch, first, SCAN_BATCH, info);
		if (got < 0) {
			log_err("cannot list domains: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < got && info[i].domain < DOMID_FIRST_RESERVED; i++) {
			struct ring *r = x->by_domid[info[i].domain];

			if (r)
				r->scan_flags = state_of(r, &info[i]);
			first = info[i].domain + 1u;
		}
	} while (got == SCAN_BATCH && first < DOMID_FIRST_RESERVED);
	for (uint32_t d = 1; d < RING_DOMIDS && n < STATES_MAX; d++) {
		struct ring *r = x->by_domid[d];

		/* Only a completed scan's findings count, and they stay. */
		if (r && (r->scan_flags & (IPC_DOM_DYING | IPC_DOM_GONE)))
			r->ended = true;
		if (r && r->scan_flags != r->dom_flags)
			st[n++] = (struct ipc_domain_state){ r->domid, r->scan_flags };
	}
	/* Only what was sent counts as told: the next HELLO or VIRQ tells the rest. */
	if (n && !store_send(b, IPC_DOMAIN_STATE, 0, st, n * (uint32_t)sizeof(*st), -1))
		return;
	for (uint32_t i = 0; i < n; i++)
		x->by_domid[st[i].domid]->dom_flags = st[i].flags;
	if (n == STATES_MAX)
		domains_scan(b);  /* more changed than one frame holds */
}

/* Whether gfn is the xenstore frame Xen records for domid (HVM/PVH only). */
bool domains_store_pfn_is(struct broker *b, uint32_t domid, uint64_t gfn)
{
	uint64_t pfn;

	return b->xen.xch &&
	       !xc_hvm_param_get(b->xen.xch, domid, HVM_PARAM_STORE_PFN, &pfn) && pfn == gfn;
}
