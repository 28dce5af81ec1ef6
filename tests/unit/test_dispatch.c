/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_dispatch.c - the message table, and requests driven through real
 * connections (a socketpair per client, the store process's own conn.c
 * and dispatch.c, no broker): header echo, error replies, the order of
 * replies and watch events, read-only refusals, transaction ids, E2BIG,
 * oversized headers, the output bound for a client that never reads, and
 * the order in which a turn of the main loop serves its connections.
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
#include "path.h"
#include "storeproc.h"
#include "unit.h"
#include "wire_text.h"

/* The context is big (ipc buffer inside): static, set up per test. */
static struct storeproc sp;

static void env_open(void)
{
	wire_sp_init(&sp);
	sp.lim.path_max = PATH_REL_MAX;
	sp.lim.perm_nb = 5;
	sp.lim.watch_nb = 128;
	sp.lim.transaction = 10;
}

static void env_close(void)
{
	wire_sp_fini(&sp);
}

static void client_open(struct client *cl, bool priv, bool rdonly)
{
	struct caller who = { 0, DOMID_NONE, priv };

	client_connect(&sp, cl, &who, rdonly);
}

/* Everything the connection wrote, as "TYPE req tx payload" lines with
 * NUL shown as '|'; "EOF" once it closed. */
static const char *drain(struct client *cl)
{
	static char text[65536 + 8];
	ssize_t n = client_recv(cl);

	snprintf(text, sizeof(text), "%s%s", wire_text(cl->in, &cl->have),
		 n == 0 ? "EOF\n" : "");
	return text;
}

static int expect(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return 1;
	printf("    got:\n%s    want:\n%s", got, want);
	return 0;
}

#define S(lit) lit, sizeof(lit) - 1

static int t_table(void)
{
	static const uint32_t implemented[] = {
		XS_DIRECTORY, XS_READ, XS_GET_PERMS, XS_WATCH, XS_UNWATCH,
		XS_TRANSACTION_START, XS_TRANSACTION_END, XS_GET_DOMAIN_PATH,
		XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS,
		XS_IS_DOMAIN_INTRODUCED, XS_RESET_WATCHES,
		XS_INTRODUCE, XS_RELEASE, XS_RESUME, XS_SET_TARGET,
		XS_CONTROL, XS_DIRECTORY_PART, XS_GET_FEATURE, XS_SET_FEATURE,
		XS_GET_QUOTA, XS_SET_QUOTA,
	};
	unsigned int nimpl = 0;
	int ok = 1;

	for (uint32_t t = 0; t < DISPATCH_NTYPES; t++) {
		const struct dispatch_row *r = dispatch_row(t);
		bool want = false;

		if (t == 20) {		/* XS_RESTRICT, removed */
			ok &= r == NULL;
			continue;
		}
		if (!r || !r->name) {
			printf("    type %u has no row\n", t);
			ok = 0;
			continue;
		}
		for (size_t i = 0; i < sizeof(implemented) / sizeof(implemented[0]); i++)
			want |= implemented[i] == t;
		if (want != (r->fn != NULL)) {
			printf("    %s: handler %s\n", r->name, r->fn ? "set" : "missing");
			ok = 0;
		}
		nimpl += r->fn != NULL;
		/* Only WATCH and UNWATCH ignore the transaction id. */
		if (!(r->flags & DF_TXN) != (t == XS_WATCH || t == XS_UNWATCH ||
					    t == XS_WATCH_EVENT || t == XS_ERROR)) {
			printf("    %s: DF_TXN wrong\n", r->name);
			ok = 0;
		}
	}
	ok &= nimpl == sizeof(implemented) / sizeof(implemented[0]);
	ok &= (dispatch_row(XS_WRITE)->flags & DF_MODIFY) &&
	      (dispatch_row(XS_SET_PERMS)->flags & DF_MODIFY) &&
	      !(dispatch_row(XS_READ)->flags & DF_MODIFY) &&
	      (dispatch_row(XS_IS_DOMAIN_INTRODUCED)->flags & DF_PRIV);
	ok &= !dispatch_row(DISPATCH_NTYPES) && !dispatch_row(0xffff) &&
	      !dispatch_row(0xffffffffu);
	return ok;
}

