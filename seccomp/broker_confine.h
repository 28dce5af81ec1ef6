/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * broker_confine.h - what lixs-broker gives up once it serves: every
 * capability but the few that restarting the store process needs, and
 * every syscall outside seccomp/broker.profile.  SECURITY.md lists both.
 */
#ifndef LIXS_BROKER_CONFINE_H
#define LIXS_BROKER_CONFINE_H

#include <stdint.h>

#include "profile.h"  /* PROFILE_ERR_MAX */

/* The capabilities the broker keeps, as a /proc/PID/status CapEff mask. */
uint64_t broker_kept_caps(void);

/*
 * Keep only broker_kept_caps() (effective, permitted, bounding; nothing
 * inheritable or ambient), set no_new_privs and load the broker's
 * filter.  Returns 0, or an errno value with `err` (PROFILE_ERR_MAX
 * bytes, caller's) saying which step failed.  Irreversible.
 */
int broker_confine(char *err);

#endif
