/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * broker.h - lixs-broker's one context struct and the interfaces between
 * its files: options.c (command line), listener.c (unix sockets),
 * supervise.c (the store process), main.c (loop); lib/daemon.h has the
 * pid file and detaching;
 * the Xen channels' files declare theirs in xen.h.
 */
#ifndef LIXS_BROKER_H
#define LIXS_BROKER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>

#include "daemon.h"
#include "ipc.h"
#include "policy.h"
#include "xen.h"

#define BROKER_STORE_ARGV_MAX 64

/* What an epoll event's data.u32 says the ready fd is. */
enum broker_tag {
	TAG_SIGNAL = 1,
	TAG_IPC,
	TAG_STORE_TIMER,       /* restart backoff, or HELLO deadline */
	TAG_ACCEPT_TIMER,      /* end of an EMFILE pause */
	TAG_EVTCHN,            /* the Xen event channel handle */
	TAG_LISTEN,            /* + enum policy_listener */
	TAG_KEPT = 0x100,      /* + slot of a kept client (clients.c) */
};
#define TAG_KEPT_MAX (UINT32_MAX - TAG_KEPT)

/* A unix client's socket, kept across store process restarts (clients.c). */
struct kept_client {
	int fd;                           /* -1: a free slot */
	uint32_t conn;                    /* its id; a free slot: the next free one */
	struct ipc_conn_new cn;           /* to hand over again: ring_pos IPC_SOCKET_RESUMED */
};

/* Channels (-x, -i, -u).  None named: all, the Xen ones only if the host has Xen. */
#define CHAN_XENBUS 0x1u       /* dom0's kernel ring */
#define CHAN_VIRQ 0x2u         /* VIRQ_DOM_EXC */
#define CHAN_UNIX 0x4u         /* the unix sockets */
#define CHAN_ALL (CHAN_XENBUS | CHAN_VIRQ | CHAN_UNIX)

/* The command line; strings are borrowed from argv. */
struct broker_opts {
	unsigned int channels;            /* CHAN_* named; 0: none named */
	bool no_domain_init;              /* --no-domain-init: not dom0's ring */
	bool foreground;                  /* -N */
	int verbosity;                    /* -V count */
	const char *pidfile;              /* -F; NULL: default when daemonized */
	const char *tracefile;            /* -T; NULL: no wire trace */
	const char *storeproc;            /* --storeproc; NULL: search */
	const char *sock_path[POLICY_SOCK_COUNT];  /* NULL: xenstored's defaults */
	/* argv for the store process; [0] is filled in at spawn time. */
	const char *store_argv[BROKER_STORE_ARGV_MAX + 2];
	int store_argc;
};

struct broker {
	struct broker_opts o;
	char sock_path[POLICY_SOCK_COUNT][sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *storeproc;            /* the store process binary */
	char storeproc_buf[PATH_MAX];
	const char *pidfile;              /* NULL: none written (yet) */

	int epfd, sigfd, store_tfd, accept_tfd;
	int ready_fd;                     /* daemonize pipe, -1 once told or in -N */
	int trace_fd;                     /* -T file, handed to each store process; or -1 */
	int journal_fd;                   /* the store's journal memfd, never read; or -1 */
	int listen_fd[POLICY_SOCK_COUNT]; /* -1 until the first HELLO */
	bool serving;                     /* sockets exist: the first HELLO came */
	bool accept_paused;               /* out of fds: wait for accept_tfd */
	struct timespec warned;           /* last rate-limited warning */
	uint32_t next_conn;               /* the last socket connection id (listener.c) */
	struct kept_client *kept;         /* nkept slots, owned */
	uint32_t nkept, kept_free;        /* kept_free: first free slot, or UINT32_MAX */
	int keep_fd_max;                  /* copies only of fds below this */
	unsigned int chan;                /* CHAN_* in use */
	struct xen_chan xen;

	pid_t store_pid;                  /* -1: no store process */
	struct ipc_link ipc;              /* broker's end of the channel; in -1: none */
	struct policy_state pst;
	struct timespec store_started;
	unsigned int backoff_ms;          /* delay before the next quick restart */

	struct ipc_rx rx;                 /* frames from the store, read together */
};

/*
 * options.c: -1 to go on, with the log open as -N and -V say; else the
 * exit status (usage, --help, --version).
 */
int options_parse(struct broker_opts *o, int argc, char **argv);

/* listener.c */
int listener_paths(struct broker *b);
int listener_open(struct broker *b);
void listener_update(struct broker *b);
void listener_accept(struct broker *b, enum policy_listener which);
void listener_resume(struct broker *b);
void listener_close(struct broker *b);
/* True at most once every 10 s: for warnings a client or the store can cause. */
bool broker_ratelimit(struct broker *b);

/* clients.c */
void clients_init(struct broker *b);
void clients_keep(struct broker *b, uint32_t conn, const struct ipc_conn_new *cn, int fd);
void clients_hangup(struct broker *b, uint32_t slot);
void clients_store_ready(struct broker *b);

/* supervise.c */
void store_find(struct broker *b);
void store_spawn(struct broker *b);
bool store_ready(const struct broker *b);
void store_readable(struct broker *b);
void store_reap(struct broker *b);
void store_timer(struct broker *b);
void store_stop(struct broker *b);
/*
 * A frame (and fd, or -1) to the store process, waiting while its socket
 * is full; false if it is gone, dying or hung (then killed).
 */
bool store_send(struct broker *b, uint32_t type, uint32_t conn, const void *p,
		uint32_t len, int fd);

/* tracefile.c (-T): open it, at start and again on SIGHUP (logging any
 * failure), and hand it to a store process that said HELLO. */
void tracefile_open(struct broker *b);
void tracefile_send(struct broker *b);

/* main.c */
int broker_watch(struct broker *b, int fd, uint32_t tag, uint32_t events);
void broker_timer(int tfd, unsigned int ms);
void broker_serving(struct broker *b);
_Noreturn void broker_exit(struct broker *b, int status);

#endif
