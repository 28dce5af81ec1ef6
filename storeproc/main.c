/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * main.c - lixs-storeproc: options, start-up checks, the epoll loop over
 * the broker's ipc channel and every client connection, and the handling
 * of the broker's frames.
 *
 * The broker execs this program with its end of the ipc channel on fds
 * LIXS_IPC_FD (descriptors), LIXS_IPC_IN_FD and LIXS_IPC_OUT_FD (frames).
 * Once ready it says IPC_HELLO; the broker then hands over clients
 * (IPC_CONN_NEW, one fd each) and this process serves them itself.
 * IPC_SHUTDOWN or the broker going away ends it with status 0; a
 * malformed frame from the broker is a bug there and ends it with
 * status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "ipc.h"
#include "ipc_out.h"
#include "journal_io.h"
#include "limit_opts.h"
#include "log.h"
#include "optval.h"
#include "path.h"
#include "quota.h"
#include "ring_idle.h"
#include "sandbox.h"
#include "storeproc.h"
#include "wiretrace.h"

#define EPOLL_BATCH 64
#define IPC_BATCH 64	/* broker frames a turn, then only those already read (ipc.h) */

enum { OPT_VERSION = 256, OPT_SYSLOG, OPT_STORE_USER, OPT_SECCOMP_PROFILE, OPT_RING_IDLE };

/* The limits as lixs-broker passes them on (lib/limit_opts.h). */
#define LIMIT_OPT(name, c, arg, help) { name, required_argument, NULL, c },

static const struct option long_opts[] = {
	{ "verbose", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "store-user", required_argument, NULL, OPT_STORE_USER },
	{ "seccomp-profile", required_argument, NULL, OPT_SECCOMP_PROFILE },
	{ "ring-idle", required_argument, NULL, OPT_RING_IDLE },
	LIXS_LIMIT_OPTS(LIMIT_OPT)
	{ "keep-orphans", no_argument, NULL, 'K' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: lixs-storeproc [OPTION]...\n"
"The store process of lixs; lixs-broker runs it with its ipc channel on fds %d-%d.\n"
"\n"
"  -V, --verbose              log requests and connections (debug)\n"
"      --syslog               log to syslog, not stderr (the broker is a daemon)\n"
"      --store-user NAME      run as this user once sandboxed (lixs)\n"
"      --seccomp-profile FILE seccomp profile instead of the built-in one;\n"
"                             see lixs-seccomp(5)\n"
"      --ring-idle SECONDS    let the broker unmap a guest's ring page after\n"
"                             that long without traffic (10; 0: never)\n"
"  -h, --help                 show this help and exit\n"
"      --version              show the version and exit\n"
"  -E, --entry-nb N           nodes per domain (1000)\n"
"  -S, --entry-size N         bytes per node (2048)\n"
"  -W, --watch-nb N           watches per domain (128)\n"
"  -t, --transaction N        open transactions per domain (10)\n"
"  -A, --perm-nb N            permission entries per node (5)\n"
"  -M, --path-max N           length of a path below a domain's home (2048)\n"
"  -Q, --quota WHAT=N         outstanding, transaction-nodes or memory\n"
"  -q, --quota-soft memory=N  memory use that logs a warning\n"
"  -w, --timeout watch-event=SECONDS\n"
"                             how long a domain's watch event may wait\n"
"  -K, --keep-orphans         give the nodes of a dead domain to dom0\n"
"                             instead of deleting them\n",
		LIXS_IPC_FD, LIXS_IPC_OUT_FD);
}

