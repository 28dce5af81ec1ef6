/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xsraw.c - a raw xenstore wire client for the end-to-end tests.
 *
 * It sends exactly the bytes it is told to and prints every message it
 * receives, one line each, so that a bats test can compare a daemon's
 * replies byte for byte with cxenstored's.
 *
 *   xsraw [-S SOCKET] [-t SECONDS] STEP...
 *
 * -S names the unix socket (default $XENSTORED_PATH), -t bounds every
 * wait (default 5 s).  Steps run in order:
 *
 *   TYPE[,TX[,REQ]]:PAYLOAD   send one request, then print messages until
 *                             its reply (any type but WATCH_EVENT) arrived.
 *                             TYPE is a name (READ, WRITE, ...) or a
 *                             number; TX defaults to 0 and may be `t`, the
 *                             id of the last TRANSACTION_START reply on
 *                             this connection; REQ defaults to 1, 2, 3...
 *                             per connection.  PAYLOAD is sent as given,
 *                             after unescaping: nothing adds a NUL.
 *   --hdr T,R,X,L             send a 16-byte header of four u32 (decimal
 *                             or 0x...) in host byte order, no body
 *   --hdr HEX / --hex HEX     send these raw bytes (pairs of hex digits)
 *   --raw ESCAPED             send these raw bytes
 *   --recv N                  print the next N messages, whatever they are
 *   -w N                      wait for N more messages (watch events);
 *                             given before the first request it applies
 *                             after the last one
 *   --close                   close the connection; a later step opens a
 *                             new one
 *   --expect-close            print messages until the daemon closes the
 *                             connection, then print `EOF`
 *   --conn N                  switch to connection N (1..8, default 1),
 *                             opened on first use; only the current
 *                             connection is read, so output is ordered
 *   --flood N STEP            send the request STEP N times without
 *                             reading; stop early once the daemon stops
 *                             reading for a second (says so on stderr)
 *   --sleep MS                pause
 *
 * Escapes (in and out): \0 NUL, \\ backslash, \xNN any byte; input also
 * takes \n \t \r.  Output, one line a message:
 *
 *   TYPE req=N tx=N len=N ESCAPED-PAYLOAD
 *
 * TYPE is the name, or the number when unknown; the payload and the
 * space before it are left out when len is 0.  Bytes 0x20..0x7e other
 * than backslash print as themselves, all others escaped (hex lowercase).
 *
 * Exit status: 0 done, 1 system error (cannot connect, ...), 2 usage,
 * 3 timeout, 4 the daemon closed a connection while a reply was due
 * (`EOF` printed), 5 a malformed message from the daemon.
 *
 * Example: xsraw 'WRITE:/a\0v' 'READ:/a\0' prints
 *   WRITE req=1 tx=0 len=3 OK\0
 *   READ req=2 tx=0 len=1 v
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "unix_connect.h"
#include "xs_text.h"

#define HDR_SIZE 16u
/* Replies are at most 4096 bytes; accept more so that a daemon that
 * oversteps is shown, not cut off. */
#define BODY_MAX 65536u
#define MAX_CONN 8
#define TYPE_WATCH_EVENT 15u
#define TYPE_TX_START 6u

enum {
	EXIT_OK = 0,
	EXIT_SYS = 1,
	EXIT_USAGE = 2,
	EXIT_TIMEOUT = 3,
	EXIT_EOF = 4,
	EXIT_PROTO = 5,
};

struct conn {
	int fd;                 /* -1 until first use; owned here */
	uint32_t next_req;
	uint32_t last_tx;       /* from the last TRANSACTION_START reply */
	size_t have;            /* bytes buffered in buf */
	uint8_t buf[HDR_SIZE + BODY_MAX];
};

/* The whole state of one run. */
struct xsraw {
	const char *path;
	int timeout_ms;
	int cur;                /* index into conns */
	struct conn conns[MAX_CONN];
};

/* A received message; body points into the connection's buffer. */
struct msg {
	uint32_t type, req, tx, len;
	const uint8_t *body;
};

