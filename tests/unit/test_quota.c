/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_quota.c - the per-domain quotas driven through real connections
 * of any domid (socketpairs, conn.c, dispatch.c, the store with its quota
 * table): each quota at its 4.17 boundary with 4.17's error, exact counts
 * after failed operations (XSA-414/415/421/440), owner transfer, reset on
 * domid reuse (XSA-483), dom0's exemption, the refusal log's rate limit,
 * the outstanding-reply stall, CONTROL "quota <domid>"'s report, and
 * Xen 4.22's GET_QUOTA/SET_QUOTA with per-domain values: their errors
 * (EACCES, EINVAL, ENOENT), their effect on one domain only, and their
 * end at the domain's release.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "path.h"
#include "quota.h"
#include "storeproc.h"
#include "unit.h"
#include "wire_text.h"

/* The context is big (ipc buffer inside): static, set up per test. */
static struct storeproc sp;
static uint64_t fake_ms;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_ms;
}

static void env_open(void)
{
	wire_sp_init(&sp);
	/* cxenstored 4.17's defaults, as main.c sets them. */
	sp.lim = (struct storeproc_limits){
		.entry_nb = 1000, .entry_size = 2048, .watch_nb = 128,
		.transaction = 10, .perm_nb = 5, .path_max = PATH_REL_MAX,
		.outstanding = 20, .trans_nodes = 1024,
		.memory = 2 * 1024 * 1024 + 512 * 1024,
		.memory_soft = 2 * 1024 * 1024, .watch_event_s = 20,
	};
	sp.quota = quota_new(&sp.lim);
	store_set_quota(sp.store, sp.quota);
	fake_ms = 1000000;
	quota_set_clock(sp.quota, fake_clock, NULL);
}

static void env_close(void)
{
	wire_sp_fini(&sp);
	quota_free(sp.quota);
}

static void client_open(struct client *cl, uint32_t domid)
{
	struct caller who = { domid, DOMID_NONE, domid == 0 };

	client_connect(&sp, cl, &who, false);
}

static void client_close(struct client *cl)
{
	conn_close(&sp, cl->c, false);
	close(cl->fd);
	while (conn_run_pending(&sp))
		;
}

/* The payloads of every complete message the connection wrote, one a
 * line, NUL shown as '|'; watch events are skipped. */
static const char *drain(struct client *cl)
{
	static char text[65536];
	size_t tl = 0, off = 0;

	client_recv(cl);
	text[0] = '\0';
	while (cl->have - off >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;

		memcpy(&h, cl->in + off, sizeof(h));
		if (cl->have - off < sizeof(h) + h.len)
			break;
		for (uint32_t i = 0; h.type != XS_WATCH_EVENT && i < h.len &&
		     tl + 3 < sizeof(text); i++) {
			char ch = (char)cl->in[off + sizeof(h) + i];

			text[tl++] = ch ? ch : '|';
		}
		if (h.type != XS_WATCH_EVENT)
			text[tl++] = '\n';
		text[tl] = '\0';
		off += sizeof(h) + h.len;
	}
	memmove(cl->in, cl->in + off, cl->have - off);
	cl->have -= off;
	return text;
}

/* One request, its reply payload (without the trailing '|' of a string). */
static const char *rq(struct client *cl, uint32_t type, uint32_t tx,
		      const void *body, size_t len)
{
	static char one[65536];
	size_t n;

	client_send(cl, type, tx, body, len);
	client_pump(&sp, cl);
	snprintf(one, sizeof(one), "%s", drain(cl));
	n = strlen(one);
	if (n && one[n - 1] == '\n')
		one[--n] = '\0';
	if (n && one[n - 1] == '|')
		one[--n] = '\0';
	return one;
}

/* A string argument list: "a\0b\0" from a and b. */
static size_t args(char *out, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;

	if (la + lb > cap)
		return 0;
	memcpy(out, a, la);
	if (b)
		memcpy(out + la, b, lb);
	return la + lb;
}

static const char *wr(struct client *cl, uint32_t tx, const char *path,
		      const char *val)
{
	char b[8192];

	return rq(cl, XS_WRITE, tx, b, args(b, sizeof(b), path, val) - 1);
}

static const char *op1(struct client *cl, uint32_t type, uint32_t tx,
		       const char *arg)
{
	char b[4200];

	return rq(cl, type, tx, b, args(b, sizeof(b), arg, NULL));
}

static const char *op2(struct client *cl, uint32_t type, uint32_t tx,
		       const char *a, const char *bb)
{
	char b[4200];

	return rq(cl, type, tx, b, args(b, sizeof(b), a, bb));
}

