/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * main.c - lixs-broker start-up, the epoll loop and the way out.
 *
 * Start-up order: options, log, paths, detach, signals, spawn the store
 * process.  The sockets appear only once the store process said HELLO
 * (broker_serving), so a client that finds the socket finds a server.
 */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "broker_confine.h"
#include "log.h"

#define DEFAULT_DAEMON_PIDFILE "/run/xenstored.pid"

int broker_watch(struct broker *b, int fd, uint32_t tag, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };

	return epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) ? errno : 0;
}

/* Arm a one-shot timerfd `ms` from now; 0 disarms it. */
void broker_timer(int tfd, unsigned int ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 },
	};

	timerfd_settime(tfd, 0, &its, NULL);
}

/* The store process said HELLO: make the sockets once, then (re)open the gate. */
void broker_serving(struct broker *b)
{
	if (!b->serving) {
		const char *pidfile = b->o.pidfile ? b->o.pidfile :
				      b->o.foreground ? NULL : DEFAULT_DAEMON_PIDFILE;
		char err[PROFILE_ERR_MAX];

		if (((b->chan & CHAN_UNIX) && listener_open(b)) || (pidfile && pidfile_write(pidfile)))
			broker_exit(b, 1);
		b->pidfile = pidfile;  /* written: removed on the way out */
		b->serving = true;
		/* All it opens is open: shed what serving does not need (SECURITY.md). */
		if (broker_confine(err)) {
			log_err("cannot confine the broker: %s; not serving unconfined", err);
			broker_exit(b, 1);
		}
		if (b->chan & CHAN_UNIX)
			log_info("serving on %s (%s), %s (%s)", b->sock_path[POLICY_SOCK_RW],
				 policy_identity(POLICY_SOCK_RW)->name, b->sock_path[POLICY_SOCK_RO],
				 policy_identity(POLICY_SOCK_RO)->name);
		daemonize_ready(&b->ready_fd);
		/* Type=notify units (and upstream's launch-xenstore) wait for this. */
		sd_notify(0, "READY=1");
	}
	tracefile_send(b);
	listener_update(b);
}

_Noreturn void broker_exit(struct broker *b, int status)
{
	/* Sockets first, so that new clients fail fast instead of queueing. */
	listener_close(b);
	store_stop(b);
	if (b->pidfile)
		pidfile_remove(b->pidfile);
	log_info("exiting with status %d", status);
	exit(status);
}

static void on_signals(struct broker *b)
{
	struct signalfd_siginfo si;

	while (read(b->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("SIG%s received, stopping", sigabbrev_np((int)si.ssi_signo));
			broker_exit(b, 0);
		}
		if (si.ssi_signo == SIGCHLD)
			store_reap(b);
		else if (si.ssi_signo == SIGHUP)
			tracefile_open(b);
		else
			log_debug("SIG%s ignored", sigabbrev_np((int)si.ssi_signo));
	}
}

/* Returns -1 when set up, else the exit status. */
static int broker_init(struct broker *b, int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP };
	sigset_t set;
	int ret, fd;

	memset(b, 0, sizeof(*b));
	b->epfd = b->sigfd = b->store_tfd = b->accept_tfd = b->ready_fd = -1;
	b->ipc = (struct ipc_link){ -1, -1, -1 };
	b->listen_fd[POLICY_SOCK_RW] = b->listen_fd[POLICY_SOCK_RO] = b->trace_fd = -1;
	b->store_pid = b->journal_fd = -1;
	ret = options_parse(&b->o, argc, argv);
	if (ret >= 0)
		return ret;
	tracefile_open(b);
	if (listener_paths(b))
		return 1;
	store_find(b);
	clients_init(b);
	b->chan = b->o.channels ? b->o.channels : CHAN_ALL;
	/* Before xen_open(), which watches its fd; it survives daemonize(). */
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	if (xen_open(b))
		return 1;
	/* Keep 0-2 taken, so no socket of ours can land there and be dup2'ed over. */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	if (!b->o.foreground && (ret = daemonize(&b->ready_fd))) {
		log_err("cannot daemonize: %s", strerror(ret));
		return 1;
	}
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	b->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	b->store_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	b->accept_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (b->sigfd < 0 || b->epfd < 0 || b->store_tfd < 0 || b->accept_tfd < 0 ||
	    broker_watch(b, b->sigfd, TAG_SIGNAL, EPOLLIN) ||
	    broker_watch(b, b->store_tfd, TAG_STORE_TIMER, EPOLLIN) ||
	    broker_watch(b, b->accept_tfd, TAG_ACCEPT_TIMER, EPOLLIN)) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		return 1;
	}
	store_spawn(b);
	return -1;
}

int main(int argc, char **argv)
{
	static void (*const on_tag[TAG_LISTEN])(struct broker *) = {
		[TAG_SIGNAL] = on_signals, [TAG_IPC] = store_readable, [TAG_EVTCHN] = xen_events,
		[TAG_STORE_TIMER] = store_timer, [TAG_ACCEPT_TIMER] = listener_resume,
	};
	struct broker b;
	struct epoll_event ev[16];
	int ret = broker_init(&b, argc, argv);

	if (ret >= 0)
		return ret;
	for (;;) {
		int n = epoll_wait(b.epfd, ev, 16, -1);

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			broker_exit(&b, 1);
		}
		for (int i = 0; i < n; i++) {
			uint32_t tag = ev[i].data.u32;

			if (tag && tag < TAG_LISTEN)
				on_tag[tag](&b);
			else if (tag >= TAG_LISTEN && tag < TAG_LISTEN + POLICY_SOCK_COUNT)
				listener_accept(&b, (enum policy_listener)(tag - TAG_LISTEN));
			else if (tag >= TAG_KEPT)
				clients_hangup(&b, tag - TAG_KEPT);
		}
	}
}
