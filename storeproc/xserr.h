/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xserr.h - errno values <-> the error names of the xenstore wire
 * protocol (xs_wire.h's xsd_errors), as sent in XS_ERROR replies.
 */
#ifndef LIXS_XSERR_H
#define LIXS_XSERR_H

/*
 * The wire name of `err` ("EINVAL", "ENOENT", ...).  A value the protocol
 * has no name for comes out as "EINVAL", as cxenstored does; that is a
 * bug on our side, so it is logged.  The string is static.
 */
const char *xserr_name(int err);

/* The errno value for wire name `name`, or 0 if it is not one. */
int xserr_from_name(const char *name);

#endif
