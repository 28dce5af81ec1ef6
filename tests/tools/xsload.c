/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xsload.c - load and fault generator for the reliability tests
 * (tests/bats/load.bats, docs/RELIABILITY.md): many unix clients and
 * simulated guests in one process, each a closed loop of mixed requests,
 * with every acknowledged write recorded so it can be checked afterwards.
 *
 *   xsload -S SOCKET [-d SECONDS] [-c CLIENTS] [-g GUESTS] [-r RATE]
 *          [--domid-base N] [--slow WATCHES [--storm-rate N]] [--reconnect] [--burst]
 *          [--acked FILE] [--p99-max MS] [--rss PID]... [--timeout SECONDS]
 *   xsload -S SOCKET --verify FILE
 *
 * The unix clients connect one after another, each answered (its first
 * WATCH) before the next connects; --burst connects them all at once.
 * Each actor (a unix connection, or a guest's ring: GUESTS > 0 needs
 * $XENSIM_DIR, the domains are created and INTRODUCEd here) sets a watch
 * on its own directory, then cycles through WRITE, READ (must return the
 * last acknowledged value: only this actor writes it), DIRECTORY, and a
 * transaction (START, READ, WRITE, for unix clients a WRITE of a key
 * all of them share, END), one request at a time, RATE requests a second
 * (default 5).  Any error reply is an error, except EAGAIN answering a
 * TRANSACTION_END; a reply not come within --timeout (default 5 s) is a
 * timeout.  --reconnect: a unix client whose connection the daemon closes
 * opens a new one (counted as "eof") instead of failing.
 *
 * --slow N adds one more unix connection that sets N watches, tokens s0,
 * s1, ..., on /load/storm/w0 ... w9 in turn, and never reads after that:
 * the slow reader; and a storm writer, one more unix connection writing
 * new nodes below those ten, --storm-rate a second (default 1000; it
 * writes one at a time, so fewer if the daemon is slower), so
 * each write queues N/10 distinct events (of 230 bytes: the tokens are
 * long) for the slow reader.  (Ten paths,
 * not one: see docs/RELIABILITY.md on 128 watches of one path.)  At the
 * end the slow reader drains its socket; what it got is printed
 * (slow_events=, slow_bytes=).  The storm's replies count in ops and
 * errors, not in the latency figures.
 *
 * --acked FILE writes, for every key, `PATH ACKED MAYBE...`: the value of
 * the last acknowledged write ("-" when none), then values written whose
 * reply never came (the daemon may or may not have applied them).
 * --verify FILE reads each PATH and fails unless it holds ACKED or a MAYBE
 * (or, with ACKED "-", is absent or a MAYBE).
 *
 * Output: one line `XSLOAD key=value...` (ops, errors, eagain, eof,
 * timeouts, latency p50/p99/max in microseconds, events, rss_kb of each
 * --rss pid: its largest VmRSS sampled each second).  Exit status 0 when
 * errors and timeouts are 0 (and p99 <= --p99-max when given), 1 when not,
 * 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "guestring.h"
#include "unix_connect.h"

#define HDR 16u
#define NKEYS 4u
#define MAYBE_MAX 4u
#define MAX_RSS_PIDS 4
#define ERR_SHOW 10

enum step {
	ST_WATCH, ST_WRITE, ST_READ, ST_DIR, ST_TSTART, ST_TREAD, ST_TWRITE,
	ST_TSHARED, ST_TEND, ST_COUNT
};

struct key {
	uint32_t acked;			/* value of the last acknowledged write, 0 none */
	uint32_t pending;		/* value sent, reply not yet seen */
	uint32_t maybe[MAYBE_MAX];	/* replies that never came */
	unsigned int nmaybe;
};

struct actor {
	bool guest;
	bool storm;			/* the storm writer (--slow) */
	bool dead;			/* gave up (error without --reconnect) */
	int fd;				/* unix socket, -1 for a guest */
	struct gring g;			/* a guest's ring (g.intf NULL otherwise) */
	unsigned int idx;
	uint32_t domid;
	char base[64];			/* key prefix as sent */
	char abs[64];			/* the same, absolute */
	enum step step;
	bool watched;
	uint32_t tx, txkey, seq, req;
	bool busy;
	int64_t sent_us, due_us;
	unsigned int wkey;		/* key of the next WRITE */
	struct key keys[NKEYS];
	size_t outlen, outoff;
	size_t inlen;
	uint8_t out[HDR + 256];
	uint8_t in[HDR + XENSTORE_PAYLOAD_MAX];
};

