/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xensim_xc.c - the libxenctrl calls the broker makes: an interface
 * handle and the domain list (xc_domain_getinfolist, xc_domain_getinfo),
 * read from the simulated host's domain table.  As Xen, both return the
 * domains with domid >= first in ascending order, at most max of them,
 * dying domains included.
 */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

#include "xensim.h"

struct xc_interface_core {
	struct sim *sim;
};

XSIM_API xc_interface *xc_interface_open(xentoollog_logger *logger,
					 xentoollog_logger *dombuild_logger,
					 unsigned open_flags)
{
	struct xc_interface_core *xch;
	struct sim *sim;
	int rc;

	(void)logger;
	(void)dombuild_logger;
	(void)open_flags;
	sim = xensim_host(&rc);
	if (!sim) {
		errno = rc;
		return NULL;
	}
	xch = calloc(1, sizeof(*xch));
	if (xch)
		xch->sim = sim;
	return xch;
}

XSIM_API int xc_interface_close(xc_interface *xch)
{
	free(xch);
	return 0;
}

/* A snapshot of one domain, taken under the host lock. */
struct dom_view {
	uint32_t domid;
	uint32_t flags;         /* XEN_DOMINF_* with the shutdown code */
	uint64_t gen;
};

static int by_domid(const void *a, const void *b)
{
	const struct dom_view *x = a, *y = b;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

static uint32_t dominf_flags(const struct sim_dom *d)
{
	uint32_t f = d->flags & (XEN_DOMINF_dying | XEN_DOMINF_hvm_guest |
				 XEN_DOMINF_shutdown | XEN_DOMINF_paused);

	if (d->flags & SIM_DOM_SHUTDOWN)
		f |= (d->shutdown_reason & XEN_DOMINF_shutdownmask)
		     << XEN_DOMINF_shutdownshift;
	if (!(d->flags & (SIM_DOM_DYING | SIM_DOM_SHUTDOWN | SIM_DOM_PAUSED)))
		f |= XEN_DOMINF_blocked;        /* an idle guest */
	if (d->domid == 0)
		f |= XEN_DOMINF_running;
	return f;
}

/* A phantom's handle: stable, and unlike any generation of the table. */
#define PHANTOM_GEN (1ull << 63)

/*
 * With phantoms every guest domid from first on exists: out gets
 * first, first + 1, ... (the table's entry where it has one), so a call
 * costs its max and the table's size, never the number of phantoms.
 */
static unsigned with_phantoms(const struct dom_view *tab, unsigned tn, uint32_t first,
			      unsigned max, struct dom_view *out)
{
	unsigned j = 0, n = 0;

	for (uint32_t d = first; n < max && d < SIM_FIRST_RESERVED; d++) {
		while (j < tn && tab[j].domid < d)
			j++;
		if (j < tn && tab[j].domid == d)
			out[n++] = tab[j];
		else
			out[n++] = (struct dom_view){ d, XEN_DOMINF_blocked, PHANTOM_GEN | d };
	}
	return n;
}

/* Domains with domid >= first, sorted; returns how many (<= max). */
static unsigned collect(struct sim *sim, uint32_t first, unsigned max,
			struct dom_view *out)
{
	struct dom_view all[SIM_MAX_DOMS];
	unsigned i, n = 0;

	sim_lock(sim);
	for (i = 0; i < sim->host->doms_end; i++) {
		const struct sim_dom *d = &sim->host->doms[i];

		if (!d->used || d->domid < first)
			continue;
		all[n].domid = d->domid;
		all[n].flags = dominf_flags(d);
		all[n].gen = d->gen;
		n++;
	}
	sim_unlock(sim);
	qsort(all, n, sizeof(all[0]), by_domid);
	if (sim->all_domains)
		return with_phantoms(all, n, first, max, out);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}

static void fill_handle(xen_domain_handle_t h, uint64_t gen)
{
	memset(h, 0, sizeof(xen_domain_handle_t));
	memcpy(h, &gen, sizeof(gen));
}

/* The domains from `first` on into info[0..max), by fill; a count or -1. */
static int get_domains(xc_interface *xch, uint32_t first, unsigned max, void *info,
		       void (*fill)(void *info, unsigned i, const struct dom_view *v))
{
	struct dom_view *v;
	unsigned i, n;

	sim_lock(xch->sim);
	n = xch->sim->host->fail_lists;
	if (n)
		xch->sim->host->fail_lists--;
	sim_unlock(xch->sim);
	if (n) {
		errno = ENOMEM;  /* xensim-ctl fail-lists */
		return -1;
	}
	if (max > SIM_MAX_DOMS)
		max = SIM_MAX_DOMS;
	v = calloc(max ? max : 1, sizeof(*v));
	if (!v)
		return -1;
	n = collect(xch->sim, first, max, v);
	for (i = 0; i < n; i++)
		fill(info, i, &v[i]);
	free(v);
	return (int)n;
}

static void fill_domaininfo(void *info, unsigned i, const struct dom_view *v)
{
	xc_domaininfo_t *d = (xc_domaininfo_t *)info + i;

	memset(d, 0, sizeof(*d));
	d->domain = (domid_t)v->domid;
	d->flags = v->flags;
	d->tot_pages = 256;
	d->max_pages = 256;
	d->nr_online_vcpus = 1;
	fill_handle(d->handle, v->gen);
}

static void fill_dominfo(void *info, unsigned i, const struct dom_view *v)
{
	xc_dominfo_t *d = (xc_dominfo_t *)info + i;
	uint32_t f = v->flags;

	memset(d, 0, sizeof(*d));
	d->domid = v->domid;
	d->dying = !!(f & XEN_DOMINF_dying);
	d->shutdown = !!(f & XEN_DOMINF_shutdown);
	d->paused = !!(f & XEN_DOMINF_paused);
	d->blocked = !!(f & XEN_DOMINF_blocked);
	d->running = !!(f & XEN_DOMINF_running);
	d->hvm = !!(f & XEN_DOMINF_hvm_guest);
	d->shutdown_reason = (f >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
	d->crashed = d->shutdown && d->shutdown_reason == SHUTDOWN_crash;
	d->nr_pages = 256;
	d->nr_online_vcpus = 1;
	fill_handle(d->handle, v->gen);
}

XSIM_API int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
				   unsigned int max_domains, xc_domaininfo_t *info)
{
	return get_domains(xch, first_domain, max_domains, info, fill_domaininfo);
}

XSIM_API int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
			       unsigned int max_doms, xc_dominfo_t *info)
{
	return get_domains(xch, first_domid, max_doms, info, fill_dominfo);
}

/*
 * HVM params: only HVM_PARAM_STORE_PFN, the ring frame the toolstack
 * recorded.  As Xen, a PV domain has no HVM params (EINVAL) and an unknown
 * domain is ESRCH.
 */
XSIM_API int xc_hvm_param_get(xc_interface *xch, uint32_t dom, uint32_t param,
			      uint64_t *value)
{
	struct sim_dom *d;
	int err = 0;

	sim_lock(xch->sim);
	d = sim_find(xch->sim, dom);
	if (!d || !d->used)
		err = ESRCH;
	else if (!(d->flags & XEN_DOMINF_hvm_guest) || param != HVM_PARAM_STORE_PFN)
		err = EINVAL;
	else
		*value = d->gfn;
	sim_unlock(xch->sim);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
