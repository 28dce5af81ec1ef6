/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xs_text.h - xenstore messages as text: type names, and the escaped form
 * the test tools (xsraw, fakeguest) and the wire trace print payloads in.
 *
 * Escapes: \0 for NUL, \\ for a backslash, printable ASCII as itself,
 * anything else \xNN.  xs_unescape() also accepts \n \t \r.
 */
#ifndef LIXS_XS_TEXT_H
#define LIXS_XS_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "READ", "WATCH_EVENT", ...; NULL for a number without a name (20 was RESTRICT). */
const char *xs_type_name(uint32_t type);

/* The type whose name is the first `n` bytes of `name`, or a number
 * (strtoul base 0).  Returns 0 and *type, or -1. */
int xs_type_parse(const char *name, size_t n, uint32_t *type);

/* Decode the escaped string `in` into out[0..cap).  Returns the byte
 * count, or -1 on a bad escape or when it does not fit. */
long xs_unescape(const char *in, uint8_t *out, size_t cap);

/* Decode pairs of hex digits (nothing else) into out[0..cap); -1 if malformed. */
long xs_unhex(const char *in, uint8_t *out, size_t cap);

/* Write p[0..n) to `f` in escaped form. */
void xs_print_escaped(FILE *f, const uint8_t *p, size_t n);

/* One message as the tools print it: "TYPE req=R tx=X len=L payload\n". */
void xs_print_msg(FILE *f, uint32_t type, uint32_t req, uint32_t tx,
		  const uint8_t *body, uint32_t len);

#endif