static int t_echo_and_errors(void)
{
	struct client a;
	int ok;

	env_open();
	client_open(&a, true, false);
	client_send(&a, XS_READ, 0, S("/tool\0"));
	client_send(&a, XS_READ, 99, S("/tool\0"));
	client_send(&a, 99, 7, S(""));
	client_send(&a, XS_WATCH_EVENT, 0, S("/a\0t\0"));
	client_send(&a, XS_READ, 0, S("/tool"));
	client_send(&a, XS_GET_DOMAIN_PATH, 0, S("-1\0"));
	client_send(&a, XS_IS_DOMAIN_INTRODUCED, 0, S("0\0"));
	client_send(&a, XS_IS_DOMAIN_INTRODUCED, 0, S("3\0"));
	client_pump(&sp, &a);
	ok = expect(drain(&a),
		    "2 1 0 \n"
		    "16 2 99 ENOENT|\n"
		    "16 3 7 ENOSYS|\n"
		    "16 4 0 ENOSYS|\n"
		    "16 5 0 EINVAL|\n"
		    "10 6 0 /local/domain/4294967295|\n"
		    "17 7 0 T|\n"
		    "17 8 0 F|\n");
	env_close();
	return ok;
}

static int t_event_order(void)
{
	struct client a, b;
	int ok = 1;

	env_open();
	client_open(&a, true, false);
	client_open(&b, true, false);
	client_send(&b, XS_WATCH, 0, S("/w\0B\0"));
	client_pump(&sp, &b);
	client_send(&a, XS_WATCH, 0, S("/w\0A\0"));
	client_send(&a, XS_WATCH, 0, S("w\0R\0"));
	client_send(&a, XS_WRITE, 0, S("/w/x\0v"));
	client_pump(&sp, &a);
	/* OK before the registration event; events before the WRITE's OK. */
	ok &= expect(drain(&a),
		     "4 1 0 OK|\n15 0 0 /w|A|\n"
		     "4 2 0 OK|\n15 0 0 w|R|\n"
		     "15 0 0 /w/x|A|\n11 3 0 OK|\n");
	ok &= expect(drain(&b), "4 1 0 OK|\n15 0 0 /w|B|\n15 0 0 /w/x|B|\n");
	client_send(&a, XS_WRITE, 0, S("/local/domain/0/w/y\0v"));
	client_pump(&sp, &a);
	ok &= expect(drain(&a), "15 0 0 w/y|R|\n11 4 0 OK|\n");
	client_send(&b, XS_WATCH, 0, S("/w\0B\0"));
	client_send(&b, XS_UNWATCH, 0, S("/w\0C\0"));
	client_send(&b, XS_UNWATCH, 0, S("/w\0B\0"));
	client_pump(&sp, &b);
	ok &= expect(drain(&b), "16 2 0 EEXIST|\n16 3 0 ENOENT|\n5 4 0 OK|\n");
	env_close();
	return ok;
}

static int t_read_only(void)
{
	struct client a;
	int ok;

	env_open();
	client_open(&a, true, true);
	client_send(&a, XS_WRITE, 0, S("/x\0v"));
	client_send(&a, XS_MKDIR, 0, S("/x\0"));
	client_send(&a, XS_RM, 0, S("/tool\0"));
	client_send(&a, XS_SET_PERMS, 0, S("/tool\0n0\0"));
	client_send(&a, XS_IS_DOMAIN_INTRODUCED, 0, S("0\0"));
	client_send(&a, XS_DIRECTORY, 0, S("/\0"));
	client_send(&a, XS_TRANSACTION_START, 0, S("\0"));
	client_pump(&sp, &a);
	ok = expect(drain(&a),
		    "16 1 0 EACCES|\n16 2 0 EACCES|\n16 3 0 EACCES|\n"
		    "16 4 0 EACCES|\n16 5 0 EACCES|\n1 6 0 tool|\n6 7 0 1|\n");
	env_close();
	return ok;
}

