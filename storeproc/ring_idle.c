/* SPDX-License-Identifier: GPL-2.0-only */
/* ring_idle.c - telling the broker which guests' rings are idle; see ring_idle.h. */
#include "ring_idle.h"

#include <time.h>

#include "conn.h"
#include "ipc_out.h"
#include "storeproc.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	/* Read once a main-loop turn: the coarse clock is a few ns, and a
	 * sweep a tick (4 ms) late does not matter. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ring_idle_wait_ms(struct storeproc *sp)
{
	int64_t left;

	if (!sp->ring_idle_s)
		return -1;
	left = sp->ring_idle_next - now_ms();
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Nothing waits either way: no request held by the broker or by us, no
 * reply queued, none the broker was sent and holds. */
static bool at_rest(const struct conn *c)
{
	return !c->dead && !c->waiting && !c->in_len && !c->out_head &&
	       !c->credit_owed && !c->broker_held;
}

void ring_idle_tick(struct storeproc *sp)
{
	int64_t now;

	if (!sp->ring_idle_s || (now = now_ms()) < sp->ring_idle_next)
		return;
	sp->ring_idle_next = now + (int64_t)sp->ring_idle_s * 1000;
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
