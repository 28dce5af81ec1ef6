/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * selftest.c - xensim-selftest: drives xensim.so through the real libxen
 * API (linked with -lxenevtchn -lxengnttab -lxenforeignmemory -lxenctrl,
 * run with LD_PRELOAD=xensim.so), one action a run, for
 * tests/bats/xensim.bats:
 *
 *   map DOMID [HOLD_MS]    grant-map DOMID's ring (ref 1), hold, unmap
 *   fmap DOMID GFN         foreign-map frame GFN of DOMID, unmap
 *   bind DOMID PORT        bind_interdomain, print the local port, unbind
 *   info [FIRST [MAX]]     xc_domain_getinfolist: "DOMID FLAGS-HEX"
 *   getinfo DOMID          xc_domain_getinfo: dying/shutdown/crashed bits
 *   virq SECONDS [--fork]  bind VIRQ_DOM_EXC, print "bound", wait for one;
 *                          --fork: the handle is inherited by a child that
 *                          waits while the parent exits (as a daemon does)
 *   echo DOMID PORT N      a tiny ring server: answer N requests on the
 *                          guest's ring with their own payload
 *   dom0ring N             the same on dom0's /proc/xen/xsd_kva ring
 *
 * Failures print the call and errno name and exit 1; timeouts exit 3.
 */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xen/io/xs_wire.h>

#define MASK(i) ((i) & (XENSTORE_RING_SIZE - 1))

/* The run's handles, closed by main whichever way an action ends. */
static struct {
	xenevtchn_handle *e;
	xengnttab_handle *g;
	xenforeignmemory_handle *m;
	xc_interface *x;
} ctx;

static int die(const char *what)
{
	printf("%s: %s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	return 1;
}

static unsigned long num(const char *s)
{
	return strtoul(s, NULL, 0);
}

static int cmd_map(uint32_t domid, unsigned long hold_ms)
{
	xengnttab_handle *g = ctx.g = xengnttab_open(NULL, 0);
	struct timespec ts = { (time_t)(hold_ms / 1000), (long)(hold_ms % 1000) * 1000000 };
	void *p;

	if (!g)
		return die("xengnttab_open");
	p = xengnttab_map_grant_ref(g, domid, GNTTAB_RESERVED_XENSTORE,
				    PROT_READ | PROT_WRITE);
	if (!p)
		return die("xengnttab_map_grant_ref");
	printf("mapped\n");
	fflush(stdout);
	nanosleep(&ts, NULL);
	if (xengnttab_unmap(g, p, 1))
		return die("xengnttab_unmap");
	return 0;
}

static int cmd_fmap(uint32_t domid, xen_pfn_t gfn)
{
	xenforeignmemory_handle *m = ctx.m = xenforeignmemory_open(NULL, 0);
	void *p;

	if (!m)
		return die("xenforeignmemory_open");
	p = xenforeignmemory_map(m, domid, PROT_READ | PROT_WRITE, 1, &gfn, NULL);
	if (!p)
		return die("xenforeignmemory_map");
	printf("mapped\n");
	xenforeignmemory_unmap(m, p, 1);
	return 0;
}

static int cmd_bind(uint32_t domid, uint32_t port)
{
	xenevtchn_handle *e = ctx.e = xenevtchn_open(NULL, 0);
	xenevtchn_port_or_error_t l;

	if (!e)
		return die("xenevtchn_open");
	l = xenevtchn_bind_interdomain(e, domid, port);
	if (l < 0)
		return die("xenevtchn_bind_interdomain");
	printf("bound %d\n", l);
	if (xenevtchn_unbind(e, (evtchn_port_t)l))
		return die("xenevtchn_unbind");
	return 0;
}

static int cmd_info(uint32_t first, unsigned max)
{
	xc_interface *xch = ctx.x = xc_interface_open(NULL, NULL, 0);
	xc_domaininfo_t info[64];
	int i, n;

	if (!xch)
		return die("xc_interface_open");
	if (max > 64)
		max = 64;
	n = xc_domain_getinfolist(xch, first, max, info);
	if (n < 0)
		return die("xc_domain_getinfolist");
	for (i = 0; i < n; i++)
		printf("%u 0x%x\n", info[i].domain, info[i].flags);
	return 0;
}

static int cmd_getinfo(uint32_t domid)
{
	xc_interface *xch = ctx.x = xc_interface_open(NULL, NULL, 0);
	xc_dominfo_t di;

	if (!xch)
		return die("xc_interface_open");
	if (xc_domain_getinfo(xch, domid, 1, &di) != 1 || di.domid != domid) {
		printf("absent\n");
		return 0;
	}
	printf("%u dying=%u shutdown=%u crashed=%u reason=%u\n", di.domid,
	       di.dying, di.shutdown, di.crashed, di.shutdown_reason);
	return 0;
}

/* Wait up to ms for a port; 0 none (timeout). */
static int wait_port(xenevtchn_handle *e, int ms)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(e), .events = POLLIN };
	xenevtchn_port_or_error_t p;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	p = xenevtchn_pending(e);
	if (p < 0)
		return -1;
	xenevtchn_unmask(e, (evtchn_port_t)p);
	return p;
}

