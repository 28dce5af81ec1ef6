/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * listener.c - the two unix sockets: where they live, creating them, and
 * handing every accepted client to the store process.
 *
 * The broker never reads a byte from a client.  It asks the kernel who
 * the peer is, gives the connection the identity policy/ assigns to the
 * socket it came in on, and passes the fd on with one IPC_CONN_NEW frame,
 * keeping its own descriptor (clients.c).
 * While no store process is ready, the listeners leave the epoll set and
 * clients wait in the backlog instead of being refused.
 */
#include "broker.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define DEFAULT_RUNDIR "/run/xenstored"
#define ACCEPT_BATCH 32            /* per wakeup, so the ipc socket gets a turn */
#define ACCEPT_PAUSE_MS 100        /* after EMFILE/ENFILE */
#define WARN_INTERVAL_S 10         /* rate limit for warnings a peer can cause */

/* Paths as cxenstored 4.17 and libxenstore find them (xs_lib.c). */
int listener_paths(struct broker *b)
{
	static const char *const leaf[POLICY_SOCK_COUNT] = {
		[POLICY_SOCK_RW] = "socket", [POLICY_SOCK_RO] = "socket_ro",
	};
	const char *rundir = getenv("XENSTORED_RUNDIR"), *env_path = getenv("XENSTORED_PATH");
	size_t sz = sizeof(b->sock_path[0]);

	if (!rundir || !*rundir)
		rundir = DEFAULT_RUNDIR;
	if (!b->o.sock_path[POLICY_SOCK_RW] && env_path && *env_path)
		b->o.sock_path[POLICY_SOCK_RW] = env_path;
	for (int i = 0; i < POLICY_SOCK_COUNT; i++) {
		const char *p = b->o.sock_path[i];
		int n = p ? snprintf(b->sock_path[i], sz, "%s", p) :
			    snprintf(b->sock_path[i], sz, "%s/%s", rundir, leaf[i]);

		if (n < 0 || (size_t)n >= sz) {
			log_err("socket path too long (at most %zu bytes)", sz - 1);
			return ENAMETOOLONG;
		}
	}
	if (!strcmp(b->sock_path[POLICY_SOCK_RW], b->sock_path[POLICY_SOCK_RO])) {
		log_err("the read-write and read-only sockets are both %s",
			b->sock_path[POLICY_SOCK_RW]);
		return EINVAL;
	}
	return 0;
}

/* Remove a socket file left by a dead daemon, but never a live one's. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int probe, busy;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket", path);
		return EEXIST;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return errno;
	busy = !connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) || errno == EAGAIN;
	close(probe);
	if (busy) {
		log_err("%s is in use: is another xenstore daemon running?", path);
		return EADDRINUSE;
	}
	return unlink(path) ? errno : 0;
}

int listener_open(struct broker *b)
{
	for (int which = 0; which < POLICY_SOCK_COUNT; which++) {
		const char *path = b->sock_path[which];
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char dir[sizeof(sa.sun_path)];
		int fd, ret;

		memcpy(sa.sun_path, path, strlen(path) + 1);
		memcpy(dir, path, strlen(path) + 1);
		if (mkdir(dirname(dir), 0755) && errno != EEXIST)
			log_warn("cannot create %s: %s", dir, strerror(errno));
		if ((ret = clear_stale(path, &sa)))
			return ret;
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
			return errno;
		/* 0600 for both: only local root may talk to xenstore at all. */
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    chmod(path, 0600) || listen(fd, SOMAXCONN) ||
		    (ret = broker_watch(b, fd, TAG_LISTEN + which, 0))) {
			ret = ret ? ret : errno;
			log_err("cannot listen on %s: %s", path, strerror(ret));
			close(fd);
			return ret;
		}
		b->listen_fd[which] = fd;
	}
	return 0;
}

/* Listen while a store process is ready and fds are to be had. */
void listener_update(struct broker *b)
{
	bool on = b->serving && store_ready(b) && !b->accept_paused;

	for (int i = 0; i < POLICY_SOCK_COUNT; i++) {
		struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = TAG_LISTEN + i };

		if (b->listen_fd[i] >= 0)
			epoll_ctl(b->epfd, EPOLL_CTL_MOD, b->listen_fd[i], &ev);
	}
}

bool broker_ratelimit(struct broker *b)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (b->warned.tv_sec && now.tv_sec - b->warned.tv_sec < WARN_INTERVAL_S)
		return false;
	b->warned = now;
	return true;
}

/* Give one accepted client to the store process; `fd` is kept or closed. */
static void hand_over(struct broker *b, enum policy_listener which, int fd)
{
	const struct policy_identity *id = policy_identity(which);
	struct ucred cr = { 0 };
	socklen_t crlen = sizeof(cr);
	/* listener_accept() runs only while the store process is ready. */
	int ret = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) ? errno : 0;
	/* Filled in after getsockopt (declarations run in order); unused if it failed. */
	struct ipc_conn_new cn = {
		.kind = IPC_KIND_SOCKET, .domid = id->domid, .access = id->access,
		.pid = cr.pid, .uid = cr.uid, .gid = cr.gid,
	};
	/* Sockets' ids run 1 .. RING_CONN_BIT - 1 and round again: rings' are
	 * above (xen.h), so no id is ever both. */
	uint32_t conn = b->next_conn % (RING_CONN_BIT - 1) + 1;

	b->next_conn = conn;
	if (!ret)
		ret = store_send(b, IPC_CONN_NEW, conn, &cn, sizeof(cn), fd) ? 0 : EPIPE;
	if (!ret) {
		log_debug("conn %u: pid %d uid %u on the %s socket", conn,
			  (int)cr.pid, (unsigned int)cr.uid, id->name);
		clients_keep(b, conn, &cn, fd);
		return;
	}
	if (broker_ratelimit(b))
		log_warn("dropped a client of the %s socket: %s", id->name,
			 ret == EPIPE ? "no store process" : strerror(ret));
	close(fd);
}

void listener_accept(struct broker *b, enum policy_listener which)
{
	for (int i = 0; i < ACCEPT_BATCH && store_ready(b) && !b->accept_paused; i++) {
		int fd = accept4(b->listen_fd[which], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			hand_over(b, which, fd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* The client stays in the backlog; retrying now would spin. */
			if (broker_ratelimit(b))
				log_warn("accept: %s; pausing for %d ms", strerror(errno),
					 ACCEPT_PAUSE_MS);
			b->accept_paused = true;
			listener_update(b);
			broker_timer(b->accept_tfd, ACCEPT_PAUSE_MS);
			return;
		}
		if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO)
			log_err("accept on %s: %s", b->sock_path[which], strerror(errno));
	}
}

void listener_resume(struct broker *b)
{
	uint64_t ticks;

	if (read(b->accept_tfd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
		return;
	b->accept_paused = false;
	listener_update(b);
}

void listener_close(struct broker *b)
{
	for (int i = 0; i < POLICY_SOCK_COUNT; i++) {
		if (b->listen_fd[i] < 0)
			continue;
		close(b->listen_fd[i]);
		b->listen_fd[i] = -1;
		unlink(b->sock_path[i]);
	}
}
