/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xserr.c - the errno <-> wire error name table (xserr.h).
 *
 * The table is xs_wire.h's own, so that the names and their order are
 * exactly those libxenstore translates back on the client side.
 */
#include "xserr.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <xen/io/xs_wire.h>

#include "log.h"

#define NERRORS (sizeof(xsd_errors) / sizeof(xsd_errors[0]))

const char *xserr_name(int err)
{
	for (size_t i = 0; i < NERRORS; i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	log_err("internal error: errno %d has no xenstore name, sent as EINVAL",
		err);
	return "EINVAL";
}

int xserr_from_name(const char *name)
{
	for (size_t i = 0; i < NERRORS; i++)
		if (strcmp(xsd_errors[i].errstring, name) == 0)
			return xsd_errors[i].errnum;
	return 0;
}
