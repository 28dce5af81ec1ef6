/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xensim_evtchn.c - libxenevtchn for dom0 on the simulated host.
 *
 * As with Linux's /dev/xen/evtchn: one fd per handle, readable while a
 * port is queued; xenevtchn_pending() reads one port (blocking unless the
 * caller set O_NONBLOCK on the fd); a delivered port stays masked until
 * xenevtchn_unmask().  Errors as the Linux driver and Xen report them:
 * ESRCH binding to a domain that does not exist, EINVAL to a port that is
 * not unbound for dom0, ENOTCONN notifying or unbinding a port this
 * handle does not own, EEXIST binding a VIRQ twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "xensim.h"

struct xenevtchn_handle {
	struct sim_evtchn ev;
};

/* libxen style: -1 with errno set. */
static int fail(int rc)
{
	errno = rc;
	return -1;
}

XSIM_API xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
					  unsigned int flags)
{
	struct xenevtchn_handle *h;
	struct sim *sim;
	int rc;

	(void)logger;
	sim = xensim_host(&rc);
	if (!sim) {
		errno = rc;
		return NULL;
	}
	/* A broker that died left its ports bound: the kernel would have
	 * closed them when its fd went away. */
	sim_reap(sim);
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	rc = sim_evtchn_open(sim, 0, 0, &h->ev);
	if (rc) {
		free(h);
		errno = rc;
		return NULL;
	}
	if (flags & XENEVTCHN_NO_CLOEXEC)
		fcntl(h->ev.fd, F_SETFD, 0);
	return h;
}

XSIM_API int xenevtchn_close(xenevtchn_handle *h)
{
	if (!h)
		return 0;
	sim_evtchn_close(&h->ev);
	free(h);
	return 0;
}

XSIM_API int xenevtchn_fd(xenevtchn_handle *h)
{
	return h->ev.fd;
}

XSIM_API int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	int rc = sim_evtchn_notify(&h->ev, port);

	return rc ? fail(rc) : 0;
}

static xenevtchn_port_or_error_t port_or_error(int r)
{
	return r < 0 ? fail(-r) : r;
}

XSIM_API xenevtchn_port_or_error_t
xenevtchn_bind_unbound_port(xenevtchn_handle *h, uint32_t domid)
{
	return port_or_error(sim_evtchn_bind_unbound(&h->ev, domid));
}

XSIM_API xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t domid,
			   evtchn_port_t remote_port)
{
	return port_or_error(sim_evtchn_bind_interdomain(&h->ev, domid, remote_port));
}

XSIM_API xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *h, unsigned int virq)
{
	return port_or_error(sim_evtchn_bind_virq(&h->ev, virq));
}

XSIM_API int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	int rc = sim_evtchn_unbind(&h->ev, port);

	return rc ? fail(rc) : 0;
}

XSIM_API xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	uint32_t port;
	ssize_t n = read(h->ev.fd, &port, sizeof(port));

	if (n != (ssize_t)sizeof(port))
		return n < 0 ? -1 : fail(EIO);
	return (xenevtchn_port_or_error_t)port;
}

XSIM_API int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	return sim_evtchn_unmask(&h->ev, port);
}
