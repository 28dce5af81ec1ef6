/* SPDX-License-Identifier: GPL-2.0-only */
/* optval.c - see optval.h. */
#include "optval.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

int optval_uint(const char *arg, unsigned int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!*arg || *end || errno || v < 0 || v > INT_MAX)
		return EINVAL;
	*out = (unsigned int)v;
	return 0;
}
