/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fakeguest.c - a guest's xenstore client over its ring, for the tests:
 * speaks the protocol as a Linux guest's xenbus frontend does (requests
 * into req[], replies and watch events interleaved in rsp[]) and
 * misbehaves on demand.  Steps and output follow tests/tools/xsraw;
 * the whole interface is in README.md.
 *
 *   fakeguest [-d DOMID | --dom0-ring] [-t SECONDS] [--notify-always]
 *             [--script FILE | -] STEP...
 *
 * Exit status: 0 done, 1 system error, 2 usage, 3 timeout, 5 malformed
 * message from the server, 6 the server set the ring's error field.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guestring.h"
#include "xs_text.h"

#define HDR 16u
#define MAX_ARGS 4

enum {
	EXIT_OK = 0,
	EXIT_SYS = 1,
	EXIT_USAGE = 2,
	EXIT_TIMEOUT = 3,
	EXIT_PROTO = 5,
	EXIT_RINGERR = 6,
};

/* A received message; body is NUL-terminated for convenience. */
struct msg {
	uint32_t type, req, tx, len;
	char body[XENSTORE_PAYLOAD_MAX + 1];
};

/* The whole state of one run. */
struct fg {
	struct gring g;
	int timeout_ms;
	int no_read;            /* --no-read: never consume rsp[] */
	uint32_t next_req;
	uint32_t last_tx;
	size_t have;            /* bytes of the message being received */
	uint8_t in[HDR + XENSTORE_PAYLOAD_MAX];
	uint8_t out[HDR + 2 * XENSTORE_PAYLOAD_MAX];
};

/* Reason a step stopped: an exit status (EXIT_*). */
static int fail(int code, const char *what)
{
	if (what)
		fprintf(stderr, "fakeguest: %s\n", what);
	return code;
}

static void print_msg(const struct msg *m)
{
	xs_print_msg(stdout, m->type, m->req, m->tx, (const uint8_t *)m->body, m->len);
}

static int ring_error(struct fg *f)
{
	uint32_t e = __atomic_load_n(&f->g.intf->error, __ATOMIC_RELAXED);

	if (!e)
		return 0;
	printf("RING-ERROR %" PRIu32 "\n", e);
	return EXIT_RINGERR;
}

/* Wait for an event until deadline; EXIT_TIMEOUT when it passed. */
static int wait_event(struct fg *f, int64_t deadline)
{
	int64_t left = deadline - gring_now_ms();
	int rc;

	if (left <= 0)
		return fail(EXIT_TIMEOUT, "timed out");
	/* Only an event wakes us, as a Linux guest: a server that forgets
	 * to notify shows up here as a timeout. */
	rc = gring_wait(&f->g, left > INT32_MAX ? INT32_MAX : (int)left);
	if (rc && rc != ETIMEDOUT)
		return fail(EXIT_SYS, strerror(rc));
	return ring_error(f);
}