static uint32_t txstart(struct client *cl)
{
	return (uint32_t)strtoul(op1(cl, XS_TRANSACTION_START, 0, ""), NULL, 10);
}

static unsigned long use(uint32_t domid, enum quota_item item)
{
	return quota_use(sp.quota, domid, item);
}

/* Every node below "/" counted by owner must add up to the tree. */
static int counts_match_tree(void)
{
	struct store_stats st;
	unsigned long sum = 0;

	store_get_stats(sp.store, &st);
	for (uint32_t d = 0; d < 64; d++)
		sum += use(d, QUOTA_NODES);
	if (quota_went_negative(sp.quota)) {
		printf("    a count was asked to drop below zero\n");
		return 0;
	}
	if (sum == st.nodes)
		return 1;
	printf("    counted %lu nodes, the tree holds %zu\n", sum, st.nodes);
	return 0;
}

#define S(lit) lit, sizeof(lit) - 1

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			printf("    line %d: %s\n", __LINE__, #cond);        \
			ok = 0;                                               \
		}                                                             \
	} while (0)

#define EQ(got, want)                                                         \
	do {                                                                  \
		const char *g_ = (got);                                       \
		if (strcmp(g_, (want)) != 0) {                                \
			printf("    line %d: got \"%s\", want \"%s\"\n",      \
			       __LINE__, g_, (want));                         \
			ok = 0;                                               \
		}                                                             \
	} while (0)

/* dom0 gives domain `domid` its home, owned by it: 1 node counted. */
static void make_home(struct client *d0, uint32_t domid)
{
	char path[64], perm[16];

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	snprintf(perm, sizeof(perm), "n%u", domid);
	wr(d0, 0, path, "");
	op2(d0, XS_SET_PERMS, 0, path, perm);
}

