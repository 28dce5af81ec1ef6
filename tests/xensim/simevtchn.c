/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simevtchn.c - event channels of the simulated host (simhost.h): ports,
 * binding, delivery through each handle's FIFO, and the handle tokens
 * whose liveness stands for a device fd's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simhost.h"

static void token_path(struct sim *sim, uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/ev-%llu", sim->dir, (unsigned long long)id);
}

/*
 * The cached write end of handle id's FIFO (simhost.h's struct sim_fifo):
 * 0 and *fd, ENXIO when nobody reads it, or another errno (ENOENT: gone).
 */
static int fifo_fd(struct sim *sim, uint64_t id, int *fd)
{
	char path[4096];
	struct sim_fifo *f;
	unsigned i;

	for (i = 0; i < SIM_FIFO_CACHE; i++) {
		if (sim->fifo[i].id == id) {
			*fd = sim->fifo[i].fd;
			return 0;
		}
	}
	token_path(sim, id, path, sizeof(path));
	*fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return errno;
	f = &sim->fifo[sim->fifo_next++ % SIM_FIFO_CACHE];
	if (f->id)
		close(f->fd);
	f->id = id;
	f->fd = *fd;
	return 0;
}

static void fifo_forget(struct sim *sim, uint64_t id)
{
	unsigned i;

	for (i = 0; i < SIM_FIFO_CACHE; i++) {
		if (sim->fifo[i].id == id) {
			close(sim->fifo[i].fd);
			sim->fifo[i].id = 0;
		}
	}
}

/*
 * Queue `port` on handle `id`'s FIFO.  A dead or vanished reader loses the
 * event, as with a dead kernel, and never raises SIGPIPE in the notifier:
 * a notifier that ignored SIGPIPE when it opened the host (the broker,
 * fakeguest) writes plainly; for any other, SIGPIPE is blocked around
 * the write and a pending one is taken back.  Masking costs two system
 * calls that no notification on Xen makes.
 */
static int fire(struct sim *sim, uint64_t id, uint32_t port)
{
	struct timespec zero = { 0, 0 };
	sigset_t pipe, old;
	ssize_t n;
	int fd, rc, err;

	rc = fifo_fd(sim, id, &fd);
	if (rc)
		return rc == ENXIO ? 0 : rc;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!sim->pipe_ignored)
		pthread_sigmask(SIG_BLOCK, &pipe, &old);
	n = write(fd, &port, sizeof(port));
	err = n < 0 ? errno : 0;
	if (!sim->pipe_ignored) {
		if (err == EPIPE)
			sigtimedwait(&pipe, NULL, &zero);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (err == EPIPE) {
		fifo_forget(sim, id);
		return 0;
	}
	return n == (ssize_t)sizeof(port) ? 0 : EAGAIN;
}

void sim_deliver(struct sim *sim, uint32_t domid, uint32_t port)
{
	struct sim_port *p = sim_port(sim, domid, port);

	if (!p || p->state == SIM_PORT_FREE)
		return;
	if (p->masked || !p->handle) {
		p->pending = 1;
		return;
	}
	p->masked = 1;
	p->pending = 0;
	if (sim->nfire < SIM_FIRE_MAX) {
		sim->fire[sim->nfire++] = (struct sim_fire){ p->handle, domid, port };
	} else if (fire(sim, p->handle, port) != 0) {
		/* Nobody to take it now: keep it for the next claim/unmask. */
		p->masked = 0;
		p->pending = 1;
	}
}

void sim_fire_deferred(struct sim *sim, const struct sim_fire *events, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct sim_fire *f = &events[i];
		struct sim_port *p;

		if (fire(sim, f->id, f->port) == 0)
			continue;
		/* As sim_deliver: pending for the next claim/unmask, if the
		 * port is still that handle's (unmasked since or not: Xen
		 * would have kept it pending either way). */
		sim_lock(sim);  /* its sim_unlock finds nothing to fire */
		p = sim_port(sim, f->domid, f->port);
		if (p && p->state != SIM_PORT_FREE && p->handle == f->id) {
			p->masked = 0;
			p->pending = 1;
		}
		sim_unlock(sim);
	}
}

void sim_virq(struct sim *sim, uint32_t virq)
{
	uint32_t i;

	for (i = 1; i < sim->host->dom0_end; i++) {
		struct sim_port *p = &sim->host->dom0_ports[i];

		if (p->state == SIM_PORT_VIRQ && p->virq == virq)
			sim_deliver(sim, 0, i);
	}
}

