/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipc.h - the frame format between lixs-broker and lixs-storeproc.
 *
 * Frames travel on two pipes, one each way, so that each side's frames
 * arrive whole and in order: a fixed 16-byte header followed by `len`
 * payload bytes, IPC_FRAME_MAX (PIPE_BUF) at most, so that every frame
 * is written whole or not at all.  A descriptor travels beside its frame
 * on a SOCK_SEQPACKET socketpair, sent just before the frame that says
 * it carries one (IPC_F_FD).  Pipes, because a frame costs the kernel
 * less on a pipe than on a unix socket: every guest request crosses the
 * channel twice (docs/PERFORMANCE.md, "Guest rings").
 *
 * Both sides validate every header field before
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
#include <limits.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Message numbers are wire ABI between the two binaries: never reuse one. */
enum ipc_type {
	IPC_NONE = 0,          /* never valid */

	/* broker -> store process */
	IPC_CONN_NEW = 1,      /* payload struct ipc_conn_new; socket conns carry one fd */
	IPC_CONN_DATA = 2,     /* conn: raw bytes its guest/dom0 kernel wrote to the ring */
	IPC_CONN_GONE = 3,     /* conn: a ring connection is gone (ring broken, unmapped) */
	IPC_SHUTDOWN = 4,      /* empty: finish and exit(0) */
	IPC_RING_RESULT = 5,   /* payload struct ipc_ring_result: answer to IPC_RING_MAP */
	IPC_DOMAIN_STATE = 6,  /* payload n x struct ipc_domain_state, after VIRQ_DOM_EXC */
	IPC_CONN_SPACE = 7,    /* conn, payload uint32: reply bytes the guest consumed */
	IPC_TRACE_FD = 8,      /* empty + one fd: write the wire trace (-T) there from now
				* on (sent after each HELLO and after SIGHUP); no fd: stop */
	IPC_JOURNAL_RESTORE = 9, /* empty, sent right after each HELLO, before
				  * anything else: replay the journal (one fd,
				  * the memfd the broker holds); no fd: none */

	/* store process -> broker */
	IPC_HELLO = 64,        /* payload struct ipc_hello: store is ready to serve */
	IPC_REPLY_DATA = 65,   /* conn: bytes to write to a ring connection */
	IPC_RING_MAP = 66,     /* payload struct ipc_ring_map: INTRODUCE asks for a ring */
	IPC_RING_UNMAP = 67,   /* conn: RELEASE / domain death: unmap and unbind */
	IPC_CONN_CREDIT = 68,  /* conn, payload uint32 [+ reply bytes]: the store answered this many
				* request bytes (their replies sent before the count
				* or after it in this frame) or dropped them; the
				* broker may read that many more */
	IPC_JOURNAL = 69,      /* empty + one memfd: a fresh journal (snapshot);
				* the broker holds it instead of the old one */
	IPC_RING_BREAK = 70,   /* conn, payload uint32 XENSTORE_ERROR_*: the guest
				* broke the protocol (a message over 4096 bytes):
				* set the ring's error field, serve it no more */
	IPC_RING_IDLE = 71,    /* conn, empty: the store heard nothing from this
				* guest for a while (--ring-idle); the broker may
				* unmap its page until the guest's next event or
				* the next frame for it */

	IPC_TYPE_LIMIT = 128   /* all numbers are below this */
};

/*
 * Ring connections (guests, and dom0's kernel ring), end to end:
 *
 * - dom0's xenbus ring: at start the broker maps it and sends CONN_NEW
 *   {kind RING, domid 0, access PRIV} with a fresh conn id, no fd.
 * - A guest: the store process's INTRODUCE handler sends RING_MAP; the
 *   broker checks it against policy/, maps and binds, and answers
 *   RING_RESULT {domid, err, conn}; conn (non-zero on success) is the
 *   ring connection's id from then on.  RELEASE or domain death: the
 *   store sends RING_UNMAP conn; the broker unmaps, unbinds, forgets.
 * - Bytes in: the broker copies what the guest wrote into CONN_DATA
 *   frames, but never more than the store has granted: each connection
 *   starts with IPC_RING_WINDOW bytes of credit, and CONN_CREDIT n from
 *   the store (sent once the replies to n request bytes are sent) allows
 *   n more.  So a guest that floods stalls in its own ring, as upstream's
 *   "stop reading".  Reply bytes may follow n in the same frame, exactly
 *   as if a REPLY_DATA frame of them came first: the store joins its last
 *   reply frame (a reply's tail, possibly with watch events) to the credit
 *   that follows it, so the broker wakes once for both.
 * - Until then the broker keeps a copy of those unanswered bytes: a
 *   restarted store process gets them again after the ring's CONN_NEW
 *   (whose ring_pos says where they start in the ring's stream), so a
 *   request in flight at a crash is answered, once (docs/RESTART.md).
 *   If the store dies again before answering them, the broker cuts that
 *   ring off instead (XENSTORE_ERROR_COMM): a request that kills every
 *   store process it reaches must not keep the host's xenstore down.
 * - Bytes out: REPLY_DATA frames; the store keeps at most
 *   IPC_RING_WINDOW reply bytes unacknowledged per connection, and the
 *   broker answers CONN_SPACE n once the guest consumed n >= half the
 *   window of them (not at every reply: a store wake-up less each),
 *   so the broker's per-connection queue is bounded by the window.  A
 *   store that overruns the window has broken policy (it is restarted).
 * - The broker ends a connection on its own (bad ring index: error field
 *   set as upstream) with CONN_GONE conn.  The store process, which alone
 *   parses messages, asks for the same with RING_BREAK conn error (a
 *   message too long: XENSTORE_ERROR_PROTO, as 4.17); CONN_GONE follows.
 * - Idle guests: RING_IDLE conn from the store lets the broker give the
 *   ring page back while nothing is in flight either way (nothing held,
 *   nothing queued, every request read: the guest notifies when it writes
 *   again).  The event channel stays bound; the page is mapped again at
 *   the guest's next event or the store's next frame for it, and only
 *   while the domid still names the domain first mapped (policy/).  If
 *   that fails for now, CONN_SPACE 0 asks the store for a RING_IDLE
 *   after a while, which tries again.
 * - VIRQ_DOM_EXC: the broker asks the hypervisor once for all domains
 *   and sends DOMAIN_STATE with an entry per mapped domain whose state
 *   changed; the store fires @releaseDomain and unmaps dead ones.
 */
