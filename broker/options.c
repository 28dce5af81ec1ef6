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
	OPT_VERSION,
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
	/* accepted, not implemented yet */
	{ "daemon", no_argument, NULL, 'D' },
	{ "no-domain-init", no_argument, NULL, OPT_IGNORED },
	{ "xenbus", no_argument, NULL, 'x' },
	{ "unix-socket", no_argument, NULL, 'u' },
	{ "unix-sockets", no_argument, NULL, 'u' },
	{ "virq-dom-exc", no_argument, NULL, 'i' },
	{ "trace-file", required_argument, NULL, 'T' },
	{ "keep-orphans", no_argument, NULL, 'K' },
	{ "internal-db", optional_argument, NULL, 'I' },
	{ "output-pid", no_argument, NULL, 'P' },
	{ "no-recovery", no_argument, NULL, 'R' },
	{ "master-domid", required_argument, NULL, OPT_IGNORED },
	{ "priv-domid", required_argument, NULL, OPT_IGNORED },
	{ "event", required_argument, NULL, OPT_IGNORED },
	{ "seccomp-profile", required_argument, NULL, OPT_IGNORED },
	{ "store-user", required_argument, NULL, OPT_IGNORED },
	{ NULL, 0, NULL, 0 }
};

/* -H is cxenstored's help, -h LiXS's. */
static const char short_opts[] = "hHNF:VE:S:W:t:A:M:Q:q:w:DxuiT:KI::PR";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: lixs-broker [options]\n"
"  -N, --no-fork              stay in the foreground, log to stderr\n"
"  -F, --pid-file FILE        pid file (daemonized default /run/xenstored.pid)\n"
"      --socket-path PATH     read-write socket (default $XENSTORED_PATH, else\n"
"                             $XENSTORED_RUNDIR/socket; rundir /run/xenstored)\n"
"      --socket-ro-path PATH  read-only socket (default $XENSTORED_RUNDIR/socket_ro)\n"
"      --storeproc PATH       the store process binary\n"
"  -V, --verbose              debug logging, here and in the store process\n"
"  -h, --help / --version\n"
"Passed to the store process: -E -S -W -t -A -M N, -Q -q WHAT=N, -w WHAT=SECONDS\n"
"  (cxenstored's limits and quotas, long names as there)\n"
"Accepted, no effect yet: -D -x -u -i -K -I[ARG] -P -R, -T FILE, --no-domain-init,\n"
"  --master-domid N, --priv-domid N, --event N, --seccomp-profile FILE,\n"
"  --store-user NAME\n");
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
		case 'D': case 'x': case 'u': case 'i': case 'T':
		case 'K': case 'I': case 'P': case 'R': case OPT_IGNORED:
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
