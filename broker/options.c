/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * options.c - lixs-broker's command line.
 *
 * Accepts cxenstored 4.17's and the original LiXS's option names, so that
 * an existing XENSTORED_ARGS line keeps working.  Limits and quotas are the
 * store process's business: they are passed through to its argv untouched
 * (it validates them, and a bad value stops the first start).  Options of
 * features that do not exist yet are accepted and logged at debug level.
 */
#include "broker.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

enum {
	OPT_SOCKET_PATH = 256,
	OPT_SOCKET_RO_PATH,
	OPT_STOREPROC,
	OPT_STORE_USER,        /* passed through to the store process */
	OPT_SECCOMP_PROFILE,
	OPT_VERSION,
	OPT_NO_DOMAIN_INIT,
	OPT_IGNORED,           /* long-only options that do nothing yet */
};

static const struct option long_opts[] = {
	{ "no-fork", no_argument, NULL, 'N' },
	{ "pid-file", required_argument, NULL, 'F' },
	{ "socket-path", required_argument, NULL, OPT_SOCKET_PATH },
	{ "socket-ro-path", required_argument, NULL, OPT_SOCKET_RO_PATH },
	{ "socket_ro-path", required_argument, NULL, OPT_SOCKET_RO_PATH }, /* LiXS */
	{ "storeproc", required_argument, NULL, OPT_STOREPROC },
	{ "verbose", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	/* passed through to the store process */
	{ "entry-nb", required_argument, NULL, 'E' },
	{ "entry-size", required_argument, NULL, 'S' },
	{ "watch-nb", required_argument, NULL, 'W' },
	{ "transaction", required_argument, NULL, 't' },
	{ "perm-nb", required_argument, NULL, 'A' },
	{ "path-max", required_argument, NULL, 'M' },
	{ "quota", required_argument, NULL, 'Q' },
	{ "quota-soft", required_argument, NULL, 'q' },
	{ "timeout", required_argument, NULL, 'w' },
	{ "store-user", required_argument, NULL, OPT_STORE_USER },
	{ "seccomp-profile", required_argument, NULL, OPT_SECCOMP_PROFILE },
	/* channels */
	{ "xenbus", no_argument, NULL, 'x' },
	{ "unix-socket", no_argument, NULL, 'u' },
	{ "unix-sockets", no_argument, NULL, 'u' },
	{ "virq-dom-exc", no_argument, NULL, 'i' },
	{ "no-domain-init", no_argument, NULL, OPT_NO_DOMAIN_INIT },
	/* accepted, not implemented yet */
	{ "daemon", no_argument, NULL, 'D' },
	{ "trace-file", required_argument, NULL, 'T' },
	{ "keep-orphans", no_argument, NULL, 'K' },
	{ "internal-db", optional_argument, NULL, 'I' },
	{ "output-pid", no_argument, NULL, 'P' },
	{ "no-recovery", no_argument, NULL, 'R' },
	{ "master-domid", required_argument, NULL, OPT_IGNORED },
	{ "priv-domid", required_argument, NULL, OPT_IGNORED },
	{ "event", required_argument, NULL, OPT_IGNORED },
	{ NULL, 0, NULL, 0 }
};

/* -H is cxenstored's help, -h LiXS's. */
static const char short_opts[] = "hHNF:VE:S:W:t:A:M:Q:q:w:DxuiT:KI::PR";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: lixs-broker [OPTION]...\n"
"The privileged half of lixs: owns the xenstore sockets and Xen channels and\n"
"runs lixs-storeproc, which holds the store.  See lixs-broker(8).\n"
"\n"
"  -N, --no-fork              stay in the foreground, log to stderr\n"
"  -D, --daemon               fork into the background (the default; LiXS's name)\n"
"  -F, --pid-file FILE        pid file (daemonized default /run/xenstored.pid)\n"
"  -T, --trace-file FILE      write a wire trace there, as cxenstored; SIGHUP\n"
"                             reopens it\n"
"  -V, --verbose              debug logging, here and in the store process\n"
"  -h, -H, --help             show this help and exit\n"
"      --version              show the version and exit\n"
"Sockets:\n"
"      --socket-path PATH     read-write socket (default $XENSTORED_PATH, else\n"
"                             $XENSTORED_RUNDIR/socket; rundir /run/xenstored)\n"
"      --socket-ro-path PATH  read-only socket (default $XENSTORED_RUNDIR/socket_ro)\n"
"      --socket_ro-path PATH  the same (LiXS's spelling)\n"
"Channels; none named: all of them, the Xen ones only where there is Xen:\n"
"  -x, --xenbus               dom0's kernel ring\n"
"  -i, --virq-dom-exc         VIRQ_DOM_EXC (domains that die)\n"
"  -u, --unix-socket, --unix-sockets\n"
"                             the unix sockets\n"
"      --no-domain-init       not dom0's kernel ring\n"
"The store process (limits and quotas as cxenstored's; lixs-storeproc(8)):\n"
"      --storeproc PATH       its binary\n"
"      --store-user NAME      its user (default lixs)\n"
"      --seccomp-profile FILE its seccomp profile, read by it at each start\n"
"                             (default: built in); lixs-seccomp(5)\n"
"  -E, --entry-nb N           nodes per domain\n"
"  -S, --entry-size N         bytes per node\n"
"  -W, --watch-nb N           watches per domain\n"
"  -t, --transaction N        open transactions per domain\n"
"  -A, --perm-nb N            permission entries per node\n"
"  -M, --path-max N           path length below a domain's home\n"
"  -Q, --quota WHAT=N         outstanding, transaction-nodes or memory\n"
"  -q, --quota-soft memory=N  memory use that logs a warning\n"
"  -w, --timeout watch-event=SECONDS\n"
"                             how long a domain's watch event may wait\n"
"  -K, --keep-orphans         a dead domain's nodes go to dom0, not away\n"
"Accepted for compatibility, no effect: -I, --internal-db[=on|off],\n"
"  -P, --output-pid, -R, --no-recovery, --master-domid N, --priv-domid N,\n"
"  --event PORT\n");
}

