/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * supervise.c - the store process: find it, spawn it, read its frames,
 * notice its death and restart it, stop it at exit.
 *
 * The store process is trusted with nothing: every frame it sends goes
 * through ipc_recv() and policy_check(), and any frame that fails either
 * ends it (DESIGN: a malformed frame from the store ends the store
 * process).  It is restarted with a backoff so that one that dies on
 * start-up costs a restart every 5 s, not a busy loop.
 */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define HELLO_TIMEOUT_MS 10000     /* spawn to IPC_HELLO */
#define QUICK_DEATH_MS 1000        /* dying sooner than this grows the backoff */
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 5000
#define STORE_STALL_MS 10000      /* a full ipc pipe, before the store is ended */
#define STOP_WAIT_MS 2000          /* after IPC_SHUTDOWN, before SIGKILL */
#define FRAMES_PER_WAKEUP 64  /* then only those already read (ipc.h) */

/* --storeproc, else next to our own binary (a build tree), else installed. */
void store_find(struct broker *b)
{
	char *self = b->storeproc_buf;
	/* Leave room to put the name after the last slash. */
	ssize_t n = readlink("/proc/self/exe", self, sizeof(b->storeproc_buf) - sizeof("lixs-storeproc"));

	b->storeproc = b->o.storeproc ? b->o.storeproc : LIXS_LIBEXECDIR "/lixs-storeproc";
	if (!b->o.storeproc && n > 0) {
		self[n] = '\0';
		/* The kernel's link is an absolute path: it has a slash. */
		strcpy(strrchr(self, '/') + 1, "lixs-storeproc");
		if (!access(self, X_OK))
			b->storeproc = self;
	}
	log_debug("store process binary: %s", b->storeproc);
}

bool store_ready(const struct broker *b)
{
	return b->ipc.in >= 0 && !b->pst.awaiting_hello;
}

/* In the child: fds 3-5 are the channel, nothing else leaks, then exec. */
static _Noreturn void store_exec(struct broker *b, const struct ipc_link *l, pid_t broker_pid)
{
	int fd[3] = { l->fds, l->in, l->out };  /* as LIXS_IPC_FD, _IN_FD, _OUT_FD */
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Its own process group: ^C reaches the broker, which stops it in order. */
	setpgid(0, 0);
	/* Without its broker it has no clients to serve (it must re-arm after setuid). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != broker_pid)
		_exit(127);
	/* All copied above 5 first, so that no dup2 overwrites one not yet
	 * moved (and dup2 onto itself would leave FD_CLOEXEC set). */
	for (int i = 0; i < 3; i++)
		if ((fd[i] = fcntl(fd[i], F_DUPFD, LIXS_IPC_OUT_FD + 1)) < 0)
			_exit(127);
	for (int i = 0; i < 3; i++)
		if (dup2(fd[i], LIXS_IPC_FD + i) < 0)
			_exit(127);
	close_range(LIXS_IPC_OUT_FD + 1, ~0u, 0);
	/* Only the broker speaks for the service to systemd. */
	unsetenv("NOTIFY_SOCKET");
	b->o.store_argv[0] = b->storeproc;
	execv(b->storeproc, (char *const *)b->o.store_argv);
	log_err("cannot run %s: %s", b->storeproc, strerror(errno));
	_exit(127);
}

static void schedule_restart(struct broker *b)
{
	unsigned int delay = b->backoff_ms;

	if (!b->serving) {
		log_err("the store process did not start; giving up");
		broker_exit(b, 1);
	}
	b->backoff_ms = delay ? (delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2)
			      : BACKOFF_FIRST_MS;
	if (!delay) {
		log_info("restarting the store process");
		store_spawn(b);
		return;
	}
	log_info("restarting the store process in %u ms", delay);
	broker_timer(b->store_tfd, delay);
}

void store_spawn(struct broker *b)
{
	struct ipc_link theirs;
	pid_t pid = -1, self = getpid();
	/* Our end is ready before the fork, so a failure has no child to undo
	 * (the child's copies of it and of the epoll fd go at exec). */
	int ret = ipc_link_pair(&b->ipc, &theirs);

	ret = ret ? ret : broker_watch(b, b->ipc.in, TAG_IPC, EPOLLIN);
	pid = ret ? -1 : fork();
	if (pid == 0)
		store_exec(b, &theirs, self);
	if (pid < 0 && !ret)
		ret = errno;
	ipc_link_close(&theirs);
	if (ret) {
		log_err("cannot start the store process: %s", strerror(ret));
		ipc_link_close(&b->ipc);  /* its pipe's last descriptor: off epoll with it */
		schedule_restart(b);
		return;
	}
	b->store_pid = pid;
	clock_gettime(CLOCK_MONOTONIC, &b->store_started);
	b->pst.awaiting_hello = true;
	broker_timer(b->store_tfd, HELLO_TIMEOUT_MS);
	log_debug("spawned store process %d", (int)pid);
}

/* Cut the channel and kill; store_reap() logs the death and restarts. */
static void store_kill(struct broker *b)
{
	ipc_link_close(&b->ipc);
	ipc_rx_reset(&b->rx);
	if (b->store_pid > 0)
		kill(b->store_pid, SIGKILL);
	listener_update(b);
}

