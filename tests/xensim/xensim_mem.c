/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xensim_mem.c - libxengnttab and libxenforeignmemory on the simulated
 * host: mapping a guest's ring page.
 *
 * Grant maps succeed only for grant ref 1 (GNTTAB_RESERVED_XENSTORE) of a
 * live domain that granted its ring; every failure is NULL with errno
 * EINVAL, as Linux's gntdev reports a failed GNTTABOP_map_grant_ref.
 * Foreign maps succeed only for the ring's frame; as libxenforeignmemory
 * does, a failure is per page in err[] when the caller passed err (the
 * page is then inaccessible), else NULL with errno (ESRCH: no such
 * domain, EINVAL: not its frame).  Only one-page maps are supported.
 * A map counts against the domain: a destroyed domain stays "dying" until
 * every map is undone, as Xen keeps a zombie while dom0 holds its pages.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xengnttab.h>
#include <xenforeignmemory.h>

#include "xensim.h"

#define GNTTAB_RESERVED_XENSTORE_REF 1u

/* One page mapped by a handle; gen 0 = an inaccessible failed page. */
struct map {
	struct map *next;
	void *addr;
	uint64_t gen;
};

/* Both kinds of handle are a list of their maps (owned, freed at close)
 * and the token their maps are counted against. */
struct maps {
	struct sim *sim;
	struct map *head;
	uint64_t token;
	int token_fd;
};

struct xengntdev_handle {
	struct maps m;
};

struct xenforeignmemory_handle {
	struct maps m;
};

/*
 * Both handle types are a struct maps and nothing else, so one pair of
 * functions opens and closes either (the handle points at its maps).
 */
static struct maps *maps_open(void)
{
	struct maps *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return NULL;
	m->sim = xensim_host(&rc);
	if (m->sim)
		rc = sim_token_open(m->sim, &m->token, &m->token_fd);
	if (rc) {
		free(m);
		errno = rc;
		return NULL;
	}
	return m;
}

static int maps_add(struct maps *m, void *addr, uint64_t gen)
{
	struct map *e = malloc(sizeof(*e));

	if (!e)
		return ENOMEM;
	e->addr = addr;
	e->gen = gen;
	e->next = m->head;
	m->head = e;
	return 0;
}

static void unmap_one(struct maps *m, struct map *e)
{
	if (e->gen)
		sim_unmap_ring(m->sim, e->gen, m->token, e->addr);
	else
		munmap(e->addr, SIM_PAGE);
	free(e);
}

/* Remove addr's map; ENOENT-like EINVAL when this handle did not map it. */
static int maps_remove(struct maps *m, void *addr)
{
	struct map **pp;

	for (pp = &m->head; *pp; pp = &(*pp)->next) {
		if ((*pp)->addr == addr) {
			struct map *e = *pp;

			*pp = e->next;
			unmap_one(m, e);
			return 0;
		}
	}
	return EINVAL;
}

/*
 * Closing the device leaves the maps in place (Linux keeps them until
 * munmap or exit), so they keep counting against their domains: a broker
 * that forgets to unmap keeps the domain a zombie, as on Xen.  The token
 * stays open for them, as the mappings keep the device file open.
 */
static int maps_close(struct maps *m)
{
	if (!m)
		return 0;
	if (!m->head)
		sim_token_close(m->sim, m->token, m->token_fd);
	while (m->head) {
		struct map *e = m->head;

		m->head = e->next;
		free(e);
	}
	free(m);
	return 0;
}

static void *map_ring(struct maps *m, uint32_t domid, int by_grant,
		      uint64_t gfn, int prot, int *rc)
{
	void *addr;
	uint64_t gen;

	*rc = sim_map_ring(m->sim, domid, by_grant, gfn, m->token, prot, &addr, &gen);
	if (*rc)
		return NULL;
	*rc = maps_add(m, addr, gen);
	if (*rc) {
		sim_unmap_ring(m->sim, gen, m->token, addr);
		return NULL;
	}
	return addr;
}

/* --- libxengnttab ------------------------------------------------------- */

XSIM_API xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
					  unsigned int flags)
{
	(void)logger;
	(void)flags;
	return (xengnttab_handle *)maps_open();
}

XSIM_API int xengnttab_close(xengnttab_handle *h)
{
	return maps_close(h ? &h->m : NULL);
}

XSIM_API int xengnttab_set_max_grants(xengnttab_handle *h, uint32_t count)
{
	(void)h;
	(void)count;
	return 0;
}

XSIM_API void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid,
				       uint32_t ref, int prot)
{
	void *addr;
	int rc;

	if (ref != GNTTAB_RESERVED_XENSTORE_REF) {
		errno = EINVAL;
		return NULL;
	}
	addr = map_ring(&h->m, domid, 1, 0, prot, &rc);
	if (!addr)
		errno = rc == ENOMEM ? ENOMEM : EINVAL;
	return addr;
}

XSIM_API void *xengnttab_map_grant_refs(xengnttab_handle *h, uint32_t count,
					uint32_t *domids, uint32_t *refs, int prot)
{
	if (count != 1) {
		errno = EINVAL;
		return NULL;
	}
	return xengnttab_map_grant_ref(h, domids[0], refs[0], prot);
}

XSIM_API void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
					       uint32_t domid, uint32_t *refs, int prot)
{
	if (count != 1) {
		errno = EINVAL;
		return NULL;
	}
	return xengnttab_map_grant_ref(h, domid, refs[0], prot);
}

XSIM_API int xengnttab_unmap(xengnttab_handle *h, void *start_address, uint32_t count)
{
	int rc = count == 1 ? maps_remove(&h->m, start_address) : EINVAL;

	if (rc) {
		errno = rc;
		return -1;
	}
	return 0;
}

/* --- libxenforeignmemory ------------------------------------------------ */

XSIM_API xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
							unsigned int flags)
{
	(void)logger;
	(void)flags;
	return (xenforeignmemory_handle *)maps_open();
}

XSIM_API int xenforeignmemory_close(xenforeignmemory_handle *h)
{
	return maps_close(h ? &h->m : NULL);
}

XSIM_API void *xenforeignmemory_map2(xenforeignmemory_handle *h, uint32_t dom,
				     void *addr, int prot, int flags, size_t num,
				     const xen_pfn_t arr[], int err[])
{
	void *p;
	int rc;

	(void)addr;
	(void)flags;
	if (num != 1) {
		errno = EINVAL;
		return NULL;
	}
	p = map_ring(&h->m, dom, 0, arr[0], prot, &rc);
	if (p) {
		if (err)
			err[0] = 0;
		return p;
	}
	if (!err || rc == ENOMEM) {
		errno = rc;
		return NULL;
	}
	/* Linux maps the range and reports the page's error in err[]:
	 * touching the page faults. */
	p = mmap(NULL, SIM_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (maps_add(&h->m, p, 0)) {
		munmap(p, SIM_PAGE);
		errno = ENOMEM;
		return NULL;
	}
	err[0] = -rc;
	return p;
}

XSIM_API void *xenforeignmemory_map(xenforeignmemory_handle *h, uint32_t dom,
				    int prot, size_t pages, const xen_pfn_t arr[],
				    int err[])
{
	return xenforeignmemory_map2(h, dom, NULL, prot, 0, pages, arr, err);
}

XSIM_API int xenforeignmemory_unmap(xenforeignmemory_handle *h, void *addr,
				    size_t pages)
{
	int rc = pages == 1 ? maps_remove(&h->m, addr) : EINVAL;

	if (rc) {
		errno = rc;
		return -1;
	}
	return 0;
}