static void usage(void)
{
	fputs("usage: xsraw [-S SOCKET] [-t SECONDS] STEP...\n"
	      "  TYPE[,TX[,REQ]]:PAYLOAD | --hdr T,R,X,L | --hdr HEX | --hex HEX\n"
	      "  --raw ESC | --recv N | -w N | --close | --expect-close\n"
	      "  --conn N | --flood N STEP | --sleep MS\n"
	      "(see the header comment of tests/tools/xsraw.c)\n", stderr);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_type(const char *s, uint32_t *type)
{
	return xs_type_parse(s, strlen(s), type) == 0;
}

static void print_msg(const struct msg *m)
{
	xs_print_msg(stdout, m->type, m->req, m->tx, m->body, m->len);
	fflush(stdout);
}

static struct conn *cur_conn(struct xsraw *x)
{
	struct conn *c = &x->conns[x->cur];

	if (c->fd >= 0)
		return c;
	c->fd = unix_connect(x->path);
	if (c->fd < 0) {
		fprintf(stderr, "xsraw: connect %s: %s\n", x->path, strerror(-c->fd));
		exit(EXIT_SYS);
	}
	c->next_req = 1;
	c->last_tx = 0;
	c->have = 0;
	return c;
}

static void close_conn(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->have = 0;
}

/*
 * Wait up to `ms` (-1: forever) for `events` on fd.  Returns 0 when
 * ready, ETIMEDOUT, or an errno value.
 */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	return r == 0 ? ETIMEDOUT : 0;
}

/*
 * Send all of buf.  `stall_ms` bounds how long the socket may stay
 * unwritable.  Returns 0, ETIMEDOUT, EPIPE (the daemon closed) or an
 * errno value.
 */
static int send_all(int fd, const uint8_t *buf, size_t len, int stall_ms)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT, stall_ms);

			if (r)
				return r;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return (errno == ECONNRESET) ? EPIPE : errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Receive one whole message before `deadline` (ms, monotonic).  Returns
 * 0 with *m filled (valid until the next call), ETIMEDOUT, EPIPE when
 * the daemon closed the connection, EPROTO for an oversized message.
 */
static int recv_msg(struct conn *c, int64_t deadline, struct msg *m)
{
	static const size_t cap = sizeof(c->buf);

	for (;;) {
		if (c->have >= HDR_SIZE) {
			uint32_t h[4];

			memcpy(h, c->buf, sizeof(h));
			if (h[3] > BODY_MAX)
				return EPROTO;
			if (c->have >= HDR_SIZE + h[3]) {
				/* Keep the message at the buffer start until
				 * the next call shifts it out. */
				m->type = h[0];
				m->req = h[1];
				m->tx = h[2];
				m->len = h[3];
				m->body = c->buf + HDR_SIZE;
				return 0;
			}
		}

		int64_t left = deadline - now_ms();
		int r = wait_fd(c->fd, POLLIN, left > 0 ? (int)left : 0);

		if (r)
			return r;

		ssize_t n = recv(c->fd, c->buf + c->have, cap - c->have, 0);

		if (n < 0 && errno == EINTR)
			continue;
		/* A close with our bytes unread shows up as a reset. */
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return EPIPE;
		if (n < 0)
			return errno;
		c->have += (size_t)n;
	}
}

/* Drop the message recv_msg() just returned from the buffer. */
static void consume_msg(struct conn *c, const struct msg *m)
{
	size_t used = HDR_SIZE + m->len;

	memmove(c->buf, c->buf + used, c->have - used);
	c->have -= used;
}

/* Exit status for a failed wait, after saying what happened. */
static int wait_failure(int r)
{
	switch (r) {
	case ETIMEDOUT:
		fprintf(stderr, "xsraw: timed out\n");
		return EXIT_TIMEOUT;
	case EPIPE:
		printf("EOF\n");
		fflush(stdout);
		return EXIT_EOF;
	case EPROTO:
		fprintf(stderr, "xsraw: malformed message (len > %u)\n",
			BODY_MAX);
		return EXIT_PROTO;
	default:
		fprintf(stderr, "xsraw: %s\n", strerror(r));
		return EXIT_SYS;
	}
}

/*
 * Print messages on the current connection until `count` of them were
 * seen; if `reply_only`, watch events are printed but not counted.
 */
static int receive(struct xsraw *x, unsigned long count, bool reply_only)
{
	struct conn *c = cur_conn(x);
	int64_t deadline = now_ms() + x->timeout_ms;

	while (count) {
		struct msg m;
		int r = recv_msg(c, deadline, &m);

		if (r)
			return wait_failure(r);
		print_msg(&m);
		if (m.type == TYPE_TX_START && m.len > 0)
			c->last_tx = (uint32_t)strtoul((const char *)m.body,
						       NULL, 10);
		if (!reply_only || m.type != TYPE_WATCH_EVENT)
			count--;
		consume_msg(c, &m);
	}
	return EXIT_OK;
}

