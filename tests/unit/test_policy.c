/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_policy.c - the broker's policy table agrees with the ipc type
 * table (one row per store -> broker type, no row for anything else),
 * each row's check says what it claims, and the identity table gives
 * each listening socket the documented access.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipc.h"
#include "policy.h"
#include "unit.h"

/* A frame as ipc_recv would hand it over, checked by the real codec. */
static int make_msg(uint32_t type, uint32_t conn, const void *payload, uint32_t len,
		    uint8_t *buf, struct ipc_msg *m)
{
	struct ipc_hdr h = { type, conn, 0, len };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, len);
	return ipc_frame_check(buf, sizeof(h) + len, IPC_TO_BROKER, 0, m);
}

static int t_every_store_type_has_one_row(void)
{
	for (size_t i = 0; i < ipc_type_count(); i++) {
		const struct ipc_type_info *t = ipc_type_at(i);
		int rows = 0;

		if (t->dir != IPC_TO_BROKER)
			continue;
		for (size_t j = 0; j < policy_row_count(); j++)
			rows += policy_row_at(j)->type == t->type;
		if (rows != 1) {
			printf("    %s has %d policy rows\n", t->name, rows);
			return 0;
		}
	}
	return 1;
}

static int t_every_row_is_a_store_type(void)
{
	if (policy_row_count() == 0 || policy_row_at(policy_row_count()))
		return 0;
	for (size_t j = 0; j < policy_row_count(); j++) {
		const struct policy_row *r = policy_row_at(j);
		const struct ipc_type_info *t = ipc_type_lookup(r->type);

		if (!t || t->dir != IPC_TO_BROKER || !r->checks || !r->action || !r->check ||
		    policy_lookup(r->type) != r) {
			printf("    row %zu (type %u) is not a store -> broker type\n", j, r->type);
			return 0;
		}
	}
	return 1;
}

static int t_broker_types_have_no_row(void)
{
	struct policy_state st = { .awaiting_hello = true };
	struct ipc_msg m = { { IPC_SHUTDOWN, 0, 0, 0 }, NULL, -1 };

	for (size_t i = 0; i < ipc_type_count(); i++) {
		const struct ipc_type_info *t = ipc_type_at(i);

		if (t->dir == IPC_TO_STORE && policy_lookup(t->type))
			return 0;
	}
	return !policy_lookup(IPC_NONE) && policy_check(&st, &m) == EINVAL;
}

/*
 * The direction of each enum ipc_type constant, as ipc.h groups them; 0
 * for the two that are no message.  No default label: -Wswitch (in -Wall,
 * an error under -Werror) fails the build when a constant is added to
 * ipc.h and not here, so the checks below see every type ipc/ declares.
 */
static enum ipc_dir declared_dir(enum ipc_type t)
{
	switch (t) {
	case IPC_NONE:
	case IPC_TYPE_LIMIT:
		return 0;
	case IPC_CONN_NEW:
	case IPC_CONN_DATA:
	case IPC_CONN_GONE:
	case IPC_SHUTDOWN:
	case IPC_RING_RESULT:
	case IPC_DOMAIN_STATE:
	case IPC_CONN_SPACE:
	case IPC_TRACE_FD:
	case IPC_JOURNAL_RESTORE:
		return IPC_TO_STORE;
	case IPC_HELLO:
	case IPC_REPLY_DATA:
	case IPC_RING_MAP:
	case IPC_RING_UNMAP:
	case IPC_CONN_CREDIT:
	case IPC_JOURNAL:
	case IPC_RING_BREAK:
	case IPC_RING_IDLE:
		return IPC_TO_BROKER;
	}
	return 0;  /* a number that is no constant of the enum */
}

static size_t rows_for(uint32_t type)
{
	size_t rows = 0;

	for (size_t j = 0; j < policy_row_count(); j++)
		rows += policy_row_at(j)->type == type;
	return rows;
}