/* Close one end; the other end becomes unbound for us, as in Xen. */
void sim_port_close(struct sim *sim, uint32_t domid, uint32_t port)
{
	struct sim_port *p = sim_port(sim, domid, port), *peer;

	if (!p)
		return;
	if (p->state == SIM_PORT_INTERDOMAIN) {
		peer = sim_port(sim, p->remote_dom, p->remote_port);
		if (peer && peer->state == SIM_PORT_INTERDOMAIN &&
		    peer->remote_dom == domid && peer->remote_port == port) {
			peer->state = SIM_PORT_UNBOUND;
			peer->remote_dom = domid;
			peer->remote_port = 0;
		}
	}
	memset(p, 0, sizeof(*p));
	if (domid == 0 && port < sim->host->dom0_free)
		sim->host->dom0_free = port;
}

uint32_t sim_port_alloc(struct sim *sim, uint32_t domid)
{
	uint32_t i;

	/* dom0 binds one port a guest: start above the ports known taken. */
	if (domid == 0) {
		for (i = sim->host->dom0_free ? sim->host->dom0_free : 1;
		     i < SIM_DOM0_PORTS; i++) {
			if (sim->host->dom0_ports[i].state == SIM_PORT_FREE) {
				sim->host->dom0_free = i + 1;
				if (i + 1 > sim->host->dom0_end)
					sim->host->dom0_end = i + 1;
				return i;
			}
		}
		sim->host->dom0_free = SIM_DOM0_PORTS;
		return 0;
	}
	for (i = 1; i < sim_nports(domid); i++) {
		struct sim_port *p = sim_port(sim, domid, i);

		if (!p)
			return 0;
		if (p->state == SIM_PORT_FREE)
			return i;
	}
	return 0;
}

/*
 * Nobody holds token id open: a FIFO without readers refuses a
 * non-blocking writer (ENXIO).  Called with the lock held, so no notifier
 * holds it open for a moment meanwhile.
 */
int sim_token_dead(struct sim *sim, uint64_t id)
{
	char path[4096];
	int fd;

	token_path(sim, id, path, sizeof(path));
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == ENXIO || errno == ENOENT;
}
int sim_token_open(struct sim *sim, uint64_t *id, int *fd)
{
	char path[4096];
	int rc;

	sim_lock(sim);
	*id = sim->host->next_handle++;
	sim_unlock(sim);
	token_path(sim, *id, path, sizeof(path));
	if (mkfifo(path, 0600) < 0)
		return errno;
	/* Read-write so the FIFO never reports EOF and counts as held. */
	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0) {
		rc = errno;
		unlink(path);
		return rc;
	}
	return 0;
}

void sim_token_close(struct sim *sim, uint64_t id, int fd)
{
	char path[4096];

	fifo_forget(sim, id);
	token_path(sim, id, path, sizeof(path));
	unlink(path);
	close(fd);
}

int sim_evtchn_open(struct sim *sim, uint32_t domid, int kernel,
		    struct sim_evtchn *ev)
{
	ev->sim = sim;
	ev->domid = domid;
	ev->kernel = kernel;
	ev->fd = -1;
	/* The token is the event FIFO: blocking, as /dev/xen/evtchn is
	 * (callers may set O_NONBLOCK themselves). */
	return sim_token_open(sim, &ev->id, &ev->fd);
}

void sim_evtchn_close(struct sim_evtchn *ev)
{
	struct sim *sim = ev->sim;
	uint32_t i;

	sim_lock(sim);
	for (i = 1; i < sim_nports(ev->domid); i++) {
		struct sim_port *p = sim_port(sim, ev->domid, i);

		if (!p || p->handle != ev->id)
			continue;
		/* A kernel's port outlives the process playing the kernel. */
		if (ev->kernel)
			p->handle = 0;
		else
			sim_port_close(sim, ev->domid, i);
	}
	sim_unlock(sim);
	sim_token_close(sim, ev->id, ev->fd);
	ev->fd = -1;
}

static struct sim_port *new_port(struct sim_evtchn *ev, uint32_t *port)
{
	struct sim_port *p;

	*port = sim_port_alloc(ev->sim, ev->domid);
	p = *port ? sim_port(ev->sim, ev->domid, *port) : NULL;
	if (p) {
		memset(p, 0, sizeof(*p));
		p->by_process = !ev->kernel;
		p->handle = ev->id;
	}
	return p;
}

