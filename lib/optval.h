/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * optval.h - a number given on a daemon's command line, read as
 * cxenstored's get_optval_int() reads one: used by both processes.
 */
#ifndef LIXS_OPTVAL_H
#define LIXS_OPTVAL_H

/* A decimal from 0 to INT_MAX and nothing else: 0, or EINVAL. */
int optval_uint(const char *arg, unsigned int *out);

#endif
