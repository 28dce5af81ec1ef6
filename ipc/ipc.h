/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipc.h - the frame format between lixs-broker and lixs-storeproc.
 *
 * The two processes talk over one SOCK_SEQPACKET socketpair, so every
 * datagram is exactly one frame: a fixed 16-byte header followed by
 * `len` payload bytes.  Both sides validate every header field before
 * touching the payload (ipc_frame_check); the broker treats a bad frame
 * from the store process as a compromise (it kills and restarts it), the
 * store process treats a bad frame from the broker as a bug (it exits).
 *
 * Every message type is one row of ipc_types[] in ipc.c: number (never
 * reused), direction, payload size rule.  The broker's policy/ table adds
 * what it checks and does for each store -> broker type.
 */
#ifndef LIXS_IPC_H
#define LIXS_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Message numbers are wire ABI between the two binaries: never reuse one. */
enum ipc_type {
	IPC_NONE = 0,          /* never valid */

	/* broker -> store process */
	IPC_CONN_NEW = 1,      /* payload struct ipc_conn_new; socket conns carry one fd */
	IPC_CONN_DATA = 2,     /* raw bytes a ring connection's guest wrote (reserved) */
	IPC_CONN_GONE = 3,     /* a ring connection went away (reserved) */
	IPC_SHUTDOWN = 4,      /* empty: finish and exit(0) */

	/* store process -> broker */
	IPC_HELLO = 64,        /* payload struct ipc_hello: store is ready to serve */
	IPC_REPLY_DATA = 65,   /* bytes to write to a ring connection (reserved) */

	IPC_TYPE_LIMIT = 128   /* all numbers are below this */
};

enum ipc_dir {
	IPC_TO_STORE = 1,      /* sent by the broker */
	IPC_TO_BROKER = 2,     /* sent by the store process */
};

/* Fixed header, native endian (both ends are the same machine). */
struct ipc_hdr {
	uint32_t type;         /* enum ipc_type */
	uint32_t conn;         /* connection id, 0 when the type has none */
	uint32_t flags;        /* IPC_F_* ; unknown bits are an error */
	uint32_t len;          /* payload bytes after the header */
};

#define IPC_HDR_SIZE ((size_t)sizeof(struct ipc_hdr))
/* Large enough for one whole xenstore message (16 + 4096) with headroom. */
#define IPC_PAYLOAD_MAX 8192u
#define IPC_FRAME_MAX (IPC_HDR_SIZE + IPC_PAYLOAD_MAX)

#define IPC_F_FD 0x1u          /* exactly one fd rides with this frame */

/* The store process finds its end of the socketpair at this fd number. */
#define LIXS_IPC_FD 3

/* IPC_CONN_NEW: who is on the other end of a new connection. */
enum ipc_conn_kind {
	IPC_KIND_SOCKET = 1,   /* unix socket; the fd rides with the frame */
	IPC_KIND_RING = 2,     /* a guest/dom0 ring served by the broker (reserved) */
};

#define IPC_ACCESS_PRIV 0x1u      /* privileged (dom0 toolstack) */
#define IPC_ACCESS_RDONLY 0x2u    /* may read and watch, never modify */

struct ipc_conn_new {
	uint32_t kind;         /* enum ipc_conn_kind */
	uint32_t domid;        /* domain the connection speaks for */
	uint32_t access;       /* IPC_ACCESS_* bits */
	int32_t pid;           /* SO_PEERCRED of a socket peer, else -1 */
	uint32_t uid;
	uint32_t gid;
};

#define IPC_PROTO_VERSION 1u

struct ipc_hello {
	uint32_t version;      /* IPC_PROTO_VERSION */
	uint32_t pid;          /* the store process's pid, for the broker's log */
};

/*
 * A decoded frame.  `payload` points into the caller's receive buffer
 * (ownership stays with the caller); `fd` is -1 unless IPC_F_FD was set,
 * in which case the receiver owns it and must close it.
 */
struct ipc_msg {
	struct ipc_hdr hdr;
	const uint8_t *payload;
	int fd;
};

/* Row of the type table; one per enum value in use. */
struct ipc_type_info {
	uint32_t type;
	const char *name;
	enum ipc_dir dir;
	uint32_t min_len;      /* payload length bounds, inclusive */
	uint32_t max_len;
	uint32_t allowed_flags;
	bool needs_conn;       /* conn id must be non-zero */
};

/* The type table row for `type`, or NULL for an unknown number. */
const struct ipc_type_info *ipc_type_lookup(uint32_t type);

/* Number of rows and row i, so tests can walk the table. */
size_t ipc_type_count(void);
const struct ipc_type_info *ipc_type_at(size_t i);

/*
 * Validate a received datagram of `n` bytes that arrived travelling in
 * direction `dir`, with `nfds` descriptors attached.  Checks, in this
 * order: n >= header, known type, direction, header len == n - header,
 * len within the row's bounds, flags allowed, IPC_F_FD iff nfds == 1,
 * conn id rule.  Returns 0 and fills *msg (fd set to -1; the caller
 * stores the received fd), or EINVAL / EPROTO / E2BIG.
 */
int ipc_frame_check(const void *buf, size_t n, enum ipc_dir dir,
		    unsigned int nfds, struct ipc_msg *msg);

/*
 * Send one frame on the SEQPACKET socket `sock`.  `fd` >= 0 is passed
 * with SCM_RIGHTS (the caller keeps its copy and closes it itself).
 * Returns 0, or an errno value (EAGAIN when the socket is full,
 * EPIPE when the peer is gone, E2BIG for an oversized payload).
 */
int ipc_send(int sock, uint32_t type, uint32_t conn, const void *payload,
	     uint32_t len, int fd);

/*
 * Receive one frame into `buf` (at least IPC_FRAME_MAX bytes) and
 * validate it for direction `dir`.  Returns 0 with *msg filled (the
 * receiver owns msg->fd if >= 0), EAGAIN when nothing is waiting,
 * EPIPE when the peer closed, or the ipc_frame_check error (any
 * descriptors that arrived with a bad frame are already closed).
 */
int ipc_recv(int sock, void *buf, size_t bufsz, enum ipc_dir dir,
	     struct ipc_msg *msg);

/* Fixed-size payload codecs: exact length required, fields range-checked. */
int ipc_conn_new_decode(const struct ipc_msg *msg, struct ipc_conn_new *out);
int ipc_hello_decode(const struct ipc_msg *msg, struct ipc_hello *out);

#endif