static int t_initial_counts(void)
{
	int ok = 1;

	env_open();
	/* "/", "/tool", "/tool/xenstored" belong to dom0, as 4.17 counts. */
	CHECK(use(0, QUOTA_NODES) == 3);
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

static int t_nodes(void)
{
	struct client d0, g;
	char name[32];
	int ok = 1;

	env_open();
	sp.lim.entry_nb = 10;
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	CHECK(use(5, QUOTA_NODES) == 1);
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		EQ(wr(&g, 0, name, "v"), "OK");
	}
	CHECK(use(5, QUOTA_NODES) == 8);
	/* XSA-414: three new nodes with two left: nothing created. */
	EQ(wr(&g, 0, "a/b/c", "v"), "ENOSPC");
	CHECK(use(5, QUOTA_NODES) == 8);
	EQ(op1(&g, XS_READ, 0, "a"), "ENOENT");
	EQ(op1(&g, XS_MKDIR, 0, "a/b/c"), "ENOSPC");
	/* Two fit exactly: 4.17 allows the 1000th node of 1000. */
	EQ(wr(&g, 0, "a/b", "v"), "OK");
	CHECK(use(5, QUOTA_NODES) == 10);
	EQ(wr(&g, 0, "x", "v"), "ENOSPC");
	/* Changing an existing node needs no new one. */
	EQ(wr(&g, 0, "n0", "w"), "OK");
	EQ(op1(&g, XS_RM, 0, "a"), "OK");
	CHECK(use(5, QUOTA_NODES) == 8);
	EQ(wr(&g, 0, "x", "v"), "OK");
	/* dom0 is exempt, and what it creates below the home is the
	 * domain's (inherited owner), over its quota. */
	EQ(wr(&d0, 0, "/local/domain/5/d0/a/b", "v"), "OK");
	CHECK(use(5, QUOTA_NODES) == 12);
	EQ(wr(&g, 0, "y", "v"), "ENOSPC");
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

static int t_node_size(void)
{
	struct client d0, g;
	static char big[4096];
	int ok = 1;

	env_open();
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	/* 24 bytes of header + 8 per perm + value: 4.17 refuses >= 2048. */
	memset(big, 'x', 2015);
	big[2015] = '\0';
	EQ(wr(&g, 0, "ok", big), "OK");
	big[2015] = 'x';
	big[2016] = '\0';
	EQ(wr(&g, 0, "big", big), "ENOSPC");
	EQ(wr(&g, 0, "ok", big), "ENOSPC");
	EQ(op1(&g, XS_READ, 0, "big"), "ENOENT");
	/* More perms make the record bigger: 2015 + 8 is too much. */
	EQ(rq(&g, XS_SET_PERMS, 0, S("ok\0n5\0r0\0")), "ENOSPC");
	EQ(rq(&g, XS_SET_PERMS, 0, S("ok\0n5\0")), "OK");
	/* dom0 is exempt. */
	EQ(wr(&d0, 0, "/local/domain/5/ok", big), "OK");
	/* Inside a transaction the refusal also fails it (4.17's
	 * write_node()): the commit is ENOMEM. */
	{
		uint32_t t = txstart(&g);

		EQ(wr(&g, t, "tbig", big), "ENOSPC");
		EQ(op1(&g, XS_TRANSACTION_END, t, "T"), "ENOMEM");
	}
	EQ(op1(&g, XS_READ, 0, "tbig"), "ENOENT");
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

static int t_watches(void)
{
	struct client d0, g;
	char tok[16];
	int ok = 1;

	env_open();
	sp.lim.watch_nb = 3;
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	/* 4.17 compares the count before the new one with ">": 4 fit. */
	for (int i = 0; i < 4; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		EQ(op2(&g, XS_WATCH, 0, "w", tok), "OK");
	}
	CHECK(use(5, QUOTA_WATCHES) == 4);
	EQ(op2(&g, XS_WATCH, 0, "w", "t9"), "E2BIG");
	/* A duplicate is EEXIST first. */
	EQ(op2(&g, XS_WATCH, 0, "w", "t0"), "EEXIST");
	EQ(op2(&g, XS_UNWATCH, 0, "w", "t0"), "OK");
	CHECK(use(5, QUOTA_WATCHES) == 3);
	EQ(op2(&g, XS_WATCH, 0, "w", "t9"), "OK");
	/* dom0 is exempt. */
	for (int i = 0; i < 6; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		EQ(op2(&d0, XS_WATCH, 0, "/w", tok), "OK");
	}
	EQ(op1(&g, XS_RESET_WATCHES, 0, ""), "OK");
	CHECK(use(5, QUOTA_WATCHES) == 0);
	EQ(op2(&g, XS_WATCH, 0, "w", "t0"), "OK");
	client_close(&g);
	CHECK(use(5, QUOTA_WATCHES) == 0);
	env_close();
	return ok;
}

static int t_transactions(void)
{
	struct client d0, g;
	uint32_t ids[3];
	int ok = 1;

	env_open();
	sp.lim.transaction = 2;
	client_open(&d0, 0);
	client_open(&g, 5);
	for (int i = 0; i < 3; i++)
		ids[i] = txstart(&g);
	CHECK(ids[0] && ids[1] && ids[2]);
	CHECK(use(5, QUOTA_TRANSACTIONS) == 3);
	EQ(op1(&g, XS_TRANSACTION_START, 0, ""), "ENOSPC");
	EQ(op1(&g, XS_TRANSACTION_END, ids[0], "F"), "OK");
	CHECK(use(5, QUOTA_TRANSACTIONS) == 2);
	CHECK(txstart(&g) != 0);
	for (int i = 0; i < 5; i++)
		CHECK(txstart(&d0) != 0);
	client_close(&g);
	CHECK(use(5, QUOTA_TRANSACTIONS) == 0);
	env_close();
	return ok;
}

static int t_perms_and_txn_nodes(void)
{
	struct client d0, g;
	char name[32];
	uint32_t t;
	int ok = 1;

	env_open();
	sp.lim.trans_nodes = 8;
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	EQ(wr(&g, 0, "p", ""), "OK");
	EQ(rq(&g, XS_SET_PERMS, 0, S("p\0n5\0r1\0r2\0r3\0r4\0r6\0")),
	   "ENOSPC");
	EQ(rq(&g, XS_SET_PERMS, 0, S("p\0n5\0r1\0r2\0r3\0r4\0")), "OK");
	EQ(rq(&d0, XS_SET_PERMS, 0,
	      S("/local/domain/5/p\0n5\0r1\0r2\0r3\0r4\0r6\0")), "OK");
	/* transaction-nodes: the 9th node touched is refused, and the
	 * transaction cannot commit (4.17: ENOMEM). */
	t = txstart(&g);
	for (int i = 0; i < 20; i++) {
		const char *r;

		snprintf(name, sizeof(name), "/local/domain/5/r%d", i);
		r = op1(&g, XS_READ, t, name);
		if (strcmp(r, "ENOSPC") == 0)
			break;
		CHECK(strcmp(r, "ENOENT") == 0 && i < 8);
	}
	EQ(op1(&g, XS_TRANSACTION_END, t, "T"), "ENOMEM");
	/* dom0's transactions have no such cap. */
	t = txstart(&d0);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "/r%d", i);
		EQ(op1(&d0, XS_READ, t, name), "ENOENT");
	}
	EQ(op1(&d0, XS_TRANSACTION_END, t, "T"), "OK");
	env_close();
	return ok;
}

