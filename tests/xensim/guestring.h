/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guestring.h - the guest end of a xenstore ring, as Linux's xenbus
 * frontend drives it (drivers/xen/xenbus/xenbus_comms.c): attach to a
 * simulated domain's ring page and event channel, move bytes, wait for
 * events.  Used by fakeguest.
 */
#ifndef XENSIM_GUESTRING_H
#define XENSIM_GUESTRING_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

#include "simhost.h"

struct gring {
	struct sim sim;
	struct sim_evtchn ev;
	struct xenstore_domain_interface *intf; /* the shared page */
	uint32_t domid;
	uint32_t port;          /* our end of the store channel */
	int notify_always;      /* notify after every copy, not as Linux */
	/* gring_wait's bound: the watchdog thread, started at the first wait
	 * and stopped by gring_detach (watch_stop under watch_lock, signalled
	 * on watch_cond), and the deadline of the wait under way (0: none),
	 * which it reads. */
	pthread_t watchdog;
	int watchdog_on;
	pthread_mutex_t watch_lock;
	pthread_cond_t watch_cond;
	int watch_stop;
	int64_t wait_deadline_ms;
};

/* Tick of the watchdog; a token no port can be, which it sends a wait. */
#define GRING_TICK_MS 20
#define GRING_TIMEOUT_TOKEN UINT32_MAX

/*
 * Attach to domid's ring (dom0_ring: dom0's kernel ring instead) on the
 * host in directory dir (NULL: $XENSIM_DIR).
 * ESRCH: no such live domain; ESHUTDOWN: it is shut down (cannot run).
 */
int gring_attach(struct gring *g, const char *dir, uint32_t domid, int dom0_ring);
void gring_detach(struct gring *g);

/*
 * Copy up to len bytes into req[] / out of rsp[] with Linux's barriers
 * and notification rule.  Returns the bytes moved (0: ring full / empty),
 * or -EIO when the indexes are invalid.
 */
long gring_write(struct gring *g, const void *buf, size_t len);
long gring_read(struct gring *g, void *buf, size_t len);

/* CLOCK_MONOTONIC in ms: gring_wait's clock, for its callers' deadlines. */
int64_t gring_now_ms(void);

/* Send a notification on the store channel. */
int gring_notify(struct gring *g);

/*
 * Wait up to timeout_ms (and one GRING_TICK_MS more at most) for an
 * event on the store channel (consumed and unmasked, as the kernel's
 * handler does).  0 on an event, ETIMEDOUT (at once for timeout_ms <= 0,
 * nothing read), or an errno.  The first wait starts the ring's watchdog
 * thread (one a ring, ticking every GRING_TICK_MS); gring_detach stops
 * it, so a ring is attached again only after gring_detach.
 */
int gring_wait(struct gring *g, int timeout_ms);

#endif