/* The whole run; allocated once in main. */
struct load {
	const char *sock;
	int secs, nclients, nguests, slow, storm_rate, timeout_s;
	double rate;
	uint32_t domid_base;
	bool reconnect;
	bool burst;			/* connect every client at once */
	const char *acked_path;
	long p99_max_ms;
	pid_t rss_pid[MAX_RSS_PIDS];
	long rss_kb[MAX_RSS_PIDS];
	int nrss;

	struct actor *actors;
	int nactors;
	int epfd;
	int slow_fd;
	struct sim sim;
	bool sim_open;

	uint64_t ops, errors, eagain, eofs, timeouts, events, slow_events, slow_bytes;
	uint64_t storm_writes;
	uint32_t *lat;			/* microseconds, one per reply */
	size_t nlat, caplat;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void report_error(struct load *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report_error(struct load *l, const char *fmt, ...)
{
	va_list ap;

	l->errors++;
	if (l->errors > ERR_SHOW)
		return;
	va_start(ap, fmt);
	fputs("xsload: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Blocking request on fd; the reply's type and payload (NUL-terminated,
 * into body of size cap) are returned; watch events are skipped. */
static int call(int fd, uint32_t type, uint32_t tx, const void *payload, size_t len,
		uint32_t *rtype, char *body, size_t cap)
{
	uint32_t h[4] = { type, 0x4c4f4144u, tx, (uint32_t)len };
	uint8_t buf[HDR + XENSTORE_PAYLOAD_MAX];

	if (len > XENSTORE_PAYLOAD_MAX)
		return EINVAL;
	memcpy(buf, h, HDR);
	memcpy(buf + HDR, payload, len);
	if (write(fd, buf, HDR + len) != (ssize_t)(HDR + len))
		return EIO;
	for (;;) {
		size_t got = 0, want = HDR;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		while (got < want) {
			ssize_t n;

			if (poll(&p, 1, 10000) != 1)
				return ETIMEDOUT;
			n = read(fd, buf + got, want - got);
			if (n <= 0)
				return n ? errno : EPIPE;
			got += (size_t)n;
			if (got == HDR) {
				memcpy(h, buf, HDR);
				if (h[3] > XENSTORE_PAYLOAD_MAX)
					return EPROTO;
				want = HDR + h[3];
			}
		}
		if (h[0] == XS_WATCH_EVENT)
			continue;
		*rtype = h[0];
		if (cap) {
			size_t n = h[3] < cap - 1 ? h[3] : cap - 1;

			memcpy(body, buf + HDR, n);
			body[n] = '\0';
		}
		return 0;
	}
}

/* A request that must be answered OK (setup steps). */
static int call_ok(int fd, uint32_t type, const void *payload, size_t len)
{
	char body[64];
	uint32_t rtype;
	int err = call(fd, type, 0, payload, len, &rtype, body, sizeof(body));

	if (!err && rtype == XS_ERROR) {
		fprintf(stderr, "xsload: setup request %u: %s\n", type, body);
		return EIO;
	}
	return err;
}

static void lat_add(struct load *l, int64_t us)
{
	if (l->nlat == l->caplat) {
		size_t cap = l->caplat ? 2 * l->caplat : 65536;
		uint32_t *p = realloc(l->lat, cap * sizeof(*p));

		if (!p)
			return;
		l->lat = p;
		l->caplat = cap;
	}
	l->lat[l->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* --- requests ------------------------------------------------------------ */

/* Build the request for a's current step into a->out. */
static void build(struct load *l, struct actor *a)
{
	char p[256];
	uint32_t type, tx = 0;
	int n = 0;
	unsigned int k;

	if (a->storm)
		a->step = ST_WRITE;
	switch (a->step) {
	case ST_WATCH:
		type = XS_WATCH;
		n = snprintf(p, sizeof(p), "%s%cw", a->base, 0) + 1;
		break;
	case ST_WRITE:
		k = a->wkey;
		a->keys[k].pending = ++a->seq;
		type = XS_WRITE;
		if (a->storm)
			n = snprintf(p, sizeof(p), "/load/storm/w%" PRIu32 "/%" PRIu32 "%cx",
				     a->seq % 10, a->seq, 0);
		else
			n = snprintf(p, sizeof(p), "%s/k%u%cv%" PRIu32, a->base, k, 0, a->seq);
		break;
	case ST_READ:
		type = XS_READ;
		n = snprintf(p, sizeof(p), "%s/k%u", a->base, a->wkey) + 1;
		break;
	case ST_DIR:
		type = XS_DIRECTORY;
		n = snprintf(p, sizeof(p), "%s", a->base) + 1;
		break;
	case ST_TSTART:
		type = XS_TRANSACTION_START;
		p[0] = '\0';
		n = 1;
		break;
	case ST_TREAD:
		type = XS_READ;
		tx = a->tx;
		/* The key written last: it exists, so this READ must succeed. */
		a->txkey = (a->wkey + NKEYS - 1) % NKEYS;
		n = snprintf(p, sizeof(p), "%s/k%u", a->base, a->txkey) + 1;
		break;
	case ST_TWRITE:
		type = XS_WRITE;
		tx = a->tx;
		n = snprintf(p, sizeof(p), "%s/k%u%cv%" PRIu32, a->base, a->txkey, 0,
			     a->seq + 1);
		break;
	case ST_TSHARED:
		type = XS_WRITE;
		tx = a->tx;
		n = snprintf(p, sizeof(p), "/load/shared%cc%u", 0, a->idx);
		break;
	case ST_TEND:
	default:
		type = XS_TRANSACTION_END;
		tx = a->tx;
		a->keys[a->txkey].pending = ++a->seq;
		n = snprintf(p, sizeof(p), "T") + 1;
		break;
	}
	(void)l;
	{
		uint32_t h[4] = { type, ++a->req, tx, (uint32_t)n };

		memcpy(a->out, h, HDR);
	}
	memcpy(a->out + HDR, p, (size_t)n);
	a->outlen = HDR + (size_t)n;
	a->outoff = 0;
}

/* Move a write whose reply will never come to the key's maybe list. */
static void key_unknown(struct key *k)
{
	if (!k->pending)
		return;
	if (k->nmaybe < MAYBE_MAX)
		k->maybe[k->nmaybe++] = k->pending;
	else
		k->maybe[MAYBE_MAX - 1] = k->pending;
	k->pending = 0;
}

static void key_acked(struct key *k)
{
	if (k->pending) {
		k->acked = k->pending;
		k->pending = 0;
		k->nmaybe = 0;	/* a later write replaced whatever they did */
	}
}

static enum step next_step(const struct actor *a, enum step s)
{
	if (s == ST_TEND || s == ST_WATCH)
		return ST_WRITE;
	s++;
	if (s == ST_TSHARED && a->guest)
		s++;
	return s;
}

/* A whole reply for a's request arrived. */
static void on_reply(struct load *l, struct actor *a, uint32_t type,
		     const char *body, uint32_t len)
{
	int64_t t = now_us();
	bool err = type == XS_ERROR;

	l->ops++;
	a->busy = false;
	if (a->storm) {
		if (type == XS_ERROR)
			report_error(l, "storm writer: %s", body);
		l->storm_writes++;
		a->keys[0].pending = 0;
		return;
	}
	lat_add(l, t - a->sent_us);
	if (err && a->step == ST_TEND && strcmp(body, "EAGAIN") == 0) {
		l->eagain++;
		a->keys[a->txkey].pending = 0;
	} else if (err) {
		report_error(l, "%s %s: step %d: %s", a->guest ? "guest" : "client",
			     a->abs, a->step, body);
		if (a->step == ST_WRITE)
			a->keys[a->wkey].pending = 0;
		if (a->step == ST_TEND)
			a->keys[a->txkey].pending = 0;
	}
	if (!err) {
		switch (a->step) {
		case ST_WATCH:
			a->watched = true;
			break;
		case ST_WRITE:
			key_acked(&a->keys[a->wkey]);
			break;
		case ST_READ: {
			char want[16];

			snprintf(want, sizeof(want), "v%" PRIu32, a->keys[a->wkey].acked);
			if (len != strlen(want) || memcmp(body, want, len))
				report_error(l, "%s/k%u: read \"%s\", last written \"%s\"",
					     a->abs, a->wkey, body, want);
			a->wkey = (a->wkey + 1) % NKEYS;
			break;
		}
		case ST_TSTART:
			a->tx = (uint32_t)strtoul(body, NULL, 10);
			break;
		case ST_TEND:
			key_acked(&a->keys[a->txkey]);
			break;
		default:
			break;
		}
	}
	if (err && a->step >= ST_TSTART && a->step < ST_TEND) {
		/* The transaction is broken: end it and go on. */
		a->step = a->step == ST_TSTART ? ST_WRITE : ST_TEND;
		if (a->step == ST_TEND)
			return;
	} else if (err && a->step == ST_READ) {
		a->wkey = (a->wkey + 1) % NKEYS;
		a->step = ST_DIR;
		return;
	} else {
		a->step = next_step(a, a->step);
	}
	if (err && a->step == ST_WRITE && !a->watched)
		a->step = ST_WATCH;
}

/* --- unix actors ------------------------------------------------------- */

static int actor_connect(struct load *l, struct actor *a)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = a };
	int fd = unix_connect(l->sock);

	if (fd < 0)
		return -fd;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) || epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int e = errno;

		close(fd);
		return e;
	}
	a->fd = fd;
	a->inlen = 0;
	a->busy = false;
	a->watched = false;
	a->step = ST_WATCH;
	return 0;
}

/* The daemon closed a's connection. */
static void actor_eof(struct load *l, struct actor *a)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, a->fd, NULL);
	close(a->fd);
	a->fd = -1;
	if (a->busy && (a->step == ST_WRITE))
		key_unknown(&a->keys[a->wkey]);
	if (a->busy && a->step == ST_TEND)
		key_unknown(&a->keys[a->txkey]);
	a->busy = false;
	l->eofs++;
	if (!l->reconnect) {
		report_error(l, "client %s: connection closed by the daemon", a->abs);
		a->dead = true;
		return;
	}
	/* Retried from the main loop: the daemon may be restarting. */
	a->due_us = now_us() + 50000;
}