/* 4.17's commit check and XSA-415. */
static int t_txn_commit(void)
{
	struct client d0, g;
	uint32_t t;
	int ok = 1;

	env_open();
	sp.lim.entry_nb = 4;
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	EQ(wr(&g, 0, "a", ""), "OK");
	EQ(wr(&g, 0, "b", ""), "OK");
	CHECK(use(5, QUOTA_NODES) == 3);
	/* Accepted inside (the committed count is below the quota), but
	 * the commit would reach it: ENOSPC, nothing committed. */
	t = txstart(&g);
	EQ(wr(&g, t, "c", "v"), "OK");
	EQ(op1(&g, XS_TRANSACTION_END, t, "T"), "ENOSPC");
	EQ(op1(&g, XS_READ, 0, "c"), "ENOENT");
	CHECK(use(5, QUOTA_NODES) == 3);
	/* A commit that removes as much as it adds is fine. */
	t = txstart(&g);
	EQ(wr(&g, t, "c", "v"), "OK");
	EQ(op1(&g, XS_RM, t, "a"), "OK");
	EQ(op1(&g, XS_TRANSACTION_END, t, "T"), "OK");
	CHECK(use(5, QUOTA_NODES) == 3);
	/* XSA-415: a multi-node creation failing part-way (the new inner
	 * node's record is too big for -S) fails the commit. */
	sp.lim.entry_nb = 1000;
	sp.lim.entry_size = 24 + 8 + 40;
	t = txstart(&g);
	EQ(wr(&g, t, "x/0123456789012345678901234567890123456789", ""),
	   "ENOSPC");
	EQ(op1(&g, XS_TRANSACTION_END, t, "T"), "ENOMEM");
	EQ(op1(&g, XS_READ, 0, "x"), "ENOENT");
	CHECK(use(5, QUOTA_NODES) == 3);
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

/* XSA-421: create and remove inside one transaction, many times. */
static int t_xsa421(void)
{
	struct client d0, g;
	unsigned long nodes, mem;
	int ok = 1;

	env_open();
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	nodes = use(5, QUOTA_NODES);
	mem = use(5, QUOTA_MEMORY);
	for (int i = 0; i < 2000 && ok; i++) {
		uint32_t t = txstart(&g);

		EQ(wr(&g, t, "x/y", "v"), "OK");
		EQ(op1(&g, XS_RM, t, "x"), "OK");
		EQ(op1(&g, XS_TRANSACTION_END, t, "T"), "OK");
	}
	CHECK(use(5, QUOTA_NODES) == nodes);
	CHECK(use(5, QUOTA_MEMORY) == mem);
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

/* XSA-440: two transactions remove the same 50 nodes. */
static int t_xsa440(void)
{
	struct client d0, g;
	char name[32];
	uint32_t t1, t2;
	int ok = 1;

	env_open();
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "d/n%d", i);
		EQ(wr(&g, 0, name, "v"), "OK");
	}
	CHECK(use(5, QUOTA_NODES) == 52);
	t1 = txstart(&g);
	t2 = txstart(&g);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "d/n%d", i);
		EQ(op1(&g, XS_RM, t1, name), "OK");
		EQ(op1(&g, XS_RM, t2, name), "OK");
	}
	EQ(op1(&g, XS_TRANSACTION_END, t1, "T"), "OK");
	CHECK(use(5, QUOTA_NODES) == 2);
	EQ(op1(&g, XS_TRANSACTION_END, t2, "T"), "EAGAIN");
	CHECK(use(5, QUOTA_NODES) == 2);
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

