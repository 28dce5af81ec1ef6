/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replay_cases.c - replays the requests of the conformance cases
 * (the .cases files in tests/conformance/) through the store process's own reader and
 * dispatcher (store_harness.h: no sandbox, no broker), one fresh store a
 * case, so that valgrind can watch every allocation the suite makes.
 * It checks nothing about the replies (the bats suite does); its job is
 * to run the code and free everything, so leak checkers see the truth.
 *
 *   replay_cases FILE.cases...
 *
 * Understands the subset of bash the case files use: single- and
 * double-quoted words glued together, NAME=$(printf 'C%.0s' {1..N})
 * variables and the same $(printf ...) inline.  xsraw's connections 1 and
 * 2 become two privileged sockets, higher ones the unprivileged domU
 * socket; `t` as a transaction id is the number of TRANSACTION_STARTs
 * sent on that connection (ids count up per connection from 1).
 * Exit status: 0, or 1 when a file cannot be read, or no case ran, or
 * nothing was answered.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

#include "store_harness.h"

#define LINE_MAX_LEN 65536
#define MAX_WORDS 256
#define MAX_VARS 8
#define WORD_MAX (3 * 4096)

/* Replayer state: the bash variables of one file, and counters. */
struct replay {
	struct { char name[32]; char *value; } var[MAX_VARS];
	unsigned int nvar;
	unsigned int cases, skipped, requests;
	size_t reply_bytes;
};

static const char *const type_names[] = {
	"CONTROL", "DIRECTORY", "READ", "GET_PERMS", "WATCH", "UNWATCH",
	"TRANSACTION_START", "TRANSACTION_END", "INTRODUCE", "RELEASE",
	"GET_DOMAIN_PATH", "WRITE", "MKDIR", "RM", "SET_PERMS", "WATCH_EVENT",
	"ERROR", "IS_DOMAIN_INTRODUCED", "RESUME", "SET_TARGET", NULL,
	"RESET_WATCHES", "DIRECTORY_PART", "GET_FEATURE", "SET_FEATURE",
	"GET_QUOTA", "SET_QUOTA",
};

/* "$(printf 'C%.0s' {1..N})" at s: C repeated N times (malloc'd), and
 * *len the characters consumed; NULL if s holds something else. */
static char *printf_repeat(const char *s, size_t *len)
{
	char c;
	unsigned long n;
	int used = 0;
	char *v;

	if (sscanf(s, "$(printf '%c%%.0s' {1..%lu})%n", &c, &n, &used) != 2 ||
	    !used || n > 65536)
		return NULL;
	v = malloc(n + 1);
	if (!v)
		return NULL;
	memset(v, c, n);
	v[n] = '\0';
	*len = (size_t)used;
	return v;
}

static const char *var_get(const struct replay *rp, const char *name, size_t n)
{
	for (unsigned int i = 0; i < rp->nvar; i++)
		if (strlen(rp->var[i].name) == n && !memcmp(rp->var[i].name, name, n))
			return rp->var[i].value;
	return NULL;
}

/* Split a line into words (each malloc'd, the caller frees).  Returns the
 * number of words, or -1 for something this subset of bash lacks. */
static int split_words(const struct replay *rp, const char *s, char **words)
{
	int nw = 0;

	for (;;) {
		char *w;
		size_t wl = 0;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s || *s == '#')
			return nw;
		if (nw == MAX_WORDS || !(w = malloc(WORD_MAX + 1)))
			return -1;
		words[nw++] = w;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
			char q = *s;

			if (q == '\'') {
				const char *e = strchr(s + 1, '\'');

				if (!e || wl + (size_t)(e - s - 1) > WORD_MAX)
					return -1;
				memcpy(w + wl, s + 1, (size_t)(e - s - 1));
				wl += (size_t)(e - s - 1);
				s = e + 1;
			} else if (q == '"') {
				for (s++; *s && *s != '"';) {
					const char *val = NULL;
					char *rep = NULL;
					size_t used = 0;

					if (*s == '$' && s[1] == '(') {
						val = rep = printf_repeat(s, &used);
					} else if (*s == '$') {
						used = 1;
						while (isalnum((unsigned char)s[used]) || s[used] == '_')
							used++;
						val = var_get(rp, s + 1, used - 1);
					} else if (*s == '\\' && s[1]) {
						s++;
					}
					if (*s == '$' && !val)
						return -1;
					if (val) {
						if (wl + strlen(val) > WORD_MAX) {
							free(rep);
							return -1;
						}
						memcpy(w + wl, val, strlen(val));
						wl += strlen(val);
						s += used;
						free(rep);
					} else {
						if (wl == WORD_MAX)
							return -1;
						w[wl++] = *s++;
					}
				}
				if (*s != '"')
					return -1;
				s++;
			} else if (q == '$' || q == '`' || q == '\\' || q == '(') {
				return -1;
			} else {
				if (wl == WORD_MAX)
					return -1;
				w[wl++] = *s++;
			}
		}
		w[wl] = '\0';
	}
}