/* Parse whole messages out of a->in; returns false when a broke. */
static bool consume(struct load *l, struct actor *a)
{
	while (a->inlen >= HDR) {
		uint32_t h[4];
		char body[XENSTORE_PAYLOAD_MAX + 1];

		memcpy(h, a->in, HDR);
		if (h[3] > XENSTORE_PAYLOAD_MAX) {
			report_error(l, "%s: message of %u bytes", a->abs, h[3]);
			a->dead = true;
			return false;
		}
		if (a->inlen < HDR + h[3])
			break;
		memcpy(body, a->in + HDR, h[3]);
		body[h[3]] = '\0';
		memmove(a->in, a->in + HDR + h[3], a->inlen - HDR - h[3]);
		a->inlen -= HDR + h[3];
		if (h[0] == XS_WATCH_EVENT) {
			l->events++;
		} else if (!a->busy || h[1] != a->req) {
			report_error(l, "%s: unexpected reply type %u req %u", a->abs,
				     h[0], h[1]);
		} else {
			on_reply(l, a, h[0], body, h[3]);
		}
	}
	return true;
}

static void unix_readable(struct load *l, struct actor *a)
{
	for (;;) {
		ssize_t n = read(a->fd, a->in + a->inlen, sizeof(a->in) - a->inlen);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			actor_eof(l, a);
			return;
		}
		a->inlen += (size_t)n;
		if (!consume(l, a))
			return;
	}
}