static int t_owner_transfer(void)
{
	struct client d0;
	int ok = 1;

	env_open();
	client_open(&d0, 0);
	make_home(&d0, 5);
	make_home(&d0, 6);
	EQ(wr(&d0, 0, "/local/domain/5/a/b", "v"), "OK");
	CHECK(use(5, QUOTA_NODES) == 3 && use(6, QUOTA_NODES) == 1);
	EQ(op2(&d0, XS_SET_PERMS, 0, "/local/domain/5/a", "b6"), "OK");
	CHECK(use(5, QUOTA_NODES) == 2 && use(6, QUOTA_NODES) == 2);
	/* Inside a transaction: moved at commit only. */
	{
		uint32_t t = txstart(&d0);

		EQ(op2(&d0, XS_SET_PERMS, t, "/local/domain/5/a/b", "n6"), "OK");
		CHECK(use(5, QUOTA_NODES) == 2);
		EQ(op1(&d0, XS_TRANSACTION_END, t, "T"), "OK");
	}
	CHECK(use(5, QUOTA_NODES) == 1 && use(6, QUOTA_NODES) == 3);
	/* Removal takes each node off its own owner's count. */
	EQ(op1(&d0, XS_RM, 0, "/local/domain/5"), "OK");
	CHECK(use(5, QUOTA_NODES) == 0 && use(6, QUOTA_NODES) == 1);
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

/* XSA-483: a domid used again starts from zero. */
static int t_reset_on_reuse(void)
{
	struct client d0, g;
	char name[32];
	int ok = 1;

	env_open();
	sp.lim.entry_nb = 5;
	client_open(&d0, 0);
	client_open(&g, 7);
	make_home(&d0, 7);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		EQ(wr(&g, 0, name, "v"), "OK");
	}
	EQ(op2(&g, XS_WATCH, 0, "n0", "t"), "OK");
	CHECK(txstart(&g) != 0);
	CHECK(use(7, QUOTA_NODES) == 5);
	/* The domain dies: its connection goes, dom0 removes its nodes,
	 * the domid is released. */
	client_close(&g);
	EQ(op1(&d0, XS_RM, 0, "/local/domain/7"), "OK");
	quota_domain_reset(sp.quota, 7);
	for (int i = 0; i < QUOTA_COUNTERS; i++)
		CHECK(use(7, (enum quota_item)i) == 0);
	/* The new domain 7 gets its whole quota. */
	client_open(&g, 7);
	make_home(&d0, 7);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		EQ(wr(&g, 0, name, "v"), "OK");
	}
	EQ(wr(&g, 0, "full", "v"), "ENOSPC");
	/* A reset never forgets nodes the tree still holds. */
	quota_domain_reset(sp.quota, 7);
	CHECK(use(7, QUOTA_NODES) == 5);
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

static int t_log_rate(void)
{
	struct client d0, g;
	unsigned long logged, suppressed;
	int ok = 1;

	env_open();
	sp.lim.entry_nb = 1;
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	for (int i = 0; i < 5; i++)
		EQ(wr(&g, 0, "x", "v"), "ENOSPC");
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 1 && suppressed == 4);
	/* Another quota of the same domain has its own window. */
	EQ(rq(&g, XS_SET_PERMS, 0,
	      S("/local/domain/5\0n5\0r1\0r2\0r3\0r4\0r6\0")), "ENOSPC");
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 2 && suppressed == 4);
	fake_ms += QUOTA_LOG_WINDOW_MS - 1;
	EQ(wr(&g, 0, "x", "v"), "ENOSPC");
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 2 && suppressed == 5);
	fake_ms += 1;
	EQ(wr(&g, 0, "x", "v"), "ENOSPC");
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 3 && suppressed == 5);
	/* dom0's writes are never refused, so never logged. */
	EQ(wr(&d0, 0, "/local/domain/5/y", "v"), "OK");
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 3);
	env_close();
	return ok;
}

/* -Q outstanding: a domain that does not read its replies is not served
 * further requests until it does; dom0 is. */