/* Write all of buf, waiting for space; EXIT_TIMEOUT if none comes. */
static int send_bytes(struct fg *f, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int64_t deadline = gring_now_ms() + f->timeout_ms;

	while (len) {
		long n = gring_write(&f->g, p, len);
		int rc;

		if (n < 0)
			return fail(EXIT_SYS, "request ring indexes are invalid");
		p += n;
		len -= (size_t)n;
		if (!len)
			break;
		if (n > 0)
			deadline = gring_now_ms() + f->timeout_ms;
		rc = wait_event(f, deadline);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Receive one whole message into m, waiting until deadline.
 * EXIT_PROTO for a header announcing more than the payload maximum.
 */
static int recv_msg(struct fg *f, struct msg *m, int64_t deadline)
{
	uint32_t len;
	int rc;

	for (;;) {
		size_t want = HDR;
		long n;

		if (f->have >= HDR) {
			memcpy(&len, f->in + 12, 4);
			if (len > XENSTORE_PAYLOAD_MAX)
				return fail(EXIT_PROTO, "reply longer than 4096");
			want = HDR + len;
		}
		if (f->have == want && f->have >= HDR)
			break;
		n = gring_read(&f->g, f->in + f->have, want - f->have);
		if (n < 0)
			return fail(EXIT_SYS, "reply ring indexes are invalid");
		f->have += (size_t)n;
		if (n > 0)
			continue;
		rc = wait_event(f, deadline);
		if (rc)
			return rc;
	}
	memcpy(&m->type, f->in, 4);
	memcpy(&m->req, f->in + 4, 4);
	memcpy(&m->tx, f->in + 8, 4);
	memcpy(&m->len, f->in + 12, 4);
	memcpy(m->body, f->in + HDR, m->len);
	m->body[m->len] = 0;
	f->have = 0;
	return 0;
}

/* Parse TYPE[,TX[,REQ]]:PAYLOAD into a header + body in f->out. */
static long build_request(struct fg *f, const char *step, uint32_t *type)
{
	const char *colon = strchr(step, ':');
	const char *comma;
	uint32_t tx = 0, req;
	long body;

	if (!colon)
		return -1;
	comma = memchr(step, ',', (size_t)(colon - step));
	if (xs_type_parse(step, (size_t)((comma ? comma : colon) - step), type))
		return -1;
	req = ++f->next_req;
	if (comma) {
		const char *c2 = memchr(comma + 1, ',', (size_t)(colon - comma - 1));

		if (comma[1] == 't')
			tx = f->last_tx;
		else
			tx = (uint32_t)strtoul(comma + 1, NULL, 0);
		if (c2)
			req = (uint32_t)strtoul(c2 + 1, NULL, 0);
	}
	body = xs_unescape(colon + 1, f->out + HDR, sizeof(f->out) - HDR);
	if (body < 0)
		return -1;
	memcpy(f->out, type, 4);
	memcpy(f->out + 4, &req, 4);
	memcpy(f->out + 8, &tx, 4);
	memcpy(f->out + 12, &body, 4);
	return (long)HDR + body;
}

/* Print messages until a reply (not a watch event) arrived. */
static int await_reply(struct fg *f, uint32_t type)
{
	int64_t deadline = gring_now_ms() + f->timeout_ms;
	struct msg m;
	int rc;

	do {
		rc = recv_msg(f, &m, deadline);
		if (rc)
			return rc;
		print_msg(&m);
	} while (m.type == XS_WATCH_EVENT);
	if (type == XS_TRANSACTION_START && m.type == type)
		f->last_tx = (uint32_t)strtoul(m.body, NULL, 10);
	return 0;
}

static int step_request(struct fg *f, const char *step)
{
	uint32_t type;
	long n = build_request(f, step, &type);
	int rc;

	if (n < 0)
		return fail(EXIT_USAGE, "bad request step");
	rc = send_bytes(f, f->out, (size_t)n);
	if (rc || f->no_read)
		return rc;
	return await_reply(f, type);
}

/* Print the next n messages; count only watch events if events_only. */
static int step_recv(struct fg *f, long n, int events_only)
{
	int64_t deadline = gring_now_ms() + f->timeout_ms;
	struct msg m;
	int rc;

	while (n > 0) {
		rc = recv_msg(f, &m, deadline);
		if (rc)
			return rc;
		print_msg(&m);
		if (!events_only || m.type == XS_WATCH_EVENT)
			n--;
	}
	return 0;
}

/* One request whose reply is returned (watch events other than ours
 * are printed). */
static int quiet_request(struct fg *f, uint32_t type, const char *a,
			 const char *b, struct msg *reply)
{
	int64_t deadline = gring_now_ms() + f->timeout_ms;
	size_t la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;
	uint32_t req = ++f->next_req, tx = 0, len = (uint32_t)(la + lb);
	int rc;

	if (len > XENSTORE_PAYLOAD_MAX)
		return fail(EXIT_USAGE, "path too long");
	memcpy(f->out, &type, 4);
	memcpy(f->out + 4, &req, 4);
	memcpy(f->out + 8, &tx, 4);
	memcpy(f->out + 12, &len, 4);
	memcpy(f->out + HDR, a, la);
	if (b)
		memcpy(f->out + HDR + la, b, lb);
	rc = send_bytes(f, f->out, HDR + len);
	while (!rc) {
		rc = recv_msg(f, reply, deadline);
		if (rc || reply->type != XS_WATCH_EVENT)
			break;
		/* Ours: "PATH\0fgawait\0"; the caller re-reads anyway. */
		if (strcmp(reply->body + strlen(reply->body) + 1, "fgawait") != 0)
			print_msg(reply);
	}
	return rc;
}

/* --await PATH VALUE: watch, re-read on each event until it matches. */
static int step_await(struct fg *f, const char *path, const char *value)
{
	int64_t deadline = gring_now_ms() + f->timeout_ms;
	struct msg m;
	int rc;

	rc = quiet_request(f, XS_WATCH, path, "fgawait", &m);
	if (rc)
		return rc;
	if (m.type != XS_WATCH)
		return fail(EXIT_PROTO, "WATCH failed");
	for (;;) {
		rc = quiet_request(f, XS_READ, path, NULL, &m);
		if (rc)
			return rc;
		if (m.type == XS_READ && m.len == strlen(value) &&
		    memcmp(m.body, value, m.len) == 0)
			break;
		/* Wait for the next event of our watch (or any message). */
		if (gring_now_ms() >= deadline)
			return fail(EXIT_TIMEOUT, "await timed out");
		rc = recv_msg(f, &m, deadline);
		if (rc)
			return rc;
		if (m.type != XS_WATCH_EVENT ||
		    strcmp(m.body + strlen(m.body) + 1, "fgawait") != 0)
			print_msg(&m);
	}
	rc = quiet_request(f, XS_UNWATCH, path, "fgawait", &m);
	if (!rc)
		printf("AWAIT %s %s\n", path, value);
	return rc;
}

static void step_status(struct fg *f)
{
	struct xenstore_domain_interface *in = f->g.intf;

	printf("RING req_cons=%" PRIu32 " req_prod=%" PRIu32 " rsp_cons=%" PRIu32
	       " rsp_prod=%" PRIu32 " features=%" PRIu32 " connection=%" PRIu32
	       " error=%" PRIu32 "\n",
	       in->req_cons, in->req_prod, in->rsp_cons, in->rsp_prod,
	       in->server_features, in->connection, in->error);
}

/* Oversized: a WRITE header announcing 4097 bytes, then what fits. */
static int step_oversize(struct fg *f)
{
	uint32_t hdr[4] = { XS_WRITE, ++f->next_req, 0, XENSTORE_PAYLOAD_MAX + 1 };
	uint8_t fill[XENSTORE_RING_SIZE];
	long n;

	memset(fill, 'x', sizeof(fill));
	memcpy(fill, "data/big", 9);
	memcpy(f->out, hdr, HDR);
	n = gring_write(&f->g, hdr, HDR);
	if (n == (long)HDR)
		n = gring_write(&f->g, fill, sizeof(fill));
	return n < 0 ? fail(EXIT_SYS, "request ring indexes are invalid") : 0;
}

/* --flood N STEP: N requests, no reading; stop when the server stalls. */
static int step_flood(struct fg *f, long count, const char *step)
{
	int64_t deadline;
	uint32_t type;
	long i, n;

	for (i = 0; i < count; i++) {
		size_t off = 0;

		n = build_request(f, step, &type);
		if (n < 0)
			return fail(EXIT_USAGE, "bad request step");
		deadline = gring_now_ms() + f->timeout_ms;
		while (off < (size_t)n) {
			long w = gring_write(&f->g, f->out + off, (size_t)n - off);
			int rc;

			if (w < 0)
				return fail(EXIT_SYS, "request ring indexes are invalid");
			off += (size_t)w;
			if (off == (size_t)n)
				break;
			rc = wait_event(f, deadline);
			if (rc == EXIT_TIMEOUT) {
				fprintf(stderr, "fakeguest: flood: server stopped reading "
					"after %ld requests\n", i);
				return 0;
			}
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* --bench N STEP: N requests one after another; prints the mean latency. */
static int step_bench(struct fg *f, long count, const char *step)
{
	int64_t deadline;
	struct timespec a, b;
	double total_us = 0;
	struct msg m;
	uint32_t type;
	long i, n;
	int rc;

	for (i = 0; i < count; i++) {
		n = build_request(f, step, &type);
		if (n < 0)
			return fail(EXIT_USAGE, "bad request step");
		clock_gettime(CLOCK_MONOTONIC, &a);
		rc = send_bytes(f, f->out, (size_t)n);
		deadline = gring_now_ms() + f->timeout_ms;
		do {
			if (!rc)
				rc = recv_msg(f, &m, deadline);
		} while (!rc && m.type == XS_WATCH_EVENT);
		if (rc)
			return rc;
		clock_gettime(CLOCK_MONOTONIC, &b);
		total_us += (double)(b.tv_sec - a.tv_sec) * 1e6 +
			    (double)(b.tv_nsec - a.tv_nsec) / 1e3;
	}
	printf("BENCH n=%ld mean_us=%.1f\n", count, count ? total_us / (double)count : 0.0);
	return 0;
}

/*
 * --reconnect: the guest side of the reconnection protocol
 * (docs/misc/xenstore-ring.txt): connection = 1, notify, wait for the
 * server to set it back to 0.  Servers without the RECONNECTION feature
 * (cxenstored 4.17) never do: exit 3.
 */
static int step_reconnect(struct fg *f)
{
	int64_t deadline = gring_now_ms() + f->timeout_ms;
	int rc;

	__atomic_store_n(&f->g.intf->connection, XENSTORE_RECONNECT, __ATOMIC_SEQ_CST);
	gring_notify(&f->g);
	while (__atomic_load_n(&f->g.intf->connection, __ATOMIC_SEQ_CST) != XENSTORE_CONNECTED) {
		rc = wait_event(f, deadline);
		if (rc)
			return rc;
	}
	f->have = 0;
	printf("RECONNECTED\n");
	return 0;
}

static int need(int argc, int i, int n)
{
	return i + n < argc;
}

/*
 * Run the step at argv[i]; *used = how many words it took.  Returns an
 * exit status (0 = carry on).
 */
static int run_step(struct fg *f, int argc, char **argv, int i, int *used)
{
	const char *s = argv[i];
	long n;

	*used = 1;
	if (s[0] != '-')
		return step_request(f, s);
	if (!strcmp(s, "-w") || !strcmp(s, "--recv") || !strcmp(s, "--sleep")) {
		if (!need(argc, i, 1))
			return fail(EXIT_USAGE, "missing count");
		*used = 2;
		n = strtol(argv[i + 1], NULL, 10);
		if (!strcmp(s, "--sleep")) {
			struct timespec ts = { n / 1000, (n % 1000) * 1000000 };

			nanosleep(&ts, NULL);
			return 0;
		}
		return step_recv(f, n, s[1] == 'w');
	}
	if (!strcmp(s, "--raw") || !strcmp(s, "--hex") || !strcmp(s, "--hdr")) {
		if (!need(argc, i, 1))
			return fail(EXIT_USAGE, "missing bytes");
		*used = 2;
		if (!strcmp(s, "--hdr") && strchr(argv[i + 1], ',')) {
			uint32_t h[4];
			const char *p = argv[i + 1];
			char *end;
			int k;

			for (k = 0; k < 4; k++, p = end + 1) {
				unsigned long v = strtoul(p, &end, 0);

				if (end == p || v > UINT32_MAX || *end != (k < 3 ? ',' : 0))
					return fail(EXIT_USAGE, "bad --hdr");
				h[k] = (uint32_t)v;
			}
			return send_bytes(f, h, HDR);
		}
		n = s[2] == 'r' ? xs_unescape(argv[i + 1], f->out, sizeof(f->out))
				: xs_unhex(argv[i + 1], f->out, sizeof(f->out));
		if (n < 0)
			return fail(EXIT_USAGE, "bad bytes");
		return send_bytes(f, f->out, (size_t)n);
	}
	if (!strcmp(s, "--await")) {
		if (!need(argc, i, 2))
			return fail(EXIT_USAGE, "--await PATH VALUE");
		*used = 3;
		return step_await(f, argv[i + 1], argv[i + 2]);
	}
	if (!strcmp(s, "--flood") || !strcmp(s, "--bench")) {
		if (!need(argc, i, 2))
			return fail(EXIT_USAGE, "--flood/--bench N STEP");
		*used = 3;
		n = strtol(argv[i + 1], NULL, 10);
		return s[2] == 'f' ? step_flood(f, n, argv[i + 2])
				   : step_bench(f, n, argv[i + 2]);
	}
	if (!strcmp(s, "--reconnect"))
		return step_reconnect(f);
	if (!strcmp(s, "--status")) {
		step_status(f);
		return 0;
	}
	if (!strcmp(s, "--bad-index")) {
		uint32_t cons = __atomic_load_n(&f->g.intf->req_cons, __ATOMIC_RELAXED);

		__atomic_store_n(&f->g.intf->req_prod, cons + 2000, __ATOMIC_RELEASE);
		gring_notify(&f->g);
		return 0;
	}
	if (!strcmp(s, "--oversize"))
		return step_oversize(f);
	if (!strcmp(s, "--no-read")) {
		f->no_read = 1;
		return 0;
	}
	if (!strcmp(s, "--notify")) {
		gring_notify(&f->g);
		return 0;
	}
	if (!strcmp(s, "--stall")) {
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(s, "--die")) {
		fflush(stdout);
		_exit(0);
	}
	return fail(EXIT_USAGE, "unknown step");
}

/* Options that take their words from the rest of a script line. */
static int words_of(const char *step)
{
	static const char *const two[] = { "--await", "--flood", "--bench" };
	static const char *const one[] = { "-w", "--recv", "--sleep", "--raw",
					   "--hex", "--hdr" };
	size_t k;

	for (k = 0; k < sizeof(two) / sizeof(two[0]); k++)
		if (!strcmp(step, two[k]))
			return 3;
	for (k = 0; k < sizeof(one) / sizeof(one[0]); k++)
		if (!strcmp(step, one[k]))
			return 2;
	return 1;
}

/* One step a line: "-w 1", "--flood 10 WRITE:a\0b", "READ:a\0". */
static int run_script(struct fg *f, FILE *in)
{
	char line[16384];

	while (fgets(line, sizeof(line), in)) {
		char *argv[MAX_ARGS] = { 0 }, *p = line;
		int argc = 0, want, used, rc;

		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		if (line[0] != '-') {
			argv[argc++] = p;
		} else {
			argv[argc++] = p;
			p = strchr(p, ' ');
			if (p)
				*p++ = 0;
			want = words_of(argv[0]);
			while (p && argc < want) {
				argv[argc++] = p;
				p = argc < want ? strchr(p, ' ') : NULL;
				if (p)
					*p++ = 0;
			}
		}
		rc = run_step(f, argc, argv, 0, &used);
		fflush(stdout);
		if (rc)
			return rc;
	}
	return 0;
}

static void usage(void)
{
	fputs("usage: fakeguest [-d DOMID | --dom0-ring] [-t SECONDS] [--notify-always]\n"
	      "                 [--script FILE | -] STEP...\n"
	      "  TYPE[,TX[,REQ]]:PAYLOAD | -w N | --recv N | --await PATH VALUE\n"
	      "  --sleep MS | --status | --raw ESC | --hex HEX | --hdr T,R,X,L\n"
	      "  --bad-index | --oversize | --flood N STEP | --no-read | --notify\n"
	      "  --bench N STEP | --reconnect | --stall | --die\n"
	      "(see tests/xensim/README.md)\n", stderr);
}

int main(int argc, char **argv)
{
	static struct fg f;
	const char *script = NULL;
	long domid = -1;
	int dom0 = 0, notify_always = 0, i, rc, used;

	/* Before the host is opened (sim_open reads it): a notification is
	 * then one write, with no signal masking around it. */
	signal(SIGPIPE, SIG_IGN);
	f.timeout_ms = 5000;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc) {
			domid = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			f.timeout_ms = (int)(strtod(argv[++i], NULL) * 1000);
		} else if (!strcmp(argv[i], "--dom0-ring")) {
			dom0 = 1;
		} else if (!strcmp(argv[i], "--notify-always")) {
			notify_always = 1;
		} else if (!strcmp(argv[i], "--script") && i + 1 < argc) {
			script = argv[++i];
		} else if (!strcmp(argv[i], "-")) {
			script = "-";
		} else {
			break;
		}
	}
	if ((domid < 0) == !dom0 || f.timeout_ms <= 0) {
		usage();
		return EXIT_USAGE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = gring_attach(&f.g, NULL, dom0 ? 0 : (uint32_t)domid, dom0);
	if (rc) {
		fprintf(stderr, "fakeguest: cannot attach to %s: %s\n",
			dom0 ? "dom0's ring" : "the domain", strerror(rc));
		return EXIT_SYS;
	}
	f.g.notify_always = notify_always;
	rc = ring_error(&f);
	if (!rc && script) {
		FILE *in = strcmp(script, "-") ? fopen(script, "r") : stdin;

		if (!in)
			rc = fail(EXIT_SYS, "cannot open the script");
		else
			rc = run_script(&f, in);
		if (in && in != stdin)
			fclose(in);
	}
	for (; !rc && i < argc; i += used)
		rc = run_step(&f, argc, argv, i, &used);
	/* A broken ring is the outcome even if no step had to wait. */
	if (!rc)
		rc = ring_error(&f);
	fflush(stdout);
	gring_detach(&f.g);
	return rc;
}
