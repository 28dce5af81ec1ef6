/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ops_control.c - CONTROL (alias DEBUG): the administrator's subcommands,
 * as `xenstore-control` sends them.
 *
 * Payload: "cmd\0arg\0arg\0...": the command must end in a NUL; every
 * NUL-terminated string after it is an argument, bytes after the last
 * NUL are ignored.  An unknown command, or a known one with the wrong
 * arguments, is EINVAL (xenstore-control then asks for "help" and shows
 * it).  Privileged callers only: the dispatch row says so.
 *
 * The command set is cxenstored 4.17's without live-update (restarting
 * the store process is the broker's business).  Where 4.17 writes a file
 * the store process, which has no filesystem, writes its log instead
 * (docs/COMPATIBILITY.md lists each difference):
 *   logfile F     turns request tracing on; the trace goes to the log
 *   memreport     answers with lixs's counters as text (4.17: EINVAL
 *                 unless a trace file is open, then a talloc dump there)
 *   memreport F   the same counters go to the log; the reply is OK
 *   quota <domid> the counters of quota.h; "memory" counts lixs's
 *                 records, not talloc's
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "journal_io.h"
#include "log.h"
#include "quota.h"
#include "store.h"
#include "xserr.h"

/* Every command takes at most this many arguments ("quota set n v"). */
#define CTL_MAX_ARGS 3u

typedef int ctl_fn(struct req *r, const char *const *argv, unsigned int argc);

struct ctl_cmd {
	const char *name;
	ctl_fn *fn;
	const char *usage;	/* as 4.17's help prints it */
};

/* One quota as "quota"/"quota-soft" show and set it. */
struct ctl_quota {
	const char *name;
	size_t off;		/* of the unsigned int in storeproc_limits */
	const char *descr;
};

#define LIM(field) offsetof(struct storeproc_limits, field)

/* 4.17's names, order and descriptions: scripts parse this output. */
static const struct ctl_quota hard_quotas[] = {
	{ "nodes", LIM(entry_nb), "Nodes per domain" },
	{ "watches", LIM(watch_nb), "Watches per domain" },
	{ "transactions", LIM(transaction), "Transactions per domain" },
	{ "outstanding", LIM(outstanding), "Outstanding requests per domain" },
	{ "transaction-nodes", LIM(trans_nodes),
	  "Max. number of accessed nodes per transaction" },
	{ "memory", LIM(memory),
	  "Total Xenstore memory per domain (error level)" },
	{ "node-size", LIM(entry_size), "Max. size of a node" },
	{ "path-max", LIM(path_max), "Max. length of a node path" },
	{ "permissions", LIM(perm_nb), "Max. number of permissions per node" },
	{ NULL, 0, NULL },
};

static const struct ctl_quota soft_quotas[] = {
	{ "memory", LIM(memory_soft),
	  "Total Xenstore memory per domain (warning level)" },
	{ NULL, 0, NULL },
};

static unsigned int *quota_ptr(struct storeproc *sp, const struct ctl_quota *q)
{
	return (unsigned int *)(void *)((char *)&sp->lim + q->off);
}

/* Reply with the text in sp->out plus its NUL. */
static int reply_text(struct req *r)
{
	int err = buf_append(&r->sp->out, "", 1);

	if (err)
		return err;
	req_reply(r, r->sp->out.data, r->sp->out.len);
	return 0;
}