static int cmd_virq(unsigned secs, int forked)
{
	xenevtchn_handle *e = ctx.e = xenevtchn_open(NULL, 0);
	xenevtchn_port_or_error_t v;
	pid_t pid;

	if (!e)
		return die("xenevtchn_open");
	v = xenevtchn_bind_virq(e, VIRQ_DOM_EXC);
	if (v < 0)
		return die("xenevtchn_bind_virq");
	printf("bound\n");
	fflush(stdout);
	if (forked) {
		pid = fork();
		if (pid < 0)
			return die("fork");
		if (pid > 0)
			_exit(0);
	}
	if (wait_port(e, (int)secs * 1000) != v) {
		printf("timeout\n");
		return 3;
	}
	printf("VIRQ_DOM_EXC\n");
	return 0;
}

/* A request being reassembled (the ring may hold only part of it). */
struct partial {
	uint32_t have;
	char msg[16 + XENSTORE_PAYLOAD_MAX];
};

/*
 * Consume whatever req[] holds, as real servers do (a Linux guest only
 * notifies again once the server caught up), and answer each whole
 * request with its own header and payload.  Returns how many were
 * answered, -1 when the ring is broken (error field set as upstream).
 */
static int serve(struct xenstore_domain_interface *in, xenevtchn_handle *e,
		 evtchn_port_t port, struct partial *pm)
{
	uint32_t cons, prod, len, want, rprod;
	int served = 0;

	for (;;) {
		cons = in->req_cons;
		prod = in->req_prod;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (prod - cons > XENSTORE_RING_SIZE) {
			in->error = XENSTORE_ERROR_RINGIDX;
			return -1;
		}
		want = 16;
		if (pm->have >= 16) {
			memcpy(&len, pm->msg + 12, 4);
			if (len > XENSTORE_PAYLOAD_MAX) {
				in->error = XENSTORE_ERROR_PROTO;
				return -1;
			}
			want = 16 + len;
		}
		if (pm->have < want) {
			if (cons == prod)
				return served;
			while (pm->have < want && cons != prod)
				pm->msg[pm->have++] = in->req[MASK(cons++)];
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			in->req_cons = cons;
			xenevtchn_notify(e, port);
			continue;
		}
		/* This tiny server only echoes replies that fit at once. */
		rprod = in->rsp_prod;
		if (XENSTORE_RING_SIZE - (rprod - in->rsp_cons) < want)
			return served;
		for (uint32_t i = 0; i < want; i++)
			in->rsp[MASK(rprod + i)] = pm->msg[i];
		__atomic_thread_fence(__ATOMIC_RELEASE);
		in->rsp_prod = rprod + want;
		xenevtchn_notify(e, port);
		pm->have = 0;
		served++;
	}
}