int sim_evtchn_bind_interdomain(struct sim_evtchn *ev, uint32_t rdom, uint32_t rport)
{
	struct sim *sim = ev->sim;
	struct sim_port *rp, *lp;
	uint32_t lport;

	sim_lock(sim);
	if (sim_phantom(sim, rdom)) {
		/* Its store port is unbound for anybody; it never answers. */
		lp = rport && rport < SIM_GUEST_PORTS ? new_port(ev, &lport) : NULL;
		if (lp) {
			lp->state = SIM_PORT_INTERDOMAIN;
			lp->remote_dom = rdom;
			lp->remote_port = rport;
			sim_deliver(sim, ev->domid, lport);  /* as below */
		}
		sim_unlock(sim);
		return !rport || rport >= SIM_GUEST_PORTS ? -EINVAL : lp ? (int)lport : -ENOSPC;
	}
	if (!sim_find(sim, rdom)) {
		sim_unlock(sim);
		return -ESRCH;
	}
	rp = sim_port(sim, rdom, rport);
	if (!rp || rp->state != SIM_PORT_UNBOUND || rp->remote_dom != ev->domid) {
		sim_unlock(sim);
		return -EINVAL;
	}
	lp = new_port(ev, &lport);
	if (!lp) {
		sim_unlock(sim);
		return -ENOSPC;
	}
	lp->state = SIM_PORT_INTERDOMAIN;
	lp->remote_dom = rdom;
	lp->remote_port = rport;
	rp->state = SIM_PORT_INTERDOMAIN;
	rp->remote_dom = ev->domid;
	rp->remote_port = lport;
	/* Xen marks the new local port pending: notifications sent to the
	 * unbound port may have been lost. */
	sim_deliver(sim, ev->domid, lport);
	sim_unlock(sim);
	return (int)lport;
}

int sim_evtchn_bind_unbound(struct sim_evtchn *ev, uint32_t rdom)
{
	struct sim_port *p;
	uint32_t port;

	sim_lock(ev->sim);
	if (!sim_find(ev->sim, rdom)) {
		sim_unlock(ev->sim);
		return -ESRCH;
	}
	p = new_port(ev, &port);
	if (p) {
		p->state = SIM_PORT_UNBOUND;
		p->remote_dom = rdom;
	}
	sim_unlock(ev->sim);
	return p ? (int)port : -ENOSPC;
}

int sim_evtchn_bind_virq(struct sim_evtchn *ev, uint32_t virq)
{
	struct sim_port *p;
	uint32_t i, port;

	/* NR_VIRQS is 24; only dom0 gets the global ones here. */
	if (virq >= 24 || ev->domid != 0)
		return -EINVAL;
	sim_lock(ev->sim);
	for (i = 1; i < ev->sim->host->dom0_end; i++) {
		p = &ev->sim->host->dom0_ports[i];
		if (p->state == SIM_PORT_VIRQ && p->virq == virq) {
			sim_unlock(ev->sim);
			return -EEXIST;
		}
	}
	p = new_port(ev, &port);
	if (p) {
		p->state = SIM_PORT_VIRQ;
		p->virq = virq;
	}
	sim_unlock(ev->sim);
	return p ? (int)port : -ENOSPC;
}

int sim_evtchn_claim(struct sim_evtchn *ev, uint32_t port)
{
	struct sim_port *p;
	int rc = 0;

	sim_lock(ev->sim);
	p = sim_port(ev->sim, ev->domid, port);
	if (!p || p->state == SIM_PORT_FREE) {
		rc = EINVAL;
	} else {
		p->handle = ev->id;
		p->masked = 0;
		if (p->pending) {
			p->pending = 0;
			sim_deliver(ev->sim, ev->domid, port);
		}
	}
	sim_unlock(ev->sim);
	return rc;
}

/* The port if this handle owns it (Linux: ENOTCONN otherwise). */
static struct sim_port *owned(struct sim_evtchn *ev, uint32_t port)
{
	struct sim_port *p = sim_port(ev->sim, ev->domid, port);

	return p && p->state != SIM_PORT_FREE && p->handle == ev->id ? p : NULL;
}

int sim_evtchn_unbind(struct sim_evtchn *ev, uint32_t port)
{
	int rc = 0;

	sim_lock(ev->sim);
	if (owned(ev, port))
		sim_port_close(ev->sim, ev->domid, port);
	else
		rc = ENOTCONN;
	sim_unlock(ev->sim);
	return rc;
}

int sim_evtchn_notify(struct sim_evtchn *ev, uint32_t port)
{
	struct sim_port *p;
	int rc = 0;

	sim_lock(ev->sim);
	p = owned(ev, port);
	if (!p)
		rc = ENOTCONN;
	else if (p->state == SIM_PORT_INTERDOMAIN)
		sim_deliver(ev->sim, p->remote_dom, p->remote_port);
	else if (p->state == SIM_PORT_VIRQ)
		rc = EINVAL;
	/* Unbound: Xen drops the notification silently. */
	sim_unlock(ev->sim);
	return rc;
}

int sim_evtchn_unmask(struct sim_evtchn *ev, uint32_t port)
{
	struct sim_port *p;

	sim_lock(ev->sim);
	p = owned(ev, port);
	/* Linux ignores unmask of a port the handle does not own. */
	if (p) {
		p->masked = 0;
		if (p->pending) {
			p->pending = 0;
			sim_deliver(ev->sim, ev->domid, port);
		}
	}
	sim_unlock(ev->sim);
	return 0;
}
