/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * broker_confine.c - lixs-broker's own confinement after init.
 *
 * The broker stays uid 0 (it owns root's sockets, pid file and trace
 * file, and must start a store process as root so that the store can
 * confine itself), but once it serves it needs no capability except the
 * ones a store process's start-up uses.  Everything the Xen channels need
 * was opened before: the device fds are kept and their ioctls check no
 * capability.
 */
#include "broker_confine.h"

#include <cap-ng.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>

#include "profile.h"

/* The capabilities kept, each for the store process's start-up. */
static const struct {
	int cap;
	const char *why;
} kept[] = {
	{ CAP_SETUID, "the store process becomes its own user" },
	{ CAP_SETGID, "the same for its groups, supplementary ones dropped" },
	{ CAP_SYS_CHROOT, "the store process's empty root" },
	{ CAP_SETPCAP, "the store process empties its bounding set" },
	{ CAP_KILL, "SIGKILL a store process, which runs as another user" },
};

#define N_KEPT (sizeof(kept) / sizeof(kept[0]))

uint64_t broker_kept_caps(void)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < N_KEPT; i++)
		mask |= UINT64_C(1) << kept[i].cap;
	return mask;
}

static int keep_only_needed_caps(char *err)
{
	int rc;

	capng_clear(CAPNG_SELECT_ALL);
	for (size_t i = 0; i < N_KEPT; i++) {
		rc = capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
				  CAPNG_BOUNDING_SET, (unsigned int)kept[i].cap);
		if (rc) {
			snprintf(err, PROFILE_ERR_MAX, "capabilities: cannot keep %s",
				 capng_capability_to_name((unsigned int)kept[i].cap));
			return EINVAL;
		}
	}
	/* Ambient is cleared with the rest: an exec'd child gets nothing
	 * it was not given by its own file or by being root. */
	rc = capng_apply(CAPNG_SELECT_ALL);
	if (rc) {
		snprintf(err, PROFILE_ERR_MAX, "capabilities: capng_apply failed (%d)", rc);
		return EPERM;
	}
	return 0;
}

int broker_confine(char *err)
{
	static struct profile prof;  /* 1 KiB: keep it off the stack */
	int rc;

	rc = profile_parse("broker profile", profile_broker_text,
			   strlen(profile_broker_text), &prof, err);
	if (!rc)
		rc = keep_only_needed_caps(err);
	/* Sets no_new_privs too: without CAP_SYS_ADMIN, a filter needs it. */
	if (!rc)
		rc = profile_load(&prof, err);
	return rc;
}
