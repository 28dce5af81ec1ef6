/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simhost.c - the simulated Xen host: the shared table, domains and their
 * ring pages and maps (event channels: simevtchn.c; simhost.h says what
 * lives where and which Xen rules are followed).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simhost.h"

#define SIM_MAGIC 0x78656e73u   /* "xens" */
#define SIM_VERSION 5u
/* Made-up frame numbers: distinct per domain generation. */
#define SIM_GFN_BASE 0x80000u

static int init_host(struct sim_host *h)
{
	pthread_mutexattr_t a;
	int rc;

	rc = pthread_mutexattr_init(&a);
	if (rc)
		return rc;
	/* Robust: a fakeguest killed inside the lock must not wedge the host. */
	rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (!rc)
		rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (!rc)
		rc = pthread_mutex_init(&h->lock, &a);
	pthread_mutexattr_destroy(&a);
	if (rc)
		return rc;
	h->next_gen = 1;
	h->next_handle = 1;
	h->doms[0].used = 1;
	h->doms_end = 1;
	h->dom0_end = 1;
	h->doms[0].domid = 0;
	h->doms[0].gen = h->next_gen++;
	h->version = SIM_VERSION;
	__atomic_store_n(&h->magic, SIM_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int sim_open(struct sim *sim, const char *dir)
{
	char path[4096];
	struct sigaction pipe;
	struct stat st;
	void *p;
	int fd, rc = 0;

	memset(sim, 0, sizeof(*sim));
	sim->pipe_ignored = !sigaction(SIGPIPE, NULL, &pipe) && pipe.sa_handler == SIG_IGN;
	sim->dir = strdup(dir);
	if (!sim->dir)
		return ENOMEM;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto fail_errno;
	if (snprintf(path, sizeof(path), "%s/host", dir) >= (int)sizeof(path)) {
		rc = ENAMETOOLONG;
		goto fail;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail_errno;
	/* The first opener sizes and initialises; the others wait here. */
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0)
		goto fail_close;
	if ((size_t)st.st_size < sizeof(struct sim_host) &&
	    ftruncate(fd, sizeof(struct sim_host)) < 0)
		goto fail_close;
	p = mmap(NULL, sizeof(struct sim_host), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail_close;
	sim->host = p;
	if (sim->host->magic != SIM_MAGIC)
		rc = init_host(sim->host);
	else if (sim->host->version != SIM_VERSION)
		rc = EPROTO;
	/* Explicitly: the mapping keeps the open file, and with it the lock. */
	flock(fd, LOCK_UN);
	close(fd);
	if (rc) {
		sim_close(sim);
		return rc;
	}
	return 0;

fail_close:
	rc = errno;
	close(fd);
	goto fail;
fail_errno:
	rc = errno;
fail:
	free(sim->dir);
	sim->dir = NULL;
	return rc;
}

int sim_open_env(struct sim *sim)
{
	const char *dir = getenv("XENSIM_DIR");
	const char *all = getenv("XENSIM_ALL_DOMAINS");
	int rc;

	if (!dir || !*dir)
		return ENOENT;
	rc = sim_open(sim, dir);
	if (!rc)
		sim->all_domains = all && strcmp(all, "1") == 0;
	return rc;
}

void sim_close(struct sim *sim)
{
	unsigned i;

	for (i = 0; i < SIM_FIFO_CACHE; i++) {
		if (sim->fifo[i].id)
			close(sim->fifo[i].fd);
		sim->fifo[i].id = 0;
	}
	if (sim->host)
		munmap(sim->host, sizeof(struct sim_host));
	sim->host = NULL;
	free(sim->dir);
	sim->dir = NULL;
}

void sim_lock(struct sim *sim)
{
	/* The table is small and every change is a few stores; a dead
	 * owner leaves it consistent enough to carry on. */
	if (pthread_mutex_lock(&sim->host->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&sim->host->lock);
}

void sim_unlock(struct sim *sim)
{
	struct sim_fire fire[SIM_FIRE_MAX];
	unsigned n = sim->nfire;

	/* Taken while locked: a thread of ours that locks next queues
	 * its own. */
	if (n)
		memcpy(fire, sim->fire, n * sizeof(fire[0]));
	sim->nfire = 0;
	pthread_mutex_unlock(&sim->host->lock);
	if (n)
		sim_fire_deferred(sim, fire, n);
}

struct sim_dom *sim_find(struct sim *sim, uint32_t domid)
{
	unsigned i;

	for (i = 0; i < sim->host->doms_end; i++) {
		struct sim_dom *d = &sim->host->doms[i];

		if (d->used && d->domid == domid)
			return d;
	}
	return NULL;
}

int sim_phantom(struct sim *sim, uint32_t domid)
{
	return sim->all_domains && domid != 0 && domid < SIM_FIRST_RESERVED &&
	       !sim_find(sim, domid);
}

uint32_t sim_nports(uint32_t domid)
{
	return domid == 0 ? SIM_DOM0_PORTS : SIM_GUEST_PORTS;
}

/* Port 0 is never valid, as in Xen. */
struct sim_port *sim_port(struct sim *sim, uint32_t domid, uint32_t port)
{
	struct sim_dom *d;

	if (port == 0 || port >= sim_nports(domid))
		return NULL;
	if (domid == 0)
		return &sim->host->dom0_ports[port];
	d = sim_find(sim, domid);
	return d ? &d->ports[port] : NULL;
}

int sim_ring_path(struct sim *sim, const struct sim_dom *d, char *buf, size_t len)
{
	int n;

	if (d->domid == 0)
		n = snprintf(buf, len, "%s/xsd_kva", sim->dir);
	else
		n = snprintf(buf, len, "%s/ring-%llu", sim->dir,
			     (unsigned long long)d->gen);
	return n < 0 || (size_t)n >= len ? ENAMETOOLONG : 0;
}


unsigned sim_dom_maps(const struct sim_dom *d)
{
	unsigned i, n = 0;

	for (i = 0; i < SIM_MAX_MAPPERS; i++)
		n += d->maps[i].count;
	return n;
}

void sim_try_finish(struct sim *sim, struct sim_dom *d)
{
	char path[4096];

	if (!(d->flags & SIM_DOM_DYING) || sim_dom_maps(d) != 0)
		return;
	if (sim_ring_path(sim, d, path, sizeof(path)) == 0)
		unlink(path);
	memset(d, 0, sizeof(*d));
	/* Xen: the final destruction raises VIRQ_DOM_EXC again. */
	sim_virq(sim, SIM_VIRQ_DOM_EXC);
}


void sim_reap(struct sim *sim)
{
	unsigned i, j;

	sim_lock(sim);
	for (i = 1; i < sim->host->dom0_end; i++)
		if (sim->host->dom0_ports[i].state != SIM_PORT_FREE &&
		    sim->host->dom0_ports[i].by_process &&
		    sim_token_dead(sim, sim->host->dom0_ports[i].handle))
			sim_port_close(sim, 0, i);
	for (i = 0; i < sim->host->doms_end; i++) {
		struct sim_dom *d = &sim->host->doms[i];

		if (!d->used)
			continue;
		for (j = 0; j < SIM_MAX_MAPPERS; j++)
			if (d->maps[j].count && sim_token_dead(sim, d->maps[j].owner))
				d->maps[j].count = 0;
		sim_try_finish(sim, d);
	}
	sim_unlock(sim);
}

static int make_page(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return errno;
	if (ftruncate(fd, SIM_PAGE) < 0)
		rc = errno;
	close(fd);
	return rc;
}

int sim_dom_create(struct sim *sim, uint32_t domid, int granted, int hvm,
		   uint64_t *gfn, uint32_t *port)
{
	struct sim_dom *d = NULL;
	char path[4096];
	unsigned i;
	int rc;

	if (domid == 0 || domid >= SIM_FIRST_RESERVED)
		return EINVAL;
	sim_lock(sim);
	if (sim_find(sim, domid)) {
		sim_unlock(sim);
		return EEXIST;
	}
	for (i = 1; i < SIM_MAX_DOMS && !d; i++)
		if (!sim->host->doms[i].used)
			d = &sim->host->doms[i];
	if (d && i > sim->host->doms_end)
		sim->host->doms_end = i;  /* i is one past d's slot */
	if (!d) {
		sim_unlock(sim);
		return ENOSPC;
	}
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->gen = sim->host->next_gen++;
	d->gfn = SIM_GFN_BASE + d->gen;
	d->flags = (granted ? SIM_DOM_GRANTED : 0) | (hvm ? SIM_DOM_HVM : 0);
	rc = sim_ring_path(sim, d, path, sizeof(path));
	if (!rc)
		rc = make_page(path);
	if (rc) {
		sim_unlock(sim);
		return rc;
	}
	/* The store port varies with the generation and is never 1, so a
	 * broker that mixes up local and remote ports shows it. */
	d->store_port = 2 + (uint32_t)(d->gen % (SIM_GUEST_PORTS - 3));
	d->ports[d->store_port].state = SIM_PORT_UNBOUND;
	d->ports[d->store_port].remote_dom = 0;
	d->used = 1;
	*gfn = d->gfn;
	*port = d->store_port;
	sim_unlock(sim);
	return 0;
}

/* Find a live guest for an operation; NULL with *rc set otherwise. */
static struct sim_dom *guest(struct sim *sim, uint32_t domid, int *rc)
{
	struct sim_dom *d = domid ? sim_find(sim, domid) : NULL;

	*rc = !d ? ESRCH : (d->flags & SIM_DOM_DYING) ? EINVAL : 0;
	return *rc ? NULL : d;
}

int sim_dom_shutdown(struct sim *sim, uint32_t domid, uint32_t reason)
{
	struct sim_dom *d;
	int rc;

	if (reason > 5)
		return EINVAL;
	sim_lock(sim);
	d = guest(sim, domid, &rc);
	/* Xen ignores a second shutdown until the domain is resumed. */
	if (d && !(d->flags & SIM_DOM_SHUTDOWN)) {
		d->flags |= SIM_DOM_SHUTDOWN;
		d->shutdown_reason = reason;
		sim_virq(sim, SIM_VIRQ_DOM_EXC);
	}
	sim_unlock(sim);
	return rc;
}

int sim_dom_resume(struct sim *sim, uint32_t domid)
{
	struct sim_dom *d;
	int rc;

	sim_lock(sim);
	d = guest(sim, domid, &rc);
	if (d) {
		d->flags &= ~SIM_DOM_SHUTDOWN;
		d->shutdown_reason = 0;
	}
	sim_unlock(sim);
	return rc;
}

int sim_dom_fail_maps(struct sim *sim, uint32_t domid, uint32_t n)
{
	struct sim_dom *d;
	int rc;

	sim_lock(sim);
	d = guest(sim, domid, &rc);
	if (d)
		d->map_fail = n;
	sim_unlock(sim);
	return rc;
}

void sim_fail_lists(struct sim *sim, uint32_t n)
{
	sim_lock(sim);
	sim->host->fail_lists = n;
	sim_unlock(sim);
}

int sim_dom_set_flag(struct sim *sim, uint32_t domid, uint32_t flag, int on)
{
	struct sim_dom *d;
	int rc;

	sim_lock(sim);
	d = guest(sim, domid, &rc);
	if (d)
		d->flags = on ? d->flags | flag : d->flags & ~flag;
	sim_unlock(sim);
	return rc;
}

int sim_dom_destroy(struct sim *sim, uint32_t domid)
{
	struct sim_dom *d;
	uint32_t i;
	int rc;

	sim_lock(sim);
	d = guest(sim, domid, &rc);
	if (d) {
		/* domain_kill: its event channels close, it stays as a
		 * zombie while dom0 still maps its page. */
		for (i = 1; i < SIM_GUEST_PORTS; i++)
			sim_port_close(sim, domid, i);
		d->flags |= SIM_DOM_DYING;
		sim_virq(sim, SIM_VIRQ_DOM_EXC);
		sim_try_finish(sim, d);
	}
	sim_unlock(sim);
	return rc;
}

int sim_dom0_ring_init(struct sim *sim, uint32_t *port)
{
	char path[4096], txt[16];
	int rc = 0, fd, n;

	sim_lock(sim);
	if (!sim->host->xsd_port) {
		snprintf(path, sizeof(path), "%s/xsd_kva", sim->dir);
		rc = make_page(path);
		if (!rc) {
			uint32_t p = sim_port_alloc(sim, 0);

			if (!p) {
				rc = ENOSPC;
			} else {
				/* The dom0 kernel's port, unbound for dom0. */
				sim->host->dom0_ports[p].state = SIM_PORT_UNBOUND;
				sim->host->xsd_port = p;
			}
		}
	}
	if (!rc) {
		/* Linux's xenfs prints the port with no newline. */
		snprintf(path, sizeof(path), "%s/xsd_port", sim->dir);
		n = snprintf(txt, sizeof(txt), "%u", sim->host->xsd_port);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			rc = errno;
		else if (write(fd, txt, (size_t)n) != n)
			rc = EIO;
		if (fd >= 0)
			close(fd);
		*port = sim->host->xsd_port;
	}
	sim_unlock(sim);
	return rc;
}

int sim_map_ring(struct sim *sim, uint32_t domid, int by_grant, uint64_t gfn,
		 uint64_t owner, int prot, void **addr, uint64_t *gen)
{
	struct sim_mapper *m = NULL;
	struct sim_dom *d;
	char path[4096];
	unsigned i;
	void *p;
	int fd, rc;

	sim_lock(sim);
	d = sim_find(sim, domid);
	if (!d || d->domid == 0 || (d->flags & SIM_DOM_DYING)) {
		sim_unlock(sim);
		return ESRCH;
	}
	if (by_grant ? !(d->flags & SIM_DOM_GRANTED) : gfn != d->gfn) {
		sim_unlock(sim);
		return EINVAL;
	}
	if (d->map_fail) {
		d->map_fail--;
		sim_unlock(sim);
		return ENOMEM;
	}
	for (i = 0; i < SIM_MAX_MAPPERS; i++)
		if (d->maps[i].count && d->maps[i].owner == owner)
			m = &d->maps[i];
	for (i = 0; i < SIM_MAX_MAPPERS && !m; i++)
		if (!d->maps[i].count)
			m = &d->maps[i];
	rc = m ? sim_ring_path(sim, d, path, sizeof(path)) : ENOMEM;
	if (rc) {
		sim_unlock(sim);
		return rc;
	}
	fd = open(path, (prot & PROT_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		rc = errno;
		sim_unlock(sim);
		return rc;
	}
	p = mmap(NULL, SIM_PAGE, prot, MAP_SHARED, fd, 0);
	rc = p == MAP_FAILED ? errno : 0;
	close(fd);
	if (!rc) {
		m->owner = owner;
		m->count++;
		*addr = p;
		*gen = d->gen;
	}
	sim_unlock(sim);
	return rc;
}

void sim_unmap_ring(struct sim *sim, uint64_t gen, uint64_t owner, void *addr)
{
	unsigned i, j;

	munmap(addr, SIM_PAGE);
	sim_lock(sim);
	for (i = 0; i < sim->host->doms_end; i++) {
		struct sim_dom *d = &sim->host->doms[i];

		if (!d->used || d->gen != gen)
			continue;
		for (j = 0; j < SIM_MAX_MAPPERS; j++) {
			if (d->maps[j].count && d->maps[j].owner == owner) {
				d->maps[j].count--;
				break;
			}
		}
		sim_try_finish(sim, d);
		break;
	}
	sim_unlock(sim);
}
