/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon.h - what any init-script daemon needs, kept out of the broker's
 * audited files because nothing in it is about xenstore: the pid file
 * (pidfile.c) and detaching with a start-up status (daemonize.c).
 */
#ifndef LIXS_DAEMON_H
#define LIXS_DAEMON_H

/* pidfile.c: 0 or an errno value (logged); removal is best effort. */
int pidfile_write(const char *path);
void pidfile_remove(const char *path);

/* daemonize.c: detach; *ready_fd is written to once serving. */
int daemonize(int *ready_fd);
void daemonize_ready(int *ready_fd);

#endif