static void unix_send(struct load *l, struct actor *a)
{
	ssize_t n = write(a->fd, a->out + a->outoff, a->outlen - a->outoff);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;	/* a few bytes: cannot stay full for long; retried */
	if (n < 0) {
		actor_eof(l, a);
		return;
	}
	a->outoff += (size_t)n;
}

/* --- guest actors ------------------------------------------------------- */

static int guest_create(struct load *l, int ctl, struct actor *a)
{
	char p[128];
	uint64_t gfn;
	uint32_t port;
	int n, err = sim_dom_create(&l->sim, a->domid, 1, 0, &gfn, &port);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = a };

	if (err) {
		fprintf(stderr, "xsload: cannot create domain %u: %s\n", a->domid,
			strerror(err));
		return err;
	}
	n = snprintf(p, sizeof(p), "/local/domain/%u", a->domid) + 1;
	err = call_ok(ctl, XS_MKDIR, p, (size_t)n);
	if (!err) {
		n = snprintf(p, sizeof(p), "/local/domain/%u%cn%u", a->domid, 0,
			     a->domid) + 1;
		err = call_ok(ctl, XS_SET_PERMS, p, (size_t)n);
	}
	if (!err) {
		n = snprintf(p, sizeof(p), "%u%c%" PRIu64 "%c%u", a->domid, 0, gfn, 0,
			     port) + 1;
		err = call_ok(ctl, XS_INTRODUCE, p, (size_t)n);
	}
	if (!err)
		err = gring_attach(&a->g, NULL, a->domid, 0);
	if (!err && epoll_ctl(l->epfd, EPOLL_CTL_ADD, a->g.ev.fd, &ev))
		err = errno;
	if (err)
		fprintf(stderr, "xsload: guest %u: %s\n", a->domid, strerror(err));
	return err;
}

