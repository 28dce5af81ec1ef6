/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ring_idle.h - --ring-idle SECONDS: which guests' rings have been idle,
 * told to the broker (IPC_RING_IDLE) so that it can unmap their pages
 * until they are needed again (ipc.h, "Idle guests").
 *
 * The store alone sees a ring's traffic as requests and replies, so it
 * alone decides when a ring is idle; the broker only checks that nothing
 * is in flight before it unmaps.  A sweep each period: a ring with no
 * traffic since the sweep before, and nothing waiting either way, is told
 * once, so a ring goes after one to two idle periods.  The period is a
 * timerfd armed once: the main loop's wait has no timeout (a timeout
 * arms a kernel timer at every wait, a request's cost on a VM).
 */
#ifndef LIXS_RING_IDLE_H
#define LIXS_RING_IDLE_H

struct storeproc;

/* What a ring connection's sweeps saw (struct conn's `idle`). */
enum ring_idle_state {
	RING_BUSY = 0,          /* traffic since the last sweep (a new conn too) */
	RING_QUIET,             /* none in a whole period */
	RING_TOLD,              /* the broker was sent RING_IDLE */
};

/* The periodic timer, before the sandbox (sp->ring_idle_fd; none without
 * --ring-idle), added to sp->epfd with sp's address as its tag.  0, or
 * an errno value (logged). */
int ring_idle_open(struct storeproc *sp);

/* The timer fired (or a test says so): the sweep. */
void ring_idle_sweep(struct storeproc *sp);

#endif
