/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xswatch.c - a bench load for any xenstore daemon: many watches on paths
 * nothing writes to, held open while another tool measures (xsbench fanout
 * beside 100 or 100,000 unrelated watches shows whether a write's cost
 * depends on watches that cannot match it).
 *
 *   xswatch -S SOCKET -n WATCHES [-p PER_CONN] [-P PREFIX]
 *
 * Opens ceil(WATCHES / PER_CONN) connections (PER_CONN default 100; dom0's
 * sockets are exempt from the daemons' watch quotas), registers PREFIX/<i>
 * (default /bench/unrelated) with token u<i> on them one request at a
 * time, reads the event each registration fires (so nothing stays queued
 * for us), prints
 * "xswatch watches=N conns=C secs=S" and then holds the connections until
 * it is killed.  Exit status 1 if the daemon refuses a watch or closes a
 * connection.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "unix_connect.h"

/* One connection's receive buffer: replies and watch events. */
struct rx {
	char buf[65536];
	size_t len;
	long events;		/* watch events seen on it */
};

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno ? errno : EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read until the reply to req_id (0: until `events` watch events came);
 * watch events are counted and dropped.  0 when it is not an error reply,
 * else an errno value (EPROTO: a reply that says ERROR).
 */
static int await_reply(int fd, struct rx *rx, uint32_t req_id, long events)
{
	for (;;) {
		if (!req_id && rx->events >= events)
			return 0;
		struct xsd_sockmsg h;

		while (rx->len >= sizeof(h)) {
			size_t whole;

			memcpy(&h, rx->buf, sizeof(h));
			if (h.len > XENSTORE_PAYLOAD_MAX)
				return EPROTO;
			whole = sizeof(h) + h.len;
			if (rx->len < whole)
				break;
			memmove(rx->buf, rx->buf + whole, rx->len - whole);
			rx->len -= whole;
			if (h.type == XS_WATCH_EVENT)
				rx->events++;
			else if (h.req_id == req_id)
				return h.type == XS_ERROR ? EPROTO : 0;
			if (!req_id && rx->events >= events)
				return 0;
		}
		ssize_t n = read(fd, rx->buf + rx->len, sizeof(rx->buf) - rx->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? ECONNRESET : errno;
		rx->len += (size_t)n;
	}
}

static int watch(int fd, struct rx *rx, uint32_t req_id, const char *path,
		 const char *token)
{
	char msg[sizeof(struct xsd_sockmsg) + 512];
	struct xsd_sockmsg h = { .type = XS_WATCH, .req_id = req_id };
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	int rc;

	if (pl + tl > sizeof(msg) - sizeof(h))
		return ENAMETOOLONG;
	h.len = (uint32_t)(pl + tl);
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), path, pl);
	memcpy(msg + sizeof(h) + pl, token, tl);
	rc = write_all(fd, msg, sizeof(h) + h.len);
	return rc ? rc : await_reply(fd, rx, req_id, 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: xswatch -S SOCKET -n WATCHES [-p PER_CONN] [-P PREFIX]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *prefix = "/bench/unrelated";
	long total = -1, per = 100;
	struct rx *rx;
	double t0;
	int opt, fd = -1, conns = 0;

	while ((opt = getopt(argc, argv, "S:n:p:P:")) != -1) {
		switch (opt) {
		case 'S': sock = optarg; break;
		case 'n': total = strtol(optarg, NULL, 10); break;
		case 'p': per = strtol(optarg, NULL, 10); break;
		case 'P': prefix = optarg; break;
		default: return usage();
		}
	}
	if (!sock || total < 0 || per < 1 || optind != argc)
		return usage();
	/* One buffer, reused: a full connection is never read again. */
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return 1;
	t0 = now_s();
	for (long i = 0; i < total; i++) {
		char path[256], token[32];
		int rc;

		if (i % per == 0) {
			/* Each watch fires once when set: take them all, so the
			 * daemon has nothing queued for us when we are done. */
			if (fd >= 0 && await_reply(fd, rx, 0, per)) {
				fprintf(stderr, "xswatch: connection %d closed\n", conns);
				return 1;
			}
			/* Kept open on purpose: held until we are killed. */
			fd = unix_connect(sock);
			if (fd < 0) {
				fprintf(stderr, "xswatch: connect %s: %s\n", sock, strerror(-fd));
				return 1;
			}
			rx->len = 0;
			rx->events = 0;
			conns++;
		}
		snprintf(path, sizeof(path), "%s/%ld", prefix, i);
		snprintf(token, sizeof(token), "u%ld", i);
		rc = watch(fd, rx, (uint32_t)(i + 1), path, token);
		if (rc) {
			fprintf(stderr, "xswatch: watch %ld (%s): %s\n", i, path,
				rc == EPROTO ? "refused" : strerror(rc));
			return 1;
		}
	}
	if (fd >= 0 && await_reply(fd, rx, 0, total - (long)(conns - 1) * per)) {
		fprintf(stderr, "xswatch: connection %d closed\n", conns);
		return 1;
	}
	printf("xswatch watches=%ld conns=%d secs=%.2f\n", total, conns, now_s() - t0);
	fflush(stdout);
	for (;;)
		pause();
}