static void guest_pump(struct load *l, struct actor *a)
{
	for (;;) {
		size_t want = HDR;
		long n;

		if (a->inlen >= HDR) {
			uint32_t len;

			memcpy(&len, a->in + 12, 4);
			want = HDR + (len > XENSTORE_PAYLOAD_MAX ? 0 : len);
		}
		n = gring_read(&a->g, a->in + a->inlen, want - a->inlen);
		if (n < 0) {
			report_error(l, "guest %u: bad ring indexes", a->domid);
			a->dead = true;
			return;
		}
		if (n == 0)
			break;
		a->inlen += (size_t)n;
		if (a->inlen == want && !consume(l, a))
			return;
	}
	if (a->busy && a->outoff < a->outlen) {
		long n = gring_write(&a->g, a->out + a->outoff, a->outlen - a->outoff);

		if (n > 0)
			a->outoff += (size_t)n;
	}
}

static void guest_event(struct load *l, struct actor *a)
{
	uint32_t port;

	if (read(a->g.ev.fd, &port, sizeof(port)) == (ssize_t)sizeof(port))
		sim_evtchn_unmask(&a->g.ev, port);
	guest_pump(l, a);
}

/* --- the run ------------------------------------------------------------ */

static void send_next(struct load *l, struct actor *a, int64_t t)
{
	build(l, a);
	a->busy = true;
	a->sent_us = t;
	if (a->guest)
		guest_pump(l, a);
	else
		unix_send(l, a);
}

static void sample_rss(struct load *l)
{
	for (int i = 0; i < l->nrss; i++) {
		char path[64], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)l->rss_pid[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			long kb;

			if (sscanf(line, "VmRSS: %ld", &kb) == 1 && kb > l->rss_kb[i])
				l->rss_kb[i] = kb;
		}
		fclose(f);
	}
}

/* The slow reader: N watches, each reply read, then never read again. */
static int slow_setup(struct load *l)
{
	int fd = unix_connect(l->sock);

	if (fd < 0)
		return -fd;
	for (int i = 0; i < l->slow; i++) {
		char p[320];
		/* Long tokens: the queue reaches its bound in a few hundred writes. */
		int n = snprintf(p, sizeof(p), "/load/storm/w%d%cs%d-%.200d", i % 10, 0, i,
				 0) + 1;
		int err = call_ok(fd, XS_WATCH, p, (size_t)n);

		if (err) {
			close(fd);
			return err;
		}
	}
	l->slow_fd = fd;
	return 0;
}

/* Read everything queued for the slow reader (ends when it stays quiet). */
static void slow_drain(struct load *l)
{
	static uint8_t buf[1 << 16];
	uint64_t bytes = 0;
	size_t have = 0;

	for (;;) {
		struct pollfd p = { .fd = l->slow_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 1000) != 1)
			break;
		n = read(l->slow_fd, buf + have, sizeof(buf) - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		bytes += (uint64_t)n;
		/* Count whole messages, keep a partial one. */
		for (;;) {
			uint32_t h[4];

			if (have < HDR)
				break;
			memcpy(h, buf, HDR);
			if (h[3] > XENSTORE_PAYLOAD_MAX || have < HDR + h[3]) {
				if (h[3] > XENSTORE_PAYLOAD_MAX)
					have = 0;
				break;
			}
			if (h[0] == XS_WATCH_EVENT)
				l->slow_events++;
			memmove(buf, buf + HDR + h[3], have - HDR - h[3]);
			have -= HDR + h[3];
		}
	}
	close(l->slow_fd);
	l->slow_fd = -1;
	l->slow_bytes = bytes;
}