static int serve_n(struct xenstore_domain_interface *in, xenevtchn_handle *e,
		   evtchn_port_t port, int n)
{
	static struct partial pm;
	int done = 0, r;

	while (done < n) {
		r = serve(in, e, port, &pm);
		if (r < 0) {
			printf("bad ring\n");
			return 1;
		}
		done += r;
		if (done < n && wait_port(e, 5000) <= 0) {
			printf("timeout after %d\n", done);
			return 3;
		}
	}
	printf("served %d\n", done);
	return 0;
}

static int cmd_echo(uint32_t domid, uint32_t port, int n)
{
	xenevtchn_handle *e = ctx.e = xenevtchn_open(NULL, 0);
	xengnttab_handle *g = ctx.g = xengnttab_open(NULL, 0);
	xenevtchn_port_or_error_t l;
	void *p;
	int rc;

	if (!e || !g)
		return die("open");
	p = xengnttab_map_grant_ref(g, domid, GNTTAB_RESERVED_XENSTORE,
				    PROT_READ | PROT_WRITE);
	if (!p)
		return die("xengnttab_map_grant_ref");
	l = xenevtchn_bind_interdomain(e, domid, port);
	if (l < 0)
		return die("xenevtchn_bind_interdomain");
	printf("ready\n");
	fflush(stdout);
	rc = serve_n(p, e, (evtchn_port_t)l, n);
	xenevtchn_unbind(e, (evtchn_port_t)l);
	xengnttab_unmap(g, p, 1);
	return rc;
}

static int cmd_dom0ring(int n)
{
	xenevtchn_handle *e = ctx.e = xenevtchn_open(NULL, 0);
	char txt[16] = "";
	xenevtchn_port_or_error_t l;
	void *p;
	int fd, rc;

	if (!e)
		return die("xenevtchn_open");
	fd = open("/proc/xen/xsd_kva", O_RDWR);
	if (fd < 0)
		return die("open xsd_kva");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return die("mmap xsd_kva");
	fd = open("/proc/xen/xsd_port", O_RDONLY);
	if (fd < 0 || read(fd, txt, sizeof(txt) - 1) <= 0)
		return die("xsd_port");
	close(fd);
	l = xenevtchn_bind_interdomain(e, 0, (evtchn_port_t)num(txt));
	if (l < 0)
		return die("xenevtchn_bind_interdomain");
	printf("ready\n");
	fflush(stdout);
	rc = serve_n(p, e, (evtchn_port_t)l, n);
	xenevtchn_unbind(e, (evtchn_port_t)l);
	munmap(p, 4096);
	return rc;
}

static int run(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	if (!strcmp(c, "map") && argc >= 3)
		return cmd_map((uint32_t)num(argv[2]), argc > 3 ? num(argv[3]) : 0);
	if (!strcmp(c, "fmap") && argc == 4)
		return cmd_fmap((uint32_t)num(argv[2]), num(argv[3]));
	if (!strcmp(c, "bind") && argc == 4)
		return cmd_bind((uint32_t)num(argv[2]), (uint32_t)num(argv[3]));
	if (!strcmp(c, "info"))
		return cmd_info(argc > 2 ? (uint32_t)num(argv[2]) : 0,
				argc > 3 ? (unsigned)num(argv[3]) : 64);
	if (!strcmp(c, "getinfo") && argc == 3)
		return cmd_getinfo((uint32_t)num(argv[2]));
	if (!strcmp(c, "virq") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "--fork"))))
		return cmd_virq((unsigned)num(argv[2]), argc == 4);
	if (!strcmp(c, "echo") && argc == 5)
		return cmd_echo((uint32_t)num(argv[2]), (uint32_t)num(argv[3]),
				(int)num(argv[4]));
	if (!strcmp(c, "dom0ring") && argc == 3)
		return cmd_dom0ring((int)num(argv[2]));
	fputs("usage: xensim-selftest map|fmap|bind|info|getinfo|virq|echo|dom0ring ...\n"
	      "(see the header comment of tests/xensim/selftest.c)\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	int rc = run(argc, argv);

	fflush(stdout);
	xenevtchn_close(ctx.e);
	xengnttab_close(ctx.g);
	xenforeignmemory_close(ctx.m);
	if (ctx.x)
		xc_interface_close(ctx.x);
	return rc;
}
