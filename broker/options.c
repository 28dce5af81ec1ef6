/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * options.c - lixs-broker's command line.
 *
 * Accepts cxenstored 4.17's and the original LiXS's option names, so that
 * an existing XENSTORED_ARGS line keeps working.  Limits and quotas are the
 * store process's business: they are passed through to its argv untouched
 * (it validates them, and a bad value stops the first start).  Options of
 * features that do not exist yet are accepted and logged at debug level,
 * once options_parse() has opened the log.  One table gives getopt its
 * long options and --help its text.
 */
#include "broker.h"

#include <getopt.h>
#include <stdio.h>

#include "limit_opts.h"
#include "log.h"

enum {
	OPT_RW_PATH = 256,
	OPT_RO_PATH,
	OPT_STOREPROC,
	OPT_VERSION,
	OPT_NO_DOMAIN_INIT,
	OPT_IGNORED,           /* long-only options that do nothing yet */
	OPT_LONG_ONLY,         /* passed through to the store process */
};

struct opt_def {
	const char *name;      /* long name; NULL: a heading of the usage text */
	int val;               /* short option, or OPT_* */
	const char *store;     /* passed to the store process as this, with any argument */
	const char *arg;       /* NULL: none; "[...": optional */
	const char *help;
};

#define LIMIT_DEF(name, c, arg, help) \
	{ name, c, (const char[]){ '-', c, 0 }, arg, help },

static const struct opt_def defs[] = {
	{ "no-fork", 'N', NULL, NULL, "stay in the foreground, log to stderr" },
	{ "daemon", 'D', NULL, NULL, "fork into the background (the default)" },
	{ "pid-file", 'F', NULL, "FILE", "pid file (daemonized: /run/xenstored.pid)" },
	{ "trace-file", 'T', NULL, "FILE", "cxenstored's wire trace; SIGHUP reopens it" },
	{ "verbose", 'V', "-V", NULL, "debug logging, here and in the store process" },
	{ "help", 'h', NULL, NULL, "show this help (-H too) and exit" },
	{ "version", OPT_VERSION, NULL, NULL, "show the version and exit" },
	{ NULL, 0, NULL, NULL, "Sockets (default in $XENSTORED_RUNDIR, else /run/xenstored):" },
	{ "socket-path", OPT_RW_PATH, NULL, "PATH", "default: $XENSTORED_PATH or socket" },
	{ "socket-ro-path", OPT_RO_PATH, NULL, "PATH", "default socket_ro" },
	{ "socket_ro-path", OPT_RO_PATH, NULL, "PATH", "the same (LiXS)" },
	{ NULL, 0, NULL, NULL, "Channels; none named: all, the Xen ones only where there is Xen:" },
	{ "xenbus", 'x', NULL, NULL, "dom0's kernel ring" },
	{ "virq-dom-exc", 'i', NULL, NULL, "VIRQ_DOM_EXC (domains that die)" },
	{ "unix-socket", 'u', NULL, NULL, "the unix sockets" },
	{ "unix-sockets", 'u', NULL, NULL, "the same" },
	{ "no-domain-init", OPT_NO_DOMAIN_INIT, NULL, NULL, "not dom0's kernel ring" },
	{ NULL, 0, NULL, NULL, "The store process (lixs-storeproc(8)):" },
	{ "storeproc", OPT_STOREPROC, NULL, "PATH", "its binary" },
	{ "store-user", OPT_LONG_ONLY, "--store-user", "NAME", "its user (lixs)" },
	{ "ring-idle", OPT_LONG_ONLY, "--ring-idle", "SECONDS", "unmap guest rings idle that long" },
	{ "seccomp-profile", OPT_LONG_ONLY, "--seccomp-profile", "FILE", "see lixs-seccomp(5)" },
	LIXS_LIMIT_OPTS(LIMIT_DEF)
	{ "keep-orphans", 'K', "-K", NULL, "a dead domain's nodes go to dom0" },
	{ NULL, 0, NULL, NULL, "Accepted for compatibility (cxenstored's):" },
	{ "internal-db", 'I', NULL, "[=on|off]", "no effect" },
	{ "output-pid", 'P', NULL, NULL, "no effect" },
	{ "no-recovery", 'R', NULL, NULL, "no effect" },
	{ "master-domid", OPT_IGNORED, NULL, "N", "no effect" },
	{ "priv-domid", OPT_IGNORED, NULL, "N", "no effect" },
	{ "event", OPT_IGNORED, NULL, "PORT", "no effect" },
};

