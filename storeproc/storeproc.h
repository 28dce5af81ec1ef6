/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * storeproc.h - the store process's one context struct: everything that
 * lives as long as the process (the ipc channel, the epoll set, the store,
 * the watch index, the connections, the limits from the command line).
 * main.c owns it; every other file gets it passed in.
 */
#ifndef LIXS_STOREPROC_H
#define LIXS_STOREPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "domain.h"
#include "ipc.h"
#include "journal_io.h"
#include "store.h"
#include "sandbox.h"
#include "watch.h"

struct conn;
struct outmsg;

/*
 * cxenstored 4.17's per-domain limits and quotas, by option, with its
 * defaults.  Unprivileged connections are held to them; dom0 is not.
 */
struct storeproc_limits {
	unsigned int entry_nb;		/* -E: nodes per domain (1000) */
	unsigned int entry_size;	/* -S: bytes per node (2048) */
	unsigned int watch_nb;		/* -W: watches per domain (128) */
	unsigned int transaction;	/* -t: open transactions (10) */
	unsigned int perm_nb;		/* -A: perms entries per node (5) */
	unsigned int path_max;		/* -M: relative path length (2048) */
	unsigned int outstanding;	/* -Q outstanding= (20) */
	unsigned int trans_nodes;	/* -Q transaction-nodes= (1024) */
	unsigned int memory;		/* -Q memory= bytes (2.5 MiB) */
	unsigned int memory_soft;	/* -q memory= bytes (2 MiB) */
	unsigned int watch_event_s;	/* -w watch-event= seconds (20) */
};

struct storeproc {
	struct ipc_link ipc;		/* the broker: LIXS_IPC_FD, _IN_FD, _OUT_FD */
	int epfd;
	struct storeproc_limits lim;
	struct sandbox_opts sandbox;	/* --store-user, --seccomp-profile */

	struct store *store;		/* owned */
	struct quota *quota;		/* owned; usage per domid (quota.h) */
	struct watch_index watches;
	struct store_event_sink sink;	/* store events -> journal, watches */
	struct journal_state journal;	/* journal_io.h */

	/* Live connections, oldest first: the order watch events are
	 * handed out in, as upstream walks its connection list. */
	struct conn *first, *last;
	size_t nconns;
	uint64_t conn_seq;		/* creation stamps */
	/* Connections with work to do outside an epoll event (buffered
	 * requests, output to flush), those whose budget ran out while
	 * serving an event (served again at the end of the turn, so that a
	 * flood does not run ahead of the batch's other connections), and
	 * closed ones awaiting free(). */
	struct conn *pending;
	struct conn *later;
	struct conn *dead;

	/* Per-request scratch, reset for each request and shrunk after a
	 * big one, so a request's temporaries never outlive it (XSA-416). */
	struct buf path;
	struct buf out;
	/* A small reply's or event's allocation, freed once written, kept
	 * for the next one (conn.c): no malloc and free for each reply.
	 * Owned; NULL: none. */
	struct outmsg *out_spare;

	/* Guests and dom0's ring (domain.h); -K keeps what a dead domain
	 * owned, given to dom0, instead of deleting it. */
	struct domain_table domains;
	bool keep_orphans;
	/* --ring-idle: the sweep's period (0: none) and its timerfd, owned
	 * (-1: none; ring_idle.h). */
	unsigned int ring_idle_s;
	int ring_idle_fd;
	/* Frames for the broker that its socket did not take yet, oldest
	 * first (ipc_out.h). */
	struct ipc_outq *ipcq_head, *ipcq_tail;
	size_t ipcq_bytes;
	/* Frames held while corked (ipc_out_cork), then sent together. */
	struct {
		bool corked;
		unsigned int n;
		size_t used;
		struct ipc_out_frame f[IPC_SEND_MANY_MAX];
		unsigned char data[IPC_SEND_MANY_MAX * IPC_PAYLOAD_MAX];
	} ipcb;

	/* CONTROL "log on": every request is logged at LOG_INFO. */
	bool trace;
	/* -T: the wire trace the broker handed over (wiretrace.h); 0 or -1: none. */
	int trace_fd;
	bool quit;
	int exit_code;
	struct ipc_rx ipc_rx;   /* frames from the broker, read together */
};

#endif
