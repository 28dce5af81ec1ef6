/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guestring.c - the guest end of a xenstore ring (guestring.h).
 *
 * Index rules (docs/misc/xenstore-ring.txt): free-running u32 indexes,
 * byte k at k & (size - 1), valid while prod - cons <= size.  Writer:
 * read the consumer, full barrier, copy, write barrier, publish prod,
 * then notify if the server had caught up (had consumed everything before
 * this write), as Linux does.  Reader: read prod, read barrier, copy, full
 * barrier, publish cons, notify if the ring was full.  A server that
 * sleeps without re-checking the indexes after its own update stalls
 * here, as it would with a Linux guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guestring.h"

#define MASK(i) ((i) & (XENSTORE_RING_SIZE - 1))

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

int gring_attach(struct gring *g, const char *dir, uint32_t domid, int dom0_ring)
{
	char path[4096];
	struct sim_dom *d;
	void *page;
	int fd, rc;

	memset(g, 0, sizeof(*g));
	g->ev.fd = -1;
	rc = dir ? sim_open(&g->sim, dir) : sim_open_env(&g->sim);
	if (rc)
		return rc;
	sim_lock(&g->sim);
	d = sim_find(&g->sim, dom0_ring ? 0 : domid);
	if (!d || (d->flags & SIM_DOM_DYING))
		rc = ESRCH;
	else if (d->flags & SIM_DOM_SHUTDOWN)
		rc = ESHUTDOWN;         /* its vcpus no longer run */
	else if (dom0_ring && !g->sim.host->xsd_port)
		rc = ENOENT;
	else
		rc = sim_ring_path(&g->sim, d, path, sizeof(path));
	if (!rc) {
		g->domid = d->domid;
		g->port = dom0_ring ? g->sim.host->xsd_port : d->store_port;
	}
	sim_unlock(&g->sim);
	if (rc)
		goto fail;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = errno;
		goto fail;
	}
	page = mmap(NULL, SIM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (page == MAP_FAILED) {
		rc = errno;
		goto fail;
	}
	g->intf = page;
	/* The port belongs to the guest kernel, which we play. */
	rc = sim_evtchn_open(&g->sim, g->domid, 1, &g->ev);
	if (!rc)
		rc = sim_evtchn_claim(&g->ev, g->port);
	if (rc)
		goto fail;
	return 0;
fail:
	gring_detach(g);
	return rc;
}

void gring_detach(struct gring *g)
{
	if (g->watchdog_on) {
		pthread_mutex_lock(&g->watch_lock);
		g->watch_stop = 1;
		pthread_cond_signal(&g->watch_cond);
		pthread_mutex_unlock(&g->watch_lock);
		pthread_join(g->watchdog, NULL);
		pthread_cond_destroy(&g->watch_cond);
		pthread_mutex_destroy(&g->watch_lock);
		g->watchdog_on = 0;
	}
	if (g->ev.fd >= 0)
		sim_evtchn_close(&g->ev);
	if (g->intf)
		munmap(g->intf, SIM_PAGE);
	g->intf = NULL;
	if (g->sim.host)
		sim_close(&g->sim);
}

int gring_notify(struct gring *g)
{
	return sim_evtchn_notify(&g->ev, g->port);
}

