/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wire_text.h - xenstore messages for unit tests: build one request, and
 * turn received bytes into text that a test compares with a literal.
 *
 * Text form: one line per complete message, "TYPE req tx payload", each
 * NUL of the payload shown as '|'; e.g. "11 3 0 OK|".
 */
#ifndef LIXS_WIRE_TEXT_H
#define LIXS_WIRE_TEXT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xen/io/xs_wire.h>

/* Header and body of one request into buf (room for 16 + len bytes);
 * returns the message's length. */
static inline size_t wire_request(unsigned char *buf, uint32_t type,
				  uint32_t req, uint32_t tx, const void *body,
				  size_t len)
{
	struct xsd_sockmsg h = { type, req, tx, (uint32_t)len };

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), body, len);
	return sizeof(h) + len;
}

/*
 * The complete messages of in[0..*have) as text (static storage, valid
 * until the next call); they are removed from `in`, a partial one stays.
 */
static inline const char *wire_text(unsigned char *in, size_t *have)
{
	static char text[65536];
	size_t tl = 0, off = 0;

	text[0] = '\0';
	while (*have - off >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;

		memcpy(&h, in + off, sizeof(h));
		if (*have - off < sizeof(h) + h.len)
			break;
		tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "%u %u %u ",
				       h.type, h.req_id, h.tx_id);
		for (uint32_t i = 0; i < h.len && tl + 3 < sizeof(text); i++) {
			char ch = (char)in[off + sizeof(h) + i];

			text[tl++] = ch ? ch : '|';
		}
		text[tl++] = '\n';
		text[tl] = '\0';
		off += sizeof(h) + h.len;
	}
	memmove(in, in + off, *have - off);
	*have -= off;
	return text;
}

#endif