bool store_send(struct broker *b, uint32_t type, uint32_t conn, const void *p,
		uint32_t len, int fd)
{
	/* With an fd, EAGAIN is the descriptor socket's: ipc_send waits itself
	 * for room for the frame that follows a descriptor sent. */
	struct pollfd pfd = { .fd = fd >= 0 ? b->ipc.fds : b->ipc.out, .events = POLLOUT };
	int ret = store_ready(b) ? ipc_send(&b->ipc, type, conn, p, len, fd) : EPIPE;

	/*
	 * The store never blocks and keeps reading, so a full pipe drains
	 * soon: waiting paces rings and new clients by the store.  One that
	 * reads nothing for that long is hung (or stopped, or starved of CPU
	 * on a busy host: hence 10 s, not less) and is ended like one that
	 * never says HELLO.
	 */
	while (ret == EAGAIN && poll(&pfd, 1, STORE_STALL_MS) == 1)
		ret = ipc_send(&b->ipc, type, conn, p, len, fd);
	if (ret == EAGAIN || ret == ETIMEDOUT) {
		log_err("store process %d reads no frames for %d ms; killing it",
			(int)b->store_pid, STORE_STALL_MS);
		store_kill(b);
	}
	/* EPIPE: the store is dying, store_reap() restarts it; others are bugs. */
	return !ret;
}

/* policy_check decoded and checked the HELLO; nothing in it is needed here. */
static void store_hello(struct broker *b)
{
	b->pst.awaiting_hello = false;
	broker_timer(b->store_tfd, 0);
	/* First of all: the state to replay (docs/RESTART.md); none at first
	 * start.  A store that missed it would serve an empty tree: restart. */
	if (ipc_send(&b->ipc, IPC_JOURNAL_RESTORE, 0, NULL, 0, b->journal_fd)) {
		store_kill(b);
		return;
	}
	log_info("store process %d started", (int)b->store_pid);
	broker_serving(b);
	ring_store_ready(b);
	clients_store_ready(b);
}

void store_readable(struct broker *b)
{
	for (int i = 0; (i < FRAMES_PER_WAKEUP || ipc_rx_buffered(&b->rx)) && b->ipc.in >= 0; i++) {
		struct ipc_msg m = { .fd = -1 };
		int ret = ipc_recv_next(&b->ipc, &b->rx, IPC_TO_BROKER, &m);

		if (ret == EAGAIN)
			return;
		if (!ret)
			ret = policy_check(&b->pst, &m);
		/* Hold an accepted journal, never reading it, and close the one it
		 * replaces (docs/RESTART.md); no other type carries an fd. */
		if (!ret && m.hdr.type == IPC_JOURNAL)
			m.fd = __atomic_exchange_n(&b->journal_fd, m.fd, __ATOMIC_RELAXED);
		if (m.fd >= 0)
			close(m.fd);
		if (!ret && m.hdr.type == IPC_HELLO)
			store_hello(b);
		else if (!ret)
			ring_frame(b, &m);  /* ignores JOURNAL: conn 0 is no ring */
		if (!ret)
			continue;
		if (ret == EPIPE)  /* usually dying: store_reap says why */
			log_debug("store process %d closed its ipc channel", (int)b->store_pid);
		else if (ret == EPERM)
			log_err("store process %d sent a refused %s frame; killing it",
				(int)b->store_pid, ipc_type_lookup(m.hdr.type)->name);
		else
			log_err("store process %d sent a bad frame (%s); killing it",
				(int)b->store_pid,
				strerrorname_np(ret) ? strerrorname_np(ret) : "?");
		store_kill(b);
	}
}

/* The store process is gone for good: say how, and forget it. */
static void store_gone(struct broker *b, int status, int prio)
{
	if (WIFEXITED(status)) {
		log_msg(prio, "store process %d exited with status %d",
			(int)b->store_pid, WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *abbr = sigabbrev_np(sig);

		log_msg(prio, "store process %d killed by signal SIG%s (%d)%s%s", (int)b->store_pid,
			abbr ? abbr : "?", sig, WCOREDUMP(status) ? ", core dumped" : "",
			sig == SIGSYS ? ", seccomp violation likely" : "");
	}
	b->store_pid = -1;
	b->pst.awaiting_hello = false;
	broker_timer(b->store_tfd, 0);
	store_kill(b);  /* with no pid: closes the channel, stops listening */
}

void store_reap(struct broker *b)
{
	struct timespec now;
	pid_t pid;
	int status;

	/* Frames it sent before dying (a journal handover) still count. */
	store_readable(b);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid != b->store_pid)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - b->store_started.tv_sec) * 1000 +
		    (now.tv_nsec - b->store_started.tv_nsec) / 1000000 >= QUICK_DEATH_MS)
			b->backoff_ms = 0;
		store_gone(b, status, LOG_ERR);
		schedule_restart(b);
	}
}

void store_timer(struct broker *b)
{
	uint64_t ticks;

	if (read(b->store_tfd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
		return;
	if (b->store_pid < 0) {
		store_spawn(b);
	} else if (b->pst.awaiting_hello) {
		log_err("store process %d not ready after %d ms; killing it",
			(int)b->store_pid, HELLO_TIMEOUT_MS);
		store_kill(b);
	}
}

/* Blocking, for the way out: ask, then insist, then kill. */
void store_stop(struct broker *b)
{
	int status;

	if (b->store_pid < 0)
		return;
	if (b->ipc.in >= 0)
		ipc_send(&b->ipc, IPC_SHUTDOWN, 0, NULL, 0, -1);
	/* Polled: at exit, 10 ms more or less do not matter, and simple does. */
	for (int ms = 0; ms < STOP_WAIT_MS; ms += 10) {
		if (waitpid(b->store_pid, &status, WNOHANG) == b->store_pid) {
			store_gone(b, status, LOG_INFO);
			return;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	/* A store that ignores SHUTDOWN is hung or hostile: SIGTERM would
	 * add nothing (it has no handler), so the next word is SIGKILL. */
	log_warn("store process %d ignored SHUTDOWN; sending SIGKILL", (int)b->store_pid);
	kill(b->store_pid, SIGKILL);
	if (waitpid(b->store_pid, &status, 0) == b->store_pid)
		store_gone(b, status, LOG_INFO);
}
