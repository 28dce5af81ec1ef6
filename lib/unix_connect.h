/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * unix_connect.h - a client's stream connection to a unix socket path,
 * for the test and bench tools that talk to a daemon.
 */
#ifndef LIXS_UNIX_CONNECT_H
#define LIXS_UNIX_CONNECT_H

/* A connected SOCK_STREAM fd (close-on-exec; the caller closes it), or
 * -errno (-ENAMETOOLONG for a path sockaddr_un cannot hold). */
int unix_connect(const char *path);

#endif