/* enum ipc_type (ipc.h) <-> ipc_types[] (ipc.c) <-> policy_rows[] (policy.c). */
static int t_declared_types_table_and_policy_agree(void)
{
	struct policy_state st = { .awaiting_hello = true };
	size_t declared = 0;

	for (uint32_t n = 0; n < 2 * IPC_TYPE_LIMIT; n++) {
		enum ipc_dir want = n < IPC_TYPE_LIMIT ? declared_dir((enum ipc_type)n) : 0;
		const struct ipc_type_info *t = ipc_type_lookup(n);
		struct ipc_msg m = { { n, 0, 0, 0 }, NULL, -1 };
		size_t rows = rows_for(n);

		declared += want != 0;
		if (want ? !t || t->dir != want : t != NULL) {
			printf("    type %u: declared %d, ipc table says %d\n", n, (int)want,
			       t ? (int)t->dir : 0);
			return 0;
		}
		/* One row for what the store may send; none, and refused, for the rest. */
		if (rows != (want == IPC_TO_BROKER) ||
		    (want != IPC_TO_BROKER && policy_check(&st, &m) != EINVAL)) {
			printf("    type %u (%s): %zu policy rows\n", n, t ? t->name : "-", rows);
			return 0;
		}
	}
	return declared == ipc_type_count() && rows_for(UINT32_MAX) == 0 &&
	       !ipc_type_lookup(UINT32_MAX);
}

static int t_hello_only_while_starting(void)
{
	struct ipc_hello h = { IPC_PROTO_VERSION, 99 }, bad = { IPC_PROTO_VERSION + 1, 99 };
	struct policy_state starting = { .awaiting_hello = true };
	struct policy_state serving = { .awaiting_hello = false };
	uint8_t buf[IPC_FRAME_MAX], badbuf[IPC_FRAME_MAX];
	struct ipc_msg m, mbad;

	return !make_msg(IPC_HELLO, 0, &h, sizeof(h), buf, &m) &&
	       !make_msg(IPC_HELLO, 0, &bad, sizeof(bad), badbuf, &mbad) &&
	       policy_check(&starting, &m) == 0 &&
	       policy_check(&serving, &m) == EPERM &&
	       policy_check(&starting, &mbad) == EINVAL;
}

static int t_reply_data_refused(void)
{
	struct policy_state st = { .awaiting_hello = false };
	uint8_t data[8] = { 0 }, buf[IPC_FRAME_MAX];
	struct ipc_msg m;

	return !make_msg(IPC_REPLY_DATA, 1, data, sizeof(data), buf, &m) &&
	       policy_check(&st, &m) == EPERM;
}

static int t_identities(void)
{
	const struct policy_identity *rw = policy_identity(POLICY_SOCK_RW);
	const struct policy_identity *ro = policy_identity(POLICY_SOCK_RO);

	return rw && ro && rw->sock == POLICY_SOCK_RW && ro->sock == POLICY_SOCK_RO &&
	       rw->domid == 0 && rw->access == IPC_ACCESS_PRIV &&
	       ro->domid == 0 && ro->access == (IPC_ACCESS_PRIV | IPC_ACCESS_RDONLY) &&
	       rw->name && ro->name && !policy_identity(POLICY_SOCK_COUNT);
}

static const struct unit_case tests[] = {
	{ "every store -> broker ipc type has exactly one policy row",
	  t_every_store_type_has_one_row },
	{ "every policy row names a store -> broker ipc type", t_every_row_is_a_store_type },
	{ "broker -> store types have no row and are refused", t_broker_types_have_no_row },
	{ "every type ipc.h declares is in ipc_types[] with its direction; store -> "
	  "broker ones have one policy row, all others none and are refused",
	  t_declared_types_table_and_policy_agree },
	{ "HELLO allowed only while waiting for the store", t_hello_only_while_starting },
	{ "REPLY_DATA refused (no ring connections yet)", t_reply_data_refused },
	{ "identity table: rw = PRIV dom0, ro = PRIV|RDONLY dom0", t_identities },
};

UNIT_MAIN("policy")
