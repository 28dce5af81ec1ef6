/* SPDX-License-Identifier: GPL-2.0-only */
/* xs_text.c - xenstore messages as text; see xs_text.h. */
#include "xs_text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Index = wire number, as in xs_wire.h plus Xen 4.21/4.22's 23-26. */
static const char *const type_names[] = {
	"CONTROL", "DIRECTORY", "READ", "GET_PERMS", "WATCH", "UNWATCH",
	"TRANSACTION_START", "TRANSACTION_END", "INTRODUCE", "RELEASE",
	"GET_DOMAIN_PATH", "WRITE", "MKDIR", "RM", "SET_PERMS", "WATCH_EVENT",
	"ERROR", "IS_DOMAIN_INTRODUCED", "RESUME", "SET_TARGET", NULL,
	"RESET_WATCHES", "DIRECTORY_PART", "GET_FEATURE", "SET_FEATURE",
	"GET_QUOTA", "SET_QUOTA",
};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *xs_type_name(uint32_t type)
{
	return type < NTYPES ? type_names[type] : NULL;
}

int xs_type_parse(const char *name, size_t n, uint32_t *type)
{
	char num[16], *end;
	unsigned long v;

	for (size_t i = 0; i < NTYPES; i++) {
		if (type_names[i] && strlen(type_names[i]) == n &&
		    !strncmp(type_names[i], name, n)) {
			*type = (uint32_t)i;
			return 0;
		}
	}
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, name, n);
	num[n] = '\0';
	v = strtoul(num, &end, 0);
	if (*end || v > UINT32_MAX)
		return -1;
	*type = (uint32_t)v;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long xs_unescape(const char *in, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*in) {
		int c = (unsigned char)*in++;

		if (c == '\\') {
			int hi, lo;

			switch (*in++) {
			case '0': c = 0; break;
			case '\\': c = '\\'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'x':
				hi = hexval(in[0]);
				lo = hi < 0 ? -1 : hexval(in[1]);
				if (lo < 0)
					return -1;
				c = hi * 16 + lo;
				in += 2;
				break;
			default:
				return -1;
			}
		}
		if (n == cap)
			return -1;
		out[n++] = (uint8_t)c;
	}
	return (long)n;
}

long xs_unhex(const char *in, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (in[0]) {
		int hi = hexval(in[0]);
		int lo = hi < 0 ? -1 : hexval(in[1]);

		if (lo < 0 || n == cap)
			return -1;
		out[n++] = (uint8_t)(hi * 16 + lo);
		in += 2;
	}
	return (long)n;
}

void xs_print_escaped(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == 0)
			fputs("\\0", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c >= 0x20 && c <= 0x7e)
			putc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

void xs_print_msg(FILE *f, uint32_t type, uint32_t req, uint32_t tx,
		  const uint8_t *body, uint32_t len)
{
	const char *name = xs_type_name(type);

	if (name)
		fputs(name, f);
	else
		fprintf(f, "%" PRIu32, type);
	fprintf(f, " req=%" PRIu32 " tx=%" PRIu32 " len=%" PRIu32, req, tx, len);
	if (len)
		putc(' ', f);
	xs_print_escaped(f, body, len);
	putc('\n', f);
}