static int expect_close(struct xsraw *x)
{
	struct conn *c = cur_conn(x);
	int64_t deadline = now_ms() + x->timeout_ms;

	for (;;) {
		struct msg m;
		int r = recv_msg(c, deadline, &m);

		if (r == EPIPE) {
			printf("EOF\n");
			fflush(stdout);
			close_conn(c);
			return EXIT_OK;
		}
		if (r)
			return wait_failure(r);
		print_msg(&m);
		consume_msg(c, &m);
	}
}

/* Build one request from a `TYPE[,TX[,REQ]]:PAYLOAD` step into out. */
static int build_request(struct xsraw *x, const char *step, uint8_t *out,
			 size_t cap, size_t *len)
{
	const char *colon = strchr(step, ':');
	char spec[64];
	char *fields[3] = { NULL, NULL, NULL };
	uint32_t h[4] = { 0, 0, 0, 0 };
	struct conn *c;
	long n;
	int i;

	if (!colon || (size_t)(colon - step) >= sizeof(spec))
		return EXIT_USAGE;
	memcpy(spec, step, (size_t)(colon - step));
	spec[colon - step] = '\0';
	fields[0] = spec;
	for (i = 1; i < 3; i++) {
		fields[i] = fields[i - 1] ? strchr(fields[i - 1], ',') : NULL;
		if (fields[i])
			*fields[i]++ = '\0';
	}
	if (fields[2] && strchr(fields[2], ','))
		return EXIT_USAGE;
	if (!parse_type(fields[0], &h[0]))
		return EXIT_USAGE;
	c = cur_conn(x);
	if (fields[1] && !strcmp(fields[1], "t"))
		h[2] = c->last_tx;
	else if (fields[1] && !parse_u32(fields[1], &h[2]))
		return EXIT_USAGE;
	if (fields[2]) {
		if (!parse_u32(fields[2], &h[1]))
			return EXIT_USAGE;
	} else {
		h[1] = c->next_req++;
	}
	n = xs_unescape(colon + 1, out + HDR_SIZE, cap - HDR_SIZE);
	if (n < 0)
		return EXIT_USAGE;
	h[3] = (uint32_t)n;
	memcpy(out, h, sizeof(h));
	*len = HDR_SIZE + (size_t)n;
	return EXIT_OK;
}

static int send_bytes(struct xsraw *x, const uint8_t *buf, size_t len)
{
	struct conn *c = cur_conn(x);
	int r = send_all(c->fd, buf, len, x->timeout_ms);

	return r ? wait_failure(r) : EXIT_OK;
}

static int do_request(struct xsraw *x, const char *step)
{
	static uint8_t out[HDR_SIZE + BODY_MAX];
	size_t len;
	int r = build_request(x, step, out, sizeof(out), &len);

	if (r) {
		fprintf(stderr, "xsraw: bad request step: %s\n", step);
		return r;
	}
	r = send_bytes(x, out, len);
	return r ? r : receive(x, 1, true);
}

static int do_flood(struct xsraw *x, const char *count, const char *step)
{
	static uint8_t out[HDR_SIZE + BODY_MAX];
	uint32_t n, i;
	size_t len;
	struct conn *c;
	int r;

	if (!parse_u32(count, &n)) {
		fprintf(stderr, "xsraw: bad flood count: %s\n", count);
		return EXIT_USAGE;
	}
	c = cur_conn(x);
	for (i = 0; i < n; i++) {
		r = build_request(x, step, out, sizeof(out), &len);
		if (r) {
			fprintf(stderr, "xsraw: bad request step: %s\n", step);
			return r;
		}
		r = send_all(c->fd, out, len, 1000);
		if (r == ETIMEDOUT) {
			fprintf(stderr, "xsraw: flood stalled after %" PRIu32
				" of %" PRIu32 "\n", i, n);
			return EXIT_OK;
		}
		if (r)
			return wait_failure(r);
	}
	return EXIT_OK;
}