#define IPC_RING_WINDOW 65536u

/* The largest journal memfd the broker accepts (IPC_JOURNAL, docs/RESTART.md). */
#define IPC_JOURNAL_MAX (256u * 1024 * 1024)

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
/* A frame fits PIPE_BUF, which a pipe takes whole or not at all.  Ring
 * bytes are a stream, cut into frames anywhere. */
#define IPC_FRAME_MAX 4096u
#define IPC_PAYLOAD_MAX (IPC_FRAME_MAX - (uint32_t)IPC_HDR_SIZE)
_Static_assert(IPC_FRAME_MAX <= PIPE_BUF, "a frame must fit one atomic pipe write");

#define IPC_F_FD 0x1u          /* exactly one fd rides with this frame */

/*
 * One side's end of the channel.  The store process finds its end at
 * fixed descriptor numbers: LIXS_IPC_FD the socket (descriptors both
 * ways), LIXS_IPC_IN_FD the pipe it reads the broker's frames from,
 * LIXS_IPC_OUT_FD the pipe it writes its own frames to.
 */
struct ipc_link {
	int in;                /* pipe read end: the peer's frames */
	int out;               /* pipe write end: our frames */
	int fds;               /* SOCK_SEQPACKET: descriptors, both ways */
};

#define LIXS_IPC_FD 3
#define LIXS_IPC_IN_FD 4
#define LIXS_IPC_OUT_FD 5

/*
 * Make both ends of a channel: *a's descriptors non-blocking, all
 * close-on-exec.  0 or an errno value (nothing left open).
 */
int ipc_link_pair(struct ipc_link *a, struct ipc_link *b);

/* Close what is open of *l and mark it closed (-1). */
void ipc_link_close(struct ipc_link *l);

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
	/* Rings: the request stream offset of the first byte that follows
	 * (bytes answered so far; 0 for a new ring).  Sockets: 0 for a new
	 * client, IPC_SOCKET_RESUMED for one an earlier store process was
	 * given (the broker kept a copy; docs/RESTART.md). */
	uint64_t ring_pos;
};

#define IPC_SOCKET_RESUMED 1u

/* IPC_RING_MAP: map domid's ring page and bind its event channel. */
struct ipc_ring_map {
	uint32_t domid;        /* 1..DOMID_FIRST_RESERVED-1, never dom0 */
	uint32_t port;         /* the guest's unbound event channel port */
	uint64_t gfn;          /* ring frame, used when the grant map fails */
};

/* IPC_RING_RESULT: conn is the new ring connection's id, or 0 with err set. */
struct ipc_ring_result {
	uint32_t domid;
	uint32_t err;          /* 0 or a positive errno value */
	uint32_t conn;
	uint32_t pad;          /* zero */
};

/* IPC_DOMAIN_STATE entry: the hypervisor's view of one domain. */
#define IPC_DOM_SHUTDOWN 0x1u  /* shut down (any reason) or crashed */
#define IPC_DOM_DYING 0x2u     /* being destroyed */
#define IPC_DOM_GONE 0x4u      /* no longer exists */
struct ipc_domain_state {
	uint32_t domid;
	uint32_t flags;        /* IPC_DOM_* */
};

