/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * limit_opts.h - the store's limit and quota options, spelt as
 * cxenstored 4.17's.  lixs-broker accepts them and passes them on to the
 * store process, which parses them; one list keeps the two spellings equal.
 *
 * LIXS_LIMIT_OPTS(X) calls X(long name, short option, argument, help).
 */
#ifndef LIXS_LIMIT_OPTS_H
#define LIXS_LIMIT_OPTS_H

#define LIXS_LIMIT_OPTS(X) \
	X("entry-nb", 'E', "N", "nodes per domain") \
	X("entry-size", 'S', "N", "bytes per node") \
	X("watch-nb", 'W', "N", "watches per domain") \
	X("transaction", 't', "N", "open transactions per domain") \
	X("perm-nb", 'A', "N", "permission entries per node") \
	X("path-max", 'M', "N", "path length below a domain's home") \
	X("quota", 'Q', "WHAT=N", "outstanding, transaction-nodes or memory") \
	X("quota-soft", 'q', "memory=N", "memory use that logs a warning") \
	X("timeout", 'w', "watch-event=SECONDS", "how long a domain's watch event may wait")

/* Their short options for getopt, each taking an argument. */
#define LIXS_LIMIT_SHORT_OPTS "E:S:W:t:A:M:Q:q:w:"

#endif