static int add_store_arg(struct broker_opts *o, const char *arg)
{
	if (o->store_argc >= BROKER_STORE_ARGV_MAX) {
		fprintf(stderr, "lixs-broker: too many options\n");
		return -1;
	}
	o->store_argv[1 + o->store_argc++] = arg;
	return 0;
}

int options_parse(struct broker_opts *o, int argc, char **argv)
{
	/* Store argv needs "-E" etc. as strings that outlive the loop. */
	static const char flag_str[][3] = {
		['E'] = "-E", ['S'] = "-S", ['W'] = "-W", ['t'] = "-t", ['A'] = "-A",
		['M'] = "-M", ['Q'] = "-Q", ['q'] = "-q", ['w'] = "-w", ['V'] = "-V",
		['K'] = "-K",
	};
	int opt, li = -1;

	while ((opt = getopt_long(argc, argv, short_opts, long_opts, &li)) != -1) {
		switch (opt) {
		case 'h': case 'H':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("lixs-broker %s\n", LIXS_VERSION);
			return 0;
		case 'N': o->foreground = true; break;
		case 'F': o->pidfile = optarg; break;
		case OPT_SOCKET_PATH: o->sock_path[POLICY_SOCK_RW] = optarg; break;
		case OPT_SOCKET_RO_PATH: o->sock_path[POLICY_SOCK_RO] = optarg; break;
		case OPT_STOREPROC: o->storeproc = optarg; break;
		case 'x': o->channels |= CHAN_XENBUS; break;
		case 'i': o->channels |= CHAN_VIRQ; break;
		case 'u': o->channels |= CHAN_UNIX; break;
		case OPT_NO_DOMAIN_INIT: o->no_domain_init = true; break;
		case 'V':
			o->verbosity++;
			if (add_store_arg(o, flag_str['V']))
				return 2;
			break;
		case 'E': case 'S': case 'W': case 't': case 'A':
		case 'M': case 'Q': case 'q': case 'w':
			if (add_store_arg(o, flag_str[opt]) || add_store_arg(o, optarg))
				return 2;
			break;
		case OPT_STORE_USER: case OPT_SECCOMP_PROFILE:
			if (add_store_arg(o, opt == OPT_STORE_USER ? "--store-user"
							  : "--seccomp-profile") ||
			    add_store_arg(o, optarg))
				return 2;
			break;
		case 'T': o->tracefile = optarg; break;
		case 'D': break;  /* LiXS's "daemonize": the default already */
		case 'K':
			if (add_store_arg(o, flag_str['K']))
				return 2;
			break;
		case 'I': case 'P': case 'R': case OPT_IGNORED:
			if (o->n_ignored < BROKER_IGNORED_MAX) {
				o->ignored[o->n_ignored].val = opt;
				o->ignored[o->n_ignored++].longindex = li;
			}
			break;
		default:
			usage(stderr);
			return 2;
		}
		li = -1;
	}
	if (optind != argc) {
		fprintf(stderr, "lixs-broker: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	/* A daemon's store process has no stderr worth writing to. */
	if (!o->foreground && add_store_arg(o, "--syslog"))
		return 2;
	return -1;
}

void options_log_ignored(const struct broker_opts *o)
{
	for (int i = 0; i < o->n_ignored; i++) {
		int li = o->ignored[i].longindex;

		if (li >= 0)
			log_debug("option --%s has no effect yet", long_opts[li].name);
		else
			log_debug("option -%c has no effect yet", o->ignored[i].val);
	}
}
