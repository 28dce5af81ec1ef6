/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xensim-ctl.c - the simulated host's toolstack and hypervisor controls:
 * create, pause, shut down, crash, destroy domains; dom0's kernel ring;
 * list the domain table.  Usage and output formats: README.md.
 *
 * Exit status: 0 done, 1 the operation failed (errno name on stderr),
 * 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "simhost.h"

static const char *const reasons[] = {
	"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset",
};

static void usage(void)
{
	fputs("usage: xensim-ctl COMMAND (XENSIM_DIR names the host)\n"
	      "  create DOMID [--no-grant] [--hvm]   prints DOMID GFN PORT\n"
	      "  pause|unpause|resume|crash|destroy|revoke-grant DOMID\n"
	      "  fail-maps DOMID N                  the next N maps of its ring fail\n"
	      "  fail-lists N                       the next N domain lists fail\n"
	      "  shutdown DOMID [poweroff|reboot|suspend|crash|watchdog|soft_reset|N]\n"
	      "  list | show DOMID | maps DOMID | wait-gone DOMID [SECONDS]\n"
	      "  dom0-ring-init                      prints the dom0 kernel's port\n",
	      stderr);
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > UINT32_MAX)
		return EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_reason(const char *s, uint32_t *out)
{
	uint32_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (strcmp(s, reasons[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return parse_u32(s, out);
}

static void print_dom(struct sim *sim, const struct sim_dom *d)
{
	char state[32];
	uint32_t peer = 0;

	if (d->flags & SIM_DOM_DYING)
		snprintf(state, sizeof(state), "dying");
	else if (d->flags & SIM_DOM_SHUTDOWN)
		snprintf(state, sizeof(state), "shutdown:%s",
			 d->shutdown_reason < 6 ? reasons[d->shutdown_reason] : "?");
	else if (d->flags & SIM_DOM_PAUSED)
		snprintf(state, sizeof(state), "paused");
	else
		snprintf(state, sizeof(state), "running");
	if (d->domid && d->store_port &&
	    d->ports[d->store_port].state == SIM_PORT_INTERDOMAIN &&
	    d->ports[d->store_port].remote_dom == 0)
		peer = d->ports[d->store_port].remote_port;
	(void)sim;
	printf("%u gen=%llu state=%s flags=0x%x gfn=%llu port=%u maps=%u peer=%u\n",
	       d->domid, (unsigned long long)d->gen, state, d->flags,
	       (unsigned long long)d->gfn, d->store_port, sim_dom_maps(d), peer);
}

static int by_domid(const void *a, const void *b)
{
	const struct sim_dom *x = *(const struct sim_dom *const *)a;
	const struct sim_dom *y = *(const struct sim_dom *const *)b;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

static int cmd_list(struct sim *sim, int only, uint32_t domid)
{
	const struct sim_dom *sel[SIM_MAX_DOMS];
	unsigned i, n = 0;

	sim_reap(sim);
	sim_lock(sim);
	for (i = 0; i < sim->host->doms_end; i++) {
		const struct sim_dom *d = &sim->host->doms[i];

		if (d->used && (!only || d->domid == domid))
			sel[n++] = d;
	}
	/* In domid order, as xl list shows them. */
	qsort(sel, n, sizeof(sel[0]), by_domid);
	for (i = 0; i < n; i++)
		print_dom(sim, sel[i]);
	sim_unlock(sim);
	return only && !n ? ESRCH : 0;
}

static int cmd_maps(struct sim *sim, uint32_t domid)
{
	struct sim_dom *d;

	sim_reap(sim);
	sim_lock(sim);
	d = sim_find(sim, domid);
	printf("%u\n", d ? sim_dom_maps(d) : 0);
	sim_unlock(sim);
	return 0;
}

static int cmd_wait_gone(struct sim *sim, uint32_t domid, uint32_t secs)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	uint32_t i;

	for (i = 0; i <= secs * 50; i++) {
		int gone;

		sim_reap(sim);
		sim_lock(sim);
		gone = sim_find(sim, domid) == NULL;
		sim_unlock(sim);
		if (gone)
			return 0;
		nanosleep(&ts, NULL);
	}
	return ETIMEDOUT;
}

static int run(struct sim *sim, int argc, char **argv)
{
	const char *cmd = argv[0];
	uint32_t domid = 0, arg = 0;

	if (strcmp(cmd, "list") == 0)
		return cmd_list(sim, 0, 0);
	if (strcmp(cmd, "dom0-ring-init") == 0) {
		int rc = sim_dom0_ring_init(sim, &arg);

		if (!rc)
			printf("%u\n", arg);
		return rc;
	}
	if (argc < 2 || parse_u32(argv[1], &domid))
		return -1;
	if (strcmp(cmd, "create") == 0) {
		int granted = 1, hvm = 0, i, rc;
		uint64_t gfn;

		for (i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--no-grant") == 0)
				granted = 0;
			else if (strcmp(argv[i], "--hvm") == 0)
				hvm = 1;
			else
				return -1;
		}
		sim_reap(sim);
		rc = sim_dom_create(sim, domid, granted, hvm, &gfn, &arg);
		if (!rc)
			printf("%u %llu %u\n", domid, (unsigned long long)gfn, arg);
		return rc;
	}
	if (strcmp(cmd, "fail-lists") == 0 && argc == 2) {
		sim_fail_lists(sim, domid);  /* its one argument is the count */
		return 0;
	}
	if (strcmp(cmd, "fail-maps") == 0)
		return argc == 3 && !parse_u32(argv[2], &arg) ? sim_dom_fail_maps(sim, domid, arg) : -1;
	if (strcmp(cmd, "shutdown") == 0) {
		if (argc > 2 && parse_reason(argv[2], &arg))
			return -1;
		return sim_dom_shutdown(sim, domid, arg);
	}
	if (argc > 2 && strcmp(cmd, "wait-gone") != 0)
		return -1;
	if (strcmp(cmd, "crash") == 0)
		return sim_dom_shutdown(sim, domid, 3);
	if (strcmp(cmd, "resume") == 0)
		return sim_dom_resume(sim, domid);
	if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "unpause") == 0)
		return sim_dom_set_flag(sim, domid, SIM_DOM_PAUSED, cmd[0] == 'p');
	if (strcmp(cmd, "revoke-grant") == 0)
		return sim_dom_set_flag(sim, domid, SIM_DOM_GRANTED, 0);
	if (strcmp(cmd, "destroy") == 0) {
		sim_reap(sim);
		return sim_dom_destroy(sim, domid);
	}
	if (strcmp(cmd, "show") == 0)
		return cmd_list(sim, 1, domid);
	if (strcmp(cmd, "maps") == 0)
		return cmd_maps(sim, domid);
	if (strcmp(cmd, "wait-gone") == 0) {
		arg = 10;
		if (argc > 2 && parse_u32(argv[2], &arg))
			return -1;
		return cmd_wait_gone(sim, domid, arg);
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct sim sim;
	int rc;

	if (argc < 2) {
		usage();
		return 2;
	}
	rc = sim_open_env(&sim);
	if (rc) {
		fprintf(stderr, "xensim-ctl: cannot open the host (XENSIM_DIR): %s\n",
			strerror(rc));
		return 1;
	}
	rc = run(&sim, argc - 1, argv + 1);
	sim_close(&sim);
	if (rc < 0) {
		usage();
		return 2;
	}
	if (rc) {
		fprintf(stderr, "xensim-ctl %s: %s\n", argv[1], strerror(rc));
		return 1;
	}
	return 0;
}