/*
 * The WATCH a new client starts with, answered before the next client
 * connects: without --burst the clients arrive one after another (see
 * RELIABILITY.md on a burst of connections).
 */
static int first_watch(struct actor *a)
{
	char p[80];
	int n = snprintf(p, sizeof(p), "%s%cw", a->base, 0) + 1;
	int err = call_ok(a->fd, XS_WATCH, p, (size_t)n);

	if (err) {
		fprintf(stderr, "xsload: client %s: WATCH: %s\n", a->abs, strerror(err));
		return err;
	}
	a->watched = true;
	a->step = ST_WRITE;
	return 0;
}

static int setup(struct load *l)
{
	int ctl = unix_connect(l->sock), err = 0;
	int64_t t = now_us();

	if (ctl < 0) {
		fprintf(stderr, "xsload: %s: %s\n", l->sock, strerror(-ctl));
		return -ctl;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	err = call_ok(ctl, XS_MKDIR, "/load", 6);
	if (err)
		fprintf(stderr, "xsload: MKDIR /load: %s\n", strerror(err));
	if (!err && l->nguests) {
		err = sim_open_env(&l->sim);
		l->sim_open = !err;
		if (err)
			fprintf(stderr, "xsload: guests need XENSIM_DIR: %s\n", strerror(err));
	}
	for (int i = 0; !err && i < l->nactors; i++) {
		struct actor *a = &l->actors[i];

		a->fd = -1;
		a->idx = (unsigned int)i;
		a->storm = l->slow && i == l->nactors - 1;
		a->guest = i >= l->nclients && !a->storm;
		/* Spread the first requests over one period. */
		a->due_us = t + (int64_t)((double)rand() / RAND_MAX * 1e6 / l->rate);
		if (a->guest) {
			a->domid = l->domid_base + (uint32_t)(i - l->nclients);
			snprintf(a->base, sizeof(a->base), "data/load");
			snprintf(a->abs, sizeof(a->abs), "/local/domain/%u/data/load", a->domid);
			err = guest_create(l, ctl, a);
		} else {
			if (a->storm)
				a->due_us = t;
			snprintf(a->base, sizeof(a->base), "/load/c%d", i);
			snprintf(a->abs, sizeof(a->abs), "%s", a->base);
			err = actor_connect(l, a);
			if (err)
				fprintf(stderr, "xsload: client %d: cannot connect: %s\n", i,
					strerror(err));
			else if (!l->burst && !a->storm)
				err = first_watch(a);
		}
	}
	close(ctl);
	if (!err && l->slow)
		err = slow_setup(l);
	return err;
}

static void run(struct load *l)
{
	int64_t start = now_us(), end = start + (int64_t)l->secs * 1000000;
	int64_t period = (int64_t)(1e6 / l->rate), next_rss = start;
	int64_t timeout = (int64_t)l->timeout_s * 1000000;
	int64_t storm_period = 1000000 / l->storm_rate;
	struct epoll_event evs[256];

	for (;;) {
		int64_t t = now_us(), wake = t + 20000;
		int n;

		if (t >= next_rss) {
			sample_rss(l);
			next_rss = t + 1000000;
		}
		for (int i = 0; i < l->nactors; i++) {
			struct actor *a = &l->actors[i];

			if (a->dead)
				continue;
			if (a->busy) {
				if (t - a->sent_us > timeout) {
					l->timeouts++;
					report_error(l, "%s: no reply to step %d in %d s", a->abs,
						     a->step, l->timeout_s);
					a->dead = true;
					continue;
				}
				if (!a->guest && a->outoff < a->outlen)
					unix_send(l, a);
				continue;
			}
			if (t >= end)
				continue;
			if (!a->guest && a->fd < 0) {
				if (t >= a->due_us && actor_connect(l, a))
					a->due_us = t + 100000;
				if (a->fd < 0)
					continue;
			}
			if (a->storm && t >= a->due_us) {
				a->due_us = a->due_us + storm_period > t - storm_period ?
					a->due_us + storm_period : t + storm_period;
				send_next(l, a, t);
			} else if (a->storm) {
				if (a->due_us < wake)
					wake = a->due_us;
			} else if (t >= a->due_us) {
				a->due_us = (a->due_us + period > t - period) ?
					a->due_us + period : t + period;
				send_next(l, a, t);
			} else if (a->due_us < wake) {
				wake = a->due_us;
			}
		}
		if (t >= end) {
			bool idle = true;

			for (int i = 0; i < l->nactors && idle; i++)
				idle = l->actors[i].dead || !l->actors[i].busy;
			if (idle)
				break;
		}
		n = epoll_wait(l->epfd, evs, 256, (int)((wake - t) / 1000) + 1);
		for (int i = 0; i < n; i++) {
			struct actor *a = evs[i].data.ptr;

			if (a->dead)
				continue;
			if (a->guest)
				guest_event(l, a);
			else if (a->fd >= 0)
				unix_readable(l, a);
		}
	}
	sample_rss(l);
}

static int write_acked(struct load *l)
{
	FILE *f = fopen(l->acked_path, "w");

	if (!f) {
		fprintf(stderr, "xsload: %s: %s\n", l->acked_path, strerror(errno));
		return 1;
	}
	for (int i = 0; i < l->nactors; i++) {
		struct actor *a = &l->actors[i];

		for (unsigned int k = 0; k < NKEYS; k++) {
			struct key *ky = &a->keys[k];

			key_unknown(ky);
			if (!ky->acked && !ky->nmaybe)
				continue;
			fprintf(f, "%s/k%u ", a->abs, k);
			if (ky->acked)
				fprintf(f, "v%" PRIu32, ky->acked);
			else
				fputc('-', f);
			for (unsigned int m = 0; m < ky->nmaybe; m++)
				fprintf(f, " v%" PRIu32, ky->maybe[m]);
			fputc('\n', f);
		}
	}
	return fclose(f) ? 1 : 0;
}

static int verify(const char *sock, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[512];
	unsigned long checked = 0, bad = 0;
	int fd = unix_connect(sock);

	if (!f || fd < 0) {
		fprintf(stderr, "xsload: cannot open %s or connect to %s\n", file, sock);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *path = strtok_r(line, " \n", &save);
		char *acked = strtok_r(NULL, " \n", &save), *w;
		char body[XENSTORE_PAYLOAD_MAX + 1];
		uint32_t rtype;
		bool ok;
		int err;

		if (!path || !acked)
			continue;
		err = call(fd, XS_READ, 0, path, strlen(path) + 1, &rtype, body, sizeof(body));
		if (err) {
			fprintf(stderr, "xsload: verify: READ %s: %s\n", path, strerror(err));
			return 1;
		}
		checked++;
		if (rtype == XS_ERROR)
			ok = strcmp(acked, "-") == 0 && strcmp(body, "ENOENT") == 0;
		else
			ok = strcmp(body, acked) == 0;
		while (!ok && (w = strtok_r(NULL, " \n", &save)))
			ok = rtype != XS_ERROR && strcmp(body, w) == 0;
		if (!ok && bad++ < ERR_SHOW)
			fprintf(stderr, "xsload: verify: %s holds %s%s, acknowledged %s\n",
				path, rtype == XS_ERROR ? "error " : "", body, acked);
	}
	fclose(f);
	close(fd);
	printf("XSVERIFY checked=%lu lost=%lu\n", checked, bad);
	return bad || !checked ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: xsload -S SOCKET [-d SECONDS] [-c CLIENTS] [-g GUESTS] "
		"[-r RATE] [--domid-base N] [--slow WATCHES [--storm-rate N]] [--reconnect] [--burst] "
		"[--acked FILE] [--p99-max MS] [--rss PID]... [--timeout SECONDS]\n"
		"       xsload -S SOCKET --verify FILE\n");
	exit(2);
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s ? s : "", &end, 10);
	if (!s || errno || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static struct load l = {
		.secs = 10, .nclients = 100, .rate = 5, .domid_base = 100,
		.timeout_s = 5, .slow_fd = -1, .p99_max_ms = -1, .storm_rate = 1000,
	};
	const char *verify_file = NULL;
	uint32_t p50 = 0, p99 = 0, max = 0;
	int rc;

	l.sock = getenv("XENSTORED_PATH");
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--reconnect")) {
			l.reconnect = true;
			continue;
		}
		if (!strcmp(o, "--burst")) {
			l.burst = true;
			continue;
		}
		i++;
		if (!strcmp(o, "-S"))
			l.sock = v;
		else if (!strcmp(o, "-d"))
			l.secs = (int)num(v, 0, 86400);
		else if (!strcmp(o, "-c"))
			l.nclients = (int)num(v, 0, 100000);
		else if (!strcmp(o, "-g"))
			l.nguests = (int)num(v, 0, 1000);
		else if (!strcmp(o, "-r"))
			l.rate = (double)num(v, 1, 100000);
		else if (!strcmp(o, "--domid-base"))
			l.domid_base = (uint32_t)num(v, 1, 30000);
		else if (!strcmp(o, "--storm-rate"))
			l.storm_rate = (int)num(v, 1, 1000000);
		else if (!strcmp(o, "--slow"))
			l.slow = (int)num(v, 1, 100000);
		else if (!strcmp(o, "--acked"))
			l.acked_path = v;
		else if (!strcmp(o, "--verify"))
			verify_file = v;
		else if (!strcmp(o, "--p99-max"))
			l.p99_max_ms = num(v, 0, 1000000);
		else if (!strcmp(o, "--timeout"))
			l.timeout_s = (int)num(v, 1, 3600);
		else if (!strcmp(o, "--rss") && l.nrss < MAX_RSS_PIDS)
			l.rss_pid[l.nrss++] = (pid_t)num(v, 1, INT_MAX);
		else
			usage();
	}
	if (!l.sock)
		usage();
	if (verify_file)
		return verify(l.sock, verify_file);
	if (l.slow && !l.nclients)
		usage();
	/* A connection the daemon closed is an EPIPE to count, not a death. */
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned int)getpid());
	l.nactors = l.nclients + l.nguests + (l.slow ? 1 : 0);
	l.actors = calloc((size_t)l.nactors + 1, sizeof(*l.actors));
	if (!l.actors)
		return 1;
	if (setup(&l))
		return 1;
	run(&l);
	if (l.slow_fd >= 0)
		slow_drain(&l);
	if (l.nlat) {
		qsort(l.lat, l.nlat, sizeof(*l.lat), cmp_u32);
		p50 = l.lat[l.nlat / 2];
		p99 = l.lat[l.nlat * 99 / 100];
		max = l.lat[l.nlat - 1];
	}
	printf("XSLOAD clients=%d guests=%d secs=%d rate=%g ops=%" PRIu64 " errors=%" PRIu64
	       " eagain=%" PRIu64 " eof=%" PRIu64 " timeouts=%" PRIu64 " p50_us=%u p99_us=%u"
	       " max_us=%u events=%" PRIu64, l.nclients, l.nguests, l.secs, l.rate, l.ops,
	       l.errors, l.eagain, l.eofs, l.timeouts, p50, p99, max, l.events);
	if (l.slow)
		printf(" slow_watches=%d slow_events=%" PRIu64 " slow_bytes=%" PRIu64
		       " storm_writes=%" PRIu64, l.slow, l.slow_events, l.slow_bytes,
		       l.storm_writes);
	for (int i = 0; i < l.nrss; i++)
		printf(" rss_kb[%d]=%ld", (int)l.rss_pid[i], l.rss_kb[i]);
	printf("\n");
	fflush(stdout);
	rc = l.errors || l.timeouts || !l.ops;
	if (l.p99_max_ms >= 0 && p99 > (uint64_t)l.p99_max_ms * 1000) {
		fprintf(stderr, "xsload: p99 %u us over %ld ms\n", p99, l.p99_max_ms);
		rc = 1;
	}
	if (l.acked_path && write_acked(&l))
		rc = 1;
	for (int i = 0; i < l.nactors; i++) {
		if (l.actors[i].fd >= 0)
			close(l.actors[i].fd);
		if (l.actors[i].g.intf)
			gring_detach(&l.actors[i].g);
	}
	if (l.sim_open)
		sim_close(&l.sim);
	free(l.actors);
	free(l.lat);
	return rc;
}