#define N_DEFS (sizeof(defs) / sizeof(defs[0]))

/* -H is cxenstored's help, -h LiXS's. */
static const char short_opts[] = "hHNF:V" LIXS_LIMIT_SHORT_OPTS "DxuiT:KI::PR";

static void usage(FILE *f)
{
	fputs("Usage: lixs-broker [OPTION]...\n"
	      "The privileged half of lixs: owns the xenstore sockets and Xen channels and\n"
	      "runs lixs-storeproc, which holds the store.  See lixs-broker(8).\n\n", f);
	for (const struct opt_def *d = defs; d < defs + N_DEFS; d++) {
		int n;

		if (!d->name) {
			fprintf(f, "%s\n", d->help);
			continue;
		}
		n = d->val < 256 ? fprintf(f, "  -%c, ", d->val) : fprintf(f, "      ");
		n += fprintf(f, "--%s %s", d->name, d->arg ? d->arg : "");
		fprintf(f, "%*s%s\n", n < 29 ? 29 - n : 1, "", d->help);
	}
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
	struct option lo[N_DEFS + 1];
	const struct opt_def *lo_def[N_DEFS], *d;
	/* Accepted options that do nothing yet, logged once the log is open. */
	const struct opt_def *ignored[N_DEFS];
	int opt, n = 0, li = -1, n_ignored = 0;

	for (const struct opt_def *p = defs; p < defs + N_DEFS; p++) {
		if (!p->name)
			continue;
		lo_def[n] = p;
		lo[n++] = (struct option){ p->name, !p->arg ? no_argument : *p->arg == '[' ?
					   optional_argument : required_argument, NULL, p->val };
	}
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	while ((opt = getopt_long(argc, argv, short_opts, lo, &li)) != -1) {
		d = li >= 0 ? lo_def[li] : NULL;
		/* A short option: its first row; none for -H (and '?'). */
		for (const struct opt_def *p = defs; !d && p < defs + N_DEFS; p++)
			if (p->name && p->val == opt)
				d = p;
		if (d && d->store && (add_store_arg(o, d->store) ||
				      (d->arg && add_store_arg(o, optarg))))
			return 2;
		switch (d ? d->val : opt) {
		case 'h': case 'H':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("lixs-broker %s\n", LIXS_VERSION);
			return 0;
		case 'N': o->foreground = true; break;
		case 'F': o->pidfile = optarg; break;
		case 'T': o->tracefile = optarg; break;
		case 'V': o->verbosity++; break;
		case OPT_RW_PATH: o->sock_path[POLICY_SOCK_RW] = optarg; break;
		case OPT_RO_PATH: o->sock_path[POLICY_SOCK_RO] = optarg; break;
		case OPT_STOREPROC: o->storeproc = optarg; break;
		case 'x': o->channels |= CHAN_XENBUS; break;
		case 'i': o->channels |= CHAN_VIRQ; break;
		case 'u': o->channels |= CHAN_UNIX; break;
		case OPT_NO_DOMAIN_INIT: o->no_domain_init = true; break;
		case 'I': case 'P': case 'R': case OPT_IGNORED:
			if (n_ignored < (int)N_DEFS)
				ignored[n_ignored++] = d;  /* logged once the log is open */
			break;
		case 'D': break;  /* LiXS's "daemonize": the default already */
		default:
			if (d && d->store)
				break;  /* the store process's alone */
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
	log_open("lixs-broker", !o->foreground, o->verbosity);
	for (int i = 0; i < n_ignored; i++)
		log_debug("option --%s has no effect yet", ignored[i]->name);
	return -1;
}