long gring_write(struct gring *g, const void *buf, size_t len)
{
	struct xenstore_domain_interface *in = g->intf;
	const char *src = buf;
	uint32_t cons, prod, avail;
	long done = 0;

	while (len) {
		cons = load(&in->req_cons);
		prod = load(&in->req_prod);
		if (prod - cons > XENSTORE_RING_SIZE)
			return -EIO;
		/* Write the data only after reading the consumer. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail = XENSTORE_RING_SIZE - (prod - cons);
		if (avail > XENSTORE_RING_SIZE - MASK(prod))
			avail = XENSTORE_RING_SIZE - MASK(prod);
		if (avail > len)
			avail = (uint32_t)len;
		if (avail == 0)
			break;
		memcpy(in->req + MASK(prod), src, avail);
		/* The server must not see the new producer before the data. */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		store(&in->req_prod, prod + avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (g->notify_always || (int32_t)(prod - load(&in->req_cons)) <= 0)
			gring_notify(g);
		src += avail;
		len -= avail;
		done += avail;
	}
	return done;
}

long gring_read(struct gring *g, void *buf, size_t len)
{
	struct xenstore_domain_interface *in = g->intf;
	char *dst = buf;
	uint32_t cons, prod, avail;
	long done = 0;

	while (len) {
		cons = load(&in->rsp_cons);
		prod = load(&in->rsp_prod);
		if (cons == prod)
			break;
		if (prod - cons > XENSTORE_RING_SIZE)
			return -EIO;
		avail = prod - cons;
		if (avail > XENSTORE_RING_SIZE - MASK(cons))
			avail = XENSTORE_RING_SIZE - MASK(cons);
		if (avail > len)
			avail = (uint32_t)len;
		/* Read the data only after reading the producer. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		memcpy(dst, in->rsp + MASK(cons), avail);
		/* The server must not see free space before we copied out. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		store(&in->rsp_cons, cons + avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (g->notify_always || load(&in->rsp_prod) - cons >= XENSTORE_RING_SIZE)
			gring_notify(g);
		dst += avail;
		len -= avail;
		done += avail;
	}
	return done;
}

int64_t gring_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The watchdog: every tick, a wait past its deadline gets a token in its
 * event FIFO, which ends the blocking read.  A token that comes late
 * (the read had ended) is skipped by the next wait.
 */
static void *watchdog(void *arg)
{
	struct gring *g = arg;
	const uint32_t token = GRING_TIMEOUT_TOKEN;
	struct timespec next;

	pthread_mutex_lock(&g->watch_lock);
	while (!g->watch_stop) {
		int64_t d = __atomic_load_n(&g->wait_deadline_ms, __ATOMIC_ACQUIRE);

		if (d && gring_now_ms() >= d &&
		    __atomic_compare_exchange_n(&g->wait_deadline_ms, &d, 0, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED) &&
		    write(g->ev.fd, &token, sizeof(token)) < 0)
			perror("guest ring watchdog");
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_nsec += GRING_TICK_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		/* gring_detach signals it to stop at once. */
		pthread_cond_timedwait(&g->watch_cond, &g->watch_lock, &next);
	}
	pthread_mutex_unlock(&g->watch_lock);
	return NULL;
}

static int watchdog_start(struct gring *g)
{
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);

	if (!rc)
		rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(&g->watch_cond, &attr);
	pthread_condattr_destroy(&attr);
	if (rc)
		return rc;
	pthread_mutex_init(&g->watch_lock, NULL);
	g->watch_stop = 0;
	rc = pthread_create(&g->watchdog, NULL, watchdog, g);
	if (rc) {
		pthread_cond_destroy(&g->watch_cond);
		pthread_mutex_destroy(&g->watch_lock);
		return rc;
	}
	g->watchdog_on = 1;
	return 0;
}

/*
 * A blocking read, as a guest waits for its interrupt: not poll() then
 * read(), nor a timer armed for each wait, which cost this stand-in 0.8
 * and 0.5 µs a request that the ring benchmark (fakeguest --bench) would
 * charge to the daemon.  The watchdog bounds it.
 */
int gring_wait(struct gring *g, int timeout_ms)
{
	int64_t deadline = gring_now_ms() + timeout_ms;
	uint32_t port;
	ssize_t n;
	int rc;

	if (!g->watchdog_on && (rc = watchdog_start(g)))
		return rc;
	do {
		if (gring_now_ms() >= deadline)
			return ETIMEDOUT;
		__atomic_store_n(&g->wait_deadline_ms, deadline, __ATOMIC_RELEASE);
		n = read(g->ev.fd, &port, sizeof(port));
		__atomic_store_n(&g->wait_deadline_ms, 0, __ATOMIC_RELEASE);
		if (n < 0 && errno != EINTR)
			return errno;
		if (n >= 0 && n != (ssize_t)sizeof(port))
			return EIO;
	} while (n < 0 || port == GRING_TIMEOUT_TOKEN);
	return sim_evtchn_unmask(&g->ev, port);
}