/* Append printf-style text to sp->out (without a NUL). */
static int out_printf(struct storeproc *sp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int out_printf(struct storeproc *sp, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return EINVAL;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	return buf_append(&sp->out, line, (size_t)n);
}

static int quota_show(struct req *r, const struct ctl_quota *qs)
{
	int err = out_printf(r->sp, "Quota settings:\n");

	for (; !err && qs->name; qs++)
		err = out_printf(r->sp, "%-17s: %8u %s\n", qs->name,
				 *quota_ptr(r->sp, qs), qs->descr);
	return err ? err : reply_text(r);
}

/* "set NAME VALUE": 4.17 reads VALUE with atoi() and wants it >= 1. */
static int quota_set(struct req *r, const struct ctl_quota *qs,
		     const char *const *argv, unsigned int argc)
{
	long v;

	if (argc != 2)
		return EINVAL;
	v = strtol(argv[1], NULL, 10);
	/* atoi() keeps the low 32 bits of what strtol() reads. */
	if ((int)v < 1)
		return EINVAL;
	for (; qs->name; qs++) {
		if (strcmp(argv[0], qs->name) == 0) {
			*quota_ptr(r->sp, qs) = (unsigned int)(int)v;
			journal_note_quota(r->sp);
			log_info("control: quota %s set to %d", qs->name, (int)v);
			req_ack(r);
			return 0;
		}
	}
	return EINVAL;
}

/*
 * "check"'s walk of the committed tree from "/", depth first, as a
 * privileged caller: counts the nodes; a child its parent lists that
 * cannot be read is an inconsistency (counted in bad).  O(nodes), and
 * only the administrator asks for it.
 */
struct walk_result {
	size_t nodes;
	size_t bad;
};

/* The stack of paths still to visit: NUL-terminated, back to back. */
static int walk_pop(struct buf *stack, struct buf *path)
{
	size_t end = stack->len - 1, start = end;

	while (start > 0 && stack->data[start - 1] != '\0')
		start--;
	buf_reset(path);
	if (buf_append(path, stack->data + start, end - start + 1))
		return ENOMEM;
	stack->len = start;
	return 0;
}

static int walk_tree(struct storeproc *sp, struct walk_result *res)
{
	static const struct caller priv = { 0, DOMID_NONE, true };
	struct buf stack = BUF_INIT, path = BUF_INIT, list = BUF_INIT;
	int err = buf_append_str0(&stack, "/");

	memset(res, 0, sizeof(*res));
	while (!err && stack.len) {
		err = walk_pop(&stack, &path);
		if (err)
			break;
		buf_reset(&list);
		err = store_get_perms(sp->store, NULL, &priv, path.data, &list);
		if (err == ENOMEM)
			break;
		if (err) {
			log_err("check: %s is listed by its parent but unreadable (%s)",
				path.data, xserr_name(err));
			res->bad++;
			err = 0;
			continue;
		}
		res->nodes++;
		buf_reset(&list);
		err = store_directory(sp->store, NULL, &priv, path.data, &list);
		if (err && err != ENOMEM) {
			log_err("check: cannot list %s (%s)", path.data,
				xserr_name(err));
			res->bad++;
			err = 0;
			continue;
		}
		for (size_t off = 0; !err && off < list.len;
		     off += strlen(list.data + off) + 1) {
			/* Children go on the stack as full paths. */
			if (strcmp(path.data, "/") != 0)
				err = buf_append(&stack, path.data, path.len - 1);
			if (!err)
				err = buf_append(&stack, "/", 1);
			if (!err)
				err = buf_append_str0(&stack, list.data + off);
		}
	}
	buf_free(&stack);
	buf_free(&path);
	buf_free(&list);
	return err;
}

/* "quota <domid>": 4.17's per-domain usage report (quota.h). */
static int quota_domain(struct req *r, const char *arg)
{
	struct storeproc *sp = r->sp;
	/* atoi(), as 4.17: garbage reads as domain 0. */
	uint32_t domid = (uint32_t)(int)strtol(arg, NULL, 10);
	int err;

	/* 4.17 knows dom0 from the start, and the domains of its table. */
	if (domid != 0 && !domain_find(&sp->domains, domid))
		return ENOENT;
	err = quota_report_domain(sp->quota, domid, &sp->out);
	return err ? err : reply_text(r);
}

static int ctl_quota(struct req *r, const char *const *argv, unsigned int argc)
{
	if (argc == 0)
		return quota_show(r, hard_quotas);
	if (strcmp(argv[0], "set") == 0)
		return quota_set(r, hard_quotas, argv + 1, argc - 1);
	if (argc != 1)
		return EINVAL;
	return quota_domain(r, argv[0]);
}

static int ctl_quota_soft(struct req *r, const char *const *argv,
			  unsigned int argc)
{
	if (argc == 0)
		return quota_show(r, soft_quotas);
	if (strcmp(argv[0], "set") == 0)
		return quota_set(r, soft_quotas, argv + 1, argc - 1);
	return EINVAL;
}

/* "check": 4.17 checks its database and logs what it finds; so do we,
 * and like 4.17 the answer is OK whatever was found. */
static int ctl_check(struct req *r, const char *const *argv,
		     unsigned int argc)
{
	struct store_stats st;
	struct walk_result w;
	int err;

	(void)argv;
	if (argc)
		return EINVAL;
	err = walk_tree(r->sp, &w);
	if (err)
		return err;
	store_get_stats(r->sp->store, &st);
	if (w.bad || w.nodes != st.nodes)
		log_err("check: %zu nodes reachable, %zu counted, %zu unreadable",
			w.nodes, st.nodes, w.bad);
	else
		log_info("check: %zu nodes, consistent", w.nodes);
	req_ack(r);
	return 0;
}

/* "log on|off": every request is logged (4.17 opens its trace file). */
static int ctl_log(struct req *r, const char *const *argv, unsigned int argc)
{
	if (argc != 1)
		return EINVAL;
	if (strcmp(argv[0], "on") == 0)
		r->sp->trace = true;
	else if (strcmp(argv[0], "off") == 0)
		r->sp->trace = false;
	else
		return EINVAL;
	log_info("control: request tracing %s", argv[0]);
	req_ack(r);
	return 0;
}

/* "logfile F": 4.17 reopens its trace in F.  The store process opens no
 * files: tracing goes on, into the log the broker set up. */
static int ctl_logfile(struct req *r, const char *const *argv,
		       unsigned int argc)
{
	if (argc != 1)
		return EINVAL;
	r->sp->trace = true;
	log_info("control: logfile %.200s: request tracing on, written to this log",
		 argv[0]);
	req_ack(r);
	return 0;
}

static int ctl_print(struct req *r, const char *const *argv, unsigned int argc)
{
	if (argc != 1)
		return EINVAL;
	log_info("control: %s", argv[0]);
	req_ack(r);
	return 0;
}

/*
 * lixs's own counters, in the format of "quota": what a leak test
 * compares before and after a workload.
 */
static int memreport_text(struct storeproc *sp)
{
	size_t watches = 0, txns = 0, queued = 0;
	struct mallinfo2 heap = mallinfo2();
	struct store_stats st;
	int err;

	store_get_stats(sp->store, &st);
	for (const struct conn *c = sp->first; c; c = c->next) {
		watches += c->wo.count;
		txns += c->ntxns;
		queued += c->out_bytes;
	}
	const struct { const char *name; size_t val; const char *what; } row[] = {
		{ "nodes", st.nodes, "Nodes in the store" },
		{ "node-bytes", st.bytes, "Heap held by the tree (approx.)" },
		{ "node-slab", st.slab_bytes, "Node storage held, bytes" },
		{ "node-slab-free", st.slab_free, "Node storage held, free" },
		{ "node-slab-objects", st.slab_live, "Nodes in the node storage" },
		{ "perm-lists", st.slab_psets, "Perms lists in the node storage" },
		{ "heap-in-use", heap.uordblks, "malloc: bytes in use" },
		{ "heap-free", heap.fordblks, "malloc: bytes held, free" },
		{ "transactions", st.txns, "Open transactions" },
		{ "connections", sp->nconns, "Client connections" },
		{ "watches", watches, "Watches registered" },
		{ "conn-transactions", txns, "Transactions held by connections" },
		{ "queued-bytes", queued, "Replies and events not yet sent" },
	};

	err = out_printf(sp, "Memory report:\n");
	for (size_t i = 0; !err && i < sizeof(row) / sizeof(row[0]); i++)
		err = out_printf(sp, "%-17s: %8zu %s\n", row[i].name,
				 row[i].val, row[i].what);
	return err;
}

static int ctl_memreport(struct req *r, const char *const *argv,
			 unsigned int argc)
{
	struct storeproc *sp = r->sp;
	int err;

	if (argc > 1)
		return EINVAL;
	err = memreport_text(sp);
	if (err)
		return err;
	if (argc == 0)
		return reply_text(r);
	/* "memreport F": no files here; the report goes to the log. */
	log_info("control: memreport (asked for %.200s):", argv[0]);
	for (char *line = sp->out.data, *nl; line < sp->out.data + sp->out.len;
	     line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(sp->out.data + sp->out.len - line));
		if (!nl)
			break;
		log_info("  %.*s", (int)(nl - line), line);
	}
	req_ack(r);
	return 0;
}