static int t_transactions(void)
{
	struct client a;
	int ok;

	env_open();
	client_open(&a, true, false);
	client_send(&a, XS_TRANSACTION_START, 0, S("\0"));
	client_send(&a, XS_TRANSACTION_START, 0, S(""));
	client_send(&a, XS_TRANSACTION_START, 1, S("\0"));
	client_send(&a, XS_TRANSACTION_END, 1, S("X\0"));
	client_send(&a, XS_TRANSACTION_END, 0, S("T\0"));
	client_send(&a, XS_WRITE, 1, S("/t\0in"));
	client_send(&a, XS_READ, 0, S("/t\0"));
	client_send(&a, XS_TRANSACTION_END, 1, S("T\0"));
	client_send(&a, XS_READ, 0, S("/t\0"));
	client_send(&a, XS_READ, 1, S("/t\0"));
	client_send(&a, XS_TRANSACTION_END, 2, S("F\0"));
	client_send(&a, XS_TRANSACTION_START, 0, S("\0"));
	client_pump(&sp, &a);
	ok = expect(drain(&a),
		    "6 1 0 1|\n6 2 0 2|\n16 3 1 EBUSY|\n16 4 1 EINVAL|\n"
		    "16 5 0 ENOENT|\n11 6 1 OK|\n16 7 0 ENOENT|\n7 8 1 OK|\n"
		    "2 9 0 in\n16 10 1 ENOENT|\n7 11 2 OK|\n6 12 0 3|\n");
	env_close();
	return ok;
}

/* XSA-484's shape: RESET_WATCHES naming the transaction it ends. */
static int t_reset_watches(void)
{
	struct client a;
	int ok;

	env_open();
	client_open(&a, true, false);
	client_send(&a, XS_WATCH, 0, S("/r\0t\0"));
	client_send(&a, XS_TRANSACTION_START, 0, S("\0"));
	client_send(&a, XS_RESET_WATCHES, 1, S("\0"));
	client_send(&a, XS_WRITE, 1, S("/r\0v"));
	client_send(&a, XS_WRITE, 0, S("/r\0v"));
	client_send(&a, XS_RESET_WATCHES, 0, S(""));
	client_pump(&sp, &a);
	ok = expect(drain(&a),
		    "4 1 0 OK|\n15 0 0 /r|t|\n6 2 0 1|\n21 3 1 OK|\n"
		    "16 4 1 ENOENT|\n11 5 0 OK|\n21 6 0 OK|\n");
	ok &= a.c->ntxns == 0 && a.c->wo.count == 0;
	env_close();
	return ok;
}

static int t_e2big(void)
{
	char body[128];
	struct client a;
	int n, ok;

	env_open();
	client_open(&a, true, false);
	/* 60 children of 80 characters: a 4860-byte listing. */
	for (int i = 0; i < 60; i++) {
		n = snprintf(body, sizeof(body), "/big/%078d", i);
		client_send(&a, XS_MKDIR, 0, body, (size_t)n + 1);
		client_pump(&sp, &a);
	}
	drain(&a);
	client_send(&a, XS_DIRECTORY, 0, S("/big\0"));
	client_pump(&sp, &a);
	ok = expect(drain(&a), "16 61 0 E2BIG|\n");
	env_close();
	return ok;
}

static int t_oversize_header(void)
{
	struct xsd_sockmsg h = { XS_READ, 2, 0, 4097 };
	struct client a, b;
	int ok;

	env_open();
	client_open(&a, true, false);
	client_open(&b, true, false);
	client_send(&a, XS_READ, 0, S("/tool\0"));
	ok = write(a.fd, &h, sizeof(h)) == sizeof(h);
	client_pump(&sp, &a);
	/* Closed at the header, and what was queued went with it. */
	ok &= expect(drain(&a), "EOF\n");
	ok &= sp.nconns == 1;
	client_send(&b, XS_READ, 0, S("/tool\0"));
	client_pump(&sp, &b);
	ok &= expect(drain(&b), "2 1 0 \n");
	close(a.fd);
	env_close();
	return ok;
}