/* "what=N" when arg starts with `what` and "=". */
static const char *value_of(const char *arg, const char *what)
{
	size_t n = strlen(what);

	return strncmp(arg, what, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* -Q (soft false) and -q (soft true); -w.  EINVAL on anything else. */
static int set_quota(struct storeproc_limits *lim, const char *arg, bool soft)
{
	const char *v;

	if (!soft && (v = value_of(arg, "outstanding")))
		return optval_uint(v, &lim->outstanding);
	if (!soft && (v = value_of(arg, "transaction-nodes")))
		return optval_uint(v, &lim->trans_nodes);
	if ((v = value_of(arg, "memory")))
		return optval_uint(v, soft ? &lim->memory_soft : &lim->memory);
	return EINVAL;
}

static int set_timeout(struct storeproc_limits *lim, const char *arg)
{
	const char *v = value_of(arg, "watch-event");

	return v ? optval_uint(v, &lim->watch_event_s) : EINVAL;
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(struct storeproc *sp, int *verbose, bool *to_syslog,
			 int argc, char **argv)
{
	struct storeproc_limits *lim = &sp->lim;
	int opt, err;

	sp->ring_idle_s = 10;
	*lim = (struct storeproc_limits){
		.entry_nb = 1000, .entry_size = 2048, .watch_nb = 128,
		.transaction = 10, .perm_nb = 5, .path_max = PATH_REL_MAX,
		.outstanding = 20, .trans_nodes = 1024,
		.memory = 2 * 1024 * 1024 + 512 * 1024,
		.memory_soft = 2 * 1024 * 1024, .watch_event_s = 20,
	};
	while ((opt = getopt_long(argc, argv, "VhK" LIXS_LIMIT_SHORT_OPTS,
				  long_opts, NULL)) != -1) {
		switch (opt) {
		case 'V': (*verbose)++; continue;
		case OPT_SYSLOG: *to_syslog = true; continue;
		case OPT_STORE_USER: sp->sandbox.user = optarg; continue;
		case OPT_SECCOMP_PROFILE: sp->sandbox.profile = optarg; continue;
		case 'K': sp->keep_orphans = true; continue;
		case 'h': usage(stdout); return 0;
		case OPT_VERSION:
			printf("lixs-storeproc %s\n", LIXS_VERSION);
			return 0;
		case 'E': err = optval_uint(optarg, &lim->entry_nb); break;
		case 'S': err = optval_uint(optarg, &lim->entry_size); break;
		case 'W': err = optval_uint(optarg, &lim->watch_nb); break;
		case 't': err = optval_uint(optarg, &lim->transaction); break;
		case 'A': err = optval_uint(optarg, &lim->perm_nb); break;
		case 'M': err = optval_uint(optarg, &lim->path_max); break;
		case 'Q': err = set_quota(lim, optarg, false); break;
		case 'q': err = set_quota(lim, optarg, true); break;
		case 'w': err = set_timeout(lim, optarg); break;
		case OPT_RING_IDLE: err = optval_uint(optarg, &sp->ring_idle_s); break;
		default:
			usage(stderr);
			return 2;
		}
		if (err) {
			/* The limits are named as their short option, as passed on. */
			char name[] = { '-', (char)opt, '\0' };

			fprintf(stderr, "lixs-storeproc: invalid value '%s' for %s\n", optarg,
				opt == OPT_RING_IDLE ? "--ring-idle" : name);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lixs-storeproc: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	/* As upstream: more than XENSTORE_REL_PATH_MAX is that. */
	if (lim->path_max > PATH_REL_MAX)
		lim->path_max = PATH_REL_MAX;
	return -1;
}

/* fds 3-5 must be the broker's channel (ipc.h): its socket, then the
 * pipe to read, then the pipe to write. */
static int check_ipc_fds(void)
{
	static const int want[] = { LIXS_IPC_FD, LIXS_IPC_IN_FD, LIXS_IPC_OUT_FD };
	int type = 0;
	socklen_t len = sizeof(type);
	struct stat st;

	if (getsockopt(LIXS_IPC_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET ||
	    fstat(LIXS_IPC_IN_FD, &st) || !S_ISFIFO(st.st_mode) ||
	    (fcntl(LIXS_IPC_IN_FD, F_GETFL) & O_ACCMODE) != O_RDONLY ||
	    fstat(LIXS_IPC_OUT_FD, &st) || !S_ISFIFO(st.st_mode) ||
	    (fcntl(LIXS_IPC_OUT_FD, F_GETFL) & O_ACCMODE) != O_WRONLY) {
		fprintf(stderr,
			"lixs-storeproc: fds %d-%d are not a SOCK_SEQPACKET socket and two "
			"pipes; this program is run by lixs-broker\n", LIXS_IPC_FD, LIXS_IPC_OUT_FD);
		return 2;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int fl = fcntl(want[i], F_GETFL);

		if (fl < 0 || fcntl(want[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(want[i], F_SETFD, FD_CLOEXEC) < 0) {
			log_err("ipc fd %d: %s", want[i], strerror(errno));
			return 1;
		}
	}
	return 0;
}

static uint32_t random_seed(void)
{
	uint32_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	/* Early boot without entropy yet: still unpredictable enough to
	 * a guest, which cannot see the time of our start. */
	return (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
}

static void stop(struct storeproc *sp, int status)
{
	sp->quit = true;
	sp->exit_code = status;
}

static void conn_new_frame(struct storeproc *sp, const struct ipc_msg *msg)
{
	struct ipc_conn_new cn;
	struct caller who;
	struct conn *c;
	int err = ipc_conn_new_decode(msg, &cn);
	bool resumed;

	if (err) {
		log_err("malformed CONN_NEW from the broker: %s", strerror(err));
		if (msg->fd >= 0)
			conn_drop_fd(msg->fd);
		stop(sp, 1);
		return;
	}
	if (cn.kind == IPC_KIND_RING) {
		domain_ring_announced(sp, msg->hdr.conn, &cn);
		return;
	}
	resumed = cn.ring_pos == IPC_SOCKET_RESUMED;
	who.domid = cn.domid;
	who.target = DOMID_NONE;
	who.priv = cn.access & IPC_ACCESS_PRIV;
	c = conn_new(sp, msg->fd, msg->hdr.conn, &who, cn.access & IPC_ACCESS_RDONLY);
	if (!c)
		return;
	log_debug("conn %u: domid %u%s%s, pid %d%s", msg->hdr.conn, cn.domid,
		  who.priv ? " privileged" : "",
		  cn.access & IPC_ACCESS_RDONLY ? " read-only" : "", (int)cn.pid,
		  resumed ? ", given back after a restart" : "");
	journal_client_open(sp, c, resumed);
	if (resumed && !journal_client_resume(sp, c))
		conn_close(sp, c, false);
}

static void ipc_input(struct storeproc *sp)
{
	for (int i = 0; (i < IPC_BATCH || ipc_rx_buffered(&sp->ipc_rx)) && !sp->quit; i++) {
		struct ipc_msg msg;
		int err = ipc_recv_next(&sp->ipc, &sp->ipc_rx, IPC_TO_STORE, &msg);

		if (err == EAGAIN)
			return;
		if (err == EPIPE) {
			log_info("the broker went away; exiting");
			stop(sp, 0);
			return;
		}
		if (err == EMFILE) {
			/* Only that client is lost.  The broker keeps no copy of
			 * sockets on its last 32 fds (broker/clients.c), so with
			 * equal limits it is not holding this one: the kernel
			 * closed it and the client sees EOF. */
			log_warn("out of file descriptors: a client the broker handed "
				 "over was dropped (raise the store's fd limit)");
			continue;
		}
		if (err) {
			log_err("bad frame from the broker: %s", strerror(err));
			stop(sp, 1);
			return;
		}
		switch (msg.hdr.type) {
		case IPC_CONN_NEW:
			conn_new_frame(sp, &msg);
			break;
		case IPC_TRACE_FD:
			wiretrace_set_fd(sp, msg.fd);
			break;
		case IPC_JOURNAL_RESTORE:
			journal_restore_frame(sp, &msg);
			break;
		case IPC_SHUTDOWN:
			log_debug("shutdown requested by the broker");
			stop(sp, 0);
			break;
		case IPC_CONN_DATA:
		case IPC_CONN_SPACE:
		case IPC_CONN_GONE:
		case IPC_RING_RESULT:
		case IPC_DOMAIN_STATE:
			if (domain_frame(sp, &msg)) {
				log_err("malformed %s frame from the broker",
					ipc_type_lookup(msg.hdr.type)->name);
				stop(sp, 1);
			}
			break;
		default:
			log_warn("ignoring %s frame for conn %u",
				 ipc_type_lookup(msg.hdr.type)->name, msg.hdr.conn);
			if (msg.fd >= 0)
				close(msg.fd);
			break;
		}
	}
}

static int setup(struct storeproc *sp)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct ipc_hello hello = {
		.version = IPC_PROTO_VERSION, .pid = (uint32_t)getpid(),
	};
	int err;

	sp->ipc = (struct ipc_link){ LIXS_IPC_IN_FD, LIXS_IPC_OUT_FD, LIXS_IPC_FD };
	sp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sp->epfd < 0 ||
	    epoll_ctl(sp->epfd, EPOLL_CTL_ADD, sp->ipc.in, &ev) < 0) {
		log_err("epoll: %s", strerror(errno));
		return 1;
	}
	sp->store = store_new();
	sp->quota = quota_new(&sp->lim);
	if (!sp->store || !sp->quota) {
		log_err("no memory for the store");
		return 1;
	}
	store_set_quota(sp->store, sp->quota);
	watch_index_init(&sp->watches, random_seed());
	domain_table_init(&sp->domains);
	sp->sink.fire = journal_sink;
	sp->sink.ctx = sp;

	if (ring_idle_open(sp))
		return 1;
	/* Confined before the broker can hand over the first client. */
	if (sandbox_enter(&sp->sandbox, &sp->ipc, sp->epfd, sp->ring_idle_fd))
		return 1;
	err = ipc_send(&sp->ipc, IPC_HELLO, 0, &hello, sizeof(hello), -1);
	if (err == EPIPE) {
		log_info("the broker went away; exiting");
		stop(sp, 0);
	} else if (err) {
		log_err("cannot greet the broker: %s", strerror(err));
		return 1;
	}
	return 0;
}

/* Wait for room in the pipe to the broker while frames for it are queued. */
static void ipc_watch_out(struct storeproc *sp, bool *watching)
{
	/* Tagged with the receive buffer's address: &sp->ipc is sp itself,
	 * ring_idle_open's tag, as the first member of struct storeproc. */
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &sp->ipc_rx };
	bool want = ipc_out_waiting(sp);

	if (want == *watching)
		return;
	if (epoll_ctl(sp->epfd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, sp->ipc.out, &ev) < 0) {
		log_err("epoll: %s", strerror(errno));
		stop(sp, 1);
		return;
	}
	*watching = want;
}

static void run(struct storeproc *sp)
{
	struct epoll_event evs[EPOLL_BATCH];
	bool busy = false, watching_out = false;

	while (!sp->quit) {
		int n = epoll_wait(sp->epfd, evs, EPOLL_BATCH, busy ? 0 : -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			stop(sp, 1);
			break;
		}
		for (int i = 0; i < n && !sp->quit; i++) {
			if (evs[i].data.ptr == sp)  /* ring_idle_open's tag */
				ring_idle_sweep(sp);
			else if (evs[i].data.ptr == &sp->ipc_rx)  /* ipc_watch_out's */
				ipc_out_flush(sp);
			else if (evs[i].data.ptr)
				conn_event(sp, evs[i].data.ptr, evs[i].events);
			else
				ipc_input(sp);
			/* Before any reply those frames caused is written. */
			journal_flush(sp);
			/* Answer now, not after the whole batch is read: the
			 * client works on this reply while we read the next
			 * connection.  Reading all first kept the two taking
			 * turns (conc -c 8: 115k against 300k requests/s). */
			conn_serve_pending(sp);
		}
		busy = conn_run_pending(sp);
		ipc_out_flush(sp);
		ipc_watch_out(sp, &watching_out);
	}
}

static void teardown(struct storeproc *sp)
{
	conn_close_all(sp);
	ipc_out_flush(sp);
	ipc_out_free(sp);
	domain_table_fini(&sp->domains);
	watch_index_fini(&sp->watches);
	journal_state_fini(&sp->journal);
	if (sp->store)
		store_free(sp->store);
	quota_free(sp->quota);
	buf_free(&sp->path);
	buf_free(&sp->out);
	if (sp->epfd >= 0)
		close(sp->epfd);
	if (sp->ring_idle_fd >= 0)
		close(sp->ring_idle_fd);
}

int main(int argc, char **argv)
{
	/* Big (the ipc receive buffer is inside): not on the stack. */
	static struct storeproc sp;
	int verbose = 0, ret;
	bool to_syslog = false;

	/* glibc raises its mmap threshold to the size of each big buffer
	 * freed (a snapshot, a large reply queue), after which such buffers
	 * come from the heap and leave megabytes free but resident in it
	 * when they go.  A fixed threshold keeps them mapped on their own
	 * and returned whole. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* glibc's malloc sets itself up on first use, with a getrandom()
	 * the sandbox refuses.  Under a sanitizer, which brings its own
	 * malloc, that first use would be memreport's mallinfo2(): make it
	 * here, before the sandbox. */
	(void)mallinfo2();
	sp.epfd = sp.ring_idle_fd = -1;
	journal_state_init(&sp.journal);
	ret = parse_options(&sp, &verbose, &to_syslog, argc, argv);
	if (ret >= 0)
		return ret;
	log_open("lixs-storeproc", to_syslog, verbose);
	sp.sandbox.to_syslog = to_syslog;
	sp.sandbox.verbosity = verbose;
	ret = check_ipc_fds();
	if (ret)
		return ret;
	/* Socket writes use MSG_NOSIGNAL; the pipe to the broker cannot. */
	signal(SIGPIPE, SIG_IGN);

	ret = setup(&sp);
	if (!ret && !sp.quit) {
		log_debug("serving (pid %d)", (int)getpid());
		run(&sp);
		ret = sp.exit_code;
	}
	teardown(&sp);
	return ret;
}