/* xsraw's escapes: \0 \\ \n \t \r \xNN.  Returns the byte count. */
static size_t unescape(const char *s, unsigned char *out)
{
	size_t n = 0;

	while (*s) {
		if (*s != '\\' || !s[1]) {
			out[n++] = (unsigned char)*s++;
			continue;
		}
		s++;
		switch (*s) {
		case '0': out[n++] = 0; s++; break;
		case 'n': out[n++] = '\n'; s++; break;
		case 't': out[n++] = '\t'; s++; break;
		case 'r': out[n++] = '\r'; s++; break;
		case 'x': {
			unsigned int v = 0;

			if (sscanf(s + 1, "%2x", &v) == 1) {
				out[n++] = (unsigned char)v;
				s += 3;
			} else {
				out[n++] = 'x';
				s++;
			}
			break;
		}
		default: out[n++] = (unsigned char)*s++; break;
		}
	}
	return n;
}

static enum harness_conn conn_map(int conn)
{
	return conn == 1 ? HARNESS_PRIV : conn == 2 ? HARNESS_PRIV2 : HARNESS_DOMU;
}

/* One request step "TYPE[,TX[,REQ]]:PAYLOAD"; false if it is not one. */
static bool send_step(struct replay *rp, const char *w, int conn,
		      unsigned int *req, unsigned int *txns)
{
	static unsigned char msg[sizeof(struct xsd_sockmsg) + WORD_MAX];
	const char *colon = strchr(w, ':');
	char name[32], tx[16] = "0", reqs[16] = "";
	struct xsd_sockmsg h = { 0 };
	size_t n;

	if (!colon || (size_t)(colon - w) >= sizeof(name))
		return false;
	memcpy(name, w, (size_t)(colon - w));
	name[colon - w] = '\0';
	if (strchr(name, ',')) {
		char *c = strchr(name, ',');

		*c = '\0';
		snprintf(tx, sizeof(tx), "%s", c + 1);
		if ((c = strchr(tx, ','))) {
			*c = '\0';
			snprintf(reqs, sizeof(reqs), "%s", c + 1);
		}
	}
	h.type = XS_INVALID;
	for (unsigned int i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i] && !strcmp(name, type_names[i]))
			h.type = i;
	if (h.type == XS_INVALID && isdigit((unsigned char)name[0]))
		h.type = (uint32_t)strtoul(name, NULL, 0);
	if (h.type == XS_INVALID)
		return false;
	h.tx_id = !strcmp(tx, "t") ? txns[conn & 7] : (uint32_t)strtoul(tx, NULL, 0);
	h.req_id = *reqs ? (uint32_t)strtoul(reqs, NULL, 0) : ++req[conn & 7];
	n = unescape(colon + 1, msg + sizeof(h));
	h.len = (uint32_t)n;
	memcpy(msg, &h, sizeof(h));
	if (h.type == XS_TRANSACTION_START)
		txns[conn & 7]++;
	harness_feed(conn_map(conn), msg, sizeof(h) + n, false);
	rp->requests++;
	return true;
}

/* --hdr T,R,X,L or hex; --hex HEX; --raw ESCAPED: raw bytes. */
static void send_raw(const char *opt, const char *arg, int conn)
{
	static unsigned char bytes[WORD_MAX];
	uint32_t hdr[4];
	size_t n = 0;

	if (!strcmp(opt, "--hdr") && strchr(arg, ',')) {
		if (sscanf(arg, "%i,%i,%i,%i", (int *)&hdr[0], (int *)&hdr[1],
			   (int *)&hdr[2], (int *)&hdr[3]) != 4)
			return;
		memcpy(bytes, hdr, sizeof(hdr));
		n = sizeof(hdr);
	} else if (!strcmp(opt, "--raw")) {
		n = unescape(arg, bytes);
	} else {
		unsigned int v;

		while (n < sizeof(bytes) && sscanf(arg + 2 * n, "%2x", &v) == 1)
			bytes[n++] = (unsigned char)v;
	}
	harness_feed(conn_map(conn), bytes, n, false);
}