static int t_outstanding(void)
{
	struct client d0, g;
	static char big[4001];
	int sz = 4096, ok = 1, n = 0;
	const char *p;

	env_open();
	sp.lim.outstanding = 3;
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	memset(big, 'x', sizeof(big) - 1);
	EQ(wr(&d0, 0, "/local/domain/5/big", big), "OK");
	/* Small socket buffers, so replies stay queued. */
	setsockopt(g.c->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(g.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	for (int i = 0; i < 10; i++)
		client_send(&g, XS_READ, 0, "big", 4);
	client_pump(&sp, &g);
	CHECK(g.c->outstanding == 3);
	CHECK(g.c->in_len > 0);
	CHECK(use(5, QUOTA_OUTSTANDING) == 3);
	CHECK(use(5, QUOTA_MEMORY) > 3 * 4000);
	/* Reading lets it go on, to the end. */
	for (int i = 0; i < 200 && n < 10; i++) {
		for (p = drain(&g); (p = strchr(p, '\n')); p++)
			n++;
		conn_event(&sp, g.c, EPOLLOUT);
		while (conn_run_pending(&sp))
			;
	}
	CHECK(n == 10);
	CHECK(g.c->outstanding == 0 && use(5, QUOTA_OUTSTANDING) == 0);
	env_close();
	return ok;
}

static int t_report(void)
{
	struct client d0, g;
	struct buf out = BUF_INIT;
	int ok = 1;

	env_open();
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	EQ(wr(&g, 0, "a", "v"), "OK");
	EQ(op2(&g, XS_WATCH, 0, "a", "t"), "OK");
	drain(&g);
	CHECK(txstart(&g) != 0);
	CHECK(quota_report_domain(sp.quota, 5, &out) == 0);
	CHECK(buf_append(&out, "", 1) == 0);
	EQ(out.data ? out.data : "",
	   "Domain 5:\n"
	   "nodes           :        2\n"
	   "watches         :        1\n"
	   "transactions    :        1\n"
	   "outstanding     :        0\n"
	   /* Records (path + 24 + 8 per perm + value + child names):
	    * home 15 + 34, "a" 17 + 33; the watch's path and token 18. */
	   "memory          :      117\n");
	buf_free(&out);
	env_close();
	return ok;
}

/* -Q memory: node writes that would reach the hard limit are EIO, for
 * the owner's nodes, whoever writes; dom0's own nodes are exempt. */
static int t_memory(void)
{
	struct client d0, g;
	static char val[1001];
	char name[32];
	unsigned long logged, suppressed;
	int ok = 1, i;

	env_open();
	sp.lim.memory = 4000;
	sp.lim.memory_soft = 2000;
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	memset(val, 'v', 1000);
	for (i = 0; i < 10; i++) {
		const char *r;

		snprintf(name, sizeof(name), "n%d", i);
		r = wr(&g, 0, name, val);
		if (strcmp(r, "OK") != 0) {
			EQ(r, "EIO");
			break;
		}
	}
	/* Each node is about 1060 bytes: three fit below 4000. */
	CHECK(i == 3);
	CHECK(use(5, QUOTA_MEMORY) < 4000 && use(5, QUOTA_MEMORY) > 3000);
	EQ(wr(&d0, 0, "/local/domain/5/n9", val), "EIO");
	EQ(wr(&d0, 0, "/d0", val), "OK");
	EQ(wr(&d0, 0, "/d1", val), "OK");
	EQ(wr(&d0, 0, "/d2", val), "OK");
	EQ(wr(&d0, 0, "/d3", val), "OK");
	/* The soft limit was crossed once (logged), the hard one refused. */
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 2);
	EQ(op1(&g, XS_RM, 0, "n0"), "OK");
	EQ(wr(&g, 0, "n9", val), "OK");
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

/* A removed subtree leaves its owner's memory count where it was, at
 * any depth: a node's count includes its path's length, which the
 * removal works out as it walks down (tree.c), not from a stored one. */
static int t_memory_after_rm(void)
{
	struct client d0, g;
	unsigned long mem0, mem5;
	int ok = 1;

	env_open();
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	mem0 = use(0, QUOTA_MEMORY);
	mem5 = use(5, QUOTA_MEMORY);
	/* Under the domain's home, three levels below the removed one,
	 * compared with the count just before it was made. */
	EQ(wr(&g, 0, "a/f", "333"), "OK");
	mem5 = use(5, QUOTA_MEMORY);
	EQ(wr(&g, 0, "a/b/c/d", "1"), "OK");
	EQ(wr(&g, 0, "a/b/e", "22"), "OK");
	CHECK(use(5, QUOTA_MEMORY) > mem5);
	EQ(op1(&g, XS_RM, 0, "a/b"), "OK");
	CHECK(use(5, QUOTA_MEMORY) == mem5);
	/* Right below "/", whose children's paths start at its "/". */
	EQ(wr(&d0, 0, "/top/sub/leaf", "x"), "OK");
	EQ(wr(&d0, 0, "/top/other", "y"), "OK");
	EQ(op1(&d0, XS_RM, 0, "/top"), "OK");
	CHECK(use(0, QUOTA_MEMORY) == mem0);
	/* A directory big enough for a child index (over 32 children),
	 * which then keeps its child-name bytes: filled, emptied one by
	 * one past the index's drop (under 16), filled and removed whole,
	 * directly and in a transaction. */
	for (int round = 0; round < 2; round++) {
		char name[32];
		uint32_t t = round ? txstart(&g) : 0;

		for (int i = 0; i < 40; i++) {
			snprintf(name, sizeof(name), "big/child%d", i);
			EQ(wr(&g, t, name, "v"), "OK");
		}
		if (t)
			EQ(op1(&g, XS_TRANSACTION_END, t, "T"), "OK");
		CHECK(use(5, QUOTA_MEMORY) > mem5);
		t = round ? txstart(&g) : 0;
		for (int i = 0; i < 30; i++) {
			snprintf(name, sizeof(name), "big/child%d", i);
			EQ(op1(&g, XS_RM, t, name), "OK");
		}
		if (t)
			EQ(op1(&g, XS_TRANSACTION_END, t, "T"), "OK");
		EQ(op1(&g, XS_RM, 0, "big"), "OK");
		CHECK(use(5, QUOTA_MEMORY) == mem5);
	}
	CHECK(counts_match_tree());
	env_close();
	return ok;
}

/* CONTROL "quota <domid>" through the dispatch table. */
static int t_control(void)
{
	struct client d0;
	int ok = 1;

	env_open();
	client_open(&d0, 0);
	make_home(&d0, 5);
	/* dom0 owns "/", "/tool", "/tool/xenstored", "/local" and
	 * "/local/domain". */
	{
		const char *r = rq(&d0, XS_CONTROL, 0, S("quota\0" "0\0"));
		const char *want = "Domain 0:\n"
				   "nodes           :        5\n"
				   "watches         :        0\n"
				   "transactions    :        0\n"
				   "outstanding     :        0\n"
				   "memory          : ";

		CHECK(strncmp(r, want, strlen(want)) == 0);
		if (strncmp(r, want, strlen(want)) != 0)
			printf("    got \"%s\"\n", r);
	}
	env_close();
	return ok;
}

/* GET_QUOTA/SET_QUOTA of a domain: 4.22's errors in 4.22's order. */
static int t_domain_quota_errors(void)
{
	struct client d0, g;
	int ok = 1;

	env_open();
	domain_table_init(&sp.domains);
	client_open(&d0, 0);
	client_open(&g, 5);
	(void)domain_get(&sp.domains, 5);
	/* Privileged only, every form. */
	EQ(rq(&g, XS_SET_QUOTA, 0, S("5\0nodes\0" "9\0")), "EACCES");
	EQ(rq(&g, XS_GET_QUOTA, 0, S("5\0nodes\0")), "EACCES");
	EQ(rq(&g, XS_SET_QUOTA, 0, S("nodes\0" "9\0")), "EACCES");
	EQ(rq(&g, XS_GET_QUOTA, 0, S("")), "EACCES");
	/* A domain the store was never told of. */
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("9\0nodes\0" "3\0")), "ENOENT");
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("9\0nodes\0")), "ENOENT");
	/* The domid is checked before the name. */
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("9\0nosuch\0" "3\0")), "ENOENT");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("x5\0nodes\0" "3\0")), "EINVAL");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("65536\0nodes\0" "3\0")), "EINVAL");
	/* Bad names and values. */
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0nosuch\0" "3\0")), "EINVAL");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0soft-nodes\0" "3\0")), "EINVAL");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0nodes\0" "-1\0")), "EINVAL");
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("5\0nosuch\0")), "EINVAL");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0")), "EINVAL");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0nodes\0" "3\0" "x\0")), "EINVAL");
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("5\0nodes\0" "x\0")), "EINVAL");
	/* Nothing above changed a value. */
	CHECK(!quota_has_domain_limit(sp.quota, 5, QUOTA_NODES));
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("5\0nodes\0")), "1000");
	client_close(&g);
	client_close(&d0);
	domain_table_fini(&sp.domains);
	env_close();
	return ok;
}