static int ctl_help(struct req *r, const char *const *argv, unsigned int argc);

/* 4.17's order and usage texts, less live-update. */
static const struct ctl_cmd cmds[] = {
	{ "check", ctl_check, "" },
	{ "log", ctl_log, "on|off" },
	{ "logfile", ctl_logfile, "<file>" },
	{ "memreport", ctl_memreport, "[<file>]" },
	{ "print", ctl_print, "<string>" },
	{ "quota", ctl_quota, "[set <name> <val>|<domid>]" },
	{ "quota-soft", ctl_quota_soft, "[set <name> <val>]" },
	{ "help", ctl_help, "" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static int ctl_help(struct req *r, const char *const *argv, unsigned int argc)
{
	int err = 0;

	(void)argv;
	if (argc)
		return EINVAL;
	for (size_t i = 0; !err && i < NCMDS; i++)
		err = out_printf(r->sp, "%s\t%s\n", cmds[i].name, cmds[i].usage);
	return err ? err : reply_text(r);
}

int op_control(struct req *r)
{
	const char *argv[1 + CTL_MAX_ARGS];
	size_t off[1 + CTL_MAX_ARGS];
	unsigned int n;

	n = req_count_strings(r, off, 1 + CTL_MAX_ARGS);
	if (n == 0)
		return EINVAL;
	for (size_t i = 0; i < NCMDS; i++) {
		if (strcmp(r->body, cmds[i].name) != 0)
			continue;
		/* More arguments than any command takes: all say EINVAL. */
		if (n > 1 + CTL_MAX_ARGS)
			return EINVAL;
		for (unsigned int a = 0; a < n; a++)
			argv[a] = r->body + off[a];
		return cmds[i].fn(r, argv + 1, n - 1);
	}
	log_debug("conn %u: CONTROL: unknown command '%.64s'", r->conn->id,
		  r->body);
	return EINVAL;
}
