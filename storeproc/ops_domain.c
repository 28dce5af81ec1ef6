/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ops_domain.c - GET_DOMAIN_PATH and IS_DOMAIN_INTRODUCED.
 *
 * Both take one string, the domid, read as 4.17 reads it: atoi(), i.e.
 * leading blanks and a sign allowed, digits up to the first non-digit,
 * nothing at all meaning 0, the value wrapped to 32 bits ("-1" is
 * 4294967295).  Examples: "7" and " 7x" => 7, "" and "abc" => 0.
 */
#include <errno.h>
#include <stdlib.h>

#include "conn.h"
#include "dispatch.h"
#include "path.h"

/* Xen's DOMID_SELF: a domain asking about itself is introduced. */
#define XEN_DOMID_SELF 0x7ff0u

static unsigned int parse_domid(const char *s)
{
	/* Conversion to unsigned wraps exactly as (unsigned)atoi() does. */
	return (unsigned int)strtol(s, NULL, 10);
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

/*
 * Until guest domains are served, the only introduced domain is dom0,
 * which cxenstored introduces at start-up.
 */
int op_is_domain_introduced(struct req *r)
{
	const char *arg = req_onearg(r);
	unsigned int domid;

	if (!arg)
		return EINVAL;
	domid = parse_domid(arg);
	req_reply(r, domid == XEN_DOMID_SELF || domid == 0 ? "T" : "F", 2);
	return 0;
}
