/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipc_out.h - frames from the store process to the broker, in order,
 * without ever blocking: what the pipe does not take now waits in a
 * queue (storeproc's ipcq_*) until epoll says it is writable.
 *
 * The queue is bounded by what produces it: reply bytes by the ring
 * window of each connection, control frames by the requests that cause
 * them.  A frame that cannot be queued (no memory) is lost and logged;
 * for RING_UNMAP that leaks one mapping in the broker until it notices
 * the domain's death itself.
 */
#ifndef LIXS_IPC_OUT_H
#define LIXS_IPC_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "storeproc.h"

/* Send (or queue) one frame; `payload` is copied.  0 or ENOMEM. */
int ipc_out_send(struct storeproc *sp, uint32_t type, uint32_t conn,
		 const void *payload, uint32_t len);

/*
 * Corked, frames are held (up to IPC_SEND_MANY_MAX, then sent) and go
 * together at ipc_out_uncork(), with one write if they fit (ipc_send_many):
 * a ring's replies and the credit that says they were sent.
 */
void ipc_out_cork(struct storeproc *sp);
void ipc_out_uncork(struct storeproc *sp);

/* Send what is queued, as far as the pipe takes it. */
void ipc_out_flush(struct storeproc *sp);

/* Frames are waiting: epoll should also watch for EPOLLOUT. */
bool ipc_out_waiting(const struct storeproc *sp);

/* Drop everything queued (at exit). */
void ipc_out_free(struct storeproc *sp);

#endif
