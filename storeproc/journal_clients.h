/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal_clients.h - what lets a unix client outlive the store process
 * (docs/RESTART.md, "Connections"): the broker keeps a copy of each
 * client's socket; this keeps the client's entry in the journal's client
 * table (journal.h) saying whether it is idle, and its watches and
 * transaction ids in records (JOURNAL_CLIENT), so that a restarted store
 * process can tell a client it may go on serving from one it must drop.
 */
#ifndef LIXS_JOURNAL_CLIENTS_H
#define LIXS_JOURNAL_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct storeproc;
struct conn;
struct journal_map;

/* Kinds of a change noted for the next record (journal_client_note). */
enum journal_client_change {
	JC_WATCH = '0',		/* a watch added */
	JC_WATCH_RELATIVE = '1',	/* a watch given relative added */
	JC_UNWATCH = '-',	/* a watch removed */
	JC_RESET = 'R',		/* every watch gone (RESET_WATCHES) */
	JC_GONE = 'G',		/* the connection closed */
	JC_TXN = 'T',		/* its transaction ids moved (resumed) */
};

struct journal_clients {
	uint32_t *free;		/* free table slots (1-based), nfree of
				 * them; owned; NULL until the first open */
	uint32_t nfree;
	struct buf changes;	/* not yet in a record: each u32 conn, char
				 * kind, path NUL, token NUL; owned */
	bool swept;		/* restored entries of clients the broker
				 * did not give back are forgotten */
};

void journal_clients_fini(struct journal_clients *jc);

/* A unix connection, new or given back (`resumed`): give it a table
 * slot, idle (none left: it is dropped at a restart). */
void journal_client_open(struct storeproc *sp, struct conn *c, bool resumed);

/*
 * The broker gave back c, a client an earlier store process had.  When
 * the journal's table says that store left it idle, c gets back its
 * watches (each fires once, as a new watch does) and its transactions
 * end with EAGAIN; true.  Otherwise false (logged): the caller drops c.
 */
bool journal_client_resume(struct storeproc *sp, struct conn *c);

/* Before a syscall that reads from or writes to c's socket (busy), and
 * once c has nothing read and unanswered and nothing queued (idle). */
void journal_client_mark(struct storeproc *sp, struct conn *c, bool busy);

/* c closes: its slot is freed and the journal forgets it. */
void journal_client_close(struct storeproc *sp, struct conn *c);

/* A change to c's watches (path and token: NULL for RESET and GONE). */
void journal_client_note(struct storeproc *sp, struct conn *c,
			 enum journal_client_change kind, const char *path,
			 const char *token);

/* The noted changes as operations onto the record `rec` (0, ENOMEM,
 * EINVAL); they are forgotten either way. */
int journal_clients_flush(struct storeproc *sp, struct buf *rec);

/* A snapshot's operations: every unix connection's whole state, and the
 * restored ones not given back yet, onto `body`; each time body holds
 * 64 KiB it is framed as a record onto `out` and emptied.  0, ENOMEM,
 * EINVAL or E2BIG. */
int journal_clients_ops(struct storeproc *sp, struct buf *body, struct buf *out);

/* Fill the client table of the fresh map m from the live connections. */
void journal_clients_table(struct storeproc *sp, struct journal_map *m);

/* The journal the broker handed over was read: clear its client table,
 * so that should this process die before its own snapshot is handed
 * over, no client is resumed on what the previous one knew. */
void journal_clients_clear_table(int fd, const void *data, size_t len);

#endif
