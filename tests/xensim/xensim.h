/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xensim.h - inside xensim.so: the process's one mapping of the simulated
 * host, shared by the libxen stand-ins (xensim_evtchn.c, xensim_mem.c,
 * xensim_xc.c).  Only the libxen entry points are exported from the .so.
 */
#ifndef XENSIM_XENSIM_H
#define XENSIM_XENSIM_H

#include "simhost.h"

#define XSIM_API __attribute__((visibility("default")))

/*
 * The host named by $XENSIM_DIR, mapped on first use and kept for the
 * life of the process.  NULL with *rc = ENOENT when XENSIM_DIR is unset:
 * every open then fails as on a machine without /dev/xen.
 */
struct sim *xensim_host(int *rc);

#endif
