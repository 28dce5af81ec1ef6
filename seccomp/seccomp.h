/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * seccomp.h - the store process's seccomp profile and its loader.
 *
 * Placeholder: the default profile (a readable list of syscall, why),
 * the --seccomp-profile FILE loader and the broker's own filter arrive
 * with the sandbox issue.  Nothing is declared here yet.
 */
#ifndef LIXS_SECCOMP_H
#define LIXS_SECCOMP_H
#endif
