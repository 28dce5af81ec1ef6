/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clients.c - the broker's own descriptor of every unix client socket it
 * handed over, so that a client outlives a store process crash
 * (docs/RESTART.md, "Connections").
 *
 * The broker never reads or writes these sockets: epoll watches each for
 * nothing but hang-up, which comes when the client closes its end or when
 * the store process shuts the socket down to drop the client; then the
 * copy is closed.  When a store process dies, the next one gets every
 * kept socket again, after the rings, marked as resumed
 * (IPC_SOCKET_RESUMED); it alone decides, from what the dead one left in
 * the journal, whether it can go on serving the client or must drop it.
 */
#include "broker.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"

#define NO_SLOT UINT32_MAX
#define KEEP_FD_RESERVE 32

/* The last KEEP_FD_RESERVE descriptors below the fd limit are never used
 * for copies, so that the broker can still accept while the store process
 * holds as many clients as its own (equal) limit allows. */
void clients_init(struct broker *b)
{
	struct rlimit rl;

	b->kept_free = NO_SLOT;
	b->keep_fd_max = getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur > INT_MAX ? INT_MAX :
			 (int)rl.rlim_cur - KEEP_FD_RESERVE;
}

/* Keep `fd` (handed over as conn); else it is closed, as before there
 * were copies: that client is then closed at a restart. */
void clients_keep(struct broker *b, uint32_t conn, const struct ipc_conn_new *cn, int fd)
{
	uint32_t cap = b->nkept ? 2 * b->nkept : 64;
	struct kept_client *v = NULL;

	if (b->kept_free == NO_SLOT && cap < TAG_KEPT_MAX && (v = realloc(b->kept, cap * sizeof(*v))))
		for (b->kept = v; b->nkept < cap; b->nkept++) {
			v[b->nkept].fd = -1;	/* onto the free list */
			v[b->nkept].conn = b->kept_free;
			b->kept_free = b->nkept;
		}
	/* Near the fd limit, accepting matters more than keeping. */
	if (fd >= b->keep_fd_max || b->kept_free == NO_SLOT ||
	    broker_watch(b, fd, TAG_KEPT + b->kept_free, 0)) {
		log_debug("conn %u: no copy kept; it will not outlive the store process", conn);
		close(fd);
		return;
	}
	v = &b->kept[b->kept_free];
	b->kept_free = v->conn;
	*v = (struct kept_client){ .fd = fd, .conn = conn, .cn = *cn };
	v->cn.ring_pos = IPC_SOCKET_RESUMED;  /* the copy is only for a restarted store */
}

/* The client or the store process ended the connection: drop the copy.
 * Off epoll first: the store process's descriptor keeps the socket open. */
void clients_hangup(struct broker *b, uint32_t slot)
{
	if (slot >= b->nkept || b->kept[slot].fd < 0)
		return;
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, b->kept[slot].fd, NULL);
	close(b->kept[slot].fd);
	b->kept[slot] = (struct kept_client){ .fd = -1, .conn = b->kept_free };
	b->kept_free = slot;
}

/* A new store process said HELLO: give it every kept client again (it
 * logs what becomes of each). */
void clients_store_ready(struct broker *b)
{
	for (uint32_t i = 0; i < b->nkept; i++) {
		struct kept_client *k = &b->kept[i];

		if (k->fd >= 0 && !store_send(b, IPC_CONN_NEW, k->conn, &k->cn, sizeof(k->cn), k->fd))
			return;	/* it died too: the next one gets them */
	}
}
