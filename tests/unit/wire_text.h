/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wire_text.h - xenstore messages for unit tests: build one request, and
 * turn received bytes into text that a test compares with a literal.
 *
 * Text form: one line per complete message, "TYPE req tx payload", each
 * NUL of the payload shown as '|'; e.g. "11 3 0 OK|".
 *
 * Also the harness the socket-driven tests share: the store process
 * context's common setup, and a client on one end of a socketpair whose
 * other end is a connection of that store process.
 */
#ifndef LIXS_WIRE_TEXT_H
#define LIXS_WIRE_TEXT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "conn.h"
#include "dispatch.h"
#include "storeproc.h"

/* Header and body of one request into buf (room for 16 + len bytes);
 * returns the message's length. */
static inline size_t wire_request(unsigned char *buf, uint32_t type,
				  uint32_t req, uint32_t tx, const void *body,
				  size_t len)
{
	struct xsd_sockmsg h = { type, req, tx, (uint32_t)len };

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), body, len);
	return sizeof(h) + len;
}

/*
 * The complete messages of in[0..*have) as text (static storage, valid
 * until the next call); they are removed from `in`, a partial one stays.
 */
static inline const char *wire_text(unsigned char *in, size_t *have)
{
	static char text[65536];
	size_t tl = 0, off = 0;

	text[0] = '\0';
	while (*have - off >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;

		memcpy(&h, in + off, sizeof(h));
		if (*have - off < sizeof(h) + h.len)
			break;
		tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "%u %u %u ",
				       h.type, h.req_id, h.tx_id);
		for (uint32_t i = 0; i < h.len && tl + 3 < sizeof(text); i++) {
			char ch = (char)in[off + sizeof(h) + i];

			text[tl++] = ch ? ch : '|';
		}
		text[tl++] = '\n';
		text[tl] = '\0';
		off += sizeof(h) + h.len;
	}
	memmove(in, in + off, *have - off);
	*have -= off;
	return text;
}

/* How many messages wire_text() showed: its lines. */
static inline int wire_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/*
 * What every test's store process context starts with: zeroed (limits
 * left to the caller), an epoll set, an empty store, the watch index and
 * watch events routed to the connections.  Undone by wire_sp_fini().
 */
static inline void wire_sp_init(struct storeproc *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->epfd = epoll_create1(EPOLL_CLOEXEC);
	sp->store = store_new();
	watch_index_init(&sp->watches, 1);
	sp->sink.fire = ops_watch_sink;
	sp->sink.ctx = sp;
}

/* Closes the connections, then frees what wire_sp_init() set up. */
static inline void wire_sp_fini(struct storeproc *sp)
{
	conn_close_all(sp);
	watch_index_fini(&sp->watches);
	store_free(sp->store);
	buf_free(&sp->path);
	buf_free(&sp->out);
	close(sp->epfd);
}

/* A test's end of a socketpair connection; lives in the test (static or
 * on its stack), the conn belongs to the store process. */
struct client {
	struct conn *c;
	int fd;			/* our end */
	uint32_t req;		/* last request id sent */
	unsigned char in[65536];
	size_t have;
};

/* Connects cl to sp as `who`, numbered after the connections so far. */
static inline void client_connect(struct storeproc *sp, struct client *cl,
				  const struct caller *who, bool rdonly)
{
	int sv[2];

	memset(cl, 0, sizeof(*cl));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		perror("socketpair");
	cl->fd = sv[1];
	cl->c = conn_new(sp, sv[0], 100 + (uint32_t)sp->nconns, who, rdonly);
}

/* Writes one request with the next request id (len <= 8192); the store
 * process has not read it yet. */
static inline void client_send(struct client *cl, uint32_t type,
			       uint32_t tx, const void *body, size_t len)
{
	unsigned char buf[sizeof(struct xsd_sockmsg) + 8192];
	size_t n = wire_request(buf, type, ++cl->req, tx, body, len);

	if (write(cl->fd, buf, n) != (ssize_t)n)
		perror("write");
}

/* The store process reads cl's connection and runs what became ready. */
static inline void client_pump(struct storeproc *sp, struct client *cl)
{
	conn_event(sp, cl->c, EPOLLIN);
	while (conn_run_pending(sp))
		;
}

/* Appends everything waiting on cl->fd to cl->in; returns recv()'s last
 * result, 0 once the connection closed. */
static inline ssize_t client_recv(struct client *cl)
{
	ssize_t n;

	while ((n = recv(cl->fd, cl->in + cl->have, sizeof(cl->in) - cl->have,
			 MSG_DONTWAIT)) > 0)
		cl->have += (size_t)n;
	return n;
}

#endif