static void run_case(struct replay *rp, char **w, int nw, int first)
{
	unsigned int req[8] = { 0 }, txns[8] = { 0 };
	int conn = 1;

	harness_open();
	for (int i = first; i < nw; i++) {
		if (!strcmp(w[i], "-g") || !strcmp(w[i], "--expect-close"))
			continue;
		if (i + 1 < nw && (!strcmp(w[i], "-s") || !strcmp(w[i], "-w") ||
				   !strcmp(w[i], "--recv") || !strcmp(w[i], "--sleep"))) {
			i++;
			continue;
		}
		if (!strcmp(w[i], "--conn") && i + 1 < nw) {
			conn = atoi(w[++i]);
			continue;
		}
		if (!strcmp(w[i], "--close")) {
			harness_feed(conn_map(conn), NULL, 0, true);
			req[conn & 7] = txns[conn & 7] = 0;
			continue;
		}
		if ((!strcmp(w[i], "--hdr") || !strcmp(w[i], "--hex") ||
		     !strcmp(w[i], "--raw")) && i + 1 < nw) {
			send_raw(w[i], w[i + 1], conn);
			i++;
			continue;
		}
		if (!strcmp(w[i], "--flood") && i + 2 < nw) {
			int times = atoi(w[i + 1]);

			for (int k = 0; k < times && k < 512; k++)
				send_step(rp, w[i + 2], conn, req, txns);
			i += 2;
			continue;
		}
		send_step(rp, w[i], conn, req, txns);
	}
	rp->reply_bytes += harness_reply_bytes();
	harness_close();
	rp->cases++;
}

static int replay_file(struct replay *rp, const char *path)
{
	char *line = malloc(LINE_MAX_LEN), *words[MAX_WORDS];
	FILE *f = fopen(path, "r");

	if (!f || !line) {
		fprintf(stderr, "replay_cases: %s: %s\n", path, strerror(errno));
		free(line);
		if (f)
			fclose(f);
		return 1;
	}
	while (fgets(line, LINE_MAX_LEN, f)) {
		char name[32];
		int used = 0, nw, first = -1;

		if (sscanf(line, "%31[A-Za-z0-9_]=%n", name, &used) == 1 && used &&
		    line[used] == '$') {
			size_t l;
			char *v = printf_repeat(line + used, &l);

			if (v && rp->nvar < MAX_VARS) {
				snprintf(rp->var[rp->nvar].name, sizeof(rp->var[0].name),
					 "%s", name);
				rp->var[rp->nvar++].value = v;
			} else {
				free(v);
			}
			continue;
		}
		memset(words, 0, sizeof(words));
		nw = split_words(rp, line, words);
		if (nw > 0 && !strcmp(words[0], "same"))
			first = 2;
		else if (nw > 0 && (!strcmp(words[0], "differ") ||
				    !strcmp(words[0], "lixs_only")))
			first = 3;
		if (first > 0 && nw >= first)
			run_case(rp, words, nw, first);
		else if (nw < 0 || (nw > 0 && first < 0))
			rp->skipped++;
		for (int i = 0; i < MAX_WORDS && words[i]; i++)
			free(words[i]);
	}
	fclose(f);
	free(line);
	for (unsigned int i = 0; i < rp->nvar; i++)
		free(rp->var[i].value);
	rp->nvar = 0;
	return 0;
}

int main(int argc, char **argv)
{
	struct replay rp = { 0 };
	int ret = 0;

	for (int i = 1; i < argc; i++)
		ret |= replay_file(&rp, argv[i]);
	printf("replay_cases: %u cases, %u requests, %zu reply bytes, "
	       "%u lines skipped\n", rp.cases, rp.requests, rp.reply_bytes,
	       rp.skipped);
	/* Nothing answered means the harness is broken, not the store. */
	return ret || !rp.cases || !rp.reply_bytes;
}