/* A domain's own value binds it alone, overrides later global changes,
 * outlives its connection, and goes with its release. */
static int t_domain_quota_values(void)
{
	struct client d0, g5, g6;
	char name[16];
	int ok = 1;

	env_open();
	domain_table_init(&sp.domains);
	client_open(&d0, 0);
	(void)domain_get(&sp.domains, 5);
	(void)domain_get(&sp.domains, 6);
	make_home(&d0, 5);
	make_home(&d0, 6);
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0nodes\0" "3\0")), "OK");
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("5\0nodes\0")), "3");
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("6\0nodes\0")), "1000");
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("nodes\0")), "1000");
	/* Its connection may come and go: the value stays. */
	client_open(&g5, 5);
	client_close(&g5);
	client_open(&g5, 5);
	client_open(&g6, 6);
	/* Home plus two nodes fit in 3; domain 6 has the global 1000. */
	EQ(wr(&g5, 0, "a", "v"), "OK");
	EQ(wr(&g5, 0, "b", "v"), "OK");
	EQ(wr(&g5, 0, "c", "v"), "ENOSPC");
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		EQ(wr(&g6, 0, name, "v"), "OK");
	}
	/* A global change binds domain 6, not domain 5's own value. */
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("nodes\0" "7\0")), "OK");
	EQ(wr(&g6, 0, "x", "v"), "OK");
	EQ(wr(&g6, 0, "y", "v"), "ENOSPC");
	EQ(wr(&g5, 0, "c", "v"), "ENOSPC");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0nodes\0" "0\0")), "OK");
	EQ(wr(&g5, 0, "c", "v"), "OK");
	/* The other per-domain limits, each on domain 5 alone. */
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0node-permissions\0" "1\0")), "OK");
	EQ(rq(&g5, XS_SET_PERMS, 0, S("a\0n5\0r6\0")), "ENOSPC");
	EQ(rq(&g6, XS_SET_PERMS, 0, S("x\0n6\0r5\0")), "OK");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0path-max\0" "3\0")), "OK");
	EQ(wr(&g5, 0, "abcd", "v"), "EINVAL");
	EQ(wr(&g5, 0, "abc", "v"), "OK");
	EQ(wr(&g6, 0, "abcd", "v"), "ENOSPC");	/* past its 7 nodes */
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0node-size\0" "40\0")), "OK");
	EQ(wr(&g5, 0, "a", "0123456789"), "ENOSPC");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0watches\0" "0\0")), "OK");
	EQ(rq(&d0, XS_SET_QUOTA, 0, S("5\0transactions\0" "0\0")), "OK");
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("5\0path-max\0")), "3");
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("6\0path-max\0")), "2048");
	/* Released: the next domain 5 starts from the global values. */
	client_close(&g5);
	quota_domain_reset(sp.quota, 5);
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("5\0nodes\0")), "7");
	EQ(rq(&d0, XS_GET_QUOTA, 0, S("5\0path-max\0")), "2048");
	CHECK(!quota_has_domain_limit(sp.quota, 5, QUOTA_PATH_MAX));
	CHECK(counts_match_tree());
	client_close(&g6);
	client_close(&d0);
	domain_table_fini(&sp.domains);
	env_close();
	return ok;
}