#define IPC_PROTO_VERSION 2u

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
 * Validate a received frame of `n` bytes that arrived travelling in
 * direction `dir`, with `nfds` descriptors attached.  Checks, in this
 * order: n >= header, known type, direction, header len == n - header,
 * len within the row's bounds, flags allowed, IPC_F_FD iff nfds == 1,
 * conn id rule.  Returns 0 and fills *msg (fd set to -1; the caller
 * stores the received fd), or EINVAL / EPROTO / E2BIG.
 */
int ipc_frame_check(const void *buf, size_t n, enum ipc_dir dir,
		    unsigned int nfds, struct ipc_msg *msg);

/*
 * Send one frame on `l`.  `fd` >= 0 goes beside it (the caller keeps its
 * copy and closes it itself).  Returns 0, or an errno value: EAGAIN when
 * the pipe is full, or for a frame with an fd the descriptor socket is
 * (nothing sent: wait for that one to be writable), EPIPE when the peer
 * is gone, E2BIG for an oversized payload.  A frame with an fd waits up
 * to IPC_FD_WAIT_MS for room in the pipe once its fd is sent (a signal
 * does not cut the wait short), then fails with ETIMEDOUT: after that
 * error the channel is out of step and must be closed.  Writing to a
 * pipe whose reader is gone raises SIGPIPE: the caller ignores it, and
 * gets EPIPE.
 */
int ipc_send(const struct ipc_link *l, uint32_t type, uint32_t conn, const void *payload,
	     uint32_t len, int fd);

#define IPC_FD_WAIT_MS 10000

/*
 * Only the descriptor half of ipc_send: one byte and SCM_RIGHTS on l->fds,
 * for the frame with IPC_F_FD that must follow it.  For a test or a fuzz
 * target writing its own frames; 0, EAGAIN, EPIPE or an errno value.
 */
int ipc_send_fd(const struct ipc_link *l, int fd);

/* One frame of ipc_send_many(): no descriptor; payload not owned. */
struct ipc_out_frame {
	uint32_t type, conn, len;
	const void *payload;
};

#define IPC_SEND_MANY_MAX 10u

/*
 * Send up to IPC_SEND_MANY_MAX frames, in order, with as few writes as
 * whole frames allow (one for all that fit PIPE_BUF together): a reply
 * and the credit that says it was sent leave together.  *sent says how
 * many went; returns 0 (all), EAGAIN (the pipe took only *sent), or an
 * errno value as ipc_send (none checked beyond the first bad frame).
 */
int ipc_send_many(const struct ipc_link *l, const struct ipc_out_frame *f, unsigned int n,
		  unsigned int *sent);

/*
 * Receive one frame into `buf` (at least IPC_FRAME_MAX bytes) and
 * validate it for direction `dir`, reading no further than its end.
 * Returns 0 with *msg filled (the receiver owns msg->fd if >= 0), EAGAIN
 * when nothing is waiting, EPIPE when the peer closed (after every frame
 * it sent), EMFILE when the frame's descriptor found no room in this
 * process (the frame is consumed and lost), EPROTO for a frame cut
 * short, or the ipc_frame_check error.  After any error but EAGAIN and
 * EMFILE the channel is out of step: close it.
 */
int ipc_recv(const struct ipc_link *l, void *buf, size_t bufsz, enum ipc_dir dir,
	     struct ipc_msg *msg);

/* Bytes one read may take: a default pipe's whole capacity. */
#define IPC_RX_BYTES 65536u

/*
 * Frames read together, for ipc_recv_next().  Zeroed before first use,
 * ipc_rx_reset between channels; owned by its caller, 64 KiB.
 */
struct ipc_rx {
	uint32_t start;        /* the next frame's first byte */
	uint32_t end;          /* bytes read */
	bool drained;          /* the last read emptied the pipe */
	uint8_t buf[IPC_RX_BYTES];
};

/*
 * ipc_recv() for an event loop: the next frame of what one read() took,
 * as many frames as were waiting.  The payload stays valid until the
 * next call.  After a read that emptied the pipe, one EAGAIN comes
 * without asking the kernel: the caller must wait for readability
 * (level-triggered) before it calls again, and must not leave whole
 * frames read while it waits: it stops on EAGAIN, or on an error after
 * which it closes the channel and calls ipc_rx_reset, or, to yield to
 * other work, once ipc_rx_buffered() says no whole frame is left.
 */
int ipc_recv_next(const struct ipc_link *l, struct ipc_rx *rx, enum ipc_dir dir,
		  struct ipc_msg *msg);

/*
 * A whole frame is read and waiting in *rx.  When not, the caller may go
 * back to waiting for readability, and its next ipc_recv_next reads.
 */
bool ipc_rx_buffered(struct ipc_rx *rx);

/* Forget what was read (a new channel). */
void ipc_rx_reset(struct ipc_rx *rx);

/* Fixed-size payload codecs: exact length required, fields range-checked. */
int ipc_conn_new_decode(const struct ipc_msg *msg, struct ipc_conn_new *out);
int ipc_hello_decode(const struct ipc_msg *msg, struct ipc_hello *out);

#endif
