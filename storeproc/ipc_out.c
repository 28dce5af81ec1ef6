/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipc_out.c - the store process's ordered, non-blocking output to the
 * broker (ipc_out.h).
 */
#include "ipc_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct ipc_outq {
	struct ipc_outq *next;
	uint32_t type;
	uint32_t conn;
	uint32_t len;
	unsigned char payload[];
};

/* 0 sent, EAGAIN the socket is full; anything else is logged and the
 * frame counts as gone (the broker went away or refused it). */
static int try_send(struct storeproc *sp, uint32_t type, uint32_t conn,
		    const void *payload, uint32_t len)
{
	int err = ipc_send(sp->ipc_fd, type, conn, payload, len, -1);

	if (err && err != EAGAIN)
		log_debug("%s frame for conn %u not sent: %s",
			  ipc_type_lookup(type)->name, conn, strerror(err));
	return err == EAGAIN ? EAGAIN : 0;
}

int ipc_out_send(struct storeproc *sp, uint32_t type, uint32_t conn,
		 const void *payload, uint32_t len)
{
	struct ipc_outq *q;

	/* Behind queued frames it must wait its turn. */
	if (!sp->ipcq_head && try_send(sp, type, conn, payload, len) == 0)
		return 0;
	q = malloc(sizeof(*q) + len);
	if (!q) {
		log_err("no memory to queue a %s frame for conn %u; lost",
			ipc_type_lookup(type)->name, conn);
		return ENOMEM;
	}
	q->next = NULL;
	q->type = type;
	q->conn = conn;
	q->len = len;
	if (len)
		memcpy(q->payload, payload, len);
	if (sp->ipcq_tail)
		sp->ipcq_tail->next = q;
	else
		sp->ipcq_head = q;
	sp->ipcq_tail = q;
	sp->ipcq_bytes += len;
	return 0;
}

void ipc_out_flush(struct storeproc *sp)
{
	while (sp->ipcq_head) {
		struct ipc_outq *q = sp->ipcq_head;

		if (try_send(sp, q->type, q->conn, q->payload, q->len) == EAGAIN)
			return;
		sp->ipcq_head = q->next;
		if (!sp->ipcq_head)
			sp->ipcq_tail = NULL;
		sp->ipcq_bytes -= q->len;
		free(q);
	}
}

bool ipc_out_waiting(const struct storeproc *sp)
{
	return sp->ipcq_head != NULL;
}

void ipc_out_free(struct storeproc *sp)
{
	while (sp->ipcq_head) {
		struct ipc_outq *q = sp->ipcq_head;

		sp->ipcq_head = q->next;
		free(q);
	}
	sp->ipcq_tail = NULL;
	sp->ipcq_bytes = 0;
}
