/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store_harness.h - a whole store process without its main loop or
 * sandbox, with this harness standing in for the broker and the clients,
 * for the store fuzz target and the valgrind replay of the conformance
 * cases.
 *
 * Connections, made on first use and again after one closes:
 *   HARNESS_PRIV     dom0 toolstack socket, privileged
 *   HARNESS_RDONLY   socket_ro: privileged, but read-only
 *   HARNESS_DOMU     a socket speaking for unprivileged domid 5
 *   HARNESS_RING6    domid 6's ring, announced by the broker (CONN_NEW RING)
 *   HARNESS_GUEST    the ring of the guest most recently INTRODUCEd
 *   HARNESS_FRAME    not a connection: raw frames "from the broker",
 *                    ipc_frame_check(IPC_TO_STORE), then what
 *                    storeproc/main.c does with them
 *   HARNESS_PRIV2    a second privileged dom0 socket
 * Socket bytes go through a real socketpair and the store's own reader;
 * ring bytes go in CONN_DATA frames within the credit the store granted,
 * as the broker sends them.  Frames the store sends are answered as the
 * broker would: RING_MAP with a ring (every eighth fails), REPLY_DATA
 * with CONN_SPACE, CONN_CREDIT counted (reply bytes after its count as
 * REPLY_DATA, CONN_SPACE too).  Replies are read and dropped.
 */
#ifndef LIXS_STORE_HARNESS_H
#define LIXS_STORE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum harness_conn {
	HARNESS_PRIV, HARNESS_RDONLY, HARNESS_DOMU, HARNESS_RING6,
	HARNESS_GUEST, HARNESS_FRAME, HARNESS_PRIV2,
	HARNESS_NCONN
};

/* A fresh store (the harness's state is static: one at a time). */
void harness_open(void);
/* Tear it all down; everything the store allocated is freed. */
void harness_close(void);

/*
 * Send `n` bytes to connection `which` (any split into requests), let
 * the store handle them, then with `hangup` the client hangs up (a
 * socket's write side shuts, a ring is cut off by the broker).
 */
void harness_feed(enum harness_conn which, const uint8_t *p, size_t n,
		  bool hangup);

/* The store process would have exited (a broker frame it refuses). */
bool harness_broken(void);

/* Reply and watch event bytes the clients received since harness_open(). */
size_t harness_reply_bytes(void);

/*
 * Aborts unless the tree's count of the domids its nodes name
 * (store_names_domid) says exactly which domids a walk finds named: a
 * count that says none where one is named would leave a dead domain's
 * entries behind at its release (XSA-322).
 */
void harness_check_names(void);

#endif
