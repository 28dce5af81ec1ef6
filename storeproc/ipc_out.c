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

/* 0 sent, EAGAIN the pipe is full; anything else is logged and the
 * frame counts as gone (the broker went away or refused it). */
static int try_send(struct storeproc *sp, uint32_t type, uint32_t conn,
		    const void *payload, uint32_t len)
{
	int err = ipc_send(&sp->ipc, type, conn, payload, len, -1);

	if (err && err != EAGAIN)
		log_debug("%s frame for conn %u not sent: %s",
			  ipc_type_lookup(type)->name, conn, strerror(err));
	return err == EAGAIN ? EAGAIN : 0;
}

/* Behind the pipe: keep it for ipc_out_flush().  0 or ENOMEM. */
static int enqueue(struct storeproc *sp, uint32_t type, uint32_t conn,
		   const void *payload, uint32_t len)
{
	struct ipc_outq *q = malloc(sizeof(*q) + len);

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

/* The corked frames, with one write if they fit; what does not go is queued. */
static void send_batch(struct storeproc *sp)
{
	unsigned int sent = 0;
	int err = 0;

	if (!sp->ipcb.n)
		return;
	if (!sp->ipcq_head)
		err = ipc_send_many(&sp->ipc, sp->ipcb.f, sp->ipcb.n, &sent);
	else
		err = EAGAIN;
	if (err && err != EAGAIN) {
		/* As try_send: the broker went away or refused them. */
		log_debug("%u frames not sent: %s", sp->ipcb.n, strerror(err));
		sent = sp->ipcb.n;
	}
	for (unsigned int i = sent; i < sp->ipcb.n; i++) {
		const struct ipc_out_frame *f = &sp->ipcb.f[i];

		(void)enqueue(sp, f->type, f->conn, f->payload, f->len);
	}
	sp->ipcb.n = 0;
	sp->ipcb.used = 0;
}

/*
 * A credit right behind its connection's reply joins it (ipc.h's
 * CONN_CREDIT): the broker then wakes once for both, not twice.  The
 * reply's bytes are the batch's last, so they move up to make room for
 * the count in front.
 */
static bool join_reply(struct storeproc *sp, uint32_t conn, const void *count)
{
	struct ipc_out_frame *f = sp->ipcb.n ? &sp->ipcb.f[sp->ipcb.n - 1] : NULL;
	unsigned char *p;

	if (!f || f->type != IPC_REPLY_DATA || f->conn != conn ||
	    f->len > IPC_PAYLOAD_MAX - sizeof(uint32_t) ||
	    sizeof(sp->ipcb.data) - sp->ipcb.used < sizeof(uint32_t))
		return false;
	p = sp->ipcb.data + sp->ipcb.used - f->len;
	memmove(p + sizeof(uint32_t), p, f->len);
	memcpy(p, count, sizeof(uint32_t));
	f->type = IPC_CONN_CREDIT;
	f->len += sizeof(uint32_t);
	sp->ipcb.used += sizeof(uint32_t);
	return true;
}

int ipc_out_send(struct storeproc *sp, uint32_t type, uint32_t conn,
		 const void *payload, uint32_t len)
{
	if (sp->ipcb.corked) {
		if (type == IPC_CONN_CREDIT && len == sizeof(uint32_t) &&
		    join_reply(sp, conn, payload))
			return 0;
		if (sp->ipcb.n == IPC_SEND_MANY_MAX ||
		    sizeof(sp->ipcb.data) - sp->ipcb.used < len)
			send_batch(sp);
		if (len)
			memcpy(sp->ipcb.data + sp->ipcb.used, payload, len);
		sp->ipcb.f[sp->ipcb.n++] = (struct ipc_out_frame){
			type, conn, len, sp->ipcb.data + sp->ipcb.used };
		sp->ipcb.used += len;
		return 0;
	}
	/* Behind queued frames it must wait its turn. */
	if (!sp->ipcq_head && try_send(sp, type, conn, payload, len) == 0)
		return 0;
	return enqueue(sp, type, conn, payload, len);
}

void ipc_out_cork(struct storeproc *sp)
{
	sp->ipcb.corked = true;
}

void ipc_out_uncork(struct storeproc *sp)
{
	send_batch(sp);
	sp->ipcb.corked = false;
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
