/* SPDX-License-Identifier: GPL-2.0-only */
/* ring_idle.c - telling the broker which guests' rings are idle; see ring_idle.h. */
#include "ring_idle.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "conn.h"
#include "ipc_out.h"
#include "log.h"
#include "storeproc.h"

int ring_idle_open(struct storeproc *sp)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = sp->ring_idle_s },
		.it_interval = { .tv_sec = sp->ring_idle_s },
	};
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = sp };
	int err = 0;

	sp->ring_idle_fd = -1;
	if (!sp->ring_idle_s)
		return 0;
	sp->ring_idle_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sp->ring_idle_fd < 0 || timerfd_settime(sp->ring_idle_fd, 0, &its, NULL) ||
	    epoll_ctl(sp->epfd, EPOLL_CTL_ADD, sp->ring_idle_fd, &ev)) {
		err = errno;
		log_err("--ring-idle timer: %s", strerror(err));
	}
	return err;
}

/* Nothing waits either way: no request held by the broker or by us, no
 * reply queued, none the broker was sent and holds. */
static bool at_rest(const struct conn *c)
{
	return !c->dead && !c->waiting && !c->in_len && !c->out_head &&
	       !c->credit_owed && !c->broker_held;
}

void ring_idle_sweep(struct storeproc *sp)
{
	uint64_t expired;

	if (sp->ring_idle_fd >= 0 &&
	    read(sp->ring_idle_fd, &expired, sizeof(expired)) != (ssize_t)sizeof(expired))
		return;  /* not due after all */
	for (struct conn *c = sp->first; c; c = c->next) {
		/* Guests' rings only: dom0's kernel ring is never unmapped. */
		if (!c->ring || !c->who.domid || c->idle == RING_TOLD)
			continue;
		if (c->idle == RING_BUSY || !at_rest(c))
			c->idle = RING_QUIET;
		else if (!ipc_out_send(sp, IPC_RING_IDLE, c->id, NULL, 0))
			c->idle = RING_TOLD;
	}
}
