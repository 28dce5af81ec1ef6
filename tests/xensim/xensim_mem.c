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
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xengnttab.h>
#include <xenforeignmemory.h>

#include "xensim.h"

#define GNTTAB_RESERVED_XENSTORE_REF 1u

/* One page mapped by a handle; gen 0 = a page of our own (an inaccessible
 * failed page, or a phantom's blank ring). */
struct map {
	struct map *next, **pprev;	/* the handle's list */
	void *addr;
	uint64_t gen;
};

/*
 * Both kinds of handle are a list of their maps (owned, freed at close),
 * an index of them by address (open addressing, at most half full, so an
 * unmap costs the same with 10,000 rings mapped as with one), and the
 * token their maps are counted against.
 */
struct maps {
	struct sim *sim;
	struct map *head;
	struct map **idx;		/* mask + 1 slots, owned; NULL when empty */
	size_t mask, n;
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

static size_t idx_home(const struct maps *m, const void *addr)
{
	uint64_t a = (uint64_t)(uintptr_t)addr / SIM_PAGE;

	return (size_t)((a * 0x9e3779b97f4a7c15ull) >> 24) & m->mask;
}

static void idx_put(struct maps *m, struct map *e)
{
	size_t i = idx_home(m, e->addr);

	while (m->idx[i])
		i = (i + 1) & m->mask;
	m->idx[i] = e;
}

/* Room for one more map in the index: 0 or ENOMEM. */
static int idx_reserve(struct maps *m)
{
	size_t slots = m->idx ? m->mask + 1 : 16;
	struct map **old = m->idx, *e;

	if (old && (m->n + 1) * 2 <= slots)
		return 0;
	if (old)
		slots *= 2;
	m->idx = calloc(slots, sizeof(*m->idx));
	if (!m->idx) {
		m->idx = old;
		return ENOMEM;
	}
	m->mask = slots - 1;
	for (e = m->head; e; e = e->next)
		idx_put(m, e);
	free(old);
	return 0;
}

/* Take e out of the index; entries after it move up (no tombstones). */
static void idx_del(struct maps *m, const struct map *e)
{
	size_t i = idx_home(m, e->addr), j, k;

	while (m->idx[i] != e)
		i = (i + 1) & m->mask;
	m->idx[i] = NULL;
	for (j = (i + 1) & m->mask; m->idx[j]; j = (j + 1) & m->mask) {
		k = idx_home(m, m->idx[j]->addr);
		if (((j - k) & m->mask) >= ((j - i) & m->mask)) {
			m->idx[i] = m->idx[j];
			m->idx[j] = NULL;
			i = j;
		}
	}
}

static int maps_add(struct maps *m, void *addr, uint64_t gen)
{
	struct map *e;

	if (idx_reserve(m))
		return ENOMEM;
	e = malloc(sizeof(*e));
	if (!e)
		return ENOMEM;
	e->addr = addr;
	e->gen = gen;
	e->next = m->head;
	e->pprev = &m->head;
	if (m->head)
		m->head->pprev = &e->next;
	m->head = e;
	idx_put(m, e);
	m->n++;
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
	struct map *e = NULL;
	size_t i;

	if (!m->idx)
		return EINVAL;
	for (i = idx_home(m, addr); m->idx[i]; i = (i + 1) & m->mask) {
		if (m->idx[i]->addr == addr) {
			e = m->idx[i];
			break;
		}
	}
	if (!e)
		return EINVAL;
	idx_del(m, e);
	*e->pprev = e->next;
	if (e->next)
		e->next->pprev = e->pprev;
	m->n--;
	unmap_one(m, e);
	return 0;
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
	free(m->idx);
	free(m);
	return 0;
}

/* A phantom's ring (simhost.h): a blank page of this process's own. */
static void *map_phantom(struct maps *m, int prot, int *rc)
{
	void *addr = mmap(NULL, SIM_PAGE, prot, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (addr == MAP_FAILED) {
		*rc = errno;
		return NULL;
	}
	/* Generation 0: undone by a plain munmap, counted nowhere. */
	*rc = maps_add(m, addr, 0);
	if (*rc) {
		munmap(addr, SIM_PAGE);
		return NULL;
	}
	return addr;
}

static void *map_ring(struct maps *m, uint32_t domid, int by_grant,
		      uint64_t gfn, int prot, int *rc)
{
	void *addr;
	uint64_t gen;
	int phantom;

	sim_lock(m->sim);
	phantom = sim_phantom(m->sim, domid);
	sim_unlock(m->sim);
	if (phantom)
		return map_phantom(m, prot, rc);
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