static int do_hdr(struct xsraw *x, const char *arg)
{
	uint8_t buf[BODY_MAX];
	long n;

	if (strchr(arg, ',')) {
		uint32_t h[4];
		char tmp[128];
		char *save = NULL, *tok;
		int i = 0;

		if (strlen(arg) >= sizeof(tmp))
			return EXIT_USAGE;
		strcpy(tmp, arg);
		for (tok = strtok_r(tmp, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			if (i == 4 || !parse_u32(tok, &h[i]))
				return EXIT_USAGE;
			i++;
		}
		if (i != 4)
			return EXIT_USAGE;
		memcpy(buf, h, sizeof(h));
		n = (long)sizeof(h);
	} else {
		n = xs_unhex(arg, buf, sizeof(buf));
		if (n < 0)
			return EXIT_USAGE;
	}
	return send_bytes(x, buf, (size_t)n);
}

static int do_raw(struct xsraw *x, const char *arg)
{
	uint8_t buf[BODY_MAX];
	long n = xs_unescape(arg, buf, sizeof(buf));

	if (n < 0)
		return EXIT_USAGE;
	return send_bytes(x, buf, (size_t)n);
}

static int do_sleep(const char *arg)
{
	uint32_t ms;
	struct timespec ts;

	if (!parse_u32(arg, &ms))
		return EXIT_USAGE;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return EXIT_OK;
}

static bool is_opt(const char *a, const char *name)
{
	return !strcmp(a, name);
}

/* Run the steps argv[i..argc); returns the exit status. */
static int run(struct xsraw *x, int argc, char **argv, int i)
{
	unsigned long deferred_events = 0;
	bool sent = false;
	int r = EXIT_OK;

	for (; i < argc && r == EXIT_OK; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t n;

		if (is_opt(a, "--close")) {
			close_conn(&x->conns[x->cur]);
		} else if (is_opt(a, "--expect-close")) {
			r = expect_close(x);
		} else if (a[0] == '-' && a[1] == '-' && !v) {
			usage();
			return EXIT_USAGE;
		} else if (is_opt(a, "-w") || is_opt(a, "--recv")) {
			if (!v || !parse_u32(v, &n)) {
				usage();
				return EXIT_USAGE;
			}
			i++;
			if (is_opt(a, "-w") && !sent)
				deferred_events += n;
			else
				r = receive(x, n, false);
		} else if (is_opt(a, "--hdr") || is_opt(a, "--hex")) {
			i++;
			r = (is_opt(a, "--hex") && strchr(v, ',')) ?
				EXIT_USAGE : do_hdr(x, v);
		} else if (is_opt(a, "--raw")) {
			i++;
			r = do_raw(x, v);
		} else if (is_opt(a, "--conn")) {
			i++;
			if (!parse_u32(v, &n) || n < 1 || n > MAX_CONN)
				r = EXIT_USAGE;
			else
				x->cur = (int)n - 1;
		} else if (is_opt(a, "--flood")) {
			if (i + 2 >= argc) {
				usage();
				return EXIT_USAGE;
			}
			r = do_flood(x, argv[i + 1], argv[i + 2]);
			i += 2;
		} else if (is_opt(a, "--sleep")) {
			i++;
			r = do_sleep(v);
		} else {
			r = do_request(x, a);
			sent = true;
		}
		if (r == EXIT_USAGE)
			fprintf(stderr, "xsraw: bad step: %s\n", a);
	}
	if (r == EXIT_OK && deferred_events)
		r = receive(x, deferred_events, false);
	return r;
}

int main(int argc, char **argv)
{
	static struct xsraw x;
	int i, r;

	x.path = getenv("XENSTORED_PATH");
	x.timeout_ms = 5000;
	for (i = 0; i < MAX_CONN; i++)
		x.conns[i].fd = -1;

	for (i = 1; i < argc; i++) {
		if (is_opt(argv[i], "-S") && i + 1 < argc) {
			x.path = argv[++i];
		} else if (is_opt(argv[i], "-t") && i + 1 < argc) {
			char *end;
			double s = strtod(argv[++i], &end);

			if (*end || s <= 0 || s > 3600) {
				usage();
				return EXIT_USAGE;
			}
			x.timeout_ms = (int)(s * 1000);
		} else if (is_opt(argv[i], "-h") || is_opt(argv[i], "--help")) {
			usage();
			return EXIT_OK;
		} else {
			break;
		}
	}
	if (!x.path || i == argc) {
		usage();
		return EXIT_USAGE;
	}
	r = run(&x, argc, argv, i);
	for (i = 0; i < MAX_CONN; i++)
		close_conn(&x.conns[i]);
	return r;
}