/* A path refused for its length is a logged quota refusal, once per
 * window; a path refused for another reason is not. */
static int t_path_max_logged(void)
{
	struct client d0, g;
	unsigned long logged, suppressed;
	int ok = 1;

	env_open();
	client_open(&d0, 0);
	client_open(&g, 5);
	make_home(&d0, 5);
	sp.lim.path_max = 4;
	EQ(op1(&g, XS_READ, 0, "abcde"), "EINVAL");
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 1 && suppressed == 0);
	EQ(op1(&g, XS_READ, 0, "/local/domain/5/abcde"), "EINVAL");
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 1 && suppressed == 1);
	EQ(op1(&g, XS_READ, 0, "a//c"), "EINVAL");
	EQ(op1(&g, XS_READ, 0, "abcd"), "ENOENT");
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 1 && suppressed == 1);
	/* dom0 is bound by -M too, as in 4.17, and logged. */
	EQ(op1(&d0, XS_READ, 0, "/local/domain/5/abcde"), "EINVAL");
	quota_log_stats(sp.quota, &logged, &suppressed);
	CHECK(logged == 2 && suppressed == 1);
	client_close(&g);
	client_close(&d0);
	env_close();
	return ok;
}

static const struct unit_case tests[] = {
	{ "dom0 owns the initial tree", t_initial_counts },
	{ "nodes (-E): boundary, ENOSPC, XSA-414, dom0 exempt", t_nodes },
	{ "node size (-S): 4.17 record, ENOSPC, transaction fails", t_node_size },
	{ "watches (-W): E2BIG after the 129th, EEXIST first", t_watches },
	{ "transactions (-t): per connection, ENOSPC", t_transactions },
	{ "permissions (-A) and transaction-nodes", t_perms_and_txn_nodes },
	{ "commit: node quota, XSA-415", t_txn_commit },
	{ "XSA-421: create+remove in a transaction leaves counts", t_xsa421 },
	{ "XSA-440: second removal commit EAGAIN, counts exact", t_xsa440 },
	{ "owner change moves the count", t_owner_transfer },
	{ "XSA-483: reset on domid reuse", t_reset_on_reuse },
	{ "refusal log: once per domain, quota and window", t_log_rate },
	{ "outstanding (-Q): stall until read", t_outstanding },
	{ "CONTROL quota <domid> report", t_report },
	{ "memory (-Q/-q memory): EIO at the hard limit", t_memory },
	{ "memory: a removed subtree leaves the count as it was", t_memory_after_rm },
	{ "CONTROL quota <domid> through dispatch", t_control },
	{ "GET/SET_QUOTA of a domain: EACCES, ENOENT, EINVAL", t_domain_quota_errors },
	{ "SET_QUOTA of a domain: that domain only, until released",
	  t_domain_quota_values },
	{ "path-max (-M) refusals are logged", t_path_max_logged },
};

UNIT_MAIN("quota")
