/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ops_domain.c - the domain requests: INTRODUCE, RELEASE, RESUME,
 * SET_TARGET, GET_DOMAIN_PATH and IS_DOMAIN_INTRODUCED, as cxenstored
 * 4.17 answers them (the life cycle itself is domain.c's).
 *
 * Domids are read as 4.17 reads them: atoi(), i.e. leading blanks and a
 * sign allowed, digits up to the first non-digit, nothing at all meaning
 * 0, the value wrapped to 32 bits ("-1" is 4294967295).  Examples: "7"
 * and " 7x" => 7, "" and "abc" => 0.
 *
 * INTRODUCE of a new domain needs the broker (it maps the ring): the
 * request waits for RING_RESULT, and so do the connection's later
 * requests, so replies stay in the order upstream sends them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "ipc_out.h"
#include "path.h"

/* Xen's DOMID_SELF: a domain asking about itself is introduced. */
#define XEN_DOMID_SELF 0x7ff0u

static unsigned int parse_domid(const char *s)
{
	/* Conversion to unsigned wraps exactly as (unsigned)atoi() does. */
	return (unsigned int)strtol(s, NULL, 10);
}

/*
 * 4.17's find_connected_domain(): the introduced domain `domid`, or
 * NULL with *err = ENOENT.  dom0 is always introduced (4.17 does it at
 * start), with or without a kernel ring.
 */
static struct domain *introduced(struct storeproc *sp, unsigned int domid,
				 int *err)
{
	struct domain *d = domain_find(&sp->domains, domid);

	if (!d && domid == 0) {
		d = domain_get(&sp->domains, 0);
		if (!d) {
			*err = ENOMEM;
			return NULL;
		}
		d->introduced = true;
	}
	if (!d || !d->introduced) {
		*err = ENOENT;
		return NULL;
	}
	return d;
}

/* "domid|gfn|port|": the gfn is the broker's business (its fallback). */
int op_introduce(struct req *r)
{
	struct storeproc *sp = r->sp;
	struct ipc_ring_map map = { 0 };
	struct domain *d;
	size_t off[3];
	long port;

	if (req_count_strings(r, off, 3) < 3)
		return EINVAL;
	map.domid = parse_domid(r->body + off[0]);
	map.gfn = strtoull(r->body + off[1], NULL, 10);
	/* 4.17 takes atoi()'s int: "4294967297" must not wrap to port 1. */
	port = strtol(r->body + off[2], NULL, 10);
	if (port <= 0 || port > INT32_MAX)
		return EINVAL;
	map.port = (uint32_t)port;

	d = domain_find(&sp->domains, map.domid);
	if (map.domid == 0 || (d && d->introduced)) {
		/* 4.17 rebinds the event channel and resets the connection;
		 * the ring stays mapped, so the broker is not asked. */
		if (d && d->conn)
			conn_reset(sp, d->conn);
		req_ack(r);
		return 0;
	}
	/* Not a guest domid: nothing the broker could map. */
	if (map.domid >= DOMAIN_ID_RESERVED)
		return EINVAL;
	if (d && d->intro_pending)
		return EBUSY;
	d = domain_get(&sp->domains, map.domid);
	if (!d)
		return ENOMEM;
	if (ipc_out_send(sp, IPC_RING_MAP, 0, &map, sizeof(map))) {
		domain_forget(&sp->domains, d);
		return ENOMEM;
	}
	d->intro_pending = true;
	d->intro_waiter = r->conn;
	req_defer(r);
	return 0;
}

/* 4.17's onearg_domain(): "0" (or garbage) is EINVAL. */
static struct domain *onearg_domain(struct req *r, int *err)
{
	const char *arg = req_onearg(r);
	unsigned int domid;

	*err = EINVAL;
	if (!arg)
		return NULL;
	domid = parse_domid(arg);
	if (!domid)
		return NULL;
	return introduced(r->sp, domid, err);
}

int op_release(struct req *r)
{
	int err;
	struct domain *d = onearg_domain(r, &err);

	if (!d)
		return err;
	domain_release(r->sp, d);
	req_ack(r);
	return 0;
}

int op_resume(struct req *r)
{
	int err;
	struct domain *d = onearg_domain(r, &err);

	if (!d)
		return err;
	d->shutdown_seen = false;
	journal_note_domain(r->sp, d->domid);
	req_ack(r);
	return 0;
}

/* "domid|target|": domid's connection gets target's rights too. */
int op_set_target(struct req *r)
{
	struct domain *d, *t;
	size_t off[2];
	int err;

	if (req_count_strings(r, off, 2) < 2)
		return EINVAL;
	d = introduced(r->sp, parse_domid(r->body + off[0]), &err);
	if (!d)
		return err;
	t = introduced(r->sp, parse_domid(r->body + off[1]), &err);
	if (!t)
		return err;
	d->target = t->domid;
	if (d->conn) {
		d->conn->who.target = t->domid;
		d->conn->wo.who.target = t->domid;
	}
	journal_note_domain(r->sp, d->domid);
	req_ack(r);
	return 0;
}

int op_get_domain_path(struct req *r)
{
	const char *arg = req_onearg(r);
	int err;

	if (!arg)
		return EINVAL;
	err = path_domain_home(parse_domid(arg), &r->sp->out);
	if (err)
		return err;
	req_reply(r, r->sp->out.data, r->sp->out.len + 1);
	return 0;
}

int op_is_domain_introduced(struct req *r)
{
	const char *arg = req_onearg(r);
	const struct domain *d;
	unsigned int domid;

	if (!arg)
		return EINVAL;
	domid = parse_domid(arg);
	d = domain_find(&r->sp->domains, domid);
	req_reply(r, domid == XEN_DOMID_SELF || domid == 0 ||
		     (d && d->introduced) ? "T" : "F", 2);
	return 0;
}