/* A client that sends but never reads: served until its queue passes the
 * bound, then not read any more; the others go on. */
static int t_never_reads(void)
{
	static char value[4000];
	struct client a, b;
	int ok = 1, sent = 0;

	env_open();
	client_open(&a, true, false);
	client_open(&b, true, false);
	memset(value, 'v', sizeof(value));
	memcpy(value, "/v\0", 3);
	client_send(&b, XS_WRITE, 0, value, sizeof(value));
	client_pump(&sp, &b);
	drain(&b);
	for (int i = 0; i < 2000; i++) {
		struct xsd_sockmsg h = { XS_READ, (uint32_t)i, 0, 3 };
		unsigned char buf[sizeof(h) + 3];

		memcpy(buf, &h, sizeof(h));
		memcpy(buf + sizeof(h), "/v", 3);
		if (send(a.fd, buf, sizeof(buf), MSG_DONTWAIT) != sizeof(buf))
			break;
		sent++;
		if (!a.c->dead && (a.c->ep_events & EPOLLIN))
			client_pump(&sp, &a);
	}
	ok &= sent > 300;
	ok &= !a.c->dead && !(a.c->ep_events & EPOLLIN) &&
	      a.c->out_bytes <= CONN_OUT_SOFT + CONN_MSG_MAX;
	client_send(&b, XS_READ, 0, S("/tool\0"));
	client_pump(&sp, &b);
	ok &= expect(drain(&b), "2 2 0 \n");
	close(a.fd);
	env_close();
	return ok;
}

/* Replies waiting on cl's socket, counted (and taken). */
static int replies(struct client *cl)
{
	return wire_lines(drain(cl));
}

/*
 * The main loop's turn (storeproc/main.c run()): each connection epoll
 * reports is answered as soon as it is read, and one whose budget ran
 * out waits for the end of the turn, not for the next event: a flood
 * does not run ahead of the batch's other connections.
 */
static int t_turn_order(void)
{
	struct client flood, small;
	int ok = 1, first, total;

	env_open();
	client_open(&flood, true, false);
	client_open(&small, true, false);
	for (int i = 0; i < 200; i++)
		client_send(&flood, XS_READ, 0, S("/tool\0"));
	client_send(&small, XS_READ, 0, S("/tool\0"));

	/* Event 1: the flood, answered up to its budget at once. */
	conn_event(&sp, flood.c, EPOLLIN);
	conn_serve_pending(&sp);
	first = replies(&flood);
	ok &= first > 0 && first < 200;
	/* Event 2: the small client, answered at once; the flood waits. */
	conn_event(&sp, small.c, EPOLLIN);
	conn_serve_pending(&sp);
	ok &= expect(drain(&small), "2 1 0 \n");
	ok &= replies(&flood) == 0;
	/* The end of the turn serves the flood again; later turns finish it. */
	ok &= conn_run_pending(&sp);
	total = first + replies(&flood);
	ok &= total > first;
	while (conn_run_pending(&sp))
		;
	total += replies(&flood);
	if (total != 200)
		printf("    %d replies to the flood, want 200\n", total);
	ok &= total == 200;
	env_close();
	return ok;
}

static const struct unit_case tests[] = {
	{ "table: a row per type, handlers, flags", t_table },
	{ "req_id/tx_id echoed, ENOSYS, EINVAL, domain requests", t_echo_and_errors },
	{ "watch events vs replies, relative, EEXIST, UNWATCH", t_event_order },
	{ "read-only connection", t_read_only },
	{ "transaction ids, EBUSY, ENOENT, commit, abort", t_transactions },
	{ "RESET_WATCHES, also inside the transaction it ends", t_reset_watches },
	{ "reply over 4096 bytes is E2BIG", t_e2big },
	{ "len > 4096 closes that connection only", t_oversize_header },
	{ "a client that never reads stalls only itself", t_never_reads },
	{ "answered as read; a flood's leftover waits for the turn's end", t_turn_order },
};

UNIT_MAIN("dispatch")
